/**
 * The bot's own CloudWatch metrics, declared once: the handler writes them as Embedded Metric
 * Format lines (handler/observability/metrics.ts), the Dashboard construct graphs them and the
 * Monitoring construct alarms on them, all by the names, units and dimension sets below, so the
 * three cannot drift apart. Pure; no cdktf, no AWS SDK (the handler bundle imports it).
 */
import { DEFAULT_PROJECT_NAME } from "./defaults";

/** Variable that carries the namespace to the function (the stack sets it; handler/config.ts reads it). */
export const METRICS_NAMESPACE_ENV = "METRICS_NAMESPACE";

/** The stack output that names the namespace (test-observability reads it). */
export const METRICS_NAMESPACE_OUTPUT = "metrics_namespace";

/**
 * The namespace of a deployment's metrics: its project name, so two deployments in one account
 * (distinct project names) never mix their figures.
 */
export const metricsNamespaceFor = (projectName: string): string => projectName;

/** The namespace when METRICS_NAMESPACE is unset: that of the default project name ("ai-chatbot"). */
export const DEFAULT_METRICS_NAMESPACE = metricsNamespaceFor(DEFAULT_PROJECT_NAME);

/**
 * A namespace CloudWatch accepts: 1 to 255 of letters, digits and `. _ - # : /`, not in the
 * reserved `AWS/` space. Also keeps `$` out, so a namespace never reads as Terraform syntax.
 */
export const METRICS_NAMESPACE_PATTERN = /^(?!AWS\/)[A-Za-z0-9._#:/-]{1,255}$/;

/**
 * The METRICS_NAMESPACE value validated, or DEFAULT_METRICS_NAMESPACE when it is unset or empty.
 * Throws a message naming the variable, for handler/config.ts to fail at cold start.
 */
export function resolveMetricsNamespace(value: string | undefined): string {
  const trimmed = value?.trim();
  if (!trimmed) return DEFAULT_METRICS_NAMESPACE;
  if (!METRICS_NAMESPACE_PATTERN.test(trimmed)) {
    throw new Error(`invalid ${METRICS_NAMESPACE_ENV}: got ${JSON.stringify(trimmed)}; allowed: 1 to 255 letters, digits and . _ - # : /, not starting with AWS/`);
  }
  return trimmed;
}

/** The CloudWatch units our metrics use (a subset of the StandardUnit list). */
export type MetricUnit = "Milliseconds" | "Count" | "Count/Second" | "None";

/** The dimensions a metric may carry; their values come only from the closed sets below. */
export const METRIC_DIMENSIONS = ["Model", "Provider", "Limit", "ErrorKind"] as const;
/** One of {@link METRIC_DIMENSIONS}. */
export type MetricDimension = (typeof METRIC_DIMENSIONS)[number];

/** Values of the Provider dimension: the model providers (handler/model/model-api.ts ProviderName). */
export const METRIC_PROVIDERS = ["ollama", "bedrock", "openai"] as const;
/** One of {@link METRIC_PROVIDERS}. */
export type MetricProvider = (typeof METRIC_PROVIDERS)[number];

/** Values of the Limit dimension: which limit refused an update. */
export const LIMIT_KINDS = ["messagesPerHour", "messagesPerDay", "importsPerDay", "userTokensPerDay", "botTokensPerDay", "notAllowed"] as const;
/** One of {@link LIMIT_KINDS}. */
export type LimitKind = (typeof LIMIT_KINDS)[number];

/**
 * Values of the ErrorKind dimension: the model timed out, could not be reached or answered with
 * an error; Telegram failed; a store (DynamoDB, S3, SQS) failed; anything else.
 */
export const ERROR_KINDS = ["modelTimeout", "modelUnreachable", "modelError", "telegram", "storage", "internal"] as const;
/** One of {@link ERROR_KINDS}. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** The value a Model dimension takes for a name outside the configured model list. */
export const OTHER_MODEL = "other";

/** Longest dimension value we write (CloudWatch allows 1024; ours are short names). */
export const MAX_DIMENSION_VALUE_CHARS = 100;

/**
 * A dimension value we write: ASCII letters, digits, space and `. _ : / @ + -`, starting with a
 * letter or digit, at most MAX_DIMENSION_VALUE_CHARS. No `$`, quote or backslash, so a value is
 * safe inside the dashboard's JSON and Terraform strings.
 */
export const DIMENSION_VALUE_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9 ._:/@+-]{0,98}[A-Za-z0-9._:/@+-])?$/;

/** A dimension set: the dimension names one series of a metric is published under. */
export type DimensionSet = readonly MetricDimension[];

/** What one metric is. */
export interface MetricDefinition {
  readonly unit: MetricUnit;
  /** What it measures, for the dashboard and the README. */
  readonly description: string;
  /**
   * The dimension sets it is published under. A flushed metric goes under every set whose
   * dimensions were all given; `[]` is the roll-up without dimensions (what alarms use, since
   * an alarm cannot search). The first set is the one it needs at least.
   */
  readonly dimensionSets: readonly DimensionSet[];
}

const MODEL: DimensionSet = ["Model", "Provider"];

/** Every metric the handler writes, by name. */
export const METRICS = /* @__PURE__ */ Object.freeze({
  TimeToFirstToken: { unit: "Milliseconds", description: "From the question to the answer's first token", dimensionSets: [MODEL] },
  AnswerDuration: { unit: "Milliseconds", description: "From the question to the answer's last token", dimensionSets: [MODEL] },
  InputTokens: { unit: "Count", description: "Prompt tokens of one answer, as the provider counted them", dimensionSets: [[], MODEL] },
  OutputTokens: { unit: "Count", description: "Tokens generated for one answer, as the provider counted them", dimensionSets: [[], MODEL] },
  OutputTokensPerSecond: { unit: "Count/Second", description: "Generation speed of one answer", dimensionSets: [MODEL] },
  EstimatedCost: { unit: "None", description: "Estimated cost of one answer, in USD", dimensionSets: [[], MODEL] },
  Answered: { unit: "Count", description: "Updates answered by a model", dimensionSets: [[], MODEL] },
  Refused: { unit: "Count", description: "Updates refused by a limit or the allow-list", dimensionSets: [["Limit"]] },
  Failed: { unit: "Count", description: "Updates that failed, by kind of error", dimensionSets: [["ErrorKind"], ["ErrorKind", "Model", "Provider"]] },
  Stopped: { unit: "Count", description: "Answers stopped by the user", dimensionSets: [[], MODEL] },
  QueueAge: { unit: "Milliseconds", description: "Queue mode: time an update waited in the queue (from SentTimestamp)", dimensionSets: [[]] },
  ReceiveCount: { unit: "Count", description: "Queue mode: deliveries of a redelivered update", dimensionSets: [[]] },
  ObservabilityTest: { unit: "Count", description: "One per npm run test-observability invocation", dimensionSets: [[]] },
} as const satisfies Record<string, MetricDefinition>);

/** The name of one of our metrics. */
export type MetricName = keyof typeof METRICS;

/** Every metric name, in declaration order. */
export const METRIC_NAMES: readonly MetricName[] = /* @__PURE__ */ Object.freeze(Object.keys(METRICS) as MetricName[]);

/** The metric the observability test invocation writes. */
export const OBSERVABILITY_TEST_METRIC: MetricName = "ObservabilityTest";

/** The metrics whose daily sum is the bot's token use (the botTokensPerDay alarm). */
export const TOKEN_METRICS: readonly MetricName[] = /* @__PURE__ */ Object.freeze(["InputTokens", "OutputTokens"] as const);

/** The definition of a metric (typed access for callers holding a MetricName). */
export const metricDefinition = (name: MetricName): MetricDefinition => METRICS[name];

/** True when the name is one of ours (for values read from JSON). */
export const isMetricName = (name: unknown): name is MetricName => typeof name === "string" && Object.hasOwn(METRICS, name);
