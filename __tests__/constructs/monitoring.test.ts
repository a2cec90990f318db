import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { BotFunction } from "../../constructs/bot-function";
import { Monitoring, type MonitoringProps } from "../../constructs/monitoring";
import { UpdateQueue } from "../../constructs/update-queue";
import { botFunctionProps, synthWith } from "../support/infra";
import { resourcesOf, type TerraformJson } from "../support/terraform-json";

function synthMonitoring(props: Partial<Omit<MonitoringProps, "fn">> = {}, deliveryMode: "queue" | "sync" = "queue"): TerraformJson {
  return synthWith((scope, deps) => {
    const fn = new BotFunction(scope, "Fn", botFunctionProps(deps, { deliveryMode }));
    const queue = deliveryMode === "queue" ? new UpdateQueue(scope, "Queue", { fn }) : undefined;
    new Monitoring(scope, "Monitoring", { fn, deadLetterQueue: queue?.deadLetterQueue, ...props });
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
    const queued = Object.values(resourcesOf(tf, "aws_cloudwatch_metric_alarm"));
    const sync = Object.values(resourcesOf(synthMonitoring({}, "sync"), "aws_cloudwatch_metric_alarm"));
    expect(queued.map((a) => a.metric_name).sort()).toEqual(["ApproximateNumberOfMessagesVisible", "telegram-bot-error-count"]);
    const dlqId = Object.entries(resourcesOf(tf, "aws_sqs_queue")).find(([, q]) => String(q.name).endsWith("-failed.fifo"))?.[0];
    expect(queued.find((a) => a.namespace === "AWS/SQS")?.dimensions).toEqual({ QueueName: `\${aws_sqs_queue.${dlqId}.name}` });
    expect(sync.map((a) => a.metric_name)).toEqual(["telegram-bot-error-count"]);
  });

  it("creates no topic without an alarm e-mail", () => {
    const tf = synthMonitoring();
    expect(resourcesOf(tf, "aws_sns_topic")).toEqual({});
    expect(Object.values(resourcesOf(tf, "aws_cloudwatch_metric_alarm"))[0].alarm_actions).toBeUndefined();
  });

  it("e-mails alarms through SNS when an address is given", () => {
    const tf = synthMonitoring({ alarmEmail: "ops@example.com" });
    expect(JSON.stringify(tf)).toHaveResourceWithProperties(SnsTopicSubscription, { protocol: "email", endpoint: "ops@example.com" });
    const topicId = Object.keys(resourcesOf(tf, "aws_sns_topic"))[0];
    for (const alarm of Object.values(resourcesOf(tf, "aws_cloudwatch_metric_alarm"))) {
      expect(alarm.alarm_actions).toEqual([`\${aws_sns_topic.${topicId}.arn}`]);
    }
  });

  it("fails if the alarm e-mail is not an address", () => {
    expect(() => synthMonitoring({ alarmEmail: "not-an-address" })).toThrow(/monitoring: invalid alarmEmail: got "not-an-address"/);
  });

  it("fails if the period is not a multiple of a minute", () => {
    expect(() => synthMonitoring({ periodSeconds: 90 })).toThrow(/invalid periodSeconds: got 90; allowed: a multiple of 60/);
  });
});
