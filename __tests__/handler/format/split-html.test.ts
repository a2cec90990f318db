import { markdownToTelegramHtml } from "../../../handler/format/markdown-html";
import { splitTelegramHtml, visibleText } from "../../../handler/format/split-html";
import { checkTelegramHtml } from "../../../local/stand-ins/telegram/server";
import { randomMarkdown, seededRandom } from "./random-markdown";

/** Asserts every part is accepted by the Telegram HTML check and within the limit; returns visible texts. */
function checkParts(parts: readonly string[], limit: number): string[] {
  return parts.map((part) => {
    const check = checkTelegramHtml(part);
    if (!check.ok) throw new Error(`Telegram would refuse ${JSON.stringify(part)}: ${check.reason}`);
    expect(check.text.length).toBeLessThanOrEqual(limit);
    expect(check.text.trim()).not.toBe("");
    return check.text;
  });
}

/** The visible text without whitespace: what a split may not change. */
function content(text: string): string {
  return text.replace(/\s+/g, "");
}

describe("splitTelegramHtml", () => {
  it("keeps a short message whole", () => {
    expect(splitTelegramHtml("<b>hi</b> &amp; bye", 100)).toEqual(["<b>hi</b> &amp; bye"]);
  });

  it("counts entities and tags by their visible length", () => {
    const html = "&lt;".repeat(10) + "<b></b>".repeat(20);
    expect(splitTelegramHtml(html, 10)).toHaveLength(1);
  });

  it("prefers a paragraph break", () => {
    const parts = splitTelegramHtml("first paragraph\n\nsecond one\nline", 24);
    expect(parts).toEqual(["first paragraph", "second one\nline"]);
  });

  it("cuts a code block at the 4096 limit and reopens it with the same attributes", () => {
    const lines = Array.from({ length: 400 }, (_, i) => `    value_${i} = compute(${i}) < limit && ok;`);
    const html = markdownToTelegramHtml("Here:\n\n```python\n" + lines.join("\n") + "\n```\n\nDone.");
    const parts = splitTelegramHtml(html);
    const texts = checkParts(parts, 4096);
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts.slice(1, -1)) {
      expect(part.startsWith('<pre><code class="language-python">')).toBe(true);
      expect(part.endsWith("</code></pre>")).toBe(true);
    }
    // The cut falls between lines and keeps their indentation.
    for (const text of texts.slice(1)) expect(text.startsWith("    value_") || text === "Done.").toBe(true);
    expect(content(texts.join(""))).toBe(content(visibleText(html)));
  });

  it("closes and reopens nested formatting and links at a cut", () => {
    const html = `<b>bold <a href="https://x.org/?a=1&amp;b=2">${"word ".repeat(20)}</a></b>`;
    const parts = splitTelegramHtml(html, 30);
    checkParts(parts, 30);
    for (const part of parts) expect(part).toMatch(/^<b>(bold )?<a href="https:\/\/x\.org\/\?a=1&amp;b=2">/);
  });

  it("never cuts an entity", () => {
    const parts = splitTelegramHtml("&amp;&lt;&gt;&quot;".repeat(10), 7);
    checkParts(parts, 7);
    expect(parts.join("")).toBe("&amp;&lt;&gt;&quot;".repeat(10));
  });

  it("never cuts an emoji or other multi-byte character at the boundary", () => {
    const html = "a" + "😀".repeat(5) + "中文é" + "👍🏽".repeat(3);
    for (const limit of [2, 3, 4, 5, 6, 7]) {
      const texts = checkParts(splitTelegramHtml(html, limit), limit);
      for (const text of texts) expect(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)).toBe(false);
      expect(texts.join("")).toBe(visibleText(html));
    }
  });

  it("keeps a skin-tone emoji with its modifier when there is room", () => {
    const texts = splitTelegramHtml("ab👍🏽", 4).map(visibleText);
    expect(texts).toEqual(["ab", "👍🏽"]);
  });

  it("does not leave an element opened at the very end of a part", () => {
    const parts = splitTelegramHtml("aaaa bbbb <b>cccc</b>", 10);
    expect(parts).toEqual(["aaaa bbbb", "<b>cccc</b>"]);
  });

  it("returns nothing for text with nothing visible", () => {
    expect(splitTelegramHtml("<b> </b>\n", 10)).toEqual([]);
  });

  it("splits rendered random Markdown into accepted parts without losing text", () => {
    const random = seededRandom(7);
    for (let i = 0; i < 300; i += 1) {
      const html = markdownToTelegramHtml(randomMarkdown(random, 60));
      const limit = 8 + random(80);
      const texts = checkParts(splitTelegramHtml(html, limit), limit);
      expect(content(texts.join(""))).toBe(content(visibleText(html)));
    }
  });
});

describe("visibleText", () => {
  it("removes tags and decodes entities", () => {
    expect(visibleText('<a href="x">a &lt;b&gt; &#x1F600;&#65;</a>')).toBe("a <b> 😀A");
  });
});
