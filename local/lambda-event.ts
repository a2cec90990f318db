/**
 * What API Gateway (REST API, Lambda proxy integration) hands the function, built locally:
 * the dev webhook server, `npm start`, the benchmark and the tests call the real handler
 * with these events instead of deploying.
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, APIGatewayProxyEventHeaders, APIGatewayProxyEventMultiValueHeaders, Context } from "aws-lambda";
import { TELEGRAM_SECRET_HEADER } from "../config/defaults";

/** Path of the webhook resource. */
export const DEFAULT_WEBHOOK_PATH = "/webhook";
/** Stage name the local events claim to come from. */
export const LOCAL_STAGE = "local";
/** Lambda timeout a local context counts down from, in milliseconds (the function's configured timeout). */
export const DEFAULT_LAMBDA_TIMEOUT_MS = 120_000;
/** Function name of a local context. */
export const DEFAULT_FUNCTION_NAME = "telegram-bot-local";

/** One of Telegram's documented webhook source addresses (149.154.160.0/20). */
const TELEGRAM_SOURCE_IP = "149.154.167.220";

/** Options of proxyEventFromUpdate. */
export interface UpdateEventOptions {
  /** Value of the X-Telegram-Bot-Api-Secret-Token header. @default - no header */
  readonly secretToken?: string;
  /** requestContext.requestId. @default - a random UUID */
  readonly requestId?: string;
  /** Request path. @default "/webhook" */
  readonly path?: string;
}

/**
 * An API Gateway REST proxy event for a webhook POST, as Telegram delivers it (body = JSON
 * of the update; header X-Telegram-Bot-Api-Secret-Token when secretToken given).
 */
export function proxyEventFromUpdate(update: unknown, options: UpdateEventOptions = {}): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Host: "api.example.com",
    "User-Agent": "TelegramBot (like TwitterBot)",
  };
  if (options.secretToken !== undefined) headers[TELEGRAM_SECRET_HEADER] = options.secretToken;
  return proxyEventFromHttp({
    method: "POST",
    path: options.path ?? DEFAULT_WEBHOOK_PATH,
    headers,
    body: JSON.stringify(update),
    requestId: options.requestId,
    sourceIp: TELEGRAM_SOURCE_IP,
  });
}

/** A raw HTTP request, as the dev webhook server or a fuzz test has it. */
export interface HttpRequestLike {
  /** @default "POST" */
  readonly method?: string;
  /** Path, optionally with a query string (`/webhook?x=1`). @default "/webhook" */
  readonly path?: string;
  /** Headers as Node's IncomingMessage has them; array values become multi-value headers. */
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body as API Gateway passes it (base64 when isBase64Encoded). */
  readonly body: string | null;
  /** @default false */
  readonly isBase64Encoded?: boolean;
  /** requestContext.requestId. @default - a random UUID */
  readonly requestId?: string;
  /** requestContext.identity.sourceIp. @default "127.0.0.1" */
  readonly sourceIp?: string;
}

/**
 * The same for an arbitrary raw HTTP request (any body string, any headers,
 * isBase64Encoded) — used by the dev webhook server and fuzz tests. Header names keep
 * their case, as API Gateway REST APIs do; for a repeated header `headers` holds the last value.
 */
export function proxyEventFromHttp(request: HttpRequestLike): APIGatewayProxyEvent {
  const method = (request.method ?? "POST").toUpperCase();
  const [rawPath, rawQuery] = splitOnce(request.path ?? DEFAULT_WEBHOOK_PATH, "?");
  const path = rawPath === "" ? "/" : rawPath;
  const requestId = request.requestId ?? randomUUID();
  const sourceIp = request.sourceIp ?? "127.0.0.1";

  const headers: APIGatewayProxyEventHeaders = {};
  const multiValueHeaders: APIGatewayProxyEventMultiValueHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0) continue;
    headers[name] = values[values.length - 1];
    multiValueHeaders[name] = [...values];
  }
  const { queryStringParameters, multiValueQueryStringParameters } = parseQuery(rawQuery);
  const userAgent = headerValue(headers, "user-agent") ?? null;
  const now = new Date();

  return {
    body: request.body,
    headers,
    multiValueHeaders,
    httpMethod: method,
    isBase64Encoded: request.isBase64Encoded ?? false,
    path,
    pathParameters: null,
    queryStringParameters,
    multiValueQueryStringParameters,
    stageVariables: null,
    resource: path,
    requestContext: {
      accountId: "123456789012",
      apiId: "localapi01",
      authorizer: null,
      domainName: headerValue(headers, "host") ?? "localhost",
      domainPrefix: (headerValue(headers, "host") ?? "localhost").split(".")[0],
      extendedRequestId: requestId.replace(/-/g, "").slice(0, 16),
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/${LOCAL_STAGE}${path}`,
      protocol: "HTTP/1.1",
      requestId,
      requestTime: formatRequestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: "local01",
      resourcePath: path,
      stage: LOCAL_STAGE,
    },
  };
}

/** Options of lambdaContext. */
export interface LambdaContextOptions {
  /** The function's timeout; getRemainingTimeInMillis counts down from it. @default 120000 */
  readonly timeoutMs?: number;
  /** awsRequestId. @default - a random UUID */
  readonly requestId?: string;
  /** @default "telegram-bot-local" */
  readonly functionName?: string;
}

/** A Lambda Context whose getRemainingTimeInMillis counts down from timeoutMs (default 120000) from creation. */
export function lambdaContext(options: LambdaContextOptions = {}): Context {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LAMBDA_TIMEOUT_MS;
  const functionName = options.functionName ?? DEFAULT_FUNCTION_NAME;
  const deadline = Date.now() + timeoutMs;
  const noLongerSupported = (): never => {
    throw new Error("context.done/succeed/fail are not supported: return or throw from the handler instead");
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: options.requestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, "/")}/[$LATEST]local`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: noLongerSupported,
    fail: noLongerSupported,
    succeed: noLongerSupported,
  };
}

function splitOnce(value: string, separator: string): [string, string | undefined] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, undefined] : [value.slice(0, at), value.slice(at + 1)];
}

/** API Gateway's query fields: null when there is no query string. */
function parseQuery(query: string | undefined): {
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
} {
  if (query === undefined || query === "") return { queryStringParameters: null, multiValueQueryStringParameters: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

function headerValue(headers: APIGatewayProxyEventHeaders, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** API Gateway's requestTime format: "09/Apr/2015:12:34:56 +0000". */
function formatRequestTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}
