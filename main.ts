import { Annotations, App, Fn, Op, TerraformOutput, TerraformStack, TerraformVariable, Token } from "cdktf";
import type { Construct } from "constructs";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Password } from "@cdktf/provider-random/lib/password";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { TlsProvider } from "@cdktf/provider-tls/lib/provider";
import { LOG_RETENTION_DAYS, lambdaTimeoutBounds, loadStackConfig, type StackConfig } from "./config/stack-config";
import { FUNCTION_ENV } from "./config/function-env";
import { ArchiveBucket } from "./constructs/archive-bucket";
import { BotFunction } from "./constructs/bot-function";
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
 * The whole chatbot: archive bucket, sessions table, bot function, webhook API, monitoring,
 * the Ollama server and its secrets. Only wiring lives here; each concern is a construct.
 */
export class ChatbotStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: ChatbotStackProps) {
    super(scope, id);
    const { config } = props;

    if (config.stateBackend) new StateBackend(this, config.stateBackend);
    if (config.allowedUserIds === "") Annotations.of(this).addWarning(OPEN_BOT_WARNING);
    if (config.ollamaSha256 === "") Annotations.of(this).addWarning(unpinnedOllamaWarning(config.ollamaVersion));

    const { telegramToken, environment, logRetention, memorySize, timeout, allowedUserIds, instanceType } = declareDeployInputs(this, config);

    new AwsProvider(this, "aws", {
      region: config.region,
      defaultTags: [{ tags: { Project: config.projectName, Environment: environment.stringValue, ManagedBy: "cdktf" } }],
    });
    new RandomProvider(this, "random");
    new TlsProvider(this, "tls");

    const ollamaApiKey = new Password(this, "OllamaApiKey", { length: 32, special: false });
    // Telegram allows A-Z, a-z, 0-9, _ and - in a secret token.
    const webhookSecret = new Password(this, "WebhookSecret", { length: 32, special: false });
    const caller = new DataAwsCallerIdentity(this, "current");

    const bucket = new ArchiveBucket(this, "ArchiveBucket", { bucketName: `${config.bucketNamePrefix}-${caller.accountId}` });
    const table = new SessionsTable(this, "SessionsTable", { tableName: config.tableName });
    const ollama = new OllamaServer(this, "OllamaServer", {
      instanceType: instanceType.stringValue,
      volumeSizeGb: config.ollamaVolumeSizeGb,
      models: config.models,
      bucket,
      apiKey: ollamaApiKey.result,
      sshAllowedCidr: config.sshAllowedCidr,
      labInstanceProfileName: config.labRoleArn ? config.labInstanceProfileName : undefined,
      numParallel: config.ollamaNumParallel,
      ollamaVersion: config.ollamaVersion,
      ollamaSha256: config.ollamaSha256,
      ...(config.deliveryMode === "queue" ? { maxQueue: config.queueMaxConcurrency } : {}),
    });
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
      ollamaUrl: ollama.url,
      ollamaCaCert: ollama.certificatePem,
      models: config.models,
      telegramToken: telegramToken.stringValue,
      webhookSecret: webhookSecret.result,
      ollamaApiKey: ollamaApiKey.result,
      allowedUserIds: allowedUserIds.stringValue,
      userLimits: { messagesPerHour: config.userMessagesPerHour, messagesPerDay: config.userMessagesPerDay, importsPerDay: config.userImportsPerDay },
      defaultSystemPrompt: config.defaultSystemPrompt,
      logLevel: config.logLevel,
      environment: environment.stringValue,
      labRoleArn: config.labRoleArn,
    });
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
    new Monitoring(this, "Monitoring", { fn, deadLetterQueue: queue?.deadLetterQueue, alarmEmail: config.alarmEmail });

    declareOutputs(this, { api, bucket, table, fn, queue, ollama, ollamaApiKey, webhookSecret });
  }
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
  const instanceType = new TerraformVariable(scope, "ollama_instance_type", {
    type: "string",
    default: config.ollamaInstanceType,
    description: "EC2 instance type of the Ollama server.",
  });
  instanceType.addValidation({ condition: Fn.can(Fn.regex("^[a-z][a-z0-9-]*[.][a-z0-9]+$", instanceType.stringValue)), errorMessage: "ollama_instance_type must be an EC2 instance type such as t3.large." });
  return { telegramToken, environment, logRetention, memorySize, timeout, allowedUserIds, instanceType };
}

/** The stack's outputs, which the scripts read from cdktf-outputs.json. */
function declareOutputs(
  scope: Construct,
  parts: {
    readonly api: WebhookApi;
    readonly bucket: ArchiveBucket;
    readonly table: SessionsTable;
    readonly fn: BotFunction;
    readonly queue: UpdateQueue | undefined;
    readonly ollama: OllamaServer;
    readonly ollamaApiKey: Password;
    readonly webhookSecret: Password;
  },
): void {
  const { api, bucket, table, fn, queue, ollama, ollamaApiKey, webhookSecret } = parts;
  new TerraformOutput(scope, "api_gateway_url", { value: api.url, description: "Webhook URL to register with Telegram" });
  new TerraformOutput(scope, "s3_bucket_name", { value: bucket.bucketName });
  new TerraformOutput(scope, "dynamodb_table_name", { value: table.tableName });
  new TerraformOutput(scope, "lambda_function_name", { value: fn.function.functionName });
  new TerraformOutput(scope, "lambda_log_group", { value: fn.logGroup.name });
  new TerraformOutput(scope, "ollama_url", { value: ollama.url });
  new TerraformOutput(scope, "ollama_instance_id", { value: ollama.instance.id });
  new TerraformOutput(scope, "ollama_public_ip", { value: ollama.eip.publicIp });
  new TerraformOutput(scope, "ollama_certificate_pem", {
    value: ollama.certificatePem,
    description: "The Ollama proxy's self-signed TLS certificate: the only CA the bot function (and manage-ollama) trusts for ollama_url",
  });
  if (queue) {
    new TerraformOutput(scope, "update_queue_url", { value: queue.queue.url, description: "SQS FIFO queue of Telegram updates" });
    new TerraformOutput(scope, "dead_letter_queue_url", { value: queue.deadLetterQueue.url, description: "Updates that failed every delivery" });
  }
  new TerraformOutput(scope, "ollama_api_key", { value: ollamaApiKey.result, sensitive: true });
  new TerraformOutput(scope, "webhook_secret", { value: webhookSecret.result, sensitive: true });
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
