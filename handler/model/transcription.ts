/**
 * The speech-to-text client: OpenAI's transcription API, which whisper.cpp's server, the
 * faster-whisper servers, OpenAI and Groq all speak. POST <url> as multipart/form-data with
 * `file` (the audio, its filename's extension naming its format), `model`, optionally
 * `language`, and `response_format=json`; the answer is `{ "text": "..." }`. The wire stays in
 * here; the chat path sees only {@link Transcriber}.
 */
import { randomBytes } from "node:crypto";
import type { Dispatcher } from "undici";
import { SYNC_OLLAMA_TIMEOUT_MS } from "../../config/defaults";
import { ConnectionError, ServiceError } from "../net/errors";
import { timedRequest } from "../net/http";
import { createRedactor } from "../observability/log";
import { openAiErrorOf } from "./openai";
import { FAST_FAILURE_MS } from "./stream-answer";

/** A recording to transcribe: its bytes, and the name and media type it is sent with. */
export interface AudioUpload {
  readonly data: Uint8Array;
  /** With the extension that names the format (`voice.ogg`, `audio.mp3`): servers read the format from it. */
  readonly filename: string;
  readonly contentType: string;
}

/** The port: speech in, text out. */
export interface Transcriber {
  /**
   * The recording's words, trimmed ("" when the server heard none). Rejects with a
   * ServiceError (the server answered with an error, or with something that is no transcript)
   * or a ConnectionError (it could not be reached, or did not answer in time).
   */
  transcribe(audio: AudioUpload, signal?: AbortSignal): Promise<string>;
}

/** Options of {@link TranscriptionClient}. */
export interface TranscriptionClientOptions {
  /** The endpoint's full URL, e.g. http://127.0.0.1:8080/v1/audio/transcriptions. */
  readonly url: string;
  /** Sent as `model`, as given (whisper.cpp ignores it; OpenAI wants `whisper-1`, Groq `whisper-large-v3`). */
  readonly model: string;
  /** Sent as `language` (ISO-639-1, such as `en`). @default - none: the server detects the language */
  readonly language?: string;
  /** Sent as `Authorization: Bearer <key>`; never logged nor put in an error. @default - no header */
  readonly apiKey?: string;
  /** Sent as `X-API-Key` (the Ollama instance's nginx, which fronts its whisper.cpp too). @default - no header */
  readonly proxyKey?: string;
  /** undici dispatcher (the pinned one of OLLAMA_CA_CERT for the Ollama instance). @default - the process-wide keep-alive pool */
  readonly dispatcher?: Dispatcher;
  /** Whole-call timeout, the one retry included, in ms. @default SYNC_OLLAMA_TIMEOUT_MS (22000) */
  readonly timeoutMs?: number;
  /** A call refused faster than this is tried once more (as a model call is), in ms. @default FAST_FAILURE_MS (5000) */
  readonly fastFailureMs?: number;
}

/** A file part of a multipart body. */
export interface MultipartFile {
  readonly name: string;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Uint8Array;
}

/** A header parameter's value as the HTML form encoder writes it: `"`, CR and LF percent-encoded. Pure. */
const quotedParameter = (value: string) => `"${value.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A")}"`;

/**
 * A multipart/form-data body (RFC 7578): each field, then the file, each part opened by
 * `--boundary` and the whole closed by `--boundary--`, every line ending CRLF. Pure.
 */
export function multipartBody(fields: readonly (readonly [string, string])[], file: MultipartFile, boundary: string): Uint8Array {
  const parts: Buffer[] = fields.map(([name, value]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=${quotedParameter(name)}\r\n\r\n${value}\r\n`, "utf8"));
  const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name=${quotedParameter(file.name)}; filename=${quotedParameter(file.filename)}\r\nContent-Type: ${file.contentType}\r\n\r\n`;
  parts.push(Buffer.from(fileHead, "utf8"), Buffer.from(file.data), Buffer.from(`\r\n--${boundary}--\r\n`, "utf8"));
  return new Uint8Array(Buffer.concat(parts));
}

/** The text of a transcription answer (`{ "text": ... }`), trimmed; undefined when it has none. Pure. */
export function transcriptOf(body: unknown): string | undefined {
  const text = typeof body === "object" && body !== null ? (body as { text?: unknown }).text : undefined;
  return typeof text === "string" ? text.trim() : undefined;
}

/** True when `url` is on the same origin (scheme, host, port) as `ollamaUrl`: then it goes through the Ollama instance's nginx. Pure. */
export function onOllamaOrigin(url: string, ollamaUrl: string): boolean {
  try {
    return ollamaUrl !== "" && new URL(url).origin === new URL(ollamaUrl).origin;
  } catch {
    return false;
  }
}

/**
 * The transcription API over undici. A connection refused or reset quickly is tried once
 * more within what is left of the timeout (as a model call is, see stream-answer.ts); a
 * timeout or an error the server answered is not, since it would only fail again.
 */
export class TranscriptionClient implements Transcriber {
  private readonly timeoutMs: number;
  private readonly fastFailureMs: number;
  private readonly redact: (text: string) => string;

  constructor(private readonly options: TranscriptionClientOptions) {
    this.timeoutMs = options.timeoutMs ?? SYNC_OLLAMA_TIMEOUT_MS;
    this.fastFailureMs = options.fastFailureMs ?? FAST_FAILURE_MS;
    this.redact = createRedactor([options.apiKey, options.proxyKey]);
  }

  /** See {@link Transcriber.transcribe}. */
  async transcribe(audio: AudioUpload, signal?: AbortSignal): Promise<string> {
    const boundary = `----cloud-ai-${randomBytes(16).toString("hex")}`;
    const fields: [string, string][] = [["model", this.options.model], ["response_format", "json"]];
    if (this.options.language) fields.push(["language", this.options.language]);
    const body = multipartBody(fields, { name: "file", ...audio }, boundary);
    const started = Date.now();
    try {
      return await this.once(body, boundary, this.timeoutMs, signal);
    } catch (err) {
      const remaining = this.timeoutMs - (Date.now() - started);
      const fast = err instanceof ConnectionError && !err.timedOut && !err.certificateRefused && err.elapsedMs < this.fastFailureMs;
      if (!fast || remaining <= 0 || signal?.aborted) throw err;
      return await this.once(body, boundary, remaining, signal);
    }
  }

  /** One exchange: the transcript of a 2xx JSON answer, else a ServiceError. */
  private async once(body: Uint8Array, boundary: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
    const headers: Record<string, string> = { accept: "application/json", "content-type": `multipart/form-data; boundary=${boundary}` };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (this.options.proxyKey) headers["x-api-key"] = this.options.proxyKey;
    const call = await timedRequest(this.options.url, {
      service: "transcription",
      operation: "transcribe",
      method: "POST",
      headers,
      body,
      dispatcher: this.options.dispatcher,
      timeoutMs,
      signal,
      redact: this.redact,
    });
    const text = await call.readText();
    const { statusCode } = call.response;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      parsed = undefined;
    }
    if (statusCode < 200 || statusCode >= 300) {
      const said = openAiErrorOf(parsed);
      const description = this.redact((said?.description ?? `HTTP ${statusCode}`).slice(0, 300));
      throw new ServiceError({ service: "transcription", operation: "transcribe", status: statusCode, description, code: said?.code });
    }
    const transcript = transcriptOf(parsed);
    if (transcript === undefined) throw new ServiceError({ service: "transcription", operation: "transcribe", status: 0, description: "the answer was not a transcript" });
    return transcript;
  }
}
