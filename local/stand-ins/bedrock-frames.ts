/**
 * How the Bedrock stand-in (local/stand-ins/bedrock.ts) writes its answers: ConverseStream's
 * `application/vnd.amazon.eventstream` frames (@smithy/eventstream-codec), each padded as
 * Bedrock pads them and written so that every write ends inside a frame, and restJson1 errors
 * (`x-amzn-errortype`, `{"message"}`).
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { EventStreamCodec, type MessageHeaders } from "@smithy/eventstream-codec";
import type { Refusal } from "./bedrock-signature";

/** Bedrock pads each event with a `p` field of random length, against length side channels. */
const PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123";

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString("utf8"),
  (text) => new Uint8Array(Buffer.from(text, "utf8")),
);
const str = (value: string) => ({ type: "string" as const, value });

/** Writes frames so that every write ends inside a frame (a tail of it carried to the next write). */
export class SplitWriter {
  private carry = Buffer.alloc(0);
  private seed: number;
  /**
   * `seed` picks the padding lengths and cut points, so a run is repeatable. `split: false`
   * writes each frame whole (the bench: a frame held back until the next one would add a
   * token's interval to every first-token figure).
   */
  constructor(
    private readonly res: ServerResponse,
    seed: number,
    private readonly split = true,
  ) {
    this.seed = seed;
  }
  async frame(headers: MessageHeaders, payload: Record<string, unknown>): Promise<void> {
    this.seed = (this.seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const body = new Uint8Array(Buffer.from(JSON.stringify({ ...payload, p: PADDING.slice(0, 1 + (this.seed % PADDING.length)) })));
    const bytes = Buffer.concat([this.carry, codec.encode({ headers, body })]);
    const tail = this.split ? 1 + (this.seed % (bytes.length - this.carry.length - 1)) : 0;
    this.carry = bytes.subarray(bytes.length - tail);
    await new Promise<void>((resolve) => this.res.write(bytes.subarray(0, bytes.length - tail), () => resolve()));
  }
  event(type: string, payload: Record<string, unknown>): Promise<void> {
    return this.frame({ ":event-type": str(type), ":content-type": str("application/json"), ":message-type": str("event") }, payload);
  }
  exception(type: string, payload: Record<string, unknown>): Promise<void> {
    return this.frame({ ":exception-type": str(type), ":content-type": str("application/json"), ":message-type": str("exception") }, payload);
  }
  /** Writes the carried tail and ends the response. */
  end(): void {
    this.res.end(this.carry);
  }
}

/** Answers a restJson1 error as Bedrock does. */
export function sendError(res: ServerResponse, { status, code, message }: Refusal): void {
  const text = JSON.stringify({ message });
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    "x-amzn-requestid": randomUUID(),
    "x-amzn-errortype": `${code}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  });
  res.end(text);
}
