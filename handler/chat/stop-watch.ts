import { BUTTON_ACTIONS, button, keyboard } from "../conversation/buttons";
import type { UpdateContext } from "../conversation/update-context";
import { realClock, type Clock } from "./clock";

/**
 * The Stop control of a streaming answer. While the model generates:
 * - once it has run for STOP_BUTTON_AFTER_MS (about when its first text shows), the chat shows
 *   a small message with a ⏹ Stop button (its own message: private chats stream as drafts, and
 *   sendMessageDraft carries no buttons); a quick answer ends before and never shows one. The
 *   journal records it as a live message, so a rerun after a crash takes it back;
 * - the answer's update is recorded as the chat's answering one, so `/stop` finds it;
 * - the update's mark is read about once a second for a stop request (StopRequests), which
 *   ends the model request through {@link StopWatch.signal}: Ollama stops computing when its
 *   client goes away.
 * {@link StopWatch.close} ends all of it: the button message is deleted. The answering record
 * stays: the update's mark, no longer in progress, already says the answer ended (a stop then
 * finds nothing to stop), and the chat's next answer overwrites it, which saves a DeleteItem
 * per answer.
 * Every step is best effort: a failed poll or a lost button never fails the answer.
 */

/** How often a streaming answer looks for a stop request, in ms ("about once a second"). */
export const STOP_POLL_INTERVAL_MS = 1_000;
/** How long an answer runs before its Stop button shows, in ms (`/stop` works from the start). */
export const STOP_BUTTON_AFTER_MS = 1_000;
/** The Stop button's label. */
export const STOP_BUTTON_LABEL = "⏹ Stop";
/** The text of the message carrying the Stop button. */
export const STOP_CONTROL_TEXT = "Writing an answer…";

/** Options of {@link StopWatch.open}. */
export interface StopWatchOptions {
  /** Time between two looks for a stop request, in ms. @default STOP_POLL_INTERVAL_MS */
  readonly intervalMs?: number;
  /** Time before the Stop button shows, in ms. @default STOP_BUTTON_AFTER_MS */
  readonly buttonAfterMs?: number;
  /** @default realClock */
  readonly clock?: Clock;
}

/** See the module comment. */
export class StopWatch {
  private readonly stop = new AbortController();
  private readonly closing = new AbortController();
  private controlMessageId: number | undefined;
  private readonly opened: Promise<void>;
  private readonly polling: Promise<void>;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly ctx: UpdateContext,
    options: StopWatchOptions,
  ) {
    const clock = options.clock ?? realClock;
    this.opened = this.showControls(options.buttonAfterMs ?? STOP_BUTTON_AFTER_MS, clock);
    this.polling = this.poll(options.intervalMs ?? STOP_POLL_INTERVAL_MS, clock);
  }

  /** Shows the Stop button and starts looking for stop requests; nothing here is awaited. */
  static open(ctx: UpdateContext, options: StopWatchOptions = {}): StopWatch {
    return new StopWatch(ctx, options);
  }

  /** Aborted once the user asked to stop. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  /** True once the user asked to stop. */
  get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  /** Stops looking and deletes the button message, once however often it is called. Never rejects. */
  close(): Promise<void> {
    this.closed ??= this.cleanUp();
    return this.closed;
  }

  private async cleanUp(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([this.opened, this.polling]);
    const { ctx } = this;
    const messageId = this.controlMessageId;
    if (messageId === undefined) return;
    await ctx.bot.call("deleteMessage", { chat_id: ctx.chatId, message_id: messageId }).catch((err: unknown) => this.warn("could not delete the Stop button", err));
  }

  private async showControls(buttonAfterMs: number, clock: Clock): Promise<void> {
    const { ctx } = this;
    const marked = ctx.stops.markAnswering(ctx.userId, ctx.chatId, ctx.updateId, ctx.leaseMs).catch((err: unknown) => {
      this.warn("could not record the answering update", err);
    });
    await clock.sleep(buttonAfterMs, this.closing.signal);
    if (this.closing.signal.aborted || this.stopped) return void (await marked);
    const stop = button(STOP_BUTTON_LABEL, { action: BUTTON_ACTIONS.stop, owner: ctx.userId, argument: ctx.updateId.toString(36) });
    const thread = ctx.message.is_topic_message && ctx.message.message_thread_id !== undefined ? { message_thread_id: ctx.message.message_thread_id } : {};
    const [, sent] = await Promise.allSettled([
      marked,
      ctx.bot.call("sendMessage", { chat_id: ctx.chatId, text: STOP_CONTROL_TEXT, reply_markup: keyboard([[stop]]), disable_notification: true, ...thread }),
    ]);
    if (sent.status === "rejected") return this.warn("could not show the Stop button", sent.reason);
    this.controlMessageId = sent.value.message_id;
    await ctx.journal.recordLiveMessage(sent.value.message_id).catch((err: unknown) => this.warn("could not record the Stop button", err));
  }

  private async poll(intervalMs: number, clock: Clock): Promise<void> {
    const { ctx } = this;
    while (!this.closing.signal.aborted) {
      await clock.sleep(intervalMs, this.closing.signal);
      if (this.closing.signal.aborted) return;
      try {
        if (await ctx.stops.stopRequested(ctx.userId, ctx.updateId)) {
          ctx.log.info("answer stopped by the user", { action: "stop_answer", outcome: "success" });
          this.stop.abort();
          return;
        }
      } catch (err) {
        this.warn("could not look for a stop request", err);
      }
    }
  }

  private warn(message: string, err: unknown): void {
    this.ctx.log.warn(message, { action: "stop_answer", outcome: "warning", error_kind: err instanceof Error ? err.name : "unknown" });
  }
}
