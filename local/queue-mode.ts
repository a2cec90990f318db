/**
 * Queue mode's AWS side for `npm run dev:webhook -- --delivery queue`, sized as the stack sizes
 * it: the SQS emulator with the stack's queues (visibility timeout 6 × the function's timeout,
 * dead-lettered after QUEUE_MAX_RECEIVE_COUNT receives), and the event source mapping (batches
 * of QUEUE_BATCH_SIZE, at most the stack's queueMaxConcurrency at once) on the runtime's queue
 * door, reporting what reaches the dead-letter queue. The emulator starts first: the handler's
 * environment needs its endpoint and queue URL.
 */
import { QUEUE_BATCH_SIZE, QUEUE_MAX_RECEIVE_COUNT, type StackConfig } from "../config/stack-config";
import { defaultUpdateQueueName, visibilityTimeoutSecondsFor } from "../config/update-queue-attributes";
import type { LocalRuntime } from "./runtime";
import { startSqsEmulator, type SqsEmulator } from "./sqs-emulator";
import { watchDeadLetters } from "./sqs-inspection";
import { startSqsPoller, type SqsPoller } from "./sqs-poller";

/** The emulator with the stack's queues: same names, visibility timeout and redrive. */
export function startQueueEmulatorFor(stack: Pick<StackConfig, "functionName" | "region" | "lambdaTimeoutSeconds">): Promise<SqsEmulator> {
  return startSqsEmulator({
    queueName: defaultUpdateQueueName(stack.functionName),
    region: stack.region,
    visibilityTimeoutSeconds: visibilityTimeoutSecondsFor(stack.lambdaTimeoutSeconds),
    maxReceiveCount: QUEUE_MAX_RECEIVE_COUNT,
  });
}

/** The mapping consuming the emulator's queue, and the dead-letter report. */
export interface LocalQueueConsumer {
  readonly poller: SqsPoller;
  /** Stops the dead-letter report and the poller (batches running finish first). */
  stop(): Promise<void>;
}

const reason = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** Starts the event source mapping on `runtime.consume`; `say` gets dead letters and SQS errors. */
export function startQueueConsumer(runtime: LocalRuntime, sqs: SqsEmulator, say: (text: string) => void): LocalQueueConsumer {
  const poller = startSqsPoller({
    client: sqs.client,
    queue: sqs.queue,
    region: sqs.region,
    consume: runtime.consume,
    batchSize: QUEUE_BATCH_SIZE,
    maxConcurrency: runtime.stack.queueMaxConcurrency,
    lambdaTimeoutMs: runtime.lambdaTimeoutMs,
    onError: (error) => say(`sqs: ${reason(error)}`),
  });
  const unwatch = watchDeadLetters({
    inspect: () => sqs.inspect(sqs.deadLetterQueue),
    onDeadLetter: (m) => say(`dead letter: update ${m.deduplicationId} of group ${m.groupId} failed ${sqs.maxReceiveCount} deliveries`),
  });
  return {
    poller,
    async stop() {
      unwatch();
      await poller.stop();
    },
  };
}
