import type { Dispatcher } from "undici";
import { OLLAMA_API_KEY_HEADER, SYNC_OLLAMA_TIMEOUT_MS } from "../../config/defaults";
import { CONFIG_DEFAULTS } from "../config";
import { ServiceError } from "../net/errors";
import { timedRequest, type TimedCall } from "../net/http";
import { createRedactor } from "../observability/log";
import { capabilitiesOf } from "./capabilities";
import type { ChatMessage, ChatStreamOptions, ModelApi, ModelInfo, ProviderHealth, StreamedAnswer, TokenUsage } from "./model-api";

export type { ChatMessage, StreamedAnswer } from "./model-api";

/** Options of {@link OllamaClient}. */
export interface OllamaClientOptions {
  /** Base URL, e.g. http://10.0.0.5:11434 (nginx in front of Ollama). */
  readonly baseUrl: string;
  /** Sent as X-API-Key when set. @default - no header */
  readonly apiKey?: string;
  /** undici dispatcher. @default undici's global dispatcher */
  readonly dispatcher?: Dispatcher;
  /** Whole-call timeout of chatStream, in ms. @default SYNC_OLLAMA_TIMEOUT_MS (22000) */
  readonly timeoutMs?: number;
  /** Timeout of listModels and version, in ms. @default CONFIG_DEFAULTS.ollamaStatusTimeoutMs (3000) */
  readonly statusTimeoutMs?: number;
}

interface OllamaChatBody {
  message?: { content?: unknown; thinking?: unknown };
  done?: unknown;
  eval_count?: unknown;
  eval_duration?: unknown;
  prompt_eval_count?: unknown;
  error?: unknown;
}

const asNumber = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

/** The token counts of Ollama's final line, when it has both. Pure. */
function usageOf(body: OllamaChatBody): TokenUsage | undefined {
  const inputTokens = asNumber(body.prompt_eval_count);
  const outputTokens = asNumber(body.eval_count);
  return inputTokens !== undefined && outputTokens !== undefined ? { inputTokens, outputTokens } : undefined;
}

/** Why a status call failed, in words a chat can show (never a secret). Pure. */
export function unreachableReason(err: unknown): string {
  const e = err as { name?: string; timedOut?: boolean; certificateRefused?: boolean; status?: number } | null;
  if (e?.name === "ConnectionError") {
    if (e.timedOut) return "timed out";
    return e.certificateRefused ? "its TLS certificate is not the one this bot trusts (OLLAMA_CA_CERT)" : "connection refused";
  }
  return `answered ${e?.status ?? "an error"}`;
}

/**
 * Ollama's HTTP API over undici: /api/chat (streamed NDJSON), /api/show, /api/tags and
 * /api/version. Non-200 answers and malformed bodies reject with a ServiceError (status 404
 * means the model is missing); refusals and timeouts with a ConnectionError.
 */
export class OllamaClient implements ModelApi {
  readonly provider = "ollama" as const;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly statusTimeoutMs: number;
  private readonly redact: (text: string) => string;

  constructor(private readonly options: OllamaClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? SYNC_OLLAMA_TIMEOUT_MS;
    this.statusTimeoutMs = options.statusTimeoutMs ?? CONFIG_DEFAULTS.ollamaStatusTimeoutMs;
    this.redact = createRedactor([options.apiKey]);
  }

  /**
   * Asks for a streamed answer and calls `onDelta` with each piece of text as it arrives.
   * Resolves with the whole text and whether Ollama finished (`completed`); a stream that
   * breaks after some text resolves with what arrived and `completed: false`. A failure
   * before any text rejects: a ServiceError when Ollama answered with an error, a
   * ConnectionError when it could not be reached in time. No retry here: the one retry of a
   * fast connection failure is streamAnswer's (model/stream-answer.ts).
   */
  async chatStream(
    model: string,
    messages: readonly ChatMessage[],
    onDelta: (text: string) => void,
    signal?: AbortSignal,
    options: ChatStreamOptions = {},
  ): Promise<StreamedAnswer> {
    const think = options.think === undefined ? {} : { think: options.think };
    const limit = options.maxTokens === undefined ? {} : { options: { num_predict: options.maxTokens } };
    const call = await this.post("/api/chat", { model, messages, stream: true, ...think, ...limit }, this.timeoutMs, signal);
    let content = "";
    let thinking = "";
    let evalCount: number | undefined;
    let evalDurationNs: number | undefined;
    let usage: TokenUsage | undefined;
    let completed = false;
    let buffer = "";
    const handleLine = (line: string) => {
      if (!line.trim()) return;
      let parsed: OllamaChatBody;
      try {
        parsed = JSON.parse(line) as OllamaChatBody;
      } catch {
        throw new ServiceError({ service: "ollama", operation: "chat", status: 0, description: "malformed stream line" });
      }
      if (typeof parsed.error === "string") {
        throw new ServiceError({ service: "ollama", operation: "chat", status: 0, description: this.redact(parsed.error) });
      }
      const thought = parsed.message?.thinking;
      if (typeof thought === "string" && thought.length > 0) {
        thinking += thought;
        options.onThinking?.(thought);
      }
      const piece = parsed.message?.content;
      if (typeof piece === "string" && piece.length > 0) {
        content += piece;
        onDelta(piece);
      }
      if (parsed.done === true) {
        completed = true;
        evalCount = asNumber(parsed.eval_count);
        evalDurationNs = asNumber(parsed.eval_duration);
        usage = usageOf(parsed);
      }
    };
    try {
      await this.expectOk(call, "chat");
      const decoder = new TextDecoder();
      for await (const chunk of call.response.body) {
        buffer += decoder.decode(chunk as Buffer, { stream: true });
        let newline = buffer.indexOf("\n");
        while (newline >= 0) {
          handleLine(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf("\n");
        }
        if (completed) break;
      }
      buffer += decoder.decode();
      if (!completed) handleLine(buffer);
    } catch (err) {
      if (err instanceof ServiceError && content.length === 0) throw err;
      if (!(err instanceof ServiceError) && content.length === 0) throw call.wrap(err);
      // Text already arrived: keep it and report the stream as cut off.
      return { content, thinking, evalCount, evalDurationNs, completed: false, ...(usage ? { usage } : {}) };
    } finally {
      call.done();
      call.response.body.destroy();
    }
    return { content, thinking, evalCount, evalDurationNs, completed, ...(usage ? { usage } : {}) };
  }

  /** A model's capabilities (POST /api/show), with the short status timeout. */
  async showModel(model: string): Promise<ModelInfo> {
    const call = await this.post("/api/show", { model }, this.statusTimeoutMs, undefined, "show");
    return { capabilities: capabilitiesOf(await this.readJson(call, "show")) };
  }

  /** Ollama's version and models (GET /api/version, GET /api/tags), for /status. Never rejects. */
  async health(): Promise<ProviderHealth> {
    const [version, models] = await Promise.allSettled([this.version(), this.listModels()]);
    if (models.status === "rejected") return { reachable: false, reason: unreachableReason(models.reason) };
    return { reachable: true, models: models.value, ...(version.status === "fulfilled" ? { detail: `Ollama ${version.value}` } : {}) };
  }

  /** The names of the models Ollama has (GET /api/tags), with the short status timeout. */
  async listModels(): Promise<string[]> {
    const body = await this.getJson("/api/tags", "tags");
    const models = (body as { models?: unknown }).models;
    if (!Array.isArray(models)) {
      throw new ServiceError({ service: "ollama", operation: "tags", status: 0, description: "no models list in the answer" });
    }
    return models
      .map((m) => (m as { name?: unknown; model?: unknown }).name ?? (m as { model?: unknown }).model)
      .filter((name): name is string => typeof name === "string");
  }

  /** Ollama's version (GET /api/version), with the short status timeout. */
  async version(): Promise<string> {
    const body = await this.getJson("/api/version", "version");
    const version = (body as { version?: unknown }).version;
    return typeof version === "string" ? version : "unknown";
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.options.apiKey) headers[OLLAMA_API_KEY_HEADER] = this.options.apiKey;
    return headers;
  }

  private post(path: string, payload: unknown, timeoutMs: number, signal?: AbortSignal, operation = "chat"): Promise<TimedCall> {
    return timedRequest(`${this.baseUrl}${path}`, {
      service: "ollama",
      operation,
      method: "POST",
      headers: this.headers(),
      body: JSON.stringify(payload),
      dispatcher: this.options.dispatcher,
      timeoutMs,
      signal,
      redact: this.redact,
    });
  }

  /** Rejects (and drains the body) unless the status is 200; the error text says what Ollama said. */
  private async expectOk(call: TimedCall, operation: string): Promise<void> {
    const { statusCode, body } = call.response;
    if (statusCode === 200) return;
    let description = `HTTP ${statusCode}`;
    try {
      const text = await body.text();
      const parsed = JSON.parse(text) as { error?: unknown };
      if (typeof parsed.error === "string") description = parsed.error;
    } catch {
      // The status alone says enough.
    }
    throw new ServiceError({ service: "ollama", operation, status: statusCode, description: this.redact(description.slice(0, 300)) });
  }

  private async getJson(path: string, operation: string): Promise<unknown> {
    const call = await timedRequest(`${this.baseUrl}${path}`, {
      service: "ollama",
      operation,
      method: "GET",
      headers: this.headers(),
      dispatcher: this.options.dispatcher,
      timeoutMs: this.statusTimeoutMs,
      redact: this.redact,
    });
    return this.readJson(call, operation);
  }

  /** The JSON body of a 200 answer; a ServiceError for another status or a body that is not JSON. */
  private async readJson(call: TimedCall, operation: string): Promise<unknown> {
    let text: string;
    try {
      await this.expectOk(call, operation);
      text = await call.response.body.text();
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      throw call.wrap(err);
    } finally {
      call.done();
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ServiceError({ service: "ollama", operation, status: 0, description: "answer was not JSON" });
    }
  }
}
