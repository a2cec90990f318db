import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type { ServiceName } from "./errors";
import { timedRequest, type TimedCall } from "./http";
import type { Dispatcher } from "undici";
import { credentialsFromEnvironment, type EnvironmentCredentials } from "./lambda-credentials";

/**
 * One AWS API request signed with SigV4 and sent over undici, for the few calls the bot makes
 * outside the DynamoDB and S3 SDK clients (SQS ChangeMessageVisibility, Bedrock
 * ConverseStream): the signer is the SDK's own (@smithy/signature-v4, already in the bundle),
 * the transport the bot's undici with its timeouts, so a whole SDK client is not bundled for
 * one operation.
 */

/** Where the credentials come from. */
export type CredentialSource = () => Promise<EnvironmentCredentials>;

/** The function's role credentials (Lambda's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). */
export const environmentCredentials: CredentialSource = async () => credentialsFromEnvironment();

/** Options of {@link AwsSigner}. */
export interface AwsSignerOptions {
  /** The signing name, e.g. `sqs`, `bedrock`. */
  readonly signingName: string;
  readonly region: string;
  /** @default environmentCredentials */
  readonly credentials?: CredentialSource;
}

/** What {@link redactorOf} puts where a secret was. */
export const REDACTED_SECRET = "[REDACTED]";

/**
 * A function that blanks the secret key and session token (and their URL-encoded forms) out
 * of a text: an AWS error can echo the canonical request, session token included
 * (InvalidSignatureException), so every text from AWS passes through it before an error or a
 * log line carries it. Pure.
 */
export function redactorOf(credentials: EnvironmentCredentials): (text: string) => string {
  const secrets = [credentials.secretAccessKey, credentials.sessionToken]
    .filter((secret): secret is string => typeof secret === "string" && secret.length >= 4)
    .flatMap((secret) => [secret, encodeURIComponent(secret)]);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join(REDACTED_SECRET), text);
}

/** A sent request: the call, and the redactor of the credentials it was signed with. */
export interface SignedCall extends TimedCall {
  /** Blanks the secrets of the signing credentials out of a text (see {@link redactorOf}). */
  redact(text: string): string;
}

/** Options of one {@link AwsSigner.send}. */
export interface SignedRequest {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** For errors: which service and operation. */
  readonly service: ServiceName;
  readonly operation: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly dispatcher?: Dispatcher;
}

/** A SHA-256 (an HMAC when given a secret) of the SDK's hash shape, on node:crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Signs and sends AWS requests for one service and region; see the module comment. */
export class AwsSigner {
  private readonly credentials: CredentialSource;

  constructor(private readonly options: AwsSignerOptions) {
    this.credentials = options.credentials ?? environmentCredentials;
  }

  /** The signed headers of a request (host included), for tests and for send. */
  async sign(request: Pick<SignedRequest, "url" | "method" | "headers" | "body">): Promise<Record<string, string>> {
    return (await this.signWithCredentials(request)).headers;
  }

  /** Signs the request and sends it; see timedRequest for the call's shape and failures. */
  async send(request: SignedRequest): Promise<SignedCall> {
    const { headers, credentials } = await this.signWithCredentials(request);
    const redact = redactorOf(credentials);
    // undici sets Host itself from the URL; sending it twice would be refused.
    delete headers.host;
    const call = await timedRequest(request.url, {
      service: request.service,
      operation: request.operation,
      method: request.method,
      headers,
      body: request.body,
      dispatcher: request.dispatcher,
      timeoutMs: request.timeoutMs,
      signal: request.signal,
      redact,
    });
    return { ...call, redact };
  }

  /**
   * Resolves the credentials once per request and signs with them, so send knows which
   * secrets to redact (the signer caches its derived keys per module, not per instance).
   */
  private async signWithCredentials(
    request: Pick<SignedRequest, "url" | "method" | "headers" | "body">,
  ): Promise<{ headers: Record<string, string>; credentials: EnvironmentCredentials }> {
    const credentials = await this.credentials();
    const signer = new SignatureV4({ credentials, region: this.options.region, service: this.options.signingName, sha256: Sha256 });
    const url = new URL(request.url);
    const signed = await signer.sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...request.headers, host: url.host },
      body: request.body,
    });
    return { headers: signed.headers, credentials };
  }
}
