import { createBot, type Bot } from "../../handler/app";
import { createLogger } from "../../handler/observability/log";
import { updateSk } from "../../handler/store/table-layout";
import { lambdaContext } from "../../local/lambda-event";
import { sqsEvent, sqsRecord } from "../../local/sqs-event";
import { injectFault, throttlingError } from "../support/aws-faults";
import { startHarness, type Harness } from "../support/handler-harness";
import { TEST_SECRET_TOKEN, textUpdate } from "../support/updates";

/** The queue consumer (createBot().consume) driven with SQS events of the documented shape. */
describe("queue delivery through the bot", () => {
  let h: Harness;
  let bot: Bot;
  let user = 60_000;

  beforeAll(async () => {
    h = await startHarness();
    // Queue mode's function has no webhook secret: the authorizer checked it before queueing.
    const config = { ...h.config, telegramSecretToken: undefined };
    const logger = createLogger({ level: "DEBUG", secrets: [config.telegramToken, TEST_SECRET_TOKEN, config.ollamaApiKey], sink: (line) => h.logs.push(line) });
    bot = createBot(config, { doc: h.doc, s3: h.s3, logger, credentials: h.emulators.credentials });
  });
  afterAll(() => h.stop());
  beforeEach(() => {
    user += 2;
  });

  const consume = (records: ReturnType<typeof sqsRecord>[]) => bot.consume(sqsEvent(records), lambdaContext({ timeoutMs: 30_000 }));
  const recordOf = (update: object, receiveCount = 1) => sqsRecord(JSON.stringify(update), { receiveCount });

  it("handles a button press from the queue once, however often it is delivered", async () => {
    await consume([recordOf(textUpdate("/newsession", { userId: user }))]);
    const picker = h.telegram.messagesIn(user).at(-1)!;
    const press = h.telegram.press(user, picker.messageId, "2.", { updateId: 990_000 + user, userId: user });
    expect(await consume([recordOf(press)])).toEqual({ batchItemFailures: [] });
    expect(await consume([recordOf(press, 2)])).toEqual({ batchItemFailures: [] });
    expect((await h.sessions.getActive(user)).session?.modelName).toBe(h.config.modelNames[1]);
    expect(await h.sessions.listSessions(user)).toHaveLength(1);
    expect(h.telegram.messagesIn(user).find((m) => m.messageId === picker.messageId)!.text).toContain("is now active");
  });

  it("answers each chat's records in order and reports nothing when all are handled", async () => {
    const other = user + 1;
    const records = [
      recordOf(textUpdate("first", { userId: user })),
      recordOf(textUpdate("hello", { userId: other })),
      recordOf(textUpdate("second", { userId: user })),
    ];
    expect(await consume(records)).toEqual({ batchItemFailures: [] });
    expect(h.repliesTo(user)).toEqual(["You said: first", "You said: second"]);
    expect(h.repliesTo(other)).toEqual(["You said: hello"]);
    expect(await h.conversationOf(user)).toEqual(["user:first", "assistant:You said: first", "user:second", "assistant:You said: second"]);
  });

  it("drops a record that is not an update (logged) without blocking its group", async () => {
    const junk = sqsRecord("this is not JSON", { groupId: String(user) });
    const fine = recordOf(textUpdate("after junk", { userId: user }));
    expect(await consume([junk, fine])).toEqual({ batchItemFailures: [] });
    expect(h.repliesTo(user)).toEqual(["You said: after junk"]);
    expect(h.logEntries().some((e) => e.message === "queued record is not a Telegram update; dropped" && e.sqs_message_id === junk.messageId)).toBe(true);
  });

  it("holds back a record another attempt still holds, and the later records of its chat, on its first delivery", async () => {
    const busy = textUpdate("/echo busy", { userId: user });
    await h.marks.claim(user, busy.update_id, { leaseMs: 60_000 });
    const later = recordOf(textUpdate("/echo later", { userId: user }));
    const elsewhere = recordOf(textUpdate("/echo elsewhere", { userId: user + 1 }));
    const held = recordOf(busy);
    const result = await consume([held, later, elsewhere]);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([held.messageId, later.messageId]);
    expect(h.repliesTo(user)).toEqual([]);
    expect(h.repliesTo(user + 1)).toEqual(["elsewhere"]);
  });

  it("takes over a mark in progress when SQS delivers the record again (the earlier attempt is gone)", async () => {
    const update = textUpdate("/echo again", { userId: user });
    await h.marks.claim(user, update.update_id, { leaseMs: 600_000 });
    expect(await consume([recordOf(update, 2)])).toEqual({ batchItemFailures: [] });
    expect(h.repliesTo(user)).toEqual(["again"]);
    const mark = await h.doc.get({ TableName: h.config.tableName, Key: { pk: user, sk: updateSk(update.update_id) } });
    expect(mark.Item).toEqual(expect.objectContaining({ status: "COMPLETED", attempts: 2 }));
  });

  it("ignores a record whose update was completed (a duplicate past SQS's deduplication window)", async () => {
    const update = textUpdate("/echo once", { userId: user });
    await consume([recordOf(update)]);
    expect(await consume([recordOf(update)])).toEqual({ batchItemFailures: [] });
    expect(h.repliesTo(user)).toEqual(["once"]);
  });

  it("hands an answer Telegram could not take back to the queue; the redelivery sends the same answer once and stores it once", async () => {
    h.telegram.failNext("sendMessage", { errorCode: 502, description: "Bad Gateway" });
    const update = textUpdate("queue me", { userId: user });
    const first = recordOf(update);
    expect((await consume([first])).batchItemFailures).toEqual([{ itemIdentifier: first.messageId }]);
    expect(await h.conversationOf(user)).toEqual(["user:queue me"]);
    const asked = h.ollama.chatRequests().length;
    expect(await consume([recordOf(update, 2)])).toEqual({ batchItemFailures: [] });
    expect(h.ollama.chatRequests().length).toBe(asked);
    expect(h.repliesTo(user)).toEqual(["You said: queue me"]);
    expect(await h.conversationOf(user)).toEqual(["user:queue me", "assistant:You said: queue me"]);
  });

  it("hands a throttled table back to the queue, tells the user once that the answer is coming, and answers on redelivery", async () => {
    await consume([recordOf(textUpdate("warm up", { userId: user }))]);
    const fault = injectFault(h.doc, { operation: "Query", error: throttlingError });
    const update = textUpdate("hot table", { userId: user });
    try {
      const first = recordOf(update);
      expect((await consume([first])).batchItemFailures).toEqual([{ itemIdentifier: first.messageId }]);
    } finally {
      fault.remove();
    }
    expect(h.repliesTo(user).at(-1)).toBe("My database is busy right now. I will answer this as soon as I can; no need to send it again.");
    expect(await consume([recordOf(update, 2)])).toEqual({ batchItemFailures: [] });
    expect(h.repliesTo(user).at(-1)).toBe("You said: hot table");
    expect(await h.conversationOf(user)).toEqual(["user:warm up", "assistant:You said: warm up", "user:hot table", "assistant:You said: hot table"]);
    expect(h.repliesTo(user).filter((r) => r.startsWith("My database is busy"))).toHaveLength(1);
  }, 30_000);
  it("waits out a 429 longer than sync mode's 3 s on the answer, within the invocation's time, and delivers it in the same invocation", async () => {
    h.telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 5", retryAfter: 5 });
    const started = Date.now();
    expect(await consume([recordOf(textUpdate("rate limited", { userId: user }))])).toEqual({ batchItemFailures: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
    expect(h.repliesTo(user)).toEqual(["You said: rate limited"]);
    expect(await h.conversationOf(user)).toEqual(["user:rate limited", "assistant:You said: rate limited"]);
  }, 30_000);

  it("a 429 longer than the invocation has left: the answer is neither stored nor marked delivered, and the redelivery sends it once", async () => {
    h.telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 30", retryAfter: 30, times: 3 });
    const record = recordOf(textUpdate("no time left", { userId: user }));
    const short = await bot.consume(sqsEvent([record]), lambdaContext({ timeoutMs: 8_000 }));
    expect(short.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([record.messageId]);
    expect(h.repliesTo(user)).toEqual([]);
    expect(await h.conversationOf(user)).toEqual(["user:no time left"]);
    expect(await consume([recordOf(textUpdate("no time left", { userId: user, updateId: JSON.parse(record.body).update_id }), 2)])).toEqual({ batchItemFailures: [] });
    expect(h.repliesTo(user)).toEqual(["You said: no time left"]);
    expect(await h.conversationOf(user)).toEqual(["user:no time left", "assistant:You said: no time left"]);
  }, 30_000);
});
