import { METRICS, type MetricName } from "../../../config/metrics";
import { ConnectionError, ServiceError } from "../../../handler/net/errors";
import { createLogger } from "../../../handler/observability/log";
import { EMF_LIMITS, createMetrics, emfLine, errorKindOf, type MetricsOptions } from "../../../handler/observability/metrics";
import { runObservabilityTest } from "../../../handler/observability/observability-test";

const NOW = 1_700_000_000_000;
const UNITS = new Set(["Milliseconds", "Count", "Count/Second", "None", "Seconds", "Bytes", "Percent"]);

interface Directive {
  Namespace: string;
  Dimensions: string[][];
  Metrics: Array<{ Name: string; Unit?: string }>;
}

/**
 * Checks one line against the EMF specification (CloudWatch_Embedded_Metric_Format_Specification):
 * a JSON object whose `_aws` has a millisecond Timestamp and CloudWatchMetrics directives; each
 * directive's namespace, at most 30 dimensions per set, at most 100 metrics, every dimension a
 * string member of the root and every metric a number (or array of at most 100 numbers) there.
 * Returns the parsed line.
 */
function expectAcceptedEmf(line: string): Record<string, unknown> {
  expect(line).not.toContain("\n");
  const root = JSON.parse(line) as Record<string, unknown> & { _aws: { Timestamp: number; CloudWatchMetrics: Directive[] } };
  expect(Object.keys(root._aws).sort()).toEqual(["CloudWatchMetrics", "Timestamp"]);
  expect(Number.isInteger(root._aws.Timestamp)).toBe(true);
  expect(root._aws.CloudWatchMetrics.length).toBeGreaterThan(0);
  for (const directive of root._aws.CloudWatchMetrics) {
    expect(Object.keys(directive).sort()).toEqual(["Dimensions", "Metrics", "Namespace"]);
    expect(directive.Namespace).toMatch(/^[A-Za-z0-9._#:/-]{1,255}$/);
    expect(directive.Metrics.length).toBeGreaterThan(0);
    expect(directive.Metrics.length).toBeLessThanOrEqual(EMF_LIMITS.metricsPerDirective);
    for (const set of directive.Dimensions) {
      expect(set.length).toBeLessThanOrEqual(EMF_LIMITS.dimensionsPerSet);
      for (const d of set) {
        expect(typeof root[d]).toBe("string");
        expect((root[d] as string).length).toBeGreaterThan(0);
      }
    }
    for (const metric of directive.Metrics) {
      expect(metric.Name.length).toBeGreaterThan(0);
      if (metric.Unit !== undefined) expect(UNITS.has(metric.Unit)).toBe(true);
      const value = root[metric.Name];
      const values = Array.isArray(value) ? value : [value];
      expect(values.length).toBeLessThanOrEqual(EMF_LIMITS.valuesPerMetric);
      for (const v of values) expect(Number.isFinite(v)).toBe(true);
    }
  }
  return root;
}

function capture(options: Partial<MetricsOptions> = {}) {
  const lines: string[] = [];
  const problems: string[] = [];
  const metrics = createMetrics({
    namespace: "ai-chatbot",
    sink: (line) => lines.push(line),
    now: () => NOW,
    models: ["llama3.2:1b"],
    onDrop: (problem) => problems.push(problem),
    ...options,
  });
  return { lines, problems, metrics, parsed: () => lines.map(expectAcceptedEmf) };
}

const directiveOf = (root: Record<string, unknown>) => (root._aws as { CloudWatchMetrics: Directive[] }).CloudWatchMetrics[0]!;

describe("observability/metrics", () => {
  it("builds the documented EMF structure: _aws metadata, dimension and metric members at the root", () => {
    const line = emfLine({
      namespace: "ai-chatbot",
      timestampMs: NOW,
      dimensionSets: [["Model", "Provider"]],
      dimensions: { Model: "llama3.2:1b", Provider: "ollama" },
      values: new Map<MetricName, number[]>([["TimeToFirstToken", [412]], ["AnswerDuration", [2100, 900]]]),
    });
    expect(JSON.parse(line)).toEqual({
      _aws: {
        Timestamp: NOW,
        CloudWatchMetrics: [
          {
            Namespace: "ai-chatbot",
            Dimensions: [["Model", "Provider"]],
            Metrics: [
              { Name: "TimeToFirstToken", Unit: "Milliseconds" },
              { Name: "AnswerDuration", Unit: "Milliseconds" },
            ],
          },
        ],
      },
      Model: "llama3.2:1b",
      Provider: "ollama",
      TimeToFirstToken: 412,
      AnswerDuration: [2100, 900],
    });
    expectAcceptedEmf(line);
  });

  it("writes an answer's metrics, each once, under its declared dimension sets", () => {
    const { metrics, parsed } = capture();
    metrics.addDimensions({ Model: "llama3.2:1b", Provider: "ollama" });
    const answer: Array<[MetricName, number]> = [
      ["TimeToFirstToken", 350], ["AnswerDuration", 4200], ["InputTokens", 812], ["OutputTokens", 230],
      ["OutputTokensPerSecond", 54.8], ["EstimatedCost", 0.00021], ["Answered", 1],
    ];
    for (const [name, value] of answer) metrics.addMetric(name, value);
    expect(metrics.flush()).toBe(2);

    const roots = parsed();
    const written = roots.flatMap((root) => directiveOf(root).Metrics.map((m) => m.Name));
    expect(written.sort()).toEqual(answer.map(([n]) => n).sort());
    for (const root of roots) {
      for (const { Name } of directiveOf(root).Metrics) {
        expect(directiveOf(root).Dimensions).toEqual(METRICS[Name as MetricName].dimensionSets);
        expect(root[Name]).toBe(answer.find(([n]) => n === Name)![1]);
      }
      expect(root).toMatchObject({ Model: "llama3.2:1b", Provider: "ollama" });
    }
  });

  it("gives a metric only the dimensions it is declared with", () => {
    const { metrics, parsed } = capture();
    metrics.addDimensions({ Model: "llama3.2:1b", Provider: "ollama", ErrorKind: "modelTimeout" });
    metrics.addMetric("QueueAge", 1800);
    metrics.addMetric("Failed", 1);
    metrics.flush();
    const [queue, failed] = parsed();
    expect(directiveOf(queue!).Dimensions).toEqual([[]]);
    expect(queue).not.toHaveProperty("Model");
    expect(directiveOf(failed!).Dimensions).toEqual([["ErrorKind"], ["ErrorKind", "Model", "Provider"]]);
  });

  it("counts a failure by kind alone when no model was chosen", () => {
    const { metrics, parsed } = capture();
    metrics.addDimension("ErrorKind", "storage");
    metrics.addMetric("Failed", 1);
    metrics.flush();
    expect(directiveOf(parsed()[0]!).Dimensions).toEqual([["ErrorKind"]]);
    expect(parsed()[0]).toMatchObject({ ErrorKind: "storage", Failed: 1 });
  });

  it("drops a metric whose required dimension is missing, and says so", () => {
    const { metrics, lines, problems } = capture();
    metrics.addMetric("Refused", 1);
    expect(metrics.flush()).toBe(0);
    expect(lines).toEqual([]);
    expect(problems).toEqual(["metric Refused: needs dimensions Limit"]);
  });

  it("writes a refusal under its limit", () => {
    const { metrics, parsed } = capture();
    metrics.addDimension("Limit", "botTokensPerDay");
    metrics.addMetric("Refused", 1);
    metrics.flush();
    expect(parsed()[0]).toMatchObject({ Limit: "botTokensPerDay", Refused: 1 });
  });

  it("drops NaN, Infinity and non-numbers, never writing a string", () => {
    const { metrics, lines, problems } = capture();
    metrics.addMetric("QueueAge", Number.NaN);
    metrics.addMetric("QueueAge", Number.POSITIVE_INFINITY);
    metrics.addMetric("QueueAge", "12" as unknown as number);
    expect(metrics.flush()).toBe(0);
    expect(lines).toEqual([]);
    expect(problems).toEqual(Array(3).fill("metric QueueAge: not a finite number"));
  });

  it("keeps every value of a metric recorded twice, up to 100", () => {
    const { metrics, parsed, problems } = capture();
    for (let i = 0; i < EMF_LIMITS.valuesPerMetric + 1; i++) metrics.addMetric("ReceiveCount", i);
    metrics.flush();
    expect(parsed()[0]!.ReceiveCount).toHaveLength(EMF_LIMITS.valuesPerMetric);
    expect(problems).toEqual(["metric ReceiveCount: more than 100 values"]);
  });

  it("writes a model outside the configured list as other", () => {
    const { metrics, parsed } = capture();
    metrics.addDimensions({ Model: "whatever the user typed", Provider: "ollama" });
    metrics.addMetric("Answered", 1);
    metrics.flush();
    expect(parsed()[0]).toMatchObject({ Model: "other" });
    expect(JSON.stringify(parsed())).not.toContain("whatever");
  });

  it("drops dimension values outside their closed set without repeating them", () => {
    const { metrics, parsed, problems } = capture();
    metrics.addDimension("Provider", "123456789:AAsecret-token" as never);
    metrics.addDimension("ErrorKind", "ENOTFOUND api.telegram.org" as never);
    metrics.addDimension("Nope" as never, "x" as never);
    metrics.addMetric("Stopped", 1);
    metrics.flush();
    expect(parsed()[0]).not.toHaveProperty("Provider");
    expect(problems.join("\n")).not.toMatch(/secret|ENOTFOUND/);
    expect(problems).toHaveLength(3);
  });

  it("flushes once: a second flush writes nothing new", () => {
    const { metrics, lines } = capture();
    metrics.addMetric("QueueAge", 5);
    metrics.flush();
    expect(metrics.flush()).toBe(0);
    expect(lines).toHaveLength(1);
  });

  it("stamps the line with the clock in milliseconds", () => {
    const { metrics, parsed } = capture({ now: () => 42_000 });
    metrics.addMetric("QueueAge", 5);
    metrics.flush();
    expect((parsed()[0]!._aws as { Timestamp: number }).Timestamp).toBe(42_000);
  });

  it("writes through the logger's sink whatever the log level", () => {
    const lines: string[] = [];
    const sink = (line: string) => lines.push(line);
    const log = createLogger({ level: "ERROR", sink });
    const metrics = createMetrics({ namespace: "ai-chatbot", sink });
    log.info("not written at ERROR");
    metrics.addMetric("QueueAge", 7);
    metrics.flush();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ QueueAge: 7 });
  });

  it("never lets a failing sink fail the update", () => {
    const { metrics, problems } = capture({ sink: () => { throw new Error("EPIPE"); } });
    metrics.addMetric("QueueAge", 7);
    expect(metrics.flush()).toBe(0);
    expect(problems).toEqual(["sink failed"]);
  });

  it("fails at creation on a namespace CloudWatch refuses", () => {
    expect(() => createMetrics({ namespace: "AWS/Lambda" })).toThrow(/metrics: invalid namespace: got "AWS\/Lambda"/);
  });

  it("classifies errors into the closed ErrorKind set", () => {
    const connection = (service: "ollama" | "telegram", timedOut: boolean) => new ConnectionError({ service, operation: "chat", timedOut, elapsedMs: 1 });
    expect(errorKindOf(connection("ollama", true))).toBe("modelTimeout");
    expect(errorKindOf(connection("ollama", false))).toBe("modelUnreachable");
    expect(errorKindOf(new ServiceError({ service: "bedrock", operation: "converse", status: 429, description: "slow down" }))).toBe("modelError");
    expect(errorKindOf(connection("telegram", true))).toBe("telegram");
    expect(errorKindOf(new ServiceError({ service: "dynamodb", operation: "put", status: 500, description: "x" }))).toBe("storage");
    expect(errorKindOf(new TypeError("bug"))).toBe("internal");
    expect(errorKindOf("thrown string")).toBe("internal");
  });

  it("makes the observability test write one ObservabilityTest line beside its ERROR line", () => {
    const lines: string[] = [];
    const sink = (line: string) => lines.push(line);
    const log = createLogger({ sink });
    runObservabilityTest({ observabilityTest: true, requestedBy: "run 1" }, log, { namespace: "my-bot", sink, now: () => NOW });
    expect(lines).toHaveLength(2);
    const emf = expectAcceptedEmf(lines[1]!);
    expect(directiveOf(emf)).toEqual({ Namespace: "my-bot", Dimensions: [[]], Metrics: [{ Name: "ObservabilityTest", Unit: "Count" }] });
    expect(emf.ObservabilityTest).toBe(1);
  });
});
