import { modelAvailable, storeUserMessage } from "./active-session";
import { selectContext, type ContextWindow } from "./context-window";
import { ConnectionError, ServiceError } from "../net/errors";
import { EMPTY_ANSWER, NOTE_CONTEXT_TRIMMED } from "../format/answer";
import { separateThinking } from "../format/thinking";
import type { StreamedAnswer } from "../model/ollama";
import type { ModelSpeed, SessionFacts, StoredMessage } from "../store/session-items";
import { LiveReply, type LiveReplyOutcome, type LiveReplyResult } from "./live-reply";
import type { UpdateContext } from "../conversation/update-context";
import type { ModelApi } from "../model/model-api";
import { streamAnswer } from "../model/stream-answer";
import { unavailableModelWarning } from "../format/views";

/** How often the typing indicator is repeated until the first text shows (Telegram shows it ~5 s). */
export const TYPING_INTERVAL_MS = 4_500;
/** Least time between two visible updates of a streamed answer in one chat, in ms. */
export const STREAM_UPDATE_INTERVAL_MS = 1_000;
/**
 * Longest wait before a final message of the answer (a 429's retry_after, the update
 * interval), so that in sync delivery mode the reply ends soon after OLLAMA_TIMEOUT_MS. In ms.
 */
export const FINAL_WAIT_LIMIT_MS = 3_000;

/**
 * The chat path: store the user's message in the active session (creating one if needed), send
 * the bounded recent context to Ollama with the session's model, show the answer as it streams
 * (LiveReply: drafts in private chats, throttled edits elsewhere; Markdown as Telegram HTML;
 * reasoning hidden), then store what the user saw as the assistant's message.
 *
 * - The user's message is stored before the model is asked, so no failure loses it.
 * - A failure before any text (refused, timed out, HTTP error, unreadable) gets the specific
 *   message of {@link modelErrorMessage}; a stream that breaks after some text keeps it, says
 *   "(the answer was cut off)" and stores the text shown.
 * - When older messages were left out of the context, the first reply of the session where
 *   that happens says so ({@link NOTE_CONTEXT_TRIMMED}); the session remembers it
 *   (`context_note_shown`), so later replies do not repeat it.
 * - Ollama's eval figures of a complete answer are stored on the session (shown by /status) and,
 *   with SHOW_MODEL_SPEED, under the answer. Both ride on the assistant message's write: the
 *   DynamoDB requests per message do not change.
 *
 * Round trips overlap where nothing depends on them: the recent context is read while the
 * user's message is stored ({@link storeUserMessage}); the typing indicator is not awaited; the
 * final message of the answer is sent while the answer is stored, and the update mark is
 * completed ({@link UpdateContext.completeUpdate}) once the answer was delivered, while the
 * store may still be running. The model is asked only after the user's message is stored.
 */
export async function handleChat(ctx: UpdateContext, text: string): Promise<void> {
  const activeSessionId = await (ctx.activeSessionId ?? ctx.sessions.getActiveSessionId(ctx.userId));
  const { session, recent } = await storeUserMessage(ctx, activeSessionId, text, ctx.config.contextMaxMessages);
  if (!modelAvailable(ctx, session)) {
    await ctx.reply(unavailableModelWarning(session.modelName));
    return;
  }
  const ollama = ctx.ollama;
  if (!ollama) {
    await ctx.reply("The AI server is not configured (OLLAMA_URL), so I cannot answer. Your message was saved.");
    return;
  }
  // recent is capped at contextMaxMessages: the session's count says whether older ones exist beyond it.
  const window = selectContext(recent, ctx.config.contextCharBudget, session.messageCount);
  const sayTrimmed = window.omitted && !session.contextNoteShown;

  const live = liveReplyFor(ctx);
  const asked = await askModel(ctx, ollama, live, session.modelName, window, true);
  if (!asked) return;
  const { answer, speed, started } = asked;

  const results: LiveReplyResult = {
    complete: answer.completed,
    notes: sayTrimmed ? [NOTE_CONTEXT_TRIMMED] : [],
    speed: ctx.config.showModelSpeed ? speed : undefined,
  };
  const delivery = settle(live.finish(results));
  // The mark is completed once the answer is delivered (or its delivery failed for good).
  const completion = delivery.then(() => ctx.completeUpdate?.());
  let stored: Settled<StoredMessage>;
  let delivered: Settled<LiveReplyOutcome>;
  if (sayTrimmed) {
    // Whether the note was shown is known only after delivery: store after it (once per session).
    delivered = await delivery;
    const facts: SessionFacts = { ...(delivered.ok ? { contextNoteShown: true as const } : {}), ...(speed ? { speed } : {}) };
    const shown = delivered.ok ? delivered.value.shownText : separateThinking(answer.content).answer;
    stored = await settle(ctx.sessions.appendMessage(ctx.userId, session.sessionId, "assistant", storedAnswer(shown), facts));
  } else {
    // The text LiveReply shows is exactly the streamed answer without its reasoning, so it can
    // be stored while the final message is being sent.
    const shown = separateThinking(answer.content).answer;
    const facts: SessionFacts = speed ? { speed } : {};
    [delivered, stored] = await Promise.all([
      delivery,
      settle(ctx.sessions.appendMessage(ctx.userId, session.sessionId, "assistant", storedAnswer(shown), facts)),
    ]);
  }
  await completion;
  if (delivered.ok) logDelivered(ctx, delivered.value, started);
  if (!stored.ok) throw stored.error;
  if (!delivered.ok) throw delivered.error; // the answer is stored; the router logs the Telegram failure
}

/** A model's answer as {@link askModel} streamed it. */
interface AskedAnswer {
  readonly answer: StreamedAnswer;
  readonly speed: ModelSpeed | undefined;
  /** When the model was asked, epoch ms. */
  readonly started: number;
}

/**
 * Asks the model with `window` and streams its answer into `live` (typing first). When the
 * model fails before any text, the user gets the specific message of {@link modelErrorMessage}
 * (saying the message was saved when `saved`) and the result is undefined.
 */
async function askModel(
  ctx: UpdateContext,
  ollama: ModelApi,
  live: LiveReply,
  model: string,
  window: ContextWindow,
  saved: boolean,
): Promise<AskedAnswer | undefined> {
  live.start();
  const started = Date.now();
  let answer: StreamedAnswer;
  try {
    answer = await streamAnswer(ollama, model, window.messages, (delta) => live.push(delta), ctx.config.ollamaTimeoutMs);
  } catch (err) {
    // Wait for a typing indicator in flight: it would otherwise show "typing…" under the error.
    await live.abort();
    ctx.log.warn("model call failed", {
      action: "ollama_chat",
      outcome: "failure",
      model,
      error_kind: err instanceof Error ? err.name : "unknown",
      status: err instanceof ServiceError ? err.status : undefined,
      timed_out: err instanceof ConnectionError ? err.timedOut : undefined,
      elapsed_ms: Date.now() - started,
    });
    if (!(err instanceof ServiceError) && !(err instanceof ConnectionError)) throw err;
    await ctx.reply(modelErrorMessage(err, model, ctx.config.ollamaTimeoutMs, saved));
    return undefined;
  }
  const speed = speedOf(answer);
  ctx.log.info(answer.completed ? "model answered" : "model answer cut off", {
    action: "ollama_chat",
    outcome: answer.completed ? "success" : "warning",
    model,
    context_messages: window.messages.length,
    context_omitted: window.omitted,
    answer_chars: answer.content.length,
    eval_count: speed?.evalCount,
    eval_duration_ms: speed ? Math.round(speed.evalDurationNs / 1e6) : undefined,
    elapsed_ms: Date.now() - started,
  });
  return { answer, speed, started };
}

/**
 * A chat message in a group (one that mentions the bot or replies to it), answered apart from
 * the sender's sessions: a group is not a private conversation, so the model sees only this
 * message and, when it replies to one of the bot's messages, that message; nothing is stored,
 * and no private session's history can surface in the group. The first configured model answers.
 */
export async function handleGroupChat(ctx: UpdateContext, text: string): Promise<void> {
  const ollama = ctx.ollama;
  if (!ollama) {
    await ctx.reply("The AI server is not configured (OLLAMA_URL), so I cannot answer.");
    return;
  }
  const earlier = ctx.message.reply_to_message?.text;
  const thread: StoredMessage[] = [
    ...(earlier ? [{ seq: 1, role: "assistant" as const, content: earlier, ts: 0 }] : []),
    { seq: 2, role: "user", content: text, ts: 0 },
  ];
  const live = liveReplyFor(ctx);
  const asked = await askModel(ctx, ollama, live, ctx.config.ollamaModels[0]!, selectContext(thread, ctx.config.contextCharBudget), false);
  if (!asked) return;
  const delivered = await live.finish({ complete: asked.answer.completed, speed: ctx.config.showModelSpeed ? asked.speed : undefined });
  logDelivered(ctx, delivered, asked.started);
}

/** The log line of an answer that reached the chat. */
function logDelivered(ctx: UpdateContext, outcome: LiveReplyOutcome, started: number): void {
  ctx.log.info("answer delivered", {
    action: "deliver_answer",
    outcome: "success",
    messages: outcome.messageIds.length,
    bot_calls: outcome.apiCalls,
    duration_ms: Date.now() - started,
  });
}

/** A promise's outcome, so concurrent steps can all finish before one's error is thrown. */
type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The LiveReply for the update's chat: replies to the user's message in groups, stays in its forum topic. */
function liveReplyFor(ctx: UpdateContext): LiveReply {
  const { message } = ctx;
  const inGroup = message.chat.type !== "private";
  return new LiveReply({
    // LiveReply backs off on 429 itself (skipping stale frames); the client's retry would wait to resend them.
    api: ctx.bot.withoutRetry ?? ctx.bot,
    chatId: ctx.chatId,
    chatType: message.chat.type,
    draftId: message.message_id,
    ...(inGroup ? { replyToMessageId: message.message_id } : {}),
    ...(message.is_topic_message && message.message_thread_id !== undefined ? { messageThreadId: message.message_thread_id } : {}),
    minIntervalMs: STREAM_UPDATE_INTERVAL_MS,
    typingIntervalMs: TYPING_INTERVAL_MS,
    maxFinalWaitMs: FINAL_WAIT_LIMIT_MS,
  });
}

/** Ollama's figures of a complete answer, when it gave usable ones. Pure. */
export function speedOf(answer: StreamedAnswer): ModelSpeed | undefined {
  const { evalCount, evalDurationNs } = answer;
  if (!answer.completed || evalCount === undefined || evalDurationNs === undefined) return undefined;
  return evalCount > 0 && evalDurationNs > 0 ? { evalCount, evalDurationNs } : undefined;
}

/** The assistant message to store for the text shown: the empty-answer words when nothing was. Pure. */
export function storedAnswer(shown: string): string {
  return shown.trim().length > 0 ? shown : EMPTY_ANSWER;
}

/** A short, specific message for each way the model call can fail; `saved` says the user's message was stored. Pure. */
export function modelErrorMessage(err: ServiceError | ConnectionError, modelName: string, timeoutMs: number, saved = true): string {
  const savedNote = saved ? " Your message was saved." : "";
  if (err instanceof ConnectionError) {
    if (err.timedOut) {
      return `The model took too long to answer (more than ${Math.round(timeoutMs / 1000)} s).${savedNote} Try again, or ask something shorter.`;
    }
    return `I cannot reach the AI server right now (it may be stopped or starting).${savedNote} Please try again in a minute.`;
  }
  if (err.status === 404) {
    return `The model ${modelName} is not installed on the AI server.${savedNote} Pick another with /newsession, or ask the admin to pull it.`;
  }
  if (err.status === 401 || err.status === 403) {
    return `The AI server refused the bot's API key.${savedNote} Please tell the admin (OLLAMA_API_KEY).`;
  }
  if (err.status === 0) {
    return `The AI server sent an answer I could not read.${savedNote} Please try again.`;
  }
  return `The AI server had an error (HTTP ${err.status}).${savedNote} Please try again in a moment.`;
}
