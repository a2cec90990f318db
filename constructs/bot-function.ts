import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { AssetType, Op, TerraformAsset, Token } from "cdktf";
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { SYNC_OLLAMA_TIMEOUT_MS, type UserLimits } from "../config/defaults";
import { FUNCTION_ENV, ollamaTimeoutMsFor } from "../config/function-env";
import { PATTERNS, QUEUE_LAMBDA_TIMEOUT_SECONDS, QUEUE_REPLY_MARGIN_SECONDS, lambdaTimeoutBounds, type DeliveryMode } from "../config/stack-config";
import type { ArchiveBucket } from "./archive-bucket";
import { assertEnvironmentFits, environmentFitsPrecondition } from "./function-environment-size";
import { ServiceRole } from "./service-role";
import type { SessionsTable } from "./sessions-table";
import { integerRule, isToken, oneOfRule, patternRule, validateProps, type PropRule } from "./validation";

/** Where `npm run build` (tsup) writes the handler bundle. */
export const DEFAULT_BUNDLE_DIR = resolve(__dirname, "..", "dist", "handler");

/** Per-user limits the handler enforces (0: no limit), declared in config/defaults.ts. */
export type { UserLimits };

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
  /** Base URL of the Ollama proxy, e.g. https://<elastic ip>:11434. */
  readonly ollamaUrl: string;
  /** PEM of the proxy's certificate, the only CA the function trusts for it (OLLAMA_CA_CERT). @default - the system CAs */
  readonly ollamaCaCert?: string;
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
  /** Per-user limits. @default - the handler's defaults */
  readonly userLimits?: UserLimits;
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
    const rules: PropRule[] = [
      patternRule("functionName", functionName, /^[a-zA-Z0-9_-]{1,64}$/, "1 to 64 letters, digits, '-' and '_'"),
      oneOfRule("deliveryMode", deliveryMode, ["queue", "sync"]),
      patternRule("runtime", runtime, PATTERNS.runtime, "a node.js lambda runtime such as nodejs24.x"),
      integerRule("memorySize", memorySize, 128, 10240),
      integerRule(`timeoutSeconds (${deliveryMode} mode)`, timeout, bounds.min, bounds.max),
      integerRule("logRetentionDays", retention, 1, 3653),
      ...(props.reservedConcurrency === undefined ? [] : [integerRule("reservedConcurrency", props.reservedConcurrency, 1, 1000)]),
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

    this.timeoutSeconds = timeout;
    const bundle = new TerraformAsset(this, "Bundle", { path: bundleDir, type: AssetType.ARCHIVE });
    this.bundle = bundle;

    this.env = Object.freeze({
      [FUNCTION_ENV.telegramToken]: props.telegramToken,
      [FUNCTION_ENV.telegramSecretToken]: props.webhookSecret,
      [FUNCTION_ENV.tableName]: props.table.tableName,
      [FUNCTION_ENV.bucketName]: props.bucket.bucketName,
      [FUNCTION_ENV.ollamaUrl]: props.ollamaUrl,
      [FUNCTION_ENV.ollamaApiKey]: props.ollamaApiKey,
      [FUNCTION_ENV.ollamaModels]: props.models.join(","),
      ...(props.ollamaCaCert ? { [FUNCTION_ENV.ollamaCaCert]: props.ollamaCaCert } : {}),
      [FUNCTION_ENV.ollamaTimeoutMs]: ollamaTimeoutMs(deliveryMode, timeout),
      [FUNCTION_ENV.allowedUserIds]: props.allowedUserIds ?? "",
      ...(props.userLimits ? userLimitsEnv(props.userLimits) : {}),
      ...(props.defaultSystemPrompt ? { [FUNCTION_ENV.defaultSystemPrompt]: props.defaultSystemPrompt } : {}),
      [FUNCTION_ENV.logLevel]: props.logLevel ?? "INFO",
      [FUNCTION_ENV.environment]: props.environment ?? "dev",
    });

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

/** The handler's environment variables of the per-user limits. Pure. */
export function userLimitsEnv(limits: UserLimits): Record<string, string> {
  return {
    [FUNCTION_ENV.messagesPerHour]: String(limits.messagesPerHour),
    [FUNCTION_ENV.messagesPerDay]: String(limits.messagesPerDay),
    [FUNCTION_ENV.importsPerDay]: String(limits.importsPerDay),
  };
}
