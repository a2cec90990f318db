/**
 * What API Gateway hands a REQUEST authorizer for a webhook POST (the documented event shape:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html),
 * built locally for the dev webhook server's queue mode and the tests.
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { TELEGRAM_SECRET_HEADER } from "../config/defaults";

/** The methodArn API Gateway sends: arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<method>/<path>. */
export function webhookMethodArn(options: { region?: string; accountId?: string; apiId?: string; stage?: string; path?: string } = {}): string {
  const { region = "us-east-1", accountId = "123456789012", apiId = "a1b2c3d4e5", stage = "dev", path = "webhook" } = options;
  return `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/POST/${path}`;
}

/** A REQUEST authorizer event for POST /webhook, with the secret header when `secretToken` is given. */
export function authorizerEvent(options: { secretToken?: string; headerName?: string; methodArn?: string } = {}): APIGatewayRequestAuthorizerEvent {
  const headers: Record<string, string> = { "Content-Type": "application/json", Host: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com" };
  if (options.secretToken !== undefined) headers[options.headerName ?? TELEGRAM_SECRET_HEADER] = options.secretToken;
  const methodArn = options.methodArn ?? webhookMethodArn();
  const [, , , , accountId, rest] = methodArn.split(":");
  const [apiId, stage] = (rest ?? "").split("/");
  return {
    type: "REQUEST",
    methodArn,
    resource: "/webhook",
    path: "/webhook",
    httpMethod: "POST",
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: {},
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    stageVariables: {},
    requestContext: {
      accountId: accountId ?? "123456789012",
      apiId: apiId ?? "a1b2c3d4e5",
      authorizer: undefined,
      protocol: "HTTP/1.1",
      httpMethod: "POST",
      identity: {
        accessKey: null, accountId: null, apiKey: null, apiKeyId: null, caller: null, clientCert: null,
        cognitoAuthenticationProvider: null, cognitoAuthenticationType: null, cognitoIdentityId: null,
        cognitoIdentityPoolId: null, principalOrgId: null, sourceIp: "149.154.167.220", user: null,
        userAgent: "TelegramBot (like TwitterBot)", userArn: null,
      },
      path: `/${stage ?? "dev"}/webhook`,
      stage: stage ?? "dev",
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: "abc123",
      resourcePath: "/webhook",
    },
  };
}
