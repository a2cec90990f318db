/**
 * What a typed line of the terminal chat becomes: `/import <file>` a document message,
 * `/photo <file> [caption]` a photo message, `:<n>` a press of the latest buttons, anything
 * else a text message (commands included), as a Telegram client would send them.
 */
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import type { Update } from "@grammyjs/types";
import type { ChatUpdateFactory } from "./chat-updates";
import { imageSizeOf } from "./image-size";
import type { TerminalChoice } from "./terminal-render";

/** The local command that sends a file as a document. */
export const IMPORT_COMMAND = "/import";
/** The local command that sends a picture as a photo. */
export const PHOTO_COMMAND = "/photo";

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
  const choiceMatch = /^:(\d{1,3})$/.exec(line);
  if (importMatch) return importFile((importMatch[1] ?? "").trim(), tools);
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
