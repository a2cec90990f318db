import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import type { BotFunction } from "./bot-function";
import { ServiceRole } from "./service-role";
import { integerRule, patternRule, validateProps } from "./validation";

/** Props of {@link WebhookAuthorizer}. */
export interface WebhookAuthorizerProps {
  /** The bot function whose bundle, runtime and role settings the authorizer shares. */
  readonly fn: BotFunction;
  /** Terraform reference to the webhook secret token. */
  readonly webhookSecret: string;
  /** Function name. @default "<bot function name>-authorizer" */
  readonly functionName?: string;
  /** Runtime. @default "nodejs24.x" */
  readonly runtime?: string;
  /** Log retention in days (a number or a Terraform variable). @default 14 */
  readonly logRetentionDays?: number;
  /** LOG_LEVEL. @default "INFO" */
  readonly logLevel?: string;
  /** An existing execution role (AWS Academy's LabRole). @default - a role that may only write its logs */
  readonly labRoleArn?: string;
}

/**
 * Queue mode's door: the Lambda function behind API Gateway's REQUEST authorizer. It runs the
 * bot's own bundle (handler `index.authorizer`, see handler/delivery/authorizer.ts) with only
 * the webhook secret and the log level in its environment — no token, no key, no table — and a
 * role that may only write its own logs. 128 MB and 5 s: it compares one header.
 */
export class WebhookAuthorizer extends Construct {
  public readonly function: LambdaFunction;
  public readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: WebhookAuthorizerProps) {
    super(scope, id);
    const functionName = props.functionName ?? `${props.fn.functionName}-authorizer`;
    const retention = props.logRetentionDays ?? 14;
    validateProps("webhook authorizer", [
      patternRule("functionName", functionName, /^[a-zA-Z0-9_-]{1,64}$/, "1 to 64 letters, digits, '-' and '_'"),
      integerRule("logRetentionDays", retention, 1, 3653),
    ]);
    this.logGroup = new CloudwatchLogGroup(this, "LogGroup", { name: `/aws/lambda/${functionName}`, retentionInDays: retention });
    const role = new ServiceRole(this, "ExecutionRole", {
      roleName: `${functionName}-role`,
      servicePrincipal: "lambda.amazonaws.com",
      existingRoleArn: props.labRoleArn,
    });
    role.grant({ sid: "WriteOwnLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${this.logGroup.arn}:*`] });
    this.function = new LambdaFunction(this, "Function", {
      functionName,
      role: role.arn,
      runtime: props.runtime ?? "nodejs24.x",
      handler: "index.authorizer",
      filename: props.fn.bundle.path,
      sourceCodeHash: props.fn.bundle.assetHash,
      memorySize: 128,
      timeout: 5,
      environment: { variables: { TELEGRAM_SECRET_TOKEN: props.webhookSecret, LOG_LEVEL: props.logLevel ?? "INFO" } },
      dependsOn: [this.logGroup, ...(role.policy ? [role.policy] : [])],
    });
  }
}
