import { usageLimitText } from "../format/usage-limit";
import type { UsageKind } from "../store/usage-limits";
import type { UpdateContext } from "./update-context";

/**
 * Counts this update as one use of `kind` (a chat message, an import) against the user's limits,
 * once per update: the count is named by the update_id, so a rerun after a crash does not count
 * it again (and the refusal it may send is a journaled reply, sent once). When a limit is full
 * the user is told which one and when it resets, and the update goes no further (nothing is
 * stored or asked).
 * @returns true when the update may go on
 */
export async function withinUsageLimit(ctx: UpdateContext, kind: UsageKind): Promise<boolean> {
  const limits = ctx.config.userLimits;
  const limit = kind === "chat" ? { perHour: limits.messagesPerHour, perDay: limits.messagesPerDay } : { perDay: limits.importsPerDay };
  if ((limit.perHour ?? 0) <= 0 && limit.perDay <= 0) return true;
  const check = await ctx.usage.count(ctx.userId, kind, limit, ctx.updateId);
  if (check.allowed) return true;
  const hit = { kind, window: check.window, limit: check.limit, resetsAt: check.resetsAt };
  ctx.log.info("usage limit reached", { action: "check_limit", outcome: "ignored", limit_kind: kind, window: hit.window, limit: hit.limit });
  await ctx.reply(usageLimitText(hit, ctx.now()));
  return false;
}
