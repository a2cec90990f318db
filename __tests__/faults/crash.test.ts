import { sqsEvent, sqsRecord } from "../../local/sqs-event";
import { runFunction, type FunctionRun } from "../support/function-process";
import { startHarness, type Harness } from "../support/handler-harness";
import { OllamaStandIn } from "../../local/stand-ins/ollama";
import { startTapProxy, type TapDecision, type TapProxy, type TappedRequest } from "../support/tap-proxy";
import { TEST_OLLAMA_API_KEY, textUpdate } from "../support/updates";

/**
 * Crashes part-way through: the real entry point runs in a process of its own (queue mode: an
 * SQS record), which is killed with SIGKILL at each step of the chat path and of two commands;
 * then SQS delivers the record again (ApproximateReceiveCount 2) to a fresh process. In every
 * case the user ends with exactly one answer and one stored copy of each message.
 */
describe("crashes part-way through an update (queue mode, a killed process, then SQS's redelivery)", () => {
  let h: Harness;
  let slowOllama: OllamaStandIn;
  let dynamo: TapProxy;
  let telegram: TapProxy;
  let user = 90_000;

  beforeAll(async () => {
    h = await startHarness();
    // Slow enough that a draft is on screen before the answer ends.
    slowOllama = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, tokensPerSecond: 10, reply: (r) => `You said: ${r.messages.at(-1)?.content} and some more words to stream` });
    dynamo = await startTapProxy(h.emulators.dynamodbEndpoint);
    telegram = await startTapProxy(h.telegram.url);
  });
  afterAll(async () => {
    await Promise.all([dynamo.stop(), telegram.stop(), slowOllama.stop()]);
    await h.stop();
  });
  beforeEach(() => {
    user += 1;
    dynamo.decide = () => "pass";
    telegram.decide = () => "pass";
  });

  const functionEnv = () => ({
    ...h.env,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    TELEGRAM_API_URL: telegram.url,
    OLLAMA_URL: slowOllama.url,
    TELEGRAM_SECRET_TOKEN: undefined,
    OLLAMA_TIMEOUT_MS: "20000",
  });
  const answerTo = (text: string) => `You said: ${text} and some more words to stream`;

  /** Runs the record until `kill` fires (then SIGKILL), and again as SQS's second delivery. */
  async function crashThenRedeliver(update: object, kill: { dynamo?: (r: TappedRequest) => boolean; telegram?: (r: TappedRequest) => boolean; at: "before" | "after" }): Promise<FunctionRun> {
    const body = JSON.stringify(update);
    const first = runFunction(sqsEvent([sqsRecord(body, { receiveCount: 1 })]), functionEnv());
    let fired = false;
    const decideWith = (match?: (r: TappedRequest) => boolean) => (r: TappedRequest): TapDecision =>
      !fired && match?.(r) ? { at: kill.at, then: () => ((fired = true), first.kill()) } : "pass";
    dynamo.decide = decideWith(kill.dynamo);
    telegram.decide = decideWith(kill.telegram);
    expect(await first.done).toEqual({ ended: "killed" });
    dynamo.decide = () => "pass";
    telegram.decide = () => "pass";
    return runFunction(sqsEvent([sqsRecord(body, { receiveCount: 2 })]), functionEnv()).done;
  }

  const target = (r: TappedRequest) => String(r.headers["x-amz-target"] ?? "");
  const dynamoBody = (r: TappedRequest) => JSON.parse(r.body) as { Key?: { sk?: { S?: string } }; Item?: { sk?: { S?: string }; role?: { S?: string } }; ReturnValues?: string; ExpressionAttributeValues?: Record<string, { S?: string }> };
  const isClaim = (r: TappedRequest) => target(r).endsWith("UpdateItem") && dynamoBody(r).Key?.sk?.S?.startsWith("UPDATE#") === true && dynamoBody(r).ReturnValues === "ALL_NEW";
  const isUserMessageItem = (r: TappedRequest) => target(r).endsWith("PutItem") && dynamoBody(r).Item?.sk?.S?.startsWith("MSG#") === true && dynamoBody(r).Item?.role?.S === "user";
  const isCompletion = (r: TappedRequest) => target(r).endsWith("UpdateItem") && dynamoBody(r).ExpressionAttributeValues?.[":done"]?.S === "COMPLETED";
  const isMethod = (method: string) => (r: TappedRequest) => r.path.endsWith(`/${method}`);

  it.each<[string, { dynamo?: (r: TappedRequest) => boolean; telegram?: (r: TappedRequest) => boolean; at: "before" | "after" }]>([
    ["after the claim", { dynamo: isClaim, at: "after" }],
    ["after the user message is stored", { dynamo: isUserMessageItem, at: "after" }],
    ["mid-stream (a draft on screen)", { telegram: isMethod("sendMessageDraft"), at: "after" }],
    ["before the mark completes", { dynamo: isCompletion, at: "before" }],
  ])("killed %s: the user gets exactly one answer, and each message is stored once", async (_when, kill) => {
    const text = `question ${user}`;
    const run = await crashThenRedeliver(textUpdate(text, { userId: user }), kill);
    expect(run).toEqual({ ended: "returned", result: { batchItemFailures: [] } });
    expect(h.repliesTo(user)).toEqual([answerTo(text)]);
    expect(await h.conversationOf(user)).toEqual([`user:${text}`, `assistant:${answerTo(text)}`]);
  }, 60_000);

  it("killed while the final send was in flight (Telegram took it, no answer came back): the redelivery sends it again rather than lose it", async () => {
    const text = `question ${user}`;
    const run = await crashThenRedeliver(textUpdate(text, { userId: user }), { telegram: isMethod("sendMessage"), at: "after" });
    expect(run).toEqual({ ended: "returned", result: { batchItemFailures: [] } });
    // The Bot API has no idempotency key: one of the two had to be chosen, and a duplicate beats a lost answer.
    expect(h.repliesTo(user)).toEqual([answerTo(text), answerTo(text)]);
    expect(await h.conversationOf(user)).toEqual([`user:${text}`, `assistant:${answerTo(text)}`]);
  }, 60_000);

  it("killed while the final send was in flight and Telegram never had it: the redelivery sends the answer, once", async () => {
    const text = `question ${user}`;
    const run = await crashThenRedeliver(textUpdate(text, { userId: user }), { telegram: isMethod("sendMessage"), at: "before" });
    expect(run).toEqual({ ended: "returned", result: { batchItemFailures: [] } });
    expect(h.repliesTo(user)).toEqual([answerTo(text)]);
    expect(await h.conversationOf(user)).toEqual([`user:${text}`, `assistant:${answerTo(text)}`]);
  }, 60_000);

  it("/newsession killed after creating the session: the redelivery makes no second one and replies once", async () => {
    await h.sendText("/start", { userId: user });
    const before = h.repliesTo(user).length;
    const isSessionItem = (r: TappedRequest) => target(r).endsWith("PutItem") && dynamoBody(r).Item?.sk?.S?.startsWith("SESSION#") === true;
    const run = await crashThenRedeliver(textUpdate("/newsession 2", { userId: user }), { dynamo: isSessionItem, at: "after" });
    expect(run.ended).toBe("returned");
    expect(await h.sessions.listSessions(user)).toHaveLength(2);
    const replies = h.repliesTo(user).slice(before);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(/^New session .* is now active/);
  }, 60_000);

  it("/archive 1 killed after the session left the table: the redelivery archives nothing else and reports the archive once", async () => {
    await h.sendText("/start", { userId: user });
    await h.sendText("to be archived", { userId: user });
    await h.sendText("/newsession 2", { userId: user });
    const [first, second] = await h.sessions.listSessions(user);
    const before = h.repliesTo(user).length;
    const isSessionDelete = (r: TappedRequest) => target(r).endsWith("DeleteItem") && dynamoBody(r).Key?.sk?.S === `SESSION#${first!.sessionId}`;
    const run = await crashThenRedeliver(textUpdate("/archive 1", { userId: user }), { dynamo: isSessionDelete, at: "after" });
    expect(run.ended).toBe("returned");
    expect((await h.sessions.listSessions(user)).map((s) => s.sessionId)).toEqual([second!.sessionId]);
    expect((await h.archives.list(user)).map((a) => a.sessionId)).toEqual([first!.sessionId]);
    const replies = h.repliesTo(user).slice(before);
    expect(replies).toEqual([expect.stringMatching(/^Archived session /)]);
  }, 60_000);
});
