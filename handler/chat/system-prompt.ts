import { SYSTEM_PROMPT_MAX_CHARS } from "../../config/stack-config";
import type { BotConfig } from "../config";
import type { Session } from "../store/session-items";

/**
 * A session's system prompt: the first message (role `system`) of every request the session
 * makes to the model, counted in the context budget. A session has its own (/system <text>),
 * has it turned off (/system off: none at all, not even the default), or has none of its own,
 * and then the stack's default (DEFAULT_SYSTEM_PROMPT) applies. Pure.
 */

export { SYSTEM_PROMPT_MAX_CHARS };

/** Where a session's system prompt comes from. */
export type SystemPromptSource = "own" | "off" | "default" | "none";

/** The system prompt a session's requests carry ("" for none), and where it comes from. */
export interface EffectiveSystemPrompt {
  readonly text: string;
  readonly source: SystemPromptSource;
}

/** The system prompt of `session` (undefined: a session not created yet, which gets the default). */
export function effectiveSystemPrompt(session: Pick<Session, "systemPrompt"> | undefined, config: Pick<BotConfig, "defaultSystemPrompt">): EffectiveSystemPrompt {
  const own = session?.systemPrompt;
  if (own !== undefined) return own ? { text: own, source: "own" } : { text: "", source: "off" };
  return config.defaultSystemPrompt ? { text: config.defaultSystemPrompt, source: "default" } : { text: "", source: "none" };
}
