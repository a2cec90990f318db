import {
  EMPTY_ANSWER,
  formatSpeed,
  NOTE_CONTEXT_TRIMMED,
  NOTE_CUT_OFF,
  renderAnswer,
  THINKING_SHOWN_LIMIT,
} from "../../../handler/format/answer";
import { checkTelegramHtml } from "../../../local/stand-ins/telegram/server";

function visible(html: string): string {
  const check = checkTelegramHtml(html);
  if (!check.ok) throw new Error(`Telegram would refuse ${JSON.stringify(html)}: ${check.reason}`);
  return check.text;
}

describe("formatSpeed", () => {
  it("formats tokens per second from Ollama's figures", () => {
    expect(formatSpeed(123, 10_000_000_000)).toBe("12.3 tokens/s");
    expect(formatSpeed(2500, 10_000_000_000)).toBe("250 tokens/s");
  });

  it("returns undefined when there is nothing to measure", () => {
    expect(formatSpeed(0, 1e9)).toBeUndefined();
    expect(formatSpeed(10, 0)).toBeUndefined();
    expect(formatSpeed(Number.NaN, 1e9)).toBeUndefined();
  });
});

describe("renderAnswer", () => {
  it("renders Markdown as HTML with a plain fallback", () => {
    const result = renderAnswer("**Hi** <you>");
    expect(result.html).toEqual(["<b>Hi</b> &lt;you&gt;"]);
    expect(result.plain).toEqual(["**Hi** <you>"]);
  });

  it("leaves out the reasoning", () => {
    const result = renderAnswer("<think>secret plan</think>\nAnswer.");
    expect(result.html).toEqual(["Answer."]);
    expect(result.plain.join("")).not.toContain("secret");
  });

  it("can show the reasoning in an expandable blockquote", () => {
    const [first] = renderAnswer("<think>a < b</think>\nAnswer.", { thinking: "expandable" }).html;
    expect(first).toBe("<blockquote expandable>a &lt; b</blockquote>\n\nAnswer.");
    expect(visible(first ?? "")).toBe("a < b\n\nAnswer.");
  });

  it("appends notes and the speed footer in italics", () => {
    const result = renderAnswer("Answer.", {
      notes: [NOTE_CONTEXT_TRIMMED, NOTE_CUT_OFF],
      speed: { evalCount: 50, evalDurationNs: 2_000_000_000 },
    });
    expect(result.html).toEqual([`Answer.\n\n<i>${NOTE_CONTEXT_TRIMMED}</i>\n<i>${NOTE_CUT_OFF}</i>\n<i>25.0 tokens/s</i>`]);
    expect(result.plain).toEqual([`Answer.\n\n${NOTE_CONTEXT_TRIMMED}\n${NOTE_CUT_OFF}\n25.0 tokens/s`]);
  });

  it("says so when the model gave no answer", () => {
    expect(renderAnswer("<think>only thinking</think>").html).toEqual([`<i>${EMPTY_ANSWER}</i>`]);
  });

  it("shows only the note for an answer cut off before any text", () => {
    expect(renderAnswer("", { notes: [NOTE_CUT_OFF] }).html).toEqual([`<i>${NOTE_CUT_OFF}</i>`]);
  });

  it("splits a long answer into accepted messages within the limit", () => {
    const raw = Array.from({ length: 60 }, (_, i) => `Paragraph ${i} with **bold** & <text>.`).join("\n\n");
    const result = renderAnswer(raw, { limit: 200, notes: [NOTE_CUT_OFF] });
    expect(result.html.length).toBeGreaterThan(5);
    for (const html of result.html) expect(visible(html).length).toBeLessThanOrEqual(200);
    for (const plain of result.plain) expect(plain.length).toBeLessThanOrEqual(200);
    expect(visible(result.html[result.html.length - 1] ?? "")).toContain(NOTE_CUT_OFF);
  });

  it("shows reasoning sent apart from the answer as an expandable blockquote before it, cut to the limit", () => {
    const rendered = renderAnswer("The answer.", { reasoning: `  ${"r".repeat(THINKING_SHOWN_LIMIT + 10)}  ` });
    expect(rendered.html[0]).toBe(`<blockquote expandable>${"r".repeat(THINKING_SHOWN_LIMIT)}…</blockquote>\n\nThe answer.`);
    expect(renderAnswer("The answer.", { reasoning: "  " }).html).toEqual(["The answer."]);
  });
});
