/**
 * A model server that, like one GPU running Ollama with OLLAMA_NUM_PARALLEL=2, generates at
 * most `slots` answers at a time and queues the other requests in arrival order, for the
 * burst simulation (bench/burst.ts). The shared Ollama stand-in answers every request at once,
 * which would hide exactly the contention the burst is about, so this bench-only server speaks
 * the part of Ollama's API the handler uses: POST /api/chat as an NDJSON stream, POST /api/show,
 * GET /api/tags and GET /api/version.
 *
 * As Ollama does, a request whose client goes away is dropped: from the wait queue if it was
 * still waiting, or its generation stops and frees its slot. That is what a timed-out call of
 * the handler does to it (undici aborts the socket), so abandoned requests do not occupy the
 * model afterwards.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_OLLAMA_MODELS } from "../config/defaults";
import { readBody } from "../local/read-body";
import { showOf, tagOf, TEXT_ONLY } from "../local/stand-ins/ollama-models";

/** How the gated model behaves. */
export interface GatedOllamaOptions {
  /** Generations at once. */
  readonly slots: number;
  /** Time one generation holds its slot, from start to the last chunk, in ms. */
  readonly generationMs: number;
  /** Tokens streamed per answer, spread evenly over the generation after the first. @default 8 */
  readonly tokens?: number;
  /** What the model answers to the last user message. */
  readonly reply: (lastUserMessage: string) => string;
  /**
   * Called at the moment a client leaves before its answer ended (the socket closed), as Ollama
   * notices it: when the model request ends. @default none
   */
  readonly onClientLeft?: () => void;
}

/** What the server did, for the report. */
export interface GatedOllamaStats {
  /** Generations that ran to the end. */
  readonly completed: number;
  /** Requests whose client left while they waited for a slot. */
  readonly abandonedWaiting: number;
  /** Generations stopped because their client left. */
  readonly abandonedGenerating: number;
  /** Most generations that ever ran at once (must not exceed the slots). */
  readonly peakGenerating: number;
  /** Most requests that ever waited for a slot at once. */
  readonly peakWaiting: number;
}

interface ChatBody {
  readonly model?: unknown;
  readonly messages?: readonly { readonly role?: unknown; readonly content?: unknown }[];
}

/** See the module comment. */
export class GatedOllama {
  readonly url: string;
  private readonly waiting: (() => void)[] = [];
  private generating = 0;
  private completed = 0;
  private abandonedWaiting = 0;
  private abandonedGenerating = 0;
  private peakGenerating = 0;
  private peakWaiting = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: GatedOllamaOptions,
  ) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Starts the server on a free loopback port. */
  static async start(options: GatedOllamaOptions): Promise<GatedOllama> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const gated = new GatedOllama(server, options);
    server.on("request", (req, res) => {
      gated.handle(req, res).catch(() => res.destroy());
    });
    return gated;
  }

  stats(): GatedOllamaStats {
    const { completed, abandonedWaiting, abandonedGenerating, peakGenerating, peakWaiting } = this;
    return { completed, abandonedWaiting, abandonedGenerating, peakGenerating, peakWaiting };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (await readBody(req)).toString("utf8");
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (req.method === "GET" && path === "/api/version") return sendJson(res, 200, { version: "0.12.0" });
    if (req.method === "GET" && path === "/api/tags") return sendJson(res, 200, { models: DEFAULT_OLLAMA_MODELS.map(tagOf) });
    const body = parse(raw);
    if (req.method === "POST" && path === "/api/show") {
      return typeof body?.model === "string" ? sendJson(res, 200, showOf(body.model, TEXT_ONLY)) : sendJson(res, 400, { error: "model is required" });
    }
    if (req.method !== "POST" || path !== "/api/chat") return sendJson(res, 404, { error: "not found" });
    if (typeof body?.model !== "string" || !Array.isArray(body.messages)) return sendJson(res, 400, { error: "model and messages are required" });
    const lastUser = [...body.messages].reverse().find((m) => m.role === "user");
    return this.chat(res, body.model, typeof lastUser?.content === "string" ? lastUser.content : "");
  }

  /** Waits for a slot (or the client to leave), then streams the answer over generationMs. */
  private async chat(res: ServerResponse, model: string, lastUser: string): Promise<void> {
    let gone = false;
    const leaveListeners: (() => void)[] = [];
    res.on("close", () => {
      if (res.writableFinished) return;
      gone = true;
      this.options.onClientLeft?.();
      for (const listener of leaveListeners.splice(0)) listener();
    });
    if (!(await this.acquire((listener) => leaveListeners.push(listener)))) {
      this.abandonedWaiting += 1;
      return;
    }
    try {
      const tokens = tokensOf(this.options.reply(lastUser), this.options.tokens ?? 8);
      const stepMs = this.options.generationMs / tokens.length;
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      for (const token of tokens) {
        await sleep(stepMs);
        if (gone) {
          this.abandonedGenerating += 1;
          return;
        }
        res.write(line({ model, created_at: new Date().toISOString(), message: { role: "assistant", content: token }, done: false }));
      }
      const evalNs = Math.round(this.options.generationMs * 1e6);
      res.end(line({ model, message: { role: "assistant", content: "" }, done: true, done_reason: "stop", eval_count: tokens.length, eval_duration: evalNs }));
      this.completed += 1;
    } finally {
      this.release();
    }
  }

  /**
   * Resolves true once a slot is taken, false when the client left first (`onLeave` calls
   * back then). Waiters are served in arrival order, as Ollama's scheduler serves its queue.
   */
  private acquire(onLeave: (listener: () => void) => void): Promise<boolean> {
    if (this.generating < this.options.slots && this.waiting.length === 0) {
      this.take();
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const turn = () => {
        this.take();
        resolve(true);
      };
      onLeave(() => {
        const at = this.waiting.indexOf(turn);
        if (at < 0) return; // already generating: the stream loop sees `gone`
        this.waiting.splice(at, 1);
        resolve(false);
      });
      this.waiting.push(turn);
      this.peakWaiting = Math.max(this.peakWaiting, this.waiting.length);
    });
  }

  private take(): void {
    this.generating += 1;
    this.peakGenerating = Math.max(this.peakGenerating, this.generating);
  }

  /** Frees a slot and hands it to the longest waiter. */
  private release(): void {
    this.generating -= 1;
    if (this.generating < this.options.slots) this.waiting.shift()?.();
  }
}

/** The answer cut into `count` chunks of whole words (Ollama streams a token per chunk). Pure. */
export function tokensOf(text: string, count: number): string[] {
  const words = text.split(/(?<=\s)/);
  const per = Math.max(1, Math.ceil(words.length / Math.max(1, count)));
  const out: string[] = [];
  for (let i = 0; i < words.length; i += per) out.push(words.slice(i, i + per).join(""));
  return out.length > 0 ? out : [""];
}

function parse(text: string): ChatBody | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as ChatBody) : undefined;
  } catch {
    return undefined;
  }
}

const line = (value: unknown) => `${JSON.stringify(value)}\n`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}
