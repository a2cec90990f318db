import type { Message, Update } from "@grammyjs/types";
import { createBot, type WebhookHandler } from "../../../handler/app";
import { STOP_BUTTON_LABEL, STOP_CONTROL_TEXT } from "../../../handler/chat/stop-watch";
import { ALREADY_ENDED_TEXT, NOTHING_TO_STOP_TEXT, STOPPING_TEXT } from "../../../handler/commands/stop";
import { BUTTON_ACTIONS, encodeButton } from "../../../handler/conversation/buttons";
import { NOT_YOUR_BUTTON_TEXT } from "../../../handler/delivery/press";
import { NOTE_STOPPED, NOTE_STOPPED_EARLY } from "../../../handler/format/answer";
import { createLogger } from "../../../handler/observability/log";
import { answeringSk } from "../../../handler/store/table-layout";
import { messageGroupIdOf } from "../../../config/queue-groups";
import { lambdaContext } from "../../../local/lambda-event";
import { sqsEvent, sqsRecord } from "../../../local/sqs-event";
import { OllamaStandIn } from "../../../local/stand-ins/ollama";
import { checkTelegramHtml } from "../../../local/stand-ins/telegram/server";
import { waitFor } from "../../support/wait-for";
import { startHarness, type Harness } from "../../support/handler-harness";
import { TEST_OLLAMA_API_KEY, TEST_USER_ID, textUpdate } from "../../support/updates";

/** `count` words, one stand-in token each. */
const words = (count: number) => Array.from({ length: count }, (_, i) => `w${i}`).join(" ");

/**
 * Stop, through the real entry point, against a model that streams slowly (10 tokens a second,
 * a 60-token answer): pressed mid-stream, sent as /stop before the first token, after the end,
 * by someone else in a group, and in queue mode through the chat's control group.
 */
describe("stopping an answer", () => {
  let h: Harness;
  let slow: OllamaStandIn;
  let late: OllamaStandIn;
  let streaming: WebhookHandler;
  let lateStreaming: WebhookHandler;
  let user = TEST_USER_ID + 70_000;
  let updateId = 7_000_000;
  const nextUpdateId = () => (updateId += 1);

  beforeAll(async () => {
    h = await startHarness();
    slow = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, firstTokenDelayMs: 300, tokensPerSecond: 10, reply: () => words(60) });
    streaming = h.createBotHandler({ ollamaUrl: slow.url, ollamaTimeoutMs: 20_000 });
    late = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, firstTokenDelayMs: 5_000 });
    lateStreaming = h.createBotHandler({ ollamaUrl: late.url, ollamaTimeoutMs: 20_000 });
  });
  afterAll(async () => {
    await slow.stop();
    await late.stop();
    await h.stop();
  });
  beforeEach(() => {
    user += 1;
  });

  const controlIn = (chatId: number) => h.telegram.messagesIn(chatId).find((m) => m.text === STOP_CONTROL_TEXT);
  const draftsTo = (chatId: number) => h.telegram.callsTo("sendMessageDraft").filter((c) => Number(c.params.chat_id) === chatId);
  const toasts = () => h.telegram.callsTo("answerCallbackQuery").map((c) => c.params.text);
  const pressStop = (chatId: number, messageId: number, userId: number, handler = streaming) =>
    h.send(h.telegram.press(chatId, messageId, STOP_BUTTON_LABEL, { updateId: nextUpdateId(), userId }), { handler });

  it("mid-stream, the Stop button ends the model request; the chat keeps exactly what was shown, says so, and the session stores it", async () => {
    const answering = h.sendText("tell me a long story", { userId: user, handler: streaming });
    await waitFor(() => controlIn(user) !== undefined && draftsTo(user).length >= 2, 8_000);
    const control = controlIn(user)!;
    expect(control.buttons.flat().map((b) => b.text)).toEqual([STOP_BUTTON_LABEL]);
    const generations = slow.generations.length;

    expect((await pressStop(user, control.messageId, user)).statusCode).toBe(200);
    expect(toasts()).toContain(STOPPING_TEXT);
    expect((await answering).statusCode).toBe(200);

    // The model request was ended by the bot, not finished by the model.
    expect(slow.generations.slice(generations)).toEqual([expect.objectContaining({ ended: "client_left" })]);
    const lastDraft = String(draftsTo(user).at(-1)!.params.text);
    const final = h.telegram.messagesIn(user).at(-1)!;
    expect(final.text).toBe(`${lastDraft}\n\n<i>${NOTE_STOPPED}</i>`);
    expect(checkTelegramHtml(final.text)).toEqual(expect.objectContaining({ ok: true }));
    // What was shown is stored, and is less than the whole answer.
    const shown = lastDraft;
    expect(await h.conversationOf(user)).toEqual(["user:tell me a long story", `assistant:${shown}`]);
    expect(shown.split(" ").length).toBeLessThan(60);
    // The Stop message is gone, and nothing of the answer is left streaming: a /stop now finds nothing to stop.
    expect(controlIn(user)).toBeUndefined();
    await h.sendText("/stop", { userId: user, handler: streaming });
    expect(h.repliesTo(user).at(-1)).toBe(NOTHING_TO_STOP_TEXT);
  });

  it("/stop during the first second, before any text: the request ends, the chat says it stopped, and no answer is stored", async () => {
    const answering = h.sendText("think hard", { userId: user, handler: lateStreaming });
    await waitFor(async () => (await h.doc.get({ TableName: h.config.tableName, Key: { pk: user, sk: answeringSk(user) } })).Item !== undefined, 8_000);
    const started = Date.now();
    await h.sendText("/stop", { userId: user, handler: lateStreaming });
    expect(h.repliesTo(user)).toContain(STOPPING_TEXT);
    expect((await answering).statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(4_000); // long before the first token would have come
    expect(late.generations.at(-1)).toEqual(expect.objectContaining({ ended: "client_left" }));
    expect(h.telegram.messagesIn(user).at(-1)!.text).toBe(`<i>${NOTE_STOPPED_EARLY}</i>`);
    expect(draftsTo(user)).toHaveLength(0);
    expect(await h.conversationOf(user)).toEqual(["user:think hard"]);
    expect(controlIn(user)).toBeUndefined();
  });

  it("after the end, /stop says there is nothing to stop and a late Stop press says the answer ended; nothing changes", async () => {
    const update = textUpdate("a short one", { userId: user, updateId: nextUpdateId() });
    await h.send(update); // the default stand-in answers at once
    const before = await h.conversationOf(user);
    await h.sendText("/stop", { userId: user });
    expect(h.repliesTo(user).at(-1)).toBe(NOTHING_TO_STOP_TEXT);
    // A Stop press of that answer, delivered late (its message is already gone).
    const data = encodeButton({ action: BUTTON_ACTIONS.stop, owner: user, argument: update.update_id.toString(36) });
    const press = h.telegram.press(user, h.telegram.messagesIn(user).at(-1)!.messageId, "", { updateId: nextUpdateId(), userId: user, data });
    expect((await h.send(press)).statusCode).toBe(200);
    expect(toasts().at(-1)).toBe(ALREADY_ENDED_TEXT);
    expect(await h.conversationOf(user)).toEqual(before);
  });

  it("in a group, someone else's press of the Stop button is refused and the answer goes on to its end", async () => {
    const group = -user;
    const update = textUpdate("@TestBot tell me a long story", { userId: user, chatId: group, chatType: "group" }) as Update & { message: Message };
    update.message.entities = [{ type: "mention", offset: 0, length: 8 }];
    const answering = h.send(update, { handler: streaming });
    await waitFor(() => controlIn(group) !== undefined, 8_000);
    await pressStop(group, controlIn(group)!.messageId, user + 1);
    expect(toasts().at(-1)).toBe(NOT_YOUR_BUTTON_TEXT);
    await answering;
    expect(slow.generations.at(-1)).toEqual(expect.objectContaining({ ended: "done" }));
    expect(h.telegram.messagesIn(group).at(-1)!.text).toContain("w59");
    expect(controlIn(group)).toBeUndefined();
  });

  it("in queue mode, /stop travels in the chat's control group and stops the answer that holds the chat's own group", async () => {
    const config = { ...h.config, telegramSecretToken: undefined, ollamaUrl: slow.url, ollamaTimeoutMs: 20_000 };
    const logger = createLogger({ level: "WARNING", secrets: [config.telegramToken, config.ollamaApiKey], sink: (line) => h.logs.push(line) });
    const bot = createBot(config, { doc: h.doc, s3: h.s3, logger, credentials: h.emulators.credentials });
    const question = textUpdate("tell me a long story", { userId: user });
    const stop = textUpdate("/stop", { userId: user });
    expect(messageGroupIdOf(stop)).not.toBe(messageGroupIdOf(question));
    const consume = (update: Update) => bot.consume(sqsEvent([sqsRecord(JSON.stringify(update), { groupId: messageGroupIdOf(update) })]), lambdaContext({ timeoutMs: 60_000 }));

    const answering = consume(question);
    await waitFor(() => draftsTo(user).length >= 1, 8_000);
    expect(await consume(stop)).toEqual({ batchItemFailures: [] });
    expect(await answering).toEqual({ batchItemFailures: [] });
    expect(slow.generations.at(-1)).toEqual(expect.objectContaining({ ended: "client_left" }));
    expect(h.telegram.messagesIn(user).at(-1)!.text.endsWith(`<i>${NOTE_STOPPED}</i>`)).toBe(true);
    expect((await h.conversationOf(user))[1]).toMatch(/^assistant:w0/);
  });
});
