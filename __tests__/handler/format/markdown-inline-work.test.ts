import { renderInline, type InlineWork } from "../../../handler/format/markdown-inline";
import { checkTelegramHtml } from "../../../local/stand-ins/telegram/html-check";

/**
 * Adversarial inline Markdown: long runs of openers that never close, or close far away, which
 * a renderer that rescans from every opener handles in quadratic time. The work is bounded by
 * the renderer's own step counter, not by the clock, so the tests mean the same on any machine.
 */

/** `unit` repeated and cut to exactly `n` characters. */
function fill(unit: string, n: number): string {
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** Backtick runs of growing length: "` `` ``` …", every length once, so none closes. */
function growingBackticks(n: number): string {
  let text = "";
  for (let run = 1; text.length + run < n; run += 1) text += `${"`".repeat(run)} `;
  return text.padEnd(n, " ");
}

const ADVERSARIAL: Readonly<Record<string, (n: number) => string>> = {
  '"**a" repeated': (n) => fill("**a", n),
  '"[" repeated': (n) => fill("[", n),
  '"![" repeated': (n) => fill("![", n),
  '"*_" alternating': (n) => fill("*_", n),
  '"*a _" alternating': (n) => fill("*a _", n),
  '"[a](" repeated': (n) => fill("[a](", n),
  '"[a](x " repeated': (n) => fill("[a](x ", n),
  "backtick runs of growing length": growingBackticks,
  '"`a" repeated': (n) => fill("`a", n),
  '"[`" repeated': (n) => fill("[`", n),
  '"~~a" repeated': (n) => fill("~~a", n),
  "nested brackets": (n) => "[".repeat(n / 2) + "]".repeat(n / 2),
  "nested brackets that end in a link": (n) => "[".repeat(n / 2 - 3) + "]".repeat(n / 2 - 3) + "(x)(x)",
  '"*a **b " repeated': (n) => fill("*a **b ", n),
  "emphasis nested n/6 deep": (n) => fill("*a ", n / 2) + fill(" a*", n / 2),
  // Each `_` that finds no `_` below would walk down all the `*` again without an openers bottom.
  '"*a " openers then "._." closers': (n) => fill("*a ", n / 2) + fill("._.", n / 2),
  '"<https://a" repeated': (n) => fill("<https://a", n),
  "a mix of everything": (n) => fill("**a [b](c `d ~~e _f* [g](https://h.i) <https://j.k> \\* ``", n),
};

const N = 65_536;
/** Steps per character allowed: the worst input above takes about 6. */
const STEPS_PER_CHAR = 8;

function render(text: string): { html: string; steps: number } {
  const work: InlineWork = { steps: 0 };
  const html = renderInline(text, [], work);
  return { html, steps: work.steps };
}

describe("renderInline on adversarial input", () => {
  const cases = Object.entries(ADVERSARIAL);

  it.each(cases)("takes at most a fixed number of steps per character on 64k of %s", (_, make) => {
    const { steps } = render(make(N));

    expect(steps).toBeLessThanOrEqual(STEPS_PER_CHAR * N);
  });

  it.each(cases)("takes about twice the steps for twice the text of %s", (_, make) => {
    const half = render(make(N / 2)).steps;
    const full = render(make(N)).steps;

    expect(full / half).toBeLessThan(2.5);
  });

  it.each(cases)("produces HTML Telegram accepts from 64k of %s", (_, make) => {
    const { html } = render(make(N));

    const check = checkTelegramHtml(html);
    expect(check.ok ? "ok" : check.reason).toBe("ok");
  });

  it.each(['"[" repeated', '"![" repeated', '"[a](" repeated', "backtick runs of growing length", "nested brackets"])(
    "keeps 64k of %s, which has nothing to format, as the literal text",
    (name) => {
      const text = ADVERSARIAL[name]?.(N) ?? "";

      const check = checkTelegramHtml(render(text).html);
      expect(check.ok ? check.text === text : check.reason).toBe(true);
    },
  );
});
