import { ServiceError } from "../net/errors";
import type { ChatAllowance } from "../conversation/usage-gate";
import type { UpdateContext } from "../conversation/update-context";
import {
  cutNoteText,
  decodeText,
  displayName,
  documentKindOf,
  emptyFileText,
  fileKeptText,
  fileMessage,
  isCut,
  notTextText,
  pdfFileMessage,
  pdfProblemText,
  scannedPdfText,
  tooLargeText,
  unsupportedText,
  type FileMessage,
} from "../format/document-text";
import { parseArchive } from "../store/archive-format";
import { FileTooLargeError } from "../telegram/client";
import { storeUserMessage } from "./active-session";
import { handleChat } from "./chat";
import { messageBudget } from "./context-window";
import { readPdfText } from "./pdf-text";
import { effectiveSystemPrompt } from "./system-prompt";

/**
 * A document sent with a question (its caption) is read, and its text goes to the model in the
 * user's message, marked with the file's name and cut to a share of the context budget
 * (format/document-text.ts): text files by extension (UTF-8; binary refused) and PDFs by their
 * text layer (pdf-text.ts, in a worker). The message is stored as sent, so later questions still
 * have the file, and /export carries it as the message's text.
 *
 * A document sent without a caption is stored the same way, as a user message of its own, and
 * the bot says it is ready for the question: the next message is an ordinary chat message, whose
 * context holds the file. Nothing is pending between the two, so each is exactly-once on its own:
 * the file is stored under the update's key (a rerun rewrites the same item) and the reply is a
 * journaled send (a rerun skips one an earlier attempt began).
 *
 * Nothing is stored before the file was read; every refusal is one sentence naming why.
 */

/**
 * The share of the context budget (what the system prompt leaves) a file's message may take:
 * the rest is for the answer and the next question, so a follow-up still has the file.
 */
export const FILE_SHARE_OF_CONTEXT = 0.75;

/** Said when getFile gives no path to download from. */
export const FILE_GONE_TEXT = "Telegram did not let me download that file. Please send it again.";

/** A document read: a JSON archive (imported, as /export's files are), or a file made the user's message. */
export type DocumentRead =
  | { readonly kind: "archive" }
  | { readonly kind: "file"; readonly name: string; readonly message: FileMessage; readonly asked: boolean };

/**
 * Reads the update's document, or tells the user why not (undefined): another kind of file, one
 * over DOCUMENT_MAX_BYTES (refused before any download when Telegram announces its size, and
 * while downloading otherwise), binary or empty text, or a PDF without a text layer. A JSON file
 * that is a valid archive is an archive (it is downloaded again by the import).
 */
export async function readDocument(ctx: UpdateContext): Promise<DocumentRead | undefined> {
  const document = ctx.message.document;
  if (!document) return undefined;
  const name = displayName(document.file_name);
  const kind = documentKindOf(document.file_name, document.mime_type);
  if (kind === "unsupported") return refuse(ctx, unsupportedText(name, document.mime_type), "unsupported");
  const limit = ctx.config.maxDocumentBytes;
  if (document.file_size !== undefined && document.file_size > limit) return refuse(ctx, tooLargeText(name, limit), "too_large");
  const bytes = await download(ctx, document.file_id, name);
  if (!bytes) return undefined;
  if (kind === "json" && bytes.length <= ctx.config.maxImportBytes && (await parseArchive(bytes)).ok) return { kind: "archive" };
  const question = (ctx.message.caption ?? "").trim();
  const room = await fileRoom(ctx);
  const message = kind === "pdf" ? await pdfMessage(ctx, bytes, name, question, room) : await textMessage(ctx, bytes, name, question, room);
  if (!message) return undefined;
  ctx.log.info("document read", { action: "read_document", outcome: "success", kind, bytes: bytes.length, chars: message.totalChars, shown_chars: message.shownChars });
  return { kind: "file", name, message, asked: question.length > 0 };
}

/**
 * Answers a file read by {@link readDocument}: with its question, through the chat path (a note
 * first when the file was cut, saying which part the model sees); without one, it is stored and
 * the user is asked for the question.
 */
export async function answerDocument(ctx: UpdateContext, file: Extract<DocumentRead, { kind: "file" }>, allowance: ChatAllowance): Promise<void> {
  const { name, message } = file;
  if (!file.asked) {
    await storeUserMessage(ctx, await ctx.sessions.getActiveSessionId(ctx.userId), message.content, 1);
    await ctx.reply(fileKeptText(name, message));
    return;
  }
  if (isCut(message)) await ctx.reply(cutNoteText(name, message));
  await handleChat(ctx, message.content, undefined, allowance);
}

/** Tells the user why the file is not read; undefined, for the caller to return. */
async function refuse(ctx: UpdateContext, text: string, reason: string): Promise<undefined> {
  ctx.log.info("document refused", { action: "read_document", outcome: "ignored", reason });
  await ctx.reply(text);
  return undefined;
}

/** The characters a file's message may have in the active session: its share of what the session's system prompt leaves. */
async function fileRoom(ctx: UpdateContext): Promise<number> {
  const { session } = await ctx.sessions.getActive(ctx.userId);
  return Math.floor(messageBudget(ctx.config.contextCharBudget, effectiveSystemPrompt(session, ctx.config).text) * FILE_SHARE_OF_CONTEXT);
}

/** The file's bytes, or undefined once the user was told it is too large (by getFile, Telegram or the download) or gone. */
async function download(ctx: UpdateContext, fileId: string, name: string): Promise<Uint8Array | undefined> {
  const limit = ctx.config.maxDocumentBytes;
  try {
    const file = await ctx.bot.call("getFile", { file_id: fileId });
    if (file.file_size !== undefined && file.file_size > limit) return await refuse(ctx, tooLargeText(name, limit), "too_large");
    if (!file.file_path) return await refuse(ctx, FILE_GONE_TEXT, "no_file_path");
    return await ctx.bot.downloadFile(file.file_path, limit);
  } catch (err) {
    // Telegram refuses getFile over its own 20 MB limit with a 400 ("file is too big").
    const tooBig = err instanceof FileTooLargeError || (err instanceof ServiceError && err.status === 400 && /too big/i.test(err.description));
    if (tooBig) return refuse(ctx, tooLargeText(name, limit), "too_large");
    throw err;
  }
}

/** A text file's message, or undefined once the user was told it is binary or empty. */
async function textMessage(ctx: UpdateContext, bytes: Uint8Array, name: string, question: string, room: number): Promise<FileMessage | undefined> {
  const text = decodeText(bytes);
  if (text === undefined) return refuse(ctx, notTextText(name), "not_text");
  if (!text.trim()) return refuse(ctx, emptyFileText(name), "empty");
  return fileMessage(name, text, question, room);
}

/** A PDF's message, or undefined once the user was told it has no text layer or could not be read. */
async function pdfMessage(ctx: UpdateContext, bytes: Uint8Array, name: string, question: string, room: number): Promise<FileMessage | undefined> {
  const read = await readPdfText(bytes, room);
  if (!read.ok) return refuse(ctx, pdfProblemText(name, read.problem), read.problem);
  const message = pdfFileMessage(name, read.pages, read.totalPages, question, room);
  if (message.totalChars === 0) return refuse(ctx, scannedPdfText(name), "no_text_layer");
  return message;
}
