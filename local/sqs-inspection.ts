/**
 * What the SQS emulator's inspection API (fauxqs's `GET /_fauxqs/queues/<name>`) shows of a queue:
 * every message, ready, delayed or in flight with its visibility deadline, without receiving
 * any (so no receive count or visibility changes). Tests read a message's receive count and when
 * it becomes visible again here, and local mode reports what reached the dead-letter queue.
 * The types mirror fauxqs 1.9.2's JSON; the functions on them are pure.
 */

/** A message as fauxqs stores it. */
export interface InspectedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  /** Receives so far (fauxqs counts the receive that moves a message to the DLQ too). */
  readonly approximateReceiveCount: number;
  /** Epoch ms. */
  readonly sentTimestamp: number;
  readonly sequenceNumber?: string;
}

/** A queue as the inspection endpoint answers. */
export interface QueueInspection {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  /** As GetQueueAttributes(All) reports them. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly messages: {
    readonly ready: readonly InspectedMessage[];
    readonly delayed: readonly InspectedMessage[];
    readonly inflight: readonly { readonly message: InspectedMessage; readonly receiptHandle: string; readonly visibilityDeadline: number }[];
  };
}

/** Where a message is: receivable now, received and invisible, or not yet delivered (delay). */
export type MessageState = "visible" | "in-flight" | "delayed";

/** One message of a queue, as the tests read it. */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly groupId: string;
  /** The template sets it to the update_id. */
  readonly deduplicationId: string;
  readonly receiveCount: number;
  readonly state: MessageState;
  /**
   * In flight: when it becomes visible again (epoch ms), which ChangeMessageVisibility moves.
   * fauxqs puts an expired message back on its next receive or long-poll tick (20 ms), so a
   * deadline slightly past is still listed in flight. @default - undefined unless in flight
   */
  readonly visibleAt?: number;
  /** In flight: the receipt handle of the receive that holds it. */
  readonly receiptHandle?: string;
}

const queued = (m: InspectedMessage, state: MessageState, extra: Partial<QueuedMessage> = {}): QueuedMessage => ({
  messageId: m.messageId,
  body: m.body,
  groupId: m.messageGroupId ?? "",
  deduplicationId: m.messageDeduplicationId ?? "",
  receiveCount: m.approximateReceiveCount,
  state,
  ...extra,
});

/** Every message of an inspected queue, in flight first, then visible, then delayed. Pure. */
export function queuedMessagesOf(inspection: QueueInspection): QueuedMessage[] {
  const { ready, delayed, inflight } = inspection.messages;
  return [
    ...inflight.map((f) => queued(f.message, "in-flight", { visibleAt: f.visibilityDeadline, receiptHandle: f.receiptHandle })),
    ...ready.map((m) => queued(m, "visible")),
    ...delayed.map((m) => queued(m, "delayed")),
  ];
}

/** Messages in the queue in any state. Pure. */
export function depthOf(inspection: QueueInspection): number {
  const { ready, delayed, inflight } = inspection.messages;
  return ready.length + delayed.length + inflight.length;
}

/** Options of {@link watchDeadLetters}. */
export interface DeadLetterWatch {
  /** Reads the dead-letter queue. */
  readonly inspect: () => Promise<QueueInspection>;
  /** Told once about each message that reached it. */
  readonly onDeadLetter: (message: QueuedMessage) => void;
  /** How often it looks, in ms. @default 1000 */
  readonly intervalMs?: number;
}

/**
 * Looks at the dead-letter queue every `intervalMs` and reports each new message once (the
 * emulator moves a message there on the receive after its last allowed one, and tells no one).
 * Returns the function that stops watching. Reading errors are skipped: the next look retries.
 */
export function watchDeadLetters(watch: DeadLetterWatch): () => void {
  const seen = new Set<string>();
  const look = async () => {
    const inspection = await watch.inspect().catch(() => undefined);
    for (const message of inspection ? queuedMessagesOf(inspection) : []) {
      if (seen.has(message.messageId)) continue;
      seen.add(message.messageId);
      watch.onDeadLetter(message);
    }
  };
  const timer = setInterval(() => void look(), watch.intervalMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
