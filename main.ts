import { Annotations, App, Fn, Op, TerraformOutput, TerraformStack, TerraformVariable, Token } from "cdktf";
import type { Construct } from "constructs";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Password } from "@cdktf/provider-random/lib/password";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { TlsProvider } from "@cdktf/provider-tls/lib/provider";
import { LOG_RETENTION_DAYS, lambdaTimeoutBounds, loadStackConfig, type StackConfig } from "./config/stack-config";
import { FUNCTION_ENV } from "./config/function-env";
import { METRICS_NAMESPACE_OUTPUT, metricsNamespaceFor } from "./config/metrics";
import { MODEL_PROVIDERS_OUTPUT, providersOf, usesProvider } from "./config/models";
import { missingTranscriptionPins } from "./config/releases";
import { ArchiveBucket } from "./constructs/archive-bucket";
import { BedrockAccess } from "./constructs/bedrock-access";
import { BotFunction } from "./constructs/bot-function";
import { Dashboard } from "./constructs/dashboard";
import { Monitoring } from "./constructs/monitoring";
import { OllamaServer } from "./constructs/ollama-server";
import { SessionsTable } from "./constructs/sessions-table";
import { StateBackend } from "./constructs/state-backend";
import { UpdateQueue } from "./constructs/update-queue";
import { WebhookApi } from "./constructs/webhook-api";
import { WebhookAuthorizer } from "./constructs/webhook-authorizer";

/** Said at synth when the Ollama download is checked only against its release's own sha256sum.txt. */
export function unpinnedOllamaWarning(version: string): string {
  return (
    `ollamaSha256 is empty: the instance checks Ollama v${version} only against the sha256sum.txt published with it. ` +
    "Pin it: set ollamaSha256 in chatbot.config.json to the archive's line of that file (see README → Security)."
  );
}

/**
 * Said at synth when voice transcription is off on the Ollama instance because a source archive
 * has no pinned SHA-256 (`missing`: the settings to set). whisper.cpp and FFmpeg publish no
 * checksum file, so the instance builds nothing unverified, and the function gets no
 * TRANSCRIPTION_URL.
 */
export function voiceOffWarning(missing: readonly string[]): string {
  return (
    `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} empty: voice messages are off (the Ollama instance builds no whisper.cpp transcription server from an unverified download). ` +
    'Set them in chatbot.config.json to the SHA-256 of the source archives, or set transcriptionModel to "" to turn voice off without this warning (see README → Voice messages).'
  );
}

/** Said at synth when no allow-list is configured: the deployed bot would answer anyone. */
export const OPEN_BOT_WARNING =
  "allowedUserIds is empty: the deployed bot answers every Telegram user (and bills you for them). " +
  "Set allowedUserIds in chatbot.config.json, or TF_VAR_allowed_user_ids at deploy, to your own user ids.";

/** Props of {@link ChatbotStack}. */
export interface ChatbotStackProps {
  /** The validated stack configuration (loadStackConfig()). */
  readonly config: StackConfig;
  /** Directory of the handler bundle. @default dist/handler (built by tsup before synth) */
  readonly bundleDir?: string;
}

/**
 * The whole chatbot: archive bucket, sessions table, bot function, webhook API, monitoring and
 * dashboard, Bedrock access for Bedrock models, and the Ollama server and its secrets only when
 * a model uses Ollama. Only wiring lives here; each concern is a construct.
 */
export class ChatbotStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: ChatbotStackProps) {
    super(scope, id);
    const { config } = props;

    const usesOllama = usesProvider(config.models, "ollama");

    if (config.stateBackend) new StateBackend(this, config.stateBackend);
    if (config.allowedUserIds === "") Annotations.of(this).addWarning(OPEN_BOT_WARNING);
    if (usesOllama && config.ollamaSha256 === "") Annotations.of(this).addWarning(unpinnedOllamaWarning(config.ollamaVersion));
    if (usesOllama && missingTranscriptionPins(config).length > 0) Annotations.of(this).addWarning(voiceOffWarning(missingTranscriptionPins(config)));

    const { telegramToken, environment, logRetention, memorySize, timeout, allowedUserIds } = declareDeployInputs(this, config);
    const { instanceType, openaiApiKey } = declareProviderInputs(this, config);

    new AwsProvider(this, "aws", {
      region: config.region,
      defaultTags: [{ tags: { Project: config.projectName, Environment: environment.stringValue, ManagedBy: "cdktf" } }],
    });
    new RandomProvider(this, "random");
    if (usesOllama) new TlsProvider(this, "tls");

    const ollamaApiKey = usesOllama ? new Password(this, "OllamaApiKey", { length: 32, special: false }) : undefined;
    // Telegram allows A-Z, a-z, 0-9, _ and - in a secret token.
    const webhookSecret = new Password(this, "WebhookSecret", { length: 32, special: false });
    const caller = new DataAwsCallerIdentity(this, "current");

    const bucket = new ArchiveBucket(this, "ArchiveBucket", { bucketName: `${config.bucketNamePrefix}-${caller.accountId}` });
    const table = new SessionsTable(this, "SessionsTable", { tableName: config.tableName });
    const ollama = ollamaApiKey && instanceType ? ollamaServer(this, config, { bucket, apiKey: ollamaApiKey.result, instanceType }) : undefined;
    const metricsNamespace = metricsNamespaceFor(config.projectName);
    const fn = new BotFunction(this, "BotFunction", {
      functionName: config.functionName,
      bundleDir: props.bundleDir,
      runtime: config.lambdaRuntime,
      memorySize: memorySize.numberValue,
      timeoutSeconds: timeout.numberValue,
      deliveryMode: config.deliveryMode,
      reservedConcurrency: config.reservedConcurrency,
      logRetentionDays: logRetention.numberValue,
      table,
      bucket,
      models: config.models,
      ...(ollama && ollamaApiKey ? { ollamaUrl: ollama.url, ollamaCaCert: ollama.certificatePem, ollamaApiKey: ollamaApiKey.result } : {}),
      transcriptionUrl: ollama?.transcriptionUrl,
      transcriptionModel: ollama?.transcriptionModel,
      openaiApiKey: openaiApiKey?.stringValue,
      telegramToken: telegramToken.stringValue,
      webhookSecret: webhookSecret.result,
      allowedUserIds: allowedUserIds.stringValue,
      userLimits: { messagesPerHour: config.userMessagesPerHour, messagesPerDay: config.userMessagesPerDay, importsPerDay: config.userImportsPerDay },
      tokenBudgets: { userTokensPerDay: config.userTokensPerDay, botTokensPerDay: config.botTokensPerDay },
      defaultSystemPrompt: config.defaultSystemPrompt,
      metricsNamespace,
      logLevel: config.logLevel,
      environment: environment.stringValue,
      labRoleArn: config.labRoleArn,
    });
    // No Bedrock entry, no statement.
    new BedrockAccess(this, "BedrockAccess", { models: config.models, region: config.region, accountId: caller.accountId }).grantInvoke(fn.role);
    const { queue, authorizer } = queueDelivery(this, config, fn, webhookSecret.result, logRetention.numberValue);
    const api = new WebhookApi(this, "WebhookApi", {
      fn,
      deliveryMode: config.deliveryMode,
      queue,
      authorizer,
      region: config.region,
      throttleRateLimit: config.apiThrottleRateLimit,
      throttleBurstLimit: config.apiThrottleBurstLimit,
      labRoleArn: config.labRoleArn,
      stageName: Token.asString(Fn.conditional(Op.eq(environment.stringValue, "prod"), "prod", "dev")),
    });
    const dashboard = observe(this, config, { fn, queue, authorizer, ollama, metricsNamespace });

    declareOutputs(this, { config, api, bucket, table, fn, queue, ollama, ollamaApiKey, webhookSecret, dashboard, metricsNamespace });
  }
}

/** Alarms and the dashboard: the function(s), the queues, the models and the Ollama instance when there is one. */
function observe(
  scope: Construct,
  config: StackConfig,
  parts: { fn: BotFunction; queue?: UpdateQueue; authorizer?: WebhookAuthorizer; ollama?: OllamaServer; metricsNamespace: string },
): Dashboard {
  const { fn, queue, authorizer, ollama, metricsNamespace } = parts;
  new Monitoring(scope, "Monitoring", {
    fn,
    deadLetterQueue: queue?.deadLetterQueue,
    updateQueue: queue?.queue,
    metricsNamespace,
    botTokensPerDay: config.botTokensPerDay,
    alarmEmail: config.alarmEmail,
  });
  return new Dashboard(scope, "Dashboard", {
    namespace: metricsNamespace,
    models: config.models.map((e) => ({ name: e.name, provider: e.provider })),
    functionNames: [fn.functionName, ...(authorizer ? [authorizer.function.functionName] : [])],
    updateQueue: queue?.queue,
    deadLetterQueue: queue?.deadLetterQueue,
    ollamaInstanceId: ollama?.instance.id,
    region: config.region,
  });
}

/** The Ollama instance, for the Ollama models of the list only (the others need no server). */
function ollamaServer(scope: Construct, config: StackConfig, parts: { bucket: ArchiveBucket; apiKey: string; instanceType: TerraformVariable }): OllamaServer {
  return new OllamaServer(scope, "OllamaServer", {
    instanceType: parts.instanceType.stringValue,
    volumeSizeGb: config.ollamaVolumeSizeGb,
    models: config.ollamaModels,
    bucket: parts.bucket,
    apiKey: parts.apiKey,
    sshAllowedCidr: config.sshAllowedCidr,
    labInstanceProfileName: config.labRoleArn ? config.labInstanceProfileName : undefined,
    numParallel: config.ollamaNumParallel,
    ollamaVersion: config.ollamaVersion,
    ollamaSha256: config.ollamaSha256,
    transcriptionModel: config.transcriptionModel,
    whisperVersion: config.whisperVersion,
    whisperSha256: config.whisperSha256,
    ffmpegVersion: config.ffmpegVersion,
    ffmpegSha256: config.ffmpegSha256,
    ...(config.deliveryMode === "queue" ? { maxQueue: config.queueMaxConcurrency } : {}),
  });
}

/** Queue mode's parts: the FIFO queue the function consumes and the authorizer that guards it. */
function queueDelivery(scope: Construct, config: StackConfig, fn: BotFunction, webhookSecret: string, logRetentionDays: number) {
  if (config.deliveryMode !== "queue") return { queue: undefined, authorizer: undefined };
  const queue = new UpdateQueue(scope, "UpdateQueue", { fn, maximumConcurrency: config.queueMaxConcurrency });
  // The handler shortens a handed-back record's visibility there (ChangeMessageVisibility).
  fn.addEnvironment(FUNCTION_ENV.updateQueueUrl, queue.queue.url);
  const authorizer = new WebhookAuthorizer(scope, "WebhookAuthorizer", {
    fn,
    webhookSecret,
    runtime: config.lambdaRuntime,
    logRetentionDays,
    logLevel: config.logLevel,
    labRoleArn: config.labRoleArn,
  });
  return { queue, authorizer };
}

/** The deploy-time inputs (`TF_VAR_…` or `--var-file`), each with the validation Terraform runs at plan time. */
function declareDeployInputs(scope: Construct, config: StackConfig) {
  // Deploy-time inputs. Secrets only ever exist as Terraform values.
  const telegramToken = new TerraformVariable(scope, "telegram_token", {
    type: "string",
    sensitive: true,
    nullable: false,
    description: "Telegram bot token from @BotFather (set TF_VAR_telegram_token or use --var-file).",
  });
  telegramToken.addValidation({ condition: Op.gte(Fn.lengthOf(Fn.trimspace(telegramToken.stringValue)), 1), errorMessage: "telegram_token must not be empty." });
  const environment = new TerraformVariable(scope, "environment", {
    type: "string",
    default: config.environment,
    description: "Deployment environment: dev, staging or prod (prod deploys to the prod stage).",
  });
  environment.addValidation({ condition: Fn.contains(["dev", "staging", "prod"], environment.stringValue), errorMessage: "environment must be dev, staging or prod." });
  const logRetention = new TerraformVariable(scope, "log_retention_days", {
    type: "number",
    default: config.logRetentionDays,
    description: "Retention of the function's CloudWatch log group, in days.",
  });
  logRetention.addValidation({ condition: Fn.contains([...LOG_RETENTION_DAYS], logRetention.numberValue), errorMessage: `log_retention_days must be one of CloudWatch's values: ${LOG_RETENTION_DAYS.join(", ")}.` });
  const memorySize = new TerraformVariable(scope, "lambda_memory_size", {
    type: "number",
    default: config.lambdaMemorySize,
    description: "Memory of the bot function, in MB.",
  });
  memorySize.addValidation({ condition: Op.and(Op.gte(memorySize.numberValue, 128), Op.lte(memorySize.numberValue, 10240)), errorMessage: "lambda_memory_size must be between 128 and 10240 MB." });
  const bounds = lambdaTimeoutBounds(config.deliveryMode);
  const timeout = new TerraformVariable(scope, "lambda_timeout", {
    type: "number",
    default: config.lambdaTimeoutSeconds,
    description: `Timeout of the bot function, in seconds (${bounds.min}-${bounds.max} in ${config.deliveryMode} delivery mode).`,
  });
  timeout.addValidation({ condition: Op.and(Op.gte(timeout.numberValue, bounds.min), Op.lte(timeout.numberValue, bounds.max)), errorMessage: `lambda_timeout must be between ${bounds.min} and ${bounds.max} seconds in ${config.deliveryMode} delivery mode.` });
  const allowedUserIds = new TerraformVariable(scope, "allowed_user_ids", {
    type: "string",
    default: config.allowedUserIds,
    description: "Comma-separated Telegram user ids allowed to use the bot; empty allows everyone.",
  });
  allowedUserIds.addValidation({ condition: Fn.can(Fn.regex("^(-?[0-9]+(,-?[0-9]+)*)?$", allowedUserIds.stringValue)), errorMessage: "allowed_user_ids must be comma-separated numeric Telegram user ids, or empty." });
  return { telegramToken, environment, logRetention, memorySize, timeout, allowedUserIds };
}

/**
 * The inputs of the model providers in use: the Ollama instance's type when an entry uses
 * Ollama, the OpenAI-compatible servers' key (sensitive, never in the synthesized output) when
 * an entry uses one.
 */
function declareProviderInputs(scope: Construct, config: StackConfig) {
  let instanceType: TerraformVariable | undefined;
  if (usesProvider(config.models, "ollama")) {
    instanceType = new TerraformVariable(scope, "ollama_instance_type", {
      type: "string",
      default: config.ollamaInstanceType,
      description: "EC2 instance type of the Ollama server.",
    });
    instanceType.addValidation({ condition: Fn.can(Fn.regex("^[a-z][a-z0-9-]*[.][a-z0-9]+$", instanceType.stringValue)), errorMessage: "ollama_instance_type must be an EC2 instance type such as t3.large." });
  }
  const openaiApiKey = usesProvider(config.models, "openai")
    ? new TerraformVariable(scope, "openai_api_key", {
        type: "string",
        default: "",
        sensitive: true,
        nullable: false,
        description: "Bearer key of the OpenAI-compatible servers in models (set TF_VAR_openai_api_key); empty for servers that need none.",
      })
    : undefined;
  return { instanceType, openaiApiKey };
}

/** The stack's outputs, which the scripts read from cdktf-outputs.json. */
function declareOutputs(
  scope: Construct,
  parts: {
    readonly config: StackConfig;
    readonly api: WebhookApi;
    readonly bucket: ArchiveBucket;
    readonly table: SessionsTable;
    readonly fn: BotFunction;
    readonly queue: UpdateQueue | undefined;
    readonly ollama: OllamaServer | undefined;
    readonly ollamaApiKey: Password | undefined;
    readonly webhookSecret: Password;
    readonly dashboard: Dashboard;
    readonly metricsNamespace: string;
  },
): void {
  const { config, api, bucket, table, fn, queue, ollama, ollamaApiKey, webhookSecret, dashboard, metricsNamespace } = parts;
  new TerraformOutput(scope, "api_gateway_url", { value: api.url, description: "Webhook URL to register with Telegram" });
  new TerraformOutput(scope, "s3_bucket_name", { value: bucket.bucketName });
  new TerraformOutput(scope, "dynamodb_table_name", { value: table.tableName });
  new TerraformOutput(scope, "lambda_function_name", { value: fn.function.functionName });
  new TerraformOutput(scope, "lambda_log_group", { value: fn.logGroup.name });
  new TerraformOutput(scope, MODEL_PROVIDERS_OUTPUT, {
    value: providersOf(config.models).join(","),
    description: "Providers of the model list; without ollama the stack has no Ollama instance and no ollama_* outputs",
  });
  if (ollama && ollamaApiKey) declareOllamaOutputs(scope, ollama, ollamaApiKey);
  if (queue) {
    new TerraformOutput(scope, "update_queue_url", { value: queue.queue.url, description: "SQS FIFO queue of Telegram updates" });
    new TerraformOutput(scope, "dead_letter_queue_url", { value: queue.deadLetterQueue.url, description: "Updates that failed every delivery" });
  }
  new TerraformOutput(scope, "dashboard_url", { value: dashboard.dashboardUrl, description: "The bot's CloudWatch dashboard" });
  new TerraformOutput(scope, METRICS_NAMESPACE_OUTPUT, { value: metricsNamespace, description: "CloudWatch namespace of the bot's own metrics" });
  new TerraformOutput(scope, "webhook_secret", { value: webhookSecret.result, sensitive: true });
}

/** The Ollama instance's outputs (manage-ollama reads them). */
function declareOllamaOutputs(scope: Construct, ollama: OllamaServer, apiKey: Password): void {
  new TerraformOutput(scope, "ollama_url", { value: ollama.url });
  new TerraformOutput(scope, "ollama_instance_id", { value: ollama.instance.id });
  new TerraformOutput(scope, "ollama_public_ip", { value: ollama.eip.publicIp });
  new TerraformOutput(scope, "ollama_certificate_pem", {
    value: ollama.certificatePem,
    description: "The Ollama proxy's self-signed TLS certificate: the only CA the bot function (and manage-ollama) trusts for ollama_url",
  });
  new TerraformOutput(scope, "ollama_api_key", { value: apiKey.result, sensitive: true });
}

/** Synthesizes the stack named after the project with the configuration from file and environment. */
export function main(): void {
  let config: StackConfig;
  try {
    config = loadStackConfig();
  } catch (error) {
    console.error(`cannot synthesize: ${(error as Error).message}`);
    process.exit(1);
  }
  const app = new App();
  new ChatbotStack(app, config.projectName, { config });
  app.synth();
}

if (require.main === module) main();
