import { QUEUE_MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from "./stack-config";

/**
 * Queue mode's update queue and its dead-letter queue, declared once: the stack synthesizes them
 * from this (constructs/update-queue.ts) and local mode, the tests and the benchmark create the
 * same queues on the SQS emulator (local/sqs-emulator.ts) as SQS API attributes. Pure; no cdktf
 * here (constructs/update-queue.ts handles a function timeout that is a Terraform token).
 */

/** Seconds the dead-letter queue keeps an update that could not be handled: 14 days, SQS's most. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 60 * 60;
/** Seconds the update queue keeps an update: a day (Telegram's own redelivery gives up sooner). */
export const QUEUE_RETENTION_SECONDS = 24 * 60 * 60;

/**
 * The FIFO settings of the update queue: the template sets MessageDeduplicationId to the
 * update_id (no content-based deduplication), and high-throughput FIFO deduplicates and
 * throttles per chat (message group), not per queue.
 */
export const UPDATE_QUEUE_FIFO = Object.freeze({
  fifoQueue: true,
  contentBasedDeduplication: false,
  deduplicationScope: "messageGroup",
  fifoThroughputLimit: "perMessageGroupId",
} as const);

/** Both queues are encrypted with SSE-SQS (keys managed by SQS, no KMS key to pay for). */
export const UPDATE_QUEUE_SSE_SQS = true;

/** The two queue names of a base name (without `.fifo`). */
export interface UpdateQueueNames {
  /** `<name>.fifo`. */
  readonly queue: string;
  /** `<name>-failed.fifo`. */
  readonly deadLetterQueue: string;
}

/** The queue names of `name`: `<name>.fifo` and `<name>-failed.fifo`. Pure. */
export function updateQueueNames(name: string): UpdateQueueNames {
  return { queue: `${name}.fifo`, deadLetterQueue: `${name}-failed.fifo` };
}

/** The default base name of the queues of a function: `<function name>-updates`. Pure. */
export function defaultUpdateQueueName(functionName: string): string {
  return `${functionName}-updates`;
}

/** VISIBILITY_TIMEOUT_FACTOR (6) × the function timeout, in seconds (AWS's guidance). Pure. */
export function visibilityTimeoutSecondsFor(functionTimeoutSeconds: number): number {
  return functionTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
}

/** The update queue's RedrivePolicy as SQS takes it (a JSON string; key order kept for the synth). Pure. */
export function redrivePolicyOf(deadLetterTargetArn: string, maxReceiveCount: number): string {
  return JSON.stringify({ deadLetterTargetArn, maxReceiveCount });
}

/** What sizes the update queue's attributes. */
export interface UpdateQueueAttributeOptions {
  /** The queue's visibility timeout, in seconds (the stack: {@link visibilityTimeoutSecondsFor}). */
  readonly visibilityTimeoutSeconds: number;
  /** ARN of the dead-letter queue. */
  readonly deadLetterTargetArn: string;
  /** Receives before an update moves to the dead-letter queue. @default QUEUE_MAX_RECEIVE_COUNT (5) */
  readonly maxReceiveCount?: number;
}

/** The FIFO attributes both queues share, as CreateQueue takes them. */
const fifoAttributes = (): Record<string, string> => ({
  FifoQueue: String(UPDATE_QUEUE_FIFO.fifoQueue),
  SqsManagedSseEnabled: String(UPDATE_QUEUE_SSE_SQS),
});

/** The dead-letter queue's CreateQueue attributes (what constructs/update-queue.ts synthesizes). Pure. */
export function deadLetterQueueAttributes(): Record<string, string> {
  return { ...fifoAttributes(), MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS) };
}

/** The update queue's CreateQueue attributes (what constructs/update-queue.ts synthesizes). Pure. */
export function updateQueueAttributes(options: UpdateQueueAttributeOptions): Record<string, string> {
  return {
    ...fifoAttributes(),
    ContentBasedDeduplication: String(UPDATE_QUEUE_FIFO.contentBasedDeduplication),
    DeduplicationScope: UPDATE_QUEUE_FIFO.deduplicationScope,
    FifoThroughputLimit: UPDATE_QUEUE_FIFO.fifoThroughputLimit,
    VisibilityTimeout: String(options.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(QUEUE_RETENTION_SECONDS),
    RedrivePolicy: redrivePolicyOf(options.deadLetterTargetArn, options.maxReceiveCount ?? QUEUE_MAX_RECEIVE_COUNT),
  };
}
