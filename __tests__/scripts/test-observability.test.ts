import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { errorAlarmName, errorMetricName, observabilityTestMessage } from "../../scripts/lib/monitoring-names";
import { StackOutputs } from "../../scripts/lib/stack-outputs";
import { main, verdict } from "../../scripts/test-observability";
import { captureIo } from "../support/cli-io";
import { synthChatbot } from "../support/infra";

const FN = "telegram-bot";
const REQUESTED_BY = "test-observability run abcd1234";
const errorLine = JSON.stringify({ level: "ERROR", action: "observability_test", outcome: "failure", message: observabilityTestMessage(REQUESTED_BY) });
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe("test-observability", () => {
  const lambda = mockClient(LambdaClient);
  const logs = mockClient(CloudWatchLogsClient);
  const cloudwatch = mockClient(CloudWatchClient);
  beforeEach(() => {
    lambda.reset();
    logs.reset();
    cloudwatch.reset();
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode({ ok: true }) as never });
  });

  const run = (argv: string[] = [], extraOutputs: Record<string, string> = {}) => {
    const io = captureIo();
    let clock = 1_700_000_000_000;
    const code = main(argv, {
      io,
      env: { AWS_REGION: "eu-west-1" },
      cwd: "/nonexistent",
      outputs: async () => new StackOutputs("ai-chatbot", "cdktf-outputs.json", { lambda_function_name: FN, lambda_log_group: `/aws/lambda/${FN}`, ...extraOutputs }),
      lambda: () => new LambdaClient({ region: "eu-west-1" }),
      logs: () => new CloudWatchLogsClient({ region: "eu-west-1" }),
      cloudwatch: () => new CloudWatchClient({ region: "eu-west-1" }),
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
      runId: () => "abcd1234",
    });
    return { io, code };
  };

  it("follows the ERROR line to the metric and the alarm and says the path works", async () => {
    logs.on(FilterLogEventsCommand).resolvesOnce({ events: [] }).resolves({ events: [{ message: `${errorLine}\n` }] });
    cloudwatch.on(GetMetricStatisticsCommand, { Namespace: "TelegramBot" }).resolvesOnce({ Datapoints: [] }).resolves({ Datapoints: [{ Sum: 1 }] });
    cloudwatch.on(GetMetricStatisticsCommand, { Namespace: "ai-chatbot" }).resolvesOnce({ Datapoints: [] }).resolves({ Datapoints: [{ Sum: 1 }] });
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ StateValue: "OK", StateReason: "no errors" }] })
      .resolves({ MetricAlarms: [{ StateValue: "ALARM", StateReason: "Threshold Crossed: 1 datapoint [1.0]" }] });
    const { io, code } = run();
    expect(await code).toBe(0);

    const invoke = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(invoke.FunctionName).toBe(FN);
    expect(invoke.InvocationType).toBe("RequestResponse");
    expect(JSON.parse(new TextDecoder().decode(invoke.Payload as Uint8Array))).toEqual({ observabilityTest: true, requestedBy: REQUESTED_BY });
    expect(logs.commandCalls(FilterLogEventsCommand)[0]!.args[0].input).toMatchObject({ logGroupName: `/aws/lambda/${FN}`, filterPattern: `"${REQUESTED_BY}"` });
    expect(cloudwatch.commandCalls(GetMetricStatisticsCommand)[0]!.args[0].input).toMatchObject({ Namespace: "TelegramBot", MetricName: "telegram-bot-error-count", Statistics: ["Sum"] });
    expect(cloudwatch.commandCalls(GetMetricStatisticsCommand, { Namespace: "ai-chatbot" })[0]!.args[0].input).toMatchObject({ MetricName: "ObservabilityTest", Statistics: ["Sum"], Period: 60 });
    expect(cloudwatch.commandCalls(GetMetricStatisticsCommand, { Namespace: "ai-chatbot" })[0]!.args[0].input.Dimensions).toBeUndefined();
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input).toEqual({ AlarmNames: ["telegram-bot-error-alarm"] });
    expect(io.out()).toContain("found: {");
    expect(io.out()).toMatch(/state OK: no errors\n.*state ALARM/);
    expect(io.out()).toContain("verdict: the alarm path works");
    expect(io.out()).toContain("metric lines reach CloudWatch (EMF line -> ai-chatbot/ObservabilityTest)");
  });

  it("says the metric path is incomplete when the EMF metric never arrives", async () => {
    logs.on(FilterLogEventsCommand).resolves({ events: [{ message: errorLine }] });
    cloudwatch.on(GetMetricStatisticsCommand, { Namespace: "TelegramBot" }).resolves({ Datapoints: [{ Sum: 1 }] });
    cloudwatch.on(GetMetricStatisticsCommand, { Namespace: "ai-chatbot" }).resolves({ Datapoints: [] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ StateValue: "ALARM" }] });
    const { io, code } = run(["--wait", "30"]);
    expect(await code).toBe(1);
    expect(io.out()).toContain("4. waiting for a datapoint of ai-chatbot/ObservabilityTest");
    expect(io.out()).toContain("verdict: the alarm path works, but the metric path is incomplete:");
    expect(io.out()).toMatch(/no datapoint in ai-chatbot\/ObservabilityTest: .*METRICS_NAMESPACE/);
  });

  it("looks for the EMF metric in the namespace the stack outputs", async () => {
    logs.on(FilterLogEventsCommand).resolves({ events: [{ message: errorLine }] });
    cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [{ Sum: 1 }] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ StateValue: "ALARM" }] });
    const { code } = run([], { metrics_namespace: "prod-bot" });
    expect(await code).toBe(0);
    expect(cloudwatch.commandCalls(GetMetricStatisticsCommand, { Namespace: "prod-bot", MetricName: "ObservabilityTest" })).toHaveLength(1);
  });

  it("says what is missing when the metric never arrives within --wait", async () => {
    logs.on(FilterLogEventsCommand).resolves({ events: [{ message: errorLine }] });
    cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ StateValue: "OK" }] });
    const { io, code } = run(["--wait", "30"]);
    expect(await code).toBe(1);
    expect(io.out()).toContain("no datapoint in time");
    expect(io.out()).toMatch(/has no datapoint: check the log metric filter/);
  });

  it("reports a function error", async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: "Unhandled", Payload: encode({ errorMessage: "boom" }) as never });
    const { io, code } = run();
    expect(await code).toBe(1);
    expect(io.err()).toContain("the function failed (Unhandled)");
  });

  it("verdict names the missing alarm", () => {
    const lines = verdict({ logLine: true, metric: true, emfMetric: true, alarm: false, alarmState: undefined, alarmExists: false }, { logGroup: "g", metric: "m", alarm: "a", metricsNamespace: "n" });
    expect(lines.join("\n")).toContain("the alarm a does not exist");
  });

  it("uses the metric and alarm names the stack synthesizes", () => {
    const { tf } = synthChatbot();
    const resources = (tf as { resource: Record<string, Record<string, Record<string, unknown>>> }).resource;
    const alarms = Object.values(resources.aws_cloudwatch_metric_alarm ?? {});
    const filters = Object.values(resources.aws_cloudwatch_log_metric_filter ?? {});
    expect(alarms.map((a) => a.alarm_name)).toContain(errorAlarmName(FN));
    expect(alarms.find((a) => a.alarm_name === errorAlarmName(FN))).toMatchObject({ metric_name: errorMetricName(FN), namespace: "TelegramBot" });
    expect(filters.map((f) => (f.metric_transformation as { name: string }).name)).toContain(errorMetricName(FN));
  });
});
