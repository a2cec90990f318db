/**
 * What Lambda's SQS event source mapping hands the function in queue mode, built locally (the
 * documented shape of an SQS FIFO record: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html),
 * so the dev webhook server's queue, the benchmark and the tests call the real consumer.
 * Records are grouped by config/queue-groups.ts, the API Gateway request template's rule.
 */
import { createHash, randomUUID } from "node:crypto";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { messageGroupIdOf } from "../config/queue-groups";

export { messageGroupIdOf, NO_CHAT_GROUP } from "../config/queue-groups";

/** The queue ARN local records claim to come from. */
export const LOCAL_QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:telegram-bot-updates.fifo";
/** Options of {@link sqsRecord}. */
export interface SqsRecordOptions {
  /** @default messageGroupIdOf(the parsed body), or NO_CHAT_GROUP when it is not JSON */
  readonly groupId?: string;
  /** @default the body's update_id, as the template sets it */
  readonly deduplicationId?: string;
  /** ApproximateReceiveCount. @default 1 */
  readonly receiveCount?: number;
  /** @default - a random UUID */
  readonly messageId?: string;
  /** SequenceNumber. @default - a growing number */
  readonly sequenceNumber?: string;
}

let sequence = 18_000_000_000_000_000_000n;

/** One FIFO record whose body is `body` exactly (the raw update JSON as Telegram sent it). */
export function sqsRecord(body: string, options: SqsRecordOptions = {}): SQSRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const updateId = (parsed as { update_id?: unknown } | undefined)?.update_id;
  sequence += 1n;
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: `local-${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: "AROAEXAMPLE:apigateway",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      SequenceNumber: options.sequenceNumber ?? sequence.toString(),
      MessageGroupId: options.groupId ?? messageGroupIdOf(parsed),
      MessageDeduplicationId: options.deduplicationId ?? String(updateId ?? createHash("sha256").update(body).digest("hex")),
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: LOCAL_QUEUE_ARN,
    awsRegion: "us-east-1",
  };
}

/** An event source mapping's batch of records. */
export function sqsEvent(records: readonly SQSRecord[]): SQSEvent {
  return { Records: [...records] };
}

/** A batch of one record per update, each body the update's JSON. */
export function sqsEventFromUpdates(updates: readonly unknown[], options: Omit<SqsRecordOptions, "messageId" | "deduplicationId"> = {}): SQSEvent {
  return sqsEvent(updates.map((update) => sqsRecord(JSON.stringify(update), options)));
}
