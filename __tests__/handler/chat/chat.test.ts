import { TELEGRAM_MESSAGE_LIMIT } from "../../../config/defaults";
import { useHarness } from "../../support/handler-harness";
import { closedPortUrl } from "../../support/net";
import { echoReply, OllamaStandIn } from "../../../local/stand-ins/ollama";
import { sessionSk } from "../../../handler/store/table-layout";
import { resetUpdateIds, TEST_USER_ID } from "../../support/updates";

describe("chat path", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 40_000;
  const last = () => h.repliesTo(user).at(-1) ?? "";
  const storedCount = async () => (await h.sessions.getActive(user)).session?.messageCount;

  beforeEach(() => {
    resetUpdateIds();
    user += 1;
  });

  it("creates a session on the first message, asks Ollama for a stream with the API key, stores and sends the answer", async () => {
    const result = await h.sendText("hi model", { userId: user });
    expect(result.statusCode).toBe(200);
    expect(last()).toBe("You said: hi model");
    const request = h.ollama.requests.filter((r) => r.path === "/api/chat").at(-1)!;
    expect(request.headers["x-api-key"]).toBe(h.config.ollamaApiKey);
    expect(request.body).toEqual(expect.objectContaining({ model: h.config.modelNames[0], stream: true }));
    const { session } = await h.sessions.getActive(user);
    const messages = await h.sessions.allMessages(user, session!.sessionId);
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "hi model"],
      ["assistant", "You said: hi model"],
    ]);
  });

  it("sends the conversation so far as context, oldest first", async () => {
    await h.sendText("one", { userId: user });
    await h.sendText("two", { userId: user });
    const last = h.ollama.chatRequests().at(-1)!;
    expect(last.messages.map((m) => m.content)).toEqual(["one", "You said: one", "two"]);
  });

  it("uses the active session's model", async () => {
    await h.sendText("/newsession 2", { userId: user });
    await h.sendText("which model?", { userId: user });
    expect(h.ollama.chatRequests().at(-1)!.model).toBe(h.config.modelNames[1]);
  });

  it("shows a typing indicator while the model works", async () => {
    await h.sendText("are you typing?", { userId: user });
    expect(h.telegram.callsTo("sendChatAction").some((c) => c.params.chat_id === user && c.params.action === "typing")).toBe(true);
  });

  it("splits answers over 4,096 characters on line boundaries", async () => {
    const line = "a".repeat(99);
    const long = Array.from({ length: 100 }, () => line).join("\n");
    h.ollama.setReply(() => long);
    try {
      await h.sendText("write a lot", { userId: user });
    } finally {
      h.ollama.setReply(echoReply);
    }
    const parts = h.repliesTo(user);
    expect(parts.length).toBe(3);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(TELEGRAM_MESSAGE_LIMIT);
      expect(part.split("\n").every((l) => l === line)).toBe(true);
    }
    expect(parts.join("\n")).toBe(long);
  });

  describe("overlapped storage", () => {
    it("costs one read of the profile with the day's usage, two writes per stored message, one context query, the usage count with the tokens and the mark's claim and completion", async () => {
      await h.sendText("first", { userId: user });
      h.awsRequests.reset();
      await h.sendText("second", { userId: user });
      // Claim, user message (counter + item), the answer's delivery in the journal, the answer (counter + item), the usage count
      // with the answer's tokens, completion; the profile and the day's usage in one BatchGetItem; the answering record for /stop
      // (put, never deleted: the mark says the answer ended; a quick answer is never polled for a stop).
      expect(h.awsRequests.byCommand()).toEqual({ BatchGetItemCommand: 1, PutItemCommand: 3, UpdateItemCommand: 6, QueryCommand: 1 });
    });

    it("starts a new session when the profile names one that is gone, with the message as its first", async () => {
      await h.sendText("before", { userId: user });
      const gone = (await h.sessions.getActive(user)).activeSessionId!;
      await h.sessions.deleteSession(user, gone); // the profile still names it
      await h.sendText("after", { userId: user });
      expect(last()).toBe("You said: after");
      expect(h.ollama.chatRequests().at(-1)!.messages.map((m) => m.content)).toEqual(["after"]);
      const { session } = await h.sessions.getActive(user);
      expect(session!.sessionId).not.toBe(gone);
      expect(session!.modelName).toBe(h.config.modelNames[0]);
      expect((await h.sessions.allMessages(user, session!.sessionId)).map((m) => [m.seq, m.content])).toEqual([
        [1, "after"],
        [2, "You said: after"],
      ]);
    });

    it("two messages of one user at the same moment: both stored once, each sent to the model as the last of its context", async () => {
      await h.sendText("earlier", { userId: user });
      const before = h.ollama.chatRequests().length;
      await Promise.all([h.sendText("left", { userId: user }), h.sendText("right", { userId: user })]);
      const requests = h.ollama.chatRequests().slice(before);
      expect(requests).toHaveLength(2);
      for (const request of requests) {
        const contents = request.messages.map((m) => m.content);
        expect(contents.slice(0, 2)).toEqual(["earlier", "You said: earlier"]);
        expect(new Set(contents).size).toBe(contents.length);
      }
      expect(requests.map((r) => r.messages.at(-1)!.content).sort()).toEqual(["left", "right"]);
      const { session } = await h.sessions.getActive(user);
      const stored = await h.sessions.allMessages(user, session!.sessionId);
      expect(stored.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(stored.map((m) => m.content).sort()).toEqual(["You said: earlier", "You said: left", "You said: right", "earlier", "left", "right"]);
    });
  });

  describe("when Ollama fails, the user gets a specific message, the message stays stored, and the bot goes on", () => {
    it("refused connection: one fast retry, then a message", async () => {
      const handler = h.createBotHandler({ ollamaUrl: await closedPortUrl() });
      const started = Date.now();
      const result = await h.sendText("anyone?", { userId: user, handler });
      expect(result.statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(last()).toContain("cannot reach the AI server");
      expect(await storedCount()).toBe(1);
      const failure = h.logEntries().find((e) => e.action === "ollama_chat" && e.user_id === user);
      expect(failure).toEqual(expect.objectContaining({ outcome: "failure", timed_out: false, error_kind: "ConnectionError" }));
    });

    it("a broken connection is retried once and the retry's answer is used", async () => {
      h.ollama.setBehaviour({ kind: "cut", afterChunks: 0 }, { times: 1, path: "/api/chat" });
      const before = h.ollama.chatRequests().length;
      await h.sendText("try twice", { userId: user });
      expect(h.ollama.chatRequests().length - before).toBe(2);
      expect(last()).toBe("You said: try twice");
    });

    it("hang past the timeout: no retry, a message", async () => {
      const handler = h.createBotHandler({ ollamaTimeoutMs: 400 });
      h.ollama.setBehaviour({ kind: "hang" }, { times: 1, path: "/api/chat" });
      const before = h.ollama.chatRequests().length;
      await h.sendText("slow question", { userId: user, handler });
      expect(h.ollama.chatRequests().length - before).toBe(1);
      expect(last()).toContain("took too long");
      expect(await storedCount()).toBe(1);
    });

    it("500: a message naming the server error, no retry", async () => {
      h.ollama.setBehaviour({ kind: "status", status: 500, error: "llama runner process has terminated" }, { times: 1, path: "/api/chat" });
      const before = h.ollama.chatRequests().length;
      await h.sendText("crash it", { userId: user });
      expect(h.ollama.chatRequests().length - before).toBe(1);
      expect(last()).toContain("HTTP 500");
      expect(await storedCount()).toBe(1);
    });

    it("the error message comes only after a typing indicator in flight has completed", async () => {
      h.telegram.delayNext("sendChatAction", 1_500);
      h.ollama.setBehaviour({ kind: "status", status: 500, error: "llama runner process has terminated" }, { times: 1, path: "/api/chat" });
      await h.sendText("typing then error", { userId: user });
      const typing = h.telegram.callsTo("sendChatAction").filter((c) => c.params.chat_id === user);
      const replies = h.telegram.callsTo("sendMessage").filter((c) => c.params.chat_id === user);
      expect(typing).toHaveLength(1);
      expect(replies).toHaveLength(1);
      expect(last()).toContain("HTTP 500");
      // The delayed sendChatAction is answered 1.5 s after it arrived; the error follows it.
      expect(replies[0]!.at).toBeGreaterThanOrEqual(typing[0]!.at + 1_500);
    });

    it("404: the model is not installed", async () => {
      h.ollama.setBehaviour({ kind: "status", status: 404, error: 'model "llama3.2:1b" not found, try pulling it first' }, { times: 1, path: "/api/chat" });
      await h.sendText("missing model", { userId: user });
      expect(last()).toContain("is not installed on the AI server");
      expect(await storedCount()).toBe(1);
    });

    it("malformed stream before any text: a message that the answer could not be read", async () => {
      h.ollama.setReply(() => "");
      h.ollama.setBehaviour({ kind: "malformed" }, { times: 1, path: "/api/chat" });
      try {
        await h.sendText("garbled", { userId: user });
      } finally {
        h.ollama.setReply(echoReply);
      }
      expect(last()).toContain("could not read");
      expect(await storedCount()).toBe(1);
    });

    it("malformed line after some text: what arrived is kept, said to be cut off, and stored", async () => {
      h.ollama.setBehaviour({ kind: "malformed" }, { times: 1, path: "/api/chat" });
      await h.sendText("garbled later", { userId: user });
      expect(last()).toBe("You\n\n(the answer was cut off)");
      const { session } = await h.sessions.getActive(user);
      const stored = await h.sessions.allMessages(user, session!.sessionId);
      expect(stored.map((m) => m.content)).toEqual(["garbled later", "You"]);
    });

    it("the next message after a failure is answered normally with the earlier one in context", async () => {
      h.ollama.setBehaviour({ kind: "status", status: 500, error: "boom" }, { times: 1, path: "/api/chat" });
      await h.sendText("first", { userId: user });
      await h.sendText("second", { userId: user });
      expect(last()).toBe("You said: second");
      expect(h.ollama.chatRequests().at(-1)!.messages.map((m) => m.content)).toEqual(["first", "second"]);
    });
  });

  describe("storage that scales", () => {
    async function chatRequestCount(userId: number): Promise<number> {
      h.awsRequests.reset();
      await h.sendText("count my requests", { userId });
      return h.awsRequests.total();
    }

    it("a chat message costs the same DynamoDB requests with 1 or 30 sessions", async () => {
      await h.sendText("/newsession 1", { userId: user });
      const few = await chatRequestCount(user);
      for (let i = 0; i < 29; i++) await h.sendText("/newsession 1", { userId: user });
      expect(await chatRequestCount(user)).toBe(few);
    });

    it("a 10,000-message session: constant requests per message, bounded context, no large items", async () => {
      await h.sendText("/newsession 1", { userId: user });
      const baseline = await chatRequestCount(user);
      const { session } = await h.sessions.getActive(user);
      const content = "x".repeat(95);
      const messages = Array.from({ length: 10_000 }, (_, i) => ({
        role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
        content: `${String(i).padStart(5, "0")}${content}`,
        ts: 1_700_000_000 + i,
      }));
      await h.sessions.bulkAppend(user, session!.sessionId, messages);

      expect(await chatRequestCount(user)).toBe(baseline);
      const sent = h.ollama.chatRequests().at(-1)!.messages;
      const chars = sent.reduce((n, m) => n + m.content.length, 0);
      expect(chars).toBeLessThanOrEqual(h.config.contextCharBudget);
      expect(sent.at(-1)!.content).toBe("count my requests");
      expect(sent.at(-2)!.content).toContain("09999");
      expect((await h.sessions.getActive(user)).session!.messageCount).toBe(10_004);
      const item = await h.doc.get({ TableName: h.config.tableName, Key: { pk: user, sk: sessionSk(session!.sessionId) } });
      expect(JSON.stringify(item.Item).length).toBeLessThan(400);
    }, 60_000);
  });
  it("tells the user plainly when the session was archived while the answer was being written", async () => {
    const slow = await OllamaStandIn.start({ apiKey: h.config.ollamaApiKey, firstTokenDelayMs: 500 });
    try {
      const slowHandler = h.createBotHandler({ ollamaUrl: slow.url });
      const answering = h.sendText("answer me slowly", { userId: user, handler: slowHandler });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await h.sendText("/archive 1", { userId: user });
      expect((await answering).statusCode).toBe(200);

      expect(h.repliesTo(user).some((r) => r.startsWith("Archived session"))).toBe(true);
      expect(last()).toBe("That session was archived while I was answering, so this answer was not saved to it.");
      expect((await h.archives.list(user)).length).toBe(1);
      expect(await h.sessions.listSessions(user)).toEqual([]);
    } finally {
      await slow.stop();
    }
  });
});
