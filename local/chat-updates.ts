/**
 * Telegram updates as a private chat produces them, for the terminal chat: what the user types
 * becomes a `message` update, `/import <file>` and `/file <file> [question]` a document message, `/voice <file>` a voice
 * message. Ids grow from a start taken from the clock, so updates of a later run never reuse
 * the ids of an earlier one (the handler ignores an update_id it has already seen, and local
 * data persists between runs).
 */
import type { Message, MessageEntity, Update, User } from "@grammyjs/types";

/** The person at the terminal. */
export interface LocalUser {
  /** Telegram user id (also the private chat's id). @default 1 */
  readonly id: number;
  /** @default "Local" */
  readonly firstName: string;
}

/** The default terminal user. */
export const DEFAULT_LOCAL_USER: LocalUser = Object.freeze({ id: 1, firstName: "Local" });

/** A document as getFile knows it. */
export interface LocalDocument {
  readonly fileId: string;
  readonly fileName: string;
  readonly fileSize: number;
  /** @default "application/json" */
  readonly mimeType?: string;
  /** The question sent with it (`/file <path> <question>`). @default - none */
  readonly caption?: string;
}

/** Builds successive updates of one private chat. */
export class ChatUpdateFactory {
  private nextUpdateId: number;
  private nextMessageId = 1;

  constructor(
    private readonly user: LocalUser = DEFAULT_LOCAL_USER,
    /** First update_id. @default Date.now() (grows across runs) */
    firstUpdateId: number = Date.now(),
    /** Clock for message dates, epoch ms. @default Date.now */
    private readonly now: () => number = Date.now,
  ) {
    this.nextUpdateId = firstUpdateId;
  }

  /** A text message; a leading /command carries its bot_command entity, as Telegram sends it. */
  text(text: string): Update {
    const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
    const entities: MessageEntity[] | undefined = command ? [{ type: "bot_command", offset: 0, length: command[0].length }] : undefined;
    return this.update({ text, ...(entities ? { entities } : {}) });
  }

  /** A document message. */
  document(document: LocalDocument): Update {
    return this.update({
      document: {
        file_id: document.fileId,
        file_unique_id: `local-${document.fileId}`.slice(0, 32),
        file_name: document.fileName,
        mime_type: document.mimeType ?? "application/json",
        file_size: document.fileSize,
      },
      ...(document.caption ? { caption: document.caption } : {}),
    });
  }

  /** A photo message of one size (a local picture), with its caption. */
  photo(photo: { fileId: string; width: number; height: number; fileSize: number; caption?: string }): Update {
    const size = { file_id: photo.fileId, file_unique_id: `local-${photo.fileId}`.slice(0, 32), width: photo.width, height: photo.height, file_size: photo.fileSize };
    return this.update({ photo: [size], ...(photo.caption ? { caption: photo.caption } : {}) });
  }

  /** A voice message (a local recording) lasting `duration` whole seconds, as Telegram describes one. */
  voice(voice: { fileId: string; duration: number; fileSize: number; mimeType?: string }): Update {
    return this.update({
      voice: { file_id: voice.fileId, file_unique_id: `local-${voice.fileId}`.slice(0, 32), duration: voice.duration, mime_type: voice.mimeType ?? "audio/ogg", file_size: voice.fileSize },
    });
  }

  /** A press of the button carrying `data` on the bot's message `messageId` (a callback_query). */
  press(messageId: number, data: string): Update {
    const message = { message_id: messageId, date: this.date(), chat: this.chat() } as Message;
    return { update_id: this.nextUpdateId++, callback_query: { id: `local-${this.nextUpdateId}`, from: this.sender(), message, chat_instance: `local-${this.user.id}`, data } };
  }

  private sender(): User {
    return { id: this.user.id, is_bot: false, first_name: this.user.firstName, language_code: "en" };
  }

  private chat(): Message["chat"] {
    return { id: this.user.id, type: "private", first_name: this.user.firstName };
  }

  private date(): number {
    return Math.floor(this.now() / 1000);
  }

  private update(content: Partial<Message>): Update {
    const message = {
      message_id: this.nextMessageId++,
      from: this.sender(),
      chat: this.chat(),
      date: this.date(),
      ...content,
    } as Message & Update.NonChannel;
    return { update_id: this.nextUpdateId++, message };
  }
}
