import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Request as UndiciRequest } from "undici";
import { configWith } from "../../../handler/config";
import { buildDeps } from "../../../handler/deps";
import { multipartBody, onOllamaOrigin, TranscriptionClient, transcriptOf, type AudioUpload } from "../../../handler/model/transcription";
import { ConnectionError, ServiceError } from "../../../handler/net/errors";
import { parseMultipart, TranscriptionStandIn } from "../../../local/stand-ins/transcription";
import { freePort } from "../../support/net";

const KEY = "sk-transcription-test-key-0123456789";
const audio = (text = "hello there"): AudioUpload => ({ data: new Uint8Array(Buffer.from(text)), filename: "voice.ogg", contentType: "audio/ogg" });

describe("transcription wire (pure)", () => {
  const file = { name: "file", filename: 'my "voice".ogg', contentType: "audio/ogg", data: new Uint8Array([0, 1, 2, 13, 10, 45, 45, 255]) };
  const body = multipartBody([["model", "whisper-1"], ["language", "de"]], file, "b0undary");

  it("builds a multipart body that a standard form parser reads back: fields, then the file with its name, type and bytes", async () => {
    const form = await new UndiciRequest("http://127.0.0.1/", { method: "POST", headers: { "content-type": "multipart/form-data; boundary=b0undary" }, body }).formData();
    expect(form.get("model")).toBe("whisper-1");
    expect(form.get("language")).toBe("de");
    const sent = form.get("file") as File;
    expect(sent.name).toBe('my "voice".ogg');
    expect(sent.type).toBe("audio/ogg");
    expect(new Uint8Array(await sent.arrayBuffer())).toEqual(file.data);
  });

  it("builds a body whose lines end in CRLF and which closes with --boundary--", () => {
    const text = Buffer.from(body).toString("latin1");
    expect(text.startsWith('--b0undary\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n')).toBe(true);
    expect(text).toContain('name="file"; filename="my %22voice%22.ogg"\r\nContent-Type: audio/ogg\r\n\r\n');
    expect(text.endsWith("\r\n--b0undary--\r\n")).toBe(true);
    expect(parseMultipart(Buffer.from(body), "b0undary").map((p) => p.name)).toEqual(["model", "language", "file"]);
  });

  it("reads the transcript of an answer, trimmed, and nothing from an answer without text", () => {
    expect(transcriptOf({ text: "  hello \n" })).toBe("hello");
    expect(transcriptOf({ text: "" })).toBe("");
    expect(transcriptOf({ segments: [] })).toBeUndefined();
    expect(transcriptOf(null)).toBeUndefined();
  });

  it("tells an endpoint on OLLAMA_URL's origin from another", () => {
    expect(onOllamaOrigin("https://203.0.113.7/v1/audio/transcriptions", "https://203.0.113.7")).toBe(true);
    expect(onOllamaOrigin("https://203.0.113.7:8443/v1/audio/transcriptions", "https://203.0.113.7")).toBe(false);
    expect(onOllamaOrigin("https://api.openai.com/v1/audio/transcriptions", "https://203.0.113.7")).toBe(false);
    expect(onOllamaOrigin("https://api.openai.com/v1/audio/transcriptions", "")).toBe(false);
  });
});

describe("TranscriptionClient", () => {
  let stt: TranscriptionStandIn;
  const client = (options: Partial<ConstructorParameters<typeof TranscriptionClient>[0]> = {}) =>
    new TranscriptionClient({ url: stt.url, model: "whisper-1", timeoutMs: 2_000, ...options });

  beforeEach(async () => {
    stt = await TranscriptionStandIn.start({ transcripts: { "hello there": "  Hello there.  " } });
  });
  afterEach(async () => {
    await stt.stop();
  });

  it("sends the file with its name and type, the model, the language and response_format json, and returns the trimmed text", async () => {
    const text = await client({ language: "en" }).transcribe(audio());
    expect(text).toBe("Hello there.");
    expect(stt.requests).toEqual([
      expect.objectContaining({ method: "POST", model: "whisper-1", language: "en", fields: { model: "whisper-1", response_format: "json", language: "en" }, file: { filename: "voice.ogg", contentType: "audio/ogg", bytes: 11 } }),
    ]);
  });

  it("sends no language unless one is set, and no key headers without keys", async () => {
    await client().transcribe(audio());
    expect(stt.requests[0]!.language).toBeUndefined();
    expect(stt.requests[0]!.headers.authorization).toBeUndefined();
    expect(stt.requests[0]!.headers["x-api-key"]).toBeUndefined();
  });

  it("sends the API key as a Bearer key and the proxy key as X-API-Key", async () => {
    await client({ apiKey: KEY, proxyKey: "proxy-key-0123" }).transcribe(audio());
    expect(stt.requests[0]!.headers).toEqual(expect.objectContaining({ authorization: `Bearer ${KEY}`, "x-api-key": "proxy-key-0123" }));
  });

  it("rejects a refused key with a ServiceError 401 that does not carry the key", async () => {
    await stt.stop();
    stt = await TranscriptionStandIn.start({ apiKey: "the-right-key-0123" });
    const err = await client({ apiKey: KEY }).transcribe(audio()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect(err).toMatchObject({ service: "transcription", operation: "transcribe", status: 401 });
    expect(JSON.stringify({ ...(err as ServiceError), message: (err as ServiceError).message })).not.toContain(KEY);
  });

  it("rejects an error the server answered with a ServiceError of its status and message, without asking again", async () => {
    stt.failNext({ kind: "status", status: 500, message: "model not loaded" });
    await expect(client().transcribe(audio())).rejects.toMatchObject({ name: "ServiceError", status: 500, description: "model not loaded" });
    expect(stt.requests).toHaveLength(1);
  });

  it("rejects a 2xx answer that is not a transcript with a ServiceError of status 0", async () => {
    const odd = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>proxy page</html>"));
    await new Promise<void>((resolve) => odd.listen(0, "127.0.0.1", () => resolve()));
    try {
      const url = `http://127.0.0.1:${(odd.address() as AddressInfo).port}/v1/audio/transcriptions`;
      await expect(new TranscriptionClient({ url, model: "m" }).transcribe(audio())).rejects.toMatchObject({ name: "ServiceError", status: 0 });
    } finally {
      await new Promise((resolve) => odd.close(resolve));
    }
  });

  it("returns an empty transcript as \"\" (no words heard is no error)", async () => {
    stt.failNext({ kind: "empty" });
    await expect(client().transcribe(audio())).resolves.toBe("");
  });

  it("tries a connection reset quickly once more, and answers from the second try", async () => {
    stt.failNext({ kind: "reset" });
    await expect(client().transcribe(audio())).resolves.toBe("Hello there.");
    expect(stt.requests).toHaveLength(2);
  });

  it("gives up after the one retry with a ConnectionError that is no timeout", async () => {
    stt.failNext({ kind: "reset" });
    stt.failNext({ kind: "reset" });
    const err = await client().transcribe(audio()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ service: "transcription", timedOut: false });
    expect(stt.requests).toHaveLength(2);
  });

  it("does not retry a slow server: a timeout is a ConnectionError with timedOut", async () => {
    stt.failNext({ kind: "hang" });
    const started = Date.now();
    await expect(client({ timeoutMs: 300 }).transcribe(audio())).rejects.toMatchObject({ name: "ConnectionError", timedOut: true });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(stt.requests).toHaveLength(1);
  });

  it("rejects with a ConnectionError when nothing listens", async () => {
    const port = await freePort();
    await expect(new TranscriptionClient({ url: `http://127.0.0.1:${port}/v1/audio/transcriptions`, model: "m" }).transcribe(audio())).rejects.toMatchObject({ name: "ConnectionError", timedOut: false });
  });
});

describe("the function's transcription client (handler/deps.ts)", () => {
  let stt: TranscriptionStandIn;
  beforeAll(async () => {
    stt = await TranscriptionStandIn.start();
  });
  afterAll(async () => {
    await stt.stop();
  });

  const voice = (transcriptionUrl: string | undefined, apiKey?: string) => ({ transcriptionUrl, model: "base", apiKey, language: undefined, maxSeconds: 300 });

  it("is none without TRANSCRIPTION_URL", () => {
    expect(buildDeps(configWith({ voice: voice(undefined) })).transcription).toBeUndefined();
  });

  it("sends TRANSCRIPTION_API_KEY as a Bearer key to another server", async () => {
    const deps = buildDeps(configWith({ voice: voice(stt.url, KEY), ollamaUrl: "http://127.0.0.1:1", ollamaApiKey: "ollama-key-0123" }));
    await deps.transcription!.transcribe(audio());
    expect(stt.requests.at(-1)!.headers).toEqual(expect.objectContaining({ authorization: `Bearer ${KEY}` }));
    expect(stt.requests.at(-1)!.headers["x-api-key"]).toBeUndefined();
    expect(stt.requests.at(-1)!.model).toBe("base");
  });

  it("sends the Ollama key as X-API-Key to a server on OLLAMA_URL's origin (the instance's nginx)", async () => {
    const deps = buildDeps(configWith({ voice: voice(stt.url), ollamaUrl: stt.origin, ollamaApiKey: "ollama-key-0123" }));
    await deps.transcription!.transcribe(audio());
    expect(stt.requests.at(-1)!.headers["x-api-key"]).toBe("ollama-key-0123");
    expect(stt.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it("redacts TRANSCRIPTION_API_KEY from the function's log lines", () => {
    const lines: string[] = [];
    const deps = buildDeps(configWith({ voice: voice(stt.url, KEY) }), { metricsSink: () => undefined });
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      deps.logger.info(`the key is ${KEY}`);
    } finally {
      process.stdout.write = original;
    }
    expect(lines.join("")).not.toContain(KEY);
  });
});
