/**
 * What view-data reads and how it shows it. Reading goes through the handler's own stores
 * (SessionStore, ArchiveStore); the only queries of its own find which users have data, since
 * the stores work per user: a Scan for profile/session items and an S3 listing by prefix.
 * Formatting is pure.
 */
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import type { DocumentClient } from "../../handler/store/document-client";
import { ARCHIVES_PREFIX } from "../../config/defaults";
import { parseArchive, type ArchiveDocument } from "../../handler/store/archive-format";
import { ArchiveStore, type ArchiveEntry, type S3ClientFactory } from "../../handler/store/archives";
import { PROFILE_SK, SESSION_PREFIX } from "../../handler/store/table-layout";
import { SessionStore } from "../../handler/store/sessions";
import { type Session, type StoredMessage } from "../../handler/store/session-items";
import { formatSize, formatTime, shortId } from "../../handler/format/views";

/** One user's live sessions. */
export interface UserSessions {
  readonly userId: number;
  readonly activeSessionId: string | undefined;
  readonly sessions: readonly Session[];
  /** Every message by session id (verbose only). */
  readonly messages?: ReadonlyMap<string, readonly StoredMessage[]>;
}

/** One user's archives. */
export interface UserArchives {
  readonly userId: number;
  readonly entries: readonly ArchiveEntry[];
  /** Parsed archive (or why it could not be) by key (verbose only). */
  readonly contents?: ReadonlyMap<string, ArchiveDocument | { readonly problems: readonly string[] }>;
}

/** What to read. */
export interface CollectOptions {
  /** Read every message / archive body too. @default false */
  readonly verbose?: boolean;
  /** Only this user. @default - every user */
  readonly userId?: number;
}

/** The user ids with a profile or a session in the table (a Scan projecting pk; sorted). */
export async function sessionUserIds(doc: DocumentClient, tableName: string): Promise<number[]> {
  const ids = new Set<number>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.scan({
      TableName: tableName,
      ProjectionExpression: "pk",
      FilterExpression: "sk = :profile OR begins_with(sk, :session)",
      ExpressionAttributeValues: { ":profile": PROFILE_SK, ":session": SESSION_PREFIX },
      ExclusiveStartKey: startKey,
    });
    for (const item of page.Items ?? []) ids.add(Number(item.pk));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return [...ids].sort((a, b) => a - b);
}

/** Every user's sessions through SessionStore (and their messages when verbose). */
export async function collectSessions(doc: DocumentClient, tableName: string, options: CollectOptions = {}): Promise<UserSessions[]> {
  const store = new SessionStore({ doc, tableName });
  const userIds = options.userId !== undefined ? [options.userId] : await sessionUserIds(doc, tableName);
  const out: UserSessions[] = [];
  for (const userId of userIds) {
    const [sessions, active] = await Promise.all([store.listSessions(userId), store.getActive(userId)]);
    if (sessions.length === 0 && active.activeSessionId === undefined && options.userId === undefined) continue;
    let messages: Map<string, StoredMessage[]> | undefined;
    if (options.verbose) {
      messages = new Map();
      for (const session of sessions) messages.set(session.sessionId, await store.allMessages(userId, session.sessionId));
    }
    out.push({ userId, activeSessionId: active.activeSessionId, sessions, ...(messages ? { messages } : {}) });
  }
  return out;
}

/** The user ids with an archive folder (archives/<user_id>/), sorted. */
export async function archiveUserIds(s3: S3ClientFactory, bucket: string): Promise<number[]> {
  const client = await s3();
  const ids: number[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: ARCHIVES_PREFIX, Delimiter: "/", ContinuationToken: token }));
    for (const prefix of page.CommonPrefixes ?? []) {
      const id = Number(prefix.Prefix?.slice(ARCHIVES_PREFIX.length).replace(/\/$/, ""));
      if (Number.isSafeInteger(id)) ids.push(id);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return ids.sort((a, b) => a - b);
}

/** Every user's archives through ArchiveStore (with model and message count; bodies when verbose). */
export async function collectArchives(s3: S3ClientFactory, bucket: string, options: CollectOptions = {}): Promise<UserArchives[]> {
  const store = new ArchiveStore({ s3, bucket });
  const userIds = options.userId !== undefined ? [options.userId] : await archiveUserIds(s3, bucket);
  const out: UserArchives[] = [];
  for (const userId of userIds) {
    const entries = await store.describe(await store.list(userId));
    if (entries.length === 0 && options.userId === undefined) continue;
    let contents: Map<string, ArchiveDocument | { problems: readonly string[] }> | undefined;
    if (options.verbose) {
      contents = new Map();
      for (const entry of entries) {
        const parsed = await parseArchive(await store.get(entry.key));
        contents.set(entry.key, parsed.ok ? parsed.archive : { problems: parsed.problems });
      }
    }
    out.push({ userId, entries, ...(contents ? { contents } : {}) });
  }
  return out;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Indents every line of a possibly multi-line text. */
function indent(text: string, prefix: string): string {
  return text.split("\n").map((l) => `${prefix}${l}`).join("\n");
}

/** The sessions report: totals, then each user's sessions (and messages when verbose). Pure. */
export function formatSessionsReport(heading: string, users: readonly UserSessions[]): string {
  const sessions = users.reduce((n, u) => n + u.sessions.length, 0);
  const messages = users.reduce((n, u) => n + u.sessions.reduce((m, s) => m + s.messageCount, 0), 0);
  const lines = [heading, `  ${plural(users.length, "user")}, ${plural(sessions, "session")}, ${plural(messages, "message")}`];
  for (const user of users) {
    lines.push("", `  user ${user.userId}: ${plural(user.sessions.length, "session")}${user.activeSessionId === undefined ? ", none active" : ""}`);
    for (const s of user.sessions) {
      const active = s.sessionId === user.activeSessionId;
      lines.push(
        `    ${active ? "▶" : " "} ${shortId(s.sessionId)}  ${s.modelName}  ${plural(s.messageCount, "message")}  created ${formatTime(new Date(s.createdAt))}, last ${formatTime(s.lastMessageTs)}${active ? "  (active)" : ""}`,
      );
      for (const m of user.messages?.get(s.sessionId) ?? []) {
        lines.push(`        [${formatTime(m.ts)}] ${m.role}:`);
        lines.push(indent(m.content, "          "));
      }
    }
  }
  if (users.length === 0) lines.push("  (no sessions)");
  return lines.join("\n");
}

/** The archives report: totals, then each user's archives (and conversations when verbose). Pure. */
export function formatArchivesReport(heading: string, users: readonly UserArchives[]): string {
  const count = users.reduce((n, u) => n + u.entries.length, 0);
  const bytes = users.reduce((n, u) => n + u.entries.reduce((b, e) => b + e.sizeBytes, 0), 0);
  const lines = [heading, `  ${plural(count, "archive")} of ${plural(users.length, "user")}, ${formatSize(bytes)}`];
  for (const user of users) {
    lines.push("", `  user ${user.userId}: ${plural(user.entries.length, "archive")}`);
    for (const e of user.entries) {
      const messages = e.messageCount !== undefined ? plural(e.messageCount, "message") : "? messages";
      lines.push(`      ${e.key}  ${e.modelName ?? "unknown model"}  ${messages}  ${formatSize(e.sizeBytes)}  ${formatTime(e.lastModified)}`);
      const content = user.contents?.get(e.key);
      if (content && "problems" in content) lines.push(`        (not a valid archive: ${content.problems.join("; ")})`);
      else if (content) {
        if (content.import) lines.push(`        imported from user ${content.import.original_user_id}, session ${content.import.original_session_id}`);
        for (const m of content.conversation) {
          lines.push(`        [${formatTime(m.ts)}] ${m.role}:`);
          lines.push(indent(m.content, "          "));
        }
      }
    }
  }
  if (users.length === 0) lines.push("  (no archives)");
  return lines.join("\n");
}
