import { ensureActiveSession, modelAvailable } from "../chat/active-session";
import { shortId, unavailableModelWarning } from "../format/views";
import type { Command } from "./command";

/** /start and /hello: greet, make sure there is an active session, name its model. */
export const startCommand: Command = {
  name: "start",
  aliases: ["hello"],
  usage: "/start or /hello",
  description: "greet you and make sure you have an active session",
  async run(ctx) {
    const { session, created } = await ensureActiveSession(ctx);
    const name = ctx.message.from?.first_name ?? "there";
    const lines = [
      `Hello, ${name}! I am an AI chat bot running on a self-hosted model.`,
      created
        ? `I started a new session for you (${shortId(session.sessionId)}) with ${session.modelName}.`
        : `Your active session ${shortId(session.sessionId)} uses ${session.modelName}.`,
      "Send me a message to chat, or /help to see the commands.",
    ];
    if (!modelAvailable(ctx, session)) lines.push(unavailableModelWarning(session.modelName));
    await ctx.reply(lines.join("\n"));
  },
};
