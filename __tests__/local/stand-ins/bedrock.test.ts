import { request as httpRequest } from "node:http";
import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseStreamCommand,
  ModelStreamErrorException,
  ThrottlingException,
  ValidationException,
  type ConverseStreamCommandInput,
  type ConverseStreamOutput,
} from "@aws-sdk/client-bedrock-runtime";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { BEDROCK_FAILURES, startBedrockStandIn, TEST_BEDROCK_CREDENTIALS, type BedrockStandIn } from "../../../local/stand-ins/bedrock";

const REGION = "eu-central-1";
const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
const R1 = "us.deepseek.r1-v1:0";
/** The first bytes of a PNG: what the stand-in checks a `png` block against. */
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

const hello = (modelId = HAIKU): ConverseStreamCommandInput => ({
  modelId,
  messages: [{ role: "user", content: [{ text: "hello there" }] }],
  inferenceConfig: { maxTokens: 256 },
});

/** Sends ConverseStream with the real SDK and collects every event of the stream. */
async function converse(client: BedrockRuntimeClient, input: ConverseStreamCommandInput): Promise<ConverseStreamOutput[]> {
  const response = await client.send(new ConverseStreamCommand(input));
  const events: ConverseStreamOutput[] = [];
  for await (const event of response.stream ?? []) events.push(event);
  return events;
}

/**
 * An SDK client on the stand-in: over HTTP/1.1 (the client's default is HTTP/2, which Bedrock
 * also serves; the adapter and the stand-in speak 1.1), one attempt (the SDK would retry
 * throttling with backoff), and a copy of the credentials (the SDK marks the object it gets).
 */
const sdkClient = (url: string, region = REGION, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = TEST_BEDROCK_CREDENTIALS) =>
  new BedrockRuntimeClient({ region, endpoint: url, credentials: { ...credentials }, maxAttempts: 1, requestHandler: new NodeHttpHandler() });

const textOf = (events: readonly ConverseStreamOutput[]) => events.map((e) => e.contentBlockDelta?.delta?.text ?? "").join("");

describe("startBedrockStandIn, driven by @aws-sdk/client-bedrock-runtime", () => {
  let standIn: BedrockStandIn;
  let client: BedrockRuntimeClient;

  beforeAll(async () => {
    standIn = await startBedrockStandIn({ region: REGION, reasoningModels: [R1], deltaIntervalMs: 1 });
    client = sdkClient(standIn.url);
  });
  afterAll(async () => {
    client.destroy();
    await standIn.close();
  });

  it("streams the answer as contentBlockDelta text between messageStart and messageStop", async () => {
    const events = await converse(client, hello());

    expect(events[0]).toEqual({ messageStart: { role: "assistant" } });
    expect(textOf(events)).toBe("You said: hello there");
    expect(events.at(-2)).toEqual({ messageStop: { stopReason: "end_turn" } });
    expect(standIn.requests.at(-1)).toMatchObject({ modelId: HAIKU, status: 200 });
  });

  it("ends with metadata carrying plausible usage and a latency", async () => {
    const events = await converse(client, hello());

    const metadata = events.at(-1)?.metadata;
    // "hello there" is 11 characters (3 tokens); the answer is 4 deltas.
    expect(metadata?.usage).toEqual({ inputTokens: 3, outputTokens: 4, totalTokens: 7 });
    expect(metadata?.metrics?.latencyMs).toEqual(expect.any(Number));
  });

  it("sends a reasoning model's reasoning as reasoningContent deltas in block 0, the text in block 1", async () => {
    const events = await converse(client, hello(R1));

    const reasoning = events.map((e) => e.contentBlockDelta?.delta?.reasoningContent?.text ?? "").join("");
    expect(reasoning).toBe("Thinking about: hello there");
    expect(textOf(events)).toBe("You said: hello there");
    expect(events.find((e) => e.contentBlockDelta?.delta?.text)?.contentBlockDelta?.contentBlockIndex).toBe(1);
  });

  it("stops at maxTokens with stopReason max_tokens", async () => {
    const events = await converse(client, { ...hello(), inferenceConfig: { maxTokens: 2 } });

    expect(textOf(events)).toBe("You said: ");
    expect(events.at(-2)).toEqual({ messageStop: { stopReason: "max_tokens" } });
  });

  it("takes an image block whose format matches its bytes, and refuses one that does not", async () => {
    const input = (format: "png" | "jpeg"): ConverseStreamCommandInput => ({
      modelId: HAIKU,
      messages: [{ role: "user", content: [{ image: { format, source: { bytes: PNG } } }, { text: "what is this?" }] }],
    });

    await converse(client, input("png"));
    expect(standIn.requests.at(-1)?.body).toMatchObject({ messages: [{ content: [{ image: { format: "png", source: { bytes: Buffer.from(PNG).toString("base64") } } }, { text: "what is this?" }] }] });
    await expect(converse(client, input("jpeg"))).rejects.toBeInstanceOf(ValidationException);
  });

  it("refuses turns that do not alternate, as Converse does", async () => {
    const input: ConverseStreamCommandInput = {
      modelId: HAIKU,
      messages: [
        { role: "user", content: [{ text: "one" }] },
        { role: "user", content: [{ text: "two" }] },
      ],
    };

    await expect(converse(client, input)).rejects.toThrow(/must alternate between user and assistant/);
  });

  it("surfaces a mid-stream exception frame as the SDK's ModelStreamErrorException, after the text sent", async () => {
    standIn.failNext(BEDROCK_FAILURES.modelStreamError);
    const response = await client.send(new ConverseStreamCommand(hello()));
    const texts: string[] = [];

    const error = await (async () => {
      for await (const event of response.stream ?? []) texts.push(event.contentBlockDelta?.delta?.text ?? "");
    })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelStreamErrorException);
    expect(error).toMatchObject({ originalStatusCode: 500, message: BEDROCK_FAILURES.modelStreamError.message });
    expect(texts.join("")).toBe("You said: ");
    expect(standIn.generations.at(-1)).toMatchObject({ ended: "failed", deltas: 2 });
  });

  it.each([
    ["AccessDeniedException", BEDROCK_FAILURES.accessDenied, AccessDeniedException, 403],
    ["ThrottlingException", BEDROCK_FAILURES.throttling, ThrottlingException, 429],
    ["ValidationException", BEDROCK_FAILURES.inputTooLong, ValidationException, 400],
  ])("answers an HTTP %s the SDK reads as its typed error", async (_name, failure, type, status) => {
    standIn.failNext(failure);

    const error = await converse(client, hello()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ message: failure.message, $metadata: { httpStatusCode: status } });
  });

  it("refuses a model it does not serve with ValidationException", async () => {
    await expect(converse(client, hello("amazon.titan-nope-v9:0"))).rejects.toThrow(new ValidationException({ message: "The provided model identifier is invalid.", $metadata: {} }));
  });

  it("refuses a request signed with the wrong secret key (403 InvalidSignatureException)", async () => {
    const wrong = sdkClient(standIn.url, REGION, { ...TEST_BEDROCK_CREDENTIALS, secretAccessKey: "not-the-secret" });

    const error = await converse(wrong, hello()).catch((e: unknown) => e);
    wrong.destroy();

    expect(error).toMatchObject({ name: "InvalidSignatureException", $metadata: { httpStatusCode: 403 } });
    expect(standIn.requests.at(-1)).toMatchObject({ status: 403, errorCode: "InvalidSignatureException" });
  });

  it("refuses a signature scoped to another region, and temporary keys without their session token", async () => {
    const otherRegion = sdkClient(standIn.url, "us-west-2");
    const { sessionToken: _dropped, ...noToken } = TEST_BEDROCK_CREDENTIALS;
    const tokenless = sdkClient(standIn.url, REGION, noToken);

    await expect(converse(otherRegion, hello())).rejects.toMatchObject({ name: "InvalidSignatureException" });
    await expect(converse(tokenless, hello())).rejects.toMatchObject({ name: "UnrecognizedClientException", $metadata: { httpStatusCode: 403 } });
    otherRegion.destroy();
    tokenless.destroy();
  });
});

describe("startBedrockStandIn's stream", () => {
  it("writes its frames in chunks that end inside frames", async () => {
    const standIn = await startBedrockStandIn({ deltaIntervalMs: 5 });
    const client = sdkClient(standIn.url, "us-east-1");
    // Sign with the SDK's own middleware, then replay the request by hand to see the raw chunks.
    let signed: { headers: Record<string, string>; body: string; path: string } | undefined;
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers: Record<string, string>; body: string; path: string };
        signed = { headers: { ...request.headers }, body: request.body, path: request.path };
        return next(args);
      },
      { step: "finalizeRequest", priority: "low" },
    );
    await converse(client, hello());
    const chunks: Buffer[] = await new Promise((resolve, reject) => {
      const req = httpRequest(`${standIn.url}${signed!.path}`, { method: "POST", headers: signed!.headers }, (res) => {
        const received: Buffer[] = [];
        res.on("data", (chunk: Buffer) => received.push(chunk));
        res.on("end", () => resolve(received));
      });
      req.on("error", reject);
      req.end(signed!.body);
    });
    client.destroy();
    await standIn.close();

    const whole = Buffer.concat(chunks);
    const boundaries = new Set<number>();
    for (let at = 0; at < whole.length; at += whole.readUInt32BE(at)) boundaries.add(at);
    let offset = 0;
    const cutInside = chunks.slice(0, -1).filter((chunk) => !boundaries.has((offset += chunk.length)));
    const codec = new EventStreamCodec((b) => Buffer.from(b).toString("utf8"), (s) => Buffer.from(s));
    const types = [...boundaries].map((at) => codec.decode(whole.subarray(at, at + whole.readUInt32BE(at))).headers[":event-type"]?.value);

    expect(chunks.length).toBeGreaterThan(3);
    expect(cutInside.length).toBeGreaterThan(0);
    expect(types).toEqual(["messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockDelta", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]);
  });
});
