import { TELEGRAM_MESSAGE_LIMIT } from "../../config/defaults";

/**
 * Splitting rendered Telegram HTML into messages.
 *
 * Telegram's limit applies to the *visible* text: after entity parsing, tags removed and
 * entities decoded, counted in UTF-16 code units. The HTML is read as a sequence of atoms
 * (a tag, or one visible character with its source spelling), so a cut never falls inside a
 * tag, an entity or a surrogate pair. Elements open at a cut are closed at the end of one part
 * and reopened, with the same attributes, at the start of the next. Pure.
 */

/** One piece of the HTML: a tag, or one visible character (a code point). */
type Atom =
  | { readonly kind: "open"; readonly name: string; readonly raw: string }
  | { readonly kind: "close"; readonly name: string; readonly raw: string }
  | { readonly kind: "char"; readonly raw: string; readonly text: string };

type OpenAtom = Extract<Atom, { kind: "open" }>;

/** Break kinds, best first. */
const Break = { Paragraph: 0, Block: 1, Line: 2, Space: 3, Any: 4 } as const;
type Break = (typeof Break)[keyof typeof Break];

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"' };

const MARK = /^\p{M}/u;

/** True for a character that belongs to the grapheme before it: a part never starts with one. */
function joinsPrevious(text: string): boolean {
  const code = text.codePointAt(0) ?? 0;
  return (
    code === 0x200d ||
    code === 0xfe0e ||
    code === 0xfe0f ||
    (code >= 0x1f3fb && code <= 0x1f3ff) ||
    (code >= 0xe0020 && code <= 0xe007f) ||
    MARK.test(text)
  );
}

/**
 * Splits Telegram HTML into parts whose visible text is at most `limit` UTF-16 code units.
 *
 * Cuts are preferred, in order, at a paragraph break (blank line outside any element), before or
 * after a code block, at a line break, at a space; a better kind of cut in the second half of a
 * part wins over a worse one, then any cut anywhere, then a hard cut between two characters
 * (not inside an emoji sequence when avoidable). The whitespace at a cut is dropped.
 *
 * @param html - valid Telegram HTML (as made by `markdownToTelegramHtml`)
 * @param limit - the largest visible length of a part. @default TELEGRAM_MESSAGE_LIMIT (4096)
 * @returns the parts in order, each valid HTML on its own; `[]` when nothing is visible
 * @throws RangeError when `limit` is not an integer of at least 2
 */
export function splitTelegramHtml(html: string, limit: number = TELEGRAM_MESSAGE_LIMIT): string[] {
  if (!Number.isInteger(limit) || limit < 2) {
    throw new RangeError(`split limit must be an integer of at least 2, got ${String(limit)}`);
  }
  const atoms = parseAtoms(html);
  const parts: string[] = [];
  let stack: OpenAtom[] = [];
  let start = 0;
  while (start < atoms.length) {
    const { end, next } = findCut(atoms, start, stack, limit);
    const body = atoms.slice(start, end);
    // Elements opened right at the end of the part are left for the next part.
    const afterStack = applyTags(stack, atoms.slice(start, next));
    while (body.length > 0 && body[body.length - 1]?.kind === "open") body.pop();
    const bodyStack = applyTags(stack, body);
    if (body.some((atom) => atom.kind === "char" && atom.text.trim() !== "")) {
      parts.push(
        stack.map((atom) => atom.raw).join("") +
          body.map((atom) => atom.raw).join("") +
          [...bodyStack].reverse().map((atom) => `</${atom.name}>`).join(""),
      );
    }
    stack = afterStack;
    start = next;
  }
  return parts;
}

/** The visible text of Telegram HTML: tags removed, entities decoded. */
export function visibleText(html: string): string {
  return parseAtoms(html)
    .map((atom) => (atom.kind === "char" ? atom.text : ""))
    .join("");
}

/** Reads HTML into atoms; anything that is not a well-formed tag or entity counts as text. */
function parseAtoms(html: string): Atom[] {
  const atoms: Atom[] = [];
  let i = 0;
  while (i < html.length) {
    const ch = html[i] ?? "";
    if (ch === "<") {
      const tag = /^<(\/?)([a-zA-Z][\w-]*)((?:\s+[^<>]*)?)>/.exec(html.slice(i, i + 1000));
      if (tag) {
        const name = (tag[2] ?? "").toLowerCase();
        atoms.push({ kind: tag[1] ? "close" : "open", name, raw: tag[0] });
        i += tag[0].length;
        continue;
      }
    }
    if (ch === "&") {
      const entity = /^&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));/.exec(html.slice(i, i + 12));
      const decoded = entity ? decodeEntity(entity) : undefined;
      if (entity && decoded !== undefined) {
        atoms.push({ kind: "char", raw: entity[0], text: decoded });
        i += entity[0].length;
        continue;
      }
    }
    const code = html.codePointAt(i) ?? 0;
    const char = String.fromCodePoint(code);
    atoms.push({ kind: "char", raw: char, text: char });
    i += char.length;
  }
  return atoms;
}

function decodeEntity(entity: RegExpExecArray): string | undefined {
  const code = entity[1] ? Number.parseInt(entity[1], 10) : entity[2] ? Number.parseInt(entity[2], 16) : undefined;
  if (code === undefined) return NAMED_ENTITIES[(entity[3] ?? "").toLowerCase()];
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
}

/** The open elements after `atoms`, starting from `stack`. */
function applyTags(stack: readonly OpenAtom[], atoms: readonly Atom[]): OpenAtom[] {
  const result = [...stack];
  for (const atom of atoms) {
    if (atom.kind === "open") result.push(atom);
    else if (atom.kind === "close") {
      const at = result.map((open) => open.name).lastIndexOf(atom.name);
      if (at >= 0) result.splice(at, 1);
    }
  }
  return result;
}

/**
 * Where the part starting at `start` ends (`end`, exclusive) and where the next starts (`next`);
 * `end` and `next` differ by the whitespace dropped at the cut.
 */
function findCut(atoms: readonly Atom[], start: number, stack: readonly OpenAtom[], limit: number): { end: number; next: number } {
  // Walk forward until the visible text would pass the limit; note each cut candidate.
  const late: number[] = [-1, -1, -1, -1, -1];
  const early: number[] = [-1, -1, -1, -1, -1];
  let visible = 0;
  let depth = stack.length;
  let seenContent = false;
  let i = start;
  const half = Math.floor(limit / 2);
  for (; i < atoms.length; i += 1) {
    const atom = atoms[i];
    if (!atom) break;
    const kind = seenContent ? cutKind(atoms, i, depth) : undefined;
    if (kind !== undefined) {
      const list = visible >= half ? late : early;
      for (let k: number = kind; k <= Break.Any; k += 1) list[k] = i;
    }
    if (atom.kind === "open") depth += 1;
    else if (atom.kind === "close") depth = Math.max(0, depth - 1);
    else {
      if (visible + atom.text.length > limit) break;
      visible += atom.text.length;
      if (atom.text.trim()) seenContent = true;
    }
  }
  if (i >= atoms.length) return { end: atoms.length, next: atoms.length };
  const at = pickCut(late, early) ?? Math.max(i, start + 1);
  // Inside code, whitespace is content: drop only the one separator character.
  const inCode = applyTags(stack, atoms.slice(start, at)).some((open) => open.name === "pre" || open.name === "code");
  if (inCode) return { end: at, next: isSpace(atoms[at]) ? at + 1 : at };
  return { end: trimBack(atoms, start, at), next: skipForward(atoms, at) };
}

/**
 * The best kind of cut in the second half of the part, else the best kind anywhere, else the
 * latest cut between any two characters.
 */
function pickCut(late: readonly number[], early: readonly number[]): number | undefined {
  for (const list of [late, early]) {
    for (let kind: number = Break.Paragraph; kind < Break.Any; kind += 1) {
      const at = list[kind] ?? -1;
      if (at >= 0) return at;
    }
  }
  const any = (late[Break.Any] ?? -1) >= 0 ? late[Break.Any] : early[Break.Any];
  return any !== undefined && any >= 0 ? any : undefined;
}

/** What kind of cut falls just before atom `i`, if any. */
function cutKind(atoms: readonly Atom[], i: number, depth: number): Break | undefined {
  const atom = atoms[i];
  const previous = atoms[i - 1];
  if (!atom) return undefined;
  if (atom.kind === "char") {
    const following = atoms[i + 1];
    if (atom.text === "\n") return depth === 0 && following?.kind === "char" && following.text === "\n" ? Break.Paragraph : Break.Line;
    if (atom.text === " ") return Break.Space;
    if (previous?.kind === "char" && (previous.text === "\u200d" || joinsPrevious(atom.text))) return undefined;
    return Break.Any;
  }
  if (atom.kind === "open" && atom.name === "pre" && depth === 0) return Break.Block;
  if (previous?.kind === "close" && previous.name === "pre" && depth === 0) return Break.Block;
  return atom.kind === "open" ? Break.Any : undefined;
}

/** Moves a cut back over whitespace characters directly before it. */
function trimBack(atoms: readonly Atom[], start: number, at: number): number {
  let end = at;
  while (end > start + 1 && isSpace(atoms[end - 1])) end -= 1;
  return end;
}

/** Moves the next part's start over whitespace characters at the cut. */
function skipForward(atoms: readonly Atom[], at: number): number {
  let next = at;
  while (next < atoms.length && isSpace(atoms[next])) next += 1;
  return next;
}

function isSpace(atom: Atom | undefined): boolean {
  return atom?.kind === "char" && atom.text.trim() === "";
}
