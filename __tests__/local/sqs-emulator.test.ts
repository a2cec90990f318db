import { connect } from "node:net";
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { BotFunction } from "../../constructs/bot-function";
import { UpdateQueue } from "../../constructs/update-queue";
import { startSqsEmulator, type SqsEmulator } from "../../local/sqs-emulator";
import { botFunctionProps, synthWith } from "../support/infra";
import { resourcesOf } from "../support/terraform-json";

/** The two queues as the stack synthesizes them (default function, 120 s timeout). */
function synthesizedQueues() {
  const tf = synthWith((scope, deps) => {
    const fn = new BotFunction(scope, "Fn", botFunctionProps(deps, { timeoutSeconds: 120 }));
    new UpdateQueue(scope, "Queue", { fn });
  });
  const all = Object.values(resourcesOf(tf, "aws_sqs_queue"));
  return { main: all.find((q) => !String(q.name).includes("-failed"))!, dlq: all.find((q) => String(q.name).includes("-failed"))! };
}

const refused = (endpoint: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(endpoint);
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(true));
  });

describe("SQS emulator (fauxqs on loopback)", () => {
  let sqs: SqsEmulator;
  beforeAll(async () => {
    sqs = await startSqsEmulator();
  });
  afterAll(() => sqs.stop());

  it("creates the update queue and its DLQ with the names and attributes the stack synthesizes", async () => {
    const { main, dlq } = synthesizedQueues();
    const attributes = await sqs.attributes();
    expect([sqs.queue.name, sqs.deadLetterQueue.name]).toEqual([main.name, dlq.name]);
    expect(attributes).toMatchObject({
      FifoQueue: String(main.fifo_queue),
      ContentBasedDeduplication: String(main.content_based_deduplication),
      DeduplicationScope: main.deduplication_scope,
      FifoThroughputLimit: main.fifo_throughput_limit,
      VisibilityTimeout: String(main.visibility_timeout_seconds),
      MessageRetentionPeriod: String(main.message_retention_seconds),
    });
    const synthesizedPolicy = JSON.parse(String(main.redrive_policy)) as { maxReceiveCount: number };
    expect(JSON.parse(attributes.RedrivePolicy!)).toEqual({ deadLetterTargetArn: sqs.deadLetterQueue.arn, maxReceiveCount: synthesizedPolicy.maxReceiveCount });
    expect(await sqs.attributes(sqs.deadLetterQueue)).toMatchObject({ FifoQueue: "true", MessageRetentionPeriod: String(dlq.message_retention_seconds) });
  });

  it("gives the handler its endpoint and the update queue's URL", () => {
    expect(sqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sqs.env).toEqual({ AWS_ENDPOINT_URL_SQS: sqs.endpoint, UPDATE_QUEUE_URL: sqs.queue.url });
    expect(sqs.queue.arn).toBe("arn:aws:sqs:us-east-1:000000000000:telegram-bot-updates.fifo");
  });

  it("queues an update_id sent twice within five minutes once, answering the same MessageId", async () => {
    const send = (body: string) => sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.queue.url, MessageBody: body, MessageGroupId: "7", MessageDeduplicationId: "4242" }));
    const first = await send('{"update_id":4242}');
    const again = await send('{"update_id":4242,"again":true}');
    expect(again.MessageId).toBe(first.MessageId);
    expect((await sqs.messages()).filter((m) => m.deduplicationId === "4242")).toHaveLength(1);
  });

  it("takes any credentials, and ChangeMessageVisibility moves when a record is visible again (seen by inspection)", async () => {
    const stranger = new SQSClient({ endpoint: sqs.endpoint, region: sqs.region, credentials: { accessKeyId: "ANYTHING", secretAccessKey: "at-all" } });
    try {
      await stranger.send(new SendMessageCommand({ QueueUrl: sqs.queue.url, MessageBody: "x", MessageGroupId: "8", MessageDeduplicationId: "77" }));
      const { Messages = [] } = await stranger.send(new ReceiveMessageCommand({ QueueUrl: sqs.queue.url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["All"] }));
      const received = Messages.find((m) => m.Body === "x")!;
      await stranger.send(new ChangeMessageVisibilityCommand({ QueueUrl: sqs.queue.url, ReceiptHandle: received.ReceiptHandle, VisibilityTimeout: 7 }));
      const now = Date.now();
      const message = await sqs.message(77);
      expect(message).toMatchObject({ state: "in-flight", receiveCount: 1, groupId: "8", receiptHandle: received.ReceiptHandle });
      expect(message!.visibleAt! - now).toBeGreaterThan(6_000);
      expect(message!.visibleAt! - now).toBeLessThanOrEqual(7_000);
    } finally {
      stranger.destroy();
    }
  });

  it("stops cleanly: the port is closed, and stopping again is harmless", async () => {
    const other = await startSqsEmulator({ queueName: "other" });
    await other.stop();
    await other.stop();
    expect(await refused(other.endpoint)).toBe(true);
  });
});
