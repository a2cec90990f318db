import { lambdaTimeoutBounds, VISIBILITY_TIMEOUT_FACTOR } from "../../config/stack-config";
import { AwsSigner, type CredentialSource } from "../net/aws-signed";
import { ServiceError } from "../net/errors";
import type { Logger } from "../observability/log";

/**
 * A record handed back for a later delivery comes back after a short backoff instead of the
 * queue's whole visibility timeout (6 × the function's timeout: 12 minutes by default, with the
 * chat's later messages stuck behind it): before the batch reports it, its visibility is set
 * to {@link RETRY_BACKOFF_SECONDS} for its receive count (SQS ChangeMessageVisibility on
 * UPDATE_QUEUE_URL). Only records whose handling has ended in this invocation are shortened,
 * so a record that comes back early is never still being handled (the consumer takes over its
 * mark on a receive count above 1).
 */

/** The backoff before the 1st, 2nd, 3rd and later redelivery of a record handed back, in seconds. */
export const RETRY_BACKOFF_SECONDS: readonly number[] = Object.freeze([5, 20, 60, 150]);

/** The smallest visibility timeout the stack can give the queue, in seconds: every backoff stays below it. */
export const MIN_QUEUE_VISIBILITY_SECONDS = VISIBILITY_TIMEOUT_FACTOR * lambdaTimeoutBounds("queue").min;

/** Timeout of one ChangeMessageVisibility call, in ms: it runs at the end of an invocation. */
export const VISIBILITY_CALL_TIMEOUT_MS = 2_000;

/** The backoff of a record delivered `receiveCount` times (1 on the first delivery). Pure. */
export function backoffSecondsFor(receiveCount: number): number {
  const step = Math.min(Math.max(1, Math.floor(receiveCount)), RETRY_BACKOFF_SECONDS.length) - 1;
  return Math.min(RETRY_BACKOFF_SECONDS[step]!, MIN_QUEUE_VISIBILITY_SECONDS - 1);
}

/** Sets how long a received record stays invisible. */
export type VisibilitySetter = (receiptHandle: string, seconds: number) => Promise<void>;

/** Options of {@link sqsVisibilitySetter}. */
export interface SqsVisibilityOptions {
  readonly queueUrl: string;
  readonly region: string;
  /** SQS endpoint (AWS_ENDPOINT_URL_SQS). @default https://sqs.<region>.amazonaws.com */
  readonly endpoint?: string;
  /** @default - the function role's, from the environment */
  readonly credentials?: CredentialSource;
}

/** ChangeMessageVisibility over SQS's JSON protocol, signed with SigV4. Rejects on failure. */
export function sqsVisibilitySetter(options: SqsVisibilityOptions): VisibilitySetter {
  const signer = new AwsSigner({ signingName: "sqs", region: options.region, ...(options.credentials ? { credentials: options.credentials } : {}) });
  const endpoint = (options.endpoint ?? `https://sqs.${options.region}.amazonaws.com`).replace(/\/+$/, "");
  return async (receiptHandle, seconds) => {
    const call = await signer.send({
      url: `${endpoint}/`,
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.ChangeMessageVisibility" },
      body: JSON.stringify({ QueueUrl: options.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
      service: "sqs",
      operation: "ChangeMessageVisibility",
      timeoutMs: VISIBILITY_CALL_TIMEOUT_MS,
    });
    const text = await call.readText();
    if (call.response.statusCode === 200) return;
    throw new ServiceError({ service: "sqs", operation: "ChangeMessageVisibility", status: call.response.statusCode, description: errorTypeOf(call.response.headers, text) });
  };
}

/** SQS's name for an error: the x-amzn-query-error header, else the JSON body's __type. Pure. */
function errorTypeOf(headers: Record<string, string | string[] | undefined>, text: string): string {
  let type = headers["x-amzn-query-error"];
  if (type === undefined) {
    try {
      type = (JSON.parse(text || "{}") as { __type?: string }).__type;
    } catch {
      // Not JSON: the status says enough.
    }
  }
  return String(type ?? "error").slice(0, 200);
}

/**
 * Gives each record handed back its backoff. Never rejects: a record whose visibility could
 * not be changed comes back after the queue's own timeout, as before.
 */
export async function backOff(records: readonly { readonly receiptHandle: string; readonly receiveCount: number }[], set: VisibilitySetter | undefined, log: Logger): Promise<void> {
  if (!set) return;
  await Promise.all(
    records
      .filter((r) => r.receiptHandle !== "")
      .map((r) =>
        set(r.receiptHandle, backoffSecondsFor(r.receiveCount)).catch((err: unknown) => {
          log.warn("could not shorten a record's visibility; it comes back after the queue's timeout", {
            action: "back_off",
            outcome: "failure",
            error_kind: err instanceof Error ? err.name : "unknown",
            status: err instanceof ServiceError ? err.status : undefined,
          });
        }),
      ),
  );
}
