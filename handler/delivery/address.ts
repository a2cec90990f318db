import type { Message } from "@grammyjs/types";
import type { MessageKind } from "../conversation/router";
import type { BotApi } from "../telegram/bot-api";
import { groupChatText, groupFileAddressed, quotedContext, type BotIdentity } from "./group-address";

/**
 * Step 3 of the webhook pipeline: is this message meant for this bot? Decided before anything
 * is stored. In private chats every message is; in groups a command must name no bot or this
 * one, and a chat message must mention the bot or reply to it.
 */

/** The bot's own identity, asked once. */
export type OwnIdentity = () => Promise<BotIdentity | undefined>;

/**
 * The bot's own id and username, asked with getMe once and only when a group message or a
 * command with an @suffix needs them; a failed getMe is asked again next time.
 */
export function ownIdentityOf(bot: BotApi): OwnIdentity {
  let identity: Promise<BotIdentity | undefined> | undefined;
  return () => {
    identity ??= bot.call("getMe", {}).then(
      (me) => (me.username ? { id: me.id, username: me.username } : undefined),
      () => {
        identity = undefined;
        return undefined;
      },
    );
    return identity;
  };
}

/**
 * What to do with a message, or undefined when it is not meant for this bot. A group chat
 * message addressed to the bot becomes a `group_chat` (its text without the mention), answered
 * apart from the sender's sessions.
 */
export async function addressedKind(message: Message, kind: MessageKind, ownIdentity: OwnIdentity): Promise<MessageKind | undefined> {
  const isPrivate = message.chat.type === "private";
  if (kind.kind === "command") {
    const suffix = kind.command.botUsername;
    if (suffix === undefined) return kind;
    const own = await ownIdentity();
    if (own === undefined) return isPrivate ? kind : undefined;
    return own.username.toLowerCase() === suffix.toLowerCase() ? kind : undefined;
  }
  if (isPrivate) return kind;
  if (kind.kind !== "chat" && kind.kind !== "document" && kind.kind !== "voice") return undefined;
  const own = await ownIdentity();
  if (!own) return undefined;
  // A voice message in a group is for the bot only as a reply to one of its messages (it cannot mention).
  if (kind.kind === "voice") {
    if (message.reply_to_message?.from?.id !== own.id) return undefined;
    const quoted = quotedContext(message, own);
    return { ...kind, ...(quoted ? { quoted } : {}) };
  }
  // A file sent to the bot in a group would be imported into the sender's archives: not here.
  if (kind.kind === "document") return groupFileAddressed(message, own) ? { kind: "private_only" } : undefined;
  const text = groupChatText(message, own);
  if (text === undefined) return undefined;
  const quoted = quotedContext(message, own);
  return text ? { kind: "group_chat", text, ...(quoted ? { quoted } : {}) } : { kind: "mention_only" };
}
