import type { Message } from "@grammyjs/types";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { BotConfig } from "./config";
import { FINAL_WAIT_LIMIT_MS, QUEUE_FINAL_WAIT_LIMIT_MS } from "./chat/answer";
import { UpdateJournal } from "./conversation/journal";
import { classifyMessage, type MessageKind } from "./conversation/router";
import type { UpdateContext } from "./conversation/update-context";
import { buildDeps, type BotDeps } from "./deps";
import { addressedKind, ownIdentityOf, type OwnIdentity } from "./delivery/address";
import { authenticate } from "./delivery/authenticate";
import { allowListOf, hasSharedIdentity, isAllowed, NOT_ALLOWED_TEXT, SHARED_IDENTITY_TEXT, type AllowList } from "./delivery/authorise";
import { claimUpdate } from "./delivery/claim";
import { completeUpdate, releaseUpdate } from "./delivery/complete";
import { decodeBody, readMessage, readPress, updateType, type Press } from "./delivery/decode";
import { checkPress, pressAnswerer, pressReplier } from "./delivery/press";
import { replierFor } from "./delivery/reply";
import { routeUpdate, type RoutePolicy } from "./delivery/route";
import { backOff, sqsVisibilitySetter, type VisibilitySetter } from "./delivery/queue-visibility";
import { recordFailureOutcome } from "./delivery/record-failure";
import { consumeBatch, type QueueRecord, type RecordOutcome } from "./delivery/sqs";
import type { Logger } from "./observability/log";
import { createMetrics, errorKindOf, type Metrics } from "./observability/metrics";
import { ArchiveStore } from "./store/archives";
import { SessionStore } from "./store/sessions";
import { StopRequests } from "./store/stop-requests";
import { UpdateMarks } from "./store/update-marks";
import { UsageLimits } from "./store/usage-limits";
import { ChatUsage } from "./store/chat-usage";

/**
 * The composition root: the update pipeline, authenticate → decode → address → authorise →
 * claim → route → complete, one step per module of delivery/, behind its two doors: an API
 * Gateway proxy event (sync mode, local mode), whose outcome becomes an HTTP answer, and a
 * batch of SQS records (queue mode), whose outcomes become the batch's item failures. Nothing
 * here decides anything itself; it passes each step's outcome to the next.
 */

/** The Lambda handler's signature: an API Gateway REST proxy event in, a proxy result out. */
export type WebhookHandler = (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult>;
/** The queue consumer's signature: a batch of SQS records in, the records to deliver again out. */
export type QueueHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** The bot behind both doors. */
export interface Bot {
  readonly webhook: WebhookHandler;
  readonly consume: QueueHandler;
}

/**
 * Logs each configuration problem once per container (createBot runs at cold start): at ERROR in
 * Lambda, so the error metric filter counts it and a broken deploy raises the alarm; at WARNING
 * locally, where a missing bucket or URL is a normal way to run.
 */
function reportConfigProblems(config: BotConfig, logger: Logger): void {
  for (const problem of config.problems) {
    const fields = { action: "load_config", outcome: "failure" as const, variable: problem.variable };
    if (config.inLambda) logger.error(problem.message, undefined, fields);
    else logger.warn(problem.message, { ...fields, outcome: "warning" });
  }
}

/** Added to the invocation's remaining time to form an update mark's lease, in ms. */
export const LEASE_MARGIN_MS = 10_000;
/** Remaining time assumed when no Lambda context is given, in ms. */
const DEFAULT_REMAINING_MS = 30_000;
/** Time a queue invocation keeps after the answer's last wait, to store it and complete the update, in ms. */
export const QUEUE_AFTER_REPLY_MS = 5_000;

/** How long the answer may wait for a 429 in queue mode: long, but never past the invocation's time. */
function queueReplyWait(remaining: () => number): () => number {
  return () => Math.max(0, Math.min(QUEUE_FINAL_WAIT_LIMIT_MS, remaining() - QUEUE_AFTER_REPLY_MS));
}

/** Seconds Telegram is asked to wait before redelivering an update that is still in progress. */
export const RETRY_IN_PROGRESS_AFTER_SECONDS = 30;

/** What every update's pipeline shares: built once per handler (per container in Lambda). */
interface Pipeline {
  readonly config: BotConfig;
  readonly deps: BotDeps;
  readonly sessions: SessionStore;
  readonly marks: UpdateMarks;
  readonly usage: UsageLimits;
  readonly chatUsage: ChatUsage;
  readonly stops: StopRequests;
  readonly archives: ArchiveStore | undefined;
  readonly allowed: AllowList;
  readonly ownIdentity: OwnIdentity;
  /** A new update's metrics (EMF lines through deps.metricsSink). */
  readonly newMetrics: () => Metrics;
  /** Shortens the visibility of a record handed back (queue mode, UPDATE_QUEUE_URL set). */
  readonly visibility: VisibilitySetter | undefined;
}

const ok = (): APIGatewayProxyResult => ({ statusCode: 200, body: "" });
const status = (statusCode: number, body: string): APIGatewayProxyResult => ({ statusCode, body });

/**
 * Creates the bot: the same pipeline behind the webhook and the queue consumer, with its clients
 * and stores built once (per container in Lambda).
 */
export function createBot(config: BotConfig, given: Partial<BotDeps> = {}): Bot {
  const deps = buildDeps(config, given);
  reportConfigProblems(config, deps.logger);
  const pipeline: Pipeline = {
    config,
    deps,
    sessions: new SessionStore({ doc: deps.doc, tableName: config.tableName, now: deps.now, newId: deps.newId }),
    marks: new UpdateMarks({ doc: deps.doc, tableName: config.tableName, now: deps.now, ttlDays: config.updateMarkTtlDays }),
    usage: new UsageLimits({ doc: deps.doc, tableName: config.tableName, now: deps.now }),
    chatUsage: new ChatUsage({ doc: deps.doc, tableName: config.tableName, now: deps.now }),
    stops: new StopRequests({ doc: deps.doc, tableName: config.tableName, now: deps.now }),
    archives: config.bucketName ? new ArchiveStore({ s3: deps.s3, bucket: config.bucketName }) : undefined,
    allowed: allowListOf(config.allowedUserIds),
    ownIdentity: ownIdentityOf(deps.bot),
    visibility: visibilityOf(config, deps),
    newMetrics: () =>
      createMetrics({
        namespace: config.metricsNamespace,
        sink: deps.metricsSink,
        now: deps.now,
        models: config.modelNames,
        onDrop: (problem) => deps.logger.warn("metric dropped", { action: "write_metrics", outcome: "warning", problem }),
      }),
  };
  const webhook: WebhookHandler = async (event, context) => {
    const log = deps.logger.child({ request_id: context?.awsRequestId ?? event?.requestContext?.requestId });
    try {
      return await handleRequest(pipeline, event, context, log);
    } catch (err) {
      log.error("unexpected failure", err, { action: "handle_update", outcome: "failure" });
      return ok();
    }
  };
  const consume: QueueHandler = (event, context) => {
    const log = deps.logger.child({ request_id: context?.awsRequestId });
    const remaining = () => context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS;
    let started = 0;
    return consumeBatch(event, {
      // The first record always starts; a later one only with time left for a whole answer.
      mayStart: () => started++ === 0 || remaining() >= config.ollamaTimeoutMs + LEASE_MARGIN_MS,
      process: (record) => handleRecord(pipeline, record, remaining() + LEASE_MARGIN_MS, queueReplyWait(remaining), log),
      handBack: (records) => backOff(records, pipeline.visibility, log),
    });
  };
  return { webhook, consume };
}

/** The queue's visibility setter, when the function knows its queue. */
function visibilityOf(config: BotConfig, deps: BotDeps): VisibilitySetter | undefined {
  if (!config.updateQueueUrl) return undefined;
  const { credentials } = deps;
  return sqsVisibilitySetter({
    queueUrl: config.updateQueueUrl,
    region: config.region,
    ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}),
    ...(credentials ? { credentials: async () => credentials } : {}),
  });
}

/**
 * Creates the webhook handler. It always resolves: 401 for a bad secret, 400 for a body that is
 * not an update, 503 for an update another delivery holds or whose answer could not be
 * delivered yet (sync mode: Telegram delivers it again), 200 for every other update (handled,
 * ignored or failed), so Telegram never redelivers forever.
 */
export function createHandler(config: BotConfig, given: Partial<BotDeps> = {}): WebhookHandler {
  return createBot(config, given).webhook;
}

/** authenticate → decode, then the message's own steps. */
async function handleRequest(p: Pipeline, event: APIGatewayProxyEvent, context: Context | undefined, log: Logger): Promise<APIGatewayProxyResult> {
  if (!authenticate(event, p.config.telegramSecretToken, p.config.inLambda)) {
    log.warn("request without the right secret token", { action: "check_secret", outcome: "failure" });
    return status(401, "unauthorized");
  }
  const decoded = decodeBody(event);
  if (!decoded.ok) {
    log.warn("request body is not a Telegram update", { action: "decode_update", outcome: "failure", reason: decoded.reason });
    return status(400, "bad request");
  }
  const acted = readActionable(decoded.update);
  if (!acted) {
    log.info("update ignored", { action: "decode_update", outcome: "ignored", update_id: decoded.updateId, update_type: updateType(decoded.update) });
    return ok();
  }
  const remainingMs = context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS;
  const outcome = await handleUpdate(p, { ...acted, updateId: decoded.updateId, leaseMs: remainingMs + LEASE_MARGIN_MS }, log);
  if (outcome === "done") return ok();
  // Another delivery holds the lease (it may finish, or it died before its lease ends), or the
  // answer could not be delivered yet: ask Telegram for a later delivery instead of dropping it.
  return { statusCode: 503, headers: { "Retry-After": String(RETRY_IN_PROGRESS_AFTER_SECONDS) }, body: "in progress" };
}

/**
 * One SQS record: its body is the update exactly as Telegram sent it (the authorizer checked
 * the secret before it was queued). A body that is not an update can never succeed: logged and
 * dropped. A record SQS delivers again (receive count above 1) comes after the visibility
 * timeout, when the earlier attempt is certainly gone: its mark is taken over at once.
 */
async function handleRecord(p: Pipeline, record: QueueRecord, leaseMs: number, replyWaitMs: () => number, log: Logger): Promise<RecordOutcome> {
  const recordLog = log.child({ sqs_message_id: record.messageId, receive_count: record.receiveCount });
  const decoded = decodeBody({ body: record.body, isBase64Encoded: false });
  if (!decoded.ok) {
    recordLog.warn("queued record is not a Telegram update; dropped", { action: "decode_update", outcome: "failure", reason: decoded.reason });
    return "done";
  }
  const acted = readActionable(decoded.update);
  if (!acted) {
    recordLog.info("update ignored", { action: "decode_update", outcome: "ignored", update_id: decoded.updateId, update_type: updateType(decoded.update) });
    return "done";
  }
  const metrics = p.newMetrics();
  if (record.sentAt !== undefined) metrics.addMetric("QueueAge", Math.max(0, p.deps.now() - record.sentAt));
  if (record.receiveCount > 1) metrics.addMetric("ReceiveCount", record.receiveCount);
  const incoming: Incoming = { ...acted, updateId: decoded.updateId, leaseMs, replyWaitMs, takeOver: record.receiveCount > 1, metrics };
  try {
    const outcome = await handleUpdate(p, incoming, recordLog, { retryStorage: true });
    return outcome === "done" ? "done" : "retry";
  } catch (err) {
    const where = acted.press ? { press: acted.press } : { message: acted.message };
    const outcome = await recordFailureOutcome(err, where, p.deps.bot, recordLog.child({ update_id: decoded.updateId }));
    if (outcome === "done") {
      metrics.addDimension("ErrorKind", errorKindOf(err));
      metrics.addMetric("Failed", 1);
      metrics.flush();
    }
    return outcome;
  }
}

/** A message with a sender (channel posts and some service messages have none). */
type SentMessage = Message & { readonly from: NonNullable<Message["from"]> };
const hasSender = (message: Message): message is SentMessage => message.from !== undefined;

/** What the bot acts on in an update: a message with a sender, or a press of one of its buttons. */
type Actionable = { readonly message: SentMessage; readonly press?: undefined } | { readonly press: Press; readonly message?: undefined };

function readActionable(update: Record<string, unknown>): Actionable | undefined {
  const message = readMessage(update);
  if (message && hasSender(message)) return { message };
  const press = readPress(update);
  return press ? { press } : undefined;
}

/** One decoded update on its way through the pipeline. */
type Incoming = Actionable & IncomingUpdate;
/** One decoded message on its way through the pipeline. */
type IncomingMessage = { readonly message: SentMessage } & MeasuredUpdate;
/** One decoded press on its way through the pipeline. */
type IncomingPress = { readonly press: Press } & MeasuredUpdate;
/** An update on its own steps, with the metrics handleUpdate gave it. */
type MeasuredUpdate = IncomingUpdate & { readonly metrics: Metrics };

/** What every update carries through the pipeline besides its message or press. */
interface IncomingUpdate {
  readonly updateId: number;
  readonly leaseMs: number;
  /** See UpdateContext.replyWaitMs. @default FINAL_WAIT_LIMIT_MS */
  readonly replyWaitMs?: () => number;
  /** Take over a mark in progress whatever its lease. @default false */
  readonly takeOver?: boolean;
  /** The update's metrics, begun by its door (queue figures). @default - new ones */
  readonly metrics?: Metrics;
}

/** What the message's steps concluded. */
type MessageOutcome = "done" | "in_progress" | "retry";

/** The update's own steps, its metrics written once when they end (a throw leaves them to the door's failure). */
async function handleUpdate(p: Pipeline, given: Incoming, log: Logger, policy: RoutePolicy = {}): Promise<MessageOutcome> {
  const incoming = { ...given, metrics: given.metrics ?? p.newMetrics() };
  const outcome = incoming.press
    ? await handlePress(p, { ...incoming, press: incoming.press }, log, policy)
    : await handleMessage(p, { ...incoming, message: incoming.message }, log, policy);
  incoming.metrics.flush();
  return outcome;
}

/** address → authorise → claim → route → complete. */
async function handleMessage(p: Pipeline, incoming: IncomingMessage, log: Logger, policy: RoutePolicy = {}): Promise<MessageOutcome> {
  const { message, updateId } = incoming;
  const userId = message.from.id;
  const updateLog = log.child({ update_id: updateId, user_id: userId, chat_id: message.chat.id, message_id: message.message_id });
  const notify = replierFor(p.deps.bot, message);

  const kind = await addressedKind(message, classifyMessage(message), p.ownIdentity);
  if (!kind) {
    updateLog.debug("message not addressed to this bot", { action: "route", outcome: "ignored" });
    return "done";
  }
  if (hasSharedIdentity(message)) {
    updateLog.info("sender has no identity of its own (anonymous admin or channel)", { action: "check_user", outcome: "ignored" });
    await notify(SHARED_IDENTITY_TEXT).catch(() => undefined);
    return "done";
  }
  if (!isAllowed(p.allowed, userId)) {
    updateLog.warn("user not allowed", { action: "check_user", outcome: "failure" });
    incoming.metrics.addDimension("Limit", "notAllowed");
    incoming.metrics.addMetric("Refused", 1);
    await notify(NOT_ALLOWED_TEXT).catch(() => undefined);
    return "done";
  }
  const claim = await claimFor(p, incoming, userId, kind, updateLog, notify, policy);
  if (claim.kind === "in_progress") return "in_progress";
  if (claim.kind === "failed") return claim.willRetry ? "retry" : "done";
  if (claim.kind !== "claimed") return "done";

  const journal = new UpdateJournal(p.marks, userId, updateId, claim.journal);
  const ctx = contextFor(p, incoming, message, journal, updateLog, {
    reply: replierFor(p.deps.bot, message, journal),
    notify,
    ...(claim.activeSessionId ? { activeSessionId: claim.activeSessionId } : {}),
    ...(claim.usage ? { usageRead: claim.usage } : {}),
  });
  return routeAndComplete(p, ctx, kind, policy);
}

/** The claim step of an update, with the pipeline's stores. */
function claimFor(p: Pipeline, incoming: IncomingUpdate, userId: number, kind: MessageKind, log: Logger, reply: (text: string) => Promise<void>, policy: RoutePolicy) {
  return claimUpdate({
    marks: p.marks,
    sessions: p.sessions,
    userId,
    updateId: incoming.updateId,
    kind,
    leaseMs: incoming.leaseMs,
    takeOver: incoming.takeOver,
    log,
    reply,
    retryOnFailure: policy.retryStorage,
    usage: { now: p.deps.now(), withBot: p.config.tokenBudgets.botTokensPerDay > 0 },
  });
}

/** The parts of an UpdateContext that differ between a message and a press. */
type ContextParts = Pick<UpdateContext, "reply" | "press" | "activeSessionId" | "usageRead"> & { readonly notify: (text: string) => Promise<void> };

/** The UpdateContext of a claimed update. */
function contextFor(p: Pipeline, incoming: MeasuredUpdate, message: SentMessage, journal: UpdateJournal, log: Logger, parts: ContextParts): UpdateContext {
  const { notify, ...rest } = parts;
  return {
    config: p.config,
    message,
    updateId: incoming.updateId,
    leaseMs: incoming.leaseMs,
    replyWaitMs: incoming.replyWaitMs ?? (() => FINAL_WAIT_LIMIT_MS),
    userId: message.from.id,
    chatId: message.chat.id,
    sessions: p.sessions,
    usage: p.usage,
    chatUsage: p.chatUsage,
    stops: p.stops,
    archives: p.archives,
    bot: p.deps.bot,
    models: p.deps.models,
    transcription: p.deps.transcription,
    metrics: incoming.metrics,
    log,
    now: p.deps.now,
    journal,
    notify: (text) =>
      notify(text).catch((err: unknown) => {
        log.warn("could not send the failure message", { action: "reply", outcome: "failure", error_kind: err instanceof Error ? err.name : "unknown" });
      }),
    ...rest,
  };
}

/** route → complete (or release, for a later delivery). */
async function routeAndComplete(p: Pipeline, ctx: UpdateContext, kind: MessageKind, policy: RoutePolicy): Promise<MessageOutcome> {
  const { userId, updateId, log: updateLog } = ctx;
  const routed = await routeUpdate(ctx, kind, policy);
  if (routed === "retry") {
    await releaseUpdate(p.marks, userId, updateId, updateLog);
    return "retry";
  }
  await completeUpdate(p.marks, userId, updateId, updateLog);
  return "done";
}

/**
 * A press of one of the bot's buttons: check → claim → route → answer → complete. The press
 * is answered in every case (the client shows a spinner until it is), with a short notice
 * when it may not act; a press delivered twice acts once (its update's mark).
 */
async function handlePress(p: Pipeline, incoming: IncomingPress, log: Logger, policy: RoutePolicy): Promise<MessageOutcome> {
  const { press, updateId } = incoming;
  const userId = press.from.id;
  const pressLog = log.child({ update_id: updateId, user_id: userId, chat_id: press.chat.id, message_id: press.messageId });
  const answerer = pressAnswerer(p.deps.bot, press, pressLog);
  const check = checkPress(press, p.allowed);
  if (!check.ok) {
    pressLog.warn("button press refused", { action: "check_press", outcome: "failure", reason: check.reason });
    await answerer.answer(check.text);
    return "done";
  }
  const kind: MessageKind = { kind: "press", button: check.button };
  const claim = await claimFor(p, incoming, userId, kind, pressLog, (text) => answerer.answer(text), policy);
  if (claim.kind === "in_progress") return "in_progress";
  if (claim.kind === "failed") return claim.willRetry ? "retry" : "done";
  if (claim.kind !== "claimed") {
    await answerer.answer();
    return "done";
  }
  // The message carrying the button, as sent by the presser: replies go to its chat.
  const message = { message_id: press.messageId, date: 0, chat: press.chat, from: press.from } as SentMessage;
  const journal = new UpdateJournal(p.marks, userId, updateId, claim.journal);
  const ctx = contextFor(p, incoming, message, journal, pressLog, {
    reply: pressReplier(p.deps.bot, press, journal),
    notify: replierFor(p.deps.bot, message),
    press: answerer,
  });
  try {
    return await routeAndComplete(p, ctx, kind, policy);
  } finally {
    await answerer.answer();
  }
}
