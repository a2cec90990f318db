import { usageLimitText, waitText } from "../../../handler/format/usage-limit";

describe("usage-limit messages", () => {
  it.each([
    [1, "1 min"],
    [59_000, "1 min"],
    [25 * 60_000, "25 min"],
    [60 * 60_000, "1 h"],
    [(8 * 60 + 50) * 60_000, "8 h 50 min"],
    [-5_000, "1 min"],
  ])("waitText(%i) is %s", (ms, text) => {
    expect(waitText(ms)).toBe(text);
  });

  it("names the limit, the window, the UTC reset time and what happened to the message", () => {
    const now = Date.UTC(2026, 11, 6, 14, 35);
    expect(usageLimitText({ kind: "chat", window: "hour", limit: 30, resetsAt: Date.UTC(2026, 11, 6, 15) }, now)).toBe(
      "You reached the limit of 30 messages per hour.\nYou can send messages again at 15:00 UTC (in 25 min). This message was not sent to the model or saved.",
    );
    expect(usageLimitText({ kind: "import", window: "day", limit: 1, resetsAt: Date.UTC(2026, 11, 7) }, now)).toBe(
      "You reached the limit of 1 import per day.\nYou can import archives again at 00:00 UTC (in 9 h 25 min). This file was not imported.",
    );
  });
});
