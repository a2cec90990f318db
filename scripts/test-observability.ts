/**
 * `npm run test-observability`: proves the alarm path and the metric path end to end. It
 * invokes the function directly with the observability test payload (it writes exactly one
 * ERROR log line and one Embedded Metric Format line), then polls CloudWatch Logs for that
 * line, the error metric for its datapoint, the handler's ObservabilityTest metric for its
 * datapoint and the alarm for its state, printing each step and a verdict: the paths work, or
 * what is missing.
 */
import { randomBytes } from "node:crypto";
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { METRICS_NAMESPACE_OUTPUT, OBSERVABILITY_TEST_METRIC, metricsNamespaceFor } from "../config/metrics";
import { awsCall, stackRegion } from "./lib/aws";
import { CliError, EXIT_FAILURE, EXIT_OK, parseCli, printer, processIo, runCommand, runMain, UsageError, type CliIo } from "./lib/cli";
import {
  ERROR_METRIC_NAMESPACE,
  errorAlarmName,
  errorMetricName,
  observabilityTestMessage,
  observabilityTestPayload,
} from "./lib/monitoring-names";
import { loadStackOutputs, OUTPUT_NAMES, type LoadStackOutputsOptions, type StackOutputs } from "./lib/stack-outputs";

/** Default bound on the whole wait, in seconds (the alarm evaluates 5-minute periods). */
export const DEFAULT_WAIT_SECONDS = 420;
/** Pause between polls, in ms. */
export const POLL_INTERVAL_MS = 10_000;

/** Help text. */
export const HELP = `Usage: npm run test-observability [-- options]

Invokes the bot function with {"observabilityTest": true, ...}: it logs exactly one ERROR line
and one metric line. Then waits for that line in CloudWatch Logs, for the datapoint of the error
metric, for the datapoint of the ${OBSERVABILITY_TEST_METRIC} metric and for the error alarm to
fire, and says whether the alarm path and the metric path work.

Options:
  --wait <seconds>        how long to wait for all three, in total (default ${DEFAULT_WAIT_SECONDS})
  --outputs-file <file>   stack outputs file (default cdktf-outputs.json)
  --stack <name>          stack whose outputs are read (default: the only one)
  -h, --help              show this help

Exit code 0 when the log line, both metrics and the alarm were all seen.
`;

type Sender<C extends { send: unknown }> = Pick<C, "send">;

/** What the script reads and calls; tests replace them (aws-sdk-client-mock). */
export interface TestObservabilityDeps {
  readonly io: CliIo;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly outputs: (options: LoadStackOutputsOptions) => Promise<StackOutputs>;
  readonly lambda: (region: string) => Sender<LambdaClient>;
  readonly logs: (region: string) => Sender<CloudWatchLogsClient>;
  readonly cloudwatch: (region: string) => Sender<CloudWatchClient>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Marks this run's log line. @default - 8 random hex characters */
  readonly runId: () => string;
  /** @default 10000 */
  readonly pollIntervalMs: number;
}

const defaults = (): TestObservabilityDeps => ({
  io: processIo,
  env: process.env,
  cwd: process.cwd(),
  outputs: loadStackOutputs,
  lambda: (region) => new LambdaClient({ region }),
  logs: (region) => new CloudWatchLogsClient({ region }),
  cloudwatch: (region) => new CloudWatchClient({ region }),
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  runId: () => randomBytes(4).toString("hex"),
  pollIntervalMs: POLL_INTERVAL_MS,
});

/** What was seen of each stage. */
export interface ObservabilityResult {
  readonly logLine: boolean;
  readonly metric: boolean;
  /** The handler's own (EMF) test metric had a datapoint. */
  readonly emfMetric: boolean;
  readonly alarm: boolean;
  /** The alarm's last state, when it exists. */
  readonly alarmState: string | undefined;
  readonly alarmExists: boolean;
}

/** The names a run looks for. */
export interface ObservabilityNames {
  readonly logGroup: string;
  readonly metric: string;
  readonly alarm: string;
  /** Namespace of the handler's metrics, where ObservabilityTest goes. */
  readonly metricsNamespace: string;
}

/** True when every stage was seen. */
const allSeen = (r: ObservabilityResult): boolean => r.logLine && r.metric && r.emfMetric && r.alarm;

/** The verdict lines. Pure. */
export function verdict(result: ObservabilityResult, names: ObservabilityNames): string[] {
  if (allSeen(result)) {
    return [
      "verdict: the alarm path works (ERROR log line -> metric filter -> metric -> alarm)",
      `  and metric lines reach CloudWatch (EMF line -> ${names.metricsNamespace}/${OBSERVABILITY_TEST_METRIC})`,
    ];
  }
  const alarmPathWorks = result.logLine && result.metric && result.alarm;
  const lines = [alarmPathWorks ? "verdict: the alarm path works, but the metric path is incomplete:" : "verdict: the alarm path is incomplete:"];
  if (!result.logLine) lines.push(`  - no ERROR line in ${names.logGroup}: is the deployed handler current (npm run synth, then npx cdktf deploy)?`);
  if (!result.metric) {
    lines.push(
      result.logLine
        ? `  - the line was logged but ${ERROR_METRIC_NAMESPACE}/${names.metric} has no datapoint: check the log metric filter { $.level = "ERROR" } on ${names.logGroup} (metrics can lag a few minutes; try a longer --wait)`
        : `  - so no datapoint in ${ERROR_METRIC_NAMESPACE}/${names.metric} either`,
    );
  }
  if (!result.emfMetric) {
    lines.push(
      `  - no datapoint in ${names.metricsNamespace}/${OBSERVABILITY_TEST_METRIC}: the function's EMF line did not become a metric (is ${names.metricsNamespace} its METRICS_NAMESPACE? is the deployed handler current? metrics can lag a few minutes; try a longer --wait)`,
    );
  }
  if (!result.alarmExists) lines.push(`  - the alarm ${names.alarm} does not exist: deploy the Monitoring construct`);
  else if (!result.alarm) {
    lines.push(`  - the alarm ${names.alarm} is ${result.alarmState ?? "unknown"}, not ALARM: it evaluates 5-minute periods, so run again with --wait 600 if the metric arrived late`);
  }
  return lines;
}

/** What each step of a run works with. */
interface RunContext {
  readonly deps: TestObservabilityDeps;
  readonly out: (line: string) => void;
  readonly region: string;
  readonly names: ObservabilityNames;
  /** The marker that finds this run's log line. */
  readonly requestedBy: string;
  readonly invokedAt: number;
  /** Polls check until it holds or the --wait deadline passes. */
  readonly pollUntil: (check: () => Promise<boolean>) => Promise<boolean>;
}

/** Runs the script; resolves with the exit code. */
export async function main(argv: readonly string[], given: Partial<TestObservabilityDeps> = {}): Promise<number> {
  const deps = { ...defaults(), ...given };
  const out = printer(deps.io.stdout);
  return runCommand(deps.io, async () => {
    const { values } = parseCli(argv, {
      help: { type: "boolean", short: "h" },
      wait: { type: "string" },
      "outputs-file": { type: "string" },
      stack: { type: "string" },
    }, false);
    if (values.help) {
      deps.io.stdout.write(HELP);
      return EXIT_OK;
    }
    const waitRaw = values.wait as string | undefined;
    if (waitRaw !== undefined && !/^\d+$/.test(waitRaw)) throw new UsageError(`--wait must be a number of seconds, got "${waitRaw}"`);
    const waitMs = (waitRaw !== undefined ? Number(waitRaw) : DEFAULT_WAIT_SECONDS) * 1000;

    const outputs = await deps.outputs({ cwd: deps.cwd, env: deps.env, file: values["outputs-file"] as string | undefined, stackName: values.stack as string | undefined });
    const functionName = outputs.require(OUTPUT_NAMES.lambdaFunctionName);
    const logGroup = outputs.get(OUTPUT_NAMES.lambdaLogGroup) ?? `/aws/lambda/${functionName}`;
    const region = stackRegion(outputs, deps.env);
    const requestedBy = `test-observability run ${deps.runId()}`;
    const invokedAt = deps.now();
    const deadline = invokedAt + waitMs;
    const context: RunContext = {
      deps,
      out,
      region,
      names: {
        logGroup,
        metric: errorMetricName(functionName),
        alarm: errorAlarmName(functionName),
        metricsNamespace: outputs.get(METRICS_NAMESPACE_OUTPUT) ?? metricsNamespaceFor(outputs.stackName),
      },
      requestedBy,
      invokedAt,
      pollUntil: async (check) => {
        for (;;) {
          if (await check()) return true;
          if (deps.now() + deps.pollIntervalMs > deadline) return false;
          await deps.sleep(deps.pollIntervalMs);
        }
      },
    };

    await invokeWithTestPayload(context, functionName);
    const logFound = await findLogLine(context);
    const metricFound = logFound && (await waitForDatapoint(context, 3, ERROR_METRIC_NAMESPACE, context.names.metric));
    if (!logFound) out(`3. waiting for a datapoint of ${ERROR_METRIC_NAMESPACE}/${context.names.metric}\n   skipped (no log line)`);
    // The metric line is written whatever became of the log line, so it is looked for anyway.
    const emfFound = await waitForDatapoint(context, 4, context.names.metricsNamespace, OBSERVABILITY_TEST_METRIC);
    const alarm = await checkAlarm(context, metricFound);
    const result: ObservabilityResult = { logLine: logFound, metric: metricFound, emfMetric: emfFound, alarm: alarm.fired, alarmState: alarm.state, alarmExists: alarm.exists };
    for (const l of verdict(result, context.names)) out(l);
    if (alarm.fired) out(`   (the alarm returns to OK by itself: missing data is not breaching)`);
    return allSeen(result) ? EXIT_OK : EXIT_FAILURE;
  });
}

/** 1. The invocation, with the payload that makes the handler log one ERROR line. */
async function invokeWithTestPayload(context: RunContext, functionName: string): Promise<void> {
  const { deps, out, region } = context;
  out(`1. invoking ${functionName} (${region}) with the observability test payload`);
  const invoked = await awsCall("lambda Invoke", () =>
    deps.lambda(region).send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: "RequestResponse",
        Payload: new TextEncoder().encode(JSON.stringify(observabilityTestPayload(context.requestedBy))),
      }),
    ),
  );
  const payloadText = invoked.Payload ? new TextDecoder().decode(invoked.Payload) : "";
  if (invoked.FunctionError) throw new CliError(`the function failed (${invoked.FunctionError}): ${payloadText.slice(0, 300)}`);
  let answered: unknown;
  try {
    answered = JSON.parse(payloadText);
  } catch {
    answered = undefined;
  }
  if ((answered as { ok?: unknown } | undefined)?.ok !== true) {
    out(`   the function answered ${payloadText.slice(0, 200) || "nothing"}, not {"ok":true}: does the deployed handler know the observability test?`);
  } else {
    out(`   answered {"ok":true} (status ${invoked.StatusCode ?? "?"})`);
  }
}

/** 2. The log line. */
async function findLogLine(context: RunContext): Promise<boolean> {
  const { deps, out, names, requestedBy } = context;
  out(`2. looking for the ERROR line in ${names.logGroup}`);
  const logs = deps.logs(context.region);
  let logLine: string | undefined;
  const found = await context.pollUntil(async () => {
    const page = await awsCall("logs FilterLogEvents", () =>
      logs.send(new FilterLogEventsCommand({ logGroupName: names.logGroup, startTime: context.invokedAt - 60_000, filterPattern: `"${requestedBy}"`, limit: 10 })),
    );
    const event = (page.events ?? []).find((e) => {
      try {
        const parsed = JSON.parse(e.message ?? "") as { level?: unknown; message?: unknown };
        return parsed.level === "ERROR" && parsed.message === observabilityTestMessage(requestedBy);
      } catch {
        return false;
      }
    });
    logLine = event?.message?.trim();
    return event !== undefined;
  });
  out(found ? `   found: ${logLine}` : "   not found in time");
  return found;
}

/**
 * 3. The metric datapoint the log metric filter makes of the line; 4. the one CloudWatch makes
 * of the function's EMF line. Both are metrics without dimensions.
 */
async function waitForDatapoint(context: RunContext, step: number, namespace: string, metricName: string): Promise<boolean> {
  const { deps, out } = context;
  out(`${step}. waiting for a datapoint of ${namespace}/${metricName}`);
  const cloudwatch = deps.cloudwatch(context.region);
  const fromMinute = Math.floor(context.invokedAt / 60_000) * 60_000;
  let sum = 0;
  const found = await context.pollUntil(async () => {
    const stats = await awsCall("cloudwatch GetMetricStatistics", () =>
      cloudwatch.send(
        new GetMetricStatisticsCommand({
          Namespace: namespace,
          MetricName: metricName,
          StartTime: new Date(fromMinute),
          EndTime: new Date(deps.now() + 60_000),
          Period: 60,
          Statistics: ["Sum"],
        }),
      ),
    );
    sum = (stats.Datapoints ?? []).reduce((n, d) => n + (d.Sum ?? 0), 0);
    return sum >= 1;
  });
  out(found ? `   datapoint: Sum ${sum} since ${new Date(fromMinute).toISOString()}` : "   no datapoint in time");
  return found;
}

/** 5. The alarm: polled until ALARM when the datapoint arrived, else looked at once. */
async function checkAlarm(context: RunContext, metricFound: boolean): Promise<{ fired: boolean; state: string | undefined; exists: boolean }> {
  const { out, names } = context;
  out(`5. checking the alarm ${names.alarm}`);
  const cloudwatch = context.deps.cloudwatch(context.region);
  let state: string | undefined;
  let exists = false;
  let shown: string | undefined;
  const describeAlarm = async () => {
    const result = await awsCall("cloudwatch DescribeAlarms", () => cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [names.alarm] })));
    const alarm = result.MetricAlarms?.[0];
    exists = alarm !== undefined;
    state = alarm?.StateValue;
    const line = alarm ? `   state ${alarm.StateValue}: ${alarm.StateReason ?? ""}`.trimEnd() : undefined;
    if (line !== undefined && line !== shown) out(line);
    shown = line;
    return alarm?.StateValue === "ALARM";
  };
  const fired = metricFound ? await context.pollUntil(describeAlarm) : await describeAlarm();
  if (!exists) out("   the alarm does not exist");
  return { fired, state, exists };
}

if (require.main === module) runMain((argv) => main(argv));
