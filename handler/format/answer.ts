import { TELEGRAM_MESSAGE_LIMIT } from "../../config/defaults";
import { escapeHtml } from "./html-escape";
import { markdownToTelegramHtml } from "./markdown-html";
import { splitTelegramHtml } from "./split-html";
import { splitText } from "./split";
import { separateThinking } from "./thinking";

/**
 * What the user finally sees of a model's answer: reasoning separated, Markdown converted to
 * Telegram HTML and split into messages, notes and the speed footer appended; plus the same
 * answer as plain text for when Telegram refuses the HTML. Pure.
 */

/** Ollama's own generation figures for one answer (`eval_count`, `eval_duration`). */
export interface SpeedFigures {
  /** Tokens generated (`eval_count`). */
  readonly evalCount: number;
  /** Time spent generating them, in nanoseconds (`eval_duration`). */
  readonly evalDurationNs: number;
}

/** Options of {@link renderAnswer}. */
export interface RenderAnswerOptions {
  /**
   * Short notes shown in italics after the answer, e.g. {@link NOTE_CONTEXT_TRIMMED}.
   * @default - none
   */
  readonly notes?: readonly string[];
  /** Generation figures for a "12.3 tokens/s" footer. @default - no footer */
  readonly speed?: SpeedFigures;
  /**
   * What to do with `<think>` reasoning: leave it out, or show it before the answer in a
   * collapsed (expandable) blockquote, cut to `THINKING_SHOWN_LIMIT` characters.
   * @default "hide"
   */
  readonly thinking?: "hide" | "expandable";
  /**
   * Reasoning the model sent apart from its answer (Ollama's `message.thinking`): shown before
   * the answer in a collapsed (expandable) blockquote, cut to `THINKING_SHOWN_LIMIT` characters,
   * whatever `thinking` says (that option is about `<think>` tags in the text).
   * @default - none
   */
  readonly reasoning?: string;
  /** Largest visible length of one message. @default TELEGRAM_MESSAGE_LIMIT (4096) */
  readonly limit?: number;
}

/** The rendered answer: one entry per message, HTML and its plain-text fallback. */
export interface RenderedAnswer {
  /** Messages to send with `parse_mode: "HTML"`. Never empty. */
  readonly html: string[];
  /** The same answer as plain text (raw Markdown), for when Telegram rejects the HTML. Never empty. */
  readonly plain: string[];
}

/** Note for a reply whose model context left out older messages of the session. */
export const NOTE_CONTEXT_TRIMMED = "(older messages of this session were not sent to the model)";
/** Note for an answer whose stream broke before the model finished. */
export const NOTE_CUT_OFF = "(the answer was cut off)";
/** Note for an answer the user stopped (what was on screen is kept). */
export const NOTE_STOPPED = "(stopped)";
/** What an answer stopped before any of its text showed says. */
export const NOTE_STOPPED_EARLY = "(stopped before the answer began)";
/** Shown when the model produced no answer text at all (only reasoning, or nothing). */
export const EMPTY_ANSWER = "(the model returned an empty answer)";
/** Most characters of reasoning shown in the expandable blockquote. */
export const THINKING_SHOWN_LIMIT = 1000;

/**
 * Formats Ollama's generation speed, e.g. `12.3 tokens/s`.
 * @returns the text, or `undefined` when the figures cannot give a speed (no duration or tokens)
 */
export function formatSpeed(evalCount: number, evalDurationNs: number): string | undefined {
  if (!(evalCount > 0) || !(evalDurationNs > 0) || !Number.isFinite(evalCount) || !Number.isFinite(evalDurationNs)) {
    return undefined;
  }
  const perSecond = evalCount / (evalDurationNs / 1e9);
  return `${perSecond >= 100 ? Math.round(perSecond).toString() : perSecond.toFixed(1)} tokens/s`;
}

/** Renders a complete (or cut-off) raw model output for sending; see {@link RenderAnswerOptions}. */
export function renderAnswer(raw: string, options: RenderAnswerOptions = {}): RenderedAnswer {
  const limit = options.limit ?? TELEGRAM_MESSAGE_LIMIT;
  const { answer, thinking } = separateThinking(raw);
  const footer = footerLines(options);

  const htmlBlocks: string[] = [];
  const plainBlocks: string[] = [];
  const reasoning = options.reasoning?.trim() || (options.thinking === "expandable" ? thinking : "");
  if (reasoning) {
    const shown = reasoning.length > THINKING_SHOWN_LIMIT ? `${reasoning.slice(0, THINKING_SHOWN_LIMIT).trimEnd()}…` : reasoning;
    htmlBlocks.push(`<blockquote expandable>${escapeHtml(shown)}</blockquote>`);
    plainBlocks.push(shown);
  }
  const body = markdownToTelegramHtml(answer);
  if (body) {
    htmlBlocks.push(body);
    plainBlocks.push(answer.trim());
  } else if (!(options.notes ?? []).some((note) => note.trim())) {
    htmlBlocks.push(`<i>${escapeHtml(EMPTY_ANSWER)}</i>`);
    plainBlocks.push(EMPTY_ANSWER);
  }
  if (footer.length > 0) {
    htmlBlocks.push(footer.map((line) => `<i>${escapeHtml(line)}</i>`).join("\n"));
    plainBlocks.push(footer.join("\n"));
  }
  return {
    html: splitTelegramHtml(htmlBlocks.join("\n\n"), limit),
    plain: splitText(plainBlocks.join("\n\n"), limit),
  };
}

function footerLines(options: RenderAnswerOptions): string[] {
  const lines = (options.notes ?? []).filter((note) => note.trim());
  const speed = options.speed ? formatSpeed(options.speed.evalCount, options.speed.evalDurationNs) : undefined;
  if (speed) lines.push(speed);
  return lines;
}
