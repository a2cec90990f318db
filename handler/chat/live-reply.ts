import { TELEGRAM_MESSAGE_LIMIT } from "../../config/defaults";
import type { BotApi, BotMethods, BotParams, BotResult } from "../telegram/bot-api";
import { isEntityParseError, isNotModified, ServiceError } from "../net/errors";
import type { InlineKeyboardMarkup } from "@grammyjs/types";
import { NOTE_CUT_OFF, NOTE_STOPPED, NOTE_STOPPED_EARLY, renderAnswer } from "../format/answer";
import { markdownToTelegramHtml, openFence } from "../format/markdown-html";
import { splitMarkdown } from "../format/split-markdown";
import { visibleText } from "../format/split-html";
import { separateThinking } from "../format/thinking";
import { realClock, type Clock } from "./clock";
import type { LiveReplyOptions, LiveReplyOutcome, LiveReplyResult } from "./live-reply-types";

export type { Clock } from "./clock";
export type { LiveReplyOptions, LiveReplyOutcome, LiveReplyResult } from "./live-reply-types";

/** Shown while a reasoning model thinks (inside `<think>`, or sending reasoning apart) and no answer text exists yet. */
export const THINKING_PLACEHOLDER = "<i>Thinking…</i>";

/** Tries for a final message that Telegram rate-limits (429) before giving up. */
const FINAL_SEND_ATTEMPTS = 3;
/** Longest wait a 429 may impose on the final message, in ms (default of maxFinalWaitMs). */
const MAX_FINAL_WAIT_MS = 30_000;

/** One message (or draft) of the answer as currently shown. */
interface Shown {
  readonly messageId: number | undefined;
  readonly html: string;
}

/**
 * The streamed answer in Telegram.
 *
 * `push` model text as it arrives; frames are rendered at most once per `minIntervalMs`
 * (intermediate text is skipped, never queued). In private chats frames are drafts
 * (sendMessageDraft, an ephemeral preview) and every part that stays is sent with sendMessage;
 * elsewhere the first frame is sent with sendMessage and extended with editMessageText. When
 * the visible text passes `messageLimit` the current message is completed (cut at a paragraph,
 * code-block or line boundary of the Markdown; an open code block is reopened) and the answer
 * goes on in a new one. "Message is not modified" is ignored; a 429 holds all updates back for
 * retry_after; HTML that Telegram cannot parse is sent again as plain text; a refused
 * sendMessageDraft switches to the edit strategy. `finish` sends the final formatted answer
 * and leaves no timer running.
 */
export class LiveReply {
  private readonly api: BotApi;
  private readonly clock: Clock;
  private readonly minIntervalMs: number;
  private readonly typingIntervalMs: number;
  private readonly limit: number;
  private readonly maxFinalWaitMs: () => number;
  private readonly stopTimers = new AbortController();
  private strategy: "draft" | "edit";
  private draftBase: number;
  private draftIndex = 0;

  private raw = "";
  /** Reasoning the model sent apart from its answer (pushThinking). */
  private reasoning = "";
  /** Start, in the answer, of the part not yet completed as a message. */
  private offset = 0;
  /** Opening fence carried over when a message was completed inside a code block. */
  private prefix = "";
  private current: Shown | undefined;
  /** The answer as far as it was on screen (for a stop, which keeps exactly that). */
  private shownAnswer = "";
  /** Bot API calls that put text on screen, so a frame knows whether it was shown. */
  private deliveries = 0;
  private readonly messageIds: number[] = [];
  private apiCalls = 0;
  private visible = false;
  private dirty = false;
  private stopped = false;
  /** True once finish() sends the final parts (they are not live messages). */
  private finishing = false;
  private nextFrameAt = 0;
  private blockedUntil = 0;
  private pump: Promise<void> | undefined;
  private typing: Promise<void> | undefined;

  constructor(private readonly options: LiveReplyOptions) {
    this.api = options.api;
    this.clock = options.clock ?? realClock;
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.typingIntervalMs = options.typingIntervalMs ?? 4500;
    this.limit = options.messageLimit ?? TELEGRAM_MESSAGE_LIMIT;
    const maxFinalWait = options.maxFinalWaitMs ?? MAX_FINAL_WAIT_MS;
    this.maxFinalWaitMs = typeof maxFinalWait === "number" ? () => maxFinalWait : maxFinalWait;
    this.strategy = options.chatType === "private" ? "draft" : "edit";
    const base = options.draftId ?? options.replyToMessageId ?? 1;
    // Room for 64 drafts per answer while staying a positive 32-bit integer.
    this.draftBase = (Math.abs(Math.trunc(base)) % 33_554_431) * 64 + 1;
  }

  /** Starts the typing indicator, repeated every `typingIntervalMs` until text is visible. */
  start(): void {
    if (this.typing || this.stopped) return;
    this.typing = this.typingLoop();
  }

  /** Adds model text (raw Markdown, possibly mid-word or mid-fence) and schedules a frame. */
  push(delta: string): void {
    if (this.stopped || !delta) return;
    this.raw += delta;
    this.schedule();
  }

  /**
   * Adds reasoning the model sent apart from its answer (Ollama's `message.thinking`): "Thinking…"
   * shows until answer text arrives, and `finish` puts it before the answer as an expandable
   * blockquote; it is never part of `shownText`.
   */
  pushThinking(delta: string): void {
    if (this.stopped || !delta) return;
    this.reasoning += delta;
    this.schedule();
  }

  private schedule(): void {
    this.dirty = true;
    this.pump ??= this.runFrames().finally(() => {
      this.pump = undefined;
    });
  }

  /**
   * Ends the stream: stops the timers, waits for a frame in flight, and sends the final answer
   * (formatted, split, with notes and speed; "(the answer was cut off)" when not complete).
   * Rejects with the Bot API's error when the final message cannot be delivered at all.
   */
  async finish(result: LiveReplyResult): Promise<LiveReplyOutcome> {
    this.stop();
    await this.pump;
    await this.typing;
    const answer = result.stopped ? this.shownAnswer : separateThinking(this.raw).answer;
    const stopNote = answer.trim() ? NOTE_STOPPED : NOTE_STOPPED_EARLY;
    const notes = [...(result.notes ?? []), ...(result.stopped ? [stopNote] : result.complete ? [] : [NOTE_CUT_OFF])];
    // The reasoning goes before the answer's first message, so only while that one is still open.
    const reasoning = this.offset === 0 && this.reasoning ? { reasoning: this.reasoning } : {};
    const rendered = renderAnswer(this.liveMarkdown(answer), { notes, speed: result.speed, limit: this.limit, ...reasoning });
    // A draft turning into its message, or an edit that would change nothing, is no extra
    // update in the chat: only a 429 is waited out, not the update interval.
    const unchanged = rendered.html.length === 1 && this.current?.html === rendered.html[0] && !result.keyboard;
    await this.waitForSlot(this.strategy === "edit" && !unchanged);
    this.finishing = true;
    for (const [index, html] of rendered.html.entries()) {
      const plain = rendered.plain.length === rendered.html.length ? rendered.plain[index] : undefined;
      await this.options.beforeFinalPart?.(index, rendered.html.length, answer);
      const markup = index === rendered.html.length - 1 ? result.keyboard : undefined;
      await this.sendFinal(html, plain ?? visibleText(html), index === 0, markup);
    }
    return { shownText: answer, messageIds: [...this.messageIds], apiCalls: this.apiCalls };
  }

  /** Delivers a whole answer known in advance (a rerun's recorded one) without streaming it. */
  async finishWith(text: string, result: LiveReplyResult): Promise<LiveReplyOutcome> {
    this.raw = text;
    return this.finish(result);
  }

  /**
   * Stops the timers without sending anything more (an error message will be sent instead).
   * Resolves once the typing loop and a frame in flight have ended, so nothing of this reply
   * lands after the error message; never rejects, so it may also be left unawaited.
   */
  async abort(): Promise<void> {
    this.stop();
    await Promise.allSettled([this.pump, this.typing]);
  }

  private stop(): void {
    this.stopped = true;
    this.stopTimers.abort();
  }

  private async typingLoop(): Promise<void> {
    while (!this.stopped && !this.visible) {
      try {
        await this.call("sendChatAction", {
          chat_id: this.options.chatId,
          action: "typing",
          ...(this.options.messageThreadId !== undefined ? { message_thread_id: this.options.messageThreadId } : {}),
        });
      } catch {
        // The indicator is a courtesy; a failed one is not worth a retry.
      }
      await this.clock.sleep(this.typingIntervalMs, this.stopTimers.signal);
    }
  }

  private async runFrames(): Promise<void> {
    while (this.dirty && !this.stopped) {
      const wait = Math.max(this.nextFrameAt, this.blockedUntil) - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait, this.stopTimers.signal);
      if (this.stopped) return;
      this.dirty = false;
      this.nextFrameAt = this.clock.now() + this.minIntervalMs;
      await this.frame();
    }
  }

  /** Shows the latest text: completes a message that grew past the limit, else updates the live one. */
  private async frame(): Promise<void> {
    const { answer, thinkingOpen } = separateThinking(this.raw, { streaming: true });
    const live = this.liveMarkdown(answer);
    let html = markdownToTelegramHtml(live);
    if (!html.trim()) {
      if ((!thinkingOpen && !this.reasoning) || this.current) return;
      html = THINKING_PLACEHOLDER;
    }
    if (visibleText(html).length > this.limit) {
      await this.completeMessage(answer);
      this.dirty = true; // the rest is shown by the next frame
      return;
    }
    if (this.current?.html === html) return;
    const deliveries = this.deliveries;
    await this.show(html, splitMarkdown(live, this.limit)[0] ?? live);
    if (this.deliveries > deliveries) this.shownAnswer = answer;
  }

  /** The Markdown not yet completed as a message, with a carried-over fence line. */
  private liveMarkdown(answer: string): string {
    return this.prefix + answer.slice(this.offset);
  }

  /** Sends (or finishes editing) a message with the first part of the live text that fits. */
  private async completeMessage(answer: string): Promise<void> {
    const rest = answer.slice(this.offset);
    let room = this.limit - this.prefix.length;
    let part = "";
    let markdown = "";
    let html = "";
    for (;;) {
      part = splitMarkdown(rest, Math.max(2, room))[0] ?? "";
      markdown = this.prefix + part;
      html = markdownToTelegramHtml(markdown);
      if (visibleText(html).length <= this.limit || room <= 2) break;
      room = Math.floor(room * 0.9);
    }
    const fence = openFence(markdown);
    // If Telegram refuses the HTML, the part goes as the text the HTML shows (within the
    // limit): the whole part reaches the chat, so moving the offset past it stays true.
    const visible = visibleText(html);
    try {
      await this.show(html, visible.trim() ? visible : markdown, true);
    } catch {
      return; // not completed: the next frame tries again
    }
    // Drop the separator at the cut; inside code only the line break (indentation is content).
    const run = /^\s*/.exec(rest.slice(part.length))?.[0] ?? "";
    const separator = fence && run.includes("\n") ? run.slice(0, run.indexOf("\n") + 1) : run;
    this.offset += part.length + separator.length;
    this.shownAnswer = answer.slice(0, this.offset);
    this.prefix = fence ? `${fence}\n` : "";
    this.current = undefined;
  }

  /**
   * Puts `html` on screen: a draft, a new message or an edit of the current one. With `final`
   * the message stays (sendMessage in draft mode) and its id is recorded. Frames that fail for
   * a passing reason (429, network) are skipped; `final` ones throw so the caller can retry.
   * `plain` is sent, whole, instead when Telegram cannot parse the HTML.
   */
  private async show(html: string, plain: string, final = false, markup?: InlineKeyboardMarkup): Promise<void> {
    try {
      await this.deliver(html, undefined, final, markup);
    } catch (error) {
      if (isEntityParseError(error)) {
        try {
          await this.deliver(html, plain, final, markup);
        } catch (retryError) {
          this.noteFailure(retryError, final);
        }
        return;
      }
      if (this.strategy === "draft" && !final && error instanceof ServiceError && error.status !== 429) {
        this.strategy = "edit"; // sendMessageDraft refused: older Bot API or not allowed here
        try {
          await this.deliver(html, undefined, false);
        } catch (editError) {
          this.noteFailure(editError, false);
        }
        return;
      }
      this.noteFailure(error, final);
    }
  }

  /** One Bot API call showing `html` (or `plain` instead when given), with `markup`'s buttons. */
  private async deliver(html: string, plain: string | undefined, final: boolean, markup?: InlineKeyboardMarkup): Promise<void> {
    const text = plain ?? html;
    const format = { ...(plain === undefined ? { parse_mode: "HTML" as const } : {}), ...(markup ? { reply_markup: markup } : {}) };
    const thread = this.options.messageThreadId !== undefined ? { message_thread_id: this.options.messageThreadId } : {};
    if (this.strategy === "draft" && !final) {
      await this.call("sendMessageDraft", {
        chat_id: this.options.chatId,
        draft_id: this.draftBase + (this.draftIndex % 64),
        text,
        ...format,
        ...thread,
      });
      this.current = { messageId: undefined, html };
      this.markVisible();
      this.deliveries += 1;
      return;
    }
    if (this.strategy === "edit" && this.current?.messageId !== undefined) {
      const messageId = this.current.messageId;
      // The same HTML again would only earn "message is not modified".
      if (plain !== undefined || this.current.html !== html || markup) {
        try {
          await this.call("editMessageText", { chat_id: this.options.chatId, message_id: messageId, text, ...format });
        } catch (error) {
          if (!isNotModified(error)) throw error;
        }
      }
      this.current = { messageId, html };
      this.deliveries += 1;
      if (final) this.messageIds.push(messageId);
      return;
    }
    const reply =
      this.messageIds.length === 0 && this.options.replyToMessageId !== undefined
        ? { reply_parameters: { message_id: this.options.replyToMessageId, allow_sending_without_reply: true } }
        : {};
    const message = await this.call("sendMessage", { chat_id: this.options.chatId, text, ...format, ...thread, ...reply });
    this.markVisible();
    this.deliveries += 1;
    if (!this.finishing) await this.options.onLiveMessage?.(message.message_id);
    if (this.strategy === "draft") {
      this.draftIndex += 1; // the draft is gone once a message is sent; the next preview starts afresh
      this.current = undefined;
      this.messageIds.push(message.message_id);
    } else {
      this.current = { messageId: message.message_id, html };
      if (final) this.messageIds.push(message.message_id);
    }
  }

  /** A failed frame: remember a 429 so nothing is sent before retry_after; rethrow for final sends. */
  private noteFailure(error: unknown, final: boolean): void {
    if (error instanceof ServiceError && error.status === 429) {
      this.blockedUntil = this.clock.now() + (error.retryAfterSeconds ?? 1) * 1000;
      this.dirty = true;
    }
    if (final) throw error;
  }

  /** Sends one final part, waiting out 429s (a few times), falling back to a new message if an edit is refused. */
  private async sendFinal(html: string, plain: string, first: boolean, markup?: InlineKeyboardMarkup): Promise<void> {
    if (!first && this.strategy === "edit") {
      if (this.current?.messageId !== undefined && !this.messageIds.includes(this.current.messageId)) {
        this.messageIds.push(this.current.messageId);
      }
      this.current = undefined;
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.show(html, plain, true, markup);
        return;
      } catch (error) {
        if (error instanceof ServiceError && error.status === 429 && attempt < FINAL_SEND_ATTEMPTS) {
          await this.waitForSlot();
          continue;
        }
        if (this.strategy === "edit" && this.current?.messageId !== undefined && error instanceof ServiceError && error.status !== 429) {
          this.current = undefined; // the message to edit is gone or refused: send the answer anew
          continue;
        }
        throw error;
      }
    }
  }

  /** Waits until a 429 has expired and, with `interval`, the update interval has passed (bounded). */
  private async waitForSlot(interval = true): Promise<void> {
    const wait = Math.min(this.maxFinalWaitMs(), Math.max(interval ? this.nextFrameAt : 0, this.blockedUntil) - this.clock.now());
    if (wait > 0) await this.clock.sleep(wait);
    this.nextFrameAt = this.clock.now() + this.minIntervalMs;
  }

  private markVisible(): void {
    this.visible = true;
  }

  private async call<M extends keyof BotMethods>(method: M, params: BotParams[M]): Promise<BotResult<M>> {
    this.apiCalls += 1;
    this.options.onApiCall?.(method);
    return this.api.call(method, params);
  }
}
