import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { AssetType, Op, TerraformAsset, Token } from "cdktf";
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SYNC_OLLAMA_TIMEOUT_MS } from "../config/defaults";
import { ASYNC_REPLY_MARGIN_SECONDS, PATTERNS, lambdaTimeoutBounds, type DeliveryMode } from "../config/stack-config";
import type { ArchiveBucket } from "./archive-bucket";
import { ServiceRole } from "./service-role";
import type { SessionsTable } from "./sessions-table";
import { integerRule, isToken, oneOfRule, patternRule, validateProps, type PropRule } from "./validation";

/** Where `npm run build` (tsup) writes the handler bundle. */
export const DEFAULT_BUNDLE_DIR = resolve(__dirname, "..", "dist", "handler");

/** Seconds an SQS dead-letter queue keeps a failed asynchronous invocation: 14 days. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 60 * 60;

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
  /** Timeout in seconds (a number or a Terraform variable). @default 120 in async mode, 30 in sync mode */
  readonly timeoutSeconds?: number;
  /** How API Gateway invokes the function. @default "async" */
  readonly deliveryMode?: DeliveryMode;
  /** Log retention in days (a number or a Terraform variable). @default 14 */
  readonly logRetentionDays?: number;
  readonly table: SessionsTable;
  readonly bucket: ArchiveBucket;
  /** Base URL of the Ollama proxy, e.g. http://<elastic ip>:11434. */
  readonly ollamaUrl: string;
  /** Models offered by the bot (OLLAMA_MODELS), in order. */
  readonly models: readonly string[];
  /** Terraform reference to the bot token (a sensitive variable). */
  readonly telegramToken: string;
  /** Terraform reference to the webhook secret token. */
  readonly webhookSecret: string;
  /** Terraform reference to the Ollama API key. */
  readonly ollamaApiKey: string;
  /** Comma-separated Telegram user ids allowed to talk to the bot. @default "" (everyone) */
  readonly allowedUserIds?: string;
  /** LOG_LEVEL. @default "INFO" */
  readonly logLevel?: string;
  /** ENVIRONMENT (dev, staging, prod; may be a Terraform variable). @default "dev" */
  readonly environment?: string;
  /** An existing execution role (AWS Academy's LabRole). @default - a least-privilege role is created */
  readonly labRoleArn?: string;
}

/**
 * The Lambda function that handles Telegram updates: the tsup bundle of handler/ zipped by a
 * TerraformAsset at synth (its hash redeploys a changed handler), its log group, its
 * execution role (least privilege unless a lab role is given) and, in async mode, the SQS
 * dead-letter queue where failed invocations land.
 */
export class BotFunction extends Construct {
  public readonly function: LambdaFunction;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly role: ServiceRole;
  /** Dead-letter queue of failed asynchronous invocations. @default - undefined in sync mode */
  public readonly deadLetterQueue: SqsQueue | undefined;
  /** The function's name. */
  public readonly functionName: string;
  /** The environment the function gets, by variable name (values may be Terraform references). */
  public readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: BotFunctionProps) {
    super(scope, id);
    const functionName = props.functionName ?? "telegram-bot";
    const bundleDir = props.bundleDir ?? DEFAULT_BUNDLE_DIR;
    const deliveryMode = props.deliveryMode ?? "async";
    const bounds = lambdaTimeoutBounds(deliveryMode);
    const timeout = props.timeoutSeconds ?? (deliveryMode === "sync" ? bounds.max : 120);
    const memorySize = props.memorySize ?? 256;
    const runtime = props.runtime ?? "nodejs24.x";
    const retention = props.logRetentionDays ?? 14;
    const rules: PropRule[] = [
      patternRule("functionName", functionName, /^[a-zA-Z0-9_-]{1,64}$/, "1 to 64 letters, digits, '-' and '_'"),
      oneOfRule("deliveryMode", deliveryMode, ["async", "sync"]),
      patternRule("runtime", runtime, PATTERNS.runtime, "a node.js lambda runtime such as nodejs24.x"),
      integerRule("memorySize", memorySize, 128, 10240),
      integerRule(`timeoutSeconds (${deliveryMode} mode)`, timeout, bounds.min, bounds.max),
      integerRule("logRetentionDays", retention, 1, 3653),
      {
        setting: "models",
        value: props.models,
        ok: props.models.length > 0 && props.models.every((m) => PATTERNS.model.test(m)),
        allowed: "a non-empty list of ollama model names",
      },
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

    if (deliveryMode === "async") {
      this.deadLetterQueue = new SqsQueue(this, "DeadLetterQueue", {
        name: `${functionName}-failed-updates`,
        messageRetentionSeconds: DLQ_RETENTION_SECONDS,
        sqsManagedSseEnabled: true,
      });
      this.role.grant({
        sid: "SendFailedInvocations",
        actions: ["sqs:SendMessage"],
        resources: [this.deadLetterQueue.arn],
      });
    } else {
      this.deadLetterQueue = undefined;
    }

    const bundle = new TerraformAsset(this, "Bundle", { path: bundleDir, type: AssetType.ARCHIVE });

    this.environment = Object.freeze({
      TELEGRAM_TOKEN: props.telegramToken,
      TELEGRAM_SECRET_TOKEN: props.webhookSecret,
      DYNAMODB_TABLE: props.table.tableName,
      S3_BUCKET_NAME: props.bucket.bucketName,
      OLLAMA_URL: props.ollamaUrl,
      OLLAMA_API_KEY: props.ollamaApiKey,
      OLLAMA_MODELS: props.models.join(","),
      OLLAMA_TIMEOUT_MS: ollamaTimeoutMs(deliveryMode, timeout),
      ALLOWED_USER_IDS: props.allowedUserIds ?? "",
      LOG_LEVEL: props.logLevel ?? "INFO",
      ENVIRONMENT: props.environment ?? "dev",
    });

    this.function = new LambdaFunction(this, "Function", {
      functionName,
      role: this.role.arn,
      runtime,
      handler: "index.handler",
      filename: bundle.path,
      sourceCodeHash: bundle.assetHash,
      memorySize,
      timeout,
      environment: { variables: { ...this.environment } },
      deadLetterConfig: this.deadLetterQueue ? { targetArn: this.deadLetterQueue.arn } : undefined,
      // The role's policy must exist first: Lambda checks sqs:SendMessage on the DLQ at creation.
      dependsOn: [this.logGroup, ...(this.role.policy ? [this.role.policy] : [])],
    });
  }
}

/**
 * OLLAMA_TIMEOUT_MS for a delivery mode and function timeout: 22 s in sync mode (inside API
 * Gateway's 29 s); in async mode the function timeout minus ASYNC_REPLY_MARGIN_SECONDS, so
 * the handler still has time to tell the user the model was too slow. Pure.
 */
export function ollamaTimeoutMs(mode: DeliveryMode, timeoutSeconds: number): string {
  if (mode === "sync") return String(SYNC_OLLAMA_TIMEOUT_MS);
  if (isToken(timeoutSeconds)) {
    return Token.asString(Op.mul(Op.sub(timeoutSeconds, ASYNC_REPLY_MARGIN_SECONDS), 1000));
  }
  return String((timeoutSeconds - ASYNC_REPLY_MARGIN_SECONDS) * 1000);
}
