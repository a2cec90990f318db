import { createHash } from "node:crypto";
import { ChangeMessageVisibilityCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { startSqsEmulator, type SqsEmulator, type SqsEmulatorOptions } from "../../local/sqs-emulator";
import { failedRecordsOf, startSqsPoller, type QueueConsumer, type SqsPoller, type SqsPollerOptions } from "../../local/sqs-poller";
import { sqsRecord } from "../../local/sqs-event";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const none: SQSBatchResponse = { batchItemFailures: [] };

/** A fresh emulator and a poller on it for one test; both stopped afterwards. */
async function withQueue(
  options: { emulator?: SqsEmulatorOptions; poller?: Partial<SqsPollerOptions>; consume: QueueConsumer },
  test: (sqs: SqsEmulator, poller: SqsPoller) => Promise<void>,
): Promise<void> {
  const sqs = await startSqsEmulator({ visibilityTimeoutSeconds: 1, ...options.emulator });
  const poller = startSqsPoller({ client: sqs.client, queue: sqs.queue, region: sqs.region, consume: options.consume, ...options.poller });
  try {
    await test(sqs, poller);
  } finally {
    await poller.stop();
    await sqs.stop();
  }
}

const send = (sqs: SqsEmulator, body: string, group: string, id: string) =>
  sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.queue.url, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: id }));

describe("SQS poller (Lambda's event source mapping on fauxqs)", () => {
  it("hands out one group's records in order, one batch at a time, and groups in parallel up to maxConcurrency", async () => {
    const log: string[] = [];
    const busy = new Set<string>();
    let overlapped = false;
    let running = 0;
    let most = 0;
    const consume: QueueConsumer = async (event) => {
      const groups = event.Records.map((r) => r.attributes.MessageGroupId!);
      overlapped ||= groups.some((g) => busy.has(g));
      groups.forEach((g) => busy.add(g));
      most = Math.max(most, ++running);
      await sleep(30);
      for (const r of event.Records) log.push(`${r.attributes.MessageGroupId}:${r.body}`);
      groups.forEach((g) => busy.delete(g));
      running -= 1;
      return none;
    };
    await withQueue({ consume, poller: { maxConcurrency: 2, batchSize: 1 } }, async (sqs, poller) => {
      for (let i = 1; i <= 3; i++) for (const group of ["a", "b", "c"]) await send(sqs, `${i}`, group, `${group}${i}`);
      await poller.idle({ timeoutMs: 10_000 });
    });
    for (const group of ["a", "b", "c"]) expect(log.filter((l) => l.startsWith(group))).toEqual([`${group}:1`, `${group}:2`, `${group}:3`]);
    expect(overlapped).toBe(false);
    expect(most).toBe(2);
  });

  it("never runs two batches of one message group at once, however many pollers and however large the batches", async () => {
    const busy = new Set<string>();
    const order: string[] = [];
    let overlapped = false;
    const consume: QueueConsumer = async (event) => {
      const groups = event.Records.map((r) => r.attributes.MessageGroupId!);
      overlapped ||= groups.some((g) => busy.has(g));
      groups.forEach((g) => busy.add(g));
      await sleep(20);
      order.push(...event.Records.map((r) => r.body));
      groups.forEach((g) => busy.delete(g));
      return none;
    };
    await withQueue({ consume, poller: { maxConcurrency: 4, batchSize: 10 } }, async (sqs, poller) => {
      for (let i = 1; i <= 5; i++) for (const group of ["x", "y"]) await send(sqs, `${group}${i}`, group, `${group}${i}`);
      await poller.idle({ timeoutMs: 10_000 });
    });
    expect(overlapped).toBe(false);
    expect(order.filter((b) => b.startsWith("x"))).toEqual(["x1", "x2", "x3", "x4", "x5"]);
  });

  it("bounds the batches running at once by maxConcurrency", async () => {
    let running = 0;
    let most = 0;
    const consume: QueueConsumer = async () => {
      most = Math.max(most, ++running);
      await sleep(50);
      running -= 1;
      return none;
    };
    await withQueue({ consume, poller: { maxConcurrency: 3, batchSize: 1 } }, async (sqs, poller) => {
      for (let i = 0; i < 12; i++) await send(sqs, "x", `g${i}`, `${i}`);
      await poller.idle({ timeoutMs: 10_000 });
    });
    expect(most).toBe(3);
  });

  it("builds each record as Lambda does and invokes with a Lambda context", async () => {
    const events: SQSEvent[] = [];
    let remaining = 0;
    const consume: QueueConsumer = async (event, context: Context) => {
      events.push(event);
      remaining = context.getRemainingTimeInMillis();
      return none;
    };
    await withQueue({ consume, poller: { lambdaTimeoutMs: 45_000 } }, async (sqs, poller) => {
      const sent = await send(sqs, '{"update_id":5}', "42", "5");
      await poller.idle({ timeoutMs: 5_000 });
      const [record] = events[0]!.Records;
      expect(record).toEqual({
        messageId: sent.MessageId,
        receiptHandle: expect.any(String),
        body: '{"update_id":5}',
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: expect.stringMatching(/^\d+$/),
          SequenceNumber: sent.SequenceNumber,
          MessageGroupId: "42",
          SenderId: expect.any(String),
          MessageDeduplicationId: "5",
          ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
        },
        messageAttributes: {},
        md5OfBody: createHash("md5").update('{"update_id":5}').digest("hex"),
        eventSource: "aws:sqs",
        eventSourceARN: sqs.queue.arn,
        awsRegion: "us-east-1",
      });
    });
    expect(remaining).toBeGreaterThan(40_000);
    expect(remaining).toBeLessThanOrEqual(45_000);
  });

  it("deletes the records not reported; a reported one comes back after the visibility timeout with ApproximateReceiveCount 2, its group behind it", async () => {
    const seen: string[] = [];
    let failOnce = true;
    const consume: QueueConsumer = async (event) => {
      const r = event.Records[0]!;
      seen.push(`${r.body}#${r.attributes.ApproximateReceiveCount}`);
      if (r.body !== "1" || !failOnce) return none;
      failOnce = false;
      return { batchItemFailures: [{ itemIdentifier: r.messageId }] };
    };
    await withQueue({ consume }, async (sqs, poller) => {
      await send(sqs, "1", "g", "1");
      await send(sqs, "2", "g", "2");
      const started = Date.now();
      await poller.idle({ timeoutMs: 10_000 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });
    expect(seen).toEqual(["1#1", "1#2", "2#1"]);
  });

  it("leaves a reported record's visibility to the consumer: ChangeMessageVisibility decides when it comes back", async () => {
    const times: number[] = [];
    let sqsRef: SqsEmulator | undefined;
    const consume: QueueConsumer = async (event) => {
      const r = event.Records[0]!;
      times.push(Date.now());
      if (r.attributes.ApproximateReceiveCount !== "1") return none;
      await sqsRef!.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: sqsRef!.queue.url, ReceiptHandle: r.receiptHandle, VisibilityTimeout: 2 }));
      return { batchItemFailures: [{ itemIdentifier: r.messageId }] };
    };
    await withQueue({ consume, emulator: { visibilityTimeoutSeconds: 30 } }, async (sqs, poller) => {
      sqsRef = sqs;
      await send(sqs, "backoff", "g", "9");
      await poller.idle({ timeoutMs: 10_000 });
    });
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1_900);
    expect(times[1]! - times[0]!).toBeLessThan(5_000);
  });

  it("leaves the whole batch when the consumer throws, and the queue dead-letters a record after maxReceiveCount receives", async () => {
    let calls = 0;
    const consume: QueueConsumer = async () => {
      calls += 1;
      throw new Error("crashed");
    };
    await withQueue({ consume, emulator: { maxReceiveCount: 3 } }, async (sqs, poller) => {
      await send(sqs, "poison", "g", "p");
      await poller.idle({ timeoutMs: 10_000 });
      expect(await sqs.messages()).toEqual([]);
      expect((await sqs.deadLetters()).map((m) => [m.body, m.groupId, m.deduplicationId])).toEqual([["poison", "g", "p"]]);
    });
    expect(calls).toBe(3);
  });

  it("treats a response naming no record of the batch as the whole batch failing, and an empty one as success", () => {
    const records = [sqsRecord("a", { messageId: "m1" }), sqsRecord("b", { messageId: "m2" })];
    expect(failedRecordsOf(undefined, records)).toEqual({ failed: [], batchFailed: false });
    expect(failedRecordsOf({ batchItemFailures: [{ itemIdentifier: "m2" }] }, records)).toEqual({ failed: ["m2"], batchFailed: false });
    expect(failedRecordsOf({ batchItemFailures: [{ itemIdentifier: "elsewhere" }] }, records)).toEqual({ failed: ["m1", "m2"], batchFailed: true });
    expect(failedRecordsOf({ batchItemFailures: [{ itemIdentifier: "" }] }, records).batchFailed).toBe(true);
  });

  it("stops at once while long-polling, after the batch in hand has finished", async () => {
    let finished = false;
    const consume: QueueConsumer = async () => {
      await sleep(200);
      finished = true;
      return none;
    };
    await withQueue({ consume }, async (sqs, poller) => {
      await send(sqs, "slow", "g", "s");
      await sleep(50);
      const started = Date.now();
      await poller.stop();
      expect(finished).toBe(true);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(await sqs.messages()).toEqual([]);
    });
  });
});
