import {
  ERROR_KINDS,
  LIMIT_KINDS,
  METRIC_PROVIDERS,
  METRICS,
  METRICS_NAMESPACE_PATTERN,
  DIMENSION_VALUE_PATTERN,
  OTHER_MODEL,
  type DimensionSet,
  type ErrorKind,
  type LimitKind,
  type MetricDimension,
  type MetricName,
  type MetricProvider,
} from "../../config/metrics";
import type { LogSink } from "./log";

/**
 * Metrics without an API call: CloudWatch Embedded Metric Format (EMF) lines, written to the
 * same stdout as the log lines; CloudWatch Logs turns each into datapoints. Modelled on
 * Powertools Metrics: one {@link Metrics} per update, `addMetric` and dimensions, flushed once.
 * Names, units and dimension sets come only from config/metrics.ts; dimension values only from
 * closed sets (never user text, ids or secrets), and values only from finite numbers.
 */

/** CloudWatch's limits on one EMF directive. */
export const EMF_LIMITS = Object.freeze({ metricsPerDirective: 100, valuesPerMetric: 100, dimensionsPerSet: 30 });

/** Largest magnitude CloudWatch stores (2^360); larger values are refused. */
const MAX_MAGNITUDE = 2 ** 360;

/** What each dimension's value may be. */
export interface DimensionValues {
  /** A model name of the configured list; any other becomes OTHER_MODEL ("other"). */
  readonly Model: string;
  readonly Provider: MetricProvider;
  readonly Limit: LimitKind;
  readonly ErrorKind: ErrorKind;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** CloudWatch namespace (METRICS_NAMESPACE); invalid ones throw, at cold start. */
  readonly namespace: string;
  /**
   * Where the lines go: pass the logger's sink, so metrics and logs share one output path.
   * Metrics are written whatever LOG_LEVEL is. @default - one line on process.stdout
   */
  readonly sink?: LogSink;
  /** Clock for the line's Timestamp, epoch ms. @default Date.now */
  readonly now?: () => number;
  /** The configured model names, the only values Model takes. @default - none: every Model is "other" */
  readonly models?: readonly string[];
  /** Told what was dropped and why (names only, never a value). @default - dropped silently */
  readonly onDrop?: (problem: string) => void;
}

/** The metrics of one unit of work (an update), written by one {@link Metrics.flush}. */
export interface Metrics {
  /** Sets a dimension for every metric of this update that may carry it; an invalid value is dropped. */
  addDimension<D extends MetricDimension>(name: D, value: DimensionValues[D]): void;
  /** Sets several dimensions at once. */
  addDimensions(dimensions: Partial<DimensionValues>): void;
  /** Records a value (a metric added twice keeps both values); NaN, Infinity and non-numbers are dropped. */
  addMetric(name: MetricName, value: number): void;
  /** Writes the recorded metrics, one line per dimension sets, and forgets them; returns the lines written. */
  flush(): number;
}

/** One EMF line's content. */
export interface EmfLineInput {
  readonly namespace: string;
  readonly timestampMs: number;
  /** The dimension sets of the directive; each dimension must have a value in `dimensions`. */
  readonly dimensionSets: readonly DimensionSet[];
  readonly dimensions: Readonly<Partial<Record<MetricDimension, string>>>;
  /** Each metric's values (one or more, all finite). */
  readonly values: ReadonlyMap<MetricName, readonly number[]>;
}

/**
 * One EMF line: the `_aws` metadata (Timestamp, one CloudWatchMetrics directive with the
 * namespace, dimension sets and each metric's name and unit) and, at the root, every dimension's
 * value and every metric's value (a number, or an array of numbers when recorded more than once).
 * Pure.
 */
export function emfLine(input: EmfLineInput): string {
  const names = [...input.values.keys()];
  const root: Record<string, unknown> = {
    _aws: {
      Timestamp: input.timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: input.namespace,
          Dimensions: input.dimensionSets.map((set) => [...set]),
          Metrics: names.map((name) => ({ Name: name, Unit: METRICS[name].unit })),
        },
      ],
    },
  };
  for (const set of input.dimensionSets) for (const d of set) root[d] = input.dimensions[d];
  for (const name of names) {
    const values = input.values.get(name)!;
    root[name] = values.length === 1 ? values[0] : [...values];
  }
  return JSON.stringify(root);
}

/** The declared dimension sets of a metric whose dimensions were all given. Pure. */
export function dimensionSetsFor(name: MetricName, dimensions: Readonly<Partial<Record<MetricDimension, string>>>): DimensionSet[] {
  return METRICS[name].dimensionSets.filter((set) => set.every((d) => dimensions[d] !== undefined));
}

/**
 * The lines of a flush: one per group of metrics going under the same dimension sets (every
 * metric of config/metrics.ts fits one directive: fewer than EMF_LIMITS.metricsPerDirective),
 * and the metrics that had no complete set (a Refused without its Limit). Pure.
 */
export function emfLines(input: Omit<EmfLineInput, "dimensionSets">): { lines: string[]; dropped: MetricName[] } {
  const groups = new Map<string, { sets: DimensionSet[]; values: Map<MetricName, readonly number[]> }>();
  const dropped: MetricName[] = [];
  for (const [name, values] of input.values) {
    if (values.length === 0) continue;
    const sets = dimensionSetsFor(name, input.dimensions);
    if (sets.length === 0) {
      dropped.push(name);
      continue;
    }
    const key = sets.map((s) => s.join(",")).join("|");
    const group = groups.get(key) ?? { sets, values: new Map() };
    group.values.set(name, values);
    groups.set(key, group);
  }
  const lines = [...groups.values()].map(({ sets, values }) => emfLine({ ...input, dimensionSets: sets, values }));
  return { lines, dropped };
}

/** True for a value CloudWatch stores: a finite number within its range. */
export const isMetricValue = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && Math.abs(value) <= MAX_MAGNITUDE;

/** The closed set of each dimension but Model (whose set is the configured model list). */
const CLOSED_SETS: Readonly<Record<Exclude<MetricDimension, "Model">, readonly string[]>> = {
  Provider: METRIC_PROVIDERS,
  Limit: LIMIT_KINDS,
  ErrorKind: ERROR_KINDS,
};

/**
 * The value a dimension is written with, or undefined when it may not be written: Model maps a
 * name outside the list to OTHER_MODEL; the others must be in their closed set. Pure.
 */
export function dimensionValue(name: MetricDimension, value: unknown, models: ReadonlySet<string>): string | undefined {
  if (typeof value !== "string") return undefined;
  if (name === "Model") return models.has(value) ? value : OTHER_MODEL;
  return CLOSED_SETS[name].includes(value) ? value : undefined;
}

// The same as handler/deps.ts's log sink: a bare line on stdout, without console.log's prefix,
// since CloudWatch extracts EMF only from a log event that is a JSON object and nothing else.
const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/** Creates the metrics of one update. Throws when the namespace is not one CloudWatch accepts. */
export function createMetrics(options: MetricsOptions): Metrics {
  if (!METRICS_NAMESPACE_PATTERN.test(options.namespace)) {
    throw new Error(`metrics: invalid namespace: got ${JSON.stringify(options.namespace)}; allowed: 1 to 255 letters, digits and . _ - # : /, not starting with AWS/`);
  }
  const sink = options.sink ?? stdoutSink;
  const now = options.now ?? Date.now;
  const drop = options.onDrop ?? (() => undefined);
  const models = new Set((options.models ?? []).filter((m) => DIMENSION_VALUE_PATTERN.test(m)));
  const dimensions: Partial<Record<MetricDimension, string>> = {};
  let values = new Map<MetricName, number[]>();

  const addDimension = (name: MetricDimension, value: unknown): void => {
    if (!Object.hasOwn(CLOSED_SETS, name) && name !== "Model") return drop(`dimension ${String(name)}: not a dimension of ours`);
    const written = dimensionValue(name, value, models);
    if (written === undefined) return drop(`dimension ${name}: value outside its closed set`);
    dimensions[name] = written;
  };

  return {
    addDimension,
    addDimensions: (given) => {
      for (const [name, value] of Object.entries(given)) addDimension(name as MetricDimension, value);
    },
    addMetric: (name, value) => {
      if (!Object.hasOwn(METRICS, name)) return drop(`metric ${String(name)}: not declared in config/metrics.ts`);
      if (!isMetricValue(value)) return drop(`metric ${name}: not a finite number`);
      const list = values.get(name) ?? [];
      if (list.length >= EMF_LIMITS.valuesPerMetric) return drop(`metric ${name}: more than ${EMF_LIMITS.valuesPerMetric} values`);
      list.push(value);
      values.set(name, list);
    },
    flush: () => {
      const { lines, dropped } = emfLines({ namespace: options.namespace, timestampMs: now(), dimensions: { ...dimensions }, values });
      values = new Map();
      for (const name of dropped) drop(`metric ${name}: needs dimensions ${METRICS[name].dimensionSets[0]!.join(", ")}`);
      try {
        for (const line of lines) sink(line);
      } catch {
        // Metrics must never fail the update they measure.
        drop("sink failed");
        return 0;
      }
      return lines.length;
    },
  };
}

/** The providers whose errors are the model's (ServiceName values of handler/net/errors.ts). */
const MODEL_SERVICES: ReadonlySet<string> = new Set(METRIC_PROVIDERS);

/**
 * The ErrorKind of an error, from the shape of handler/net/errors.ts's two error classes (read
 * by name and fields, since observability/ imports nothing of net/). Pure.
 */
export function errorKindOf(err: unknown): ErrorKind {
  const shape = (typeof err === "object" && err !== null ? err : {}) as { name?: unknown; service?: unknown; timedOut?: unknown };
  if (typeof shape.service !== "string") return "internal";
  if (MODEL_SERVICES.has(shape.service)) {
    if (shape.name !== "ConnectionError") return "modelError";
    return shape.timedOut === true ? "modelTimeout" : "modelUnreachable";
  }
  if (shape.service === "telegram") return "telegram";
  return ["dynamodb", "s3", "sqs"].includes(shape.service) ? "storage" : "internal";
}
