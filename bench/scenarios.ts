/**
 * The measured scenarios of `npm run bench`, all through the real handler entry point
 * (createHandler) on the harness's emulators and stand-ins: warm latency, AWS requests per
 * update as sessions and history grow, bytes sent to Ollama, and streamed-answer latency.
 */
import { performance } from "node:perf_hooks";
import type { Update } from "@grammyjs/types";
import type { WebhookHandler } from "../handler/app";
import { lambdaContext, proxyEventFromUpdate } from "../local/lambda-event";
import { createLogger } from "../handler/observability/log";
import { startHarness, type Harness } from "../__tests__/support/handler-harness";
import { OllamaStandIn } from "../local/stand-ins/ollama";
import { TEST_OLLAMA_API_KEY, TEST_SECRET_TOKEN, textUpdate } from "../__tests__/support/updates";
import type { RequestCounter, RequestCounts } from "./request-counter";
import { recordGcPauses, summarizeGcPauses, type GcPauses, type TimedSpan } from "./gc-pauses";
import { summarize, type Summary } from "./stats";

/** Warm latency of a scenario, with the GC pauses that fell into it. */
export interface WarmResult {
  readonly latency: Summary;
  /** The unmeasured warm-up updates before it; undefined when there were none. */
  readonly warmup: Summary | undefined;
  readonly gc: GcPauses;
}

/** The four kinds of update measured. */
export type ScenarioName = "chat" | "listsessions" | "archive" | "export";

/** Everything a scenario needs. */
export interface BenchContext {
  readonly harness: Harness;
  readonly handler: WebhookHandler;
  readonly counter: RequestCounter;
}

/**
 * Per-user limits far above any run's updates: each update still pays for its count (one
 * UpdateItem, as deployed), but the chat scenario's single user is never refused after 30
 * messages, which would time cheap refusals instead of chat messages.
 */
const UNREACHED_LIMITS = Object.freeze({ messagesPerHour: 1_000_000, messagesPerDay: 1_000_000, importsPerDay: 1_000_000 });

/** A harness whose handler logs nothing: the bench times the bot, not its log lines' capture. */
export function startBenchHarness(): Promise<Harness> {
  const quiet = createLogger({ level: "INFO", secrets: [], sink: () => undefined });
  return startHarness({ logLevel: "INFO", config: { userLimits: UNREACHED_LIMITS }, deps: { logger: quiet } });
}

let nextUser = 5_000_000;
/** A user id no other scenario uses. */
export const freshUser = () => ++nextUser;

/** A proxy event for a text update from a user, built before any timing starts. */
export function eventFor(text: string, userId: number) {
  return proxyEventFromUpdate(textUpdate(text, { userId }) as Update, { secretToken: TEST_SECRET_TOKEN });
}

/** Runs one update through the handler; resolves with when it started and its duration in ms. Throws on a non-200. */
async function timedUpdate(ctx: BenchContext, text: string, userId: number): Promise<TimedSpan> {
  const event = eventFor(text, userId);
  const context = lambdaContext({ timeoutMs: 30_000 });
  const start = performance.now();
  const result = await ctx.handler(event, context);
  const durationMs = performance.now() - start;
  if (result.statusCode !== 200) throw new Error(`"${text.slice(0, 20)}" got HTTP ${result.statusCode}`);
  return { start, durationMs };
}

const SMALL_MESSAGE = "a small message of a typical length for a chat with a bot, about eighty characters.";

/** Seeds a session of `messages` messages (alternating user/assistant, ~100 chars each) as the user's active one. */
export async function seedSession(harness: Harness, userId: number, messages: number, previousActiveId?: string): Promise<string> {
  const session = await harness.sessions.createSession(userId, harness.config.modelNames[0]!, previousActiveId);
  if (messages > 0) {
    await harness.sessions.bulkAppend(
      userId,
      session.sessionId,
      Array.from({ length: messages }, (_, i) => ({
        role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
        content: `${String(i).padStart(6, "0")} ${SMALL_MESSAGE}`,
        ts: 1_700_000_000 + i,
      })),
    );
  }
  return session.sessionId;
}

/**
 * Warm handler time of one scenario over `iterations` updates, after `warmup` updates whose
 * times are kept apart (see BenchOptions.warmup).
 * chat: one user's chat messages (the session grows by two messages an update, from 10 to
 * about 3,000 in a full run; the context sent stays bounded); listsessions: a user with 3
 * sessions; archive: each update archives a fresh user's 10-message session (seeded outside
 * the timing); export: /export 1 of a user with one archive.
 */
export async function warmLatency(ctx: BenchContext, scenario: ScenarioName, iterations: number, warmup: number): Promise<WarmResult> {
  const { harness } = ctx;
  const samples: TimedSpan[] = [];
  const warmupMs: number[] = [];
  const total = warmup + iterations;
  const record = (i: number, span: TimedSpan) => {
    if (i >= warmup) samples.push(span);
    else warmupMs.push(span.durationMs);
  };
  const gc = recordGcPauses();
  switch (scenario) {
    case "chat": {
      const user = freshUser();
      await seedSession(harness, user, 10);
      for (let i = 0; i < total; i++) record(i, await timedUpdate(ctx, `${SMALL_MESSAGE} #${i}`, user));
      break;
    }
    case "listsessions": {
      const user = freshUser();
      let active: string | undefined;
      for (let s = 0; s < 3; s++) active = await seedSession(harness, user, 10, active);
      for (let i = 0; i < total; i++) record(i, await timedUpdate(ctx, "/listsessions", user));
      break;
    }
    case "archive": {
      for (let i = 0; i < total; i++) {
        const user = freshUser();
        await seedSession(harness, user, 10);
        record(i, await timedUpdate(ctx, "/archive 1", user));
      }
      break;
    }
    case "export": {
      const user = freshUser();
      await seedSession(harness, user, 10);
      await timedUpdate(ctx, "/archive 1", user);
      for (let i = 0; i < total; i++) record(i, await timedUpdate(ctx, "/export 1", user));
      break;
    }
  }
  await new Promise((resolve) => setImmediate(resolve)); // the last GC entries arrive asynchronously
  const pauses = gc.stop();
  return {
    latency: summarize(samples.map((s) => s.durationMs)),
    warmup: warmupMs.length > 0 ? summarize(warmupMs) : undefined,
    gc: summarizeGcPauses(samples, pauses),
  };
}

/** AWS requests of each scenario and Ollama bytes of a chat message, for one user shape. */
export interface ScaleRow {
  readonly sessions: number;
  readonly messages: number;
  readonly requests: Readonly<Record<ScenarioName, RequestCounts>>;
  /** Bytes of the POST /api/chat body of the chat message. */
  readonly ollamaBytes: number;
  /** Messages in that body (context window). */
  readonly ollamaMessages: number;
}

/**
 * For a user with `sessions` sessions whose active one holds `messages` messages: the AWS
 * requests of a chat message, /listsessions, /archive of the active session and /export of the
 * resulting archive, and the bytes the chat message sent to Ollama.
 */
export async function requestScale(ctx: BenchContext, sessions: number, messages: number): Promise<ScaleRow> {
  const { harness, counter } = ctx;
  const user = freshUser();
  let active: string | undefined;
  for (let s = 0; s < sessions; s++) active = await seedSession(harness, user, s === sessions - 1 ? messages : 2, active);
  const run = (text: string) =>
    counter.during(async () => {
      await timedUpdate(ctx, text, user);
    });
  const chat = await run(SMALL_MESSAGE);
  const request = harness.ollama.requests.filter((r) => r.path === "/api/chat").at(-1);
  const body = request?.body as { messages?: unknown[] } | undefined;
  const listsessions = await run("/listsessions");
  const list = await harness.sessions.listSessions(user);
  const position = list.findIndex((s) => s.sessionId === active) + 1;
  const archive = await run(`/archive ${position}`);
  if ((await harness.sessions.getSession(user, active!)) !== undefined) throw new Error("the archive scenario did not archive the session");
  const exported = await run("/export 1");
  return {
    sessions,
    messages,
    requests: { chat, listsessions, archive, export: exported },
    ollamaBytes: request?.bytes ?? 0,
    ollamaMessages: Array.isArray(body?.messages) ? body.messages.length : 0,
  };
}

/** Streamed-answer figures (Ollama streaming 20 tokens/s after a 500 ms first token). */
export interface StreamingResult {
  /** True when the handler streamed (drafts or edits seen); false when it sent the whole answer at the end. */
  readonly streamed: boolean;
  readonly answers: number;
  readonly firstTokenDelayMs: number;
  readonly tokensPerSecond: number;
  readonly answerTokens: number;
  /** From the update to the first text the user sees, minus the model's first-token time (ms). */
  readonly firstTextAfterFirstTokenMs: Summary;
  /** Bot API calls per answer (all methods). */
  readonly botCallsPerAnswer: number;
  /** Bot API calls per answer by method. */
  readonly botCallsByMethod: Readonly<Record<string, number>>;
  /** Bot API calls per chat per second while answering. */
  readonly botCallsPerChatSecond: number;
}

const TEXT_METHODS = new Set(["sendMessageDraft", "sendMessage", "editMessageText"]);

/**
 * Sends `answers` chat messages to a handler whose Ollama streams `answerTokens` tokens at 20
 * tokens/s after 500 ms, and reads from the Telegram stand-in's record when the first text
 * reached the chat and how many Bot API calls the answer took.
 */
export async function streamingLatency(ctx: BenchContext, answers: number, answerTokens = 40): Promise<StreamingResult> {
  const firstTokenDelayMs = 500;
  const tokensPerSecond = 20;
  const words = Array.from({ length: answerTokens }, (_, i) => `word${i}`).join(" ");
  const slow = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, firstTokenDelayMs, tokensPerSecond, reply: () => words });
  try {
    const handler = ctx.harness.createBotHandler({ ollamaUrl: slow.url, ollamaTimeoutMs: 20_000, logLevel: "WARNING" });
    const firstText: number[] = [];
    const byMethod: Record<string, number> = {};
    let calls = 0;
    let busyMs = 0;
    let streamed = false;
    for (let i = 0; i < answers; i++) {
      const user = freshUser();
      await seedSession(ctx.harness, user, 2);
      const event = eventFor(`stream an answer #${i}`, user);
      const before = ctx.harness.telegram.calls.length;
      const started = Date.now();
      await handler(event, lambdaContext({ timeoutMs: 30_000 }));
      busyMs += Date.now() - started;
      const mine = ctx.harness.telegram.calls.slice(before).filter((c) => c.params.chat_id === user || c.params.chat_id === String(user));
      calls += mine.length;
      for (const c of mine) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
      if (mine.some((c) => c.method === "sendMessageDraft" || c.method === "editMessageText")) streamed = true;
      const first = mine.find((c) => TEXT_METHODS.has(c.method) && typeof c.params.text === "string" && c.params.text.length > 0);
      if (first) firstText.push(first.at - started - firstTokenDelayMs);
    }
    if (firstText.length === 0) throw new Error("no streamed answer reached the chat");
    return {
      streamed,
      answers,
      firstTokenDelayMs,
      tokensPerSecond,
      answerTokens,
      firstTextAfterFirstTokenMs: summarize(firstText),
      botCallsPerAnswer: calls / answers,
      botCallsByMethod: Object.fromEntries(Object.entries(byMethod).map(([m, n]) => [m, n / answers])),
      botCallsPerChatSecond: busyMs > 0 ? calls / (busyMs / 1000) : 0,
    };
  } finally {
    await slow.stop();
  }
}
