/**
 * An SQS FIFO queue and Lambda's event source mapping, played in memory for local mode and the
 * benchmark (no SQS emulator runs on Node 20 here): what `npm run dev:webhook -- --delivery queue`
 * puts between the webhook and the handler. It keeps the contract the handler relies on:
 * - deduplication by MessageDeduplicationId for 5 minutes;
 * - one message group (one chat) at a time: while any record of a group is in flight, no other
 *   record of it is handed out; within a group, records come in the order they were sent;
 * - batches of up to `batchSize` records, at most `maxConcurrency` batches at once;
 * - ReportBatchItemFailures: records the handler reports (or the whole batch, when it throws)
 *   come back after the visibility timeout with ApproximateReceiveCount raised; after
 *   `maxReceiveCount` receives a record goes to the dead-letter list instead.
 */
import { randomUUID } from "node:crypto";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { sqsRecord } from "./sqs-event";

/** SQS FIFO's deduplication interval, in ms. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

/** Options of {@link LocalFifoQueue}. */
export interface LocalFifoQueueOptions {
  /** The consumer (the handler's queue door). */
  readonly consume: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** How long a record handed out stays invisible, in ms. @default 30000 */
  readonly visibilityTimeoutMs?: number;
  /** Receives before a record goes to the dead-letter list. @default 5 */
  readonly maxReceiveCount?: number;
  /** Records per batch (SQS FIFO allows 1 to 10). @default 1 */
  readonly batchSize?: number;
  /** Batches handled at once (the mapping's MaximumConcurrency). @default 2 */
  readonly maxConcurrency?: number;
  /** Told about each record that reached the dead-letter list. @default - nothing */
  readonly onDeadLetter?: (record: QueuedMessage) => void;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** One message in the queue. */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly groupId: string;
  readonly deduplicationId: string;
  /** Times handed out so far. */
  receiveCount: number;
  /** Not handed out before this time, epoch ms. */
  visibleAt: number;
  inFlight: boolean;
}

/** What {@link LocalFifoQueue.send} did. */
export type SendOutcome = "queued" | "duplicate";

/** See the module comment. */
export class LocalFifoQueue {
  private readonly messages: QueuedMessage[] = [];
  private readonly seen = new Map<string, number>();
  private readonly deadLetters: QueuedMessage[] = [];
  private running = 0;
  private readonly deliveries = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly visibilityTimeoutMs: number;
  private readonly maxReceiveCount: number;
  private readonly batchSize: number;
  private readonly maxConcurrency: number;
  private readonly now: () => number;

  constructor(private readonly options: LocalFifoQueueOptions) {
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
    this.batchSize = Math.min(10, Math.max(1, options.batchSize ?? 1));
    this.maxConcurrency = Math.max(1, options.maxConcurrency ?? 2);
    this.now = options.now ?? Date.now;
  }

  /** SendMessage: queues `body` in `groupId` unless its deduplication id was sent in the last 5 minutes. */
  send(body: string, groupId: string, deduplicationId: string): SendOutcome {
    const now = this.now();
    const sentAt = this.seen.get(deduplicationId);
    if (sentAt !== undefined && now - sentAt < DEDUPLICATION_WINDOW_MS) return "duplicate";
    this.seen.set(deduplicationId, now);
    this.messages.push({ messageId: randomUUID(), body, groupId, deduplicationId, receiveCount: 0, visibleAt: now, inFlight: false });
    this.pump();
    return "queued";
  }

  /** Records that reached the dead-letter list. */
  get deadLettered(): readonly QueuedMessage[] {
    return this.deadLetters;
  }

  /** Records still queued or in flight. */
  get depth(): number {
    return this.messages.length;
  }

  /** Resolves once nothing is queued or in flight (records waiting out a visibility timeout count as queued). */
  idle(): Promise<void> {
    if (this.messages.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops handing out records; resolves once the batches in flight have finished. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    return Promise.allSettled([...this.deliveries]).then(() => undefined);
  }

  /** The next batch: visible records of groups with nothing in flight, each group's in order. */
  private nextBatch(): QueuedMessage[] {
    const now = this.now();
    const busy = new Set(this.messages.filter((m) => m.inFlight).map((m) => m.groupId));
    const batch: QueuedMessage[] = [];
    const blocked = new Set<string>();
    for (const message of this.messages) {
      if (batch.length >= this.batchSize) break;
      if (busy.has(message.groupId) || blocked.has(message.groupId)) continue;
      // A group's first record decides: if it is not visible yet, its later ones wait too.
      if (message.visibleAt > now) {
        blocked.add(message.groupId);
        continue;
      }
      batch.push(message);
    }
    return batch;
  }

  private pump(): void {
    if (this.stopped) return;
    while (this.running < this.maxConcurrency) {
      const batch = this.nextBatch();
      if (batch.length === 0) break;
      for (const message of batch) {
        message.inFlight = true;
        message.receiveCount += 1;
      }
      this.running += 1;
      const delivery = this.deliver(batch);
      this.deliveries.add(delivery);
      void delivery.finally(() => this.deliveries.delete(delivery));
    }
    this.scheduleWake();
    this.notifyIdle();
  }

  private async deliver(batch: QueuedMessage[]): Promise<void> {
    const event: SQSEvent = {
      Records: batch.map((m) =>
        sqsRecord(m.body, { messageId: m.messageId, groupId: m.groupId, deduplicationId: m.deduplicationId, receiveCount: m.receiveCount }),
      ),
    };
    let failed: Set<string>;
    try {
      const response = await this.options.consume(event);
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      failed = new Set(batch.map((m) => m.messageId)); // the invocation failed: the whole batch comes back
    }
    const now = this.now();
    for (const message of batch) {
      message.inFlight = false;
      if (!failed.has(message.messageId)) {
        this.remove(message);
      } else if (message.receiveCount >= this.maxReceiveCount) {
        this.remove(message);
        this.deadLetters.push(message);
        this.options.onDeadLetter?.(message);
      } else {
        message.visibleAt = now + this.visibilityTimeoutMs;
      }
    }
    this.running -= 1;
    this.pump();
  }

  private remove(message: QueuedMessage): void {
    const index = this.messages.indexOf(message);
    if (index >= 0) this.messages.splice(index, 1);
  }

  /** Wakes the pump when the earliest invisible record becomes visible. */
  private scheduleWake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.messages.filter((m) => !m.inFlight && m.visibleAt > this.now());
    if (waiting.length === 0 || this.stopped) return;
    const next = Math.min(...waiting.map((m) => m.visibleAt));
    this.timer = setTimeout(() => this.pump(), Math.max(0, next - this.now()));
    this.timer.unref();
  }

  private notifyIdle(): void {
    if (this.messages.length > 0 || this.running > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
