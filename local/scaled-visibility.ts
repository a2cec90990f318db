/**
 * An SQS endpoint on loopback in front of another (the emulator) that multiplies the
 * VisibilityTimeout of every ChangeMessageVisibility by a factor, passing everything else on as
 * it came. The burst benchmark (bench/burst.ts) runs at a fraction of real time; the backoff the
 * handler gives a record it hands back is in real seconds, so without this it would run on
 * another clock than the model, the timeouts and the queue. Signatures are not checked by the
 * emulator, so the changed body needs none.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { readBody } from "./read-body";

/** A running scaling endpoint. */
export interface ScaledVisibilityEndpoint {
  /** "http://127.0.0.1:<port>": the handler's sqsEndpoint. */
  readonly url: string;
  close(): Promise<void>;
}

/** The request body with its VisibilityTimeout scaled: whole seconds, at least 1 (0 would mean at once). Pure. */
export function scaleVisibilityBody(body: string, factor: number): string {
  const input = JSON.parse(body) as { VisibilityTimeout?: unknown };
  if (typeof input.VisibilityTimeout !== "number") return body;
  return JSON.stringify({ ...input, VisibilityTimeout: Math.max(1, Math.round(input.VisibilityTimeout * factor)) });
}

/** Headers a forwarded request must not copy (the new connection sets its own). */
const HOP_HEADERS = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

async function forward(target: string, factor: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = (await readBody(req)).toString("utf8");
  const body = req.headers["x-amz-target"] === "AmazonSQS.ChangeMessageVisibility" ? scaleVisibilityBody(raw, factor) : raw;
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_HEADERS.has(name)));
  const answer = await request(`${target}${req.url ?? "/"}`, { method: "POST", headers, body });
  const keep = ["content-type", "x-amzn-query-error"].flatMap((name) => {
    const value = answer.headers[name];
    return value === undefined ? [] : [[name, String(value)] as const];
  });
  res.writeHead(answer.statusCode, Object.fromEntries(keep));
  res.end(Buffer.from(await answer.body.arrayBuffer()));
}

/** Starts the endpoint in front of `target` ("http://host:port"), scaling by `factor`. */
export async function startScaledVisibilityEndpoint(target: string, factor: number): Promise<ScaledVisibilityEndpoint> {
  const server = createServer((req, res) => {
    forward(target, factor, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
