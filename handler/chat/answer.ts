import { notDelivered } from "../conversation/journal";
import type { ChatAllowance } from "../conversation/usage-gate";
import type { UpdateContext } from "../conversation/update-context";
import { EMPTY_ANSWER } from "../format/answer";
import { unavailableModelWarning } from "../format/views";
import type { ModelApi, StreamedAnswer } from "../model/model-api";
import { CAPABILITY, within } from "../model/capabilities";
import type { ModelRoute } from "../model/registry";
import type { ModelEntry } from "../../config/models";
import { FAST_FAILURE_MS, streamAnswer } from "../model/stream-answer";
import { ConnectionError, ServiceError } from "../net/errors";
import { errorKindOf } from "../observability/metrics";
import type { ModelSpeed } from "../store/session-items";
import type { ContextWindow } from "./context-window";
import { LiveReply, type LiveReplyOutcome, type LiveReplyResult } from "./live-reply";
import { StopWatch } from "./stop-watch";

/**
 * What the private and the group chat paths share: asking the model and streaming its answer
 * into Telegram, and delivering the answer so that every attempt of the update shows it once.
 * The update's journal records each message of the answer that stays in the chat while it
 * streams, and each final part before it is sent; a rerun after a crash takes back the first
 * kind ({@link takeBackLiveMessages}) and never sends the second again.
 */

/** How often the typing indicator is repeated until the first text shows (Telegram shows it ~5 s). */
export const TYPING_INTERVAL_MS = 4_500;
/** Least time between two visible updates of a streamed answer in one chat, in ms. */
export const STREAM_UPDATE_INTERVAL_MS = 1_000;
/**
 * Longest wait before a final message of the answer (a 429's retry_after, the update
 * interval) in sync delivery mode, so that the reply ends soon after OLLAMA_TIMEOUT_MS. In ms.
 */
export const FINAL_WAIT_LIMIT_MS = 3_000;
/**
 * The same in queue mode, where the invocation has time of its own (it is bounded further by
 * the time left, see UpdateContext.replyWaitMs): a longer 429 is waited out rather than handed
 * back to the queue, which would deliver the answer only after the visibility timeout. In ms.
 */
export const QUEUE_FINAL_WAIT_LIMIT_MS = 60_000;

/**
 * Longest wait for a model's capabilities before the first answer of a container, in ms: a slow
 * /api/show must not eat the answer's time (without it, a reasoning model's `<think>` tags are
 * still kept out of the answer).
 */
export const CAPABILITY_WAIT_MS = 1_000;

/** A LiveReply whose answer is recorded in the update's journal as it is delivered. */
export interface JournaledReply {
  readonly live: LiveReply;
  /** Sends the final answer (the streamed one, or `recordedText`); see {@link journaledReply}. */
  finish(result: LiveReplyResult, recordedText?: string): Promise<LiveReplyOutcome>;
}

/**
 * The LiveReply for the update's chat (replies to the user's message in groups, stays in its
 * forum topic), recording in the journal each live message once sent and each final part
 * before it is sent. A final part that certainly did not reach the chat (Telegram refused it,
 * or could not be reached) is taken back from the journal, so a rerun sends the answer; the
 * error is rethrown.
 */
export function journaledReply(ctx: UpdateContext): JournaledReply {
  const { message } = ctx;
  const inGroup = message.chat.type !== "private";
  let begun = { index: -1, total: 0, text: "" };
  const live = new LiveReply({
    // LiveReply backs off on 429 itself (skipping stale frames); the client's retry would wait to resend them.
    api: ctx.bot.withoutRetry ?? ctx.bot,
    chatId: ctx.chatId,
    chatType: message.chat.type,
    draftId: message.message_id,
    ...(inGroup ? { replyToMessageId: message.message_id } : {}),
    ...(message.is_topic_message && message.message_thread_id !== undefined ? { messageThreadId: message.message_thread_id } : {}),
    minIntervalMs: STREAM_UPDATE_INTERVAL_MS,
    typingIntervalMs: TYPING_INTERVAL_MS,
    maxFinalWaitMs: ctx.replyWaitMs,
    onLiveMessage: (messageId) => ctx.journal.recordLiveMessage(messageId),
    beforeFinalPart: async (index, total, text) => {
      await ctx.journal.recordAnswerBegun(text, index + 1, total);
      begun = { index, total, text };
    },
  });
  return {
    live,
    async finish(result, recordedText) {
      try {
        return recordedText === undefined ? await live.finish(result) : await live.finishWith(recordedText, result);
      } catch (err) {
        if (begun.index >= 0 && notDelivered(err)) {
          await ctx.journal.recordAnswerBegun(begun.text, begun.index, begun.total).catch(() => undefined);
        }
        throw err;
      }
    },
  };
}

/**
 * On a rerun, deletes the messages an earlier attempt's answer left in the chat while it
 * streamed (before its final delivery began), so the new answer is the only one. Best effort:
 * a message that cannot be deleted is logged and left.
 */
export async function takeBackLiveMessages(ctx: UpdateContext): Promise<void> {
  for (const messageId of ctx.journal.recorded.liveMessageIds) {
    await ctx.bot.call("deleteMessage", { chat_id: ctx.chatId, message_id: messageId }).catch((err: unknown) => {
      ctx.log.warn("could not delete an interrupted answer's message", {
        action: "deliver_answer",
        outcome: "warning",
        error_kind: err instanceof Error ? err.name : "unknown",
      });
    });
  }
}

/** A model's answer as {@link askModel} streamed it. */
export interface AskedAnswer {
  readonly answer: StreamedAnswer;
  readonly speed: ModelSpeed | undefined;
  /** When the model was asked, epoch ms. */
  readonly started: number;
  /** The user stopped the answer (Stop, /stop): the model request was ended. */
  readonly stopped: boolean;
}

/** What a stopped answer that had no text yet is, as the model's. */
const NOTHING_YET: StreamedAnswer = { content: "", evalCount: undefined, evalDurationNs: undefined, completed: false };

/**
 * Asks the model with `window` and streams its answer into `live` (typing first). A model with
 * the `thinking` capability is asked to think apart (`think: true`), its reasoning going to
 * `live` as such, never into the answer. When the model fails before any text, the user gets the specific message of {@link modelErrorMessage}
 * (saying the message was saved when `saved`) and the result is undefined. While it streams,
 * the chat has a Stop button and `/stop` works (StopWatch): a stop ends the model request, and
 * the result says `stopped`.
 */
export async function askModel(
  ctx: UpdateContext,
  route: ReadyRoute,
  live: LiveReply,
  window: ContextWindow,
  saved: boolean,
  allowance?: ChatAllowance,
): Promise<AskedAnswer | undefined> {
  live.start();
  const started = Date.now();
  const watch = StopWatch.open(ctx);
  const { api, entry } = route;
  const model = entry.name;
  ctx.metrics.addDimensions({ Model: entry.name, Provider: entry.provider });
  let firstAt: number | undefined;
  let answer: StreamedAnswer;
  try {
    const think = (await within(ctx.models.capabilities(route), CAPABILITY_WAIT_MS))?.includes(CAPABILITY.thinking) === true;
    // Reasoning sent apart (Bedrock, OpenAI-compatible) is shown as such whether or not the model was asked to think.
    const limit = allowance?.maxTokens !== undefined ? { maxTokens: allowance.maxTokens } : {};
    const onThinking = (delta: string) => {
      firstAt ??= Date.now();
      live.pushThinking(delta);
    };
    const onDelta = (delta: string) => {
      firstAt ??= Date.now();
      live.push(delta);
    };
    const options = { ...(think ? { think } : {}), ...limit, onThinking };
    answer = watch.stopped
      ? NOTHING_YET
      : await streamAnswer(api, entry.model, window.messages, onDelta, ctx.config.ollamaTimeoutMs, FAST_FAILURE_MS, options, watch.signal);
  } catch (err) {
    await watch.close();
    if (watch.stopped) return stoppedAnswer(ctx, model, started);
    ctx.metrics.addDimension("ErrorKind", errorKindOf(err));
    ctx.metrics.addMetric("Failed", 1);
    // Wait for a typing indicator in flight: it would otherwise show "typing…" under the error.
    await live.abort();
    ctx.log.warn("model call failed", {
      action: "ollama_chat",
      outcome: "failure",
      model,
      provider: entry.provider,
      error_code: err instanceof ServiceError ? err.code : undefined,
      error_kind: err instanceof Error ? err.name : "unknown",
      status: err instanceof ServiceError ? err.status : undefined,
      timed_out: err instanceof ConnectionError ? err.timedOut : undefined,
      elapsed_ms: Date.now() - started,
    });
    if (!(err instanceof ServiceError) && !(err instanceof ConnectionError)) throw err;
    await ctx.reply(modelErrorMessage(err, entry, ctx.config.ollamaTimeoutMs, saved));
    return undefined;
  }
  await watch.close();
  const cost = answer.usage ? estimatedCost(answer.usage, entry.price) : undefined;
  if (allowance && answer.usage) {
    allowance.tokens = answer.usage;
    allowance.costUsd = cost;
  }
  recordAnswerMetrics(ctx, answer, { started, firstAt, cost, stopped: watch.stopped && !answer.completed });
  // A stop that came after the model's last word changes nothing.
  if (watch.stopped && !answer.completed) return stoppedAnswer(ctx, model, started);
  const speed = speedOf(answer);
  logAnswered(ctx, entry, window, answer, speed, started);
  return { answer, speed, started, stopped: false };
}

/** USD of `usage` at the entry's list prices (per million tokens); undefined without prices. Pure. */
export function estimatedCost(usage: { readonly inputTokens: number; readonly outputTokens: number }, price: ModelEntry["price"]): number | undefined {
  if (!price) return undefined;
  return (usage.inputTokens * price.inputPerMillion + usage.outputTokens * price.outputPerMillion) / 1e6;
}

/** A route whose provider is configured. */
export type ReadyRoute = ModelRoute & { readonly api: ModelApi };

/** What a model whose provider is not configured answers (Ollama without OLLAMA_URL). */
export const NOT_CONFIGURED_TEXT = "The AI server is not configured (OLLAMA_URL), so I cannot answer.";

/**
 * The route of model `name`, or undefined once the user was told why it cannot answer (it is no
 * longer offered, or its provider is not configured).
 */
export async function readyRoute(ctx: UpdateContext, name: string, note = ""): Promise<ReadyRoute | undefined> {
  const route = ctx.models.route(name);
  if (!route) {
    await ctx.reply(unavailableModelWarning(name));
    return undefined;
  }
  if (!route.api) {
    await ctx.reply(`${NOT_CONFIGURED_TEXT}${note}`);
    return undefined;
  }
  return route as ReadyRoute;
}

/** The log line of a model's answer: what was asked, what came back and the provider's figures. */
function logAnswered(ctx: UpdateContext, entry: ModelEntry, window: ContextWindow, answer: StreamedAnswer, speed: ModelSpeed | undefined, started: number): void {
  ctx.log.info(answer.completed ? "model answered" : "model answer cut off", {
    action: "ollama_chat",
    outcome: answer.completed ? "success" : "warning",
    model: entry.name,
    provider: entry.provider,
    input_tokens: answer.usage?.inputTokens,
    output_tokens: answer.usage?.outputTokens,
    context_messages: window.messages.length,
    context_omitted: window.omitted,
    answer_chars: answer.content.length,
    thinking_chars: answer.thinking ? answer.thinking.length : undefined,
    eval_count: speed?.evalCount,
    eval_duration_ms: speed ? Math.round(speed.evalDurationNs / 1e6) : undefined,
    elapsed_ms: Date.now() - started,
  });
}

/** The figures of one answer (EMF, config/metrics.ts): times, the provider's token counts, speed, cost, and its outcome. */
function recordAnswerMetrics(ctx: UpdateContext, answer: StreamedAnswer, at: { started: number; firstAt: number | undefined; cost: number | undefined; stopped: boolean }): void {
  const m = ctx.metrics;
  const ended = Date.now();
  if (at.firstAt !== undefined) m.addMetric("TimeToFirstToken", at.firstAt - at.started);
  m.addMetric("AnswerDuration", ended - at.started);
  if (answer.usage) {
    m.addMetric("InputTokens", answer.usage.inputTokens);
    m.addMetric("OutputTokens", answer.usage.outputTokens);
  }
  const speed = speedOf(answer);
  if (speed) m.addMetric("OutputTokensPerSecond", speed.evalCount / (speed.evalDurationNs / 1e9));
  if (at.cost !== undefined) m.addMetric("EstimatedCost", at.cost);
  // A stopped answer is counted by stoppedAnswer.
  if (!at.stopped) m.addMetric("Answered", 1);
}

/** The result of an answer the user stopped: logged with the time the stop took to end the request. */
function stoppedAnswer(ctx: UpdateContext, model: string, started: number): AskedAnswer {
  ctx.metrics.addMetric("Stopped", 1);
  ctx.log.info("model request stopped", { action: "ollama_chat", outcome: "ignored", model, elapsed_ms: Date.now() - started });
  return { answer: NOTHING_YET, speed: undefined, started, stopped: true };
}

/** The log line of an answer that reached the chat. */
export function logDelivered(ctx: UpdateContext, outcome: LiveReplyOutcome, started: number): void {
  ctx.log.info("answer delivered", {
    action: "deliver_answer",
    outcome: "success",
    messages: outcome.messageIds.length,
    bot_calls: outcome.apiCalls,
    duration_ms: Date.now() - started,
  });
}

/** Ollama's figures of a complete answer, when it gave usable ones. Pure. */
export function speedOf(answer: StreamedAnswer): ModelSpeed | undefined {
  const { evalCount, evalDurationNs } = answer;
  if (!answer.completed || evalCount === undefined || evalDurationNs === undefined) return undefined;
  return evalCount > 0 && evalDurationNs > 0 ? { evalCount, evalDurationNs } : undefined;
}

/** The assistant message to store for the text shown: the empty-answer words when nothing was. Pure. */
export function storedAnswer(shown: string): string {
  return shown.trim().length > 0 ? shown : EMPTY_ANSWER;
}

/** A short, specific message for each way the model call can fail; `saved` says the user's message was stored. Pure. */
export function modelErrorMessage(err: ServiceError | ConnectionError, entry: Pick<ModelEntry, "name" | "provider">, timeoutMs: number, saved = true): string {
  const savedNote = saved ? " Your message was saved." : "";
  if (err instanceof ConnectionError) {
    if (err.timedOut) {
      return `The model took too long to answer (more than ${Math.round(timeoutMs / 1000)} s).${savedNote} Try again, or ask something shorter.`;
    }
    return `I cannot reach the AI server right now (it may be stopped or starting).${savedNote} Please try again in a minute.`;
  }
  const specific = entry.provider === "bedrock" ? bedrockErrorText(err, entry.name) : entry.provider === "openai" ? openAiErrorText(err, entry.name) : ollamaErrorText(err, entry.name);
  if (specific) return `${specific}${savedNote}`;
  if (err.status === 0) return `The AI server sent an answer I could not read.${savedNote} Please try again.`;
  return `The AI server had an error (HTTP ${err.status}).${savedNote} Please try again in a moment.`;
}

function ollamaErrorText(err: ServiceError, name: string): string | undefined {
  if (err.status === 404) return `The model ${name} is not installed on the AI server. Pick another with /newsession, or ask the admin to pull it.`;
  if (err.status === 401 || err.status === 403) return "The AI server refused the bot's API key. Please tell the admin (OLLAMA_API_KEY).";
  return undefined;
}

function bedrockErrorText(err: ServiceError, name: string): string | undefined {
  const code = (err.code ?? "").toLowerCase();
  if (code === "throttlingexception" || err.status === 429) return `Amazon Bedrock is busy right now (${name} is throttled). Please try again in a moment.`;
  if (code === "accessdeniedexception" || err.status === 403) {
    return `This AWS account has no access to ${name} on Amazon Bedrock in this region. The admin can enable it under Amazon Bedrock → Model access in the AWS console.`;
  }
  if (code === "validationexception" || err.status === 400) {
    return /too long|too many tokens|context/i.test(err.description)
      ? `The conversation is too long for ${name}. Start a new session with /newsession, or ask something shorter.`
      : `Amazon Bedrock refused the request for ${name} (the model id may be wrong). Please tell the admin.`;
  }
  if (code === "resourcenotfoundexception" || err.status === 404) return `Amazon Bedrock does not know the model ${name} in this region. Please tell the admin.`;
  return undefined;
}

function openAiErrorText(err: ServiceError, name: string): string | undefined {
  if (err.status === 401 || err.status === 403) return "The AI server refused the bot's API key. Please tell the admin (openai_api_key).";
  if (err.status === 404) return `The AI server does not serve the model ${name}. Pick another with /newsession, or ask the admin.`;
  if (err.status === 429) {
    const wait = err.retryAfterSeconds !== undefined ? ` (it asked to wait ${Math.ceil(err.retryAfterSeconds)} s)` : "";
    return `The AI server is busy right now${wait}. Please try again in a moment.`;
  }
  if (err.status >= 500) return `The AI server had an error (HTTP ${err.status}). Please try again in a moment.`;
  return undefined;
}
