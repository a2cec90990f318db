/**
 * Lambda's SQS event source mapping, played against the SQS emulator (local/sqs-emulator.ts) for
 * local mode, the tests and the benchmark. It keeps the mapping's contract with the function:
 * - `maxConcurrency` pollers (the mapping's MaximumConcurrency), each long-polling ReceiveMessage
 *   for up to `batchSize` messages with MessageSystemAttributeNames ["All"], then invoking the
 *   consumer with the batch as an SQS event and a Lambda context, so at most `maxConcurrency`
 *   batches run at once;
 * - ReportBatchItemFailures: every record not in `batchItemFailures` is deleted; reported ones
 *   are left as they are (their visibility is the queue's, or what the handler set with
 *   ChangeMessageVisibility); a response naming an unknown or empty id, or a consumer that
 *   throws, leaves the whole batch, as Lambda does;
 * - redrive to the dead-letter queue is the queue's own (the emulator applies RedrivePolicy).
 * A message group is never in two batches at once because SQS hands out none of a group's
 * messages while one is in flight, and a record is in flight until deleted or visible again.
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { QUEUE_BATCH_SIZE, QUEUE_LAMBDA_TIMEOUT_SECONDS } from "../config/stack-config";
import { lambdaContext } from "./lambda-event";
import { sqsRecordFromMessage } from "./sqs-event";

/** The function the mapping invokes: the bot's queue door (`createBot(...).consume`). */
export type QueueConsumer = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined | void>;

/** Options of {@link startSqsPoller}. */
export interface SqsPollerOptions {
  readonly client: SQSClient;
  /** The queue consumed: its URL, and its ARN for the records' eventSourceARN. */
  readonly queue: { readonly url: string; readonly arn: string };
  /** The records' awsRegion. */
  readonly region: string;
  readonly consume: QueueConsumer;
  /** Records per batch, 1 to 10. @default QUEUE_BATCH_SIZE (1) */
  readonly batchSize?: number;
  /** Batches at once (MaximumConcurrency). @default 2 */
  readonly maxConcurrency?: number;
  /** The function's timeout each invocation's context counts down from, in ms. @default 120000 */
  readonly lambdaTimeoutMs?: number;
  /** WaitTimeSeconds of each ReceiveMessage (1 to 20), as Lambda's pollers long-poll. @default 20 */
  readonly waitTimeSeconds?: number;
  /** Told about each batch once its records are deleted or left. @default - nothing */
  readonly onBatch?: (batch: BatchReport) => void;
  /** Told about a failed ReceiveMessage or DeleteMessageBatch (the poller goes on). @default - nothing */
  readonly onError?: (error: unknown) => void;
}

/** One invocation of the consumer. */
export interface BatchReport {
  readonly event: SQSEvent;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** Message ids left on the queue: those reported, or the whole batch. */
  readonly failed: readonly string[];
  /** The consumer threw (or returned an invalid response). */
  readonly batchFailed: boolean;
}

/** A running poller. */
export interface SqsPoller {
  /** Batches being handled now. */
  readonly running: number;
  /**
   * Resolves once no batch runs and the queue holds nothing (visible, delayed or in flight: a
   * reported record waiting out its visibility counts). Rejects after `timeoutMs`, if given,
   * naming what is left. @default timeoutMs - no limit
   */
  idle(options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Stops polling (receives in progress are abandoned) and waits for the batches running; idempotent. */
  stop(): Promise<void>;
}

/** How often idle() looks at the queue, in ms. */
const IDLE_CHECK_MS = 25;
/** Pause of a poller after a failed receive, in ms. */
const ERROR_PAUSE_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The message ids Lambda leaves on the queue for a consumer's response (ReportBatchItemFailures):
 * none for an empty or missing response, the listed ones, or every record when an item names no
 * record of the batch. Pure.
 */
export function failedRecordsOf(response: SQSBatchResponse | undefined | void, records: readonly SQSRecord[]): { failed: string[]; batchFailed: boolean } {
  const listed = response?.batchItemFailures ?? [];
  const ids = new Set(records.map((r) => r.messageId));
  const valid = listed.every((f) => typeof f?.itemIdentifier === "string" && ids.has(f.itemIdentifier));
  if (!valid) return { failed: [...ids], batchFailed: true };
  return { failed: [...new Set(listed.map((f) => f.itemIdentifier))], batchFailed: false };
}

/** One ReceiveMessage as Lambda's pollers make it; abandoned when `signal` aborts. */
async function receiveBatch(options: SqsPollerOptions, batchSize: number, signal: AbortSignal): Promise<Message[]> {
  const command = new ReceiveMessageCommand({
    QueueUrl: options.queue.url,
    MaxNumberOfMessages: batchSize,
    WaitTimeSeconds: options.waitTimeSeconds ?? 20,
    MessageSystemAttributeNames: ["All"],
  });
  return (await options.client.send(command, { abortSignal: signal })).Messages ?? [];
}

/** Invokes the consumer with the batch and a fresh Lambda context; what it left on the queue. */
async function invokeConsumer(options: SqsPollerOptions, records: SQSRecord[]): Promise<Omit<BatchReport, "endedAt">> {
  const event: SQSEvent = { Records: records };
  const startedAt = Date.now();
  const context = lambdaContext({ timeoutMs: options.lambdaTimeoutMs ?? QUEUE_LAMBDA_TIMEOUT_SECONDS * 1000 });
  try {
    return { event, startedAt, ...failedRecordsOf(await options.consume(event, context), records) };
  } catch {
    return { event, startedAt, failed: records.map((r) => r.messageId), batchFailed: true };
  }
}

/** Deletes the records handled (DeleteMessageBatch); a failure is reported, and those records come back. */
async function deleteRecords(options: SqsPollerOptions, records: readonly SQSRecord[]): Promise<void> {
  if (records.length === 0) return;
  const Entries = records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle }));
  await options.client.send(new DeleteMessageBatchCommand({ QueueUrl: options.queue.url, Entries })).catch((error: unknown) => options.onError?.(error));
}

/** One batch, from the messages received to the records deleted. */
async function handleBatch(options: SqsPollerOptions, messages: readonly Message[]): Promise<void> {
  const records = messages.map((m) => sqsRecordFromMessage(m, { queueArn: options.queue.arn, region: options.region }));
  const result = await invokeConsumer(options, records);
  const failed = new Set(result.failed);
  await deleteRecords(options, records.filter((r) => !failed.has(r.messageId)));
  options.onBatch?.({ ...result, endedAt: Date.now() });
}

const DEPTH_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"] as const;

/** What the queue still holds, as "<attribute>=<n>" for each count above 0. */
async function queueDepth(options: SqsPollerOptions): Promise<string[]> {
  const command = new GetQueueAttributesCommand({ QueueUrl: options.queue.url, AttributeNames: [...DEPTH_ATTRIBUTES] });
  const { Attributes = {} } = await options.client.send(command);
  return DEPTH_ATTRIBUTES.map((n) => `${n}=${Attributes[n] ?? "0"}`).filter((s) => !s.endsWith("=0"));
}

function validate(batchSize: number, maxConcurrency: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) throw new Error(`sqs poller: batchSize must be 1 to 10, got ${batchSize}`);
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) throw new Error(`sqs poller: maxConcurrency must be a whole number from 1, got ${maxConcurrency}`);
}

/** Starts the pollers; see the module comment. */
export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const batchSize = options.batchSize ?? QUEUE_BATCH_SIZE;
  const maxConcurrency = options.maxConcurrency ?? 2;
  validate(batchSize, maxConcurrency);
  const abort = new AbortController();
  let running = 0;
  const poll = async () => {
    while (!abort.signal.aborted) {
      const messages = await receiveBatch(options, batchSize, abort.signal).catch(async (error: unknown) => {
        if (!abort.signal.aborted) options.onError?.(error);
        await sleep(abort.signal.aborted ? 0 : ERROR_PAUSE_MS);
        return [];
      });
      if (messages.length === 0) continue;
      running += 1;
      await handleBatch(options, messages)
        .catch((error: unknown) => options.onError?.(error))
        .finally(() => (running -= 1));
    }
  };
  const pollers = Array.from({ length: maxConcurrency }, () => poll());
  let stopping: Promise<void> | undefined;
  return {
    get running() {
      return running;
    },
    async idle(idleOptions = {}) {
      const deadline = Date.now() + (idleOptions.timeoutMs ?? Infinity);
      for (;;) {
        // The queue first: a batch deletes its records before it stops running.
        const left = await queueDepth(options);
        if (left.length === 0 && running === 0) return;
        if (Date.now() > deadline) throw new Error(`sqs poller: not idle after ${idleOptions.timeoutMs} ms (${[...left, `${running} batches running`].join(", ")})`);
        await sleep(IDLE_CHECK_MS);
      }
    },
    stop() {
      stopping ??= (async () => {
        abort.abort();
        await Promise.allSettled(pollers);
      })();
      return stopping;
    },
  };
}
