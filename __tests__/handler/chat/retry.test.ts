import { NOT_LAST_ANSWER_TEXT, NOTE_REPLACED, NOTHING_TO_RETRY_TEXT, RETRY_SESSION_GONE_TEXT, retryPlan } from "../../../handler/chat/retry";
import { RETRY_BUTTON_LABEL, retryArgument, retryTargetOf } from "../../../handler/chat/retry-button";
import { RETRY_USAGE_TEXT, retryModelOf } from "../../../handler/commands/retry";
import { PRIVATE_ONLY_TEXT } from "../../../handler/conversation/router";
import { echoReply } from "../../../local/stand-ins/ollama";
import { useHarness } from "../../support/handler-harness";
import { resetUpdateIds, TEST_USER_ID } from "../../support/updates";

/** Retry, through the real entry point: the Retry button under an answer and /retry [n]. */
describe("retrying an answer", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 80_000;
  let updateId = 8_000_000;
  const nextUpdateId = () => (updateId += 1);

  beforeEach(() => {
    resetUpdateIds();
    user += 1;
    h.ollama.setReply((request) => `answer ${h.ollama.chatRequests().length} to ${request.messages.at(-1)!.content}`);
  });
  afterEach(() => h.ollama.setReply(echoReply));

  const messages = () => h.telegram.messagesIn(user);
  const toasts = () => h.telegram.callsTo("answerCallbackQuery").map((c) => c.params.text);
  const pressRetry = async (messageId: number, userId = user) => {
    const result = await h.send(h.telegram.press(user, messageId, RETRY_BUTTON_LABEL, { updateId: nextUpdateId(), userId }));
    expect(result.statusCode).toBe(200);
  };

  it("puts a Retry button under the answer; a press regenerates it, replaces the stored turn and marks the old message", async () => {
    await h.sendText("hello", { userId: user });
    const first = messages().at(-1)!;
    expect(first.buttons.flat().map((b) => b.text)).toEqual([RETRY_BUTTON_LABEL]);
    const requestsBefore = h.ollama.chatRequests().length;

    await pressRetry(first.messageId);
    const request = h.ollama.chatRequests().at(-1)!;
    expect(h.ollama.chatRequests()).toHaveLength(requestsBefore + 1);
    expect(request.messages.map((m) => m.content)).toEqual(["hello"]); // the old answer is not in the context
    const newest = messages().at(-1)!;
    expect(newest.messageId).not.toBe(first.messageId);
    expect(newest.text).toContain(`answer ${requestsBefore + 1} to hello`);
    expect(newest.buttons.flat().map((b) => b.text)).toEqual([RETRY_BUTTON_LABEL]);
    // The old message says it was replaced and lost its button; history holds one assistant turn.
    const old = messages().find((m) => m.messageId === first.messageId)!;
    expect(old.text).toContain(NOTE_REPLACED);
    expect(old.buttons).toEqual([]);
    expect(await h.conversationOf(user)).toEqual(["user:hello", `assistant:answer ${requestsBefore + 1} to hello`]);
  });

  it("/retry <n> answers again with another model; the next message's context has the new answer only", async () => {
    await h.sendText("question", { userId: user });
    const other = h.config.modelNames[1]!;
    await h.sendText("/retry 2", { userId: user });
    expect(h.ollama.chatRequests().at(-1)!.model).toBe(other);
    const stored = await h.conversationOf(user);
    expect(stored).toHaveLength(2);
    await h.sendText("follow-up", { userId: user });
    expect(h.ollama.chatRequests().at(-1)!.messages.map((m) => m.content)).toEqual(["question", stored[1]!.slice("assistant:".length), "follow-up"]);
    await h.sendText("/retry 99", { userId: user });
    expect(h.repliesTo(user).at(-1)).toBe(RETRY_USAGE_TEXT);
  });

  it("an older answer's Retry is stale: refused, its button removed, nothing regenerated", async () => {
    await h.sendText("one", { userId: user });
    const older = messages().at(-1)!;
    await h.sendText("two", { userId: user });
    const requests = h.ollama.chatRequests().length;
    await pressRetry(older.messageId);
    expect(toasts().at(-1)).toBe(NOT_LAST_ANSWER_TEXT);
    expect(h.ollama.chatRequests()).toHaveLength(requests);
    expect(messages().find((m) => m.messageId === older.messageId)!.buttons).toEqual([]);
  });

  it("after an archive, the answer's Retry says the conversation is archived, and /retry has nothing to retry", async () => {
    await h.sendText("keep this", { userId: user });
    const answer = messages().at(-1)!;
    await h.sendText("/archive 1", { userId: user });
    const requests = h.ollama.chatRequests().length;
    await pressRetry(answer.messageId);
    expect(toasts().at(-1)).toBe(RETRY_SESSION_GONE_TEXT);
    await h.sendText("/retry", { userId: user });
    expect(h.repliesTo(user).at(-1)).toMatch(/^Nothing to retry/);
    expect(h.ollama.chatRequests()).toHaveLength(requests);
    const archives = await h.archives.list(user);
    expect(archives).toHaveLength(1);
  });

  it("a press delivered twice regenerates once", async () => {
    await h.sendText("twice", { userId: user });
    const answer = messages().at(-1)!;
    const press = h.telegram.press(user, answer.messageId, RETRY_BUTTON_LABEL, { updateId: nextUpdateId(), userId: user });
    const requests = h.ollama.chatRequests().length;
    await h.send(press);
    await h.send(press);
    expect(h.ollama.chatRequests()).toHaveLength(requests + 1);
    expect(await h.conversationOf(user)).toHaveLength(2);
  });

  it("answers a question left without answer (a failed model call), and refuses in groups", async () => {
    h.ollama.setBehaviour({ kind: "status", status: 500, error: "boom" }, { times: 1, path: "/api/chat" });
    await h.sendText("unanswered", { userId: user });
    expect(await h.conversationOf(user)).toEqual(["user:unanswered"]);
    await h.sendText("/retry", { userId: user });
    expect((await h.conversationOf(user))[1]).toMatch(/^assistant:answer \d+ to unanswered$/);
    await h.sendText("/retry", { userId: user, chatId: -user, chatType: "group" });
    expect(h.repliesTo(-user).at(-1)).toBe(PRIVATE_ONLY_TEXT);
  });

  it("has nothing to retry in a session without messages", async () => {
    await h.sendText("/newsession", { userId: user });
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/retry", { userId: user });
    expect(h.repliesTo(user).at(-1)).toBe(NOTHING_TO_RETRY_TEXT);
  });
});

describe("retry parts", () => {
  it("plans the question to answer again and the answer it replaces", () => {
    const m = (seq: number, role: "user" | "assistant") => ({ seq, role, content: `${role}${seq}`, ts: 0 });
    expect(retryPlan([m(1, "user"), m(2, "assistant")])).toEqual({ context: [m(1, "user")], question: m(1, "user"), replaced: m(2, "assistant") });
    expect(retryPlan([m(1, "user"), m(2, "assistant"), m(3, "user")])).toEqual({ context: [m(1, "user"), m(2, "assistant"), m(3, "user")], question: m(3, "user") });
    expect(retryPlan([])).toBeUndefined();
  });

  it("round-trips a Retry button's argument and refuses others", () => {
    const target = { sessionId: "0b8c2f9e-1d2a-8c3b-9e4f-5a6b7c8d9e0f", questionSeq: 1234 };
    expect(retryTargetOf(retryArgument(target))).toEqual(target);
    expect(retryTargetOf("../etc")).toBeUndefined();
    expect(retryTargetOf("abc.0")).toBeUndefined();
  });

  it("reads /retry's model by number or name", () => {
    expect(retryModelOf("2", ["a", "b"])).toBe("b");
    expect(retryModelOf("B", ["a", "b"])).toBe("b");
    expect(retryModelOf("3", ["a", "b"])).toBeUndefined();
  });
});
