/**
 * The adapter for OpenAI-compatible chat completions (vLLM, llama.cpp server, LM Studio, TGI,
 * hosted APIs): POST {baseUrl}/chat/completions streamed as server-sent events, and
 * GET {baseUrl}/models for /status. The wire stays in here; the chat path sees only the port.
 */
import type { Dispatcher } from "undici";
import { SYNC_OLLAMA_TIMEOUT_MS } from "../../config/defaults";
import { CONFIG_DEFAULTS } from "../config";
import { ConnectionError, ServiceError } from "../net/errors";
import { timedRequest, type TimedCall } from "../net/http";
import { createRedactor } from "../observability/log";
import type { ChatMessage, ChatStreamOptions, ModelApi, ModelInfo, ProviderHealth, StreamedAnswer, TokenUsage } from "./model-api";
import { createSseDecoder, type SseEvent } from "./sse";

/** Options of {@link OpenAiClient}. */
export interface OpenAiClientOptions {
  /** The API's base URL, e.g. https://gpu.example.com/v1 (a trailing slash is fine); checked where the model list is read (config/models.ts baseUrlProblem). */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <key>`; never logged nor put in an error. @default - no header (a local server) */
  readonly apiKey?: string;
  /** undici dispatcher. @default - the process-wide keep-alive pool */
  readonly dispatcher?: Dispatcher;
  /** Whole-call timeout of chatStream (a 429 wait included), in ms. @default SYNC_OLLAMA_TIMEOUT_MS (22000) */
  readonly timeoutMs?: number;
  /** Timeout of health(), in ms. @default CONFIG_DEFAULTS.ollamaStatusTimeoutMs (3000) */
  readonly statusTimeoutMs?: number;
  /** The clock, in ms: times the generation and reads a `Retry-After` date. @default Date.now */
  readonly now?: () => number;
}

/** One part of a multimodal OpenAI message. */
export type OpenAiContentPart = { readonly type: "text"; readonly text: string } | { readonly type: "image_url"; readonly image_url: { readonly url: string } };

/** A chat message as OpenAI's chat completions take it. */
export interface OpenAiMessage {
  readonly role: ChatMessage["role"];
  readonly content: string | readonly OpenAiContentPart[];
}

interface OpenAiChunk {
  choices?: { delta?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown } | null; finish_reason?: unknown }[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: unknown;
}

const asNumber = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);
const asText = (value: unknown) => (typeof value === "string" && value.length > 0 ? value : undefined);
const NOT_A_MODEL_LIST = "answered with something that is not a model list";


/** The media type of a base64 picture by its magic bytes: PNG, else JPEG (what Telegram sends). Pure. */
export function imageMediaType(base64: string): "image/png" | "image/jpeg" {
  const head = Buffer.from(base64.slice(0, 12), "base64");
  return head.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47])) ? "image/png" : "image/jpeg";
}

/**
 * The port's messages in OpenAI's shape: plain string content, or for a user message with
 * pictures, a text part and one `image_url` data-URL part per picture (OpenAI accepts image
 * parts from the user only). Pure.
 */
export function toOpenAiMessages(messages: readonly ChatMessage[]): OpenAiMessage[] {
  return messages.map(({ role, content, images }) => {
    if (role !== "user" || !images || images.length === 0) return { role, content };
    const pictures = images.map((image): OpenAiContentPart => ({ type: "image_url", image_url: { url: `data:${imageMediaType(image)};base64,${image}` } }));
    return { role, content: [...(content === "" ? [] : [{ type: "text" as const, text: content }]), ...pictures] };
  });
}

/** Seconds a `Retry-After` header asks for (delay-seconds or an HTTP date, RFC 9110 §10.2.3), or undefined. Pure. */
export function retryAfterSecondsOf(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/**
 * What an error body says: OpenAI's `{error: {message, type, code}}`, TGI's `{error, error_type}`
 * or an older vLLM's top-level `{message, type, code}`; `code` is `error.code` when it is a
 * word, else `error.type`. Undefined when the body is none of those. Pure.
 */
export function openAiErrorOf(body: unknown): { description: string; code: string | undefined; status: number | undefined } | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const outer = body as { error?: unknown; error_type?: unknown; message?: unknown };
  if (typeof outer.error === "string") return { description: outer.error, code: asText(outer.error_type), status: undefined };
  const inner = (typeof outer.error === "object" && outer.error !== null ? outer.error : outer) as { message?: unknown; type?: unknown; code?: unknown };
  if (typeof inner.message !== "string") return undefined;
  const status = asNumber(inner.code);
  return { description: inner.message, code: asText(inner.code) ?? asText(inner.type), status: status && status >= 400 && status < 600 ? status : undefined };
}

/** Why /models failed, in words a chat can show (never a secret). Pure. */
export function openAiUnreachableReason(err: unknown): string {
  if (err instanceof ConnectionError) {
    if (err.timedOut) return "timed out";
    return err.certificateRefused ? "its TLS certificate was refused" : "connection refused";
  }
  const status = err instanceof ServiceError ? err.status : 0;
  if (status === 401 || status === 403) return `refused the API key (${status})`;
  return status === 0 ? NOT_A_MODEL_LIST : `answered ${status}`;
}

/** Collects a stream's answer: text to onDelta, reasoning to onThinking, the timing and usage. */
class AnswerBuilder {
  content = "";
  thinking = "";
  /** `[DONE]` arrived, or an error event: nothing after it counts. */
  over = false;
  /** Events with data taken: none at all means the body was no event stream. */
  seen = 0;
  private finished = false;
  private usage: TokenUsage | undefined;
  private firstAt: number | undefined;
  private lastAt: number | undefined;

  constructor(
    private readonly onDelta: (text: string) => void,
    private readonly options: ChatStreamOptions,
    private readonly now: () => number,
    private readonly redact: (text: string) => string,
  ) {}

  /** Takes one event; throws a ServiceError for an error event or data that is not JSON. */
  take(event: SseEvent): void {
    if (this.over || event.data === "") return;
    this.seen += 1;
    if (event.data.trim() === "[DONE]") {
      this.over = this.finished = true;
      return;
    }
    const chunk = this.parse(event.data);
    // Some servers (vLLM, TGI) report a failure mid-stream as `data: {"error": ...}`, others as `event: error`.
    if ((chunk.error !== undefined && chunk.error !== null) || event.event === "error") {
      this.over = true;
      const said = openAiErrorOf(chunk);
      const description = this.redact((said?.description ?? "error event").slice(0, 300));
      throw new ServiceError({ service: "openai", operation: "chat", status: said?.status ?? 0, description, code: said?.code });
    }
    const choice = chunk.choices?.[0];
    const thought = asText(choice?.delta?.reasoning_content) ?? asText(choice?.delta?.reasoning);
    if (thought !== undefined) {
      this.thinking += thought;
      this.mark();
      this.options.onThinking?.(thought);
    }
    const text = asText(choice?.delta?.content);
    if (text !== undefined) {
      this.content += text;
      this.mark();
      this.onDelta(text);
    }
    if (asText(choice?.finish_reason) !== undefined) this.finished = true;
    const inputTokens = asNumber(chunk.usage?.prompt_tokens);
    const outputTokens = asNumber(chunk.usage?.completion_tokens);
    if (inputTokens !== undefined && outputTokens !== undefined) this.usage = { inputTokens, outputTokens };
  }

  /** The answer; `broken` when the stream failed after some text. */
  answer(broken: boolean): StreamedAnswer {
    const evalDurationNs = this.firstAt === undefined || this.lastAt === undefined ? undefined : Math.round((this.lastAt - this.firstAt) * 1e6);
    const usage = this.usage ? { usage: this.usage } : {};
    return { content: this.content, thinking: this.thinking, evalCount: this.usage?.outputTokens, evalDurationNs, completed: this.finished && !broken, ...usage };
  }

  /** Notes when a piece arrived: the first and the last bound the generation time. */
  private mark(): void {
    const at = this.now();
    this.firstAt ??= at;
    this.lastAt = at;
  }

  private parse(data: string): OpenAiChunk {
    try {
      const parsed = JSON.parse(data) as unknown;
      if (typeof parsed === "object" && parsed !== null) return parsed as OpenAiChunk;
    } catch {
      // Reported below like any other shape we cannot read.
    }
    this.over = true;
    throw new ServiceError({ service: "openai", operation: "chat", status: 0, description: "malformed stream event" });
  }
}

/** Waits ms unless the signal ends the wait first; resolves false when it did. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The OpenAI-compatible chat completions API over undici. An HTTP error rejects with a
 * ServiceError carrying the server's `error.message` (redacted), its `error.code` or `type`,
 * and `Retry-After`; a 429 whose wait fits in what is left of the timeout is waited out and
 * asked once more. Refusals and timeouts reject with a ConnectionError.
 */
export class OpenAiClient implements ModelApi {
  readonly provider = "openai" as const;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly statusTimeoutMs: number;
  private readonly now: () => number;
  private readonly redact: (text: string) => string;

  constructor(private readonly options: OpenAiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? SYNC_OLLAMA_TIMEOUT_MS;
    this.statusTimeoutMs = options.statusTimeoutMs ?? CONFIG_DEFAULTS.ollamaStatusTimeoutMs;
    this.now = options.now ?? Date.now;
    this.redact = createRedactor([options.apiKey]);
  }

  /**
   * Streams an answer (`stream_options.include_usage` for the token counts); see the port.
   * `delta.reasoning_content` or `delta.reasoning` goes to `onThinking`, never the content;
   * `think` is ignored (these servers always send reasoning apart). An error event after some
   * text keeps the text (`completed: false`).
   */
  async chatStream(
    model: string,
    messages: readonly ChatMessage[],
    onDelta: (text: string) => void,
    signal?: AbortSignal,
    options: ChatStreamOptions = {},
  ): Promise<StreamedAnswer> {
    const limit = options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens };
    const payload = JSON.stringify({ model, messages: toOpenAiMessages(messages), stream: true, stream_options: { include_usage: true }, ...limit });
    const call = await this.openStream(payload, signal);
    const answer = new AnswerBuilder(onDelta, options, this.now, this.redact);
    try {
      const events = createSseDecoder();
      for await (const bytes of call.response.body) {
        for (const event of events.push(bytes as Buffer)) answer.take(event);
        if (answer.over) break;
      }
      if (!answer.over) for (const event of events.end()) answer.take(event);
      if (answer.seen === 0) throw new ServiceError({ service: "openai", operation: "chat", status: 0, description: "the answer was not an event stream" });
    } catch (err) {
      if (answer.content.length === 0) throw err instanceof ServiceError ? err : call.wrap(err);
      // Text already arrived: keep it and report the stream as broken off.
      return answer.answer(true);
    } finally {
      call.done();
      call.response.body.destroy();
    }
    return answer.answer(false);
  }

  /** Resolves `{ capabilities: [] }`: these servers do not say, so the model entry's flags decide. */
  async showModel(_model: string): Promise<ModelInfo> {
    return { capabilities: [] };
  }

  /** GET /models with the key and the status timeout, for /status; costs no tokens. Never rejects. */
  async health(): Promise<ProviderHealth> {
    try {
      const call = await this.send("GET", "/models", "models", this.statusTimeoutMs);
      const data = ((await this.readJson(call, "models")) as { data?: unknown } | null)?.data;
      if (!Array.isArray(data)) return { reachable: false, reason: NOT_A_MODEL_LIST };
      const models = data.map((m) => (m as { id?: unknown } | null)?.id).filter((id): id is string => typeof id === "string");
      return { reachable: true, models, detail: "OpenAI-compatible API" };
    } catch (err) {
      return { reachable: false, reason: openAiUnreachableReason(err) };
    }
  }

  /** POSTs the chat and returns the 2xx call, waiting out one 429 when its Retry-After fits in the time left. */
  private async openStream(payload: string, signal: AbortSignal | undefined): Promise<TimedCall> {
    const started = Date.now();
    let call = await this.send("POST", "/chat/completions", "chat", this.timeoutMs, payload, signal);
    if (call.response.statusCode === 429) {
      const limited = await this.failure(call, "chat");
      const waitMs = (limited.retryAfterSeconds ?? Number.POSITIVE_INFINITY) * 1000;
      const leftMs = this.timeoutMs - (Date.now() - started);
      if (!(waitMs < leftMs) || signal?.aborted) throw limited;
      if (!(await pause(waitMs, signal))) {
        throw new ConnectionError({ service: "openai", operation: "chat", timedOut: false, elapsedMs: Date.now() - started, cause: new Error("stopped while waiting out a 429") });
      }
      call = await this.send("POST", "/chat/completions", "chat", leftMs - waitMs, payload, signal);
    }
    if (call.response.statusCode < 200 || call.response.statusCode >= 300) throw await this.failure(call, "chat");
    return call;
  }

  private send(method: "GET" | "POST", path: string, operation: string, timeoutMs: number, body?: string, signal?: AbortSignal): Promise<TimedCall> {
    const headers: Record<string, string> = { accept: method === "POST" ? "text/event-stream" : "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    return timedRequest(`${this.baseUrl}${path}`, {
      service: "openai",
      operation,
      method,
      headers,
      body,
      dispatcher: this.options.dispatcher,
      timeoutMs,
      signal,
      redact: this.redact,
    });
  }

  /** The ServiceError of a non-2xx answer, from its JSON error body (read and released here). */
  private async failure(call: TimedCall, operation: string): Promise<ServiceError> {
    const { statusCode, headers, body } = call.response;
    let said: ReturnType<typeof openAiErrorOf>;
    try {
      said = openAiErrorOf(JSON.parse(await body.text()) as unknown);
    } catch {
      // Not JSON (a proxy's page): the status alone says enough.
    } finally {
      call.done();
    }
    return new ServiceError({
      service: "openai",
      operation,
      status: statusCode,
      description: this.redact((said?.description ?? `HTTP ${statusCode}`).slice(0, 300)),
      retryAfterSeconds: retryAfterSecondsOf(headers["retry-after"], this.now()),
      code: said?.code,
    });
  }

  /** The JSON body of a 2xx answer; a ServiceError for another status or a body that is not JSON. */
  private async readJson(call: TimedCall, operation: string): Promise<unknown> {
    if (call.response.statusCode < 200 || call.response.statusCode >= 300) throw await this.failure(call, operation);
    const text = await call.readText();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ServiceError({ service: "openai", operation, status: 0, description: "answer was not JSON" });
    }
  }
}
