/**
 * The benchmark's four charts, built from results.json's figures: requests and bytes per chat
 * message against history length, warm latency percentiles, stop latency against its target,
 * and the queue burst's outcome. Pure: results in, SVG strings out (bench/charts.ts writes them).
 */
import type { QueueBenchResults } from "./queue-bench";
import type { BenchResults } from "./run";
import type { ScenarioName } from "./scenarios";
import type { RequestCounts } from "./request-counter";
import { svgBarChart, barPanel } from "./chart-bar";
import { composeChart } from "./chart-frame";
import { linePanel } from "./chart-line";
import { formatNumber } from "./chart-svg";
import { TARGETS } from "./targets";

/**
 * What the charts read of results.json: what `npm run bench` writes, every section optional so
 * an older or partial file (a --quick run, a skipped part) still gives four charts, the missing
 * ones saying "no data".
 */
export type ChartResults = Partial<Pick<BenchResults, "machine" | "options" | "warmLatencyMs" | "requestsPerUpdate" | "stopLatency" | "targets">> & {
  readonly queueDelivery?: QueueBenchResults;
};

/** One chart: its file name (in bench/charts/) and its SVG text. */
export interface Chart {
  readonly file: string;
  readonly svg: string;
}

/** The charts' file names, in the order {@link renderCharts} returns them. */
export const CHART_FILES = Object.freeze({
  requests: "requests-per-message.svg",
  warmLatency: "warm-latency.svg",
  stopLatency: "stop-latency.svg",
  burst: "burst.svg",
});

/** The four charts of a run. */
export function renderCharts(results: ChartResults): Chart[] {
  return [
    { file: CHART_FILES.requests, svg: requestsChart(results) },
    { file: CHART_FILES.warmLatency, svg: warmLatencyChart(results) },
    { file: CHART_FILES.stopLatency, svg: stopLatencyChart(results) },
    { file: CHART_FILES.burst, svg: burstChart(results) },
  ];
}

/** The run under each title: machine, Node and date, and "quick run" when it was one. */
function subtitle(results: ChartResults): string | undefined {
  const m = results.machine;
  if (!m) return undefined;
  return `npm run bench${results.options?.quick ? " --quick" : ""}: ${m.cpu}, ${m.cores} cores, node ${m.node}, ${m.date.slice(0, 10)}`;
}

/** A target's verdict in words ("MISS, measured 41.20 ms"), or nothing when the run has none. */
function verdictOf(results: ChartResults, target: string): string {
  const v = results.targets?.find((t) => t.target === target);
  return v ? `${v.result}, measured ${v.actual}` : "not judged in this run";
}

/**
 * DynamoDB requests among counted AWS requests: the item operations (GetItem, BatchWriteItem,
 * TransactWriteItems...), Query and Scan; S3's (PutObject, ListObjectsV2...) are left out.
 */
export function dynamodbRequests(counts: RequestCounts): number {
  return Object.entries(counts.byOperation)
    .filter(([operation]) => /^(Query|Scan)$|Items?$/.test(operation))
    .reduce((sum, [, n]) => sum + n, 0);
}

const plural = (n: number, word: string) => `${formatNumber(n)} ${word}${n === 1 ? "" : "s"}`;

/** (1) DynamoDB requests and Ollama bytes of a chat message, per sessions × history length. */
export function requestsChart(results: ChartResults): string {
  const rows = results.requestsPerUpdate ?? [];
  const sessions = [...new Set(rows.map((r) => r.sessions))].sort((a, b) => a - b);
  const seriesOf = (figure: (row: (typeof rows)[number]) => number) =>
    sessions.map((n) => ({ name: plural(n, "session"), points: rows.filter((r) => r.sessions === n).map((r) => ({ x: r.messages, y: figure(r) })) }));
  const requests = rows.map((r) => dynamodbRequests(r.requests.chat));
  const contextWindow = Math.max(0, ...rows.map((r) => r.ollamaMessages));
  const flat = requests.length > 0 && requests.every((n) => n === requests[0]);
  const caption =
    rows.length === 0
      ? "No requests-per-update figures in this results.json."
      : `${flat ? `A chat message costs ${requests[0]} DynamoDB requests whatever the sessions and history` : `A chat message costs ${Math.min(...requests)} to ${Math.max(...requests)} DynamoDB requests`}; ` +
        `the body it sends to Ollama grows with the history up to the context window (${contextWindow} messages at most here). ` +
        "results.json counts no DynamoDB bytes: the bytes are the POST /api/chat body sent to Ollama.";
  const xLabel = "messages in the active session (log scale)";
  return composeChart({ title: "Requests and bytes per chat message vs history length", subtitle: subtitle(results), caption }, [
    linePanel({
      heading: "DynamoDB requests per chat message",
      xLabel,
      yLabel: "requests (count)",
      xScale: "log",
      valueLabels: true,
      formatY: (v) => formatNumber(Math.round(v)),
      series: seriesOf((r) => dynamodbRequests(r.requests.chat)),
    }),
    linePanel({
      heading: "Bytes sent to Ollama per chat message",
      xLabel,
      yLabel: "request body (KB)",
      xScale: "log",
      valueLabels: true,
      formatY: (v) => v.toFixed(1),
      series: seriesOf((r) => r.ollamaBytes / 1024),
    }),
  ]);
}

const SCENARIO_LABELS: Readonly<Record<ScenarioName, string>> = { chat: "chat message", listsessions: "/listsessions", archive: "/archive", export: "/export" };

/** (2) Warm handler time per update: p50, p95 and p99 of each scenario, with the chat p99 target. */
export function warmLatencyChart(results: ChartResults): string {
  const warm = results.warmLatencyMs;
  const scenarios = (Object.keys(SCENARIO_LABELS) as ScenarioName[]).filter((s) => warm?.[s] !== undefined);
  const summaries = scenarios.map((s) => warm![s]);
  const chat = scenarios.indexOf("chat");
  const o = results.options;
  return svgBarChart({
    title: "Warm handler time per update: p50 / p95 / p99",
    subtitle: subtitle(results),
    caption:
      `${o ? `${formatNumber(o.iterations)} updates per scenario after ${formatNumber(o.warmup)} unmeasured warm-up ones, ` : ""}` +
      "against dynalite and s3rver in the bot's process, Ollama answering at once: the bot's own time. " +
      `Dashed: issue 5's target for a chat message, p99 ≤ ${TARGETS.chatP99Ms} ms (${verdictOf(results, "warm p99, chat message")}).`,
    xLabel: "update",
    yLabel: "handler time per update (ms)",
    categories: scenarios.map((s) => SCENARIO_LABELS[s]),
    series: (["p50", "p95", "p99"] as const).map((p) => ({ name: p, values: summaries.map((x) => x[p]) })),
    references: chat < 0 ? [] : [{ value: TARGETS.chatP99Ms, label: `target: chat p99 ≤ ${TARGETS.chatP99Ms} ms`, category: chat }],
  });
}

/** (3) Stop to the end of the model request, per delivery path: fastest, p50 and slowest vs the target. */
export function stopLatencyChart(results: ChartResults): string {
  const stop = results.stopLatency;
  const paths = stop && !("skipped" in stop) ? stop.paths : [];
  const runs = paths.map((p) => p.runs);
  const limit = TARGETS.stopToModelEndMs;
  return svgBarChart({
    title: "Stop to the end of the model request",
    subtitle: subtitle(results),
    caption:
      stop && !("skipped" in stop)
        ? `${runs.length > 0 && runs.every((n) => n === runs[0]) ? runs[0] : "Several"} stops per path, spread evenly over the ${formatNumber(stop.pollIntervalMs)} ms interval at which a running answer looks for a stop, ` +
          "so fastest to slowest spans its best and worst phase; results.json keeps each path's summary, not every stop. " +
          `Target (issue 14): the slowest under ${formatNumber(limit)} ms (${verdictOf(results, "stop to end of model request, slowest")}).`
        : "The stop-latency measurement did not run.",
    xLabel: "how the stop reaches the bot",
    yLabel: "stop to end of model request (ms)",
    categories: paths.map((p) => p.path),
    series: [
      { name: "fastest", values: paths.map((p) => p.stopToModelEndMs.min) },
      { name: "p50", values: paths.map((p) => p.stopToModelEndMs.p50) },
      { name: "slowest", values: paths.map((p) => p.stopToModelEndMs.max) },
    ],
    references: [{ value: limit, label: `target: slowest < ${formatNumber(limit)} ms` }],
    noDataText: stop && "skipped" in stop ? `skipped (${stop.skipped})` : undefined,
  });
}

/**
 * (4) The queue burst per delivery: what became of its updates, and the time to the last right
 * answer against the least possible. results.json holds the burst's totals, no timeline of
 * answers, so these are totals (the caption says so).
 */
export function burstChart(results: ChartResults): string {
  const burst = results.queueDelivery?.burst;
  const ran = burst !== undefined && !("skipped" in burst);
  const runs = ran ? burst.runs : [];
  const reason = burst === undefined ? "no queueDelivery in this results.json" : "skipped" in burst ? `skipped (${burst.skipped})` : undefined;
  const categories = runs.map((r) => r.delivery);
  const updates = runs.length > 0 && runs.every((r) => r.updates === runs[0]!.updates) ? `the ${runs[0]!.updates} updates` : "the updates";
  const o = ran ? burst.options : undefined;
  const caption = o
    ? `${o.users} users × ${o.messagesPerUser} messages at once to a model answering ${o.slots} at a time, ${formatNumber(o.generationMs / 1000)} s each ` +
      `(simulated at ${o.scale}× time, times shown as real time). results.json has the burst's totals only, no timeline of answers, so this shows totals, not answers over time.`
    : "The burst did not run (npm run bench --quick leaves it out; npm run bench:queue runs it).";
  const seconds = (v: number) => `${formatNumber(v)} s`;
  const title = o ? `Burst: ${o.users * o.messagesPerUser} messages at once, by delivery` : "Burst: many messages at once, by delivery";
  return composeChart({ title, subtitle: subtitle(results), caption }, [
    barPanel({
      heading: `What became of ${updates}`,
      xLabel: "delivery",
      yLabel: "updates (count)",
      categories,
      weight: 1.35,
      series: [
        { name: "answered", values: runs.map((r) => r.answered) },
        { name: "timed out", values: runs.map((r) => r.timedOut) },
        { name: "wrong answer", values: runs.map((r) => r.wrong) },
        { name: "no answer", values: runs.map((r) => r.unanswered) },
      ],
      noDataText: reason,
    }),
    barPanel({
      heading: "Time to the last right answer",
      xLabel: "delivery",
      yLabel: "seconds (real time)",
      categories,
      series: [{ name: "last answer", values: runs.map((r) => r.lastAnswerRealS) }],
      formatValue: seconds,
      references: ran && burst.options.scale > 0 ? [{ value: burst.idealLastAnswerMs / burst.options.scale / 1000, label: `least possible ${seconds(burst.idealLastAnswerMs / burst.options.scale / 1000)}` }] : [],
      noDataText: reason,
    }),
  ]);
}
