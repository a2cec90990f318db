import { loadConfig } from "../../../handler/config";
import { formatSessionStatus } from "../../../handler/commands/status";
import type { Session } from "../../../handler/store/session-items";
import { startHarness, type Harness } from "../../support/handler-harness";
import { OllamaStandIn } from "../../../local/stand-ins/ollama";
import { resetUpdateIds, TEST_OLLAMA_API_KEY, TEST_USER_ID } from "../../support/updates";

const session: Session = {
  userId: 1,
  sessionId: "0f2a9c4e-1111-2222-3333-444455556666",
  modelName: "llama3.2:1b",
  isActive: true,
  createdAt: 0,
  lastMessageTs: 0,
  messageCount: 4,
};

describe("formatSessionStatus", () => {
  it("says there is no active session yet", () => {
    expect(formatSessionStatus(undefined, true)).toEqual(["Active session: none yet (your next message starts one)."]);
  });

  it("shows the session and leaves the speed out while none was measured", () => {
    const lines = formatSessionStatus(session, true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Active session: \S+ with llama3\.2:1b \(4 messages\)\.$/);
  });

  it("shows the model's speed on the last answer from Ollama's figures", () => {
    const lines = formatSessionStatus({ ...session, lastSpeed: { evalCount: 123, evalDurationNs: 10e9 } }, true);
    expect(lines[1]).toBe("Model speed on the last answer: 12.3 tokens/s.");
  });

  it("warns when the session's model is no longer offered", () => {
    expect(formatSessionStatus(session, false).at(-1)).toContain("no longer available");
  });
});

describe("/status", () => {
  let h: Harness;
  let paced: OllamaStandIn;
  let user = TEST_USER_ID + 70_000;
  const last = () => h.repliesTo(user).at(-1) ?? "";

  beforeAll(async () => {
    h = await startHarness();
    paced = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, tokensPerSecond: 50 });
  });
  afterAll(async () => {
    await paced.stop();
    await h.stop();
  });
  beforeEach(() => {
    resetUpdateIds();
    user += 1;
  });

  it("shows the model's measured speed after an answer, with Ollama reachable", async () => {
    const handler = h.createBotHandler({ ollamaUrl: paced.url, ollamaTimeoutMs: 10_000 });
    await h.sendText("measure me", { userId: user, handler });
    await h.sendText("/status", { userId: user, handler });
    expect(last()).toContain("AI server: reachable (Ollama 0.12.0).");
    expect(last()).toContain("Model speed on the last answer: 50.0 tokens/s.");
  });

  it("says loudly when the bot is open to every Telegram user, and how many may use it otherwise", async () => {
    await h.sendText("/status", { userId: user, handler: h.createBotHandler({ allowedUserIds: undefined }) });
    expect(last()).toContain("⚠ Access: open to every Telegram user (ALLOWED_USER_IDS is empty).");
    await h.sendText("/status", { userId: user, handler: h.createBotHandler({ allowedUserIds: [user, user + 1] }) });
    expect(last()).toContain("Access: limited to 2 allowed users.");
    expect(last()).not.toContain("open to every");
  });

  it("names a missing webhook secret among the configuration problems", async () => {
    const { problems } = loadConfig({ ...h.env, AWS_LAMBDA_FUNCTION_NAME: "telegram-bot", TELEGRAM_SECRET_TOKEN: "" });
    await h.sendText("/status", { userId: user, handler: h.createBotHandler({ problems }) });
    expect(last()).toContain("- TELEGRAM_SECRET_TOKEN: TELEGRAM_SECRET_TOKEN is not set: every webhook request is refused (401) until it is");
  });

  it("shows no speed before the session's first answer", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/status", { userId: user });
    expect(last()).toContain("Active session:");
    expect(last()).not.toContain("tokens/s");
  });

  it("keeps the last complete answer's speed when a later stream is cut off", async () => {
    const handler = h.createBotHandler({ ollamaUrl: paced.url, ollamaTimeoutMs: 10_000 });
    await h.sendText("measure me", { userId: user, handler });
    paced.setBehaviour({ kind: "cut", afterChunks: 1 }, { times: 1 });
    await h.sendText("cut this one", { userId: user, handler });
    expect(last()).toContain("(the answer was cut off)");
    await h.sendText("/status", { userId: user, handler });
    expect(last()).toContain("Model speed on the last answer: 50.0 tokens/s.");
  });
});
