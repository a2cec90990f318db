/**
 * Telegram's HTML parse mode, checked the way Telegram parses it, for the Bot API stand-in:
 * a message the formatter produced is refused here exactly when Telegram would refuse it
 * (or would silently lose formatting).
 */

/** A formatting entity found in parsed HTML (offsets and lengths in UTF-16 code units, as the Bot API's MessageEntity). */
export interface ParsedEntity {
  readonly type: string;
  readonly offset: number;
  readonly length: number;
  readonly url?: string;
  readonly language?: string;
  readonly custom_emoji_id?: string;
}

/** What checkTelegramHtml concludes: the visible text, or Telegram's reason for refusing. */
export type HtmlCheck = { ok: true; text: string; entities: ParsedEntity[] } | { ok: false; reason: string };

/** Tags of Telegram's HTML parse mode and the entity each one makes. */
const TAG_ENTITY: Readonly<Record<string, string>> = {
  b: "bold",
  strong: "bold",
  i: "italic",
  em: "italic",
  u: "underline",
  ins: "underline",
  s: "strikethrough",
  strike: "strikethrough",
  del: "strikethrough",
  span: "spoiler",
  "tg-spoiler": "spoiler",
  a: "text_link",
  code: "code",
  pre: "pre",
  blockquote: "blockquote",
  "tg-emoji": "custom_emoji",
};

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"' };

interface OpenTag {
  readonly name: string;
  readonly offset: number;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * Checks text meant for `parse_mode: "HTML"` the way Telegram parses it: only the supported
 * tags (b, strong, i, em, u, ins, s, strike, del, span class="tg-spoiler", tg-spoiler, a href,
 * code, pre with optionally one code class="language-x", blockquote with optional expandable,
 * tg-emoji emoji-id), properly nested and closed, and only the entities &lt; &gt; &amp; &quot;
 * and numeric ones. Reasons follow Telegram's wording ("Unsupported start tag \"br\" at byte
 * offset 3"). Deliberately a little stricter than Telegram, which silently drops formatting
 * it cannot nest and keeps an unknown `&name;` as text: here a tag inside code/pre (other
 * than pre>code), a link inside a link, a blockquote inside a blockquote, and any `&` that
 * does not start a supported entity are errors, since each means the formatter lost something.
 */
export function checkTelegramHtml(html: string): HtmlCheck {
  const parse: HtmlParse = { html, text: "", entities: [], stack: [] };
  let i = 0;
  while (i < html.length) {
    const c = html[i];
    let step: Step;
    if (c === "&") step = readEntity(parse, i);
    else if (c !== "<") {
      parse.text += c;
      step = { next: i + 1 };
    } else if (html[i + 1] === "/") step = readEndTag(parse, i);
    else step = readStartTag(parse, i);
    if ("reason" in step) return { ok: false, reason: step.reason };
    i = step.next;
  }
  const unclosed = parse.stack.pop();
  if (unclosed !== undefined) return { ok: false, reason: `Can't find end tag corresponding to start tag "${unclosed.name}"` };
  return { ok: true, text: parse.text, entities: parse.entities.sort((a, b) => a.offset - b.offset || b.length - a.length) };
}

/** The checker's progress through one text: what it decoded so far and the tags still open. */
interface HtmlParse {
  readonly html: string;
  text: string;
  readonly entities: ParsedEntity[];
  readonly stack: OpenTag[];
}

/** Where to go on after one token, or why the text is refused. */
type Step = { next: number } | { reason: string };

const byteOffsetIn = (html: string, index: number) => Buffer.byteLength(html.slice(0, index), "utf8");

const skipSpace = (html: string, from: number): number => {
  let j = from;
  while (j < html.length && /\s/.test(html[j])) j += 1;
  return j;
};

function readEntity(parse: HtmlParse, at: number): Step {
  const decoded = decodeEntityAt(parse.html, at);
  if (decoded === undefined) return { reason: `Unsupported HTML entity at byte offset ${byteOffsetIn(parse.html, at)}` };
  parse.text += decoded.value;
  return { next: decoded.end };
}

function readEndTag(parse: HtmlParse, begin: number): Step {
  const { html, stack, entities } = parse;
  const at = byteOffsetIn(html, begin);
  const name = (/^[A-Za-z0-9-]*/.exec(html.slice(begin + 2))?.[0] ?? "").toLowerCase();
  const j = skipSpace(html, begin + 2 + name.length);
  if (html[j] !== ">") return { reason: `Unclosed end tag at byte offset ${at}` };
  const open = stack.pop();
  if (open === undefined) return { reason: `Unexpected end tag at byte offset ${at}` };
  if (open.name !== name) return { reason: `Unmatched end tag at byte offset ${at}, expected "</${open.name}>", found "</${name}>"` };
  const entity = entityFor(open, parse.text.length, stack);
  const last = entities[entities.length - 1];
  // <pre><code class="language-x">…</code></pre> already made its pre entity when code closed.
  const coveredByCode = entity?.type === "pre" && last?.type === "pre" && last.offset === entity.offset && last.length === entity.length;
  if (entity && !coveredByCode) entities.push(entity);
  return { next: j + 1 };
}

function readStartTag(parse: HtmlParse, begin: number): Step {
  const { html, stack } = parse;
  const at = byteOffsetIn(html, begin);
  const name = (/^[A-Za-z0-9-]*/.exec(html.slice(begin + 1))?.[0] ?? "").toLowerCase();
  if (!(name in TAG_ENTITY)) return { reason: `Unsupported start tag "${name}" at byte offset ${at}` };
  const read = readAttributes(html, begin + 1 + name.length, name, at);
  if ("reason" in read) return read;
  const problem = startTagProblem(name, read.attributes, stack);
  if (problem !== undefined) return { reason: `${problem} at byte offset ${at}` };
  stack.push({ name, offset: parse.text.length, attributes: read.attributes });
  return { next: read.end + 1 };
}

/** Reads a start tag's attributes up to its `>` (whose index is `end`). */
function readAttributes(html: string, from: number, tag: string, at: number): { attributes: Record<string, string>; end: number } | { reason: string } {
  const attributes: Record<string, string> = {};
  const unclosed = { reason: `Unclosed start tag at byte offset ${at}` };
  let j = from;
  for (;;) {
    j = skipSpace(html, j);
    if (j >= html.length) return unclosed;
    if (html[j] === ">") return { attributes, end: j };
    const attrName = (/^[A-Za-z0-9_-]*/.exec(html.slice(j))?.[0] ?? "").toLowerCase();
    if (attrName === "") return { reason: `Empty attribute name in the tag "${tag}" at byte offset ${at}` };
    j = skipSpace(html, j + attrName.length);
    if (html[j] !== "=") {
      attributes[attrName] = "";
      continue;
    }
    j = skipSpace(html, j + 1);
    if (j >= html.length) return unclosed;
    let raw: string;
    const quote = html[j];
    if (quote === '"' || quote === "'") {
      const close = html.indexOf(quote, j + 1);
      if (close < 0) return unclosed;
      raw = html.slice(j + 1, close);
      j = close + 1;
    } else {
      raw = /^[^\s>]*/.exec(html.slice(j))?.[0] ?? "";
      j += raw.length;
    }
    const value = decodeAll(raw);
    if (value === undefined) return { reason: `Unsupported HTML entity in the attribute "${attrName}" at byte offset ${at}` };
    attributes[attrName] = value;
  }
}

/** Why a start tag is refused where it stands, or undefined when it is fine. */
function startTagProblem(name: string, attributes: Record<string, string>, stack: readonly OpenTag[]): string | undefined {
  if (name === "span" && attributes.class !== "tg-spoiler") return `Unsupported start tag "span"`;
  if (name === "tg-emoji" && !/^[0-9]+$/.test(attributes["emoji-id"] ?? "")) return `Tag "tg-emoji" must have a numeric emoji-id attribute`;
  const parent = stack[stack.length - 1];
  if (parent && (parent.name === "code" || parent.name === "pre")) {
    const codeInPre = parent.name === "pre" && name === "code";
    if (!codeInPre) return `Tag "${name}" can't be nested in tag "${parent.name}"`;
  }
  if (name === "code" && attributes.class !== undefined && !/^language-[^\s]+$/.test(attributes.class)) {
    return `Unsupported class "${attributes.class}" of the tag "code"`;
  }
  if (name === "a" && stack.some((t) => t.name === "a")) return `Tag "a" can't be nested in tag "a"`;
  if (name === "blockquote" && stack.some((t) => t.name === "blockquote")) return `Tag "blockquote" can't be nested in tag "blockquote"`;
  return undefined;
}

/** The entity a closed tag makes, or undefined for an empty one (Telegram drops those). */
function entityFor(open: OpenTag, end: number, stack: readonly OpenTag[]): ParsedEntity | undefined {
  const length = end - open.offset;
  if (length === 0) return undefined;
  const base = { offset: open.offset, length };
  switch (open.name) {
    case "a":
      return { type: "text_link", ...base, url: open.attributes.href ?? "" };
    case "tg-emoji":
      return { type: "custom_emoji", ...base, custom_emoji_id: open.attributes["emoji-id"] };
    case "blockquote":
      return { type: "expandable" in open.attributes ? "expandable_blockquote" : "blockquote", ...base };
    case "code": {
      // <pre><code class="language-x"> makes one pre entity with a language.
      const parent = stack[stack.length - 1];
      if (parent?.name === "pre") {
        const language = open.attributes.class?.replace(/^language-/, "");
        return language ? { type: "pre", ...base, language } : undefined;
      }
      return { type: "code", ...base };
    }
    default:
      return { type: TAG_ENTITY[open.name], ...base };
  }
}

/** Decodes the entity starting at `at` ("&lt;", "&#60;", "&#x3C;"), or undefined when it is not a supported one. */
function decodeEntityAt(source: string, at: number): { value: string; end: number } | undefined {
  const match = /^&(#[xX][0-9A-Fa-f]{1,8}|#[0-9]{1,10}|[A-Za-z]+);/.exec(source.slice(at, at + 16));
  if (!match) return undefined;
  const body = match[1];
  let value: string | undefined;
  if (body.startsWith("#")) {
    const code = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    value = valid ? String.fromCodePoint(code) : undefined;
  } else {
    value = NAMED_ENTITIES[body];
  }
  return value === undefined ? undefined : { value, end: at + match[0].length };
}

function decodeAll(raw: string): string | undefined {
  let out = "";
  let i = 0;
  while (i < raw.length) {
    if (raw[i] !== "&") {
      out += raw[i];
      i += 1;
      continue;
    }
    const decoded = decodeEntityAt(raw, i);
    if (decoded === undefined) return undefined;
    out += decoded.value;
    i = decoded.end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/** How to start a TelegramStandIn. */
