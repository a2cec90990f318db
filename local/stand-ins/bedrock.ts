/**
 * A small HTTP server speaking Amazon Bedrock Runtime's ConverseStream as AWS does, for tests
 * and local mode instead of an AWS account: POST /model/{modelId}/converse-stream, checked
 * like AWS checks it (a SigV4 signature recomputed with @smithy/signature-v4 from the known
 * credentials, the session token, the Converse rules on turns and blocks), answered with real
 * `application/vnd.amazon.eventstream` frames (@smithy/eventstream-codec) written in pieces
 * cut at arbitrary bytes and paced, so a Stop can land mid-answer. Errors are AWS's restJson1
 * errors (`x-amzn-errortype`, `{"message"}`) and exception frames. The real
 * @aws-sdk/client-bedrock-runtime is driven against it (its test), so it cannot drift from the
 * wire the adapter must speak.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { EventStreamCodec, type MessageHeaders } from "@smithy/eventstream-codec";
import { SignatureV4 } from "@smithy/signature-v4";
import type { HeaderBag, HttpRequest } from "@smithy/types";
import { readBody } from "../read-body";

/** Credentials the stand-in accepts signatures of. */
export interface BedrockStandInCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** When set, a request must carry it as x-amz-security-token (temporary credentials). @default - none */
  readonly sessionToken?: string;
}

/** The test credentials: temporary ones, so the session token is checked too. */
export const TEST_BEDROCK_CREDENTIALS: BedrockStandInCredentials = Object.freeze({
  accessKeyId: "ASIABEDROCKSTANDIN01",
  secretAccessKey: "bedrockStandInSecret/Key+0123456789abcdefXYZ",
  sessionToken: "IQoJb3JpZ2luX2VjEBedrockStandInSessionToken/0123456789+abcdef==",
});

/** Models served when none are named: an on-demand model, an inference profile, a reasoning model. */
export const DEFAULT_BEDROCK_STAND_IN_MODELS: readonly string[] = Object.freeze([
  "anthropic.claude-3-haiku-20240307-v1:0",
  "eu.anthropic.claude-sonnet-4-20250514-v1:0",
  "us.deepseek.r1-v1:0",
]);

/** A failure the stand-in answers with: an HTTP error before the stream, or an exception frame in it. */
export type BedrockFailure =
  /** A restJson1 error: this status, `x-amzn-errortype: <code>:http://internal.amazon.com/coral/...`, `{"message"}`. */
  | { readonly kind: "http"; readonly status: number; readonly code: string; readonly message: string }
  /** An exception frame (`:exception-type` e.g. `modelStreamErrorException`) after `afterDeltas` deltas, ending the stream. */
  | { readonly kind: "exception"; readonly type: string; readonly message: string; readonly afterDeltas: number };

/** AWS's own failures, as Bedrock words them. */
export const BEDROCK_FAILURES = Object.freeze({
  accessDenied: { kind: "http", status: 403, code: "AccessDeniedException", message: "You don't have access to the model with the specified model ID." },
  throttling: { kind: "http", status: 429, code: "ThrottlingException", message: "Too many requests, please wait before trying again." },
  inputTooLong: { kind: "http", status: 400, code: "ValidationException", message: "Input is too long for requested model." },
  modelStreamError: { kind: "exception", type: "modelStreamErrorException", message: "The system encountered an unexpected error during processing. Try your request again.", afterDeltas: 2 },
} satisfies Record<string, BedrockFailure>);

/** A Converse request body, as far as the stand-in reads it (it checks the rest of the shape). */
export interface StandInConverseBody {
  readonly messages: readonly { readonly role: string; readonly content: readonly Record<string, unknown>[] }[];
  readonly system?: readonly { readonly text?: string }[];
  readonly inferenceConfig?: { readonly maxTokens?: number };
}

/** One well-formed ConverseStream call, as a reply function sees it. */
export interface StandInConverseCall {
  readonly modelId: string;
  readonly body: StandInConverseBody;
}

/** How to start the stand-in. */
export interface BedrockStandInOptions {
  /** The region signatures must be scoped to. @default "us-east-1" */
  readonly region?: string;
  /** @default TEST_BEDROCK_CREDENTIALS */
  readonly credentials?: BedrockStandInCredentials;
  /** Model ids served; another gets 400 ValidationException. @default DEFAULT_BEDROCK_STAND_IN_MODELS */
  readonly models?: readonly string[];
  /** A scripted answer per model id. @default - reply(call) */
  readonly answers?: Readonly<Record<string, string>>;
  /** The answer of a model without a scripted one. @default - `You said: <last user text>` */
  readonly reply?: (call: StandInConverseCall) => string;
  /** Models that reason first (`reasoningContent` deltas in block 0, the text in block 1). @default - none */
  readonly reasoningModels?: readonly string[];
  /** Their reasoning. @default - `Thinking about: <last user text>` */
  readonly reasoning?: (call: StandInConverseCall) => string;
  /** Pause after each delta, in ms. @default 5 */
  readonly deltaIntervalMs?: number;
  /** A failure every request meets (see also failNext). @default - none */
  readonly failure?: BedrockFailure;
}

/** One request as the stand-in received it. */
export interface BedrockRecordedRequest {
  /** The decoded model id of the path; undefined for another path. */
  readonly modelId: string | undefined;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body parsed as JSON (the raw text when it is not JSON). */
  readonly body: unknown;
  /** 200 when it streamed, else the error's status. */
  readonly status: number;
  /** The error name answered (`InvalidSignatureException`...). @default - none: it streamed */
  readonly errorCode?: string;
}

/** How one streamed answer ended: all frames sent, the client gone first, or an exception frame. */
export interface BedrockGeneration {
  readonly modelId: string;
  readonly ended: "completed" | "aborted" | "failed";
  /** Deltas sent (text and reasoning). */
  readonly deltas: number;
  readonly at: number;
}

/** A running stand-in. */
export interface BedrockStandIn {
  /** `http://127.0.0.1:<port>`: the endpoint (AWS_ENDPOINT_URL_BEDROCK_RUNTIME, the SDK's `endpoint`). */
  readonly url: string;
  readonly requests: readonly BedrockRecordedRequest[];
  readonly generations: readonly BedrockGeneration[];
  /** The next `times` requests that pass the checks meet this failure. */
  failNext(failure: BedrockFailure, times?: number): void;
  /** Stops the server, ending streams in progress. */
  close(): Promise<void>;
}

const SERVICE = "bedrock";
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60 * 1000;
/** Input tokens the stand-in counts per picture (Claude's figure for about 1.15 megapixels). */
const TOKENS_PER_IMAGE = 1_600;
/** Bedrock pads each event with a `p` field of random length, against length side channels. */
const PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123";

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : (value ?? "");
};

const bytesOf = (data: string | ArrayBuffer | ArrayBufferView) =>
  typeof data === "string" ? Buffer.from(data, "utf8") : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

/** The stand-in's own SHA-256/HMAC (not the adapter's), so a broken client hash cannot agree with itself. */
class CheckHash {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** The SDK's signer, keeping the canonical request it built: AWS quotes it when a signature does not match. */
class CheckingSigner extends SignatureV4 {
  canonicalRequest = "";
  protected override createCanonicalRequest(request: HttpRequest, canonicalHeaders: HeaderBag, payloadHash: string): string {
    this.canonicalRequest = super.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    return this.canonicalRequest;
  }
}

/** Epoch ms of an x-amz-date (`20261124T213000Z`), or NaN. */
function amzDateMs(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : Number.NaN;
}

type Refusal = { readonly status: number; readonly code: string; readonly message: string };
const refusal = (status: number, code: string, message: string): Refusal => ({ status, code, message });
const INVALID_TOKEN = refusal(403, "UnrecognizedClientException", "The security token included in the request is invalid.");

/** Why AWS would refuse this request's signature, or undefined when it is valid. */
async function signatureRefusal(req: IncomingMessage, raw: Buffer, region: string, credentials: BedrockStandInCredentials): Promise<Refusal | undefined> {
  const authorization = header(req.headers, "authorization");
  if (authorization === "") return refusal(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
  const auth = AUTHORIZATION.exec(authorization);
  if (!auth) return refusal(403, "IncompleteSignatureException", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.");
  const [, accessKeyId, , scopeRegion, scopeService, signedList, signature] = auth;
  if (accessKeyId !== credentials.accessKeyId) return INVALID_TOKEN;
  if (credentials.sessionToken !== undefined && header(req.headers, "x-amz-security-token") !== credentials.sessionToken) return INVALID_TOKEN;
  if (scopeRegion !== region) return refusal(403, "InvalidSignatureException", `Credential should be scoped to a valid region, not '${scopeRegion}'.`);
  if (scopeService !== SERVICE) return refusal(403, "InvalidSignatureException", `Credential should be scoped to correct service: '${SERVICE}'.`);
  const signedAt = amzDateMs(header(req.headers, "x-amz-date"));
  if (!(Math.abs(Date.now() - signedAt) <= MAX_SKEW_MS)) return refusal(403, "InvalidSignatureException", "Signature expired or x-amz-date missing.");
  const signedHeaders = signedList.split(";");
  if (!signedHeaders.includes("host")) return refusal(403, "InvalidSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const contentSha = header(req.headers, "x-amz-content-sha256");
  if (contentSha !== "" && contentSha !== createHash("sha256").update(raw).digest("hex")) {
    return refusal(400, "InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const [path, search = ""] = (req.url ?? "/").split("?");
  const signer = new CheckingSigner({ credentials, region, service: SERVICE, sha256: CheckHash, applyChecksum: false });
  const headers = Object.fromEntries(signedHeaders.map((name) => [name, header(req.headers, name)]));
  const query = Object.fromEntries(new URLSearchParams(search));
  const expected = await signer.sign({ method: req.method ?? "POST", protocol: "http:", hostname: "127.0.0.1", path, query, headers, body: raw }, { signingDate: new Date(signedAt) });
  const computed = /Signature=([0-9a-f]{64})$/.exec(expected.headers.authorization ?? "")?.[1] ?? "";
  if (timingSafeEqual(Buffer.from(computed.padEnd(64, "0")), Buffer.from(signature))) return undefined;
  return refusal(
    403,
    "InvalidSignatureException",
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. " +
      `Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${signer.canonicalRequest}'\n`,
  );
}

const FORMATS: Readonly<Record<string, (b: Buffer) => boolean>> = {
  jpeg: (b) => b[0] === 0xff && b[1] === 0xd8,
  png: (b) => b.subarray(1, 4).toString("latin1") === "PNG",
  gif: (b) => b.subarray(0, 3).toString("latin1") === "GIF",
  webp: (b) => b.subarray(8, 12).toString("latin1") === "WEBP",
};

/** Why Converse would refuse a block, or undefined. */
function blockProblem(block: Record<string, unknown>, where: string): string | undefined {
  if ("text" in block) {
    return typeof block.text === "string" && block.text.trim() !== "" ? undefined : `The text field in the ContentBlock object at ${where} is blank. Add text to the text field, and try again.`;
  }
  const image = block.image as { format?: unknown; source?: { bytes?: unknown } } | undefined;
  if (image === undefined) return `The content block at ${where} is of a type this stand-in does not know.`;
  const check = typeof image.format === "string" ? FORMATS[image.format] : undefined;
  if (!check || typeof image.source?.bytes !== "string") return `The image at ${where} needs a format (jpeg, png, gif, webp) and source.bytes.`;
  return check(Buffer.from(image.source.bytes, "base64")) ? undefined : `The image at ${where} is not a valid ${image.format} image.`;
}

/** Why Converse would refuse the body (ValidationException), or undefined. */
function bodyProblem(body: unknown): string | undefined {
  const { messages, system, inferenceConfig } = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  if (!Array.isArray(messages)) return "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null";
  const maxTokens = (inferenceConfig as { maxTokens?: unknown } | undefined)?.maxTokens;
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && (maxTokens as number) >= 1)) {
    return `1 validation error detected: Value '${String(maxTokens)}' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1`;
  }
  if (system !== undefined && !(Array.isArray(system) && system.every((s: { text?: unknown }) => typeof s.text === "string" && s.text.trim() !== ""))) {
    return "The text field in a SystemContentBlock object is blank. Add text to the text field, and try again.";
  }
  if ((messages[0] as { role?: unknown } | undefined)?.role !== "user") return "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
  for (const [i, message] of (messages as { role?: unknown; content?: unknown }[]).entries()) {
    if (i > 0 && message.role === (messages[i - 1] as { role?: unknown }).role) {
      return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.";
    }
    if (message.role !== "user" && message.role !== "assistant") return `messages.${i}.role must be user or assistant.`;
    if (!Array.isArray(message.content) || message.content.length === 0) return `messages.${i}.content must hold at least one content block.`;
    for (const [j, block] of (message.content as Record<string, unknown>[]).entries()) {
      const problem = blockProblem(block, `messages.${i}.content.${j}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** The last user turn's text. */
function lastUserText(call: StandInConverseCall): string {
  const turn = [...call.body.messages].reverse().find((m) => m.role === "user");
  return (turn?.content ?? []).map((b) => (typeof b.text === "string" ? b.text : "")).join(" ").trim();
}

/** About one token per four characters of text, plus a fixed count per picture. */
function inputTokensOf(body: StandInConverseBody): number {
  const blocks = [...(body.system ?? []), ...body.messages.flatMap((m) => m.content)] as Record<string, unknown>[];
  const chars = blocks.reduce((n, b) => n + (typeof b.text === "string" ? b.text.length : 0), 0);
  return Math.ceil(chars / 4) + blocks.filter((b) => "image" in b).length * TOKENS_PER_IMAGE;
}

const words = (text: string) => text.match(/\S+\s*|\s+/g) ?? [];
const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString("utf8"),
  (text) => new Uint8Array(Buffer.from(text, "utf8")),
);
const str = (value: string) => ({ type: "string" as const, value });

/** Writes frames so that every write ends inside a frame (a tail of it carried to the next write). */
class SplitWriter {
  private carry = Buffer.alloc(0);
  private seed: number;
  constructor(private readonly res: ServerResponse, seed: number) {
    this.seed = seed;
  }
  async frame(headers: MessageHeaders, payload: Record<string, unknown>): Promise<void> {
    this.seed = (this.seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const body = new Uint8Array(Buffer.from(JSON.stringify({ ...payload, p: PADDING.slice(0, 1 + (this.seed % PADDING.length)) })));
    const bytes = Buffer.concat([this.carry, codec.encode({ headers, body })]);
    const tail = 1 + (this.seed % (bytes.length - this.carry.length - 1));
    this.carry = bytes.subarray(bytes.length - tail);
    await new Promise<void>((resolve) => this.res.write(bytes.subarray(0, bytes.length - tail), () => resolve()));
  }
  event(type: string, payload: Record<string, unknown>): Promise<void> {
    return this.frame({ ":event-type": str(type), ":content-type": str("application/json"), ":message-type": str("event") }, payload);
  }
  exception(type: string, payload: Record<string, unknown>): Promise<void> {
    return this.frame({ ":exception-type": str(type), ":content-type": str("application/json"), ":message-type": str("exception") }, payload);
  }
  end(): void {
    this.res.end(this.carry);
  }
}

function sendError(res: ServerResponse, { status, code, message }: Refusal): void {
  const text = JSON.stringify({ message });
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    "x-amzn-requestid": randomUUID(),
    "x-amzn-errortype": `${code}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  });
  res.end(text);
}

/** Starts the stand-in on a free loopback port; see the module comment. */
export async function startBedrockStandIn(options: BedrockStandInOptions = {}): Promise<BedrockStandIn> {
  const region = options.region ?? "us-east-1";
  const credentials = options.credentials ?? TEST_BEDROCK_CREDENTIALS;
  const models = new Set(options.models ?? DEFAULT_BEDROCK_STAND_IN_MODELS);
  const intervalMs = options.deltaIntervalMs ?? 5;
  const requests: BedrockRecordedRequest[] = [];
  const generations: BedrockGeneration[] = [];
  const queued: BedrockFailure[] = [];
  const open = new Set<ServerResponse>();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const answerOf = (call: StandInConverseCall) => options.answers?.[call.modelId] ?? (options.reply ?? ((c) => `You said: ${lastUserText(c)}`))(call);
  const reasoningOf = (call: StandInConverseCall) =>
    options.reasoningModels?.includes(call.modelId) ? (options.reasoning ?? ((c) => `Thinking about: ${lastUserText(c)}`))(call) : "";

  async function stream(res: ServerResponse, call: StandInConverseCall, failure: BedrockFailure | undefined): Promise<void> {
    const started = Date.now();
    const reasoning = words(reasoningOf(call)).map((text) => ({ reasoningContent: { text } }));
    const limit = call.body.inferenceConfig?.maxTokens ?? Number.POSITIVE_INFINITY;
    const all = [...reasoning, ...words(answerOf(call)).map((text) => ({ text }))];
    const deltas = all.slice(0, limit);
    let sent = 0;
    let failed = false;
    res.on("close", () => {
      open.delete(res);
      generations.push({ modelId: call.modelId, ended: failed ? "failed" : res.writableFinished ? "completed" : "aborted", deltas: sent, at: Date.now() });
    });
    res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": randomUUID() });
    const out = new SplitWriter(res, generations.length + 7);
    await out.event("messageStart", { role: "assistant" });
    for (const delta of deltas) {
      if (failure?.kind === "exception" && sent === failure.afterDeltas) break;
      const index = "text" in delta && reasoning.length > 0 ? 1 : 0;
      if (index === 1 && sent === reasoning.length) {
        // Claude closes its reasoning block with a signature delta before the text starts.
        await out.event("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { signature: "c3RhbmQtaW4=" } } });
        await out.event("contentBlockStop", { contentBlockIndex: 0 });
      }
      await out.event("contentBlockDelta", { contentBlockIndex: index, delta });
      sent += 1;
      await sleep(intervalMs);
      if (res.destroyed) return;
    }
    if (failure?.kind === "exception") {
      failed = true;
      const original = failure.type === "modelStreamErrorException" ? { originalStatusCode: 500, originalMessage: "model runner failed" } : {};
      await out.exception(failure.type, { message: failure.message, ...original });
      return out.end();
    }
    await out.event("contentBlockStop", { contentBlockIndex: reasoning.length > 0 && sent > reasoning.length ? 1 : 0 });
    await out.event("messageStop", { stopReason: all.length > deltas.length ? "max_tokens" : "end_turn" });
    const inputTokens = inputTokensOf(call.body);
    await out.event("metadata", { usage: { inputTokens, outputTokens: sent, totalTokens: inputTokens + sent }, metrics: { latencyMs: Date.now() - started } });
    out.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? "/").split("?")[0];
    const match = /^\/model\/([^/]+)\/converse-stream$/.exec(path);
    const modelId = match ? decodeURIComponent(match[1]) : undefined;
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      body = raw.toString("utf8");
    }
    const record = (status: number, errorCode?: string) =>
      requests.push({ modelId, path, headers: { ...req.headers }, body, status, ...(errorCode ? { errorCode } : {}) });
    const refuse = (answer: Refusal) => {
      record(answer.status, answer.code);
      sendError(res, answer);
    };
    if (req.method !== "POST" || modelId === undefined) return refuse(refusal(404, "UnknownOperationException", "Unknown operation"));
    const bad = await signatureRefusal(req, raw, region, credentials);
    if (bad) return refuse(bad);
    if (!models.has(modelId)) return refuse(refusal(400, "ValidationException", "The provided model identifier is invalid."));
    const problem = bodyProblem(body);
    if (problem) return refuse(refusal(400, "ValidationException", problem));
    const failure = queued.shift() ?? options.failure;
    if (failure?.kind === "http") return refuse(failure);
    record(200);
    open.add(res);
    await stream(res, { modelId, body: body as StandInConverseBody }, failure);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    generations,
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i += 1) queued.push(failure);
    },
    async close() {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
