import { isConditionFailed } from "../store/dynamo";
import type { Session, StoredMessage } from "../store/session-items";
import type { UpdateContext } from "../conversation/update-context";

/** What a session created by an update is, for its id derived from the update (the same on a rerun). */
export const NEW_SESSION = "session";

/** The key the update's user message is stored under: a rerun rewrites the same message. */
const userMessageKey = (ctx: UpdateContext) => `${ctx.updateId}:user`;

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
  const model = ctx.config.modelNames[0]!;
  const created = await ctx.sessions.createSession(ctx.userId, model, activeSessionId, ctx.journal.idFor(NEW_SESSION));
  ctx.log.info("session created", { action: "create_session", outcome: "success", session_id: created.sessionId });
  return { session: created, created: true };
}

/** True when the session's model is still offered (OLLAMA_MODELS). */
export function modelAvailable(ctx: UpdateContext, session: Session): boolean {
  return ctx.config.modelNames.includes(session.modelName);
}

/** The user's message stored in the active session, with the recent messages that end with it. */
export interface StoredTurn {
  /** The active session as the append left it (created by this call when there was none). */
  readonly session: Session;
  /** The user's message as stored (its seq orders it in the session). */
  readonly message: StoredMessage;
  /** The newest messages up to and including `message`, oldest first, at most `limit`. */
  readonly recent: StoredMessage[];
  readonly created: boolean;
}

/**
 * The chat path's storage step: appends the user's message to the active session and reads the
 * recent context at the same time (the counter update returns the session item, so the session
 * needs no read of its own: three requests, two round trips). `activeSessionId` is the
 * profile's, usually read while the update was being claimed. When the profile names no
 * session, or one that is gone (archived), a session is created with the first model and the
 * message is its first. Both requests are always settled before this returns or throws, so a
 * failed context read never leaves the append running unobserved; the append's own error wins.
 * A photo message also records its picture's Telegram file_id (`photoFileId`), never its bytes.
 */
export async function storeUserMessage(
  ctx: UpdateContext,
  activeSessionId: string | undefined,
  text: string,
  limit: number,
  photoFileId?: string,
): Promise<StoredTurn> {
  if (activeSessionId) {
    const [appended, recent] = await Promise.allSettled([
      ctx.sessions.appendMessageWithSession(ctx.userId, activeSessionId, "user", text, userMessageKey(ctx), photoFileId),
      ctx.sessions.recentMessages(ctx.userId, activeSessionId, limit),
    ]);
    if (appended.status === "fulfilled") {
      if (recent.status === "rejected") throw recent.reason;
      const { session, message } = appended.value;
      return { session, message, recent: contextEndingWith(recent.value, message, limit), created: false };
    }
    if (!isConditionFailed(appended.reason)) throw appended.reason;
    // The profile named a session that no longer exists: start a new one below.
  }
  const model = ctx.config.modelNames[0]!;
  const session = await ctx.sessions.createSession(ctx.userId, model, activeSessionId, ctx.journal.idFor(NEW_SESSION));
  ctx.log.info("session created", { action: "create_session", outcome: "success", session_id: session.sessionId });
  const message = await ctx.sessions.appendMessage(ctx.userId, session.sessionId, "user", text, {}, userMessageKey(ctx), photoFileId);
  return { session: { ...session, messageCount: message.seq, lastMessageTs: message.ts }, message, recent: [message], created: true };
}

/**
 * The context for `message` from a read made while it was being stored: the read may or may not
 * contain it (and may contain later messages of concurrent updates), so only messages stored
 * before it are kept, it is added last, and the newest `limit` are returned, oldest first. Pure.
 */
export function contextEndingWith(read: readonly StoredMessage[], message: StoredMessage, limit: number): StoredMessage[] {
  const before = read.filter((m) => m.seq < message.seq).sort((a, b) => a.seq - b.seq);
  return [...before, message].slice(-Math.max(1, limit));
}
