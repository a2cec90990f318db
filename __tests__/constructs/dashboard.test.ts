import { Testing, TerraformStack } from "cdktf";
import { BotFunction } from "../../constructs/bot-function";
import { Dashboard, dashboardBody, ourSeries, type DashboardModel, type DashboardProps } from "../../constructs/dashboard";
import { UpdateQueue } from "../../constructs/update-queue";
import { METRIC_NAMES, METRICS } from "../../config/metrics";
import { botFunctionProps, synthWith } from "../support/infra";
import { onlyResource, unresolvedReferences, type TerraformJson } from "../support/terraform-json";

const NS = "ai-chatbot";
const MODELS: readonly DashboardModel[] = [
  { name: "llama3.2:1b", provider: "ollama" },
  { name: "claude-haiku", provider: "bedrock" },
];

type Mode = "queue" | "sync";

function synthDashboard(mode: Mode = "queue", props: Partial<DashboardProps> = {}): TerraformJson {
  return synthWith((scope, deps) => {
    const fn = new BotFunction(scope, "Fn", botFunctionProps(deps, { deliveryMode: mode }));
    const queue = mode === "queue" ? new UpdateQueue(scope, "Queue", { fn }) : undefined;
    new Dashboard(scope, "Dashboard", {
      namespace: NS,
      models: MODELS,
      functionNames: [fn.functionName],
      updateQueue: queue?.queue,
      deadLetterQueue: queue?.deadLetterQueue,
      ollamaInstanceId: "i-0123456789abcdef0",
      region: "eu-west-1",
      ...props,
    });
  });
}

interface Widget {
  x: number;
  y: number;
  width: number;
  height: number;
  properties: { title: string; region: string; metrics: Array<Array<string | Record<string, unknown>>> };
}

function widgetsOf(tf: TerraformJson): Widget[] {
  const body = onlyResource(tf, "aws_cloudwatch_dashboard").dashboard_body as string;
  return (JSON.parse(body) as { widgets: Widget[] }).widgets;
}

/** Every series of the dashboard: namespace, metric name and dimension name/value pairs. */
function seriesOf(widgets: Widget[]): Array<{ namespace: string; name: string; dimensions: Record<string, string> }> {
  return widgets.flatMap((w) =>
    w.properties.metrics.map((row) => {
      const parts = row.filter((p): p is string => typeof p === "string");
      const dimensions: Record<string, string> = {};
      for (let i = 2; i < parts.length; i += 2) dimensions[parts[i]!] = parts[i + 1]!;
      return { namespace: parts[0]!, name: parts[1]!, dimensions };
    }),
  );
}

const titles = (tf: TerraformJson) => widgetsOf(tf).map((w) => w.properties.title);

describe("Dashboard", () => {
  it("names in our namespace only metrics of config/metrics.ts, with their declared dimension sets", () => {
    const ours = seriesOf(widgetsOf(synthDashboard())).filter((s) => s.namespace === NS);
    expect(ours.length).toBeGreaterThan(0);
    for (const series of ours) {
      expect(METRIC_NAMES).toContain(series.name);
      const keys = Object.keys(series.dimensions).sort();
      expect(METRICS[series.name as keyof typeof METRICS].dimensionSets.map((s) => [...s].sort())).toContainEqual(keys);
    }
  });

  it("graphs every metric of config/metrics.ts", () => {
    const names = new Set(seriesOf(widgetsOf(synthDashboard())).filter((s) => s.namespace === NS).map((s) => s.name));
    expect([...names].sort()).toEqual([...METRIC_NAMES].sort());
  });

  it("graphs time to first token p50 and p95 for each model of the list", () => {
    const ttft = widgetsOf(synthDashboard()).find((w) => w.properties.title.startsWith("Time to first token"))!;
    const stats = ttft.properties.metrics.map((row) => {
      const options = row[row.length - 1] as { stat: string };
      return `${row[3]}/${row[5]}/${options.stat}`;
    });
    expect(stats.sort()).toEqual(["claude-haiku/bedrock/p50", "claude-haiku/bedrock/p95", "llama3.2:1b/ollama/p50", "llama3.2:1b/ollama/p95"]);
  });

  it("graphs the queue's depth and oldest message and the dead letters in queue mode", () => {
    const tf = synthDashboard();
    const sqs = seriesOf(widgetsOf(tf)).filter((s) => s.namespace === "AWS/SQS");
    expect(sqs.map((s) => s.name).sort()).toEqual(["ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesVisible"]);
    for (const s of sqs) expect(s.dimensions.QueueName).toMatch(/^\$\{aws_sqs_queue\.\w+\.name\}$/);
  });

  it("has no queue widgets in sync mode", () => {
    const tf = synthDashboard("sync");
    expect(seriesOf(widgetsOf(tf)).filter((s) => s.namespace === "AWS/SQS")).toEqual([]);
    expect(titles(tf).some((t) => /queue/i.test(t))).toBe(false);
  });

  it("graphs Lambda duration, errors, throttles and concurrency of every function named", () => {
    const lambda = seriesOf(widgetsOf(synthDashboard("queue", { functionNames: ["telegram-bot", "telegram-bot-authorizer"] }))).filter((s) => s.namespace === "AWS/Lambda");
    for (const metric of ["Duration", "Errors", "Throttles", "ConcurrentExecutions"]) {
      expect(lambda.filter((s) => s.name === metric).map((s) => s.dimensions.FunctionName)).toEqual(expect.arrayContaining(["telegram-bot", "telegram-bot-authorizer"]));
    }
  });

  it("graphs the Ollama instance's CPU only when there is one", () => {
    const ec2 = (tf: TerraformJson) => seriesOf(widgetsOf(tf)).filter((s) => s.namespace === "AWS/EC2");
    expect(ec2(synthDashboard()).map((s) => s.dimensions.InstanceId)).toEqual(["i-0123456789abcdef0", "i-0123456789abcdef0"]);
    expect(ec2(synthDashboard("queue", { ollamaInstanceId: undefined }))).toEqual([]);
  });

  it("places widgets on the 24-wide grid without overlaps, each in the stack's region", () => {
    const widgets = widgetsOf(synthDashboard());
    for (const w of widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      expect(w.properties.region).toBe("eu-west-1");
    }
    const cells = widgets.flatMap((w) => Array.from({ length: w.width }, (_, i) => `${w.x + i},${w.y}`));
    expect(new Set(cells).size).toBe(cells.length);
  });

  it("puts no Terraform syntax in the body but references to the stack's own resources", () => {
    const tf = synthDashboard();
    // The function's fixture props hold stand-in references of their own; only the dashboard's count here.
    const { problems, checked } = unresolvedReferences(tf);
    expect(problems.filter((p) => p.path.startsWith("$.resource.aws_cloudwatch_dashboard"))).toEqual([]);
    expect(checked).toBeGreaterThan(0);
    const body = onlyResource(tf, "aws_cloudwatch_dashboard").dashboard_body as string;
    expect(body.match(/\$\{/g)).toHaveLength(3);
  });

  it("exposes its console address for the dashboard_url output", () => {
    const stack = new TerraformStack(Testing.app(), "d");
    const dashboard = new Dashboard(stack, "Dashboard", { models: MODELS, functionNames: ["telegram-bot"], region: "eu-west-1" });
    expect(dashboard.dashboardName).toBe("ai-chatbot");
    expect(dashboard.dashboardUrl).toBe("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/ai-chatbot");
  });

  it("builds the same body from the same input (a pure function)", () => {
    const input = { namespace: NS, region: "us-east-1", models: MODELS, functionNames: ["telegram-bot"] };
    expect(dashboardBody(input)).toBe(dashboardBody(input));
  });

  it("refuses a series the handler never writes", () => {
    expect(() => ourSeries(NS, "Refused", {})).toThrow(/metric Refused is not written with dimensions \[\]/);
  });

  it.each<[string, Partial<DashboardProps>, RegExp]>([
    ["no model", { models: [] }, /dashboard: invalid models: got \[\]; allowed: 1 to 50 models/],
    ["a model name with Terraform syntax", { models: [{ name: "${var.x}", provider: "ollama" }] }, /invalid models: got \["\$\{var\.x\}"\]/],
    ["a model twice", { models: [MODELS[0]!, MODELS[0]!] }, /invalid models: .*allowed: each model once/],
    ["an unknown provider", { models: [{ name: "m", provider: "acme" as never }] }, /invalid models\[\]\.provider: got \["acme"\]; allowed: ollama, bedrock, openai/],
    ["a reserved namespace", { namespace: "AWS/Lambda" }, /invalid namespace: got "AWS\/Lambda"/],
    ["a bad region", { region: "mars" }, /invalid region: got "mars"/],
    ["a bad dashboard name", { dashboardName: "my dashboard" }, /invalid dashboardName: got "my dashboard"/],
    ["no function", { functionNames: [] }, /invalid functionNames: got \[\]/],
  ])("fails with %s", (_case, props, message) => {
    expect(() => synthDashboard("queue", props)).toThrow(message);
  });
});
