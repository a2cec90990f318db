/**
 * Reasoning models (deepseek-r1, qwen3, ...) write their reasoning between `<think>` and
 * `</think>` before the answer. The reasoning is never shown as the answer: while it streams the
 * live reply shows a "thinking" placeholder, and the final reply leaves it out unless the caller
 * asks for it as an expandable blockquote (see `renderAnswer`'s `thinking` option). Pure.
 */

const OPEN = "<think>";
const CLOSE = "</think>";

/** The answer and the reasoning of a (possibly partial) model output. */
export interface SeparatedOutput {
  /** What the user should see as the answer, with the reasoning removed and leading blank lines trimmed. */
  readonly answer: string;
  /** The reasoning text, blocks joined by a blank line; "" when there was none. */
  readonly thinking: string;
  /** True while a `<think>` block has not been closed yet (the model is still reasoning). */
  readonly thinkingOpen: boolean;
}

/** Options of {@link separateThinking}. */
export interface SeparateOptions {
  /**
   * The text is still growing: a tag cut in half at the very end (`<thi`) is held back rather
   * than flashed as answer text.
   * @default false
   */
  readonly streaming?: boolean;
}

/**
 * Separates `<think>…</think>` blocks from the answer. Works on partial text: an unclosed
 * `<think>` hides everything after it. A block is recognised at the start of the output and
 * between answer paragraphs; a `</think>` with no opening tag (some chat templates put the
 * opening tag in the prompt) makes everything before it reasoning. Tags inside fenced code are
 * answer text.
 */
export function separateThinking(raw: string, options: SeparateOptions = {}): SeparatedOutput {
  const thinking: string[] = [];
  let answer = "";
  let rest = raw;
  let thinkingOpen = false;

  const firstOpen = rest.indexOf(OPEN);
  const firstClose = rest.indexOf(CLOSE);
  if (firstClose >= 0 && (firstOpen < 0 || firstClose < firstOpen) && !insideFence(rest, firstClose)) {
    thinking.push(rest.slice(0, firstClose));
    rest = rest.slice(firstClose + CLOSE.length);
  }
  for (;;) {
    const open = findOpen(rest);
    if (open < 0) {
      answer += rest;
      break;
    }
    answer += rest.slice(0, open);
    const close = rest.indexOf(CLOSE, open + OPEN.length);
    if (close < 0) {
      thinking.push(options.streaming ? withoutPartialTag(rest.slice(open + OPEN.length), CLOSE) : rest.slice(open + OPEN.length));
      thinkingOpen = true;
      break;
    }
    thinking.push(rest.slice(open + OPEN.length, close));
    rest = rest.slice(close + CLOSE.length);
  }
  if (options.streaming && !thinkingOpen) answer = withoutPartialTag(answer, OPEN);
  return {
    answer: answer.replace(/^\s*\n/, "").trimEnd(),
    thinking: thinking
      .map((block) => block.trim())
      .filter((block) => block)
      .join("\n\n"),
    thinkingOpen,
  };
}

/** The index of the next `<think>` that starts a line outside fenced code, or -1. */
function findOpen(text: string): number {
  let from = 0;
  for (;;) {
    const at = text.indexOf(OPEN, from);
    if (at < 0) return -1;
    const lineStart = text.lastIndexOf("\n", at - 1) + 1;
    if (text.slice(lineStart, at).trim() === "" && !insideFence(text, at)) return at;
    from = at + OPEN.length;
  }
}

/** True when `at` is inside a fenced code block (an odd number of fence lines before it). */
function insideFence(text: string, at: number): boolean {
  const fences = text.slice(0, at).match(/^ {0,3}(?:`{3,}|~{3,})/gm);
  return (fences?.length ?? 0) % 2 === 1;
}

/** Drops a prefix of `tag` (at least `<`) left at the very end of streaming text. */
function withoutPartialTag(text: string, tag: string): string {
  for (let length = Math.min(tag.length - 1, text.length); length > 0; length -= 1) {
    if (text.endsWith(tag.slice(0, length))) return text.slice(0, text.length - length);
  }
  return text;
}
