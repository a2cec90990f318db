import type { Message } from "@grammyjs/types";

/**
 * Whether a group message is meant for the bot, and the text to answer. Telegram's privacy
 * mode (on by default for bots) delivers to a bot in a group only commands, replies to its
 * messages and messages that mention it: the last two are chat messages for it.
 */

/** The bot as getMe describes it. */
export interface BotIdentity {
  readonly id: number;
  readonly username: string;
}

/**
 * The text to send to the model for a group message addressed to the bot: one that mentions
 * @botusername (the mention is taken out of the text) or replies to one of the bot's messages.
 * Undefined when the message is not addressed to the bot. An empty string when it only
 * mentions the bot. Pure.
 */
export function groupChatText(message: Message, bot: BotIdentity): string | undefined {
  const text = message.text;
  if (typeof text !== "string") return undefined;
  const handle = `@${bot.username}`.toLowerCase();
  const mentions = (message.entities ?? []).filter(
    (e) => e.type === "mention" && text.slice(e.offset, e.offset + e.length).toLowerCase() === handle,
  );
  const replyToBot = message.reply_to_message?.from?.id === bot.id;
  if (mentions.length === 0 && !replyToBot) return undefined;
  let stripped = text;
  // From the last to the first, so earlier offsets stay valid.
  for (const m of [...mentions].sort((a, b) => b.offset - a.offset)) {
    stripped = `${stripped.slice(0, m.offset)}${stripped.slice(m.offset + m.length)}`;
  }
  return stripped.replace(/[ \t]{2,}/g, " ").trim();
}
