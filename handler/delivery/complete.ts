import type { UpdateContext } from "../conversation/update-context";
import { ConnectionError, ServiceError } from "../net/errors";
import type { Logger } from "../observability/log";
import { isConditionFailed, isThrottling } from "../store/dynamo";
import type { UpdateMarks } from "../store/update-marks";

/**
 * Step 7 of the webhook pipeline: the update is done. Its mark is completed (once, whoever asks
 * first: the chat path as soon as its answer is delivered, the pipeline after routing), and a
 * failed update is logged once and explained to the user in plain words.
 */

/**
 * The update's completion: called again, it returns the first call's promise, and it never
 * rejects (a failure is logged: the lease expires on its own, and a redelivery after that is
 * handled again).
 */
export function completionOf(marks: UpdateMarks, userId: number, updateId: number, log: Logger): () => Promise<void> {
  let completion: Promise<void> | undefined;
  return () =>
    (completion ??= marks.complete(userId, updateId).catch((err: unknown) => {
      log.error("could not mark the update completed", err, { action: "complete_update", outcome: "failure" });
    }));
}

/** Plain words for a storage failure. */
export function storeErrorText(err: unknown): string {
  if (isThrottling(err)) return "The database is busy right now. Please send that again in a moment.";
  return "I could not reach my database just now. Please send that again in a moment.";
}

/** Logs a failed update once and tells the user in plain words when Telegram is reachable. */
export async function reportFailure(ctx: UpdateContext, err: unknown): Promise<void> {
  if ((err instanceof ServiceError || err instanceof ConnectionError) && err.service === "telegram") {
    ctx.log.error("could not answer through Telegram", err, { action: "handle_update", outcome: "failure" });
    return;
  }
  if (isConditionFailed(err)) {
    // A write conditioned on the session existing: it was archived (or replaced) while this
    // update was being handled, e.g. an answer that finished after /archive.
    ctx.log.warn("the session changed while the update was handled", { action: "handle_update", outcome: "failure" });
    await ctx.reply("That session was archived while I was answering, so this answer was not saved to it.").catch(() => undefined);
    return;
  }
  const storage = isThrottling(err) || (err as { $metadata?: unknown } | null)?.$metadata !== undefined;
  ctx.log.error(storage ? "storage request failed" : "update failed", err, { action: "handle_update", outcome: "failure" });
  const text = storage ? storeErrorText(err) : "Something went wrong on my side. Please try again.";
  await ctx.reply(text).catch((replyErr: unknown) => {
    ctx.log.warn("could not send the failure message", { action: "reply", outcome: "failure", error_kind: replyErr instanceof Error ? replyErr.name : "unknown" });
  });
}
