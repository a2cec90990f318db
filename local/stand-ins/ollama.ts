/**
 * A small HTTP server speaking Ollama's documented API (docs/api.md in the ollama
 * repository): POST /api/chat (whole JSON answer, or NDJSON stream — Ollama's default when
 * `stream` is absent; a `thinking` model's reasoning in `message.thinking` with `think: true`,
 * as `<think>` tags in the content when `think` is absent, none with `think: false`),
 * POST /api/show (with each model's `capabilities`), GET /api/tags and GET /api/version. Optionally checks X-API-Key as
 * our nginx proxy does. Tests, local mode and the benchmark use it instead of a GPU, and can
 * make it slow, wrong, silent or cut off.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_OLLAMA_MODELS, OLLAMA_API_KEY_HEADER } from "../../config/defaults";
import { readBody } from "../read-body";
import { echoThinking, showOf, tagOf, TEXT_ONLY } from "./ollama-models";

/** The body of POST /api/chat, as far as the stand-in reads it. */
export interface OllamaChatRequest {
  model: string;
  messages: { role: string; content: string; images?: string[] }[];
  stream?: boolean;
  options?: Record<string, unknown>;
  think?: boolean;
}

/** How the stand-in answers. */
export type OllamaBehaviour =
  /** The default: answer with reply(request). */
  | { readonly kind: "answer" }
  /** Answer this HTTP status with body {"error": error}, e.g. 404 `model "x" not found, try pulling it first`, or 500. */
  | { readonly kind: "status"; readonly status: number; readonly error: string }
  /** Accept the request and never answer (until stop()). */
  | { readonly kind: "hang" }
  /** 200 with a body that is not the documented JSON (for a stream: one good line, then a broken NDJSON line). */
  | { readonly kind: "malformed" }
  /** Stream: destroy the socket after N chunks; non-stream: after sending half of the body. */
  | { readonly kind: "cut"; readonly afterChunks: number };

/** How to start an OllamaStandIn. */
export interface OllamaStandInOptions {
  /** When set, requests without an X-API-Key header equal to it get 401 (as our nginx proxy does). @default - no check */
  readonly apiKey?: string;
  /** What /api/tags lists and /api/chat accepts. @default DEFAULT_OLLAMA_MODELS */
  readonly models?: readonly string[];
  /** The answer's text. @default - `You said: <last user message>` */
  readonly reply?: (request: OllamaChatRequest) => string;
  /** Delay before the first chunk (stream) or before generating (non-stream), in ms. @default 0 */
  readonly firstTokenDelayMs?: number;
  /**
   * Generation pace. A "token" is one word with its following whitespace. A stream sends one
   * chunk per token at this pace; a whole answer takes as long as the stream would.
   * @default - no pacing: every chunk at once
   */
  readonly tokensPerSecond?: number;
  /** What /api/version reports. @default "0.12.0" */
  readonly version?: string;
  /** Each model's /api/show `capabilities` (e.g. vision, thinking). @default - ["completion"] for every model */
  readonly capabilities?: Readonly<Record<string, readonly string[]>>;
  /** The reasoning of a model with the `thinking` capability. @default - `Thinking about: <last user message>` */
  readonly thinking?: (request: OllamaChatRequest) => string;
}

/** One request as the stand-in received it. */
export interface OllamaRecordedRequest {
  readonly path: string;
  readonly method: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Size of the body in bytes. */
  readonly bytes: number;
  /** The body parsed as JSON; the raw string when it is not JSON; undefined when empty. */
  readonly body: unknown;
}

/** Paths a behaviour can be set for. */
export type OllamaPath = "/api/chat" | "/api/show" | "/api/tags" | "/api/version";

/** Options of setBehaviour. */
export interface BehaviourOptions {
  /** How many requests behave so before the previous behaviour returns. @default - until changed */
  readonly times?: number;
  /** Which endpoint behaves so. @default "/api/chat" */
  readonly path?: OllamaPath;
}

const DEFAULT_VERSION = "0.12.0";
/** Nanoseconds the stand-in reports for loading a model that is already loaded. */
const LOAD_DURATION_NS = 1_000_000;

/** Splits an answer into "tokens": each word with its following whitespace (leading whitespace is a token of its own). */
export function ollamaTokens(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** The default reply: `You said: <last user message>`. */
export function echoReply(request: OllamaChatRequest): string {
  const lastUser = [...request.messages].reverse().find((m) => m.role === "user");
  return `You said: ${lastUser?.content ?? ""}`;
}

interface Override {
  readonly behaviour: OllamaBehaviour;
  remaining: number;
}

/** An Ollama API server on 127.0.0.1 for tests; see the module comment. */
export class OllamaStandIn {
  /** "http://127.0.0.1:<port>": use as the Ollama base URL. */
  readonly url: string;
  /** Every request, in arrival order (401s included). */
  readonly requests: OllamaRecordedRequest[] = [];
  /** How each streamed generation ended: its last chunk sent, or its client gone before (Ollama then stops computing). */
  readonly generations: { readonly at: number; readonly ended: "done" | "client_left" }[] = [];

  private models: readonly string[];
  private reply: (request: OllamaChatRequest) => string;
  private readonly capabilities = new Map<string, readonly string[]>();
  private readonly persistent = new Map<OllamaPath, OllamaBehaviour>();
  private readonly temporary = new Map<OllamaPath, Override>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<ServerResponse>();
  private stopped = false;

  private constructor(
    private readonly server: Server,
    private readonly options: OllamaStandInOptions,
  ) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.models = [...(options.models ?? DEFAULT_OLLAMA_MODELS)];
    this.reply = options.reply ?? echoReply;
    for (const [model, capabilities] of Object.entries(options.capabilities ?? {})) this.capabilities.set(model, capabilities);
  }

  /** Starts the stand-in on a free loopback port. */
  static async start(options: OllamaStandInOptions = {}): Promise<OllamaStandIn> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const standIn = new OllamaStandIn(server, options);
    server.on("request", (req, res) => {
      standIn.handle(req, res).catch(() => res.destroy());
    });
    return standIn;
  }

  /** The bodies of the well-formed POST /api/chat requests, in order. */
  chatRequests(): OllamaChatRequest[] {
    return this.requests
      .filter((r) => r.path === "/api/chat" && r.method === "POST" && isChatRequest(r.body))
      .map((r) => r.body as OllamaChatRequest);
  }

  /** Sets how an endpoint (default /api/chat) answers, for `times` requests or until changed. */
  setBehaviour(behaviour: OllamaBehaviour, options: BehaviourOptions = {}): void {
    const path = options.path ?? "/api/chat";
    if (options.times === undefined) {
      this.persistent.set(path, behaviour);
      this.temporary.delete(path);
    } else {
      this.temporary.set(path, { behaviour, remaining: options.times });
    }
  }

  /** Replaces the models /api/tags lists and /api/chat accepts. */
  setModels(models: readonly string[]): void {
    this.models = [...models];
  }

  /** Sets a model's /api/show capabilities (e.g. ["completion", "vision"]). */
  setCapabilities(model: string, capabilities: readonly string[]): void {
    this.capabilities.set(model, [...capabilities]);
  }

  /** A model's capabilities: as set, else ["completion"]. */
  capabilitiesOf(model: string): readonly string[] {
    return this.capabilities.get(model) ?? TEXT_ONLY;
  }

  /** Replaces the reply function. */
  setReply(reply: (request: OllamaChatRequest) => string): void {
    this.reply = reply;
  }

  /** Stops the server; also ends hanging and streaming requests. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const res of this.pending) res.destroy();
    this.pending.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // -- request handling -----------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const method = req.method ?? "GET";
    const text = raw.toString("utf8");
    this.requests.push({ path, method, headers: { ...req.headers }, bytes: raw.length, body: parseBody(text) });

    const apiKey = this.options.apiKey;
    if (apiKey !== undefined && req.headers[OLLAMA_API_KEY_HEADER.toLowerCase()] !== apiKey) {
      return sendJson(res, 401, { error: "unauthorized" });
    }
    const route = routeOf(method, path);
    if (route === undefined) {
      res.writeHead(404, { "content-type": "text/plain" });
      return void res.end("404 page not found");
    }
    const behaviour = this.nextBehaviour(route);
    switch (behaviour.kind) {
      case "status":
        return sendJson(res, behaviour.status, { error: behaviour.error });
      case "hang":
        this.pending.add(res);
        res.on("close", () => this.pending.delete(res));
        return;
      default:
        break;
    }
    if (route === "/api/version") return this.answerJson(res, { version: this.options.version ?? DEFAULT_VERSION }, behaviour);
    if (route === "/api/tags") return this.answerJson(res, { models: this.models.map(tagOf) }, behaviour);
    if (route === "/api/show") return this.show(res, text, behaviour);
    return this.chat(res, text, behaviour);
  }

  /** POST /api/show: the model's details and capabilities, or 404 for a model it does not have. */
  private show(res: ServerResponse, text: string, behaviour: OllamaBehaviour): void {
    const model = (parseBody(text) as { model?: unknown } | undefined)?.model;
    if (typeof model !== "string" || model === "") return sendJson(res, 400, { error: "model is required" });
    if (!this.models.includes(model)) return sendJson(res, 404, { error: `model '${model}' not found` });
    this.answerJson(res, showOf(model, this.capabilitiesOf(model)), behaviour);
  }

  /** What the model writes: reasoning apart (think: true), in `<think>` tags (think absent) or none. */
  private generate(request: OllamaChatRequest): { readonly reasoning: string; readonly content: string } {
    const answer = this.reply(request);
    if (!this.capabilitiesOf(request.model).includes("thinking") || request.think === false) return { reasoning: "", content: answer };
    const reasoning = (this.options.thinking ?? echoThinking)(request);
    return request.think === true ? { reasoning, content: answer } : { reasoning: "", content: `<think>\n${reasoning}\n</think>\n\n${answer}` };
  }

  /** The behaviour for this request, counting down a temporary one. */
  private nextBehaviour(path: OllamaPath): OllamaBehaviour {
    const override = this.temporary.get(path);
    if (override) {
      override.remaining -= 1;
      if (override.remaining <= 0) this.temporary.delete(path);
      return override.behaviour;
    }
    return this.persistent.get(path) ?? { kind: "answer" };
  }

  /** A whole JSON answer under "answer", "malformed" or "cut". */
  private answerJson(res: ServerResponse, body: unknown, behaviour: OllamaBehaviour): void {
    if (behaviour.kind === "malformed") {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      return void res.end("this is not JSON");
    }
    const text = JSON.stringify(body);
    if (behaviour.kind === "cut") {
      const bytes = Buffer.from(text, "utf8");
      res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": String(bytes.length) });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
      return;
    }
    sendJson(res, 200, body);
  }

  private async chat(res: ServerResponse, text: string, behaviour: OllamaBehaviour): Promise<void> {
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      return sendJson(res, 400, { error: "invalid character in request body" });
    }
    if (typeof request !== "object" || request === null || typeof (request as OllamaChatRequest).model !== "string" || (request as OllamaChatRequest).model === "") {
      return sendJson(res, 400, { error: "model is required" });
    }
    if (!isChatRequest(request)) return sendJson(res, 400, { error: "messages must be an array of {role, content}" });
    if (!this.models.includes(request.model)) {
      return sendJson(res, 404, { error: `model "${request.model}" not found, try pulling it first` });
    }

    const started = process.hrtime.bigint();
    const { reasoning, content: answer } = this.generate(request);
    // One chunk per token: the reasoning's first (content ""), then the answer's.
    const tokens = [...ollamaTokens(reasoning).map((t) => ({ content: "", thinking: t })), ...ollamaTokens(answer).map((t) => ({ content: t }))];
    const tokensPerSecond = this.options.tokensPerSecond;
    const stepMs = tokensPerSecond && tokensPerSecond > 0 ? 1000 / tokensPerSecond : 0;
    const promptTokens = request.messages.reduce((n, m) => n + ollamaTokens(m.content).length, 0);
    const figures = (): Record<string, number> => {
      const total = Number(process.hrtime.bigint() - started);
      const evalDuration = stepMs > 0 ? Math.round(tokens.length * stepMs * 1e6) : Math.max(1, total - LOAD_DURATION_NS);
      return {
        total_duration: Math.max(total, LOAD_DURATION_NS + evalDuration),
        load_duration: LOAD_DURATION_NS,
        prompt_eval_count: promptTokens,
        prompt_eval_duration: Math.round((this.options.firstTokenDelayMs ?? 0) * 1e6),
        eval_count: tokens.length,
        eval_duration: evalDuration,
      };
    };
    const base = () => ({ model: request.model, created_at: new Date().toISOString() });
    this.pending.add(res);
    res.on("close", () => {
      this.pending.delete(res);
      this.generations.push({ at: Date.now(), ended: res.writableFinished ? "done" : "client_left" });
    });

    await this.sleep(this.options.firstTokenDelayMs ?? 0);
    if (res.destroyed || this.stopped) return;

    if (request.stream === false) {
      await this.sleep(tokens.length * stepMs);
      if (res.destroyed || this.stopped) return;
      const message = { role: "assistant", content: answer, ...(reasoning ? { thinking: reasoning } : {}) };
      const whole = { ...base(), message, done: true, done_reason: "stop", ...figures() };
      return this.answerJson(res, whole, behaviour);
    }

    res.writeHead(200, { "content-type": "application/x-ndjson" });
    const line = (value: unknown) => `${JSON.stringify(value)}\n`;
    if (behaviour.kind === "malformed") {
      res.write(line({ ...base(), message: { role: "assistant", ...tokens[0] }, done: false }));
      return void res.end('{"model":"' + request.model + '","message":{"role":"assistant","content":\n');
    }
    const cutAfter = behaviour.kind === "cut" ? behaviour.afterChunks : Number.POSITIVE_INFINITY;
    for (let index = 0; index < tokens.length && index < cutAfter; index += 1) {
      if (index > 0) await this.sleep(stepMs);
      if (res.destroyed || this.stopped) return;
      await writeFlushed(res, line({ ...base(), message: { role: "assistant", ...tokens[index] }, done: false }));
    }
    if (behaviour.kind === "cut") {
      if (behaviour.afterChunks <= 0) {
        // Nothing written yet: let the headers reach the client before the socket dies.
        res.flushHeaders();
        await this.sleep(20);
      }
      return void res.destroy();
    }
    res.end(line({ ...base(), message: { role: "assistant", content: "" }, done: true, done_reason: "stop", ...figures() }));
  }

  /** Waits ms (resolving at once for 0); stop() cancels the wait. */
  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

function routeOf(method: string, path: string): OllamaPath | undefined {
  if (method === "POST" && path === "/api/chat") return "/api/chat";
  if (method === "POST" && path === "/api/show") return "/api/show";
  if (method === "GET" && path === "/api/tags") return "/api/tags";
  if (method === "GET" && path === "/api/version") return "/api/version";
  return undefined;
}

function isChatRequest(body: unknown): body is OllamaChatRequest {
  if (typeof body !== "object" || body === null) return false;
  const { model, messages } = body as { model?: unknown; messages?: unknown };
  return (
    typeof model === "string" &&
    Array.isArray(messages) &&
    messages.every((m: unknown) => typeof m === "object" && m !== null && typeof (m as { role?: unknown }).role === "string" && typeof (m as { content?: unknown }).content === "string")
  );
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Writes and waits until the data was handed to the socket, so a destroy() after it cannot drop it. */
function writeFlushed(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => res.write(data, () => resolve()));
}


function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}
