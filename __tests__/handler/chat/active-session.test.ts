import { contextEndingWith } from "../../../handler/chat/active-session";
import type { StoredMessage } from "../../../handler/store/session-items";

const msg = (seq: number, content = `m${seq}`): StoredMessage => ({ seq, role: seq % 2 === 1 ? "user" : "assistant", content, ts: seq });
const seqs = (messages: readonly StoredMessage[]) => messages.map((m) => m.seq);

describe("active-session", () => {
  describe("contextEndingWith", () => {
    it("adds the message when the concurrent read did not see it yet", () => {
      expect(seqs(contextEndingWith([msg(1), msg(2), msg(3)], msg(4), 10))).toEqual([1, 2, 3, 4]);
    });

    it("keeps the message once when the read already saw it", () => {
      const mine = msg(4, "mine");
      expect(contextEndingWith([msg(2), msg(3), mine], mine, 10)).toEqual([msg(2), msg(3), mine]);
    });

    it("leaves out later messages of concurrent updates, so the message is always last", () => {
      expect(seqs(contextEndingWith([msg(3), msg(4), msg(5), msg(6)], msg(4), 10))).toEqual([3, 4]);
    });

    it("returns at most `limit` messages, the newest, oldest first", () => {
      expect(seqs(contextEndingWith([msg(5), msg(6), msg(7), msg(8)], msg(9), 3))).toEqual([7, 8, 9]);
      expect(seqs(contextEndingWith([msg(6), msg(7), msg(8), msg(9)], msg(9), 3))).toEqual([7, 8, 9]);
    });

    it("orders what it keeps by sequence number, whatever order the read gave", () => {
      expect(seqs(contextEndingWith([msg(3), msg(1), msg(2)], msg(4), 10))).toEqual([1, 2, 3, 4]);
    });

    it("is just the message for a session without earlier messages", () => {
      expect(contextEndingWith([], msg(1), 10)).toEqual([msg(1)]);
    });
  });
});
