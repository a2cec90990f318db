import { TELEGRAM_MESSAGE_LIMIT } from "../../config/defaults";
import { splitText } from "./split";

/**
 * Inline link syntax, `[text](url)`: link text without brackets or a blank line, a URL without
 * spaces and with at most one level of balanced parentheses (`…/wiki/Foo_(bar)`).
 */
const INLINE_LINK = /!?\[[^[\]]*\]\((?:[^()\s]|\([^()\s]*\))*\)/g;

/** The `[start, end)` ranges of inline links in Markdown text. Pure. */
export function markdownLinkRanges(markdown: string): [number, number][] {
  const ranges: [number, number][] = [];
  for (const match of markdown.matchAll(INLINE_LINK)) {
    if (!match[0].includes("\n\n")) ranges.push([match.index, match.index + match[0].length]);
  }
  return ranges;
}

/**
 * {@link splitText} for Markdown: never breaks inside a link's syntax, where a cut would leave
 * `[link` at the end of one message and `text](url)` raw at the start of the next. Pure.
 */
export function splitMarkdown(markdown: string, limit: number = TELEGRAM_MESSAGE_LIMIT): string[] {
  return splitText(markdown, limit, { keepTogether: markdownLinkRanges(markdown) });
}
