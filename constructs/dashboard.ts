import { Construct } from "constructs";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import type { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import {
  DEFAULT_METRICS_NAMESPACE,
  DIMENSION_VALUE_PATTERN,
  ERROR_KINDS,
  LIMIT_KINDS,
  METRIC_PROVIDERS,
  METRICS,
  METRICS_NAMESPACE_PATTERN,
  OBSERVABILITY_TEST_METRIC,
  type MetricDimension,
  type MetricName,
  type MetricProvider,
} from "../config/metrics";
import { PATTERNS } from "../config/stack-config";
import { isToken, patternRule, validateProps, type PropRule } from "./validation";

/** One model the bot offers, as the dashboard graphs it. */
export interface DashboardModel {
  /** The model's name in the model list (the Model dimension). */
  readonly name: string;
  readonly provider: MetricProvider;
}

/** Props of {@link Dashboard}. */
export interface DashboardProps {
  /** Namespace of the handler's metrics (METRICS_NAMESPACE). @default DEFAULT_METRICS_NAMESPACE ("ai-chatbot") */
  readonly namespace?: string;
  /** The models of the model list, with their providers: one series each in the per-model widgets. */
  readonly models: readonly DashboardModel[];
  /** Functions whose Lambda metrics are graphed: the bot function first, then any other (the authorizer). */
  readonly functionNames: readonly string[];
  /** Queue mode: the update queue, for its depth and oldest message. @default - no queue widgets (sync mode) */
  readonly updateQueue?: SqsQueue;
  /** Queue mode: its dead-letter queue, for its depth. @default - no dead-letter widget (sync mode) */
  readonly deadLetterQueue?: SqsQueue;
  /** The Ollama instance, for its CPU. @default - no CPU widget (no Ollama model, no instance) */
  readonly ollamaInstanceId?: string;
  /** Region of every metric (the stack's). */
  readonly region: string;
  /** Dashboard name. @default - the namespace, with characters a dashboard name refuses turned into "-" */
  readonly dashboardName?: string;
}

/** What the dashboard body is built from: the props with names (or Terraform references) only. */
export interface DashboardBodyInput {
  readonly namespace: string;
  readonly region: string;
  readonly models: readonly DashboardModel[];
  readonly functionNames: readonly string[];
  /** @default - no queue widgets */
  readonly queueName?: string;
  /** @default - no dead-letter widget */
  readonly deadLetterQueueName?: string;
  /** @default - no CPU widget */
  readonly ollamaInstanceId?: string;
}

/** Options of one series (CloudWatch's metric rendering properties). */
interface SeriesOptions {
  readonly stat?: string;
  readonly label?: string;
  readonly yAxis?: "left" | "right";
}

/** One series: namespace, metric name, dimension name/value pairs, then its options. */
export type MetricRow = readonly (string | SeriesOptions)[];

/** One graph before it is placed on the grid. */
interface Graph {
  readonly title: string;
  readonly width: number;
  readonly metrics: readonly MetricRow[];
  readonly stat: string;
  /** Seconds each datapoint covers. */
  readonly period: number;
  readonly stacked?: boolean;
}

/** A placed widget, as the dashboard body has it. */
export interface DashboardWidget {
  readonly type: "metric";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** Height of every graph, in grid units (the grid is 24 wide). */
export const WIDGET_HEIGHT = 6;
const HOUR = 3600;
const DAY = 86_400;
/** Most models graphed one series each (a graph holds at most 500 series; p50 and p95 double them). */
const MAX_MODELS = 50;

/**
 * A series of one of our metrics: only names declared in config/metrics.ts, and only with a
 * dimension set declared for the metric (the handler writes no other), so the dashboard cannot
 * ask for a series that is never written.
 */
export function ourSeries(namespace: string, name: MetricName, dimensions: Partial<Record<MetricDimension, string>>, options: SeriesOptions = {}): MetricRow {
  const keys = Object.keys(dimensions) as MetricDimension[];
  const declared = METRICS[name].dimensionSets.some((set) => set.length === keys.length && set.every((d) => keys.includes(d)));
  if (!declared) throw new Error(`dashboard: metric ${name} is not written with dimensions [${keys.join(", ")}]`);
  return [namespace, name, ...keys.flatMap((d) => [d, dimensions[d]!]), options];
}

/** The per-model series of a metric, one per statistic, labelled "<model> <stat>" (or "<model> <suffix>"). */
function perModel(input: DashboardBodyInput, name: MetricName, stats: readonly string[], suffix?: string): MetricRow[] {
  return input.models.flatMap((m) =>
    stats.map((stat) => ourSeries(input.namespace, name, { Model: m.name, Provider: m.provider }, { stat, label: `${m.name} ${suffix ?? stat}` })),
  );
}

/** The answer graphs: outcomes, failures, latency, speed, tokens and cost. */
function answerRows(input: DashboardBodyInput): Graph[][] {
  const ns = input.namespace;
  const outcomes: MetricRow[] = [
    ourSeries(ns, "Answered", {}, { label: "answered" }),
    ourSeries(ns, "Stopped", {}, { label: "stopped" }),
    ...LIMIT_KINDS.map((limit) => ourSeries(ns, "Refused", { Limit: limit }, { label: `refused: ${limit}` })),
  ];
  const failures = ERROR_KINDS.map((kind) => ourSeries(ns, "Failed", { ErrorKind: kind }, { label: kind }));
  const cost: MetricRow[] = [ourSeries(ns, "EstimatedCost", {}, { label: "all models" }), ...perModel(input, "EstimatedCost", ["Sum"])];
  return [
    [
      { title: "Updates per hour: answered, stopped, refused", width: 12, metrics: outcomes, stat: "Sum", period: HOUR, stacked: true },
      { title: "Failed updates per hour, by kind", width: 12, metrics: failures, stat: "Sum", period: HOUR, stacked: true },
    ],
    [
      { title: "Time to first token p50 / p95 (ms)", width: 8, metrics: perModel(input, "TimeToFirstToken", ["p50", "p95"]), stat: "p50", period: 300 },
      { title: "Answer duration p50 / p95 (ms)", width: 8, metrics: perModel(input, "AnswerDuration", ["p50", "p95"]), stat: "p50", period: 300 },
      { title: "Output tokens per second", width: 8, metrics: perModel(input, "OutputTokensPerSecond", ["Average"]), stat: "Average", period: 300 },
    ],
    [
      { title: "Tokens per hour, by model", width: 12, metrics: [...perModel(input, "InputTokens", ["Sum"], "input"), ...perModel(input, "OutputTokens", ["Sum"], "output")], stat: "Sum", period: HOUR, stacked: true },
      { title: "Estimated cost per day (USD)", width: 12, metrics: cost, stat: "Sum", period: DAY },
    ],
  ];
}

/** Queue mode's graphs: the queue's depth and age, the handler's view of waiting, the dead letters. */
function queueRow(input: DashboardBodyInput): Graph[] {
  const graphs: Graph[] = [];
  if (input.queueName !== undefined) {
    const q = ["QueueName", input.queueName];
    graphs.push({
      title: "Update queue: messages visible, oldest message (s)",
      width: 8,
      metrics: [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", ...q, { label: "messages visible" }],
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", ...q, { label: "oldest message (s)", yAxis: "right" }],
      ],
      stat: "Maximum",
      period: 60,
    });
    graphs.push({
      title: "Queue wait (ms) and redelivered updates",
      width: 8,
      metrics: [
        ourSeries(input.namespace, "QueueAge", {}, { stat: "p95", label: "queue wait p95" }),
        ourSeries(input.namespace, "QueueAge", {}, { stat: "Maximum", label: "queue wait max" }),
        ourSeries(input.namespace, "ReceiveCount", {}, { stat: "SampleCount", label: "redelivered updates", yAxis: "right" }),
      ],
      stat: "Maximum",
      period: 300,
    });
  }
  if (input.deadLetterQueueName !== undefined) {
    graphs.push({
      title: "Dead-letter queue: updates that failed every delivery",
      width: 8,
      metrics: [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", input.deadLetterQueueName, { label: "dead letters" }]],
      stat: "Maximum",
      period: 300,
    });
  }
  return graphs;
}

/** The functions' and the Ollama instance's graphs. */
function computeRow(input: DashboardBodyInput): Graph[] {
  const lambda = (metric: string, stat: string, label: string) =>
    input.functionNames.map((fn): MetricRow => ["AWS/Lambda", metric, "FunctionName", fn, { stat, label: `${fn} ${label}` }]);
  const width = input.ollamaInstanceId === undefined ? 8 : 6;
  const graphs: Graph[] = [
    { title: "Lambda duration p50 / p95 / max (ms)", width, metrics: [...lambda("Duration", "p50", "p50"), ...lambda("Duration", "p95", "p95"), ...lambda("Duration", "Maximum", "max")], stat: "p50", period: 300 },
    {
      title: "Lambda errors and throttles",
      width,
      metrics: [...lambda("Errors", "Sum", "errors"), ...lambda("Throttles", "Sum", "throttles"), ourSeries(input.namespace, OBSERVABILITY_TEST_METRIC, {}, { label: "test-observability runs" })],
      stat: "Sum",
      period: 300,
    },
    { title: "Lambda concurrent executions", width, metrics: lambda("ConcurrentExecutions", "Maximum", "concurrent"), stat: "Maximum", period: 60 },
  ];
  if (input.ollamaInstanceId !== undefined) {
    const instance = ["AWS/EC2", "CPUUtilization", "InstanceId", input.ollamaInstanceId];
    graphs.push({ title: "Ollama instance CPU (%)", width, metrics: [[...instance, { stat: "Average", label: "average" }], [...instance, { stat: "Maximum", label: "max" }]], stat: "Average", period: 300 });
  }
  return graphs;
}

/** Places rows of graphs on the 24-wide grid, top to bottom; empty rows take no space. Pure. */
export function layOut(rows: readonly (readonly Graph[])[], region: string): DashboardWidget[] {
  const widgets: DashboardWidget[] = [];
  let y = 0;
  for (const row of rows.filter((r) => r.length > 0)) {
    let x = 0;
    for (const graph of row) {
      const properties = {
        title: graph.title,
        region,
        view: "timeSeries",
        stacked: graph.stacked ?? false,
        stat: graph.stat,
        period: graph.period,
        metrics: graph.metrics,
        yAxis: { left: { min: 0 } },
      };
      widgets.push({ type: "metric", x, y, width: graph.width, height: WIDGET_HEIGHT, properties });
      x += graph.width;
    }
    y += WIDGET_HEIGHT;
  }
  return widgets;
}

/** The dashboard's widgets. Pure. */
export function dashboardWidgets(input: DashboardBodyInput): DashboardWidget[] {
  return layOut([...answerRows(input), queueRow(input), computeRow(input)], input.region);
}

/** The dashboard body (its JSON): the last 24 hours, the widgets of {@link dashboardWidgets}. Pure. */
export function dashboardBody(input: DashboardBodyInput): string {
  return JSON.stringify({ start: "-PT24H", periodOverride: "inherit", widgets: dashboardWidgets(input) });
}

/** The console address of a dashboard. Pure. */
export const dashboardUrlOf = (region: string, name: string): string =>
  `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${name}`;

/** The validation table of {@link Dashboard}. */
function dashboardRules(props: DashboardProps, namespace: string, name: string): PropRule[] {
  const names = props.models.map((m) => m.name);
  return [
    patternRule("namespace", namespace, METRICS_NAMESPACE_PATTERN, "a cloudwatch namespace (letters, digits, . _ - # : /), not starting with AWS/"),
    patternRule("region", props.region, PATTERNS.region, "an aws region such as us-east-1"),
    patternRule("dashboardName", name, /^[A-Za-z0-9_-]{1,255}$/, "1 to 255 letters, digits, '-' and '_'"),
    { setting: "models", value: names, ok: names.length > 0 && names.length <= MAX_MODELS, allowed: `1 to ${MAX_MODELS} models` },
    { setting: "models", value: names, ok: names.every((n) => DIMENSION_VALUE_PATTERN.test(n)), allowed: "model names of letters, digits, space and . _ : / @ + -, at most 100 characters" },
    { setting: "models", value: names, ok: new Set(names).size === names.length, allowed: "each model once" },
    { setting: "models[].provider", value: props.models.map((m) => m.provider), ok: props.models.every((m) => METRIC_PROVIDERS.includes(m.provider)), allowed: METRIC_PROVIDERS.join(", ") },
    {
      setting: "functionNames",
      value: props.functionNames,
      ok: props.functionNames.length > 0 && props.functionNames.every((f) => isToken(f) || /^[a-zA-Z0-9_-]{1,64}$/.test(f)),
      allowed: "one or more lambda function names",
    },
  ];
}

/**
 * A CloudWatch dashboard of the bot: updates answered and refused per hour, failures by kind,
 * time to first token and answer duration per model, speed, tokens per hour and estimated cost
 * per day, the queue (queue mode), the functions and the Ollama instance (when there is one).
 * The handler's metrics are named only through config/metrics.ts.
 */
export class Dashboard extends Construct {
  public readonly dashboard: CloudwatchDashboard;
  /** The dashboard's name. */
  public readonly dashboardName: string;
  /** Its console address (for main.ts's `dashboard_url` output). */
  public readonly dashboardUrl: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const namespace = props.namespace ?? DEFAULT_METRICS_NAMESPACE;
    const name = props.dashboardName ?? namespace.replace(/[^A-Za-z0-9_-]/g, "-");
    validateProps("dashboard", dashboardRules(props, namespace, name));

    this.dashboardName = name;
    this.dashboardUrl = dashboardUrlOf(props.region, name);
    this.dashboard = new CloudwatchDashboard(this, "Dashboard", {
      dashboardName: name,
      dashboardBody: dashboardBody({
        namespace,
        region: props.region,
        models: props.models,
        functionNames: props.functionNames,
        queueName: props.updateQueue?.name,
        deadLetterQueueName: props.deadLetterQueue?.name,
        ollamaInstanceId: props.ollamaInstanceId,
      }),
    });
  }
}
