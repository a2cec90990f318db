import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ConnectionError, ServiceError } from "../../../handler/net/errors";
import {
  imageMediaType,
  OpenAiClient,
  openAiErrorOf,
  retryAfterSecondsOf,
  toOpenAiMessages,
  type OpenAiClientOptions,
} from "../../../handler/model/openai";
import { createSseDecoder, type SseEvent } from "../../../handler/model/sse";
import { ROUGH_WIRE, startOpenAiStandIn, type OpenAiStandIn } from "../../../local/stand-ins/openai";
import { closedPortUrl } from "../../support/net";
import { waitFor } from "../../support/wait-for";

const MODEL = "stand-in-model";
const THINKER = "thinker";
const KEY = "sk-openai-adapter-test-key-42";
const hello = [{ role: "user" as const, content: "hello there" }];
const noDelta = () => undefined;
// Base64 of real magic bytes: a JPEG's FF D8 FF E0 and a PNG's 89 50 4E 47 0D 0A 1A 0A.
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]).toString("base64");
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]).toString("base64");

describe("OpenAI wire helpers", () => {
  it("tells a PNG from a JPEG by its magic bytes", () => {
    expect(imageMediaType(PNG)).toBe("image/png");
    expect(imageMediaType(JPEG)).toBe("image/jpeg");
  });

  it("maps a user message with pictures to a text part and data-URL image parts", () => {
    const messages = toOpenAiMessages([{ role: "system", content: "be brief" }, { role: "user", content: "what is it?", images: [PNG] }]);

    expect(messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: [{ type: "text", text: "what is it?" }, { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }] },
    ]);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(retryAfterSecondsOf("7", now)).toBe(7);
    expect(retryAfterSecondsOf(["2"], now)).toBe(2);
    expect(retryAfterSecondsOf("Wed, 01 Jan 2025 00:00:30 GMT", now)).toBe(30);
    expect(retryAfterSecondsOf("Tue, 31 Dec 2024 23:59:00 GMT", now)).toBe(0);
    expect(retryAfterSecondsOf("soon", now)).toBeUndefined();
    expect(retryAfterSecondsOf(undefined, now)).toBeUndefined();
  });

  it("reads OpenAI's, TGI's and an older vLLM's error bodies", () => {
    expect(openAiErrorOf({ error: { message: "nope", type: "invalid_request_error", code: "invalid_api_key" } })).toEqual({ description: "nope", code: "invalid_api_key", status: undefined });
    expect(openAiErrorOf({ error: { message: "busy", type: "server_error", code: null } })).toEqual({ description: "busy", code: "server_error", status: undefined });
    expect(openAiErrorOf({ error: "Input validation error", error_type: "validation" })).toEqual({ description: "Input validation error", code: "validation", status: undefined });
    expect(openAiErrorOf({ object: "error", message: "no such model", type: "NotFoundError", code: 404 })).toEqual({ description: "no such model", code: "NotFoundError", status: 404 });
    expect(openAiErrorOf("<html>")).toBeUndefined();
  });
});

describe("createSseDecoder", () => {
  const stream = Buffer.from(': hello\r\n\r\nevent: message\r\ndata: {"a":\r\ndata: "é👋"}\r\n\r\n\r\ndata: [DONE]\r\n\r\n', "utf8");
  const expected: SseEvent[] = [
    { event: "message", data: '{"a":\n"é👋"}' },
    { event: undefined, data: "[DONE]" },
  ];

  it("decodes comments, event fields, multi-line data and CRLF, split at every byte", () => {
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const decoder = createSseDecoder();
      const events = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut)), ...decoder.end()];
      expect(events).toEqual(expected);
    }
  });

  it("decodes a stream fed one byte at a time, with \\n or lone \\r line endings", () => {
    for (const text of ['data: {"x":1}\n\ndata: [DONE]\n\n', 'data: {"x":1}\r\rdata: [DONE]\r\r']) {
      const decoder = createSseDecoder();
      const events = [...Buffer.from(text)].flatMap((byte) => decoder.push(Uint8Array.of(byte)));
      expect(events.map((e) => e.data)).toEqual(['{"x":1}', "[DONE]"]);
    }
  });

  it("dispatches a last event that lacks its closing blank line at the end", () => {
    const decoder = createSseDecoder();
    expect(decoder.push(Buffer.from("data: [DONE]"))).toEqual([]);
    expect(decoder.end()).toEqual([{ event: undefined, data: "[DONE]" }]);
  });
});

describe("OpenAiClient", () => {
  let api: OpenAiStandIn;
  let client: OpenAiClient;
  const clientFor = (options: Partial<OpenAiClientOptions> = {}) => new OpenAiClient({ baseUrl: api.url, apiKey: KEY, timeoutMs: 3_000, statusTimeoutMs: 300, ...options });
  const lastChat = () => api.requests.filter((r) => r.path === "/v1/chat/completions").at(-1)!;

  beforeAll(async () => {
    api = await startOpenAiStandIn({
      apiKey: KEY,
      models: [MODEL, THINKER],
      wire: ROUGH_WIRE,
      answers: { [THINKER]: { reasoning: "two plus two", content: "Four.", reasoningField: "reasoning" } },
    });
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(() => {
    client = clientFor();
  });

  it("streams the text to onDelta over a rough wire and resolves it completed, with the usage of the last chunk", async () => {
    let clock = 0;
    const timed = clientFor({ now: () => (clock += 10) });
    const pieces: string[] = [];

    const answer = await timed.chatStream(MODEL, [{ role: "user", content: "héllo 👋" }], (p) => pieces.push(p));

    expect(pieces.length).toBeGreaterThan(1);
    expect(answer).toEqual({ content: "You said: héllo 👋", thinking: "", evalCount: 4, evalDurationNs: 30_000_000, completed: true, usage: { inputTokens: 2, outputTokens: 4 } });
    expect(pieces.join("")).toBe(answer.content);
  });

  it("posts stream with include_usage and the key as a bearer token, and no max_tokens unless asked", async () => {
    await client.chatStream(MODEL, hello, noDelta);

    expect(lastChat().headers).toMatchObject({ authorization: `Bearer ${KEY}`, accept: "text/event-stream", "content-type": "application/json" });
    expect(lastChat().body).toEqual({ model: MODEL, messages: hello, stream: true, stream_options: { include_usage: true } });
  });

  it("takes a finish_reason followed by the end of the stream, without [DONE], as completed", async () => {
    const terse = await startOpenAiStandIn({ wire: { omitDone: true } });

    const answer = await new OpenAiClient({ baseUrl: terse.url }).chatStream(MODEL, hello, noDelta);
    await terse.close();

    expect(answer).toMatchObject({ content: "You said: hello there", completed: true, evalCount: 4 });
  });

  it("sends maxTokens as max_tokens", async () => {
    const answer = await client.chatStream(MODEL, hello, noDelta, undefined, { maxTokens: 2 });

    expect(lastChat().body).toMatchObject({ max_tokens: 2 });
    expect(answer).toMatchObject({ content: "You said: ", completed: true, evalCount: 2 });
  });

  it("sends a photo as an image_url data URL after the text", async () => {
    await client.chatStream(MODEL, [{ role: "user", content: "what is this?", images: [JPEG] }], noDelta);

    expect((lastChat().body as { messages: unknown }).messages).toEqual([
      { role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url: `data:image/jpeg;base64,${JPEG}` } }] },
    ]);
  });

  it("gives reasoning to onThinking and the answer's thinking, never to the content", async () => {
    const pieces: string[] = [];
    const thoughts: string[] = [];

    const answer = await client.chatStream(THINKER, hello, (p) => pieces.push(p), undefined, { think: true, onThinking: (t) => thoughts.push(t) });

    expect(thoughts.join("")).toBe("two plus two");
    expect(pieces.join("")).toBe("Four.");
    expect(answer).toMatchObject({ content: "Four.", thinking: "two plus two", completed: true });
    expect("think" in (lastChat().body as object)).toBe(false);
  });

  it("ends the request at once on Stop: the stand-in sees the client leave", async () => {
    const slow = await startOpenAiStandIn({ chunkDelayMs: 100, answers: { [MODEL]: { content: "one two three four five six seven eight nine ten" } } });
    const stop = new AbortController();
    const started = Date.now();

    const answer = await new OpenAiClient({ baseUrl: slow.url, timeoutMs: 5_000 }).chatStream(MODEL, hello, () => stop.abort(), stop.signal);
    await waitFor(() => slow.generations.length === 1);
    await slow.close();

    // The whole answer takes a second; the stand-in saw the client leave after the first chunk or two.
    expect(Date.now() - started).toBeLessThan(600);
    expect(answer).toMatchObject({ content: "one ", completed: false });
    expect(slow.generations[0]).toMatchObject({ ended: "aborted" });
    expect(slow.generations[0].chunks).toBeLessThan(3);
  });

  it.each([
    ["a wrong key", 401, "sk-wrong-but-long-key-9", MODEL, "invalid_api_key"],
    ["an unknown model", 404, KEY, "no-such-model", "model_not_found"],
  ])("rejects %s with a ServiceError %i and the server's code", async (_what, status, apiKey, model, code) => {
    const error = (await clientFor({ apiKey }).chatStream(model, hello, noDelta).catch((e: unknown) => e)) as ServiceError;

    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: "openai", operation: "chat", status, code });
  });

  it("never puts the API key in an error, even when the server echoes it", async () => {
    const wrongKey = "sk-echoed-by-the-server-123";

    const error = (await clientFor({ apiKey: wrongKey }).chatStream(MODEL, hello, noDelta).catch((e: unknown) => e)) as ServiceError;

    expect(error.description).toBe("Incorrect API key provided: [REDACTED].");
    expect(JSON.stringify({ ...error, message: error.message, description: error.description })).not.toContain(wrongKey);
    expect(error.message).not.toContain(wrongKey);
  });

  it("waits out a 429 whose Retry-After fits in the timeout and asks once more", async () => {
    api.failNext({ kind: "status", status: 429, retryAfter: "1" });
    const before = api.requests.length;
    const started = Date.now();

    const answer = await client.chatStream(MODEL, hello, noDelta);

    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(answer).toMatchObject({ content: "You said: hello there", completed: true });
    expect(api.requests.length - before).toBe(2);
  });

  it("rejects a 429 whose wait is longer than the time left, with its retryAfterSeconds", async () => {
    api.failNext({ kind: "status", status: 429, retryAfter: "30" });
    const before = api.requests.length;
    const started = Date.now();

    const error = (await client.chatStream(MODEL, hello, noDelta).catch((e: unknown) => e)) as ServiceError;

    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 30, code: "rate_limit_exceeded" });
    expect(Date.now() - started).toBeLessThan(500);
    expect(api.requests.length - before).toBe(1);
  });

  it("ends a 429 wait at once on Stop, without asking again", async () => {
    api.failNext({ kind: "status", status: 429, retryAfter: "2" });
    const before = api.requests.length;
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const started = Date.now();

    const error = (await clientFor({ timeoutMs: 5_000 }).chatStream(MODEL, hello, noDelta, stop.signal).catch((e: unknown) => e)) as ConnectionError;

    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ service: "openai", timedOut: false });
    expect(Date.now() - started).toBeLessThan(800);
    expect(api.requests.length - before).toBe(1);
  });

  it("rejects a 500 with a ServiceError", async () => {
    api.failNext({ kind: "status", status: 500 });

    await expect(client.chatStream(MODEL, hello, noDelta)).rejects.toMatchObject({ name: "ServiceError", status: 500, code: "server_error" });
  });

  it("keeps the text when an error chunk arrives mid-stream, and reports the answer not completed", async () => {
    api.failNext({ kind: "error-chunk", afterChunks: 2, error: { message: "CUDA out of memory", type: "server_error", code: null } });

    const answer = await client.chatStream(MODEL, hello, noDelta);

    expect(answer).toMatchObject({ content: "You said: ", completed: false });
  });

  it("rejects an error chunk before any text with a ServiceError saying what the server said", async () => {
    api.failNext({ kind: "error-chunk", afterChunks: 0, error: { message: "context length exceeded", type: "invalid_request_error", code: "context_length_exceeded" } });

    await expect(client.chatStream(MODEL, hello, noDelta)).rejects.toMatchObject({ name: "ServiceError", description: "context length exceeded", code: "context_length_exceeded" });
  });

  it("keeps the text of a connection cut mid-stream; a cut before any text is a ConnectionError", async () => {
    api.failNext({ kind: "cut", afterChunks: 1 });
    const cut = await client.chatStream(MODEL, hello, noDelta);
    api.failNext({ kind: "cut", afterChunks: 0 });
    const early = await client.chatStream(MODEL, hello, noDelta).catch((e: unknown) => e);

    expect(cut).toMatchObject({ content: "You ", completed: false });
    expect(early).toBeInstanceOf(ConnectionError);
  });

  it("rejects a 200 that is not an event stream (a server that ignored stream: true)", async () => {
    const plain = createServer((_req, res) => res.end(JSON.stringify({ choices: [{ message: { content: "whole" } }] })));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/v1`;

    const error = await new OpenAiClient({ baseUrl: url }).chatStream(MODEL, hello, noDelta).catch((e: unknown) => e);
    await new Promise((resolve) => plain.close(resolve));

    expect(error).toMatchObject({ name: "ServiceError", status: 0, description: "the answer was not an event stream" });
  });

  it("rejects a refused connection with a ConnectionError of service openai", async () => {
    const refused = new OpenAiClient({ baseUrl: `${await closedPortUrl()}/v1`, timeoutMs: 1_000 });

    await expect(refused.chatStream(MODEL, hello, noDelta)).rejects.toMatchObject({ name: "ConnectionError", service: "openai", timedOut: false });
  });

  it("answers showModel with no capabilities: the entry's flags decide", async () => {
    await expect(client.showModel(MODEL)).resolves.toEqual({ capabilities: [] });
  });

  it("reports health from GET /models with the key", async () => {
    const health = await client.health();

    expect(health).toEqual({ reachable: true, models: [MODEL, THINKER], detail: "OpenAI-compatible API" });
    expect(api.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/models", headers: { authorization: `Bearer ${KEY}` } });
  });

  it.each([
    ["a refused API key", () => clientFor({ apiKey: "sk-not-this-one-0" }), undefined, "refused the API key (401)"],
    ["a 503", () => clientFor(), { kind: "status" as const, status: 503, on: "models" as const }, "answered 503"],
    ["a silent server", () => clientFor(), { kind: "hang" as const, on: "models" as const }, "timed out"],
  ])("reports health unreachable for %s, in words", async (_what, make, failure, reason) => {
    if (failure) api.failNext(failure);

    await expect(make().health()).resolves.toEqual({ reachable: false, reason });
  });

  it("reports health unreachable for a refused connection", async () => {
    const refused = new OpenAiClient({ baseUrl: `${await closedPortUrl()}/v1`, apiKey: KEY });

    await expect(refused.health()).resolves.toEqual({ reachable: false, reason: "connection refused" });
  });
});
