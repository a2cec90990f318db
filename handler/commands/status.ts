import { modelAvailable } from "../active-session";
import type { UpdateContext } from "../update-context";
import { shortId } from "../views";
import type { Command } from "./command";

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

async function probeOllama(ctx: UpdateContext): Promise<OllamaProbe> {
  if (!ctx.ollama) return { configured: false, reachable: false };
  const [version, models] = await Promise.allSettled([ctx.ollama.version(), ctx.ollama.listModels()]);
  if (models.status === "rejected") {
    const err = models.reason as { name?: string; timedOut?: boolean; status?: number };
    const reason =
      err.name === "ConnectionError" ? (err.timedOut ? "timed out" : "connection refused") : `answered ${err.status ?? "an error"}`;
    return { configured: true, reachable: false, reason };
  }
  return {
    configured: true,
    reachable: true,
    version: version.status === "fulfilled" ? version.value : undefined,
    installed: models.value,
  };
}

/** /status: the bot is up, configuration problems, Ollama reachability and models, the active session. */
export const statusCommand: Command = {
  name: "status",
  usage: "/status",
  description: "check the bot, the AI server and your active session",
  async run(ctx) {
    const [probe, active] = await Promise.all([probeOllama(ctx), ctx.sessions.getActive(ctx.userId)]);
    const lines = ["Bot: up."];
    if (ctx.config.problems.length > 0) {
      lines.push("Configuration problems:", ...ctx.config.problems.map((p) => `- ${p.variable}: ${p.message}`));
    }
    lines.push(...formatOllamaStatus(probe, ctx.config.ollamaModels));
    if (active.session) {
      lines.push(`Active session: ${shortId(active.session.sessionId)} with ${active.session.modelName} (${active.session.messageCount} messages).`);
      if (!modelAvailable(ctx, active.session)) lines.push("⚠ Its model is no longer available; start a new session with /newsession.");
    } else {
      lines.push("Active session: none yet (your next message starts one).");
    }
    await ctx.reply(lines.join("\n"));
  },
};
