/**
 * Inline keyboards as the Bot API documents them (https://core.telegram.org/bots/api#inlinekeyboardmarkup):
 * the stand-in checks a `reply_markup` the way Telegram does (callback_data 1-64 bytes, a
 * button text, at most 100 buttons), keeps the buttons on the message, and builds the
 * `callback_query` update a user's press produces.
 */
import { randomBytes } from "node:crypto";
import { badRequest, chatJson, nowSeconds, safeJson, type Json } from "./wire";

/** One callback button as the stand-in keeps it. */
export interface StoredButton {
  readonly text: string;
  readonly data: string;
}

/** Telegram's limit on callback_data, in bytes. */
const CALLBACK_DATA_MAX_BYTES = 64;
/** Telegram's limit on buttons per keyboard. */
const MAX_BUTTONS = 100;

/**
 * The buttons of a reply_markup parameter (a JSON string or an object): undefined when there
 * is none, [] for an empty keyboard (which removes the buttons of an edited message). Throws
 * Telegram's 400s for what it refuses.
 */
export function parseReplyMarkup(value: unknown): StoredButton[][] | undefined {
  if (value === undefined) return undefined;
  const markup = typeof value === "string" ? safeJson(value) : value;
  if (typeof markup !== "object" || markup === null) throw badRequest("can't parse reply keyboard markup JSON object");
  const rows = (markup as Json).inline_keyboard;
  if (rows === undefined) return undefined;
  if (!Array.isArray(rows) || rows.some((row) => !Array.isArray(row))) throw badRequest("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays");
  if (rows.flat().length > MAX_BUTTONS) throw badRequest("too many buttons");
  return (rows as unknown[][]).map((row) =>
    row.map((b) => {
      const button = (typeof b === "object" && b !== null ? b : {}) as Json;
      if (typeof button.text !== "string" || button.text.length === 0) throw badRequest("text buttons are unallowed in the inline keyboard");
      const data = button.callback_data;
      if (typeof data !== "string" || data.length === 0 || Buffer.byteLength(data, "utf8") > CALLBACK_DATA_MAX_BYTES) throw badRequest("BUTTON_DATA_INVALID");
      return { text: button.text, data };
    }),
  );
}

/** The reply_markup field of a message as getUpdates and method results show it. */
export function markupJson(buttons: readonly (readonly StoredButton[])[] | undefined): Json {
  if (!buttons || buttons.length === 0) return {};
  return { reply_markup: { inline_keyboard: buttons.map((row) => row.map((b) => ({ text: b.text, callback_data: b.data }))) } };
}

/** Who presses a button, on which message. */
export interface PressOptions {
  readonly updateId: number;
  readonly chatId: number;
  readonly messageId: number;
  readonly data: string;
  /** The presser's user id. */
  readonly userId: number;
  /** The message as the press carries it (text, buttons), from the stand-in's chat. */
  readonly message: Json;
}

/** The update Telegram sends when a user presses a callback button. */
export function callbackQueryUpdate(options: PressOptions): Json {
  return {
    update_id: options.updateId,
    callback_query: {
      id: `${BigInt.asUintN(63, BigInt(`0x${randomBytes(8).toString("hex")}`))}`,
      from: { id: options.userId, is_bot: false, first_name: "Test", language_code: "en" },
      message: { date: nowSeconds(), chat: chatJson(options.chatId), ...options.message, message_id: options.messageId },
      chat_instance: String(-options.chatId * 7919),
      data: options.data,
    },
  };
}
