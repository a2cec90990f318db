import { answerReachedChat } from "../conversation/journal";
import type { UpdateContext } from "../conversation/update-context";
import { withinChatAllowance } from "../conversation/usage-gate";
import { renderAnswer } from "../format/answer";
import { unavailableModelWarning } from "../format/views";
import type { SessionFacts, StoredMessage } from "../store/session-items";
import { askModel, journaledReply, logDelivered, readyRoute, storedAnswer, takeBackLiveMessages } from "./answer";
import { selectContext } from "./context-window";
import { pictureForRetry, withImage } from "./photo";
import { retryKeyboard, type RetryTarget } from "./retry-button";
import { effectiveSystemPrompt } from "./system-prompt";

/** Said when the session has no question to answer again. */
export const NOTHING_TO_RETRY_TEXT = "Nothing to retry: this session has no answer yet.";
/** Said when an older answer's Retry is pressed. */
export const NOT_LAST_ANSWER_TEXT = "Only the last answer of a session can be retried.";
/** Said when the answer's session was archived (or is gone). */
export const RETRY_SESSION_GONE_TEXT = "That conversation is no longer active (it was archived), so its answer cannot be retried.";
/** Added to the answer a retry replaced. */
export const NOTE_REPLACED = "(replaced by a new answer below)";

/** What to retry: a session's last answer, from a button (with its question and message) or /retry. */
export interface RetryRequest {
  readonly sessionId: string;
  /** The question the pressed button's answer answered. @default - the session's last question */
  readonly questionSeq?: number;
  /** The message of the answer to mark as replaced. @default - the session's last answer message */
  readonly answerMessageId?: number;
  /** Another of the configured models. @default - the session's */
  readonly model?: string;
  /** How a refusal is said (a press's toast). @default ctx.reply */
  readonly say?: (text: string) => Promise<void>;
  /** Told once the retry goes ahead, before the model is asked (a press's spinner stops). @default - none */
  readonly proceeding?: () => Promise<void>;
}

/** The question to answer again and the answer it replaces, from a session's newest messages. Pure. */
export function retryPlan(recent: readonly StoredMessage[]): { context: StoredMessage[]; question: StoredMessage; replaced?: StoredMessage } | undefined {
  let at = recent.length - 1;
  while (at >= 0 && recent[at]!.role !== "user") at -= 1;
  if (at < 0) return undefined;
  const replaced = recent.slice(at + 1).find((m) => m.role === "assistant");
  return { context: recent.slice(0, at + 1), question: recent[at]!, ...(replaced ? { replaced } : {}) };
}

/**
 * Regenerates the last answer of a session (/retry, the Retry button): the context up to its
 * question is sent again (optionally to another model), the new answer streams like any other
 * (Stop works) and replaces the old one in the stored history (one assistant turn), and the old
 * message is edited to say it was replaced. An answer that was stopped or never came leaves a
 * question without answer: a retry answers it. As on the chat path, a rerun of the update
 * never shows a second answer, and a stopped retry with nothing shown keeps the old answer.
 */
export async function retryAnswer(ctx: UpdateContext, request: RetryRequest): Promise<void> {
  const say = request.say ?? ((text: string) => ctx.reply(text));
  const session = await ctx.sessions.getSession(ctx.userId, request.sessionId);
  if (!session) return say(RETRY_SESSION_GONE_TEXT);
  const plan = retryPlan(await ctx.sessions.recentMessages(ctx.userId, session.sessionId, ctx.config.contextMaxMessages + 1));
  if (!plan) return say(NOTHING_TO_RETRY_TEXT);
  if (request.questionSeq !== undefined && request.questionSeq !== plan.question.seq) {
    if (request.answerMessageId !== undefined) await removeButtons(ctx, request.answerMessageId); // a stale button goes
    return say(NOT_LAST_ANSWER_TEXT);
  }
  const model = request.model ?? session.modelName;
  if (!ctx.config.modelNames.includes(model)) return ctx.reply(unavailableModelWarning(model), { newMessage: true });
  await request.proceeding?.();
  // Replies of a press go as new messages: the pressed message is the old answer, edited only at the end.
  const rctx: UpdateContext = { ...ctx, reply: (text, options) => ctx.reply(text, { ...options, newMessage: true }) };
  await withinChatAllowance(rctx, async (allowance) => {
    const route = await readyRoute(rctx, model);
    if (!route) return;

    const target: RetryTarget = { sessionId: session.sessionId, questionSeq: plan.question.seq };
    const store = (shown: string, facts: SessionFacts) =>
      plan.replaced
        ? ctx.sessions.replaceAnswer(ctx.userId, session.sessionId, plan.replaced.seq, storedAnswer(shown), facts)
        : ctx.sessions.appendMessage(ctx.userId, session.sessionId, "assistant", storedAnswer(shown), facts, `${ctx.updateId}:assistant`);
    const recorded = ctx.journal.recorded.answer;
    if (recorded && answerReachedChat(recorded)) return void (await store(recorded.text, {}));
    if (ctx.journal.rerun) await takeBackLiveMessages(rctx);
    const reply = journaledReply(rctx);
    const keyboard = retryKeyboard(ctx.userId, target);
    let delivered;
    let facts: SessionFacts = {};
    if (recorded) {
      delivered = await reply.finish({ complete: true, keyboard }, recorded.text);
    } else {
      // A photo question goes with its picture again, fetched by the file_id its message kept.
      const fileId = plan.question.photoFileId;
      const image = fileId === undefined ? undefined : await pictureForRetry(rctx, route, fileId);
      if (fileId !== undefined && image === undefined) return; // the user was told why
      const system = effectiveSystemPrompt(session, ctx.config).text;
      const window = withImage(selectContext(plan.context, ctx.config.contextCharBudget, plan.question.seq, system), image);
      const asked = await askModel(rctx, route, reply.live, window, false, allowance);
      if (!asked) return;
      const speed = ctx.config.showModelSpeed ? asked.speed : undefined;
      delivered = await reply.finish({ complete: asked.answer.completed, stopped: asked.stopped, speed, keyboard });
      logDelivered(ctx, delivered, asked.started);
      if (asked.stopped && !delivered.shownText.trim()) return; // nothing new: the old answer stays
      facts = asked.speed ? { speed: asked.speed } : {};
    }
    const answerMessageId = delivered.messageIds.at(-1);
    await store(delivered.shownText, { ...facts, ...(answerMessageId !== undefined ? { answerMessageId } : {}) });
    const old = request.answerMessageId ?? session.lastAnswerMessageId;
    if (plan.replaced && old !== undefined && !delivered.messageIds.includes(old)) await markReplaced(ctx, old, plan.replaced.content);
  });
}

/**
 * Edits the replaced answer's message (the last of its parts) to say so, which also removes its
 * Retry button; when that edit is refused, only the button is removed. Best effort.
 */
async function markReplaced(ctx: UpdateContext, messageId: number, content: string): Promise<void> {
  const html = renderAnswer(content, { notes: [NOTE_REPLACED] }).html.at(-1)!;
  try {
    await ctx.bot.call("editMessageText", { chat_id: ctx.chatId, message_id: messageId, text: html, parse_mode: "HTML" });
  } catch {
    await removeButtons(ctx, messageId);
  }
}

/** Removes the buttons of one of the bot's messages. Best effort. */
async function removeButtons(ctx: UpdateContext, messageId: number): Promise<void> {
  await ctx.bot.call("editMessageReplyMarkup", { chat_id: ctx.chatId, message_id: messageId, reply_markup: { inline_keyboard: [] } }).catch((err: unknown) => {
    ctx.log.warn("could not remove an answer's buttons", { action: "retry_answer", outcome: "warning", error_kind: err instanceof Error ? err.name : "unknown" });
  });
}
