/**
 * Queue mode's ingest path, played locally for `npm run dev:webhook -- --delivery queue`: what
 * API Gateway does with a webhook POST before anything reaches the function. In order:
 * - no X-Telegram-Bot-Api-Secret-Token header: 401, without invoking the authorizer;
 * - the authorizer (the bundle's own `authorizer`, its answer cached per header value for
 *   AUTHORIZER_CACHE_SECONDS) denies: 403;
 * - a body that is not `application/json`: 415 (the integration's passthrough is NEVER);
 * - the real request template (constructs/webhook-api/queue-request-template.ts), rendered by a
 *   Velocity engine, gives the SendMessage parameters of the Query API; they go to the SQS
 *   emulator as an SDK SendMessage (fauxqs speaks only the JSON protocol), and Telegram gets 200,
 *   or 502 when SQS refuses the message or cannot be reached (the integration's error mapping).
 *   A duplicate (the same MessageDeduplicationId within 5 minutes) is accepted by SQS without
 *   being queued again, so it gets 200 too.
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { TELEGRAM_SECRET_HEADER } from "../config/defaults";
import { AUTHORIZER_CACHE_SECONDS } from "../constructs/webhook-api/queue-integration";
import { QUEUE_REQUEST_CONTENT_TYPE, QUEUE_REQUEST_TEMPLATE } from "../constructs/webhook-api/queue-request-template";
import type { Authorizer } from "../handler/delivery/authorizer";
import { renderMappingTemplate } from "./api-gateway-vtl";
import { authorizerEvent } from "./authorizer-event";

/** A webhook request as the local server received it. */
export interface GatewayRequest {
  /** Header names as sent; looked up case-insensitively as API Gateway does. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** API Gateway's answer to Telegram. */
export interface GatewayResponse {
  readonly status: number;
  readonly body: string;
}

/** Options of {@link createQueueGateway}. */
export interface QueueGatewayOptions {
  readonly authorize: Authorizer;
  /** Where the integration sends: a client on the SQS emulator and the update queue's URL. */
  readonly queue: { readonly client: SQSClient; readonly url: string };
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

const header = (headers: GatewayRequest["headers"], name: string): string | undefined =>
  Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];

const json = (status: number, body: unknown): GatewayResponse => ({ status, body: JSON.stringify(body) });

/** The ingest path: see the module comment. */
export function createQueueGateway(options: QueueGatewayOptions): (request: GatewayRequest) => Promise<GatewayResponse> {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { allowed: boolean; until: number }>();
  const allowed = async (secret: string): Promise<boolean> => {
    const cached = cache.get(secret);
    if (cached && cached.until > now()) return cached.allowed;
    const result = await options.authorize(authorizerEvent({ secretToken: secret }));
    const ok = result.policyDocument.Statement.every((s) => "Effect" in s && s.Effect === "Allow");
    cache.set(secret, { allowed: ok, until: now() + AUTHORIZER_CACHE_SECONDS * 1000 });
    return ok;
  };
  return async (request) => {
    const secret = header(request.headers, TELEGRAM_SECRET_HEADER);
    if (secret === undefined || secret === "") return json(401, { message: "Unauthorized" });
    if (!(await allowed(secret))) return json(403, { Message: "User is not authorized to access this resource with an explicit deny" });
    const contentType = header(request.headers, "content-type")?.split(";")[0]?.trim().toLowerCase();
    if (contentType !== QUEUE_REQUEST_CONTENT_TYPE) return json(415, { message: "Unsupported Media Type" });
    const params = new URLSearchParams(renderMappingTemplate(QUEUE_REQUEST_TEMPLATE, { body: request.body }));
    if (params.get("Action") !== "SendMessage") return json(502, { message: "SendMessage failed" });
    const sent = await sendMessage(options.queue, params);
    return sent ? { status: 200, body: "" } : json(502, { message: "SendMessage failed" });
  };
}

/**
 * The body with characters above U+FFFF (emoji) written as JSON `\u` escapes: fauxqs 1.9.2
 * refuses them (its character check lacks the regex `u` flag) where real SQS takes them, and
 * Telegram bodies are JSON, in which the escape decodes to the same update. Only local mode
 * does this; the tests that need the raw body byte for byte render the template directly.
 */
export function withEscapedAstral(body: string | null): string | undefined {
  if (body === null) return undefined;
  return body.replace(/[\u{10000}-\u{10FFFF}]/gu, (c) => {
    const code = c.codePointAt(0)! - 0x10000;
    const hex = (n: number) => n.toString(16).padStart(4, "0");
    return `\\u${hex(0xd800 + (code >> 10))}\\u${hex(0xdc00 + (code & 0x3ff))}`;
  });
}

/** Sends the template's SendMessage parameters; false when SQS refused (any 4xx/5xx) or was unreachable. */
async function sendMessage(queue: QueueGatewayOptions["queue"], params: URLSearchParams): Promise<boolean> {
  const command = new SendMessageCommand({
    QueueUrl: queue.url,
    MessageBody: withEscapedAstral(params.get("MessageBody")),
    MessageGroupId: params.get("MessageGroupId") ?? undefined,
    MessageDeduplicationId: params.get("MessageDeduplicationId") ?? undefined,
  });
  try {
    await queue.client.send(command);
    return true;
  } catch {
    return false;
  }
}
