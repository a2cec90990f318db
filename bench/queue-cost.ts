/**
 * Issue 12's cost of queue delivery per SQS record: the real consumer (createBot().consume) fed
 * the records the event source mapping would hand it, one record alone and batches of 10 (10
 * chats), on the harness's emulators with Ollama answering at once, so the figures are the
 * bot's and not the model's. The records are sent to and received from the update queue on
 * fauxqs (real receipt handles and attributes); only consume() is timed, not the SQS calls
 * around it. Wall time per record and DynamoDB requests per record, with the webhook's chat
 * message as the reference.
 */
import { performance } from "node:perf_hooks";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type Message } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { QUEUE_LAMBDA_TIMEOUT_SECONDS } from "../config/stack-config";
import { createBot, type Bot } from "../handler/app";
import { createLogger } from "../handler/observability/log";
import { lambdaContext } from "../local/lambda-event";
import { messageGroupIdOf, sqsEvent, sqsRecordFromMessage } from "../local/sqs-event";
import { startSqsEmulator, type SqsEmulator } from "../local/sqs-emulator";
import type { Harness } from "../__tests__/support/handler-harness";
import { textUpdate } from "../__tests__/support/updates";
import type { RequestCounter, RequestCounts } from "./request-counter";
import { eventFor, freshUser, seedSession } from "./scenarios";
import { round, summarize, type Summary } from "./stats";

/** How much to measure. */
export interface QueueCostOptions {
  /** Batches of one record timed. */
  readonly singles: number;
  /** Batches of 10 records timed. */
  readonly batches: number;
  /** Unmeasured records first, so V8 has compiled the queue path as it has the webhook's. */
  readonly warmup: number;
}

/** Records per batch of the batched measurement: the event source mapping's default. */
export const BATCH_SIZE = 10;

/** The figures of one batch shape. */
export interface RecordCost {
  readonly recordsPerBatch: number;
  /** Wall time of consume() divided by the batch's records, in ms. */
  readonly perRecordMs: Summary;
  /** Wall time of the whole consume(), in ms. */
  readonly perBatchMs: Summary;
  /** DynamoDB requests per record (the batch's divided by its records). */
  readonly dynamodbPerRecord: number;
  /** The same for every batch counted (false would mean the cost depends on something else). */
  readonly dynamodbConstant: boolean;
  /** Per record by operation. */
  readonly byOperation: Readonly<Record<string, number>>;
}

/** What {@link measureQueueCost} measures. */
export interface QueueCostResult {
  readonly single: RecordCost;
  readonly batch: RecordCost;
  /** DynamoDB requests of the same chat message through the webhook door, for comparison. */
  readonly webhookDynamodbPerMessage: number;
}

/**
 * The queue consumer on the harness's stores: no webhook secret (the authorizer checked it), no
 * logging, and `sqs` as its update queue when given (as deployed: UPDATE_QUEUE_URL).
 */
export function queueBot(harness: Harness, sqs?: SqsEmulator): Bot {
  const quiet = createLogger({ level: "INFO", secrets: [], sink: () => undefined });
  const queue = sqs ? { updateQueueUrl: sqs.queue.url, sqsEndpoint: sqs.endpoint } : {};
  const config = Object.freeze({ ...harness.config, telegramSecretToken: undefined, ...queue });
  return createBot(config, { doc: harness.doc, s3: harness.s3, logger: quiet, credentials: harness.emulators.credentials });
}

const MESSAGE = "a small message of a typical length for a chat with a bot, about eighty characters.";

/**
 * Hands out senders for the records: `width` users at a time (a batch usually spans chats),
 * each with a 10-message session, replaced by fresh ones before any of them reaches the
 * hourly message limit (USER_LIMIT_DEFAULTS: 30), which would turn the chat messages measured
 * into cheap refusals. Seeding happens here, outside any timing.
 */
class Senders {
  private users: number[] = [];
  private uses = 0;
  constructor(
    private readonly harness: Harness,
    private readonly width: number,
  ) {}

  async next(): Promise<number[]> {
    if (this.users.length === 0 || this.uses >= USES_PER_USER) {
      this.users = [];
      for (let i = 0; i < this.width; i++) {
        const user = freshUser();
        await seedSession(this.harness, user, 10);
        this.users.push(user);
      }
      this.uses = 0;
    }
    this.uses += 1;
    return this.users;
  }
}

/** Messages a sender sends, under the hourly limit. */
const USES_PER_USER = 25;

let counter = 0;

/** Sends one message per user to the update queue and receives them as the mapping would, before the timing starts. */
async function recordsFor(sqs: SqsEmulator, users: readonly number[]): Promise<SQSRecord[]> {
  const Entries = users.map((userId, i) => {
    const update = textUpdate(`${MESSAGE} #${++counter}`, { userId });
    return { Id: String(i), MessageBody: JSON.stringify(update), MessageGroupId: messageGroupIdOf(update), MessageDeduplicationId: String(update.update_id) };
  });
  await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: sqs.queue.url, Entries }));
  const messages: Message[] = [];
  while (messages.length < users.length) {
    const receive = new ReceiveMessageCommand({ QueueUrl: sqs.queue.url, MaxNumberOfMessages: users.length - messages.length, WaitTimeSeconds: 1, MessageSystemAttributeNames: ["All"] });
    messages.push(...((await sqs.client.send(receive)).Messages ?? []));
  }
  return messages.map((m) => sqsRecordFromMessage(m, { queueArn: sqs.queue.arn, region: sqs.region }));
}

/** Deletes a batch's records, as the mapping does after a batch that reported none. */
async function deleteRecords(sqs: SqsEmulator, records: readonly SQSRecord[]): Promise<void> {
  const Entries = records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle }));
  await sqs.client.send(new DeleteMessageBatchCommand({ QueueUrl: sqs.queue.url, Entries }));
}

/** Consumes one batch and resolves with its wall time; throws when a record is handed back. */
async function timedBatch(bot: Bot, records: SQSRecord[]): Promise<number> {
  const context = lambdaContext({ timeoutMs: QUEUE_LAMBDA_TIMEOUT_SECONDS * 1000 });
  const start = performance.now();
  const result = await bot.consume(sqsEvent(records), context);
  const ms = performance.now() - start;
  if (result.batchItemFailures.length > 0) throw new Error(`${result.batchItemFailures.length} of ${records.length} records were handed back`);
  return ms;
}

/** What one measurement needs: the bot, its senders and the queue. */
interface Feed {
  readonly bot: Bot;
  readonly senders: Senders;
  readonly sqs: SqsEmulator;
}

/** Receives a batch from the queue, consumes it (timed by `measure`) and deletes it. */
async function batchThroughQueue<T>(feed: Feed, measure: (records: SQSRecord[]) => Promise<T>): Promise<{ records: SQSRecord[]; result: T }> {
  const records = await recordsFor(feed.sqs, await feed.senders.next());
  const result = await measure(records);
  await deleteRecords(feed.sqs, records);
  return { records, result };
}

/** Times `runs` batches of one record per sender. */
async function timeBatches(feed: Feed, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await batchThroughQueue(feed, (records) => timedBatch(feed.bot, records))).result);
  return times;
}

/** DynamoDB requests of `runs` batches, per record, and whether every batch sent as many. */
async function countBatches(harness: Harness, feed: Feed, requests: RequestCounter, runs: number): Promise<{ perRecord: number; constant: boolean; byOperation: Record<string, number> }> {
  const counts: RequestCounts[] = [];
  let size = 1;
  for (let i = 0; i < runs; i++) {
    const { records, result } = await batchThroughQueue(feed, (batch) => requests.during(() => timedBatch(feed.bot, batch)));
    size = records.length;
    counts.push(result);
    // A record refused (a usage limit) or unanswered would be cheaper than a chat message: fail instead.
    for (const record of records) {
      const userId = (JSON.parse(record.body) as { message: { chat: { id: number } } }).message.chat.id;
      if (!harness.repliesTo(userId).at(-1)?.startsWith("You said: ")) throw new Error(`record of user ${userId} was not answered`);
    }
  }
  const totals = new Set(counts.map((c) => c.total));
  const last = counts.at(-1)!;
  const byOperation = Object.fromEntries(Object.entries(last.byOperation).map(([op, n]) => [op, round(n / size, 2)]));
  return { perRecord: round(last.total / size, 2), constant: totals.size === 1, byOperation };
}

/**
 * Measures the queue door's cost; see the module comment. Times first, then attaches the
 * request counter (its middleware would otherwise be in the timed path) and counts. Starts and
 * stops its own update queue on fauxqs.
 */
export async function measureQueueCost(harness: Harness, requests: RequestCounter, options: QueueCostOptions): Promise<QueueCostResult> {
  const sqs = await startSqsEmulator({ region: harness.config.region });
  try {
    const bot = queueBot(harness, sqs);
    const single: Feed = { bot, sqs, senders: new Senders(harness, 1) };
    const batch: Feed = { bot, sqs, senders: new Senders(harness, BATCH_SIZE) };
    await timeBatches(single, options.warmup);
    const singleMs = await timeBatches(single, options.singles);
    const batchMs = await timeBatches(batch, options.batches);

    requests.attach(harness.doc);
    const singleCount = await countBatches(harness, single, requests, 5);
    const batchCount = await countBatches(harness, batch, requests, 3);
    const [reference] = await new Senders(harness, 1).next();
    const webhook = await requests.during(() => harness.handler(eventFor(MESSAGE, reference!), lambdaContext({ timeoutMs: 30_000 })));
    if (harness.repliesTo(reference!).at(-1) !== `You said: ${MESSAGE}`) throw new Error("the reference chat message was not answered");
    const cost = (recordsPerBatch: number, times: number[], count: typeof singleCount): RecordCost => ({
      recordsPerBatch,
      perRecordMs: roundSummary(summarize(times.map((t) => t / recordsPerBatch))),
      perBatchMs: roundSummary(summarize(times)),
      dynamodbPerRecord: count.perRecord,
      dynamodbConstant: count.constant,
      byOperation: count.byOperation,
    });
    return { single: cost(1, singleMs, singleCount), batch: cost(BATCH_SIZE, batchMs, batchCount), webhookDynamodbPerMessage: webhook.total };
  } finally {
    await sqs.stop();
  }
}

function roundSummary(s: Summary): Summary {
  return { n: s.n, min: round(s.min), mean: round(s.mean), p50: round(s.p50), p95: round(s.p95), p99: round(s.p99), max: round(s.max) };
}
