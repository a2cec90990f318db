/**
 * What Lambda's SQS event source mapping hands the function in queue mode, built locally (the
 * documented shape of an SQS FIFO record: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html):
 * from a message received from the SQS emulator (the poller, local/sqs-poller.ts), or made up
 * from a body for tests and the benchmark that call the real consumer directly.
 * Records are grouped by config/queue-groups.ts, the API Gateway request template's rule.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Message } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord, SQSRecordAttributes } from "aws-lambda";
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

/** The queue a received message came from, as a record names it. */
export interface RecordSource {
  readonly queueArn: string;
  readonly region: string;
}

/**
 * The record Lambda builds from a message it received with MessageSystemAttributeNames ["All"]:
 * body, receipt handle and MD5 as received, the FIFO system attributes, no message attributes
 * (the template sends none). Pure.
 */
export function sqsRecordFromMessage(message: Message, source: RecordSource): SQSRecord {
  const received = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: received.ApproximateReceiveCount ?? "1",
    SentTimestamp: received.SentTimestamp ?? "",
    SequenceNumber: received.SequenceNumber,
    MessageGroupId: received.MessageGroupId,
    SenderId: received.SenderId ?? "",
    MessageDeduplicationId: received.MessageDeduplicationId,
    ApproximateFirstReceiveTimestamp: received.ApproximateFirstReceiveTimestamp ?? "",
  };
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes,
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: source.queueArn,
    awsRegion: source.region,
  };
}
