import { OLLAMA_API_KEY_HEADER } from "../../../config/defaults";
import { NGINX_REQUEST_BURST, NGINX_REQUESTS_PER_SECOND } from "../../../constructs/ollama-server/render";
import { sendToProxy, startOllamaProxy, type RunningOllamaProxy } from "../../support/ollama-proxy";

const API_KEY = "Qm2Vt9Lp4Rz8Wn3Hb6Jd1Fc5Gs0YaKx7";
const withKey = { [OLLAMA_API_KEY_HEADER]: API_KEY, "Content-Type": "application/json" };

describe("nginx forwards only what the bot uses, even with the key (real nginx)", () => {
  let proxy: RunningOllamaProxy;

  beforeAll(async () => {
    proxy = await startOllamaProxy(API_KEY);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it.each([
    ["POST", "/api/chat"],
    ["POST", "/api/show"],
    ["GET", "/api/tags"],
    ["GET", "/api/version"],
  ])("forwards %s %s", async (method, path) => {
    const before = proxy.upstreamRequests.length;
    const reply = await sendToProxy(proxy.port, method, path, withKey, method === "POST" ? "{}" : undefined);
    expect(reply.status).toBe(200);
    expect(proxy.upstreamRequests.slice(before)).toEqual([expect.objectContaining({ method, url: path })]);
  });

  it.each([
    ["DELETE", "/api/delete"],
    ["POST", "/api/pull"],
    ["POST", "/api/create"],
    ["POST", "/api/push"],
    ["POST", "/api/copy"],
    ["POST", "/api/blobs/sha256:29fdb92e57cf0827ded04ae6461b5931d01fa595843f55d36f5b275a52087dd2"],
    ["HEAD", "/api/blobs/sha256:29fdb92e57cf0827ded04ae6461b5931d01fa595843f55d36f5b275a52087dd2"],
    ["POST", "/api/generate"],
    ["POST", "/api/embed"],
    ["POST", "/api/embeddings"],
    ["GET", "/api/ps"],
    ["POST", "/v1/chat/completions"],
    ["GET", "/"],
    // A known path with the wrong method.
    ["GET", "/api/chat"],
    ["DELETE", "/api/tags"],
    ["POST", "/api/version"],
    // Ways of spelling an admin path that a naive prefix or string match lets through.
    ["DELETE", "/api/chat/../delete"],
    ["POST", "/api/tags/../pull"],
    ["DELETE", "//api/delete"],
    ["DELETE", "/api/%64elete"],
    ["POST", "/api/chat/"],
    ["POST", "/API/CHAT"],
    ["POST", "/api/Chat"],
  ])("refuses %s %s with 403 and never reaches the upstream", async (method, path) => {
    const before = proxy.upstreamRequests.length;
    const reply = await sendToProxy(proxy.port, method, path, withKey, method === "GET" || method === "HEAD" ? undefined : '{"model":"m"}');
    // A query string or trailing slash on /api/chat is not the bot's request either.
    expect(reply.status).toBe(403);
    expect(proxy.upstreamRequests.length).toBe(before);
  });

  it("forwards the canonical path only: a query string stays behind", async () => {
    const before = proxy.upstreamRequests.length;
    expect((await sendToProxy(proxy.port, "POST", "/api/chat?x=/api/pull", withKey, "{}")).status).toBe(200);
    expect(proxy.upstreamRequests.slice(before)).toEqual([expect.objectContaining({ method: "POST", url: "/api/chat" })]);
  });

  it("checks the key first: a refused path without the key is 401, not a hint that the key is the only thing missing", async () => {
    const reply = await sendToProxy(proxy.port, "DELETE", "/api/delete", {});
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body)).toEqual({ error: `missing or wrong ${OLLAMA_API_KEY_HEADER}` });
  });

  it("answers a refused path with the key with its JSON reason, and the internal refusal paths cannot be asked for", async () => {
    const refused = await sendToProxy(proxy.port, "POST", "/api/pull", withKey, "{}");
    expect(JSON.parse(refused.body)).toEqual({ error: "this proxy serves only what the bot uses" });
    expect((await sendToProxy(proxy.port, "GET", "/.refused/key", withKey)).status).toBe(403);
    expect((await sendToProxy(proxy.port, "GET", "/.refused/route", {})).status).toBe(401);
  });

  it("does not say which nginx it is", async () => {
    for (const reply of [await sendToProxy(proxy.port, "GET", "/api/version", withKey), await sendToProxy(proxy.port, "GET", "/api/version", {})]) {
      expect(reply.headers.server).toBe("nginx");
    }
    expect((await sendToProxy(proxy.port, "DELETE", "/api/delete", withKey)).body).not.toMatch(/nginx\/\d/);
  });

  it("refuses a body over the limit with 413 before the upstream sees it", async () => {
    const before = proxy.upstreamRequests.length;
    const big = Buffer.alloc(33 * 1024 * 1024, "a");
    const reply = await sendToProxy(proxy.port, "POST", "/api/chat", withKey, big);
    expect(reply.status).toBe(413);
    expect(proxy.upstreamRequests.length).toBe(before);
  });
});

describe("nginx limits each client (real nginx)", () => {
  let proxy: RunningOllamaProxy;

  beforeAll(async () => {
    proxy = await startOllamaProxy(API_KEY);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it(`answers 429 once a client goes past a burst of ${NGINX_REQUEST_BURST} requests`, async () => {
    // In waves of 8 (under the per-client connection limit), as fast as they come back:
    // far faster than the sustained rate, so the burst runs out.
    const statuses: number[] = [];
    for (let wave = 0; wave < (NGINX_REQUEST_BURST * 2) / 8; wave += 1) {
      const replies = await Promise.all(Array.from({ length: 8 }, () => sendToProxy(proxy.port, "GET", "/api/version", withKey)));
      statuses.push(...replies.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(NGINX_REQUEST_BURST / 4);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    // Refused requests never reached Ollama.
    expect(proxy.upstreamRequests.length).toBe(statuses.filter((s) => s === 200).length);
  });

  it("limits requests without the key too, so the key cannot be guessed at full speed", async () => {
    // A fresh client address would have its own burst; this one spent it above, so wait it back.
    await new Promise((resolve) => setTimeout(resolve, 1_000 + (NGINX_REQUEST_BURST / NGINX_REQUESTS_PER_SECOND) * 1_000));
    const before = proxy.upstreamRequests.length;
    const wrongKey = { [OLLAMA_API_KEY_HEADER]: "guess", "Content-Type": "application/json" };
    const statuses: number[] = [];
    for (let wave = 0; wave < (NGINX_REQUEST_BURST * 2) / 8; wave += 1) {
      const replies = await Promise.all(Array.from({ length: 8 }, () => sendToProxy(proxy.port, "POST", "/api/chat", wrongKey, "{}")));
      statuses.push(...replies.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(NGINX_REQUEST_BURST / 4);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(proxy.upstreamRequests.length).toBe(before);
  }, 15_000);
});
