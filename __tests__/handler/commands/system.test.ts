import Ajv from "ajv";
import { SYSTEM_PROMPT_MAX_CHARS } from "../../../config/stack-config";
import { PRIVATE_ONLY_TEXT } from "../../../handler/conversation/router";
import { ARCHIVE_SCHEMA } from "../../../handler/store/archive-format";
import { useHarness } from "../../support/handler-harness";
import { documentUpdate, textUpdate, TEST_USER_ID } from "../../support/updates";

/** The archive schema as the seed reads it: without the system_prompt field. */
function seedValidator() {
  const { system_prompt: _added, ...seedProperties } = ARCHIVE_SCHEMA.properties;
  return new Ajv({ allErrors: true, strict: false }).compile({ ...ARCHIVE_SCHEMA, properties: seedProperties });
}

describe("/system (through the handler)", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 60_000;
  const last = () => h.repliesTo(user).at(-1) ?? "";
  const lastChat = () => h.ollama.chatRequests().at(-1)!;

  beforeEach(() => {
    user += 1;
  });

  it("says there is none before one is set", async () => {
    await h.sendText("/system", { userId: user });
    expect(last()).toContain("This session has no system prompt.");
    await h.sendText("hello", { userId: user });
    expect(lastChat().messages.map((m) => m.role)).toEqual(["user"]);
  });

  it("/system <text> sets the active session's prompt: sent first with every request, shown by /system and /status", async () => {
    await h.sendText("/system You are a pirate.\nAnswer in one line.", { userId: user });
    expect(last()).toContain("set (37 characters)");
    await h.sendText("first", { userId: user });
    await h.sendText("second", { userId: user });
    const request = lastChat();
    expect(request.messages[0]).toEqual({ role: "system", content: "You are a pirate.\nAnswer in one line." });
    expect(request.messages.slice(1).map((m) => m.content)).toEqual(["first", "You said: first", "second"]);
    await h.sendText("/system", { userId: user });
    expect(last()).toBe("System prompt of this session:\nYou are a pirate.\nAnswer in one line.\n\nChange it with /system <text>, or turn it off with /system off.");
    await h.sendText("/status", { userId: user });
    expect(last()).toContain('System prompt: "You are a pirate. Answer in one line." (/system shows it).');
    expect(await h.conversationOf(user)).toEqual(["user:first", "assistant:You said: first", "user:second", "assistant:You said: second"]);
  });

  it("/system off clears it: the next request has no system message", async () => {
    await h.sendText("/system Be brief.", { userId: user });
    await h.sendText("/system off", { userId: user });
    expect(last()).toMatch(/^System prompt of session \w{8} turned off\.$/);
    await h.sendText("hello", { userId: user });
    expect(lastChat().messages.map((m) => m.role)).toEqual(["user"]);
    await h.sendText("/system", { userId: user });
    expect(last()).toContain("turned off with /system off");
  });

  it("belongs to the session: another session has none, and switching back brings it back", async () => {
    await h.sendText("/system Speak French.", { userId: user });
    await h.sendText("/newsession 2", { userId: user });
    await h.sendText("bonjour", { userId: user });
    expect(lastChat().messages.map((m) => m.role)).toEqual(["user"]);
    await h.sendText("/switch 1", { userId: user });
    await h.sendText("encore", { userId: user });
    expect(lastChat().messages[0]).toEqual({ role: "system", content: "Speak French." });
  });

  it("refuses a prompt over the limit and changes nothing", async () => {
    await h.sendText("/system Keep it.", { userId: user });
    await h.sendText(`/system ${"x".repeat(SYSTEM_PROMPT_MAX_CHARS + 1)}`, { userId: user });
    expect(last()).toBe(`That system prompt has ${SYSTEM_PROMPT_MAX_CHARS + 1} characters; the most I accept is ${SYSTEM_PROMPT_MAX_CHARS}. Nothing was changed.`);
    await h.sendText("/system", { userId: user });
    expect(last()).toContain("Keep it.");
  });

  it("in a group answers that it is private, and neither shows nor changes the prompt", async () => {
    await h.sendText("/system My secret persona.", { userId: user });
    await h.send(textUpdate("/system", { userId: user, chatId: -user, chatType: "group" }));
    await h.send(textUpdate("/system off", { userId: user, chatId: -user, chatType: "group" }));
    expect(h.repliesTo(-user)).toEqual([PRIVATE_ONLY_TEXT, PRIVATE_ONLY_TEXT]);
    await h.sendText("/system", { userId: user });
    expect(last()).toContain("My secret persona.");
  });

  it("is listed by /help", async () => {
    await h.sendText("/help", { userId: user });
    expect(last()).toContain("/system [text|off] — show the system prompt of your active session");
  });

  describe("with a default system prompt (DEFAULT_SYSTEM_PROMPT)", () => {
    const withDefault = () => h.createBotHandler({ defaultSystemPrompt: "You are the house assistant." });
    const send = (text: string) => h.send(textUpdate(text, { userId: user }), { handler: withDefault() });

    it("applies to a session without its own, shown as the default; /system off turns it off too", async () => {
      await send("hi");
      expect(lastChat().messages[0]).toEqual({ role: "system", content: "You are the house assistant." });
      await send("/system");
      expect(last()).toContain("This session uses the default system prompt:\nYou are the house assistant.");
      await send("/status");
      expect(last()).toContain('System prompt: the default, "You are the house assistant."');
      await send("/system off");
      expect(last()).toContain("turned off (the default one is not used either).");
      await send("again");
      expect(lastChat().messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    });

    it("is what a group answer gets (a session's own prompt stays private)", async () => {
      await send("/system My private persona.");
      const group = textUpdate("@TestBot hello group", { userId: user, chatId: -user, chatType: "group" });
      const mention = { type: "mention" as const, offset: 0, length: "@TestBot".length };
      await h.send({ ...group, message: { ...group.message!, entities: [mention] } }, { handler: withDefault() });
      expect(lastChat().messages).toEqual([
        { role: "system", content: "You are the house assistant." },
        { role: "user", content: "hello group" },
      ]);
    });
  });

  it("is kept by /archive and /export, through an import, and the file still validates against the seed's schema", async () => {
    await h.sendText("/system You are a pirate.", { userId: user });
    await h.sendText("ahoy", { userId: user });
    await h.sendText("/archive 1", { userId: user });
    await h.sendText("/export 1", { userId: user });
    const exported = JSON.parse(h.telegram.documentsIn(user)[0]!.data.toString("utf8")) as Record<string, unknown>;
    expect(exported.system_prompt).toBe("You are a pirate.");
    expect(seedValidator()(exported)).toBe(true);

    const importer = user + 500_000;
    const file = h.telegram.addFile(h.telegram.documentsIn(user)[0]!.data);
    await h.send(documentUpdate(file.file_id, { userId: importer, fileName: "archive.json", fileSize: file.file_size }));
    expect(h.repliesTo(importer).at(-1)).toContain("Imported archive");
    await h.send(textUpdate("/export 1", { userId: importer }));
    const reexported = JSON.parse(h.telegram.documentsIn(importer)[0]!.data.toString("utf8")) as Record<string, unknown>;
    expect(reexported.system_prompt).toBe("You are a pirate.");
    expect(reexported.conversation).toEqual(exported.conversation);
  });

  it("imports a file of the seed's format (no system_prompt), and refuses one whose system_prompt is too long", async () => {
    const seedFile = {
      user_id: 1,
      session_id: "seed-session",
      model_name: "llama3.2:1b",
      conversation: [{ role: "user", content: "hi", ts: 1 }],
      last_message_ts: 1,
      archived_at: "2025-01-01T00:00:00Z",
      archive_version: "1.0",
    };
    const seed = h.telegram.addFile(JSON.stringify(seedFile));
    await h.send(documentUpdate(seed.file_id, { userId: user, fileSize: seed.file_size }));
    expect(last()).toContain("Imported archive");
    const long = h.telegram.addFile(JSON.stringify({ ...seedFile, system_prompt: "x".repeat(SYSTEM_PROMPT_MAX_CHARS + 1) }));
    await h.send(documentUpdate(long.file_id, { userId: user, fileSize: long.file_size }));
    expect(last()).toContain(`system_prompt must NOT have more than ${SYSTEM_PROMPT_MAX_CHARS} characters`);
    expect(await h.archives.list(user)).toHaveLength(1);
  });
});
