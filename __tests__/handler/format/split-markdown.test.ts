import { markdownLinkRanges, splitMarkdown } from "../../../handler/format/split-markdown";
import { splitText } from "../../../handler/format/split";

describe("markdownLinkRanges", () => {
  it("finds inline links and images, not brackets alone or links across a blank line", () => {
    const text = "see [the docs](https://x.io/a) and ![a pic](p.png), [not a link] (x), [split\n\ntext](u), [Foo](https://w.org/wiki/Foo_(bar))";
    expect(markdownLinkRanges(text).map(([start, end]) => text.slice(start, end))).toEqual([
      "[the docs](https://x.io/a)",
      "![a pic](p.png)",
      "[Foo](https://w.org/wiki/Foo_(bar))",
    ]);
  });
});

describe("splitMarkdown", () => {
  const link = "[read the full manual](https://example.com/manual)";

  it("breaks before a link rather than at a space inside its text", () => {
    const text = `${"word ".repeat(6)}${link} after`;
    const cut = text.indexOf("https") + 10; // ends inside the link; the link and what follows fit in one part
    expect(splitText(text, cut)[0]).toMatch(/\[read the full$/); // the plain splitter cuts the link
    const parts = splitMarkdown(text, cut);
    expect(parts[0]).toBe("word word word word word word");
    expect(parts[1]!.startsWith(link)).toBe(true);
    expect(parts.join(" ")).toBe(text);
  });

  it("loses nothing and keeps every part within the limit, cutting a link hard only when it alone is too long", () => {
    const text = Array.from({ length: 60 }, (_, i) => `point ${i} [link number ${i}](https://e.com/${i})`).join("\n");
    for (const limit of [40, 61, 100, 333]) {
      const parts = splitMarkdown(text, limit);
      expect(parts.every((p) => p.length <= limit && p.length > 0)).toBe(true);
      expect(parts.join("").replace(/\s+/g, "")).toBe(text.replace(/\s+/g, ""));
      if (limit >= 61) {
        for (const part of parts) expect(part).not.toMatch(/\[link number \d+$|^number \d+\]/);
      }
    }
  });
});
