import { createBot, type Bot } from "../../../handler/app";
import { buildDeps } from "../../../handler/deps";
import { DROPPED_UPDATE_TEXT } from "../../../handler/delivery/record-failure";
import { createLogger } from "../../../handler/observability/log";
import type { TelegramApi } from "../../../handler/telegram/bot-api";
import { lambdaContext } from "../../../local/lambda-event";
import { sqsEvent, sqsRecord } from "../../../local/sqs-event";
import { injectFault, serviceError, throttlingError } from "../../support/aws-faults";
import { startHarness, type Harness } from "../../support/handler-harness";
import { TEST_SECRET_TOKEN, textUpdate } from "../../support/updates";

/**
 * A failure every delivery would repeat must not come back (it blocks its chat's message group
 * for every receive until the dead-letter queue): logged at ERROR, the user told, the record
 * dropped. Only what may pass is handed back.
 */
describe("poison records in the queue", () => {
  let h: Harness;
  let bot: Bot;
  let makeBot: () => Bot;
  let getMeThrows = false;
  let user = 70_000;
  const GROUP = -100_777;
  // The Telegram stand-in's default username (getMe).
  const BOT_USERNAME = "TestBot";

  beforeAll(async () => {
    h = await startHarness();
    const config = { ...h.config, telegramSecretToken: undefined };
    const logger = createLogger({ level: "DEBUG", secrets: [config.telegramToken, TEST_SECRET_TOKEN], sink: (line) => h.logs.push(line) });
    const real = buildDeps(config, { doc: h.doc, s3: h.s3, logger }).bot;
    // A client whose getMe throws synchronously: a throw before routing, as a malformed update made.
    const flaky: TelegramApi = {
      ...real,
      call: ((method: string, params: unknown) => {
        if (method === "getMe" && getMeThrows) throw new TypeError("Cannot read properties of undefined");
        return (real.call as (m: string, p: unknown) => Promise<unknown>)(method, params);
      }) as TelegramApi["call"],
    };
    makeBot = () => createBot(config, { doc: h.doc, s3: h.s3, logger, credentials: h.emulators.credentials, bot: flaky });
    bot = makeBot();
  });
  afterAll(() => h.stop());
  beforeEach(() => {
    user += 1;
    getMeThrows = false;
  });

  const consume = (update: object, receiveCount = 1) =>
    bot.consume(sqsEvent([sqsRecord(JSON.stringify(update), { receiveCount })]), lambdaContext({ timeoutMs: 30_000 }));
  const groupMention = (entities: unknown) => {
    const update = textUpdate(`@${BOT_USERNAME} hello there`, { userId: user, chatId: GROUP, chatType: "supergroup" });
    return { ...update, message: { ...update.message!, entities } };
  };

  it.each([
    ["an object", { type: "mention", offset: 0, length: 5 }],
    ["[null]", [null]],
    ["spans outside the text", [{ type: "mention", offset: 400, length: 9 }, { type: "mention", offset: -1, length: 3 }]],
    ["a string", "mention"],
  ])("a group message whose entities are %s is read as not addressed, and the record is done", async (_name, entities) => {
    expect(await consume(groupMention(entities))).toEqual({ batchItemFailures: [] });
    expect(h.repliesTo(GROUP).filter((t) => t.includes("hello there"))).toEqual([]);
  });

  it("a well-formed mention beside malformed entities is still answered", async () => {
    const handle = `@${BOT_USERNAME}`;
    await expect(consume(groupMention([null, { type: "mention", offset: 0, length: handle.length }]))).resolves.toEqual({ batchItemFailures: [] });
    expect(h.repliesTo(GROUP).at(-1)).toBe("You said: hello there");
  });

  it("a throw before routing is logged at ERROR, told to the user and dropped, not handed back", async () => {
    // A bot of its own: the shared one has its identity cached from the tests above.
    bot = makeBot();
    getMeThrows = true;
    const update = textUpdate(`/help@${BOT_USERNAME}`, { userId: user, chatId: GROUP - user, chatType: "supergroup" });
    expect(await consume(update)).toEqual({ batchItemFailures: [] });
    expect(h.repliesTo(GROUP - user)).toEqual([DROPPED_UPDATE_TEXT]);
    const entry = h.logEntries().find((e) => e.message === "update failed in a way every delivery would repeat; dropped" && e.update_id === update.update_id);
    expect(entry).toEqual(expect.objectContaining({ level: "ERROR" }));
  });

  it("a claim refused for good (a 400 from DynamoDB) drops the record and says so; throttling is handed back", async () => {
    const refused = injectFault(h.doc, { operation: "UpdateItem", times: 1, error: () => serviceError("ValidationException", 400) });
    try {
      expect(await consume(textUpdate("/echo refused", { userId: user }))).toEqual({ batchItemFailures: [] });
    } finally {
      refused.remove();
    }
    expect(h.repliesTo(user)).toEqual([DROPPED_UPDATE_TEXT]);
    // More throttles than the SDK's own retries.
    const throttled = injectFault(h.doc, { operation: "UpdateItem", times: 10, error: throttlingError });
    const update = textUpdate("/echo throttled", { userId: user });
    try {
      expect((await consume(update)).batchItemFailures).toHaveLength(1);
    } finally {
      throttled.remove();
    }
    expect(await consume(update, 2)).toEqual({ batchItemFailures: [] });
    expect(h.repliesTo(user).at(-1)).toBe("throttled");
  });
});
