/**
 * A small HTTP server speaking the Telegram Bot API's documented wire format
 * (https://core.telegram.org/bots/api), for tests, local mode and the benchmark: methods at
 * {url}/bot{token}/{method} (GET or POST; query string, JSON, urlencoded or multipart
 * parameters), files at {url}/file/bot{token}/{file_path}. It keeps the chats' messages so a
 * test can read what a user would see, and it can fail or slow down chosen calls.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Request as UndiciRequest } from "undici";
import { TELEGRAM_MESSAGE_LIMIT } from "../config/defaults";
import { readBody } from "./read-body";

// ---------------------------------------------------------------------------------------------
// HTML parse mode: the checker
// ---------------------------------------------------------------------------------------------

/** A formatting entity found in parsed HTML (offsets and lengths in UTF-16 code units, as the Bot API's MessageEntity). */
export interface ParsedEntity {
  readonly type: string;
  readonly offset: number;
  readonly length: number;
  readonly url?: string;
  readonly language?: string;
  readonly custom_emoji_id?: string;
}

/** What checkTelegramHtml concludes: the visible text, or Telegram's reason for refusing. */
export type HtmlCheck = { ok: true; text: string; entities: ParsedEntity[] } | { ok: false; reason: string };

/** Tags of Telegram's HTML parse mode and the entity each one makes. */
const TAG_ENTITY: Readonly<Record<string, string>> = {
  b: "bold",
  strong: "bold",
  i: "italic",
  em: "italic",
  u: "underline",
  ins: "underline",
  s: "strikethrough",
  strike: "strikethrough",
  del: "strikethrough",
  span: "spoiler",
  "tg-spoiler": "spoiler",
  a: "text_link",
  code: "code",
  pre: "pre",
  blockquote: "blockquote",
  "tg-emoji": "custom_emoji",
};

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"' };

interface OpenTag {
  readonly name: string;
  readonly offset: number;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * Checks text meant for `parse_mode: "HTML"` the way Telegram parses it: only the supported
 * tags (b, strong, i, em, u, ins, s, strike, del, span class="tg-spoiler", tg-spoiler, a href,
 * code, pre with optionally one code class="language-x", blockquote with optional expandable,
 * tg-emoji emoji-id), properly nested and closed, and only the entities &lt; &gt; &amp; &quot;
 * and numeric ones. Reasons follow Telegram's wording ("Unsupported start tag \"br\" at byte
 * offset 3"). Deliberately a little stricter than Telegram, which silently drops formatting
 * it cannot nest and keeps an unknown `&name;` as text: here a tag inside code/pre (other
 * than pre>code), a link inside a link, a blockquote inside a blockquote, and any `&` that
 * does not start a supported entity are errors, since each means the formatter lost something.
 */
export function checkTelegramHtml(html: string): HtmlCheck {
  let text = "";
  const entities: ParsedEntity[] = [];
  const stack: OpenTag[] = [];
  const byteOffset = (index: number) => Buffer.byteLength(html.slice(0, index), "utf8");
  const fail = (reason: string): HtmlCheck => ({ ok: false, reason });
  let i = 0;
  while (i < html.length) {
    const c = html[i];
    if (c === "&") {
      const decoded = decodeEntityAt(html, i);
      if (decoded === undefined) return fail(`Unsupported HTML entity at byte offset ${byteOffset(i)}`);
      text += decoded.value;
      i = decoded.end;
      continue;
    }
    if (c !== "<") {
      text += c;
      i += 1;
      continue;
    }
    const begin = i;
    if (html[i + 1] === "/") {
      const nameMatch = /^[A-Za-z0-9-]*/.exec(html.slice(i + 2));
      const name = (nameMatch?.[0] ?? "").toLowerCase();
      let j = i + 2 + name.length;
      while (j < html.length && /\s/.test(html[j])) j += 1;
      if (html[j] !== ">") return fail(`Unclosed end tag at byte offset ${byteOffset(begin)}`);
      const open = stack.pop();
      if (open === undefined) return fail(`Unexpected end tag at byte offset ${byteOffset(begin)}`);
      if (open.name !== name) {
        return fail(`Unmatched end tag at byte offset ${byteOffset(begin)}, expected "</${open.name}>", found "</${name}>"`);
      }
      const entity = entityFor(open, text.length, stack);
      const last = entities[entities.length - 1];
      // <pre><code class="language-x">…</code></pre> already made its pre entity when code closed.
      const coveredByCode = entity?.type === "pre" && last?.type === "pre" && last.offset === entity.offset && last.length === entity.length;
      if (entity && !coveredByCode) entities.push(entity);
      i = j + 1;
      continue;
    }
    const nameMatch = /^[A-Za-z0-9-]*/.exec(html.slice(i + 1));
    const name = (nameMatch?.[0] ?? "").toLowerCase();
    if (!(name in TAG_ENTITY)) return fail(`Unsupported start tag "${name}" at byte offset ${byteOffset(begin)}`);
    let j = i + 1 + name.length;
    const attributes: Record<string, string> = {};
    for (;;) {
      while (j < html.length && /\s/.test(html[j])) j += 1;
      if (j >= html.length) return fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
      if (html[j] === ">") break;
      const attrMatch = /^[A-Za-z0-9_-]*/.exec(html.slice(j));
      const attrName = (attrMatch?.[0] ?? "").toLowerCase();
      if (attrName === "") return fail(`Empty attribute name in the tag "${name}" at byte offset ${byteOffset(begin)}`);
      j += attrName.length;
      while (j < html.length && /\s/.test(html[j])) j += 1;
      if (html[j] !== "=") {
        attributes[attrName] = "";
        continue;
      }
      j += 1;
      while (j < html.length && /\s/.test(html[j])) j += 1;
      if (j >= html.length) return fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
      let raw: string;
      const quote = html[j];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, j + 1);
        if (close < 0) return fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
        raw = html.slice(j + 1, close);
        j = close + 1;
      } else {
        const valueMatch = /^[^\s>]*/.exec(html.slice(j));
        raw = valueMatch?.[0] ?? "";
        j += raw.length;
      }
      const value = decodeAll(raw);
      if (value === undefined) return fail(`Unsupported HTML entity in the attribute "${attrName}" at byte offset ${byteOffset(begin)}`);
      attributes[attrName] = value;
    }
    const problem = startTagProblem(name, attributes, stack);
    if (problem !== undefined) return fail(`${problem} at byte offset ${byteOffset(begin)}`);
    stack.push({ name, offset: text.length, attributes });
    i = j + 1;
  }
  const unclosed = stack.pop();
  if (unclosed !== undefined) return fail(`Can't find end tag corresponding to start tag "${unclosed.name}"`);
  return { ok: true, text, entities: entities.sort((a, b) => a.offset - b.offset || b.length - a.length) };
}

/** Why a start tag is refused where it stands, or undefined when it is fine. */
function startTagProblem(name: string, attributes: Record<string, string>, stack: readonly OpenTag[]): string | undefined {
  if (name === "span" && attributes.class !== "tg-spoiler") return `Unsupported start tag "span"`;
  if (name === "tg-emoji" && !/^[0-9]+$/.test(attributes["emoji-id"] ?? "")) return `Tag "tg-emoji" must have a numeric emoji-id attribute`;
  const parent = stack[stack.length - 1];
  if (parent && (parent.name === "code" || parent.name === "pre")) {
    const codeInPre = parent.name === "pre" && name === "code";
    if (!codeInPre) return `Tag "${name}" can't be nested in tag "${parent.name}"`;
  }
  if (name === "code" && attributes.class !== undefined && !/^language-[^\s]+$/.test(attributes.class)) {
    return `Unsupported class "${attributes.class}" of the tag "code"`;
  }
  if (name === "a" && stack.some((t) => t.name === "a")) return `Tag "a" can't be nested in tag "a"`;
  if (name === "blockquote" && stack.some((t) => t.name === "blockquote")) return `Tag "blockquote" can't be nested in tag "blockquote"`;
  return undefined;
}

/** The entity a closed tag makes, or undefined for an empty one (Telegram drops those). */
function entityFor(open: OpenTag, end: number, stack: readonly OpenTag[]): ParsedEntity | undefined {
  const length = end - open.offset;
  if (length === 0) return undefined;
  const base = { offset: open.offset, length };
  switch (open.name) {
    case "a":
      return { type: "text_link", ...base, url: open.attributes.href ?? "" };
    case "tg-emoji":
      return { type: "custom_emoji", ...base, custom_emoji_id: open.attributes["emoji-id"] };
    case "blockquote":
      return { type: "expandable" in open.attributes ? "expandable_blockquote" : "blockquote", ...base };
    case "code": {
      // <pre><code class="language-x"> makes one pre entity with a language.
      const parent = stack[stack.length - 1];
      if (parent?.name === "pre") {
        const language = open.attributes.class?.replace(/^language-/, "");
        return language ? { type: "pre", ...base, language } : undefined;
      }
      return { type: "code", ...base };
    }
    default:
      return { type: TAG_ENTITY[open.name], ...base };
  }
}

/** Decodes the entity starting at `at` ("&lt;", "&#60;", "&#x3C;"), or undefined when it is not a supported one. */
function decodeEntityAt(source: string, at: number): { value: string; end: number } | undefined {
  const match = /^&(#[xX][0-9A-Fa-f]{1,8}|#[0-9]{1,10}|[A-Za-z]+);/.exec(source.slice(at, at + 16));
  if (!match) return undefined;
  const body = match[1];
  let value: string | undefined;
  if (body.startsWith("#")) {
    const code = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    value = valid ? String.fromCodePoint(code) : undefined;
  } else {
    value = NAMED_ENTITIES[body];
  }
  return value === undefined ? undefined : { value, end: at + match[0].length };
}

function decodeAll(raw: string): string | undefined {
  let out = "";
  let i = 0;
  while (i < raw.length) {
    if (raw[i] !== "&") {
      out += raw[i];
      i += 1;
      continue;
    }
    const decoded = decodeEntityAt(raw, i);
    if (decoded === undefined) return undefined;
    out += decoded.value;
    i = decoded.end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/** How to start a TelegramStandIn. */
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

type Json = Record<string, unknown>;

/** A method's answer: result, or a Bot API error. */
type Outcome = { ok: true; result: unknown } | { ok: false; errorCode: number; description: string; retryAfter?: number; httpStatus?: number };

/** Thrown inside a method implementation to answer a Bot API error. */
class ApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
  ) {
    super(description);
  }
}
const badRequest = (description: string) => new ApiError(400, `Bad Request: ${description}`);

interface StoredMessage {
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
}

interface PollWaiter {
  readonly wake: () => void;
}

/** Telegram refuses getFile for files over 20 MB. */
const GET_FILE_LIMIT_BYTES = 20 * 1024 * 1024;
const CHAT_ACTIONS = new Set([
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

/** A Bot API server on 127.0.0.1 for tests; see the module comment. */
export class TelegramStandIn {
  /** "http://127.0.0.1:<port>": use as TELEGRAM_API_URL. */
  readonly url: string;
  /** Every call with the right token, in arrival order. */
  readonly calls: RecordedCall[] = [];
  /** Current setWebhook state. */
  webhook: WebhookState = { url: "" };

  /** The bot's user id (getMe; the sender of its messages). */
  readonly botId: number;
  private readonly botUsername: string;
  private readonly chats = new Map<number, StoredMessage[]>();
  private readonly nextMessageId = new Map<number, number>();
  private readonly faults = new Map<string, TelegramFault[]>();
  private readonly delays = new Map<string, number[]>();
  private readonly files = new Map<string, { stored: StoredFile; data: Buffer }>();
  private readonly updates: Json[] = [];
  private readonly waiters = new Set<PollWaiter>();
  private readonly sleepers = new Set<PollWaiter>();
  private commands: unknown[] = [];
  private fileCounter = 0;
  private stopped = false;

  private constructor(
    private readonly server: Server,
    private readonly token: string,
    options: TelegramStandInOptions,
  ) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fromToken = Number(token.split(":")[0]);
    this.botId = options.botId ?? (Number.isSafeInteger(fromToken) && fromToken > 0 ? fromToken : 123456);
    this.botUsername = options.botUsername ?? "TestBot";
  }

  /** Starts the stand-in on a free loopback port. */
  static async start(options: TelegramStandInOptions): Promise<TelegramStandIn> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const standIn = new TelegramStandIn(server, options.token, options);
    server.on("request", (req, res) => {
      standIn.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { ok: false, error_code: 500, description: `Internal Server Error: ${String(error)}` });
        else res.destroy();
      });
    });
    return standIn;
  }

  /** The calls of one method, in order. */
  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The text a user sees in a chat, in order: each sendMessage text, and edits replace the text of their message; drafts and documents excluded. */
  messagesIn(chatId: number): ChatMessage[] {
    return (this.chats.get(chatId) ?? [])
      .filter((m) => m.kind === "text")
      .map((m) => ({
        messageId: m.messageId,
        text: m.text,
        ...(m.parseMode !== undefined ? { parseMode: m.parseMode } : {}),
        plainText: m.plainText,
        edits: m.edits,
      }));
  }

  /** The documents sent to a chat (sendDocument), in order. */
  documentsIn(chatId: number): { messageId: number; filename: string; data: Buffer; caption?: string }[] {
    return (this.chats.get(chatId) ?? [])
      .filter((m) => m.kind === "document")
      .map((m) => {
        const fileId = String(m.document?.file_id);
        return {
          messageId: m.messageId,
          filename: String(m.document?.file_name ?? ""),
          data: this.files.get(fileId)?.data ?? Buffer.alloc(0),
          ...(m.caption !== undefined ? { caption: m.caption } : {}),
        };
      });
  }

  /** The next call(s) of `method` answer with this error (queued after earlier faults). */
  failNext(method: string, fault: TelegramFault): void {
    const queue = this.faults.get(method) ?? [];
    for (let n = 0; n < (fault.times ?? 1); n += 1) queue.push(fault);
    this.faults.set(method, queue);
  }

  /** The next call of `method` is processed and answered only after `ms`. */
  delayNext(method: string, ms: number): void {
    const queue = this.delays.get(method) ?? [];
    queue.push(ms);
    this.delays.set(method, queue);
  }

  /** Registers a file that getFile and the file URL serve, as if a user had sent it. */
  addFile(content: Buffer | string, options: { filePath?: string } = {}): StoredFile {
    this.fileCounter += 1;
    const data = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    const file_id = `BQACAgIAAx${this.fileCounter}${randomBytes(12).toString("base64url")}`;
    const stored: StoredFile = {
      file_id,
      file_unique_id: `AgAD${this.fileCounter}${randomBytes(4).toString("hex")}`,
      file_size: data.length,
      file_path: options.filePath ?? `documents/file_${this.fileCounter}.json`,
    };
    this.files.set(file_id, { stored, data });
    return stored;
  }

  /** Queues an update for getUpdates (and wakes a long poll). */
  pushUpdate(update: object): void {
    this.updates.push(update as Json);
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  /** Forgets calls, faults, delays, files, queued updates, chats, commands and the webhook. */
  reset(): void {
    this.calls.length = 0;
    this.faults.clear();
    this.delays.clear();
    this.files.clear();
    this.updates.length = 0;
    this.chats.clear();
    this.nextMessageId.clear();
    this.commands = [];
    this.webhook = { url: "" };
  }

  /** Stops the server: ends long polls and delayed answers, closes every connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const waiter of [...this.waiters, ...this.sleepers]) waiter.wake();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // -- request handling ---------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const body = await readBody(req);
    const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (fileMatch) return this.serveFile(res, decodeURIComponent(fileMatch[1]), fileMatch[2]);
    const methodMatch = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!methodMatch) return sendJson(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    if (decodeURIComponent(methodMatch[1]) !== this.token) {
      return sendJson(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
    }
    const implementation = this.methodFor(methodMatch[2]);
    if (!implementation) return sendJson(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    const [method, run] = implementation;

    let parsed: { params: Json; files: Record<string, RecordedFile> };
    try {
      parsed = await parseParams(req, url, body);
    } catch {
      return sendJson(res, 400, { ok: false, error_code: 400, description: "Bad Request: can't parse request parameters" });
    }
    this.calls.push({ method, params: parsed.params, files: parsed.files, at: Date.now() });

    const delay = this.delays.get(method)?.shift();
    if (delay !== undefined) await this.sleep(delay);
    if (this.stopped) return void res.destroy();

    const fault = this.faults.get(method)?.shift();
    let outcome: Outcome;
    if (fault) {
      outcome = { ok: false, ...fault };
    } else {
      try {
        outcome = { ok: true, result: await run(parsed.params, parsed.files) };
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        outcome = { ok: false, errorCode: error.errorCode, description: error.description };
      }
    }
    if (this.stopped || res.destroyed) return void res.destroy();
    if (outcome.ok) return sendJson(res, 200, { ok: true, result: outcome.result });
    sendJson(res, outcome.httpStatus ?? outcome.errorCode, {
      ok: false,
      error_code: outcome.errorCode,
      description: outcome.description,
      ...(outcome.retryAfter !== undefined ? { parameters: { retry_after: outcome.retryAfter } } : {}),
    });
  }

  private serveFile(res: ServerResponse, token: string, filePath: string): void {
    if (token !== this.token) return sendJson(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
    const path = decodeURIComponent(filePath);
    const file = [...this.files.values()].find((f) => f.stored.file_path === path);
    if (!file) return sendJson(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(file.data.length) });
    res.end(file.data);
  }

  /** The implementation of a method (Bot API method names are case-insensitive). */
  private methodFor(name: string): [string, (params: Json, files: Record<string, RecordedFile>) => unknown] | undefined {
    const table: Record<string, (params: Json, files: Record<string, RecordedFile>) => unknown> = {
      getMe: () => this.getMe(),
      sendMessage: (p) => this.sendMessage(p),
      editMessageText: (p) => this.editMessageText(p),
      sendMessageDraft: (p) => this.sendMessageDraft(p),
      sendChatAction: (p) => this.sendChatAction(p),
      sendDocument: (p, f) => this.sendDocument(p, f),
      deleteMessage: (p) => this.deleteMessage(p),
      getFile: (p) => this.getFile(p),
      setWebhook: (p) => this.setWebhook(p),
      deleteWebhook: (p) => this.deleteWebhook(p),
      getWebhookInfo: () => this.getWebhookInfo(),
      getUpdates: (p) => this.getUpdates(p),
      setMyCommands: (p) => this.setMyCommands(p),
      getMyCommands: () => this.commands,
      deleteMyCommands: () => {
        this.commands = [];
        return true;
      },
      answerCallbackQuery: () => true,
    };
    const key = Object.keys(table).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : [key, table[key]];
  }

  // -- methods --------------------------------------------------------------------------------

  private getMe(): Json {
    return {
      id: this.botId,
      is_bot: true,
      first_name: "Test Bot",
      username: this.botUsername,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
  }

  private sendMessage(params: Json): Json {
    const chatId = requireChatId(params);
    const { text, plainText, entities, parseMode } = parseText(params.text, params.parse_mode, { allowEmpty: false });
    const message = this.store(chatId, { kind: "text", text, parseMode, plainText, entities });
    return this.messageJson(chatId, message);
  }

  private editMessageText(params: Json): Json {
    if (params.inline_message_id !== undefined) throw badRequest("inline messages are not supported by the stand-in");
    const chatId = requireChatId(params);
    const messageId = toInteger(params.message_id);
    if (messageId === undefined) throw badRequest("message identifier is not specified");
    const message = this.chats.get(chatId)?.find((m) => m.messageId === messageId);
    if (!message) throw badRequest("message to edit not found");
    if (message.kind !== "text") throw badRequest("there is no text in the message to edit");
    const parsed = parseText(params.text, params.parse_mode, { allowEmpty: false });
    if (parsed.text === message.text && parsed.parseMode === message.parseMode) {
      throw badRequest(
        "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
      );
    }
    Object.assign(message, { text: parsed.text, parseMode: parsed.parseMode, plainText: parsed.plainText, entities: parsed.entities });
    message.edits += 1;
    message.editDate = nowSeconds();
    return this.messageJson(chatId, message);
  }

  private sendMessageDraft(params: Json): true {
    const chatId = requireChatId(params);
    if (chatId <= 0) throw badRequest("draft can be sent only to private chats");
    const draftId = toInteger(params.draft_id);
    if (draftId === undefined || draftId === 0) throw badRequest("draft_id must be non-zero");
    parseText(params.text ?? "", params.parse_mode, { allowEmpty: true });
    return true;
  }

  private sendChatAction(params: Json): true {
    requireChatId(params);
    if (typeof params.action !== "string" || !CHAT_ACTIONS.has(params.action)) throw badRequest("wrong parameter action in request");
    return true;
  }

  private sendDocument(params: Json, files: Record<string, RecordedFile>): Json {
    const chatId = requireChatId(params);
    let document: Json;
    const upload = files.document;
    if (upload) {
      const stored = this.addFile(upload.data, { filePath: `documents/file_${this.fileCounter + 1}_${upload.filename}` });
      document = {
        file_id: stored.file_id,
        file_unique_id: stored.file_unique_id,
        file_name: upload.filename,
        mime_type: upload.contentType,
        file_size: stored.file_size,
      };
    } else if (typeof params.document === "string" && this.files.has(params.document)) {
      const { stored } = this.files.get(params.document) as { stored: StoredFile };
      document = { file_id: stored.file_id, file_unique_id: stored.file_unique_id, file_size: stored.file_size };
    } else {
      throw badRequest(params.document === undefined ? "there is no document in the request" : "wrong file identifier/HTTP URL specified");
    }
    const caption = params.caption === undefined ? undefined : parseText(params.caption, params.parse_mode, { allowEmpty: true, what: "caption" });
    const message = this.store(chatId, {
      kind: "document",
      text: "",
      plainText: "",
      entities: [],
      document,
      ...(caption ? { caption: caption.plainText } : {}),
    });
    return this.messageJson(chatId, message);
  }

  private deleteMessage(params: Json): true {
    const chatId = requireChatId(params);
    const messages = this.chats.get(chatId) ?? [];
    const at = messages.findIndex((m) => m.messageId === toInteger(params.message_id));
    if (at < 0) throw badRequest("message to delete not found");
    messages.splice(at, 1);
    return true;
  }

  private getFile(params: Json): StoredFile {
    const file = typeof params.file_id === "string" ? this.files.get(params.file_id) : undefined;
    if (!file) throw badRequest("invalid file_id");
    if (file.data.length > GET_FILE_LIMIT_BYTES) throw badRequest("file is too big");
    return file.stored;
  }

  private setWebhook(params: Json): true {
    const url = typeof params.url === "string" ? params.url : "";
    if (url !== "" && !/^https:\/\//i.test(url)) throw badRequest("bad webhook: An HTTPS URL must be provided for webhook");
    const secret = params.secret_token;
    if (secret !== undefined && (typeof secret !== "string" || !/^[A-Za-z0-9_-]{1,256}$/.test(secret))) {
      throw badRequest("secret token contains unallowed characters");
    }
    const allowedUpdates = toStringArray(params.allowed_updates);
    const dropPendingUpdates = toBoolean(params.drop_pending_updates);
    if (dropPendingUpdates) this.updates.length = 0;
    this.webhook = {
      url,
      ...(typeof secret === "string" ? { secretToken: secret } : {}),
      ...(allowedUpdates ? { allowedUpdates } : {}),
      ...(dropPendingUpdates !== undefined ? { dropPendingUpdates } : {}),
    };
    return true;
  }

  private deleteWebhook(params: Json): true {
    if (toBoolean(params.drop_pending_updates)) this.updates.length = 0;
    this.webhook = { url: "" };
    return true;
  }

  private getWebhookInfo(): Json {
    const w = this.webhook;
    return {
      url: w.url,
      has_custom_certificate: false,
      pending_update_count: this.updates.length,
      ...(w.url !== "" ? { max_connections: 40, ip_address: "127.0.0.1" } : {}),
      ...(w.lastErrorDate !== undefined ? { last_error_date: w.lastErrorDate } : {}),
      ...(w.lastErrorMessage !== undefined ? { last_error_message: w.lastErrorMessage } : {}),
      ...(w.allowedUpdates ? { allowed_updates: w.allowedUpdates } : {}),
    };
  }

  private async getUpdates(params: Json): Promise<Json[]> {
    if (this.webhook.url !== "") {
      throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    }
    const offset = toInteger(params.offset);
    const limit = Math.min(Math.max(toInteger(params.limit) ?? 100, 1), 100);
    const timeoutSeconds = Math.max(toInteger(params.timeout) ?? 0, 0);
    if (offset !== undefined && offset > 0) {
      // Confirms every update below offset.
      const keep = this.updates.filter((u) => Number(u.update_id) >= offset);
      this.updates.splice(0, this.updates.length, ...keep);
    }
    const pick = () => (offset !== undefined && offset < 0 ? this.updates.slice(offset) : this.updates).slice(0, limit);
    if (pick().length === 0 && timeoutSeconds > 0 && !this.stopped) {
      await new Promise<void>((resolve) => {
        const waiter: PollWaiter = {
          wake: () => {
            this.waiters.delete(waiter);
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => waiter.wake(), timeoutSeconds * 1000);
        this.waiters.add(waiter);
      });
    }
    return pick();
  }

  private setMyCommands(params: Json): true {
    const commands = typeof params.commands === "string" ? safeJson(params.commands) : params.commands;
    if (!Array.isArray(commands)) throw badRequest("can't parse commands JSON object");
    this.commands = commands;
    return true;
  }

  // -- helpers ----------------------------------------------------------------------------------

  private store(chatId: number, content: Omit<StoredMessage, "messageId" | "edits" | "date">): StoredMessage {
    const messageId = this.nextMessageId.get(chatId) ?? 1;
    this.nextMessageId.set(chatId, messageId + 1);
    const message: StoredMessage = { ...content, messageId, edits: 0, date: nowSeconds() };
    const list = this.chats.get(chatId) ?? [];
    list.push(message);
    this.chats.set(chatId, list);
    return message;
  }

  private messageJson(chatId: number, message: StoredMessage): Json {
    return {
      message_id: message.messageId,
      from: { id: this.botId, is_bot: true, first_name: "Test Bot", username: this.botUsername },
      chat: chatJson(chatId),
      date: message.date,
      ...(message.editDate !== undefined ? { edit_date: message.editDate } : {}),
      ...(message.kind === "text" ? { text: message.plainText } : {}),
      ...(message.kind === "text" && message.entities.length > 0 ? { entities: message.entities } : {}),
      ...(message.document ? { document: message.document } : {}),
      ...(message.caption !== undefined ? { caption: message.caption } : {}),
    };
  }

  /** Waits ms, or less when stop() comes first. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: PollWaiter = {
        wake: () => {
          this.sleepers.delete(waiter);
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => waiter.wake(), ms);
      this.sleepers.add(waiter);
    });
  }
}

/** Parses and validates message text like the Bot API; throws the 400 Telegram would answer. */
function parseText(
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

function requireChatId(params: Json): number {
  const chatId = toInteger(params.chat_id);
  if (params.chat_id === undefined || params.chat_id === "") throw badRequest("chat_id is empty");
  if (chatId === undefined || chatId === 0) throw badRequest("chat not found");
  return chatId;
}

/** A Chat for an id: positive = private, -100… = supergroup, other negative = group. */
function chatJson(chatId: number): Json {
  if (chatId > 0) return { id: chatId, type: "private", first_name: "Test" };
  if (chatId <= -1_000_000_000_000) return { id: chatId, type: "supergroup", title: "Test supergroup" };
  return { id: chatId, type: "group", title: "Test group" };
}

function toInteger(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") return value === "true" || value === "1";
  return undefined;
}

function toStringArray(value: unknown): string[] | undefined {
  const parsed = typeof value === "string" ? safeJson(value) : value;
  return Array.isArray(parsed) ? parsed.map(String) : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);


/** Parameters from the query string and the body (JSON, urlencoded or multipart), as the Bot API accepts them. */
async function parseParams(req: IncomingMessage, url: URL, body: Buffer): Promise<{ params: Json; files: Record<string, RecordedFile> }> {
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}
