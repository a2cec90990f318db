/**
 * A small HTTP server speaking OpenAI's transcription API (POST /v1/audio/transcriptions,
 * multipart/form-data with `file`, `model`, optional `language` and `response_format`; answered
 * `{ "text": ... }`), as whisper.cpp's server, faster-whisper servers, OpenAI and Groq speak it.
 * Tests and local mode use it instead of a speech model: it answers a fixed transcript or one
 * per file content, records each request (fields, file name, type and size, headers), and can
 * fail on purpose (a status, a hang, a slow answer, no words, a reset connection, 401 without
 * the right key). It also reads the duration of an Ogg file (the terminal chat's `/voice`).
 *
 *   npx tsx local/stand-ins/transcription.ts [port] [transcript]
 *
 * runs one on its own, for TRANSCRIPTION_URL in `npm start`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "../read-body";

/** The path the stand-in serves, OpenAI's. */
export const TRANSCRIPTION_PATH = "/v1/audio/transcriptions";

/** What the stand-in answers when no transcript matches the file. */
export const DEFAULT_TRANSCRIPT = "Hello from the transcription stand-in.";

/** One part of a multipart/form-data body. */
export interface MultipartPart {
  readonly name: string;
  /** The part's file name, for a file. @default - none: a plain field */
  readonly filename?: string;
  /** @default - none ("text/plain" for a field, by RFC 7578) */
  readonly contentType?: string;
  readonly data: Buffer;
}

/** One request as the stand-in received it (refused ones included). */
export interface TranscriptionRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The text fields by name (`model`, `language`, `response_format`…). */
  readonly fields: Readonly<Record<string, string>>;
  readonly model: string | undefined;
  readonly language: string | undefined;
  /** The `file` part's name, type and size, when there was one. */
  readonly file: { readonly filename: string; readonly contentType: string | undefined; readonly bytes: number } | undefined;
}

/** A failure for one coming request (see {@link TranscriptionStandIn.failNext}). */
export type TranscriptionFailure =
  /** Answer this status with OpenAI's `{"error": {...}}`. */
  | { readonly kind: "status"; readonly status: number; readonly message?: string }
  /** Accept the request and never answer (until the client leaves or the stand-in stops). */
  | { readonly kind: "hang" }
  /** Answer as usual after `delayMs`. */
  | { readonly kind: "slow"; readonly delayMs: number }
  /** Answer `{"text": ""}`: no words heard. */
  | { readonly kind: "empty" }
  /** Destroy the connection without answering (a refused or reset connection, as the client sees it). */
  | { readonly kind: "reset" };

/** How to start the stand-in. */
export interface TranscriptionStandInOptions {
  /** The transcript of a file no entry of `transcripts` matches. @default DEFAULT_TRANSCRIPT */
  readonly text?: string;
  /** Transcripts by the file's content read as UTF-8 (tests send text as the "audio"). @default - none */
  readonly transcripts?: Readonly<Record<string, string>>;
  /** When set, requests without `Authorization: Bearer <key>` get 401. @default - no check */
  readonly apiKey?: string;
  /** When set, requests without `X-API-Key: <key>` get 401 (the Ollama instance's nginx). @default - no check */
  readonly proxyKey?: string;
  /** Loopback port. @default 0 (a free one) */
  readonly port?: number;
}

/** The boundary of a multipart/form-data Content-Type, or undefined when it has none. Pure. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /^multipart\/form-data\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  return match ? (match[1] ?? match[2]) : undefined;
}

/** The parameters of a Content-Disposition header (`name`, `filename`, RFC 5987 `filename*`), their escapes undone. Pure. */
export function dispositionParameters(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of header.matchAll(/;\s*([A-Za-z*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g)) {
    const key = match[1]!.toLowerCase();
    const raw = match[2]!.trim();
    if (key.endsWith("*")) {
      const encoded = /^[^']*'[^']*'(.*)$/.exec(raw)?.[1];
      if (encoded !== undefined) out[key.slice(0, -1)] = decodeURIComponent(encoded);
      continue;
    }
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
    // The HTML form encoder percent-encodes `"`, CR and LF in names; a filename* read earlier wins.
    out[key] ??= value.replace(/%22/g, '"').replace(/%0D/gi, "\r").replace(/%0A/gi, "\n");
  }
  return out;
}

/**
 * The parts of a multipart/form-data body (RFC 7578, RFC 2046 §5.1): the preamble before the
 * first `--boundary` and the epilogue after `--boundary--` ignored, each part's headers up to
 * its blank line. Throws on a body that is not well formed. Pure.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`, "latin1");
  const between = Buffer.from(`\r\n--${boundary}`, "latin1");
  const parts: MultipartPart[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new Error("the body has no boundary");
  for (;;) {
    let from = at + delimiter.length;
    const after = body.subarray(from, from + 2).toString("latin1");
    if (after === "--") return parts;
    if (after !== "\r\n") throw new Error("a boundary is not followed by CRLF");
    from += 2;
    const end = body.indexOf(between, from);
    if (end < 0) throw new Error("a part is not closed by the boundary");
    const part = body.subarray(from, end);
    const split = part.indexOf("\r\n\r\n");
    if (split < 0) throw new Error("a part has no blank line after its headers");
    const headers = new Map(
      part.subarray(0, split).toString("utf8").split("\r\n").map((line) => [line.slice(0, line.indexOf(":")).trim().toLowerCase(), line.slice(line.indexOf(":") + 1).trim()] as const),
    );
    const disposition = dispositionParameters(headers.get("content-disposition") ?? "");
    if (disposition.name === undefined) throw new Error("a part has no name");
    const contentType = headers.get("content-type");
    parts.push({ name: disposition.name, ...(disposition.filename !== undefined ? { filename: disposition.filename } : {}), ...(contentType ? { contentType } : {}), data: Buffer.from(part.subarray(split + 4)) });
    at = end + 2;
  }
}

/**
 * The duration of an Ogg Opus or Ogg Vorbis file, in seconds, from its last page's granule
 * position (minus Opus's pre-skip, over 48 kHz; over Vorbis's sample rate); undefined for
 * anything else. Reads no audio. Pure.
 */
export function oggDurationSeconds(data: Buffer): number | undefined {
  if (data.subarray(0, 4).toString("latin1") !== "OggS" || data.length < 27) return undefined;
  const last = data.lastIndexOf("OggS");
  if (last < 0 || last + 14 > data.length) return undefined;
  const granule = Number(data.readBigInt64LE(last + 6));
  const opus = data.indexOf("OpusHead");
  const vorbis = data.indexOf("\x01vorbis", 0, "latin1");
  let samples: number | undefined;
  let rate: number | undefined;
  if (opus >= 0 && opus + 12 <= data.length) [samples, rate] = [granule - data.readUInt16LE(opus + 10), 48_000];
  else if (vorbis >= 0 && vorbis + 16 <= data.length) [samples, rate] = [granule, data.readUInt32LE(vorbis + 12)];
  if (samples === undefined || !rate || samples < 0) return undefined;
  return samples / rate;
}

/**
 * A minimal Ogg Opus container lasting `seconds`: an OpusHead page and a last page whose
 * granule position ends the stream there, then `payload`. A fixture for the duration reader
 * and the terminal chat; it carries no audio a real server could decode (nor valid CRCs).
 */
export function oggOpusFixture(seconds: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const preSkip = 312;
  const page = (granule: number, body: Buffer) => {
    const head = Buffer.alloc(27);
    head.write("OggS", 0, "latin1");
    head.writeBigInt64LE(BigInt(granule), 6);
    head.writeUInt8(1, 26);
    return Buffer.concat([head, Buffer.from([Math.min(255, body.length)]), body]);
  };
  const opusHead = Buffer.alloc(19);
  opusHead.write("OpusHead", 0, "latin1");
  opusHead.writeUInt8(1, 8);
  opusHead.writeUInt8(1, 9);
  opusHead.writeUInt16LE(preSkip, 10);
  opusHead.writeUInt32LE(48_000, 12);
  return Buffer.concat([page(0, opusHead), page(preSkip + Math.round(seconds * 48_000), Buffer.alloc(8)), payload]);
}

/** A running transcription stand-in; see the module comment. */
export class TranscriptionStandIn {
  /** The endpoint's full URL (http://127.0.0.1:<port>/v1/audio/transcriptions): TRANSCRIPTION_URL. */
  readonly url: string;
  /** The server's origin (http://127.0.0.1:<port>). */
  readonly origin: string;
  /** Every request, in arrival order. */
  readonly requests: TranscriptionRequest[] = [];
  private readonly failures: TranscriptionFailure[] = [];
  private readonly open = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    private readonly options: TranscriptionStandInOptions,
  ) {
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.url = `${this.origin}${TRANSCRIPTION_PATH}`;
  }

  /** Starts the stand-in on a loopback port. */
  static async start(options: TranscriptionStandInOptions = {}): Promise<TranscriptionStandIn> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    const standIn = new TranscriptionStandIn(server, options);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void standIn.handle(req, res).catch(() => res.destroy()));
    return standIn;
  }

  /** Queues a failure for the next request (after those queued before). */
  failNext(failure: TranscriptionFailure): void {
    this.failures.push(failure);
  }

  /** Stops the server, ending hanging requests and slow answers. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const res of this.open) res.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = new URL(req.url ?? "/", this.origin).pathname;
    const boundary = boundaryOf(req.headers["content-type"]);
    let parts: MultipartPart[] | undefined;
    try {
      parts = boundary ? parseMultipart(body, boundary) : undefined;
    } catch {
      parts = undefined;
    }
    const fields = Object.fromEntries((parts ?? []).filter((p) => p.filename === undefined).map((p) => [p.name, p.data.toString("utf8")]));
    const file = parts?.find((p) => p.name === "file" && p.filename !== undefined);
    this.requests.push({
      method: req.method ?? "GET",
      path,
      headers: { ...req.headers },
      fields,
      model: fields.model,
      language: fields.language,
      file: file ? { filename: file.filename!, contentType: file.contentType, bytes: file.data.length } : undefined,
    });
    // The key presented is echoed whole (harsher than OpenAI's masked echo), so redaction is tested.
    const presented = (req.headers.authorization ?? "").replace(/^Bearer\s+/i, "");
    if (this.options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.options.apiKey}`) return sendError(res, 401, `Incorrect API key provided: ${presented}.`);
    if (this.options.proxyKey !== undefined && req.headers["x-api-key"] !== this.options.proxyKey) return sendError(res, 401, "unauthorized");
    if (req.method !== "POST" || path !== TRANSCRIPTION_PATH) return sendError(res, 404, `Invalid URL (${req.method} ${path})`);
    if (!parts) return sendError(res, 400, "The request is not multipart/form-data.");
    if (!file) return sendError(res, 400, "you must provide a file parameter");
    if (!fields.model) return sendError(res, 400, "you must provide a model parameter");
    await this.answer(res, file.data, this.failures.shift());
  }

  /** Answers a well-formed request, or fails as queued. */
  private async answer(res: ServerResponse, audio: Buffer, failure: TranscriptionFailure | undefined): Promise<void> {
    if (failure?.kind === "status") return sendError(res, failure.status, failure.message ?? "The server had an error while processing your request.");
    if (failure?.kind === "reset") return void res.socket?.destroy();
    if (failure?.kind === "hang") {
      this.open.add(res);
      return void res.on("close", () => this.open.delete(res));
    }
    if (failure?.kind === "slow") {
      this.open.add(res);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, failure.delayMs);
        this.timers.add(timer);
      });
      this.open.delete(res);
      if (res.destroyed) return;
    }
    const text = failure?.kind === "empty" ? "" : (this.options.transcripts?.[audio.toString("utf8")] ?? this.options.text ?? DEFAULT_TRANSCRIPT);
    sendJson(res, 200, { text });
  }
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { message, type: status === 401 ? "invalid_request_error" : "server_error", param: null, code: null } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

/** `npx tsx local/stand-ins/transcription.ts [port] [transcript]`: one stand-in until Ctrl-C. */
async function main(argv: readonly string[]): Promise<void> {
  const port = argv[0] ? Number(argv[0]) : 8080;
  const standIn = await TranscriptionStandIn.start({ port, ...(argv[1] ? { text: argv[1] } : {}) });
  process.stdout.write(`transcription stand-in at ${standIn.url}\nTRANSCRIPTION_URL=${standIn.url} npm start\n`);
  process.once("SIGINT", () => void standIn.stop().then(() => process.exit(0)));
}

if (require.main === module) void main(process.argv.slice(2));
