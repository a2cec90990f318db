import { modelAvailable } from "../chat/active-session";
import { effectiveSystemPrompt } from "../chat/system-prompt";
import { formatSpeed } from "../format/answer";
import type { Session } from "../store/session-items";
import type { UpdateContext } from "../conversation/update-context";
import { shortId } from "../format/views";
import type { Command } from "./command";
import { formatSystemPromptStatus } from "./system";

/** What /status found out about Ollama. */
export interface OllamaProbe {
  readonly configured: boolean;
  readonly reachable: boolean;
  readonly version?: string;
  /** Models Ollama has, when reachable. */
  readonly installed?: readonly string[];
  /** Why it is not reachable, in words. */
  readonly reason?: string;
}

/** The Ollama part of /status. Pure. */
export function formatOllamaStatus(probe: OllamaProbe, configuredModels: readonly string[]): string[] {
  if (!probe.configured) return ["AI server: not configured (OLLAMA_URL is not set)."];
  if (!probe.reachable) return [`AI server: not reachable (${probe.reason ?? "no answer"}).`];
  const installed = new Set(probe.installed ?? []);
  return [
    `AI server: reachable${probe.version ? ` (Ollama ${probe.version})` : ""}.`,
    "Models:",
    ...configuredModels.map((m) => `${installed.has(m) ? "✓" : "✗"} ${m}${installed.has(m) ? "" : " (not installed)"}`),
  ];
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

async function probeOllama(ctx: UpdateContext): Promise<OllamaProbe> {
  if (!ctx.ollama) return { configured: false, reachable: false };
  const [version, models] = await Promise.allSettled([ctx.ollama.version(), ctx.ollama.listModels()]);
  if (models.status === "rejected") {
    const err = models.reason as { name?: string; timedOut?: boolean; certificateRefused?: boolean; status?: number };
    const reason =
      err.name === "ConnectionError"
        ? err.timedOut
          ? "timed out"
          : err.certificateRefused
            ? "its TLS certificate is not the one this bot trusts (OLLAMA_CA_CERT)"
            : "connection refused"
        : `answered ${err.status ?? "an error"}`;
    return { configured: true, reachable: false, reason };
  }
  return {
    configured: true,
    reachable: true,
    version: version.status === "fulfilled" ? version.value : undefined,
    installed: models.value,
  };
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
    const [probe, active] = await Promise.all([probeOllama(ctx), inPrivate ? ctx.sessions.getActive(ctx.userId) : { activeSessionId: undefined, session: undefined }]);
    const lines = [ctx.config.environment ? `Bot: up (${ctx.config.environment}).` : "Bot: up.", accessLine(ctx.config.allowedUserIds)];
    if (ctx.config.problems.length > 0) {
      lines.push("Configuration problems:", ...ctx.config.problems.map((p) => `- ${p.variable}: ${p.message}`));
    }
    lines.push(...formatOllamaStatus(probe, ctx.config.ollamaModels));
    // A group sees the bot's state, never the sender's session.
    if (inPrivate) {
      lines.push(...formatSessionStatus(active.session, active.session ? modelAvailable(ctx, active.session) : true));
      lines.push(formatSystemPromptStatus(effectiveSystemPrompt(active.session, ctx.config)));
    }
    await ctx.reply(lines.join("\n"));
  },
};
