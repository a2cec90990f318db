import type { LogLevel } from "../config";

/** Fields every log line may carry besides level/timestamp/message. */
export interface LogFields {
  readonly action?: string;
  readonly outcome?: "success" | "failure" | "warning" | "ignored" | "retry";
  readonly request_id?: string;
  readonly user_id?: number;
  readonly chat_id?: number;
  readonly message_id?: number;
  readonly update_id?: number;
  /** Anything else worth a field (numbers, short codes). Never message text at INFO. */
  readonly [key: string]: string | number | boolean | undefined | null;
}

/** Where log lines go: one JSON object per call, without the newline. @default console.log */
export type LogSink = (line: string) => void;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. @default "INFO" */
  readonly level?: LogLevel;
  /** Secrets to scrub from every string written (token, API key, webhook secret). Empty ones are ignored. */
  readonly secrets?: readonly (string | undefined)[];
  /** Where lines go. @default console.log (Lambda sends stdout to CloudWatch) */
  readonly sink?: LogSink;
  /** Clock for the timestamp. @default () => new Date() */
  readonly now?: () => Date;
}

/** A structured JSON logger; `child` adds fields (request id, user id...) to every line. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  /** Logs `error` and `stack_trace` from `err` (redacted) with the fields. */
  error(message: string, err?: unknown, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  /**
   * Writes one ready line (a metric's EMF JSON) to the sink, redacted, whatever the level:
   * metrics are not logs, but they share the logs' one output path.
   */
  write(line: string): void;
  /** The redactor this logger uses, for building user-facing or error strings. */
  readonly redact: (text: string) => string;
}

const RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };
const REDACTED = "[REDACTED]";
/** A Telegram bot token anywhere (e.g. inside a URL in an undici error), even one we were not told about. */
const TOKEN_PATTERN = /\d{5,}:[A-Za-z0-9_-]{30,}/g;

/**
 * Builds a function that removes every given secret, and anything shaped like a bot token,
 * from a string. Pure; secrets shorter than 4 characters are ignored (they would shred text).
 */
export function createRedactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const list = [...new Set(secrets.filter((s): s is string => typeof s === "string" && s.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  return (text: string) => {
    let out = text;
    for (const secret of list) out = out.split(secret).join(REDACTED);
    // URL-encoded and JSON-escaped forms too (a token's ':' becomes %3A in some URLs; a
    // key with a quote or backslash is escaped inside a JSON log line).
    for (const secret of list) {
      for (const variant of [encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
        if (variant !== secret) out = out.split(variant).join(REDACTED);
      }
    }
    return out.replace(TOKEN_PATTERN, REDACTED);
  };
}

/** The message and stack of an error and its causes, as two strings. */
export function describeError(err: unknown): { error: string; stack_trace: string | undefined } {
  if (!(err instanceof Error)) return { error: String(err), stack_trace: undefined };
  const parts: string[] = [];
  const stacks: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    parts.push(`${current.name}: ${current.message}`);
    if (current.stack) stacks.push(current.stack);
    current = current.cause;
  }
  return { error: parts.join(" <- caused by "), stack_trace: stacks.join("\nCaused by: ") || undefined };
}

/** Creates a {@link Logger} writing one JSON object per line. */
export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const threshold = RANK[options.level ?? "INFO"];
  const redact = createRedactor(options.secrets ?? []);
  const sink: LogSink = options.sink ?? ((line) => console.log(line));
  const now = options.now ?? (() => new Date());

  const write = (level: LogLevel, message: string, fields: LogFields | undefined, err?: unknown) => {
    if (RANK[level] < threshold) return;
    const entry: Record<string, unknown> = {
      level,
      timestamp: now().toISOString(),
      ...base,
      ...fields,
      message,
    };
    if (err !== undefined) Object.assign(entry, describeError(err));
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ level, timestamp: entry.timestamp, message: "unserialisable log entry" });
    }
    sink(redact(line));
  };

  return {
    debug: (message, fields) => write("DEBUG", message, fields),
    info: (message, fields) => write("INFO", message, fields),
    warn: (message, fields) => write("WARNING", message, fields),
    error: (message, err, fields) => write("ERROR", message, fields, err),
    child: (fields) => createLogger(options, { ...base, ...fields }),
    write: (line) => sink(redact(line)),
    redact,
  };
}
