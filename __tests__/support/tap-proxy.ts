/**
 * An HTTP proxy in front of one of the real local servers (dynalite, the Telegram or Ollama
 * stand-in) that shows the test every exchange and lets it act at an exact point: the crash
 * tests kill the function's process there, with the request already applied by the server but
 * its answer never seen by the function, or before the request reaches the server at all.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One request through the proxy. */
export interface TappedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  /** The whole request body as text. */
  readonly body: string;
}

/**
 * What to do with a request: pass it on; or call `then` before it reaches the server ("before")
 * or once the server has answered, before the answer is relayed ("after"); in both cases the
 * caller's connection is then left hanging (the function is being killed).
 */
export type TapDecision = "pass" | { readonly at: "before" | "after"; readonly then: () => void };

/** A running proxy. */
export interface TapProxy {
  /** "http://127.0.0.1:<port>". */
  readonly url: string;
  /** Every request seen, in order. */
  readonly requests: TappedRequest[];
  /** Decides each request's fate; replace it between runs. @default - always "pass" */
  decide: (request: TappedRequest) => TapDecision;
  stop(): Promise<void>;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/** Starts a proxy to `target` (an http:// origin). Streamed answers (NDJSON) are relayed as they arrive. */
export async function startTapProxy(target: string): Promise<TapProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const proxy: TapProxy = {
    url: "",
    requests: [],
    decide: () => "pass",
    stop: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req);
    const tapped: TappedRequest = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, body: body.toString("utf8") };
    proxy.requests.push(tapped);
    const decision = proxy.decide(tapped);
    if (decision !== "pass" && decision.at === "before") return decision.then();
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        if (decision !== "pass") {
          // Let the server finish (the effect is applied), then stop: the caller never hears back.
          void readAll(answer).then(() => decision.then());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    forward.end(body);
  };
  const server: Server = createServer((req, res) => void onRequest(req, res));
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  (proxy as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
