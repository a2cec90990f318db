import { configWith, loadConfig } from "../../../handler/config";
import { buildDeps } from "../../../handler/deps";
import { OllamaClient } from "../../../handler/model/ollama";
import { ConnectionError } from "../../../handler/net/errors";
import { pinnedDispatcher } from "../../../handler/net/undici";
import { startOllamaProxy, type RunningOllamaProxy, type UpstreamHandler } from "../../support/ollama-proxy";
import { testCertificate } from "../../support/tls";

const API_KEY = "Hb6Jd1Fc5Gs0YaKx7Qm2Vt9Lp4Rz8Wn3";

/** The function's Ollama client against the real nginx proxy serving its certificate. */
describe("Ollama over TLS with the pinned certificate (real nginx)", () => {
  let proxy: RunningOllamaProxy;
  // A certificate for another address (127.0.0.2), served on 127.0.0.1: right CA, wrong identity.
  let elsewhere: RunningOllamaProxy;
  const answer = (url: string | undefined) => (url === "/api/tags" ? JSON.stringify({ models: [{ name: "llama3.2:1b" }] }) : '{"version":"0.12.0"}');

  beforeAll(async () => {
    const handler: UpstreamHandler = (req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(answer(req.url));
    };
    proxy = await startOllamaProxy(API_KEY, handler);
    elsewhere = await startOllamaProxy(API_KEY, handler, testCertificate({ ip: "127.0.0.2", name: "elsewhere" }));
  });
  afterAll(async () => {
    await proxy?.stop();
    await elsewhere?.stop();
  });

  const client = (url: string, ca: string | undefined) =>
    new OllamaClient({ baseUrl: url, apiKey: API_KEY, statusTimeoutMs: 2000, ...(ca ? { dispatcher: pinnedDispatcher(ca) } : {}) });

  it("accepts the pinned certificate: the key and the answer travel over TLS", async () => {
    await expect(client(proxy.url, proxy.tls.certificate).version()).resolves.toBe("0.12.0");
    expect(proxy.upstreamRequests.at(-1)?.url).toBe("/api/version");
  });

  it.each([
    ["a different self-signed certificate is pinned", () => [proxy.url, testCertificate({ name: "impostor" }).certificate] as const],
    ["no certificate is pinned (the system CAs)", () => [proxy.url, undefined] as const],
    ["the pinned certificate names another address", () => [elsewhere.url, elsewhere.tls.certificate] as const],
  ])("refuses the connection when %s, before the key is sent", async (_case, setup) => {
    const [url, ca] = setup();
    const before = proxy.upstreamRequests.length + elsewhere.upstreamRequests.length;
    const error = await client(url, ca).version().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).certificateRefused).toBe(true);
    expect(proxy.upstreamRequests.length + elsewhere.upstreamRequests.length).toBe(before);
  });

  it("the bot built from its environment pins OLLAMA_CA_CERT", async () => {
    const config = loadConfig({ OLLAMA_URL: proxy.url, OLLAMA_API_KEY: API_KEY, OLLAMA_CA_CERT: proxy.tls.certificate, TELEGRAM_TOKEN: "1:x", S3_BUCKET_NAME: "b" });
    expect(config.problems).toEqual([]);
    await expect(buildDeps(config).ollama!.health()).resolves.toMatchObject({ reachable: true, models: ["llama3.2:1b"] });
    const impostor = configWith({ ollamaUrl: proxy.url, ollamaApiKey: API_KEY, ollamaCaCert: testCertificate({ name: "impostor" }).certificate });
    await expect(buildDeps(impostor).ollama!.health()).resolves.toMatchObject({ reachable: false, reason: expect.stringContaining("OLLAMA_CA_CERT") });
  });

  it("reports an OLLAMA_CA_CERT that is no certificate, or one next to a plain http:// URL", () => {
    expect(loadConfig({ OLLAMA_URL: proxy.url, OLLAMA_CA_CERT: "hello" }).problems.map((p) => p.variable)).toContain("OLLAMA_CA_CERT");
    const plain = loadConfig({ OLLAMA_URL: "http://127.0.0.1:11434", OLLAMA_CA_CERT: proxy.tls.certificate });
    expect(plain.problems.find((p) => p.variable === "OLLAMA_CA_CERT")?.message).toMatch(/not https/);
  });

  it("never puts the API key in the error", async () => {
    const error = await client(proxy.url, testCertificate({ name: "impostor" }).certificate).version().catch((e: unknown) => e);
    expect(String(error) + String((error as Error).cause)).not.toContain(API_KEY);
  });
});
