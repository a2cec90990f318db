import { DEFAULT_METRICS_NAMESPACE, OBSERVABILITY_TEST_METRIC } from "../../config/metrics";
import type { Logger } from "./log";
import { createMetrics, type MetricsOptions } from "./metrics";

/**
 * A direct invocation (`aws lambda invoke`, or `npm run test-observability`) that asks the
 * function to write one ERROR line and one metric line, so an operator can prove the log ->
 * metric filter -> metric -> alarm path, and the Embedded Metric Format path, end to end
 * without breaking anything. API Gateway never sends this shape: a webhook event always has
 * `headers`, and this one is refused if it does.
 */
export interface ObservabilityTestEvent {
  readonly observabilityTest: true;
  /** Who asked, echoed in the log message so the run can find its own line. */
  readonly requestedBy: string;
}

/** Longest `requestedBy` echoed into the log line. */
const MAX_REQUESTED_BY = 200;

/** The payload that makes the function write one ERROR line and return `{ ok: true }`. */
export function observabilityTestPayload(requestedBy: string): ObservabilityTestEvent {
  return { observabilityTest: true, requestedBy };
}

/** The message of that ERROR line (requestedBy is cut to its first 200 characters). */
export const observabilityTestMessage = (requestedBy: string): string =>
  `observability test error requested by ${requestedBy.slice(0, MAX_REQUESTED_BY)}`;

/** True for the observability test payload (and never for an API Gateway event). */
export function isObservabilityTestEvent(event: unknown): event is ObservabilityTestEvent {
  if (typeof event !== "object" || event === null || "headers" in event) return false;
  const candidate = event as Record<string, unknown>;
  return candidate.observabilityTest === true && typeof candidate.requestedBy === "string";
}

/**
 * Writes the one ERROR line the alarm should see and one EMF line with ObservabilityTest = 1,
 * and returns `{ ok: true }` to the caller.
 * @param metrics where the metric line goes. @default - DEFAULT_METRICS_NAMESPACE, on stdout
 */
export function runObservabilityTest(
  event: ObservabilityTestEvent,
  log: Logger,
  metrics: MetricsOptions = { namespace: DEFAULT_METRICS_NAMESPACE },
): { ok: true } {
  log.error(observabilityTestMessage(event.requestedBy), undefined, {
    action: "observability_test",
    outcome: "failure",
  });
  const test = createMetrics(metrics);
  test.addMetric(OBSERVABILITY_TEST_METRIC, 1);
  test.flush();
  return { ok: true };
}
