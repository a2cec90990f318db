import { useHarness } from "../../support/handler-harness";
import { resetUpdateIds, TEST_USER_ID, textUpdate } from "../../support/updates";
import { NOT_YOUR_BUTTON_TEXT } from "../../../handler/delivery/press";
import { STALE_BUTTON_TEXT, PICKER_PAGE_SIZE } from "../../../handler/conversation/buttons";
import { NOT_ALLOWED_TEXT } from "../../../handler/delivery/authorise";

/** Inline-keyboard pickers, driven through the real entry point with callback_query updates. */
describe("pickers", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 500;
  let updateId = 900_000;
  const nextUpdateId = () => (updateId += 1);

  beforeEach(() => {
    resetUpdateIds();
    user += 1;
  });

  /** The last message the bot sent the user (as it reads now) and its buttons. */
  const lastMessage = () => {
    const message = h.telegram.messagesIn(user).at(-1);
    if (!message) throw new Error("no message");
    return message;
  };
  const labels = (message: { buttons: readonly (readonly { text: string }[])[] }) => message.buttons.flat().map((b) => b.text);
  const press = async (messageId: number, label: string, options: { userId?: number; data?: string; updateId?: number; chatId?: number } = {}) => {
    const update = h.telegram.press(options.chatId ?? user, messageId, label, { updateId: options.updateId ?? nextUpdateId(), userId: options.userId ?? user, ...(options.data !== undefined ? { data: options.data } : {}) });
    const result = await h.send(update);
    expect(result.statusCode).toBe(200);
    return update;
  };
  const answers = () => h.telegram.callsTo("answerCallbackQuery").map((c) => c.params);

  it("/newsession shows the models as buttons, and a press starts the session and edits the picker", async () => {
    await h.sendText("/newsession", { userId: user });
    const picker = lastMessage();
    expect(labels(picker)).toEqual(h.config.modelNames.map((m, i) => `${i + 1}. ${m} (Ollama)`));
    for (const b of picker.buttons.flat()) expect(Buffer.byteLength(b.data)).toBeLessThanOrEqual(64);

    const model = h.config.modelNames[1]!;
    const update = await press(picker.messageId, model);
    const edited = h.telegram.messagesIn(user).find((m) => m.messageId === picker.messageId)!;
    expect(edited.text).toContain(`with ${model} (Ollama) is now active`);
    expect(edited.buttons).toEqual([]);
    expect((await h.sessions.getActive(user)).session?.modelName).toBe(model);
    const queryId = (update.callback_query as { id: string }).id;
    expect(answers().filter((a) => a.callback_query_id === queryId)).toHaveLength(1);
  });

  it("a press delivered twice acts once, and the picker pressed again (a second update) creates no second session", async () => {
    await h.sendText("/newsession", { userId: user });
    const picker = lastMessage();
    const update = h.telegram.press(user, picker.messageId, "1.", { updateId: nextUpdateId(), userId: user });
    await h.send(update);
    await h.send(update);
    await press(picker.messageId, "1.", { data: picker.buttons[0]![0]!.data });
    expect(await h.sessions.listSessions(user)).toHaveLength(1);
    expect(h.telegram.messagesIn(user).filter((m) => m.text.includes("is now active"))).toHaveLength(1);
  });

  it("/switch and a press switch to the pressed session, whatever positions did since", async () => {
    for (const n of [1, 2, 1]) await h.sendText(`/newsession ${n}`, { userId: user });
    const sessions = await h.sessions.listSessions(user);
    await h.sendText("/switch", { userId: user });
    const picker = lastMessage();
    expect(picker.buttons.flat()).toHaveLength(3);
    const target = sessions[0]!;
    // Another session goes meanwhile: position 1 now means something else; the press does not care.
    await h.sendText("/archive 3", { userId: user });
    await press(picker.messageId, target.sessionId.slice(0, 8));
    expect((await h.sessions.getActive(user)).activeSessionId).toBe(target.sessionId);
    expect(h.telegram.messagesIn(user).find((m) => m.messageId === picker.messageId)!.text).toContain("Switched to session");
  });

  it("pages a long list with ‹ › buttons that edit the picker in place", async () => {
    for (let n = 0; n < PICKER_PAGE_SIZE + 2; n++) await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/switch", { userId: user });
    const picker = lastMessage();
    expect(picker.buttons).toHaveLength(PICKER_PAGE_SIZE + 1);
    expect(labels(picker).at(-1)).toBe("2/2 ›");
    await press(picker.messageId, "2/2 ›");
    const page2 = h.telegram.messagesIn(user).find((m) => m.messageId === picker.messageId)!;
    expect(labels(page2)[0]).toMatch(new RegExp(`^${PICKER_PAGE_SIZE + 1}\\. `));
    expect(labels(page2).at(-1)).toBe("‹ 1/2");
  });

  it("/archive's buttons archive the pressed session; a stale press says it is gone", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/newsession 2", { userId: user });
    await h.sendText("/archive", { userId: user });
    const picker = lastMessage();
    const first = picker.buttons[0]![0]!;
    await press(picker.messageId, first.data);
    expect(h.telegram.messagesIn(user).find((m) => m.messageId === picker.messageId)!.text).toContain("Archived session");
    expect(await h.sessions.listSessions(user)).toHaveLength(1);
    // The same button of an older picker, pressed after the session went.
    await h.sendText("/archive", { userId: user });
    await press(lastMessage().messageId, "1.", { data: first.data });
    expect(lastMessage().text).toContain("is no longer there");
    expect(await h.sessions.listSessions(user)).toHaveLength(1);
  });

  it("/export's buttons send the pressed archive as a file", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("hello", { userId: user });
    await h.sendText("/archive 1", { userId: user });
    await h.sendText("/export", { userId: user });
    const picker = lastMessage();
    expect(picker.buttons.flat()).toHaveLength(1);
    await press(picker.messageId, "1.");
    const documents = h.telegram.documentsIn(user);
    expect(documents).toHaveLength(1);
    expect(JSON.parse(documents[0]!.data.toString("utf8")).conversation.length).toBeGreaterThan(0);
  });

  it("a press from another user gets a notice and acts on nothing", async () => {
    await h.sendText("/newsession", { userId: user });
    const picker = lastMessage();
    const stranger = user + 100_000;
    await press(picker.messageId, "1.", { userId: stranger });
    expect(answers().at(-1)).toMatchObject({ text: NOT_YOUR_BUTTON_TEXT });
    expect(await h.sessions.listSessions(stranger)).toHaveLength(0);
    expect(await h.sessions.listSessions(user)).toHaveLength(0);
    expect(h.telegram.messagesIn(user).find((m) => m.messageId === picker.messageId)!.edits).toBe(0);
  });

  it("a forged callback_data gets a short notice, not an error", async () => {
    await h.sendText("/switch", { userId: user });
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/switch", { userId: user });
    const picker = lastMessage();
    for (const data of ["zz:abc:1", "not ours", `sw:${user.toString(36)}:../../etc`, `sw:${user.toString(36)}:${"x".repeat(60)}`, `ns:${user.toString(36)}:99`]) {
      await press(picker.messageId, "1.", { data });
    }
    const texts = answers().slice(-5).map((a) => a.text);
    expect(texts.slice(0, 2)).toEqual([STALE_BUTTON_TEXT, STALE_BUTTON_TEXT]);
    expect(h.logEntries().filter((e) => e.level === "ERROR")).toEqual([]);
    expect(await h.sessions.listSessions(user)).toHaveLength(1);
  });

  it("the allow-list applies to presses", async () => {
    const handler = h.createBotHandler({ allowedUserIds: [user] });
    await h.sendText("/newsession", { userId: user, handler });
    const picker = lastMessage();
    const outsider = user + 200_000;
    const update = h.telegram.press(user, picker.messageId, "1.", { updateId: nextUpdateId(), userId: outsider, data: `ns:${outsider.toString(36)}:1` });
    await h.send(update, { handler });
    expect(answers().at(-1)).toMatchObject({ text: NOT_ALLOWED_TEXT });
    expect(await h.sessions.listSessions(outsider)).toHaveLength(0);
  });

  it("a picker's button pressed in a group answers that it is private", async () => {
    const group = -(user * 10);
    await h.sendText("/newsession 1", { userId: user });
    // A message in the group that carries a (forged) switch button of the user's.
    const sent = await fetch(`${h.telegram.url}/bot${h.config.telegramToken}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chat_id: group, text: "x", reply_markup: { inline_keyboard: [[{ text: "s", callback_data: `sw:${user.toString(36)}:~1` }]] } }),
    }).then((r) => r.json() as Promise<{ result: { message_id: number } }>);
    await press(sent.result.message_id, "s", { chatId: group });
    expect(answers().at(-1)?.text).toMatch(/private chat/);
    expect(h.telegram.messagesIn(group).map((m) => m.text)).toEqual(["x"]);
  });

  it("typed positions keep working alongside the buttons", async () => {
    await h.sendText("/newsession 2", { userId: user });
    expect(lastMessage().text).toContain(`with ${h.config.modelNames[1]} (Ollama) is now active`);
    await h.send(textUpdate("/switch 9", { userId: user }));
    expect(lastMessage().text).toContain("Usage: /switch <number>");
    expect(lastMessage().buttons.flat()).toHaveLength(1);
  });
});
