/**
 * Telegram update builders for tests: the shape Telegram POSTs to the webhook (and returns
 * from getUpdates), typed by @grammyjs/types. Ids auto-increment unless given, so every
 * built update is distinct; call resetUpdateIds() in a beforeEach for predictable ids.
 */
import type { Chat, Message, MessageEntity, PhotoSize, Update, User } from "@grammyjs/types";

/** A bot token in the Bot API's format (`<bot id>:<secret>`) that is obviously fake. */
export const TEST_TOKEN = "123456:TEST-TOKEN-not-a-secret";
/** A webhook secret token (1-256 of A-Z a-z 0-9 _ -) that is obviously fake. */
export const TEST_SECRET_TOKEN = "test-webhook-secret-not-a-secret";
/** An Ollama proxy API key that is obviously fake. */
export const TEST_OLLAMA_API_KEY = "test-ollama-key-not-a-secret";

/** Default user id of the sender. */
export const TEST_USER_ID = 1001;

const FIRST_UPDATE_ID = 100_000;
const FIRST_MESSAGE_ID = 1;
let nextUpdateId = FIRST_UPDATE_ID;
let nextMessageId = FIRST_MESSAGE_ID;

/** Restarts the automatic update_id (from 100000) and message_id (from 1) counters. */
export function resetUpdateIds(): void {
  nextUpdateId = FIRST_UPDATE_ID;
  nextMessageId = FIRST_MESSAGE_ID;
}

/** Who sends the message, where, and with which ids. */
export interface MessageOptions {
  /** @default - the next automatic update_id */
  readonly updateId?: number;
  /** @default - the next automatic message_id */
  readonly messageId?: number;
  /** Sender's user id. @default 1001 */
  readonly userId?: number;
  /** @default - the user id (a private chat) */
  readonly chatId?: number;
  /** @default "private" */
  readonly chatType?: "private" | "group" | "supergroup";
  /** @default "Test" */
  readonly firstName?: string;
  /** Sender's username. @default - none */
  readonly username?: string;
  /** Unix time in seconds. @default - now */
  readonly date?: number;
}

/** A message update whose text is `text`; a leading /command gets its bot_command entity as Telegram sends it. */
export function textUpdate(text: string, options: MessageOptions = {}): Update {
  const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
  const entities: MessageEntity[] | undefined = command ? [{ type: "bot_command", offset: 0, length: command[0].length }] : undefined;
  return messageUpdate(options, { text, ...(entities ? { entities } : {}) });
}

/** Options of documentUpdate: the message's and the file's. */
export interface DocumentOptions extends MessageOptions {
  /** @default "document.json" */
  readonly fileName?: string;
  /** @default "application/json" */
  readonly mimeType?: string;
  /** Bytes. @default - none */
  readonly fileSize?: number;
  /** @default - none */
  readonly caption?: string;
}

/** A message update carrying a document with this file_id (register it with TelegramStandIn.addFile to make getFile work). */
export function documentUpdate(fileId: string, options: DocumentOptions = {}): Update {
  return messageUpdate(options, {
    document: {
      file_id: fileId,
      file_unique_id: `u-${fileId}`.slice(0, 32),
      file_name: options.fileName ?? "document.json",
      mime_type: options.mimeType ?? "application/json",
      ...(options.fileSize !== undefined ? { file_size: options.fileSize } : {}),
    },
    ...(options.caption !== undefined ? { caption: options.caption } : {}),
  });
}

/** A message update carrying a photo in these sizes (see local/stand-ins/telegram/photos.ts addPhoto), with an optional caption. */
export function photoUpdate(sizes: readonly PhotoSize[], options: MessageOptions & { readonly caption?: string } = {}): Update {
  return messageUpdate(options, { photo: [...sizes], ...(options.caption !== undefined ? { caption: options.caption } : {}) });
}

/** Options of the recording builders: the recording's Telegram fields, and the message's. */
export interface RecordingOptions extends MessageOptions {
  /** Telegram's `duration`, in seconds. @default 3 */
  readonly duration?: number;
  /** Telegram's `file_size`, in bytes. @default - none */
  readonly fileSize?: number;
  /** @default "audio/ogg" for a voice message, "audio/mpeg" for an audio file */
  readonly mimeType?: string;
  /** An audio file's name. @default - none */
  readonly fileName?: string;
  /** The message it replies to (a group reply to the bot). @default - none */
  readonly replyTo?: NonNullable<Message["reply_to_message"]>;
}

/** The Telegram fields a recording with this file_id shares. */
const recording = (fileId: string, options: RecordingOptions) => ({
  file_id: fileId,
  file_unique_id: `u-${fileId}`.slice(0, 32),
  duration: options.duration ?? 3,
  ...(options.fileSize !== undefined ? { file_size: options.fileSize } : {}),
});
const replyOf = (options: RecordingOptions) => (options.replyTo ? { reply_to_message: options.replyTo } : {});

/** A voice message (Ogg Opus) with this file_id (register it with TelegramStandIn.addFile to make getFile work). */
export function voiceUpdate(fileId: string, options: RecordingOptions = {}): Update {
  return messageUpdate(options, { voice: { ...recording(fileId, options), mime_type: options.mimeType ?? "audio/ogg" }, ...replyOf(options) });
}

/** An audio file message (music, a recording sent as a file) with this file_id. */
export function audioUpdate(fileId: string, options: RecordingOptions = {}): Update {
  const name = options.fileName !== undefined ? { file_name: options.fileName } : {};
  return messageUpdate(options, { audio: { ...recording(fileId, options), mime_type: options.mimeType ?? "audio/mpeg", ...name }, ...replyOf(options) });
}

/** A round video note with this file_id (always MP4, 240×240 here). */
export function videoNoteUpdate(fileId: string, options: RecordingOptions = {}): Update {
  return messageUpdate(options, { video_note: { ...recording(fileId, options), length: 240 }, ...replyOf(options) });
}

/** The sender as a User. */
function sender(options: MessageOptions): User {
  return {
    id: options.userId ?? TEST_USER_ID,
    is_bot: false,
    first_name: options.firstName ?? "Test",
    ...(options.username !== undefined ? { username: options.username } : {}),
    language_code: "en",
  };
}

function chat(options: MessageOptions): Exclude<Chat, Chat.ChannelChat> {
  const from = sender(options);
  const id = options.chatId ?? from.id;
  switch (options.chatType ?? "private") {
    case "private":
      return { id, type: "private", first_name: from.first_name, ...(from.username ? { username: from.username } : {}) };
    case "group":
      return { id, type: "group", title: "Test group" };
    case "supergroup":
      return { id, type: "supergroup", title: "Test supergroup" };
  }
}

function messageUpdate(options: MessageOptions, content: Partial<Message>): Update {
  const update_id = options.updateId ?? nextUpdateId++;
  const message_id = options.messageId ?? nextMessageId++;
  const message = {
    message_id,
    from: sender(options),
    chat: chat(options),
    date: options.date ?? Math.floor(Date.now() / 1000),
    ...content,
  } as Message & Update.NonChannel;
  return { update_id, message };
}
