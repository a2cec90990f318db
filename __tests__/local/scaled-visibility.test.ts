import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { scaleVisibilityBody, startScaledVisibilityEndpoint } from "../../local/scaled-visibility";
import { startSqsEmulator } from "../../local/sqs-emulator";

describe("scaled visibility endpoint (the burst benchmark's clock for the handler's backoff)", () => {
  it("scales VisibilityTimeout to whole seconds, never below 1, and leaves other bodies alone", () => {
    expect(JSON.parse(scaleVisibilityBody('{"QueueUrl":"q","ReceiptHandle":"r","VisibilityTimeout":20}', 0.1))).toEqual({ QueueUrl: "q", ReceiptHandle: "r", VisibilityTimeout: 2 });
    expect(JSON.parse(scaleVisibilityBody('{"VisibilityTimeout":5}', 0.1)).VisibilityTimeout).toBe(1);
    expect(scaleVisibilityBody('{"QueueUrl":"q"}', 0.1)).toBe('{"QueueUrl":"q"}');
  });

  it("passes SQS calls on to the emulator, a ChangeMessageVisibility scaled", async () => {
    const sqs = await startSqsEmulator();
    const scaled = await startScaledVisibilityEndpoint(sqs.endpoint, 0.1);
    const client = new SQSClient({ endpoint: scaled.url, region: sqs.region, credentials: { ...sqs.credentials } });
    try {
      await client.send(new SendMessageCommand({ QueueUrl: sqs.queue.url, MessageBody: "x", MessageGroupId: "1", MessageDeduplicationId: "1" }));
      const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queue.url }));
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: sqs.queue.url, ReceiptHandle: Messages[0]!.ReceiptHandle, VisibilityTimeout: 20 }));
      const left = (await sqs.message(1))!.visibleAt! - Date.now();
      expect(left).toBeGreaterThan(1_000);
      expect(left).toBeLessThanOrEqual(2_000);
    } finally {
      client.destroy();
      await scaled.close();
      await sqs.stop();
    }
  });
});
