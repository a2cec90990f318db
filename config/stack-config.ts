import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_OLLAMA_MODELS, DEFAULT_PROJECT_NAME, SYNC_OLLAMA_TIMEOUT_MS, TOKEN_BUDGET_DEFAULTS, USER_LIMIT_DEFAULTS } from "./defaults";
import { modelListFromEnv, OLLAMA_PULL_PATTERN, ollamaModelIds, readModelSetting, usesProvider, type ModelEntry, type ModelEntryInput } from "./models";
import { RELEASE_VERSION_PATTERN, validateReleases, type ReleaseSettings } from "./releases";
import { fail, integer, matching, oneOf, optional } from "./setting-checks";
import { DEFAULT_TABLE_NAME } from "./table-schema";

/**
 * The stack's configuration: every non-secret setting of the deployment, declared once.
 *
 * Read by the CDKTF app (main.ts) and by local mode (for the model list), so this file must
 * not import cdktf. Settings come from, in order of precedence: environment overrides, the
 * optional JSON file `chatbot.config.json` in the repository root, and the defaults below.
 * Secrets (bot token, Ollama API key, OpenAI-compatible key, webhook secret) are never part of
 * it: they are Terraform values at deploy time.
 */

/**
 * How a Telegram update reaches the function. `queue`: API Gateway puts it on an SQS FIFO queue
 * (one message group per chat) that the function consumes; `sync`: API Gateway invokes the
 * function and Telegram waits for the answer (the seed's design).
 */
export type DeliveryMode = "queue" | "sync";
/** Deployment environment; `prod` deploys to the `prod` stage, anything else to `dev`. */
export type EnvironmentName = "dev" | "staging" | "prod";
/** Log levels the handler understands (handler/config.ts). */
export type StackLogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";
/** How the S3 state backend locks the state. */
export type StateLocking = "dynamodb" | "lockfile" | "both";

/** Where Terraform keeps the state when remote state is switched on. */
export interface StateBackendConfig {
  /** State bucket, e.g. terraform-state-<account id> (backend-setup creates it). */
  readonly bucket: string;
  /** Object key of the state. @default "ai-chatbot/terraform.tfstate" */
  readonly key: string;
  /** Region of the state bucket. @default the stack's region */
  readonly region: string;
  /**
   * Locking: `dynamodb` (dynamodb_table, any Terraform >= 1.0, deprecated since 1.11),
   * `lockfile` (use_lockfile, Terraform >= 1.10) or `both` (while migrating). @default "dynamodb"
   */
  readonly locking: StateLocking;
  /** Lock table when locking uses DynamoDB. @default "terraform-locks" */
  readonly lockTable: string;
}

/**
 * The validated, frozen configuration of one deployment. What the Ollama instance downloads
 * (ollamaVersion, ollamaSha256, transcriptionModel, whisperVersion, whisperSha256, ffmpegVersion,
 * ffmpegSha256) is declared with its checks in config/releases.ts.
 */
export interface StackConfig extends ReleaseSettings {
  /** Value of the Project default tag and the stack's name. @default "ai-chatbot" */
  readonly projectName: string;
  /** AWS region of every resource. @default AWS_REGION, then AWS_DEFAULT_REGION, then "us-east-1" */
  readonly region: string;
  /** Default of the `environment` Terraform variable. @default "dev" */
  readonly environment: EnvironmentName;
  /** Delivery mode (shapes the API integration, so it is fixed at synth time). @default "queue" */
  readonly deliveryMode: DeliveryMode;
  /** The models offered, in order (config/models.ts); an Ollama instance only if one uses Ollama. @default DEFAULT_OLLAMA_MODELS */
  readonly models: readonly ModelEntry[];
  /** Derived, not a setting: the Ollama model ids of {@link models}, each once (the instance pulls them). */
  readonly ollamaModels: readonly string[];
  /** LabRole ARN on AWS Academy (no IAM role is created when set). @default - the stack creates least-privilege roles */
  readonly labRoleArn: string | undefined;
  /** Instance profile used with labRoleArn. @default "LabInstanceProfile" */
  readonly labInstanceProfileName: string;
  /** CIDR allowed to SSH to the Ollama instance. @default - no SSH rule at all */
  readonly sshAllowedCidr: string | undefined;
  /** Address that receives alarm e-mails through SNS. @default - no topic, alarms only change state */
  readonly alarmEmail: string | undefined;
  /** Default of the `allowed_user_ids` variable: comma-separated Telegram user ids. @default "" (everyone) */
  readonly allowedUserIds: string;
  /** Lambda function name; also names the log group, metric and alarm. @default "telegram-bot" */
  readonly functionName: string;
  /** Sessions table name. @default DEFAULT_TABLE_NAME ("chatbot-sessions") */
  readonly tableName: string;
  /** Archive bucket name prefix; the account id is appended. @default "chatbot-conversations" */
  readonly bucketNamePrefix: string;
  /** Lambda runtime. @default "nodejs24.x" */
  readonly lambdaRuntime: string;
  /** Default of `lambda_memory_size`, in MB. @default 256 */
  readonly lambdaMemorySize: number;
  /** Default of `lambda_timeout`, in seconds. @default 120 in queue mode, 30 in sync mode */
  readonly lambdaTimeoutSeconds: number;
  /** Default of `log_retention_days`. @default 14 */
  readonly logRetentionDays: number;
  /** LOG_LEVEL of the function. @default "INFO" */
  readonly logLevel: StackLogLevel;
  /** Default of `ollama_instance_type`. @default "t3.large" */
  readonly ollamaInstanceType: string;
  /** Root volume of the Ollama instance, in GiB (holds the OS and every model). @default 30 */
  readonly ollamaVolumeSizeGb: number;
  /** Generations Ollama runs at once (OLLAMA_NUM_PARALLEL on the instance). @default 2 */
  readonly ollamaNumParallel: number;
  /**
   * Queue mode: most function instances the queue's event source mapping runs at once
   * (ScalingConfig.MaximumConcurrency, at least 2); the rest of the updates wait in the queue.
   * Ollama's own queue (OLLAMA_MAX_QUEUE) is sized from it. With Ollama the instance's CPU is the
   * bound; without, the queue bounds a burst's cost. @default max(2, ollamaNumParallel) with Ollama, else 10
   */
  readonly queueMaxConcurrency: number;
  /**
   * Reserved concurrency of the bot function: a hard ceiling on instances running at once.
   * Unset by default because an account whose concurrency limit is 10 (new accounts, AWS
   * Academy) cannot reserve any. @default - unreserved (the account's pool)
   */
  readonly reservedConcurrency: number | undefined;
  /** API Gateway stage throttling: steady requests per second. @default 10 */
  readonly apiThrottleRateLimit: number;
  /** API Gateway stage throttling: burst of requests. @default 20 */
  readonly apiThrottleBurstLimit: number;
  /** Chat messages one user may send per UTC clock hour; 0 for no limit. @default 30 */
  readonly userMessagesPerHour: number;
  /** Chat messages one user may send per UTC day; 0 for no limit. @default 200 */
  readonly userMessagesPerDay: number;
  /** Archive imports one user may make per UTC day; 0 for no limit. @default 10 */
  readonly userImportsPerDay: number;
  /** Tokens (input plus output) one user may use per UTC day; 0 for no budget. @default 0 */
  readonly userTokensPerDay: number;
  /** Tokens the whole bot may use per UTC day (an alarm fires at 80%); 0 for no budget. @default 0 */
  readonly botTokensPerDay: number;
  /** System prompt of a session that has none of its own (/system); "" for none. @default "" */
  readonly defaultSystemPrompt: string;
  /** Remote state; set STATE_BUCKET (or stateBackend.bucket) to switch it on. @default - local state */
  readonly stateBackend: StateBackendConfig | undefined;
}

/** The configuration as a JSON file (or any caller) may give it: every setting optional, models as written. */
export type StackConfigInput = {
  readonly [K in Exclude<keyof StackConfig, "ollamaModels">]?: K extends "stateBackend" ? Partial<StateBackendConfig> : K extends "models" ? readonly ModelEntryInput[] : StackConfig[K];
};

/** Seconds the function keeps after the Ollama call in queue mode, to answer the user. */
export const QUEUE_REPLY_MARGIN_SECONDS = 15;
/** Function timeout of sync mode: API Gateway gives up after 29 s anyway. */
export const SYNC_LAMBDA_TIMEOUT_SECONDS = 30;
/** Default function timeout of queue mode. */
export const QUEUE_LAMBDA_TIMEOUT_SECONDS = 120;
/** AWS's guidance: a queue's visibility timeout at least six times its consumer's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Deliveries of one queued update before it moves to the dead-letter queue. */
export const QUEUE_MAX_RECEIVE_COUNT = 5;
/**
 * Records per queue batch. One: any record may need a whole Ollama timeout, so a batch's later
 * records would be handed back unstarted (the function's time is sized for one answer), wait a
 * visibility timeout and count a receive toward the dead-letter queue (the burst benchmark lost
 * 18 of 100 answers that way with batches of 10). Parallelism comes from MaximumConcurrency.
 */
export const QUEUE_BATCH_SIZE = 1;
/** Default queueMaxConcurrency when no entry uses Ollama: the queue bounds what a burst costs. */
export const QUEUE_MAX_CONCURRENCY_WITHOUT_OLLAMA = 10;
/** Largest token budget per day (a user's or the bot's). */
export const MAX_TOKENS_PER_DAY = 1_000_000_000_000;
/** Longest system prompt, in characters (it is sent with every request). */
export const SYSTEM_PROMPT_MAX_CHARS = 4000;

/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS: readonly number[] = /* @__PURE__ */ Object.freeze([
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]);

/** Defaults of every setting that does not depend on another one. */
export const STACK_DEFAULTS = /* @__PURE__ */ Object.freeze({
  projectName: DEFAULT_PROJECT_NAME,
  region: "us-east-1",
  environment: "dev" as EnvironmentName,
  deliveryMode: "queue" as DeliveryMode,
  labInstanceProfileName: "LabInstanceProfile",
  allowedUserIds: "",
  functionName: "telegram-bot",
  tableName: DEFAULT_TABLE_NAME,
  bucketNamePrefix: "chatbot-conversations",
  lambdaRuntime: "nodejs24.x",
  lambdaMemorySize: 256,
  logRetentionDays: 14,
  logLevel: "INFO" as StackLogLevel,
  ollamaInstanceType: "t3.large",
  ollamaVolumeSizeGb: 30,
  ollamaNumParallel: 2,
  apiThrottleRateLimit: 10,
  apiThrottleBurstLimit: 20,
  userMessagesPerHour: USER_LIMIT_DEFAULTS.messagesPerHour,
  userMessagesPerDay: USER_LIMIT_DEFAULTS.messagesPerDay,
  userImportsPerDay: USER_LIMIT_DEFAULTS.importsPerDay,
  userTokensPerDay: TOKEN_BUDGET_DEFAULTS.userTokensPerDay,
  botTokensPerDay: TOKEN_BUDGET_DEFAULTS.botTokensPerDay,
  defaultSystemPrompt: "",
  stateKey: "ai-chatbot/terraform.tfstate",
  stateLocking: "dynamodb" as StateLocking,
  stateLockTable: "terraform-locks",
});

/** Name of the optional configuration file in the repository root. */
export const CONFIG_FILE_NAME = "chatbot.config.json";
/** Default path of the configuration file (the repository root, whatever the working directory). */
export const DEFAULT_CONFIG_FILE = /* @__PURE__ */ resolve(__dirname, "..", CONFIG_FILE_NAME);

/** Regular expressions the settings must match; shared with the Terraform variable validations. */
export const PATTERNS = /* @__PURE__ */ Object.freeze({
  /** The seed's validation of lab_role_arn. */
  labRoleArn: /^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/,
  /** An Ollama model reference: name[:tag], optionally namespaced. Safe inside a shell script. */
  model: OLLAMA_PULL_PATTERN,
  /** An Ollama release number, as its GitHub tag has it after the "v". */
  ollamaVersion: RELEASE_VERSION_PATTERN,
  cidr: /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/,
  email: /^[^\s@"'`$\\]+@[^\s@"'`$\\]+\.[^\s@"'`$\\]+$/,
  allowedUserIds: /^(-?\d+(,-?\d+)*)?$/,
  instanceType: /^[a-z][a-z0-9-]*\.[a-z0-9]+$/,
  region: /^[a-z]{2}(-[a-z]+)+-\d$/,
  name: /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/,
  bucketPrefix: /^[a-z0-9][a-z0-9.-]{1,48}$/,
  runtime: /^nodejs\d+\.x$/,
  stateKey: /^[^/\s][^\s]*$/,
});

function validCidr(value: string): boolean {
  const m = PATTERNS.cidr.exec(value);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  return octets.every((o) => o <= 255) && bits <= 32;
}

/** Lambda timeout bounds per delivery mode, in seconds. */
export function lambdaTimeoutBounds(mode: DeliveryMode): { readonly min: number; readonly max: number } {
  return mode === "sync"
    ? // The Ollama call alone may take SYNC_OLLAMA_TIMEOUT_MS; the function needs a few seconds more to answer.
      { min: Math.ceil(SYNC_OLLAMA_TIMEOUT_MS / 1000) + 3, max: SYNC_LAMBDA_TIMEOUT_SECONDS }
    : { min: QUEUE_REPLY_MARGIN_SECONDS + 15, max: 900 };
}

/** The remote-state settings, or undefined when no bucket is named (local state). */
function validateStateBackend(backend: StackConfigInput["stateBackend"], region: string): StateBackendConfig | undefined {
  if (backend === undefined || backend === null || !backend.bucket) return undefined;
  return Object.freeze({
    bucket: matching("stateBackend.bucket", backend.bucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an s3 bucket name"),
    key: matching("stateBackend.key", backend.key ?? STACK_DEFAULTS.stateKey, PATTERNS.stateKey, "an object key without spaces or a leading slash"),
    region: matching("stateBackend.region", backend.region ?? region, PATTERNS.region, "an aws region such as us-east-1"),
    locking: oneOf<StateLocking>("stateBackend.locking", backend.locking ?? STACK_DEFAULTS.stateLocking, ["dynamodb", "lockfile", "both"]),
    lockTable: matching("stateBackend.lockTable", backend.lockTable ?? STACK_DEFAULTS.stateLockTable, PATTERNS.name, "a dynamodb table name"),
  });
}

/** The model list (config/models.ts); every problem of every entry named by its field, in one message. */
function validateModels(raw: unknown): readonly ModelEntry[] {
  const { entries, messages } = readModelSetting(raw, "models");
  if (messages.length > 0) throw new Error(messages.join("; "));
  return entries;
}

/**
 * Validates a configuration and fills in the defaults. Pure: no file, no environment.
 * Throws an Error whose lowercase message names the setting, the value received and what is allowed.
 */
export function validateStackConfig(input: StackConfigInput): StackConfig {
  const known = new Set<string>([
    "projectName", "region", "environment", "deliveryMode", "models", "labRoleArn", "labInstanceProfileName",
    "sshAllowedCidr", "alarmEmail", "allowedUserIds", "functionName", "tableName", "bucketNamePrefix",
    "lambdaRuntime", "lambdaMemorySize", "lambdaTimeoutSeconds", "logRetentionDays", "logLevel",
    "ollamaInstanceType", "ollamaVolumeSizeGb", "ollamaNumParallel", "queueMaxConcurrency", "reservedConcurrency",
    "apiThrottleRateLimit", "apiThrottleBurstLimit", "userMessagesPerHour", "userMessagesPerDay", "userImportsPerDay",
    "userTokensPerDay", "botTokensPerDay", "defaultSystemPrompt", "stateBackend", "ollamaVersion", "ollamaSha256",
    "transcriptionModel", "whisperVersion", "whisperSha256", "ffmpegVersion", "ffmpegSha256",
  ]);
  for (const key of Object.keys(input)) if (!known.has(key)) fail("setting name", key, [...known].join(", "));
  // The async mode of earlier versions is gone: say what replaced it.
  if ((input.deliveryMode as string) === "async") fail("deliveryMode", "async", "queue, sync (async was replaced by queue: see CHANGELOG.md)");
  const deliveryMode = oneOf<DeliveryMode>("deliveryMode", input.deliveryMode ?? STACK_DEFAULTS.deliveryMode, ["queue", "sync"]);
  const region = matching("region", input.region ?? STACK_DEFAULTS.region, PATTERNS.region, "an aws region such as us-east-1");

  const models = validateModels(input.models ?? DEFAULT_OLLAMA_MODELS);
  const bounds = lambdaTimeoutBounds(deliveryMode);
  const defaultTimeout = deliveryMode === "sync" ? SYNC_LAMBDA_TIMEOUT_SECONDS : QUEUE_LAMBDA_TIMEOUT_SECONDS;
  const ollamaNumParallel = integer("ollamaNumParallel", input.ollamaNumParallel ?? STACK_DEFAULTS.ollamaNumParallel, 1, 32);
  const defaultConcurrency = usesProvider(models, "ollama") ? Math.max(2, ollamaNumParallel) : QUEUE_MAX_CONCURRENCY_WITHOUT_OLLAMA;
  const systemPrompt = input.defaultSystemPrompt ?? STACK_DEFAULTS.defaultSystemPrompt;
  if (typeof systemPrompt !== "string" || systemPrompt.length > SYSTEM_PROMPT_MAX_CHARS) {
    fail("defaultSystemPrompt", systemPrompt, `text of at most ${SYSTEM_PROMPT_MAX_CHARS} characters`);
  }

  const retention = input.logRetentionDays ?? STACK_DEFAULTS.logRetentionDays;
  if (!LOG_RETENTION_DAYS.includes(retention)) fail("logRetentionDays", retention, LOG_RETENTION_DAYS.join(", "));
  const stateBackend = validateStateBackend(input.stateBackend, region);

  return Object.freeze({
    projectName: matching("projectName", input.projectName ?? STACK_DEFAULTS.projectName, PATTERNS.name, "letters, digits, '.', '_' and '-'"),
    region,
    environment: oneOf<EnvironmentName>("environment", input.environment ?? STACK_DEFAULTS.environment, ["dev", "staging", "prod"]),
    deliveryMode,
    models,
    ollamaModels: Object.freeze(ollamaModelIds(models)),
    labRoleArn: optional(input.labRoleArn, (v) => matching("labRoleArn", v, PATTERNS.labRoleArn, "an iam role arn starting with arn:aws:iam::")),
    labInstanceProfileName: matching("labInstanceProfileName", input.labInstanceProfileName ?? STACK_DEFAULTS.labInstanceProfileName, PATTERNS.name, "an instance profile name"),
    sshAllowedCidr: optional(input.sshAllowedCidr, (v) => {
      if (typeof v !== "string" || !validCidr(v)) fail("sshAllowedCidr", v, "an ipv4 cidr such as 203.0.113.7/32");
      if (v.endsWith("/0")) fail("sshAllowedCidr", v, "a cidr narrower than /0 (leave it unset for no ssh)");
      return v;
    }),
    alarmEmail: optional(input.alarmEmail, (v) => matching("alarmEmail", v, PATTERNS.email, "an e-mail address")),
    allowedUserIds: matching("allowedUserIds", (input.allowedUserIds ?? STACK_DEFAULTS.allowedUserIds).replace(/\s+/g, ""), PATTERNS.allowedUserIds, "comma-separated numeric telegram user ids, or empty for everyone"),
    functionName: matching("functionName", input.functionName ?? STACK_DEFAULTS.functionName, /^[a-zA-Z0-9_-]{1,64}$/, "1 to 64 letters, digits, '-' and '_'"),
    tableName: matching("tableName", input.tableName ?? STACK_DEFAULTS.tableName, /^[a-zA-Z0-9_.-]{3,255}$/, "3 to 255 letters, digits, '.', '_' and '-'"),
    bucketNamePrefix: matching("bucketNamePrefix", input.bucketNamePrefix ?? STACK_DEFAULTS.bucketNamePrefix, PATTERNS.bucketPrefix, "lowercase letters, digits, '.' and '-', at most 49 characters"),
    lambdaRuntime: matching("lambdaRuntime", input.lambdaRuntime ?? STACK_DEFAULTS.lambdaRuntime, PATTERNS.runtime, "a node.js lambda runtime such as nodejs24.x"),
    lambdaMemorySize: integer("lambdaMemorySize", input.lambdaMemorySize ?? STACK_DEFAULTS.lambdaMemorySize, 128, 10240),
    lambdaTimeoutSeconds: integer(`lambdaTimeoutSeconds (${deliveryMode} mode)`, input.lambdaTimeoutSeconds ?? defaultTimeout, bounds.min, bounds.max),
    logRetentionDays: retention,
    logLevel: oneOf<StackLogLevel>("logLevel", input.logLevel ?? STACK_DEFAULTS.logLevel, ["DEBUG", "INFO", "WARNING", "ERROR"]),
    ollamaInstanceType: matching("ollamaInstanceType", input.ollamaInstanceType ?? STACK_DEFAULTS.ollamaInstanceType, PATTERNS.instanceType, "an ec2 instance type such as t3.large"),
    ollamaVolumeSizeGb: integer("ollamaVolumeSizeGb", input.ollamaVolumeSizeGb ?? STACK_DEFAULTS.ollamaVolumeSizeGb, 16, 1024),
    ollamaNumParallel,
    ...validateReleases(input),
    queueMaxConcurrency: integer("queueMaxConcurrency", input.queueMaxConcurrency ?? defaultConcurrency, 2, 1000),
    reservedConcurrency: optional(input.reservedConcurrency, (v) => integer("reservedConcurrency", v, 1, 1000)),
    apiThrottleRateLimit: integer("apiThrottleRateLimit", input.apiThrottleRateLimit ?? STACK_DEFAULTS.apiThrottleRateLimit, 1, 10_000),
    apiThrottleBurstLimit: integer("apiThrottleBurstLimit", input.apiThrottleBurstLimit ?? STACK_DEFAULTS.apiThrottleBurstLimit, 1, 5_000),
    userMessagesPerHour: integer("userMessagesPerHour", input.userMessagesPerHour ?? STACK_DEFAULTS.userMessagesPerHour, 0, 100_000),
    userMessagesPerDay: integer("userMessagesPerDay", input.userMessagesPerDay ?? STACK_DEFAULTS.userMessagesPerDay, 0, 1_000_000),
    userImportsPerDay: integer("userImportsPerDay", input.userImportsPerDay ?? STACK_DEFAULTS.userImportsPerDay, 0, 10_000),
    userTokensPerDay: integer("userTokensPerDay", input.userTokensPerDay ?? STACK_DEFAULTS.userTokensPerDay, 0, MAX_TOKENS_PER_DAY),
    botTokensPerDay: integer("botTokensPerDay", input.botTokensPerDay ?? STACK_DEFAULTS.botTokensPerDay, 0, MAX_TOKENS_PER_DAY),
    defaultSystemPrompt: systemPrompt,
    stateBackend,
  });
}

/**
 * Environment variables that override the file, and the setting each one sets (a dotted
 * path for nested settings). `fromEnv` is driven by this table, so it is the whole list.
 * `AWS_REGION` falls back to `AWS_DEFAULT_REGION`; `OLLAMA_MODELS` is comma-separated; `MODELS` is
 * the model list as JSON and wins over `OLLAMA_MODELS` (config/models.ts modelListFromEnv).
 */
export const ENV_OVERRIDES = /* @__PURE__ */ Object.freeze({
  AWS_REGION: "region",
  DELIVERY_MODE: "deliveryMode",
  OLLAMA_MODELS: "models",
  MODELS: "models",
  LAB_ROLE_ARN: "labRoleArn",
  SSH_ALLOWED_CIDR: "sshAllowedCidr",
  ALARM_EMAIL: "alarmEmail",
  STATE_BUCKET: "stateBackend.bucket",
  STATE_KEY: "stateBackend.key",
  STATE_REGION: "stateBackend.region",
  STATE_LOCKING: "stateBackend.locking",
  STATE_LOCK_TABLE: "stateBackend.lockTable",
} as const);

/** Variables read when the one named in ENV_OVERRIDES is unset. */
const ENV_FALLBACKS: Readonly<Partial<Record<keyof typeof ENV_OVERRIDES, string>>> = /* @__PURE__ */ Object.freeze({ AWS_REGION: "AWS_DEFAULT_REGION" });

function fromEnv(env: NodeJS.ProcessEnv): StackConfigInput {
  const get = (name: string | undefined): string | undefined => {
    const value = name === undefined ? undefined : env[name]?.trim();
    return value ? value : undefined;
  };
  const out: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(ENV_OVERRIDES) as [keyof typeof ENV_OVERRIDES, string][]) {
    const raw = get(name) ?? get(ENV_FALLBACKS[name]);
    if (raw === undefined) continue;
    const value = setting === "models" ? modelListFromEnv(name, raw) : raw;
    const path = setting.split(".");
    let target = out;
    for (const key of path.slice(0, -1)) {
      target[key] ??= {};
      target = target[key] as Record<string, unknown>;
    }
    target[path[path.length - 1]!] = value;
  }
  return out as StackConfigInput;
}

function readFile(file: string): StackConfigInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`invalid configuration file ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    fail(`configuration file ${file}`, parsed, "a json object of settings");
  }
  const { $schema: _schema, ...settings } = parsed as Record<string, unknown>;
  return settings as StackConfigInput;
}

/**
 * Loads the stack configuration: defaults, then the JSON file (when it exists), then the
 * environment overrides listed in {@link ENV_OVERRIDES}; then validates it.
 *
 * @param options.file configuration file. @default CHATBOT_CONFIG from env, else DEFAULT_CONFIG_FILE (optional)
 * @param options.env environment to read overrides from. @default process.env
 */
export function loadStackConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): StackConfig {
  const env = options.env ?? process.env;
  const explicit = options.file ?? env.CHATBOT_CONFIG?.trim();
  const file = explicit ? resolve(explicit) : DEFAULT_CONFIG_FILE;
  if (explicit && !existsSync(file)) fail("configuration file", explicit, "an existing json file");
  const fromFile = existsSync(file) ? readFile(file) : {};
  const overrides = fromEnv(env);
  const merged: StackConfigInput = {
    ...fromFile,
    ...overrides,
    stateBackend:
      fromFile.stateBackend || overrides.stateBackend ? { ...fromFile.stateBackend, ...overrides.stateBackend } : undefined,
  };
  return validateStackConfig(merged);
}
