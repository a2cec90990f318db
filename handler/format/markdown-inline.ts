import { escapeAttribute, escapeHtml } from "./html-escape";
import { isDeceptiveLink, safeHref } from "./link-safety";
import { delimiterRun, processEmphasis, type Delimiter, type EmphasisTag } from "./markdown-delimiters";
import { indexSource, type InlineWork, type SourceIndex } from "./markdown-source";

/**
 * Inline Markdown (emphasis, strike, code spans, links) to Telegram HTML.
 *
 * A small subset of CommonMark's inline rules: code spans first, then links, then emphasis by
 * the delimiter-run algorithm (markdown-delimiters.ts). Whatever does not parse (an unclosed
 * `**`, a `[` without a link) stays as escaped literal text, and tags are always balanced.
 *
 * Linear in the length of the text, since a long answer is rendered in what is left of a
 * Lambda's time: one left-to-right scan, with every "where does this close?" answered from
 * tables built once (markdown-source.ts), and emphasis matched on a delimiter stack.
 */

export type { InlineWork } from "./markdown-source";

/** Formatting tags the inline renderer emits. */
export type InlineTag = EmphasisTag;

type Piece =
  | { readonly kind: "text"; readonly value: string }
  | { readonly kind: "code"; readonly value: string }
  | { readonly kind: "link"; readonly href: string | undefined; readonly children: readonly Piece[] }
  | Delimiter;

const ESCAPABLE = /[!-/:-@[-`{-~]/;
const AUTOLINK_SCHEME = /^https?:\/\//i;
const AUTOLINK_STOP = /[\s<>]/;

/**
 * Renders one block's inline Markdown (may contain line breaks) as Telegram HTML.
 * @param enclosing - tags the caller wraps the result in; they are not opened again inside.
 *   @default []
 * @param work - a counter the render adds its steps to, for tests that bound the work.
 *   @default - steps are not reported
 */
export function renderInline(source: string, enclosing: readonly InlineTag[] = [], work: InlineWork = { steps: 0 }): string {
  const index = indexSource(source, work);
  const pieces = parseRange(index, 0, source.length, true);
  const depth: Record<InlineTag, number> = { b: 0, i: 0, s: 0 };
  for (const tag of enclosing) depth[tag] = 1;
  return renderPieces(pieces, depth, false, work);
}

/** One left-to-right scan of `[start, end)`: what it has found so far. */
interface Scan {
  readonly index: SourceIndex;
  readonly start: number;
  readonly end: number;
  /** False inside a link's text: Telegram links cannot contain links. */
  readonly allowLinks: boolean;
  readonly pieces: Piece[];
  readonly delimiters: Delimiter[];
  text: string;
}

function parseRange(index: SourceIndex, start: number, end: number, allowLinks: boolean): Piece[] {
  const scan: Scan = { index, start, end, allowLinks, pieces: [], delimiters: [], text: "" };
  let i = start;
  while (i < end) {
    index.work.steps += 1;
    i = scanAt(scan, i);
  }
  flushText(scan);
  processEmphasis(scan.delimiters, index.work);
  return scan.pieces;
}

/** Consumes what starts at `i`; returns where the scan goes on. */
function scanAt(scan: Scan, i: number): number {
  const { source } = scan.index;
  const ch = source[i] ?? "";
  const next = i + 1 < scan.end ? (source[i + 1] ?? "") : "";
  if (ch === "\\" && ESCAPABLE.test(next)) {
    scan.text += next;
    return i + 2;
  }
  if (ch === "`") return codeSpan(scan, i);
  const link = scan.allowLinks ? linkAt(scan, i) : undefined;
  if (link !== undefined) return link;
  if (ch === "*" || ch === "_" || ch === "~") return delimiter(scan, i, ch);
  scan.text += ch;
  return i + 1;
}

function flushText(scan: Scan): void {
  if (scan.text) scan.pieces.push({ kind: "text", value: scan.text });
  scan.text = "";
}

/** A code span from the backticks at `at`, or the run as literal text when nothing closes it. */
function codeSpan(scan: Scan, at: number): number {
  const { source } = scan.index;
  const runEnd = scan.index.runEnd(at);
  const close = scan.index.codeClose(at, scan.end);
  if (close < 0) {
    scan.text += source.slice(at, runEnd);
    return runEnd;
  }
  flushText(scan);
  let value = source.slice(runEnd, close).replace(/\n/g, " ");
  if (value.length > 2 && value.startsWith(" ") && value.endsWith(" ") && value.trim()) value = value.slice(1, -1);
  scan.index.work.steps += value.length;
  scan.pieces.push({ kind: "code", value });
  return close + runEnd - at;
}

function delimiter(scan: Scan, at: number, char: Delimiter["char"]): number {
  const { source } = scan.index;
  let runEnd = at;
  while (runEnd < scan.end && source[runEnd] === char) runEnd += 1;
  scan.index.work.steps += runEnd - at;
  if (char === "~" && runEnd - at < 2) {
    scan.text += char;
    return at + 1;
  }
  flushText(scan);
  const d = delimiterRun(source, at, runEnd - at, char, { start: scan.start, end: scan.end, order: scan.delimiters.length });
  scan.pieces.push(d);
  if (d.canOpen || d.canClose) scan.delimiters.push(d);
  return runEnd;
}

/** A link starting at `i` (`[`, `![` or `<`): where the scan goes on after it, or undefined. */
function linkAt(scan: Scan, i: number): number | undefined {
  const { source } = scan.index;
  const ch = source[i];
  if (ch === "[" || (ch === "!" && source[i + 1] === "[")) return inlineLink(scan, ch === "!" ? i + 1 : i);
  if (ch === "<") return autolink(scan, i);
  return undefined;
}

/** `[text](url "title")` from the `[` at `at`, with balanced brackets and parentheses. */
function inlineLink(scan: Scan, at: number): number | undefined {
  const { index } = scan;
  const textEnd = index.bracketClose(at);
  if (textEnd < 0 || index.source[textEnd + 1] !== "(") return undefined;
  const close = index.parenClose(textEnd + 1);
  if (close < 0) return undefined;
  const url = index.destination(textEnd + 2, close);
  if (url === undefined) return undefined;
  flushText(scan);
  index.work.steps += url.length;
  scan.pieces.push(linkPiece(parseRange(index, at + 1, textEnd, false), url));
  return close + 1;
}

function linkPiece(children: readonly Piece[], url: string): Piece {
  const href = safeHref(url);
  // A text that names another address than the target shows the real target instead.
  if (href !== undefined && isDeceptiveLink(plainText(children), href)) return { kind: "link", href, children: [{ kind: "text", value: href }] };
  return { kind: "link", href, children };
}

/** `<https://…>`: the address up to the first white space, `<` or `>`, which must be a `>`. */
function autolink(scan: Scan, at: number): number | undefined {
  const { source, work } = scan.index;
  const scheme = AUTOLINK_SCHEME.exec(source.slice(at + 1, at + 9));
  if (!scheme) return undefined;
  const start = at + 1 + scheme[0].length;
  let end = start;
  // Stops at the next `<` at the latest, so autolink attempts never read the same text twice.
  while (end < source.length && !AUTOLINK_STOP.test(source[end] ?? "")) end += 1;
  work.steps += end - at;
  const url = source.slice(at + 1, end);
  if (end === start || source[end] !== ">" || !safeHref(url)) return undefined;
  flushText(scan);
  scan.pieces.push({ kind: "link", href: url, children: [{ kind: "text", value: url }] });
  return end + 1;
}

/** The visible text of a link's pieces (they hold no links). */
function plainText(pieces: readonly Piece[]): string {
  return pieces.map((p) => (p.kind === "delim" ? p.char.repeat(p.count) : p.kind === "link" ? plainText(p.children) : p.value)).join("");
}

/** Rendering state: the emphasis tags open around the current piece. */
interface Output {
  html: string;
  readonly frames: { readonly tag: InlineTag; readonly hidden: boolean; shown: boolean }[];
  /** Frames below this index have written their start tag, or never will (hidden). */
  flushed: number;
  /** How many frames (or enclosing tags) of each tag are open: a tag inside itself is not written again. */
  readonly depth: Record<InlineTag, number>;
}

/**
 * Renders pieces; inside a link code spans lose their tag (Telegram forbids code inside a
 * link). A tag is written only once something visible is inside it, so no empty tag is sent.
 */
function renderPieces(pieces: readonly Piece[], depth: Readonly<Record<InlineTag, number>>, inLink: boolean, work: InlineWork): string {
  const out: Output = { html: "", frames: [], flushed: 0, depth: { ...depth } };
  for (const piece of pieces) {
    work.steps += 1;
    if (piece.kind === "text") write(out, escapeHtml(piece.value));
    else if (piece.kind === "code") write(out, inLink ? escapeHtml(piece.value) : `<code>${escapeHtml(piece.value)}</code>`);
    else if (piece.kind === "link") write(out, renderLink(piece, out.depth, work));
    else renderDelimiter(out, piece, work);
  }
  return out.html;
}

function renderLink(link: Extract<Piece, { kind: "link" }>, depth: Readonly<Record<InlineTag, number>>, work: InlineWork): string {
  const inner = renderPieces(link.children, depth, true, work);
  if (link.href === undefined) return inner;
  return `<a href="${escapeAttribute(link.href)}">${inner || escapeHtml(link.href)}</a>`;
}

/** Tags closed on it, its unmatched characters, tags opened on it (outermost first). */
function renderDelimiter(out: Output, d: Delimiter, work: InlineWork): void {
  work.steps += d.closes.length + d.opens.length;
  for (const _ of d.closes) closeTag(out);
  write(out, d.char.repeat(d.count));
  for (let k = d.opens.length - 1; k >= 0; k -= 1) openTag(out, d.opens[k] ?? "i");
}

function write(out: Output, html: string): void {
  if (!html) return;
  for (const frame of out.frames.slice(out.flushed)) {
    if (frame.hidden) continue;
    out.html += `<${frame.tag}>`;
    frame.shown = true;
  }
  out.flushed = out.frames.length;
  out.html += html;
}

function openTag(out: Output, tag: InlineTag): void {
  out.frames.push({ tag, hidden: out.depth[tag] > 0, shown: false });
  out.depth[tag] += 1;
}

function closeTag(out: Output): void {
  const frame = out.frames.pop();
  if (!frame) return;
  out.depth[frame.tag] -= 1;
  if (frame.shown) out.html += `</${frame.tag}>`;
  out.flushed = Math.min(out.flushed, out.frames.length);
}
