import { ConnectionError, ServiceError } from "../../../handler/net/errors";
import { OllamaClient } from "../../../handler/model/ollama";
import { streamAnswer } from "../../../handler/model/stream-answer";
import { closedPortUrl } from "../../support/net";
import { OllamaStandIn } from "../../../local/stand-ins/ollama";
import { TEST_OLLAMA_API_KEY } from "../../support/updates";

describe("streamAnswer (the one retry of a model call)", () => {
  let ollama: OllamaStandIn;
  let client: OllamaClient;
  const messages = [{ role: "user" as const, content: "hello there" }];
  const pieces: string[] = [];
  const collect = (piece: string) => void pieces.push(piece);

  beforeAll(async () => {
    ollama = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY });
  });
  afterAll(async () => {
    await ollama.stop();
  });
  beforeEach(() => {
    pieces.length = 0;
    client = new OllamaClient({ baseUrl: ollama.url, apiKey: TEST_OLLAMA_API_KEY, timeoutMs: 1_000, statusTimeoutMs: 500 });
  });

  it("retries a fast connection failure once and streams the second answer", async () => {
    ollama.setBehaviour({ kind: "cut", afterChunks: 0 }, { times: 1, path: "/api/chat" });
    const before = ollama.chatRequests().length;
    const answer = await streamAnswer(client, "llama3.2:1b", messages, collect, 1_000);
    expect(answer).toEqual(expect.objectContaining({ content: "You said: hello there", completed: true }));
    expect(pieces.join("")).toBe("You said: hello there");
    expect(ollama.chatRequests().length - before).toBe(2);
  });

  it("gives up after the single retry", async () => {
    ollama.setBehaviour({ kind: "cut", afterChunks: 0 }, { times: 2, path: "/api/chat" });
    const before = ollama.chatRequests().length;
    await expect(streamAnswer(client, "llama3.2:1b", messages, collect, 1_000)).rejects.toBeInstanceOf(ConnectionError);
    expect(ollama.chatRequests().length - before).toBe(2);
  });

  it("does not retry a failure slower than the fast-failure bound", async () => {
    ollama.setBehaviour({ kind: "cut", afterChunks: 0 }, { times: 1, path: "/api/chat" });
    const before = ollama.chatRequests().length;
    await expect(streamAnswer(client, "llama3.2:1b", messages, collect, 1_000, 0)).rejects.toBeInstanceOf(ConnectionError);
    expect(ollama.chatRequests().length - before).toBe(1);
  });

  it("does not retry once text has arrived: the broken stream keeps what came", async () => {
    ollama.setBehaviour({ kind: "cut", afterChunks: 2 }, { times: 1, path: "/api/chat" });
    const before = ollama.chatRequests().length;
    const answer = await streamAnswer(client, "llama3.2:1b", messages, collect, 1_000);
    expect(answer.completed).toBe(false);
    expect(answer.content).toBe(pieces.join(""));
    expect(ollama.chatRequests().length - before).toBe(1);
  });

  it("does not retry a timeout or an error Ollama answered", async () => {
    ollama.setBehaviour({ kind: "hang" }, { times: 1, path: "/api/chat" });
    let before = ollama.chatRequests().length;
    const timedOut = (await streamAnswer(client, "llama3.2:1b", messages, collect, 1_000).catch((e: unknown) => e)) as ConnectionError;
    expect(timedOut.timedOut).toBe(true);
    expect(ollama.chatRequests().length - before).toBe(1);
    ollama.setBehaviour({ kind: "status", status: 500, error: "boom" }, { times: 1, path: "/api/chat" });
    before = ollama.chatRequests().length;
    await expect(streamAnswer(client, "llama3.2:1b", messages, collect, 1_000)).rejects.toBeInstanceOf(ServiceError);
    expect(ollama.chatRequests().length - before).toBe(1);
  });

  it("counts the retry inside the overall timeout: a refused server fails as refused, not later", async () => {
    const refused = new OllamaClient({ baseUrl: await closedPortUrl(), timeoutMs: 1_000 });
    const started = Date.now();
    const error = (await streamAnswer(refused, "m", messages, collect, 1_000).catch((e: unknown) => e)) as ConnectionError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.timedOut).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
