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
 * Who wrote the message a group message replies to, as the model should see it: the bot's own
 * earlier answer is the assistant's turn; anyone else's words (another member's, another
 * bot's) are quoted by the user, never put in the assistant's mouth. Undefined when it replies
 * to nothing with text. Pure.
 */
export function quotedContext(message: Message, bot: BotIdentity): { readonly role: "assistant" | "user"; readonly text: string } | undefined {
  const quoted = message.reply_to_message;
  const text = quoted?.text ?? quoted?.caption;
  if (!quoted || typeof text !== "string" || text.length === 0) return undefined;
  return { role: quoted.from?.id === bot.id ? "assistant" : "user", text };
}

/**
 * Whether a group message that is not text (a document) is addressed to the bot: its caption
 * mentions it, or it replies to one of the bot's messages. Pure.
 */
export function groupFileAddressed(message: Message, bot: BotIdentity): boolean {
  if (message.reply_to_message?.from?.id === bot.id) return true;
  const caption = message.caption ?? "";
  const handle = `@${bot.username}`.toLowerCase();
  return mentionsOf(message.caption_entities, caption, handle).length > 0;
}

/** An entity as far as the mention check reads one. */
interface Span {
  readonly offset: number;
  readonly length: number;
}

const isSpanWithin = (e: unknown, text: string): e is Span & { readonly type: unknown } => {
  const { offset, length } = (e ?? {}) as { offset?: unknown; length?: unknown };
  return Number.isSafeInteger(offset) && Number.isSafeInteger(length) && (offset as number) >= 0 && (length as number) > 0 && (offset as number) + (length as number) <= text.length;
};

/**
 * The `mention` entities of `text` that name `handle` (lower case, with the @). Reads the
 * entities as untrusted: a list that is not an array, or holds nulls or spans outside the
 * text, yields only its well-formed mentions, never a throw (a throw here would fail the
 * update on every delivery). Pure.
 */
export function mentionsOf(entities: unknown, text: string, handle: string): Span[] {
  if (!Array.isArray(entities)) return [];
  return entities
    .filter((e): e is Span & { readonly type: unknown } => isSpanWithin(e, text))
    .filter((e) => e.type === "mention" && text.slice(e.offset, e.offset + e.length).toLowerCase() === handle)
    .map(({ offset, length }) => ({ offset, length }));
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
  const mentions = mentionsOf(message.entities, text, handle);
  const replyToBot = message.reply_to_message?.from?.id === bot.id;
  if (mentions.length === 0 && !replyToBot) return undefined;
  let stripped = text;
  // From the last to the first, so earlier offsets stay valid. Only the spaces around a mention
  // are tidied: the rest (indented code) stays as written.
  for (const m of [...mentions].sort((a, b) => b.offset - a.offset)) {
    const before = stripped.slice(0, m.offset);
    const after = stripped.slice(m.offset + m.length);
    stripped = / $/.test(before) && /^ /.test(after) ? `${before}${after.slice(1)}` : `${before}${after}`;
  }
  return stripped.trim();
}
