import type { Session } from "../../../handler/store/session-items";
import { formatArchiveList, formatHistory, formatSessionList, formatSize, formatTime, parsePosition, preview } from "../../../handler/format/views";

const session = (id: string, model: string, count: number, ts: number): Session => ({
  userId: 1,
  sessionId: id,
  modelName: model,
  isActive: false,
  createdAt: 0,
  lastMessageTs: ts,
  messageCount: count,
});

describe("views", () => {
  it("formatTime prints UTC minutes", () => {
    expect(formatTime(1_700_000_000)).toBe("2023-11-14 22:13 UTC");
  });

  it("formatSize picks the unit", () => {
    expect([formatSize(12), formatSize(3_200), formatSize(3 * 1024 * 1024)]).toEqual(["12 B", "3.1 KB", "3.0 MB"]);
  });

  it("formatSessionList numbers sessions and marks the active one and removed models", () => {
    const text = formatSessionList(
      [session("aaaaaaaa-1", "m1", 1, 1_700_000_000), session("bbbbbbbb-2", "gone", 0, 1_700_000_000)],
      "bbbbbbbb-2",
      ["m1"],
    );
    expect(text.split("\n")).toEqual([
      "Your sessions:",
      "1. aaaaaaaa · m1 · 1 message · last 2023-11-14 22:13 UTC",
      "2. ▶ bbbbbbbb · gone ⚠ model no longer available · 0 messages · last 2023-11-14 22:13 UTC (active)",
    ]);
  });

  it("preview cuts to 100 characters on one line without splitting a surrogate pair", () => {
    expect(preview("a\n b")).toBe("a b");
    const cut = preview("x".repeat(98) + "😀" + "y".repeat(10));
    expect(cut.length).toBeLessThanOrEqual(100);
    expect(cut).toBe(`${"x".repeat(98)}…`);
  });

  it("formatHistory says when only the last messages are shown", () => {
    const text = formatHistory(session("cccccccc", "m", 30, 0), [{ seq: 30, role: "assistant", content: "bye", ts: 1_700_000_000 }]);
    expect(text).toBe("Last 1 of 30 messages in session cccccccc (m):\n[2023-11-14 22:13 UTC] Bot: bye");
  });

  it("formatArchiveList shows short id, model, count, size and date", () => {
    const text = formatArchiveList([
      { key: "k", sessionId: "dddddddd-x", sizeBytes: 2048, lastModified: new Date(1_700_000_000_000), modelName: "m", messageCount: 4 },
    ]);
    expect(text).toContain("1. dddddddd · m · 4 messages · 2.0 KB · 2023-11-14 22:13 UTC");
  });

  it.each([
    ["1", 3, 1],
    [" 3 ", 3, 3],
    ["0", 3, undefined],
    ["4", 3, undefined],
    ["1.5", 3, undefined],
    ["", 3, undefined],
    ["99999999999", 3, undefined],
  ])("parsePosition(%j, %i) is %s", (args, count, expected) => {
    expect(parsePosition(args, count)).toBe(expected);
  });
});
