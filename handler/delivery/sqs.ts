import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

/**
 * Queue delivery: the contract of Lambda's SQS event source mapping with a FIFO queue and
 * ReportBatchItemFailures. A batch holds records of one or more message groups (one group per
 * chat), each group's records in order. They are handled one after another, in order; when a
 * record must be delivered again, it and every later record of its group are reported in
 * `batchItemFailures` (and the later ones are not handled now), so the group keeps its order.
 * Records of other groups go on. A record that can never succeed (not JSON, not an update) is
 * the processor's to log and drop: reported as done, so it never blocks its group.
 */

/** What handling one record concluded. */
export type RecordOutcome =
  /** Handled, ignored or dropped for good: delete it from the queue. */
  | "done"
  /** Not finished for a passing reason, or held by an attempt still running: deliver it again later. */
  | "retry";

/** Handles one record: its update, its group and how often SQS has delivered it. */
export type RecordProcessor = (record: QueueRecord) => Promise<RecordOutcome>;

/** A record as the processor needs it. */
export interface QueueRecord {
  readonly messageId: string;
  /** The raw update JSON exactly as Telegram sent it. */
  readonly body: string;
  /** The message group (the chat id, or its control group). */
  readonly groupId: string;
  /** How many times SQS has delivered this record, this time included (1 on the first). */
  readonly receiveCount: number;
  /** The receipt handle of this delivery ("" when the event has none). */
  readonly receiptHandle: string;
  /** When SQS received the message, epoch ms (SentTimestamp); undefined when the event has none. */
  readonly sentAt: number | undefined;
}

/** True for an event that Lambda's SQS event source mapping sends. */
export function isSqsEvent(event: unknown): event is SQSEvent {
  if (typeof event !== "object" || event === null) return false;
  const records = (event as { Records?: unknown }).Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => (r as { eventSource?: unknown })?.eventSource === "aws:sqs");
}

/** The fields of an SQS record the processor reads. Pure. */
export function queueRecordOf(record: SQSRecord): QueueRecord {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  const sent = Number(record.attributes?.SentTimestamp);
  return {
    messageId: record.messageId,
    body: typeof record.body === "string" ? record.body : "",
    groupId: record.attributes?.MessageGroupId ?? "",
    receiveCount: Number.isInteger(count) && count > 0 ? count : 1,
    receiptHandle: typeof record.receiptHandle === "string" ? record.receiptHandle : "",
    sentAt: Number.isFinite(sent) && sent > 0 ? sent : undefined,
  };
}

/** Options of {@link consumeBatch}. */
export interface ConsumeOptions {
  /** Handles one record. */
  readonly process: RecordProcessor;
  /**
   * Whether a record may still be started (enough of the invocation is left to finish it);
   * those that may not are reported for a later delivery. @default - always
   */
  readonly mayStart?: () => boolean;
  /**
   * Called once with every record the batch hands back, before it returns (to shorten their
   * visibility: handler/delivery/queue-visibility.ts). Must not reject. @default - nothing
   */
  readonly handBack?: (records: readonly QueueRecord[]) => Promise<void>;
}

/**
 * Handles a batch as the event source mapping expects; see the module comment. Never rejects:
 * a processor that throws (it should not) is treated as "retry" for that record.
 */
export async function consumeBatch(event: SQSEvent, options: ConsumeOptions): Promise<SQSBatchResponse> {
  const failures: QueueRecord[] = [];
  const blockedGroups = new Set<string>();
  for (const raw of event.Records) {
    const record = queueRecordOf(raw);
    if (blockedGroups.has(record.groupId) || !(options.mayStart?.() ?? true)) {
      blockedGroups.add(record.groupId);
      failures.push(record);
      continue;
    }
    const outcome = await options.process(record).catch((): RecordOutcome => "retry");
    if (outcome === "retry") {
      blockedGroups.add(record.groupId);
      failures.push(record);
    }
  }
  if (failures.length > 0) await options.handBack?.(failures);
  return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
}
