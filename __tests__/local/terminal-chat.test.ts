import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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

  const start = (env: NodeJS.ProcessEnv) => {
    const stdin = new PassThrough();
    const stdout = new Screen();
    const stderr = new Screen();
    const controller = new AbortController();
    const done = main([], { stdin, stdout, stderr, env, cwd, signal: controller.signal, runtime: { emulators } });
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

  it("shows buttons as numbered choices and presses one typed as :<n>", async () => {
    const chat = start({ OLLAMA_URL: ollama.url, OLLAMA_API_KEY: TEST_OLLAMA_API_KEY });
    await chat.stdout.waitFor(/terminal chat/);
    chat.stdin.write("/newsession\n");
    await chat.stdout.waitFor(/\[1\] 1\. llama3\.2:1b {2}\[2\] 2\. \S+ {3}\(type :<n> to press\)/);
    chat.stdin.write(":9\n");
    await chat.stdout.waitFor(/no such choice/);
    chat.stdin.write(":2\n");
    await chat.stdout.waitFor(/\(edited\) New session \S+ with \S+ is now active/);
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
