import type { InlineWork } from "./markdown-source";

/**
 * Emphasis by CommonMark's delimiter-run algorithm ("process emphasis",
 * https://spec.commonmark.org/0.31.2/#phase-2-inline-structure): left/right flanking, no
 * intraword `_`, the rule of three; `~~` pairs as strikethrough.
 *
 * Linear, as the spec's algorithm is: the delimiters form a linked stack, a match drops the
 * delimiters between opener and closer from it at once, and a closer that finds no opener
 * records an "openers bottom" for its kind, below which later closers of that kind never look
 * again (nothing below can have become a match: what makes a pair does not change). A match
 * does not move text around: it notes the tag on both delimiters, and the renderer opens it
 * after the opener's remaining characters and closes it before the closer's.
 */

/** Formatting tags emphasis makes. */
export type EmphasisTag = "b" | "i" | "s";

/** A run of `*`, `_` or (two or more) `~`, and the tags matched on it. */
export interface Delimiter {
  readonly kind: "delim";
  readonly char: "*" | "_" | "~";
  /** Order among the delimiters that can open or close: openers bottoms compare it. */
  readonly order: number;
  /** Characters not used by a match yet; they stay as literal text. */
  count: number;
  readonly original: number;
  readonly canOpen: boolean;
  readonly canClose: boolean;
  /** Tags ending just before the remaining characters, innermost first. */
  readonly closes: EmphasisTag[];
  /** Tags starting just after them, innermost first. */
  readonly opens: EmphasisTag[];
  previous?: Delimiter;
  next?: Delimiter;
}

const PUNCTUATION = /[\p{P}\p{S}]/u;
const SPACE = /\s/u;

/**
 * The delimiter of `run` characters at `at`; the bounds `[start, end)` of the text it is in
 * count as white space (a link's text is parsed on its own).
 */
export function delimiterRun(source: string, at: number, run: number, char: Delimiter["char"], bounds: { start: number; end: number; order: number }): Delimiter {
  const before = at > bounds.start ? (source[at - 1] ?? " ") : " ";
  const after = at + run < bounds.end ? (source[at + run] ?? " ") : " ";
  const spaceBefore = SPACE.test(before);
  const spaceAfter = SPACE.test(after);
  const punctBefore = PUNCTUATION.test(before);
  const punctAfter = PUNCTUATION.test(after);
  const left = !spaceAfter && (!punctAfter || spaceBefore || punctBefore);
  const right = !spaceBefore && (!punctBefore || spaceAfter || punctAfter);
  const canOpen = char === "_" ? left && (!right || punctBefore) : left;
  const canClose = char === "_" ? right && (!left || punctAfter) : right;
  return { kind: "delim", char, order: bounds.order, count: run, original: run, canOpen, canClose, closes: [], opens: [] };
}

/**
 * Matches openers with closers, left to right, each closer with the nearest opener that can
 * pair with it. `delimiters` are in text order and each can open or close.
 */
export function processEmphasis(delimiters: readonly Delimiter[], work: InlineWork): void {
  delimiters.forEach((d, k) => {
    d.previous = delimiters[k - 1];
    d.next = delimiters[k + 1];
  });
  const bottoms = new Map<string, number>();
  for (let closer: Delimiter | undefined = delimiters[0]; closer; closer = closer.next) {
    work.steps += 1;
    closeFrom(closer, bottoms, work);
  }
}

/** Uses `closer` as long as it finds openers; a closer left over may still open later. */
function closeFrom(closer: Delimiter, bottoms: Map<string, number>, work: InlineWork): void {
  while (closer.canClose && closer.count > 0) {
    // A single `~` left over can neither open nor close strikethrough.
    if (closer.char === "~" && closer.count < 2) return unlink(closer);
    const kind = closerKind(closer);
    const opener = findOpener(closer, bottoms.get(kind) ?? 0, work);
    if (!opener) {
      bottoms.set(kind, closer.order);
      if (!closer.canOpen) unlink(closer);
      return;
    }
    pair(opener, closer);
  }
}

/** What decides whether an opener pairs with a closer, on the closer's side. */
function closerKind(closer: Delimiter): string {
  return closer.char === "~" ? "~" : `${closer.char}${closer.canOpen ? "o" : "-"}${closer.original % 3}`;
}

function findOpener(closer: Delimiter, bottom: number, work: InlineWork): Delimiter | undefined {
  for (let candidate = closer.previous; candidate && candidate.order >= bottom; candidate = candidate.previous) {
    work.steps += 1;
    if (canPair(candidate, closer)) return candidate;
  }
  return undefined;
}

function canPair(opener: Delimiter, closer: Delimiter): boolean {
  if (opener.char !== closer.char || !opener.canOpen) return false;
  if (opener.char === "~") return opener.count >= 2 && closer.count >= 2;
  const ruleOfThree =
    (opener.canClose || closer.canOpen) &&
    (opener.original + closer.original) % 3 === 0 &&
    !(opener.original % 3 === 0 && closer.original % 3 === 0);
  return !ruleOfThree;
}

/** Notes the tag on both; the delimiters between them are inside it now and stay as written. */
function pair(opener: Delimiter, closer: Delimiter): void {
  const use = closer.char === "~" || (opener.count >= 2 && closer.count >= 2) ? 2 : 1;
  opener.count -= use;
  closer.count -= use;
  const tag: EmphasisTag = closer.char === "~" ? "s" : use === 2 ? "b" : "i";
  opener.opens.push(tag);
  closer.closes.push(tag);
  opener.next = closer;
  closer.previous = opener;
  if (opener.count === 0) unlink(opener);
  if (closer.count === 0) unlink(closer);
}

/** Takes `d` off the stack; its own links stay, so a walk standing on it can go on. */
function unlink(d: Delimiter): void {
  if (d.previous) d.previous.next = d.next;
  if (d.next) d.next.previous = d.previous;
}
