/**
 * ConverseStream's answer, `application/vnd.amazon.eventstream`, turned into the few events the
 * bot acts on. The body is a sequence of binary frames (a prelude with the frame's total
 * length, headers, a JSON payload, CRCs) that the network splits at any byte, so frames are
 * first reassembled by their prelude's length ({@link EventStreamFrames}), then decoded and
 * checked by @smithy/eventstream-codec, the SDK's own codec ({@link converseEventOf}).
 */
import { EventStreamCodec, type Message, type MessageHeaders } from "@smithy/eventstream-codec";
import { bedrockErrorName } from "./bedrock-wire";
import type { TokenUsage } from "./model-api";

/** What one frame of the stream means to the bot. */
export type ConverseStreamEvent =
  /** A piece of the answer (`contentBlockDelta` with `delta.text`). */
  | { readonly kind: "text"; readonly text: string }
  /** A piece of reasoning (`contentBlockDelta` with `delta.reasoningContent.text`). */
  | { readonly kind: "reasoning"; readonly text: string }
  /** `messageStop`: the model finished, for `stopReason` (`end_turn`, `max_tokens`...). */
  | { readonly kind: "stop"; readonly stopReason: string }
  /** `metadata`, the last event: the token counts and the service's latency. */
  | { readonly kind: "metadata"; readonly usage?: TokenUsage; readonly latencyMs?: number }
  /** An exception (or error) frame: the stream ends with it. `name` as the SDK names it (`ModelStreamErrorException`). */
  | { readonly kind: "exception"; readonly name: string; readonly message: string }
  /** Anything else (`messageStart`, `contentBlockStart`/`Stop`, a signature delta, an event this code does not know). */
  | { readonly kind: "other" };

/** The smallest frame: prelude and the message CRC, no headers, no payload. */
const MIN_FRAME_BYTES = 16;
/** Frames larger than this are taken as garbage, not awaited (the format allows 16 MiB of payload). */
const MAX_FRAME_BYTES = 16 * 1024 * 1024 + 128 * 1024;

/**
 * Reassembles whole frames from chunks split at any byte. A frame whose length is impossible
 * throws: the stream is then not an event stream.
 */
export class EventStreamFrames {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds a chunk and returns the frames it completed, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const frames: Uint8Array[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32BE(0);
      if (length < MIN_FRAME_BYTES || length > MAX_FRAME_BYTES) throw new Error(`event stream frame of impossible length ${length}`);
      if (this.pending.length < length) break;
      frames.push(new Uint8Array(this.pending.subarray(0, length)));
      this.pending = this.pending.subarray(length);
    }
    return frames;
  }

  /** Bytes of a frame begun but not finished: not 0 when the stream ends, it was cut. */
  get pendingBytes(): number {
    return this.pending.length;
  }
}

const toUtf8 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
const fromUtf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"));
const codec = new EventStreamCodec(toUtf8, fromUtf8);

function stringHeader(headers: MessageHeaders, name: string): string | undefined {
  const header = headers[name];
  return header?.type === "string" ? header.value : undefined;
}

function jsonOf(message: Message): Record<string, unknown> {
  if (message.body.byteLength === 0) return {};
  const parsed = JSON.parse(toUtf8(message.body)) as unknown;
  return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

const asNumber = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

function usageOf(value: unknown): TokenUsage | undefined {
  const usage = (value ?? {}) as { inputTokens?: unknown; outputTokens?: unknown };
  const inputTokens = asNumber(usage.inputTokens);
  const outputTokens = asNumber(usage.outputTokens);
  return inputTokens !== undefined && outputTokens !== undefined ? { inputTokens, outputTokens } : undefined;
}

/** An event frame's meaning, by its `:event-type`. */
function eventOf(type: string | undefined, body: Record<string, unknown>): ConverseStreamEvent {
  switch (type) {
    case "contentBlockDelta": {
      const delta = (body.delta ?? {}) as { text?: unknown; reasoningContent?: { text?: unknown } };
      if (typeof delta.text === "string") return { kind: "text", text: delta.text };
      const reasoning = delta.reasoningContent?.text;
      return typeof reasoning === "string" ? { kind: "reasoning", text: reasoning } : { kind: "other" };
    }
    case "messageStop":
      return { kind: "stop", stopReason: typeof body.stopReason === "string" ? body.stopReason : "unknown" };
    case "metadata": {
      const usage = usageOf(body.usage);
      const latencyMs = asNumber((body.metrics as { latencyMs?: unknown } | undefined)?.latencyMs);
      return { kind: "metadata", ...(usage ? { usage } : {}), ...(latencyMs !== undefined ? { latencyMs } : {}) };
    }
    default:
      return { kind: "other" };
  }
}

/**
 * Decodes one whole frame (CRCs checked) into its meaning. `:message-type` `event` frames by
 * `:event-type`; `exception` frames by `:exception-type` with the payload's `message`; `error`
 * frames (an unmodelled failure) by `:error-code` and `:error-message`. Throws on a corrupt
 * frame or a payload that is not JSON. Pure.
 */
export function converseEventOf(frame: Uint8Array): ConverseStreamEvent {
  const message = codec.decode(frame);
  const headers = message.headers;
  switch (stringHeader(headers, ":message-type")) {
    case "event":
      return eventOf(stringHeader(headers, ":event-type"), jsonOf(message));
    case "exception": {
      const text = jsonOf(message).message;
      const name = bedrockErrorName(stringHeader(headers, ":exception-type") ?? "UnknownException");
      return { kind: "exception", name, message: typeof text === "string" ? text : name };
    }
    case "error": {
      const name = bedrockErrorName(stringHeader(headers, ":error-code") ?? "UnknownError");
      return { kind: "exception", name, message: stringHeader(headers, ":error-message") ?? name };
    }
    default:
      throw new Error("event stream frame without a known :message-type");
  }
}
