import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { startEmulators, type RunningEmulators } from "../../local/emulators";
import { main } from "../../local/start";
import { OllamaStandIn } from "../../local/stand-ins/ollama";
import { closedPortUrl } from "../support/net";
import { TEST_OLLAMA_API_KEY } from "../support/updates";

/** A Writable that keeps what was written and lets a test wait for some text. */
class Screen extends PassThrough {
  text = "";
  private waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  constructor() {
    super();
    this.on("data", (chunk: Buffer) => {
      this.text += chunk.toString("utf8");
      this.waiters = this.waiters.filter((w) => {
        const match = this.text.match(w.pattern);
        if (match) w.resolve(match);
        return !match;
      });
    });
  }
  waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const match = this.text.match(pattern);
    if (match) return Promise.resolve(match);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; screen:\n${this.text}`)), timeoutMs);
      this.waiters.push({ pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }
}

describe("terminal chat (npm start without a token)", () => {
  let emulators: RunningEmulators;
  let ollama: OllamaStandIn;
  let cwd: string;
  beforeAll(async () => {
    emulators = await startEmulators();
    ollama = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY });
  });
  afterAll(async () => {
    await ollama.stop();
    await emulators.stop();
  });
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), "terminal-chat-"));
  });
  let running: { stdin: PassThrough; controller: AbortController; done: Promise<number> } | undefined;
  afterEach(async () => {
    // A failed test must not leave the chat (and its stand-in) running.
    running?.controller.abort();
    running?.stdin.end();
    await running?.done;
    running = undefined;
    rmSync(cwd, { recursive: true, force: true });
  });

  const start = (env: NodeJS.ProcessEnv, argv: readonly string[] = []) => {
    const stdin = new PassThrough();
    const stdout = new Screen();
    const stderr = new Screen();
    const controller = new AbortController();
    const done = main(argv, { stdin, stdout, stderr, env, cwd, signal: controller.signal, runtime: { emulators } });
    running = { stdin, controller, done };
    return { stdin, stdout, stderr, controller, done };
  };

  it("chats, exports an archive to a file and imports it back", async () => {
    const chat = start({ OLLAMA_URL: ollama.url, OLLAMA_API_KEY: TEST_OLLAMA_API_KEY });
    await chat.stdout.waitFor(/terminal chat/);
    expect(chat.stdout.text).toContain(`Ollama    ${ollama.url}`);

    chat.stdin.write("/start\n");
    await chat.stdout.waitFor(/started a new session/i);
    chat.stdin.write("hello there\n");
    await chat.stdout.waitFor(/You said: hello there/);

    chat.stdin.write("/archive 1\n");
    await chat.stdout.waitFor(/Archived session/);
    chat.stdin.write("/export 1\n");
    const [, savedPath] = await chat.stdout.waitFor(/\[document saved to ([^\]]+)\]/);
    const saved = join(cwd, savedPath!);
    expect(existsSync(saved)).toBe(true);
    const archive = JSON.parse(readFileSync(saved, "utf8")) as { conversation: { content: string }[] };
    expect(archive.conversation.map((m) => m.content)).toEqual(["hello there", "You said: hello there"]);

    chat.stdin.write(`/import ${savedPath}\n`);
    await chat.stdout.waitFor(/\(sending .*as a document\)[\s\S]*bot> .*[Ii]mported/);
    chat.stdin.write("/listarchives\n");
    await chat.stdout.waitFor(/Your archives:\n1\. .*2 messages.*\n2\. .*2 messages/);
    chat.stdin.write("/quit\n");
    expect(await chat.done).toBe(0);
    expect(chat.stdout.text).toMatch(/bye: 6 message\(s\) sent/);
    // The handler's logs go to the log file, not the chat; the endpoints file is gone again.
    expect(readFileSync(join(cwd, ".data", "bot.log"), "utf8")).toContain('"action":"handle_update"');
    expect(existsSync(join(cwd, ".data", "local-endpoints.json"))).toBe(false);
  });

  it("--stand-in-model answers without Ollama: a streamed note that says what it is, which /stop ends and /retry answers again", async () => {
    const chat = start({ OLLAMA_URL: await closedPortUrl() }, ["--stand-in-model"]);
    const [, url] = await chat.stdout.waitFor(/stand-in model at (http:\/\/127\.0\.0\.1:\d+) \(--stand-in-model\)/);
    await chat.stdout.waitFor(/terminal chat/);
    expect(chat.stdout.text).toContain(`Ollama    ${url}`);
    chat.stdin.write("hello there\n");
    await chat.stdout.waitFor(/bot> You said: hello there\. This is the stand-in model of npm start --stand-in-model \(llama3\.2:1b, 1 message\(s\) of context\)/);
    await chat.stdout.waitFor(/Retry answers the same question again\./);
    // A line typed while an answer streams waits its turn; /stop typed after it still stops the answer on screen.
    chat.stdin.write("a long one\n");
    await new Promise((resolve) => setTimeout(resolve, 700));
    chat.stdin.write("and another\n");
    await new Promise((resolve) => setTimeout(resolve, 700));
    chat.stdin.write("/stop\n");
    await chat.stdout.waitFor(/You said: a long one[^\n]*\n+\(stopped\)/);
    await chat.stdout.waitFor(/\(stopped\)[\s\S]*You said: and another\. This is the stand-in model[^\n]*Retry answers the same question again\./);
    chat.stdin.write("/retry\n");
    // The retry answers the last question again and marks the answer it replaces.
    await chat.stdout.waitFor(/You said: and another\. This is the stand-in model[^\n]*\n+\(replaced by a new answer below\)/);
    chat.stdin.write("/quit\n");
    expect(await chat.done).toBe(0);
  }, 40_000);

  it("shows buttons as numbered choices and presses one typed as :<n>", async () => {
    const chat = start({ OLLAMA_URL: ollama.url, OLLAMA_API_KEY: TEST_OLLAMA_API_KEY });
    await chat.stdout.waitFor(/terminal chat/);
    chat.stdin.write("/newsession\n");
    await chat.stdout.waitFor(/\[1\] 1\. llama3\.2:1b \(Ollama\) {2}\[2\] 2\. \S+ \(Ollama\) {3}\(type :<n> to press\)/);
    chat.stdin.write(":9\n");
    await chat.stdout.waitFor(/no such choice/);
    chat.stdin.write(":2\n");
    await chat.stdout.waitFor(/\(edited\) New session \S+ with \S+ \(Ollama\) is now active/);
    chat.stdin.write(":1\n");
    await chat.stdout.waitFor(/no such choice[\s\S]*no such choice/);
    chat.stdin.write("/quit\n");
    expect(await chat.done).toBe(0);
  });

  it("says the AI server is unreachable exactly as in production when nothing answers", async () => {
    const chat = start({ OLLAMA_URL: await closedPortUrl() });
    chat.stdin.write("/start\nhello\n");
    await chat.stdout.waitFor(/cannot reach the AI server/i);
    chat.stdin.end(); // Ctrl-D
    expect(await chat.done).toBe(0);
  });

  it("sends a picture with /photo <file> [caption] to a model that can see", async () => {
    // A model no earlier test asked about: capabilities are cached per process, as per container in Lambda.
    const model = "qwen2.5vl:3b";
    ollama.setModels(["llama3.2:1b", model]);
    ollama.setCapabilities(model, ["completion", "vision"]);
    // A 3×2 PNG: the signature and the IHDR chunk are what the terminal reads.
    const png = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), Buffer.from([0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0]), Buffer.alloc(16)]);
    writeFileSync(join(cwd, "cat.png"), png);
    const chat = start({ OLLAMA_URL: ollama.url, OLLAMA_API_KEY: TEST_OLLAMA_API_KEY, OLLAMA_MODELS: model });
    await chat.stdout.waitFor(/terminal chat/);
    chat.stdin.write("/newsession 1\n"); // the emulators outlive each test: earlier sessions used other models
    await chat.stdout.waitFor(/with qwen2\.5vl:3b/);
    chat.stdin.write("/photo notes.txt\n");
    await chat.stdout.waitFor(/cannot read notes\.txt: ENOENT/);
    chat.stdin.write("/photo cat.png what animal is this?\n");
    await chat.stdout.waitFor(/\(sending cat\.png, 3×2, 45 bytes, as a photo\)[\s\S]*You said: \[photo\] what animal is this\?/);
    const request = ollama.chatRequests().at(-1)!;
    expect(request.messages.at(-1)).toEqual(expect.objectContaining({ content: expect.stringContaining("what animal is this?"), images: [png.toString("base64")] }));
    chat.stdin.write("/quit\n");
    expect(await chat.done).toBe(0);
  });

  it("sends /stop at once while an answer streams, and the answer ends as stopped", async () => {
    const slow = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, firstTokenDelayMs: 200, tokensPerSecond: 10, reply: () => Array.from({ length: 80 }, (_, i) => `w${i}`).join(" ") });
    try {
      const chat = start({ OLLAMA_URL: slow.url, OLLAMA_API_KEY: TEST_OLLAMA_API_KEY });
      await chat.stdout.waitFor(/terminal chat/);
      chat.stdin.write("/newsession 1\n"); // earlier tests' sessions may use models this server lacks
      await chat.stdout.waitFor(/is now active/);
      chat.stdin.write("tell me a long story\n");
      await chat.stdout.waitFor(/w3/);
      chat.stdin.write("/stop\n");
      await chat.stdout.waitFor(/Stopping the answer[\s\S]*\(stopped\)/);
      expect(slow.generations.at(-1)).toEqual(expect.objectContaining({ ended: "client_left" }));
      expect(chat.stdout.text).not.toContain("w79");
      expect(chat.stdout.text).not.toContain("Writing an answer");
      chat.stdin.write("/quit\n");
      expect(await chat.done).toBe(0);
    } finally {
      await slow.stop();
    }
  });

  it("reports a missing file on /import without sending anything", async () => {
    const chat = start({ OLLAMA_URL: ollama.url });
    chat.stdin.write("/import nowhere.json\n");
    await chat.stdout.waitFor(/cannot read nowhere\.json: ENOENT/);
    chat.controller.abort(); // Ctrl-C
    chat.stdin.end();
    expect(await chat.done).toBe(0);
    expect(chat.stdout.text).toContain("bye: 0 message(s) sent");
  });
});
