/**
 * Queue mode's whole path, end to end on this machine, for integration tests:
 *
 *   webhook POST → the authorizer → the real request template → SendMessage → fauxqs (the SQS
 *   FIFO queue and its DLQ, as synthesized) → the event source mapping (local/sqs-poller.ts)
 *   → the real queue door (createBot().consume) → the Telegram stand-in
 *
 * on the handler harness's dynalite, s3rver and Ollama stand-in. The bot has no webhook secret
 * (the authorizer checked it) and gets the emulator as its SQS (`updateQueueUrl`,
 * `sqsEndpoint`), so the backoff it sets with ChangeMessageVisibility on a record it hands back
 * applies: `message(updateId)` shows when that record is visible again, `waitForDelivery`
 * waits for its next receive. Keep the queue's visibility timeout short in tests (30 s, above
 * the handler's first backoffs), or hand the bot no queue URL (`queueBotConfig`) to have
 * records come back after the queue's own timeout.
 *
 *   const q = useQueuePath({ visibilityTimeoutSeconds: 30 });
 *   const { update } = await q.postText("hello", { userId });
 *   await q.idle();
 *   expect(q.repliesTo(userId)).toEqual(["You said: hello"]);
 *   expect((await q.waitForDelivery(update.update_id)).records[0].receiveCount).toBe(1);
 */
import type { Update } from "@grammyjs/types";
import { request } from "undici";
import { QUEUE_BATCH_SIZE, QUEUE_MAX_RECEIVE_COUNT } from "../../config/stack-config";
import { createBot, type Bot } from "../../handler/app";
import type { BotConfig } from "../../handler/config";
import { createAuthorizer } from "../../handler/delivery/authorizer";
import { createLogger } from "../../handler/observability/log";
import { createQueueGateway } from "../../local/queue-gateway";
import { startSqsEmulator, type SqsEmulator } from "../../local/sqs-emulator";
import type { QueuedMessage } from "../../local/sqs-inspection";
import { startSqsPoller, type BatchReport, type SqsPoller } from "../../local/sqs-poller";
import { startWebhookServer, type RunningWebhookServer } from "../../local/webhook-server";
import { startHarness, type Harness, type HarnessOptions } from "./handler-harness";
import { TEST_SECRET_TOKEN, textUpdate, type MessageOptions } from "./updates";
import { waitFor } from "./wait-for";

/** How to start the path. */
export interface QueuePathOptions extends HarnessOptions {
  /** The update queue's visibility timeout, in s (the stack's is 720). @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before a record moves to the DLQ. @default QUEUE_MAX_RECEIVE_COUNT (5) */
  readonly maxReceiveCount?: number;
  /** Records per batch. @default QUEUE_BATCH_SIZE (1) */
  readonly batchSize?: number;
  /** Batches at once (MaximumConcurrency). @default 2 */
  readonly maxConcurrency?: number;
  /** The function timeout each invocation's context counts down from, in ms. @default 30000 */
  readonly lambdaTimeoutMs?: number;
  /**
   * Laid over the queue bot's config (`config` goes to the harness's, and so to both). E.g.
   * `{ updateQueueUrl: undefined }`: records handed back wait the queue's visibility timeout
   * instead of the handler's backoff. @default - none
   */
  readonly queueBotConfig?: Partial<BotConfig>;
}

/** One record of a batch the queue door was given. */
export interface DeliveredRecord {
  readonly messageId: string;
  /** The body's update_id, when it has one. */
  readonly updateId: number | undefined;
  readonly groupId: string;
  readonly receiveCount: number;
  readonly receiptHandle: string;
}

/** One finished invocation of the queue door. */
export interface DeliveredBatch {
  readonly records: readonly DeliveredRecord[];
  /** Epoch ms. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** Message ids left on the queue (reported, or the whole batch). */
  readonly failed: readonly string[];
}

/** How a webhook POST is sent. */
export interface PostOptions {
  /** X-Telegram-Bot-Api-Secret-Token. @default TEST_SECRET_TOKEN; null sends none */
  readonly secretToken?: string | null;
  /** @default "application/json" */
  readonly contentType?: string;
  /** @default "/webhook" */
  readonly path?: string;
}

/** API Gateway's answer to a POST. */
export interface PostResult {
  readonly status: number;
  readonly body: string;
}

/** A running path; see the module comment. */
export interface QueuePath {
  /** The stand-ins, stores and logs (harness.logs holds the queue bot's lines too). */
  readonly harness: Harness;
  readonly sqs: SqsEmulator;
  readonly poller: SqsPoller;
  /** The bot the poller invokes, and its config. */
  readonly bot: Bot;
  readonly config: BotConfig;
  /** The local API Gateway's POST /webhook. */
  readonly webhookUrl: string;
  /** Every finished batch, in the order they ended. */
  readonly batches: readonly DeliveredBatch[];
  /** POSTs `update` (or a raw string body) as Telegram would. */
  post(update: object | string, options?: PostOptions): Promise<PostResult>;
  /** POSTs a text message built by textUpdate; answers the update too. */
  postText(text: string, options?: MessageOptions & PostOptions): Promise<PostResult & { readonly update: Update }>;
  /** Resolves once nothing is queued, in flight or running (see SqsPoller.idle). @default timeoutMs 20000 */
  idle(timeoutMs?: number): Promise<void>;
  /** The first finished batch that holds update `updateId` at `receiveCount` (1: its first delivery). @default timeoutMs 20000 */
  waitForDelivery(updateId: number, receiveCount?: number, timeoutMs?: number): Promise<DeliveredBatch>;
  /** The first finished batch `matches` accepts. @default timeoutMs 20000 */
  waitForBatch(matches: (batch: DeliveredBatch) => boolean, timeoutMs?: number): Promise<DeliveredBatch>;
  /** Every delivery of update `updateId` so far. */
  deliveriesOf(updateId: number): DeliveredRecord[];
  /** Update `updateId` as the queue holds it now (state, receive count, when it is visible again), if it is there. */
  message(updateId: number): Promise<QueuedMessage | undefined>;
  /** What reached the dead-letter queue. */
  deadLetters(): Promise<QueuedMessage[]>;
  /** The texts the bot sent to a chat, in order (edits applied). */
  repliesTo(chatId: number): string[];
  /** Stops the server, the poller, fauxqs and the harness. */
  stop(): Promise<void>;
}

const DEFAULT_WAIT_MS = 20_000;

const updateIdOf = (body: string): number | undefined => {
  try {
    const id = (JSON.parse(body) as { update_id?: unknown }).update_id;
    return typeof id === "number" ? id : undefined;
  } catch {
    return undefined;
  }
};

/** The batch log's view of a poller report. Pure. */
function deliveredBatchOf(report: BatchReport): DeliveredBatch {
  return {
    records: report.event.Records.map((r) => ({
      messageId: r.messageId,
      updateId: updateIdOf(r.body),
      groupId: r.attributes.MessageGroupId ?? "",
      receiveCount: Number(r.attributes.ApproximateReceiveCount),
      receiptHandle: r.receiptHandle,
    })),
    startedAt: report.startedAt,
    endedAt: report.endedAt,
    failed: report.failed,
  };
}

/** The queue bot on the harness's stores, logging into harness.logs. */
function queueBotOf(h: Harness, sqs: SqsEmulator, options: QueuePathOptions): { bot: Bot; config: BotConfig } {
  const config = Object.freeze({ ...h.config, telegramSecretToken: undefined, updateQueueUrl: sqs.queue.url, sqsEndpoint: sqs.endpoint, ...options.queueBotConfig });
  const logger = createLogger({ level: config.logLevel, secrets: [config.telegramToken, TEST_SECRET_TOKEN, config.ollamaApiKey], sink: (line) => h.logs.push(line) });
  return { bot: createBot(config, { doc: h.doc, s3: h.s3, logger, credentials: h.emulators.credentials, ...options.deps }), config };
}

/** POSTs to the local API Gateway. */
async function postTo(url: string, body: string, options: PostOptions): Promise<PostResult> {
  const headers: Record<string, string> = { "content-type": options.contentType ?? "application/json" };
  if (options.secretToken !== null) headers["X-Telegram-Bot-Api-Secret-Token"] = options.secretToken ?? TEST_SECRET_TOKEN;
  const response = await request(`${url}${options.path ?? "/webhook"}`, { method: "POST", body, headers });
  return { status: response.statusCode, body: await response.body.text() };
}

/** Starts the harness, fauxqs, the poller and the local API Gateway; see the module comment. */
export async function startQueuePath(options: QueuePathOptions = {}): Promise<QueuePath> {
  const harness = await startHarness(options);
  const sqs = await startSqsEmulator({
    region: harness.config.region,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
    maxReceiveCount: options.maxReceiveCount ?? QUEUE_MAX_RECEIVE_COUNT,
  });
  const { bot, config } = queueBotOf(harness, sqs, options);
  const batches: DeliveredBatch[] = [];
  const poller = startSqsPoller({
    client: sqs.client,
    queue: sqs.queue,
    region: sqs.region,
    consume: bot.consume,
    batchSize: options.batchSize ?? QUEUE_BATCH_SIZE,
    maxConcurrency: options.maxConcurrency ?? 2,
    lambdaTimeoutMs: options.lambdaTimeoutMs ?? 30_000,
    onBatch: (report) => batches.push(deliveredBatchOf(report)),
  });
  const authorize = createAuthorizer(TEST_SECRET_TOKEN, createLogger({ level: "ERROR", sink: () => undefined }));
  const gateway = createQueueGateway({ authorize, queue: { client: sqs.client, url: sqs.queue.url } });
  const server: RunningWebhookServer = await startWebhookServer({ handler: harness.handler, gateway, port: 0 });
  const waitForBatch = async (matches: (batch: DeliveredBatch) => boolean, timeoutMs = DEFAULT_WAIT_MS) => {
    await waitFor(() => batches.some(matches), timeoutMs);
    return batches.find(matches)!;
  };
  const deliveriesOf = (updateId: number) => batches.flatMap((b) => b.records.filter((r) => r.updateId === updateId));
  return {
    harness,
    sqs,
    poller,
    bot,
    config,
    webhookUrl: server.webhookUrl,
    batches,
    post: (update, postOptions = {}) => postTo(server.url, typeof update === "string" ? update : JSON.stringify(update), postOptions),
    async postText(text, postOptions = {}) {
      const update = textUpdate(text, postOptions);
      return { ...(await postTo(server.url, JSON.stringify(update), postOptions)), update };
    },
    idle: (timeoutMs = DEFAULT_WAIT_MS) => poller.idle({ timeoutMs }),
    waitForDelivery: (updateId, receiveCount = 1, timeoutMs) =>
      waitForBatch((b) => b.records.some((r) => r.updateId === updateId && r.receiveCount === receiveCount), timeoutMs),
    waitForBatch,
    deliveriesOf,
    message: (updateId) => sqs.message(updateId),
    deadLetters: () => sqs.deadLetters(),
    repliesTo: (chatId) => harness.repliesTo(chatId),
    async stop() {
      await server.close();
      await poller.stop();
      await sqs.stop();
      await harness.stop();
    },
  };
}

/**
 * A path for the enclosing describe block: started in beforeAll, stopped in afterAll. The
 * returned object forwards to the running path; touching it outside a test throws.
 */
export function useQueuePath(options: QueuePathOptions = {}): QueuePath {
  let running: QueuePath | undefined;
  beforeAll(async () => {
    running = await startQueuePath(options);
  });
  afterAll(async () => {
    await running?.stop();
    running = undefined;
  });
  return new Proxy({} as QueuePath, {
    get(_target, property) {
      if (!running) throw new Error(`useQueuePath: the path is used outside a test (property ${String(property)})`);
      const value: unknown = Reflect.get(running, property, running);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(running) : value;
    },
  });
}
