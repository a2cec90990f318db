import { escapeAttribute, escapeHtml } from "./html-escape";
import { isDeceptiveLink, safeHref } from "./link-safety";

/**
 * Inline Markdown (emphasis, strike, code spans, links) to Telegram HTML.
 *
 * A small subset of CommonMark's inline rules: code spans first, then links, then emphasis by
 * the delimiter-run algorithm (left/right flanking, no intraword `_`, the rule of three).
 * The result is built as a tree and rendered, so tags are always balanced; whatever does not
 * parse (an unclosed `**`, a `[` without a link) stays as escaped literal text.
 */

/** Link schemes Telegram accepts and we pass on; other targets keep only their text. */

type Tag = InlineTag;

type InlineNode =
  | { readonly kind: "text"; readonly value: string }
  | { readonly kind: "code"; readonly value: string }
  | { readonly kind: "tag"; readonly tag: Tag; readonly children: InlineNode[] }
  | { readonly kind: "link"; readonly href: string | undefined; readonly children: InlineNode[] };

interface Delimiter {
  readonly kind: "delim";
  readonly char: "*" | "_" | "~";
  count: number;
  readonly original: number;
  readonly canOpen: boolean;
  readonly canClose: boolean;
}

type Item = InlineNode | Delimiter;

const PUNCTUATION = /[\p{P}\p{S}]/u;
const SPACE = /\s/u;
const ESCAPABLE = /[!-/:-@[-`{-~]/;

/** Formatting tags the inline renderer emits. */
export type InlineTag = "b" | "i" | "s";

/**
 * Renders one block's inline Markdown (may contain line breaks) as Telegram HTML.
 * @param enclosing - tags the caller wraps the result in; they are not opened again inside.
 *   @default []
 */
export function renderInline(source: string, enclosing: readonly InlineTag[] = []): string {
  return renderNodes(parseInline(source), new Set(enclosing), false);
}

function parseInline(source: string, allowLinks = true): InlineNode[] {
  const items: Item[] = [];
  let text = "";
  const flush = (): void => {
    if (text) items.push({ kind: "text", value: text });
    text = "";
  };
  let i = 0;
  while (i < source.length) {
    const ch = source[i] ?? "";
    if (ch === "\\" && ESCAPABLE.test(source[i + 1] ?? "")) {
      text += source[i + 1];
      i += 2;
      continue;
    }
    if (ch === "`") {
      const span = codeSpan(source, i);
      if (span) {
        flush();
        items.push({ kind: "code", value: span.value });
        i = span.end;
      } else {
        const run = runLength(source, i, "`");
        text += source.slice(i, i + run);
        i += run;
      }
      continue;
    }
    if (allowLinks && (ch === "[" || (ch === "!" && source[i + 1] === "["))) {
      const link = parseLink(source, ch === "!" ? i + 1 : i);
      if (link) {
        flush();
        items.push(link.node);
        i = link.end;
        continue;
      }
    }
    if (allowLinks && ch === "<") {
      const auto = /^<(https?:\/\/[^\s<>]+)>/i.exec(source.slice(i));
      if (auto?.[1] && safeHref(auto[1])) {
        flush();
        items.push({ kind: "link", href: auto[1], children: [{ kind: "text", value: auto[1] }] });
        i += auto[0].length;
        continue;
      }
    }
    if (ch === "*" || ch === "_" || ch === "~") {
      const run = runLength(source, i, ch);
      if (ch === "~" && run < 2) {
        text += ch;
        i += 1;
        continue;
      }
      flush();
      items.push(delimiter(source, i, run, ch));
      i += run;
      continue;
    }
    text += ch;
    i += 1;
  }
  flush();
  return matchEmphasis(items);
}

function runLength(source: string, at: number, ch: string): number {
  let end = at;
  while (source[end] === ch) end += 1;
  return end - at;
}

/** A code span opening at `at`: the closing backtick run of the same length, if any. */
function codeSpan(source: string, at: number): { value: string; end: number } | undefined {
  const run = runLength(source, at, "`");
  let search = at + run;
  for (;;) {
    const close = source.indexOf("`", search);
    if (close < 0) return undefined;
    const closeRun = runLength(source, close, "`");
    if (closeRun === run) {
      let value = source.slice(at + run, close).replace(/\n/g, " ");
      if (value.length > 2 && value.startsWith(" ") && value.endsWith(" ") && value.trim()) value = value.slice(1, -1);
      return { value, end: close + run };
    }
    search = close + closeRun;
  }
}

/** `[text](url "title")` starting at `at` (the `[`), with balanced brackets and parentheses. */
function parseLink(source: string, at: number): { node: InlineNode; end: number } | undefined {
  let depth = 0;
  let i = at;
  let textEnd = -1;
  while (i < source.length) {
    const ch = source[i];
    if (ch === "\\") i += 1;
    else if (ch === "`") {
      const span = codeSpan(source, i);
      if (span) {
        i = span.end;
        continue;
      }
    } else if (ch === "[") depth += 1;
    else if (ch === "]") {
      depth -= 1;
      if (depth === 0) {
        textEnd = i;
        break;
      }
    } else if (ch === "\n" && source[i + 1] === "\n") return undefined;
    i += 1;
  }
  if (textEnd < 0 || source[textEnd + 1] !== "(") return undefined;
  let parens = 0;
  let j = textEnd + 1;
  let close = -1;
  while (j < source.length) {
    const ch = source[j];
    if (ch === "\\") j += 1;
    else if (ch === "(") parens += 1;
    else if (ch === ")") {
      parens -= 1;
      if (parens === 0) {
        close = j;
        break;
      }
    } else if (ch === "\n") return undefined;
    j += 1;
  }
  if (close < 0) return undefined;
  const target = /^\s*<?([^\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*$/.exec(source.slice(textEnd + 2, close));
  if (!target) return undefined;
  const url = target[1] ?? "";
  // Telegram links cannot contain links: the text is parsed without them.
  const children = parseInline(source.slice(at + 1, textEnd), false);
  const href = safeHref(url);
  // A text that names another address than the target shows the real target instead.
  if (href !== undefined && isDeceptiveLink(plainTextOf(children), href)) {
    return { node: { kind: "link", href, children: [{ kind: "text", value: href }] }, end: close + 1 };
  }
  return { node: { kind: "link", href, children }, end: close + 1 };
}

/** The visible text of inline nodes. */
function plainTextOf(nodes: readonly InlineNode[]): string {
  return nodes.map((n) => (n.kind === "text" || n.kind === "code" ? n.value : plainTextOf(n.children))).join("");
}

function delimiter(source: string, at: number, run: number, char: "*" | "_" | "~"): Delimiter {
  const before = at > 0 ? (source[at - 1] ?? " ") : " ";
  const after = source[at + run] ?? " ";
  const spaceBefore = SPACE.test(before);
  const spaceAfter = SPACE.test(after);
  const punctBefore = PUNCTUATION.test(before);
  const punctAfter = PUNCTUATION.test(after);
  const left = !spaceAfter && (!punctAfter || spaceBefore || punctBefore);
  const right = !spaceBefore && (!punctBefore || spaceAfter || punctAfter);
  const canOpen = char === "_" ? left && (!right || punctBefore) : left;
  const canClose = char === "_" ? right && (!left || punctAfter) : right;
  return { kind: "delim", char, count: run, original: run, canOpen, canClose };
}

function isDelimiter(item: Item): item is Delimiter {
  return item.kind === "delim";
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

/** CommonMark's "process emphasis", simplified: pair closers with the nearest opener. */
function matchEmphasis(input: Item[]): InlineNode[] {
  let items = input;
  let i = 0;
  while (i < items.length) {
    const closer = items[i];
    if (!closer || !isDelimiter(closer) || !closer.canClose) {
      i += 1;
      continue;
    }
    let found = -1;
    for (let j = i - 1; j >= 0; j -= 1) {
      const candidate = items[j];
      if (candidate && isDelimiter(candidate) && canPair(candidate, closer)) {
        found = j;
        break;
      }
    }
    const opener = found >= 0 ? items[found] : undefined;
    if (!opener || !isDelimiter(opener)) {
      i += 1;
      continue;
    }
    const use = closer.char === "~" || (opener.count >= 2 && closer.count >= 2) ? 2 : 1;
    const tag: Tag = closer.char === "~" ? "s" : use === 2 ? "b" : "i";
    const node: InlineNode = { kind: "tag", tag, children: items.slice(found + 1, i).map(literal) };
    opener.count -= use;
    closer.count -= use;
    const before = items.slice(0, opener.count > 0 ? found + 1 : found);
    const after = items.slice(closer.count > 0 ? i : i + 1);
    items = [...before, node, ...after];
    i = before.length + 1;
  }
  return items.map(literal);
}

function literal(item: Item): InlineNode {
  return isDelimiter(item) ? { kind: "text", value: item.char.repeat(item.count) } : item;
}

/**
 * Renders nodes; a tag already open around this node is not opened again, and inside a link
 * code spans lose their tag (Telegram forbids code inside a link).
 */
function renderNodes(nodes: readonly InlineNode[], open: ReadonlySet<Tag>, inLink: boolean): string {
  let html = "";
  for (const node of nodes) {
    switch (node.kind) {
      case "text":
        html += escapeHtml(node.value);
        break;
      case "code":
        html += inLink ? escapeHtml(node.value) : `<code>${escapeHtml(node.value)}</code>`;
        break;
      case "tag": {
        const inner = renderNodes(node.children, new Set([...open, node.tag]), inLink);
        html += open.has(node.tag) || !inner ? inner : `<${node.tag}>${inner}</${node.tag}>`;
        break;
      }
      case "link": {
        const inner = renderNodes(node.children, open, true);
        if (node.href === undefined) html += inner;
        else html += `<a href="${escapeAttribute(node.href)}">${inner || escapeHtml(node.href)}</a>`;
        break;
      }
    }
  }
  return html;
}
