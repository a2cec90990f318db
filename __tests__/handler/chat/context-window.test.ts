import { messageBudget, selectContext } from "../../../handler/chat/context-window";
import type { StoredMessage } from "../../../handler/store/session-items";

const msg = (seq: number, content: string): StoredMessage => ({ seq, role: seq % 2 ? "user" : "assistant", content, ts: seq });

describe("selectContext", () => {
  it("keeps every message, oldest first, when they fit", () => {
    const window = selectContext([msg(1, "aa"), msg(2, "bb"), msg(3, "cc")], 100);
    expect(window.messages.map((m) => m.content)).toEqual(["aa", "bb", "cc"]);
    expect(window.omitted).toBe(false);
  });

  it("keeps the latest messages within the budget and says older ones were left out", () => {
    const window = selectContext([msg(1, "a".repeat(50)), msg(2, "b".repeat(50)), msg(3, "c".repeat(40))], 100);
    expect(window.messages.map((m) => m.content[0])).toEqual(["b", "c"]);
    expect(window.omitted).toBe(true);
  });

  it("always sends the newest message, cut to the budget from its start", () => {
    const window = selectContext([msg(1, "old"), msg(2, `${"x".repeat(10)}END`)], 5);
    expect(window.messages).toEqual([{ role: "assistant", content: "xxEND" }]);
    expect(window.omitted).toBe(true);
  });

  it("reports omission when the read was limited", () => {
    expect(selectContext([msg(9, "a")], 100, 9).omitted).toBe(true);
  });

  it("sends the system prompt first, as a system message, and counts it in the budget", () => {
    const window = selectContext([msg(1, "a".repeat(50)), msg(2, "b".repeat(50)), msg(3, "c".repeat(30))], 200, 3, "p".repeat(100));
    expect(window.messages.map((m) => m.role)).toEqual(["system", "assistant", "user"]);
    expect(window.messages[0]!.content).toBe("p".repeat(100));
    expect(window.messages.slice(1).map((m) => m.content[0])).toEqual(["b", "c"]);
    expect(window.omitted).toBe(true);
  });

  it("leaves the messages at least half of the budget next to a long system prompt", () => {
    expect(messageBudget(100, "p".repeat(90))).toBe(50);
    expect(messageBudget(100, "p".repeat(20))).toBe(80);
    expect(messageBudget(100, "")).toBe(100);
    const window = selectContext([msg(1, "x".repeat(80))], 100, 1, "p".repeat(90));
    expect(window.messages[1]!.content).toHaveLength(50);
  });
});
