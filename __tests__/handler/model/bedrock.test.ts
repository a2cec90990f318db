import { EventStreamCodec } from "@smithy/eventstream-codec";
import { BedrockClient, bedrockEndpointOf, DEFAULT_BEDROCK_MAX_TOKENS } from "../../../handler/model/bedrock";
import { converseEventOf, EventStreamFrames } from "../../../handler/model/bedrock-events";
import { converseRequestOf, converseStreamPath, errorNameOf, imageFormatOf, statusOfBedrockError } from "../../../handler/model/bedrock-wire";
import type { ChatMessage } from "../../../handler/model/model-api";
import type { CredentialSource } from "../../../handler/net/aws-signed";
import { ConnectionError, ServiceError } from "../../../handler/net/errors";
import { BEDROCK_FAILURES, startBedrockStandIn, TEST_BEDROCK_CREDENTIALS, type BedrockStandIn } from "../../../local/stand-ins/bedrock";
import { closedPortUrl } from "../../support/net";

const REGION = "eu-central-1";
const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
const R1 = "us.deepseek.r1-v1:0";
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).toString("base64");
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]).toString("base64");
const GIF = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00", "latin1").toString("base64");
const WEBP = Buffer.from("RIFF\x24\x00\x00\x00WEBPVP8 ", "latin1").toString("base64");
const hello: ChatMessage[] = [{ role: "user", content: "hello there" }];
const noDelta = () => undefined;
const testCredentials: CredentialSource = async () => ({ ...TEST_BEDROCK_CREDENTIALS });

/** The body of the stand-in's last request. */
const lastBody = (standIn: BedrockStandIn) => standIn.requests.at(-1)?.body as Record<string, unknown>;

describe("BedrockClient against the Bedrock stand-in", () => {
  let standIn: BedrockStandIn;
  let client: BedrockClient;

  beforeAll(async () => {
    standIn = await startBedrockStandIn({ region: REGION, reasoningModels: [R1], deltaIntervalMs: 1 });
  });
  afterAll(async () => {
    await standIn.close();
  });
  beforeEach(() => {
    client = new BedrockClient({ region: REGION, endpoint: standIn.url, credentials: testCredentials, timeoutMs: 2_000 });
  });

  it("streams the text to onDelta and resolves the whole answer, completed", async () => {
    const pieces: string[] = [];

    const answer = await client.chatStream(HAIKU, hello, (p) => pieces.push(p));

    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe("You said: hello there");
    expect(answer).toMatchObject({ content: "You said: hello there", thinking: "", completed: true });
    expect(standIn.requests.at(-1)).toMatchObject({ modelId: HAIKU, status: 200 });
    expect(lastBody(standIn)).toEqual({ messages: [{ role: "user", content: [{ text: "hello there" }] }], inferenceConfig: { maxTokens: DEFAULT_BEDROCK_MAX_TOKENS } });
  });

  it("sends system messages as `system`, not as turns", async () => {
    await client.chatStream(HAIKU, [{ role: "system", content: "Be brief." }, ...hello], noDelta);

    expect(lastBody(standIn)).toMatchObject({ system: [{ text: "Be brief." }], messages: [{ role: "user", content: [{ text: "hello there" }] }] });
  });

  it("merges consecutive turns of one role and drops an assistant turn before the first user turn", async () => {
    const messages: ChatMessage[] = [
      { role: "assistant", content: "Welcome!" },
      { role: "user", content: "one" },
      { role: "user", content: "two" },
      { role: "assistant", content: "ok" },
      { role: "assistant", content: "more" },
      { role: "user", content: "three" },
    ];

    const answer = await client.chatStream(HAIKU, messages, noDelta);

    expect(answer.completed).toBe(true);
    expect(lastBody(standIn).messages).toEqual([
      { role: "user", content: [{ text: "one" }, { text: "two" }] },
      { role: "assistant", content: [{ text: "ok" }, { text: "more" }] },
      { role: "user", content: [{ text: "three" }] },
    ]);
  });

  it("sends a photo as an image block of its format, before the text", async () => {
    await client.chatStream(HAIKU, [{ role: "user", content: "what is this?", images: [PNG] }], noDelta);

    expect(lastBody(standIn).messages).toEqual([{ role: "user", content: [{ image: { format: "png", source: { bytes: PNG } } }, { text: "what is this?" }] }]);
  });

  it("sends maxTokens as inferenceConfig.maxTokens", async () => {
    const answer = await client.chatStream(HAIKU, hello, noDelta, undefined, { maxTokens: 2 });

    expect(lastBody(standIn).inferenceConfig).toEqual({ maxTokens: 2 });
    expect(answer).toMatchObject({ content: "You said: ", completed: true });
  });

  it("passes reasoning to onThinking and `thinking`, never into the content", async () => {
    const thoughts: string[] = [];
    const pieces: string[] = [];

    const answer = await client.chatStream(R1, hello, (p) => pieces.push(p), undefined, { onThinking: (t) => thoughts.push(t) });

    expect(thoughts.join("")).toBe("Thinking about: hello there");
    expect(pieces.join("")).toBe("You said: hello there");
    expect(answer).toMatchObject({ content: "You said: hello there", thinking: "Thinking about: hello there", completed: true });
  });

  it("reports Bedrock's usage, evalCount = output tokens, and the time from the first piece to the last", async () => {
    let clock = 0;
    const timed = new BedrockClient({ region: REGION, endpoint: standIn.url, credentials: testCredentials, now: () => (clock += 10) });

    const answer = await timed.chatStream(HAIKU, hello, noDelta);

    expect(answer.usage).toEqual({ inputTokens: 3, outputTokens: 4 });
    expect(answer.evalCount).toBe(4);
    // Four deltas, 10 ms apart on the fake clock.
    expect(answer.evalDurationNs).toBe(30 * 1e6);
  });

  it("ends the request at once on Stop, keeping the text, and the stand-in sees the client leave", async () => {
    const slow = await startBedrockStandIn({ region: REGION, deltaIntervalMs: 50, answers: { [HAIKU]: "one two three four five six seven eight nine ten" } });
    const stopping = new BedrockClient({ region: REGION, endpoint: slow.url, credentials: testCredentials });
    const stop = new AbortController();

    const started = Date.now();
    const answer = await stopping.chatStream(HAIKU, hello, () => stop.abort(), stop.signal);
    const elapsedMs = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
    await slow.close();

    expect(answer).toMatchObject({ content: "one ", completed: false });
    expect(elapsedMs).toBeLessThan(400);
    expect(slow.generations).toEqual([expect.objectContaining({ ended: "aborted" })]);
    await expect(stopping.health()).resolves.toEqual({ reachable: true, detail: "Amazon Bedrock (no answer yet)" });
  });

  it.each([
    ["throttling", BEDROCK_FAILURES.throttling, "ThrottlingException", 429],
    ["input too long", BEDROCK_FAILURES.inputTooLong, "ValidationException", 400],
    ["access denied", BEDROCK_FAILURES.accessDenied, "AccessDeniedException", 403],
  ])("rejects HTTP %s with a ServiceError naming Bedrock's error and status", async (_what, failure, code, status) => {
    standIn.failNext(failure);

    const error = await client.chatStream(HAIKU, hello, noDelta).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: "bedrock", operation: "converseStream", code, status, description: failure.message });
  });

  it("rejects an unknown model id with ValidationException 400", async () => {
    await expect(client.chatStream("amazon.nope-v1:0", hello, noDelta)).rejects.toMatchObject({ code: "ValidationException", status: 400, description: "The provided model identifier is invalid." });
  });

  it("rejects an exception frame before any text, its status from its type", async () => {
    standIn.failNext({ kind: "exception", type: "throttlingException", message: "Too many tokens, please wait before trying again.", afterDeltas: 0 });

    await expect(client.chatStream(HAIKU, hello, noDelta)).rejects.toMatchObject({ name: "ServiceError", code: "ThrottlingException", status: 429 });
  });

  it("keeps the text when an exception frame arrives mid-stream, completed false", async () => {
    standIn.failNext(BEDROCK_FAILURES.modelStreamError);
    const pieces: string[] = [];

    const answer = await client.chatStream(HAIKU, hello, (p) => pieces.push(p));

    expect(answer).toMatchObject({ content: "You said: ", completed: false });
    expect(pieces.join("")).toBe("You said: ");
  });

  it("health reports the last answer: none yet, ok, then the failure's code", async () => {
    await expect(client.health()).resolves.toEqual({ reachable: true, detail: "Amazon Bedrock (no answer yet)" });
    await client.chatStream(HAIKU, hello, noDelta);
    await expect(client.health()).resolves.toEqual({ reachable: true, detail: "Amazon Bedrock (last answer ok)" });
    standIn.failNext(BEDROCK_FAILURES.modelStreamError);
    await client.chatStream(HAIKU, hello, noDelta);
    await expect(client.health()).resolves.toEqual({ reachable: false, reason: "last answer failed: ModelStreamErrorException" });
    standIn.failNext(BEDROCK_FAILURES.accessDenied);
    await client.chatStream(HAIKU, hello, noDelta).catch(() => undefined);
    await expect(client.health()).resolves.toEqual({ reachable: false, reason: "last answer failed: AccessDeniedException" });
  });

  it("never puts the session token in an error, though AWS echoes it in InvalidSignatureException", async () => {
    const badlySigned = new BedrockClient({ region: REGION, endpoint: standIn.url, credentials: async () => ({ ...TEST_BEDROCK_CREDENTIALS, secretAccessKey: "wrong/secret+key0123" }) });

    const error = (await badlySigned.chatStream(HAIKU, hello, noDelta).catch((e: unknown) => e)) as ServiceError;

    expect(error).toMatchObject({ code: "InvalidSignatureException", status: 403 });
    expect(`${error.message} ${error.stack} ${JSON.stringify(error)}`).not.toContain(TEST_BEDROCK_CREDENTIALS.sessionToken);
  });

  it.each([
    ["an HTTP error", "http"],
    ["an exception frame", "exception"],
  ])("blanks the secret key and session token out of %s's message", async (_what, kind) => {
    const { secretAccessKey, sessionToken } = TEST_BEDROCK_CREDENTIALS;
    const message = `echo ${sessionToken} and ${secretAccessKey}`;
    standIn.failNext(kind === "http" ? { kind: "http", status: 500, code: "InternalServerException", message } : { kind: "exception", type: "internalServerException", message, afterDeltas: 0 });

    const error = (await client.chatStream(HAIKU, hello, noDelta).catch((e: unknown) => e)) as ServiceError;

    expect(error.description).toBe("echo [REDACTED] and [REDACTED]");
    expect(`${error.message} ${error.stack}`).not.toMatch(new RegExp(`${sessionToken!.slice(0, 12)}|${secretAccessKey.slice(0, 12)}`));
  });

  it("rejects with a ConnectionError when nothing listens, and health says so", async () => {
    const refused = new BedrockClient({ region: REGION, endpoint: await closedPortUrl(), credentials: testCredentials });

    await expect(refused.chatStream(HAIKU, hello, noDelta)).rejects.toBeInstanceOf(ConnectionError);
    await expect(refused.health()).resolves.toEqual({ reachable: false, reason: "last answer failed: could not connect" });
  });

  it("showModel names no capabilities: the entry's flags decide", async () => {
    await expect(client.showModel(HAIKU)).resolves.toEqual({ capabilities: [] });
  });
});

describe("bedrock-wire", () => {
  it("reads a picture's format from its magic bytes, JPEG when unknown", () => {
    expect([JPEG, PNG, GIF, WEBP, "AAAA"].map(imageFormatOf)).toEqual(["jpeg", "png", "gif", "webp", "jpeg"]);
  });

  it("skips blank turns and leaves out an empty system; a picture without text is an image block alone", () => {
    const body = converseRequestOf([
      { role: "system", content: " " },
      { role: "user", content: "", images: [JPEG] },
      { role: "assistant", content: "   " },
      { role: "user", content: "and?" },
    ]);

    expect(body).toEqual({
      messages: [{ role: "user", content: [{ image: { format: "jpeg", source: { bytes: JPEG } } }, { text: "and?" }] }],
      inferenceConfig: { maxTokens: DEFAULT_BEDROCK_MAX_TOKENS },
    });
  });

  it("takes a positive integer maxTokens only", () => {
    expect([512, 0, -1, 1.5, undefined].map((maxTokens) => converseRequestOf(hello, { maxTokens }).inferenceConfig.maxTokens)).toEqual([512, 2048, 2048, 2048, 2048]);
  });

  it("encodes the model id as one path segment, as the SDK does", () => {
    expect(converseStreamPath(HAIKU)).toBe("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
    expect(converseStreamPath("arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.x(1)")).toBe(
      "/model/arn%3Aaws%3Abedrock%3Aeu-central-1%3A123456789012%3Ainference-profile%2Feu.x%281%29/converse-stream",
    );
  });

  it("names an error as the SDK does, from x-amzn-errortype or the body, in one spelling", () => {
    expect(errorNameOf("AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/", {})).toBe("AccessDeniedException");
    expect(errorNameOf(undefined, { __type: "com.amazon.bedrock#ThrottlingException" })).toBe("ThrottlingException");
    expect(errorNameOf(undefined, { code: "validationException" })).toBe("ValidationException");
    expect(errorNameOf(undefined, "not json")).toBeUndefined();
    expect(["throttlingException", "serviceUnavailableException", "internalServerException", "modelStreamErrorException", "SomethingNew"].map(statusOfBedrockError)).toEqual([429, 503, 500, 424, 500]);
  });

  it("gives the default endpoint of a region", () => {
    expect(bedrockEndpointOf("eu-central-1")).toBe("https://bedrock-runtime.eu-central-1.amazonaws.com");
    expect(bedrockEndpointOf("cn-north-1")).toBe("https://bedrock-runtime.cn-north-1.amazonaws.com.cn");
  });
});

describe("bedrock-events", () => {
  const codec = new EventStreamCodec((b) => Buffer.from(b).toString("utf8"), (s) => new Uint8Array(Buffer.from(s)));
  const str = (value: string) => ({ type: "string" as const, value });
  const frame = (headers: Record<string, string>, payload: unknown) =>
    codec.encode({ headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, str(v)])), body: new Uint8Array(Buffer.from(JSON.stringify(payload))) });
  const event = (type: string, payload: unknown) => frame({ ":event-type": type, ":content-type": "application/json", ":message-type": "event" }, payload);

  it("reassembles frames fed one byte at a time", () => {
    const bytes = Buffer.concat([event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "Hi" } }), event("messageStop", { stopReason: "end_turn" })]);
    const frames = new EventStreamFrames();

    const out = [...bytes].flatMap((byte) => frames.push(Uint8Array.of(byte)));

    expect(out.map(converseEventOf)).toEqual([{ kind: "text", text: "Hi" }, { kind: "stop", stopReason: "end_turn" }]);
    expect(frames.pendingBytes).toBe(0);
  });

  it("decodes reasoning, metadata, exception and error frames", () => {
    expect(converseEventOf(event("contentBlockDelta", { delta: { reasoningContent: { text: "hm" } } }))).toEqual({ kind: "reasoning", text: "hm" });
    expect(converseEventOf(event("contentBlockDelta", { delta: { reasoningContent: { signature: "x" } } }))).toEqual({ kind: "other" });
    expect(converseEventOf(event("metadata", { usage: { inputTokens: 5, outputTokens: 7, totalTokens: 12 }, metrics: { latencyMs: 80 } }))).toEqual({
      kind: "metadata",
      usage: { inputTokens: 5, outputTokens: 7 },
      latencyMs: 80,
    });
    expect(converseEventOf(frame({ ":exception-type": "modelStreamErrorException", ":content-type": "application/json", ":message-type": "exception" }, { message: "boom" }))).toEqual({
      kind: "exception",
      name: "ModelStreamErrorException",
      message: "boom",
    });
    expect(converseEventOf(frame({ ":error-code": "InternalFailure", ":error-message": "oops", ":message-type": "error" }, {}))).toEqual({ kind: "exception", name: "InternalFailure", message: "oops" });
  });

  it("refuses a frame whose checksum does not match, or an impossible length", () => {
    const corrupt = Buffer.from(event("messageStop", { stopReason: "end_turn" }));
    corrupt[corrupt.length - 6] ^= 0xff;

    expect(() => converseEventOf(corrupt)).toThrow();
    expect(() => new EventStreamFrames().push(Uint8Array.of(0, 0, 0, 3))).toThrow(/impossible length/);
  });
});
