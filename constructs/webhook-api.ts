import { createHash } from "node:crypto";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { ApiGatewayDeployment } from "@cdktf/provider-aws/lib/api-gateway-deployment";
import { ApiGatewayIntegration } from "@cdktf/provider-aws/lib/api-gateway-integration";
import { ApiGatewayIntegrationResponse } from "@cdktf/provider-aws/lib/api-gateway-integration-response";
import { ApiGatewayMethod } from "@cdktf/provider-aws/lib/api-gateway-method";
import { ApiGatewayMethodResponse } from "@cdktf/provider-aws/lib/api-gateway-method-response";
import { ApiGatewayResource } from "@cdktf/provider-aws/lib/api-gateway-resource";
import { ApiGatewayRestApi } from "@cdktf/provider-aws/lib/api-gateway-rest-api";
import { ApiGatewayStage } from "@cdktf/provider-aws/lib/api-gateway-stage";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import type { DeliveryMode } from "../config/stack-config";
import type { BotFunction } from "./bot-function";
import { ASYNC_REQUEST_CONTENT_TYPE, ASYNC_REQUEST_TEMPLATE } from "./webhook-api/async-request-template";
import { oneOfRule, patternRule, validateProps } from "./validation";

/** Props of {@link WebhookApi}. */
export interface WebhookApiProps {
  /** The function that handles updates. */
  readonly fn: BotFunction;
  /** REST API name. @default "<function name>-api" */
  readonly apiName?: string;
  /** Path segment Telegram posts to. @default "webhook" */
  readonly path?: string;
  /** Stage name (may be a Terraform expression: prod when environment is prod, else dev). @default "dev" */
  readonly stageName?: string;
  /**
   * `sync`: Lambda proxy integration; Telegram waits for the answer (29 s at most).
   * `async`: the function is invoked as an Event with a proxy-shaped event built by
   * ASYNC_REQUEST_TEMPLATE, and Telegram gets 200 at once. @default "async"
   */
  readonly deliveryMode?: DeliveryMode;
}

/**
 * The REST API Telegram posts updates to: REGIONAL, POST /webhook, a deployment that
 * redeploys whenever the API changes, a stage, and the permission to invoke the function.
 */
export class WebhookApi extends Construct {
  public readonly restApi: ApiGatewayRestApi;
  public readonly stage: ApiGatewayStage;
  /** Full webhook URL: https://<api>.execute-api.<region>.amazonaws.com/<stage>/webhook. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    const path = props.path ?? "webhook";
    const deliveryMode = props.deliveryMode ?? "async";
    const apiName = props.apiName ?? `${props.fn.functionName}-api`;
    const stageName = props.stageName ?? "dev";
    validateProps("webhook api", [
      patternRule("path", path, /^[a-zA-Z0-9._-]+$/, "one path segment of letters, digits, '.', '_', '-'"),
      oneOfRule("deliveryMode", deliveryMode, ["async", "sync"]),
      patternRule("apiName", apiName, /^[a-zA-Z0-9 _.-]{1,128}$/, "1 to 128 letters, digits, spaces, '.', '_', '-'"),
      patternRule("stageName", stageName, /^[a-zA-Z0-9_-]{1,128}$/, "letters, digits, '-' and '_'"),
    ]);
    const fn = props.fn.function;

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
    const method = new ApiGatewayMethod(this, "PostMethod", {
      restApiId: this.restApi.id,
      resourceId: resource.id,
      httpMethod: "POST",
      // Telegram authenticates with the secret-token header, checked by the handler.
      authorization: "NONE",
    });

    // Everything whose change must produce a new deployment.
    const redeployOn: string[] = [resource.id, method.id];
    if (deliveryMode === "sync") {
      const integration = new ApiGatewayIntegration(this, "LambdaIntegration", {
        restApiId: this.restApi.id,
        resourceId: resource.id,
        httpMethod: method.httpMethod,
        type: "AWS_PROXY",
        integrationHttpMethod: "POST",
        uri: fn.invokeArn,
      });
      redeployOn.push(integration.id, integration.type);
    } else {
      const integration = new ApiGatewayIntegration(this, "LambdaIntegration", {
        restApiId: this.restApi.id,
        resourceId: resource.id,
        httpMethod: method.httpMethod,
        type: "AWS",
        integrationHttpMethod: "POST",
        uri: fn.invokeArn,
        requestParameters: { "integration.request.header.X-Amz-Invocation-Type": "'Event'" },
        requestTemplates: { [ASYNC_REQUEST_CONTENT_TYPE]: ASYNC_REQUEST_TEMPLATE },
        passthroughBehavior: "NEVER",
      });
      const methodResponse = new ApiGatewayMethodResponse(this, "OkResponse", {
        restApiId: this.restApi.id,
        resourceId: resource.id,
        httpMethod: method.httpMethod,
        statusCode: "200",
      });
      // Lambda answers an Event invocation with 202 and no body; Telegram only needs a 2xx.
      const integrationResponse = new ApiGatewayIntegrationResponse(this, "OkIntegrationResponse", {
        restApiId: this.restApi.id,
        resourceId: resource.id,
        httpMethod: method.httpMethod,
        statusCode: methodResponse.statusCode,
        responseTemplates: { "application/json": "" },
        dependsOn: [integration],
      });
      redeployOn.push(integration.id, integration.type, createHash("sha256").update(ASYNC_REQUEST_TEMPLATE).digest("hex"), methodResponse.id, integrationResponse.id);
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
    this.url = `${this.stage.invokeUrl}/${path}`;

    new LambdaPermission(this, "InvokePermission", {
      statementId: "AllowApiGatewayInvoke",
      action: "lambda:InvokeFunction",
      functionName: fn.functionName,
      principal: "apigateway.amazonaws.com",
      sourceArn: `${this.restApi.executionArn}/*/POST/${path}`,
    });
  }
}
