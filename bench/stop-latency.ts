/**
 * Issue 14's stop latency: the time from a stop (a press of the ⏹ Stop button, or /stop) reaching
 * the bot to the end of the model request it stops, as the model server sees it (the socket of
 * its /api/chat closes). The model is bench/gated-ollama.ts streaming a long answer (30 s), so
 * every answer is stopped mid-stream; the stop is the real update through the real entry point:
 * - sync: the press is a second webhook call while the answer's own call is still open, as
 *   Telegram delivers it over another connection;
 * - queue: the press, and a typed /stop, are SQS records of the chat's control group, consumed
 *   beside the batch that holds the answer (the queue mode of issue 12).
 *
 * The running answer looks for a stop once every STOP_POLL_INTERVAL_MS, so a stop's latency
 * depends on where in that interval it lands. The runs spread their stops evenly over one
 * interval, so the figures cover the best and the worst phase instead of one lucky one.
 *
 * Part of `npm run bench`; alone: `npm run bench:stop -- [--runs <n>]` (default 10 per path).
 */
import { performance } from "node:perf_hooks";
import { messageGroupIdOf } from "../config/queue-groups";
import { STOP_BUTTON_LABEL, STOP_CONTROL_TEXT, STOP_POLL_INTERVAL_MS } from "../handler/chat/stop-watch";
import { NOTE_STOPPED } from "../handler/format/answer";
import { lambdaContext, proxyEventFromUpdate } from "../local/lambda-event";
import { sqsEvent, sqsRecord } from "../local/sqs-event";
import type { Harness } from "../__tests__/support/handler-harness";
import { TEST_SECRET_TOKEN, textUpdate } from "../__tests__/support/updates";
import { waitFor } from "../__tests__/support/wait-for";
import { botFor } from "./burst";
import { GatedOllama } from "./gated-ollama";
import { freshUser, seedSession, startBenchHarness } from "./scenarios";
import { summarize, type Summary } from "./stats";
import { formatTable } from "./table";

/** How a stop is delivered. */
export type StopPath = "sync, Stop button" | "queue, Stop button" | "queue, /stop";

export const STOP_PATHS: readonly StopPath[] = ["sync, Stop button", "queue, Stop button", "queue, /stop"];

/** One delivery path's figures. */
export interface StopPathResult {
  readonly path: StopPath;
  /** From the stop update handed to the bot to the end of the model request, in ms. */
  readonly stopToModelEndMs: Summary;
  /** From the stop update handed to the bot to its own invocation's end (the toast or reply sent), in ms. */
  readonly stopHandledMs: Summary;
  /** From the stop to the end of the answer's invocation (the "(stopped)" answer sent and stored), in ms. */
  readonly stopToAnswerEndMs: Summary;
  /** Runs whose answer ended as stopped: the model request ended by the bot and the chat's last message saying so. */
  readonly stoppedRuns: number;
  readonly runs: number;
}

/** The whole measurement. */
export interface StopLatencyResult {
  readonly pollIntervalMs: number;
  readonly paths: readonly StopPathResult[];
  /** The slowest stop of every path, stop to the end of the model request, in ms. */
  readonly worstStopToModelEndMs: number;
}

/** A long answer: 300 words over 30 s, far longer than any run waits. */
const GENERATION_MS = 30_000;
const LONG_ANSWER = Array.from({ length: 300 }, (_, i) => `word${i}`).join(" ");

let nextUpdateId = 900_000_000;

/** One stopped answer's times, in ms from the stop. */
interface StopRun {
  readonly modelEndMs: number;
  readonly handledMs: number;
  readonly answerEndMs: number;
  readonly stopped: boolean;
}

/** Measures `runsPerPath` stops on each of {@link STOP_PATHS}, one after another, on the harness's stores. */
export async function measureStopLatency(harness: Harness, runsPerPath: number, progress: (line: string) => void = () => undefined): Promise<StopLatencyResult> {
  let modelEndedAt: number | undefined;
  const ollama = await GatedOllama.start({
    slots: 4,
    generationMs: GENERATION_MS,
    tokens: 300,
    reply: () => LONG_ANSWER,
    onClientLeft: () => (modelEndedAt = performance.now()),
  });
  try {
    const ollamaTimeoutMs = GENERATION_MS * 2;
    const syncBot = botFor(harness, ollama, { ollamaTimeoutMs });
    const queueBot = botFor(harness, ollama, { ollamaTimeoutMs, telegramSecretToken: undefined });
    const context = () => lambdaContext({ timeoutMs: GENERATION_MS * 3 });
    const webhook = async (update: object) => {
      await syncBot.webhook(proxyEventFromUpdate(update, { secretToken: TEST_SECRET_TOKEN }), context());
    };
    const consume = async (update: object) => {
      await queueBot.consume(sqsEvent([sqsRecord(JSON.stringify(update), { groupId: messageGroupIdOf(update) })]), context());
    };

    const oneRun = async (path: StopPath, phaseMs: number): Promise<StopRun> => {
      const user = freshUser();
      await seedSession(harness, user, 2);
      const deliver = path.startsWith("sync") ? webhook : consume;
      modelEndedAt = undefined;
      let answerEndedAt = 0;
      const answering = deliver(textUpdate("tell me a long story", { userId: user, updateId: (nextUpdateId += 1) })).then(() => (answerEndedAt = performance.now()));
      const controlOf = () => harness.telegram.messagesIn(user).find((m) => m.text === STOP_CONTROL_TEXT);
      await waitFor(() => controlOf() !== undefined, 10_000);
      await sleep(phaseMs);
      const stop =
        path === "queue, /stop"
          ? textUpdate("/stop", { userId: user, updateId: (nextUpdateId += 1) })
          : harness.telegram.press(user, controlOf()!.messageId, STOP_BUTTON_LABEL, { updateId: (nextUpdateId += 1), userId: user });
      const stopAt = performance.now();
      await deliver(stop);
      const handledMs = performance.now() - stopAt;
      await answering;
      const last = harness.telegram.messagesIn(user).at(-1);
      const stopped = modelEndedAt !== undefined && last?.plainText.endsWith(NOTE_STOPPED) === true;
      return { modelEndMs: (modelEndedAt ?? answerEndedAt) - stopAt, handledMs, answerEndMs: answerEndedAt - stopAt, stopped };
    };

    const paths: StopPathResult[] = [];
    for (const path of STOP_PATHS) {
      progress(`stop latency: ${path} x ${runsPerPath}`);
      const runs: StopRun[] = [];
      for (let i = 0; i < runsPerPath; i++) runs.push(await oneRun(path, phaseOf(i, runsPerPath)));
      paths.push({
        path,
        stopToModelEndMs: summarize(runs.map((r) => r.modelEndMs)),
        stopHandledMs: summarize(runs.map((r) => r.handledMs)),
        stopToAnswerEndMs: summarize(runs.map((r) => r.answerEndMs)),
        stoppedRuns: runs.filter((r) => r.stopped).length,
        runs: runs.length,
      });
    }
    return { pollIntervalMs: STOP_POLL_INTERVAL_MS, paths, worstStopToModelEndMs: Math.max(...paths.map((p) => p.stopToModelEndMs.max)) };
  } finally {
    await ollama.stop();
  }
}

/** The wait before run `i` of `runs` stops, spreading the stops evenly over one poll interval. Pure. */
export function phaseOf(i: number, runs: number): number {
  return runs <= 1 ? 0 : Math.round((i * STOP_POLL_INTERVAL_MS) / runs);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const formatMs = (value: number) => `${Math.round(value)} ms`;

/** The stop-latency part of the report. Pure. */
export function renderStopLatency(stop: StopLatencyResult | { readonly skipped: string }): string[] {
  if ("skipped" in stop) return ["### Stop (a 30 s answer stopped mid-stream)", `skipped: ${stop.skipped}`];
  return [
    `### Stop (a 30 s answer stopped mid-stream; the answer looks for a stop every ${stop.pollIntervalMs} ms, and the stops are spread over that interval)`,
    formatTable(
      ["stop", "runs", "stopped", "to end of model request p50", "p95", "max", "stop's own invocation p50", "to stopped answer sent p50"],
      stop.paths.map((p) => [
        p.path,
        p.runs,
        p.stoppedRuns,
        formatMs(p.stopToModelEndMs.p50),
        formatMs(p.stopToModelEndMs.p95),
        formatMs(p.stopToModelEndMs.max),
        formatMs(p.stopHandledMs.p50),
        formatMs(p.stopToAnswerEndMs.p50),
      ]),
    ),
  ];
}

/** `npm run bench:stop`: the stop table alone. */
async function main(argv: readonly string[]): Promise<void> {
  const at = argv.indexOf("--runs");
  const runs = at < 0 ? 10 : Number(argv[at + 1]);
  if (!Number.isInteger(runs) || runs < 1) throw new Error("usage: npm run bench:stop -- [--runs <n>]");
  const harness = await startBenchHarness();
  try {
    const result = await measureStopLatency(harness, runs, (line) => process.stderr.write(`bench:stop: ${line}\n`));
    process.stdout.write(`${renderStopLatency(result).join("\n")}\n`);
  } finally {
    await harness.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench:stop failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
