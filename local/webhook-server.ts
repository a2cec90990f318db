/**
 * `npm run dev:webhook`: a local HTTP endpoint that takes Telegram's webhook POSTs and hands
 * them to the handler exactly as API Gateway does (proxyEventFromHttp with the raw headers and
 * body, the handler's own secret-token check), answering with the handler's status code. Put a
 * tunnel in front of it and register the tunnel's URL with --public-url. With --delivery queue
 * the POST takes queue mode's path instead (local/queue-gateway.ts into an SQS FIFO queue on the
 * fauxqs emulator, consumed by the handler through local/sqs-poller.ts; local/queue-mode.ts).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Writable } from "node:stream";
import { loadStackConfig } from "../config/stack-config";
import type { WebhookHandler } from "../handler/app";
import { createAuthorizer } from "../handler/delivery/authorizer";
import { defaultLogger } from "../handler/deps";
import { createRedactor } from "../handler/observability/log";
import { TelegramClient } from "../handler/telegram/client";
import { ArgumentError, parseWebhookServerArgs, WEBHOOK_SERVER_HELP } from "./args";
import { DEFAULT_WEBHOOK_PATH, lambdaContext, proxyEventFromHttp } from "./lambda-event";
import { HANDLED_UPDATE_TYPES } from "../handler/delivery/decode";
import { createQueueGateway, type GatewayRequest, type GatewayResponse } from "./queue-gateway";
import { startQueueConsumer, startQueueEmulatorFor, type LocalQueueConsumer } from "./queue-mode";
import { runtimeBanner, startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from "./runtime";
import type { SqsEmulator } from "./sqs-emulator";

/** Largest body accepted, in bytes (Telegram updates are far smaller; API Gateway allows 10 MB). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Options of {@link startWebhookServer}. */
export interface WebhookServerOptions {
  /** The handler the requests go to. */
  readonly handler: WebhookHandler;
  /** Port; 0 picks a free one. @default 8787 */
  readonly port?: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** The function's timeout the Lambda context counts down from, in ms. @default 120000 */
  readonly lambdaTimeoutMs?: number;
  /** Queue mode: POST /webhook goes here instead of the handler; other requests get 403 as from API Gateway. @default - sync mode */
  readonly gateway?: (request: GatewayRequest) => Promise<GatewayResponse>;
  /** Told about each request (method, path, status, ms). @default - nothing */
  readonly onRequest?: (entry: { method: string; path: string; status: number; ms: number }) => void;
}

/** A listening webhook server. */
export interface RunningWebhookServer {
  /** "http://<host>:<port>". */
  readonly url: string;
  /** `url` + "/webhook". */
  readonly webhookUrl: string;
  /** Closes the server and its connections; idempotent. */
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Is the body text (kept as is) or binary (base64, isBase64Encoded), as API Gateway decides from its binary media types (none here). */
function bodyForEvent(body: Buffer): { body: string | null; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: null, isBase64Encoded: false };
  const text = body.toString("utf8");
  return Buffer.from(text, "utf8").equals(body) ? { body: text, isBase64Encoded: false } : { body: body.toString("base64"), isBase64Encoded: true };
}

/** Starts the server; every request, any method or path, goes to the handler as API Gateway would pass it. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<RunningWebhookServer> {
  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const body = await readBody(req);
    let status: number;
    let responseBody = "";
    let headers: Record<string, string> = {};
    if (body === undefined) {
      status = 413;
      responseBody = '{"message":"Request Entity Too Large"}';
    } else if (options.gateway) {
      const isWebhook = req.method === "POST" && (req.url ?? "").split("?")[0] === DEFAULT_WEBHOOK_PATH;
      const answer = isWebhook
        ? await options.gateway({ headers: Object.fromEntries(Object.entries(rawHeaders(req)).map(([k, v]) => [k, v.join(",")])), body: body.toString("utf8") })
        : { status: 403, body: '{"message":"Missing Authentication Token"}' };
      status = answer.status;
      responseBody = answer.body;
    } else {
      const event = proxyEventFromHttp({
        method: req.method,
        path: req.url ?? DEFAULT_WEBHOOK_PATH,
        headers: rawHeaders(req),
        ...bodyForEvent(body),
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
      });
      const result = await options.handler(event, lambdaContext({ timeoutMs: options.lambdaTimeoutMs }));
      status = result.statusCode;
      responseBody = result.isBase64Encoded ? Buffer.from(result.body, "base64").toString("latin1") : result.body;
      headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
    }
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(responseBody);
    options.onRequest?.({ method: req.method ?? "?", path: req.url ?? "/", status, ms: Date.now() - started });
  };
  // Updates being handled; close() waits for them so Ctrl-C never cuts one in half.
  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer((req, res) => {
    const handling = onRequest(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
      res.end('{"message":"Internal server error"}');
    });
    inFlight.add(handling);
    void handling.finally(() => inFlight.delete(handling));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8787, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.address.includes(":") ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    webhookUrl: `${url}${DEFAULT_WEBHOOK_PATH}`,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // No new requests from here; the ones already in the handler finish first.
        server.closeIdleConnections();
        await Promise.allSettled([...inFlight]);
        server.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}

/** Node's headers keep their received case in rawHeaders; API Gateway REST APIs keep it too. */
function rawHeaders(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) (out[req.rawHeaders[i]!] ??= []).push(req.rawHeaders[i + 1]!);
  return out;
}

/** What `npm run dev:webhook` reads and writes; tests pass their own. */
export interface WebhookServerDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly cwd: string;
  /** Resolves when the server should stop. @default - the first SIGINT/SIGTERM */
  readonly stopped: Promise<void>;
  /** Called once the server listens (tests send requests then); `queue` in queue mode. @default - nothing */
  readonly onListening: (server: RunningWebhookServer, runtime: LocalRuntime, queue?: { sqs: SqsEmulator; consumer: LocalQueueConsumer }) => void;
  /** Passed to startLocalRuntime (tests give running emulators). @default - none */
  readonly runtime: Partial<LocalRuntimeOptions>;
}

const line = (out: Writable, text = "") => void out.write(`${text}\n`);

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}

/** Runs `npm run dev:webhook`; resolves with the exit code once stopped. */
export async function main(argv: readonly string[], given: Partial<WebhookServerDeps> = {}): Promise<number> {
  const stdout = given.stdout ?? process.stdout;
  const stderr = given.stderr ?? process.stderr;
  let args;
  try {
    args = parseWebhookServerArgs(argv);
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    line(stderr, `error: ${error.message}. See npm run dev:webhook -- --help.`);
    return 2;
  }
  if (args.help) {
    stdout.write(WEBHOOK_SERVER_HELP);
    return 0;
  }
  const env = given.env ?? process.env;
  const cwd = given.cwd ?? process.cwd();
  const token = env.TELEGRAM_TOKEN?.trim() ?? "";
  const redact = createRedactor([token, env.TELEGRAM_SECRET_TOKEN, env.OLLAMA_API_KEY]);
  if (!token) line(stderr, "warning: TELEGRAM_TOKEN is not set: updates are accepted but the bot cannot answer");
  const secretToken = env.TELEGRAM_SECRET_TOKEN?.trim() || randomBytes(32).toString("hex");
  const stopped = given.stopped ?? untilSignal();
  let runtime: LocalRuntime | undefined;
  let server: RunningWebhookServer | undefined;
  let sqs: SqsEmulator | undefined;
  let consumer: LocalQueueConsumer | undefined;
  try {
    const stackConfig = given.runtime?.stackConfig ?? loadStackConfig({ env });
    sqs = args.delivery === "queue" ? await startQueueEmulatorFor(stackConfig) : undefined;
    runtime = await startLocalRuntime({ ...given.runtime, stackConfig, sqs, dataDir: args.dataDir, cwd, env, token, secretToken });
    consumer = sqs ? startQueueConsumer(runtime, sqs, (text) => line(stderr, text)) : undefined;
    const authorize = createAuthorizer(runtime.secretToken, defaultLogger(runtime.config));
    server = await startWebhookServer({
      handler: runtime.handler,
      gateway: sqs ? createQueueGateway({ authorize, queue: { client: sqs.client, url: sqs.queue.url } }) : undefined,
      port: args.port,
      host: args.host,
      lambdaTimeoutMs: runtime.lambdaTimeoutMs,
      onRequest: (r) => line(stderr, `${r.method} ${r.path} -> ${r.status} (${r.ms} ms)`),
    });
    const publicUrl = args.publicUrl ?? (env.PUBLIC_URL?.trim() || undefined);
    const secretNote = env.TELEGRAM_SECRET_TOKEN?.trim()
      ? "TELEGRAM_SECRET_TOKEN from the environment"
      : "random for this run; set TELEGRAM_SECRET_TOKEN to choose it";
    line(
      stdout,
      runtimeBanner(runtime, sqs ? "webhook server (queue mode: authorizer, request template, SQS FIFO queue on fauxqs)" : "webhook server (API Gateway event shape)", [
        ["webhook", `${server.webhookUrl}  (POST; give your tunnel this address)`],
        ["secret", secretNote],
        ...(sqs ? ([["sqs", `${sqs.endpoint}  (fauxqs: ${sqs.queue.name}, dead letters in ${sqs.deadLetterQueue.name})`]] as const) : []),
      ]),
    );
    if (publicUrl && token) {
      const api = new TelegramClient({ token, apiUrl: env.TELEGRAM_API_URL?.trim() || undefined });
      const url = `${publicUrl.replace(/\/+$/, "")}${DEFAULT_WEBHOOK_PATH}`;
      await api.call("setWebhook", { url, secret_token: secretToken, allowed_updates: [...HANDLED_UPDATE_TYPES] });
      line(stdout, `registered the webhook ${url} with Telegram (with this run's secret).`);
      line(stdout, "when done, point it back at AWS with: npm run setup-webhook");
    } else {
      line(stdout, "to receive real updates: start a tunnel to this address, then run again with --public-url <tunnel https url>");
      line(stdout, "(it registers <PUBLIC_URL>/webhook with this run's secret; npm run setup-webhook points it back at AWS)");
    }
    given.onListening?.(server, runtime, sqs && consumer ? { sqs, consumer } : undefined);
    await stopped;
    return 0;
  } catch (error) {
    line(stderr, `error: ${redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error))}`);
    return 1;
  } finally {
    await server?.close();
    await consumer?.stop();
    await runtime?.stop();
    await sqs?.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
