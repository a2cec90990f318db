import { useHarness } from "../support/handler-harness";
import { TEST_OLLAMA_API_KEY, TEST_SECRET_TOKEN, TEST_TOKEN, TEST_USER_ID, textUpdate } from "../support/updates";

describe("Telegram faults", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 900_000;
  const stored = () => h.conversationOf(user);
  let logStart = 0;
  /** Log entries written since this test's update began (the Telegram client logs without user ids). */
  const newLogs = () => h.logs.slice(logStart).map((line) => JSON.parse(line) as Record<string, unknown>);
  const sendMessageCalls = () => h.telegram.callsTo("sendMessage").filter((c) => c.params.chat_id === user);

  beforeEach(async () => {
    user += 1;
    await h.sendText("hello", { userId: user });
    logStart = h.logs.length;
  });

  it("429 with retry_after on a command's reply: retried once after the wait, then delivered", async () => {
    h.telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 1", retryAfter: 1 });
    const calls = sendMessageCalls().length;
    const started = Date.now();
    const result = await h.sendText("/echo rate limited", { userId: user });
    expect(result.statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const mine = sendMessageCalls().slice(calls);
    expect(mine).toHaveLength(2);
    expect(mine[1]!.at - mine[0]!.at).toBeGreaterThanOrEqual(990);
    expect(h.repliesTo(user).at(-1)).toBe("rate limited");
    const warning = newLogs().find((e) => e.message === "telegram rate limit, retrying once");
    expect(warning).toEqual(expect.objectContaining({ method: "sendMessage", retry_after: 1 }));
  });

  it("429 twice on an answer's final message: logged, waited out by the streamed reply, the answer stored, and the webhook still gets 200", async () => {
    h.telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 1", retryAfter: 1, times: 2 });
    const result = await h.sendText("still limited", { userId: user });
    expect(result.statusCode).toBe(200);
    expect(await stored()).toEqual(["user:hello", "assistant:You said: hello", "user:still limited", "assistant:You said: still limited"]);
    const failure = newLogs().find((e) => e.message === "telegram call failed");
    expect(failure).toEqual(expect.objectContaining({ method: "sendMessage", error_code: 429 }));
    expect(h.repliesTo(user).at(-1)).toBe("You said: still limited");
  });

  it("a 429 longer than sync mode can wait, on a private chat's answer: neither stored nor marked delivered (503), and the redelivery sends it once", async () => {
    h.telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 10", retryAfter: 10, times: 3 });
    const update = textUpdate("long rate limit", { userId: user });
    expect((await h.send(update)).statusCode).toBe(503);
    expect(h.repliesTo(user).at(-1)).toBe("You said: hello");
    expect(await stored()).toEqual(["user:hello", "assistant:You said: hello", "user:long rate limit"]);
    expect((await h.send(update)).statusCode).toBe(200);
    expect(h.repliesTo(user).filter((r) => r === "You said: long rate limit")).toHaveLength(1);
    expect(await stored()).toEqual(["user:hello", "assistant:You said: hello", "user:long rate limit", "assistant:You said: long rate limit"]);
  }, 30_000);

  it.each([
    [500, "Internal Server Error"],
    [502, "Bad Gateway"],
  ])("%i on the answer: logged; the answer is neither stored nor marked done, Telegram redelivers, and the redelivery sends it once", async (code, description) => {
    h.telegram.failNext("sendMessage", { errorCode: code, description });
    const update = textUpdate(`answer me despite ${code}`, { userId: user });
    const result = await h.send(update);
    expect(result.statusCode).toBe(503);
    const failure = newLogs().find((e) => e.message === "telegram call failed");
    expect(failure).toEqual(expect.objectContaining({ level: "WARNING", method: "sendMessage", error_code: code, description }));
    expect(await stored()).toEqual(["user:hello", "assistant:You said: hello", `user:answer me despite ${code}`]);

    expect((await h.send(update)).statusCode).toBe(200);
    expect(h.repliesTo(user).filter((r) => r === `You said: answer me despite ${code}`)).toHaveLength(1);
    expect(await stored()).toEqual([
      "user:hello",
      "assistant:You said: hello",
      `user:answer me despite ${code}`,
      `assistant:You said: answer me despite ${code}`,
    ]);
    await h.sendText("and the next one", { userId: user });
    expect(h.repliesTo(user).at(-1)).toBe("You said: and the next one");
  });

  it("403 on the answer (the user blocked the bot): nothing to retry; the update completes with a 200", async () => {
    h.telegram.failNext("sendMessage", { errorCode: 403, description: "Forbidden: bot was blocked by the user" });
    const result = await h.sendText("blocked", { userId: user });
    expect(result.statusCode).toBe(200);
    expect(await stored()).toEqual(["user:hello", "assistant:You said: hello", "user:blocked"]);
  });

  it("a 5xx on a command's reply leaves the command's effect in place, and the redelivery replies without a second effect", async () => {
    h.telegram.failNext("sendMessage", { errorCode: 500, description: "Internal Server Error" });
    const update = textUpdate("/newsession 2", { userId: user });
    expect((await h.send(update)).statusCode).toBe(503);
    expect(await h.sessions.listSessions(user)).toHaveLength(2);
    expect((await h.sessions.getActive(user)).session!.modelName).toBe(h.config.modelNames[1]);
    expect((await h.send(update)).statusCode).toBe(200);
    expect(await h.sessions.listSessions(user)).toHaveLength(2);
    expect(h.repliesTo(user).at(-1)).toMatch(/^New session .* is now active/);
  });

  it("never writes the token, the webhook secret or the Ollama key into a log line while failing", async () => {
    h.telegram.failNext("sendMessage", { errorCode: 502, description: "Bad Gateway" });
    h.telegram.failNext("sendChatAction", { errorCode: 500, description: "Internal Server Error" });
    await h.sendText("leak nothing", { userId: user });
    for (const line of h.logs) {
      expect(line).not.toContain(TEST_TOKEN);
      expect(line).not.toContain(TEST_SECRET_TOKEN);
      expect(line).not.toContain(TEST_OLLAMA_API_KEY);
    }
  });
});
