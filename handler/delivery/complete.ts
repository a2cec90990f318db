import type { UpdateContext } from "../conversation/update-context";
import { ConnectionError, ServiceError } from "../net/errors";
import type { Logger } from "../observability/log";
import { errorKindOf } from "../observability/metrics";
import { isConditionFailed, isThrottling } from "../store/dynamo";
import type { UpdateMarks } from "../store/update-marks";

/**
 * Step 7 of the webhook pipeline: the update is done, and its mark is completed; or it must be
 * delivered again, and its lease is given up. A failed update is logged once and explained to
 * the user in plain words.
 */

/**
 * Completes the update's mark. Never rejects: a failure is logged (the lease expires on its
 * own, and a redelivery after that is handled again, with the journal saying what was done).
 */
export async function completeUpdate(marks: UpdateMarks, userId: number, updateId: number, log: Logger): Promise<void> {
  await marks.complete(userId, updateId).catch((err: unknown) => {
    log.error("could not mark the update completed", err, { action: "complete_update", outcome: "failure" });
  });
}

/**
 * Gives up the update's lease so its next delivery is handled at once. Never rejects: without
 * it, the next delivery waits for the lease to end.
 */
export async function releaseUpdate(marks: UpdateMarks, userId: number, updateId: number, log: Logger): Promise<void> {
  await marks.release(userId, updateId).catch((err: unknown) => {
    log.warn("could not give up the update's lease; it ends on its own", {
      action: "release_update",
      outcome: "warning",
      error_kind: err instanceof Error ? err.name : "unknown",
    });
  });
}

/** Said when a passing storage failure hands the update back to the queue. */
export const WILL_RETRY_TEXT = "My database is busy right now. I will answer this as soon as I can; no need to send it again.";

/** Plain words for a storage failure. */
export function storeErrorText(err: unknown): string {
  if (isThrottling(err)) return "The database is busy right now. Please send that again in a moment.";
  return "I could not reach my database just now. Please send that again in a moment.";
}

/** Logs a failed update once and tells the user in plain words when Telegram is reachable. */
export async function reportFailure(ctx: UpdateContext, err: unknown): Promise<void> {
  ctx.metrics.addDimension("ErrorKind", errorKindOf(err));
  ctx.metrics.addMetric("Failed", 1);
  if ((err instanceof ServiceError || err instanceof ConnectionError) && err.service === "telegram") {
    ctx.log.error("could not answer through Telegram", err, { action: "handle_update", outcome: "failure" });
    return;
  }
  if (isConditionFailed(err)) {
    // A write conditioned on the session existing: it was archived (or replaced) while this
    // update was being handled, e.g. an answer that finished after /archive.
    ctx.log.warn("the session changed while the update was handled", { action: "handle_update", outcome: "failure" });
    await ctx.notify("That session was archived while I was answering, so this answer was not saved to it.");
    return;
  }
  const storage = isThrottling(err) || (err as { $metadata?: unknown } | null)?.$metadata !== undefined;
  ctx.log.error(storage ? "storage request failed" : "update failed", err, { action: "handle_update", outcome: "failure" });
  const text = storage ? storeErrorText(err) : "Something went wrong on my side. Please try again.";
  await ctx.notify(text);
}
