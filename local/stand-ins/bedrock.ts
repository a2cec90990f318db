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
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { readBody } from "../read-body";
import { bodyProblem, inputTokensOf, lastUserText, type StandInConverseBody, type StandInConverseCall } from "./bedrock-converse";
import { sendError, SplitWriter } from "./bedrock-frames";
import { refusal, signatureRefusal, type BedrockStandInCredentials, type Refusal } from "./bedrock-signature";
import { closeServer, listenOnLoopback } from "./loopback-server";

export type { StandInConverseBody, StandInConverseCall } from "./bedrock-converse";
export type { BedrockStandInCredentials } from "./bedrock-signature";

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

/** How to start the stand-in. */
export interface BedrockStandInOptions {
  /**
   * The region signatures must be scoped to, or several (one endpoint override serves every
   * region a model list names). @default "us-east-1"
   */
  readonly region?: string | readonly string[];
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
  /** Pause before the first delta (the model's time to its first token), in ms. @default 0 */
  readonly firstDeltaDelayMs?: number;
  /** Cut each frame across two writes, the tail held until the next frame (the wire at its roughest). @default true */
  readonly splitFrames?: boolean;
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

/** A running stand-in's settings and records, shared by its request handlers. */
interface StandInState {
  readonly options: BedrockStandInOptions;
  readonly regions: readonly string[];
  readonly credentials: BedrockStandInCredentials;
  readonly models: ReadonlySet<string>;
  readonly intervalMs: number;
  readonly requests: BedrockRecordedRequest[];
  readonly generations: BedrockGeneration[];
  readonly queued: BedrockFailure[];
  readonly open: Set<ServerResponse>;
}

/** One delta of an answer: reasoning (content block 0 of a reasoning model) or text. */
type Delta = { readonly reasoningContent: { readonly text: string } } | { readonly text: string };

/** What one answer streams: its deltas (cut at maxTokens), how many reasoning ones lead, and whether it was cut. */
interface AnswerPlan {
  readonly deltas: readonly Delta[];
  readonly reasoning: number;
  readonly cut: boolean;
}

const words = (text: string) => text.match(/\S+\s*|\s+/g) ?? [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The answer's deltas: the reasoning of a reasoning model, then the text, at most maxTokens of them. */
function planOf(options: BedrockStandInOptions, call: StandInConverseCall): AnswerPlan {
  const answer = options.answers?.[call.modelId] ?? (options.reply ?? ((c) => `You said: ${lastUserText(c)}`))(call);
  const thinks = options.reasoningModels?.includes(call.modelId) === true;
  const reasoning = thinks ? words((options.reasoning ?? ((c) => `Thinking about: ${lastUserText(c)}`))(call)).map((text) => ({ reasoningContent: { text } })) : [];
  const all = [...reasoning, ...words(answer).map((text) => ({ text }))];
  const deltas = all.slice(0, call.body.inferenceConfig?.maxTokens ?? Number.POSITIVE_INFINITY);
  return { deltas, reasoning: reasoning.length, cut: all.length > deltas.length };
}

/** Deltas sent so far, and whether the stream ended with an exception frame. */
interface Progress {
  sent: number;
  failed: boolean;
}

/** Sends the deltas, paced; false when the client left (the stream is then over). */
async function sendDeltas(out: SplitWriter, res: ServerResponse, plan: AnswerPlan, failure: BedrockFailure | undefined, intervalMs: number, progress: Progress): Promise<boolean> {
  for (const delta of plan.deltas) {
    if (failure?.kind === "exception" && progress.sent === failure.afterDeltas) break;
    const index = "text" in delta && plan.reasoning > 0 ? 1 : 0;
    if (index === 1 && progress.sent === plan.reasoning) {
      // Claude closes its reasoning block with a signature delta before the text starts.
      await out.event("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { signature: "c3RhbmQtaW4=" } } });
      await out.event("contentBlockStop", { contentBlockIndex: 0 });
    }
    await out.event("contentBlockDelta", { contentBlockIndex: index, delta });
    progress.sent += 1;
    await sleep(intervalMs);
    if (res.destroyed) return false;
  }
  return true;
}

/** Ends a stream that met an exception failure with its exception frame. */
async function sendException(out: SplitWriter, failure: Extract<BedrockFailure, { kind: "exception" }>): Promise<void> {
  const original = failure.type === "modelStreamErrorException" ? { originalStatusCode: 500, originalMessage: "model runner failed" } : {};
  await out.exception(failure.type, { message: failure.message, ...original });
  out.end();
}

/** Ends a completed stream: the last block's stop, messageStop with its reason, the usage. */
async function sendEnd(out: SplitWriter, call: StandInConverseCall, plan: AnswerPlan, sent: number, started: number): Promise<void> {
  await out.event("contentBlockStop", { contentBlockIndex: plan.reasoning > 0 && sent > plan.reasoning ? 1 : 0 });
  await out.event("messageStop", { stopReason: plan.cut ? "max_tokens" : "end_turn" });
  const inputTokens = inputTokensOf(call.body);
  await out.event("metadata", { usage: { inputTokens, outputTokens: sent, totalTokens: inputTokens + sent }, metrics: { latencyMs: Date.now() - started } });
  out.end();
}

/** Streams one answer, recording how it ended once the response closes. */
async function stream(state: StandInState, res: ServerResponse, call: StandInConverseCall, failure: BedrockFailure | undefined): Promise<void> {
  const started = Date.now();
  const plan = planOf(state.options, call);
  const progress: Progress = { sent: 0, failed: false };
  res.on("close", () => {
    state.open.delete(res);
    const ended = progress.failed ? "failed" : res.writableFinished ? "completed" : "aborted";
    state.generations.push({ modelId: call.modelId, ended, deltas: progress.sent, at: Date.now() });
  });
  res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": randomUUID() });
  const out = new SplitWriter(res, state.generations.length + 7, state.options.splitFrames ?? true);
  await out.event("messageStart", { role: "assistant" });
  if (state.options.firstDeltaDelayMs) await sleep(state.options.firstDeltaDelayMs);
  if (res.destroyed) return;
  if (!(await sendDeltas(out, res, plan, failure, state.intervalMs, progress))) return;
  if (failure?.kind === "exception") {
    progress.failed = true;
    return sendException(out, failure);
  }
  await sendEnd(out, call, plan, progress.sent, started);
}

/** Why Bedrock would refuse the request (operation, signature, model, body), or undefined. */
async function refusalOf(state: StandInState, req: IncomingMessage, raw: Buffer, modelId: string | undefined, body: unknown): Promise<Refusal | undefined> {
  if (req.method !== "POST" || modelId === undefined) return refusal(404, "UnknownOperationException", "Unknown operation");
  const bad = await signatureRefusal(req, raw, state.regions, state.credentials);
  if (bad) return bad;
  if (!state.models.has(modelId)) return refusal(400, "ValidationException", "The provided model identifier is invalid.");
  const problem = bodyProblem(body);
  return problem ? refusal(400, "ValidationException", problem) : undefined;
}

/** The body as JSON, or its text when it is not JSON. */
function parsedBody(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8")) as unknown;
  } catch {
    return raw.toString("utf8");
  }
}

/** Answers one request: recorded, checked as AWS checks it, then refused or streamed. */
async function handle(state: StandInState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req);
  const path = (req.url ?? "/").split("?")[0];
  const match = /^\/model\/([^/]+)\/converse-stream$/.exec(path);
  const modelId = match ? decodeURIComponent(match[1]) : undefined;
  const body = parsedBody(raw);
  const record = (status: number, errorCode?: string) =>
    state.requests.push({ modelId, path, headers: { ...req.headers }, body, status, ...(errorCode ? { errorCode } : {}) });
  const refuse = (answer: Refusal) => {
    record(answer.status, answer.code);
    sendError(res, answer);
  };
  const refused = await refusalOf(state, req, raw, modelId, body);
  if (refused) return refuse(refused);
  const failure = state.queued.shift() ?? state.options.failure;
  if (failure?.kind === "http") return refuse(failure);
  record(200);
  state.open.add(res);
  await stream(state, res, { modelId: modelId as string, body: body as StandInConverseBody }, failure);
}

/** Starts the stand-in on a free loopback port; see the module comment. */
export async function startBedrockStandIn(options: BedrockStandInOptions = {}): Promise<BedrockStandIn> {
  const state: StandInState = {
    options,
    regions: typeof options.region === "string" ? [options.region] : [...(options.region ?? ["us-east-1"])],
    credentials: options.credentials ?? TEST_BEDROCK_CREDENTIALS,
    models: new Set(options.models ?? DEFAULT_BEDROCK_STAND_IN_MODELS),
    intervalMs: options.deltaIntervalMs ?? 5,
    requests: [],
    generations: [],
    queued: [],
    open: new Set(),
  };
  const server = createServer((req, res) => {
    handle(state, req, res).catch(() => res.destroy());
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests: state.requests,
    generations: state.generations,
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i += 1) state.queued.push(failure);
    },
    async close() {
      for (const res of state.open) res.destroy();
      await closeServer(server);
    },
  };
}
