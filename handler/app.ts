import { randomUUID } from "node:crypto";
import type { Message } from "@grammyjs/types";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { splitText } from "./format/split";
import { ArchiveStore, type S3ClientFactory } from "./store/archives";
import { createDocumentClient, createS3ClientFactory, type StaticCredentials } from "./store/aws";
import type { DocumentClient } from "./store/document-client";
import type { BotConfig } from "./config";
import { isConditionFailed, isThrottling } from "./store/dynamo";
import { ConnectionError, ServiceError } from "./net/errors";
import { UpdateMarks } from "./store/update-marks";
import { createLogger, type Logger } from "./observability/log";
import { OllamaClient } from "./model/ollama";
import { classifyMessage, routeMessage, type MessageKind } from "./conversation/router";
import { SessionStore } from "./store/sessions";
import { TelegramClient } from "./telegram/client";
import { groupChatText, type BotIdentity } from "./delivery/group-address";
import { decodeBody, isAsyncDelivery, readMessage, secretTokenMatches, updateType } from "./delivery/update";
import type { ModelApi, TelegramApi, UpdateContext } from "./conversation/update-context";

/** The handler's collaborators; tests and local mode pass their own, the Lambda builds them from config. */
export interface BotDeps {
  /** DynamoDB document client. @default - built from config (region, AWS_ENDPOINT_URL_DYNAMODB) */
  readonly doc: DocumentClient;
  /** Lazy S3 client. @default - built from config on first archive command */
  readonly s3: S3ClientFactory;
  /** Bot API client. @default - a TelegramClient on config.telegramApiUrl */
  readonly bot: TelegramApi;
  /** Ollama client; undefined when OLLAMA_URL is not set. @default - an OllamaClient on config.ollamaUrl */
  readonly ollama: ModelApi | undefined;
  /** Clock, epoch ms. @default Date.now */
  readonly now: () => number;
  /** New session ids. @default crypto.randomUUID */
  readonly newId: () => string;
  /** Structured logger. @default - JSON lines on stdout at config.logLevel, redacting the secrets */
  readonly logger: Logger;
  /** Static credentials for the default AWS clients (emulators). @default - the SDK's default chain */
  readonly credentials: StaticCredentials | undefined;
}

/** The Lambda handler's signature: an API Gateway REST proxy event in, a proxy result out. */
export type WebhookHandler = (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult>;

/** Added to the invocation's remaining time to form an update mark's lease, in ms. */
export const LEASE_MARGIN_MS = 10_000;
/** Remaining time assumed when no Lambda context is given, in ms. */
const DEFAULT_REMAINING_MS = 30_000;

const ok = (): APIGatewayProxyResult => ({ statusCode: 200, body: "" });
const status = (statusCode: number, body: string): APIGatewayProxyResult => ({ statusCode, body });

/** The stdout sink: one line per entry without console.log's prefix, so CloudWatch sees pure JSON. */
const stdoutSink = (line: string) => {
  process.stdout.write(`${line}\n`);
};

/** Builds every default collaborator from a config, keeping the given ones. */
export function buildDeps(config: BotConfig, given: Partial<BotDeps> = {}): BotDeps {
  const logger =
    given.logger ??
    createLogger({
      level: config.logLevel,
      secrets: [config.telegramToken, config.telegramSecretToken, config.ollamaApiKey],
      sink: stdoutSink,
    });
  const credentials = given.credentials;
  return {
    doc: given.doc ?? createDocumentClient(config, credentials),
    s3: given.s3 ?? createS3ClientFactory(config, credentials),
    bot:
      given.bot ??
      new TelegramClient({
        token: config.telegramToken,
        apiUrl: config.telegramApiUrl,
        timeoutMs: config.telegramTimeoutMs,
        maxRetryWaitMs: config.telegramMaxRetryWaitMs,
        logger,
      }),
    ollama:
      "ollama" in given
        ? given.ollama
        : config.ollamaUrl
          ? new OllamaClient({
              baseUrl: config.ollamaUrl,
              apiKey: config.ollamaApiKey,
              timeoutMs: config.ollamaTimeoutMs,
              statusTimeoutMs: config.ollamaStatusTimeoutMs,
            })
          : undefined,
    now: given.now ?? Date.now,
    newId: given.newId ?? randomUUID,
    logger,
    credentials,
  };
}

/**
 * Creates the webhook handler: checks the secret token, decodes the update, refuses users not
 * allowed, deduplicates by update_id, routes the message and answers through Bot API calls.
 * It always resolves: 401 for a bad secret, 400 for a body that is not an update, 200 for
 * every update (handled, ignored or failed), so Telegram never redelivers forever. The same
 * handler serves synchronous and asynchronous invocation (the return value carries no reply).
 */
export function createHandler(config: BotConfig, given: Partial<BotDeps> = {}): WebhookHandler {
  const deps = buildDeps(config, given);
  const { logger } = deps;
  for (const problem of config.problems) {
    logger.warn(problem.message, { action: "load_config", outcome: "warning", variable: problem.variable });
  }
  const sessions = new SessionStore({ doc: deps.doc, tableName: config.tableName, now: deps.now, newId: deps.newId });
  const marks = new UpdateMarks({ doc: deps.doc, tableName: config.tableName, now: deps.now, ttlDays: config.updateMarkTtlDays });
  const archives = config.bucketName ? new ArchiveStore({ s3: deps.s3, bucket: config.bucketName }) : undefined;
  const allowed = config.allowedUserIds ? new Set(config.allowedUserIds) : undefined;

  let botIdentity: Promise<BotIdentity | undefined> | undefined;
  /**
   * The bot's own id and username, asked once (getMe) and only when a group message or a
   * command with an @suffix needs them; a failed getMe is asked again next time.
   */
  const ownIdentity = (): Promise<BotIdentity | undefined> => {
    botIdentity ??= deps.bot.call("getMe", {}).then(
      (me) => (me.username ? { id: me.id, username: me.username } : undefined),
      () => {
        botIdentity = undefined;
        return undefined;
      },
    );
    return botIdentity;
  };

  const replier = (chatId: number, message: Message) => async (text: string) => {
    const inGroup = message.chat.type !== "private";
    for (const part of splitText(text)) {
      await deps.bot.call("sendMessage", {
        chat_id: chatId,
        text: part,
        ...(inGroup ? { reply_parameters: { message_id: message.message_id, allow_sending_without_reply: true } } : {}),
      });
    }
  };

  /**
   * What to do with a message, or undefined when it is not meant for this bot; decided before
   * anything is stored. In groups a command must name no bot or this one, and a chat message
   * must mention the bot or reply to it (its text then goes without the mention): it becomes a
   * group_chat, answered apart from the sender's sessions.
   */
  const addressedKind = async (message: Message, kind: MessageKind): Promise<MessageKind | undefined> => {
    const isPrivate = message.chat.type === "private";
    if (kind.kind === "command") {
      const suffix = kind.command.botUsername;
      if (suffix === undefined) return kind;
      const own = await ownIdentity();
      if (own === undefined) return isPrivate ? kind : undefined;
      return own.username.toLowerCase() === suffix.toLowerCase() ? kind : undefined;
    }
    if (isPrivate) return kind;
    if (kind.kind !== "chat") return undefined;
    const own = await ownIdentity();
    const text = own ? groupChatText(message, own) : undefined;
    if (text === undefined) return undefined;
    return text ? { kind: "group_chat", text } : { kind: "mention_only" };
  };

  const handleUpdate = async (event: APIGatewayProxyEvent, context: Context | undefined, log: Logger) => {
    if (config.telegramSecretToken !== undefined && !secretTokenMatches(event, config.telegramSecretToken)) {
      log.warn("request without the right secret token", { action: "check_secret", outcome: "failure" });
      return status(401, "unauthorized");
    }
    const decoded = decodeBody(event);
    if (!decoded.ok) {
      log.warn("request body is not a Telegram update", { action: "decode_update", outcome: "failure", reason: decoded.reason });
      return status(400, "bad request");
    }
    const message = readMessage(decoded.update);
    if (!message || !message.from) {
      log.info("update ignored", { action: "decode_update", outcome: "ignored", update_id: decoded.updateId, update_type: updateType(decoded.update) });
      return ok();
    }
    const userId = message.from.id;
    const chatId = message.chat.id;
    const ids = { update_id: decoded.updateId, user_id: userId, chat_id: chatId, message_id: message.message_id };
    const updateLog = log.child(ids);
    const reply = replier(chatId, message);

    const kind = await addressedKind(message, classifyMessage(message));
    if (!kind) {
      updateLog.debug("message not addressed to this bot", { action: "route", outcome: "ignored" });
      return ok();
    }
    if (allowed && !allowed.has(userId)) {
      updateLog.warn("user not allowed", { action: "check_user", outcome: "failure" });
      await reply("Sorry, this bot is private.").catch(() => undefined);
      return ok();
    }

    const leaseMs = (context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS) + LEASE_MARGIN_MS;
    // A chat message's first read (the profile) goes with the claim: a read has no effect, so a
    // duplicate delivery still has none; nothing is written or sent before the claim succeeds.
    const activeSessionId = kind.kind === "chat" ? sessions.getActiveSessionId(userId) : undefined;
    // Observed at once (no unhandled rejection); the chat path awaits it and sees its error.
    const readSettled = activeSessionId?.then(
      () => undefined,
      () => undefined,
    );
    let claimed: Awaited<ReturnType<UpdateMarks["claim"]>>;
    try {
      claimed = await marks.claim(userId, decoded.updateId, leaseMs);
    } catch (err) {
      updateLog.error("could not record the update", err, { action: "claim_update", outcome: "failure" });
      await Promise.all([reply(storeErrorText(err)).catch(() => undefined), readSettled]);
      return ok();
    }
    if (claimed !== "claimed") {
      updateLog.info("duplicate delivery ignored", { action: "claim_update", outcome: "ignored", found: claimed });
      await readSettled; // leave no request running after returning
      if (claimed === "completed") return ok();
      // Another delivery holds the lease: it may finish, or it may have died (a crash before its
      // lease ends). Ask for a later delivery instead of dropping the update: Telegram redelivers
      // after a 503 (sync mode); Lambda retries a failed asynchronous invocation (async mode).
      if (isAsyncDelivery(event)) throw new RedeliverLaterError(decoded.updateId);
      return { statusCode: 503, headers: { "Retry-After": String(RETRY_IN_PROGRESS_AFTER_SECONDS) }, body: "in progress" };
    }

    let completion: Promise<void> | undefined;
    const completeUpdate = (): Promise<void> =>
      (completion ??= marks.complete(userId, decoded.updateId).catch((err: unknown) => {
        // The lease expires on its own; a redelivery after that is handled again.
        updateLog.error("could not mark the update completed", err, { action: "complete_update", outcome: "failure" });
      }));

    const ctx: UpdateContext = {
      config,
      message,
      updateId: decoded.updateId,
      leaseMs,
      userId,
      chatId,
      sessions,
      archives,
      bot: deps.bot,
      ollama: deps.ollama,
      log: updateLog,
      now: deps.now,
      newId: deps.newId,
      reply,
      ...(activeSessionId ? { activeSessionId } : {}),
      completeUpdate,
    };
    const started = Date.now();
    try {
      await routeMessage(ctx, kind);
      updateLog.info("update handled", { action: "handle_update", outcome: "success", kind: kind.kind, duration_ms: Date.now() - started });
    } catch (err) {
      await reportFailure(ctx, err);
    }
    await completeUpdate();
    return ok();
  };

  return async (event, context) => {
    const requestId = context?.awsRequestId ?? event?.requestContext?.requestId;
    const log = logger.child({ request_id: requestId });
    try {
      return await handleUpdate(event, context, log);
    } catch (err) {
      if (err instanceof RedeliverLaterError) throw err;
      log.error("unexpected failure", err, { action: "handle_update", outcome: "failure" });
      return ok();
    }
  };
}

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

/** Plain words for a storage failure. */
function storeErrorText(err: unknown): string {
  if (isThrottling(err)) return "The database is busy right now. Please send that again in a moment.";
  return "I could not reach my database just now. Please send that again in a moment.";
}

/** Logs a failed update once and tells the user in plain words when Telegram is reachable. */
async function reportFailure(ctx: UpdateContext, err: unknown): Promise<void> {
  if ((err instanceof ServiceError || err instanceof ConnectionError) && err.service === "telegram") {
    ctx.log.error("could not answer through Telegram", err, { action: "handle_update", outcome: "failure" });
    return;
  }
  if (isConditionFailed(err)) {
    // A write conditioned on the session existing: it was archived (or replaced) while this
    // update was being handled, e.g. an answer that finished after /archive.
    ctx.log.warn("the session changed while the update was handled", { action: "handle_update", outcome: "failure" });
    await ctx.reply("That session was archived while I was answering, so this answer was not saved to it.").catch(() => undefined);
    return;
  }
  const storage = isThrottling(err) || (err as { $metadata?: unknown } | null)?.$metadata !== undefined;
  ctx.log.error(storage ? "storage request failed" : "update failed", err, { action: "handle_update", outcome: "failure" });
  const text = storage ? storeErrorText(err) : "Something went wrong on my side. Please try again.";
  await ctx.reply(text).catch((replyErr: unknown) => {
    ctx.log.warn("could not send the failure message", { action: "reply", outcome: "failure", error_kind: replyErr instanceof Error ? replyErr.name : "unknown" });
  });
}
