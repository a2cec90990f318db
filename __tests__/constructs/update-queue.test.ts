import { TerraformVariable } from "cdktf";
import { BotFunction } from "../../constructs/bot-function";
import { DLQ_RETENTION_SECONDS, UpdateQueue, type UpdateQueueProps } from "../../constructs/update-queue";
import { botFunctionProps, synthWith } from "../support/infra";
import { onlyResource, resourcesOf, type TerraformJson } from "../support/terraform-json";

function synthQueue(props: Partial<Omit<UpdateQueueProps, "fn">> = {}, timeoutSeconds?: number): TerraformJson {
  return synthWith((scope, deps) => {
    const fn = new BotFunction(scope, "Fn", botFunctionProps(deps, { timeoutSeconds }));
    new UpdateQueue(scope, "Queue", { fn, ...props });
  });
}

const queues = (tf: TerraformJson) => {
  const all = Object.entries(resourcesOf(tf, "aws_sqs_queue"));
  const [mainId, main] = all.find(([, q]) => q.name === "telegram-bot-updates.fifo") ?? [];
  const [dlqId, dlq] = all.find(([, q]) => q.name === "telegram-bot-updates-failed.fifo") ?? [];
  return { mainId, main, dlqId, dlq };
};

describe("UpdateQueue", () => {
  it("is an encrypted FIFO queue deduplicated by the given id, per chat, redriving to an encrypted FIFO DLQ after 5 receives", () => {
    const { main, dlq, dlqId } = queues(synthQueue());
    expect(main).toMatchObject({
      fifo_queue: true,
      content_based_deduplication: false,
      deduplication_scope: "messageGroup",
      fifo_throughput_limit: "perMessageGroupId",
      sqs_managed_sse_enabled: true,
    });
    expect(JSON.parse(String(main?.redrive_policy))).toEqual({ deadLetterTargetArn: `\${aws_sqs_queue.${dlqId}.arn}`, maxReceiveCount: 5 });
    expect(dlq).toMatchObject({ fifo_queue: true, sqs_managed_sse_enabled: true, message_retention_seconds: DLQ_RETENTION_SECONDS });
  });

  it("keeps a record invisible 6 times the function's timeout, also when the timeout is a variable", () => {
    expect(queues(synthQueue()).main?.visibility_timeout_seconds).toBe(720);
    const tf = synthWith((scope, deps) => {
      const timeout = new TerraformVariable(scope, "lambda_timeout", { type: "number", default: 120 });
      const fn = new BotFunction(scope, "Fn", botFunctionProps(deps, { timeoutSeconds: timeout.numberValue }));
      new UpdateQueue(scope, "Queue", { fn });
    });
    expect(queues(tf).main?.visibility_timeout_seconds).toBe("${(var.lambda_timeout * 6)}");
  });

  it("is consumed one record at a time with ReportBatchItemFailures and a bounded concurrency, with the role allowed to", () => {
    const tf = synthQueue({ maximumConcurrency: 3 });
    const { mainId } = queues(tf);
    const mapping = onlyResource(tf, "aws_lambda_event_source_mapping");
    expect(mapping).toMatchObject({
      event_source_arn: `\${aws_sqs_queue.${mainId}.arn}`,
      batch_size: 1,
      function_response_types: ["ReportBatchItemFailures"],
      scaling_config: { maximum_concurrency: 3 },
    });
    expect(mapping.function_name).toMatch(/^\$\{aws_lambda_function\..+\.arn\}$/);
    expect(mapping.depends_on).toEqual([expect.stringMatching(/^aws_iam_role_policy\./)]);
    const statements = JSON.parse(String(onlyResource(tf, "aws_iam_role_policy").policy)).Statement as { Sid: string; Action: string[]; Resource: string[] }[];
    expect(statements.find((s) => s.Sid === "ConsumeUpdates")).toMatchObject({
      Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
      Resource: [`\${aws_sqs_queue.${mainId}.arn}`],
    });
  });

  it("refuses a concurrency under 2 (Lambda's minimum) and a batch over 10 (FIFO's maximum)", () => {
    expect(() => synthQueue({ maximumConcurrency: 1 })).toThrow(/update queue: invalid maximumConcurrency: got 1; allowed: a whole number from 2 to 1000/);
    expect(() => synthQueue({ batchSize: 11 })).toThrow(/invalid batchSize: got 11/);
    expect(onlyResource(synthQueue({ batchSize: 10 }), "aws_lambda_event_source_mapping").batch_size).toBe(10);
  });
});
