import type { TokenBudgets, UserLimits } from "../../config/defaults";
import { waitText } from "../format/usage-limit";
import type { UsageFigures, UsageSnapshot } from "../store/chat-usage";
import { windowsOf } from "../store/usage-limits";
import type { Command } from "./command";

/**
 * /usage: what the user used today (UTC) and this hour, messages and the tokens the providers
 * counted, the estimated cost where the models have prices, and each limit with when it resets.
 * In a group only the limits are shown: nobody's figures are posted there.
 */

const n = (value: number) => Math.round(value).toLocaleString("en-US");
const usd = (value: number) => `$${value < 0.01 ? value.toFixed(4) : value.toFixed(2)}`;
const at = (ms: number, now: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC, in ${waitText(ms - now)}`;

/** The limits part: each limit that is set, with its reset; `snapshot` adds what was used. Pure. */
export function formatLimits(limits: UserLimits, budgets: TokenBudgets, resets: { readonly hourEnds: number; readonly dayEnds: number }, now: number, snapshot?: UsageSnapshot): string[] {
  const used = (figure: number) => (snapshot ? `: ${n(figure)} used` : "");
  const lines = [
    limits.messagesPerHour > 0 ? `- ${n(limits.messagesPerHour)} messages per hour${used(snapshot?.hour.messages ?? 0)} (resets ${at(resets.hourEnds, now)})` : "",
    limits.messagesPerDay > 0 ? `- ${n(limits.messagesPerDay)} messages per day${used(snapshot?.day.messages ?? 0)} (resets ${at(resets.dayEnds, now)})` : "",
    budgets.userTokensPerDay > 0
      ? `- ${n(budgets.userTokensPerDay)} tokens per day for each user${used((snapshot?.day.inputTokens ?? 0) + (snapshot?.day.outputTokens ?? 0))} (resets ${at(resets.dayEnds, now)})`
      : "",
    budgets.botTokensPerDay > 0 ? `- ${n(budgets.botTokensPerDay)} tokens per day for the whole bot${snapshot?.botDayTokens !== undefined ? used(snapshot.botDayTokens) : ""} (resets ${at(resets.dayEnds, now)})` : "",
  ].filter((line) => line.length > 0);
  return lines.length > 0 ? ["Limits:", ...lines] : ["Limits: none."];
}

/** One window's line: messages, tokens in and out, and the cost when prices are known. Pure. */
function figuresLine(label: string, f: UsageFigures, withCost: boolean): string {
  const cost = withCost ? `, about ${usd(f.costUsd)}` : "";
  return `${label}: ${n(f.messages)} message${f.messages === 1 ? "" : "s"}, ${n(f.inputTokens)} tokens in, ${n(f.outputTokens)} out${cost}`;
}

/** The private /usage answer. Pure. */
export function formatUsage(snapshot: UsageSnapshot, limits: UserLimits, budgets: TokenBudgets, now: number, withCost: boolean): string {
  return [
    "Your usage (UTC):",
    figuresLine("Today", snapshot.day, withCost),
    figuresLine("This hour", snapshot.hour, withCost),
    ...(withCost ? ["(Costs are estimates from the list prices in the model list.)"] : []),
    ...formatLimits(limits, budgets, snapshot, now, snapshot),
  ].join("\n");
}

/** /usage; see the module comment. */
export const usageCommand: Command = {
  name: "usage",
  usage: "/usage",
  description: "show your messages and tokens today, and the limits",
  async run(ctx) {
    const now = ctx.now();
    if (ctx.message.chat.type !== "private") {
      // Nothing is read: the limits and their resets are the same for everyone.
      await ctx.reply([...formatLimits(ctx.config.userLimits, ctx.config.tokenBudgets, windowsOf(now), now), "Your own figures: send /usage to me in a private chat."].join("\n"));
      return;
    }
    const snapshot = await ctx.chatUsage.read(ctx.userId, ctx.updateId, ctx.config.tokenBudgets.botTokensPerDay > 0);
    const withCost = ctx.config.models.some((m) => m.price !== undefined);
    await ctx.reply(formatUsage(snapshot, ctx.config.userLimits, ctx.config.tokenBudgets, now, withCost));
  },
};
