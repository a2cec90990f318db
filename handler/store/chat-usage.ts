import type { DocumentClient, Item } from "./document-client";
import { isConditionFailed } from "./dynamo";
import { TTL_ATTRIBUTE, expiresAfter, usageSk } from "./table-layout";
import { windowsOf } from "./usage-limits";

/**
 * What a user's chat messages cost, counted in DynamoDB: per UTC day and clock hour, the
 * messages and the input and output tokens the providers counted for their answers, on the
 * user's `USAGE#chat#<day>` item (the one the message limits always used), and the whole bot's
 * tokens on one item of its own (`pk` 0, `USAGE#bot#<day>`), for `botTokensPerDay`.
 *
 * Cost: the day's items are read with the profile, in the one BatchGetItem the claim step makes
 * anyway ({@link usageKeys}), and a message is counted after its answer, with its tokens, in one
 * UpdateItem: so counting tokens adds no request to a chat message (the bot's own item, only
 * with a bot budget, adds one). The use is named (the update_id) and the item keeps the names it
 * counted, so a rerun after a crash counts it once. The limits are checked on that read: a
 * user's messages in several chats at the same moment may pass a limit by the few that ran at
 * once (one chat's messages run one at a time in queue mode).
 */

/** The partition of the bot-wide counters: no Telegram user has id 0. */
export const BOT_USAGE_PK = 0;

/** One window's figures. */
export interface UsageFigures {
  readonly messages: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Estimated cost in USD of the answers whose models have prices. */
  readonly costUsd: number;
}

/** A user's usage today as read before an answer. */
export interface UsageSnapshot {
  readonly day: UsageFigures;
  readonly hour: UsageFigures;
  /** This update was already counted (a rerun): it is not refused, nor counted again. */
  readonly counted: boolean;
  /** The whole bot's tokens today (input and output), when its item was read. */
  readonly botDayTokens: number | undefined;
  /** When the hour and the day end, epoch ms. */
  readonly hourEnds: number;
  readonly dayEnds: number;
}

/** The keys to read for a user's snapshot at `now`: theirs, and the bot's when `withBot`. Pure. */
export function usageKeys(userId: number, now: number, withBot: boolean): Item[] {
  const { day } = windowsOf(now);
  const keys: Item[] = [{ pk: userId, sk: usageSk("chat", day) }];
  if (withBot) keys.push({ pk: BOT_USAGE_PK, sk: usageSk("bot", day) });
  return keys;
}

const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : Number(value ?? 0) || 0);

/** The snapshot in `items` (what the BatchGetItem returned) for `useId` at `now`. Pure. */
export function snapshotOf(items: readonly Item[], userId: number, useId: number, now: number, withBot: boolean): UsageSnapshot {
  const w = windowsOf(now);
  const mine = items.find((i) => num(i.pk) === userId && i.sk === usageSk("chat", w.day)) ?? {};
  const bot = items.find((i) => num(i.pk) === BOT_USAGE_PK && i.sk === usageSk("bot", w.day));
  const counted = mine.counted instanceof Set && mine.counted.has(useId);
  return {
    day: { messages: num(mine.day_count), inputTokens: num(mine.day_in), outputTokens: num(mine.day_out), costUsd: num(mine.day_cost) },
    hour: {
      messages: num(mine[`hour_${w.hour}`]),
      inputTokens: num(mine[`hour_${w.hour}_in`]),
      outputTokens: num(mine[`hour_${w.hour}_out`]),
      costUsd: num(mine[`hour_${w.hour}_cost`]),
    },
    counted,
    botDayTokens: withBot ? num(bot?.day_in) + num(bot?.day_out) : undefined,
    hourEnds: w.hourEnds,
    dayEnds: w.dayEnds,
  };
}

/** Options of {@link ChatUsage}. */
export interface ChatUsageOptions {
  readonly doc: DocumentClient;
  readonly tableName: string;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

const DAY_SECONDS = 24 * 60 * 60;

/** Reads and counts chat usage; see the module comment. */
export class ChatUsage {
  private readonly now: () => number;

  constructor(private readonly options: ChatUsageOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Reads today's snapshot alone (one BatchGetItem), where no profile read carries it (a press). */
  async read(userId: number, useId: number, withBot: boolean): Promise<UsageSnapshot> {
    const now = this.now();
    const items = await this.options.doc.batchGet(this.options.tableName, usageKeys(userId, now, withBot));
    return snapshotOf(items, userId, useId, now, withBot);
  }

  /**
   * Counts use `useId` (an update_id) as one message with `tokens`, in the user's hour and day,
   * and, with `withBot`, the tokens in the bot's day. False when it was counted before (a
   * rerun): nothing is added twice.
   */
  async record(
    userId: number,
    useId: number,
    tokens: { readonly inputTokens: number; readonly outputTokens: number } | undefined,
    withBot: boolean,
    costUsd = 0,
  ): Promise<boolean> {
    const now = this.now();
    const w = windowsOf(now);
    const values = {
      ":one": 1,
      ":in": tokens?.inputTokens ?? 0,
      ":out": tokens?.outputTokens ?? 0,
      ":ttl": expiresAfter(w.dayEnds, DAY_SECONDS),
      ":use": useId,
      ":uses": new Set([useId]),
      ":cost": Number.isFinite(costUsd) && costUsd > 0 ? costUsd : 0,
    };
    const names = { "#hour": `hour_${w.hour}`, "#hin": `hour_${w.hour}_in`, "#hout": `hour_${w.hour}_out`, "#hcost": `hour_${w.hour}_cost`, "#ttl": TTL_ATTRIBUTE };
    try {
      await this.options.doc.update({
        TableName: this.options.tableName,
        Key: { pk: userId, sk: usageSk("chat", w.day) },
        UpdateExpression: "ADD day_count :one, #hour :one, day_in :in, day_out :out, #hin :in, #hout :out, day_cost :cost, #hcost :cost, counted :uses SET #ttl = :ttl",
        ConditionExpression: "attribute_not_exists(counted) OR NOT contains(counted, :use)",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
    if (withBot && tokens) {
      // After the user's item, whose condition makes the count once; a crash between the two loses the bot's share once.
      const { ":one": _one, ":use": _use, ":uses": _uses, ":cost": _cost, ...botValues } = values;
      await this.options.doc.update({
        TableName: this.options.tableName,
        Key: { pk: BOT_USAGE_PK, sk: usageSk("bot", w.day) },
        UpdateExpression: "ADD day_in :in, day_out :out, #hin :in, #hout :out SET #ttl = :ttl",
        ExpressionAttributeNames: { "#hin": names["#hin"], "#hout": names["#hout"], "#ttl": TTL_ATTRIBUTE },
        ExpressionAttributeValues: botValues,
      });
    }
    return true;
  }
}
