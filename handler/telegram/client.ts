import { randomBytes } from "node:crypto";
import type { Dispatcher } from "undici";
import { CONFIG_DEFAULTS } from "../config";
import type { BotApi, BotMethods, BotParams, BotResult, InputFileBytes } from "./bot-api";
import { ConnectionError, ServiceError } from "../net/errors";
import { timedRequest } from "../net/http";
import { createRedactor, type Logger } from "../observability/log";

/** Options of {@link TelegramClient}. */
export interface TelegramClientOptions {
  /** The bot token; only ever placed in request URLs, never in an error or a log line. */
  readonly token: string;
  /** Bot API base URL. @default CONFIG_DEFAULTS.telegramApiUrl ("https://api.telegram.org") */
  readonly apiUrl?: string;
  /** undici dispatcher (connection pool). @default undici's global dispatcher */
  readonly dispatcher?: Dispatcher;
  /** Per-call timeout, in ms. @default CONFIG_DEFAULTS.telegramTimeoutMs (10000) */
  readonly timeoutMs?: number;
  /**
   * Longest retry_after a 429 may ask for and still be retried (once), in ms; a longer wait
   * fails at once, since waiting less than asked only earns another 429.
   * @default CONFIG_DEFAULTS.telegramMaxRetryWaitMs (5000)
   */
  readonly maxRetryWaitMs?: number;
  /** Where failed calls are logged (method, code, description). @default - not logged */
  readonly logger?: Logger;
  /** Sleep used before a 429 retry (tests replace it). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A file was larger than the caller accepts; nothing past the limit was kept. */
export class FileTooLargeError extends Error {
  override readonly name = "FileTooLargeError";
  constructor(
    readonly limitBytes: number,
    readonly sizeBytes: number | undefined,
  ) {
    super(`file is larger than ${limitBytes} bytes`);
  }
}

interface TelegramEnvelope {
  ok?: unknown;
  result?: unknown;
  error_code?: unknown;
  description?: unknown;
  parameters?: { retry_after?: unknown };
}

function isInputFile(value: unknown): value is InputFileBytes {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as InputFileBytes).data instanceof Uint8Array &&
    typeof (value as InputFileBytes).filename === "string"
  );
}

/** Quotes a multipart header parameter (file name), keeping it on one line. */
const quoted = (value: string) => `"${value.replace(/[\r\n"\\]/g, "_")}"`;

/**
 * Encodes parameters as multipart/form-data (RFC 7578): files as parts with a filename,
 * everything else as text (objects as JSON, as the Bot API expects). Pure.
 */
export function multipartBody(entries: readonly (readonly [string, unknown])[]): { body: Uint8Array; contentType: string } {
  const boundary = `----botform${randomBytes(12).toString("hex")}`;
  const parts: Buffer[] = [];
  for (const [key, value] of entries) {
    if (isInputFile(value)) {
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(key)}; filename=${quoted(value.filename)}\r\n` +
            `Content-Type: ${value.contentType ?? "application/octet-stream"}\r\n\r\n`,
        ),
        Buffer.from(value.data),
        Buffer.from("\r\n"),
      );
    } else {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=${quoted(key)}\r\n\r\n${text}\r\n`));
    }
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: new Uint8Array(Buffer.concat(parts)), contentType: `multipart/form-data; boundary=${boundary}` };
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The Bot API over undici: methods at {apiUrl}/bot{token}/{method}, files at
 * {apiUrl}/file/bot{token}/{file_path}. Parameters go as JSON, or as multipart/form-data
 * when one of them is an {@link InputFileBytes} (sendDocument). Telegram's `ok: false`
 * rejects with a ServiceError, a network failure or timeout with a ConnectionError; a 429 is
 * retried once after retry_after.
 */
export class TelegramClient implements BotApi {
  private readonly apiUrl: string;
  private readonly timeoutMs: number;
  private readonly maxRetryWaitMs: number;
  private readonly redact: (text: string) => string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: TelegramClientOptions) {
    this.apiUrl = (options.apiUrl ?? CONFIG_DEFAULTS.telegramApiUrl).replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? CONFIG_DEFAULTS.telegramTimeoutMs;
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? CONFIG_DEFAULTS.telegramMaxRetryWaitMs;
    this.redact = createRedactor([options.token]);
    this.sleep = options.sleep ?? sleepFor;
  }

  /** This client without its 429 retry: one attempt per call, failures logged (see TelegramApi.withoutRetry). */
  readonly withoutRetry: BotApi = {
    call: async (method, params) => {
      try {
        return await this.callOnce(method, params);
      } catch (err) {
        this.logFailure(method, err);
        throw err;
      }
    },
  };

  /** Calls a Bot API method; resolves with `result`; a 429 is retried once after retry_after (up to maxRetryWaitMs). */
  async call<M extends keyof BotMethods>(method: M, params: BotParams[M]): Promise<BotResult<M>> {
    try {
      return await this.callOnce(method, params);
    } catch (err) {
      if (err instanceof ServiceError && err.status === 429) {
        const waitMs = (err.retryAfterSeconds ?? 1) * 1000;
        if (waitMs <= this.maxRetryWaitMs) {
          this.options.logger?.warn("telegram rate limit, retrying once", {
            action: "telegram_call",
            outcome: "warning",
            method,
            retry_after: err.retryAfterSeconds,
          });
          await this.sleep(waitMs);
          try {
            return await this.callOnce(method, params);
          } catch (retryErr) {
            this.logFailure(method, retryErr);
            throw retryErr;
          }
        }
      }
      this.logFailure(method, err);
      throw err;
    }
  }

  /**
   * Downloads a file that getFile described. Refuses (FileTooLargeError) as soon as the
   * announced or received size passes `maxBytes`.
   */
  async downloadFile(filePath: string, maxBytes: number): Promise<Uint8Array> {
    const url = `${this.apiUrl}/file/bot${this.options.token}/${filePath.split("/").map(encodeURIComponent).join("/")}`;
    const call = await timedRequest(url, {
      service: "telegram",
      operation: "downloadFile",
      method: "GET",
      dispatcher: this.options.dispatcher,
      timeoutMs: this.timeoutMs,
      redact: this.redact,
    });
    try {
      const { statusCode, headers, body } = call.response;
      if (statusCode !== 200) {
        await body.dump();
        throw new ServiceError({ service: "telegram", operation: "downloadFile", status: statusCode, description: "file download failed" });
      }
      const announced = Number(headers["content-length"]);
      if (Number.isFinite(announced) && announced > maxBytes) {
        await body.dump();
        throw new FileTooLargeError(maxBytes, announced);
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of body) {
        const buffer = chunk as Buffer;
        total += buffer.length;
        if (total > maxBytes) {
          body.destroy();
          throw new FileTooLargeError(maxBytes, undefined);
        }
        chunks.push(buffer);
      }
      return new Uint8Array(Buffer.concat(chunks));
    } catch (err) {
      if (err instanceof ServiceError || err instanceof FileTooLargeError) throw err;
      throw call.wrap(err);
    } finally {
      call.done();
    }
  }

  private async callOnce<M extends keyof BotMethods>(method: M, params: BotParams[M]): Promise<BotResult<M>> {
    const url = `${this.apiUrl}/bot${this.options.token}/${method}`;
    const entries = Object.entries((params ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined);
    const hasFile = entries.some(([, v]) => isInputFile(v));
    let body: string | Uint8Array;
    const headers: Record<string, string> = {};
    if (hasFile) {
      const form = multipartBody(entries);
      body = form.body;
      headers["content-type"] = form.contentType;
    } else {
      body = JSON.stringify(Object.fromEntries(entries));
      headers["content-type"] = "application/json";
    }
    const call = await timedRequest(url, {
      service: "telegram",
      operation: method,
      method: "POST",
      headers,
      body,
      dispatcher: this.options.dispatcher,
      timeoutMs: this.timeoutMs,
      redact: this.redact,
    });
    const text = await call.readText();
    let envelope: TelegramEnvelope;
    try {
      envelope = JSON.parse(text) as TelegramEnvelope;
    } catch {
      throw new ServiceError({
        service: "telegram",
        operation: method,
        status: call.response.statusCode,
        description: "response was not JSON",
      });
    }
    if (envelope.ok === true) return envelope.result as BotResult<M>;
    const retryAfter = envelope.parameters?.retry_after;
    throw new ServiceError({
      service: "telegram",
      operation: method,
      status: typeof envelope.error_code === "number" ? envelope.error_code : call.response.statusCode,
      description: this.redact(typeof envelope.description === "string" ? envelope.description : "no description"),
      retryAfterSeconds: typeof retryAfter === "number" ? retryAfter : undefined,
    });
  }

  private logFailure(method: string, err: unknown): void {
    const logger = this.options.logger;
    if (!logger) return;
    if (err instanceof ServiceError) {
      logger.warn("telegram call failed", {
        action: "telegram_call",
        outcome: "failure",
        method,
        error_code: err.status,
        description: err.description,
      });
    } else if (err instanceof ConnectionError) {
      logger.warn("telegram unreachable", {
        action: "telegram_call",
        outcome: "failure",
        method,
        timed_out: err.timedOut,
        elapsed_ms: err.elapsedMs,
      });
    }
  }
}
