import { request as httpRequest } from "node:http";
import OpenAI, { APIConnectionError, APIError } from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { openAiPieces, ROUGH_WIRE, splitPoints, startOpenAiStandIn, type OpenAiStandIn, type OpenAiStandInOptions } from "../../../local/stand-ins/openai";
import { waitFor } from "../../support/wait-for";

// The stand-in is checked with OpenAI's own SDK, so it cannot drift from what that SDK expects.
const MODEL = "stand-in-model";
const KEY = "sk-stand-in-test-key-0123456789";
const hello = [{ role: "user" as const, content: "hello there" }];

type Delta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string; reasoning?: string };

/** The SDK's client for the stand-in, without the SDK's own retries (each test sees one exchange). */
const sdk = (standIn: OpenAiStandIn, apiKey = KEY) => new OpenAI({ baseURL: standIn.url, apiKey, maxRetries: 0 });

/** Streams one chat through the SDK and collects the chunks. */
async function streamChunks(client: OpenAI, content = "hello there", extra: { max_tokens?: number } = {}): Promise<ChatCompletionChunk[]> {
  const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content }], stream: true, stream_options: { include_usage: true }, ...extra });
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const contentOf = (chunks: readonly ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");

/** The raw bytes of a streamed chat as they arrived, piece by piece. */
function rawStream(standIn: OpenAiStandIn, content: string): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content }], stream: true });
    const req = httpRequest(`${standIn.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      const pieces: Buffer[] = [];
      res.on("data", (piece: Buffer) => pieces.push(piece));
      res.on("end", () => resolve(pieces));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("openAiPieces and splitPoints", () => {
  it("splits text into words with their following whitespace, and keeps given pieces", () => {
    expect(openAiPieces("You said:  hi")).toEqual(["You ", "said:  ", "hi"]);
    expect(openAiPieces(["a", "b"])).toEqual(["a", "b"]);
  });

  it("cuts an event inside its first multi-byte character", () => {
    const bytes = Buffer.from('data: {"c":"é"}\n\n', "utf8");
    const lead = bytes.indexOf(0xc3);

    expect(splitPoints(bytes)).toContain(lead + 1);
    expect(splitPoints(bytes).every((p) => p > 0 && p < bytes.length)).toBe(true);
  });
});

describe("startOpenAiStandIn", () => {
  let standIn: OpenAiStandIn;
  const start = async (options: OpenAiStandInOptions = {}) => {
    standIn = await startOpenAiStandIn(options);
    return standIn;
  };
  afterEach(async () => {
    await standIn.close();
  });

  it("streams the reply in several chunks, then a finish chunk, a usage chunk and [DONE], as the SDK reads them", async () => {
    const client = sdk(await start());

    const chunks = await streamChunks(client);

    expect(contentOf(chunks)).toBe("You said: hello there");
    expect(chunks[0]).toMatchObject({ object: "chat.completion.chunk", model: MODEL, choices: [{ delta: { role: "assistant" } }] });
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe("stop");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } });
    expect(standIn.generations).toEqual([{ model: MODEL, ended: "completed", chunks: 4 }]);
  });

  it("writes a rough wire the SDK still reads whole: split writes, CRLF, keep-alives, event fields, multi-line data", async () => {
    const client = sdk(await start({ wire: ROUGH_WIRE }));

    const chunks = await streamChunks(client, "héllo 👋 wörld");

    expect(contentOf(chunks)).toBe("You said: héllo 👋 wörld");
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 5 });
  });

  it("really splits events across writes, inside a multi-byte character, with keep-alive comments between", async () => {
    await start({ wire: ROUGH_WIRE });

    const pieces = await rawStream(standIn, "é");
    const text = Buffer.concat(pieces).toString("utf8");
    const events = text.split("\r\n\r\n").filter((e) => e.includes("data:"));

    expect(pieces.length).toBeGreaterThan(events.length * 2);
    expect(pieces.some((p) => p.at(-1) === 0xc3)).toBe(true);
    expect(text).toContain(": keep-alive\r\n\r\n");
    expect(text).toContain("event: message\r\ndata: ");
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("sends a script's reasoning chunks before its content, in the field it names", async () => {
    const client = sdk(await start({ answers: { [MODEL]: { reasoning: "step one", content: ["Four", "."] } } }));

    const chunks = await streamChunks(client);
    const deltas = chunks.map((c) => c.choices[0]?.delta as Delta | undefined);

    expect(deltas.map((d) => d?.reasoning_content ?? "").join("")).toBe("step one");
    expect(contentOf(chunks)).toBe("Four.");
    expect(deltas.findIndex((d) => d?.content === "Four")).toBeGreaterThan(deltas.findIndex((d) => d?.reasoning_content === "one"));
  });

  it("stops at max_tokens with finish_reason length", async () => {
    const client = sdk(await start());

    const chunks = await streamChunks(client, "hello there", { max_tokens: 2 });

    expect(contentOf(chunks)).toBe("You said: ");
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe("length");
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 2 });
  });

  it("answers a non-streamed chat with one chat.completion and its usage", async () => {
    const client = sdk(await start({ answers: { [MODEL]: { content: "Hi!", usage: { prompt_tokens: 11, completion_tokens: 2 } } } }));

    const answer = await client.chat.completions.create({ model: MODEL, messages: hello });

    expect(answer).toMatchObject({ object: "chat.completion", choices: [{ message: { role: "assistant", content: "Hi!" }, finish_reason: "stop" }] });
    expect(answer.usage).toEqual({ prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 });
  });

  it("lists its models on GET /v1/models", async () => {
    const client = sdk(await start({ models: ["a", "b"] }));

    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);

    expect(ids).toEqual(["a", "b"]);
  });

  it("answers an unknown model with OpenAI's 404 model_not_found", async () => {
    const client = sdk(await start());

    const error = await client.chat.completions.create({ model: "x", messages: hello }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 404, code: "model_not_found", type: "invalid_request_error" });
    expect((error as APIError).message).toContain("The model `x` does not exist");
  });

  it("refuses a wrong or missing key with 401 and records who sent one", async () => {
    await start({ apiKey: KEY });

    const wrong = await sdk(standIn, "sk-wrong-key").models.list().catch((e: unknown) => e);
    const right = await sdk(standIn).models.list();

    expect(wrong).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(right.data.map((m) => m.id)).toEqual([MODEL]);
    expect(standIn.requests.map((r) => r.authorized)).toEqual([true, true]);
    expect(standIn.requests[1].headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("answers a queued 429 once with its Retry-After header, then answers again", async () => {
    const client = sdk(await start({ failures: [{ kind: "status", status: 429, retryAfter: "7" }] }));

    const limited = (await streamChunks(client).catch((e: unknown) => e)) as APIError;
    const after = await streamChunks(client);

    expect(limited).toBeInstanceOf(APIError);
    expect(limited).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    expect(limited.headers?.get("retry-after")).toBe("7");
    expect(contentOf(after)).toBe("You said: hello there");
  });

  it("sends an error chunk mid-stream, which the SDK raises as an APIError after the text", async () => {
    const client = sdk(await start());
    standIn.failNext({ kind: "error-chunk", afterChunks: 2, error: { message: "CUDA out of memory", type: "server_error", code: null } });

    const chunks: ChatCompletionChunk[] = [];
    const stream = await client.chat.completions.create({ model: MODEL, messages: hello, stream: true });
    const error = await (async () => {
      for await (const chunk of stream) chunks.push(chunk);
    })().catch((e: unknown) => e);

    expect(contentOf(chunks)).toBe("You said: ");
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain("CUDA out of memory");
    await waitFor(() => standIn.generations.length === 1);
    expect(standIn.generations[0]).toMatchObject({ ended: "error", chunks: 2 });
  });

  it("cuts the connection mid-stream", async () => {
    const client = sdk(await start());
    standIn.failNext({ kind: "cut", afterChunks: 1 });

    const error = await streamChunks(client).catch((e: unknown) => e);

    // fetch's own TypeError, from another realm than the test's: matched by its message.
    expect(String(error)).toMatch(/terminated/);
    await waitFor(() => standIn.generations.length === 1);
    expect(standIn.generations[0]).toMatchObject({ ended: "cut", chunks: 1 });
  });

  it("paces chunks and records a generation the client left as aborted", async () => {
    const client = sdk(await start({ chunkDelayMs: 50, answers: { [MODEL]: { content: "one two three four five six seven eight" } } }));

    const started = Date.now();
    const stream = await client.chat.completions.create({ model: MODEL, messages: hello, stream: true });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break;
    }
    await waitFor(() => standIn.generations.length === 1);

    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(standIn.generations[0]).toMatchObject({ ended: "aborted" });
    expect(standIn.generations[0].chunks).toBeLessThan(8);
  });

  it("hangs a queued request until the client gives up, then answers the next", async () => {
    await start({ failures: [{ kind: "hang", on: "models" }] });
    const client = new OpenAI({ baseURL: standIn.url, apiKey: KEY, maxRetries: 0, timeout: 200 });

    const started = Date.now();
    const error = await client.models.list().catch((e: unknown) => e);
    const waited = Date.now() - started;
    const after = await client.models.list();

    // The SDK's timeout error, or under Jest's realms its parent class.
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(after.data).toHaveLength(1);
  });
});
