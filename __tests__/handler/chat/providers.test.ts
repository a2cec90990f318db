import type { ModelEntry } from "../../../config/models";
import type { WebhookHandler } from "../../../handler/app";
import { NOTE_STOPPED } from "../../../handler/format/answer";
import { usageSk } from "../../../handler/store/table-layout";
import { BEDROCK_FAILURES, startBedrockStandIn, type BedrockStandIn } from "../../../local/stand-ins/bedrock";
import { startOpenAiStandIn, type OpenAiStandIn } from "../../../local/stand-ins/openai";
import { addPhoto } from "../../../local/stand-ins/telegram/photos";
import { startHarness, type Harness } from "../../support/handler-harness";
import { photoUpdate, TEST_USER_ID } from "../../support/updates";
import { waitFor } from "../../support/wait-for";

/**
 * The same chat, photo, thinking, stop and error cases on Amazon Bedrock and an
 * OpenAI-compatible server, through the real entry point: the stand-ins speak each wire
 * (SigV4-checked event streams; server-sent events split across writes) and the bot picks the
 * provider from the session's model entry.
 */
/** A picture whose first bytes say JPEG, as Bedrock checks the format named against the bytes. */
const JPEG = [{ width: 90, height: 90, data: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(496, 7)]) }];
const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(" ");

describe.each(["bedrock", "openai"] as const)("answers from %s through the entry point", (provider) => {
  let h: Harness;
  let bedrock: BedrockStandIn;
  let openai: OpenAiStandIn;
  let handler: WebhookHandler;
  let user = TEST_USER_ID + (provider === "bedrock" ? 310_000 : 320_000);
  const API_KEY = "sk-test-openai-key-not-a-secret";

  beforeAll(async () => {
    h = await startHarness();
    const credentials = h.emulators.credentials;
    bedrock = await startBedrockStandIn({
      region: "eu-central-1",
      credentials,
      models: ["anthropic.claude-3-haiku-20240307-v1:0", "us.deepseek.r1-v1:0", "amazon.nova-lite-v1:0"],
      reply: (call) => (JSON.stringify(call.body).includes("long story") ? words(80) : "Hello from Bedrock"),
      reasoningModels: ["us.deepseek.r1-v1:0"],
      reasoning: () => "Let me think about that.",
      deltaIntervalMs: 100,
    });
    openai = await startOpenAiStandIn({
      models: ["Qwen/Qwen2.5-7B-Instruct", "deepseek-r1", "qwen-vl"],
      apiKey: API_KEY,
      wire: { splitWrites: true, keepAlive: true },
      reply: (r) => (JSON.stringify(r.messages).includes("long story") ? words(80) : "Hello from the GPU server"),
      answers: { "deepseek-r1": { content: "The answer is 4.", reasoning: "Two plus two." } },
      chunkDelayMs: 100,
    });
    const models: ModelEntry[] =
      provider === "bedrock"
        ? [
            { name: "haiku", provider: "bedrock", model: "anthropic.claude-3-haiku-20240307-v1:0", region: "eu-central-1" },
            { name: "r1", provider: "bedrock", model: "us.deepseek.r1-v1:0", region: "eu-central-1", thinking: true },
            { name: "nova", provider: "bedrock", model: "amazon.nova-lite-v1:0", region: "eu-central-1", vision: true },
          ]
        : [
            { name: "qwen-gpu", provider: "openai", model: "Qwen/Qwen2.5-7B-Instruct", baseUrl: openai.url },
            { name: "r1", provider: "openai", model: "deepseek-r1", baseUrl: openai.url, thinking: true },
            { name: "vl", provider: "openai", model: "qwen-vl", baseUrl: openai.url, vision: true },
          ];
    handler = h.createBotHandler({ models, bedrockEndpoint: bedrock.url, openaiApiKey: API_KEY, ollamaTimeoutMs: 20_000 }, { modelCredentials: credentials });
  });
  afterAll(async () => {
    await Promise.all([bedrock.close(), openai.close()]);
    await h.stop();
  });
  beforeEach(() => {
    user += 1;
  });

  const say = (text: string) => h.sendText(text, { userId: user, handler });
  const modelRequests = () => (provider === "bedrock" ? bedrock.requests.map((r) => r.body) : openai.requests.filter((r) => r.path.endsWith("/chat/completions")).map((r) => r.body));

  it("answers a message with the provider's model and stores the answer", async () => {
    await say("hello");
    const expected = provider === "bedrock" ? "Hello from Bedrock" : "Hello from the GPU server";
    expect(h.repliesTo(user).at(-1)).toBe(expected);
    expect(await h.conversationOf(user)).toEqual(["user:hello", `assistant:${expected}`]);
    expect(JSON.stringify(modelRequests().at(-1))).toContain("hello");
  });

  it("counts the tokens the provider itself reported", async () => {
    await say("count my tokens");
    const generation = provider === "bedrock" ? bedrock.generations.at(-1)! : openai.generations.at(-1)!;
    const sent = "deltas" in generation ? generation.deltas : generation.chunks;
    const day = new Date().toISOString().slice(0, 10);
    const item = (await h.doc.get({ TableName: h.config.tableName, Key: { pk: user, sk: usageSk("chat", day) } })).Item;
    expect(item).toEqual(expect.objectContaining({ day_count: 1, day_out: sent }));
    expect(Number(item?.day_in)).toBeGreaterThan(0);
  });

  it("keeps a reasoning model's thinking out of the stored answer", async () => {
    await say("/newsession 2");
    await say("what is 2+2?");
    const stored = await h.conversationOf(user);
    expect(stored[0]).toBe("user:what is 2+2?");
    expect(stored[1]).not.toMatch(/think about that|Two plus two/);
    expect(h.telegram.messagesIn(user).at(-1)!.text).toMatch(/<blockquote expandable>/);
  });

  it("sends a photo to a vision model as the provider's image part", async () => {
    await say("/newsession 3");
    await h.send(photoUpdate(addPhoto(h.telegram, JPEG, true), { userId: user, caption: "what is this?" }), { handler });
    const body = JSON.stringify(modelRequests().at(-1));
    expect(body).toContain(provider === "bedrock" ? '"image"' : '"image_url"');
    expect(await h.conversationOf(user)).toEqual(["user:[photo] what is this?", expect.stringMatching(/^assistant:/)]);
  });

  it("refuses a photo for a text-only entry, naming the one that can see", async () => {
    await say("/newsession 1");
    await h.send(photoUpdate(addPhoto(h.telegram, JPEG, true), { userId: user, caption: "and this?" }), { handler });
    expect(h.repliesTo(user).at(-1)).toMatch(/reads text only.*\/newsession 3/s);
  });

  it("Stop ends the provider's request; the chat keeps what was shown", async () => {
    const answering = say("tell me a long story");
    await waitFor(() => h.telegram.callsTo("sendMessageDraft").some((c) => Number(c.params.chat_id) === user), 8_000);
    await say("/stop");
    expect((await answering).statusCode).toBe(200);
    const ended = provider === "bedrock" ? bedrock.generations.at(-1)!.ended : openai.generations.at(-1)!.ended;
    expect(ended).toBe("aborted");
    expect(h.telegram.messagesIn(user).at(-1)!.text).toContain(NOTE_STOPPED);
  });

  it("a provider error gets its plain sentence and the message is kept", async () => {
    if (provider === "bedrock") bedrock.failNext(BEDROCK_FAILURES.accessDenied);
    else openai.failNext({ kind: "status", status: 401, error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } });
    await say("are you there?");
    expect(h.repliesTo(user).at(-1)).toMatch(provider === "bedrock" ? /no access to haiku on Amazon Bedrock.*Model access/ : /refused the bot's API key/);
    expect(await h.conversationOf(user)).toEqual(["user:are you there?"]);
    expect(JSON.stringify(h.logEntries())).not.toContain(API_KEY);
  });

  it("/retry 2 moves the last answer to another model of the list", async () => {
    await say("hello again");
    await say("/retry 2");
    expect(await h.conversationOf(user)).toHaveLength(2);
    expect((await h.conversationOf(user))[1]).not.toBe(`assistant:${h.repliesTo(user)[0]}`);
  });
});
