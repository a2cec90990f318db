/**
 * What test-observability looks for: the monitoring names (declared once in
 * config/monitoring-names.ts) and the handler's observability test payload.
 */
export { ERROR_METRIC_NAMESPACE, errorAlarmName, errorMetricName } from "../../config/monitoring-names";
export { observabilityTestMessage, observabilityTestPayload } from "../../handler/observability/observability-test";
