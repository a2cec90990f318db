/**
 * The bot function's environment contract: every variable the handler reads (handler/config.ts),
 * the stack sets (constructs/bot-function.ts) and local mode fills in (local/runtime.ts), by one
 * name each, plus the values derived from the stack's settings. Pure.
 */
import { SYNC_OLLAMA_TIMEOUT_MS } from "./defaults";
import { METRICS_NAMESPACE_ENV } from "./metrics";
import { QUEUE_REPLY_MARGIN_SECONDS, type DeliveryMode } from "./stack-config";

/** The variables, by what they hold. */
export const FUNCTION_ENV = Object.freeze({
  telegramToken: "TELEGRAM_TOKEN",
  telegramSecretToken: "TELEGRAM_SECRET_TOKEN",
  telegramApiUrl: "TELEGRAM_API_URL",
  telegramTimeoutMs: "TELEGRAM_TIMEOUT_MS",
  tableName: "DYNAMODB_TABLE",
  bucketName: "S3_BUCKET_NAME",
  ollamaUrl: "OLLAMA_URL",
  ollamaApiKey: "OLLAMA_API_KEY",
  ollamaCaCert: "OLLAMA_CA_CERT",
  ollamaModels: "OLLAMA_MODELS",
  /** The model list as JSON (config/models.ts); OLLAMA_MODELS is read when it is unset. */
  models: "MODELS",
  /** Bearer key of the OpenAI-compatible servers. */
  openaiApiKey: "OPENAI_API_KEY",
  /** Bedrock endpoint override, the SDK's standard variable (local mode, tests). */
  bedrockEndpoint: "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
  /** Timeout of one model call, for every provider (the name is from when Ollama was the only one). */
  ollamaTimeoutMs: "OLLAMA_TIMEOUT_MS",
  allowedUserIds: "ALLOWED_USER_IDS",
  messagesPerHour: "USER_MESSAGES_PER_HOUR",
  messagesPerDay: "USER_MESSAGES_PER_DAY",
  importsPerDay: "USER_IMPORTS_PER_DAY",
  /** Tokens one user may use per UTC day; 0: no budget. */
  userTokensPerDay: "USER_TOKENS_PER_DAY",
  /** Tokens the whole bot may use per UTC day; 0: no budget. */
  botTokensPerDay: "BOT_TOKENS_PER_DAY",
  /** CloudWatch namespace of the handler's metrics (config/metrics.ts). */
  metricsNamespace: METRICS_NAMESPACE_ENV,
  defaultSystemPrompt: "DEFAULT_SYSTEM_PROMPT",
  logLevel: "LOG_LEVEL",
  environment: "ENVIRONMENT",
  contextCharBudget: "CONTEXT_CHAR_BUDGET",
  contextMaxMessages: "CONTEXT_MAX_MESSAGES",
  maxPhotoBytes: "PHOTO_MAX_BYTES",
  /** Largest document read for a question, in bytes. */
  maxDocumentBytes: "DOCUMENT_MAX_BYTES",
  showModelSpeed: "SHOW_MODEL_SPEED",
  /** The speech-to-text endpoint's full URL (…/v1/audio/transcriptions); unset: voice messages are off. */
  transcriptionUrl: "TRANSCRIPTION_URL",
  /** The `model` sent to it, as given. */
  transcriptionModel: "TRANSCRIPTION_MODEL",
  /** Its Bearer key (secret). */
  transcriptionApiKey: "TRANSCRIPTION_API_KEY",
  /** The `language` sent to it (ISO-639-1); unset: the server detects it. */
  transcriptionLanguage: "TRANSCRIPTION_LANGUAGE",
  /** Longest voice message, audio file or video note transcribed, in seconds. */
  voiceMaxSeconds: "VOICE_MAX_SECONDS",
  s3ForcePathStyle: "S3_FORCE_PATH_STYLE",
  /** Queue mode: the update queue's URL, for ChangeMessageVisibility on a record handed back. */
  updateQueueUrl: "UPDATE_QUEUE_URL",
  /** Set by Lambda itself: the handler knows it runs there. */
  lambdaFunctionName: "AWS_LAMBDA_FUNCTION_NAME",
} as const);

/** A variable of the contract. */
export type FunctionEnvName = (typeof FUNCTION_ENV)[keyof typeof FUNCTION_ENV];

/**
 * OLLAMA_TIMEOUT_MS for a delivery mode and function timeout: SYNC_OLLAMA_TIMEOUT_MS in sync mode
 * (inside API Gateway's 29 s); in queue mode the function timeout minus QUEUE_REPLY_MARGIN_SECONDS,
 * so the answer can still be sent and stored after the longest generation.
 */
export function ollamaTimeoutMsFor(mode: DeliveryMode, lambdaTimeoutSeconds: number): number {
  return mode === "sync" ? SYNC_OLLAMA_TIMEOUT_MS : (lambdaTimeoutSeconds - QUEUE_REPLY_MARGIN_SECONDS) * 1000;
}
