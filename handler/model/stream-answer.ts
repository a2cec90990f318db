import { ConnectionError } from "../net/errors";
import type { ChatStreamOptions, ModelApi } from "./model-api";
import type { ChatMessage, StreamedAnswer } from "./ollama";

/**
 * The one retry of a model call: a connection refused or reset quickly, before any text, is
 * tried once more within what is left of the timeout. Nothing else is retried: a timeout or an
 * error Ollama answered would only fail again, and once text was shown a second answer would
 * not continue it.
 */

/**
 * A model call that failed to connect faster than this, before any text, is tried once more
 * within what is left of the timeout. In ms.
 */
export const FAST_FAILURE_MS = 5_000;

/**
 * Streams the answer, passing each piece to `onDelta`. A connection refused or reset quickly,
 * before any text (faster than `fastFailureMs`, which tests lower), is tried once more with what
 * is left of `timeoutMs`; a timeout or an answer from Ollama is never retried. `options` go to
 * each call (a piece of reasoning counts as text: after one, nothing is retried). `signal` ends
 * the request (the user stopped the answer): a call it ended is never retried.
 */
export async function streamAnswer(
  ollama: ModelApi,
  model: string,
  messages: readonly ChatMessage[],
  onDelta: (text: string) => void,
  timeoutMs: number,
  fastFailureMs: number = FAST_FAILURE_MS,
  options: ChatStreamOptions = {},
  signal?: AbortSignal,
): Promise<StreamedAnswer> {
  const started = Date.now();
  let received = false;
  const track = (text: string) => {
    received = true;
    onDelta(text);
  };
  const onThinking = options.onThinking;
  const trackThinking = (text: string) => {
    received = true;
    onThinking?.(text);
  };
  const tracked: ChatStreamOptions = { ...options, ...(onThinking ? { onThinking: trackThinking } : {}) };
  try {
    return await ollama.chatStream(model, messages, track, signal, tracked);
  } catch (err) {
    const remaining = timeoutMs - (Date.now() - started);
    const fast = err instanceof ConnectionError && !err.timedOut && err.elapsedMs < fastFailureMs;
    if (!fast || received || remaining <= 0 || signal?.aborted) throw err;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), remaining);
    try {
      return await ollama.chatStream(model, messages, track, signal ? AbortSignal.any([deadline.signal, signal]) : deadline.signal, tracked);
    } catch (retryErr) {
      // Our deadline ended the retry: that is the overall timeout, not a refused connection.
      if (deadline.signal.aborted && retryErr instanceof ConnectionError && !retryErr.timedOut) {
        throw new ConnectionError({ service: "ollama", operation: "chat", timedOut: true, elapsedMs: Date.now() - started, cause: retryErr });
      }
      throw retryErr;
    } finally {
      clearTimeout(timer);
    }
  }
}

