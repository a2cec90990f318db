import { withEscapedAstral } from "../../local/queue-gateway";

describe("the local gateway's message body", () => {
  it("writes characters above U+FFFF as JSON escapes that decode to the same update (fauxqs refuses them raw)", () => {
    const update = { update_id: 1, message: { text: "hi 😀 🔄 Retry é 日本 \\ \"q\"" } };
    const body = JSON.stringify(update);
    const sent = withEscapedAstral(body)!;
    expect(sent).not.toMatch(/[\u{10000}-\u{10FFFF}]/u);
    expect(sent).toContain("\\ud83d\\ude00");
    expect(JSON.parse(sent)).toEqual(update);
    expect(withEscapedAstral("plain é")).toBe("plain é");
    expect(withEscapedAstral(null)).toBeUndefined();
  });
});
