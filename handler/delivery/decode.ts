import type { Chat, Message, User } from "@grammyjs/types";
import type { APIGatewayProxyEvent } from "aws-lambda";

/**
 * Step 2 of the webhook pipeline: from a request body to a Telegram message the bot can act
 * on, with a shape check of the fields the bot reads. Pure, so any body (invalid JSON, base64,
 * wrong shapes) is tested without a network.
 */

/** The outcome of decoding a webhook body. */
export type DecodedBody =
  | { readonly ok: true; readonly update: Record<string, unknown>; readonly updateId: number }
  | { readonly ok: false; readonly reason: string };

/** Decodes the body (base64 when isBase64Encoded) as a JSON object with a numeric update_id. */
export function decodeBody(event: Pick<APIGatewayProxyEvent, "body" | "isBase64Encoded">): DecodedBody {
  if (typeof event.body !== "string" || event.body.length === 0) return { ok: false, reason: "empty body" };
  let text = event.body;
  if (event.isBase64Encoded === true) text = Buffer.from(text, "base64").toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: "body is not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: false, reason: "body is not a JSON object" };
  const update = parsed as Record<string, unknown>;
  if (typeof update.update_id !== "number" || !Number.isSafeInteger(update.update_id)) {
    return { ok: false, reason: "update_id is missing or not an integer" };
  }
  return { ok: true, update, updateId: update.update_id };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value);

/**
 * The update types the bot acts on: `message` ({@link readMessage}) and `callback_query`, a
 * press of one of its inline buttons ({@link readPress}). setWebhook's and getUpdates'
 * `allowed_updates` (setup-webhook, local mode) ask Telegram for these and no others.
 */
export const HANDLED_UPDATE_TYPES: readonly ("message" | "callback_query")[] = Object.freeze(["message", "callback_query"] as const);

/** A press of one of the bot's inline buttons, with the fields the bot relies on. */
export interface Press {
  /** callback_query.id: answerCallbackQuery's handle. */
  readonly queryId: string;
  readonly from: User;
  /** The chat of the message that carries the button. */
  readonly chat: Chat;
  /** That message's id: the picker or answer the press edits. */
  readonly messageId: number;
  /** callback_data as sent; decoded (and distrusted) by conversation/buttons. */
  readonly data: string;
}

/**
 * The update's `callback_query` when it is a press of a button on a message in a chat (with
 * id, from.id, message.chat and message.message_id, and string data); undefined for other
 * updates, for presses on inline-mode messages (no `message`) and for game buttons (no data).
 */
export function readPress(update: Record<string, unknown>): Press | undefined {
  const query = update.callback_query;
  if (!isObject(query) || typeof query.id !== "string" || typeof query.data !== "string") return undefined;
  const from = query.from;
  const message = query.message;
  if (!isObject(from) || !isId(from.id) || !isObject(message) || !isId(message.message_id)) return undefined;
  const chat = message.chat;
  if (!isObject(chat) || !isId(chat.id) || typeof chat.type !== "string") return undefined;
  return { queryId: query.id, from: from as unknown as User, chat: chat as unknown as Chat, messageId: message.message_id, data: query.data };
}

/**
 * The update's `message` when it has the fields the bot relies on (message_id, from.id,
 * chat.id and chat.type; text a string and document.file_id a string when present);
 * undefined for other update types (edited_message, callback_query, channel_post...) and
 * for malformed messages, which the bot ignores.
 */
export function readMessage(update: Record<string, unknown>): Message | undefined {
  const message = update.message;
  if (!isObject(message) || !isId(message.message_id)) return undefined;
  const from = message.from;
  const chat = message.chat;
  if (!isObject(from) || !isId(from.id) || !isObject(chat) || !isId(chat.id) || typeof chat.type !== "string") return undefined;
  if (message.text !== undefined && typeof message.text !== "string") return undefined;
  if (message.document !== undefined) {
    const document = message.document;
    if (!isObject(document) || typeof document.file_id !== "string") return undefined;
    if (document.file_size !== undefined && typeof document.file_size !== "number") return undefined;
    if (document.file_name !== undefined && typeof document.file_name !== "string") return undefined;
  }
  if (from.first_name !== undefined && typeof from.first_name !== "string") return undefined;
  return message as unknown as Message;
}

/** The keys of an update other than update_id, for logging which type was ignored. */
export function updateType(update: Record<string, unknown>): string {
  return Object.keys(update).filter((k) => k !== "update_id").join(",").slice(0, 100) || "empty";
}
