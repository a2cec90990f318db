/**
 * A decoder of server-sent events (the WHATWG HTML "event stream" format, as OpenAI-compatible
 * servers stream chat completions): bytes in, events out. Pure apart from its own buffer, so
 * the adapter can feed it whatever pieces the network hands over.
 */

/** One event of a `text/event-stream` body. */
export interface SseEvent {
  /** The `event:` field. @default - undefined: the spec's default type, `message` */
  readonly event: string | undefined;
  /** The event's `data:` lines, joined by "\n" (a value split over several lines comes back whole). */
  readonly data: string;
}

/** A stateful decoder of one event stream; see {@link createSseDecoder}. */
export interface SseDecoder {
  /**
   * The events this piece of the body completes. A piece may end anywhere: inside a line,
   * between the `\r` and `\n` of a line ending, or inside a UTF-8 character.
   */
  push(bytes: Uint8Array): SseEvent[];
  /**
   * The events left at the end of the body: an unterminated last line and an event without
   * its closing blank line are dispatched too (the spec drops them; servers that end on
   * `data: [DONE]\n` without the blank line are common enough to be lenient).
   */
  end(): SseEvent[];
}

/**
 * A decoder for one event stream: lines end in `\n`, `\r\n` or `\r`; lines starting with `:`
 * are comments (keep-alives) and ignored; a blank line ends an event, and a blank line with no
 * `data:` before it (a bare keep-alive) dispatches nothing. `id:` and `retry:` are ignored:
 * they serve EventSource reconnection, which a one-shot POST never does.
 */
export function createSseDecoder(): SseDecoder {
  const utf8 = new TextDecoder();
  let buffer = "";
  // A `\r` ended the previous piece: a `\n` starting the next one belongs to the same line ending.
  let skipLineFeed = false;
  let data: string[] = [];
  let event: string | undefined;

  const takeLine = (line: string, out: SseEvent[]): void => {
    if (line === "") {
      if (data.length > 0) out.push({ event, data: data.join("\n") });
      data = [];
      event = undefined;
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const raw = colon < 0 ? "" : line.slice(colon + 1);
    const value = raw.startsWith(" ") ? raw.slice(1) : raw;
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
  };

  const takeText = (text: string, out: SseEvent[]): void => {
    buffer += text;
    if (skipLineFeed && buffer.length > 0) {
      if (buffer.startsWith("\n")) buffer = buffer.slice(1);
      skipLineFeed = false;
    }
    let start = 0;
    for (let index = start; index < buffer.length; index += 1) {
      const char = buffer[index];
      if (char !== "\n" && char !== "\r") continue;
      takeLine(buffer.slice(start, index), out);
      if (char === "\r") {
        if (index + 1 === buffer.length) skipLineFeed = true;
        else if (buffer[index + 1] === "\n") index += 1;
      }
      start = index + 1;
    }
    buffer = buffer.slice(start);
  };

  return {
    push(bytes) {
      const out: SseEvent[] = [];
      takeText(utf8.decode(bytes, { stream: true }), out);
      return out;
    },
    end() {
      const out: SseEvent[] = [];
      takeText(utf8.decode(), out);
      if (buffer !== "") takeLine(buffer, out);
      buffer = "";
      takeLine("", out);
      return out;
    },
  };
}
