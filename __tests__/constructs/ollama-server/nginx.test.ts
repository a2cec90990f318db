import { request } from "node:https";
import { OLLAMA_API_KEY_HEADER } from "../../../config/defaults";
import { sendToProxy, startOllamaProxy, type ProxyReply, type RunningOllamaProxy } from "../../support/ollama-proxy";

const API_KEY = "Kx7Qm2Vt9Lp4Rz8Wn3Hb6Jd1Fc5Gs0Ya";

describe("nginx API-key proxy (real nginx)", () => {
  let proxy: RunningOllamaProxy;
  let port: number;
  // Lets the test hold the second chunk of a streamed answer until the first one arrived.
  let releaseSecondChunk: () => void = () => undefined;

  beforeAll(async () => {
    // The configuration as the instance makes it: the template it keeps, with the key put in
    // by ollama-proxy-config from (a stand-in of) SSM.
    proxy = await startOllamaProxy(API_KEY, (req, res) => {
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
    port = proxy.port;
  });

  afterAll(async () => {
    releaseSecondChunk();
    await proxy?.stop();
  });

  async function get(path: string, headers: Record<string, string>): Promise<Pick<ProxyReply, "status" | "body">> {
    const { status, body } = await sendToProxy(port, "GET", path, headers);
    return { status, body };
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
    const forwarded = proxy.upstreamRequests.at(-1);
    expect(forwarded?.headers.host).toBe("localhost");
    expect(forwarded?.headers["x-api-key"]).toBeUndefined();
  });

  it("passes a streamed answer through chunk by chunk", async () => {
    const chunks: string[] = [];
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path: "/api/chat", method: "POST", headers: { [OLLAMA_API_KEY_HEADER]: API_KEY }, agent: false, ca: proxy.tls.certificate },
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
