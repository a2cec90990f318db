/**
 * A small HTTP server speaking OpenAI's chat completions wire (platform.openai.com API
 * reference, as vLLM, llama.cpp server and LM Studio speak it): POST /v1/chat/completions as
 * server-sent events (`data: {chunk}`, a usage chunk with `stream_options.include_usage`,
 * `data: [DONE]`) or one JSON answer, and GET /v1/models. Tests use it instead of a GPU or a
 * paid API, and can make it slow, refuse, rate-limit, fail mid-stream, cut off, or write a
 * rough wire (events split across writes, CRLF, keep-alive comments).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readBody } from "../read-body";
import { closeServer, listenOnLoopback } from "./loopback-server";
import { EventWriter, type OpenAiWireOptions } from "./openai-wire";

export { splitPoints, type OpenAiWireOptions } from "./openai-wire";

/** OpenAI's error object, as sent under `error`. */
export interface OpenAiErrorObject {
  readonly message: string;
  readonly type: string;
  readonly param?: string | null;
  readonly code: string | null;
}

/** A scripted answer for one model. */
export interface OpenAiScript {
  /** The answer, one chunk per piece; a string is split into words, each with its following whitespace. */
  readonly content: string | readonly string[];
  /** Reasoning sent before the content, one chunk per piece. @default - none */
  readonly reasoning?: string | readonly string[];
  /** The delta field the reasoning goes in. @default "reasoning_content" (vLLM, DeepSeek) */
  readonly reasoningField?: "reasoning_content" | "reasoning";
  /** The usage reported. @default - prompt: a token per 4 characters (85 per picture); completion: the chunks sent */
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number };
}

/** A failure for one coming request (see {@link OpenAiStandIn.failNext}). */
export type OpenAiFailure =
  /** Answer this status with `{"error": error}` and, when set, a Retry-After header. `on` @default "chat" */
  | { readonly kind: "status"; readonly status: number; readonly error?: OpenAiErrorObject; readonly retryAfter?: string; readonly on?: "chat" | "models" }
  /** After N content chunks, send `data: {"error": ...}` then `data: [DONE]` (as vLLM does). */
  | { readonly kind: "error-chunk"; readonly afterChunks: number; readonly error?: OpenAiErrorObject }
  /** Destroy the socket after N content chunks. */
  | { readonly kind: "cut"; readonly afterChunks: number }
  /** Accept the request and never answer (until the client leaves or close()). `on` @default "chat" */
  | { readonly kind: "hang"; readonly on?: "chat" | "models" };

/** Every roughness of {@link OpenAiWireOptions} at once: what a robust client must still read. */
export const ROUGH_WIRE: OpenAiWireOptions = { splitWrites: true, crlf: true, keepAlive: true, multiLineData: true, eventField: true };

/** The body of POST /v1/chat/completions, as far as the stand-in reads it. */
export interface OpenAiChatRequest {
  readonly model: string;
  readonly messages: readonly { readonly role: string; readonly content: unknown }[];
  readonly stream?: boolean;
  readonly stream_options?: { readonly include_usage?: boolean };
  readonly max_tokens?: number;
  readonly max_completion_tokens?: number;
}

/** How to start the stand-in. */
export interface OpenAiStandInOptions {
  /** The model ids it serves (GET /v1/models); others get 404 model_not_found. @default ["stand-in-model"] */
  readonly models?: readonly string[];
  /** When set, requests without `Authorization: Bearer <key>` get 401. @default - no check */
  readonly apiKey?: string;
  /** Scripted answers by model id. @default - {@link OpenAiStandInOptions.reply} */
  readonly answers?: Readonly<Record<string, OpenAiScript>>;
  /** The answer of a model without a script. @default - `You said: <last user text>` */
  readonly reply?: (request: OpenAiChatRequest) => string;
  /** Models that reason first (reasoning chunks before the content) when they have no script. @default - none */
  readonly reasoningModels?: readonly string[];
  /** Their reasoning. @default - `Thinking about: <last user text>` */
  readonly reasoning?: (request: OpenAiChatRequest) => string;
  /** Milliseconds before each reasoning or content chunk (so Stop can land mid-answer). @default 0 */
  readonly chunkDelayMs?: number;
  /** Pause before the first chunk, in place of chunkDelayMs (the model's time to its first token), in ms. @default chunkDelayMs */
  readonly firstChunkDelayMs?: number;
  /** How rough the event stream is written. @default - clean: one write per event, `\n` */
  readonly wire?: OpenAiWireOptions;
  /** Failures for the coming requests, in order (as {@link OpenAiStandIn.failNext}). @default - none */
  readonly failures?: readonly OpenAiFailure[];
}

/** One request as the stand-in received it (401s included). */
export interface OpenAiRecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Whether it carried an Authorization header at all. */
  readonly authorized: boolean;
  /** The body parsed as JSON; the raw text when it is not JSON; undefined when empty. */
  readonly body: unknown;
}

/** How one streamed generation ended: all sent, the client left first, or a failure mode. */
export interface OpenAiGeneration {
  readonly model: string;
  readonly ended: "completed" | "aborted" | "cut" | "error";
  /** Reasoning and content chunks sent. */
  readonly chunks: number;
}

/** A running stand-in. */
export interface OpenAiStandIn {
  /** `http://127.0.0.1:<port>/v1`: the base URL a client takes. */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: readonly OpenAiRecordedRequest[];
  /** Every streamed generation, in the order they ended. */
  readonly generations: readonly OpenAiGeneration[];
  /** Queues a failure for the next request it applies to (`on`, else chat). */
  failNext(failure: OpenAiFailure): void;
  /** Stops the server and ends open streams and hanging requests. */
  close(): Promise<void>;
}

type Route = "chat" | "models";
type Piece = { readonly field: "content" | "reasoning_content" | "reasoning"; readonly text: string };

const DEFAULT_MODELS = ["stand-in-model"];
const DEFAULT_ERRORS: Readonly<Record<string, OpenAiErrorObject>> = {
  429: { message: "Rate limit reached for requests. Please try again later.", type: "requests", param: null, code: "rate_limit_exceeded" },
  other: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: null },
};

/** Words with their following whitespace (leading whitespace is a piece of its own). Pure. */
export function openAiPieces(text: string | readonly string[]): string[] {
  return typeof text === "string" ? (text.match(/\S+\s*|\s+/g) ?? []) : [...text];
}

/** The text of a message's content: the string, or its text parts joined. Pure. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part: { type?: unknown; text?: unknown }) => (part?.type === "text" && typeof part.text === "string" ? part.text : "")).join("");
}

/** Prompt tokens as the stand-in counts them: one per 4 characters of text, 85 per picture (OpenAI's low detail). Pure. */
export function promptTokensOf(request: OpenAiChatRequest): number {
  const chars = request.messages.reduce((n, m) => n + textOf(m.content).length, 0);
  const pictures = request.messages.reduce((n, m) => n + (Array.isArray(m.content) ? m.content.filter((p: { type?: unknown }) => p?.type === "image_url").length : 0), 0);
  return Math.max(1, Math.ceil(chars / 4)) + 85 * pictures;
}

/** A running stand-in's settings and records, shared by its request handlers. */
interface OpenAiState {
  readonly options: OpenAiStandInOptions;
  readonly models: readonly string[];
  readonly requests: OpenAiRecordedRequest[];
  readonly generations: OpenAiGeneration[];
  readonly failures: OpenAiFailure[];
  /** Streams and hanging requests, which close() ends. */
  readonly open: Set<ServerResponse>;
  readonly writer: EventWriter;
  /** Completions answered so far, for their ids. */
  counter: number;
}

/** What one completion answers: its pieces (cut at the token limit), why it finished, and the fields every chunk repeats. */
interface ChatPlan {
  readonly request: OpenAiChatRequest;
  readonly pieces: readonly Piece[];
  readonly finish: "length" | "stop";
  readonly base: { readonly id: string; readonly created: number; readonly model: string; readonly system_fingerprint: string };
}

/** How far a stream got: chunks sent, and how it ended when a failure mode or the end decided it. */
interface StreamProgress {
  sent: number;
  ended: OpenAiGeneration["ended"] | undefined;
}

/** The text of the last user message. */
const lastUserText = (request: OpenAiChatRequest) => textOf([...request.messages].reverse().find((m) => m.role === "user")?.content);

/** Takes the first queued failure that applies to `route` (a failure without `on` applies to chat). */
function takeFailure(failures: OpenAiFailure[], route: Route): OpenAiFailure | undefined {
  const index = failures.findIndex((f) => ((f.kind === "status" || f.kind === "hang" ? f.on : undefined) ?? "chat") === route);
  return index < 0 ? undefined : failures.splice(index, 1)[0];
}

/** The reasoning then the content of a model's answer: its script, else reply() (and reasoning() for a reasoning model). */
function piecesOf(options: OpenAiStandInOptions, request: OpenAiChatRequest): Piece[] {
  const script = options.answers?.[request.model];
  const reply = options.reply ?? ((r: OpenAiChatRequest) => `You said: ${lastUserText(r)}`);
  const thinks = script === undefined && options.reasoningModels?.includes(request.model) === true;
  const reasoningText = thinks ? (options.reasoning ?? ((r: OpenAiChatRequest) => `Thinking about: ${lastUserText(r)}`))(request) : (script?.reasoning ?? []);
  const reasoning = openAiPieces(reasoningText).map((text): Piece => ({ field: script?.reasoningField ?? "reasoning_content", text }));
  return [...reasoning, ...openAiPieces(script?.content ?? reply(request)).map((text): Piece => ({ field: "content", text }))];
}

/** The usage of an answer of `chunks` chunks: the script's, else counted. */
function usageOf(options: OpenAiStandInOptions, request: OpenAiChatRequest, chunks: number) {
  const usage = options.answers?.[request.model]?.usage ?? { prompt_tokens: promptTokensOf(request), completion_tokens: chunks };
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

/** The plan of one completion, numbered with the stand-in's counter. */
function planOf(state: OpenAiState, request: OpenAiChatRequest): ChatPlan {
  const all = piecesOf(state.options, request);
  const limit = request.max_completion_tokens ?? request.max_tokens;
  const pieces = limit !== undefined && limit < all.length ? all.slice(0, Math.max(0, limit)) : all;
  const base = { id: `chatcmpl-standin-${(state.counter += 1)}`, created: Math.floor(Date.now() / 1000), model: request.model, system_fingerprint: "fp_stand_in" };
  return { request, pieces, finish: pieces.length < all.length ? "length" : "stop", base };
}

/** Answers `stream: false`: one chat.completion with the whole message (reasoning in reasoning_content). */
function answerWhole(options: OpenAiStandInOptions, res: ServerResponse, { request, pieces, finish, base }: ChatPlan): void {
  const message = { role: "assistant", content: pieces.filter((p) => p.field === "content").map((p) => p.text).join("") };
  const reasoning = pieces.filter((p) => p.field !== "content").map((p) => p.text).join("");
  const choice = { index: 0, message: reasoning ? { ...message, reasoning_content: reasoning } : message, logprobs: null, finish_reason: finish };
  sendJson(res, 200, { ...base, object: "chat.completion", choices: [choice], usage: usageOf(options, request, pieces.length) });
}

/** The JSON of one chunk of the stream. */
function chunkOf(plan: ChatPlan, delta: object, finishReason: string | null): string {
  const usage = plan.request.stream_options?.include_usage === true ? { usage: null } : {};
  return JSON.stringify({ ...plan.base, object: "chat.completion.chunk", choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...usage });
}

/** Streams the pieces, paced, meeting a cut or error-chunk failure on its chunk; true when the stream goes on to its end. */
async function sendPieces(state: OpenAiState, res: ServerResponse, plan: ChatPlan, failure: OpenAiFailure | undefined, progress: StreamProgress): Promise<boolean> {
  const { writer } = state;
  for (let index = 0; index <= plan.pieces.length; index += 1) {
    if (failure?.kind === "cut" && failure.afterChunks === index) {
      progress.ended = "cut";
      res.destroy();
      return false;
    }
    if (failure?.kind === "error-chunk" && failure.afterChunks === index) {
      progress.ended = "error";
      await writer.sendEvent(res, JSON.stringify({ error: failure.error ?? DEFAULT_ERRORS.other }));
      await writer.sendEvent(res, "[DONE]");
      res.end();
      return false;
    }
    if (index === plan.pieces.length) break;
    await writer.sleep((index === 0 ? state.options.firstChunkDelayMs : undefined) ?? state.options.chunkDelayMs ?? 0);
    if (res.destroyed) return false;
    await writer.sendEvent(res, chunkOf(plan, { [plan.pieces[index].field]: plan.pieces[index].text }, null));
    progress.sent += 1;
  }
  return true;
}

/** Streams one completion as server-sent events, recording how it ended once the response closes. */
async function streamChat(state: OpenAiState, res: ServerResponse, plan: ChatPlan, failure: OpenAiFailure | undefined): Promise<void> {
  const { writer } = state;
  const progress: StreamProgress = { sent: 0, ended: undefined };
  state.open.add(res);
  res.on("close", () => {
    state.open.delete(res);
    state.generations.push({ model: plan.request.model, ended: progress.ended ?? "aborted", chunks: progress.sent });
  });
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  await writer.sendEvent(res, chunkOf(plan, { role: "assistant", content: "" }, null));
  if (!(await sendPieces(state, res, plan, failure, progress))) return;
  await writer.sendEvent(res, chunkOf(plan, {}, plan.finish));
  if (plan.request.stream_options?.include_usage === true) {
    await writer.sendEvent(res, JSON.stringify({ ...plan.base, object: "chat.completion.chunk", choices: [], usage: usageOf(state.options, plan.request, progress.sent) }));
  }
  if (!state.options.wire?.omitDone) await writer.sendEvent(res, "[DONE]");
  if (!res.destroyed) progress.ended = "completed";
  res.end();
}

/** The route of a method and path, or undefined for another. */
function routeOf(method: string, path: string): Route | undefined {
  if (method === "POST" && path === "/v1/chat/completions") return "chat";
  return method === "GET" && path === "/v1/models" ? "models" : undefined;
}

/** Answers a request of a known route after its key check: a queued failure, the model list, or a completion. */
async function answerRoute(state: OpenAiState, res: ServerResponse, route: Route, body: unknown): Promise<void> {
  const failure = takeFailure(state.failures, route);
  if (failure?.kind === "status") return sendError(res, failure.status, failure.error ?? DEFAULT_ERRORS[failure.status] ?? DEFAULT_ERRORS.other, failure.retryAfter);
  if (failure?.kind === "hang") {
    state.open.add(res);
    return void res.on("close", () => state.open.delete(res));
  }
  if (route === "models") return sendJson(res, 200, { object: "list", data: state.models.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "stand-in" })) });
  const problem = requestProblem(body);
  if (problem) return sendError(res, 400, { message: problem, type: "invalid_request_error", param: null, code: null });
  const request = body as OpenAiChatRequest;
  if (!state.models.includes(request.model)) return sendError(res, 404, { message: `The model \`${request.model}\` does not exist`, type: "invalid_request_error", param: null, code: "model_not_found" });
  const plan = planOf(state, request);
  if (request.stream !== true) return answerWhole(state.options, res, plan);
  await streamChat(state, res, plan, failure);
}

/** Answers one request: recorded, the key checked, then routed. */
async function handle(state: OpenAiState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const text = (await readBody(req)).toString("utf8");
  const method = req.method ?? "GET";
  const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
  const body = parseBody(text);
  const authorization = req.headers.authorization;
  state.requests.push({ method, path, headers: { ...req.headers }, authorized: authorization !== undefined, body });
  if (state.options.apiKey !== undefined && authorization !== `Bearer ${state.options.apiKey}`) return sendError(res, 401, unauthorized(authorization));
  const route = routeOf(method, path);
  if (route === undefined) return sendError(res, 404, { message: `Invalid URL (${method} ${path})`, type: "invalid_request_error", param: null, code: null });
  await answerRoute(state, res, route, body);
}

/** Starts the stand-in on a free loopback port; see the module comment. */
export async function startOpenAiStandIn(options: OpenAiStandInOptions = {}): Promise<OpenAiStandIn> {
  const state: OpenAiState = {
    options,
    models: options.models ?? DEFAULT_MODELS,
    requests: [],
    generations: [],
    failures: [...(options.failures ?? [])],
    open: new Set(),
    writer: new EventWriter(options.wire ?? {}),
    counter: 0,
  };
  const server = createServer((req, res) => void handle(state, req, res).catch(() => res.destroy()));
  const port = await listenOnLoopback(server);
  const close = async () => {
    state.writer.cancel();
    for (const res of state.open) res.destroy();
    await closeServer(server);
  };
  return { url: `http://127.0.0.1:${port}/v1`, requests: state.requests, generations: state.generations, failNext: (failure) => void state.failures.push(failure), close };
}

/** OpenAI's 401: no key, or the key presented (echoed whole, harsher than OpenAI's masked echo, so redaction is tested). */
function unauthorized(authorization: string | undefined): OpenAiErrorObject {
  if (authorization === undefined) return { message: "You didn't provide an API key.", type: "invalid_request_error", param: null, code: null };
  return { message: `Incorrect API key provided: ${authorization.replace(/^Bearer\s+/i, "")}.`, type: "invalid_request_error", param: null, code: "invalid_api_key" };
}

/** What is wrong with a chat request body, or undefined. */
function requestProblem(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return "We could not parse the JSON body of your request.";
  const { model, messages } = body as { model?: unknown; messages?: unknown };
  if (typeof model !== "string" || model === "") return "you must provide a model parameter";
  if (!Array.isArray(messages) || messages.length === 0) return "'messages' must be a non-empty array";
  return undefined;
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function sendError(res: ServerResponse, status: number, error: OpenAiErrorObject, retryAfter?: string): void {
  sendJson(res, status, { error }, retryAfter === undefined ? {} : { "retry-after": retryAfter });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}
