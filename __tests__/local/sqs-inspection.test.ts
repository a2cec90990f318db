import { depthOf, queuedMessagesOf, watchDeadLetters, type InspectedMessage, type QueueInspection, type QueuedMessage } from "../../local/sqs-inspection";
import { waitFor } from "../support/wait-for";

const message = (id: string, receives = 0): InspectedMessage => ({
  messageId: id,
  body: `{"update_id":${id}}`,
  messageGroupId: "42",
  messageDeduplicationId: id,
  approximateReceiveCount: receives,
  sentTimestamp: 1,
});

const inspection = (messages: Partial<QueueInspection["messages"]>): QueueInspection => ({
  name: "q.fifo",
  url: "http://sqs.us-east-1.localhost:1/000000000000/q.fifo",
  arn: "arn:aws:sqs:us-east-1:000000000000:q.fifo",
  attributes: {},
  messages: { ready: [], delayed: [], inflight: [], ...messages },
});

describe("SQS inspection", () => {
  it("lists every message with its state, and when an in-flight one is visible again", () => {
    const snapshot = inspection({ ready: [message("2")], inflight: [{ message: message("1", 1), receiptHandle: "rh", visibilityDeadline: 5_000 }] });
    expect(queuedMessagesOf(snapshot)).toEqual([
      { messageId: "1", body: '{"update_id":1}', groupId: "42", deduplicationId: "1", receiveCount: 1, state: "in-flight", visibleAt: 5_000, receiptHandle: "rh" },
      { messageId: "2", body: '{"update_id":2}', groupId: "42", deduplicationId: "2", receiveCount: 0, state: "visible" },
    ]);
    expect(depthOf(snapshot)).toBe(2);
  });

  it("reports each message that reaches the dead-letter queue once", async () => {
    let dead: InspectedMessage[] = [message("7", 6)];
    const seen: QueuedMessage[] = [];
    const stop = watchDeadLetters({ inspect: async () => inspection({ ready: dead }), onDeadLetter: (m) => seen.push(m), intervalMs: 10 });
    try {
      await waitFor(() => seen.length === 1);
      dead = [...dead, message("8", 6)];
      await waitFor(() => seen.length === 2);
      await new Promise((r) => setTimeout(r, 50));
      expect(seen.map((m) => m.deduplicationId)).toEqual(["7", "8"]);
    } finally {
      stop();
    }
  });
});
