import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { startEmulators, type RunningEmulators } from "../../local/emulators";
import { main } from "../../local/start";
import { OllamaStandIn } from "../../local/stand-ins/ollama";
import { TelegramStandIn } from "../../local/stand-ins/telegram/server";
import { TEST_OLLAMA_API_KEY, TEST_TOKEN, TEST_USER_ID, textUpdate } from "../support/updates";

/** Collects what is written. */
class Collector extends PassThrough {
  text = "";
  constructor() {
    super();
    this.on("data", (chunk: Buffer) => (this.text += chunk.toString("utf8")));
  }
}

const until = async (check: () => boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("npm start with TELEGRAM_TOKEN (long polling)", () => {
  let emulators: RunningEmulators;
  let telegram: TelegramStandIn;
  let ollama: OllamaStandIn;
  let cwd: string;
  beforeAll(async () => {
    emulators = await startEmulators();
    telegram = await TelegramStandIn.start({ token: TEST_TOKEN, botUsername: "PollBot" });
    ollama = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY });
  });
  afterAll(async () => {
    await ollama.stop();
    await telegram.stop();
    await emulators.stop();
  });
  beforeEach(() => {
    telegram.reset();
    cwd = mkdtempSync(join(tmpdir(), "start-polling-"));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  const env = () => ({ TELEGRAM_TOKEN: TEST_TOKEN, TELEGRAM_API_URL: telegram.url, OLLAMA_URL: ollama.url, OLLAMA_API_KEY: TEST_OLLAMA_API_KEY, LOG_LEVEL: "ERROR" });

  it("refuses to poll while a webhook is set and names the flag that deletes it", async () => {
    telegram.webhook = { url: "https://abc.execute-api.us-east-1.amazonaws.com/dev/webhook" };
    const stderr = new Collector();
    const code = await main([], { env: env(), cwd, stdout: new Collector(), stderr, signal: new AbortController().signal, runtime: { emulators } });
    expect(code).toBe(1);
    expect(stderr.text).toContain("npm start -- --delete-webhook");
    expect(telegram.webhook.url).not.toBe("");
  });

  it("deletes the webhook when asked, answers updates through the handler and saves the offset", async () => {
    telegram.webhook = { url: "https://abc.execute-api.us-east-1.amazonaws.com/dev/webhook" };
    const stdout = new Collector();
    const controller = new AbortController();
    const done = main(["--delete-webhook", "--poll-timeout", "1"], { env: env(), cwd, stdout, stderr: new Collector(), signal: controller.signal, runtime: { emulators } });
    await until(() => stdout.text.includes("long polling as @PollBot"));
    expect(existsSync(join(cwd, ".data", "local-endpoints.json"))).toBe(true);
    telegram.pushUpdate(textUpdate("/start", { updateId: 500 }));
    await until(() => telegram.messagesIn(TEST_USER_ID).some((m) => /started a new session/i.test(m.plainText))).catch((e: Error) => {
      throw new Error(`${e.message}\n${stdout.text}\n${JSON.stringify(telegram.calls.map((c) => c.method))}`);
    });
    controller.abort();
    expect(await done).toBe(0);
    expect(telegram.webhook.url).toBe("");
    expect(stdout.text).toContain("stopped: 1 update(s) handled, next offset 501 saved");
    expect(JSON.parse(readFileSync(join(cwd, ".data", "telegram-offset.json"), "utf8"))).toEqual({ offset: 501, botId: "123456" });
    expect(existsSync(join(cwd, ".data", "local-endpoints.json"))).toBe(false);
  });

  it("fails clearly on a token Telegram rejects", async () => {
    const stderr = new Collector();
    const code = await main([], { env: { ...env(), TELEGRAM_TOKEN: "999:WRONG-token-for-this-test" }, cwd, stdout: new Collector(), stderr, signal: new AbortController().signal, runtime: { emulators } });
    expect(code).toBe(1);
    expect(stderr.text).toContain("Telegram rejected TELEGRAM_TOKEN (401)");
    expect(stderr.text).not.toContain("WRONG-token");
  });
});
