import type { Message } from "@grammyjs/types";
import { splitText } from "../format/split";
import type { UpdateJournal } from "../conversation/journal";
import type { ReplyOptions } from "../conversation/update-context";
import type { BotApi } from "../telegram/bot-api";

/**
 * The plain-text reply of an update: split at Telegram's limit on line boundaries, and in
 * groups sent as a reply to the user's message, so it is clear whom it answers. With a
 * journal, each part is one of its numbered sends (a rerun skips those an earlier attempt began).
 */
export function replierFor(bot: BotApi, message: Message, journal?: UpdateJournal): (text: string, options?: ReplyOptions) => Promise<void> {
  const inGroup = message.chat.type !== "private";
  return async (text, options = {}) => {
    const parts = splitText(text);
    for (const [i, part] of parts.entries()) {
      const send = () =>
        bot.call("sendMessage", {
          chat_id: message.chat.id,
          text: part,
          ...(inGroup ? { reply_parameters: { message_id: message.message_id, allow_sending_without_reply: true } } : {}),
          ...(options.keyboard && i === parts.length - 1 ? { reply_markup: options.keyboard } : {}),
        });
      await (journal ? journal.send(send) : send());
    }
  };
}
