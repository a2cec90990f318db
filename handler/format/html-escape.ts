/**
 * Escaping for Telegram's HTML parse mode (https://core.telegram.org/bots/api#html-style).
 * Telegram knows only the named entities &lt; &gt; &amp; &quot; (and numeric ones).
 */

/** Escapes `&`, `<` and `>` so text is shown literally between tags. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes text for a double-quoted attribute value (`href`, `class`): also `"`. */
export function escapeAttribute(text: string): string {
  return escapeHtml(text).replace(/"/g, "&quot;");
}
