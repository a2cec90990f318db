import { formatSize } from "./views";

/**
 * A document sent to the bot with a question, as text: which files are read (by extension, then
 * MIME type), their bytes decoded as UTF-8 (binary refused), a PDF's pages joined, the text
 * marked with the file's name and cut to the room it has in the context, and every sentence the
 * user is told along the way. Pure: handler/chat/document.ts does the downloading and asking.
 */

/** How a document is read: as text, as JSON (text, unless it is an archive), as a PDF, or not at all. */
export type DocumentKind = "text" | "json" | "pdf" | "unsupported";

/** Extensions read as text: prose, data, configuration and source code. */
export const TEXT_EXTENSIONS: ReadonlySet<string> = new Set(
  ("txt md markdown rst tex log csv tsv jsonl yaml yml toml ini cfg conf env xml html htm css scss js mjs cjs jsx ts tsx " +
    "vue py go rs java kt scala c h cc cpp hpp cs swift m rb php pl lua r dart ex hs sh bash zsh ps1 bat sql graphql proto tf diff patch").split(" "),
);

/** Names without an extension that are text all the same. */
const TEXT_NAMES = new Set(["dockerfile", "makefile", "readme", "license", ".gitignore"]);

/** MIME types besides text/* read as text, for a file whose extension says nothing. */
const TEXT_MIME_TYPES = new Set(["application/xml", "application/x-yaml", "application/x-sh"]);

/** What the bot reads, as the refusal of another kind of file says it. */
export const ACCEPTED_FILES =
  "text files (plain text, Markdown, CSV, JSON, source code such as .py, .ts, .go or .sql, configuration such as .yaml or .toml) and PDFs with a text layer";

/** The most characters of a file's name shown in its marker and in replies. */
export const FILE_NAME_MAX_CHARS = 100;

/**
 * Decoded text may have at most this share of characters that were not valid UTF-8 (a stray
 * byte of another encoding); above it, or with any NUL byte, the file is taken as binary.
 */
export const MAX_UNDECODABLE_SHARE = 0.01;

/** True for a file named or typed as JSON: the files the archive import takes (commands/import.ts's test). Pure. */
export function isJsonDocument(fileName: string | undefined, mimeType: string | undefined): boolean {
  return /\.json$/i.test(fileName ?? "") || mimeType === "application/json";
}

/** How a file is read, by its extension first (Telegram often guesses MIME types: .ts as video/mp2t), else its MIME type. Pure. */
export function documentKindOf(fileName: string | undefined, mimeType: string | undefined): DocumentKind {
  const name = (fileName ?? "").toLowerCase();
  const extension = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : "";
  if (extension === "pdf" || extension === "json") return extension;
  if (TEXT_EXTENSIONS.has(extension) || TEXT_NAMES.has(name)) return "text";
  if (mimeType === "application/pdf") return "pdf";
  if (mimeType === "application/json") return "json";
  return mimeType?.startsWith("text/") || TEXT_MIME_TYPES.has(mimeType ?? "") ? "text" : "unsupported";
}

/** The file's name as markers and replies show it: one line, no brackets, at most FILE_NAME_MAX_CHARS. Pure. */
export function displayName(fileName: string | undefined): string {
  const chars = [...(fileName ?? "").replace(/[\p{Cc}[\]]/gu, "_").trim()];
  if (chars.length === 0) return "the file";
  return chars.length > FILE_NAME_MAX_CHARS ? `${chars.slice(0, FILE_NAME_MAX_CHARS - 1).join("")}…` : chars.join("");
}

/**
 * The bytes as UTF-8 text (a byte order mark dropped, line ends made \n, trailing space
 * trimmed), or undefined for binary: a NUL byte, or more than MAX_UNDECODABLE_SHARE of
 * characters that could not be decoded. Pure.
 */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  const text = new TextDecoder("utf-8").decode(bytes);
  const undecodable = text.length - text.replaceAll("\uFFFD", "").length;
  if (undecodable > text.length * MAX_UNDECODABLE_SHARE) return undefined;
  return text.replace(/\r\n?/g, "\n").trimEnd();
}

/** A page's text with runs of spaces made one and at most one blank line in a row. Pure. */
const tidyPage = (page: string) => page.replace(/[^\S\n]+/g, " ").replace(/ ?\n ?/g, "\n").replace(/\n{3,}/g, "\n\n").trim();

/** The text of a PDF's pages, as far as they were read: pages apart by a blank line, empty ones left out. Pure. */
export function pdfPagesText(pages: readonly string[]): string {
  return pages.map(tidyPage).filter((page) => page.length > 0).join("\n\n");
}

/** A file made the user's message: what is stored and sent, and how much of the file it holds. */
export interface FileMessage {
  /** `[file <name>]\n<text>\n[/file]`, then a blank line and the question when there is one. */
  readonly content: string;
  /** Characters of the file's text in `content` (the first ones). */
  readonly shownChars: number;
  /** Characters of the text that was read (a PDF read in part: of its pages read). */
  readonly totalChars: number;
  /** A PDF read only in part, as it stopped once it had more text than fits: the last page shown, of how many. */
  readonly pages?: { readonly through: number; readonly of: number };
}

/**
 * The user's message for a file and its question (`""`: none yet), at most `room` characters:
 * the file's text is cut to what is left beside the markers and the question (never inside a
 * surrogate pair), so the model always sees the name, the start of the file and the question. Pure.
 */
export function fileMessage(name: string, text: string, question: string, room: number): FileMessage {
  const head = `[file ${name}]\n`;
  const tail = `\n[/file]${question ? `\n\n${question}` : ""}`;
  let shown = text.slice(0, Math.max(0, room - head.length - tail.length));
  if (shown.length < text.length && /[\uD800-\uDBFF]$/.test(shown)) shown = shown.slice(0, -1);
  return { content: `${head}${shown}${tail}`, shownChars: shown.length, totalChars: text.length };
}

/**
 * {@link fileMessage} for a PDF's pages, read from the first (`pages.length` of `totalPages`).
 * When not every page was read, the message says up to which page its text goes. Pure.
 */
export function pdfFileMessage(name: string, pages: readonly string[], totalPages: number, question: string, room: number): FileMessage {
  const tidy = pages.map(tidyPage);
  const message = fileMessage(name, tidy.filter((page) => page.length > 0).join("\n\n"), question, room);
  if (pages.length >= totalPages) return message;
  let start = 0;
  let through = 1;
  tidy.forEach((page, i) => {
    if (!page || start >= message.shownChars) return;
    through = i + 1;
    start += page.length + 2;
  });
  return { ...message, pages: { through, of: totalPages } };
}

const count = (n: number) => n.toLocaleString("en-US");

/** True when the message holds only part of the file. Pure. */
export const isCut = (message: FileMessage) => message.shownChars < message.totalChars || message.pages !== undefined;

/** "its first 9,000 of 41,000 characters", or for a PDF read in part "its first 9,000 characters, up to page 3 of 120". Pure. */
function partShown(message: FileMessage): string {
  const { shownChars, totalChars, pages } = message;
  return pages ? `its first ${count(shownChars)} characters, up to page ${count(pages.through)} of ${count(pages.of)}` : `its first ${count(shownChars)} of ${count(totalChars)} characters`;
}

/** Sent before the answer to a question about a file that was cut: which part the model sees. Pure. */
export function cutNoteText(name: string, message: FileMessage): string {
  return `${name} is too long to read whole: the model sees ${partShown(message)}.`;
}

/** The reply to a file sent without a question: it was kept (cut, when it was), and the next message may ask about it. Pure. */
export function fileKeptText(name: string, message: FileMessage): string {
  const kept = isCut(message) ? `I read ${name}. It is too long to keep whole: the model will see ${partShown(message)}.` : `I read ${name} (${count(message.totalChars)} characters).`;
  return `${kept} Ask your question about it in your next message.`;
}

/** The refusal of a file that is not one the bot reads; a picture sent as a file is told to come as a photo. Pure. */
export function unsupportedText(name: string, mimeType: string | undefined): string {
  const picture = mimeType?.startsWith("image/") ? " To ask about a picture, send it as a photo, not as a file." : "";
  return `I can read ${ACCEPTED_FILES}. ${name} is not one of those.${picture}`;
}

/** The refusal of a file over DOCUMENT_MAX_BYTES. Pure. */
export function tooLargeText(name: string, limitBytes: number): string {
  return `${name} is larger than ${formatSize(limitBytes)}, the most I read. Send a smaller file, or paste the part you mean.`;
}

/** The refusal of a binary file, or text in another encoding than UTF-8. Pure. */
export function notTextText(name: string): string {
  return `I could not read ${name} as text: it is not UTF-8 (a binary file, or text in another encoding). Save it as UTF-8 and send it again.`;
}

/** The refusal of a file with nothing in it. Pure. */
export function emptyFileText(name: string): string {
  return `There is no text in ${name}.`;
}

/** The refusal of a PDF without a text layer. Pure. */
export function scannedPdfText(name: string): string {
  return `I found no text in ${name}: it looks scanned (its pages are pictures), and I read only a PDF's text layer. Send one with selectable text, or a page as a photo.`;
}

/** The refusal of a PDF that could not be read, by why (handler/chat/pdf-text.ts's PdfProblem). Pure. */
export function pdfProblemText(name: string, problem: "password" | "damaged" | "too_complex"): string {
  if (problem === "password") return `${name} is protected by a password, so I cannot read it. Send a copy without the password.`;
  if (problem === "damaged") return `I could not read ${name}: it is damaged, or not really a PDF.`;
  return `${name} took too long to read (it may be very large or complex). Send a smaller part of it, or paste its text.`;
}
