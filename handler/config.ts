import { DEFAULT_OLLAMA_MODELS, SYNC_OLLAMA_TIMEOUT_MS, TELEGRAM_GET_FILE_LIMIT_BYTES, TOKEN_BUDGET_DEFAULTS, USER_LIMIT_DEFAULTS, type TokenBudgets, type UserLimits } from "../config/defaults";
import { DEFAULT_METRICS_NAMESPACE, METRICS_NAMESPACE_PATTERN } from "../config/metrics";
import { SYSTEM_PROMPT_MAX_CHARS } from "../config/stack-config";
import { FUNCTION_ENV } from "../config/function-env";
import { readModelList, type ModelEntry } from "../config/models";
import { DEFAULT_TABLE_NAME } from "../config/table-schema";

/** Log levels, least to most severe. */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";

/** One setting that was missing or could not be understood; the bot runs on with a default. */
export interface ConfigProblem {
  /** The environment variable, e.g. `OLLAMA_TIMEOUT_MS`. */
  readonly variable: string;
  /** What is wrong, in words safe to show a user (never the value of a secret). */
  readonly message: string;
}

/**
 * Everything the handler needs to know, read once from the environment by {@link loadConfig}
 * or built directly by tests and local mode. Frozen; nothing else reads `process.env`.
 */
export interface BotConfig {
  /** Bot token (TELEGRAM_TOKEN). @default "" (a problem is reported) */
  readonly telegramToken: string;
  /** Webhook secret (TELEGRAM_SECRET_TOKEN); when set, requests must carry it. @default - no check (local mode only) */
  readonly telegramSecretToken: string | undefined;
  /**
   * Running in AWS Lambda (AWS_LAMBDA_FUNCTION_NAME is set). Then a blank or missing
   * TELEGRAM_SECRET_TOKEN refuses every webhook request instead of turning the check off, and
   * configuration problems are logged at ERROR (counted by the error alarm). @default false
   */
  readonly inLambda: boolean;
  /** Bot API base URL without a trailing slash (TELEGRAM_API_URL). @default "https://api.telegram.org" */
  readonly telegramApiUrl: string;
  /** Per-call timeout of Bot API requests, in ms. @default 10000 */
  readonly telegramTimeoutMs: number;
  /** Longest retry_after we wait for before retrying a 429 once, in ms. @default 5000 */
  readonly telegramMaxRetryWaitMs: number;
  /** Sessions table (DYNAMODB_TABLE). @default "chatbot-sessions" */
  readonly tableName: string;
  /** Archive bucket (S3_BUCKET_NAME). @default "" (archive commands say it is not configured) */
  readonly bucketName: string;
  /** Ollama base URL without a trailing slash (OLLAMA_URL). @default "" (chat says it is not configured) */
  readonly ollamaUrl: string;
  /** Key sent in X-API-Key (OLLAMA_API_KEY). @default - no header */
  readonly ollamaApiKey: string | undefined;
  /**
   * The proxy's certificate (OLLAMA_CA_CERT, PEM): when set, the only CA trusted for OLLAMA_URL,
   * whose host (the elastic IP) must be in the certificate's subjectAltName. @default - the system CAs
   */
  readonly ollamaCaCert: string | undefined;
  /**
   * The model list, in order (MODELS, JSON of config/models.ts's entries; when unset,
   * OLLAMA_MODELS as Ollama models). @default DEFAULT_OLLAMA_MODELS, served by Ollama
   */
  readonly models: readonly ModelEntry[];
  /** The names of {@link models}, in order: what /newsession offers and a session stores. */
  readonly modelNames: readonly string[];
  /** Bearer key of the OpenAI-compatible servers (OPENAI_API_KEY). @default - no header */
  readonly openaiApiKey: string | undefined;
  /** Bedrock endpoint override (AWS_ENDPOINT_URL_BEDROCK_RUNTIME). @default - bedrock-runtime.<region>.amazonaws.com */
  readonly bedrockEndpoint: string | undefined;
  /** Whole-call timeout of a chat request, in ms (OLLAMA_TIMEOUT_MS). @default SYNC_OLLAMA_TIMEOUT_MS (22000) */
  readonly ollamaTimeoutMs: number;
  /** Timeout of the /status probes (version, tags), in ms. @default 3000 */
  readonly ollamaStatusTimeoutMs: number;
  /** Users allowed to talk to the bot (ALLOWED_USER_IDS). @default - everyone */
  readonly allowedUserIds: readonly number[] | undefined;
  /** LOG_LEVEL. @default "INFO" */
  readonly logLevel: LogLevel;
  /** AWS region (AWS_REGION, then AWS_DEFAULT_REGION). @default "us-east-1" */
  readonly region: string;
  /** DynamoDB endpoint override (AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL). @default - the SDK's */
  readonly dynamodbEndpoint: string | undefined;
  /** S3 endpoint override (AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL). @default - the SDK's */
  readonly s3Endpoint: string | undefined;
  /** SQS endpoint override (AWS_ENDPOINT_URL_SQS, then AWS_ENDPOINT_URL). @default - the SDK's */
  readonly sqsEndpoint: string | undefined;
  /**
   * The update queue's URL (UPDATE_QUEUE_URL, set by the stack in queue mode): a record handed
   * back for a later delivery gets a short visibility backoff there (ChangeMessageVisibility).
   * @default - none: a record handed back waits the queue's whole visibility timeout
   */
  readonly updateQueueUrl: string | undefined;
  /** Path-style S3 addressing (S3_FORCE_PATH_STYLE=true), needed by local emulators. @default false */
  readonly s3ForcePathStyle: boolean;
  /** Character budget of the context sent to the model (CONTEXT_CHAR_BUDGET). @default 12000 */
  readonly contextCharBudget: number;
  /** Most messages read for the context, newest first (CONTEXT_MAX_MESSAGES). @default 50 */
  readonly contextMaxMessages: number;
  /** Largest archive file accepted for import, in bytes. @default 1048576 */
  readonly maxImportBytes: number;
  /**
   * Largest picture sent to a vision model, in bytes (PHOTO_MAX_BYTES): the largest size of a
   * photo under it is taken. At most Telegram's getFile limit (20 MB). @default 5242880 (5 MB)
   */
  readonly maxPhotoBytes: number;
  /** Largest document read for a question (DOCUMENT_MAX_BYTES), in bytes, checked before the download; at most 20 MB. @default 5242880 (5 MB) */
  readonly maxDocumentBytes: number;
  /**
   * Per-user limits, 0 meaning none: chat messages per clock hour and per day (UTC)
   * (USER_MESSAGES_PER_HOUR, USER_MESSAGES_PER_DAY) and imports per day (USER_IMPORTS_PER_DAY).
   * @default USER_LIMIT_DEFAULTS (config/defaults.ts): 30, 200 and 10
   */
  readonly userLimits: UserLimits;
  /**
   * Token budgets per UTC day, 0 meaning none: one user's (USER_TOKENS_PER_DAY) and the whole
   * bot's (BOT_TOKENS_PER_DAY), input and output tokens together, as the providers counted them.
   * @default TOKEN_BUDGET_DEFAULTS (config/defaults.ts): 0 and 0
   */
  readonly tokenBudgets: TokenBudgets;
  /** CloudWatch namespace of the handler's metrics (METRICS_NAMESPACE). @default DEFAULT_METRICS_NAMESPACE */
  readonly metricsNamespace: string;
  /**
   * Whether an answer ends with the model's speed ("12.3 tokens/s", from Ollama's eval_count and
   * eval_duration) (SHOW_MODEL_SPEED=true). /status shows the last measured speed either way.
   * @default false (a footer under every answer is noise for most users)
   */
  readonly showModelSpeed: boolean;
  /**
   * System prompt of a session that has none of its own (DEFAULT_SYSTEM_PROMPT; /system sets a
   * session's own, /system off turns it off for that session). At most SYSTEM_PROMPT_MAX_CHARS.
   * @default "" (none)
   */
  readonly defaultSystemPrompt: string;
  /** Deployment environment set by the stack (ENVIRONMENT: dev, staging or prod); shown by /status. @default - not shown */
  readonly environment: string | undefined;
  /** Days an update mark lives before DynamoDB's TTL removes it. @default 7 */
  readonly updateMarkTtlDays: number;
  /** Voice messages, audio files and video notes: the speech-to-text server and its limits. */
  readonly voice: VoiceSettings;
  /** Settings that were missing or invalid; logged once at cold start and shown by /status. */
  readonly problems: readonly ConfigProblem[];
}

/** Speech-to-text of voice messages, audio files and video notes: an OpenAI-compatible transcription endpoint. */
export interface VoiceSettings {
  /** Its full URL (TRANSCRIPTION_URL); on OLLAMA_URL's origin with X-API-Key and OLLAMA_CA_CERT (see deps.ts). @default - none: voice is off */
  readonly transcriptionUrl: string | undefined;
  /** The `model` sent, passed as-is (TRANSCRIPTION_MODEL; whisper.cpp ignores it). @default "whisper-1" (OpenAI's) */
  readonly model: string;
  /** Sent as `Authorization: Bearer` (TRANSCRIPTION_API_KEY). @default - no header */
  readonly apiKey: string | undefined;
  /** The `language` sent, ISO-639-1 such as "en" (TRANSCRIPTION_LANGUAGE). @default - none: the server detects it */
  readonly language: string | undefined;
  /** Longest recording transcribed, by Telegram's `duration`, in seconds (VOICE_MAX_SECONDS). @default 300 */
  readonly maxSeconds: number;
}

/** The environment shape {@link loadConfig} reads (process.env or any plain object). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Defaults of the settings that are not in config/defaults.ts. */
export const CONFIG_DEFAULTS = Object.freeze({
  telegramApiUrl: "https://api.telegram.org",
  telegramTimeoutMs: 10_000,
  telegramMaxRetryWaitMs: 5_000,
  ollamaStatusTimeoutMs: 3_000,
  region: "us-east-1",
  contextCharBudget: 12_000,
  contextMaxMessages: 50,
  maxImportBytes: 1024 * 1024,
  maxPhotoBytes: 5 * 1024 * 1024,
  maxDocumentBytes: 5 * 1024 * 1024,
  updateMarkTtlDays: 7,
  showModelSpeed: false,
  transcriptionModel: "whisper-1",
  voiceMaxSeconds: 300,
  logLevel: "INFO" as LogLevel,
});

const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR"];
/** Deployment environments the stack sets in ENVIRONMENT. */
const ENVIRONMENTS: readonly string[] = ["dev", "staging", "prod"];

function trimmed(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

function validUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** A setting's invalid value as a problem quotes it: short, since /status shows it in a chat. Pure. */
export function quoted(raw: string): string {
  const chars = [...raw]; // code points: a cut never splits an emoji
  return JSON.stringify(chars.length > 32 ? `${chars.slice(0, 32).join("")}…` : raw);
}

/**
 * Reads the handler's settings from an environment object. Never throws: a missing or
 * invalid setting falls back to its default (or to "not configured") and is listed in
 * `problems`, naming the variable, so the bot still answers and /status can say what is wrong.
 */
export function loadConfig(env: Env): BotConfig {
  const problems: ConfigProblem[] = [];
  const problem = (variable: string, message: string) => problems.push({ variable, message });

  const { positiveInt, flag, url } = envReader(env, problem);

  const telegramToken = trimmed(env, FUNCTION_ENV.telegramToken) ?? "";
  if (!telegramToken) problem(FUNCTION_ENV.telegramToken, "TELEGRAM_TOKEN is not set; the bot cannot reply");
  const telegramSecretToken = trimmed(env, FUNCTION_ENV.telegramSecretToken);
  const inLambda = trimmed(env, FUNCTION_ENV.lambdaFunctionName) !== undefined;
  if (inLambda && telegramSecretToken === undefined) {
    problem(FUNCTION_ENV.telegramSecretToken, "TELEGRAM_SECRET_TOKEN is not set: every webhook request is refused (401) until it is");
  }

  const models = readModels(env, problem);
  const allowedUserIds = readAllowedUserIds(env, problem);
  const logLevel = readLogLevel(env, problem);

  const s3ForcePathStyle = flag(FUNCTION_ENV.s3ForcePathStyle, false);
  const showModelSpeed = flag(FUNCTION_ENV.showModelSpeed, CONFIG_DEFAULTS.showModelSpeed);

  const defaultSystemPrompt = readDefaultSystemPrompt(env, problem);
  const environment = trimmed(env, FUNCTION_ENV.environment);
  if (environment !== undefined && !ENVIRONMENTS.includes(environment)) {
    problem(FUNCTION_ENV.environment, `ENVIRONMENT must be one of ${ENVIRONMENTS.join(", ")}, got ${quoted(environment)}`);
  }

  const bucketName = trimmed(env, FUNCTION_ENV.bucketName) ?? "";
  if (!bucketName) problem(FUNCTION_ENV.bucketName, "S3_BUCKET_NAME is not set; archives are unavailable");
  const genericEndpoint = trimmed(env, "AWS_ENDPOINT_URL");
  const config: BotConfig = {
    telegramToken,
    telegramSecretToken,
    inLambda,
    telegramApiUrl: url(FUNCTION_ENV.telegramApiUrl, CONFIG_DEFAULTS.telegramApiUrl, false),
    telegramTimeoutMs: positiveInt(FUNCTION_ENV.telegramTimeoutMs, CONFIG_DEFAULTS.telegramTimeoutMs),
    telegramMaxRetryWaitMs: CONFIG_DEFAULTS.telegramMaxRetryWaitMs,
    tableName: trimmed(env, FUNCTION_ENV.tableName) ?? DEFAULT_TABLE_NAME,
    bucketName,
    ollamaUrl: url(FUNCTION_ENV.ollamaUrl, "", true),
    ollamaApiKey: trimmed(env, FUNCTION_ENV.ollamaApiKey),
    ollamaCaCert: readOllamaCaCert(env, problem),
    models: Object.freeze(models),
    modelNames: Object.freeze(models.map((m) => m.name)),
    openaiApiKey: trimmed(env, FUNCTION_ENV.openaiApiKey),
    bedrockEndpoint: trimmed(env, FUNCTION_ENV.bedrockEndpoint),
    ollamaTimeoutMs: positiveInt(FUNCTION_ENV.ollamaTimeoutMs, SYNC_OLLAMA_TIMEOUT_MS),
    ollamaStatusTimeoutMs: CONFIG_DEFAULTS.ollamaStatusTimeoutMs,
    allowedUserIds: allowedUserIds ? Object.freeze(allowedUserIds) : undefined,
    logLevel,
    region: trimmed(env, "AWS_REGION") ?? trimmed(env, "AWS_DEFAULT_REGION") ?? CONFIG_DEFAULTS.region,
    dynamodbEndpoint: trimmed(env, "AWS_ENDPOINT_URL_DYNAMODB") ?? genericEndpoint,
    s3Endpoint: trimmed(env, "AWS_ENDPOINT_URL_S3") ?? genericEndpoint,
    sqsEndpoint: trimmed(env, "AWS_ENDPOINT_URL_SQS") ?? genericEndpoint,
    updateQueueUrl: trimmed(env, FUNCTION_ENV.updateQueueUrl),
    s3ForcePathStyle,
    contextCharBudget: positiveInt(FUNCTION_ENV.contextCharBudget, CONFIG_DEFAULTS.contextCharBudget, 100),
    contextMaxMessages: positiveInt(FUNCTION_ENV.contextMaxMessages, CONFIG_DEFAULTS.contextMaxMessages),
    maxImportBytes: CONFIG_DEFAULTS.maxImportBytes,
    maxPhotoBytes: readGetFileLimit(FUNCTION_ENV.maxPhotoBytes, CONFIG_DEFAULTS.maxPhotoBytes, positiveInt, problem),
    maxDocumentBytes: readGetFileLimit(FUNCTION_ENV.maxDocumentBytes, CONFIG_DEFAULTS.maxDocumentBytes, positiveInt, problem),
    userLimits: Object.freeze({
      messagesPerHour: positiveInt(FUNCTION_ENV.messagesPerHour, USER_LIMIT_DEFAULTS.messagesPerHour, 0),
      messagesPerDay: positiveInt(FUNCTION_ENV.messagesPerDay, USER_LIMIT_DEFAULTS.messagesPerDay, 0),
      importsPerDay: positiveInt(FUNCTION_ENV.importsPerDay, USER_LIMIT_DEFAULTS.importsPerDay, 0),
    }),
    tokenBudgets: Object.freeze({
      userTokensPerDay: positiveInt(FUNCTION_ENV.userTokensPerDay, TOKEN_BUDGET_DEFAULTS.userTokensPerDay, 0),
      botTokensPerDay: positiveInt(FUNCTION_ENV.botTokensPerDay, TOKEN_BUDGET_DEFAULTS.botTokensPerDay, 0),
    }),
    metricsNamespace: readMetricsNamespace(env, problem),
    updateMarkTtlDays: CONFIG_DEFAULTS.updateMarkTtlDays,
    voice: readVoiceSettings(env, problem),
    showModelSpeed,
    defaultSystemPrompt,
    environment,
    problems: Object.freeze(problems),
  };
  return Object.freeze(config);
}

type Problem = (variable: string, message: string) => void;

/** Typed readers of single variables; each reports a bad value as a problem and falls back. */
function envReader(env: Env, problem: Problem) {
  const positiveInt = (name: string, fallback: number, min = 1): number => {
    const raw = trimmed(env, name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min) {
      problem(name, `${name} must be a whole number >= ${min}, got ${quoted(raw)}; using ${fallback}`);
      return fallback;
    }
    return Number(raw);
  };

  const flag = (name: string, fallback: boolean): boolean => {
    const raw = trimmed(env, name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (["true", "1", "yes"].includes(raw)) return true;
    if (["false", "0", "no"].includes(raw)) return false;
    problem(name, `${name} must be true or false, got ${quoted(raw)}`);
    return fallback;
  };

  const url = (name: string, fallback: string, required: boolean): string => {
    const raw = trimmed(env, name);
    if (raw === undefined) {
      if (required) problem(name, `${name} is not set`);
      return fallback;
    }
    if (!validUrl(raw)) {
      // The value is not repeated: a URL can carry credentials (https://user:password@host).
      problem(name, `${name} must be an http(s) URL such as https://host:port (the value given is not shown)`);
      return fallback;
    }
    return withoutTrailingSlash(raw);
  };
  return { positiveInt, flag, url };
}

/**
 * MODELS (a JSON list of config/models.ts entries; a bad entry is left out and reported by its
 * field), else OLLAMA_MODELS (a comma-separated list of Ollama models), else the defaults.
 */
function readModels(env: Env, problem: Problem): ModelEntry[] {
  const json = trimmed(env, FUNCTION_ENV.models);
  if (json !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(json);
    } catch {
      raw = undefined;
    }
    const list = readModelList(raw, FUNCTION_ENV.models);
    for (const p of list.problems) problem(FUNCTION_ENV.models, `${p.field} ${p.message}`);
    if (list.entries.length > 0) return [...list.entries];
  }
  const names = (trimmed(env, FUNCTION_ENV.ollamaModels) ?? "")
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m.length > 0);
  return readModelList(names.length > 0 ? [...new Set(names)] : [...DEFAULT_OLLAMA_MODELS]).entries.slice();
}

/** ALLOWED_USER_IDS: undefined when unset (everyone may chat). */
function readAllowedUserIds(env: Env, problem: Problem): number[] | undefined {
  const allowedRaw = trimmed(env, FUNCTION_ENV.allowedUserIds);
  if (allowedRaw === undefined) return undefined;
  const parts = allowedRaw.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
  const bad = parts.filter((p) => !/^-?\d+$/.test(p));
  if (bad.length > 0) {
    problem(FUNCTION_ENV.allowedUserIds, `ALLOWED_USER_IDS must be comma-separated numeric user ids; ignored: ${bad.join(", ")}`);
  }
  // A list that was set but is entirely invalid must not open the bot to everyone: it stays [].
  return parts.filter((p) => /^-?\d+$/.test(p)).map(Number);
}

/** DEFAULT_SYSTEM_PROMPT: "" when unset; a prompt over SYSTEM_PROMPT_MAX_CHARS is not used (a problem says so). */
function readDefaultSystemPrompt(env: Env, problem: Problem): string {
  const prompt = trimmed(env, FUNCTION_ENV.defaultSystemPrompt) ?? "";
  if (prompt.length <= SYSTEM_PROMPT_MAX_CHARS) return prompt;
  problem(
    "DEFAULT_SYSTEM_PROMPT",
    `DEFAULT_SYSTEM_PROMPT has ${prompt.length} characters, more than the ${SYSTEM_PROMPT_MAX_CHARS} allowed; no default system prompt is used`,
  );
  return "";
}

/** OLLAMA_CA_CERT: a PEM certificate, or undefined (reported when it is something else). */
function readOllamaCaCert(env: Env, problem: Problem): string | undefined {
  const pem = trimmed(env, FUNCTION_ENV.ollamaCaCert);
  if (pem === undefined) return undefined;
  if (!/^-----BEGIN CERTIFICATE-----\r?\n[\s\S]+\r?\n-----END CERTIFICATE-----$/.test(pem)) {
    problem(FUNCTION_ENV.ollamaCaCert, "OLLAMA_CA_CERT is not a PEM certificate; the AI server's certificate cannot be checked, so calls to it will fail");
    return pem;
  }
  const url = trimmed(env, FUNCTION_ENV.ollamaUrl);
  if (url !== undefined && !url.startsWith("https://")) {
    problem(FUNCTION_ENV.ollamaCaCert, "OLLAMA_CA_CERT is set but OLLAMA_URL is not https://; the connection to the AI server is not encrypted");
  }
  return pem;
}

/** TRANSCRIPTION_* and VOICE_MAX_SECONDS (a bad URL or language is reported and not used). */
function readVoiceSettings(env: Env, problem: Problem): VoiceSettings {
  const { positiveInt, url } = envReader(env, problem);
  const language = trimmed(env, FUNCTION_ENV.transcriptionLanguage)?.toLowerCase();
  const languageOk = language === undefined || /^[a-z]{2,3}$/.test(language);
  if (!languageOk) problem(FUNCTION_ENV.transcriptionLanguage, `TRANSCRIPTION_LANGUAGE must be a language code such as en or de, got ${quoted(language)}; the server detects the language`);
  return Object.freeze({
    transcriptionUrl: url(FUNCTION_ENV.transcriptionUrl, "", false) || undefined,
    model: trimmed(env, FUNCTION_ENV.transcriptionModel) ?? CONFIG_DEFAULTS.transcriptionModel,
    apiKey: trimmed(env, FUNCTION_ENV.transcriptionApiKey),
    language: languageOk ? language : undefined,
    maxSeconds: positiveInt(FUNCTION_ENV.voiceMaxSeconds, CONFIG_DEFAULTS.voiceMaxSeconds),
  });
}

/** A byte limit of downloads (PHOTO_MAX_BYTES, DOCUMENT_MAX_BYTES), at most Telegram's getFile limit (a larger value is reported and lowered to it). */
function readGetFileLimit(variable: string, fallback: number, positiveInt: (name: string, fallback: number, min?: number) => number, problem: Problem): number {
  const bytes = positiveInt(variable, fallback, 1024);
  if (bytes <= TELEGRAM_GET_FILE_LIMIT_BYTES) return bytes;
  problem(variable, `${variable} may be at most ${TELEGRAM_GET_FILE_LIMIT_BYTES} (Telegram's getFile limit), got ${bytes}; using that`);
  return TELEGRAM_GET_FILE_LIMIT_BYTES;
}

/** METRICS_NAMESPACE, or the default (a bad one is reported and not used). */
function readMetricsNamespace(env: Env, problem: Problem): string {
  const raw = trimmed(env, FUNCTION_ENV.metricsNamespace);
  if (raw === undefined || METRICS_NAMESPACE_PATTERN.test(raw)) return raw ?? DEFAULT_METRICS_NAMESPACE;
  problem(FUNCTION_ENV.metricsNamespace, `METRICS_NAMESPACE must be 1 to 255 of A-Z a-z 0-9 . _ # : / - and not start with AWS/, got ${quoted(raw)}; using ${DEFAULT_METRICS_NAMESPACE}`);
  return DEFAULT_METRICS_NAMESPACE;
}

/** LOG_LEVEL, accepting WARN for WARNING. */
function readLogLevel(env: Env, problem: Problem): LogLevel {
  const levelRaw = trimmed(env, FUNCTION_ENV.logLevel)?.toUpperCase();
  if (levelRaw === undefined) return CONFIG_DEFAULTS.logLevel;
  const normalised = levelRaw === "WARN" ? "WARNING" : levelRaw;
  if ((LOG_LEVELS as readonly string[]).includes(normalised)) return normalised as LogLevel;
  problem(FUNCTION_ENV.logLevel, `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got ${quoted(levelRaw)}`);
  return CONFIG_DEFAULTS.logLevel;
}

/**
 * A config for tests and local mode: the defaults of {@link loadConfig} with explicit values
 * laid over them, frozen. `problems` is empty unless the overrides give some (the caller
 * chose every value on purpose).
 */
export function configWith(overrides: Partial<BotConfig>, env: Env = {}): BotConfig {
  return Object.freeze({ ...loadConfig(env), problems: [], ...overrides, ...modelsOf(overrides) });
}

/** `models` and `modelNames` kept in step when an override gives only one: names alone are Ollama models. */
function modelsOf(overrides: Partial<BotConfig>): Pick<BotConfig, "models" | "modelNames"> | Record<string, never> {
  if (overrides.models) return { models: overrides.models, modelNames: overrides.models.map((m) => m.name) };
  if (overrides.modelNames) return { modelNames: overrides.modelNames, models: readModelList([...overrides.modelNames]).entries };
  return {};
}
