/**
 * The Bot API stand-in's wire format: the shapes it records and keeps, and the parsing of a
 * method's parameters (query string, JSON, urlencoded or multipart) and of message text,
 * with the 400s Telegram answers for bad ones.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Request as UndiciRequest } from "undici";
import { TELEGRAM_GET_FILE_LIMIT_BYTES, TELEGRAM_MESSAGE_LIMIT } from "../../../config/defaults";
import { checkTelegramHtml, type ParsedEntity } from "./html-check";

export interface TelegramStandInOptions {
  /** The only token accepted in URLs; any other answers 401. */
  readonly token: string;
  /** getMe's username. @default "TestBot" */
  readonly botUsername?: string;
  /** getMe's id. @default - the number before ":" in the token, else 123456 */
  readonly botId?: number;
}

/** An uploaded file as the stand-in received it. */
export interface RecordedFile {
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
}

/** One method call, recorded when it arrived (faulted calls included). */
export interface RecordedCall {
  readonly method: string;
  /** Parameters as sent: JSON values for a JSON body, strings for query/urlencoded/multipart. */
  readonly params: Record<string, unknown>;
  /** Uploaded files by field name (multipart only). */
  readonly files: Record<string, RecordedFile>;
  /** Date.now() on arrival. */
  readonly at: number;
}

/** An error the next call(s) of a method answer with, as Telegram sends it. */
export interface TelegramFault {
  /** error_code, such as 429, 400 or 403. */
  readonly errorCode: number;
  /** description, such as "Too Many Requests: retry after 3". */
  readonly description: string;
  /** parameters.retry_after in seconds. @default - no parameters */
  readonly retryAfter?: number;
  /** HTTP status. @default - errorCode */
  readonly httpStatus?: number;
  /** How many calls in a row fail. @default 1 */
  readonly times?: number;
}

/** A message as a user sees it in a chat (drafts excluded). */
export interface ChatMessage {
  readonly messageId: number;
  /** The text as the bot last sent it (HTML source when parseMode is "HTML"). */
  readonly text: string;
  readonly parseMode?: string;
  /** The text as displayed: tags removed and entities decoded for HTML, else equal to text. */
  readonly plainText: string;
  /** How many times it was edited. */
  readonly edits: number;
  /** Its inline buttons now, row by row ([] when it has none). */
  readonly buttons: readonly (readonly StoredButton[])[];
}

/** The setWebhook state; tests may set lastErrorMessage/lastErrorDate to simulate delivery failures. */
export interface WebhookState {
  /** "" when no webhook is set. */
  url: string;
  secretToken?: string;
  allowedUpdates?: string[];
  dropPendingUpdates?: boolean;
  lastErrorMessage?: string;
  /** Unix time in seconds. */
  lastErrorDate?: number;
}

/** The file getFile describes. */
export interface StoredFile {
  readonly file_id: string;
  readonly file_unique_id: string;
  readonly file_size: number;
  readonly file_path: string;
}

export type Json = Record<string, unknown>;
import type { StoredButton } from "./keyboards";

/** A method's answer: result, or a Bot API error. */
export type Outcome = { ok: true; result: unknown } | { ok: false; errorCode: number; description: string; retryAfter?: number; httpStatus?: number };

/** Thrown inside a method implementation to answer a Bot API error. */
export class ApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
  ) {
    super(description);
  }
}
export const badRequest = (description: string) => new ApiError(400, `Bad Request: ${description}`);

export interface StoredMessage {
  readonly messageId: number;
  readonly kind: "text" | "document";
  text: string;
  parseMode?: string;
  plainText: string;
  entities: ParsedEntity[];
  edits: number;
  readonly date: number;
  editDate?: number;
  readonly document?: Json;
  readonly caption?: string;
  /** The inline keyboard under it (rows of buttons), when it has one. */
  buttons?: StoredButton[][];
}


/** Telegram refuses getFile for files over 20 MB. */
export const GET_FILE_LIMIT_BYTES = TELEGRAM_GET_FILE_LIMIT_BYTES;
export const CHAT_ACTIONS = new Set([
  "typing",
  "upload_photo",
  "record_video",
  "upload_video",
  "record_voice",
  "upload_voice",
  "upload_document",
  "choose_sticker",
  "find_location",
  "record_video_note",
  "upload_video_note",
]);

/** Parses and validates message text like the Bot API; throws the 400 Telegram would answer. */
export function parseText(
  rawText: unknown,
  rawParseMode: unknown,
  options: { allowEmpty: boolean; what?: "text" | "caption" },
): { text: string; parseMode?: string; plainText: string; entities: ParsedEntity[] } {
  const what = options.what ?? "text";
  const text = rawText === undefined || rawText === null ? "" : String(rawText);
  const parseMode = typeof rawParseMode === "string" && rawParseMode !== "" ? rawParseMode : undefined;
  let plainText = text;
  let entities: ParsedEntity[] = [];
  if (parseMode !== undefined) {
    if (parseMode.toLowerCase() === "html") {
      const check = checkTelegramHtml(text);
      if (!check.ok) throw badRequest(`can't parse entities: ${check.reason}`);
      plainText = check.text;
      entities = check.entities;
    } else if (!["markdown", "markdownv2"].includes(parseMode.toLowerCase())) {
      throw badRequest("unsupported parse_mode");
    }
  }
  if (!options.allowEmpty && plainText.trim() === "") throw badRequest(`message ${what} is empty`);
  const limit = what === "caption" ? 1024 : TELEGRAM_MESSAGE_LIMIT;
  if (plainText.length > limit) throw badRequest(what === "caption" ? "message caption is too long" : "message is too long");
  return { text, ...(parseMode !== undefined ? { parseMode } : {}), plainText, entities };
}

export function requireChatId(params: Json): number {
  const chatId = toInteger(params.chat_id);
  if (params.chat_id === undefined || params.chat_id === "") throw badRequest("chat_id is empty");
  if (chatId === undefined || chatId === 0) throw badRequest("chat not found");
  return chatId;
}

/** A Chat for an id: positive = private, -100… = supergroup, other negative = group. */
export function chatJson(chatId: number): Json {
  if (chatId > 0) return { id: chatId, type: "private", first_name: "Test" };
  if (chatId <= -1_000_000_000_000) return { id: chatId, type: "supergroup", title: "Test supergroup" };
  return { id: chatId, type: "group", title: "Test group" };
}

export function toInteger(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

export function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") return value === "true" || value === "1";
  return undefined;
}

export function toStringArray(value: unknown): string[] | undefined {
  const parsed = typeof value === "string" ? safeJson(value) : value;
  return Array.isArray(parsed) ? parsed.map(String) : undefined;
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);


/** Parameters from the query string and the body (JSON, urlencoded or multipart), as the Bot API accepts them. */
export async function parseParams(req: IncomingMessage, url: URL, body: Buffer): Promise<{ params: Json; files: Record<string, RecordedFile> }> {
  const params: Json = Object.fromEntries(url.searchParams);
  const files: Record<string, RecordedFile> = {};
  const contentType = String(req.headers["content-type"] ?? "").toLowerCase();
  if (body.length === 0) return { params, files };
  if (contentType.startsWith("application/json")) {
    const parsed = JSON.parse(body.toString("utf8")) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    Object.assign(params, parsed);
  } else if (contentType.startsWith("application/x-www-form-urlencoded")) {
    Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString("utf8"))));
  } else if (contentType.startsWith("multipart/form-data")) {
    const request = new UndiciRequest("http://127.0.0.1/", {
      method: "POST",
      headers: { "content-type": String(req.headers["content-type"]) },
      body,
    });
    const form = await request.formData();
    for (const [name, value] of form) {
      if (typeof value === "string") params[name] = value;
      else {
        files[name] = {
          filename: value.name,
          contentType: value.type || "application/octet-stream",
          data: Buffer.from(await value.arrayBuffer()),
        };
      }
    }
  }
  return { params, files };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}
