import type { WebhookHandler } from "../../../handler/app";
import { NOTE_CONTEXT_TRIMMED, NOTE_CUT_OFF } from "../../../handler/format/answer";
import { STOP_CONTROL_TEXT } from "../../../handler/chat/stop-watch";
import { waitFor } from "../../support/wait-for";
import { startHarness, type Harness } from "../../support/handler-harness";
import { OllamaStandIn } from "../../../local/stand-ins/ollama";
import { checkTelegramHtml, type RecordedCall } from "../../../local/stand-ins/telegram/server";
import { resetUpdateIds, TEST_OLLAMA_API_KEY, TEST_USER_ID } from "../../support/updates";

/** The model's pace in these tests: first token after 500 ms, then 20 tokens a second. */
const FIRST_TOKEN_MS = 500;
const TOKENS_PER_SECOND = 20;
const TEXT_METHODS = new Set(["sendMessageDraft", "sendMessage", "editMessageText"]);

/** `count` words, "w0 w1 …", one stand-in token each. */
const words = (count: number, prefix = "w") => Array.from({ length: count }, (_, i) => `${prefix}${i}`).join(" ");

describe("streamed answers through the handler", () => {
  let h: Harness;
  let paced: OllamaStandIn;
  let streaming: WebhookHandler;
  let user = TEST_USER_ID + 60_000;
  let mark = 0;

  /** Bot API calls to `chatId` since the test began, of all kinds. */
  const allCallsIn = (chatId: number): RecordedCall[] =>
    h.telegram.calls.slice(mark).filter((c) => Number(c.params.chat_id) === chatId);
  /** The Stop button's message: sent once the answer has run a second, deleted at its end (nothing else is deleted here). */
  const isStopControl = (c: RecordedCall) => c.params.text === STOP_CONTROL_TEXT || c.method === "deleteMessage";
  /** The answer's own Bot API calls to `chatId` since the test began (the Stop control left out). */
  const callsIn = (chatId: number): RecordedCall[] => allCallsIn(chatId).filter((c) => !isStopControl(c));
  const textCalls = (chatId: number) => callsIn(chatId).filter((c) => TEXT_METHODS.has(c.method));
  const stored = (userId: number) => h.conversationOf(userId);
  const expectValidHtml = (call: RecordedCall) => {
    expect(call.params.parse_mode).toBe("HTML");
    const check = checkTelegramHtml(String(call.params.text));
    expect(check).toEqual(expect.objectContaining({ ok: true }));
    return check.ok ? check.text : "";
  };

  beforeAll(async () => {
    h = await startHarness();
    paced = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, firstTokenDelayMs: FIRST_TOKEN_MS, tokensPerSecond: TOKENS_PER_SECOND });
    streaming = h.createBotHandler({ ollamaUrl: paced.url, ollamaTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    await paced.stop();
    await h.stop();
  });
  beforeEach(() => {
    resetUpdateIds();
    user += 1;
    mark = h.telegram.calls.length;
  });

  it("in a private chat shows drafts as the answer grows, then one final message with valid HTML", async () => {
    const markdown = `Here is **bold**, \`code\` and 1 < 2 & 3 > 2. ${words(24)}\n\n- first item\n- second item`;
    paced.setReply(() => markdown);
    const started = Date.now();
    await h.sendText("format something", { userId: user, handler: streaming });

    const calls = callsIn(user);
    expect(calls[0]!.method).toBe("sendChatAction");
    const drafts = calls.filter((c) => c.method === "sendMessageDraft");
    expect(drafts.length).toBeGreaterThanOrEqual(2);
    for (const draft of drafts) expectValidHtml(draft);
    expect(drafts[0]!.at - started).toBeLessThan(FIRST_TOKEN_MS + 1_000);
    for (let i = 1; i < drafts.length; i++) expect(drafts[i]!.at - drafts[i - 1]!.at).toBeGreaterThanOrEqual(900);
    expect(calls.filter((c) => c.method === "editMessageText")).toHaveLength(0);
    const finals = calls.filter((c) => c.method === "sendMessage");
    expect(finals).toHaveLength(1);
    expect(calls.at(-1)).toBe(finals[0]);
    const visible = expectValidHtml(finals[0]!);
    expect(visible).toContain("Here is bold, code and 1 < 2 & 3 > 2.");
    expect(visible).toContain("second item");
    expect(visible).not.toContain("**");
    expect(await stored(user)).toEqual(["user:format something", `assistant:${markdown}`]);
  });

  /**
   * The edit strategy (sendMessage, then editMessageText), as groups use it; here a private
   * chat whose sendMessageDraft is refused (a Bot API server older than 9.5, or drafts not
   * allowed) makes LiveReply switch to edits.
   */
  const refuseDrafts = () =>
    h.telegram.failNext("sendMessageDraft", { errorCode: 400, description: "Bad Request: method not found" });

  it("without drafts sends the first text, then extends it with edits at most once a second", async () => {
    paced.setReply(() => words(40));
    refuseDrafts();
    await h.sendText("no drafts here", { userId: user, handler: streaming });

    const texts = textCalls(user);
    expect(texts[0]!.method).toBe("sendMessageDraft"); // refused once, never tried again
    const shown = texts.slice(1);
    expect(shown[0]!.method).toBe("sendMessage");
    expect(shown.slice(1).every((c) => c.method === "editMessageText")).toBe(true);
    expect(shown.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < shown.length; i++) expect(shown[i]!.at - shown[i - 1]!.at).toBeGreaterThanOrEqual(900);
    for (const call of shown) expectValidHtml(call);
    const messages = h.telegram.messagesIn(user);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.edits).toBeGreaterThanOrEqual(1);
    expect(messages[0]!.plainText).toBe(words(40));
  });

  it.each([
    ["drafts", "sendMessageDraft"],
    ["edits", "editMessageText"],
  ] as const)("a 429 in the middle of the stream (%s) still ends with the full answer", async (mode, method) => {
    const logStart = h.logs.length;
    paced.setReply(() => words(40));
    if (mode === "edits") refuseDrafts();
    const done = h.sendText("rate limit me", { userId: user, handler: streaming });
    await waitFor(() => textCalls(user).some((c) => c.method === (mode === "edits" ? "sendMessage" : "sendMessageDraft")));
    h.telegram.failNext(method, { errorCode: 429, description: "Too Many Requests: retry after 1", retryAfter: 1 });
    await done;

    const limited = h.logs.slice(logStart).map((l) => JSON.parse(l) as Record<string, unknown>);
    // LiveReply paces itself: the 429 reaches it at once (no client-side retry of a stale frame).
    expect(limited).toContainEqual(expect.objectContaining({ message: "telegram call failed", method, error_code: 429 }));
    expect(limited).not.toContainEqual(expect.objectContaining({ message: "telegram rate limit, retrying once" }));
    const messages = h.telegram.messagesIn(user);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.plainText).toBe(words(40));
    expect(await stored(user)).toEqual(["user:rate limit me", `assistant:${words(40)}`]);
  });

  it("a chat message in a group that neither mentions the bot nor replies to it is not answered", async () => {
    const result = await h.sendText("group chatter", { userId: user, chatId: -user, chatType: "group", handler: streaming });
    expect(result.statusCode).toBe(200);
    expect(callsIn(-user)).toEqual([]);
    expect((await h.sessions.getActive(user)).session).toBeUndefined();
  });

  it("a stream cut midway keeps what arrived, says so, and stores what the user saw", async () => {
    paced.setReply(() => words(30));
    paced.setBehaviour({ kind: "cut", afterChunks: 12 }, { times: 1 });
    await h.sendText("cut me", { userId: user, handler: streaming });

    const arrived = words(12);
    expect(callsIn(user).some((c) => c.method === "sendMessageDraft")).toBe(true);
    expect(h.repliesTo(user)).toEqual([`${arrived}\n\n${NOTE_CUT_OFF}`]);
    expect(await stored(user)).toEqual(["user:cut me", `assistant:${arrived}`]);
  });

  it("a long answer with a code block across 4,096 characters arrives as several valid messages", async () => {
    const code = Array.from({ length: 100 }, (_, i) => `    total_${i} = add(total_${i}, ${i}) if a < b else 0`).join("\n");
    const markdown = `${words(280, "prose")}\n\n\`\`\`python\n${code}\n\`\`\`\n\nDone & dusted.`;
    expect(code.length).toBeGreaterThan(4_096); // no message can hold the block: it must cross a boundary
    const fast = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, tokensPerSecond: 600, reply: () => markdown });
    try {
      await h.sendText("write a lot", { userId: user, handler: h.createBotHandler({ ollamaUrl: fast.url, ollamaTimeoutMs: 10_000 }) });
    } finally {
      await fast.stop();
    }

    const messages = h.telegram.messagesIn(user);
    expect(messages.length).toBeGreaterThanOrEqual(2);
    for (const message of messages) {
      expect(message.parseMode).toBe("HTML");
      const check = checkTelegramHtml(message.text);
      expect(check.ok).toBe(true);
      expect(message.plainText.length).toBeLessThanOrEqual(4_096);
    }
    const withCode = messages.filter((m) => m.text.includes('<pre><code class="language-python">'));
    expect(withCode.length).toBeGreaterThanOrEqual(2); // the block was reopened in the next message
    const joined = messages.map((m) => m.plainText).join("\n");
    let from = 0;
    for (let i = 0; i < 100; i++) {
      const at = joined.indexOf(`total_${i} = add(total_${i}, ${i}) if a < b else 0`, from);
      expect(at).toBeGreaterThanOrEqual(from);
      from = at;
    }
    expect(messages.at(-1)!.plainText.endsWith("Done & dusted.")).toBe(true);
    expect(await stored(user)).toEqual(["user:write a lot", `assistant:${markdown}`]);
  });

  it("never shows a reasoning model's <think> part, in drafts or in the answer", async () => {
    paced.setReply(() => "<think>secret chain of thought about the user</think>\nThe answer is **42**.");
    await h.sendText("think first", { userId: user, handler: streaming });

    const calls = callsIn(user);
    expect(calls.some((c) => String(c.params.text ?? "").includes("secret"))).toBe(false);
    expect(h.repliesTo(user)).toEqual(["The answer is 42."]);
    expect(await stored(user)).toEqual(["user:think first", "assistant:The answer is **42**."]);
  });

  it("says once per session that older messages were not sent to the model, at no extra DynamoDB cost", async () => {
    const small = h.createBotHandler({ contextCharBudget: 120 });
    const say = async (text: string) => {
      h.awsRequests.reset();
      await h.sendText(text, { userId: user, handler: small });
      return h.awsRequests.total();
    };
    await say(`first ${"x".repeat(44)}`);
    const trimmedCost = await say(`second ${"y".repeat(43)}`);
    const laterCost = await say(`third ${"z".repeat(44)}`);

    const replies = h.repliesTo(user);
    expect(replies[0]).not.toContain(NOTE_CONTEXT_TRIMMED);
    expect(replies[1]).toBe(`You said: second ${"y".repeat(43)}\n\n${NOTE_CONTEXT_TRIMMED}`);
    expect(replies[2]).not.toContain(NOTE_CONTEXT_TRIMMED);
    expect(h.ollama.chatRequests().at(-1)!.messages.map((m) => m.content)).not.toContain(`first ${"x".repeat(44)}`);
    expect((await stored(user)).some((m) => m.includes(NOTE_CONTEXT_TRIMMED))).toBe(false);
    expect((await h.sessions.getActive(user)).session!.contextNoteShown).toBe(true);
    expect(trimmedCost).toBe(laterCost);
  });

  it("also says so when the message cap, not the character budget, left older messages out", async () => {
    const capped = h.createBotHandler({ contextMaxMessages: 3 });
    for (const text of ["one", "two", "three"]) await h.sendText(text, { userId: user, handler: capped });

    const replies = h.repliesTo(user);
    expect(replies.slice(0, 2).some((r) => r.includes(NOTE_CONTEXT_TRIMMED))).toBe(false);
    expect(replies[2]).toBe(`You said: three\n\n${NOTE_CONTEXT_TRIMMED}`);
    expect(h.ollama.chatRequests().at(-1)!.messages.map((m) => m.content)).toEqual(["two", "You said: two", "three"]);
  });

  it("makes Bot API calls within about one a second of streaming plus a constant", async () => {
    paced.setReply(() => words(60));
    const started = Date.now();
    await h.sendText("count the calls", { userId: user, handler: streaming });
    const seconds = (Date.now() - started) / 1_000;

    const calls = callsIn(user);
    expect(seconds).toBeGreaterThan(3);
    expect(calls.filter((c) => c.method === "sendMessageDraft").length).toBeGreaterThanOrEqual(2);
    expect(calls.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    // The Stop control costs two calls more: its message, and deleting it.
    expect(allCallsIn(user).filter(isStopControl).map((c) => c.method)).toEqual(["sendMessage", "deleteMessage"]);
  });

  it("ends the answer with the model's speed when SHOW_MODEL_SPEED is on", async () => {
    paced.setReply(() => words(10));
    await h.sendText("how fast?", { userId: user, handler: h.createBotHandler({ ollamaUrl: paced.url, ollamaTimeoutMs: 10_000, showModelSpeed: true }) });

    expect(h.repliesTo(user)).toEqual([`${words(10)}\n\n20.0 tokens/s`]);
    expect(await stored(user)).toEqual(["user:how fast?", `assistant:${words(10)}`]);
    expect((await h.sessions.getActive(user)).session!.lastSpeed).toEqual({ evalCount: 10, evalDurationNs: 500_000_000 });
  });

  it("with a short OLLAMA_TIMEOUT_MS (sync delivery) ends soon after the timeout, keeping what arrived", async () => {
    paced.setReply(() => words(100));
    const started = Date.now();
    await h.sendText("take your time", { userId: user, handler: h.createBotHandler({ ollamaUrl: paced.url, ollamaTimeoutMs: 1_500 }) });
    const elapsed = Date.now() - started;

    expect(elapsed).toBeLessThan(1_500 + 1_500);
    const [reply] = h.repliesTo(user);
    expect(reply).toMatch(/^w0 w1 .*\n\n\(the answer was cut off\)$/s);
    const [, assistant] = await stored(user);
    expect(reply!.startsWith(assistant!.slice("assistant:".length))).toBe(true);
  });
});
