import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { validateStackConfig } from "../../config/stack-config";
import { startEmulators, type RunningEmulators } from "../../local/emulators";
import { main, STAND_IN_TRANSCRIPT } from "../../local/start";
import { STAND_IN_REASONING } from "../../local/stand-in-model";
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

describe("npm start --stand-in-model with a model of each provider (terminal chat)", () => {
  let emulators: RunningEmulators;
  let cwd: string;
  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(() => emulators.stop());
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), "start-stand-ins-"));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  // No account anywhere: the Bedrock entries would need AWS credentials, the openai one a GPU server.
  const stackConfig = validateStackConfig({
    models: [
      "llama3.2:1b",
      { name: "claude", provider: "bedrock", model: "anthropic.claude-3-haiku-20240307-v1:0", vision: true },
      { name: "deepseek", provider: "bedrock", model: "us.deepseek.r1-v1:0", region: "us-west-2", thinking: true },
      { name: "gpu-qwen", provider: "openai", model: "Qwen/Qwen2.5-7B-Instruct", baseUrl: "https://gpu.example.com/v1", thinking: true },
    ],
  });
  const note = (model: string) => new RegExp(`You said: ([^\\n]*)\\. This is the stand-in model of npm start --stand-in-model \\(${model.replace(/[.:/]/g, "\\$&")}, \\d+ message\\(s\\) of context\\)`);
  const ended = /Retry answers the same question again\./;

  it("answers every model from its stand-in: the note streamed back, pictures seen, reasoning shown", async () => {
    const png = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), Buffer.from([0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0]), Buffer.alloc(16)]);
    writeFileSync(join(cwd, "cat.png"), png);
    const stdin = new PassThrough();
    const stdout = new Collector();
    const stderr = new Collector();
    const controller = new AbortController();
    const done = main(["--stand-in-model"], { env: { LOG_LEVEL: "ERROR" }, stdin, stdout, stderr, cwd, signal: controller.signal, runtime: { emulators, stackConfig } });
    let from = 0;
    const waitFor = async (pattern: RegExp) => {
      await until(() => pattern.test(stdout.text.slice(from)), 20_000).catch((e: Error) => {
        throw new Error(`${e.message}: ${pattern}\n${stdout.text}\n${stderr.text}`);
      });
      const match = pattern.exec(stdout.text.slice(from))!;
      from += match.index + match[0].length;
      return match;
    };
    const ask = async (session: number, message: string) => {
      stdin.write(`/newsession ${session}\n`);
      await waitFor(/is now active/);
      stdin.write(message);
    };
    try {
      await waitFor(/terminal chat/);
      expect(stdout.text).toMatch(/stand-in {2}Ollama at http:\/\/127\.0\.0\.1:\d+ for llama3\.2:1b/);
      expect(stdout.text).toMatch(/stand-in {2}Bedrock Runtime at http:\/\/127\.0\.0\.1:\d+ for claude, deepseek/);
      expect(stdout.text).toMatch(/stand-in {2}OpenAI-compatible API at http:\/\/127\.0\.0\.1:\d+\/v1 for gpu-qwen/);

      await ask(1, "hello ollama\n");
      expect((await waitFor(note("llama3.2:1b")))[1]).toBe("hello ollama");
      await waitFor(ended);

      await ask(2, "/photo cat.png what animal is this?\n");
      expect((await waitFor(note("anthropic.claude-3-haiku-20240307-v1:0")))[1]).toMatch(/what animal is this\? with a picture$/);
      await waitFor(ended);

      // Another region than the handler's own: the one stand-in takes signatures scoped to each.
      await ask(3, "hello bedrock\n");
      await waitFor(new RegExp(STAND_IN_REASONING.slice(0, 40)));
      expect((await waitFor(note("us.deepseek.r1-v1:0")))[1]).toBe("hello bedrock");
      await waitFor(ended);

      await ask(4, "hello openai\n");
      await waitFor(new RegExp(STAND_IN_REASONING.slice(0, 40)));
      expect((await waitFor(note("Qwen/Qwen2.5-7B-Instruct")))[1]).toBe("hello openai");
      await waitFor(ended);

      // Voice too: the transcription stand-in hears a fixed sentence, shown back and answered.
      writeFileSync(join(cwd, "hello.ogg"), Buffer.from("OggS stand-in audio"));
      stdin.write("/voice hello.ogg\n");
      await waitFor(new RegExp(`🎤 “${STAND_IN_TRANSCRIPT.replace(/[.]/g, "\\.")}”`));
      expect((await waitFor(note("Qwen/Qwen2.5-7B-Instruct")))[1]).toBe(STAND_IN_TRANSCRIPT);
      await waitFor(ended);

      stdin.write("/quit\n");
      expect(await done).toBe(0);
      expect(stderr.text).toBe("");
    } finally {
      controller.abort();
      stdin.end();
      await done;
    }
  }, 90_000);
});
