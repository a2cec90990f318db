/**
 * How the OpenAI-compatible stand-in (local/stand-ins/openai.ts) writes its event stream:
 * `data:` events, clean or as rough as real servers write them (split across TCP writes, CRLF,
 * keep-alive comments, multi-line data, an `event:` field), and the pauses between chunks,
 * which close() cancels.
 */
import type { ServerResponse } from "node:http";

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

/** Byte offsets where splitWrites cuts an event: after 3 bytes, inside the first multi-byte character, midway, before the last. Pure. */
export function splitPoints(bytes: Uint8Array): number[] {
  const lead = bytes.findIndex((b) => (b & 0xc0) === 0xc0);
  const points = [3, lead < 0 ? 0 : lead + 1, Math.floor(bytes.length / 2), bytes.length - 1];
  return [...new Set(points)].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
}

/** Writes events as the wire options say, and keeps its pauses so that close() can cancel them. */
export class EventWriter {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly eol: string;

  /** @param wire how rough to write; clean when empty */
  constructor(private readonly wire: OpenAiWireOptions) {
    this.eol = wire.crlf ? "\r\n" : "\n";
  }

  /** Waits `ms` (at once when 0 or less), unless cancel() comes first; then it never resolves. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** Clears every pending pause (close() ends the streams waiting on them). */
  cancel(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Writes text, in several writes when splitWrites is on. */
  async writeRaw(res: ServerResponse, text: string): Promise<void> {
    const bytes = Buffer.from(text, "utf8");
    let from = 0;
    for (const at of [...(this.wire.splitWrites ? splitPoints(bytes) : []), bytes.length]) {
      if (res.destroyed) return;
      await new Promise<void>((resolve) => res.write(bytes.subarray(from, at), () => resolve()));
      from = at;
      // A gap lets each write leave as its own TCP segment rather than coalesce.
      if (at < bytes.length) await this.sleep(2);
    }
  }

  /** Writes one `data:` event (with the wire's roughness). */
  async sendEvent(res: ServerResponse, data: string): Promise<void> {
    const { wire, eol } = this;
    // Right after the id: the one `,"` in a chunk that cannot sit inside a string.
    const comma = data.startsWith('{"id":') ? data.indexOf(',"') : -1;
    const lines = wire.multiLineData && comma > 0 ? [data.slice(0, comma + 1), data.slice(comma + 1)] : [data];
    if (wire.keepAlive) await this.writeRaw(res, `: keep-alive${eol}${eol}`);
    await this.writeRaw(res, `${wire.eventField ? `event: message${eol}` : ""}${lines.map((l) => `data: ${l}`).join(eol)}${eol}${eol}`);
  }
}
