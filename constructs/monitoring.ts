import { Construct } from "constructs";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import type { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { METRIC_NAMESPACE } from "../config/defaults";
import { PATTERNS } from "../config/stack-config";
import type { BotFunction } from "./bot-function";
import { integerRule, patternRule, validateProps, type PropRule } from "./validation";
import { errorAlarmName, errorMetricName, failedUpdatesAlarmName } from "../config/monitoring-names";

/** The filter pattern that counts the handler's structured ERROR log lines. */
export const ERROR_FILTER_PATTERN = '{ $.level = "ERROR" }';

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  /** The function whose log group is watched. */
  readonly fn: BotFunction;
  /** The update queue's dead-letter queue (queue mode), whose depth raises an alarm. @default - no such alarm */
  readonly deadLetterQueue?: SqsQueue;
  /** Metric namespace. @default METRIC_NAMESPACE ("TelegramBot") */
  readonly namespace?: string;
  /** Address subscribed to the alarm topic. @default - no topic; alarms only change state */
  readonly alarmEmail?: string;
  /** Errors in one period that raise the alarm. @default 1 */
  readonly errorThreshold?: number;
  /** Alarm period in seconds. @default 300 */
  readonly periodSeconds?: number;
}

/**
 * Error monitoring: a metric filter turning `{ $.level = "ERROR" }` log lines into the
 * metric <function>-error-count, an alarm at >= 1 in 5 minutes (missing data is not
 * breaching, so it returns to OK by itself), an alarm on the dead-letter queue's depth in
 * queue mode, and an SNS topic with an e-mail subscription when an address is given.
 */
export class Monitoring extends Construct {
  public readonly errorAlarm: CloudwatchMetricAlarm;
  /** @default - undefined in sync mode */
  public readonly deadLetterAlarm: CloudwatchMetricAlarm | undefined;
  /** @default - undefined without alarmEmail */
  public readonly topic: SnsTopic | undefined;
  /** Name of the error metric. */
  public readonly metricName: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const namespace = props.namespace ?? METRIC_NAMESPACE;
    const threshold = props.errorThreshold ?? 1;
    const period = props.periodSeconds ?? 300;
    const rules: PropRule[] = [
      patternRule("namespace", namespace, /^[^:$][^:]{0,254}$/, "a cloudwatch namespace"),
      integerRule("errorThreshold", threshold, 1, 1_000_000),
      integerRule("periodSeconds", period, 60, 86_400),
      { setting: "periodSeconds", value: period, ok: period % 60 === 0, allowed: "a multiple of 60" },
    ];
    if (props.alarmEmail !== undefined) {
      rules.push(patternRule("alarmEmail", props.alarmEmail, PATTERNS.email, "an e-mail address"));
    }
    validateProps("monitoring", rules);

    const name = props.fn.functionName;
    this.metricName = errorMetricName(name);

    if (props.alarmEmail) {
      this.topic = new SnsTopic(this, "AlarmTopic", { name: `${name}-alarms` });
      new SnsTopicSubscription(this, "AlarmEmail", {
        topicArn: this.topic.arn,
        protocol: "email",
        endpoint: props.alarmEmail,
      });
    } else {
      this.topic = undefined;
    }
    const actions = this.topic ? { alarmActions: [this.topic.arn], okActions: [this.topic.arn] } : {};

    new CloudwatchLogMetricFilter(this, "ErrorFilter", {
      name: `${name}-errors`,
      logGroupName: props.fn.logGroup.name,
      pattern: ERROR_FILTER_PATTERN,
      metricTransformation: { name: this.metricName, namespace, value: "1" },
    });
    this.errorAlarm = new CloudwatchMetricAlarm(this, "ErrorAlarm", {
      alarmName: errorAlarmName(name),
      alarmDescription: `Errors logged by ${name}`,
      namespace,
      metricName: this.metricName,
      statistic: "Sum",
      period,
      evaluationPeriods: 1,
      threshold,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      ...actions,
    });

    const dlq = props.deadLetterQueue;
    this.deadLetterAlarm = dlq
      ? new CloudwatchMetricAlarm(this, "DeadLetterAlarm", {
          alarmName: failedUpdatesAlarmName(name),
          alarmDescription: `Telegram updates that ${name} failed to handle after every delivery`,
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: dlq.name },
          statistic: "Maximum",
          period,
          evaluationPeriods: 1,
          threshold: 1,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          treatMissingData: "notBreaching",
          ...actions,
        })
      : undefined;
  }
}
