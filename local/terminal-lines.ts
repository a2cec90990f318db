/**
 * What a typed line of the terminal chat becomes: `/import <file>` a document message,
 * `/photo <file> [caption]` a photo message, `/voice <file>` a voice message, `/file <file>
 * [question]` a document for the model to read, `:<n>` a press of the latest buttons, anything
 * else a text message (commands included), as a Telegram client would send them.
 */
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import type { Update } from "@grammyjs/types";
import type { ChatUpdateFactory } from "./chat-updates";
import { imageSizeOf } from "./image-size";
import { oggDurationSeconds } from "./stand-ins/transcription";
import type { TerminalChoice } from "./terminal-render";

/** The local command that sends a file as a document. */
export const IMPORT_COMMAND = "/import";
/** The local command that sends a file as a document with a question, for the model to read. */
export const FILE_COMMAND = "/file";
/** The local command that sends a picture as a photo. */
export const PHOTO_COMMAND = "/photo";
/** The local command that sends a recording as a voice message. */
export const VOICE_COMMAND = "/voice";

/** Media types of the recordings `/voice` sends, by extension (Telegram's voice messages are Ogg Opus). */
const VOICE_TYPES: Readonly<Record<string, string>> = { ogg: "audio/ogg", oga: "audio/ogg", opus: "audio/ogg", mp3: "audio/mpeg", m4a: "audio/mp4", wav: "audio/wav" };

/** Media types `/file` sends, by extension, as Telegram's clients set them; others go as application/octet-stream. */
const FILE_TYPES: Readonly<Record<string, string>> = { pdf: "application/pdf", json: "application/json", txt: "text/plain", md: "text/markdown", csv: "text/csv" };

/** What a typed line needs from the chat around it. */
export interface TypedLineTools {
  readonly updates: ChatUpdateFactory;
  /** The latest message's buttons, offered as `:<n>`. */
  readonly buttons: () => { readonly messageId: number; readonly choices: readonly TerminalChoice[] } | undefined;
  /** Sends an update and waits for the bot's answer to be printed. */
  send(update: Update): Promise<void>;
  print(text: string): void;
  /** Makes a file's bytes downloadable through getFile; returns its file_id. */
  uploadFile(data: Buffer, fileName: string): string;
  /** Folder file paths are relative to. */
  readonly cwd: string;
}

/** Handles one typed (non-empty, trimmed) line. */
export async function handleTypedLine(line: string, tools: TypedLineTools): Promise<void> {
  const importMatch = /^\/import(?:\s+(.*))?$/i.exec(line);
  const photoMatch = /^\/photo(?:\s+(\S+))?(?:\s+([\s\S]*))?$/i.exec(line);
  const voiceMatch = /^\/voice(?:\s+(.*))?$/i.exec(line);
  const fileMatch = /^\/file(?:\s+(\S+))?(?:\s+([\s\S]*))?$/i.exec(line);
  const choiceMatch = /^:(\d{1,3})$/.exec(line);
  if (importMatch) return importFile((importMatch[1] ?? "").trim(), tools);
  if (voiceMatch) return sendVoice((voiceMatch[1] ?? "").trim(), tools);
  if (fileMatch) return sendFile(fileMatch[1] ?? "", (fileMatch[2] ?? "").trim(), tools);
  if (photoMatch) return sendPhoto(photoMatch[1] ?? "", (photoMatch[2] ?? "").trim(), tools);
  if (choiceMatch) {
    const buttons = tools.buttons();
    const choice = buttons?.choices[Number(choiceMatch[1]) - 1];
    if (buttons && choice) return tools.send(tools.updates.press(buttons.messageId, choice.data));
    return tools.print("(no such choice: type :<n> with a number shown in [brackets])\n");
  }
  return tools.send(tools.updates.text(line));
}

async function importFile(argument: string, tools: TypedLineTools): Promise<void> {
  const file = await readLocalFile(argument, `${IMPORT_COMMAND} <path to an archive .json file>`, tools);
  if (file === undefined) return;
  const fileId = tools.uploadFile(file.data, file.fileName);
  tools.print(`(sending ${file.fileName}, ${file.data.length} bytes, as a document)\n`);
  await tools.send(tools.updates.document({ fileId, fileName: file.fileName, fileSize: file.data.length }));
}

async function sendPhoto(argument: string, caption: string, tools: TypedLineTools): Promise<void> {
  const file = await readLocalFile(argument, `${PHOTO_COMMAND} <path to a .jpg or .png> [caption]`, tools);
  if (file === undefined) return;
  const size = imageSizeOf(file.data);
  if (size === undefined) return tools.print(`${argument} is not a JPEG or PNG picture\n`);
  const fileId = tools.uploadFile(file.data, file.fileName);
  tools.print(`(sending ${file.fileName}, ${size.width}×${size.height}, ${file.data.length} bytes, as a photo)\n`);
  await tools.send(tools.updates.photo({ fileId, width: size.width, height: size.height, fileSize: file.data.length, caption }));
}

/** Sends a recording as a voice message, its duration read from the file when it is Ogg (else 1 s). */
async function sendVoice(argument: string, tools: TypedLineTools): Promise<void> {
  const file = await readLocalFile(argument, `${VOICE_COMMAND} <path to an .ogg, .mp3 or .m4a recording>`, tools);
  if (file === undefined) return;
  const measured = oggDurationSeconds(file.data);
  const duration = Math.max(1, Math.round(measured ?? 1));
  const extension = /\.([a-z0-9]+)$/i.exec(file.fileName)?.[1]?.toLowerCase() ?? "";
  const fileId = tools.uploadFile(file.data, file.fileName);
  tools.print(`(sending ${file.fileName}, ${measured === undefined ? "length unknown, sent as 1" : duration} s, ${file.data.length} bytes, as a voice message)\n`);
  await tools.send(tools.updates.voice({ fileId, duration, fileSize: file.data.length, mimeType: VOICE_TYPES[extension] ?? "audio/ogg" }));
}

/** Sends a file as a document with the question as its caption, typed as Telegram would by its extension. */
async function sendFile(argument: string, question: string, tools: TypedLineTools): Promise<void> {
  const file = await readLocalFile(argument, `${FILE_COMMAND} <path to a text file or PDF> [question]`, tools);
  if (file === undefined) return;
  const extension = /\.([a-z0-9]+)$/i.exec(file.fileName)?.[1]?.toLowerCase() ?? "";
  const mimeType = FILE_TYPES[extension] ?? "application/octet-stream";
  const fileId = tools.uploadFile(file.data, file.fileName);
  tools.print(`(sending ${file.fileName}, ${file.data.length} bytes, as a document${question ? " with your question" : ""})\n`);
  await tools.send(tools.updates.document({ fileId, fileName: file.fileName, fileSize: file.data.length, mimeType, ...(question ? { caption: question } : {}) }));
}

/** Reads the file a local command names, or says why not. */
async function readLocalFile(argument: string, usage: string, tools: TypedLineTools): Promise<{ data: Buffer; fileName: string } | undefined> {
  if (!argument) {
    tools.print(`usage: ${usage}\n`);
    return undefined;
  }
  const path = resolve(tools.cwd, argument);
  try {
    return { data: await readFile(path), fileName: basename(path) };
  } catch (error) {
    tools.print(`cannot read ${argument}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
    return undefined;
  }
}
