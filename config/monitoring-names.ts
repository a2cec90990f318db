/**
 * Names of the monitoring resources, derived from the function name. Declared once: the
 * Monitoring construct creates them and the test-observability script looks them up.
 */
import { METRIC_NAMESPACE } from "./defaults";

/** Namespace of the error metric. */
export const ERROR_METRIC_NAMESPACE = METRIC_NAMESPACE;

/** The metric the log metric filter writes: "<function>-error-count". */
export const errorMetricName = (functionName: string): string => `${functionName}-error-count`;

/** The alarm on that metric: "<function>-error-alarm". */
export const errorAlarmName = (functionName: string): string => `${functionName}-error-alarm`;

/** The alarm on the async dead-letter queue's depth: "<function>-failed-updates-alarm". */
export const failedUpdatesAlarmName = (functionName: string): string => `${functionName}-failed-updates-alarm`;
