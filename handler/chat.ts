import { ensureActiveSession, modelAvailable } from "./active-session";
import { selectContext } from "./context-window";
import { ConnectionError, ServiceError } from "./errors";
import type { ChatAnswer } from "./ollama";
import type { Session } from "./sessions";
import type { UpdateContext } from "./update-context";
import { unavailableModelWarning } from "./views";

/** How often the typing indicator is repeated while the model works (Telegram shows it ~5 s). */
export const TYPING_INTERVAL_MS = 4_500;

/**
 * The chat path: store the user's message in the active session (creating one if needed),
 * send the bounded recent context to Ollama with the session's model, store the answer and
 * deliver it. The user's message is stored before the model is asked, so no failure loses it.
 */
export async function handleChat(ctx: UpdateContext, text: string): Promise<void> {
  const { session } = await ensureActiveSession(ctx);
  await ctx.sessions.appendMessage(ctx.userId, session.sessionId, "user", text);
  if (!modelAvailable(ctx, session)) {
    await ctx.reply(unavailableModelWarning(session.modelName));
    return;
  }
  const ollama = ctx.ollama;
  if (!ollama) {
    await ctx.reply("The AI server is not configured (OLLAMA_URL), so I cannot answer. Your message was saved.");
    return;
  }
  const recent = await ctx.sessions.recentMessages(ctx.userId, session.sessionId, ctx.config.contextMaxMessages);
  const window = selectContext(recent, ctx.config.contextCharBudget);

  const typing = startTyping(ctx);
  const started = Date.now();
  let answer: ChatAnswer;
  try {
    answer = await ollama.chat(session.modelName, window.messages);
  } catch (err) {
    await typing.stop();
    ctx.log.warn("model call failed", {
      action: "ollama_chat",
      outcome: "failure",
      model: session.modelName,
      error_kind: err instanceof Error ? err.name : "unknown",
      status: err instanceof ServiceError ? err.status : undefined,
      timed_out: err instanceof ConnectionError ? err.timedOut : undefined,
      elapsed_ms: Date.now() - started,
    });
    if (!(err instanceof ServiceError) && !(err instanceof ConnectionError)) throw err;
    await ctx.reply(modelErrorMessage(err, session, ctx.config.ollamaTimeoutMs));
    return;
  }
  await typing.stop();
  ctx.log.info("model answered", {
    action: "ollama_chat",
    outcome: "success",
    model: session.modelName,
    context_messages: window.messages.length,
    context_omitted: window.omitted,
    answer_chars: answer.content.length,
    elapsed_ms: Date.now() - started,
  });
  const content = answer.content.trim().length > 0 ? answer.content : "(the model returned an empty answer)";
  await ctx.sessions.appendMessage(ctx.userId, session.sessionId, "assistant", content);
  await deliverAnswer(ctx, session, content);
}

/**
 * Sends the model's answer to the user: plain text, split on line boundaries. The seam the
 * streaming integration replaces.
 */
export async function deliverAnswer(ctx: UpdateContext, _session: Session, content: string): Promise<void> {
  await ctx.reply(content);
}

/** A short, specific message for each way the model call can fail. Pure. */
export function modelErrorMessage(err: ServiceError | ConnectionError, session: Session, timeoutMs: number): string {
  const saved = "Your message was saved.";
  if (err instanceof ConnectionError) {
    if (err.timedOut) {
      return `The model took too long to answer (more than ${Math.round(timeoutMs / 1000)} s). ${saved} Try again, or ask something shorter.`;
    }
    return `I cannot reach the AI server right now (it may be stopped or starting). ${saved} Please try again in a minute.`;
  }
  if (err.status === 404) {
    return `The model ${session.modelName} is not installed on the AI server. ${saved} Pick another with /newsession, or ask the admin to pull it.`;
  }
  if (err.status === 401 || err.status === 403) {
    return `The AI server refused the bot's API key. ${saved} Please tell the admin (OLLAMA_API_KEY).`;
  }
  if (err.status === 0) {
    return `The AI server sent an answer I could not read. ${saved} Please try again.`;
  }
  return `The AI server had an error (HTTP ${err.status}). ${saved} Please try again in a moment.`;
}

/**
 * Shows "typing…" now and every {@link TYPING_INTERVAL_MS} until stopped; failures are only
 * logged. `stop()` resolves once the call in flight settled, so nothing outlives the update.
 */
export function startTyping(ctx: UpdateContext): { stop(): Promise<void> } {
  let inFlight: Promise<void> = Promise.resolve();
  const send = () => {
    inFlight = ctx.bot
      .call("sendChatAction", { chat_id: ctx.chatId, action: "typing" })
      .then(() => undefined)
      .catch((err: unknown) => {
        ctx.log.debug("typing indicator failed", { action: "send_typing", error_kind: err instanceof Error ? err.name : "unknown" });
      });
  };
  send();
  const timer = setInterval(send, TYPING_INTERVAL_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return inFlight;
    },
  };
}
