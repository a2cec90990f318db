import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OLLAMA_API_KEY_HEADER } from "../../../config/defaults";
import { API_KEY_MARKER, renderNginxConfig } from "../../../constructs/ollama-server/render";
import { runProxyConfig } from "../../support/proxy-config";
import { freePort, startNginx, type RunningNginx } from "../../support/nginx";

const API_KEY = "Kx7Qm2Vt9Lp4Rz8Wn3Hb6Jd1Fc5Gs0Ya";

interface Reply {
  readonly status: number;
  readonly body: string;
}

describe("nginx API-key proxy (real nginx)", () => {
  let upstream: Server;
  let nginx: RunningNginx;
  let port: number;
  let lastUpstreamHeaders: IncomingHttpHeaders = {};
  // Lets the test hold the second chunk of a streamed answer until the first one arrived.
  let releaseSecondChunk: () => void = () => undefined;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      lastUpstreamHeaders = req.headers;
      if (req.url === "/api/chat") {
        res.writeHead(200, { "Content-Type": "application/x-ndjson" });
        res.write('{"message":{"content":"first"},"done":false}\n');
        new Promise<void>((resolve) => (releaseSecondChunk = resolve)).then(() =>
          res.end('{"message":{"content":"second"},"done":true}\n'),
        );
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"version":"test"}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    port = await freePort();
    // The configuration as the instance makes it: the template it keeps, with the key put in
    // by ollama-proxy-config from (a stand-in of) SSM.
    const run = runProxyConfig(renderNginxConfig({ listen: `127.0.0.1:${port}`, upstreamPort, apiKey: API_KEY_MARKER }), "/ollama-server/api-key", API_KEY);
    if (run.status !== 0 || run.config === undefined) throw new Error(`ollama-proxy-config failed: ${run.stderr}`);
    nginx = await startNginx(run.config, port);
  });

  afterAll(async () => {
    releaseSecondChunk();
    await nginx?.stop();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  function get(path: string, headers: Record<string, string>): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("answers 401 without the key", async () => {
    const reply = await get("/api/version", {});
    expect(reply.status).toBe(401);
    expect(reply.body).toContain(OLLAMA_API_KEY_HEADER);
  });

  it("answers 401 with a wrong key", async () => {
    expect((await get("/api/version", { [OLLAMA_API_KEY_HEADER]: "wrong" })).status).toBe(401);
    expect((await get("/api/version", { [OLLAMA_API_KEY_HEADER]: `${API_KEY}x` })).status).toBe(401);
    expect((await get("/api/version", { [OLLAMA_API_KEY_HEADER]: API_KEY.slice(1) })).status).toBe(401);
  });

  it("answers 401 to the right key in the wrong case (the match is case-sensitive)", async () => {
    expect(API_KEY.toUpperCase()).not.toBe(API_KEY);
    expect((await get("/api/version", { [OLLAMA_API_KEY_HEADER]: API_KEY.toUpperCase() })).status).toBe(401);
    expect((await get("/api/version", { [OLLAMA_API_KEY_HEADER]: API_KEY.toLowerCase() })).status).toBe(401);
  });

  it("proxies with the right key, as Host localhost and without the key", async () => {
    const reply = await get("/api/version", { [OLLAMA_API_KEY_HEADER]: API_KEY });
    expect(reply).toEqual({ status: 200, body: '{"version":"test"}' });
    expect(lastUpstreamHeaders.host).toBe("localhost");
    expect(lastUpstreamHeaders["x-api-key"]).toBeUndefined();
  });

  it("passes a streamed answer through chunk by chunk", async () => {
    const chunks: string[] = [];
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path: "/api/chat", method: "POST", headers: { [OLLAMA_API_KEY_HEADER]: API_KEY }, agent: false },
        (res) => {
          // The upstream sends the second chunk only after the first one got through nginx;
          // a buffering proxy would hold the first one back and this would time out.
          const timer = setTimeout(() => reject(new Error("first chunk was not passed through before the answer ended")), 5000);
          res.on("data", (d: Buffer) => {
            chunks.push(d.toString());
            if (chunks.length === 1) {
              clearTimeout(timer);
              releaseSecondChunk();
            }
          });
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end("{}");
    });
    expect(status).toBe(200);
    expect(chunks[0]).toBe('{"message":{"content":"first"},"done":false}\n');
    expect(chunks.join("")).toContain('"second"');
  });
});
