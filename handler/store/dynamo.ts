import type { DocumentClient, UpdateInput, WriteRequest } from "./document-client";

/** DynamoDB's BatchWriteItem limit. */
export const BATCH_WRITE_LIMIT = 25;

/** Options of {@link batchWriteAll}. */
export interface BatchWriteOptions {
  /** Attempts per chunk while DynamoDB keeps returning UnprocessedItems. @default 8 */
  readonly maxAttempts?: number;
  /** First backoff between attempts, doubled each time, in ms. @default 50 */
  readonly baseDelayMs?: number;
}

/**
 * Writes any number of puts/deletes to one table in chunks of 25, retrying UnprocessedItems
 * with exponential backoff; rejects when a chunk still has unprocessed items after
 * `maxAttempts` (nothing is silently dropped).
 */
export async function batchWriteAll(
  doc: DocumentClient,
  tableName: string,
  writes: readonly WriteRequest[],
  options: BatchWriteOptions = {},
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 50;
  for (let start = 0; start < writes.length; start += BATCH_WRITE_LIMIT) {
    let pending: WriteRequest[] = writes.slice(start, start + BATCH_WRITE_LIMIT);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > maxAttempts) {
        throw new Error(`batch write left ${pending.length} unprocessed items after ${maxAttempts} attempts`);
      }
      if (attempt > 1) await new Promise((r) => setTimeout(r, baseDelayMs * 2 ** (attempt - 2)));
      const result = await doc.batchWrite({ RequestItems: { [tableName]: pending } });
      pending = result.UnprocessedItems[tableName] ?? [];
    }
  }
}

/** True for DynamoDB's "slow down" errors (after the SDK's own retries gave up). */
export function isThrottling(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return (
    name === "ProvisionedThroughputExceededException" ||
    name === "ThrottlingException" ||
    name === "RequestLimitExceeded" ||
    name === "TooManyRequestsException"
  );
}

/** True when a conditional write's condition did not hold. */
export function isConditionFailed(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/** A conditional UpdateItem that does nothing when its condition does not hold: false then; other errors are thrown. */
export async function updateIf(doc: DocumentClient, input: UpdateInput & { readonly ConditionExpression: string }): Promise<boolean> {
  try {
    await doc.update(input);
    return true;
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
    return false;
  }
}
