import type { Message, Update } from "@grammyjs/types";
import { groupChatText } from "../../../handler/delivery/group-address";
import { useHarness } from "../../support/handler-harness";
import { TEST_USER_ID, textUpdate } from "../../support/updates";

const BOT = { id: 4242, username: "TestBot" };

/** A group text message with a mention entity for each `@name` in it. */
function groupMessage(text: string, extra: Partial<Message> = {}): Message {
  const entities = [...text.matchAll(/@[A-Za-z0-9_]+/g)].map((m) => ({ type: "mention" as const, offset: m.index, length: m[0].length }));
  return {
    message_id: 7,
    date: 0,
    chat: { id: -1, type: "group", title: "g" },
    from: { id: 1, is_bot: false, first_name: "A" },
    text,
    ...(entities.length > 0 ? { entities } : {}),
    ...extra,
  } as Message;
}

describe("groupChatText", () => {
  it("answers a mention of the bot, without the mention, whatever its case and place", () => {
    expect(groupChatText(groupMessage("@TestBot what is 2+2?"), BOT)).toBe("what is 2+2?");
    expect(groupChatText(groupMessage("so @testbot, what now"), BOT)).toBe("so , what now");
    expect(groupChatText(groupMessage("@TestBot"), BOT)).toBe("");
  });

  it("keeps the rest of the text as written (indented code) and counts offsets in UTF-16 units, as Telegram does", () => {
    expect(groupChatText(groupMessage("@TestBot fix this:\n    return  1"), BOT)).toBe("fix this:\n    return  1");
    expect(groupChatText(groupMessage("🙂🙂 @TestBot hi"), BOT)).toBe("🙂🙂 hi");
  });

  it("answers a reply to one of the bot's messages", () => {
    const reply = groupMessage("and then?", { reply_to_message: { message_id: 3, date: 0, chat: { id: -1, type: "group", title: "g" }, from: { id: BOT.id, is_bot: true, first_name: "Bot" } } as Message["reply_to_message"] });
    expect(groupChatText(reply, BOT)).toBe("and then?");
    const both = groupMessage("@TestBot and then?", { reply_to_message: reply.reply_to_message });
    expect(groupChatText(both, BOT)).toBe("and then?");
  });

  it("leaves other group messages alone: no mention, another bot, a name that only starts like the bot's", () => {
    expect(groupChatText(groupMessage("just chatting"), BOT)).toBeUndefined();
    expect(groupChatText(groupMessage("@OtherBot hi"), BOT)).toBeUndefined();
    expect(groupChatText(groupMessage("@TestBotFan hi"), BOT)).toBeUndefined();
    // A mention entity is what counts, not text that looks like one.
    expect(groupChatText({ ...groupMessage("x"), text: "@TestBot hi" } as Message, BOT)).toBeUndefined();
  });
});

describe("chat in groups (through the handler)", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 70_000;
  beforeEach(() => {
    user += 1;
  });

  /** A text update in the group -user, with mention entities, optionally replying to the bot's message. */
  function groupUpdate(text: string, replyToBotMessage?: number): Update {
    const update = textUpdate(text, { userId: user, chatId: -user, chatType: "group" }) as Update & { message: Message };
    const entities = [...text.matchAll(/@[A-Za-z0-9_]+/g)].map((m) => ({ type: "mention" as const, offset: m.index, length: m[0].length }));
    if (entities.length > 0) update.message.entities = entities;
    if (replyToBotMessage !== undefined) {
      update.message.reply_to_message = {
        message_id: replyToBotMessage,
        date: 0,
        chat: update.message.chat,
        from: { id: h.telegram.botId, is_bot: true, first_name: "Test Bot", username: "TestBot" },
        text: "earlier answer",
      } as Message["reply_to_message"];
    }
    return update;
  }

  it("answers a message that mentions the bot, replying to it, apart from the sender's sessions", async () => {
    await h.sendText("a private secret", { userId: user }); // the sender's private session
    const update = groupUpdate("@TestBot what is a monad?");
    await h.send(update);
    expect(h.repliesTo(-user)).toEqual(["You said: what is a monad?"]);
    const send = h.telegram.calls.find((c) => c.method === "sendMessage" && Number(c.params.chat_id) === -user);
    expect(send?.params.reply_parameters).toMatchObject({ message_id: (update as { message: Message }).message.message_id });
    // The model saw only the question, nothing of the private session, and nothing was stored.
    expect(h.ollama.chatRequests().at(-1)?.messages).toEqual([{ role: "user", content: "what is a monad?" }]);
    expect(await h.conversationOf(user)).toEqual(["user:a private secret", "assistant:You said: a private secret"]);
  });

  it("answers a reply to one of its messages with that message as the context", async () => {
    await h.send(groupUpdate("@TestBot first"));
    const answer = h.telegram.messagesIn(-user)[0]!;
    await h.send(groupUpdate("and a follow-up", answer.messageId));
    expect(h.repliesTo(-user)).toEqual(["You said: first", "You said: and a follow-up"]);
    expect(h.ollama.chatRequests().at(-1)?.messages).toEqual([
      { role: "assistant", content: "earlier answer" },
      { role: "user", content: "and a follow-up" },
    ]);
    expect((await h.sessions.getActive(user)).session).toBeUndefined();
  });

  it("tells the group when the model fails, without claiming the message was saved", async () => {
    h.ollama.setBehaviour({ kind: "status", status: 500, error: "boom" }, { times: 1 });
    await h.send(groupUpdate("@TestBot fail please"));
    const [reply] = h.repliesTo(-user);
    expect(reply).toContain("The AI server had an error (HTTP 500)");
    expect(reply).not.toContain("saved");
  });

  it("ignores group chatter and mentions of other bots: nothing sent, nothing stored", async () => {
    await h.send(groupUpdate("just people talking"));
    await h.send(groupUpdate("@OtherBot do something"));
    expect(h.telegram.calls.filter((c) => Number(c.params.chat_id) === -user)).toEqual([]);
    expect((await h.sessions.getActive(user)).session).toBeUndefined();
  });

  it("a bare mention gets a hint instead of an empty question to the model", async () => {
    await h.send(groupUpdate("@TestBot"));
    expect(h.repliesTo(-user)).toEqual([expect.stringContaining("Mention me together with your question")]);
    expect((await h.sessions.getActive(user)).session).toBeUndefined();
  });
});
