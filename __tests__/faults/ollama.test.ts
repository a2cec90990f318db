import { createServer, type Server, type Socket } from "node:net";
import type { WebhookHandler } from "../../handler/app";
import { useHarness } from "../support/handler-harness";
import { closedPortUrl } from "../support/net";
import { echoReply, type OllamaBehaviour } from "../../local/stand-ins/ollama";
import { TEST_USER_ID } from "../support/updates";

/** A TCP server that accepts each connection and resets it at once, counting them. */
async function startResettingServer(): Promise<{ url: string; connections: () => number; stop: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => count,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("Ollama faults: the user is told, the message is stored, the session intact, the next message answered", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 800_000;
  const last = () => h.repliesTo(user).at(-1) ?? "";
  const stored = () => h.conversationOf(user);
  const chatCalls = () => h.ollama.chatRequests().length;

  beforeEach(async () => {
    user += 1;
    await h.sendText("before the fault", { userId: user });
  });

  /** Sends one message under a fault and checks everything a fault must leave intact. */
  async function expectSurvives(options: { handler?: WebhookHandler; told: RegExp; text: string }): Promise<void> {
    const before = await stored();
    const session = (await h.sessions.getActive(user)).session!;
    const started = Date.now();
    const result = await h.sendText(options.text, { userId: user, handler: options.handler });
    expect(result.statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(last()).toMatch(options.told);
    const after = await stored();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after[before.length]).toBe(`user:${options.text}`);
    const now = (await h.sessions.getActive(user)).session!;
    expect(now.sessionId).toBe(session.sessionId);
    expect(now.modelName).toBe(session.modelName);
    expect(now.messageCount).toBe(after.length);

    await h.sendText("after the fault", { userId: user });
    expect(last()).toBe("You said: after the fault");
    const context = h.ollama.chatRequests().at(-1)!.messages.map((m) => m.content);
    expect(context).toEqual(expect.arrayContaining(["before the fault", options.text, "after the fault"]));
  }

  it("refusing connections: a message, fast", async () => {
    const handler = h.createBotHandler({ ollamaUrl: await closedPortUrl() });
    await expectSurvives({ handler, text: "is anyone there?", told: /cannot reach the AI server.*saved/ });
  });

  it("resetting connections: exactly one fast retry, then a message", async () => {
    const resetting = await startResettingServer();
    try {
      const handler = h.createBotHandler({ ollamaUrl: resetting.url });
      await expectSurvives({ handler, text: "reset me", told: /cannot reach the AI server/ });
      // The model's capabilities (/api/show, once per container), then the chat and its one retry.
      expect(resetting.connections()).toBe(3);
    } finally {
      await resetting.stop();
    }
  });

  it("hanging past the timeout: no retry, a message that it took too long", async () => {
    const handler = h.createBotHandler({ ollamaTimeoutMs: 300 });
    h.ollama.setBehaviour({ kind: "hang" }, { times: 1 });
    const calls = chatCalls();
    await expectSurvives({ handler, text: "think hard", told: /took too long/ });
    expect(chatCalls() - calls).toBe(2); // the hung one, then the next message; no retry
  });

  const statusCases: [string, OllamaBehaviour, RegExp][] = [
    ["500", { kind: "status", status: 500, error: "llama runner process has terminated: signal: killed" }, /AI server had an error \(HTTP 500\)/],
    ["404", { kind: "status", status: 404, error: 'model "llama3.2:1b" not found, try pulling it first' }, /not installed on the AI server/],
  ];
  it.each(statusCases)("answering %s: no retry, a specific message", async (_name, behaviour, told) => {
    h.ollama.setBehaviour(behaviour, { times: 1 });
    const calls = chatCalls();
    await expectSurvives({ text: "this will fail", told });
    expect(chatCalls() - calls).toBe(2);
  });

  it("answering a malformed body before any text: no retry, a specific message", async () => {
    // The stand-in's malformed stream sends the reply's first token before the broken line; an empty reply breaks at once.
    let first = true;
    h.ollama.setReply((request) => (first ? ((first = false), "") : echoReply(request)));
    h.ollama.setBehaviour({ kind: "malformed" }, { times: 1 });
    const calls = chatCalls();
    try {
      await expectSurvives({ text: "this will fail", told: /could not read/ });
    } finally {
      h.ollama.setReply(echoReply);
    }
    expect(chatCalls() - calls).toBe(2);
  });

  it("a malformed line midway: what arrived is shown and stored, marked as cut off", async () => {
    h.ollama.setBehaviour({ kind: "malformed" }, { times: 1 });
    await expectSurvives({ text: "break after a word", told: /^You\s+\(the answer was cut off\)$/ });
    expect(await stored()).toContain("assistant:You");
  });

  it("closing the stream midway: what arrived is kept and stored, never passed off as the whole answer, and not retried", async () => {
    h.ollama.setBehaviour({ kind: "cut", afterChunks: 2 }, { times: 1 });
    const calls = chatCalls();
    await expectSurvives({ text: "cut me off before the end of this answer", told: /\(the answer was cut off\)$/ });
    expect(h.repliesTo(user)).not.toContain("You said: cut me off before the end of this answer");
    const messages = await stored();
    const partial = messages[messages.indexOf("user:cut me off before the end of this answer") + 1]!;
    const whole = "assistant:You said: cut me off before the end of this answer";
    expect(whole.startsWith(partial.trimEnd())).toBe(true);
    expect(partial.length).toBeLessThan(whole.length);
    expect(chatCalls() - calls).toBe(2); // the cut one, then the next message
  });
});
