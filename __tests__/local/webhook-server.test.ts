import { request } from "undici";
import { startEmulators, type RunningEmulators } from "../../local/emulators";
import { createAuthorizer } from "../../handler/delivery/authorizer";
import { LocalFifoQueue } from "../../local/fifo-queue";
import { createQueueGateway } from "../../local/queue-gateway";
import { startLocalRuntime, type LocalRuntime } from "../../local/runtime";
import { localQueueFor, startWebhookServer, type RunningWebhookServer } from "../../local/webhook-server";
import { lambdaContext } from "../../local/lambda-event";
import { createLogger } from "../../handler/observability/log";
import { OllamaStandIn } from "../../local/stand-ins/ollama";
import { TelegramStandIn } from "../../local/stand-ins/telegram/server";
import { TEST_OLLAMA_API_KEY, TEST_SECRET_TOKEN, TEST_TOKEN, TEST_USER_ID, textUpdate } from "../support/updates";

describe("dev webhook server", () => {
  let emulators: RunningEmulators;
  let telegram: TelegramStandIn;
  let ollama: OllamaStandIn;
  let runtime: LocalRuntime;
  let server: RunningWebhookServer;
  const lines: string[] = [];

  beforeAll(async () => {
    emulators = await startEmulators();
    telegram = await TelegramStandIn.start({ token: TEST_TOKEN });
    ollama = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY });
    runtime = await startLocalRuntime({
      emulators,
      writeEndpoints: false,
      token: TEST_TOKEN,
      secretToken: TEST_SECRET_TOKEN,
      telegramApiUrl: telegram.url,
      env: { OLLAMA_URL: ollama.url, OLLAMA_API_KEY: TEST_OLLAMA_API_KEY },
      logSink: (line) => lines.push(line),
    });
    server = await startWebhookServer({ handler: runtime.handler, port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await runtime.stop();
    await ollama.stop();
    await telegram.stop();
    await emulators.stop();
  });

  const post = (body: string, headers: Record<string, string>) =>
    request(server.webhookUrl, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

  it("hands a POST with the right secret to the handler, which answers the chat", async () => {
    const response = await post(JSON.stringify(textUpdate("/start")), { "X-Telegram-Bot-Api-Secret-Token": TEST_SECRET_TOKEN });
    await response.body.dump();
    expect(response.statusCode).toBe(200);
    expect(telegram.messagesIn(TEST_USER_ID).map((m) => m.plainText).join("\n")).toMatch(/started a new session/i);
  });

  it("answers 401 without the secret and does nothing", async () => {
    const before = telegram.calls.length;
    const response = await post(JSON.stringify(textUpdate("/help")), {});
    await response.body.dump();
    expect(response.statusCode).toBe(401);
    expect(telegram.calls.length).toBe(before);
  });

  it("answers 401 to a wrong secret and 400 to a body that is not an update", async () => {
    const wrong = await post(JSON.stringify(textUpdate("/help")), { "X-Telegram-Bot-Api-Secret-Token": "wrong-secret" });
    await wrong.body.dump();
    expect(wrong.statusCode).toBe(401);
    const bad = await post("not json", { "X-Telegram-Bot-Api-Secret-Token": TEST_SECRET_TOKEN });
    await bad.body.dump();
    expect(bad.statusCode).toBe(400);
  });

  it("on close, finishes the update being handled before it stops", async () => {
    const slow = await OllamaStandIn.start({ firstTokenDelayMs: 400 });
    const slowRuntime = await startLocalRuntime({
      emulators,
      writeEndpoints: false,
      token: TEST_TOKEN,
      secretToken: TEST_SECRET_TOKEN,
      telegramApiUrl: telegram.url,
      env: { OLLAMA_URL: slow.url },
      logSink: () => undefined,
    });
    const closing = await startWebhookServer({ handler: slowRuntime.handler, port: 0 });
    const userId = TEST_USER_ID + 7;
    const pending = request(closing.webhookUrl, {
      method: "POST",
      body: JSON.stringify(textUpdate("answer slowly", { userId })),
      headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TEST_SECRET_TOKEN },
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await closing.close();
    const response = await pending;
    await response.body.dump();
    expect(response.statusCode).toBe(200);
    expect(telegram.messagesIn(userId).map((m) => m.plainText)).toEqual(["You said: answer slowly"]);
    await slowRuntime.stop();
    await slow.stop();
  });

  describe("with --delivery queue", () => {
    let queue: LocalFifoQueue;
    let queued: RunningWebhookServer;
    const deadLetters: string[] = [];
    const receiveCounts: string[] = [];
    beforeAll(async () => {
      // The mapping's contract with a short visibility timeout, so a retried record comes back at once.
      queue = new LocalFifoQueue({
        consume: (event) => {
          receiveCounts.push(...event.Records.map((r) => `${r.body.includes("persisted") ? "persisted" : "other"}:${r.attributes.ApproximateReceiveCount}`));
          return runtime.consume(event, lambdaContext({ timeoutMs: runtime.lambdaTimeoutMs }));
        },
        visibilityTimeoutMs: 50,
        batchSize: 10,
        maxConcurrency: 2,
        onDeadLetter: (m) => deadLetters.push(m.deduplicationId),
      });
      const authorize = createAuthorizer(TEST_SECRET_TOKEN, createLogger({ level: "ERROR", sink: () => undefined }));
      queued = await startWebhookServer({ handler: runtime.handler, gateway: createQueueGateway({ authorize, queue }), port: 0 });
    });
    afterAll(async () => {
      await queued.close();
      await queue.stop();
    });
    const postQueued = async (body: string, headers: Record<string, string>, path = "/webhook") => {
      const response = await request(`${queued.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
      return { status: response.statusCode, body: await response.body.text() };
    };
    const secret = { "X-Telegram-Bot-Api-Secret-Token": TEST_SECRET_TOKEN };

    it("refuses like API Gateway before anything is queued: 401 without the header, 403 with a wrong secret, 415 for another type, 403 elsewhere", async () => {
      const before = telegram.calls.length;
      expect((await postQueued(JSON.stringify(textUpdate("/help")), {})).status).toBe(401);
      expect((await postQueued(JSON.stringify(textUpdate("/help")), { "X-Telegram-Bot-Api-Secret-Token": "wrong" })).status).toBe(403);
      expect((await postQueued(JSON.stringify(textUpdate("/help")), { ...secret, "content-type": "text/plain" })).status).toBe(415);
      expect((await postQueued(JSON.stringify(textUpdate("/help")), secret, "/other")).status).toBe(403);
      expect(queue.depth).toBe(0);
      await queue.idle();
      expect(telegram.calls.length).toBe(before);
    });

    it("answers 200 at once, then the consumer answers each chat in order, and a duplicate delivery of an update is queued once", async () => {
      const userId = TEST_USER_ID + 20;
      const first = textUpdate("/echo one", { userId });
      for (const update of [first, textUpdate("/echo two", { userId }), textUpdate("/echo three", { userId }), first]) {
        expect(await postQueued(JSON.stringify(update), secret)).toEqual({ status: 200, body: "" });
      }
      await queue.idle();
      expect(telegram.messagesIn(userId).map((m) => m.plainText)).toEqual(["one", "two", "three"]);
    });

    it("delivers a record again after a failure, with a higher receive count, and answers once", async () => {
      const userId = TEST_USER_ID + 21;
      telegram.failNext("sendMessage", { errorCode: 500, description: "Internal Server Error", times: 4 });
      expect((await postQueued(JSON.stringify(textUpdate("/echo persisted", { userId })), secret)).status).toBe(200);
      await queue.idle();
      expect(telegram.messagesIn(userId).map((m) => m.plainText)).toEqual(["persisted"]);
      expect(receiveCounts.filter((c) => c.startsWith("persisted")).length).toBeGreaterThan(1);
      expect(receiveCounts.filter((c) => c.startsWith("persisted")).at(-1)).not.toBe("persisted:1");
      expect(deadLetters).toEqual([]);
    });

    it("sizes the real mapping from the stack: 6× the timeout, the stack's concurrency", () => {
      const local = localQueueFor(runtime, () => undefined);
      expect(local).toBeInstanceOf(LocalFifoQueue);
      void local.stop();
    });
  });

  it("listens on loopback and serves /webhook", () => {
    expect(server.webhookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhook$/);
  });
});
