import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OLLAMA_API_KEY_HEADER, TELEGRAM_GET_FILE_LIMIT_BYTES, TRANSCRIPTION_PATH } from "../../../config/defaults";
import { API_KEY_MARKER, NGINX_REQUEST_BURST, renderNginxConfig } from "../../../constructs/ollama-server/render";
import { freePort, startNginx } from "../../support/nginx";
import { sendToProxy } from "../../support/ollama-proxy";
import { runProxyConfig } from "../../support/proxy-config";
import { testCertificate } from "../../support/tls";

const API_KEY = "Wn3Hb6Jd1Fc5Gs0YaKx7Qm2Vt9Lp4Rz8";
const BOUNDARY = "----voice-test-boundary";
const multipart = { "Content-Type": `multipart/form-data; boundary=${BOUNDARY}` };
const withKey = { [OLLAMA_API_KEY_HEADER]: API_KEY, ...multipart };

/** A multipart form as the handler sends it: the recording as `file`, and the model's name. */
function form(audio: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nbase\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="voice.ogg"\r\nContent-Type: audio/ogg\r\n\r\n`),
    audio,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** A request an upstream received, with its body's SHA-256 and size. */
interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly bodySha256: string;
  readonly bodyBytes: number;
}

/** A loopback server that records every request and answers `answer`. */
async function recordingUpstream(answer: string): Promise<{ server: Server; port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const hash = createHash("sha256");
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, bodySha256: hash.digest("hex"), bodyBytes: bytes });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, received };
}

/**
 * The proxy as the instance runs it (the template with the key put in by ollama-proxy-config),
 * in front of a stand-in Ollama and, with voice on, a stand-in whisper.cpp server on its own port.
 */
async function startProxy(voice: boolean) {
  const ollama = await recordingUpstream('{"version":"test"}');
  const whisper = await recordingUpstream('{"text":"hello from whisper"}');
  const port = await freePort();
  const tlsDir = mkdtempSync(join(tmpdir(), "ollama-tls-"));
  const template = renderNginxConfig({
    listen: `127.0.0.1:${port}`,
    upstreamPort: ollama.port,
    ...(voice ? { transcriptionPort: whisper.port } : {}),
    apiKey: API_KEY_MARKER,
    tlsDir,
  });
  const run = runProxyConfig(template, "/ollama-server/api-key", API_KEY, { tls: testCertificate(), tlsDir });
  if (run.status !== 0 || run.config === undefined) throw new Error(`ollama-proxy-config failed: ${run.stderr}`);
  const nginx = await startNginx(run.config, port);
  return {
    port,
    ollama: ollama.received,
    whisper: whisper.received,
    async stop() {
      await nginx.stop();
      rmSync(tlsDir, { recursive: true, force: true });
      for (const upstream of [ollama.server, whisper.server]) {
        upstream.closeAllConnections();
        await new Promise<void>((resolve) => upstream.close(() => resolve()));
      }
    },
  };
}

describe("nginx forwards voice transcription to whisper.cpp with the key only (real nginx)", () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  const audio = Buffer.from("OggS fake opus voice message");

  beforeAll(async () => {
    proxy = await startProxy(true);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it(`forwards POST ${TRANSCRIPTION_PATH} with the key to whisper.cpp's port, body intact, as Host localhost and without the key`, async () => {
    const before = proxy.whisper.length;
    const body = form(audio);
    const reply = await sendToProxy(proxy.port, "POST", TRANSCRIPTION_PATH, withKey, body);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ text: "hello from whisper" });
    expect(proxy.whisper.slice(before)).toEqual([
      expect.objectContaining({ method: "POST", url: TRANSCRIPTION_PATH, bodySha256: createHash("sha256").update(body).digest("hex"), bodyBytes: body.length }),
    ]);
    const forwarded = proxy.whisper.at(-1)!;
    expect(forwarded.headers.host).toBe("localhost");
    expect(forwarded.headers["x-api-key"]).toBeUndefined();
    expect(forwarded.headers["content-type"]).toBe(multipart["Content-Type"]);
    expect(proxy.ollama).toEqual([]);
  });

  it.each([
    ["without the key", multipart],
    ["with a wrong key", { ...multipart, [OLLAMA_API_KEY_HEADER]: "guess" }],
    ["with the key in the wrong case", { ...multipart, [OLLAMA_API_KEY_HEADER]: API_KEY.toLowerCase() }],
  ])("answers 401 %s and never reaches whisper.cpp", async (_case, headers) => {
    const before = proxy.whisper.length;
    const reply = await sendToProxy(proxy.port, "POST", TRANSCRIPTION_PATH, headers, form(audio));
    expect(reply.status).toBe(401);
    expect(proxy.whisper.length).toBe(before);
  });

  it.each([
    ["GET", TRANSCRIPTION_PATH],
    ["PUT", TRANSCRIPTION_PATH],
    ["DELETE", TRANSCRIPTION_PATH],
    ["OPTIONS", TRANSCRIPTION_PATH],
    ["POST", `${TRANSCRIPTION_PATH}/`],
    ["POST", TRANSCRIPTION_PATH.toUpperCase()],
    // whisper.cpp's own endpoints: its default inference path, loading another model, its page.
    ["POST", "/inference"],
    ["POST", "/load"],
    ["GET", "/health"],
    ["GET", "/"],
    ["POST", "/v1/audio/translations"],
    ["POST", `${TRANSCRIPTION_PATH}/../../../load`],
  ])("refuses %s %s with 403, even with the key", async (method, path) => {
    const before = proxy.whisper.length;
    const reply = await sendToProxy(proxy.port, method, path, withKey, method === "GET" ? undefined : form(audio));
    expect(reply.status).toBe(403);
    expect(proxy.whisper.length).toBe(before);
  });

  it("forwards the canonical path only: a query string stays behind", async () => {
    const before = proxy.whisper.length;
    expect((await sendToProxy(proxy.port, "POST", `${TRANSCRIPTION_PATH}?x=/load`, withKey, form(audio))).status).toBe(200);
    expect(proxy.whisper.slice(before)).toEqual([expect.objectContaining({ url: TRANSCRIPTION_PATH })]);
  });

  it("takes a recording of Telegram's 20 MB limit in its form", async () => {
    const before = proxy.whisper.length;
    const body = form(Buffer.alloc(TELEGRAM_GET_FILE_LIMIT_BYTES, 7));
    const reply = await sendToProxy(proxy.port, "POST", TRANSCRIPTION_PATH, withKey, body);
    expect(reply.status).toBe(200);
    expect(proxy.whisper.slice(before)).toEqual([expect.objectContaining({ bodyBytes: body.length })]);
  });

  it("refuses a larger body with 413 before whisper.cpp sees it", async () => {
    const before = proxy.whisper.length;
    const reply = await sendToProxy(proxy.port, "POST", TRANSCRIPTION_PATH, withKey, form(Buffer.alloc(25 * 1024 * 1024, 7)));
    expect(reply.status).toBe(413);
    expect(proxy.whisper.length).toBe(before);
  });

  it("speaks TLS only: a plain HTTP request never reaches whisper.cpp", async () => {
    const before = proxy.whisper.length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: proxy.port, method: "POST", path: TRANSCRIPTION_PATH, headers: withKey, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(form(audio));
    });
    expect(status).toBe(400);
    expect(proxy.whisper.length).toBe(before);
  });
});

describe("nginx limits each client on the transcription route too (real nginx)", () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;

  beforeAll(async () => {
    proxy = await startProxy(true);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it(`answers 429 once a client goes past a burst of ${NGINX_REQUEST_BURST} requests`, async () => {
    const statuses: number[] = [];
    for (let wave = 0; wave < (NGINX_REQUEST_BURST * 2) / 8; wave += 1) {
      const replies = await Promise.all(Array.from({ length: 8 }, () => sendToProxy(proxy.port, "POST", TRANSCRIPTION_PATH, withKey, form(Buffer.from("x")))));
      statuses.push(...replies.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(proxy.whisper.length).toBe(statuses.filter((s) => s === 200).length);
  });
});

describe("nginx without voice (real nginx)", () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;

  beforeAll(async () => {
    proxy = await startProxy(false);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it(`refuses POST ${TRANSCRIPTION_PATH} with 403 like any path it does not serve, and still serves Ollama`, async () => {
    const reply = await sendToProxy(proxy.port, "POST", TRANSCRIPTION_PATH, withKey, form(Buffer.from("x")));
    expect(reply.status).toBe(403);
    expect(proxy.whisper).toEqual([]);
    expect((await sendToProxy(proxy.port, "GET", "/api/version", { [OLLAMA_API_KEY_HEADER]: API_KEY })).status).toBe(200);
  });
});
