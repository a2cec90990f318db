import { useQueuePath, type DeliveredBatch } from "../support/queue-path";
import { textUpdate } from "../support/updates";
import { waitFor } from "../support/wait-for";

const overlap = (a: DeliveredBatch, b: DeliveredBatch) => a.startedAt < b.endedAt && b.startedAt < a.endedAt;

let user = 70_000;
beforeEach(() => {
  user += 10;
});

/** Queue mode end to end: webhook → authorizer → template → fauxqs → poller → the real queue door → Telegram. */
describe("queue path (webhook to SQS FIFO on fauxqs to the handler)", () => {
  // 30 s instead of the stack's 720 s: a record the handler does not shorten would come back within a test.
  const q = useQueuePath({ visibilityTimeoutSeconds: 30 });
  const queuedFor = async (chatId: number) => (await q.sqs.messages()).filter((m) => m.groupId.startsWith(String(chatId)));

  it("answers each POST 200 at once, then the chat's messages in order", async () => {
    for (const text of ["first", "second", "third"]) expect(await q.postText(text, { userId: user })).toMatchObject({ status: 200, body: "" });
    await q.idle();
    expect(q.repliesTo(user)).toEqual(["You said: first", "You said: second", "You said: third"]);
    expect(await q.harness.conversationOf(user)).toEqual([
      "user:first", "assistant:You said: first", "user:second", "assistant:You said: second", "user:third", "assistant:You said: third",
    ]);
  });

  it("answers two chats in parallel", async () => {
    const other = user + 1;
    q.harness.telegram.delayNext("sendMessage", 400);
    q.harness.telegram.delayNext("sendMessage", 400);
    const [a, b] = [await q.postText("hello", { userId: user }), await q.postText("hello", { userId: other })];
    const [batchA, batchB] = [await q.waitForDelivery(a.update.update_id), await q.waitForDelivery(b.update.update_id)];
    expect(overlap(batchA, batchB)).toBe(true);
    expect([q.repliesTo(user), q.repliesTo(other)]).toEqual([["You said: hello"], ["You said: hello"]]);
  });

  it("queues a webhook Telegram delivers twice (the same update_id) once, and answers it once", async () => {
    const update = textUpdate("twice", { userId: user });
    expect(await q.post(update)).toMatchObject({ status: 200 });
    expect(await q.post(update)).toMatchObject({ status: 200 });
    await q.idle();
    expect(q.repliesTo(user)).toEqual(["You said: twice"]);
    expect(q.deliveriesOf(update.update_id)).toHaveLength(1);
  });

  it("delivers a record the handler handed back again, within its backoff, with ApproximateReceiveCount 2, and answers it once", async () => {
    q.harness.telegram.failNext("sendMessage", { errorCode: 502, description: "Bad Gateway" });
    const { update } = await q.postText("again", { userId: user });
    const first = await q.waitForDelivery(update.update_id, 1);
    expect(first.failed).toEqual([first.records[0]!.messageId]);
    const waiting = await q.message(update.update_id);
    expect(waiting).toMatchObject({ state: "in-flight", receiveCount: 1 });
    // The handler's ChangeMessageVisibility brought it back well before the queue's 30 s.
    expect(waiting!.visibleAt! - first.endedAt).toBeLessThan(25_000);
    const second = await q.waitForDelivery(update.update_id, 2, 25_000);
    expect(second.records[0]!.messageId).toBe(first.records[0]!.messageId);
    expect(second.startedAt).toBeGreaterThanOrEqual(waiting!.visibleAt! - 50);
    expect(second.failed).toEqual([]);
    await q.idle();
    expect(q.repliesTo(user)).toEqual(["You said: again"]);
  }, 30_000);

  it("refuses like API Gateway before anything is queued: 401 without the header, 403 with a wrong secret, 415 for another type, 403 elsewhere", async () => {
    const body = textUpdate("/help", { userId: user });
    expect((await q.post(body, { secretToken: null })).status).toBe(401);
    expect((await q.post(body, { secretToken: "wrong" })).status).toBe(403);
    expect((await q.post(body, { contentType: "text/plain" })).status).toBe(415);
    expect((await q.post(body, { path: "/other" })).status).toBe(403);
    expect(await queuedFor(user)).toEqual([]);
    await q.idle();
    expect(q.repliesTo(user)).toEqual([]);
  });

  it("answers 502 when SQS refuses the message (a body over its 1 MiB limit)", async () => {
    const huge = textUpdate("x".repeat(1_100_000), { userId: user });
    expect(await q.post(huge)).toMatchObject({ status: 502 });
    expect(await queuedFor(user)).toEqual([]);
  });
});

describe("queue path: redrive to the dead-letter queue", () => {
  // No queue URL for the bot: a record handed back waits the queue's own 1 s, not the handler's growing backoff.
  const q = useQueuePath({ visibilityTimeoutSeconds: 1, maxReceiveCount: 2, queueBotConfig: { updateQueueUrl: undefined } });

  it("moves a record that failed maxReceiveCount (2) times to the dead-letter queue, unanswered", async () => {
    q.harness.telegram.failNext("sendMessage", { errorCode: 502, description: "Bad Gateway", times: 2 });
    const { update } = await q.postText("poison", { userId: user });
    await waitFor(async () => (await q.deadLetters()).some((m) => m.deduplicationId === String(update.update_id)), 15_000);
    expect(q.deliveriesOf(update.update_id).map((r) => r.receiveCount)).toEqual([1, 2]);
    expect(await q.message(update.update_id)).toBeUndefined();
    await q.idle();
    expect(q.repliesTo(user)).toEqual([]);
  });
});
