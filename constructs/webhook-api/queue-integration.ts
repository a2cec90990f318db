import { createHash } from "node:crypto";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
import { ApiGatewayAuthorizer } from "@cdktf/provider-aws/lib/api-gateway-authorizer";
import { ApiGatewayIntegration } from "@cdktf/provider-aws/lib/api-gateway-integration";
import { ApiGatewayIntegrationResponse } from "@cdktf/provider-aws/lib/api-gateway-integration-response";
import { ApiGatewayMethodResponse } from "@cdktf/provider-aws/lib/api-gateway-method-response";
import type { ApiGatewayResource } from "@cdktf/provider-aws/lib/api-gateway-resource";
import type { ApiGatewayRestApi } from "@cdktf/provider-aws/lib/api-gateway-rest-api";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { TELEGRAM_SECRET_HEADER } from "../../config/defaults";
import { ServiceRole } from "../service-role";
import type { UpdateQueue } from "../update-queue";
import type { WebhookAuthorizer } from "../webhook-authorizer";
import { QUEUE_REQUEST_CONTENT_TYPE, QUEUE_REQUEST_TEMPLATE } from "./queue-request-template";

/** Seconds API Gateway caches the authorizer's answer per secret-header value. */
export const AUTHORIZER_CACHE_SECONDS = 300;
/** SQS answers that make API Gateway answer Telegram 502, so Telegram delivers the update again. */
export const SEND_FAILED_PATTERN = "[45]\\d{2}";

/** What the queue-mode POST method needs. */
export interface QueueIntegrationParts {
  readonly restApi: ApiGatewayRestApi;
  readonly resource: ApiGatewayResource;
  readonly queue: UpdateQueue;
  readonly authorizer: WebhookAuthorizer;
  /** Region of the queue. */
  readonly region: string;
  /** Name of API Gateway's role that may send to the queue. */
  readonly roleName: string;
  /** An existing role for API Gateway (AWS Academy's LabRole). @default - a role allowed sqs:SendMessage on the queue only */
  readonly labRoleArn?: string;
}

/** The REQUEST authorizer on the secret-token header, and API Gateway's permission to invoke it. */
export function secretAuthorizer(scope: Construct, parts: Pick<QueueIntegrationParts, "restApi" | "authorizer">): ApiGatewayAuthorizer {
  const authorizer = new ApiGatewayAuthorizer(scope, "SecretAuthorizer", {
    name: "telegram-secret-token",
    restApiId: parts.restApi.id,
    type: "REQUEST",
    authorizerUri: parts.authorizer.function.invokeArn,
    // A request without the header is refused by API Gateway itself, without invoking anything.
    identitySource: `method.request.header.${TELEGRAM_SECRET_HEADER}`,
    authorizerResultTtlInSeconds: AUTHORIZER_CACHE_SECONDS,
  });
  new LambdaPermission(scope, "AuthorizerPermission", {
    statementId: "AllowApiGatewayAuthorizer",
    action: "lambda:InvokeFunction",
    functionName: parts.authorizer.function.functionName,
    principal: "apigateway.amazonaws.com",
    sourceArn: `${parts.restApi.executionArn}/authorizers/${authorizer.id}`,
  });
  return authorizer;
}

/**
 * The AWS service integration POST → SQS SendMessage (no Lambda on the ingest path): the
 * request template builds the call, API Gateway signs it with its role, and answers Telegram
 * 200 once SQS has the message (no body: SQS's answer stays inside) or 502 when SendMessage
 * failed. Returns what must redeploy the stage when it changes.
 */
export function queueIntegration(scope: Construct, httpMethod: string, parts: QueueIntegrationParts): string[] {
  const role = new ServiceRole(scope, "QueueRole", {
    roleName: parts.roleName,
    servicePrincipal: "apigateway.amazonaws.com",
    existingRoleArn: parts.labRoleArn,
  });
  parts.queue.grantSend(role);
  const account = Fn.element(Fn.split(":", parts.queue.queue.arn), 4);
  const integration = new ApiGatewayIntegration(scope, "QueueIntegration", {
    restApiId: parts.restApi.id,
    resourceId: parts.resource.id,
    httpMethod,
    type: "AWS",
    integrationHttpMethod: "POST",
    uri: `arn:aws:apigateway:${parts.region}:sqs:path/${account}/${parts.queue.queue.name}`,
    credentials: role.arn,
    requestParameters: { "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'" },
    requestTemplates: { [QUEUE_REQUEST_CONTENT_TYPE]: QUEUE_REQUEST_TEMPLATE },
    passthroughBehavior: "NEVER",
    dependsOn: role.policy ? [role.policy] : [],
  });
  const ids: string[] = [integration.id, createHash("sha256").update(QUEUE_REQUEST_TEMPLATE).digest("hex")];
  for (const [statusCode, selectionPattern] of [["200", undefined], ["502", SEND_FAILED_PATTERN]] as const) {
    const methodResponse = new ApiGatewayMethodResponse(scope, `Response${statusCode}`, {
      restApiId: parts.restApi.id,
      resourceId: parts.resource.id,
      httpMethod,
      statusCode,
    });
    const integrationResponse = new ApiGatewayIntegrationResponse(scope, `IntegrationResponse${statusCode}`, {
      restApiId: parts.restApi.id,
      resourceId: parts.resource.id,
      httpMethod,
      statusCode: methodResponse.statusCode,
      selectionPattern,
      responseTemplates: { "application/json": "" },
      dependsOn: [integration],
    });
    ids.push(methodResponse.id, integrationResponse.id);
  }
  return ids;
}
