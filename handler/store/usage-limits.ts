import type { DocumentClient } from "./document-client";
import { isConditionFailed } from "./dynamo";
import { TTL_ATTRIBUTE, expiresAfter, usageSk } from "./table-layout";

/**
 * Per-user limits (the bill's ceiling): how many chat messages a user may send per hour and per
 * day, and how many archives they may import per day, counted in DynamoDB. One item per user,
 * limit and UTC day (`USAGE#<kind>#<yyyy-mm-dd>`) holds the day's count and one count per hour,
 * so one conditional UpdateItem counts a use against both windows at once, or refuses it without
 * counting anything. Each use is named (the update_id) and the day's item keeps the names it
 * counted, so a use counted by an attempt that then crashed is not counted again by its rerun.
 * The items expire through the table's TTL a day after their day ends.
 */

/** What is counted. */
export type UsageKind = "chat" | "import";

/** The limits of one kind; 0 means no limit. */
export interface UsageLimit {
  /** Uses per clock hour (UTC). @default 0 */
  readonly perHour?: number;
  /** Uses per day (UTC). */
  readonly perDay: number;
}

/** What a count concluded. */
export type UsageCheck =
  | { readonly allowed: true }
  /** Refused: which window is full, its limit, and when it resets (epoch ms). */
  | { readonly allowed: false; readonly window: "hour" | "day"; readonly limit: number; readonly resetsAt: number };

/** Options of {@link UsageLimits}. */
export interface UsageLimitsOptions {
  readonly doc: DocumentClient;
  readonly tableName: string;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The UTC day of `ms` as yyyy-mm-dd, and the hour of that day. Pure. */
export function windowsOf(ms: number): { readonly day: string; readonly hour: number; readonly dayEnds: number; readonly hourEnds: number } {
  const date = new Date(ms);
  const dayStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  const hour = date.getUTCHours();
  return { day: date.toISOString().slice(0, 10), hour, dayEnds: dayStart + DAY_MS, hourEnds: dayStart + (hour + 1) * HOUR_MS };
}

/** Counts uses against the limits; see the module comment. */
export class UsageLimits {
  private readonly now: () => number;

  constructor(private readonly options: UsageLimitsOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Counts use `useId` (an update_id) of `kind` by `userId` when it stays within `limit`; refuses
   * it (counting nothing) when the hour or the day is full. A use already counted is allowed
   * again without counting it twice.
   */
  async count(userId: number, kind: UsageKind, limit: UsageLimit, useId: number): Promise<UsageCheck> {
    const perHour = limit.perHour ?? 0;
    if (perHour <= 0 && limit.perDay <= 0) return { allowed: true };
    const now = this.now();
    const w = windowsOf(now);
    const conditions: string[] = [];
    const values: Record<string, number | Set<number>> = { ":one": 1, ":ttl": expiresAfter(w.dayEnds, DAY_MS / 1000), ":use": useId, ":uses": new Set([useId]) };
    if (limit.perDay > 0) {
      conditions.push("(attribute_not_exists(day_count) OR day_count < :day_max)");
      values[":day_max"] = limit.perDay;
    }
    if (perHour > 0) {
      conditions.push("(attribute_not_exists(#hour) OR #hour < :hour_max)");
      values[":hour_max"] = perHour;
    }
    const key = { pk: userId, sk: usageSk(kind, w.day) };
    try {
      await this.options.doc.update({
        TableName: this.options.tableName,
        Key: key,
        UpdateExpression: "ADD day_count :one, #hour :one, counted :uses SET #ttl = :ttl",
        ConditionExpression: `(attribute_not_exists(counted) OR NOT contains(counted, :use)) AND ${conditions.join(" AND ")}`,
        ExpressionAttributeNames: { "#hour": `hour_${w.hour}`, "#ttl": TTL_ATTRIBUTE },
        ExpressionAttributeValues: values,
      });
      return { allowed: true };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const item = (await this.options.doc.get({ TableName: this.options.tableName, Key: key, ConsistentRead: true })).Item ?? {};
    if (item.counted instanceof Set && item.counted.has(useId)) return { allowed: true };
    const dayFull = limit.perDay > 0 && Number(item.day_count ?? 0) >= limit.perDay;
    return dayFull
      ? { allowed: false, window: "day", limit: limit.perDay, resetsAt: w.dayEnds }
      : { allowed: false, window: "hour", limit: perHour, resetsAt: w.hourEnds };
  }
}
