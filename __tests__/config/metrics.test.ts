import { USER_LIMIT_DEFAULTS } from "../../config/defaults";
import {
  DEFAULT_METRICS_NAMESPACE,
  DIMENSION_VALUE_PATTERN,
  ERROR_KINDS,
  LIMIT_KINDS,
  METRIC_DIMENSIONS,
  METRIC_NAMES,
  METRIC_PROVIDERS,
  METRICS,
  METRICS_NAMESPACE_ENV,
  METRICS_NAMESPACE_PATTERN,
  OTHER_MODEL,
  isMetricName,
  metricsNamespaceFor,
  resolveMetricsNamespace,
  type MetricProvider,
} from "../../config/metrics";
import { STACK_DEFAULTS } from "../../config/stack-config";
import type { ProviderName } from "../../handler/model/model-api";
import { EMF_LIMITS } from "../../handler/observability/metrics";

/** True (as a type) when A and B are the same union; checked by `npm run typecheck`. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const PROVIDERS_MATCH_THE_MODEL_PORT: Same<ProviderName, MetricProvider> = true;

describe("config/metrics", () => {
  it.each([
    ["TimeToFirstToken", "Milliseconds"],
    ["AnswerDuration", "Milliseconds"],
    ["InputTokens", "Count"],
    ["OutputTokens", "Count"],
    ["OutputTokensPerSecond", "Count/Second"],
    ["EstimatedCost", "None"],
    ["Answered", "Count"],
    ["Refused", "Count"],
    ["Failed", "Count"],
    ["Stopped", "Count"],
    ["QueueAge", "Milliseconds"],
    ["ReceiveCount", "Count"],
    ["ObservabilityTest", "Count"],
  ])("declares %s in %s", (name, unit) => {
    expect(isMetricName(name)).toBe(true);
    expect(METRICS[name as keyof typeof METRICS].unit).toBe(unit);
  });

  it("declares nothing else, and few enough metrics for one EMF directive", () => {
    expect(METRIC_NAMES).toHaveLength(13);
    expect(METRIC_NAMES.length).toBeLessThanOrEqual(EMF_LIMITS.metricsPerDirective);
  });

  it("publishes the answer metrics per model and provider", () => {
    for (const name of ["TimeToFirstToken", "AnswerDuration", "InputTokens", "OutputTokens", "OutputTokensPerSecond", "EstimatedCost"] as const) {
      expect(METRICS[name].dimensionSets).toContainEqual(["Model", "Provider"]);
    }
  });

  it("keeps a roll-up without dimensions of what alarms and totals need", () => {
    for (const name of ["InputTokens", "OutputTokens", "EstimatedCost", "Answered", "Stopped", "QueueAge", "ReceiveCount", "ObservabilityTest"] as const) {
      expect(METRICS[name].dimensionSets).toContainEqual([]);
    }
  });

  it("counts refusals by limit and failures by error kind, per model where known", () => {
    expect(METRICS.Refused.dimensionSets).toEqual([["Limit"]]);
    expect(METRICS.Failed.dimensionSets).toEqual([["ErrorKind"], ["ErrorKind", "Model", "Provider"]]);
  });

  it("uses only declared dimensions, each once, at most 30 per set", () => {
    for (const name of METRIC_NAMES) {
      expect(METRICS[name].dimensionSets.length).toBeGreaterThan(0);
      for (const set of METRICS[name].dimensionSets) {
        expect(set.length).toBeLessThanOrEqual(EMF_LIMITS.dimensionsPerSet);
        expect(new Set(set).size).toBe(set.length);
        for (const d of set) expect(METRIC_DIMENSIONS).toContain(d);
      }
    }
  });

  it("names metrics as CloudWatch allows (1 to 255 ASCII characters, no $)", () => {
    for (const name of METRIC_NAMES) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9]{0,254}$/);
  });

  it("lets every closed dimension value through the dimension value pattern", () => {
    for (const value of [...METRIC_PROVIDERS, ...LIMIT_KINDS, ...ERROR_KINDS, OTHER_MODEL, "llama3.2:1b", "qwen2.5:1.5b-instruct-q4_K_M"]) {
      expect(value).toMatch(DIMENSION_VALUE_PATTERN);
    }
  });

  it("refuses dimension values that could carry text or Terraform syntax", () => {
    for (const value of ["", " lead", "trail ", "${var.x}", 'a"b', "a\\b", "line\nbreak", "é", "x".repeat(101)]) {
      expect(value).not.toMatch(DIMENSION_VALUE_PATTERN);
    }
  });

  it("has a Limit kind for every per-user limit of config/defaults.ts", () => {
    for (const limit of Object.keys(USER_LIMIT_DEFAULTS)) expect(LIMIT_KINDS).toContain(limit);
  });

  it("has the model port's providers as Provider values", () => {
    expect(PROVIDERS_MATCH_THE_MODEL_PORT).toBe(true);
  });

  it("names the namespace after the project", () => {
    expect(metricsNamespaceFor("my-bot")).toBe("my-bot");
    expect(DEFAULT_METRICS_NAMESPACE).toBe(STACK_DEFAULTS.projectName);
    expect(DEFAULT_METRICS_NAMESPACE).toMatch(METRICS_NAMESPACE_PATTERN);
  });

  it("reads METRICS_NAMESPACE, defaulting when unset or empty", () => {
    expect(METRICS_NAMESPACE_ENV).toBe("METRICS_NAMESPACE");
    expect(resolveMetricsNamespace(undefined)).toBe("ai-chatbot");
    expect(resolveMetricsNamespace("  ")).toBe("ai-chatbot");
    expect(resolveMetricsNamespace(" prod-bot ")).toBe("prod-bot");
  });

  it("fails on a namespace CloudWatch refuses, naming the variable", () => {
    expect(() => resolveMetricsNamespace("AWS/Lambda")).toThrow(/invalid METRICS_NAMESPACE: got "AWS\/Lambda"/);
    expect(() => resolveMetricsNamespace("has space")).toThrow(/invalid METRICS_NAMESPACE/);
    expect(() => resolveMetricsNamespace("x".repeat(256))).toThrow(/invalid METRICS_NAMESPACE/);
  });
});
