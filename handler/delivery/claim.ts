import type { MessageKind } from "../conversation/router";
import type { Logger } from "../observability/log";
import { snapshotOf, usageKeys, type UsageSnapshot } from "../store/chat-usage";
import type { SessionStore } from "../store/sessions";
import type { MarkJournal, UpdateMarks } from "../store/update-marks";
import { storeErrorText, WILL_RETRY_TEXT } from "./complete";
import { DROPPED_UPDATE_TEXT } from "./record-failure";
import { isPassingStorageFailure } from "./route";

/**
 * Step 5 of the webhook pipeline: claim the update's idempotency mark, so a redelivered update
 * has no second effect. Nothing is written or sent before the claim succeeds.
 */

/** What the claim step decided. */
export type ClaimStep =
  /**
   * This invocation owns the update; `activeSessionId` is the profile read made meanwhile (chat
   * messages), and `usage` the day's usage read with it.
   */
  | { readonly kind: "claimed"; readonly journal: MarkJournal; readonly activeSessionId?: Promise<string | undefined>; readonly usage?: Promise<UsageSnapshot> }
  /** An earlier delivery finished it: nothing to do. */
  | { readonly kind: "completed" }
  /** Another delivery holds its lease: it may finish, or it died; ask for a later delivery. */
  | { readonly kind: "in_progress" }
  /**
   * The mark could not be written; the user was told what happens next. `willRetry`: the
   * failure may pass and the queue delivers the update again (with retryOnFailure); otherwise
   * it is dropped (a failure every delivery would repeat, or sync mode, where the user sends
   * it again).
   */
  | { readonly kind: "failed"; readonly willRetry: boolean };

/** What {@link claimUpdate} works with. */
export interface ClaimInput {
  readonly marks: UpdateMarks;
  readonly sessions: SessionStore;
  readonly userId: number;
  readonly updateId: number;
  readonly kind: MessageKind;
  /** Lease of the claim: the invocation's remaining time plus a margin, in ms. */
  readonly leaseMs: number;
  /** Take over a mark in progress whatever its lease (the earlier attempt is known to be gone). @default false */
  readonly takeOver?: boolean;
  readonly log: Logger;
  readonly reply: (text: string) => Promise<void>;
  /**
   * The update will be delivered again when the claim fails (queue mode): the user is told it
   * will be answered, not asked to send it again (and only on its first delivery). @default false
   */
  readonly retryOnFailure?: boolean;
  /** Chat messages: the usage counters read with the profile (store/chat-usage.ts). @default - the profile alone */
  readonly usage?: { readonly now: number; readonly withBot: boolean };
}

/**
 * Claims the update. A chat message's first read (the profile) goes with the claim: a read has
 * no effect, so a duplicate delivery still has none.
 */
export async function claimUpdate(input: ClaimInput): Promise<ClaimStep> {
  const { marks, log } = input;
  const first = input.kind.kind === "chat" ? firstRead(input) : undefined;
  const activeSessionId = first?.then((f) => f.activeSessionId);
  const usage = first?.then((f) => f.usage);
  // Observed at once like the profile read: the chat path awaits it and sees its error.
  usage?.catch(() => undefined);
  // Observed at once (no unhandled rejection); the chat path awaits it and sees its error.
  const readSettled = activeSessionId?.then(
    () => undefined,
    () => undefined,
  );
  let claimed: Awaited<ReturnType<UpdateMarks["claim"]>>;
  try {
    claimed = await marks.claim(input.userId, input.updateId, { leaseMs: input.leaseMs, takeOver: input.takeOver });
  } catch (err) {
    log.error("could not record the update", err, { action: "claim_update", outcome: "failure" });
    const willRetry = input.retryOnFailure === true && isPassingStorageFailure(err);
    const text = willRetry ? (input.takeOver ? undefined : WILL_RETRY_TEXT) : input.retryOnFailure ? DROPPED_UPDATE_TEXT : storeErrorText(err);
    await Promise.all([text ? input.reply(text).catch(() => undefined) : undefined, readSettled]);
    return { kind: "failed", willRetry };
  }
  if (claimed.outcome !== "claimed") {
    log.info("duplicate delivery ignored", { action: "claim_update", outcome: "ignored", found: claimed.outcome });
    await readSettled; // leave no request running after returning
    return { kind: claimed.outcome };
  }
  if (claimed.journal.attempts > 1) {
    log.info("update handled again after an earlier attempt", { action: "claim_update", outcome: "success", attempts: claimed.journal.attempts });
  }
  return { kind: "claimed", journal: claimed.journal, ...(activeSessionId ? { activeSessionId } : {}), ...(usage && input.usage ? { usage: usage as Promise<UsageSnapshot> } : {}) };
}

/** A chat message's first read: the profile, and the day's usage with it in one request. */
async function firstRead(input: ClaimInput): Promise<{ activeSessionId: string | undefined; usage: UsageSnapshot | undefined }> {
  const { userId, updateId } = input;
  if (!input.usage) return { activeSessionId: await input.sessions.getActiveSessionId(userId), usage: undefined };
  const { now, withBot } = input.usage;
  const read = await input.sessions.getActiveSessionIdWith(userId, usageKeys(userId, now, withBot));
  return { activeSessionId: read.activeSessionId, usage: snapshotOf(read.others, userId, updateId, now, withBot) };
}
