import { escapeAttribute, escapeHtml } from "./html-escape";
import { renderInline } from "./markdown-inline";

/**
 * Markdown, as language models write it, to Telegram's HTML subset
 * (https://core.telegram.org/bots/api#html-style).
 *
 * Blocks are recognised line by line:
 * - fenced code (``` or ~~~, with an optional language) → `<pre><code class="language-x">`;
 *   a fence still open at the end (common while an answer streams in) is closed there;
 * - headings (`#` to `######`, and `===` underlines) → a bold line;
 * - lists (`-`, `*`, `+`, `1.`, `1)`) → `• item` / `1. item` lines, nesting kept as indentation;
 * - blockquotes (`>`, nested levels flattened: Telegram cannot nest them) → `<blockquote>`;
 * - tables (`| a | b |` with a `|---|` row) → aligned columns in `<pre>`;
 * - horizontal rules → a line of `─`;
 * - everything else → paragraphs, keeping the model's line breaks.
 * Inline Markdown is handled by {@link renderInline}.
 *
 * The output is always valid Telegram HTML: only b, i, s, code, pre, a and blockquote tags,
 * balanced and nested the way Telegram allows; all other text is escaped. Pure.
 */

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}=+[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}>/;
const LIST = /^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_DIVIDER = /^\s*\|?\s*:?-{1,}:?\s*(?:\|\s*:?-{1,}:?\s*)*\|?\s*$/;

/** What a horizontal rule becomes: a visible line (Telegram has no rule entity). */
export const RULE_LINE = "──────────";

/** Converts a Markdown answer (complete or partial) to Telegram HTML. */
export function markdownToTelegramHtml(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  return joinBlocks(renderBlocks(lines, false));
}

/**
 * The opening fence line (e.g. "```python") when `markdown` ends inside a fenced code block,
 * else `undefined`. Used to carry an open code block over to the next message while streaming.
 */
export function openFence(markdown: string): string | undefined {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  let open: string | undefined;
  let marker = "";
  for (const line of lines) {
    if (open === undefined) {
      const fence = FENCE.exec(line);
      if (fence) {
        open = line.trim();
        marker = fence[1] ?? "```";
      }
    } else if (isClosingFence(line, marker)) open = undefined;
  }
  return open;
}

/**
 * Renders lines as blocks, one output line (or multi-line block) per entry.
 * Inside a blockquote (`quoted`), no block may contain `pre` or another blockquote.
 */
function renderBlocks(lines: readonly string[], quoted: boolean): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1] ?? "```";
      const body: string[] = [];
      i += 1;
      while (i < lines.length && !isClosingFence(lines[i] ?? "", marker)) {
        body.push(lines[i] ?? "");
        i += 1;
      }
      i += 1; // the closing fence, or past the end when it never came
      out.push(codeBlock(body.join("\n").replace(/\n+$/, ""), fence[2] ?? "", quoted));
      continue;
    }
    if (!line.trim()) {
      if (out.length > 0 && out[out.length - 1] !== "") out.push("");
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      out.push(RULE_LINE);
      i += 1;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      out.push(bold(renderInline(heading[2] ?? "", ["b"])));
      i += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      const inner: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i] ?? "")) {
        inner.push(stripQuote(lines[i] ?? ""));
        i += 1;
      }
      const body = joinBlocks(renderBlocks(inner, true));
      if (body) out.push(quoted ? body : `<blockquote>${body}</blockquote>`);
      continue;
    }
    if (TABLE_ROW.test(line) && TABLE_DIVIDER.test(lines[i + 1] ?? "") && (lines[i + 1] ?? "").includes("-")) {
      const rows: string[] = [line];
      i += 2;
      while (i < lines.length && TABLE_ROW.test(lines[i] ?? "")) {
        rows.push(lines[i] ?? "");
        i += 1;
      }
      out.push(table(rows, quoted));
      continue;
    }
    const item = LIST.exec(line);
    if (item && !RULE.test(line)) {
      const indent = "  ".repeat(Math.floor((item[1] ?? "").replace(/\t/g, "  ").length / 2));
      const marker = item[2] ?? "-";
      const bullet = /\d/.test(marker) ? `${marker.slice(0, -1)}.` : "•";
      out.push(`${indent}${bullet} ${renderInline(item[3] ?? "")}`);
      i += 1;
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && (paragraph.length === 0 || continuesParagraph(lines[i] ?? ""))) {
      paragraph.push(lines[i] ?? "");
      i += 1;
    }
    if (i < lines.length && SETEXT.test(lines[i] ?? "")) {
      out.push(bold(renderInline(paragraph.join("\n").trim(), ["b"])));
      i += 1;
      continue;
    }
    out.push(renderInline(paragraph.join("\n")));
  }
  return out;
}

/** Joins rendered blocks, without blank lines at either end (runs were collapsed already). */
function joinBlocks(blocks: readonly string[]): string {
  return blocks.join("\n").replace(/^\n+|\n+$/g, "");
}

function continuesParagraph(line: string): boolean {
  return (
    line.trim() !== "" &&
    !FENCE.test(line) &&
    !RULE.test(line) &&
    !HEADING.test(line) &&
    !QUOTE.test(line) &&
    !LIST.test(line) &&
    !SETEXT.test(line) &&
    !TABLE_ROW.test(line)
  );
}

function isClosingFence(line: string, marker: string): boolean {
  const trimmed = line.trim();
  const char = marker[0] ?? "`";
  return trimmed.length >= marker.length && /^ {0,3}\S/.test(line) && [...trimmed].every((c) => c === char);
}

function stripQuote(line: string): string {
  // Nested levels (`> > x`) are flattened: Telegram cannot nest blockquotes.
  return line.replace(/^(?: {0,3}> ?)+/, "");
}

function bold(html: string): string {
  return html ? `<b>${html}</b>` : "";
}

function codeBlock(code: string, language: string, quoted: boolean): string {
  // Telegram rejects an empty pre; inside a quote pre is not allowed, code is.
  if (quoted) return code ? code.split("\n").map((line) => (line ? `<code>${escapeHtml(line)}</code>` : "")).join("\n") : "";
  const body = escapeHtml(code.length > 0 ? code : " ");
  const lang = language.replace(/[^\w+#.-]/g, "");
  return lang ? `<pre><code class="language-${escapeAttribute(lang)}">${body}</code></pre>` : `<pre>${body}</pre>`;
}

/** A Markdown table as aligned monospace columns; inline Markdown in cells is shown as written. */
function table(rows: readonly string[], quoted: boolean): string {
  const cells = rows.map((row) =>
    row
      .trim()
      .replace(/^\||\|$/g, "")
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replace(/\\\|/g, "|")),
  );
  const columns = Math.max(...cells.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...cells.map((row) => [...(row[c] ?? "")].length)));
  const header = widths.map((width) => "-".repeat(width)).join("-+-");
  const text = cells
    .map((row) =>
      widths
        .map((width, c) => (row[c] ?? "").padEnd(width + (row[c] ?? "").length - [...(row[c] ?? "")].length))
        .join(" | ")
        .trimEnd(),
    )
    .flatMap((line, index) => (index === 0 ? [line, header] : [line]))
    .join("\n");
  return codeBlock(text, "", quoted);
}
