import { consumeBatch, isSqsEvent, queueRecordOf, type QueueRecord, type RecordOutcome } from "../../../handler/delivery/sqs";
import { messageGroupIdOf, sqsEvent, sqsRecord } from "../../../local/sqs-event";

const update = (updateId: number, chatId: number) => JSON.stringify({ update_id: updateId, message: { message_id: updateId, chat: { id: chatId, type: "private" }, from: { id: chatId }, text: "x" } });

describe("queue delivery (delivery/sqs.ts)", () => {
  it("recognises the event source mapping's events and nothing else", () => {
    expect(isSqsEvent(sqsEvent([sqsRecord(update(1, 5))]))).toBe(true);
    expect(isSqsEvent({ Records: [] })).toBe(false);
    expect(isSqsEvent({ Records: [{ eventSource: "aws:s3" }] })).toBe(false);
    expect(isSqsEvent({ body: "{}", headers: {} })).toBe(false);
    expect(isSqsEvent(null)).toBe(false);
  });

  it("reads the body, the group and the receive count of a record", () => {
    const record = queueRecordOf(sqsRecord(update(7, -100123), { receiveCount: 3, messageId: "m-1" }));
    expect(record).toEqual({ messageId: "m-1", body: update(7, -100123), groupId: "-100123", receiveCount: 3, receiptHandle: expect.any(String), sentAt: expect.any(Number) });
    expect(queueRecordOf({ ...sqsRecord("{}"), attributes: { ...sqsRecord("{}").attributes, ApproximateReceiveCount: "junk" } }).receiveCount).toBe(1);
  });

  it("groups by chat: the message's chat, a callback's chat, else a fallback group", () => {
    expect(messageGroupIdOf({ update_id: 1, message: { chat: { id: 42 } } })).toBe("42");
    expect(messageGroupIdOf({ update_id: 1, callback_query: { from: { id: 9 }, message: { chat: { id: -5 } } } })).toBe("-5");
    expect(messageGroupIdOf({ update_id: 1, callback_query: { from: { id: 9 } } })).toBe("9");
    expect(messageGroupIdOf({ update_id: 1 })).toBe("no-chat");
  });

  async function run(outcomes: Record<string, RecordOutcome | "throw">, records: ReturnType<typeof sqsRecord>[], mayStart?: () => boolean) {
    const seen: QueueRecord[] = [];
    const result = await consumeBatch(sqsEvent(records), {
      process: async (record) => {
        seen.push(record);
        const outcome = outcomes[record.messageId] ?? "done";
        if (outcome === "throw") throw new Error("boom");
        return outcome;
      },
      mayStart,
    });
    return { seen: seen.map((r) => r.messageId), failed: result.batchItemFailures.map((f) => f.itemIdentifier) };
  }

  it("handles the records in order and reports none when all are done", async () => {
    const records = [sqsRecord(update(1, 10), { messageId: "a" }), sqsRecord(update(2, 20), { messageId: "b" }), sqsRecord(update(3, 10), { messageId: "c" })];
    expect(await run({}, records)).toEqual({ seen: ["a", "b", "c"], failed: [] });
  });

  it("reports a record to retry and every later record of its group, unhandled; other groups go on", async () => {
    const records = [
      sqsRecord(update(1, 10), { messageId: "a1" }),
      sqsRecord(update(2, 10), { messageId: "a2" }),
      sqsRecord(update(3, 20), { messageId: "b1" }),
      sqsRecord(update(4, 10), { messageId: "a3" }),
      sqsRecord(update(5, 20), { messageId: "b2" }),
    ];
    expect(await run({ a2: "retry" }, records)).toEqual({ seen: ["a1", "a2", "b1", "b2"], failed: ["a2", "a3"] });
  });

  it("treats a processor that throws as a record to retry, never failing the whole batch", async () => {
    const records = [sqsRecord(update(1, 10), { messageId: "a" }), sqsRecord(update(2, 20), { messageId: "b" })];
    expect(await run({ a: "throw" }, records)).toEqual({ seen: ["a", "b"], failed: ["a"] });
  });

  it("reports records it has no time left to start, with the rest of their groups", async () => {
    const records = [sqsRecord(update(1, 10), { messageId: "a1" }), sqsRecord(update(2, 20), { messageId: "b1" }), sqsRecord(update(3, 10), { messageId: "a2" })];
    let calls = 0;
    expect(await run({}, records, () => calls++ === 0)).toEqual({ seen: ["a1"], failed: ["b1", "a2"] });
  });
});
