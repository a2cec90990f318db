/**
 * The interactive terminal chat of `npm start` without a token: it plays a Telegram private
 * chat. Each line typed becomes a message update passed to the handler; the bot's Bot API calls
 * are printed as they happen; documents it sends are saved to a folder; `/import <path>` sends a
 * local JSON file as a document, `/file <path> [question]` a local text file or PDF for the model
 * to read, `/voice <path>` a local recording as a voice message; `/quit`
 * or end of input (Ctrl-D) ends the chat. Streams come in as arguments, so tests drive it
 * with a PassThrough.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { Update } from "@grammyjs/types";
import type { InputFileBytes } from "../handler/telegram/bot-api";
import { STOP_CONTROL_TEXT } from "../handler/chat/stop-watch";
import { isStopCommand } from "../config/queue-groups";
import { ChatUpdateFactory, DEFAULT_LOCAL_USER, type LocalUser } from "./chat-updates";
import type { ObservedCall } from "./observed-bot";
import { handleTypedLine, type TypedLineTools } from "./terminal-lines";
import { choicesLine, choicesOf, TranscriptRenderer, visibleText, type TerminalChoice } from "./terminal-render";

/** Words that end the chat. */
export const QUIT_COMMANDS: readonly string[] = ["/quit", "/exit"];
export { FILE_COMMAND, IMPORT_COMMAND, PHOTO_COMMAND, VOICE_COMMAND } from "./terminal-lines";

/** Options of {@link runTerminalChat}. */
export interface TerminalChatOptions {
  /** Where the user types (process.stdin). */
  readonly input: Readable;
  /** Where the chat is printed (process.stdout). */
  readonly output: Writable;
  /** Passes one update through the handler; resolves once the handler has answered. */
  readonly handleUpdate: (update: Update) => Promise<void>;
  /** Subscribes to the bot's successful Bot API calls; returns the unsubscribe function. */
  readonly subscribe: (listener: (call: ObservedCall) => void) => () => void;
  /** Makes a local file's bytes downloadable through getFile; returns its file_id. */
  readonly uploadFile: (data: Buffer, fileName: string) => string;
  /** Folder the documents the bot sends are saved in (created on first use). */
  readonly exportsDir: string;
  /** The person at the terminal. @default DEFAULT_LOCAL_USER (id 1) */
  readonly user?: LocalUser;
  /** Builds the updates. @default - a ChatUpdateFactory for `user` */
  readonly updates?: ChatUpdateFactory;
  /** Show a "you> " prompt (an interactive terminal). @default output.isTTY */
  readonly prompt?: boolean;
  /** Aborting it ends the chat after the update in flight. @default - none */
  readonly signal?: AbortSignal;
  /** Folder `/import` paths and printed paths are relative to. @default process.cwd() */
  readonly cwd?: string;
}

/** What a chat did. */
export interface TerminalChatSummary {
  /** Updates passed to the handler. */
  readonly updates: number;
  /** Paths of the documents saved. */
  readonly savedFiles: string[];
}


function isInputFile(value: unknown): value is InputFileBytes {
  return typeof value === "object" && value !== null && (value as InputFileBytes).data instanceof Uint8Array && typeof (value as InputFileBytes).filename === "string";
}

/** A path that does not exist yet: `name`, else `name-1`, `name-2`... before the extension. */
async function freePath(dir: string, fileName: string, taken: (path: string) => Promise<boolean>): Promise<string> {
  const safe = basename(fileName).replace(/[^\w.@-]+/g, "_") || "document";
  const dot = safe.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [safe.slice(0, dot), safe.slice(dot)] : [safe, ""];
  for (let n = 0; ; n++) {
    const candidate = join(dir, n === 0 ? safe : `${stem}-${n}${ext}`);
    if (!(await taken(candidate))) return candidate;
  }
}

const exists = (path: string) => readFile(path).then(
  () => true,
  () => false,
);

/** Runs the chat until /quit, end of input or the signal; resolves with what it did. */
export async function runTerminalChat(options: TerminalChatOptions): Promise<TerminalChatSummary> {
  const { output } = options;
  const user = options.user ?? DEFAULT_LOCAL_USER;
  const updates = options.updates ?? new ChatUpdateFactory(user);
  const cwd = options.cwd ?? process.cwd();
  const showPrompt = options.prompt ?? Boolean((output as Writable & { isTTY?: boolean }).isTTY);
  const renderer = new TranscriptRenderer();
  const savedFiles: string[] = [];
  let handled = 0;

  // Printing is chained so output keeps the order of the calls even while a document is written.
  let printing: Promise<void> = Promise.resolve();
  const print = (text: string) => {
    if (text) output.write(text);
  };
  const view: ReplyView = { userId: user.id, renderer, print, exportsDir: options.exportsDir, cwd, savedFiles, buttons: undefined };
  const unsubscribe = options.subscribe((call) => {
    printing = printing.then(() => showReply(call, view)).catch((error: unknown) => print(`(could not show the reply: ${String(error)})\n`));
  });

  /** Hands an update to the handler; /stop goes this way alone, while another may be in flight (the draft shown stays open). */
  const deliver = async (update: Update) => {
    try {
      await options.handleUpdate(update);
      handled += 1;
    } catch (error) {
      print(`(the handler failed: ${error instanceof Error ? error.message : String(error)})\n`);
    }
  };
  const send = async (update: Update) => {
    await deliver(update);
    await printing;
    print(renderer.closeDraft());
  };

  const tools: TypedLineTools = { updates, buttons: () => view.buttons, send, print, uploadFile: options.uploadFile, cwd };

  const rl = createInterface({ input: options.input, terminal: false });
  const onAbort = () => rl.close();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const prompt = () => {
    if (showPrompt) output.write("you> ");
  };
  // What the user types is handled in order, one line after the other, except /stop: like a
  // Telegram client, it goes at once, while the answer it stops is still streaming (lines typed
  // meanwhile wait their turn, but the reading goes on).
  let inFlight: Promise<void> = Promise.resolve();
  const handleLine = async (line: string) => {
    await handleTypedLine(line, tools);
    if (!options.signal?.aborted) prompt();
  };
  try {
    prompt();
    for await (const raw of rl) {
      const line = raw.trim();
      if (options.signal?.aborted) break;
      if (QUIT_COMMANDS.includes(line.toLowerCase())) break;
      if (line === "") {
        prompt();
        continue;
      }
      if (isStopCommand(line)) {
        // At once, even with lines still waiting behind the answer: the stop is for what streams now.
        await deliver(updates.text(line));
        continue;
      }
      inFlight = inFlight.then(() => (options.signal?.aborted ? undefined : handleLine(line)));
    }
    await inFlight;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    rl.close();
    unsubscribe();
    await printing;
    print(renderer.closeDraft());
  }
  return { updates: handled, savedFiles };
}

/** Where a bot reply is shown: the user's chat, rendered to the terminal, documents saved. */
interface ReplyView {
  readonly userId: number;
  readonly renderer: TranscriptRenderer;
  readonly print: (text: string) => void;
  readonly exportsDir: string;
  readonly cwd: string;
  readonly savedFiles: string[];
  /** The buttons of the bot's latest message that has any, offered as `:<n>`. */
  buttons: { readonly messageId: number; readonly choices: readonly TerminalChoice[] } | undefined;
}

/** Shows a message's buttons as numbered choices and remembers them (an edit without buttons forgets them). */
function showChoices(view: ReplyView, messageId: unknown, markup: unknown): void {
  const choices = choicesOf(markup);
  if (choices.length > 0 && typeof messageId === "number") {
    view.buttons = { messageId, choices };
    view.print(choicesLine(choices));
  } else if (view.buttons?.messageId === messageId) {
    view.buttons = undefined;
  }
}

/** Shows one Bot API call the way the user would see it in Telegram. */
async function showReply(call: ObservedCall, view: ReplyView): Promise<void> {
  const params = (call.params ?? {}) as Record<string, unknown>;
  if (Number(params.chat_id) !== view.userId) return;
  switch (call.method) {
    case "sendMessageDraft":
      view.print(view.renderer.draft(visibleText(params)));
      return;
    case "sendMessage":
      // The Stop button's message: in the terminal, /stop is typed instead (and it is deleted at the answer's end).
      if (params.text === STOP_CONTROL_TEXT) return;
      view.print(view.renderer.message(visibleText(params)));
      showChoices(view, (call.result as { message_id?: unknown } | undefined)?.message_id, params.reply_markup);
      return;
    case "editMessageText":
      view.print(view.renderer.edit(visibleText(params)));
      showChoices(view, params.message_id, params.reply_markup);
      return;
    case "sendDocument": {
      const document = params.document;
      if (!isInputFile(document)) {
        view.print(view.renderer.document("(a file already on Telegram, not saved)"));
        return;
      }
      await mkdir(view.exportsDir, { recursive: true });
      const path = await freePath(view.exportsDir, document.filename, exists);
      await writeFile(path, document.data);
      view.savedFiles.push(path);
      const caption = typeof params.caption === "string" ? visibleText({ text: params.caption, parse_mode: params.parse_mode }) : undefined;
      view.print(view.renderer.document(relative(view.cwd, path) || path, caption));
      return;
    }
    default:
      return;
  }
}
