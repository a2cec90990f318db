import type { BotApi, BotMethods, BotParams, BotResult } from "../../../handler/telegram/bot-api";
import { ServiceError } from "../../../handler/net/errors";
import type { Clock } from "../../../handler/chat/clock";

/** Lets every pending promise callback run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Sleeper {
  readonly at: number;
  readonly resolve: () => void;
}

/** A clock that only moves when the test says so; sleepers wake in time order. */
export class FakeClock implements Clock {
  private time = 0;
  private sleepers: Sleeper[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      };
      const sleeper: Sleeper = {
        at: this.time + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Sleeps not yet woken (a finished reply must leave none). */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward by `ms`, waking each sleeper at its moment and letting the code run. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const next = [...this.sleepers].sort((a, b) => a.at - b.at)[0];
      if (!next || next.at > end) break;
      this.time = next.at;
      this.sleepers = this.sleepers.filter((s) => s !== next);
      next.resolve();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** One call the fake Bot API received. */
export interface RecordedCall {
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** Fake-clock time of the call, in ms. */
  readonly at: number;
}

/** Decides the outcome of a call: return an error to make it fail, undefined to succeed. */
export type FaultRule = (method: string, params: Record<string, unknown>) => Error | undefined;

/** A message as it stands in the chat after the successful sends and edits. */
export interface ChatMessageState {
  readonly messageId: number;
  readonly text: string;
  readonly parseMode: string | undefined;
}

/**
 * An in-memory Bot API recording sendChatAction, sendMessageDraft, sendMessage and
 * editMessageText; messages get increasing ids. Faults are injected with `failNext` (once)
 * or `failWhile` (every matching call until the rule says otherwise).
 */
export class RecordingBotApi implements BotApi {
  readonly calls: RecordedCall[] = [];
  /** The chat's messages by id, as the successful sendMessage and editMessageText calls left them. */
  readonly messages = new Map<number, ChatMessageState>();
  private nextMessageId = 100;
  private readonly faults: FaultRule[] = [];
  private readonly standingFaults: FaultRule[] = [];

  constructor(private readonly clock: Clock) {}

  /** The next call for which `rule` returns an error fails with it (the rule is then used up). */
  failNext(rule: FaultRule): void {
    this.faults.push(rule);
  }

  /** Every call for which `rule` returns an error fails with it (the rule is never used up). */
  failWhile(rule: FaultRule): void {
    this.standingFaults.push(rule);
  }

  /** Calls of one method. */
  of(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  async call<M extends keyof BotMethods>(method: M, params: BotParams[M]): Promise<BotResult<M>> {
    const record = params as unknown as Record<string, unknown>;
    this.calls.push({ method, params: record, at: this.clock.now() });
    await Promise.resolve();
    for (const [index, rule] of this.faults.entries()) {
      const error = rule(method, record);
      if (error) {
        this.faults.splice(index, 1);
        throw error;
      }
    }
    for (const rule of this.standingFaults) {
      const error = rule(method, record);
      if (error) throw error;
    }
    const parseMode = typeof record.parse_mode === "string" ? record.parse_mode : undefined;
    if (method === "sendMessage") {
      const messageId = this.nextMessageId++;
      this.messages.set(messageId, { messageId, text: String(record.text), parseMode });
      const message = { message_id: messageId, date: 0, chat: { id: record.chat_id, type: "private" }, text: record.text };
      return message as unknown as BotResult<M>;
    }
    if (method === "editMessageText") {
      const messageId = Number(record.message_id);
      this.messages.set(messageId, { messageId, text: String(record.text), parseMode });
    }
    return true as unknown as BotResult<M>;
  }
}

/** A Telegram `ok: false` answer as the client reports it. */
export function telegramError(operation: string, status: number, description: string, retryAfterSeconds?: number): ServiceError {
  return new ServiceError({
    service: "telegram",
    operation,
    status,
    description,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  });
}
