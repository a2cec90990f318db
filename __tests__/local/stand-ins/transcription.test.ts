import OpenAI, { toFile } from "openai";
import {
  boundaryOf,
  DEFAULT_TRANSCRIPT,
  dispositionParameters,
  oggDurationSeconds,
  oggOpusFixture,
  parseMultipart,
  TranscriptionStandIn,
} from "../../../local/stand-ins/transcription";

// The stand-in is checked with OpenAI's own SDK, so its multipart reading cannot drift from what a real client sends.
const KEY = "sk-stand-in-transcription-key-0123";
const sdk = (standIn: TranscriptionStandIn, apiKey = KEY) => new OpenAI({ baseURL: `${standIn.origin}/v1`, apiKey, maxRetries: 0 });

describe("transcription stand-in", () => {
  let stt: TranscriptionStandIn;
  beforeEach(async () => {
    stt = await TranscriptionStandIn.start({ apiKey: KEY, transcripts: { "fake opus bytes": "What is the weather like?" } });
  });
  afterEach(async () => {
    await stt.stop();
  });

  it("answers OpenAI's SDK with the transcript of the file's content, and records the model, language and file", async () => {
    const file = await toFile(Buffer.from("fake opus bytes"), "voice.ogg", { type: "audio/ogg" });
    const result = await sdk(stt).audio.transcriptions.create({ file, model: "whisper-1", language: "en" });
    expect(result.text).toBe("What is the weather like?");
    expect(stt.requests).toEqual([expect.objectContaining({ method: "POST", path: "/v1/audio/transcriptions", model: "whisper-1", language: "en", file: { filename: "voice.ogg", contentType: "audio/ogg", bytes: 15 } })]);
  });

  it("answers the fixed transcript for any other file", async () => {
    const file = await toFile(Buffer.alloc(1_000, 7), "audio.mp3", { type: "audio/mpeg" });
    expect((await sdk(stt).audio.transcriptions.create({ file, model: "whisper-1" })).text).toBe(DEFAULT_TRANSCRIPT);
  });

  it("refuses a request without the right Bearer key with 401", async () => {
    const file = await toFile(Buffer.from("x"), "voice.ogg");
    await expect(sdk(stt, "sk-wrong-key").audio.transcriptions.create({ file, model: "whisper-1" })).rejects.toMatchObject({ status: 401 });
    expect(stt.requests).toHaveLength(1);
  });

  it("refuses a request without the right X-API-Key with 401, when it plays the Ollama instance's nginx", async () => {
    const proxied = await TranscriptionStandIn.start({ proxyKey: "proxy-key-0123" });
    try {
      const file = await toFile(Buffer.from("x"), "voice.ogg");
      const client = new OpenAI({ baseURL: `${proxied.origin}/v1`, apiKey: "unused", maxRetries: 0 });
      await expect(client.audio.transcriptions.create({ file, model: "m" })).rejects.toMatchObject({ status: 401 });
      const keyed = new OpenAI({ baseURL: `${proxied.origin}/v1`, apiKey: "unused", maxRetries: 0, defaultHeaders: { "X-API-Key": "proxy-key-0123" } });
      await expect(keyed.audio.transcriptions.create({ file, model: "m" })).resolves.toMatchObject({ text: DEFAULT_TRANSCRIPT });
    } finally {
      await proxied.stop();
    }
  });

  it("asks for the file and the model as OpenAI does (400)", async () => {
    const form = new FormData();
    form.set("model", "whisper-1");
    const response = await fetch(stt.url, { method: "POST", headers: { authorization: `Bearer ${KEY}` }, body: form });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: expect.objectContaining({ message: "you must provide a file parameter" }) });
  });

  it("fails on purpose: a status, no words, a slow answer", async () => {
    const file = await toFile(Buffer.from("x"), "voice.ogg");
    stt.failNext({ kind: "status", status: 503, message: "busy" });
    stt.failNext({ kind: "empty" });
    stt.failNext({ kind: "slow", delayMs: 200 });
    await expect(sdk(stt).audio.transcriptions.create({ file, model: "m" })).rejects.toMatchObject({ status: 503 });
    expect((await sdk(stt).audio.transcriptions.create({ file, model: "m" })).text).toBe("");
    const started = Date.now();
    expect((await sdk(stt).audio.transcriptions.create({ file, model: "m" })).text).toBe(DEFAULT_TRANSCRIPT);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});

describe("multipart parsing (stand-in)", () => {
  const crlf = (lines: string[]) => Buffer.from(lines.join("\r\n"), "latin1");

  it("reads a quoted or bare boundary from the Content-Type", () => {
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe("a b");
    expect(boundaryOf("multipart/form-data; charset=utf-8; boundary=----x1")).toBe("----x1");
    expect(boundaryOf("application/json")).toBeUndefined();
  });

  it("ignores the preamble and the epilogue, and keeps each part's name, file name, type and bytes", () => {
    const body = crlf(["preamble", "--xx", 'Content-Disposition: form-data; name="model"', "", "whisper-1", "--xx", 'Content-Disposition: form-data; name="file"; filename="v.ogg"', "Content-Type: audio/ogg", "", "a\r\n--x-b", "--xx--", "epilogue"]);
    expect(parseMultipart(body, "xx")).toEqual([
      { name: "model", data: Buffer.from("whisper-1") },
      { name: "file", filename: "v.ogg", contentType: "audio/ogg", data: Buffer.from("a\r\n--x-b") },
    ]);
  });

  it("undoes the escapes of a file name: the form encoder's %22, a backslash, RFC 5987's filename*", () => {
    expect(dispositionParameters('form-data; name="file"; filename="my %22v%22.ogg"')).toEqual({ name: "file", filename: 'my "v".ogg' });
    expect(dispositionParameters('form-data; name="file"; filename="a\\"b.ogg"').filename).toBe('a"b.ogg');
    expect(dispositionParameters("form-data; name=file; filename*=UTF-8''%C3%A9t%C3%A9.ogg; filename=\"ete.ogg\"").filename).toBe("été.ogg");
  });

  it("throws on a body that is not well formed", () => {
    expect(() => parseMultipart(Buffer.from("no boundary here"), "xx")).toThrow("no boundary");
    expect(() => parseMultipart(crlf(["--xx", 'Content-Disposition: form-data; name="a"', "", "never closed"]), "xx")).toThrow("not closed");
    expect(() => parseMultipart(crlf(["--xx", "Content-Type: text/plain", "", "v", "--xx--"]), "xx")).toThrow("no name");
  });
});

describe("oggDurationSeconds (the terminal chat's /voice)", () => {
  it("reads an Ogg Opus file's length from its last granule position, less the pre-skip, at 48 kHz", () => {
    expect(oggDurationSeconds(oggOpusFixture(4.5))).toBeCloseTo(4.5, 3);
    expect(oggDurationSeconds(oggOpusFixture(301))).toBeCloseTo(301, 3);
  });

  it("reads an Ogg Vorbis file's length at its own sample rate", () => {
    const page = (granule: number, body: Buffer) => {
      const head = Buffer.alloc(27);
      head.write("OggS", 0, "latin1");
      head.writeBigInt64LE(BigInt(granule), 6);
      return Buffer.concat([head, body]);
    };
    const ident = Buffer.alloc(30);
    ident.write("\x01vorbis", 0, "latin1");
    ident.writeUInt32LE(44_100, 12);
    expect(oggDurationSeconds(Buffer.concat([page(0, ident), page(44_100 * 2, Buffer.alloc(4))]))).toBeCloseTo(2, 5);
  });

  it("says nothing of a file that is not Ogg", () => {
    expect(oggDurationSeconds(Buffer.from("ID3 an mp3 file"))).toBeUndefined();
    expect(oggDurationSeconds(Buffer.alloc(0))).toBeUndefined();
  });
});
