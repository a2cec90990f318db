/**
 * Names of the monitoring resources, derived from the function name exactly as the Monitoring
 * construct (constructs/monitoring.ts) derives them; a test synthesizes the stack and checks
 * they still agree.
 */
import { METRIC_NAMESPACE } from "../../config/defaults";

/** Namespace of the error metric. */
export const ERROR_METRIC_NAMESPACE = METRIC_NAMESPACE;

/** The metric the log metric filter writes: "<function>-error-count". */
export const errorMetricName = (functionName: string) => `${functionName}-error-count`;

/** The alarm on that metric: "<function>-error-alarm". */
export const errorAlarmName = (functionName: string) => `${functionName}-error-alarm`;

/** The payload that makes the function write one ERROR log line and return { ok: true }. */
export function observabilityTestPayload(requestedBy: string): { observabilityTest: true; requestedBy: string } {
  return { observabilityTest: true, requestedBy };
}

/** The message of that ERROR line. */
export const observabilityTestMessage = (requestedBy: string) => `observability test error requested by ${requestedBy}`;
