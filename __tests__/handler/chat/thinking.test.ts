import { THINKING_PLACEHOLDER } from "../../../handler/chat/live-reply";
import { startHarness, type Harness } from "../../support/handler-harness";
import { echoReply } from "../../../local/stand-ins/ollama";
import { TEST_USER_ID } from "../../support/updates";

const TEXT_MODEL = "llama3.2:1b";
const REASONING_MODEL = "qwen3:1.7b";

/** Reasoning models (capability `thinking`) through the handler: Ollama's think parameter, not tags. */
describe("reasoning models (through the handler)", () => {
  let h: Harness;
  let user = TEST_USER_ID + 70_000;
  const models = [TEXT_MODEL, REASONING_MODEL];

  beforeAll(async () => {
    h = await startHarness({
      config: { modelNames: models },
      ollama: { models, capabilities: { [REASONING_MODEL]: ["completion", "thinking"] }, thinking: () => "The user asks about <the sky> & light." },
    });
  });
  afterAll(() => h.stop());
  beforeEach(() => {
    user += 1;
  });

  const drafts = () => h.telegram.callsTo("sendMessageDraft").filter((c) => c.params.chat_id === user).map((c) => String(c.params.text));
  const shows = (model: string) => h.ollama.requests.filter((r) => r.path === "/api/show" && (r.body as { model?: string }).model === model);

  it("sends think: true, shows Thinking… while it thinks, then the reasoning as an expandable blockquote and never as the answer", async () => {
    await h.sendText("/newsession 2", { userId: user });
    await h.sendText("why is the sky blue?", { userId: user });

    expect(h.ollama.chatRequests().at(-1)).toMatchObject({ model: REASONING_MODEL, think: true });
    expect(drafts()[0]).toBe(THINKING_PLACEHOLDER);
    const answer = h.telegram.messagesIn(user).at(-1)!;
    expect(answer.parseMode).toBe("HTML");
    expect(answer.text).toBe("<blockquote expandable>The user asks about &lt;the sky&gt; &amp; light.</blockquote>\n\nYou said: why is the sky blue?");
    expect(await h.conversationOf(user)).toEqual(["user:why is the sky blue?", "assistant:You said: why is the sky blue?"]);
  });

  it("keeps the stored history free of reasoning, so the next request carries only answers", async () => {
    await h.sendText("/newsession 2", { userId: user });
    await h.sendText("first", { userId: user });
    await h.sendText("second", { userId: user });
    const request = h.ollama.chatRequests().at(-1)!;
    expect(request.messages.map((m) => m.content)).toEqual(["first", "You said: first", "second"]);
    expect(JSON.stringify(request.messages)).not.toContain("The user asks");
  });

  it("asks /api/show once per model, and sends no think to a model without the capability", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("plain one", { userId: user });
    await h.sendText("plain two", { userId: user });
    expect("think" in h.ollama.chatRequests().at(-1)!).toBe(false);
    expect(shows(TEXT_MODEL)).toHaveLength(1);
    expect(shows(REASONING_MODEL).length).toBeLessThanOrEqual(1);
    expect(h.telegram.messagesIn(user).at(-1)!.text).toBe("You said: plain two");
  });

  it("still hides <think> tags of a model whose capabilities Ollama does not name", async () => {
    h.ollama.setReply(() => "<think>hidden reasoning</think>\nVisible answer.");
    try {
      await h.sendText("/newsession 1", { userId: user });
      await h.sendText("tags please", { userId: user });
      expect(h.telegram.messagesIn(user).at(-1)!.plainText).toBe("Visible answer.");
      expect(await h.conversationOf(user)).toEqual(["user:tags please", "assistant:Visible answer."]);
    } finally {
      h.ollama.setReply(echoReply);
    }
  });
});
