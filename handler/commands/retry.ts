import { retryAnswer } from "../chat/retry";
import { retryTargetOf } from "../chat/retry-button";
import { BUTTON_ACTIONS, STALE_BUTTON_TEXT } from "../conversation/buttons";
import type { UpdateContext } from "../conversation/update-context";
import type { Command } from "./command";

/** /retry's usage, for arguments it cannot read. */
export const RETRY_USAGE_TEXT = "Usage: /retry, or /retry <n> to answer again with model n of /newsession's list (or its name).";

/** The model `/retry <n | name>` names among the configured ones; undefined when it names none. Pure. */
export function retryModelOf(args: string, models: readonly string[]): string | undefined {
  if (/^\d{1,3}$/.test(args)) return models[Number(args) - 1];
  return models.find((m) => m.toLowerCase() === args.toLowerCase());
}

/**
 * /retry [n] and the 🔄 Retry button under an answer: answer the active session's (or the
 * button's session's) last question again, with the session's model or model n, replacing the
 * old answer (chat/retry.ts). Private: a session's history never shows in a group.
 */
export const retryCommand: Command = {
  name: "retry",
  usage: "/retry [n]",
  description: "answer your last message again (optionally with model n)",
  privateOnly: true,
  async run(ctx: UpdateContext, args: string) {
    const model = args ? retryModelOf(args, ctx.config.modelNames) : undefined;
    if (args && !model) return ctx.reply(RETRY_USAGE_TEXT);
    const sessionId = await ctx.sessions.getActiveSessionId(ctx.userId);
    if (!sessionId) return ctx.reply("Nothing to retry: you have no active session. Just send a message.");
    await retryAnswer(ctx, { sessionId, ...(model ? { model } : {}) });
  },
  button: {
    action: BUTTON_ACTIONS.retry,
    async press(ctx, argument) {
      const say = (text: string) => ctx.press?.answer(text) ?? Promise.resolve();
      const target = retryTargetOf(argument);
      if (!target || !ctx.press) return say(STALE_BUTTON_TEXT);
      const press = ctx.press;
      await retryAnswer(ctx, { ...target, answerMessageId: press.messageId, say, proceeding: () => press.answer() });
    },
  },
};
