/**
 * `npm run bench`: the bot's own cost, measured locally against dynalite, s3rver and the
 * stand-in Telegram and Ollama servers (Ollama answering at once). Prints Markdown tables,
 * judges the targets (PASS/MISS) and writes bench/results.json, and its main figures
 * as SVG charts in bench/charts/ (bench/charts.ts). See bench/args.ts
 * for the options (--quick, --json-only, --no-cold...).
 */
import { BENCH_PROVIDERS, providerStreaming, renderProviderStreaming, type ProviderStreamingResult } from "./provider-streaming";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Harness } from "../__tests__/support/handler-harness";
import { parseBenchArgs, type BenchOptions } from "./args";
import { writeCharts } from "./charts";
import { measureColdStart, type ColdStartResult } from "./cold-start";
import { machineInfo, type MachineInfo } from "./machine";
import { DEFAULT_BURST } from "./burst";
import { renderQueueReport, runQueueBench } from "./queue-bench";
import { createRequestCounter } from "./request-counter";
import {
  eventFor,
  freshUser,
  requestScale,
  seedSession,
  startBenchHarness,
  streamingLatency,
  warmLatency,
  type BenchContext,
  type ScaleRow,
  type ScenarioName,
  type StreamingResult,
} from "./scenarios";
import { round, type Summary } from "./stats";
import { measureStopLatency, renderStopLatency, type StopLatencyResult } from "./stop-latency";
import type { GcPauses } from "./gc-pauses";
import { formatBreakdown, formatBytes, formatTable } from "./table";
import { evaluateTargets, type Verdict } from "./targets";

/** What results.json holds. Keys carry their unit (Ms, Bytes, KB). */
export interface BenchResults {
  readonly machine: MachineInfo & { readonly memoryGB: number };
  readonly options: { readonly quick: boolean; readonly iterations: number; readonly warmup: number; readonly coldRuns: number };
  readonly warmLatencyMs: Readonly<Record<ScenarioName, Summary>>;
  /**
   * The warm-up updates before each scenario's measured ones, kept apart. Chat runs first, so
   * its warm-up is the first updates a freshly started process answers.
   */
  readonly warmupLatencyMs: Readonly<Partial<Record<ScenarioName, Summary>>>;
  /** GC pauses during each warm scenario, and how many of its slowest 1% of updates had one. */
  readonly warmGc: Readonly<Record<ScenarioName, GcPauses>>;
  readonly requestsPerUpdate: readonly ScaleRow[];
  readonly coldStart: (ColdStartResult & { readonly bundleKB: number }) | { readonly skipped: string };
  readonly streaming: StreamingResult | { readonly skipped: string };
  /** Issue 14: from a stop to the end of the model request it stops, per delivery path. */
  readonly stopLatency: StopLatencyResult | { readonly skipped: string };
  /** The streamed-answer scenario on each provider's stand-in (bench/provider-streaming.ts). */
  readonly providerStreaming?: readonly ProviderStreamingResult[];
  readonly targets: readonly Verdict[];
  readonly durationMs: number;
}

const SCENARIOS: readonly ScenarioName[] = ["chat", "listsessions", "archive", "export"];

const roundSummary = (s: Summary): Summary => ({
  n: s.n,
  min: round(s.min),
  mean: round(s.mean),
  p50: round(s.p50),
  p95: round(s.p95),
  p99: round(s.p99),
  max: round(s.max),
});

/** Runs every measurement of `options` and stops every server it started. */
export async function runBench(options: BenchOptions, progress: (line: string) => void = () => undefined): Promise<BenchResults> {
  const started = Date.now();
  const harness: Harness = await startBenchHarness();
  try {
    const counter = createRequestCounter();
    const ctx: BenchContext = { harness, handler: harness.handler, counter };

    const warm = {} as Record<ScenarioName, Summary>;
    const warmup: Partial<Record<ScenarioName, Summary>> = {};
    const warmGc = {} as Record<ScenarioName, GcPauses>;
    for (const scenario of SCENARIOS) {
      progress(`warm latency: ${scenario} x ${options.iterations} (after ${options.warmup} warm-up updates)`);
      const result = await warmLatency(ctx, scenario, options.iterations, options.warmup);
      warm[scenario] = roundSummary(result.latency);
      if (result.warmup) warmup[scenario] = roundSummary(result.warmup);
      warmGc[scenario] = result.gc;
    }

    // Counted only from here: the warm figures are of the clients exactly as the function builds them.
    counter.attach(harness.doc);
    counter.attach(await harness.s3());
    const scale: ScaleRow[] = [];
    for (const sessions of options.sessionCounts) {
      for (const messages of options.historyLengths) {
        progress(`requests per update: ${sessions} sessions, ${messages} messages`);
        scale.push(await requestScale(ctx, sessions, messages));
      }
    }

    let streaming: StreamingResult | { skipped: string };
    progress("streamed answers");
    try {
      const s = await streamingLatency(ctx, options.quick ? 1 : 5);
      streaming = { ...s, firstTextAfterFirstTokenMs: roundSummary(s.firstTextAfterFirstTokenMs), botCallsPerChatSecond: round(s.botCallsPerChatSecond) };
    } catch (err) {
      streaming = { skipped: err instanceof Error ? err.message : String(err) };
    }

    const providers: ProviderStreamingResult[] = [];
    for (const provider of BENCH_PROVIDERS) {
      progress(`streamed answers on ${provider}`);
      const r = await providerStreaming(ctx, provider, options.quick ? 2 : 5).catch(() => undefined);
      if (r) providers.push({ ...r, firstTextAfterFirstTokenMs: roundSummary(r.firstTextAfterFirstTokenMs) });
    }

    let stopLatency: BenchResults["stopLatency"];
    try {
      const s = await measureStopLatency(harness, options.stopRuns, progress);
      stopLatency = {
        ...s,
        paths: s.paths.map((p) => ({ ...p, stopToModelEndMs: roundSummary(p.stopToModelEndMs), stopHandledMs: roundSummary(p.stopHandledMs), stopToAnswerEndMs: roundSummary(p.stopToAnswerEndMs) })),
        worstStopToModelEndMs: round(s.worstStopToModelEndMs),
      };
    } catch (err) {
      stopLatency = { skipped: err instanceof Error ? err.message : String(err) };
    }

    let coldStart: BenchResults["coldStart"];
    if (options.skipCold) {
      coldStart = { skipped: "--no-cold" };
    } else {
      progress(`cold start: ${options.coldRuns} fresh node processes`);
      const users: number[] = [];
      for (let i = 0; i < options.coldRuns; i++) {
        const user = freshUser();
        await seedSession(harness, user, 10);
        users.push(user);
      }
      try {
        const cold = await measureColdStart({
          env: { ...harness.env, OLLAMA_MODELS: harness.config.modelNames.join(",") },
          eventFor: (run) => eventFor("hello from a cold start", users[run]!),
          runs: options.coldRuns,
        });
        coldStart = { ...cold, bundleKB: round(cold.bundleBytes / 1024, 1) };
      } catch (err) {
        coldStart = { skipped: `${err instanceof Error ? err.message : String(err)} (run npm run build first)` };
      }
    }

    const targets = evaluateTargets({
      coldLoadMs: "moduleLoadMs" in coldStart ? coldStart.moduleLoadMs : undefined,
      bundleBytes: "bundleBytes" in coldStart ? coldStart.bundleBytes : undefined,
      chatP99Ms: warm.chat.p99,
      chatRequests: scale.map((row) => row.requests.chat.total),
      worstStopMs: "skipped" in stopLatency ? undefined : stopLatency.worstStopToModelEndMs,
      unstoppedAnswers: "skipped" in stopLatency ? 0 : stopLatency.paths.reduce((sum, p) => sum + p.runs - p.stoppedRuns, 0),
      firstTextByProvider: Object.fromEntries(providers.map((p) => [p.provider, p.firstTextAfterFirstTokenMs.p50])),
    });
    const machine = machineInfo();
    return {
      machine: { ...machine, memoryGB: round(machine.memoryBytes / 1024 ** 3, 1) },
      options: { quick: options.quick, iterations: options.iterations, warmup: options.warmup, coldRuns: options.coldRuns },
      warmLatencyMs: warm,
      warmupLatencyMs: warmup,
      warmGc,
      requestsPerUpdate: scale,
      coldStart,
      streaming,
      providerStreaming: providers,
      stopLatency,
      targets,
      durationMs: Date.now() - started,
    };
  } finally {
    await harness.stop();
  }
}

/** The human-readable report of a run. Pure. */
export function renderReport(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`## Benchmark (${r.options.quick ? "quick" : "full"} run, ${m.date})`);
  out.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, node ${m.node} (${m.platform}); took ${(r.durationMs / 1000).toFixed(1)} s.`);
  out.push("", `### Warm handler time per update (ms, after ${r.options.warmup} warm-up updates)`);
  out.push(
    formatTable(
      ["update", "n", "p50", "p95", "p99", "max", "GC pauses (n / ms)", "slowest 1% with a GC pause"],
      SCENARIOS.map((s) => {
        const x = r.warmLatencyMs[s];
        const gc = r.warmGc[s];
        return [s, x.n, x.p50, x.p95, x.p99, x.max, `${gc.count} / ${gc.totalMs}`, `${gc.slowestWithPause} of ${gc.slowest}`];
      }),
    ),
  );
  const warmedUp = SCENARIOS.filter((s) => r.warmupLatencyMs[s] !== undefined);
  if (warmedUp.length > 0) {
    out.push("", `Warm-up: the ${r.options.warmup} updates before each scenario's measured ones (chat's are the process's first), not in the figures above:`);
    out.push(
      formatTable(
        ["update", "n", "p50", "p95", "p99", "max"],
        warmedUp.map((s) => {
          const x = r.warmupLatencyMs[s]!;
          return [s, x.n, x.p50, x.p95, x.p99, x.max];
        }),
      ),
    );
  }
  out.push("", "### AWS requests per update (DynamoDB + S3) and bytes sent to Ollama per chat message");
  out.push(
    formatTable(
      ["sessions", "messages", "chat", "listsessions", "archive", "export", "Ollama bytes", "context msgs"],
      r.requestsPerUpdate.map((row) => [
        row.sessions,
        row.messages,
        row.requests.chat.total,
        row.requests.listsessions.total,
        row.requests.archive.total,
        row.requests.export.total,
        row.ollamaBytes,
        row.ollamaMessages,
      ]),
    ),
  );
  const first = r.requestsPerUpdate[0];
  if (first) {
    out.push("", `Breakdown (${first.sessions} session(s), ${first.messages} messages):`);
    out.push(formatTable(["update", "requests"], SCENARIOS.map((s) => [s, formatBreakdown(first.requests[s].byOperation)])));
  }
  out.push("", "### Cold start (median of fresh node processes)");
  if ("skipped" in r.coldStart) out.push(`skipped: ${r.coldStart.skipped}`);
  else {
    const c = r.coldStart;
    out.push(
      formatTable(
        ["figure", "value"],
        [
          ["bundle dist/handler/index.js", formatBytes(c.bundleBytes)],
          ["bare `node -e 0`, spawn to exit", `${c.bareNodeWallMs} ms`],
          ["node boot before the driver runs", `${c.bootMs} ms`],
          ["module load (require of the bundle)", `${c.moduleLoadMs} ms`],
          ["first update (a chat message)", `${c.firstUpdateMs} ms`],
          ["driver process, spawn to exit", `${c.driverWallMs} ms`],
          ["runs", c.runs],
        ],
      ),
    );
  }
  out.push("", "### Streamed answers (Ollama: first token after 500 ms, then 20 tokens/s)");
  if ("skipped" in r.streaming) out.push(`skipped: ${r.streaming.skipped}`);
  else {
    const s = r.streaming;
    if (!s.streamed) {
      out.push("NOTE: handler/chat/chat.ts does not stream yet (no drafts or edits seen): the figures below are the whole-answer wait.");
    }
    out.push(
      formatTable(
        ["figure", "value"],
        [
          ["answers", s.answers],
          ["first visible text after the model's first token, p50", `${s.firstTextAfterFirstTokenMs.p50} ms`],
          ["same, max", `${s.firstTextAfterFirstTokenMs.max} ms`],
          ["Bot API calls per answer", round(s.botCallsPerAnswer, 1)],
          ["by method", formatBreakdown(s.botCallsByMethod)],
          ["Bot API calls per chat per second", s.botCallsPerChatSecond],
        ],
      ),
    );
  }
  out.push("", ...renderProviderStreaming(r.providerStreaming ?? []));
  out.push("", ...renderStopLatency(r.stopLatency));
  out.push("", "### Targets (issues 5, 14 and 26)");
  out.push(formatTable(["target", "limit", "measured", "result"], r.targets.map((t) => [t.target, t.limit, t.actual, t.result])));
  return out.join("\n");
}

async function main(): Promise<number> {
  const options = parseBenchArgs(process.argv.slice(2));
  const progress = options.jsonOnly ? () => undefined : (line: string) => process.stderr.write(`bench: ${line}\n`);
  const results = await runBench(options, progress);
  // Issue 12's queue-delivery figures (bench/queue-bench.ts). The burst waits out scaled
  // visibility timeouts (several minutes), so the --quick smoke run leaves it out.
  const queueDelivery = await runQueueBench({ quick: options.quick, scale: DEFAULT_BURST.scale, skipBurst: options.quick }, progress);
  const json = `${JSON.stringify({ ...results, queueDelivery }, null, 2)}\n`;
  if (options.output) {
    const file = resolve(options.output);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, json);
    progress(`wrote ${options.output}`);
    // The main figures as SVG beside it (bench/charts.ts rebuilds them from the file alone).
    const charts = await writeCharts({ ...results, queueDelivery }, join(dirname(file), "charts"));
    progress(`wrote ${charts.length} charts in ${join(dirname(options.output), "charts")}`);
  }
  process.stdout.write(options.jsonOnly ? json : `${renderReport(results)}\n\n${renderQueueReport(queueDelivery)}\n`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
