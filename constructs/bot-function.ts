import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { AssetType, Op, TerraformAsset, Token } from "cdktf";
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { SYNC_OLLAMA_TIMEOUT_MS, type TokenBudgets, type UserLimits } from "../config/defaults";
import { FUNCTION_ENV, ollamaTimeoutMsFor } from "../config/function-env";
import { DEFAULT_METRICS_NAMESPACE, METRICS_NAMESPACE_PATTERN } from "../config/metrics";
import { modelsVariable, ollamaModelIds, readModelList, usesProvider, type ModelEntry } from "../config/models";
import { PATTERNS, QUEUE_LAMBDA_TIMEOUT_SECONDS, QUEUE_REPLY_MARGIN_SECONDS, lambdaTimeoutBounds, type DeliveryMode } from "../config/stack-config";
import type { ArchiveBucket } from "./archive-bucket";
import { assertEnvironmentFits, environmentFitsPrecondition } from "./function-environment-size";
import { ServiceRole } from "./service-role";
import type { SessionsTable } from "./sessions-table";
import { integerRule, isToken, oneOfRule, patternRule, validateProps, type PropRule } from "./validation";

/** Where `npm run build` (tsup) writes the handler bundle. */
export const DEFAULT_BUNDLE_DIR = resolve(__dirname, "..", "dist", "handler");

/** Per-user limits and token budgets the handler enforces (0: none), declared in config/defaults.ts. */
export type { TokenBudgets, UserLimits };

/** Props of {@link BotFunction}. */
export interface BotFunctionProps {
  /** Function name; the log group is /aws/lambda/<name>. @default "telegram-bot" */
  readonly functionName?: string;
  /** Directory holding the tsup bundle (index.js); zipped at synth. @default DEFAULT_BUNDLE_DIR (dist/handler) */
  readonly bundleDir?: string;
  /** Lambda runtime. @default "nodejs24.x" */
  readonly runtime?: string;
  /** Memory in MB (a number or a Terraform variable). @default 256 */
  readonly memorySize?: number;
  /** Timeout in seconds (a number or a Terraform variable). @default 120 in queue mode, 30 in sync mode */
  readonly timeoutSeconds?: number;
  /** How updates reach the function (sizes the Ollama timeout). @default "queue" */
  readonly deliveryMode?: DeliveryMode;
  /** Reserved concurrency: a hard ceiling on instances running at once. @default - unreserved */
  readonly reservedConcurrency?: number;
  /** Log retention in days (a number or a Terraform variable). @default 14 */
  readonly logRetentionDays?: number;
  readonly table: SessionsTable;
  readonly bucket: ArchiveBucket;
  /**
   * The model list (MODELS, config/models.ts), in order; a string is an Ollama model, as in
   * chatbot.config.json. The OLLAMA_* variables are set only when an entry uses Ollama.
   */
  readonly models: readonly (string | ModelEntry)[];
  /** Base URL of the Ollama proxy, e.g. https://<elastic ip>:11434. Required when an entry uses Ollama. @default - none */
  readonly ollamaUrl?: string;
  /** PEM of the proxy's certificate, the only CA the function trusts for it (OLLAMA_CA_CERT). @default - the system CAs */
  readonly ollamaCaCert?: string;
  /** Terraform reference to the Ollama API key. Required when an entry uses Ollama. @default - none */
  readonly ollamaApiKey?: string;
  /**
   * The speech-to-text endpoint (TRANSCRIPTION_URL), e.g. the Ollama instance's
   * https://<elastic ip>:11434/v1/audio/transcriptions (on OLLAMA_URL's origin the handler sends
   * the Ollama key and pins OLLAMA_CA_CERT). @default - none: the handler answers voice messages saying voice is off
   */
  readonly transcriptionUrl?: string;
  /** The `model` sent with each recording (TRANSCRIPTION_MODEL), set with transcriptionUrl only. @default - the handler's default */
  readonly transcriptionModel?: string;
  /**
   * Terraform reference to the key of the OpenAI-compatible servers (OPENAI_API_KEY), set only
   * when an entry uses provider openai. @default - no key (servers that need none)
   */
  readonly openaiApiKey?: string;
  /** Terraform reference to the bot token (a sensitive variable). */
  readonly telegramToken: string;
  /** Terraform reference to the webhook secret token. */
  readonly webhookSecret: string;
  /** Comma-separated Telegram user ids allowed to talk to the bot. @default "" (everyone) */
  readonly allowedUserIds?: string;
  /** Per-user limits. @default - the handler's defaults */
  readonly userLimits?: UserLimits;
  /** Token budgets per day of a user and of the bot (USER_TOKENS_PER_DAY, BOT_TOKENS_PER_DAY). @default - the handler's defaults (none) */
  readonly tokenBudgets?: TokenBudgets;
  /** Namespace of the handler's metrics (METRICS_NAMESPACE). @default DEFAULT_METRICS_NAMESPACE ("ai-chatbot") */
  readonly metricsNamespace?: string;
  /** System prompt of sessions without their own (DEFAULT_SYSTEM_PROMPT). @default "" (none) */
  readonly defaultSystemPrompt?: string;
  /** LOG_LEVEL. @default "INFO" */
  readonly logLevel?: string;
  /** ENVIRONMENT (dev, staging, prod; may be a Terraform variable). @default "dev" */
  readonly environment?: string;
  /** An existing execution role (AWS Academy's LabRole). @default - a least-privilege role is created */
  readonly labRoleArn?: string;
}

/**
 * The Lambda function that handles Telegram updates: the tsup bundle of handler/ zipped by a
 * TerraformAsset at synth (its hash redeploys a changed handler), its log group and its
 * execution role (least privilege unless a lab role is given). The bundle is exposed so the
 * webhook's authorizer (queue mode) runs the same code.
 */
export class BotFunction extends Construct {
  public readonly function: LambdaFunction;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly role: ServiceRole;
  /** The zipped bundle (the authorizer runs it too). */
  public readonly bundle: TerraformAsset;
  /** The timeout in seconds (a number or a Terraform reference). */
  public readonly timeoutSeconds: number;
  /** The function's name. */
  public readonly functionName: string;
  private env: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: BotFunctionProps) {
    super(scope, id);
    const functionName = props.functionName ?? "telegram-bot";
    const bundleDir = props.bundleDir ?? DEFAULT_BUNDLE_DIR;
    const deliveryMode = props.deliveryMode ?? "queue";
    const bounds = lambdaTimeoutBounds(deliveryMode);
    const timeout = props.timeoutSeconds ?? (deliveryMode === "sync" ? bounds.max : QUEUE_LAMBDA_TIMEOUT_SECONDS);
    const memorySize = props.memorySize ?? 256;
    const runtime = props.runtime ?? "nodejs24.x";
    const retention = props.logRetentionDays ?? 14;
    const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    const models = readModelList(props.models, "models");
    const rules: PropRule[] = [
      patternRule("functionName", functionName, /^[a-zA-Z0-9_-]{1,64}$/, "1 to 64 letters, digits, '-' and '_'"),
      oneOfRule("deliveryMode", deliveryMode, ["queue", "sync"]),
      patternRule("runtime", runtime, PATTERNS.runtime, "a node.js lambda runtime such as nodejs24.x"),
      integerRule("memorySize", memorySize, 128, 10240),
      integerRule(`timeoutSeconds (${deliveryMode} mode)`, timeout, bounds.min, bounds.max),
      integerRule("logRetentionDays", retention, 1, 3653),
      ...(props.reservedConcurrency === undefined ? [] : [integerRule("reservedConcurrency", props.reservedConcurrency, 1, 1000)]),
      ...modelRules(props, models),
      patternRule("metricsNamespace", metricsNamespace, METRICS_NAMESPACE_PATTERN, "a cloudwatch namespace (letters, digits, . _ - # : /), not starting with AWS/"),
      {
        setting: "bundleDir",
        value: bundleDir,
        ok: existsSync(join(bundleDir, "index.js")),
        allowed: "a directory holding index.js (run `npm run build` first)",
      },
    ];
    validateProps("bot function", rules);

    this.functionName = functionName;
    this.logGroup = new CloudwatchLogGroup(this, "LogGroup", {
      name: `/aws/lambda/${functionName}`,
      retentionInDays: retention,
    });

    this.role = new ServiceRole(this, "ExecutionRole", {
      roleName: `${functionName}-role`,
      servicePrincipal: "lambda.amazonaws.com",
      existingRoleArn: props.labRoleArn,
    });
    this.role.grant({
      sid: "WriteOwnLogs",
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [`${this.logGroup.arn}:*`],
    });
    props.table.grantReadWrite(this.role);
    props.bucket.grantReadWrite(this.role);

    this.timeoutSeconds = timeout;
    const bundle = new TerraformAsset(this, "Bundle", { path: bundleDir, type: AssetType.ARCHIVE });
    this.bundle = bundle;

    this.env = Object.freeze(functionEnvironment(props, models.entries, ollamaTimeoutMs(deliveryMode, timeout), metricsNamespace));

    assertEnvironmentFits(this.env);
    this.function = new LambdaFunction(this, "Function", {
      functionName,
      role: this.role.arn,
      runtime,
      handler: "index.handler",
      filename: bundle.path,
      sourceCodeHash: bundle.assetHash,
      memorySize,
      timeout,
      environment: { variables: { ...this.env } },
      reservedConcurrentExecutions: props.reservedConcurrency,
      lifecycle: { precondition: [environmentFitsPrecondition(this, () => this.env)] },
      dependsOn: [this.logGroup, ...(this.role.policy ? [this.role.policy] : [])],
    });
  }

  /** The environment the function gets, by variable name (values may be Terraform references). */
  public get environment(): Readonly<Record<string, string>> {
    return this.env;
  }

  /**
   * Adds a variable made after the function (the update queue's URL), checked against Lambda's
   * 4 KB with the rest, at synth for what is known and by the same precondition in plan.
   */
  public addEnvironment(name: string, value: string): void {
    this.env = Object.freeze({ ...this.env, [name]: value });
    assertEnvironmentFits(this.env);
    this.function.putEnvironment({ variables: { ...this.env } });
  }
}

/**
 * OLLAMA_TIMEOUT_MS for a delivery mode and function timeout: 22 s in sync mode (inside API
 * Gateway's 29 s); in queue mode the function timeout minus QUEUE_REPLY_MARGIN_SECONDS, so
 * the handler still has time to tell the user the model was too slow. Pure.
 */
export function ollamaTimeoutMs(mode: DeliveryMode, timeoutSeconds: number): string {
  if (mode === "sync") return String(SYNC_OLLAMA_TIMEOUT_MS);
  if (isToken(timeoutSeconds)) {
    // A deploy-time variable: the same formula as ollamaTimeoutMsFor, in Terraform.
    return Token.asString(Op.mul(Op.sub(timeoutSeconds, QUEUE_REPLY_MARGIN_SECONDS), 1000));
  }
  return String(ollamaTimeoutMsFor(mode, timeoutSeconds));
}

/** The rules on the model list and on what its providers need. */
function modelRules(props: BotFunctionProps, models: ReturnType<typeof readModelList>): PropRule[] {
  const ollama = usesProvider(models.entries, "ollama");
  const needed = "a value: an entry of models uses provider ollama";
  return [
    {
      setting: "models",
      value: props.models,
      ok: models.problems.length === 0,
      allowed: models.problems.length === 0 ? "" : models.problems.map((p) => `${p.field} ${p.message}`).join("; "),
    },
    { setting: "ollamaUrl", value: props.ollamaUrl, ok: !ollama || Boolean(props.ollamaUrl), allowed: needed },
    { setting: "ollamaApiKey", value: props.ollamaApiKey, ok: !ollama || Boolean(props.ollamaApiKey), allowed: needed },
  ];
}

/**
 * The function's environment: MODELS always, the OLLAMA_* variables only when an entry uses
 * Ollama (OLLAMA_TIMEOUT_MS always: it is every provider's model timeout), OPENAI_API_KEY only
 * when an entry uses an OpenAI-compatible server, TRANSCRIPTION_URL and TRANSCRIPTION_MODEL only
 * with a transcription endpoint. Pure.
 */
function functionEnvironment(props: BotFunctionProps, entries: readonly ModelEntry[], modelTimeoutMs: string, metricsNamespace: string): Record<string, string> {
  const ollama = usesProvider(entries, "ollama");
  const openai = usesProvider(entries, "openai");
  return {
    [FUNCTION_ENV.telegramToken]: props.telegramToken,
    [FUNCTION_ENV.telegramSecretToken]: props.webhookSecret,
    [FUNCTION_ENV.tableName]: props.table.tableName,
    [FUNCTION_ENV.bucketName]: props.bucket.bucketName,
    ...(ollama ? ollamaEnv(props, entries) : {}),
    ...(props.transcriptionUrl ? transcriptionEnv(props.transcriptionUrl, props.transcriptionModel) : {}),
    [FUNCTION_ENV.models]: modelsVariable(entries),
    ...(openai && props.openaiApiKey !== undefined ? { [FUNCTION_ENV.openaiApiKey]: props.openaiApiKey } : {}),
    [FUNCTION_ENV.ollamaTimeoutMs]: modelTimeoutMs,
    [FUNCTION_ENV.allowedUserIds]: props.allowedUserIds ?? "",
    ...(props.userLimits ? userLimitsEnv(props.userLimits) : {}),
    ...(props.tokenBudgets ? tokenBudgetsEnv(props.tokenBudgets) : {}),
    ...(props.defaultSystemPrompt ? { [FUNCTION_ENV.defaultSystemPrompt]: props.defaultSystemPrompt } : {}),
    [FUNCTION_ENV.logLevel]: props.logLevel ?? "INFO",
    [FUNCTION_ENV.environment]: props.environment ?? "dev",
    [FUNCTION_ENV.metricsNamespace]: metricsNamespace,
  };
}

/** The Ollama proxy's address, key, certificate and models (validated present by modelRules). Pure. */
function ollamaEnv(props: BotFunctionProps, entries: readonly ModelEntry[]): Record<string, string> {
  return {
    [FUNCTION_ENV.ollamaUrl]: props.ollamaUrl!,
    [FUNCTION_ENV.ollamaApiKey]: props.ollamaApiKey!,
    [FUNCTION_ENV.ollamaModels]: ollamaModelIds(entries).join(","),
    ...(props.ollamaCaCert ? { [FUNCTION_ENV.ollamaCaCert]: props.ollamaCaCert } : {}),
  };
}

/** The speech-to-text endpoint and the model named to it. Pure. */
function transcriptionEnv(url: string, model: string | undefined): Record<string, string> {
  return { [FUNCTION_ENV.transcriptionUrl]: url, ...(model ? { [FUNCTION_ENV.transcriptionModel]: model } : {}) };
}

/** The handler's environment variables of the token budgets. Pure. */
export function tokenBudgetsEnv(budgets: TokenBudgets): Record<string, string> {
  return {
    [FUNCTION_ENV.userTokensPerDay]: String(budgets.userTokensPerDay),
    [FUNCTION_ENV.botTokensPerDay]: String(budgets.botTokensPerDay),
  };
}

/** The handler's environment variables of the per-user limits. Pure. */
export function userLimitsEnv(limits: UserLimits): Record<string, string> {
  return {
    [FUNCTION_ENV.messagesPerHour]: String(limits.messagesPerHour),
    [FUNCTION_ENV.messagesPerDay]: String(limits.messagesPerDay),
    [FUNCTION_ENV.importsPerDay]: String(limits.importsPerDay),
  };
}
