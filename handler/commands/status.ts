import { modelAvailable } from "../chat/active-session";
import { effectiveSystemPrompt } from "../chat/system-prompt";
import { formatSpeed } from "../format/answer";
import type { Session } from "../store/session-items";
import type { UpdateContext } from "../conversation/update-context";
import { shortId } from "../format/views";
import type { Command } from "./command";
import { modelLabel, type ModelEntry, type Provider } from "../../config/models";
import { formatSystemPromptStatus } from "./system";

/** What /status found out about one provider endpoint (the Ollama server, a Bedrock region, an OpenAI-compatible server). */
export interface EndpointProbe {
  readonly provider: Provider;
  /** The region or base URL; "" for the Ollama server. */
  readonly where: string;
  /** The entries it serves. */
  readonly entries: readonly Pick<ModelEntry, "name" | "model" | "provider">[];
  /** What it said of itself (model/model-api.ts ProviderHealth); undefined when its provider is not configured (Ollama without OLLAMA_URL). */
  readonly health: { readonly reachable: boolean; readonly detail?: string; readonly models?: readonly string[]; readonly reason?: string } | undefined;
}

/** The heading of an endpoint's lines. Pure. */
function endpointName(probe: EndpointProbe): string {
  if (probe.provider === "bedrock") return `Amazon Bedrock (${probe.where})`;
  if (probe.provider === "openai") return `OpenAI-compatible server (${hostOf(probe.where)})`;
  return "AI server";
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return "?";
  }
};

/** The provider part of /status: each endpoint's health (asked without spending tokens) and its models. Pure. */
export function formatProviderStatus(probes: readonly EndpointProbe[]): string[] {
  return probes.flatMap((probe) => {
    const name = endpointName(probe);
    if (!probe.health) return [`${name}: not configured (OLLAMA_URL is not set).`];
    if (!probe.health.reachable) return [`${name}: not reachable (${probe.health.reason ?? "no answer"}).`];
    const listed = probe.health.models ? new Set(probe.health.models) : undefined;
    const models = probe.entries.map((e) => {
      const missing = listed !== undefined && !listed.has(e.model);
      return `${missing ? "✗" : "✓"} ${modelLabel(e)}${missing ? (e.provider === "ollama" ? " (not installed)" : " (not served)") : ""}`;
    });
    return [`${name}: reachable${probe.health.detail ? ` (${probe.health.detail})` : ""}.`, "Models:", ...models];
  });
}

/**
 * The active-session part of /status: its id, model and size, the model's speed on the
 * session's last complete answer (Ollama's eval figures) when known, and a warning when the
 * model is no longer offered. Pure.
 */
export function formatSessionStatus(session: Session | undefined, modelOffered: boolean): string[] {
  if (!session) return ["Active session: none yet (your next message starts one)."];
  const lines = [`Active session: ${shortId(session.sessionId)} with ${session.modelName} (${session.messageCount} messages).`];
  const speed = session.lastSpeed ? formatSpeed(session.lastSpeed.evalCount, session.lastSpeed.evalDurationNs) : undefined;
  if (speed) lines.push(`Model speed on the last answer: ${speed}.`);
  if (!modelOffered) lines.push("⚠ Its model is no longer available; start a new session with /newsession.");
  return lines;
}

/** Who may use the bot: loud when it is everyone. Pure. */
export function accessLine(allowedUserIds: readonly number[] | undefined): string {
  if (allowedUserIds === undefined || allowedUserIds.length === 0) {
    return "⚠ Access: open to every Telegram user (ALLOWED_USER_IDS is empty).";
  }
  const n = allowedUserIds.length;
  return `Access: limited to ${n} allowed user${n === 1 ? "" : "s"}.`;
}

/** Every endpoint's health, asked at once. */
async function probeProviders(ctx: UpdateContext): Promise<EndpointProbe[]> {
  return Promise.all(
    ctx.models.endpoints().map(async ({ api, entries, where }) => ({
      provider: entries[0]!.provider,
      where,
      entries,
      health: api ? await api.health() : undefined,
    })),
  );
}

/**
 * /status: the bot is up, configuration problems, Ollama reachability and models, the active
 * session, its model's last measured speed and its system prompt.
 */
export const statusCommand: Command = {
  name: "status",
  usage: "/status",
  description: "check the bot, the AI server and your active session",
  async run(ctx) {
    const inPrivate = ctx.message.chat.type === "private";
    const [probes, active] = await Promise.all([probeProviders(ctx), inPrivate ? ctx.sessions.getActive(ctx.userId) : { activeSessionId: undefined, session: undefined }]);
    const lines = [ctx.config.environment ? `Bot: up (${ctx.config.environment}).` : "Bot: up.", accessLine(ctx.config.allowedUserIds)];
    if (ctx.config.problems.length > 0) {
      lines.push("Configuration problems:", ...ctx.config.problems.map((p) => `- ${p.variable}: ${p.message}`));
    }
    lines.push(...formatProviderStatus(probes));
    // A group sees the bot's state, never the sender's session.
    if (inPrivate) {
      lines.push(...formatSessionStatus(active.session, active.session ? modelAvailable(ctx, active.session) : true));
      lines.push(formatSystemPromptStatus(effectiveSystemPrompt(active.session, ctx.config)));
    }
    await ctx.reply(lines.join("\n"));
  },
};
