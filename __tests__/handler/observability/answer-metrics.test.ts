import { METRIC_DIMENSIONS, METRICS, type MetricName } from "../../../config/metrics";
import { createBot } from "../../../handler/app";
import { lambdaContext } from "../../../local/lambda-event";
import { sqsEvent, sqsRecord } from "../../../local/sqs-event";
import { OllamaStandIn } from "../../../local/stand-ins/ollama";
import { useHarness } from "../../support/handler-harness";
import { TEST_OLLAMA_API_KEY, TEST_USER_ID, textUpdate } from "../../support/updates";
import { waitFor } from "../../support/wait-for";

/**
 * The Embedded Metric Format lines the handler writes through the real entry point, checked
 * the way CloudWatch reads them: one JSON object per line, `_aws` with a Timestamp and one
 * CloudWatchMetrics directive (namespace, dimension sets, metrics with units), every declared
 * metric present at the root as a number, every dimension of a set present as a string, and no
 * user text, ids or secrets.
 */
type EmfLine = Record<string, unknown> & { _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } };

function checkedLines(raw: readonly string[]): EmfLine[] {
  return raw.map((line) => {
    const emf = JSON.parse(line) as EmfLine;
    expect(Number.isInteger(emf._aws.Timestamp)).toBe(true);
    expect(emf._aws.CloudWatchMetrics).toHaveLength(1);
    const [directive] = emf._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toMatch(/^[A-Za-z0-9._#:/-]{1,255}$/);
    for (const metric of directive!.Metrics) {
      expect(METRICS[metric.Name as MetricName]?.unit).toBe(metric.Unit);
      const value = emf[metric.Name];
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) expect(typeof v === "number" && Number.isFinite(v)).toBe(true);
    }
    for (const set of directive!.Dimensions) for (const d of set) expect(typeof emf[d]).toBe("string");
    const roots = Object.keys(emf).filter((k) => k !== "_aws");
    const declared = new Set([...directive!.Metrics.map((m) => m.Name), ...METRIC_DIMENSIONS]);
    expect(roots.filter((k) => !declared.has(k as never))).toEqual([]);
    return emf;
  });
}

describe("metrics of an answer, a refusal, a failure and a stop", () => {
  let slow: OllamaStandIn;
  const h = useHarness({ config: { userLimits: { messagesPerHour: 1, messagesPerDay: 100, importsPerDay: 1 } } });
  let user = TEST_USER_ID + 97_000;
  const since = () => {
    const from = h.metricLines.length;
    return () => checkedLines(h.metricLines.slice(from));
  };
  const withMetric = (lines: EmfLine[], name: string) => lines.filter((l) => l._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === name));

  beforeAll(async () => {
    slow = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, tokensPerSecond: 10, reply: () => Array.from({ length: 60 }, (_, i) => `w${i}`).join(" ") });
  });
  afterAll(() => slow.stop());
  beforeEach(() => {
    user += 1;
  });

  it("an answer: time to first token, duration, the provider's tokens and speed, per model and provider, and Answered", async () => {
    const lines = since();
    await h.sendText("a secret question 4242", { userId: user });
    const emitted = lines();
    const perModel = { Model: h.config.modelNames[0], Provider: "ollama" };
    for (const name of ["TimeToFirstToken", "AnswerDuration", "OutputTokensPerSecond", "InputTokens", "OutputTokens", "Answered"]) {
      expect([name, withMetric(emitted, name).filter((l) => l.Model === perModel.Model && l.Provider === perModel.Provider)]).toEqual([name, [expect.objectContaining({ [name]: expect.any(Number) })]]);
    }
    expect(withMetric(emitted, "Answered")[0]).toEqual(expect.objectContaining({ Answered: 1 }));
    // A roll-up without dimensions, for the alarms.
    expect(withMetric(emitted, "InputTokens").some((l) => l._aws.CloudWatchMetrics[0]!.Dimensions.some((d) => d.length === 0))).toBe(true);
    const text = h.metricLines.join("\n");
    for (const leak of ["secret question", String(user), h.config.telegramToken, h.config.ollamaApiKey ?? "-"]) expect(text).not.toContain(leak);
  });

  it("a refusal: Refused with the limit that refused it", async () => {
    await h.sendText("first", { userId: user });
    const lines = since();
    await h.sendText("second", { userId: user });
    expect(withMetric(lines(), "Refused")).toEqual([expect.objectContaining({ Refused: 1, Limit: "messagesPerHour" })]);
  });

  it("a failure: Failed with its kind", async () => {
    const lines = since();
    const down = h.createBotHandler({ ollamaUrl: "http://127.0.0.1:9", ollamaTimeoutMs: 2_000 });
    await h.sendText("anyone there?", { userId: user, handler: down });
    expect(withMetric(lines(), "Failed")).toContainEqual(expect.objectContaining({ Failed: 1, ErrorKind: "modelUnreachable" }));
  });

  it("a stop: Stopped", async () => {
    const streaming = h.createBotHandler({ ollamaUrl: slow.url, ollamaTimeoutMs: 20_000, userLimits: { messagesPerHour: 0, messagesPerDay: 0, importsPerDay: 0 } });
    const lines = since();
    const answering = h.sendText("tell me a long story", { userId: user, handler: streaming });
    await waitFor(() => h.telegram.callsTo("sendMessageDraft").some((c) => Number(c.params.chat_id) === user), 8_000);
    await h.sendText("/stop", { userId: user, handler: streaming });
    await answering;
    const stopped = withMetric(lines(), "Stopped");
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toEqual(expect.objectContaining({ Stopped: 1 }));
    expect(withMetric(lines(), "Answered")).toEqual([]);
  });
});

describe("metrics of queued updates", () => {
  const h = useHarness();

  it("QueueAge from the record's SentTimestamp, and ReceiveCount when it was delivered before", async () => {
    const lines: string[] = [];
    const bot = createBot({ ...h.config, telegramSecretToken: undefined }, { doc: h.doc, s3: h.s3, credentials: h.emulators.credentials, metricsSink: (l) => lines.push(l) });
    const record = sqsRecord(JSON.stringify(textUpdate("/echo queued", { userId: TEST_USER_ID + 98_000 })), { receiveCount: 3 });
    const sent = Date.now() - 1_500;
    await bot.consume(sqsEvent([{ ...record, attributes: { ...record.attributes, SentTimestamp: String(sent) } }]), lambdaContext({ timeoutMs: 30_000 }));
    const emitted = checkedLines(lines);
    const queue = emitted.find((l) => "QueueAge" in l)!;
    expect(queue.QueueAge as number).toBeGreaterThanOrEqual(1_500);
    expect(queue.ReceiveCount).toBe(3);
  });
});
