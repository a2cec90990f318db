/**
 * The handler running locally: emulators on the data folder, the handler's config built the
 * way the stack builds the function's environment, and `handleUpdate` passing an update
 * through the real entry point as API Gateway would (proxy event with the secret header).
 * Shared by `npm start` (polling and terminal chat) and `npm run dev:webhook`; in queue mode
 * the handler also gets the SQS emulator's endpoint and update queue URL.
 */
import { modelsVariable } from "../config/models";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import type { Update } from "@grammyjs/types";
import { OLLAMA_PROXY_PORT } from "../config/defaults";
import { FUNCTION_ENV, ollamaTimeoutMsFor } from "../config/function-env";
import { loadStackConfig, type StackConfig } from "../config/stack-config";
import { createBot, type QueueHandler, type WebhookHandler } from "../handler/app";
import { createDocumentClient } from "../handler/store/aws";
import { loadConfig, type BotConfig } from "../handler/config";
import { createLogger, type LogSink } from "../handler/observability/log";
import type { TelegramApi } from "../handler/telegram/bot-api";
import { startEmulators, type RunningEmulators } from "./emulators";
import type { SqsEmulator } from "./sqs-emulator";
import { endpointsOf, removeEndpointsFile, writeEndpointsFile } from "./endpoints-file";
import { lambdaContext, proxyEventFromUpdate } from "./lambda-event";
import { localPaths, type LocalPaths } from "./paths";
import { formatBanner } from "./banner";

/** Ollama's default address locally: the proxy port on loopback, like `ollama serve` on 11434. */
export const DEFAULT_LOCAL_OLLAMA_URL = `http://127.0.0.1:${OLLAMA_PROXY_PORT}`;

/** Options of {@link startLocalRuntime}. */
export interface LocalRuntimeOptions {
  /** Data folder of the emulators. @default ".data" under cwd */
  readonly dataDir?: string;
  /** Environment read for OLLAMA_URL, OLLAMA_MODELS, OLLAMA_API_KEY, LOG_LEVEL... @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Bot token the handler's Telegram client uses. */
  readonly token: string;
  /** Bot API base URL. @default TELEGRAM_API_URL, else Telegram's */
  readonly telegramApiUrl?: string;
  /** Replaces the handler's Telegram client (the terminal chat observes its calls). @default - a TelegramClient */
  readonly bot?: TelegramApi;
  /** Webhook secret the handler checks. @default - 32 random bytes, hex */
  readonly secretToken?: string;
  /** Where the handler's JSON log lines go. @default stdout */
  readonly logSink?: LogSink;
  /** Stack configuration (model list, function timeout). @default loadStackConfig({ env }) */
  readonly stackConfig?: StackConfig;
  /** What the handler signs Bedrock calls with (the Bedrock stand-in's keys). @default - the environment's, as in Lambda */
  readonly modelCredentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Emulators already running (tests); they are not stopped by stop(). @default - started on dataDir */
  readonly emulators?: RunningEmulators;
  /**
   * Queue mode: the SQS emulator the handler hands records back on (its AWS_ENDPOINT_URL_SQS and
   * UPDATE_QUEUE_URL); its owner stops it. @default - none (the handler has no update queue)
   */
  readonly sqs?: Pick<SqsEmulator, "env">;
  /** Write .data/local-endpoints.json while running. @default true */
  readonly writeEndpoints?: boolean;
  /** Project directory. @default process.cwd() */
  readonly cwd?: string;
}

/** A running local handler. */
export interface LocalRuntime {
  readonly handler: WebhookHandler;
  /** The same bot's queue consumer (queue mode: what the event source mapping invokes). */
  readonly consume: QueueHandler;
  /** The stack configuration the runtime plays. */
  readonly stack: StackConfig;
  readonly config: BotConfig;
  readonly emulators: RunningEmulators;
  readonly paths: LocalPaths;
  /** The secret the handler expects in X-Telegram-Bot-Api-Secret-Token. */
  readonly secretToken: string;
  /** The function's timeout, which local invocations count down from, in ms. */
  readonly lambdaTimeoutMs: number;
  /** Passes an update through the handler as API Gateway would; resolves with the status code. */
  handleUpdate(update: Update): Promise<number>;
  /** Stops the emulators (when started here), removes the endpoints file; idempotent. */
  stop(): Promise<void>;
}

/**
 * OLLAMA_TIMEOUT_MS as the stack sets it (constructs/bot-function.ts): 22 s in sync mode, the
 * function timeout minus QUEUE_REPLY_MARGIN_SECONDS in queue mode. Pure.
 */
export function localOllamaTimeoutMs(stack: Pick<StackConfig, "deliveryMode" | "lambdaTimeoutSeconds">): number {
  return ollamaTimeoutMsFor(stack.deliveryMode, stack.lambdaTimeoutSeconds);
}

/**
 * The handler's environment locally: the caller's environment, then the emulators', then the
 * bot settings. The model list comes from the stack configuration (which reads OLLAMA_MODELS).
 * Pure.
 */
export function localHandlerEnv(options: {
  env: NodeJS.ProcessEnv;
  emulatorEnv: Readonly<Record<string, string>>;
  stack: StackConfig;
  token: string;
  secretToken: string;
  telegramApiUrl?: string;
}): Record<string, string | undefined> {
  const { env, stack } = options;
  return {
    ...env,
    ...options.emulatorEnv,
    [FUNCTION_ENV.telegramToken]: options.token,
    [FUNCTION_ENV.telegramSecretToken]: options.secretToken,
    [FUNCTION_ENV.telegramApiUrl]: options.telegramApiUrl ?? env[FUNCTION_ENV.telegramApiUrl],
    [FUNCTION_ENV.ollamaUrl]: env[FUNCTION_ENV.ollamaUrl]?.trim() || DEFAULT_LOCAL_OLLAMA_URL,
    [FUNCTION_ENV.models]: modelsVariable(stack.models),
    [FUNCTION_ENV.ollamaTimeoutMs]: env[FUNCTION_ENV.ollamaTimeoutMs]?.trim() || String(localOllamaTimeoutMs(stack)),
  };
}

/** Starts the emulators (unless given) and builds the handler on them. */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const env = options.env ?? process.env;
  const paths = localPaths(options.dataDir, options.cwd);
  const stack = options.stackConfig ?? loadStackConfig({ env });
  const ownEmulators = options.emulators === undefined;
  const emulators = options.emulators ?? (await startEmulators({ dataDir: paths.dataDir, region: stack.region }));
  const secretToken = options.secretToken ?? randomBytes(32).toString("hex");
  try {
    const config = loadConfig(
      localHandlerEnv({
        env,
        emulatorEnv: { ...emulators.env, ...options.sqs?.env },
        stack,
        token: options.token,
        secretToken,
        telegramApiUrl: options.telegramApiUrl,
      }),
    );
    const credentials = { ...emulators.credentials };
    const doc = createDocumentClient(config, credentials);
    const sink = options.logSink ?? ((line: string) => void process.stdout.write(`${line}\n`));
    const logger = createLogger({ level: config.logLevel, secrets: [config.telegramToken, config.telegramSecretToken, config.ollamaApiKey, config.openaiApiKey], sink });
    const models = options.modelCredentials ? { modelCredentials: { ...options.modelCredentials } } : {};
    // Metric lines go through the logger, to the log file of the terminal chat, as in Lambda.
    const bot = createBot(config, { doc, logger, credentials, ...models, ...(options.bot ? { bot: options.bot } : {}) });
    const handler = bot.webhook;
    if (options.writeEndpoints ?? true) {
      await mkdir(paths.dataDir, { recursive: true });
      await writeEndpointsFile(paths.endpointsFile, endpointsOf(emulators));
    }
    const lambdaTimeoutMs = stack.lambdaTimeoutSeconds * 1000;
    let stopping: Promise<void> | undefined;
    return {
      handler,
      consume: bot.consume,
      stack,
      config,
      emulators,
      paths,
      secretToken,
      lambdaTimeoutMs,
      async handleUpdate(update) {
        const result = await handler(proxyEventFromUpdate(update, { secretToken }), lambdaContext({ timeoutMs: lambdaTimeoutMs }));
        return result.statusCode;
      },
      stop() {
        stopping ??= (async () => {
          doc.destroy();
          if (options.writeEndpoints ?? true) await removeEndpointsFile(paths.endpointsFile);
          if (ownEmulators) await emulators.stop();
        })();
        return stopping;
      },
    };
  } catch (error) {
    if (ownEmulators) await emulators.stop().catch(() => undefined);
    throw error;
  }
}

/** The banner of a running local runtime: its stores, data folder, Ollama and models, plus `extra` lines. */
export function runtimeBanner(runtime: LocalRuntime, mode: string, extra: readonly (readonly [string, string])[] = []): string {
  return formatBanner({
    mode,
    dynamodbEndpoint: runtime.emulators.dynamodbEndpoint,
    tableName: runtime.emulators.tableName,
    s3Endpoint: runtime.emulators.s3Endpoint,
    bucketName: runtime.emulators.bucketName,
    dataDir: runtime.paths.dataDir,
    ollamaUrl: runtime.config.ollamaUrl,
    models: runtime.config.modelNames,
    extra,
  });
}
