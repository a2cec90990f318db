import { loadConfig } from "../../handler/config";
import { TELEGRAM_SECRET_HEADER } from "../../config/defaults";
import { RETRY_IN_PROGRESS_AFTER_SECONDS } from "../../handler/app";
import { updateSk } from "../../handler/store/table-layout";
import { useHarness } from "../support/handler-harness";
import { resetUpdateIds, TEST_SECRET_TOKEN, TEST_USER_ID, textUpdate } from "../support/updates";
import { closedPortUrl } from "../support/net";

describe("webhook handler", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 20_000;

  beforeEach(() => {
    resetUpdateIds();
    user += 1;
  });

  describe("secret token", () => {
    it("answers 401 without the header and has no other effect", async () => {
      h.awsRequests.reset();
      const calls = h.telegram.calls.length;
      const result = await h.sendText("/start", { userId: user, secretToken: null });
      expect(result.statusCode).toBe(401);
      expect(h.awsRequests.total()).toBe(0);
      expect(h.telegram.calls.length).toBe(calls);
    });

    it("answers 401 for a wrong secret of the same length", async () => {
      const wrong = TEST_SECRET_TOKEN.replace(/.$/, "X");
      const result = await h.sendText("/start", { userId: user, secretToken: wrong });
      expect(result.statusCode).toBe(401);
      expect(h.repliesTo(user)).toEqual([]);
    });

    it("accepts the header name in any case", async () => {
      const body = JSON.stringify(textUpdate("/echo case", { userId: user }));
      const result = await h.sendRaw({ headers: { [TELEGRAM_SECRET_HEADER.toLowerCase()]: TEST_SECRET_TOKEN }, body });
      expect(result.statusCode).toBe(200);
      expect(h.repliesTo(user)).toEqual(["case"]);
    });

    it("does not check when no secret is configured (local mode)", async () => {
      const handler = h.createBotHandler({ telegramSecretToken: undefined });
      const result = await h.sendText("/echo open", { userId: user, secretToken: null, handler });
      expect(result.statusCode).toBe(200);
      expect(h.repliesTo(user)).toEqual(["open"]);
    });

    it("in Lambda, a blank or missing secret refuses every request instead of turning the check off", async () => {
      for (const blank of [undefined, "", "   "]) {
        const env = { ...h.env, AWS_LAMBDA_FUNCTION_NAME: "telegram-bot", TELEGRAM_SECRET_TOKEN: blank };
        const config = loadConfig(env);
        expect(config.inLambda).toBe(true);
        expect(config.problems.map((p) => p.variable)).toContain("TELEGRAM_SECRET_TOKEN");
        const handler = h.createBotHandler({ telegramSecretToken: config.telegramSecretToken, inLambda: config.inLambda });
        for (const secretToken of [null, "", "anything"]) {
          expect((await h.sendText("/echo through?", { userId: user, secretToken, handler })).statusCode).toBe(401);
        }
      }
      expect(h.repliesTo(user)).toEqual([]);
    });
  });

  describe("allowed users", () => {
    it("refuses anyone else once, touching no storage and no model", async () => {
      const handler = h.createBotHandler({ allowedUserIds: [user + 1] });
      h.awsRequests.reset();
      const chats = h.ollama.chatRequests().length;
      const result = await h.sendText("hello model", { userId: user, handler });
      expect(result.statusCode).toBe(200);
      expect(h.repliesTo(user)).toEqual(["Sorry, this bot is private."]);
      expect(h.awsRequests.total()).toBe(0);
      expect(h.ollama.chatRequests().length).toBe(chats);
    });

    it("serves the users on the list", async () => {
      const handler = h.createBotHandler({ allowedUserIds: [user] });
      await h.sendText("/echo allowed", { userId: user, handler });
      expect(h.repliesTo(user)).toEqual(["allowed"]);
    });
  });

  describe("any body", () => {
    const bodies: [string, { body: string | null; isBase64Encoded?: boolean }, number][] = [
      ["invalid JSON", { body: "{not json" }, 400],
      ["an empty body", { body: null }, 400],
      ["a JSON array", { body: "[1,2]" }, 400],
      ["a JSON string", { body: '"hi"' }, 400],
      ["an object without update_id", { body: '{"message":{}}' }, 400],
      ["an edited_message", { body: JSON.stringify({ update_id: 1, edited_message: { message_id: 1, chat: { id: 1, type: "private" }, text: "x" } }) }, 200],
      ["a callback_query", { body: JSON.stringify({ update_id: 2, callback_query: { id: "1", from: { id: 1 } } }) }, 200],
      ["a channel_post", { body: JSON.stringify({ update_id: 3, channel_post: { message_id: 1, chat: { id: -1, type: "channel" }, text: "/start" } }) }, 200],
      ["a my_chat_member", { body: JSON.stringify({ update_id: 4, my_chat_member: {} }) }, 200],
      ["a message without from", { body: JSON.stringify({ update_id: 5, message: { message_id: 1, chat: { id: 1, type: "private" }, text: "x" } }) }, 200],
      ["a message whose text is a number", { body: JSON.stringify({ update_id: 6, message: { message_id: 1, from: { id: 1 }, chat: { id: 1, type: "private" }, text: 5 } }) }, 200],
    ];
    it.each(bodies)("answers %s with a status code and no exception", async (_name, request, expected) => {
      h.awsRequests.reset();
      const result = await h.sendRaw({ headers: { [TELEGRAM_SECRET_HEADER]: TEST_SECRET_TOKEN }, ...request });
      expect(result.statusCode).toBe(expected);
      expect(h.awsRequests.total()).toBe(0);
    });

    it("decodes a base64-encoded body", async () => {
      const body = Buffer.from(JSON.stringify(textUpdate("/echo b64", { userId: user }))).toString("base64");
      const result = await h.sendRaw({ headers: { [TELEGRAM_SECRET_HEADER]: TEST_SECRET_TOKEN }, body, isBase64Encoded: true });
      expect(result.statusCode).toBe(200);
      expect(h.repliesTo(user)).toEqual(["b64"]);
    });

    it("sends no reply in the HTTP response body (replies go through Bot API calls)", async () => {
      const result = await h.sendText("/echo out of band", { userId: user });
      expect(result.body).toBe("");
      expect(h.repliesTo(user)).toEqual(["out of band"]);
    });

    it("still answers 200 when Telegram rejects the reply", async () => {
      h.telegram.failNext("sendMessage", { errorCode: 403, description: "Forbidden: bot was blocked by the user" });
      const result = await h.sendText("/echo blocked", { userId: user });
      expect(result.statusCode).toBe(200);
      expect(h.logEntries().some((e) => e.description === "Forbidden: bot was blocked by the user" && e.method === "sendMessage")).toBe(true);
    });

    it("retries a 429 once after retry_after", async () => {
      h.telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 1", retryAfter: 1 });
      const started = Date.now();
      await h.sendText("/echo later", { userId: user });
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(h.repliesTo(user)).toEqual(["later"]);
    });
  });

  describe("idempotency", () => {
    it("a completed update_id has no second effect", async () => {
      const update = textUpdate("count me once", { userId: user });
      await h.send(update);
      await h.send(update);
      expect(h.repliesTo(user)).toEqual(["You said: count me once"]);
      const { session } = await h.sessions.getActive(user);
      expect(session?.messageCount).toBe(2);
    });

    it("two concurrent deliveries of the same update have one effect", async () => {
      const update = textUpdate("concurrent", { userId: user });
      const results = await Promise.all([h.send(update), h.send(update), h.send(update)]);
      // The one that claims it answers 200; one that finds it in progress asks for a redelivery (503).
      expect(results.map((r) => r.statusCode)).toContain(200);
      expect(results.every((r) => r.statusCode === 200 || r.statusCode === 503)).toBe(true);
      expect(h.repliesTo(user)).toEqual(["You said: concurrent"]);
      expect((await h.sessions.getActive(user)).session?.messageCount).toBe(2);
    });

    it("an update whose earlier handling died is handled again once its lease expired", async () => {
      const update = textUpdate("/echo again", { userId: user });
      expect((await h.marks.claim(user, update.update_id, { leaseMs: -1 })).outcome).toBe("claimed");
      await h.send(update);
      expect(h.repliesTo(user)).toEqual(["again"]);
    });

    it("an update in progress within its lease is not handled twice, and Telegram is asked to redeliver it later", async () => {
      const update = textUpdate("/echo busy", { userId: user });
      expect((await h.marks.claim(user, update.update_id, { leaseMs: 60_000 })).outcome).toBe("claimed");
      const result = await h.send(update);
      expect(result.statusCode).toBe(503);
      expect(result.headers).toEqual({ "Retry-After": String(RETRY_IN_PROGRESS_AFTER_SECONDS) });
      expect(h.repliesTo(user)).toEqual([]);
    });

    it("an update already completed gets 200 and no second effect", async () => {
      const update = textUpdate("/echo once", { userId: user });
      await h.send(update);
      expect((await h.send(update)).statusCode).toBe(200);
      expect(h.repliesTo(user)).toEqual(["once"]);
    });

    it("a command costs only the mark's claim and completion (the profile is read early for chat messages only)", async () => {
      h.awsRequests.reset();
      await h.sendText("/echo cheap", { userId: user });
      // The claim, the reply's send in the journal, the completion.
      expect(h.awsRequests.byCommand()).toEqual({ UpdateItemCommand: 3 });
    });

    it("an answer that could not be delivered is neither stored nor marked done: Telegram is asked to redeliver, and the redelivery delivers it once", async () => {
      h.telegram.failNext("sendMessage", { errorCode: 500, description: "Internal Server Error" });
      const update = textUpdate("deliver me", { userId: user });
      const first = await h.send(update);
      expect(first.statusCode).toBe(503);
      const mark = await h.doc.get({ TableName: h.config.tableName, Key: { pk: user, sk: updateSk(update.update_id) } });
      expect(mark.Item?.status).toBe("IN_PROGRESS");
      expect(await h.conversationOf(user)).toEqual(["user:deliver me"]);
      const asked = h.ollama.chatRequests().length;
      expect((await h.send(update)).statusCode).toBe(200);
      expect(h.ollama.chatRequests().length).toBe(asked); // the recorded answer, not a new one
      expect(h.repliesTo(user)).toEqual(["You said: deliver me"]);
      expect(await h.conversationOf(user)).toEqual(["user:deliver me", "assistant:You said: deliver me"]);
    });

    it("marks carry a ttl about a week ahead for DynamoDB's TTL", async () => {
      const update = textUpdate("/echo ttl", { userId: user });
      await h.send(update);
      const mark = await h.doc.get({ TableName: h.config.tableName, Key: { pk: user, sk: updateSk(update.update_id) } });
      expect(mark.Item?.status).toBe("COMPLETED");
      const days = ((mark.Item?.ttl as number) - Date.now() / 1000) / 86_400;
      expect(days).toBeGreaterThan(6.9);
      expect(days).toBeLessThan(7.1);
    });
  });

  describe("logs", () => {
    it("are JSON lines with the ids and never contain the token, API key or secret", async () => {
      h.telegram.failNext("sendMessage", { errorCode: 400, description: "Bad Request: chat not found" });
      await h.sendText("/echo x", { userId: user });
      await h.sendText("hello", { userId: user });
      await h.sendText("/start", { userId: user, secretToken: "wrong-secret" });
      const all = h.logs.join("\n");
      for (const secret of [h.config.telegramToken, h.config.telegramSecretToken!, h.config.ollamaApiKey!]) {
        expect(all).not.toContain(secret);
      }
      const handled = h.logEntries().find((e) => e.action === "handle_update" && e.user_id === user && e.outcome === "success");
      expect(handled).toEqual(expect.objectContaining({ level: "INFO", request_id: expect.any(String), chat_id: user, message_id: expect.any(Number), outcome: "success" }));
    });

    it("keep the token out of network errors, whose text can carry the request URL", async () => {
      const handler = h.createBotHandler({ telegramApiUrl: await closedPortUrl() });
      const before = h.logs.length;
      const result = await h.sendText("/echo nobody hears", { userId: user, handler });
      expect(result.statusCode).toBe(503); // Telegram unreachable: the reply is retried on redelivery
      const lines = h.logs.slice(before).join("\n");
      expect(lines).toContain("ConnectionError");
      expect(lines).not.toContain(h.config.telegramToken);
    });

    it("do not carry message text at INFO", async () => {
      const handler = h.createBotHandler({ logLevel: "INFO" });
      const before = h.logs.length;
      await h.sendText("my very private words", { userId: user, handler });
      expect(h.logs.slice(before).join("\n")).not.toContain("private words");
    });
  });
});
