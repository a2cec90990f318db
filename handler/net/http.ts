import type { Dispatcher } from "undici";
import { ConnectionError, isCertificateError, type ServiceName } from "./errors";
import { undiciRequest } from "./undici";

/** One HTTP exchange as the clients need it: status, headers and the whole body. */
export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Dispatcher.ResponseData["body"];
}

/** Options of {@link timedRequest}. */
export interface TimedRequestOptions {
  readonly service: ServiceName;
  /** Operation name for errors (`sendMessage`, `chat`...). */
  readonly operation: string;
  readonly method: Dispatcher.HttpMethod;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  readonly dispatcher?: Dispatcher;
  /** Whole-call timeout (headers and body), in ms. */
  readonly timeoutMs: number;
  /** An outside signal that also ends the call. */
  readonly signal?: AbortSignal;
  /** Scrubs secrets (the token in a URL) from the text of a network error. */
  readonly redact: (text: string) => string;
}

/**
 * A call in progress: `response` once headers arrived, and `done()` to release the timer
 * after the body was read. The timeout covers reading the body too.
 */
export interface TimedCall {
  readonly response: HttpResponse;
  /** True once our timeout fired (the body read then fails with an abort). */
  timedOut(): boolean;
  /** Milliseconds since the call started. */
  elapsedMs(): number;
  /** Clears the timer; call it in `finally` after reading the body. */
  done(): void;
  /** Converts an error thrown while reading the body into a ConnectionError. */
  wrap(err: unknown): ConnectionError;
  /**
   * Reads the whole body as text and releases the timer; a read that fails (the timeout
   * midway, a reset) rejects with a ConnectionError.
   */
  readText(): Promise<string>;
}

/**
 * A network error's text stripped of secrets, as a fresh Error: undici errors can carry the
 * request URL, which contains the bot token, so the original never travels on as a cause.
 */
export function safeCause(err: unknown, redact: (text: string) => string): Error {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const safe = new Error(redact(`${typeof code === "string" ? `${code}: ` : ""}${err.message}`));
    safe.name = err.name;
    safe.stack = `${safe.name}: ${safe.message}`;
    return safe;
  }
  return new Error(redact(String(err)));
}

/**
 * Sends one request through undici with a whole-call timeout. A refused, reset or timed-out
 * connection rejects with a {@link ConnectionError} whose cause holds no secret.
 */
export async function timedRequest(url: string, options: TimedRequestOptions): Promise<TimedCall> {
  const started = Date.now();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onOuterAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const done = () => {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onOuterAbort);
  };
  const wrap = (err: unknown) =>
    new ConnectionError({
      service: options.service,
      operation: options.operation,
      timedOut,
      elapsedMs: Date.now() - started,
      certificateRefused: !timedOut && isCertificateError(err),
      cause: safeCause(err, options.redact),
    });
  if (options.signal?.aborted) controller.abort();
  try {
    const response = await undiciRequest(url, {
      method: options.method,
      headers: options.headers,
      body: options.body,
      dispatcher: options.dispatcher,
      signal: controller.signal,
    });
    return {
      response: { statusCode: response.statusCode, headers: response.headers, body: response.body },
      timedOut: () => timedOut,
      elapsedMs: () => Date.now() - started,
      done,
      wrap,
      readText: async () => {
        try {
          return await response.body.text();
        } catch (err) {
          throw wrap(err);
        } finally {
          done();
        }
      },
    };
  } catch (err) {
    done();
    throw wrap(err);
  }
}
