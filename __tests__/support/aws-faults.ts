/**
 * Faults injected into a real AWS SDK client with a middleware: chosen requests fail with a
 * chosen error before they leave, every other request goes to the emulator as usual. This is
 * not a mock: the client, its retries and the emulator are the real ones. The middleware sits
 * inside the SDK's retry middleware, so the SDK retries an injected throttling error exactly as
 * it would retry DynamoDB's own.
 *
 *   const fault = injectFault(h.doc, { operation: "PutItem", times: 2, error: throttlingError });
 *   ... // the first two PutItem attempts fail, the SDK's third attempt reaches dynalite
 *   fault.remove();
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { DocumentClient } from "../../handler/store/document-client";

/** A client faults can be injected into. */
export type FaultableClient = Pick<DocumentClient, "middlewareStack"> | Pick<S3Client, "middlewareStack">;

/** Which requests fail, and how. */
export interface FaultRule {
  /** The operation, e.g. "PutItem", "UpdateItem", "BatchWriteItem", "PutObject". */
  readonly operation: string;
  /** Only requests whose (low-level, marshalled) input matches. @default - every request of the operation */
  readonly when?: (input: Record<string, unknown>) => boolean;
  /** How many matching attempts fail (SDK retries count). @default Infinity */
  readonly times?: number;
  /** The error thrown for a failing attempt. */
  readonly error: () => Error;
}

/** An injected fault. */
export interface InjectedFault {
  /** Matching attempts so far (failed and passed). */
  attempts(): number;
  /** Matching attempts that were failed. */
  failures(): number;
  /** Takes the middleware off the client. */
  remove(): void;
}

interface FaultStack {
  add(
    middleware: (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
    options: { step: "finalizeRequest"; priority: "low"; name: string },
  ): void;
  remove(name: string): boolean;
}

let faultCounter = 0;

/** Makes chosen requests of a real client fail; see the module comment. */
export function injectFault(client: FaultableClient, rule: FaultRule): InjectedFault {
  const stack = client.middlewareStack as unknown as FaultStack;
  const name = `injectedFault${++faultCounter}`;
  const limit = rule.times ?? Number.POSITIVE_INFINITY;
  let attempts = 0;
  let failures = 0;
  stack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? "").replace(/Command$/, "");
      if (operation === rule.operation && (rule.when?.(args.input) ?? true)) {
        attempts += 1;
        if (failures < limit) {
          failures += 1;
          throw rule.error();
        }
      }
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name },
  );
  return { attempts: () => attempts, failures: () => failures, remove: () => void stack.remove(name) };
}

/** An AWS service error as the SDK deserialises one (name, $fault, $metadata). */
export function serviceError(name: string, httpStatusCode: number, message = name): Error {
  const error = new Error(message) as Error & { $fault: string; $metadata: object };
  error.name = name;
  error.$fault = httpStatusCode >= 500 ? "server" : "client";
  error.$metadata = { httpStatusCode, attempts: 1, totalRetryDelay: 0 };
  return error;
}

/** DynamoDB's throttling error, which the SDK retries with backoff. */
export const throttlingError = () =>
  serviceError("ProvisionedThroughputExceededException", 400, "The level of configured provisioned throughput for the table was exceeded.");

/** The sort key of a marshalled DynamoDB input (Key or Item), e.g. "SESSION#..." or "UPDATE#123". */
export function sortKeyOf(input: Record<string, unknown>): string | undefined {
  const holder = (input.Key ?? input.Item) as { sk?: { S?: unknown } } | undefined;
  const sk = holder?.sk?.S;
  return typeof sk === "string" ? sk : undefined;
}
