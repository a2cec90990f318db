import type { InlineKeyboardMarkup } from "@grammyjs/types";
import type { BotApi } from "../telegram/bot-api";
import type { SpeedFigures } from "../format/answer";
import type { Clock } from "./clock";

/** The options, inputs and outcome of a LiveReply (live-reply.ts). */

/** Options of {@link LiveReply}. */
export interface LiveReplyOptions {
  /** Where Bot API calls go; failures are ServiceError / ConnectionError (handler/net/errors.ts). */
  readonly api: BotApi;
  /** The chat the answer goes to. */
  readonly chatId: number;
  /** Private chats stream with sendMessageDraft; the others with sendMessage + editMessageText. */
  readonly chatType: "private" | "group" | "supergroup" | "channel";
  /** The user's message; the first permanent message of the answer replies to it. @default - no reply */
  readonly replyToMessageId?: number;
  /** Forum topic of the conversation. @default - none */
  readonly messageThreadId?: number;
  /** Least time between two visible updates of the answer, in ms. @default 1000 */
  readonly minIntervalMs?: number;
  /** How often "typing" is sent until the first text is visible, in ms. @default 4500 */
  readonly typingIntervalMs?: number;
  /** Time source. @default realClock */
  readonly clock?: Clock;
  /**
   * Draft id of the first preview (later previews, after a message was completed, use the next
   * ids). @default - derived from `replyToMessageId`, so each answer animates its own draft
   */
  readonly draftId?: number;
  /** Called with the method name before every Bot API call (the benchmark counts them). @default - none */
  readonly onApiCall?: (method: string) => void;
  /** Visible length at which a message is completed and the answer goes on in a new one. @default 4096 */
  readonly messageLimit?: number;
  /**
   * Longest wait, in ms, before each final message for a 429's retry_after or the update
   * interval to pass; keeps `finish` inside a synchronous webhook's time. A function is asked
   * at each wait (the time an invocation has left shrinks). @default 30000
   */
  readonly maxFinalWaitMs?: number | (() => number);
  /**
   * Told each message of the answer that stays in the chat while it still streams (the edited
   * message, a completed part of a long answer), once sent; awaited. The update's journal
   * records them, so a rerun after a crash can take them back. @default - none
   */
  readonly onLiveMessage?: (messageId: number) => Promise<void>;
  /**
   * Awaited before each final part is sent: part `index` (0-based) of `total`, of the answer
   * `shownText`. The update's journal records it, so a rerun never sends it again. @default - none
   */
  readonly beforeFinalPart?: (index: number, total: number, shownText: string) => Promise<void>;
}

/** How the stream ended, for {@link LiveReply.finish}. */
export interface LiveReplyResult {
  /** False when the model's stream broke: what arrived is kept and NOTE_CUT_OFF is added. */
  readonly complete: boolean;
  /**
   * The user stopped the answer: exactly what was on screen when it stopped is kept (text that
   * arrived after the last frame is dropped) and NOTE_STOPPED is added. @default false
   */
  readonly stopped?: boolean;
  /** Buttons under the answer's last message (Retry). @default - none */
  readonly keyboard?: InlineKeyboardMarkup;
  /** Notes shown after the answer (e.g. NOTE_CONTEXT_TRIMMED). @default - none */
  readonly notes?: readonly string[];
  /** Ollama's eval_count / eval_duration for the speed footer. @default - no footer */
  readonly speed?: SpeedFigures;
}

/** What {@link LiveReply.finish} did. */
export interface LiveReplyOutcome {
  /** The answer the user saw, as the model's Markdown without reasoning, notes or footer. */
  readonly shownText: string;
  /** Ids of the messages that stay in the chat, in order. */
  readonly messageIds: number[];
  /** Bot API calls made for this answer (typing, drafts, sends, edits, failed ones too). */
  readonly apiCalls: number;
}
