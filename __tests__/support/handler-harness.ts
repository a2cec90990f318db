/**
 * The handler wired to real local parts: dynalite and s3rver (local/emulators.ts), the
 * Telegram and Ollama stand-ins, and a captured logger. Integration tests, fault tests and the
 * benchmark start one harness per file and drive the real entry point (`createHandler`) with
 * proxy events, exactly as API Gateway would.
 *
 *   const h = await startHarness();
 *   await h.sendText("/start");
 *   expect(h.repliesTo(TEST_USER_ID)).toContain(...);
 *   await h.stop();
 */
import type { Update } from "@grammyjs/types";
import type { DocumentClient } from "../../handler/store/document-client";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { createHandler, type WebhookHandler } from "../../handler/app";
import type { BotDeps } from "../../handler/deps";
import { ArchiveStore, type S3ClientFactory } from "../../handler/store/archives";
import { createDocumentClient, createS3ClientFactory } from "../../handler/store/aws";
import { configWith, type BotConfig, type LogLevel } from "../../handler/config";
import { UpdateMarks } from "../../handler/store/update-marks";
import { createLogger } from "../../handler/observability/log";
import { SessionStore } from "../../handler/store/sessions";
import { startEmulators, type RunningEmulators } from "../../local/emulators";
import { lambdaContext, proxyEventFromHttp, proxyEventFromUpdate } from "../../local/lambda-event";
import { OllamaStandIn, type OllamaStandInOptions } from "../../local/stand-ins/ollama";
import { TelegramStandIn } from "../../local/stand-ins/telegram/server";
import { TEST_OLLAMA_API_KEY, TEST_SECRET_TOKEN, TEST_TOKEN, textUpdate, type MessageOptions } from "./updates";

/** How to start a harness. */
export interface HarnessOptions {
  /** Config values laid over the harness's (which point at the emulators and stand-ins). @default - none */
  readonly config?: Partial<BotConfig>;
  /** Options of the Ollama stand-in. @default - API key TEST_OLLAMA_API_KEY, the default models */
  readonly ollama?: OllamaStandInOptions;
  /** getMe's username of the Telegram stand-in. @default "TestBot" */
  readonly botUsername?: string;
  /** Lowest log level captured. @default "DEBUG" (so tests see every line that could leak) */
  readonly logLevel?: LogLevel;
  /** Extra collaborators for the default handler (clock, ids...). @default - none */
  readonly deps?: Partial<BotDeps>;
}

/** Options of {@link Harness.send}. */
export interface SendOptions {
  /** Secret token header. @default TEST_SECRET_TOKEN; null sends no header */
  readonly secretToken?: string | null;
  /** The Lambda timeout the context counts down from, in ms. @default 30000 */
  readonly timeoutMs?: number;
  /** Handler to call. @default the harness's */
  readonly handler?: WebhookHandler;
}

/** AWS SDK commands sent through the harness's DynamoDB client, by command name. */
export interface RequestCounter {
  /** Total since the last reset. */
  total(): number;
  /** Per command name (GetCommand, QueryCommand...) since the last reset. */
  byCommand(): Record<string, number>;
  reset(): void;
}

/** A running harness; see the module comment. */
export interface Harness {
  readonly emulators: RunningEmulators;
  readonly telegram: TelegramStandIn;
  readonly ollama: OllamaStandIn;
  /** The config of the default handler. */
  readonly config: BotConfig;
  /** The default handler (createHandler with the config above). */
  readonly handler: WebhookHandler;
  /** Every log line written by handlers built by this harness, as JSON strings. */
  readonly logs: string[];
  /** Every metric (EMF) line those handlers wrote, as JSON strings (stdout beside the logs, in Lambda). */
  readonly metricLines: string[];
  /** The DynamoDB document client the handlers use (requests counted by {@link awsRequests}). */
  readonly doc: DocumentClient;
  /** Lazy S3 client on s3rver. */
  readonly s3: S3ClientFactory;
  /** Store helpers on the same table, for seeding and assertions. */
  readonly sessions: SessionStore;
  readonly marks: UpdateMarks;
  readonly archives: ArchiveStore;
  /** DynamoDB requests made through {@link doc}. */
  readonly awsRequests: RequestCounter;
  /**
   * The environment that points a handler built from env (dist/handler/index.js) at the same
   * emulators and stand-ins: the emulators' env plus TELEGRAM_*, OLLAMA_*.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Another handler on the same servers and stores with other config values (e.g. ALLOWED_USER_IDS). */
  createBotHandler(overrides?: Partial<BotConfig>, deps?: Partial<BotDeps>): WebhookHandler;
  /** Delivers an update as API Gateway would (proxy event, secret header, Lambda context). */
  send(update: Update | object, options?: SendOptions): Promise<APIGatewayProxyResult>;
  /** Delivers a raw HTTP request (any body, headers, isBase64Encoded). */
  sendRaw(request: Parameters<typeof proxyEventFromHttp>[0], options?: SendOptions): Promise<APIGatewayProxyResult>;
  /** Delivers a text message update built by textUpdate(text, options). */
  sendText(text: string, options?: MessageOptions & SendOptions): Promise<APIGatewayProxyResult>;
  /** The texts the bot sent to a chat, in order (edits applied). */
  repliesTo(chatId: number): string[];
  /** The user's active session as stored, one "role:content" string per message ([] without a session). */
  conversationOf(userId: number): Promise<string[]>;
  /** Log lines parsed as objects. */
  logEntries(): Record<string, unknown>[];
  /** Stops the stand-ins and emulators. */
  stop(): Promise<void>;
}

/** Starts emulators, stand-ins and a handler wired to them. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulators = await startEmulators();
  const telegram = await TelegramStandIn.start({ token: TEST_TOKEN, botUsername: options.botUsername });
  const ollama = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, ...options.ollama });

  const config = configWith({
    telegramToken: TEST_TOKEN,
    telegramSecretToken: TEST_SECRET_TOKEN,
    telegramApiUrl: telegram.url,
    telegramMaxRetryWaitMs: 3_000,
    tableName: emulators.tableName,
    bucketName: emulators.bucketName,
    ollamaUrl: ollama.url,
    ollamaApiKey: TEST_OLLAMA_API_KEY,
    ollamaTimeoutMs: 3_000,
    ollamaStatusTimeoutMs: 1_000,
    region: emulators.region,
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    s3Endpoint: emulators.s3Endpoint,
    s3ForcePathStyle: true,
    logLevel: options.logLevel ?? "DEBUG",
    ...options.config,
  });

  const doc = createDocumentClient(config, emulators.credentials);
  const counts = new Map<string, number>();
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? "unknown";
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "harnessRequestCounter" },
  );
  const awsRequests: RequestCounter = {
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    byCommand: () => Object.fromEntries(counts),
    reset: () => counts.clear(),
  };
  const s3 = createS3ClientFactory(config, emulators.credentials);
  const logs: string[] = [];
  const metricLines: string[] = [];

  const createBotHandler = (overrides: Partial<BotConfig> = {}, deps: Partial<BotDeps> = {}): WebhookHandler => {
    const merged = configWith({ ...config, ...overrides, ...(overrides.modelNames && !overrides.models ? { models: undefined } : {}) });
    const logger = createLogger({
      level: merged.logLevel,
      secrets: [merged.telegramToken, merged.telegramSecretToken, merged.ollamaApiKey],
      sink: (line) => logs.push(line),
    });
    return createHandler(merged, { doc, s3, logger, metricsSink: (line) => metricLines.push(line), credentials: emulators.credentials, ...options.deps, ...deps });
  };
  const handler = createBotHandler();

  const send = (event: APIGatewayProxyEvent, sendOptions: SendOptions = {}) =>
    (sendOptions.handler ?? handler)(event, lambdaContext({ timeoutMs: sendOptions.timeoutMs ?? 30_000 }));
  const secretOf = (sendOptions: SendOptions) =>
    sendOptions.secretToken === null ? undefined : (sendOptions.secretToken ?? TEST_SECRET_TOKEN);

  const env = Object.freeze({
    ...emulators.env,
    TELEGRAM_TOKEN: TEST_TOKEN,
    TELEGRAM_SECRET_TOKEN: TEST_SECRET_TOKEN,
    TELEGRAM_API_URL: telegram.url,
    OLLAMA_URL: ollama.url,
    OLLAMA_API_KEY: TEST_OLLAMA_API_KEY,
    OLLAMA_TIMEOUT_MS: String(config.ollamaTimeoutMs),
    OLLAMA_MODELS: config.modelNames.join(","),
  });

  const sessions = new SessionStore({ doc, tableName: config.tableName });
  return {
    emulators,
    telegram,
    ollama,
    config,
    handler,
    logs,
    metricLines,
    doc,
    s3,
    sessions,
    marks: new UpdateMarks({ doc, tableName: config.tableName }),
    archives: new ArchiveStore({ s3, bucket: config.bucketName }),
    awsRequests,
    env,
    createBotHandler,
    send: (update, sendOptions = {}) => send(proxyEventFromUpdate(update, { secretToken: secretOf(sendOptions) }), sendOptions),
    sendRaw: (request, sendOptions = {}) => send(proxyEventFromHttp(request), sendOptions),
    sendText: (text, sendOptions = {}) =>
      send(proxyEventFromUpdate(textUpdate(text, sendOptions), { secretToken: secretOf(sendOptions) }), sendOptions),
    repliesTo: (chatId) => telegram.messagesIn(chatId).map((m) => m.plainText),
    conversationOf: async (userId) => {
      const { session } = await sessions.getActive(userId);
      return session ? (await sessions.allMessages(userId, session.sessionId)).map((m) => `${m.role}:${m.content}`) : [];
    },
    logEntries: () => logs.map((line) => JSON.parse(line) as Record<string, unknown>),
    stop: async () => {
      doc.destroy();
      await s3().then((client) => client.destroy());
      await Promise.all([telegram.stop(), ollama.stop()]);
      await emulators.stop();
    },
  };
}

/**
 * A harness for the enclosing describe block: started in beforeAll, stopped in afterAll. The
 * returned object forwards to the running harness, so tests use it as they would the harness
 * itself (`h.sendText(...)`); touching it outside a test (before beforeAll) throws.
 */
export function useHarness(options: HarnessOptions = {}): Harness {
  let running: Harness | undefined;
  beforeAll(async () => {
    running = await startHarness(options);
  });
  afterAll(async () => {
    await running?.stop();
    running = undefined;
  });
  return new Proxy({} as Harness, {
    get(_target, property) {
      if (!running) throw new Error(`useHarness: the harness is used outside a test (property ${String(property)})`);
      const value: unknown = Reflect.get(running, property, running);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(running) : value;
    },
  });
}
