/** Deterministic generator of Markdown-ish text full of the tricky pieces models produce. */

const PIECES: readonly string[] = [
  "word", " ", " ", "\n", "\n\n", "**", "*", "__", "_", "~~", "~", "`", "```", "```python\n", "\n```\n",
  "<", ">", "&", "&amp;", "\"", "<b>", "</i>", "<think>", "[", "]", "(", ")", "[link](https://example.com/a_(b))",
  "[x](javascript:alert(1))", "<https://example.org>", "# ", "## ", "- ", "* ", "1. ", "> ", "---", "| a | b |\n|---|---|\n",
  "snake_case_name", "2 * 3", "😀", "👨‍👩‍👧", "é", "中文", "\\*", "\t", "    ",
];

/** A linear congruential generator: the same seed gives the same strings on every run. */
export function seededRandom(seed: number): (n: number) => number {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return Math.floor((state / 2147483648) * n);
  };
}

/** One random Markdown-ish string of up to `maxPieces` pieces. */
export function randomMarkdown(random: (n: number) => number, maxPieces: number): string {
  const count = random(maxPieces + 1);
  let text = "";
  for (let i = 0; i < count; i += 1) text += PIECES[random(PIECES.length)] ?? "";
  return text;
}
