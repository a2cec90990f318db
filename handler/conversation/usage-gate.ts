import type { TokenBudgets, UserLimits } from "../../config/defaults";
import type { LimitKind } from "../../config/metrics";
import { usageLimitText, type LimitHit } from "../format/usage-limit";
import type { UsageSnapshot } from "../store/chat-usage";
import type { UsageKind } from "../store/usage-limits";
import type { UpdateContext } from "./update-context";

/**
 * The gates before a use of the bot, each once per update (named by the update_id, so a rerun
 * after a crash is neither refused by its own count nor counted again). When a limit is full the
 * user is told which one, what was used and when it resets, and the update goes no further
 * (nothing is stored or asked).
 * - An import counts against imports per day in one conditional write (store/usage-limits.ts).
 * - A chat message is checked against messages per hour and per day and the token budgets on
 *   the day's usage read with the profile, and counted after its answer, with the tokens the
 *   provider counted (store/chat-usage.ts); an answer gets at most what is left of the budgets.
 */

/** What a chat message may use, and how it is counted. */
export interface ChatAllowance {
  /** Most tokens the answer may have: what is left of the token budgets. @default - no budget */
  readonly maxTokens: number | undefined;
  /** The tokens of the answer, as the provider counted them; set by the chat path before it is counted. */
  tokens: { readonly inputTokens: number; readonly outputTokens: number } | undefined;
  /** Their estimated cost in USD, where the model's entry has prices. @default - none */
  costUsd?: number;
}

/** The first limit `snapshot` is at, or the tokens left when none. Pure. */
export function checkChat(snapshot: UsageSnapshot, limits: UserLimits, budgets: TokenBudgets): { readonly hit: LimitHit } | { readonly maxTokens: number | undefined } {
  const { day, hour } = snapshot;
  const dayTokens = day.inputTokens + day.outputTokens;
  const botTokens = snapshot.botDayTokens ?? 0;
  if (!snapshot.counted) {
    if (limits.messagesPerHour > 0 && hour.messages >= limits.messagesPerHour) return { hit: { kind: "chat", window: "hour", limit: limits.messagesPerHour, resetsAt: snapshot.hourEnds } };
    if (limits.messagesPerDay > 0 && day.messages >= limits.messagesPerDay) return { hit: { kind: "chat", window: "day", limit: limits.messagesPerDay, resetsAt: snapshot.dayEnds } };
    if (budgets.userTokensPerDay > 0 && dayTokens >= budgets.userTokensPerDay) {
      return { hit: { kind: "userTokens", window: "day", limit: budgets.userTokensPerDay, used: dayTokens, resetsAt: snapshot.dayEnds } };
    }
    if (budgets.botTokensPerDay > 0 && botTokens >= budgets.botTokensPerDay) {
      return { hit: { kind: "botTokens", window: "day", limit: budgets.botTokensPerDay, used: botTokens, resetsAt: snapshot.dayEnds } };
    }
  }
  const left = [budgets.userTokensPerDay > 0 ? budgets.userTokensPerDay - dayTokens : Infinity, budgets.botTokensPerDay > 0 ? budgets.botTokensPerDay - botTokens : Infinity];
  const most = Math.min(...left);
  return { maxTokens: Number.isFinite(most) ? Math.max(1, most) : undefined };
}

/**
 * The chat gate: the allowance of this message, or undefined once the user was told which
 * limit is full. The snapshot is the one read with the profile, else read now (a press).
 */
export async function chatAllowance(ctx: UpdateContext): Promise<ChatAllowance | undefined> {
  const withBot = ctx.config.tokenBudgets.botTokensPerDay > 0;
  const snapshot = await (ctx.usageRead ?? ctx.chatUsage.read(ctx.userId, ctx.updateId, withBot));
  const check = checkChat(snapshot, ctx.config.userLimits, ctx.config.tokenBudgets);
  if ("hit" in check) {
    await refuse(ctx, check.hit);
    return undefined;
  }
  return { maxTokens: check.maxTokens, tokens: undefined };
}

/** Runs a chat message's path within its allowance, then counts it with its answer's tokens (not when the path threw: its rerun counts it). */
export async function withinChatAllowance(ctx: UpdateContext, run: (allowance: ChatAllowance) => Promise<void>): Promise<void> {
  const allowance = await chatAllowance(ctx);
  if (!allowance) return;
  await run(allowance);
  await recordChat(ctx, allowance);
}

/**
 * Counts the message with its answer's tokens, once. Never rejects: a count that could not be
 * written is logged (the message was answered; only the bookkeeping is short).
 */
export async function recordChat(ctx: UpdateContext, allowance: ChatAllowance): Promise<void> {
  const withBot = ctx.config.tokenBudgets.botTokensPerDay > 0;
  await ctx.chatUsage.record(ctx.userId, ctx.updateId, allowance.tokens, withBot, allowance.costUsd).catch((err: unknown) => {
    ctx.log.warn("could not count the message's usage", { action: "count_usage", outcome: "failure", error_kind: err instanceof Error ? err.name : "unknown" });
  });
}

/**
 * Counts this update as one use of `kind` in one conditional write (imports; chat messages go
 * through {@link chatAllowance}).
 * @returns true when the update may go on
 */
export async function withinUsageLimit(ctx: UpdateContext, kind: UsageKind): Promise<boolean> {
  const limits = ctx.config.userLimits;
  const limit = kind === "chat" ? { perHour: limits.messagesPerHour, perDay: limits.messagesPerDay } : { perDay: limits.importsPerDay };
  if ((limit.perHour ?? 0) <= 0 && limit.perDay <= 0) return true;
  const check = await ctx.usage.count(ctx.userId, kind, limit, ctx.updateId);
  if (check.allowed) return true;
  await refuse(ctx, { kind, window: check.window, limit: check.limit, resetsAt: check.resetsAt });
  return false;
}

/** The metrics' name of a limit that refused (config/metrics.ts LIMIT_KINDS). Pure. */
function limitKindOf(hit: LimitHit): LimitKind {
  if (hit.kind === "chat") return hit.window === "hour" ? "messagesPerHour" : "messagesPerDay";
  if (hit.kind === "import") return "importsPerDay";
  return hit.kind === "userTokens" ? "userTokensPerDay" : "botTokensPerDay";
}

async function refuse(ctx: UpdateContext, hit: LimitHit): Promise<void> {
  ctx.metrics.addDimension("Limit", limitKindOf(hit));
  ctx.metrics.addMetric("Refused", 1);
  ctx.log.info("usage limit reached", { action: "check_limit", outcome: "ignored", limit_kind: hit.kind, window: hit.window, limit: hit.limit });
  await ctx.reply(usageLimitText(hit, ctx.now()));
}
