/**
 * Issue 12's burst simulation: `users` users each send `messagesPerUser` messages at once to a
 * model that generates at most 2 answers at a time, 3 s each (scaled by `scale`). It compares
 * - queue delivery: the SQS FIFO queue on fauxqs (local/sqs-emulator.ts, the stack's queue
 *   settings) consumed by the event source mapping (local/sqs-poller.ts) through the real
 *   consumer (createBot().consume), batches of up to `batchSize`, at most 2 batches at once (the
 *   mapping's MaximumConcurrency), with queue mode's Ollama timeout;
 * - the old "Event" invocation: every update handled at once through the webhook door, each
 *   with sync mode's Ollama timeout,
 * and reports the share of answers that timed out, whether each chat's answers arrived in
 * order, and the time until the last answer.
 *
 * Scaling: the model's time, both Ollama timeouts and the queue's visibility timeout are
 * multiplied by `scale` (the visibility timeout in whole seconds, as SQS takes it). The handler's
 * own fixed times are not: its margins (LEASE_MARGIN_MS), so the queue invocation's time is
 * chosen to keep what depends on it, the window in which a batch may still start a record
 * (remaining >= Ollama timeout + LEASE_MARGIN_MS), at `scale` times its real length. The
 * backoff it gives a record it hands back (ChangeMessageVisibility, in real seconds) is scaled on
 * its way to the queue (local/scaled-visibility.ts), in whole seconds of at least 1.
 * fauxqs hands out at most one record per chat in a receive, so a batch of 10 spans 10 chats.
 */
import type { Update } from "@grammyjs/types";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent } from "aws-lambda";
import { ollamaTimeoutMsFor } from "../config/function-env";
import { QUEUE_LAMBDA_TIMEOUT_SECONDS, QUEUE_MAX_RECEIVE_COUNT, SYNC_LAMBDA_TIMEOUT_SECONDS } from "../config/stack-config";
import { visibilityTimeoutSecondsFor } from "../config/update-queue-attributes";
import { createBot, LEASE_MARGIN_MS } from "../handler/app";
import type { BotConfig } from "../handler/config";
import { createLogger } from "../handler/observability/log";
import { lambdaContext, proxyEventFromUpdate } from "../local/lambda-event";
import { messageGroupIdOf } from "../local/sqs-event";
import { startSqsEmulator, type SqsEmulator } from "../local/sqs-emulator";
import { startSqsPoller } from "../local/sqs-poller";
import { startScaledVisibilityEndpoint } from "../local/scaled-visibility";
import type { Harness } from "../__tests__/support/handler-harness";
import { TEST_SECRET_TOKEN, textUpdate } from "../__tests__/support/updates";
import { GatedOllama, type GatedOllamaStats } from "./gated-ollama";
import { freshUser, seedSession } from "./scenarios";
import { round } from "./stats";

/** The simulation's shape. */
export interface BurstOptions {
  readonly users: number;
  readonly messagesPerUser: number;
  /** Generations the model runs at once. */
  readonly slots: number;
  /** One generation, unscaled, in ms. */
  readonly generationMs: number;
  /** Factor on every time of the simulation (0.1: 3 s generations take 300 ms). */
  readonly scale: number;
  /** Batch sizes the queue is consumed with (the mapping's default is 10). */
  readonly batchSizes: readonly number[];
  /** Batches at once (the mapping's MaximumConcurrency). */
  readonly maxConcurrency: number;
}

/** Issue 12's burst: 50 users × 2 messages, 2 generations at a time, 3 s each, at a tenth of the time. */
export const DEFAULT_BURST: BurstOptions = Object.freeze({
  users: 50,
  messagesPerUser: 2,
  slots: 2,
  generationMs: 3_000,
  scale: 0.1,
  batchSizes: [10, 1],
  maxConcurrency: 2,
});

/** One delivery model's outcome. Times are as measured (scaled); `*RealS` divide by the scale. */
export interface BurstRun {
  readonly delivery: string;
  readonly updates: number;
  /** The Ollama timeout the handler had, scaled, in ms. */
  readonly ollamaTimeoutMs: number;
  readonly answered: number;
  readonly timedOut: number;
  /** Answers cut short or answering another message than their own. */
  readonly wrong: number;
  /** Updates that got no message at all. */
  readonly unanswered: number;
  readonly timedOutShare: number;
  /** Chats whose messages are exactly their answers, in the order sent. */
  readonly chatsInOrder: number;
  readonly chats: number;
  /** From the burst to the last right answer, scaled ms and real seconds. */
  readonly lastAnswerMs: number | undefined;
  readonly lastAnswerRealS: number | undefined;
  /** From the burst to the last message of any kind (timeout notices included), in scaled ms. */
  readonly lastMessageMs: number | undefined;
  /** Queue only: records delivered again, and records that reached the dead-letter list. */
  readonly redeliveries?: number;
  readonly deadLettered?: number;
  readonly model: GatedOllamaStats;
}

/** The whole simulation. */
export interface BurstResult {
  readonly options: BurstOptions;
  /** All generations back to back on the model's slots, the least possible time, in scaled ms. */
  readonly idealLastAnswerMs: number;
  readonly runs: readonly BurstRun[];
}

const TIMEOUT_NOTICE = "The model took too long to answer";

/** The model's answer to a message: words enough to stream in a few chunks. */
const answerTo = (text: string) => `You said: ${text}. That is noted, thank you.`;

/** One user's burst: their messages and the answers expected for them, in order. */
interface BurstChat {
  readonly chatId: number;
  readonly updates: readonly Update[];
  readonly expected: readonly string[];
}

/** Fresh users with a short session each, and their updates (built before any timing). */
async function burstChats(harness: Harness, options: BurstOptions): Promise<BurstChat[]> {
  const chats: BurstChat[] = [];
  for (let u = 0; u < options.users; u++) {
    const chatId = freshUser();
    await seedSession(harness, chatId, 2);
    const texts = Array.from({ length: options.messagesPerUser }, (_, m) => `burst message ${m + 1} of user ${chatId}`);
    chats.push({ chatId, updates: texts.map((text) => textUpdate(text, { userId: chatId })), expected: texts.map(answerTo) });
  }
  return chats;
}

/** The updates in arrival order: each user's messages back to back, all users at once. */
const arrivalOrder = (chats: readonly BurstChat[]) => chats.flatMap((c) => c.updates);

/** What a run knows before its outcome is read. */
type RunBase = Pick<BurstRun, "delivery" | "updates" | "ollamaTimeoutMs" | "model">;

/** Reads the outcome of a run from the Telegram stand-in's record. */
function judge(harness: Harness, chats: readonly BurstChat[], started: number, base: RunBase, scale: number): BurstRun {
  let answered = 0;
  let timedOut = 0;
  let wrong = 0;
  let chatsInOrder = 0;
  for (const chat of chats) {
    const texts = harness.telegram.messagesIn(chat.chatId).map((m) => m.plainText);
    answered += texts.filter((t) => chat.expected.includes(t)).length;
    timedOut += texts.filter((t) => t.startsWith(TIMEOUT_NOTICE)).length;
    wrong += texts.filter((t) => !chat.expected.includes(t) && !t.startsWith(TIMEOUT_NOTICE)).length;
    if (texts.length === chat.expected.length && texts.every((t, i) => t === chat.expected[i])) chatsInOrder += 1;
  }
  const ids = new Set(chats.map((c) => c.chatId));
  const expected = new Set(chats.flatMap((c) => c.expected));
  const sent = harness.telegram.calls.filter((c) => (c.method === "sendMessage" || c.method === "editMessageText") && ids.has(Number(c.params.chat_id)));
  const answers = sent.filter((c) => typeof c.params.text === "string" && expected.has(c.params.text));
  const last = (calls: typeof sent) => (calls.length > 0 ? Math.max(...calls.map((c) => c.at)) - started : undefined);
  const updates = base.updates;
  const lastAnswerMs = last(answers);
  return {
    ...base,
    answered,
    timedOut,
    wrong,
    unanswered: Math.max(0, updates - answered - timedOut - wrong),
    timedOutShare: round(timedOut / updates, 3),
    chatsInOrder,
    chats: chats.length,
    lastAnswerMs,
    lastAnswerRealS: lastAnswerMs === undefined ? undefined : round(lastAnswerMs / scale / 1000, 1),
    lastMessageMs: last(sent),
  };
}

/** A bot on the harness's stores whose model is `ollama` and whose logger drops every line. */
export function botFor(harness: Harness, ollama: GatedOllama, overrides: Partial<BotConfig>) {
  const quiet = createLogger({ level: "INFO", secrets: [], sink: () => undefined });
  const config = Object.freeze({ ...harness.config, ollamaUrl: ollama.url, ...overrides });
  return createBot(config, { doc: harness.doc, s3: harness.s3, logger: quiet, credentials: harness.emulators.credentials });
}

const modelFor = (options: BurstOptions) =>
  GatedOllama.start({ slots: options.slots, generationMs: options.generationMs * options.scale, reply: answerTo });

/** Sends the updates as the request template does (group per chat, deduplicated by update_id), in order, 10 a request. */
async function sendUpdates(sqs: SqsEmulator, updates: readonly Update[]): Promise<void> {
  for (let i = 0; i < updates.length; i += 10) {
    const Entries = updates.slice(i, i + 10).map((update, n) => ({
      Id: String(n),
      MessageBody: JSON.stringify(update),
      MessageGroupId: messageGroupIdOf(update),
      MessageDeduplicationId: String(update.update_id),
    }));
    const { Failed = [] } = await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: sqs.queue.url, Entries }));
    if (Failed.length > 0) throw new Error(`SQS refused ${Failed.length} updates: ${Failed[0]!.Message}`);
  }
}

/** The invocation time of a queue batch, scaled: see the module comment. */
function queueInvocationMs(ollamaTimeoutMs: number, scale: number): number {
  // The real start window: a 120 s invocation may start a record while 105 s + the margin remain.
  const realWindowMs = QUEUE_LAMBDA_TIMEOUT_SECONDS * 1000 - (ollamaTimeoutMsFor("queue", QUEUE_LAMBDA_TIMEOUT_SECONDS) + LEASE_MARGIN_MS);
  return ollamaTimeoutMs + LEASE_MARGIN_MS + Math.max(0, realWindowMs) * scale;
}

/**
 * Queue delivery with batches of `batchSize`: the updates go to a fresh update queue on fauxqs
 * (one group per chat, deduplicated by update_id, as the request template sends them) and the
 * mapping hands them to the consumer, at most `maxConcurrency` batches at once. The bot has the
 * queue's URL, as deployed, so a record it hands back gets its (scaled) backoff.
 */
export async function queueBurst(harness: Harness, options: BurstOptions, batchSize: number): Promise<BurstRun> {
  const chats = await burstChats(harness, options);
  const ollama = await modelFor(options);
  const visibilityTimeoutSeconds = Math.max(1, Math.round(visibilityTimeoutSecondsFor(QUEUE_LAMBDA_TIMEOUT_SECONDS) * options.scale));
  const sqs = await startSqsEmulator({ region: harness.config.region, visibilityTimeoutSeconds, maxReceiveCount: QUEUE_MAX_RECEIVE_COUNT });
  const scaled = await startScaledVisibilityEndpoint(sqs.endpoint, options.scale);
  try {
    const ollamaTimeoutMs = ollamaTimeoutMsFor("queue", QUEUE_LAMBDA_TIMEOUT_SECONDS) * options.scale;
    const bot = botFor(harness, ollama, { telegramSecretToken: undefined, ollamaTimeoutMs, updateQueueUrl: sqs.queue.url, sqsEndpoint: scaled.url });
    let redeliveries = 0;
    const consume = (event: SQSEvent, context: Context) => {
      redeliveries += event.Records.filter((r) => Number(r.attributes.ApproximateReceiveCount) > 1).length;
      return bot.consume(event, context);
    };
    const lambdaTimeoutMs = queueInvocationMs(ollamaTimeoutMs, options.scale);
    const poller = startSqsPoller({ client: sqs.client, queue: sqs.queue, region: sqs.region, consume, batchSize, maxConcurrency: options.maxConcurrency, lambdaTimeoutMs });
    const updates = arrivalOrder(chats);
    const started = Date.now();
    await sendUpdates(sqs, updates);
    await poller.idle();
    await poller.stop();
    const base = { delivery: `queue, batches of ${batchSize}, ${options.maxConcurrency} at once`, updates: updates.length, ollamaTimeoutMs, model: ollama.stats() };
    return { ...judge(harness, chats, started, base, options.scale), redeliveries, deadLettered: (await sqs.deadLetters()).length };
  } finally {
    await scaled.close();
    await sqs.stop();
    await ollama.stop();
  }
}

/** The old "Event" invocation: every update handled at once, each with sync mode's Ollama timeout. */
export async function eventBurst(harness: Harness, options: BurstOptions): Promise<BurstRun> {
  const chats = await burstChats(harness, options);
  const ollama = await modelFor(options);
  try {
    const ollamaTimeoutMs = ollamaTimeoutMsFor("sync", SYNC_LAMBDA_TIMEOUT_SECONDS) * options.scale;
    const bot = botFor(harness, ollama, { ollamaTimeoutMs });
    const updates = arrivalOrder(chats);
    const events = updates.map((u) => proxyEventFromUpdate(u, { secretToken: TEST_SECRET_TOKEN }));
    const started = Date.now();
    // The invocation time only sizes the update's lease here, so it keeps its real length.
    await Promise.all(events.map((event) => bot.webhook(event, lambdaContext({ timeoutMs: SYNC_LAMBDA_TIMEOUT_SECONDS * 1000 }))));
    const base = { delivery: "Event invocation, all at once", updates: updates.length, ollamaTimeoutMs, model: ollama.stats() };
    return judge(harness, chats, started, base, options.scale);
  } finally {
    await ollama.stop();
  }
}

/** Runs every delivery model of `options` on the harness, one after another. */
export async function runBurst(harness: Harness, options: BurstOptions = DEFAULT_BURST, progress: (line: string) => void = () => undefined): Promise<BurstResult> {
  const runs: BurstRun[] = [];
  for (const batchSize of options.batchSizes) {
    progress(`burst: queue delivery, batches of ${batchSize}`);
    runs.push(await queueBurst(harness, options, batchSize));
  }
  progress("burst: Event invocation");
  runs.push(await eventBurst(harness, options));
  const generations = options.users * options.messagesPerUser;
  return { options, idealLastAnswerMs: (Math.ceil(generations / options.slots) * options.generationMs * options.scale), runs };
}
