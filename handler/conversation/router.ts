import type { Message, PhotoSize } from "@grammyjs/types";
import { COMMAND_PATTERN } from "../../config/command-syntax";
import { handleChat } from "../chat/chat";
import { answerDocument, readDocument } from "../chat/document";
import { handleGroupChat } from "../chat/group-chat";
import { handleVoice, voiceClipOf, type VoiceClip } from "../chat/voice";
import { COMMAND_LIST, COMMANDS } from "../commands";
import type { Command } from "../commands/command";
import { handleImport } from "../commands/import";
import { isJsonDocument } from "../format/document-text";
import { STALE_BUTTON_TEXT, type ButtonData } from "./buttons";
import type { UpdateContext } from "./update-context";
import { withinChatAllowance, withinUsageLimit } from "./usage-gate";

/** What a group gets instead of anything that would show, or act on, someone's private sessions. */
export const PRIVATE_ONLY_TEXT = "That is private: send this to me in a private chat.";

/** A command as the user typed it. */
export interface ParsedCommand {
  /** Lower-case name without the slash: `newsession`. */
  readonly name: string;
  /** The @suffix, when the command carried one (`/start@MyBot`). */
  readonly botUsername: string | undefined;
  /** Everything after the command, trimmed. */
  readonly args: string;
}

/**
 * Parses `/cmd`, `/cmd@Bot` and `/cmd args` (config/command-syntax.ts, the spelling the queue's
 * message groups share); undefined when the text is not a command. Pure.
 */
export function parseCommand(text: string): ParsedCommand | undefined {
  const match = COMMAND_PATTERN.exec(text);
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase(), botUsername: match[2], args: (match[3] ?? "").trim() };
}

/** What the router will do with a message, decided before touching storage. */
export type MessageKind =
  | { readonly kind: "command"; readonly command: ParsedCommand }
  /** A chat message: text, or a photo (`photo`, its sizes) with its caption as `text`. */
  | { readonly kind: "chat"; readonly text: string; readonly photo?: readonly PhotoSize[] }
  /**
   * A group message addressed to the bot (a mention or a reply), answered apart from the
   * sessions; `quoted` is the message it replies to, as the model should see it.
   */
  | { readonly kind: "group_chat"; readonly text: string; readonly quoted?: { readonly role: "assistant" | "user"; readonly text: string } }
  /** A group message asking for something private (a document to import), answered with PRIVATE_ONLY_TEXT. */
  | { readonly kind: "private_only" }
  | { readonly kind: "document" }
  /**
   * A voice message, audio file or round video note, answered from its transcript (chat/voice.ts);
   * `quoted`, in a group, is the message it replies to, as for group_chat.
   */
  | { readonly kind: "voice"; readonly clip: VoiceClip; readonly quoted?: { readonly role: "assistant" | "user"; readonly text: string } }
  /** A group message that only mentions the bot, with nothing to answer. */
  | { readonly kind: "mention_only" }
  | { readonly kind: "other" }
  /** A press of one of the bot's buttons, its data decoded and its owner checked (the presser). */
  | { readonly kind: "press"; readonly button: ButtonData };

/** Classifies a message. Pure. */
export function classifyMessage(message: Message): MessageKind {
  if (typeof message.text === "string") {
    const command = parseCommand(message.text);
    if (command) return { kind: "command", command };
    return { kind: "chat", text: message.text };
  }
  if (message.photo && message.photo.length > 0) return { kind: "chat", text: message.caption ?? "", photo: message.photo };
  if (message.document) return { kind: "document" };
  const clip = voiceClipOf(message);
  if (clip) return { kind: "voice", clip };
  return { kind: "other" };
}


/** The command whose buttons carry `action` (built on first use: the command table imports much). */
let byAction: ReadonlyMap<string, Command> | undefined;
const commandFor = (action: string): Command | undefined =>
  (byAction ??= new Map(COMMAND_LIST.flatMap((c) => (c.button ? [[c.button.action, c] as const] : [])))).get(action);

/** Hands a press to the command whose button it is; private commands' buttons act only in private chats. */
async function routePress(ctx: UpdateContext, button: ButtonData): Promise<void> {
  const command = commandFor(button.action);
  if (!command?.button) {
    await ctx.press?.answer(STALE_BUTTON_TEXT);
    return;
  }
  if (command.privateOnly && ctx.message.chat.type !== "private") {
    await ctx.press?.answer(PRIVATE_ONLY_TEXT);
    return;
  }
  ctx.log.info("button pressed", { action: "handle_press", command: command.name });
  await command.button.press(ctx, button.argument);
}

/**
 * A document: a .json file sent without a caption is an archive to import, as /export gives it
 * (commands/import.ts, counted as an import); any other file is read for its question within
 * the chat allowance (chat/document.ts), unless it turns out to be a valid archive after all.
 */
async function routeDocument(ctx: UpdateContext): Promise<void> {
  const { document, caption } = ctx.message;
  const read = isJsonDocument(document?.file_name, document?.mime_type) && !caption?.trim() ? ({ kind: "archive" } as const) : await readDocument(ctx);
  if (read?.kind === "archive") {
    if (await withinUsageLimit(ctx, "import")) await handleImport(ctx);
  } else if (read) {
    await withinChatAllowance(ctx, (allowance) => answerDocument(ctx, read, allowance));
  }
}

/** Handles one classified message: a command, a chat message or an archive file. */
export async function routeMessage(ctx: UpdateContext, kind: MessageKind): Promise<void> {
  switch (kind.kind) {
    case "command": {
      const command = COMMANDS.get(kind.command.name);
      if (!command) {
        await ctx.reply(`Unknown command /${kind.command.name}. Send /help to see what I can do.`);
        return;
      }
      if (command.privateOnly && ctx.message.chat.type !== "private") {
        await ctx.reply(PRIVATE_ONLY_TEXT);
        return;
      }
      ctx.log.info("command", { action: "handle_command", command: kind.command.name });
      await command.run(ctx, kind.command.args);
      return;
    }
    case "chat":
      await withinChatAllowance(ctx, (allowance) => handleChat(ctx, kind.text, kind.photo, allowance));
      return;
    case "group_chat":
      await withinChatAllowance(ctx, (allowance) => handleGroupChat(ctx, kind.text, kind.quoted, allowance));
      return;
    case "private_only":
      await ctx.reply(PRIVATE_ONLY_TEXT);
      return;
    case "document":
      await routeDocument(ctx);
      return;
    case "voice":
      await handleVoice(ctx, kind.clip, kind.quoted);
      return;
    case "mention_only":
      await ctx.reply("Yes? Mention me together with your question, or reply to one of my messages. /help lists the commands.");
      return;
    case "press":
      await routePress(ctx, kind.button);
      return;
    case "other":
      if (ctx.message.chat.type === "private") {
        await ctx.reply("I understand text messages, voice messages, photos, files with a question (text, code, PDF), commands (/help) and JSON archive files.");
      }
      return;
  }
}
