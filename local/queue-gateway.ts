/**
 * Queue mode's ingest path, played locally for `npm run dev:webhook -- --delivery queue`: what
 * API Gateway does with a webhook POST before anything reaches the function. In order:
 * - no X-Telegram-Bot-Api-Secret-Token header: 401, without invoking the authorizer;
 * - the authorizer (the bundle's own `authorizer`, its answer cached per header value for
 *   AUTHORIZER_CACHE_SECONDS) denies: 403;
 * - a body that is not `application/json`: 415 (the integration's passthrough is NEVER);
 * - the real request template (constructs/webhook-api/queue-request-template.ts), rendered by a
 *   Velocity engine, gives the SendMessage parameters; the message goes to the local FIFO queue
 *   and Telegram gets 200, or 502 when SQS would refuse it.
 */
import { TELEGRAM_SECRET_HEADER } from "../config/defaults";
import { AUTHORIZER_CACHE_SECONDS } from "../constructs/webhook-api/queue-integration";
import { QUEUE_REQUEST_CONTENT_TYPE, QUEUE_REQUEST_TEMPLATE } from "../constructs/webhook-api/queue-request-template";
import type { Authorizer } from "../handler/delivery/authorizer";
import { renderMappingTemplate } from "./api-gateway-vtl";
import { authorizerEvent } from "./authorizer-event";
import type { LocalFifoQueue } from "./fifo-queue";

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
  readonly queue: Pick<LocalFifoQueue, "send">;
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
    const groupId = params.get("MessageGroupId") ?? "";
    const deduplicationId = params.get("MessageDeduplicationId") ?? "";
    const body = params.get("MessageBody") ?? "";
    // SQS refuses a FIFO message without these (400), which the integration maps to 502.
    if (params.get("Action") !== "SendMessage" || !groupId || !deduplicationId || !body) return json(502, { message: "SendMessage failed" });
    options.queue.send(body, groupId, deduplicationId);
    return { status: 200, body: "" };
  };
}
