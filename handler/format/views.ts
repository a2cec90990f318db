import type { ArchiveEntry } from "../store/archives";
import type { Session, StoredMessage } from "../store/session-items";

/**
 * The bot's plain-text replies that show data: pure functions from stored records to text,
 * unit-tested without a network. Replies are sent without parse_mode, so nothing is escaped.
 */

/** Characters of a message shown by /history. */
export const HISTORY_PREVIEW_CHARS = 100;

/** The first 8 characters of a session id, as users see it. */
export const shortId = (sessionId: string) => sessionId.slice(0, 8);

/** "2025-01-20 12:00 UTC" for an epoch-seconds or Date value. */
export function formatTime(value: number | Date): string {
  const date = typeof value === "number" ? new Date(value * 1000) : value;
  if (Number.isNaN(date.getTime())) return "unknown time";
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "3.1 KB" style sizes. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The numbered model list of /newsession. */
export function formatModelList(models: readonly string[]): string {
  const lines = models.map((model, i) => `${i + 1}. ${model}`);
  return ["Available models:", ...lines, "", "Start a session with /newsession <number>, e.g. /newsession 1."].join("\n");
}

/** One session line: number, active marker, short id, model, message count, last activity. */
function sessionLine(session: Session, index: number, activeId: string | undefined, models: readonly string[]): string {
  const marker = session.sessionId === activeId ? "▶ " : "";
  const active = session.sessionId === activeId ? " (active)" : "";
  const unavailable = models.includes(session.modelName) ? "" : " ⚠ model no longer available";
  return (
    `${index + 1}. ${marker}${shortId(session.sessionId)} · ${session.modelName}${unavailable} · ` +
    `${plural(session.messageCount, "message")} · last ${formatTime(session.lastMessageTs)}${active}`
  );
}

/** The numbered list of /listsessions (and /archive without a number). */
export function formatSessionList(
  sessions: readonly Session[],
  activeId: string | undefined,
  models: readonly string[],
  heading = "Your sessions:",
): string {
  if (sessions.length === 0) return "You have no sessions yet. Send a message or use /newsession to start one.";
  return [heading, ...sessions.map((s, i) => sessionLine(s, i, activeId, models))].join("\n");
}

/** A message cut to `max` characters with an ellipsis, on one line. */
export function preview(text: string, max = HISTORY_PREVIEW_CHARS): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  if (oneLine.length <= max) return oneLine;
  // Do not cut a surrogate pair in half.
  let end = max - 1;
  const code = oneLine.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${oneLine.slice(0, end)}…`;
}

/** /history: role, time and the first 100 characters of each message, oldest first. */
export function formatHistory(session: Session, messages: readonly StoredMessage[]): string {
  if (messages.length === 0) return `Session ${shortId(session.sessionId)} (${session.modelName}) has no messages yet.`;
  const heading =
    messages.length < session.messageCount
      ? `Last ${messages.length} of ${plural(session.messageCount, "message")} in session ${shortId(session.sessionId)} (${session.modelName}):`
      : `Messages in session ${shortId(session.sessionId)} (${session.modelName}):`;
  const lines = messages.map((m) => `[${formatTime(m.ts)}] ${m.role === "user" ? "You" : "Bot"}: ${preview(m.content)}`);
  return [heading, ...lines].join("\n");
}

/** /listarchives: number, short id, model, message count, size, date. */
export function formatArchiveList(entries: readonly ArchiveEntry[]): string {
  if (entries.length === 0) return "You have no archives yet. Use /archive to archive a session.";
  const lines = entries.map((e, i) => {
    const parts = [shortId(e.sessionId), e.modelName ?? "unknown model"];
    if (e.messageCount !== undefined) parts.push(plural(e.messageCount, "message"));
    parts.push(formatSize(e.sizeBytes), formatTime(e.lastModified));
    return `${i + 1}. ${parts.join(" · ")}`;
  });
  return ["Your archives:", ...lines, "", "Export one with /export <number>."].join("\n");
}

/**
 * Parses a 1-based list position from a command's arguments; undefined unless it is a whole
 * number between 1 and `count`.
 */
export function parsePosition(args: string, count: number): number | undefined {
  const trimmed = args.trim();
  if (!/^\d{1,6}$/.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return n >= 1 && n <= count ? n : undefined;
}

/** The warning for a session whose model was removed from OLLAMA_MODELS. */
export function unavailableModelWarning(modelName: string): string {
  return `⚠ This session uses ${modelName}, which is no longer available. Start a new session with /newsession.`;
}
