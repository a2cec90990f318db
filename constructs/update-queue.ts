import { Op, Token } from "cdktf";
import { Construct } from "constructs";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { QUEUE_BATCH_SIZE, QUEUE_MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from "../config/stack-config";
import {
  defaultUpdateQueueName,
  DLQ_RETENTION_SECONDS,
  QUEUE_RETENTION_SECONDS,
  redrivePolicyOf,
  UPDATE_QUEUE_FIFO,
  UPDATE_QUEUE_SSE_SQS,
  updateQueueNames,
  visibilityTimeoutSecondsFor,
} from "../config/update-queue-attributes";
import type { BotFunction } from "./bot-function";
import type { Grantable } from "./service-role";
import { integerRule, isToken, patternRule, validateProps } from "./validation";

/** The queues' retention, declared in config/update-queue-attributes.ts (local mode creates the same queues). */
export { DLQ_RETENTION_SECONDS, QUEUE_RETENTION_SECONDS };

/** Props of {@link UpdateQueue}. */
export interface UpdateQueueProps {
  /** The function that consumes the queue; its timeout sizes the visibility timeout. */
  readonly fn: BotFunction;
  /** Queue name without `.fifo`; the DLQ is `<name>-failed`. @default "<function name>-updates" */
  readonly queueName?: string;
  /**
   * Most function instances the event source mapping runs at once (MaximumConcurrency, 2 to
   * 1000): it bounds the generations hitting the model server; other updates wait queued. @default 2
   */
  readonly maximumConcurrency?: number;
  /**
   * Records per batch (a FIFO queue allows 1 to 10). More than one only suits a function whose
   * timeout fits several whole answers: a record the batch has no time left for is handed back
   * and counts a receive. @default QUEUE_BATCH_SIZE (1)
   */
  readonly batchSize?: number;
  /** Deliveries before an update moves to the dead-letter queue. @default QUEUE_MAX_RECEIVE_COUNT (5) */
  readonly maxReceiveCount?: number;
}

/**
 * Queue mode's delivery: an SQS FIFO queue of Telegram updates (one message group per chat,
 * deduplicated by update_id; API Gateway sends to it), a FIFO dead-letter queue for updates
 * that failed `maxReceiveCount` times, both encrypted with SSE-SQS, and the event source
 * mapping through which the function consumes it with ReportBatchItemFailures. The visibility
 * timeout is VISIBILITY_TIMEOUT_FACTOR (6) times the function's timeout, AWS's guidance, so a
 * record comes back only when the attempt that took it is certainly over.
 */
export class UpdateQueue extends Construct {
  public readonly queue: SqsQueue;
  public readonly deadLetterQueue: SqsQueue;
  public readonly eventSourceMapping: LambdaEventSourceMapping;

  constructor(scope: Construct, id: string, props: UpdateQueueProps) {
    super(scope, id);
    const name = props.queueName ?? defaultUpdateQueueName(props.fn.functionName);
    const maximumConcurrency = props.maximumConcurrency ?? 2;
    const batchSize = props.batchSize ?? QUEUE_BATCH_SIZE;
    const maxReceiveCount = props.maxReceiveCount ?? QUEUE_MAX_RECEIVE_COUNT;
    validateProps("update queue", [
      // 80 characters with ".fifo" and "-failed".
      patternRule("queueName", name, /^[a-zA-Z0-9_-]{1,68}$/, "1 to 68 letters, digits, '-' and '_'"),
      integerRule("maximumConcurrency", maximumConcurrency, 2, 1000),
      integerRule("batchSize", batchSize, 1, 10),
      integerRule("maxReceiveCount", maxReceiveCount, 1, 1000),
    ]);

    // The settings come from config/update-queue-attributes.ts, which local mode's emulator uses too.
    const names = updateQueueNames(name);
    this.deadLetterQueue = new SqsQueue(this, "DeadLetterQueue", {
      name: names.deadLetterQueue,
      fifoQueue: UPDATE_QUEUE_FIFO.fifoQueue,
      messageRetentionSeconds: DLQ_RETENTION_SECONDS,
      sqsManagedSseEnabled: UPDATE_QUEUE_SSE_SQS,
    });
    this.queue = new SqsQueue(this, "Queue", {
      name: names.queue,
      fifoQueue: UPDATE_QUEUE_FIFO.fifoQueue,
      contentBasedDeduplication: UPDATE_QUEUE_FIFO.contentBasedDeduplication,
      deduplicationScope: UPDATE_QUEUE_FIFO.deduplicationScope,
      fifoThroughputLimit: UPDATE_QUEUE_FIFO.fifoThroughputLimit,
      visibilityTimeoutSeconds: visibilityTimeoutOf(props.fn.timeoutSeconds),
      messageRetentionSeconds: QUEUE_RETENTION_SECONDS,
      sqsManagedSseEnabled: UPDATE_QUEUE_SSE_SQS,
      redrivePolicy: redrivePolicyOf(this.deadLetterQueue.arn, maxReceiveCount),
    });

    props.fn.role.grant({
      sid: "ConsumeUpdates",
      actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
      resources: [this.queue.arn],
    });
    this.eventSourceMapping = new LambdaEventSourceMapping(this, "Consumer", {
      eventSourceArn: this.queue.arn,
      functionName: props.fn.function.arn,
      batchSize,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency },
      // Lambda checks the role's SQS permissions when the mapping is created.
      dependsOn: props.fn.role.policy ? [props.fn.role.policy] : [],
    });
  }

  /** Lets `principal` (API Gateway's role) send updates to the queue. */
  public grantSend(principal: Grantable): void {
    principal.grant({ sid: "SendUpdates", actions: ["sqs:SendMessage"], resources: [this.queue.arn] });
  }
}

/** VISIBILITY_TIMEOUT_FACTOR × the function timeout (a number or a Terraform variable). Pure. */
export function visibilityTimeoutOf(timeoutSeconds: number): number {
  return isToken(timeoutSeconds)
    ? Token.asNumber(Op.mul(timeoutSeconds, VISIBILITY_TIMEOUT_FACTOR))
    : visibilityTimeoutSecondsFor(timeoutSeconds);
}
