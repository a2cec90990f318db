/**
 * The Ollama API-key proxy as the instance runs it: the nginx configuration renderNginxConfig
 * makes, with the key put in by ollama-proxy-config from (a stand-in of) SSM, served by a real
 * nginx in front of an upstream of the test's own that records every request it gets.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { API_KEY_MARKER, renderNginxConfig } from "../../constructs/ollama-server/render";
import { freePort, startNginx } from "./nginx";
import { runProxyConfig } from "./proxy-config";
import { testCertificate, type TlsPair } from "./tls";

/** A request the upstream (Ollama's place) received. */
export interface UpstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
}

/** A proxy and its upstream, running. */
export interface RunningOllamaProxy {
  /** The port nginx listens on (127.0.0.1, TLS). */
  readonly port: number;
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** The certificate nginx serves (and its key). */
  readonly tls: TlsPair;
  /** Every request that got through to the upstream, in order. */
  readonly upstreamRequests: UpstreamRequest[];
  stop(): Promise<void>;
}

/** What the upstream answers; by default 200 with a small JSON body. */
export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse) => void;

function answerJson(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end('{"version":"test"}');
}

/** Starts an upstream and nginx in front of it with `apiKey` as the proxy's key and `tls` as its certificate. */
export async function startOllamaProxy(apiKey: string, handler: UpstreamHandler = answerJson, tls: TlsPair = testCertificate()): Promise<RunningOllamaProxy> {
  const upstreamRequests: UpstreamRequest[] = [];
  const upstream: Server = createServer((req, res) => {
    upstreamRequests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    // Drain the body so a POST's sender is not left waiting.
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  const port = await freePort();
  const tlsDir = mkdtempSync(join(tmpdir(), "ollama-tls-"));
  const template = renderNginxConfig({ listen: `127.0.0.1:${port}`, upstreamPort, apiKey: API_KEY_MARKER, tlsDir });
  const run = runProxyConfig(template, "/ollama-server/api-key", apiKey, { tls, tlsDir });
  if (run.status !== 0 || run.config === undefined) {
    upstream.close();
    rmSync(tlsDir, { recursive: true, force: true });
    throw new Error(`ollama-proxy-config failed: ${run.stderr}`);
  }
  const nginx = await startNginx(run.config, port);
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    tls,
    upstreamRequests,
    async stop() {
      await nginx.stop();
      rmSync(tlsDir, { recursive: true, force: true });
      upstream.closeAllConnections();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    },
  };
}

/** An answer from the proxy. */
export interface ProxyReply {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

/**
 * Sends one request to the proxy over TLS, trusting only `ca` (the proxy's certificate by
 * default: the test certificate); `path` goes on the wire exactly as given (no normalising).
 */
export function sendToProxy(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
  ca: string = testCertificate().certificate,
): Promise<ProxyReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent: false, ca }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    // nginx may answer (413) and close before it has read a large body.
    req.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error)));
    req.end(body);
  });
}
