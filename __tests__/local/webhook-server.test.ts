import { request } from "undici";
import { startEmulators, type RunningEmulators } from "../../local/emulators";
import { startLocalRuntime, type LocalRuntime } from "../../local/runtime";
import { startWebhookServer, type RunningWebhookServer } from "../../local/webhook-server";
import { OllamaStandIn } from "../support/ollama-stand-in";
import { TelegramStandIn } from "../support/telegram-stand-in";
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

  it("listens on loopback and serves /webhook", () => {
    expect(server.webhookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhook$/);
  });
});
