/**
 * A small HTTP server speaking OpenAI's chat completions wire (platform.openai.com API
 * reference, as vLLM, llama.cpp server and LM Studio speak it): POST /v1/chat/completions as
 * server-sent events (`data: {chunk}`, a usage chunk with `stream_options.include_usage`,
 * `data: [DONE]`) or one JSON answer, and GET /v1/models. Tests use it instead of a GPU or a
 * paid API, and can make it slow, refuse, rate-limit, fail mid-stream, cut off, or write a
 * rough wire (events split across writes, CRLF, keep-alive comments).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "../read-body";

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

/** How rough the stand-in writes its event stream; each @default false. */
export interface OpenAiWireOptions {
  /** Each event in several TCP writes: after 3 bytes, inside the first multi-byte character, midway, before the last byte. */
  readonly splitWrites?: boolean;
  /** `\r\n` line endings instead of `\n`. */
  readonly crlf?: boolean;
  /** A `: keep-alive` comment and a blank line before each event. */
  readonly keepAlive?: boolean;
  /** Each chunk's JSON over two `data:` lines. */
  readonly multiLineData?: boolean;
  /** An `event: message` field on each event. */
  readonly eventField?: boolean;
  /** End after the last chunk without `data: [DONE]`, as some servers do. */
  readonly omitDone?: boolean;
}

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
  /** Milliseconds before each reasoning or content chunk (so Stop can land mid-answer). @default 0 */
  readonly chunkDelayMs?: number;
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

/** Byte offsets where splitWrites cuts an event: after 3 bytes, inside the first multi-byte character, midway, before the last. Pure. */
export function splitPoints(bytes: Uint8Array): number[] {
  const lead = bytes.findIndex((b) => (b & 0xc0) === 0xc0);
  const points = [3, lead < 0 ? 0 : lead + 1, Math.floor(bytes.length / 2), bytes.length - 1];
  return [...new Set(points)].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
}

/** Starts the stand-in on a free loopback port; see the module comment. */
export async function startOpenAiStandIn(options: OpenAiStandInOptions = {}): Promise<OpenAiStandIn> {
  const models = options.models ?? DEFAULT_MODELS;
  const requests: OpenAiRecordedRequest[] = [];
  const generations: OpenAiGeneration[] = [];
  const failures: OpenAiFailure[] = [...(options.failures ?? [])];
  const open = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const wire = options.wire ?? {};
  const eol = wire.crlf ? "\r\n" : "\n";
  let counter = 0;

  const sleep = (ms: number) =>
    ms <= 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, ms);
          timers.add(timer);
        });

  const takeFailure = (route: Route): OpenAiFailure | undefined => {
    const index = failures.findIndex((f) => ((f.kind === "status" || f.kind === "hang" ? f.on : undefined) ?? "chat") === route);
    return index < 0 ? undefined : failures.splice(index, 1)[0];
  };

  const writeRaw = async (res: ServerResponse, text: string): Promise<void> => {
    const bytes = Buffer.from(text, "utf8");
    let from = 0;
    for (const at of [...(wire.splitWrites ? splitPoints(bytes) : []), bytes.length]) {
      if (res.destroyed) return;
      await new Promise<void>((resolve) => res.write(bytes.subarray(from, at), () => resolve()));
      from = at;
      // A gap lets each write leave as its own TCP segment rather than coalesce.
      if (at < bytes.length) await sleep(2);
    }
  };

  const sendEvent = async (res: ServerResponse, data: string): Promise<void> => {
    // Right after the id: the one `,"` in a chunk that cannot sit inside a string.
    const comma = data.startsWith('{"id":') ? data.indexOf(',"') : -1;
    const lines = wire.multiLineData && comma > 0 ? [data.slice(0, comma + 1), data.slice(comma + 1)] : [data];
    if (wire.keepAlive) await writeRaw(res, `: keep-alive${eol}${eol}`);
    await writeRaw(res, `${wire.eventField ? `event: message${eol}` : ""}${lines.map((l) => `data: ${l}`).join(eol)}${eol}${eol}`);
  };

  const piecesOf = (request: OpenAiChatRequest): Piece[] => {
    const script = options.answers?.[request.model];
    const reply = options.reply ?? ((r: OpenAiChatRequest) => `You said: ${textOf([...r.messages].reverse().find((m) => m.role === "user")?.content)}`);
    const reasoning = openAiPieces(script?.reasoning ?? []).map((text): Piece => ({ field: script?.reasoningField ?? "reasoning_content", text }));
    return [...reasoning, ...openAiPieces(script?.content ?? reply(request)).map((text): Piece => ({ field: "content", text }))];
  };

  const usageOf = (request: OpenAiChatRequest, chunks: number) => {
    const usage = options.answers?.[request.model]?.usage ?? { prompt_tokens: promptTokensOf(request), completion_tokens: chunks };
    return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
  };

  const chat = async (res: ServerResponse, request: OpenAiChatRequest, failure: OpenAiFailure | undefined): Promise<void> => {
    const all = piecesOf(request);
    const limit = request.max_completion_tokens ?? request.max_tokens;
    const pieces = limit !== undefined && limit < all.length ? all.slice(0, Math.max(0, limit)) : all;
    const finish = pieces.length < all.length ? "length" : "stop";
    const base = { id: `chatcmpl-standin-${(counter += 1)}`, created: Math.floor(Date.now() / 1000), model: request.model, system_fingerprint: "fp_stand_in" };
    if (request.stream !== true) {
      const message = { role: "assistant", content: pieces.filter((p) => p.field === "content").map((p) => p.text).join("") };
      const reasoning = pieces.filter((p) => p.field !== "content").map((p) => p.text).join("");
      const choice = { index: 0, message: reasoning ? { ...message, reasoning_content: reasoning } : message, logprobs: null, finish_reason: finish };
      return sendJson(res, 200, { ...base, object: "chat.completion", choices: [choice], usage: usageOf(request, pieces.length) });
    }
    const withUsage = request.stream_options?.include_usage === true;
    const chunk = (delta: object, finishReason: string | null) =>
      JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...(withUsage ? { usage: null } : {}) });
    let ended: OpenAiGeneration["ended"] | undefined;
    let sent = 0;
    open.add(res);
    res.on("close", () => {
      open.delete(res);
      generations.push({ model: request.model, ended: ended ?? "aborted", chunks: sent });
    });
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    await sendEvent(res, chunk({ role: "assistant", content: "" }, null));
    for (let index = 0; index <= pieces.length; index += 1) {
      if (failure?.kind === "cut" && failure.afterChunks === index) {
        ended = "cut";
        return void res.destroy();
      }
      if (failure?.kind === "error-chunk" && failure.afterChunks === index) {
        ended = "error";
        await sendEvent(res, JSON.stringify({ error: failure.error ?? DEFAULT_ERRORS.other }));
        await sendEvent(res, "[DONE]");
        return void res.end();
      }
      if (index === pieces.length) break;
      await sleep(options.chunkDelayMs ?? 0);
      if (res.destroyed) return;
      await sendEvent(res, chunk({ [pieces[index].field]: pieces[index].text }, null));
      sent += 1;
    }
    await sendEvent(res, chunk({}, finish));
    if (withUsage) await sendEvent(res, JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [], usage: usageOf(request, sent) }));
    if (!wire.omitDone) await sendEvent(res, "[DONE]");
    if (!res.destroyed) ended = "completed";
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = (await readBody(req)).toString("utf8");
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const body = parseBody(text);
    const authorization = req.headers.authorization;
    requests.push({ method, path, headers: { ...req.headers }, authorized: authorization !== undefined, body });
    if (options.apiKey !== undefined && authorization !== `Bearer ${options.apiKey}`) return sendError(res, 401, unauthorized(authorization));
    const route: Route | undefined = method === "POST" && path === "/v1/chat/completions" ? "chat" : method === "GET" && path === "/v1/models" ? "models" : undefined;
    if (route === undefined) return sendError(res, 404, { message: `Invalid URL (${method} ${path})`, type: "invalid_request_error", param: null, code: null });
    const failure = takeFailure(route);
    if (failure?.kind === "status") return sendError(res, failure.status, failure.error ?? DEFAULT_ERRORS[failure.status] ?? DEFAULT_ERRORS.other, failure.retryAfter);
    if (failure?.kind === "hang") {
      open.add(res);
      return void res.on("close", () => open.delete(res));
    }
    if (route === "models") return sendJson(res, 200, { object: "list", data: models.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "stand-in" })) });
    const problem = requestProblem(body);
    if (problem) return sendError(res, 400, { message: problem, type: "invalid_request_error", param: null, code: null });
    const request = body as OpenAiChatRequest;
    if (!models.includes(request.model)) return sendError(res, 404, { message: `The model \`${request.model}\` does not exist`, type: "invalid_request_error", param: null, code: "model_not_found" });
    await chat(res, request, failure);
  };

  const server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const close = async () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    for (const res of open) res.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  return { url, requests, generations, failNext: (failure) => void failures.push(failure), close };
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
