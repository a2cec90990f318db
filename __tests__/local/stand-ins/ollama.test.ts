import { request as httpRequest } from "node:http";
import { DEFAULT_OLLAMA_MODELS } from "../../../config/defaults";
import { ollamaTokens, OllamaStandIn } from "../../../local/stand-ins/ollama";
import { TEST_OLLAMA_API_KEY } from "../../support/updates";

const MODEL = DEFAULT_OLLAMA_MODELS[0];

interface ChatChunk {
  model: string;
  created_at: string;
  message: { role: string; content: string; thinking?: string };
  done: boolean;
  done_reason?: string;
  eval_count?: number;
  eval_duration?: number;
  total_duration?: number;
}

/** POSTs /api/chat and reads the whole response with the timestamps of each received piece. */
function chat(
  ollama: OllamaStandIn,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string; text: string; pieces: { at: number; text: string }[]; error?: Error }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = httpRequest(`${ollama.url}/api/chat`, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      const pieces: { at: number; text: string }[] = [];
      const done = (error?: Error) =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"]),
          text: pieces.map((p) => p.text).join(""),
          pieces,
          ...(error ? { error } : {}),
        });
      res.setEncoding("utf8");
      res.on("data", (text: string) => pieces.push({ at: Date.now(), text }));
      res.on("end", () => done());
      res.on("error", (error) => done(error));
      res.on("aborted", () => done(new Error("aborted")));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

const lines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as ChatChunk);

const hello = { model: MODEL, messages: [{ role: "user", content: "hello there" }] };

describe("ollamaTokens", () => {
  it("splits text into words with their following whitespace", () => {
    expect(ollamaTokens("You said:  hi\nthere")).toEqual(["You ", "said:  ", "hi\n", "there"]);
    expect(ollamaTokens(" lead")).toEqual([" ", "lead"]);
    expect(ollamaTokens("")).toEqual([]);
  });
});

describe("OllamaStandIn", () => {
  let ollama: OllamaStandIn;
  afterEach(async () => {
    await ollama.stop();
  });

  it("answers a non-streamed chat with one JSON object and consistent figures", async () => {
    ollama = await OllamaStandIn.start();

    const response = await chat(ollama, { ...hello, stream: false });
    const body = JSON.parse(response.text) as ChatChunk & Record<string, number>;

    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(body).toMatchObject({ model: MODEL, message: { role: "assistant", content: "You said: hello there" }, done: true, done_reason: "stop" });
    expect(body.eval_count).toBe(4);
    expect(body.prompt_eval_count).toBe(2);
    for (const key of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"]) expect(typeof body[key]).toBe("number");
    expect(body.total_duration).toBeGreaterThanOrEqual(body.load_duration + Number(body.eval_duration));
    expect(new Date(body.created_at).getTime()).toBeGreaterThan(0);
    expect(ollama.chatRequests()).toEqual([{ ...hello, stream: false }]);
  });

  it("streams NDJSON deltas when stream is absent, ending with a done line", async () => {
    ollama = await OllamaStandIn.start({ reply: () => "one two three" });

    const response = await chat(ollama, hello);
    const chunks = lines(response.text);

    expect(response.contentType).toBe("application/x-ndjson");
    expect(chunks.map((c) => c.message.content)).toEqual(["one ", "two ", "three", ""]);
    expect(chunks.map((c) => c.done)).toEqual([false, false, false, true]);
    expect(chunks[3]).toMatchObject({ done_reason: "stop", eval_count: 3 });
    expect(response.text.endsWith("\n")).toBe(true);
  });

  it("paces a stream at tokensPerSecond after firstTokenDelayMs", async () => {
    ollama = await OllamaStandIn.start({ reply: () => "a b c d e f", firstTokenDelayMs: 200, tokensPerSecond: 20 });

    const started = Date.now();
    const response = await chat(ollama, hello);
    const chunks = lines(response.text);
    const firstAt = response.pieces[0].at - started;
    const spread = response.pieces[response.pieces.length - 1].at - response.pieces[0].at;

    expect(firstAt).toBeGreaterThanOrEqual(190);
    expect(firstAt).toBeLessThan(1000);
    // 6 tokens at 20/s: 5 gaps of 50 ms between the first and the last.
    expect(spread).toBeGreaterThanOrEqual(230);
    expect(spread).toBeLessThan(1500);
    expect(response.pieces.length).toBeGreaterThanOrEqual(5);
    expect(chunks[chunks.length - 1].eval_duration).toBe(300_000_000);
  });

  it("takes as long for a whole answer as the stream would", async () => {
    ollama = await OllamaStandIn.start({ reply: () => "a b c d", tokensPerSecond: 10 });

    const started = Date.now();
    const response = await chat(ollama, { ...hello, stream: false });

    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(JSON.parse(response.text)).toMatchObject({ eval_count: 4, eval_duration: 400_000_000 });
  });

  it("answers 404 for a model it does not have", async () => {
    ollama = await OllamaStandIn.start({ models: ["only:1b"] });

    const response = await chat(ollama, { ...hello, model: "missing:7b" });

    expect(response.status).toBe(404);
    expect(JSON.parse(response.text)).toEqual({ error: 'model "missing:7b" not found, try pulling it first' });
  });

  it("lists its models on /api/tags and its version on /api/version", async () => {
    ollama = await OllamaStandIn.start({ version: "9.9.9" });
    ollama.setModels(["a:1b", "b:2b"]);

    const tags = (await (await fetch(`${ollama.url}/api/tags`)).json()) as { models: { name: string; model: string; details: object }[] };
    const version = await (await fetch(`${ollama.url}/api/version`)).json();

    expect(tags.models.map((m) => m.name)).toEqual(["a:1b", "b:2b"]);
    expect(tags.models[0]).toMatchObject({ model: "a:1b", details: { format: "gguf" } });
    expect(version).toEqual({ version: "9.9.9" });
  });

  it("answers POST /api/show with each model's capabilities, and 404 for a model it does not have", async () => {
    ollama = await OllamaStandIn.start({ models: ["text:1b", "eyes:3b"], capabilities: { "eyes:3b": ["completion", "vision"] } });
    const show = (model: string) => fetch(`${ollama!.url}/api/show`, { method: "POST", body: JSON.stringify({ model }) });

    const text = (await (await show("text:1b")).json()) as { capabilities: string[]; details: object; model_info: object };
    const eyes = (await (await show("eyes:3b")).json()) as { capabilities: string[] };
    const missing = await show("gone:7b");

    expect(text).toMatchObject({ capabilities: ["completion"], details: { format: "gguf" }, model_info: { "general.architecture": "text" } });
    expect(eyes.capabilities).toEqual(["completion", "vision"]);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "model 'gone:7b' not found" });
  });

  it("streams a thinking model's reasoning in message.thinking with think: true, as <think> tags without think, and none with think: false", async () => {
    ollama = await OllamaStandIn.start({ capabilities: { [MODEL]: ["completion", "thinking"] }, thinking: () => "step one" });

    const apart = lines((await chat(ollama, { ...hello, think: true })).text);
    const tagged = lines((await chat(ollama, hello)).text);
    const none = lines((await chat(ollama, { ...hello, think: false })).text);

    expect(apart.slice(0, 2).map((c) => c.message)).toEqual([
      { role: "assistant", content: "", thinking: "step " },
      { role: "assistant", content: "", thinking: "one" },
    ]);
    expect(apart.map((c) => c.message.content).join("")).toBe("You said: hello there");
    expect(apart.at(-1)).toMatchObject({ done: true, eval_count: 6 });
    expect(tagged.map((c) => c.message.content).join("")).toBe("<think>\nstep one\n</think>\n\nYou said: hello there");
    expect(tagged.some((c) => c.message.thinking !== undefined)).toBe(false);
    expect(none.map((c) => c.message.content).join("")).toBe("You said: hello there");
  });

  it("gives a whole answer's reasoning in message.thinking", async () => {
    ollama = await OllamaStandIn.start({ capabilities: { [MODEL]: ["completion", "thinking"] } });

    const response = await chat(ollama, { ...hello, think: true, stream: false });

    expect(JSON.parse(response.text)).toMatchObject({ message: { content: "You said: hello there", thinking: "Thinking about: hello there" } });
  });

  it("answers an unknown path with 404", async () => {
    ollama = await OllamaStandIn.start();

    const response = await fetch(`${ollama.url}/api/nothing`);

    expect(response.status).toBe(404);
    expect(await response.text()).toBe("404 page not found");
  });

  it("refuses requests without the right X-API-Key when a key is set", async () => {
    ollama = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY });

    const missing = await chat(ollama, hello);
    const wrong = await fetch(`${ollama.url}/api/tags`, { headers: { "X-API-Key": "wrong" } });
    const right = await chat(ollama, { ...hello, stream: false }, { "X-API-Key": TEST_OLLAMA_API_KEY });

    expect(missing.status).toBe(401);
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();
    expect(right.status).toBe(200);
    expect(ollama.requests).toHaveLength(3);
    expect(ollama.requests[2].headers["x-api-key"]).toBe(TEST_OLLAMA_API_KEY);
  });

  it("answers a chosen status for a number of requests, then answers again", async () => {
    ollama = await OllamaStandIn.start();
    ollama.setBehaviour({ kind: "status", status: 500, error: "out of memory" }, { times: 2 });

    const first = await chat(ollama, { ...hello, stream: false });
    const second = await chat(ollama, { ...hello, stream: false });
    const third = await chat(ollama, { ...hello, stream: false });

    expect(first.status).toBe(500);
    expect(JSON.parse(first.text)).toEqual({ error: "out of memory" });
    expect(second.status).toBe(500);
    expect(third.status).toBe(200);
  });

  it("keeps a behaviour until changed when no times are given", async () => {
    ollama = await OllamaStandIn.start();
    ollama.setBehaviour({ kind: "status", status: 503, error: "busy" });

    expect((await chat(ollama, hello)).status).toBe(503);
    expect((await chat(ollama, hello)).status).toBe(503);
    ollama.setBehaviour({ kind: "answer" });
    expect((await chat(ollama, hello)).status).toBe(200);
  });

  it("applies a behaviour to another path when asked", async () => {
    ollama = await OllamaStandIn.start();
    ollama.setBehaviour({ kind: "status", status: 502, error: "bad gateway" }, { path: "/api/tags" });

    const tags = await fetch(`${ollama.url}/api/tags`);
    const answer = await chat(ollama, hello);

    expect(tags.status).toBe(502);
    await tags.body?.cancel();
    expect(answer.status).toBe(200);
  });

  it("hangs until stopped", async () => {
    ollama = await OllamaStandIn.start();
    ollama.setBehaviour({ kind: "hang" });

    const pending = chat(ollama, hello).then(
      (r) => r,
      (error: Error) => error,
    );
    const raced = await Promise.race([pending.then(() => "answered"), new Promise((r) => setTimeout(() => r("still waiting"), 300))]);
    await ollama.stop();

    expect(raced).toBe("still waiting");
    expect(String(await pending)).toMatch(/socket hang up|ECONNRESET/);
  });

  it("sends a malformed body", async () => {
    ollama = await OllamaStandIn.start();
    ollama.setBehaviour({ kind: "malformed" });

    const whole = await chat(ollama, { ...hello, stream: false });
    const streamed = await chat(ollama, hello);
    const streamedLines = streamed.text.split("\n").filter((l) => l !== "");

    expect(whole.status).toBe(200);
    expect(() => JSON.parse(whole.text)).toThrow();
    expect(streamed.status).toBe(200);
    expect(() => JSON.parse(streamedLines[0])).not.toThrow();
    expect(() => JSON.parse(streamedLines[1])).toThrow();
  });

  it("cuts a stream after N chunks", async () => {
    ollama = await OllamaStandIn.start({ reply: () => "one two three four" });
    ollama.setBehaviour({ kind: "cut", afterChunks: 2 });

    const response = await chat(ollama, hello);
    const complete = response.text.split("\n").filter((l) => l !== "");

    expect(response.error).toBeDefined();
    expect(complete.map((l) => (JSON.parse(l) as ChatChunk).message.content)).toEqual(["one ", "two "]);
  });

  it("cuts a stream before its first chunk when afterChunks is 0", async () => {
    ollama = await OllamaStandIn.start();
    ollama.setBehaviour({ kind: "cut", afterChunks: 0 });

    const response = await chat(ollama, hello);

    expect(response.status).toBe(200);
    expect(response.error).toBeDefined();
    expect(response.text).toBe("");
  });

  it("cuts a whole answer after half of its body", async () => {
    ollama = await OllamaStandIn.start();
    ollama.setBehaviour({ kind: "cut", afterChunks: 0 });

    const response = await chat(ollama, { ...hello, stream: false });

    expect(response.error).toBeDefined();
    expect(response.text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(response.text)).toThrow();
  });

  it("records every request with its size and parsed body", async () => {
    ollama = await OllamaStandIn.start();
    ollama.setReply((r) => `model ${r.model}`);

    const response = await chat(ollama, { ...hello, stream: false, options: { temperature: 0 } });

    expect(JSON.parse(response.text).message.content).toBe(`model ${MODEL}`);
    expect(ollama.requests[0]).toMatchObject({ path: "/api/chat", method: "POST", body: { ...hello, stream: false, options: { temperature: 0 } } });
    expect(ollama.requests[0].bytes).toBe(JSON.stringify({ ...hello, stream: false, options: { temperature: 0 } }).length);
  });
});
