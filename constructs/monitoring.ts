import { Construct } from "constructs";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import type { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { METRIC_NAMESPACE } from "../config/defaults";
import { DEFAULT_METRICS_NAMESPACE, METRICS_NAMESPACE_PATTERN, TOKEN_METRICS } from "../config/metrics";
import { PATTERNS } from "../config/stack-config";
import type { BotFunction } from "./bot-function";
import { integerRule, isToken, patternRule, validateProps, type PropRule } from "./validation";
import { errorAlarmName, errorMetricName, failedUpdatesAlarmName } from "../config/monitoring-names";

/** The filter pattern that counts the handler's structured ERROR log lines. */
export const ERROR_FILTER_PATTERN = '{ $.level = "ERROR" }';

/** Share of botTokensPerDay, in percent, whose use in 24 hours raises the token alarm. */
export const BOT_TOKENS_ALARM_PERCENT = 80;

/** The alarm on the update queue's oldest message: "<function>-queued-update-age-alarm". */
export const queuedUpdateAgeAlarmName = (functionName: string): string => `${functionName}-queued-update-age-alarm`;
/** The alarm on the function's error rate: "<function>-error-rate-alarm". */
export const errorRateAlarmName = (functionName: string): string => `${functionName}-error-rate-alarm`;
/** The alarm on the bot's tokens of the last 24 hours: "<function>-bot-tokens-alarm". */
export const botTokensAlarmName = (functionName: string): string => `${functionName}-bot-tokens-alarm`;

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  /** The function whose log group is watched. */
  readonly fn: BotFunction;
  /** The update queue's dead-letter queue (queue mode), whose depth raises an alarm. @default - no such alarm */
  readonly deadLetterQueue?: SqsQueue;
  /** The update queue (queue mode), whose oldest message's age raises an alarm. @default - no such alarm */
  readonly updateQueue?: SqsQueue;
  /** Age in seconds of the oldest queued update that raises the queue alarm. @default 300 */
  readonly oldestUpdateAgeSeconds?: number;
  /** Share of the function's invocations that fail (Lambda Errors / Invocations), in percent, above which the error-rate alarm fires. @default 5 */
  readonly errorRatePercent?: number;
  /** Namespace of the error metric (the log metric filter's). @default METRIC_NAMESPACE ("TelegramBot") */
  readonly namespace?: string;
  /** Namespace of the handler's own metrics (METRICS_NAMESPACE, config/metrics.ts). @default DEFAULT_METRICS_NAMESPACE ("ai-chatbot") */
  readonly metricsNamespace?: string;
  /**
   * The bot's token budget per day (input plus output tokens of every answer); the token alarm
   * fires when the last 24 hours used BOT_TOKENS_ALARM_PERCENT (80) percent of it.
   * @default 0 - no budget, no token alarm
   */
  readonly botTokensPerDay?: number;
  /** Address subscribed to the alarm topic. @default - no topic; alarms only change state */
  readonly alarmEmail?: string;
  /** Errors in one period that raise the alarm. @default 1 */
  readonly errorThreshold?: number;
  /** Alarm period in seconds. @default 300 */
  readonly periodSeconds?: number;
}

/** An alarm's SNS actions: the topic for ALARM and OK, or none. */
type AlarmActions = { alarmActions?: string[]; okActions?: string[] };

/** The settings of {@link Monitoring} with their defaults filled in. */
interface MonitoringSettings {
  readonly namespace: string;
  readonly metricsNamespace: string;
  readonly threshold: number;
  readonly period: number;
  readonly oldestAge: number;
  readonly errorRate: number;
  readonly botTokens: number;
}

/** The validation table of {@link Monitoring}. */
function monitoringRules(props: MonitoringProps, settings: MonitoringSettings): PropRule[] {
  const { namespace, metricsNamespace, threshold, period, oldestAge, errorRate, botTokens } = settings;
  return [
    patternRule("namespace", namespace, /^[^:$][^:]{0,254}$/, "a cloudwatch namespace"),
    patternRule("metricsNamespace", metricsNamespace, METRICS_NAMESPACE_PATTERN, "a cloudwatch namespace (letters, digits, . _ - # : /), not starting with AWS/"),
    integerRule("errorThreshold", threshold, 1, 1_000_000),
    integerRule("periodSeconds", period, 60, 86_400),
    { setting: "periodSeconds", value: period, ok: period % 60 === 0, allowed: "a multiple of 60" },
    integerRule("oldestUpdateAgeSeconds", oldestAge, 60, 86_400),
    { setting: "errorRatePercent", value: errorRate, ok: isToken(errorRate) || (Number.isFinite(errorRate) && errorRate > 0 && errorRate < 100), allowed: "a percentage above 0 and below 100" },
    integerRule("botTokensPerDay", botTokens, 0, 1_000_000_000_000),
    ...(props.alarmEmail === undefined ? [] : [patternRule("alarmEmail", props.alarmEmail, PATTERNS.email, "an e-mail address")]),
  ];
}

/**
 * Error monitoring: a metric filter turning `{ $.level = "ERROR" }` log lines into the
 * metric <function>-error-count, an alarm at >= 1 in 5 minutes (missing data is not
 * breaching, so it returns to OK by itself), an alarm on the function's error rate (Lambda
 * Errors / Invocations), in queue mode alarms on the dead-letter queue's depth and on the age of
 * the oldest queued update, an alarm on the bot's tokens of the last 24 hours when it has a
 * daily budget, and an SNS topic with an e-mail subscription when an address is given; every
 * alarm notifies that one topic.
 */
export class Monitoring extends Construct {
  public readonly errorAlarm: CloudwatchMetricAlarm;
  /** @default - undefined in sync mode */
  public readonly deadLetterAlarm: CloudwatchMetricAlarm | undefined;
  /** The oldest queued update is older than oldestUpdateAgeSeconds. @default - undefined in sync mode */
  public readonly queuedUpdateAgeAlarm: CloudwatchMetricAlarm | undefined;
  /** The share of failed invocations is above errorRatePercent. */
  public readonly errorRateAlarm: CloudwatchMetricAlarm;
  /** The last 24 hours used 80% of botTokensPerDay. @default - undefined without botTokensPerDay */
  public readonly botTokensAlarm: CloudwatchMetricAlarm | undefined;
  /** @default - undefined without alarmEmail */
  public readonly topic: SnsTopic | undefined;
  /** Name of the error metric. */
  public readonly metricName: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const namespace = props.namespace ?? METRIC_NAMESPACE;
    const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    const threshold = props.errorThreshold ?? 1;
    const period = props.periodSeconds ?? 300;
    const oldestAge = props.oldestUpdateAgeSeconds ?? 300;
    const errorRate = props.errorRatePercent ?? 5;
    const botTokens = props.botTokensPerDay ?? 0;
    validateProps("monitoring", monitoringRules(props, { namespace, metricsNamespace, threshold, period, oldestAge, errorRate, botTokens }));

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
    const actions: AlarmActions = this.topic ? { alarmActions: [this.topic.arn], okActions: [this.topic.arn] } : {};

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
    this.errorRateAlarm = this.errorRate(name, period, errorRate, actions);
    this.deadLetterAlarm = props.deadLetterQueue ? this.deadLetters(name, props.deadLetterQueue, period, actions) : undefined;
    this.queuedUpdateAgeAlarm = props.updateQueue ? this.queuedUpdateAge(name, props.updateQueue, period, oldestAge, actions) : undefined;
    this.botTokensAlarm = botTokens > 0 ? this.botTokensUsed(name, metricsNamespace, botTokens, actions) : undefined;
  }

  /** Updates that failed every delivery wait in the dead-letter queue. */
  private deadLetters(name: string, dlq: SqsQueue, period: number, actions: AlarmActions): CloudwatchMetricAlarm {
    return new CloudwatchMetricAlarm(this, "DeadLetterAlarm", {
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
    });
  }

  /** Updates wait in the queue: the consumer is stuck, throttled or too slow for the traffic. */
  private queuedUpdateAge(name: string, queue: SqsQueue, period: number, ageSeconds: number, actions: AlarmActions): CloudwatchMetricAlarm {
    return new CloudwatchMetricAlarm(this, "QueuedUpdateAgeAlarm", {
      alarmName: queuedUpdateAgeAlarmName(name),
      alarmDescription: `A Telegram update has waited ${ageSeconds} s or more in the queue of ${name}`,
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: queue.name },
      statistic: "Maximum",
      period,
      evaluationPeriods: 1,
      threshold: ageSeconds,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      // SQS stops sending the metrics of a queue that stays empty.
      treatMissingData: "notBreaching",
      ...actions,
    });
  }

  /** Invocations that failed (crashed or timed out), as a share: one bad minute of many updates shows. */
  private errorRate(name: string, period: number, percent: number, actions: AlarmActions): CloudwatchMetricAlarm {
    const lambda = (id: string, metricName: string) => ({
      id,
      metric: { namespace: "AWS/Lambda", metricName, dimensions: { FunctionName: name }, period, stat: "Sum" },
      returnData: false,
    });
    return new CloudwatchMetricAlarm(this, "ErrorRateAlarm", {
      alarmName: errorRateAlarmName(name),
      alarmDescription: `More than ${percent}% of the invocations of ${name} failed`,
      metricQuery: [
        lambda("errors", "Errors"),
        lambda("invocations", "Invocations"),
        { id: "rate", expression: "IF(invocations > 0, 100 * errors / invocations, 0)", label: "Error rate (%)", returnData: true },
      ],
      evaluationPeriods: 1,
      threshold: percent,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      ...actions,
    });
  }

  /** The bot's tokens of the last 24 hours (the handler's InputTokens + OutputTokens roll-ups) near its budget. */
  private botTokensUsed(name: string, metricsNamespace: string, perDay: number, actions: AlarmActions): CloudwatchMetricAlarm {
    const [input, output] = TOKEN_METRICS;
    const sum = (id: string, metricName: string) => ({ id, metric: { namespace: metricsNamespace, metricName, period: 86_400, stat: "Sum" }, returnData: false });
    return new CloudwatchMetricAlarm(this, "BotTokensAlarm", {
      alarmName: botTokensAlarmName(name),
      alarmDescription: `The bot used ${BOT_TOKENS_ALARM_PERCENT}% of its ${perDay} tokens per day in the last 24 hours`,
      metricQuery: [
        sum("input", input!),
        sum("output", output!),
        { id: "tokens", expression: "FILL(input, 0) + FILL(output, 0)", label: "Tokens in 24 hours", returnData: true },
      ],
      evaluationPeriods: 1,
      threshold: (perDay * BOT_TOKENS_ALARM_PERCENT) / 100,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      ...actions,
    });
  }
}
