/**
 * Queue mode's SQS, emulated for local mode, the tests and the benchmark: fauxqs (a real SQS
 * emulator speaking the AWS JSON protocol) on loopback, with the update queue `<name>.fifo` and
 * its dead-letter queue `<name>-failed.fifo` created with the attributes the stack synthesizes
 * (config/update-queue-attributes.ts). The handler reaches it through AWS_ENDPOINT_URL_SQS and
 * UPDATE_QUEUE_URL (`env`), signing with any credentials (fauxqs checks none).
 *
 * What fauxqs 1.9.2 does with those attributes, checked in its source:
 * - FifoQueue, ContentBasedDeduplication, VisibilityTimeout and RedrivePolicy behave as in SQS:
 *   one message group at a time while one of its messages is in flight, MessageDeduplicationId
 *   deduplicated for 5 minutes, a message moved to the DLQ on the receive after maxReceiveCount.
 * - DeduplicationScope and FifoThroughputLimit are stored and reported but not applied:
 *   deduplication is per queue, not per message group (the same update_id in two chats would be
 *   dropped once, which Telegram's update ids never are), and nothing is throttled.
 * - MessageRetentionPeriod is stored but messages never expire; SqsManagedSseEnabled is taken and
 *   neither applied nor reported.
 * - One ReceiveMessage hands out at most one message per group, so a batch never holds two
 *   records of one chat (SQS may put several, in order, in one batch).
 * Queue URLs are `http://sqs.<region>.localhost:<port>/000000000000/<name>`, a host that does not
 * resolve: clients must use `endpoint` (as the AWS SDK does when given one) and send the JSON
 * protocol to its root, QueueUrl in the body; fauxqs takes no Query API (form-encoded) requests.
 */
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { request } from "undici";
import { FUNCTION_ENV } from "../config/function-env";
import { QUEUE_LAMBDA_TIMEOUT_SECONDS, QUEUE_MAX_RECEIVE_COUNT, STACK_DEFAULTS } from "../config/stack-config";
import {
  deadLetterQueueAttributes,
  defaultUpdateQueueName,
  updateQueueAttributes,
  updateQueueNames,
  visibilityTimeoutSecondsFor,
} from "../config/update-queue-attributes";
import { EMULATOR_CREDENTIALS } from "./emulators";
import { queuedMessagesOf, type QueuedMessage, type QueueInspection } from "./sqs-inspection";

/** How to start the emulator. */
export interface SqsEmulatorOptions {
  /** Base name of the queues. @default "telegram-bot-updates" (the stack's default function name + "-updates") */
  readonly queueName?: string;
  /** Address it binds. @default "127.0.0.1" */
  readonly host?: string;
  /** Port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Region of the queues' ARNs and of the client's signatures. @default "us-east-1" */
  readonly region?: string;
  /** The update queue's visibility timeout, in s (tests shorten it). @default 720 (6 × the 120 s queue-mode function timeout) */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before a message moves to the DLQ. @default QUEUE_MAX_RECEIVE_COUNT (5) */
  readonly maxReceiveCount?: number;
}

/** One queue on the emulator. */
export interface EmulatedQueue {
  /** With `.fifo`. */
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/** A running emulator with its two queues. */
export interface SqsEmulator {
  /** "http://127.0.0.1:<port>": the SDK's `endpoint`, the handler's AWS_ENDPOINT_URL_SQS. */
  readonly endpoint: string;
  readonly region: string;
  /** The local emulators' credentials (fauxqs accepts any), so one set signs for all of them. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly queue: EmulatedQueue;
  readonly deadLetterQueue: EmulatedQueue;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  /** An SDK client on the emulator (the gateway sends with it, the poller receives with it). */
  readonly client: SQSClient;
  /** AWS_ENDPOINT_URL_SQS and UPDATE_QUEUE_URL, for the handler's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** GetQueueAttributes(All) of a queue. @default queue - the update queue */
  attributes(queue?: EmulatedQueue): Promise<Record<string, string>>;
  /** The inspection API's view of a queue. @default queue - the update queue */
  inspect(queue?: EmulatedQueue): Promise<QueueInspection>;
  /** Every message of a queue with its state and visibility. @default queue - the update queue */
  messages(queue?: EmulatedQueue): Promise<QueuedMessage[]>;
  /** A message of the update queue by its deduplication id (the update_id), if still there. */
  message(deduplicationId: string | number): Promise<QueuedMessage | undefined>;
  /** What reached the dead-letter queue. */
  deadLetters(): Promise<QueuedMessage[]>;
  /** Closes the server (long polls answered empty) and ends its thread; idempotent. */
  stop(): Promise<void>;
}

/** Time the worker gets to close before it is terminated, in ms. */
const STOP_GRACE_MS = 2_000;

/** Starts fauxqs in its worker thread; resolves with its address once it listens. */
function startWorker(host: string, port: number, region: string): Promise<{ worker: Worker; address: string }> {
  const worker = new Worker(join(__dirname, "sqs-emulator-worker.mjs"), { workerData: { host, port, region }, execArgv: [] });
  return new Promise((resolve, reject) => {
    const failed = (error: unknown) => reject(error instanceof Error ? error : new Error(`the SQS emulator's worker exited with code ${String(error)}`));
    worker.once("error", failed);
    worker.once("exit", failed);
    worker.once("message", (message: { address: string }) => {
      worker.off("error", failed);
      worker.off("exit", failed);
      resolve({ worker, address: message.address });
    });
  });
}

/** Asks the worker to close, and terminates it if it does not in time. */
function stopWorker(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    worker.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    worker.postMessage("stop");
  });
}

/** Creates a queue; answers its URL and ARN. */
async function createQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<EmulatedQueue> {
  const { QueueUrl: url } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  if (!url || !Attributes?.QueueArn) throw new Error(`the SQS emulator did not create queue ${name}`);
  return { name, url, arn: Attributes.QueueArn };
}

/** Creates the dead-letter queue, then the update queue redriving to it. */
async function createQueues(client: SQSClient, options: { name: string; visibilityTimeoutSeconds: number; maxReceiveCount: number }) {
  const names = updateQueueNames(options.name);
  const deadLetterQueue = await createQueue(client, names.deadLetterQueue, deadLetterQueueAttributes());
  const attributes = updateQueueAttributes({ ...options, deadLetterTargetArn: deadLetterQueue.arn });
  const queue = await createQueue(client, names.queue, attributes);
  return { queue, deadLetterQueue };
}

/** Starts fauxqs on loopback and creates the update queue and its DLQ; see the module comment. */
export async function startSqsEmulator(options: SqsEmulatorOptions = {}): Promise<SqsEmulator> {
  const region = options.region ?? STACK_DEFAULTS.region;
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? visibilityTimeoutSecondsFor(QUEUE_LAMBDA_TIMEOUT_SECONDS);
  const maxReceiveCount = options.maxReceiveCount ?? QUEUE_MAX_RECEIVE_COUNT;
  const { worker, address } = await startWorker(options.host ?? "127.0.0.1", options.port ?? 0, region);
  const credentials = { ...EMULATOR_CREDENTIALS };
  const client = new SQSClient({ endpoint: address, region, credentials: { ...credentials } });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      client.destroy();
      await stopWorker(worker);
    })();
    return stopping;
  };
  try {
    const name = options.queueName ?? defaultUpdateQueueName(STACK_DEFAULTS.functionName);
    const { queue, deadLetterQueue } = await createQueues(client, { name, visibilityTimeoutSeconds, maxReceiveCount });
    const inspect = async (which: EmulatedQueue = queue): Promise<QueueInspection> => {
      const response = await request(`${address}/_fauxqs/queues/${encodeURIComponent(which.name)}`);
      if (response.statusCode !== 200) throw new Error(`the SQS emulator has no queue ${which.name} (${response.statusCode})`);
      return (await response.body.json()) as QueueInspection;
    };
    const messages = async (which?: EmulatedQueue) => queuedMessagesOf(await inspect(which));
    return {
      endpoint: address,
      region,
      credentials,
      queue,
      deadLetterQueue,
      visibilityTimeoutSeconds,
      maxReceiveCount,
      client,
      env: Object.freeze({ AWS_ENDPOINT_URL_SQS: address, [FUNCTION_ENV.updateQueueUrl]: queue.url }),
      attributes: async (which = queue) =>
        (await client.send(new GetQueueAttributesCommand({ QueueUrl: which.url, AttributeNames: ["All"] }))).Attributes ?? {},
      inspect,
      messages,
      message: async (id) => (await messages()).find((m) => m.deduplicationId === String(id)),
      deadLetters: () => messages(deadLetterQueue),
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
