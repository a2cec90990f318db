/**
 * Long polling for `npm start` with a bot token: getUpdates with an offset and a long-poll
 * timeout, each update handed to `onUpdate` (the handler's real code path), the offset saved
 * after each one. Pure of process concerns: the Bot API, the offset store and the stop signal
 * come in as arguments, so tests drive it against the Telegram stand-in.
 */
import type { Update } from "@grammyjs/types";
import type { BotApi } from "../handler/telegram/bot-api";
import { ServiceError } from "../handler/net/errors";
import { HANDLED_UPDATE_TYPES } from "../handler/delivery/decode";
import { messageGroupIdOf } from "../config/queue-groups";
import type { OffsetStore } from "./offset-store";

/** Long-poll timeout of getUpdates, in seconds. */
export const DEFAULT_POLL_TIMEOUT_SECONDS = 30;

/** getUpdates failed because a webhook is set (Telegram answers 409 Conflict). */
export class WebhookActiveError extends Error {
  override readonly name = "WebhookActiveError";
  constructor(options?: { cause?: unknown }) {
    super("a webhook is set, so getUpdates cannot be used", options);
  }
}

/** Options of {@link pollUpdates}. */
export interface PollOptions {
  /** Where getUpdates goes (a TelegramClient whose timeout exceeds the long-poll timeout). */
  readonly api: BotApi;
  /** Handles one update; the offset moves past it once this resolves. */
  readonly onUpdate: (update: Update) => Promise<void>;
  readonly offsetStore: OffsetStore;
  /** Aborting it stops the loop after the update in flight (no new one is started). */
  readonly signal: AbortSignal;
  /** getUpdates long-poll timeout, in seconds. @default 30 */
  readonly timeoutSeconds?: number;
  /** Update types asked for. @default HANDLED_UPDATE_TYPES */
  readonly allowedUpdates?: readonly string[];
  /** Told about a failed getUpdates or onUpdate before the loop goes on. @default - ignored */
  readonly onError?: (error: unknown, stage: "getUpdates" | "onUpdate", update?: Update) => void;
  /** Wait after a failed getUpdates, in ms. @default 2000 */
  readonly retryDelayMs?: number;
}

/** What a polling run did. */
export interface PollSummary {
  /** Updates handed to onUpdate. */
  readonly handled: number;
  /** The offset saved last (undefined when none was ever saved or loaded). */
  readonly offset: number | undefined;
}

/** Resolves with the promise's value, or with `undefined` as soon as the signal aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) resolve(undefined);
        else reject(error);
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** True for the Bot API's answers that retrying cannot fix: a wrong token (401/404). */
function isFatal(error: unknown): boolean {
  return error instanceof ServiceError && (error.status === 401 || error.status === 404);
}

/** Time between two getUpdates while updates are being handled (short polls, not long ones), in ms. */
export const BUSY_POLL_INTERVAL_MS = 250;

/**
 * Polls until the signal aborts. Updates run in lanes, one per queue message group
 * (config/queue-groups.ts), as in queue mode: a chat's updates one at a time and in order, and a
 * chat's control updates (button presses, `/stop`) in their own lane, so a Stop never waits
 * behind the answer it stops. While updates are being handled, polling goes on with short
 * polls from the oldest unfinished one: nothing is confirmed to Telegram before it is handled,
 * so a stop or a crash loses none (updates fetched again are recognised and skipped).
 *
 * A getUpdates answered while stopping is ignored (those updates were not confirmed, so
 * Telegram delivers them again next time). A failing onUpdate is reported and the offset still
 * moves on: the handler answers every update itself (like the webhook's 200), so retrying it
 * forever would only block the chat. Rejects with WebhookActiveError when a webhook is set and
 * with the ServiceError of a wrong token; other failures are retried.
 */
export async function pollUpdates(options: PollOptions): Promise<PollSummary> {
  const { api, signal } = options;
  const timeout = options.timeoutSeconds ?? DEFAULT_POLL_TIMEOUT_SECONDS;
  const allowedUpdates = [...(options.allowedUpdates ?? HANDLED_UPDATE_TYPES)];
  let offset = await options.offsetStore.load();
  /** The next update_id not yet handed to a lane. */
  let next = offset;
  let handled = 0;
  const pending = new Set<number>();
  const lanes = new Map<string, Promise<void>>();
  let saving = Promise.resolve();
  const save = () => {
    const low = pending.size > 0 ? Math.min(...pending) : next;
    if (low === undefined || low === offset) return;
    offset = low;
    saving = saving.then(() => options.offsetStore.save(low));
  };
  const run = async (update: Update) => {
    if (signal.aborted) return; // not started: stays unconfirmed, delivered again next time
    try {
      await options.onUpdate(update);
    } catch (error) {
      options.onError?.(error, "onUpdate", update);
    }
    handled += 1;
    pending.delete(update.update_id);
    save();
  };
  while (!signal.aborted) {
    const busy = pending.size > 0;
    let updates: Update[] | undefined;
    try {
      updates = await untilAborted(
        api.call("getUpdates", {
          ...(busy ? { offset: Math.min(...pending) } : offset !== undefined ? { offset } : {}),
          timeout: busy ? 0 : timeout,
          allowed_updates: allowedUpdates as ("message" | "callback_query")[],
        }),
        signal,
      );
    } catch (error) {
      if (error instanceof ServiceError && error.status === 409) throw new WebhookActiveError({ cause: error });
      if (isFatal(error)) throw error;
      options.onError?.(error, "getUpdates");
      await sleep(options.retryDelayMs ?? 2000, signal);
      continue;
    }
    if (updates === undefined) break;
    for (const update of updates) {
      if (next !== undefined && update.update_id < next) continue;
      next = update.update_id + 1;
      pending.add(update.update_id);
      const group = messageGroupIdOf(update);
      lanes.set(group, (lanes.get(group) ?? Promise.resolve()).then(() => run(update)));
    }
    if (pending.size > 0) await sleep(BUSY_POLL_INTERVAL_MS, signal);
  }
  await Promise.all(lanes.values());
  await saving;
  return { handled, offset };
}
