import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { BotFunction } from "../../constructs/bot-function";
import { Monitoring, type MonitoringProps } from "../../constructs/monitoring";
import { UpdateQueue } from "../../constructs/update-queue";
import { botFunctionProps, synthWith } from "../support/infra";
import { resourcesOf, type Block, type TerraformJson } from "../support/terraform-json";

const alarmsOf = (tf: TerraformJson): Block[] => Object.values(resourcesOf(tf, "aws_cloudwatch_metric_alarm"));
const alarmNamed = (tf: TerraformJson, name: string): Block | undefined => alarmsOf(tf).find((a) => a.alarm_name === name);
const queryOf = (alarm: Block | undefined) => alarm?.metric_query as Array<Record<string, unknown> & { metric?: Record<string, unknown> }>;

function synthMonitoring(props: Partial<Omit<MonitoringProps, "fn">> = {}, deliveryMode: "queue" | "sync" = "queue"): TerraformJson {
  return synthWith((scope, deps) => {
    const fn = new BotFunction(scope, "Fn", botFunctionProps(deps, { deliveryMode }));
    const queue = deliveryMode === "queue" ? new UpdateQueue(scope, "Queue", { fn }) : undefined;
    new Monitoring(scope, "Monitoring", { fn, deadLetterQueue: queue?.deadLetterQueue, updateQueue: queue?.queue, ...props });
  });
}

describe("Monitoring", () => {
  it("counts ERROR log lines into TelegramBot/telegram-bot-error-count", () => {
    expect(JSON.stringify(synthMonitoring())).toHaveResourceWithProperties(CloudwatchLogMetricFilter, {
      pattern: '{ $.level = "ERROR" }',
      metric_transformation: { name: "telegram-bot-error-count", namespace: "TelegramBot", value: "1" },
    });
  });

  it("alarms at one error in five minutes and treats missing data as not breaching", () => {
    expect(JSON.stringify(synthMonitoring())).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: "telegram-bot-error-alarm",
      metric_name: "telegram-bot-error-count",
      namespace: "TelegramBot",
      threshold: 1,
      period: 300,
      evaluation_periods: 1,
      comparison_operator: "GreaterThanOrEqualToThreshold",
      treat_missing_data: "notBreaching",
    });
  });

  it("alarms on the dead-letter queue's depth in queue mode only", () => {
    const tf = synthMonitoring();
    const dlqId = Object.entries(resourcesOf(tf, "aws_sqs_queue")).find(([, q]) => String(q.name).endsWith("-failed.fifo"))?.[0];
    expect(alarmNamed(tf, "telegram-bot-failed-updates-alarm")).toMatchObject({
      namespace: "AWS/SQS",
      metric_name: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: `\${aws_sqs_queue.${dlqId}.name}` },
    });
    expect(alarmNamed(synthMonitoring({}, "sync"), "telegram-bot-failed-updates-alarm")).toBeUndefined();
  });

  it("alarms when the oldest queued update is five minutes old, in queue mode only", () => {
    const tf = synthMonitoring();
    const queueId = Object.entries(resourcesOf(tf, "aws_sqs_queue")).find(([, q]) => String(q.name).endsWith("-updates.fifo"))?.[0];
    expect(alarmNamed(tf, "telegram-bot-queued-update-age-alarm")).toMatchObject({
      namespace: "AWS/SQS",
      metric_name: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: `\${aws_sqs_queue.${queueId}.name}` },
      statistic: "Maximum",
      threshold: 300,
      comparison_operator: "GreaterThanOrEqualToThreshold",
      treat_missing_data: "notBreaching",
    });
    expect(alarmNamed(synthMonitoring({}, "sync"), "telegram-bot-queued-update-age-alarm")).toBeUndefined();
  });

  it("takes the queued update age from oldestUpdateAgeSeconds", () => {
    expect(alarmNamed(synthMonitoring({ oldestUpdateAgeSeconds: 120 }), "telegram-bot-queued-update-age-alarm")?.threshold).toBe(120);
  });

  it("alarms on the function's error rate, Errors / Invocations above 5%, in both modes", () => {
    for (const mode of ["queue", "sync"] as const) {
      const alarm = alarmNamed(synthMonitoring({}, mode), "telegram-bot-error-rate-alarm");
      expect(alarm).toMatchObject({ threshold: 5, comparison_operator: "GreaterThanThreshold", treat_missing_data: "notBreaching" });
      const query = queryOf(alarm);
      expect(query.filter((q) => q.metric).map((q) => [q.id, q.metric!.namespace, q.metric!.metric_name, q.metric!.dimensions, q.metric!.stat])).toEqual([
        ["errors", "AWS/Lambda", "Errors", { FunctionName: "telegram-bot" }, "Sum"],
        ["invocations", "AWS/Lambda", "Invocations", { FunctionName: "telegram-bot" }, "Sum"],
      ]);
      expect(query.find((q) => q.return_data === true)?.expression).toBe("IF(invocations > 0, 100 * errors / invocations, 0)");
    }
  });

  it("alarms when the bot's tokens of the last 24 hours pass 80% of botTokensPerDay", () => {
    const alarm = alarmNamed(synthMonitoring({ botTokensPerDay: 1_000_000, metricsNamespace: "my-bot" }), "telegram-bot-bot-tokens-alarm");
    expect(alarm).toMatchObject({ threshold: 800_000, comparison_operator: "GreaterThanOrEqualToThreshold", evaluation_periods: 1 });
    const query = queryOf(alarm);
    expect(query.filter((q) => q.metric).map((q) => [q.metric!.namespace, q.metric!.metric_name, q.metric!.period, q.metric!.stat, q.metric!.dimensions])).toEqual([
      ["my-bot", "InputTokens", 86_400, "Sum", undefined],
      ["my-bot", "OutputTokens", 86_400, "Sum", undefined],
    ]);
    expect(query.find((q) => q.return_data === true)?.expression).toBe("FILL(input, 0) + FILL(output, 0)");
  });

  it("has no token alarm without a daily bot budget", () => {
    expect(alarmNamed(synthMonitoring(), "telegram-bot-bot-tokens-alarm")).toBeUndefined();
    expect(alarmNamed(synthMonitoring({ botTokensPerDay: 0 }), "telegram-bot-bot-tokens-alarm")).toBeUndefined();
  });

  it("fails if the error rate is not a percentage", () => {
    expect(() => synthMonitoring({ errorRatePercent: 0 })).toThrow(/invalid errorRatePercent: got 0; allowed: a percentage above 0 and below 100/);
  });

  it("fails if botTokensPerDay is not a whole number", () => {
    expect(() => synthMonitoring({ botTokensPerDay: 1.5 })).toThrow(/invalid botTokensPerDay: got 1.5/);
  });

  it("creates no topic without an alarm e-mail", () => {
    const tf = synthMonitoring();
    expect(resourcesOf(tf, "aws_sns_topic")).toEqual({});
    for (const alarm of alarmsOf(tf)) expect(alarm.alarm_actions).toBeUndefined();
  });

  it("e-mails alarms through SNS when an address is given", () => {
    const tf = synthMonitoring({ alarmEmail: "ops@example.com", botTokensPerDay: 1000 });
    expect(JSON.stringify(tf)).toHaveResourceWithProperties(SnsTopicSubscription, { protocol: "email", endpoint: "ops@example.com" });
    const topicId = Object.keys(resourcesOf(tf, "aws_sns_topic"))[0];
    expect(alarmsOf(tf)).toHaveLength(5);
    for (const alarm of alarmsOf(tf)) {
      expect(alarm.alarm_actions).toEqual([`\${aws_sns_topic.${topicId}.arn}`]);
      expect(alarm.ok_actions).toEqual([`\${aws_sns_topic.${topicId}.arn}`]);
    }
  });

  it("fails if the alarm e-mail is not an address", () => {
    expect(() => synthMonitoring({ alarmEmail: "not-an-address" })).toThrow(/monitoring: invalid alarmEmail: got "not-an-address"/);
  });

  it("fails if the period is not a multiple of a minute", () => {
    expect(() => synthMonitoring({ periodSeconds: 90 })).toThrow(/invalid periodSeconds: got 90; allowed: a multiple of 60/);
  });
});
