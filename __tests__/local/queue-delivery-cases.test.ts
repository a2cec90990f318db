import type { Message, Update } from "@grammyjs/types";
import { CONTROL_GROUP_SUFFIX } from "../../config/queue-groups";
import { RETRY_BUTTON_LABEL } from "../../handler/chat/retry-button";
import { STOP_BUTTON_LABEL, STOP_CONTROL_TEXT } from "../../handler/chat/stop-watch";
import { STOPPING_TEXT } from "../../handler/commands/stop";
import { RETRY_BACKOFF_SECONDS } from "../../handler/delivery/queue-visibility";
import { DROPPED_UPDATE_TEXT } from "../../handler/delivery/record-failure";
import { NOTE_STOPPED } from "../../handler/format/answer";
import { updateSk } from "../../handler/store/table-layout";
import { echoReply, type OllamaChatRequest } from "../../local/stand-ins/ollama";
import { injectFault, serviceError, sortKeyOf } from "../support/aws-faults";
import { useQueuePath, type QueuePath } from "../support/queue-path";
import { textUpdate } from "../support/updates";
import { waitFor } from "../support/wait-for";

/** `count` words, one stand-in token each. */
const words = (count: number) => Array.from({ length: count }, (_, i) => `w${i}`).join(" ");
/** A question starting "long" gets a 60-token answer (6 s at 10 tokens a second); any other one the echo. */
const longOrEcho = (request: OllamaChatRequest) => (request.messages.at(-1)?.content.startsWith("long") ? words(60) : echoReply(request));
const STOPPED_TAIL = `<i>${NOTE_STOPPED}</i>`;

let user = 250_000;
let updateId = 25_000_000;
const nextUpdateId = () => (updateId += 1);
beforeEach(() => {
  user += 10;
});

/** Helpers on one chat of a running path. */
const chatOf = (q: QueuePath, chatId: number) => ({
  control: () => q.harness.telegram.messagesIn(chatId).find((m) => m.text === STOP_CONTROL_TEXT),
  drafts: () => q.harness.telegram.callsTo("sendMessageDraft").filter((c) => Number(c.params.chat_id) === chatId),
  press: async (messageId: number, label: string) => {
    const update = q.harness.telegram.press(chatId, messageId, label, { updateId: nextUpdateId(), userId: chatId }) as { update_id: number };
    expect((await q.post(update)).status).toBe(200);
    return update;
  },
  groupOf: (id: number) => q.deliveriesOf(id).map((r) => r.groupId),
  stored: async (sessionId: string) => (await q.harness.sessions.allMessages(chatId, sessionId)).map((m) => `${m.role}:${m.content}`),
});

/** Issue 25's cases, end to end: webhook → authorizer → template → fauxqs → poller → the real queue door → Telegram. */
describe("queue delivery cases (issue 25)", () => {
  describe("presses and stops, with a model that streams 10 tokens a second", () => {
    const q = useQueuePath({ visibilityTimeoutSeconds: 30, ollama: { tokensPerSecond: 10, reply: longOrEcho }, config: { ollamaTimeoutMs: 20_000 } });
    afterEach(() => q.harness.ollama.setReply(longOrEcho));

    it("a Stop pressed while a Retry press regenerates ends that model request; the Retry rode the chat's group, the Stop its control group", async () => {
      const chat = chatOf(q, user);
      await q.postText("hello", { userId: user });
      await q.idle();
      const answer = q.harness.telegram.messagesIn(user).at(-1)!;
      q.harness.ollama.setReply(() => words(60));
      const generations = q.harness.ollama.generations.length;

      const retryStarted = Date.now();
      const retry = await chat.press(answer.messageId, RETRY_BUTTON_LABEL);
      await waitFor(() => chat.control() !== undefined && chat.drafts().length >= 2, 8_000);
      const stop = await chat.press(chat.control()!.messageId, STOP_BUTTON_LABEL);
      await q.idle();

      // Ended by the bot, long before the 6 s the whole regeneration takes.
      const ended = q.harness.ollama.generations.slice(generations);
      expect(ended).toEqual([expect.objectContaining({ ended: "client_left" })]);
      expect(ended[0]!.at - retryStarted).toBeLessThan(5_000);
      const final = q.harness.telegram.messagesIn(user).at(-1)!;
      expect(final.text.endsWith(STOPPED_TAIL)).toBe(true);
      expect(final.plainText.split(" ").length).toBeLessThan(60);
      expect(chat.groupOf(retry.update_id)).toEqual([String(user)]);
      expect(chat.groupOf(stop.update_id)).toEqual([`${user}${CONTROL_GROUP_SUFFIX}`]);
    }, 30_000);

    it("a switch press queued behind two messages waits for them: both are answered and stored in the old session, the next message lands in the new one", async () => {
      const chat = chatOf(q, user);
      for (const text of ["/newsession 1", "/newsession 1", "/switch"]) await q.postText(text, { userId: user });
      await q.idle();
      const b = (await q.harness.sessions.getActive(user)).activeSessionId!;
      const a = (await q.harness.sessions.listSessions(user)).find((s) => s.sessionId !== b)!.sessionId;
      const picker = q.harness.telegram.messagesIn(user).at(-1)!;
      const requests = q.harness.ollama.chatRequests().length;

      const q1 = await q.postText("long question", { userId: user });
      await waitFor(() => q.harness.ollama.chatRequests().length > requests, 8_000);
      const q2 = await q.postText("second question", { userId: user });
      const press = await chat.press(picker.messageId, a.slice(0, 8));
      await q.postText("third question", { userId: user });
      await q.idle(30_000);

      expect(await chat.stored(b)).toEqual(["user:long question", `assistant:${words(60)}`, "user:second question", "assistant:You said: second question"]);
      expect(await chat.stored(a)).toEqual(["user:third question", "assistant:You said: third question"]);
      expect((await q.harness.sessions.getActive(user)).activeSessionId).toBe(a);
      expect(chat.groupOf(press.update_id)).toEqual([String(user)]);
      const [first, second, pressed] = [q1.update.update_id, q2.update.update_id, press.update_id].map((id) => q.batches.find((x) => x.records.some((r) => r.updateId === id))!);
      expect(second!.startedAt).toBeGreaterThanOrEqual(first!.endedAt);
      expect(pressed!.startedAt).toBeGreaterThanOrEqual(second!.endedAt);
    }, 40_000);

    it.each(["/Stop", "/stop\nplease"])("%j stops a streaming answer, travelling in the chat's control group", async (text) => {
      const chat = chatOf(q, user);
      const generations = q.harness.ollama.generations.length;
      const asked = Date.now();
      await q.postText("long story please", { userId: user });
      await waitFor(() => chat.drafts().length >= 2, 8_000);
      const { update: stop } = await q.postText(text, { userId: user });
      await q.idle();

      const ended = q.harness.ollama.generations.slice(generations);
      expect(ended).toEqual([expect.objectContaining({ ended: "client_left" })]);
      expect(ended[0]!.at - asked).toBeLessThan(5_000);
      expect(q.repliesTo(user)).toContain(STOPPING_TEXT);
      expect(q.harness.telegram.messagesIn(user).at(-1)!.text.endsWith(STOPPED_TAIL)).toBe(true);
      expect(chat.groupOf(stop.update_id)).toEqual([`${user}${CONTROL_GROUP_SUFFIX}`]);
    }, 30_000);
  });

  describe("failures", () => {
    // 30 s, the queue's own timeout: a record handed back that comes back sooner did so by the handler's backoff.
    const q = useQueuePath({ visibilityTimeoutSeconds: 30 });

    /** A group message mentioning the bot. */
    const groupMessage = (text: string, group: number) => {
      const update = textUpdate(`@TestBot ${text}`, { userId: user, chatId: group, chatType: "group" }) as Update & { message: Message };
      update.message.entities = [{ type: "mention", offset: 0, length: 8 }];
      return update;
    };

    it("reads a group message whose entities is an object as not addressed: delivered once, never again, and the chat's next message is answered at once", async () => {
      const group = -user;
      const malformed = groupMessage("hello", group);
      (malformed.message as unknown as { entities: unknown }).entities = { type: "mention", offset: 0, length: 8 };
      const next = groupMessage("hello again", group);
      await q.post(malformed);
      const posted = Date.now();
      await q.post(next);

      const answered = await q.waitForDelivery(next.update_id, 1, 10_000);
      await q.idle();
      expect(answered.startedAt - posted).toBeLessThan(3_000);
      expect(q.deliveriesOf(malformed.update_id).map((r) => r.receiveCount)).toEqual([1]);
      expect(await q.message(malformed.update_id)).toBeUndefined();
      expect((await q.deadLetters()).map((m) => m.deduplicationId)).not.toContain(String(malformed.update_id));
      expect(q.repliesTo(group)).toEqual(["You said: hello again"]);
    });

    it("drops a record whose processing fails for good (DynamoDB refuses its claim with a 400) after one delivery, logged at ERROR and told, and answers the chat's next message at once", async () => {
      const poison = textUpdate("poison", { userId: user });
      const refused = injectFault(q.harness.doc, { operation: "UpdateItem", when: (input) => sortKeyOf(input) === updateSk(poison.update_id), error: () => serviceError("ValidationException", 400) });
      try {
        await q.post(poison);
        const posted = Date.now();
        const { update: next } = await q.postText("next", { userId: user });
        const answered = await q.waitForDelivery(next.update_id, 1, 10_000);
        await q.idle();
        expect(answered.startedAt - posted).toBeLessThan(3_000);
      } finally {
        refused.remove();
      }
      expect(q.deliveriesOf(poison.update_id).map((r) => r.receiveCount)).toEqual([1]);
      expect(await q.message(poison.update_id)).toBeUndefined();
      expect((await q.deadLetters()).map((m) => m.deduplicationId)).not.toContain(String(poison.update_id));
      expect(q.repliesTo(user)).toEqual([DROPPED_UPDATE_TEXT, "You said: next"]);
      expect(q.harness.logEntries()).toContainEqual(expect.objectContaining({ level: "ERROR", update_id: poison.update_id, action: "claim_update", outcome: "failure" }));
    });

    it("drops a raw body that is not JSON after one delivery, logged, and never delivers it again", async () => {
      const since = Date.now();
      expect((await q.post("this is not JSON {")).status).toBe(200);
      await q.idle();
      const junk = q.batches.filter((b) => b.startedAt >= since).flatMap((b) => b.records).filter((r) => r.updateId === undefined);
      expect(junk.map((r) => r.receiveCount)).toEqual([1]);
      expect(q.harness.logEntries()).toContainEqual(expect.objectContaining({ sqs_message_id: junk[0]!.messageId, message: "queued record is not a Telegram update; dropped" }));
      expect((await q.sqs.messages()).map((m) => m.messageId)).not.toContain(junk[0]!.messageId);
      expect(await q.deadLetters()).toEqual([]);
    });

    it("a passing failure (Telegram 502 once) comes back after its 5 s backoff, not the 30 s timeout, with receive count 2, and is answered once", async () => {
      q.harness.telegram.failNext("sendMessage", { errorCode: 502, description: "Bad Gateway" });
      const { update } = await q.postText("try again", { userId: user });
      const first = await q.waitForDelivery(update.update_id, 1);
      const waiting = await q.message(update.update_id);

      const second = await q.waitForDelivery(update.update_id, 2, 12_000);
      await q.idle();
      expect(first.failed).toEqual([first.records[0]!.messageId]);
      expect(waiting).toMatchObject({ state: "in-flight", receiveCount: 1 });
      const backoffMs = RETRY_BACKOFF_SECONDS[0]! * 1_000;
      expect(waiting!.visibleAt! - first.endedAt).toBeGreaterThan(backoffMs - 1_500);
      expect(waiting!.visibleAt! - first.endedAt).toBeLessThanOrEqual(backoffMs);
      expect(second.startedAt - first.endedAt).toBeLessThan(10_000);
      expect(second.failed).toEqual([]);
      expect(q.repliesTo(user)).toEqual(["You said: try again"]);
    }, 30_000);
  });

  describe("redrive to the dead-letter queue", () => {
    const q = useQueuePath({ visibilityTimeoutSeconds: 30, maxReceiveCount: 2 });

    it("moves a record whose failure keeps passing to the DLQ after 2 receives, within its backoffs; the message queued behind it is then answered", async () => {
      q.harness.telegram.failNext("sendMessage", { errorCode: 502, description: "Bad Gateway", times: 1_000 });
      const { update } = await q.postText("doomed", { userId: user });
      await q.waitForDelivery(update.update_id, 1);
      const { update: later } = await q.postText("later", { userId: user });
      const second = await q.waitForDelivery(update.update_id, 2, 12_000);
      // Read before reset(), which forgets the chats with the faults.
      expect(q.repliesTo(user)).toEqual([]);
      // Telegram recovers while the record waits its 20 s backoff: nothing of this chat can run meanwhile (its group is blocked).
      q.harness.telegram.reset();

      await waitFor(async () => (await q.deadLetters()).some((m) => m.deduplicationId === String(update.update_id)), 30_000);
      const answered = await q.waitForDelivery(later.update_id, 1, 10_000);
      await q.idle();
      expect(q.deliveriesOf(update.update_id).map((r) => r.receiveCount)).toEqual([1, 2]);
      expect(second.failed).toEqual([second.records[0]!.messageId]);
      expect(answered.startedAt - second.endedAt).toBeLessThan(RETRY_BACKOFF_SECONDS[1]! * 1_000 + 5_000);
      expect(await q.message(update.update_id)).toBeUndefined();
      expect(q.deliveriesOf(later.update_id).map((r) => r.receiveCount)).toEqual([1]);
      expect(q.repliesTo(user)).toEqual(["You said: later"]);
    }, 60_000);
  });
});
