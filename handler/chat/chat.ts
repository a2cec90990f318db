import type { PhotoSize } from "@grammyjs/types";
import { answerReachedChat } from "../conversation/journal";
import type { ChatAllowance } from "../conversation/usage-gate";
import type { UpdateContext } from "../conversation/update-context";
import { NOTE_CONTEXT_TRIMMED } from "../format/answer";
import type { MarkJournal } from "../store/update-marks";
import type { SessionFacts } from "../store/session-items";
import { storeUserMessage } from "./active-session";
import { askModel, journaledReply, logDelivered, readyRoute, storedAnswer, takeBackLiveMessages } from "./answer";
import { selectContext } from "./context-window";
import type { LiveReplyResult } from "./live-reply";
import { photoForSession, photoMarker, withImage } from "./photo";
import { retryKeyboard } from "./retry-button";
import { effectiveSystemPrompt } from "./system-prompt";

/** Said when an earlier attempt's answer was cut between its parts by a crash. */
export const NOTE_REST_LOST =
  "(The rest of my last answer was lost in an interruption. Send your message again for a new answer.)";

/**
 * The chat path: store the user's message in the active session (creating one if needed), send
 * the bounded recent context to Ollama with the session's model, show the answer as it streams
 * (LiveReply: drafts in private chats, throttled edits elsewhere; Markdown as Telegram HTML;
 * reasoning hidden), then store what the user saw as the assistant's message.
 *
 * - The user's message is stored before the model is asked, so no failure loses it.
 * - A failure before any text (refused, timed out, HTTP error, unreadable) gets the specific
 *   message of modelErrorMessage; a stream that breaks after some text keeps it, says
 *   "(the answer was cut off)" and stores the text shown.
 * - When older messages were left out of the context, the first reply of the session where
 *   that happens says so ({@link NOTE_CONTEXT_TRIMMED}); the session remembers it
 *   (`context_note_shown`), so later replies do not repeat it.
 * - Ollama's eval figures of a complete answer are stored on the session (shown by /status) and,
 *   with SHOW_MODEL_SPEED, under the answer. Both ride on the assistant message's write.
 * - Every effect happens once, however often the update is handled: both messages are stored
 *   under keys derived from the update (a rerun rewrites the same items), the answer's final
 *   delivery is recorded in the update's journal before it is sent; an answer that was generated
 *   but not certainly delivered (its first part was in flight when the function died) is
 *   delivered by the rerun without asking the model again (a rare duplicate beats a lost
 *   answer: answerReachedChat), and messages an
 *   interrupted attempt left while streaming are taken back before the new answer.
 * - The answer is stored only once it was delivered: an answer that could not be delivered is
 *   neither stored nor marked done, so the update is handled again.
 *
 * A photo (`photo`, with `text` its caption) goes to a model that can see as the message's
 * image, and is stored as "[photo] caption" (see photo.ts); nothing is stored when it cannot go.
 *
 * The recent context is read while the user's message is stored ({@link storeUserMessage}); the
 * typing indicator is not awaited; the model is asked only after the user's message is stored.
 */
export async function handleChat(ctx: UpdateContext, text: string, photo?: readonly PhotoSize[], allowance?: ChatAllowance): Promise<void> {
  const activeSessionId = await (ctx.activeSessionId ?? ctx.sessions.getActiveSessionId(ctx.userId));
  const recorded = ctx.journal.recorded.answer;
  if (recorded && recorded.partsBegun > 0 && (answerReachedChat(recorded) || (await answerStoredBefore(ctx, activeSessionId)))) {
    await finishRecorded(ctx, activeSessionId, recorded);
    return;
  }
  const picture = photo ? await photoForSession(ctx, activeSessionId, photo) : undefined;
  if (photo && !picture) return; // the user was told why; nothing stored
  const stored = photo ? photoMarker(text) : text;
  const { session, recent, message } = await storeUserMessage(ctx, activeSessionId, stored, ctx.config.contextMaxMessages, picture?.fileId);
  const keyboard = retryKeyboard(ctx.userId, { sessionId: session.sessionId, questionSeq: message.seq });
  const route = await readyRoute(ctx, session.modelName, " Your message was saved.");
  if (!route) return;
  if (ctx.journal.rerun) await takeBackLiveMessages(ctx);
  const reply = journaledReply(ctx);
  if (recorded) {
    // An earlier attempt generated this answer but could not deliver it: deliver it now.
    const delivered = await reply.finish({ complete: true, keyboard }, recorded.text);
    await storeAnswer(ctx, session.sessionId, delivered.shownText, answerMessageOf(delivered.messageIds));
    return;
  }
  // recent is capped at contextMaxMessages: the session's count says whether older ones exist beyond it.
  const system = effectiveSystemPrompt(session, ctx.config).text;
  const window = withImage(selectContext(recent, ctx.config.contextCharBudget, session.messageCount, system), picture?.base64);
  const sayTrimmed = window.omitted && !session.contextNoteShown;
  const asked = await askModel(ctx, route, reply.live, window, true, allowance);
  if (!asked) return;
  const { answer, speed, started } = asked;
  const result: LiveReplyResult = {
    complete: answer.completed,
    stopped: asked.stopped,
    notes: sayTrimmed ? [NOTE_CONTEXT_TRIMMED] : [],
    speed: ctx.config.showModelSpeed ? speed : undefined,
    keyboard,
  };
  const delivered = await reply.finish(result);
  logDelivered(ctx, delivered, started);
  // Stopped before any text: there is no answer to keep (the user's message stays, for /retry).
  if (asked.stopped && !delivered.shownText.trim()) return;
  const facts: SessionFacts = { ...(sayTrimmed ? { contextNoteShown: true as const } : {}), ...(speed ? { speed } : {}), ...answerMessageOf(delivered.messageIds) };
  await storeAnswer(ctx, session.sessionId, delivered.shownText, facts);
}

/**
 * True when an earlier attempt stored this update's answer, which it does only once it was
 * delivered: its first part then certainly reached the chat. One read, on a rerun only.
 */
async function answerStoredBefore(ctx: UpdateContext, sessionId: string | undefined): Promise<boolean> {
  if (!sessionId) return false;
  return (await ctx.sessions.getSession(ctx.userId, sessionId))?.lastAppendKey === assistantKey(ctx);
}

const assistantKey = (ctx: UpdateContext) => `${ctx.updateId}:assistant`;

/** The fact naming the message that ends an answer (it carries the Retry button). */
const answerMessageOf = (ids: readonly number[]): SessionFacts => (ids.length > 0 ? { answerMessageId: ids.at(-1)! } : {});

/** Stores the answer as shown, under the update's key (a rerun rewrites the same message). */
async function storeAnswer(ctx: UpdateContext, sessionId: string, shown: string, facts: SessionFacts): Promise<void> {
  await ctx.sessions.appendMessage(ctx.userId, sessionId, "assistant", storedAnswer(shown), facts, assistantKey(ctx));
}

/**
 * A rerun whose earlier attempt's answer reached the chat in part for certain (a later part had
 * begun, see answerReachedChat): the delivered parts are not sent again; the answer is stored,
 * and when the crash fell between its parts the user is told that the rest was lost.
 */
async function finishRecorded(ctx: UpdateContext, activeSessionId: string | undefined, answer: NonNullable<MarkJournal["answer"]>): Promise<void> {
  ctx.log.info("answer already delivered by an earlier attempt", { action: "deliver_answer", outcome: "ignored", parts: answer.parts });
  if (activeSessionId) await storeAnswer(ctx, activeSessionId, answer.text, {});
  if (answer.partsBegun < answer.parts) await ctx.reply(NOTE_REST_LOST);
}
