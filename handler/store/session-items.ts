import type { Item } from "./document-client";

/**
 * What the session store reads and writes, as the rest of the bot sees it: sessions, messages
 * and the facts recorded with them, and the mapping from table items. Pure.
 */

/** Who wrote a message. */
export type MessageRole = "user" | "assistant";

/** A session as the commands see it. */
export interface Session {
  readonly userId: number;
  readonly sessionId: string;
  readonly modelName: string;
  /** The index copy; the profile's active_session_id decides. */
  readonly isActive: boolean;
  /** Creation time, epoch ms. */
  readonly createdAt: number;
  /** Last message time, epoch seconds (0 before the first message). */
  readonly lastMessageTs: number;
  /** Messages written so far (the sequence counter). */
  readonly messageCount: number;
  /** True once a reply said that older messages were left out of the model's context. @default false */
  readonly contextNoteShown?: boolean;
  /** Ollama's figures for the session's last complete answer. @default - none measured yet */
  readonly lastSpeed?: ModelSpeed;
  /**
   * The session's own system prompt (/system); "" when it was turned off (/system off).
   * @default - none of its own: the default system prompt (DEFAULT_SYSTEM_PROMPT) applies
   */
  readonly systemPrompt?: string;
  /** The Telegram message that ends the session's last answer (its Retry button). @default - none recorded */
  readonly lastAnswerMessageId?: number;
  /** The key of the last keyed append (`<update_id>:user`, `<update_id>:assistant`). @default - none */
  readonly lastAppendKey?: string;
}

/** Ollama's own figures for one answer (`eval_count`, `eval_duration` in ns). */
export interface ModelSpeed {
  readonly evalCount: number;
  readonly evalDurationNs: number;
}

/** Facts about the session recorded with a message, in the same request (see {@link SessionStore.appendMessage}). */
export interface SessionFacts {
  /** Sets `context_note_shown`. @default - unchanged */
  readonly contextNoteShown?: true;
  /** Sets `last_eval_count` / `last_eval_duration_ns`. @default - unchanged */
  readonly speed?: ModelSpeed;
  /** Sets `last_answer_message_id`: the Telegram message carrying the answer's Retry button. @default - unchanged */
  readonly answerMessageId?: number;
}

/** One stored message. */
export interface StoredMessage {
  readonly seq: number;
  readonly role: MessageRole;
  readonly content: string;
  /** Epoch seconds. */
  readonly ts: number;
  /** The Telegram file_id of the picture a photo message carried, so a retry can fetch it again (the bytes are never stored). */
  readonly photoFileId?: string;
}

/** A message appended by {@link SessionStore.appendMessageWithSession}, with its session as the append left it. */
export interface AppendedMessage {
  readonly message: StoredMessage;
  /** The session item after the append (its message_count includes the message). */
  readonly session: Session;
}

/** The user's active session, when there is one, as read in one request. */
export interface ActiveLookup {
  readonly activeSessionId: string | undefined;
  readonly session: Session | undefined;
}

/** What an archiving claim (archiving-claims.ts) found: the claim is ours, someone else's, or the session is gone. */
export type ArchivingClaim = "claimed" | "busy" | "gone";

/** A session changed (a message was added) between reading it and deleting it. */
export class SessionChangedError extends Error {
  override readonly name = "SessionChangedError";
  constructor(readonly sessionId: string) {
    super(`session ${sessionId} changed while it was being removed`);
  }
}

/** A session item as a Session. */
export function toSession(item: Item): Session {
  const evalCount = Number(item.last_eval_count);
  const evalDurationNs = Number(item.last_eval_duration_ns);
  return {
    userId: Number(item.pk),
    sessionId: String(item.session_id),
    modelName: String(item.model_name),
    isActive: Number(item.is_active) === 1,
    createdAt: Number(item.created_at ?? 0),
    lastMessageTs: Number(item.last_message_ts ?? 0),
    messageCount: Number(item.message_count ?? 0),
    ...(item.context_note_shown === true ? { contextNoteShown: true } : {}),
    ...(evalCount > 0 && evalDurationNs > 0 ? { lastSpeed: { evalCount, evalDurationNs } } : {}),
    ...(typeof item.system_prompt === "string" ? { systemPrompt: item.system_prompt } : {}),
    ...(typeof item.last_answer_message_id === "number" ? { lastAnswerMessageId: item.last_answer_message_id } : {}),
    ...(typeof item.last_append_key === "string" ? { lastAppendKey: item.last_append_key } : {}),
  };
}

/** A message item as a StoredMessage (its seq is the sort key's last part). */
export function toMessage(item: Item): StoredMessage {
  const sk = String(item.sk);
  return {
    seq: Number(sk.slice(sk.lastIndexOf("#") + 1)),
    role: item.role === "assistant" ? "assistant" : "user",
    content: String(item.content ?? ""),
    ts: Number(item.ts ?? 0),
    ...(typeof item.photo_file_id === "string" ? { photoFileId: item.photo_file_id } : {}),
  };
}

/** Orders sessions the way every numbered list shows them: oldest first. */
export function compareSessions(a: Session, b: Session): number {
  return a.createdAt - b.createdAt || a.sessionId.localeCompare(b.sessionId);
}

/** The SET clauses (", a = :a…") that record `facts` on a session item; adds their values to `values`. */
export function factsUpdate(facts: SessionFacts, values: Item): string {
  let set = "";
  if (facts.speed) {
    set += ", last_eval_count = :ec, last_eval_duration_ns = :ed";
    values[":ec"] = facts.speed.evalCount;
    values[":ed"] = facts.speed.evalDurationNs;
  }
  if (facts.answerMessageId !== undefined) {
    set += ", last_answer_message_id = :mid";
    values[":mid"] = facts.answerMessageId;
  }
  return set;
}
