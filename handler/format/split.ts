import { TELEGRAM_MESSAGE_LIMIT } from "../../config/defaults";

/**
 * Splitting plain text into Telegram-sized messages.
 *
 * Pure: no I/O. Lengths are UTF-16 code units, which is how Telegram counts a message's text.
 */

/** Break kinds in order of preference: paragraph, line, word. */
const BREAKS: readonly string[] = ["\n\n", "\n", " "];

const WHITESPACE = /\s/;

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Options of {@link splitText}. */
export interface SplitOptions {
  /**
   * Ranges `[start, end)` of the text inside which no break at whitespace may fall (Markdown
   * link syntax, see split-markdown.ts). A range longer than a part may still be cut hard.
   * @default - none
   */
  readonly keepTogether?: readonly (readonly [number, number])[];
}

/**
 * Splits `text` into parts of at most `limit` UTF-16 code units.
 *
 * A break is looked for in this order: a paragraph break (blank line), a line break, a space.
 * A break in the second half of the allowed window is preferred over a better kind of break
 * early in it, so parts stay reasonably full; failing that, any break will do; failing that
 * (one over-long word or line), the text is cut hard at the last grapheme boundary that fits,
 * and never between the two halves of a surrogate pair (emoji and other astral characters).
 *
 * Nothing is lost: the whitespace run at each break is the only thing removed, so the text is
 * the parts joined with those runs. No part is empty.
 *
 * @param text - the text to split
 * @param limit - the largest part, in UTF-16 code units. @default TELEGRAM_MESSAGE_LIMIT (4096)
 * @param options - ranges to keep together, see {@link SplitOptions}
 * @returns the parts in order; `[]` for an empty text
 * @throws RangeError when `limit` is not an integer of at least 2 (a surrogate pair must fit)
 */
export function splitText(text: string, limit: number = TELEGRAM_MESSAGE_LIMIT, options: SplitOptions = {}): string[] {
  if (!Number.isInteger(limit) || limit < 2) {
    throw new RangeError(`split limit must be an integer of at least 2, got ${String(limit)}`);
  }
  const parts: string[] = [];
  const spans = options.keepTogether ?? [];
  let rest = text;
  let offset = 0;
  while (rest.length > limit) {
    const base = offset;
    const breakable = (at: number) => !spans.some(([start, end]) => base + at >= start && base + at < end);
    const { end, next } = findCut(rest, limit, breakable);
    parts.push(rest.slice(0, end));
    rest = rest.slice(next);
    offset += next;
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}

/** Where to end the current part (`end`) and where the next one starts (`next`). */
interface Cut {
  readonly end: number;
  readonly next: number;
}

function findCut(rest: string, limit: number, breakable: (at: number) => boolean): Cut {
  const lead = leadingWhitespace(rest);
  const half = Math.floor(limit / 2);
  // First pass: the best kind of break in the second half; second pass: anywhere.
  for (const from of [half, lead + 1]) {
    for (const separator of BREAKS) {
      let at = rest.lastIndexOf(separator, limit);
      while (at >= from && at > lead && !breakable(at)) at = rest.lastIndexOf(separator, at - 1);
      if (at >= from && at > lead) return cutAroundWhitespace(rest, at);
    }
  }
  const end = hardCut(rest, limit);
  return { end, next: end };
}

/** Cut at the whitespace run that contains index `at`, dropping the whole run. */
function cutAroundWhitespace(rest: string, at: number): Cut {
  let end = at;
  while (end > 0 && WHITESPACE.test(rest[end - 1] ?? "")) end -= 1;
  let next = at;
  while (next < rest.length && WHITESPACE.test(rest[next] ?? "")) next += 1;
  return { end, next };
}

function leadingWhitespace(text: string): number {
  let i = 0;
  while (i < text.length && WHITESPACE.test(text[i] ?? "")) i += 1;
  return i;
}

/**
 * The last grapheme boundary at or before `limit`; if a single grapheme is longer than the
 * limit (long combining or ZWJ sequences), the last code-point boundary instead.
 */
function hardCut(rest: string, limit: number): number {
  // The window includes the character at `limit`, so a boundary there is seen too.
  let boundary = 0;
  for (const { index } of graphemes.segment(rest.slice(0, limit + 1))) boundary = index;
  if (boundary > 0) return boundary;
  return isLowSurrogate(rest.charCodeAt(limit)) && isHighSurrogate(rest.charCodeAt(limit - 1)) ? limit - 1 : limit;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
