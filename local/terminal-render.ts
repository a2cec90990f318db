/**
 * How the terminal chat shows the bot's Bot API calls: pure functions from calls to text, so
 * the rendering is tested without a terminal. A private chat streams its answer as drafts
 * (sendMessageDraft) and then sends it (sendMessage): drafts are printed as they grow and the
 * final message only adds what the drafts had not shown yet.
 */

/** Prefix of the bot's lines. */
export const BOT_PREFIX = "bot> ";

const NAMED: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** The visible text of Telegram HTML: tags dropped, entities decoded. Pure. */
export function htmlToPlain(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&(#[xX][0-9A-Fa-f]+|#\d+|[A-Za-z]+);/g, (whole, body: string) => {
      if (body.startsWith("#")) {
        const code = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return NAMED[body] ?? whole;
    });
}

/** The text a sendMessage/editMessageText/sendMessageDraft shows, as plain text. Pure. */
export function visibleText(params: { text?: unknown; parse_mode?: unknown }): string {
  const text = typeof params.text === "string" ? params.text : "";
  return typeof params.parse_mode === "string" && params.parse_mode.toLowerCase() === "html" ? htmlToPlain(text) : text;
}

/**
 * Turns the bot's calls into terminal text. Keeps the draft being streamed so each new draft
 * prints only its new characters when it extends the previous one.
 */
export class TranscriptRenderer {
  /** What the open draft line has shown, or undefined when no draft is open. */
  private shown: string | undefined;

  /** A draft (sendMessageDraft) of the answer. */
  draft(text: string): string {
    if (this.shown !== undefined && text.startsWith(this.shown)) {
      const delta = text.slice(this.shown.length);
      this.shown = text;
      return delta;
    }
    const restart = this.shown !== undefined ? "\n" : "";
    this.shown = text;
    return `${restart}${BOT_PREFIX}${text}`;
  }

  /** A message that stays (sendMessage). */
  message(text: string): string {
    if (this.shown !== undefined && text.startsWith(this.shown)) {
      const rest = text.slice(this.shown.length);
      this.shown = undefined;
      return `${rest}\n`;
    }
    return `${this.closeDraft()}${BOT_PREFIX}${text}\n`;
  }

  /** An edit of a message already shown (editMessageText). */
  edit(text: string): string {
    return `${this.closeDraft()}${BOT_PREFIX}(edited) ${text}\n`;
  }

  /** A document the bot sent, saved at `path`. */
  document(path: string, caption?: string): string {
    const note = caption ? ` — ${caption}` : "";
    return `${this.closeDraft()}${BOT_PREFIX}[document saved to ${path}]${note}\n`;
  }

  /** Ends an unfinished draft line (the answer was never sent, or something else comes first). */
  closeDraft(): string {
    if (this.shown === undefined) return "";
    this.shown = undefined;
    return "\n";
  }
}

/** One button the terminal offers as a numbered choice. */
export interface TerminalChoice {
  readonly label: string;
  readonly data: string;
}

/** The callback buttons of a reply_markup parameter (an object or its JSON), in reading order. Pure. */
export function choicesOf(markup: unknown): TerminalChoice[] {
  let value = markup;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return [];
    }
  }
  const rows = (value as { inline_keyboard?: unknown } | null)?.inline_keyboard;
  if (!Array.isArray(rows)) return [];
  return rows.flat().flatMap((b: unknown) => {
    const button = b as { text?: unknown; callback_data?: unknown } | null;
    return typeof button?.text === "string" && typeof button.callback_data === "string" ? [{ label: button.text, data: button.callback_data }] : [];
  });
}

/** The line that shows buttons as choices picked by typing `:<n>`: `[1] llama3.2:1b  [2] …`. Pure. */
export function choicesLine(choices: readonly TerminalChoice[]): string {
  if (choices.length === 0) return "";
  return `     ${choices.map((c, i) => `[${i + 1}] ${c.label}`).join("  ")}   (type :<n> to press)\n`;
}
