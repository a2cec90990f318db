import { speedOf, storedAnswer } from "../../../handler/chat/answer";
import { EMPTY_ANSWER } from "../../../handler/format/answer";

describe("chat helpers", () => {
  describe("speedOf", () => {
    it("gives Ollama's figures of a complete answer", () => {
      expect(speedOf({ content: "x", completed: true, evalCount: 12, evalDurationNs: 1e9 })).toEqual({ evalCount: 12, evalDurationNs: 1e9 });
    });

    it("gives nothing for a cut-off answer, missing figures or a zero duration", () => {
      expect(speedOf({ content: "x", completed: false, evalCount: 12, evalDurationNs: 1e9 })).toBeUndefined();
      expect(speedOf({ content: "x", completed: true, evalCount: undefined, evalDurationNs: 1e9 })).toBeUndefined();
      expect(speedOf({ content: "x", completed: true, evalCount: 12, evalDurationNs: 0 })).toBeUndefined();
    });
  });

  describe("storedAnswer", () => {
    it("stores the text shown", () => {
      expect(storedAnswer("The answer is **42**.")).toBe("The answer is **42**.");
    });

    it("stores the empty-answer words when nothing was shown", () => {
      expect(storedAnswer("  \n")).toBe(EMPTY_ANSWER);
    });
  });
});
