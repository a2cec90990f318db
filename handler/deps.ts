import { randomUUID } from "node:crypto";
import type { BotConfig } from "./config";
import type { ModelApi } from "./model/model-api";
import type { TelegramApi } from "./telegram/bot-api";
import { BedrockClient } from "./model/bedrock";
import { OllamaClient } from "./model/ollama";
import { OpenAiClient } from "./model/openai";
import { ModelRegistry } from "./model/registry";
import { onOllamaOrigin, TranscriptionClient, type Transcriber } from "./model/transcription";
import { pinnedDispatcher } from "./net/undici";
import { createLogger, type Logger } from "./observability/log";
import type { S3ClientFactory } from "./store/archives";
import { createDocumentClient, createS3ClientFactory, type StaticCredentials } from "./store/aws";
import type { DocumentClient } from "./store/document-client";
import { TelegramClient } from "./telegram/client";

/** The handler's collaborators; tests and local mode pass their own, the Lambda builds them from config. */
export interface BotDeps {
  /** DynamoDB document client. @default - built from config (region, AWS_ENDPOINT_URL_DYNAMODB) */
  readonly doc: DocumentClient;
  /** Lazy S3 client. @default - built from config on first archive command */
  readonly s3: S3ClientFactory;
  /** Bot API client. @default - a TelegramClient on config.telegramApiUrl */
  readonly bot: TelegramApi;
  /** Ollama client; undefined when OLLAMA_URL is not set. @default - an OllamaClient on config.ollamaUrl */
  readonly ollama: ModelApi | undefined;
  /** The model list with its adapters. @default - config.models on the Ollama client above, Bedrock and OpenAI-compatible clients */
  readonly models: ModelRegistry;
  /** Speech-to-text for voice messages; undefined when TRANSCRIPTION_URL is not set. @default - a TranscriptionClient on config.voice */
  readonly transcription: Transcriber | undefined;
  /** Clock, epoch ms. @default Date.now */
  readonly now: () => number;
  /** New session ids. @default crypto.randomUUID */
  readonly newId: () => string;
  /** Structured logger. @default - JSON lines on stdout at config.logLevel, redacting the secrets */
  readonly logger: Logger;
  /** Where the metric (EMF) lines go, whatever LOG_LEVEL is. @default - the logger's own output (stdout in Lambda) */
  readonly metricsSink: (line: string) => void;
  /** Static credentials for the default AWS clients (emulators). @default - the SDK's default chain */
  readonly credentials: StaticCredentials | undefined;
  /**
   * What the Bedrock client signs with, apart from the stores' (the emulators' keys must not
   * go to a real Bedrock). @default - the function role's, read from the environment
   */
  readonly modelCredentials: StaticCredentials | undefined;
}

/** The stdout sink: one line per entry without console.log's prefix, so CloudWatch sees pure JSON. */
const stdoutSink = (line: string) => {
  process.stdout.write(`${line}\n`);
};

/** The logger of a config: JSON lines on stdout at its level, redacting its secrets. */
export function defaultLogger(config: BotConfig): Logger {
  return createLogger({
    level: config.logLevel,
    secrets: [config.telegramToken, config.telegramSecretToken, config.ollamaApiKey, config.openaiApiKey, config.voice.apiKey],
    sink: stdoutSink,
  });
}

/** The Ollama client of a config, or undefined when OLLAMA_URL is not set. */
function defaultOllama(config: BotConfig): ModelApi | undefined {
  if (!config.ollamaUrl) return undefined;
  return new OllamaClient({
    baseUrl: config.ollamaUrl,
    apiKey: config.ollamaApiKey,
    ...(config.ollamaCaCert ? { dispatcher: pinnedDispatcher(config.ollamaCaCert) } : {}),
    timeoutMs: config.ollamaTimeoutMs,
    statusTimeoutMs: config.ollamaStatusTimeoutMs,
  });
}

/**
 * The speech-to-text client of a config, or undefined when TRANSCRIPTION_URL is not set. On
 * OLLAMA_URL's origin (whisper.cpp behind the Ollama instance's nginx) it sends the Ollama key
 * as X-API-Key and trusts only OLLAMA_CA_CERT, as the Ollama client does; TRANSCRIPTION_API_KEY,
 * when set, goes as a Bearer key either way. Same timeout as a model call.
 */
function defaultTranscription(config: BotConfig): Transcriber | undefined {
  const { transcriptionUrl: url, model, language, apiKey } = config.voice;
  if (!url) return undefined;
  const viaOllama = onOllamaOrigin(url, config.ollamaUrl);
  return new TranscriptionClient({
    url,
    model,
    ...(language ? { language } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(viaOllama && config.ollamaApiKey ? { proxyKey: config.ollamaApiKey } : {}),
    ...(viaOllama && config.ollamaCaCert ? { dispatcher: pinnedDispatcher(config.ollamaCaCert) } : {}),
    timeoutMs: config.ollamaTimeoutMs,
  });
}

/** The model registry of a config: its entries on the given Ollama client and clients made per endpoint. */
function defaultModels(config: BotConfig, ollama: ModelApi | undefined, credentials: StaticCredentials | undefined): ModelRegistry {
  return new ModelRegistry(
    config.models,
    {
      ollama: () => ollama,
      bedrock: (region) =>
        new BedrockClient({
          region,
          ...(config.bedrockEndpoint ? { endpoint: config.bedrockEndpoint } : {}),
          ...(credentials ? { credentials: async () => credentials } : {}),
          timeoutMs: config.ollamaTimeoutMs,
        }),
      openai: (baseUrl) =>
        new OpenAiClient({ baseUrl, apiKey: config.openaiApiKey, timeoutMs: config.ollamaTimeoutMs, statusTimeoutMs: config.ollamaStatusTimeoutMs }),
    },
    config.region,
  );
}

/**
 * Builds every default collaborator from a config, keeping the given ones. Called once per
 * container (at cold start): warm invocations reuse the clients and their connections.
 */
export function buildDeps(config: BotConfig, given: Partial<BotDeps> = {}): BotDeps {
  const logger = given.logger ?? defaultLogger(config);
  const credentials = given.credentials;
  const ollama = "ollama" in given ? given.ollama : defaultOllama(config);
  return {
    doc: given.doc ?? createDocumentClient(config, credentials),
    s3: given.s3 ?? createS3ClientFactory(config, credentials),
    bot:
      given.bot ??
      new TelegramClient({
        token: config.telegramToken,
        apiUrl: config.telegramApiUrl,
        timeoutMs: config.telegramTimeoutMs,
        maxRetryWaitMs: config.telegramMaxRetryWaitMs,
        logger,
      }),
    ollama,
    models: given.models ?? defaultModels(config, ollama, given.modelCredentials),
    transcription: "transcription" in given ? given.transcription : defaultTranscription(config),
    now: given.now ?? Date.now,
    newId: given.newId ?? randomUUID,
    logger,
    metricsSink: given.metricsSink ?? ((line) => logger.write(line)),
    credentials,
    modelCredentials: given.modelCredentials,
  };
}
