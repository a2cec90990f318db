import type { Message } from "@grammyjs/types";
import { splitText } from "../format/split";
import type { BotApi } from "../telegram/bot-api";

/**
 * The plain-text reply of an update: split at Telegram's limit on line boundaries, and in
 * groups sent as a reply to the user's message, so it is clear whom it answers.
 */
export function replierFor(bot: BotApi, message: Message): (text: string) => Promise<void> {
  const inGroup = message.chat.type !== "private";
  return async (text) => {
    for (const part of splitText(text)) {
      await bot.call("sendMessage", {
        chat_id: message.chat.id,
        text: part,
        ...(inGroup ? { reply_parameters: { message_id: message.message_id, allow_sending_without_reply: true } } : {}),
      });
    }
  };
}
