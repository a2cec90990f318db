import { Fn } from "cdktf";
import { Construct } from "constructs";
import { ApiGatewayDeployment } from "@cdktf/provider-aws/lib/api-gateway-deployment";
import { ApiGatewayIntegration } from "@cdktf/provider-aws/lib/api-gateway-integration";
import { ApiGatewayMethod } from "@cdktf/provider-aws/lib/api-gateway-method";
import { ApiGatewayMethodSettings } from "@cdktf/provider-aws/lib/api-gateway-method-settings";
import { ApiGatewayResource } from "@cdktf/provider-aws/lib/api-gateway-resource";
import { ApiGatewayRestApi } from "@cdktf/provider-aws/lib/api-gateway-rest-api";
import { ApiGatewayStage } from "@cdktf/provider-aws/lib/api-gateway-stage";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import type { DeliveryMode } from "../config/stack-config";
import type { BotFunction } from "./bot-function";
import type { UpdateQueue } from "./update-queue";
import { integerRule, oneOfRule, patternRule, validateProps, type PropRule } from "./validation";
import { queueIntegration, secretAuthorizer } from "./webhook-api/queue-integration";
import type { WebhookAuthorizer } from "./webhook-authorizer";

/** Props of {@link WebhookApi}. */
export interface WebhookApiProps {
  /** The function that handles updates (invoked directly in sync mode; names the API). */
  readonly fn: BotFunction;
  /**
   * `queue`: POST /webhook sends the update to `queue` (an AWS service integration) after
   * `authorizer` checked the secret; Telegram gets 200 once SQS has it. `sync`: Lambda proxy
   * integration; Telegram waits for the answer (29 s at most). @default "queue"
   */
  readonly deliveryMode?: DeliveryMode;
  /** The update queue. Required in queue mode. */
  readonly queue?: UpdateQueue;
  /** The secret-token authorizer's function. Required in queue mode. */
  readonly authorizer?: WebhookAuthorizer;
  /** Region of the queue. Required in queue mode. */
  readonly region?: string;
  /** Stage throttling: steady requests per second. @default 10 */
  readonly throttleRateLimit?: number;
  /** Stage throttling: burst of requests. @default 20 */
  readonly throttleBurstLimit?: number;
  /** REST API name. @default "<function name>-api" */
  readonly apiName?: string;
  /** Path segment Telegram posts to. @default "webhook" */
  readonly path?: string;
  /** Stage name (may be a Terraform expression: prod when environment is prod, else dev). @default "dev" */
  readonly stageName?: string;
  /** An existing role for API Gateway's SQS calls (AWS Academy's LabRole). @default - a least-privilege role */
  readonly labRoleArn?: string;
}

/**
 * The REST API Telegram posts updates to: REGIONAL, POST /webhook, a deployment that
 * redeploys whenever the API changes, and a throttled stage. In queue mode the method is
 * guarded by the secret-token authorizer and integrates with SQS; in sync mode it invokes the
 * function, which checks the secret itself.
 */
export class WebhookApi extends Construct {
  public readonly restApi: ApiGatewayRestApi;
  public readonly stage: ApiGatewayStage;
  /** Full webhook URL: https://<api>.execute-api.<region>.amazonaws.com/<stage>/webhook. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    const path = props.path ?? "webhook";
    const deliveryMode = props.deliveryMode ?? "queue";
    const apiName = props.apiName ?? `${props.fn.functionName}-api`;
    const stageName = props.stageName ?? "dev";
    const rateLimit = props.throttleRateLimit ?? 10;
    const burstLimit = props.throttleBurstLimit ?? 20;
    validateProps("webhook api", rulesOf(props, { path, deliveryMode, apiName, stageName, rateLimit, burstLimit }));

    this.restApi = new ApiGatewayRestApi(this, "RestApi", {
      name: apiName,
      description: "Telegram webhook of the AI chatbot",
      endpointConfiguration: { types: ["REGIONAL"] },
    });
    const resource = new ApiGatewayResource(this, "WebhookResource", {
      restApiId: this.restApi.id,
      parentId: this.restApi.rootResourceId,
      pathPart: path,
    });
    const authorizer = deliveryMode === "queue" ? secretAuthorizer(this, { restApi: this.restApi, authorizer: props.authorizer! }) : undefined;
    const method = new ApiGatewayMethod(this, "PostMethod", {
      restApiId: this.restApi.id,
      resourceId: resource.id,
      httpMethod: "POST",
      // Queue mode: the authorizer checks the secret before anything is queued. Sync mode: the handler does.
      authorization: authorizer ? "CUSTOM" : "NONE",
      authorizerId: authorizer?.id,
    });

    // Everything whose change must produce a new deployment.
    const redeployOn: string[] = [resource.id, method.id, ...(authorizer ? [authorizer.id] : [])];
    if (deliveryMode === "queue") {
      redeployOn.push(...queueIntegration(this, method.httpMethod, {
        restApi: this.restApi,
        resource,
        queue: props.queue!,
        authorizer: props.authorizer!,
        region: props.region!,
        roleName: `${apiName.replace(/[^\w+=,.@-]/g, "-")}-sqs`.slice(0, 64),
        labRoleArn: props.labRoleArn,
      }));
    } else {
      redeployOn.push(...this.proxyIntegration(resource, method, props.fn, path));
    }

    const deployment = new ApiGatewayDeployment(this, "Deployment", {
      restApiId: this.restApi.id,
      triggers: { redeployment: Fn.sha1(Fn.jsonencode(redeployOn)) },
      lifecycle: { createBeforeDestroy: true },
    });
    this.stage = new ApiGatewayStage(this, "Stage", {
      restApiId: this.restApi.id,
      deploymentId: deployment.id,
      stageName,
    });
    // The edge's ceiling: requests beyond it get 429, which Telegram retries later.
    new ApiGatewayMethodSettings(this, "Throttling", {
      restApiId: this.restApi.id,
      stageName: this.stage.stageName,
      methodPath: "*/*",
      settings: { throttlingRateLimit: rateLimit, throttlingBurstLimit: burstLimit },
    });
    this.url = `${this.stage.invokeUrl}/${path}`;
  }

  /** Sync mode: the Lambda proxy integration and the permission to invoke the function. */
  private proxyIntegration(resource: ApiGatewayResource, method: ApiGatewayMethod, fn: BotFunction, path: string): string[] {
    const integration = new ApiGatewayIntegration(this, "LambdaIntegration", {
      restApiId: this.restApi.id,
      resourceId: resource.id,
      httpMethod: method.httpMethod,
      type: "AWS_PROXY",
      integrationHttpMethod: "POST",
      uri: fn.function.invokeArn,
    });
    new LambdaPermission(this, "InvokePermission", {
      statementId: "AllowApiGatewayInvoke",
      action: "lambda:InvokeFunction",
      functionName: fn.function.functionName,
      principal: "apigateway.amazonaws.com",
      sourceArn: `${this.restApi.executionArn}/*/POST/${path}`,
    });
    return [integration.id, integration.type];
  }
}

/** The props' rules, with the defaults filled in. */
function rulesOf(
  props: WebhookApiProps,
  v: { path: string; deliveryMode: string; apiName: string; stageName: string; rateLimit: number; burstLimit: number },
): PropRule[] {
  const rules: PropRule[] = [
    patternRule("path", v.path, /^[a-zA-Z0-9._-]+$/, "one path segment of letters, digits, '.', '_', '-'"),
    oneOfRule("deliveryMode", v.deliveryMode, ["queue", "sync"]),
    patternRule("apiName", v.apiName, /^[a-zA-Z0-9 _.-]{1,128}$/, "1 to 128 letters, digits, spaces, '.', '_', '-'"),
    patternRule("stageName", v.stageName, /^[a-zA-Z0-9_-]{1,128}$/, "letters, digits, '-' and '_'"),
    integerRule("throttleRateLimit", v.rateLimit, 1, 10_000),
    integerRule("throttleBurstLimit", v.burstLimit, 1, 5_000),
  ];
  if (v.deliveryMode === "queue") {
    rules.push(
      { setting: "queue", value: props.queue ? "set" : undefined, ok: props.queue !== undefined, allowed: "an UpdateQueue in queue mode" },
      { setting: "authorizer", value: props.authorizer ? "set" : undefined, ok: props.authorizer !== undefined, allowed: "a WebhookAuthorizer in queue mode" },
      patternRule("region", props.region, /^[a-z]{2}(-[a-z]+)+-\d$/, "the queue's aws region"),
    );
  }
  return rules;
}
