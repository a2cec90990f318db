/**
 * A guard for JSON from strangers (an archive file sent to the bot): one pass over the raw
 * bytes, before they are decoded or parsed, that refuses what would cost more than a small,
 * fixed memory budget once parsed (deep nesting, too many values) and what no well-formed text
 * holds (a lone UTF-16 surrogate escape). It holds nothing but counters. Pure.
 */

/** The limits of {@link checkJsonBudget}. */
export interface JsonBudget {
  /** Deepest nesting of objects and arrays. */
  readonly maxDepth: number;
  /** Most values (objects, arrays, strings, numbers, literals) in the document. */
  readonly maxValues: number;
}

/**
 * The budget of an archive file: its format nests 4 deep (file → conversation → message →
 * images), and a message costs 7 values (the object, three keys, three values): 300,000 is
 * about 40,000 messages, more than a 1 MB file of real messages holds. Parsed, that is a few
 * tens of MB at most, whatever the file does.
 */
export const ARCHIVE_JSON_BUDGET: JsonBudget = Object.freeze({ maxDepth: 10, maxValues: 300_000 });

/** The verdict: within budget, or the reason it is not, in words a user can act on. */
export type JsonBudgetCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const LOWER_U = 0x75;

/** The code unit of a `\uXXXX` escape whose `u` is at `at`, or -1 when it is not one. */
function escapedUnit(bytes: Uint8Array, at: number): number {
  if (bytes[at] !== LOWER_U || at + 4 >= bytes.length) return -1;
  const hex = String.fromCharCode(bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!, bytes[at + 4]!);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? parseInt(hex, 16) : -1;
}

const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/** Checks a string's escapes from its opening quote; returns the index after its closing quote, or a reason. */
function scanString(bytes: Uint8Array, start: number): { end: number } | { reason: string } {
  let i = start + 1;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    if (byte === QUOTE) return { end: i + 1 };
    if (byte !== BACKSLASH) {
      i += 1;
      continue;
    }
    const unit = escapedUnit(bytes, i + 1);
    if (unit < 0) {
      i += 2;
      continue;
    }
    if (isLow(unit)) return { reason: `it holds a lone UTF-16 surrogate (\\u${unit.toString(16)}) at byte ${i}` };
    if (isHigh(unit)) {
      const next = bytes[i + 6] === BACKSLASH ? escapedUnit(bytes, i + 7) : -1;
      if (!isLow(next)) return { reason: `it holds a lone UTF-16 surrogate (\\u${unit.toString(16)}) at byte ${i}` };
      i += 12;
      continue;
    }
    i += 6;
  }
  return { end: i };
}

/**
 * Whether `bytes` stays within `budget`. It does not check that the JSON is valid (the parser
 * does that next), only that parsing it cannot cost more than the budget allows.
 */
export function checkJsonBudget(bytes: Uint8Array, budget: JsonBudget): JsonBudgetCheck {
  let depth = 0;
  let values = 0;
  let expectValue = true;
  for (let i = 0; i < bytes.length; ) {
    const byte = bytes[i]!;
    if (byte === QUOTE) {
      const scanned = scanString(bytes, i);
      if ("reason" in scanned) return { ok: false, reason: scanned.reason };
      i = scanned.end;
      if (expectValue) values += 1;
      expectValue = false;
    } else {
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        depth += 1;
        values += 1;
        if (depth > budget.maxDepth) return { ok: false, reason: `it nests deeper than ${budget.maxDepth} levels` };
        expectValue = true;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth -= 1;
        expectValue = false;
      } else if (byte === COMMA || byte === 0x3a /* : */) {
        expectValue = true;
      } else if (expectValue && byte > 0x20) {
        values += 1; // a number or a literal starts
        expectValue = false;
      }
      i += 1;
    }
    if (values > budget.maxValues) return { ok: false, reason: `it holds more than ${budget.maxValues.toLocaleString("en-US")} values` };
  }
  return { ok: true };
}
