import type { Session } from "./sessions";
import type { UpdateContext } from "./update-context";

/** The active session and whether this call had to create it. */
export interface EnsuredSession {
  readonly session: Session;
  readonly created: boolean;
}

/**
 * The user's active session, creating one with the first configured model when there is none
 * (a first message, or the active session was archived). Two reads when it exists.
 */
export async function ensureActiveSession(ctx: UpdateContext): Promise<EnsuredSession> {
  const { activeSessionId, session } = await ctx.sessions.getActive(ctx.userId);
  if (session) return { session, created: false };
  const model = ctx.config.ollamaModels[0]!;
  const created = await ctx.sessions.createSession(ctx.userId, model, activeSessionId);
  ctx.log.info("session created", { action: "create_session", outcome: "success", session_id: created.sessionId });
  return { session: created, created: true };
}

/** True when the session's model is still offered (OLLAMA_MODELS). */
export function modelAvailable(ctx: UpdateContext, session: Session): boolean {
  return ctx.config.ollamaModels.includes(session.modelName);
}
