/**
 * Position tables over one inline Markdown source, so the inline parser never rescans text.
 *
 * Scanning forward from every backtick for its closing run, from every `[` for its `]` and from
 * every `(` for its `)` makes a long run of unmatched openers quadratic (64k `[` took seconds).
 * Instead each answer is precomputed in one right-to-left pass: a table entry depends only on
 * entries further right, so the pass is linear and every lookup is O(1). Tables are built
 * lazily, on the first lookup that needs them. Pure: nothing outlives one render.
 */

/** Counts a render's elementary steps, so tests can bound the work instead of timing it. */
export interface InlineWork {
  /** Steps taken so far; a render adds to it. */
  steps: number;
}

/** O(1) answers about one source; positions are indexes into it. */
export interface SourceIndex {
  readonly source: string;
  readonly work: InlineWork;
  /** The end of the backtick run that `at` (a backtick) is in. */
  runEnd(at: number): number;
  /**
   * The start of the run closing a code span opened by the backticks from `at` to their run's
   * end (the first later run of exactly that length), if it starts before `end`; else -1.
   */
  codeClose(at: number, end: number): number;
  /** The `]` balancing the `[` at `open` (code spans and `\` escapes skipped; a blank line stops it), or -1. */
  bracketClose(open: number): number;
  /** The `)` balancing the `(` at `open` (`\` escapes skipped; a line break stops it), or -1. */
  parenClose(open: number): number;
  /**
   * The URL of a link destination `source[start, end)`, exactly as
   * `/^\s*<?([^\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*$/` captures it, or undefined when it does not match.
   */
  destination(start: number, end: number): string | undefined;
}

const NONE = -1;
const SPACE = /\s/;

/** Indexes `source`; no table is built until a lookup needs it. */
export function indexSource(source: string, work: InlineWork): SourceIndex {
  const runs = lazy(() => backtickRuns(source, work));
  const brackets = lazy(() => bracketTable(source, runs(), work));
  const parens = lazy(() => parenTable(source, work));
  const scans = lazy(() => scanTables(source, work));
  return {
    source,
    work,
    runEnd: (at) => runs().runEnd[at],
    codeClose: (at, end) => {
      const close = runs().closeAt[at];
      return close < end ? close : NONE;
    },
    bracketClose: (open) => lookup(brackets(), open + 1),
    parenClose: (open) => lookup(parens(), open + 1),
    destination: (start, end) => destination(source, scans(), start, end),
  };
}

function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

/** A table entry, or -1 past the end (a scan that runs off the source found nothing). */
function lookup(table: Int32Array, at: number): number {
  return at < table.length ? table[at] : NONE;
}

interface BacktickRuns {
  /** At each backtick: the end of its maximal run. */
  readonly runEnd: Int32Array;
  /** At each backtick: the start of the first later run as long as the rest of its run, or -1. */
  readonly closeAt: Int32Array;
}

/** Backtick runs right to left, remembering the nearest run of each length seen so far. */
function backtickRuns(source: string, work: InlineWork): BacktickRuns {
  const n = source.length;
  const runEnd = new Int32Array(n).fill(NONE);
  const closeAt = new Int32Array(n).fill(NONE);
  const nearestOfLength = new Int32Array(n + 1).fill(NONE);
  let i = n - 1;
  while (i >= 0) {
    work.steps += 1;
    if (source[i] !== "`") {
      i -= 1;
      continue;
    }
    const end = i + 1;
    let start = i;
    while (start > 0 && source[start - 1] === "`") start -= 1;
    // An opener may start inside a run (after an escaped backtick): every suffix gets its closer.
    for (let at = start; at < end; at += 1) {
      work.steps += 1;
      runEnd[at] = end;
      closeAt[at] = nearestOfLength[end - at];
    }
    nearestOfLength[end - start] = start;
    i = start - 1;
  }
  return { runEnd, closeAt };
}

/**
 * For each position, where a link text scan from there (depth 0) meets the `]` that takes it
 * below its starting depth: a nested `[` continues after its own `]`, a code span after its end.
 */
function bracketTable(source: string, runs: BacktickRuns, work: InlineWork): Int32Array {
  const seek = new Int32Array(source.length);
  for (let i = source.length - 1; i >= 0; i -= 1) {
    work.steps += 1;
    const ch = source[i];
    if (ch === "]") seek[i] = i;
    else if (ch === "\\") seek[i] = lookup(seek, i + 2);
    else if (ch === "[") seek[i] = after(seek, lookup(seek, i + 1));
    else if (ch === "\n" && source[i + 1] === "\n") seek[i] = NONE;
    else if (ch === "`" && runs.closeAt[i] >= 0) seek[i] = lookup(seek, runs.closeAt[i] + runs.runEnd[i] - i);
    else seek[i] = lookup(seek, i + 1);
  }
  return seek;
}

/** The same for a link destination's parentheses, which ignore code spans and stop at a line break. */
function parenTable(source: string, work: InlineWork): Int32Array {
  const seek = new Int32Array(source.length);
  for (let i = source.length - 1; i >= 0; i -= 1) {
    work.steps += 1;
    const ch = source[i];
    if (ch === ")") seek[i] = i;
    else if (ch === "\\") seek[i] = lookup(seek, i + 2);
    else if (ch === "(") seek[i] = after(seek, lookup(seek, i + 1));
    else if (ch === "\n") seek[i] = NONE;
    else seek[i] = lookup(seek, i + 1);
  }
  return seek;
}

/** Where the scan goes on after a nested opener whose closer is at `close` (-1: it fails too). */
function after(seek: Int32Array, close: number): number {
  return close < 0 ? NONE : lookup(seek, close + 1);
}

interface ScanTables {
  /** The first position at or after each index that is not white space (length if none). */
  readonly nonSpace: Int32Array;
  /** The first white space or `>` at or after each index: where a destination's URL ends. */
  readonly urlStop: Int32Array;
  readonly doubleQuote: Int32Array;
  readonly singleQuote: Int32Array;
}

function scanTables(source: string, work: InlineWork): ScanTables {
  const n = source.length;
  const tables = { nonSpace: new Int32Array(n + 1), urlStop: new Int32Array(n + 1), doubleQuote: new Int32Array(n + 1), singleQuote: new Int32Array(n + 1) };
  tables.nonSpace[n] = tables.urlStop[n] = tables.doubleQuote[n] = tables.singleQuote[n] = n;
  for (let i = n - 1; i >= 0; i -= 1) {
    work.steps += 1;
    const ch = source[i] ?? "";
    const space = SPACE.test(ch);
    tables.nonSpace[i] = space ? tables.nonSpace[i + 1] : i;
    tables.urlStop[i] = space || ch === ">" ? i : tables.urlStop[i + 1];
    tables.doubleQuote[i] = ch === '"' ? i : tables.doubleQuote[i + 1];
    tables.singleQuote[i] = ch === "'" ? i : tables.singleQuote[i + 1];
  }
  return tables;
}

/**
 * The destination regex's first match, decided without backtracking: the URL is a maximal run
 * of non-space, non-`>` characters, so the only choice the regex has is to give back all the
 * leading white space and read what follows as a title with an empty URL.
 */
function destination(source: string, t: ScanTables, start: number, end: number): string | undefined {
  const first = Math.min(t.nonSpace[start], end);
  if (first >= end) return "";
  const urlStart = source[first] === "<" ? first + 1 : first;
  const urlEnd = Math.min(t.urlStop[urlStart], end);
  const rest = urlEnd < end && source[urlEnd] === ">" ? urlEnd + 1 : urlEnd;
  const next = t.nonSpace[rest];
  if ((next > rest && isTitle(source, t, next, end)) || next >= end) return source.slice(urlStart, urlEnd);
  return first > start && isTitle(source, t, first, end) ? "" : undefined;
}

/** A quoted title at `at` followed only by white space up to `end`. */
function isTitle(source: string, t: ScanTables, at: number, end: number): boolean {
  const quote = source[at];
  if (at >= end || (quote !== '"' && quote !== "'")) return false;
  const close = (quote === '"' ? t.doubleQuote : t.singleQuote)[at + 1];
  return close < end && t.nonSpace[close + 1] >= end;
}
