/**
 * `npm run bench:queue` (and the last part of `npm run bench`): issue 12's queue-delivery
 * benchmark, the consumer's cost per SQS record (bench/queue-cost.ts) and the burst
 * simulation (bench/burst.ts), on one harness of its own; the queue is SQS FIFO on fauxqs
 * (local/sqs-emulator.ts), a fresh one per measurement.
 *
 *   npm run bench:queue -- [--quick] [--scale <factor>] [--no-burst] [--json-only] [--out <file>]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { createRequestCounter } from "./request-counter";
import { DEFAULT_BURST, runBurst, type BurstResult } from "./burst";
import { measureQueueCost, type QueueCostResult, type RecordCost } from "./queue-cost";
import { startBenchHarness } from "./scenarios";
import { formatBreakdown, formatTable } from "./table";

/** What a queue bench run does. */
export interface QueueBenchOptions {
  /** Fewer timed records. @default false */
  readonly quick: boolean;
  /** Time factor of the burst (1: real time, a 3 s model). @default 0.1 */
  readonly scale: number;
  /** Skip the burst simulation. @default false */
  readonly skipBurst: boolean;
}

/** What it measured. */
export interface QueueBenchResults {
  readonly cost: QueueCostResult;
  readonly burst: BurstResult | { readonly skipped: string };
  readonly durationMs: number;
}

/** Runs the cost measurement and the burst, and stops the servers it started. */
export async function runQueueBench(options: QueueBenchOptions, progress: (line: string) => void = () => undefined): Promise<QueueBenchResults> {
  const started = Date.now();
  const harness = await startBenchHarness();
  try {
    progress("queue cost per SQS record");
    const cost = await measureQueueCost(harness, createRequestCounter(), options.quick ? { singles: 30, batches: 5, warmup: 20 } : { singles: 500, batches: 100, warmup: 300 });
    const burst = options.skipBurst ? { skipped: "--no-burst" } : await runBurst(harness, { ...DEFAULT_BURST, scale: options.scale }, progress);
    return { cost, burst, durationMs: Date.now() - started };
  } finally {
    await harness.stop();
  }
}

const costRow = (label: string, c: RecordCost) => [label, c.perRecordMs.n, c.perRecordMs.p50, c.perRecordMs.p95, c.perBatchMs.p50, c.perBatchMs.p95, c.dynamodbConstant ? c.dynamodbPerRecord : `${c.dynamodbPerRecord} (varies)`];
const ms = (value: number | undefined) => (value === undefined ? "-" : `${(value / 1000).toFixed(2)} s`);

/** The burst's part of the report. Pure. */
function renderBurst(b: BurstResult): string[] {
  const o = b.options;
  const out: string[] = [];
  const scaled = o.scale === 1 ? "real time" : `time scaled by ${o.scale}: a ${o.generationMs / 1000} s generation takes ${(o.generationMs * o.scale) / 1000} s, and both Ollama timeouts and the visibility timeout are scaled alike`;
  out.push(`### Burst: ${o.users} users × ${o.messagesPerUser} messages at once, model ${o.slots} generations at a time (${scaled})`);
  out.push(
    formatTable(
      ["delivery", "Ollama timeout", "timed out", "answered", "wrong / none", "chats in order", "last answer", "same, real time", "last message", "redelivered / dead"],
      b.runs.map((r) => [
        r.delivery,
        ms(r.ollamaTimeoutMs),
        `${r.timedOut} of ${r.updates} (${(r.timedOutShare * 100).toFixed(1)}%)`,
        r.answered,
        `${r.wrong} / ${r.unanswered}`,
        `${r.chatsInOrder} of ${r.chats}`,
        ms(r.lastAnswerMs),
        r.lastAnswerRealS === undefined ? "-" : `${r.lastAnswerRealS} s`,
        ms(r.lastMessageMs),
        r.redeliveries === undefined ? "-" : `${r.redeliveries} / ${r.deadLettered ?? 0}`,
      ]),
    ),
  );
  out.push("", `Least possible time to the last answer (every generation back to back on ${o.slots} slots): ${ms(b.idealLastAnswerMs)}.`);
  out.push(
    formatTable(
      ["delivery", "generations completed", "abandoned waiting / generating", "peak generating", "peak waiting"],
      b.runs.map((r) => [r.delivery, r.model.completed, `${r.model.abandonedWaiting} / ${r.model.abandonedGenerating}`, r.model.peakGenerating, r.model.peakWaiting]),
    ),
  );
  return out;
}

/** The human-readable report. Pure. */
export function renderQueueReport(r: QueueBenchResults): string {
  const c = r.cost;
  const out: string[] = ["### Queue delivery: the consumer's cost per SQS record (Ollama answering at once)"];
  out.push(
    formatTable(
      ["batch", "n", "per record p50 (ms)", "per record p95 (ms)", "per batch p50 (ms)", "per batch p95 (ms)", "DynamoDB requests per record"],
      [costRow("1 record", c.single), costRow(`${c.batch.recordsPerBatch} records, ${c.batch.recordsPerBatch} chats`, c.batch)],
    ),
  );
  out.push("", `By operation, per record: 1 record: ${formatBreakdown(c.single.byOperation)}; batch: ${formatBreakdown(c.batch.byOperation)}.`);
  out.push(`The same chat message through the webhook: ${c.webhookDynamodbPerMessage} DynamoDB requests.`, "");
  if ("skipped" in r.burst) out.push(`Burst: skipped (${r.burst.skipped})`);
  else out.push(...renderBurst(r.burst));
  return out.join("\n");
}

/** Parses the options of the usage line in the module comment. */
export function parseQueueBenchArgs(argv: readonly string[]): QueueBenchOptions & { readonly jsonOnly: boolean; readonly output: string | undefined } {
  let scale = DEFAULT_BURST.scale;
  let output: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--scale") {
      scale = Number(argv[++i]);
      if (!(scale > 0 && scale <= 1)) throw new Error("--scale needs a factor in (0, 1]");
    } else if (argv[i] === "--out") {
      output = argv[++i];
      if (!output) throw new Error("--out needs a file");
    } else if (!["--quick", "--no-burst", "--json-only"].includes(argv[i]!)) {
      throw new Error(`unknown option ${argv[i]}\nusage: npm run bench:queue -- [--quick] [--scale <factor>] [--no-burst] [--json-only] [--out <file>]`);
    }
  }
  return { quick: argv.includes("--quick"), skipBurst: argv.includes("--no-burst"), jsonOnly: argv.includes("--json-only"), scale, output };
}

async function main(): Promise<void> {
  const options = parseQueueBenchArgs(process.argv.slice(2));
  const progress = options.jsonOnly ? () => undefined : (line: string) => process.stderr.write(`bench:queue: ${line}\n`);
  const results = await runQueueBench(options, progress);
  const json = `${JSON.stringify(results, null, 2)}\n`;
  if (options.output) {
    await mkdir(dirname(resolve(options.output)), { recursive: true });
    await writeFile(resolve(options.output), json);
  }
  process.stdout.write(options.jsonOnly ? json : `${renderQueueReport(results)}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench:queue failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
