import { splitText } from "../../../handler/format/split";

/**
 * Walks `text` part by part, allowing only whitespace between parts; returns true when the
 * parts joined with the removed whitespace give back exactly `text`.
 */
function rebuildsText(text: string, parts: readonly string[]): boolean {
  // Every position the parts so far can end at, given any whitespace run between parts.
  let positions = new Set<number>([0]);
  for (const [i, part] of parts.entries()) {
    const next = new Set<number>();
    for (const from of positions) {
      let at = from;
      for (;;) {
        if (text.startsWith(part, at)) next.add(at + part.length);
        if (i === 0 || at >= text.length || !/\s/.test(text[at] ?? "")) break;
        at += 1;
      }
    }
    positions = next;
  }
  return [...positions].some((end) => /^\s*$/.test(text.slice(end)));
}

function hasBrokenSurrogate(part: string): boolean {
  const first = part.charCodeAt(0);
  const last = part.charCodeAt(part.length - 1);
  return (first >= 0xdc00 && first <= 0xdfff) || (last >= 0xd800 && last <= 0xdbff);
}

describe("splitText", () => {
  it("returns a short text as one part", () => {
    expect(splitText("hello world", 100)).toEqual(["hello world"]);
  });

  it("returns no parts for an empty text", () => {
    expect(splitText("", 10)).toEqual([]);
  });

  it("uses the Telegram limit of 4096 by default", () => {
    const text = "a".repeat(4096) + "b";
    expect(splitText(text).map((p) => p.length)).toEqual([4096, 1]);
  });

  it("prefers a paragraph break over a later line break", () => {
    const text = "first paragraph line\n\nsecond one\nstill second";
    // Window of 30: the paragraph break at 20 is in the second half, the line break at 32 is beyond.
    expect(splitText(text, 30)).toEqual(["first paragraph line", "second one\nstill second"]);
  });

  it("prefers a paragraph break over a line break in the same window", () => {
    const text = "aaaaaaaaaaaaaaaa\n\nbbbbbbb\ncc";
    expect(splitText(text, 27)[0]).toBe("aaaaaaaaaaaaaaaa");
  });

  it("falls back to a line break, then a space", () => {
    expect(splitText("one two three\nfour five", 16)).toEqual(["one two three", "four five"]);
    expect(splitText("one two three four five", 16)).toEqual(["one two three", "four five"]);
  });

  it("takes a late line break rather than a very early paragraph break", () => {
    const text = "ab\n\n" + "c".repeat(30) + "\n" + "d".repeat(10);
    expect(splitText(text, 40)).toEqual(["ab\n\n" + "c".repeat(30), "d".repeat(10)]);
  });

  it("hard-splits an over-long word at the limit", () => {
    expect(splitText("x".repeat(25), 10)).toEqual(["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
  });

  it("never splits a surrogate pair", () => {
    const text = "a" + "😀".repeat(10);
    const parts = splitText(text, 4);
    expect(parts.every((p) => p.length <= 4 && !hasBrokenSurrogate(p))).toBe(true);
    expect(parts.join("")).toBe(text);
  });

  it("keeps a ZWJ emoji sequence together when it fits", () => {
    const family = "👨‍👩‍👧"; // 8 code units
    const text = "abcdef" + family + "gh";
    const parts = splitText(text, 10);
    expect(parts).toEqual(["abcdef", family + "gh"]);
  });

  it("splits a grapheme longer than the limit only between code points", () => {
    const family = "👨‍👩‍👧‍👦"; // 11 code units
    const parts = splitText(family, 4);
    expect(parts.every((p) => p.length <= 4 && !hasBrokenSurrogate(p))).toBe(true);
    expect(parts.join("")).toBe(family);
  });

  it("drops the whole whitespace run at a break and produces no empty parts", () => {
    const text = "aaaa   \n\n\n   bbbb";
    expect(splitText(text, 8)).toEqual(["aaaa", "bbbb"]);
  });

  it("keeps leading whitespace of the text as content", () => {
    const parts = splitText("   indented code line", 10);
    expect(parts[0]?.startsWith("   ")).toBe(true);
    expect(rebuildsText("   indented code line", parts)).toBe(true);
  });

  it("rejects a limit too small to hold a surrogate pair", () => {
    expect(() => splitText("abc", 1)).toThrow(RangeError);
  });

  it("keeps every part within the limit, non-empty, and loses nothing on random texts", () => {
    const alphabet = ["a", "b", " ", "\n", "\n\n", "é", "😀", "👍🏽", "中", "\t", "x".repeat(30)];
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 300; round += 1) {
      const pieces: string[] = [];
      const count = random(200);
      for (let i = 0; i < count; i += 1) pieces.push(alphabet[random(alphabet.length)] ?? "");
      const text = pieces.join("");
      const limit = 2 + random(60);
      const parts = splitText(text, limit);
      for (const part of parts) {
        expect(part.length).toBeGreaterThan(0);
        expect(part.length).toBeLessThanOrEqual(limit);
        expect(hasBrokenSurrogate(part)).toBe(false);
      }
      expect(rebuildsText(text, parts)).toBe(true);
    }
  });
});
