import { createHash } from "node:crypto";
import { ConnectionError, ServiceError } from "../net/errors";
import type { MarkJournal, UpdateMarks } from "../store/update-marks";

/**
 * An update's journal, as the routes use it: what earlier attempts of the same update decided
 * and did (read from its mark when it was claimed), and the writes that record this attempt's
 * decisions before they take effect. With it, every effect of an update happens once even when
 * the update is handled again after a crash part-way through:
 * - a position a command resolved (`/archive 1`) is recorded before it is acted on, and a rerun
 *   acts on the same session ({@link resolve});
 * - outgoing messages are numbered, and each one's sending is recorded before it is sent; a
 *   rerun skips those an earlier attempt began ({@link send}), so nothing is sent twice;
 * - ids of things an update creates (a session, an imported archive) derive from its update_id
 *   ({@link idFor}), so a rerun creates the same one.
 * An attempt whose send failed for certain (Telegram refused it, or the connection was refused)
 * takes its record back, so a rerun sends it.
 */
export class UpdateJournal {
  private sends = 0;

  constructor(
    private readonly marks: UpdateMarks,
    private readonly userId: number,
    private readonly updateId: number,
    /** What earlier attempts recorded (attempts is 1 and the rest empty on the first). */
    readonly recorded: MarkJournal,
  ) {}

  /** True when an earlier attempt claimed this update and did not complete it. */
  get rerun(): boolean {
    return this.recorded.attempts > 1;
  }

  /**
   * The value an earlier attempt resolved for `name`, or else `compute()`'s, recorded before it
   * is returned (undefined, nothing to act on, is not recorded).
   */
  async resolve(name: string, compute: () => Promise<string | undefined>): Promise<string | undefined> {
    const earlier = this.recorded.resolved[name];
    if (earlier !== undefined) return earlier;
    const value = await compute();
    if (value !== undefined) await this.marks.recordResolved(this.userId, this.updateId, name, value);
    return value;
  }

  /**
   * Sends the next outgoing message with `send`, unless an earlier attempt began that one (its
   * outcome is unknown, and a second copy is worse than none); resolves with what `send`
   * returned, or undefined when skipped.
   */
  async send<T>(send: () => Promise<T>): Promise<T | undefined> {
    this.sends += 1;
    const number = this.sends;
    if (number <= this.recorded.sendsBegun) return undefined;
    await this.marks.recordSendBegun(this.userId, this.updateId, number);
    try {
      return await send();
    } catch (err) {
      if (notDelivered(err)) {
        await this.marks.recordSendBegun(this.userId, this.updateId, number - 1).catch(() => undefined);
      }
      throw err;
    }
  }

  /** Records that final part `partsBegun` of `parts` of the chat answer `text` is being sent. */
  recordAnswerBegun(text: string, partsBegun: number, parts: number): Promise<void> {
    return this.marks.recordAnswerBegun(this.userId, this.updateId, text, partsBegun, parts);
  }

  /** Records a message of the chat answer sent while it streamed (a rerun removes it). */
  recordLiveMessage(messageId: number): Promise<void> {
    return this.marks.recordLiveMessage(this.userId, this.updateId, messageId);
  }

  /** An id for something this update creates, the same on every attempt of the update. */
  idFor(purpose: string): string {
    return updateDerivedId(this.userId, this.updateId, purpose);
  }
}

/**
 * True when an earlier attempt's final answer certainly reached the chat, at least in part: a
 * part after the first had begun, so the first was confirmed. When only the first had begun,
 * the function died while Telegram had it and nobody knows whether it landed: the rerun sends
 * the answer again, since the Bot API has no idempotency key and a rare duplicate beats a lost
 * answer. Pure.
 */
export function answerReachedChat(answer: { readonly partsBegun: number }): boolean {
  return answer.partsBegun > 1;
}

/** True when a Bot API call failed in a way that means the message was certainly not delivered. */
export function notDelivered(err: unknown): boolean {
  if (err instanceof ServiceError) return err.service === "telegram";
  return err instanceof ConnectionError && err.service === "telegram" && !err.timedOut;
}

/**
 * A UUID-shaped id derived from the user, the update and what it is for (version 8, RFC 9562:
 * SHA-256 based), so a rerun of the update derives the same id. Pure.
 */
export function updateDerivedId(userId: number, updateId: number, purpose: string): string {
  const hex = createHash("sha256").update(`cloud-ai:${userId}:${updateId}:${purpose}`).digest("hex").slice(0, 32).split("");
  hex[12] = "8";
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
