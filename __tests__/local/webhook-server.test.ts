import { PassThrough } from "node:stream";
import { request } from "undici";
import { startEmulators, type RunningEmulators } from "../../local/emulators";
import { startLocalRuntime, type LocalRuntime } from "../../local/runtime";
import type { SqsEmulator } from "../../local/sqs-emulator";
import type { SqsPoller } from "../../local/sqs-poller";
import { main, startWebhookServer, type RunningWebhookServer } from "../../local/webhook-server";
import { OllamaStandIn } from "../../local/stand-ins/ollama";
import { TelegramStandIn } from "../../local/stand-ins/telegram/server";
import { TEST_OLLAMA_API_KEY, TEST_SECRET_TOKEN, TEST_TOKEN, TEST_USER_ID, textUpdate } from "../support/updates";
import { waitFor } from "../support/wait-for";

/** Collects what is written. */
class Collector extends PassThrough {
  text = "";
  constructor() {
    super();
    this.on("data", (chunk: Buffer) => (this.text += chunk.toString("utf8")));
  }
}

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

  describe("npm run dev:webhook -- --delivery queue (on fauxqs)", () => {
    let release: () => void;
    let exited: Promise<number>;
    let queued: { server: RunningWebhookServer; runtime: LocalRuntime; sqs: SqsEmulator; poller: SqsPoller };
    const stdout = new Collector();
    const stderr = new Collector();
    beforeAll(async () => {
      const stopped = new Promise<void>((resolve) => (release = resolve));
      queued = await new Promise((resolve, reject) => {
        exited = main(["--delivery", "queue", "--port", "0"], {
          env: { TELEGRAM_TOKEN: TEST_TOKEN, TELEGRAM_SECRET_TOKEN: TEST_SECRET_TOKEN, OLLAMA_URL: ollama.url, OLLAMA_API_KEY: TEST_OLLAMA_API_KEY },
          stdout,
          stderr,
          cwd: process.cwd(),
          stopped,
          onListening: (server, listening, queue) => resolve({ server, runtime: listening, sqs: queue!.sqs, poller: queue!.consumer.poller }),
          runtime: { emulators, writeEndpoints: false, telegramApiUrl: telegram.url, logSink: (line) => lines.push(line) },
        });
        void exited.then((code) => reject(new Error(`dev:webhook exited with ${code}: ${stderr.text}`)));
      });
    });
    afterAll(async () => {
      release();
      expect(await exited).toBe(0);
    });
    const postQueued = async (body: string, headers: Record<string, string>, path = "/webhook") => {
      const response = await request(`${queued.server.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
      return { status: response.statusCode, body: await response.body.text() };
    };
    const secret = { "X-Telegram-Bot-Api-Secret-Token": TEST_SECRET_TOKEN };

    it("creates the stack's queues: 6 times the function's timeout, dead letters after 5 receives", async () => {
      const attributes = await queued.sqs.attributes();
      expect([queued.sqs.queue.name, queued.sqs.deadLetterQueue.name]).toEqual(["telegram-bot-updates.fifo", "telegram-bot-updates-failed.fifo"]);
      expect(attributes.VisibilityTimeout).toBe(String(queued.runtime.stack.lambdaTimeoutSeconds * 6));
      expect(JSON.parse(attributes.RedrivePolicy!)).toEqual({ deadLetterTargetArn: queued.sqs.deadLetterQueue.arn, maxReceiveCount: 5 });
      expect(stdout.text).toContain(queued.sqs.endpoint);
    });

    it("gives the handler fauxqs as its SQS: the update queue's URL and the endpoint", () => {
      expect(queued.runtime.config.updateQueueUrl).toBe(queued.sqs.queue.url);
      expect(queued.runtime.config.sqsEndpoint).toBe(queued.sqs.endpoint);
    });

    it("refuses like API Gateway before anything is queued: 401 without the header, 403 with a wrong secret, 415 for another type, 403 elsewhere", async () => {
      const before = telegram.calls.length;
      expect((await postQueued(JSON.stringify(textUpdate("/help")), {})).status).toBe(401);
      expect((await postQueued(JSON.stringify(textUpdate("/help")), { "X-Telegram-Bot-Api-Secret-Token": "wrong" })).status).toBe(403);
      expect((await postQueued(JSON.stringify(textUpdate("/help")), { ...secret, "content-type": "text/plain" })).status).toBe(415);
      expect((await postQueued(JSON.stringify(textUpdate("/help")), secret, "/other")).status).toBe(403);
      expect(await queued.sqs.messages()).toEqual([]);
      expect(telegram.calls.length).toBe(before);
    });

    it("answers 200 at once, then the consumer answers each chat in order, and a duplicate delivery of an update is queued once", async () => {
      const userId = TEST_USER_ID + 20;
      const first = textUpdate("/echo one", { userId });
      for (const update of [first, textUpdate("/echo two", { userId }), textUpdate("/echo three", { userId }), first]) {
        expect(await postQueued(JSON.stringify(update), secret)).toEqual({ status: 200, body: "" });
      }
      await queued.poller.idle({ timeoutMs: 20_000 });
      expect(telegram.messagesIn(userId).map((m) => m.plainText)).toEqual(["one", "two", "three"]);
    });

    it("shortens a failed record's visibility through the handler's own SQS call, then answers it once", async () => {
      const userId = TEST_USER_ID + 21;
      telegram.failNext("sendMessage", { errorCode: 500, description: "Internal Server Error" });
      const update = textUpdate("/echo persisted", { userId });
      expect((await postQueued(JSON.stringify(update), secret)).status).toBe(200);
      const handedBack = async () => {
        const m = await queued.sqs.message(update.update_id);
        return m?.state === "in-flight" && m.receiveCount === 1 && m.visibleAt! < Date.now() + 60_000;
      };
      await waitFor(handedBack, 20_000);
      await queued.poller.idle({ timeoutMs: 30_000 });
      expect(telegram.messagesIn(userId).map((m) => m.plainText)).toEqual(["persisted"]);
      expect(await queued.sqs.deadLetters()).toEqual([]);
    }, 40_000);
  });

  it("listens on loopback and serves /webhook", () => {
    expect(server.webhookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhook$/);
  });
});
