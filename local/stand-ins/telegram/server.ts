/**
 * A small HTTP server speaking the Telegram Bot API's documented wire format
 * (https://core.telegram.org/bots/api), for tests, local mode and the benchmark: methods at
 * {url}/bot{token}/{method} (GET or POST; query string, JSON, urlencoded or multipart
 * parameters), files at {url}/file/bot{token}/{file_path}. It keeps the chats' messages so a
 * test can read what a user would see, and it can fail or slow down chosen calls. The HTML
 * checker is in html-check.ts, the parameter parsing in wire.ts, and the webhook
 * and getUpdates queue in updates.ts.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "../../read-body";
import { callbackQueryUpdate, markupJson, parseReplyMarkup } from "./keyboards";
import { answerCallbackQuery, getMe, sendChatAction, sendMessageDraft } from "./simple-methods";
import { UpdateFeed } from "./updates";
import {
  ApiError,
  badRequest,
  chatJson,
  GET_FILE_LIMIT_BYTES,
  nowSeconds,
  parseParams,
  parseText,
  requireChatId,
  safeJson,
  sendJson,
  toInteger,
  type ChatMessage,
  type Json,
  type Outcome,
  type RecordedCall,
  type RecordedFile,
  type StoredFile,
  type StoredMessage,
  type TelegramFault,
  type TelegramStandInOptions,
  type WebhookState,
} from "./wire";

export { checkTelegramHtml, type HtmlCheck, type ParsedEntity } from "./html-check";
export type { ChatMessage, RecordedCall, RecordedFile, StoredFile, TelegramFault, TelegramStandInOptions, WebhookState } from "./wire";

interface PollWaiter {
  readonly wake: () => void;
}

/** A Bot API server on 127.0.0.1 for tests; see the module comment. */
export class TelegramStandIn {
  /** "http://127.0.0.1:<port>": use as TELEGRAM_API_URL. */
  readonly url: string;
  /** Every call with the right token, in arrival order. */
  readonly calls: RecordedCall[] = [];
  /** Current setWebhook state (tests may set it, to simulate a webhook or its delivery errors). */
  get webhook(): WebhookState {
    return this.feed.webhook;
  }
  set webhook(state: WebhookState) {
    this.feed.webhook = state;
  }

  /** The bot's user id (getMe; the sender of its messages). */
  readonly botId: number;
  private readonly botUsername: string;
  private readonly chats = new Map<number, StoredMessage[]>();
  private readonly nextMessageId = new Map<number, number>();
  private readonly faults = new Map<string, TelegramFault[]>();
  private readonly delays = new Map<string, number[]>();
  private readonly files = new Map<string, { stored: StoredFile; data: Buffer }>();
  private readonly feed = new UpdateFeed();
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
        buttons: m.buttons ?? [],
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

  /** Forgets a file, as Telegram answers for a file_id it does not know: getFile then fails with 400. */
  forgetFile(fileId: string): void {
    this.files.delete(fileId);
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

  /**
   * The callback_query update of `userId` pressing the button whose text contains `label`
   * (or whose callback_data is exactly `label`) on message `messageId` of the chat; throws when
   * there is no such button. With `data`, the press carries that data instead (a forged press).
   */
  press(chatId: number, messageId: number, label: string, options: { updateId: number; userId?: number; data?: string }): Json {
    const message = this.chats.get(chatId)?.find((m) => m.messageId === messageId);
    const found = message?.buttons?.flat().find((b) => b.data === label || b.text.includes(label));
    if (!message || (!found && options.data === undefined)) throw new Error(`no button "${label}" on message ${messageId} of chat ${chatId}`);
    return callbackQueryUpdate({
      updateId: options.updateId,
      chatId,
      messageId,
      userId: options.userId ?? chatId,
      data: options.data ?? found!.data,
      message: this.messageJson(chatId, message),
    });
  }

  /** Queues an update for getUpdates (and wakes a long poll). */
  pushUpdate(update: object): void {
    this.feed.push(update);
  }

  /** Forgets calls, faults, delays, files, queued updates, chats, commands and the webhook. */
  reset(): void {
    this.calls.length = 0;
    this.faults.clear();
    this.delays.clear();
    this.files.clear();
    this.feed.reset();
    this.chats.clear();
    this.nextMessageId.clear();
    this.commands = [];
  }

  /** Stops the server: ends long polls and delayed answers, closes every connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.feed.stop();
    for (const waiter of [...this.sleepers]) waiter.wake();
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
      getMe: () => getMe(this.botId, this.botUsername),
      sendMessage: (p) => this.sendMessage(p),
      editMessageText: (p) => this.editMessageText(p),
      sendMessageDraft: (p) => sendMessageDraft(p),
      sendChatAction: (p) => sendChatAction(p),
      sendDocument: (p, f) => this.sendDocument(p, f),
      deleteMessage: (p) => this.deleteMessage(p),
      getFile: (p) => this.getFile(p),
      setWebhook: (p) => this.feed.setWebhook(p),
      deleteWebhook: (p) => this.feed.deleteWebhook(p),
      getWebhookInfo: () => this.feed.getWebhookInfo(),
      getUpdates: (p) => this.feed.getUpdates(p),
      setMyCommands: (p) => this.setMyCommands(p),
      getMyCommands: () => this.commands,
      deleteMyCommands: () => {
        this.commands = [];
        return true;
      },
      answerCallbackQuery: (p) => answerCallbackQuery(p),
      editMessageReplyMarkup: (p) => this.editMessageReplyMarkup(p),
    };
    const key = Object.keys(table).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : [key, table[key]];
  }

  // -- methods --------------------------------------------------------------------------------

  private sendMessage(params: Json): Json {
    const chatId = requireChatId(params);
    const { text, plainText, entities, parseMode } = parseText(params.text, params.parse_mode, { allowEmpty: false });
    const buttons = parseReplyMarkup(params.reply_markup);
    const message = this.store(chatId, { kind: "text", text, parseMode, plainText, entities, ...(buttons ? { buttons } : {}) });
    return this.messageJson(chatId, message);
  }

  /** The message an edit names; Telegram's 400s when there is none. */
  private messageToEdit(params: Json): { chatId: number; message: StoredMessage } {
    if (params.inline_message_id !== undefined) throw badRequest("inline messages are not supported by the stand-in");
    const chatId = requireChatId(params);
    const messageId = toInteger(params.message_id);
    if (messageId === undefined) throw badRequest("message identifier is not specified");
    const message = this.chats.get(chatId)?.find((m) => m.messageId === messageId);
    if (!message) throw badRequest("message to edit not found");
    return { chatId, message };
  }

  private editMessageText(params: Json): Json {
    const { chatId, message } = this.messageToEdit(params);
    if (message.kind !== "text") throw badRequest("there is no text in the message to edit");
    const parsed = parseText(params.text, params.parse_mode, { allowEmpty: false });
    // An edit without reply_markup removes the buttons, as Telegram does.
    const buttons = parseReplyMarkup(params.reply_markup) ?? [];
    const sameButtons = JSON.stringify(buttons) === JSON.stringify(message.buttons ?? []);
    if (parsed.text === message.text && parsed.parseMode === message.parseMode && sameButtons) {
      throw badRequest(
        "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
      );
    }
    Object.assign(message, { text: parsed.text, parseMode: parsed.parseMode, plainText: parsed.plainText, entities: parsed.entities, buttons });
    message.edits += 1;
    message.editDate = nowSeconds();
    return this.messageJson(chatId, message);
  }

  private editMessageReplyMarkup(params: Json): Json {
    const { chatId, message } = this.messageToEdit(params);
    const buttons = parseReplyMarkup(params.reply_markup) ?? [];
    if (JSON.stringify(buttons) === JSON.stringify(message.buttons ?? [])) throw badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
    message.buttons = buttons;
    return this.messageJson(chatId, message);
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
      ...markupJson(message.buttons),
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
