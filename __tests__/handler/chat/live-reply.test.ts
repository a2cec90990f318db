import type { BotApi, BotMethods, BotParams, BotResult } from "../../../handler/telegram/bot-api";
import { NOTE_CUT_OFF } from "../../../handler/format/answer";
import { markdownToTelegramHtml } from "../../../handler/format/markdown-html";
import { visibleText } from "../../../handler/format/split-html";
import {
  LiveReply,
  THINKING_PLACEHOLDER,
  type LiveReplyOptions,
  type LiveReplyOutcome,
  type LiveReplyResult,
} from "../../../handler/chat/live-reply";
import { checkTelegramHtml } from "../../../local/stand-ins/telegram/server";
import { FakeClock, RecordingBotApi, settle, telegramError, type ChatMessageState } from "./live-reply-fakes";

function setup(overrides: Partial<LiveReplyOptions> = {}) {
  const clock = new FakeClock();
  const api = new RecordingBotApi(clock);
  const counted: string[] = [];
  const reply = new LiveReply({
    api,
    clock,
    chatId: 42,
    chatType: "private",
    replyToMessageId: 7,
    onApiCall: (method) => counted.push(method),
    ...overrides,
  });
  return { clock, api, reply, counted };
}

/** Finishes while letting fake time run, since the final message also waits for its turn. */
async function finish(reply: LiveReply, clock: FakeClock, result: LiveReplyResult): Promise<LiveReplyOutcome> {
  const outcome = reply.finish(result);
  await clock.advance(5000);
  return outcome;
}

const textOf = (call: { params: Record<string, unknown> } | undefined): unknown => call?.params.text;

describe("LiveReply in a private chat", () => {
  it("shows the first text at once as a draft and sends the final answer with sendMessage", async () => {
    const { clock, api, reply } = setup();
    reply.start();
    reply.push("Hello **world**");
    await clock.advance(0);
    expect(api.of("sendMessageDraft").map(textOf)).toEqual(["Hello <b>world</b>"]);
    expect(api.of("sendMessageDraft")[0]?.params).toMatchObject({ chat_id: 42, parse_mode: "HTML" });

    const outcome = await finish(reply, clock, { complete: true });

    const sent = api.of("sendMessage");
    expect(sent.map(textOf)).toEqual(["Hello <b>world</b>"]);
    expect(sent[0]?.params).toMatchObject({ parse_mode: "HTML", reply_parameters: { message_id: 7 } });
    expect(outcome).toEqual({ shownText: "Hello **world**", messageIds: [100], apiCalls: api.calls.length });
    expect(clock.pending).toBe(0);
  });

  it("updates at most once per interval and shows only the latest text", async () => {
    const { clock, api, reply } = setup();
    for (let i = 0; i < 50; i += 1) {
      reply.push(`w${i} `);
      await clock.advance(100);
    }
    const drafts = api.of("sendMessageDraft");
    expect(drafts.length).toBeGreaterThanOrEqual(4);
    expect(drafts.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < drafts.length; i += 1) expect((drafts[i]?.at ?? 0) - (drafts[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    await finish(reply, clock, { complete: true });
    expect(textOf(api.of("sendMessage")[0])).toBe(Array.from({ length: 50 }, (_, i) => `w${i}`).join(" "));
  });

  it("repeats typing every 4.5 s until the first text is visible, then stops", async () => {
    const { clock, api, reply } = setup();
    reply.start();
    await clock.advance(10_000);
    expect(api.of("sendChatAction").map((call) => call.at)).toEqual([0, 4500, 9000]);
    reply.push("Hi");
    await clock.advance(20_000);
    expect(api.of("sendChatAction")).toHaveLength(3);
    await finish(reply, clock, { complete: true });
    expect(clock.pending).toBe(0);
  });

  it("waits out a 429 and skips the frames in between", async () => {
    const { clock, api, reply } = setup();
    reply.push("one");
    await clock.advance(0);
    api.failNext((method) => (method === "sendMessageDraft" ? telegramError(method, 429, "Too Many Requests: retry after 3", 3) : undefined));
    reply.push(" two");
    await clock.advance(1000); // this frame gets the 429
    for (let i = 0; i < 35; i += 1) {
      reply.push(` x${i}`);
      await clock.advance(100);
    }
    const drafts = api.of("sendMessageDraft");
    expect(drafts.map((call) => call.at)).toEqual([0, 1000, 4000]);
    expect(textOf(drafts[2])).toBe("one two " + Array.from({ length: 30 }, (_, i) => `x${i}`).join(" "));
    await finish(reply, clock, { complete: true });
  });

  it("shows a placeholder while the model is thinking and never shows the reasoning", async () => {
    const { clock, api, reply } = setup();
    reply.push("<think>secret reasoning");
    await clock.advance(0);
    expect(api.of("sendMessageDraft").map(textOf)).toEqual([THINKING_PLACEHOLDER]);
    reply.push("</think>\nThe answer.");
    await clock.advance(1000);
    const outcome = await finish(reply, clock, { complete: true });
    expect(api.of("sendMessageDraft").map(textOf)).toEqual([THINKING_PLACEHOLDER, "The answer."]);
    expect(api.calls.some((call) => String(call.params.text ?? "").includes("secret"))).toBe(false);
    expect(outcome.shownText).toBe("The answer.");
  });

  it("falls back to sendMessage and edits when sendMessageDraft is refused", async () => {
    const { clock, api, reply } = setup();
    api.failNext((method) => (method === "sendMessageDraft" ? telegramError(method, 404, "Not Found: method not found") : undefined));
    reply.push("first");
    await clock.advance(0);
    reply.push(" second");
    await clock.advance(1000);
    const outcome = await finish(reply, clock, { complete: true });
    expect(api.calls.map((call) => call.method)).toEqual(["sendMessageDraft", "sendMessage", "editMessageText"]);
    expect(textOf(api.of("editMessageText")[0])).toBe("first second");
    expect(outcome.messageIds).toEqual([100]);
  });

  it("resends HTML that Telegram cannot parse as plain text", async () => {
    const { clock, api, reply } = setup();
    api.failNext((method) => (method === "sendMessage" ? telegramError(method, 400, "Bad Request: can't parse entities: x") : undefined));
    reply.push("**bold** text");
    await clock.advance(0);
    await finish(reply, clock, { complete: true });
    const sent = api.of("sendMessage");
    expect(sent).toHaveLength(2);
    expect(sent[1]?.params.parse_mode).toBeUndefined();
    expect(textOf(sent[1])).toBe("**bold** text");
  });

  it("keeps what arrived when the stream breaks and says it was cut off", async () => {
    const { clock, api, reply } = setup();
    reply.push("Partial answer");
    await clock.advance(0);
    const outcome = await finish(reply, clock, { complete: false });
    expect(textOf(api.of("sendMessage")[0])).toBe(`Partial answer\n\n<i>${NOTE_CUT_OFF}</i>`);
    expect(outcome.shownText).toBe("Partial answer");
  });

  it("retries the final message after a 429", async () => {
    const { clock, api, reply } = setup();
    reply.push("Answer");
    await clock.advance(0);
    api.failNext((method) => (method === "sendMessage" ? telegramError(method, 429, "Too Many Requests", 2) : undefined));
    const finished = reply.finish({ complete: true });
    await clock.advance(5000);
    const outcome = await finished;
    const sent = api.of("sendMessage");
    expect(sent).toHaveLength(2);
    expect((sent[1]?.at ?? 0) - (sent[0]?.at ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(outcome.messageIds).toEqual([100]);
  });

  it("goes on in a new message when the text passes 4096 characters, reopening an open code block", async () => {
    const { clock, api, reply } = setup();
    reply.push("Code:\n\n```python\n");
    for (let i = 0; i < 300; i += 1) {
      reply.push(`    value_${i} = compute(${i}) < limit\n`);
      await clock.advance(100);
    }
    reply.push("```\n\nDone.");
    const outcome = await finish(reply, clock, { complete: true });
    const sent = api.of("sendMessage").map((call) => String(call.params.text));
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (const text of [...sent, ...api.of("sendMessageDraft").map((call) => String(call.params.text))]) {
      const check = checkTelegramHtml(text);
      expect(check.ok).toBe(true);
      if (check.ok) expect(check.text.length).toBeLessThanOrEqual(4096);
    }
    expect(sent[0]?.endsWith("</code></pre>")).toBe(true);
    expect(sent[1]?.startsWith('<pre><code class="language-python">    value_')).toBe(true);
    expect(sent[sent.length - 1]?.endsWith("Done.")).toBe(true);
    expect(outcome.messageIds).toEqual(sent.map((_, i) => 100 + i));
    const joined = sent.join("\n");
    for (let i = 0; i < 300; i += 1) expect(joined).toContain(`value_${i} = compute(${i})`);
    // Only the first message replies to the user's message.
    expect(api.of("sendMessage").filter((call) => call.params.reply_parameters !== undefined)).toHaveLength(1);
  });

  it("stops its timers on abort and sends nothing more", async () => {
    const { clock, api, reply } = setup();
    reply.start();
    await clock.advance(0);
    reply.abort();
    reply.push("late text");
    await clock.advance(10_000);
    expect(api.calls.map((call) => call.method)).toEqual(["sendChatAction"]);
    expect(clock.pending).toBe(0);
  });

  it("abort resolves only once a sendChatAction in flight has completed", async () => {
    const clock = new FakeClock();
    const api = new RecordingBotApi(clock);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const completed: string[] = [];
    const slow: BotApi = {
      async call<M extends keyof BotMethods>(method: M, params: BotParams[M]): Promise<BotResult<M>> {
        const result = await api.call(method, params);
        if (method === "sendChatAction") await gate;
        completed.push(method);
        return result;
      },
    };
    const reply = new LiveReply({ api: slow, clock, chatId: 42, chatType: "private" });
    reply.start();
    await clock.advance(0);
    let aborted = false;
    const abort = reply.abort().then(() => (aborted = true));
    await settle();
    expect(aborted).toBe(false);
    release();
    await abort;
    expect(completed).toEqual(["sendChatAction"]);
    expect(api.calls.map((call) => call.method)).toEqual(["sendChatAction"]);
    expect(clock.pending).toBe(0);
  });

  it("turns the draft into its message without waiting for the update interval", async () => {
    const { clock, api, reply } = setup();
    reply.push("Quick answer");
    await clock.advance(0);
    let done = false;
    const finished = reply.finish({ complete: true }).then(() => (done = true));
    await clock.advance(0);
    expect(done).toBe(true);
    await finished;
    expect(api.calls.map((call) => [call.method, call.at])).toEqual([
      ["sendMessageDraft", 0],
      ["sendMessage", 0],
    ]);
  });

  it("still waits out a 429 before the final message, at most maxFinalWaitMs", async () => {
    const { clock, api, reply } = setup({ maxFinalWaitMs: 2000 });
    api.failNext((method) => (method === "sendMessageDraft" ? telegramError(method, 429, "Too Many Requests: retry after 10", 10) : undefined));
    reply.push("Limited");
    await clock.advance(0);
    await finish(reply, clock, { complete: true });
    expect(api.of("sendMessage").map((call) => call.at)).toEqual([2000]);
  });

  it("counts every Bot API call for the benchmark", async () => {
    const { clock, api, reply, counted } = setup();
    reply.start();
    reply.push("a");
    await clock.advance(1500);
    reply.push("b");
    const outcome = await finish(reply, clock, { complete: true });
    expect(counted).toEqual(api.calls.map((call) => call.method));
    expect(outcome.apiCalls).toBe(counted.length);
  });
});

describe("LiveReply in a group", () => {
  it("sends the first text and extends it with edits, replying in the thread", async () => {
    const { clock, api, reply } = setup({ chatType: "group", messageThreadId: 9 });
    reply.push("Hello");
    await clock.advance(0);
    reply.push(" there");
    await clock.advance(1000);
    const outcome = await finish(reply, clock, { complete: true, speed: { evalCount: 10, evalDurationNs: 1e9 } });
    expect(api.calls.map((call) => call.method)).toEqual(["sendMessage", "editMessageText", "editMessageText"]);
    expect(api.of("sendMessage")[0]?.params).toMatchObject({ message_thread_id: 9, reply_parameters: { message_id: 7 } });
    expect(textOf(api.of("editMessageText")[1])).toBe("Hello there\n\n<i>10.0 tokens/s</i>");
    expect(outcome.messageIds).toEqual([100]);
  });

  it("does not wait for the update interval when the final text is already shown", async () => {
    const { clock, api, reply } = setup({ chatType: "group" });
    reply.push("All at once");
    await clock.advance(0);
    let done = false;
    const finished = reply.finish({ complete: true }).finally(() => (done = true));
    await clock.advance(0);
    expect(done).toBe(true);
    const outcome = await finished;
    expect(api.calls.map((call) => [call.method, call.at])).toEqual([["sendMessage", 0]]);
    expect(outcome.messageIds).toEqual([100]);
  });

  it("waits for the update interval before an edit that changes the text", async () => {
    const { clock, api, reply } = setup({ chatType: "group" });
    reply.push("Partial");
    await clock.advance(0);
    await finish(reply, clock, { complete: false });
    expect(api.calls.map((call) => [call.method, call.at])).toEqual([
      ["sendMessage", 0],
      ["editMessageText", 1000],
    ]);
  });

  it("ignores 'message is not modified'", async () => {
    const { clock, api, reply } = setup({ chatType: "supergroup" });
    reply.push("Same");
    await clock.advance(0);
    api.failNext((method) => (method === "editMessageText" ? telegramError(method, 400, "Bad Request: message is not modified") : undefined));
    reply.push(" more");
    await clock.advance(1000);
    await expect(finish(reply, clock, { complete: true })).resolves.toMatchObject({ messageIds: [100] });
  });

  it("sends the answer anew when the message to edit is gone", async () => {
    const { clock, api, reply } = setup({ chatType: "group" });
    reply.push("Text");
    await clock.advance(0);
    api.failNext((method) => (method === "editMessageText" ? telegramError(method, 400, "Bad Request: message to edit not found") : undefined));
    reply.push(" and more");
    const outcome = await finish(reply, clock, { complete: true });
    expect(api.calls.map((call) => call.method)).toEqual(["sendMessage", "editMessageText", "sendMessage"]);
    expect(outcome.messageIds).toEqual([101]);
  });
});

describe("LiveReply when Telegram cannot parse the HTML of a completed message", () => {
  /** What the user reads in a message: HTML as Telegram renders it, plain text as it is. */
  const seen = (message: ChatMessageState): string => (message.parseMode === "HTML" ? visibleText(message.text) : message.text);
  const withoutSpace = (text: string): string => text.replace(/\s+/g, "");

  it.each(["private", "group"] as const)("sends every visible character of the part as plain text (%s chat)", async (chatType) => {
    const { clock, api, reply } = setup({ chatType });
    let rejecting = true;
    api.failWhile((method, params) =>
      rejecting && (method === "sendMessage" || method === "editMessageText") && params.parse_mode === "HTML"
        ? telegramError(method, 400, "Bad Request: can't parse entities: unsupported start tag")
        : undefined,
    );
    // Each link is ~110 characters of Markdown but 8 of visible text: a message's worth of
    // visible text is far more than 4096 characters of Markdown. The space inside each link's
    // text is a break the split must not take (it would leave link syntax raw on both sides).
    const links = Array.from({ length: 700 }, (_, i) => `[link ${String(i).padStart(3, "0")}](https://example.com/${"p".repeat(80)}/${i})`);
    for (let i = 0; i < links.length; i += 50) {
      reply.push(`${links.slice(i, i + 50).join(" ")} `);
      await clock.advance(1000);
    }
    reply.push("Done.");
    await clock.advance(1000);
    rejecting = false; // the final message goes through as HTML
    const outcome = await finish(reply, clock, { complete: true });

    const answer = `${links.join(" ")} Done.`;
    expect(outcome.shownText).toBe(answer);
    const inChat = outcome.messageIds.map((id) => api.messages.get(id));
    expect(inChat.every((message) => message !== undefined)).toBe(true);
    const messages = inChat.filter((message): message is ChatMessageState => message !== undefined);
    // At least one message was completed while the HTML was refused, and went out as plain text.
    expect(messages.length).toBeGreaterThanOrEqual(2);
    expect(messages[0]?.parseMode).toBeUndefined();
    for (const message of messages) expect(seen(message).length).toBeLessThanOrEqual(4096);
    // Every character of the answer's visible text is in the chat, in order, and nothing else.
    const visibleAnswer = visibleText(markdownToTelegramHtml(outcome.shownText));
    expect(withoutSpace(messages.map(seen).join(""))).toBe(withoutSpace(visibleAnswer));
  });
});
