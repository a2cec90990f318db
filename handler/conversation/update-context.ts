import type { InlineKeyboardMarkup, Message } from "@grammyjs/types";
import type { ArchiveStore } from "../store/archives";
import type { TelegramApi } from "../telegram/bot-api";
import type { ModelRegistry } from "../model/registry";
import type { Transcriber } from "../model/transcription";
import type { Metrics } from "../observability/metrics";
import type { BotConfig } from "../config";
import type { Logger } from "../observability/log";
import type { SessionStore } from "../store/sessions";
import type { StopRequests } from "../store/stop-requests";
import type { UsageLimits } from "../store/usage-limits";
import type { ChatUsage, UsageSnapshot } from "../store/chat-usage";
import type { UpdateJournal } from "./journal";

/** How a reply is sent. */
export interface ReplyOptions {
  /** Inline buttons under the reply (its last part, when it is split). @default - none */
  readonly keyboard?: InlineKeyboardMarkup;
  /** For a press: send a new message instead of editing the one carrying the button (a retry's notice). @default false */
  readonly newMessage?: boolean;
}

/** The press of one of the bot's buttons an update carries. */
export interface PressContext {
  /** The message carrying the button (a picker, an answer). */
  readonly messageId: number;
  /**
   * Answers the press (answerCallbackQuery) with a short notice, or none; the first call
   * counts, and the pipeline answers a press that nothing answered. Never rejects.
   */
  answer(text?: string): Promise<void>;
}

/**
 * Everything a command needs while handling one update: the sender, the stores, the clients,
 * a logger carrying the update's ids, the update's journal, and `reply` (plain text, split at
 * Telegram's limit, with optional buttons).
 */
export interface UpdateContext {
  readonly config: BotConfig;
  readonly message: Message;
  /** The Telegram update_id: names this update's claims (see {@link leaseMs}). */
  readonly updateId: number;
  /**
   * How long this update's handling may still run, plus a margin, in ms: the lease of what it
   * claims (its idempotency mark, a session being archived), after which a claim it left
   * behind because it died can be taken over.
   */
  readonly leaseMs: number;
  /**
   * Longest the answer's final parts may wait for a 429's retry_after now, in ms: FINAL_WAIT_LIMIT_MS
   * in sync mode (the webhook's time); in queue mode up to QUEUE_FINAL_WAIT_LIMIT_MS within the
   * time the invocation has left, so a wait never outlasts the function.
   */
  readonly replyWaitMs: () => number;
  readonly userId: number;
  readonly chatId: number;
  readonly sessions: SessionStore;
  /** Counts chat messages and imports against the per-user limits (config.userLimits). */
  readonly usage: UsageLimits;
  /** Chat messages' usage: messages and tokens per hour and day (store/chat-usage.ts). */
  readonly chatUsage: ChatUsage;
  /** The day's usage, read with the profile when the update was claimed (chat messages). @default - read when needed */
  readonly usageRead?: Promise<UsageSnapshot>;
  /** Stop requests for streaming answers (the answering record, the stop flag on a mark). */
  readonly stops: StopRequests;
  /** Undefined when S3_BUCKET_NAME is not set. */
  readonly archives: ArchiveStore | undefined;
  readonly bot: TelegramApi;
  /** This update's metrics (EMF), flushed once when it is done. */
  readonly metrics: Metrics;
  /** The model list with the adapter of each model's provider. */
  readonly models: ModelRegistry;
  /** Speech-to-text for voice messages, audio files and video notes. @default - none: TRANSCRIPTION_URL is not set, voice is off */
  readonly transcription?: Transcriber;
  readonly log: Logger;
  /** Clock, epoch ms. */
  readonly now: () => number;
  /**
   * The update's journal: what earlier attempts of it did, and how this one records its
   * decisions and sends, so a rerun after a crash repeats no effect.
   */
  readonly journal: UpdateJournal;
  /**
   * Sends plain text to the chat, split on line boundaries at 4,096 characters; each part is a
   * numbered send of the journal (a rerun skips the parts an earlier attempt began).
   */
  reply(text: string, options?: ReplyOptions): Promise<void>;
  /**
   * Set when the update is a press of one of the bot's buttons: `message` is then the message
   * carrying the button (from = the user who pressed), and the first reply edits that message
   * in place (a picker becomes what was done) instead of sending a new one.
   * @default - the update is a message
   */
  readonly press?: PressContext;
  /**
   * Sends plain text outside the journal, best effort: for telling the user that something
   * failed, when the journal itself may be what failed.
   */
  notify(text: string): Promise<void>;
  /**
   * The profile's active session id, read while the update was being claimed (a read has no
   * effect, so it may start before the claim). Set for chat messages only.
   * @default - the chat path reads it itself
   */
  readonly activeSessionId?: Promise<string | undefined>;
}
