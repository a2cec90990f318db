/**
 * What every operator script shares: where it writes, how it fails, and the thin wrapper that
 * turns `main(argv, deps)` into a process exit code. Scripts stay testable in-process: tests
 * call `main` with captured streams and read the exit code instead of spawning a process.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Anything text can be written to (process.stdout, a PassThrough, a test's collector). */
export interface TextSink {
  write(text: string): unknown;
}

/** Where a script writes: results to stdout, progress and errors to stderr. */
export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
}

/** The process's own streams. */
export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/**
 * A failure the user can act on: the message says what is wrong and what to do, and is printed
 * without a stack trace. Never put a secret in it.
 */
export class CliError extends Error {
  override readonly name: string = "CliError";
  constructor(
    message: string,
    /** Process exit code. @default 1 */
    readonly exitCode: number = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The command line was wrong (unknown option, missing argument): exit code 2. */
export class UsageError extends CliError {
  override readonly name = "UsageError";
  constructor(message: string) {
    super(message, 2);
  }
}

/** Exit code of a run that worked. */
export const EXIT_OK = 0;
/** Exit code of a run that failed (or found a problem). */
export const EXIT_FAILURE = 1;
/** Exit code of a wrong command line. */
export const EXIT_USAGE = 2;

/** The options part of a node:util parseArgs configuration. */
export type CliOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * node:util parseArgs in strict mode, with its errors turned into a {@link UsageError} whose
 * message names the bad option and points at --help.
 */
export function parseCli<O extends CliOptions>(argv: readonly string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${message.replace(/\.\s*$/, "")}. See --help.`);
  }
}

/** A line-oriented printer over a sink: `line("a")` writes "a\n". */
export function printer(sink: TextSink): (text?: string) => void {
  return (text = "") => {
    sink.write(`${text}\n`);
  };
}

/**
 * Runs a script's body and turns what it throws into an exit code and one clear line on stderr:
 * a CliError prints its message, anything else its name and message. `redact` scrubs secrets
 * (the bot token) from whatever is printed. @default redact - identity
 */
export async function runCommand(
  io: CliIo,
  body: () => Promise<number>,
  redact: (text: string) => string = (text) => text,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const text = error instanceof CliError ? error.message : describeUnexpected(error);
    io.stderr.write(`error: ${redact(text)}\n`);
    return error instanceof CliError ? error.exitCode : EXIT_FAILURE;
  }
}

function describeUnexpected(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return `${error.name}: ${error.message}`;
}

/**
 * The bin wrapper: runs `main` with the process's arguments and sets the exit code. Does not
 * call process.exit, so output is flushed and open handles show up instead of being cut off.
 */
export function runMain(main: (argv: readonly string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${describeUnexpected(error)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
