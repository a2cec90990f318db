import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dynamodbRequests } from "../../bench/chart-figures";
import { escapeXml, formatNumber, niceTicks, wrapText } from "../../bench/chart-svg";
import { asChartResults, CHART_FILES, rebuildCharts, svgBarChart, svgLineChart, writeCharts, type ChartResults } from "../../bench/charts";
import type { Summary } from "../../bench/stats";

/**
 * A small well-formedness check of XML as the charts write it (elements, attributes in double
 * quotes, text, the five named entities; no comments, CDATA or DTD): throws on a stray `<` or
 * `&`, an unclosed or mismatched tag, a repeated attribute, or not exactly one root element.
 */
function assertWellFormed(xml: string): void {
  const tag = /^<(\/?)([A-Za-z][\w.:-]*)((?:\s+[A-Za-z][\w.:-]*="[^"<]*")*)\s*(\/?)>/;
  const badAmpersand = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const stack: string[] = [];
  let roots = 0;
  let at = 0;
  while (at < xml.length) {
    const lt = xml.indexOf("<", at);
    const text = xml.slice(at, lt < 0 ? xml.length : lt);
    if (badAmpersand.test(text)) throw new Error(`unescaped & in text near ${at}: ${text.slice(0, 40)}`);
    if (stack.length === 0 && text.trim().length > 0) throw new Error(`text outside the root element: ${text.slice(0, 40)}`);
    if (lt < 0) break;
    const match = tag.exec(xml.slice(lt));
    if (!match) throw new Error(`not a tag at ${lt}: ${xml.slice(lt, lt + 40)}`);
    const [whole, closing, name, attrs, selfClosing] = match as unknown as [string, string, string, string, string];
    const names = [...attrs.matchAll(/([A-Za-z][\w.:-]*)="([^"]*)"/g)].map((m) => {
      if (badAmpersand.test(m[2]!)) throw new Error(`unescaped & in attribute ${m[1]} of <${name}>`);
      return m[1]!;
    });
    if (new Set(names).size !== names.length) throw new Error(`repeated attribute in <${name}>`);
    if (closing) {
      if (selfClosing || attrs.trim()) throw new Error(`malformed closing tag </${name}>`);
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open ?? "nothing"}>`);
    } else {
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name);
    }
    at = lt + whole.length;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join("> <")}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

const marks = (svg: string) => svg.match(/class="mark"/g)?.length ?? 0;

const summary = (min: number, p50: number, p95: number, p99: number, max: number, n = 10): Summary => ({ n, min, mean: p50, p50, p95, p99, max });

const chatCounts = { total: 12, byOperation: { GetItem: 1, PutItem: 3, Query: 1, UpdateItem: 6, PutObject: 1 } };
const scaleRow = (sessions: number, messages: number) => ({
  sessions,
  messages,
  requests: { chat: chatCounts, listsessions: { total: 5, byOperation: { Query: 5 } }, archive: { total: 14, byOperation: { Query: 14 } }, export: { total: 6, byOperation: { GetObject: 6 } } },
  ollamaBytes: messages === 10 ? 1377 : 6118,
  ollamaMessages: messages === 10 ? 11 : 50,
});
const burstRun = (delivery: string, answered: number, timedOut: number, lastAnswerRealS: number | undefined) => ({
  delivery,
  updates: 100,
  ollamaTimeoutMs: 10_500,
  model: { completed: answered, abandonedWaiting: 0, abandonedGenerating: 0, peakGenerating: 2, peakWaiting: 0 },
  answered,
  timedOut,
  wrong: 0,
  unanswered: 100 - answered - timedOut,
  timedOutShare: timedOut / 100,
  chatsInOrder: 50,
  chats: 50,
  lastAnswerMs: lastAnswerRealS === undefined ? undefined : lastAnswerRealS * 100,
  lastAnswerRealS,
  lastMessageMs: undefined,
});
const recordCost = { recordsPerBatch: 1, perRecordMs: summary(10, 20, 25, 30, 40), perBatchMs: summary(10, 20, 25, 30, 40), dynamodbPerRecord: 11, dynamodbConstant: true, byOperation: { GetItem: 1 } };

/** results.json's shape with made-up figures: 2 sessions × 2 history lengths, 3 stop paths, 3 burst runs. */
const FIXTURE: ChartResults = {
  machine: { cpu: "Test CPU <x>", cores: 2, memoryBytes: 2 ** 33, node: "v20.0.0", platform: "linux-x64", date: "2026-12-07T09:42:30.602Z", memoryGB: 8 },
  options: { quick: false, iterations: 1000, warmup: 500, coldRuns: 20 },
  warmLatencyMs: { chat: summary(14, 19.21, 26.47, 41.2, 86), listsessions: summary(4, 5.95, 10.27, 13.97, 38), archive: summary(17, 23.57, 34.63, 41.03, 120), export: summary(16, 21.58, 29.22, 35.77, 98) },
  requestsPerUpdate: [scaleRow(1, 10), scaleRow(1, 1000), scaleRow(10, 10), scaleRow(10, 1000)],
  stopLatency: {
    pollIntervalMs: 1000,
    paths: (["sync, Stop button", "queue, Stop button", "queue, /stop"] as const).map((path) => ({
      path,
      stopToModelEndMs: summary(96, 505, 1008, 1008, 1009),
      stopHandledMs: summary(5, 8, 16, 16, 16),
      stopToAnswerEndMs: summary(103, 512, 1016, 1016, 1016),
      stoppedRuns: 10,
      runs: 10,
    })),
    worstStopToModelEndMs: 1009,
  },
  targets: [{ target: "stop to end of model request, slowest", limit: "< 1500 ms", actual: "1009 ms", result: "PASS" }],
  queueDelivery: {
    cost: { single: recordCost, batch: { ...recordCost, recordsPerBatch: 10 }, webhookDynamodbPerMessage: 11 },
    burst: {
      options: { users: 50, messagesPerUser: 2, slots: 2, generationMs: 3000, scale: 0.1, batchSizes: [10, 1], maxConcurrency: 2 },
      idealLastAnswerMs: 15_000,
      runs: [burstRun("queue, batches of 10", 82, 0, 3647.4), burstRun("queue, batches of 1", 100, 0, 169.5), burstRun("Event invocation", 11, 86, 27.2)],
    },
    durationMs: 1000,
  },
};

describe("bench/chart-svg", () => {
  it("escapes the five XML specials and drops control characters", () => {
    expect(escapeXml(`a<b & "c" 'd'>\u0001`)).toBe("a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  });

  it("picks ticks of 1, 2 or 5 times a power of ten covering the range", () => {
    expect(niceTicks(0, 41.2)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(niceTicks(0, 0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it("formats values with separators and fewer decimals as they grow", () => {
    expect([formatNumber(1008.71), formatNumber(41.23), formatNumber(1.3447)]).toEqual(["1,009", "41.2", "1.34"]);
  });

  it("wraps text at spaces within the width", () => {
    expect(wrapText("queue, batches of 10, 2 at once", 16)).toEqual(["queue, batches", "of 10, 2 at once"]);
  });

  it("checks well-formedness for real: the test's parser refuses a mismatched tag and a stray <", () => {
    expect(() => assertWellFormed("<a><b></a></b>")).toThrow("</a> closes <b>");
    expect(() => assertWellFormed("<a>1 < 2</a>")).toThrow("not a tag");
  });
});

describe("bench/chart-bar", () => {
  const spec = {
    title: "Warm time <p99> & co",
    xLabel: "update kind",
    yLabel: "time (ms)",
    categories: ["chat", "a<b"],
    series: [
      { name: "p50", values: [19.2, 5.9] },
      { name: "p99", values: [41.2, undefined] },
    ],
    references: [{ value: 15, label: "target: p99 ≤ 15 ms", category: 0 }],
  };

  it("writes a well-formed 640×360 SVG with the title, both axis labels and a legend", () => {
    const svg = svgBarChart(spec);
    assertWellFormed(svg);
    expect(svg).toContain(`width="640" height="360"`);
    expect(svg).toContain("<title>Warm time &lt;p99&gt; &amp; co</title>");
    expect(svg).toContain(">update kind</text>");
    expect(svg).toContain(">time (ms)</text>");
    expect(svg).toContain(">target: p99 ≤ 15 ms</text>");
  });

  it("draws one bar per value given, none for a missing one", () => {
    expect(marks(svgBarChart(spec))).toBe(3);
  });

  it("escapes a < in a category label", () => {
    const svg = svgBarChart(spec);
    expect(svg).toContain("a&lt;b");
    expect(svg).not.toContain("a<b");
  });

  it("says no data for no categories instead of throwing", () => {
    const svg = svgBarChart({ ...spec, categories: [], series: [] });
    assertWellFormed(svg);
    expect(svg).toContain(">no data</text>");
    expect(marks(svg)).toBe(0);
  });
});

describe("bench/chart-line", () => {
  const spec = {
    title: "Requests per message",
    xLabel: "messages (log scale)",
    yLabel: "requests <count>",
    xScale: "log" as const,
    series: [
      { name: "1 session", points: [{ x: 10, y: 11 }, { x: 1000, y: 11 }, { x: 10000, y: 11 }] },
      { name: "10 sessions", points: [{ x: 10, y: 11 }, { x: 1000, y: Number.NaN }] },
    ],
  };

  it("writes a well-formed SVG with the title, the axis labels and ticks", () => {
    const svg = svgLineChart(spec);
    assertWellFormed(svg);
    expect(svg).toContain("<title>Requests per message</title>");
    expect(svg).toContain(">messages (log scale)</text>");
    expect(svg).toContain(">requests &lt;count&gt;</text>");
    expect(svg).toContain(">10,000</text>");
  });

  it("draws one marker per finite point", () => {
    expect(marks(svgLineChart(spec))).toBe(4);
  });

  it("says no data for no series, or series without points, instead of throwing", () => {
    for (const series of [[], [{ name: "empty", points: [] }]]) {
      const svg = svgLineChart({ ...spec, series });
      assertWellFormed(svg);
      expect(svg).toContain(">no data</text>");
    }
  });
});

describe("bench/charts", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "charts-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("counts only DynamoDB operations as DynamoDB requests", () => {
    expect(dynamodbRequests(chatCounts)).toBe(11);
  });

  it("writes the four charts of a results file, each well-formed", async () => {
    const written = await writeCharts(FIXTURE, dir);

    expect(written.map((f) => f.slice(dir.length + 1))).toEqual(Object.values(CHART_FILES));
    for (const file of written) assertWellFormed(await readFile(file, "utf8"));
    const requests = await readFile(join(dir, CHART_FILES.requests), "utf8");
    expect(marks(requests)).toBe(8);
    expect(requests).toContain("Test CPU &lt;x&gt;");
    expect(marks(await readFile(join(dir, CHART_FILES.warmLatency), "utf8"))).toBe(12);
    expect(await readFile(join(dir, CHART_FILES.stopLatency), "utf8")).toContain("target: slowest &lt; 1,500 ms");
    const burst = await readFile(join(dir, CHART_FILES.burst), "utf8");
    expect(marks(burst)).toBe(15);
    expect(burst).toContain("totals only");
  });

  it("writes four charts saying no data for a results file without figures", async () => {
    const written = await writeCharts({ stopLatency: { skipped: "--quick" } }, dir);

    expect(await readdir(dir)).toHaveLength(4);
    for (const file of written) {
      const svg = await readFile(file, "utf8");
      assertWellFormed(svg);
      expect(svg).toContain("no data");
    }
    expect(await readFile(join(dir, CHART_FILES.stopLatency), "utf8")).toContain("no data: skipped (--quick)");
  });

  it("rebuilds the charts from a results.json into charts/ beside it", async () => {
    const file = join(dir, "results.json");
    await writeFile(file, JSON.stringify(FIXTURE));

    const written = await rebuildCharts([file]);

    expect(written).toEqual(Object.values(CHART_FILES).map((name) => join(dir, "charts", name)));
  });

  it("refuses a file that is not a results object, naming it", () => {
    expect(() => asChartResults([], "x.json")).toThrow("x.json: not a bench results file");
    expect(() => asChartResults({ requestsPerUpdate: {} }, "x.json")).toThrow("x.json: requestsPerUpdate should be an array");
  });
});
