import type { Message } from "@grammyjs/types";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import type { BotConfig } from "./config";
import { classifyMessage } from "./conversation/router";
import type { UpdateContext } from "./conversation/update-context";
import { buildDeps, type BotDeps } from "./deps";
import { addressedKind, ownIdentityOf, type OwnIdentity } from "./delivery/address";
import { authenticate } from "./delivery/authenticate";
import { allowListOf, isAllowed, NOT_ALLOWED_TEXT, type AllowList } from "./delivery/authorise";
import { claimUpdate } from "./delivery/claim";
import { completionOf } from "./delivery/complete";
import { decodeBody, isAsyncDelivery, readMessage, updateType } from "./delivery/decode";
import { replierFor } from "./delivery/reply";
import { routeUpdate } from "./delivery/route";
import type { Logger } from "./observability/log";
import { ArchiveStore } from "./store/archives";
import { SessionStore } from "./store/sessions";
import { UpdateMarks } from "./store/update-marks";

/**
 * The composition root: the webhook pipeline, authenticate → decode → address → authorise →
 * claim → route → complete, one step per module of delivery/. Nothing here decides anything
 * itself; it passes each step's outcome to the next and turns the outcome into an HTTP answer.
 */

/** The Lambda handler's signature: an API Gateway REST proxy event in, a proxy result out. */
export type WebhookHandler = (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult>;

/** Added to the invocation's remaining time to form an update mark's lease, in ms. */
export const LEASE_MARGIN_MS = 10_000;
/** Remaining time assumed when no Lambda context is given, in ms. */
const DEFAULT_REMAINING_MS = 30_000;
/** Seconds Telegram is asked to wait before redelivering an update that is still in progress. */
export const RETRY_IN_PROGRESS_AFTER_SECONDS = 30;

/**
 * Thrown (the only error the handler lets out) in async delivery mode for an update another
 * invocation holds: Lambda then retries the event later, when that lease has ended.
 */
export class RedeliverLaterError extends Error {
  override readonly name = "RedeliverLaterError";
  constructor(readonly updateId: number) {
    super(`update ${updateId} is being handled by another invocation; retry later`);
  }
}

/** What every update's pipeline shares: built once per handler (per container in Lambda). */
interface Pipeline {
  readonly config: BotConfig;
  readonly deps: BotDeps;
  readonly sessions: SessionStore;
  readonly marks: UpdateMarks;
  readonly archives: ArchiveStore | undefined;
  readonly allowed: AllowList;
  readonly ownIdentity: OwnIdentity;
}

const ok = (): APIGatewayProxyResult => ({ statusCode: 200, body: "" });
const status = (statusCode: number, body: string): APIGatewayProxyResult => ({ statusCode, body });

/**
 * Creates the webhook handler. It always resolves: 401 for a bad secret, 400 for a body that is
 * not an update, 503 for an update another delivery holds (sync mode), 200 for every other
 * update (handled, ignored or failed), so Telegram never redelivers forever. The same handler
 * serves synchronous and asynchronous invocation (the return value carries no reply).
 */
export function createHandler(config: BotConfig, given: Partial<BotDeps> = {}): WebhookHandler {
  const deps = buildDeps(config, given);
  for (const problem of config.problems) {
    deps.logger.warn(problem.message, { action: "load_config", outcome: "warning", variable: problem.variable });
  }
  const pipeline: Pipeline = {
    config,
    deps,
    sessions: new SessionStore({ doc: deps.doc, tableName: config.tableName, now: deps.now, newId: deps.newId }),
    marks: new UpdateMarks({ doc: deps.doc, tableName: config.tableName, now: deps.now, ttlDays: config.updateMarkTtlDays }),
    archives: config.bucketName ? new ArchiveStore({ s3: deps.s3, bucket: config.bucketName }) : undefined,
    allowed: allowListOf(config.allowedUserIds),
    ownIdentity: ownIdentityOf(deps.bot),
  };
  return async (event, context) => {
    const log = deps.logger.child({ request_id: context?.awsRequestId ?? event?.requestContext?.requestId });
    try {
      return await handleRequest(pipeline, event, context, log);
    } catch (err) {
      if (err instanceof RedeliverLaterError) throw err;
      log.error("unexpected failure", err, { action: "handle_update", outcome: "failure" });
      return ok();
    }
  };
}

/** authenticate → decode, then the message's own steps. */
async function handleRequest(p: Pipeline, event: APIGatewayProxyEvent, context: Context | undefined, log: Logger): Promise<APIGatewayProxyResult> {
  if (!authenticate(event, p.config.telegramSecretToken)) {
    log.warn("request without the right secret token", { action: "check_secret", outcome: "failure" });
    return status(401, "unauthorized");
  }
  const decoded = decodeBody(event);
  if (!decoded.ok) {
    log.warn("request body is not a Telegram update", { action: "decode_update", outcome: "failure", reason: decoded.reason });
    return status(400, "bad request");
  }
  const message = readMessage(decoded.update);
  if (!message || !hasSender(message)) {
    log.info("update ignored", { action: "decode_update", outcome: "ignored", update_id: decoded.updateId, update_type: updateType(decoded.update) });
    return ok();
  }
  const remainingMs = context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS;
  return handleMessage(p, { event, message, updateId: decoded.updateId, leaseMs: remainingMs + LEASE_MARGIN_MS }, log);
}

/** A message with a sender (channel posts and some service messages have none). */
type SentMessage = Message & { readonly from: NonNullable<Message["from"]> };
const hasSender = (message: Message): message is SentMessage => message.from !== undefined;

/** One decoded message on its way through the pipeline. */
interface IncomingMessage {
  readonly event: APIGatewayProxyEvent;
  readonly message: SentMessage;
  readonly updateId: number;
  readonly leaseMs: number;
}

/** address → authorise → claim → route → complete. */
async function handleMessage(p: Pipeline, incoming: IncomingMessage, log: Logger): Promise<APIGatewayProxyResult> {
  const { message, updateId, leaseMs } = incoming;
  const userId = message.from.id;
  const updateLog = log.child({ update_id: updateId, user_id: userId, chat_id: message.chat.id, message_id: message.message_id });
  const reply = replierFor(p.deps.bot, message);

  const kind = await addressedKind(message, classifyMessage(message), p.ownIdentity);
  if (!kind) {
    updateLog.debug("message not addressed to this bot", { action: "route", outcome: "ignored" });
    return ok();
  }
  if (!isAllowed(p.allowed, userId)) {
    updateLog.warn("user not allowed", { action: "check_user", outcome: "failure" });
    await reply(NOT_ALLOWED_TEXT).catch(() => undefined);
    return ok();
  }
  const claim = await claimUpdate({ marks: p.marks, sessions: p.sessions, userId, updateId, kind, leaseMs, log: updateLog, reply });
  if (claim.kind === "in_progress") {
    // Another delivery holds the lease: it may finish, or it may have died (a crash before its
    // lease ends). Ask for a later delivery instead of dropping the update: Telegram redelivers
    // after a 503 (sync mode); Lambda retries a failed asynchronous invocation (async mode).
    if (isAsyncDelivery(incoming.event)) throw new RedeliverLaterError(updateId);
    return { statusCode: 503, headers: { "Retry-After": String(RETRY_IN_PROGRESS_AFTER_SECONDS) }, body: "in progress" };
  }
  if (claim.kind !== "claimed") return ok();

  const completeUpdate = completionOf(p.marks, userId, updateId, updateLog);
  const ctx: UpdateContext = {
    config: p.config,
    message,
    updateId,
    leaseMs,
    userId,
    chatId: message.chat.id,
    sessions: p.sessions,
    archives: p.archives,
    bot: p.deps.bot,
    ollama: p.deps.ollama,
    log: updateLog,
    now: p.deps.now,
    newId: p.deps.newId,
    reply,
    ...(claim.activeSessionId ? { activeSessionId: claim.activeSessionId } : {}),
    completeUpdate,
  };
  await routeUpdate(ctx, kind);
  await completeUpdate();
  return ok();
}
