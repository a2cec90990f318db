/**
 * The streamed-answer scenario on each model provider: the same handler and Telegram stand-in,
 * the model served by the Ollama, Bedrock (a signed event stream) or OpenAI-compatible (SSE)
 * stand-in, each pacing its tokens the same way after the same first-token delay. The figure
 * is the time from the first token leaving the model to the first text reaching the chat: what
 * the bot adds on each wire (parsing, the first frame), target under 50 ms on every provider.
 */
import type { ModelEntry } from "../config/models";
import { usageSk } from "../handler/store/table-layout";
import { lambdaContext } from "../local/lambda-event";
import { startBedrockStandIn } from "../local/stand-ins/bedrock";
import { OllamaStandIn } from "../local/stand-ins/ollama";
import { startOpenAiStandIn } from "../local/stand-ins/openai";
import { TEST_OLLAMA_API_KEY } from "../__tests__/support/updates";
import { createRequestCounter } from "./request-counter";
import { eventFor, freshUser, startBenchHarness, type BenchContext } from "./scenarios";
import { summarize, type Summary } from "./stats";

/** The providers the scenario runs on. */
export const BENCH_PROVIDERS = ["ollama", "bedrock", "openai"] as const;
export type BenchProvider = (typeof BENCH_PROVIDERS)[number];

/** What one provider's run measured. */
export interface ProviderStreamingResult {
  readonly provider: BenchProvider;
  readonly answers: number;
  /** From the update to the first text the user sees, minus the model's first-token delay (ms). */
  readonly firstTextAfterFirstTokenMs: Summary;
  /** The provider's own token counts per answer, as the bot recorded them (input, output). */
  readonly tokensPerAnswer: { readonly input: number; readonly output: number } | undefined;
}

const FIRST_TOKEN_DELAY_MS = 300;
const TOKEN_INTERVAL_MS = 50;
const ANSWER_WORDS = 20;
const TEXT_METHODS = new Set(["sendMessageDraft", "sendMessage", "editMessageText"]);

/** A stand-in of `provider` pacing ANSWER_WORDS words, and the model entry that reaches it. */
async function standInFor(ctx: BenchContext, provider: BenchProvider): Promise<{ entry: ModelEntry; endpoint?: string; close: () => Promise<void> }> {
  const words = Array.from({ length: ANSWER_WORDS }, (_, i) => `word${i}`).join(" ");
  if (provider === "ollama") {
    const s = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, firstTokenDelayMs: FIRST_TOKEN_DELAY_MS, tokensPerSecond: 1000 / TOKEN_INTERVAL_MS, reply: () => words });
    return { entry: { name: "bench-ollama", provider, model: ctx.harness.config.models[0]!.model }, endpoint: s.url, close: () => s.stop() };
  }
  if (provider === "bedrock") {
    const model = "anthropic.claude-3-haiku-20240307-v1:0";
    const s = await startBedrockStandIn({ region: "us-east-1", credentials: ctx.harness.emulators.credentials, models: [model], reply: () => words, deltaIntervalMs: TOKEN_INTERVAL_MS, firstDeltaDelayMs: FIRST_TOKEN_DELAY_MS, splitFrames: false });
    return { entry: { name: "bench-bedrock", provider, model, region: "us-east-1" }, endpoint: s.url, close: () => s.close() };
  }
  const s = await startOpenAiStandIn({ models: ["bench-model"], reply: () => words, chunkDelayMs: TOKEN_INTERVAL_MS, firstChunkDelayMs: FIRST_TOKEN_DELAY_MS });
  return { entry: { name: "bench-openai", provider, model: "bench-model", baseUrl: s.url }, close: () => s.close() };
}

/** The tokens the bot counted for a user today (one answer), as the provider reported them. */
async function tokensOf(ctx: BenchContext, user: number): Promise<{ input: number; output: number }> {
  const day = new Date().toISOString().slice(0, 10);
  const item = (await ctx.harness.doc.get({ TableName: ctx.harness.config.tableName, Key: { pk: user, sk: usageSk("chat", day) } })).Item;
  return { input: Number(item?.day_in ?? 0), output: Number(item?.day_out ?? 0) };
}

/** Runs `answers` streamed answers through `provider`; see the module comment. */
export async function providerStreaming(ctx: BenchContext, provider: BenchProvider, answers: number): Promise<ProviderStreamingResult> {
  const standIn = await standInFor(ctx, provider);
  try {
    const { entry, endpoint } = standIn;
    const handler = ctx.harness.createBotHandler({
      models: [entry],
      ollamaTimeoutMs: 20_000,
      logLevel: "WARNING",
      ...(provider === "ollama" ? { ollamaUrl: endpoint } : {}),
      ...(provider === "bedrock" ? { bedrockEndpoint: endpoint } : {}),
    }, { modelCredentials: ctx.harness.emulators.credentials });
    const firstText: number[] = [];
    const tokens: { input: number; output: number }[] = [];
    for (let i = 0; i < answers; i++) {
      const user = freshUser();
      const before = ctx.harness.telegram.calls.length;
      const started = Date.now();
      await handler(eventFor(`stream an answer #${i}`, user), lambdaContext({ timeoutMs: 30_000 }));
      const first = ctx.harness.telegram.calls
        .slice(before)
        .find((c) => Number(c.params.chat_id) === user && TEXT_METHODS.has(c.method) && typeof c.params.text === "string" && c.params.text.length > 0);
      if (first) firstText.push(first.at - started - FIRST_TOKEN_DELAY_MS);
      tokens.push(await tokensOf(ctx, user));
    }
    if (firstText.length === 0) throw new Error(`no streamed answer from ${provider} reached the chat`);
    const mean = (pick: (t: { input: number; output: number }) => number) => Math.round(tokens.reduce((n, t) => n + pick(t), 0) / tokens.length);
    return { provider, answers, firstTextAfterFirstTokenMs: summarize(firstText), tokensPerAnswer: { input: mean((t) => t.input), output: mean((t) => t.output) } };
  } finally {
    await standIn.close();
  }
}

/** The Markdown of the per-provider figures. Pure. */
export function renderProviderStreaming(results: readonly ProviderStreamingResult[]): string[] {
  if (results.length === 0) return ["### Streamed answers per provider", "not measured"];
  const rows = results.map((r) => `| ${r.provider} | ${r.answers} | ${r.firstTextAfterFirstTokenMs.p50} / ${r.firstTextAfterFirstTokenMs.max} ms | ${r.tokensPerAnswer ? `${r.tokensPerAnswer.input} / ${r.tokensPerAnswer.output}` : "-"} |`);
  return [
    `### Streamed answers per provider (each stand-in: first token after ${FIRST_TOKEN_DELAY_MS} ms, then one every ${TOKEN_INTERVAL_MS} ms)`,
    "| provider | answers | first text after the first token, p50 / slowest | tokens per answer, in / out |",
    "|---|---|---|---|",
    ...rows,
  ];
}

if (require.main === module) {
  void (async () => {
    const harness = await startBenchHarness();
    try {
      const ctx: BenchContext = { harness, handler: harness.handler, counter: createRequestCounter() };
      const results: ProviderStreamingResult[] = [];
      for (const provider of BENCH_PROVIDERS) results.push(await providerStreaming(ctx, provider, Number(process.argv[2] ?? 5)));
      process.stdout.write(`${renderProviderStreaming(results).join("\n")}\n`);
    } finally {
      await harness.stop();
    }
  })();
}
