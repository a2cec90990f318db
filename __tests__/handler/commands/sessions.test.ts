import { useHarness } from "../../support/handler-harness";
import { resetUpdateIds, TEST_USER_ID } from "../../support/updates";

describe("session commands", () => {
  const h = useHarness();
  let user = TEST_USER_ID;
  const last = () => h.repliesTo(user).at(-1) ?? "";

  beforeEach(() => {
    resetUpdateIds();
    user += 1;
  });

  it("/start greets, creates an active session with the first model and names it", async () => {
    const result = await h.sendText("/start", { userId: user, firstName: "Ada" });
    expect(result.statusCode).toBe(200);
    expect(last()).toContain("Hello, Ada!");
    expect(last()).toContain(h.config.modelNames[0]);
    const { session } = await h.sessions.getActive(user);
    expect(session?.modelName).toBe(h.config.modelNames[0]);
  });

  it("/hello keeps the existing active session", async () => {
    await h.sendText("/start", { userId: user });
    const before = await h.sessions.getActive(user);
    await h.sendText("/hello", { userId: user });
    expect((await h.sessions.getActive(user)).activeSessionId).toBe(before.activeSessionId);
    expect(last()).toContain("Your active session");
    expect(await h.sessions.listSessions(user)).toHaveLength(1);
  });

  it("/help lists every command on its own line", async () => {
    await h.sendText("/help", { userId: user });
    for (const command of ["/start", "/help", "/newsession", "/listsessions", "/switch", "/history", "/archive", "/listarchives", "/export", "/status", "/echo"]) {
      expect(last()).toMatch(new RegExp(`^${command}\\b`, "m"));
    }
  });

  it("/newsession without a number shows the numbered model list", async () => {
    await h.sendText("/newsession", { userId: user });
    expect(last()).toContain(`1. ${h.config.modelNames[0]}`);
    expect(last()).toContain(`2. ${h.config.modelNames[1]}`);
  });

  it("/newsession <n> creates a session with model n and makes it the only active one", async () => {
    await h.sendText("/start", { userId: user });
    await h.sendText("/newsession 2", { userId: user });
    expect(last()).toContain(`with ${h.config.modelNames[1]} (Ollama) is now active`);
    const sessions = await h.sessions.listSessions(user);
    const { activeSessionId } = await h.sessions.getActive(user);
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.isActive).map((s) => s.sessionId)).toEqual([activeSessionId]);
    expect(sessions.find((s) => s.sessionId === activeSessionId)?.modelName).toBe(h.config.modelNames[1]);
  });

  it.each(["0", "3", "abc", "-1"])("/newsession %s answers with the usage and the list", async (arg) => {
    await h.sendText(`/newsession ${arg}`, { userId: user });
    expect(last()).toContain("is not a model number");
    expect(last()).toContain("1. ");
    expect(await h.sessions.listSessions(user)).toHaveLength(0);
  });

  it("/listsessions numbers sessions with model, short id, active marker, count and last activity", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("hello there", { userId: user });
    await h.sendText("/newsession 2", { userId: user });
    await h.sendText("/listsessions", { userId: user });
    const [first, second] = await h.sessions.listSessions(user);
    expect(last()).toContain(`1. ${first!.sessionId.slice(0, 8)} · ${h.config.modelNames[0]} · 2 messages · last `);
    expect(last()).toContain(`2. ▶ ${second!.sessionId.slice(0, 8)} · ${h.config.modelNames[1]} · 0 messages`);
    expect(last()).toMatch(/2\. .*\(active\)/);
  });

  it("/switch <n> makes session n active", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/newsession 2", { userId: user });
    await h.sendText("/switch 1", { userId: user });
    const [first, second] = await h.sessions.listSessions(user);
    expect((await h.sessions.getActive(user)).activeSessionId).toBe(first!.sessionId);
    expect(first!.isActive).toBe(true);
    expect(second!.isActive).toBe(false);
    expect(last()).toContain("Switched to session 1");
  });

  it.each(["9", "x"])("/switch with a bad number (%j) gets a usage message", async (arg) => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText(`/switch ${arg}`, { userId: user });
    expect(last()).toContain("Usage: /switch <number>");
  });

  it("/switch alone shows the sessions to pick from", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/switch", { userId: user });
    expect(last()).toContain("Pick the session to switch to.");
    expect(h.telegram.messagesIn(user).at(-1)?.buttons.flat()).toHaveLength(1);
  });

  it("/history shows role, time and text cut to 100 characters", async () => {
    await h.sendText(`long ${"x".repeat(200)}`, { userId: user });
    await h.sendText("/history", { userId: user });
    const text = last();
    expect(text).toMatch(/\[\d{4}-\d\d-\d\d \d\d:\d\d UTC\] You: long x+…/);
    expect(text).toContain("Bot: You said: long");
    const line = text.split("\n").find((l) => l.includes("You: long"))!;
    expect(line.slice(line.indexOf("You: ") + 5).length).toBe(100);
  });

  it("/echo <text> echoes; /echo alone shows the usage", async () => {
    await h.sendText("/echo hi there", { userId: user });
    expect(last()).toBe("hi there");
    await h.sendText("/echo", { userId: user });
    expect(last()).toBe("Usage: /echo <text>");
  });

  it("an unknown command points to /help", async () => {
    await h.sendText("/frobnicate", { userId: user });
    expect(last()).toBe("Unknown command /frobnicate. Send /help to see what I can do.");
  });

  it("/status reports the bot, Ollama's models and the active session", async () => {
    h.ollama.setModels([h.config.modelNames[0]!]);
    try {
      await h.sendText("/start", { userId: user });
      await h.sendText("/status", { userId: user });
    } finally {
      h.ollama.setModels(h.config.modelNames);
    }
    const text = last();
    expect(text).toContain("Bot: up.");
    expect(text).toContain("AI server: reachable");
    expect(text).toContain(`✓ ${h.config.modelNames[0]}`);
    expect(text).toContain(`✗ ${h.config.modelNames[1]} (Ollama) (not installed)`);
    expect(text).toContain(`Active session: `);
  });

  it("/status shows configuration problems by variable name", async () => {
    const handler = h.createBotHandler({ problems: [{ variable: "OLLAMA_TIMEOUT_MS", message: "OLLAMA_TIMEOUT_MS must be a whole number" }] });
    await h.sendText("/status", { userId: user, handler });
    expect(last()).toContain("- OLLAMA_TIMEOUT_MS: OLLAMA_TIMEOUT_MS must be a whole number");
  });

  it("a session whose model is no longer configured gets a warning and the hint to start a new one", async () => {
    await h.sendText("/newsession 2", { userId: user });
    const handler = h.createBotHandler({ modelNames: [h.config.modelNames[0]!] });
    const chatsBefore = h.ollama.chatRequests().length;
    await h.sendText("are you there?", { userId: user, handler });
    expect(last()).toContain("no longer available");
    expect(last()).toContain("/newsession");
    expect(h.ollama.chatRequests()).toHaveLength(chatsBefore);
  });

  it("in groups /cmd@ThisBot is handled and /cmd@OtherBot is ignored", async () => {
    const chatId = -100 - user;
    await h.sendText("/echo@TestBot mine", { userId: user, chatId, chatType: "group" });
    await h.sendText("/echo@OtherBot theirs", { userId: user, chatId, chatType: "group" });
    expect(h.repliesTo(chatId)).toEqual(["mine"]);
  });
});
