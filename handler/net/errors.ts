/**
 * The two ways a call to another service fails, shared by every client (Telegram, Ollama,
 * and the AWS stores' callers). Keeping exactly two kinds lets the router decide what to
 * tell the user without knowing which client failed.
 */

/** The external services the bot talks to. */
export type ServiceName = "telegram" | "ollama" | "bedrock" | "openai" | "dynamodb" | "s3" | "sqs" | "transcription";

/**
 * The service answered, and the answer was an error: Telegram said `ok: false`, Ollama
 * answered 404 or 500, or the body could not be understood.
 */
export class ServiceError extends Error {
  override readonly name = "ServiceError";
  /** Which service answered. */
  readonly service: ServiceName;
  /** The operation that failed, such as `sendMessage` or `chat`. */
  readonly operation: string;
  /** HTTP status or Bot API error_code; 0 when the status was fine but the body was malformed. */
  readonly status: number;
  /** What the service said, safe to log (never contains a secret). */
  readonly description: string;
  /** Seconds the service asked us to wait (Telegram 429 `parameters.retry_after`, a `Retry-After` header). */
  readonly retryAfterSeconds: number | undefined;
  /**
   * The service's own name for the error, where it has one: Bedrock's exception type
   * (`throttlingException`, `validationException`, `AccessDeniedException`…), an
   * OpenAI-compatible server's `error.code` or `error.type`. @default - none
   */
  readonly code: string | undefined;

  constructor(options: {
    service: ServiceName;
    operation: string;
    status: number;
    description: string;
    retryAfterSeconds?: number;
    code?: string;
    cause?: unknown;
  }) {
    super(`${options.service} ${options.operation} failed (${options.status}): ${options.description}`, {
      cause: options.cause,
    });
    this.service = options.service;
    this.operation = options.operation;
    this.status = options.status;
    this.description = options.description;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.code = options.code;
  }
}

/** We could not reach the service, or it did not answer in time. */
export class ConnectionError extends Error {
  override readonly name = "ConnectionError";
  readonly service: ServiceName;
  readonly operation: string;
  /** True when our own timeout ended the call (as opposed to a refused or reset connection). */
  readonly timedOut: boolean;
  /** How long the failed attempt took, in milliseconds. */
  readonly elapsedMs: number;
  /** True when TLS refused the server's certificate (not the pinned one, or not for this address). */
  readonly certificateRefused: boolean;

  constructor(options: {
    service: ServiceName;
    operation: string;
    timedOut: boolean;
    elapsedMs: number;
    certificateRefused?: boolean;
    cause?: unknown;
  }) {
    const what = options.timedOut
      ? `timed out after ${options.elapsedMs} ms`
      : options.certificateRefused
        ? "refused the server's TLS certificate"
        : "could not connect";
    super(`${options.service} ${options.operation} ${what}`, { cause: options.cause });
    this.service = options.service;
    this.operation = options.operation;
    this.timedOut = options.timedOut;
    this.elapsedMs = options.elapsedMs;
    this.certificateRefused = options.certificateRefused ?? false;
  }
}

/**
 * True for Node's TLS verification failures (an unknown or self-signed certificate, a name or
 * address the certificate does not cover, an expired one), by their error codes.
 */
export function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /CERT|SELF_SIGNED|ERR_TLS_CERT_ALTNAME|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code);
}

/** True for a Telegram "message is not modified" answer, which an edit may safely ignore. */
export function isNotModified(error: unknown): boolean {
  return error instanceof ServiceError && error.service === "telegram" && /message is not modified/i.test(error.description);
}

/** True for a Telegram "can't parse entities" answer: the HTML was rejected, plain text will do. */
export function isEntityParseError(error: unknown): boolean {
  return error instanceof ServiceError && error.service === "telegram" && /can't parse entities/i.test(error.description);
}
