import { ConnectionError, ServiceError } from "../../../handler/net/errors";
import { OllamaClient } from "../../../handler/model/ollama";
import { closedPortUrl } from "../../support/net";
import { OllamaStandIn } from "../../../local/stand-ins/ollama";
import { TEST_OLLAMA_API_KEY } from "../../support/updates";

describe("OllamaClient", () => {
  let ollama: OllamaStandIn;
  let client: OllamaClient;
  const messages = [{ role: "user" as const, content: "hello there" }];

  beforeAll(async () => {
    ollama = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY });
  });
  afterAll(async () => {
    await ollama.stop();
  });
  beforeEach(() => {
    client = new OllamaClient({ baseUrl: ollama.url, apiKey: TEST_OLLAMA_API_KEY, timeoutMs: 1_000, statusTimeoutMs: 500 });
  });

  const noDelta = () => undefined;

  it("chatStream posts stream:true with the API key", async () => {
    await client.chatStream("llama3.2:1b", messages, noDelta);
    expect(ollama.requests.at(-1)!.headers["x-api-key"]).toBe(TEST_OLLAMA_API_KEY);
    expect(ollama.chatRequests().at(-1)).toEqual(expect.objectContaining({ model: "llama3.2:1b", stream: true, messages }));
  });

  it("a wrong API key gives a ServiceError 401", async () => {
    const wrong = new OllamaClient({ baseUrl: ollama.url, apiKey: "nope-nope", timeoutMs: 1_000 });
    await expect(wrong.chatStream("llama3.2:1b", messages, noDelta)).rejects.toEqual(expect.objectContaining({ name: "ServiceError", status: 401 }));
  });

  it("a refused connection rejects with a ConnectionError, without a retry of its own", async () => {
    const refused = new OllamaClient({ baseUrl: await closedPortUrl(), timeoutMs: 1_000 });
    const error = await refused.chatStream("m", messages, noDelta).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).timedOut).toBe(false);
  });

  it("a connection cut before any text is a ConnectionError, tried once", async () => {
    ollama.setBehaviour({ kind: "cut", afterChunks: 0 }, { times: 1, path: "/api/chat" });
    const before = ollama.chatRequests().length;
    await expect(client.chatStream("llama3.2:1b", messages, noDelta)).rejects.toBeInstanceOf(ConnectionError);
    expect(ollama.chatRequests().length - before).toBe(1);
  });

  it("times out a hanging call", async () => {
    ollama.setBehaviour({ kind: "hang" }, { times: 1, path: "/api/chat" });
    const error = (await client.chatStream("llama3.2:1b", messages, noDelta).catch((e: unknown) => e)) as ConnectionError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.timedOut).toBe(true);
    expect(error.elapsedMs).toBeGreaterThanOrEqual(950);
  });

  it("an outside signal ends the call", async () => {
    ollama.setBehaviour({ kind: "hang" }, { times: 1, path: "/api/chat" });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const started = Date.now();
    const error = (await client.chatStream("llama3.2:1b", messages, noDelta, stop.signal).catch((e: unknown) => e)) as ConnectionError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.timedOut).toBe(false);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it.each([
    [404, 'model "x" not found, try pulling it first'],
    [500, "llama runner process has terminated"],
  ])("answers HTTP %i with a ServiceError carrying Ollama's error", async (status, text) => {
    ollama.setBehaviour({ kind: "status", status, error: text }, { times: 1, path: "/api/chat" });
    await expect(client.chatStream("x", messages, noDelta)).rejects.toEqual(expect.objectContaining({ name: "ServiceError", status, description: text }));
  });

  it("a malformed line after some text keeps that text and reports the stream cut off", async () => {
    ollama.setBehaviour({ kind: "malformed" }, { times: 1, path: "/api/chat" });
    const pieces: string[] = [];
    const answer = await client.chatStream("llama3.2:1b", messages, (piece) => pieces.push(piece));
    expect(answer.completed).toBe(false);
    expect(answer.content).toBe(pieces.join(""));
    expect(answer.content.length).toBeGreaterThan(0);
  });

  it("chatStream passes each piece to onDelta and returns the whole text and Ollama's figures", async () => {
    const pieces: string[] = [];
    const answer = await client.chatStream("llama3.2:1b", messages, (piece) => pieces.push(piece));
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe("You said: hello there");
    expect(answer).toEqual(expect.objectContaining({ content: "You said: hello there", completed: true }));
    expect(answer.evalCount).toEqual(expect.any(Number));
    expect(ollama.chatRequests().at(-1)!.stream).toBe(true);
  });

  it("chatStream keeps what arrived when the stream is cut midway", async () => {
    ollama.setBehaviour({ kind: "cut", afterChunks: 2 }, { times: 1, path: "/api/chat" });
    const pieces: string[] = [];
    const answer = await client.chatStream("llama3.2:1b", messages, (piece) => pieces.push(piece));
    expect(answer.completed).toBe(false);
    expect(answer.content).toBe(pieces.join(""));
    expect(answer.content.length).toBeGreaterThan(0);
  });

  it("chatStream rejects when nothing arrived", async () => {
    ollama.setBehaviour({ kind: "status", status: 500, error: "boom" }, { times: 1, path: "/api/chat" });
    await expect(client.chatStream("llama3.2:1b", messages, () => undefined)).rejects.toBeInstanceOf(ServiceError);
  });

  it("chatStream sends think only when asked, and keeps a reasoning model's thinking apart from its content", async () => {
    ollama.setCapabilities("llama3.2:1b", ["completion", "thinking"]);
    try {
      const pieces: string[] = [];
      const thoughts: string[] = [];
      const answer = await client.chatStream("llama3.2:1b", messages, (p) => pieces.push(p), undefined, { think: true, onThinking: (t) => thoughts.push(t) });
      expect(ollama.chatRequests().at(-1)!.think).toBe(true);
      expect(thoughts.join("")).toBe("Thinking about: hello there");
      expect(answer).toEqual(expect.objectContaining({ content: "You said: hello there", thinking: "Thinking about: hello there", completed: true }));
      expect(pieces.join("")).toBe("You said: hello there");
      await client.chatStream("llama3.2:1b", messages, noDelta);
      expect("think" in ollama.chatRequests().at(-1)!).toBe(false);
    } finally {
      ollama.setCapabilities("llama3.2:1b", ["completion"]);
    }
  });

  it("showModel reads /api/show's capabilities; a missing model is a ServiceError 404", async () => {
    ollama.setCapabilities("llama3.2:1b", ["completion", "vision"]);
    await expect(client.showModel("llama3.2:1b")).resolves.toEqual({ capabilities: ["completion", "vision"] });
    const request = ollama.requests.at(-1)!;
    expect(request).toMatchObject({ path: "/api/show", method: "POST", body: { model: "llama3.2:1b" } });
    expect(request.headers["x-api-key"]).toBe(TEST_OLLAMA_API_KEY);
    await expect(client.showModel("missing:7b")).rejects.toEqual(expect.objectContaining({ name: "ServiceError", status: 404, operation: "show" }));
    ollama.setCapabilities("llama3.2:1b", ["completion"]);
  });

  it("listModels and version read /api/tags and /api/version", async () => {
    ollama.setModels(["a:1", "b:2"]);
    await expect(client.listModels()).resolves.toEqual(["a:1", "b:2"]);
    await expect(client.version()).resolves.toEqual(expect.any(String));
  });
});
