import { buildArchive, exportFileName } from "../store/archive-format";
import type { ArchiveEntry, ArchiveStore } from "../store/archives";
import { SessionChangedError, type Session, type StoredMessage } from "../store/session-items";
import type { UpdateContext } from "../conversation/update-context";
import { BUTTON_ACTIONS, type PickerItem } from "../conversation/buttons";
import { formatArchiveList, formatSessionList, shortId } from "../format/views";
import type { Command } from "./command";
import { buttonLabel, pickerPage, resolvePick, withPicker, type Choice } from "./pick";
import { sessionItems, sessionsAndActive } from "./sessions";

const NO_BUCKET = "Archives are not available: the bot has no S3 bucket configured (S3_BUCKET_NAME).";

/**
 * /archive: the sessions that can be archived; /archive <n>: write session n with its whole
 * conversation to S3 and, only once S3 confirmed the write, remove it from DynamoDB.
 */
export const archiveCommand: Command = {
  name: "archive",
  privateOnly: true,
  usage: "/archive [n]",
  description: "pick a session to archive (buttons), or move session n to the archive",
  run: (ctx, args) => archiveSession(ctx, { typed: args }),
  button: { action: BUTTON_ACTIONS.archiveSession, press: (ctx, argument) => archiveSession(ctx, { pressed: argument }) },
};

async function archiveSession(ctx: UpdateContext, choice: Choice): Promise<void> {
  const archives = ctx.archives;
  if (!archives) {
    await ctx.reply(NO_BUCKET);
    return;
  }
  const { sessions, activeSessionId } = await sessionsAndActive(ctx);
  if (sessions.length === 0) {
    await ctx.reply("You have no sessions to archive.");
    return;
  }
  // The choice is resolved once: a rerun of this update archives the same session.
  const sessionId = await resolvePick(ctx, "session", choice, sessions, (s) => s.sessionId);
  if (sessionId === undefined) {
    const prefix = "typed" in choice && choice.typed.length > 0 ? `"${choice.typed.slice(0, 20)}" is not a session number.\n\n` : "";
    await ctx.reply(
      `${prefix}${formatSessionList(sessions, activeSessionId, ctx.config.modelNames, "Sessions you can archive:")}\n\nArchive one with a button or /archive <number>.`,
      withPicker(ctx, BUTTON_ACTIONS.archiveSession, sessionItems(sessions, activeSessionId), pickerPage(choice) ?? 1),
    );
    return;
  }
  const position = sessions.findIndex((s) => s.sessionId === sessionId) + 1;
  const listed = sessions[position - 1];
  if (!listed) {
    await ctx.reply(await archivedEarlier(ctx, archives, sessionId, sessions, activeSessionId));
    return;
  }
  // One /archive per session at a time: two would write, and withdraw, the same S3 object.
  const owner = `update:${ctx.updateId}`;
  const claim = await ctx.sessions.archiving.claim(ctx.userId, listed.sessionId, owner, ctx.leaseMs);
  if (claim !== "claimed") {
    await ctx.reply(
      claim === "gone"
        ? goneText(listed)
        : `Session ${shortId(listed.sessionId)} is being archived right now (another /archive); see /listarchives in a moment.`,
    );
    return;
  }
  let archived: string[] | undefined;
  try {
    archived = await archiveClaimed(ctx, archives, listed, position);
  } finally {
    // A session that stays live is free to be archived again at once, not only once the lease ends.
    if (!archived) {
      await ctx.sessions.archiving.release(ctx.userId, listed.sessionId, owner).catch((err: unknown) => {
        ctx.log.warn("could not release the archiving claim; it expires with its lease", {
          action: "archive_session",
          outcome: "warning",
          session_id: listed.sessionId,
          error_kind: err instanceof Error ? err.name : "unknown",
        });
      });
    }
  }
  if (!archived) return;
  if (listed.sessionId === activeSessionId) {
    archived.push(await activateNext(ctx, sessions.filter((s) => s.sessionId !== listed.sessionId), listed.sessionId));
  }
  await ctx.reply(archived.join("\n"));
}

/**
 * Archives a session this update has claimed: writes the S3 object, then removes the session
 * from DynamoDB. Returns the lines that report success once the session is removed; when it
 * stays live, the user has been told why and the result is undefined.
 */
async function archiveClaimed(ctx: UpdateContext, archives: ArchiveStore, listed: Session, position: number): Promise<string[] | undefined> {
  const read = await readWhole(ctx, listed);
  if (read === "gone") {
    await ctx.reply(goneText(listed));
    return undefined;
  }
  if (read === "incomplete") {
    // A message's counter is raised but its item is not written yet: archiving now would miss it.
    ctx.log.warn("session incomplete while archiving; kept", { action: "archive_session", outcome: "warning", session_id: listed.sessionId });
    await ctx.reply(changedText(listed, position));
    return undefined;
  }
  const { session, messages } = read;
  const archive = buildArchive(session, messages, new Date(ctx.now()));
  let written: { key: string; sizeBytes: number };
  try {
    written = await archives.put(archive);
  } catch (err) {
    ctx.log.error("archive write failed; session kept", err, {
      action: "archive_session",
      outcome: "failure",
      session_id: session.sessionId,
    });
    await ctx.reply(`Could not write the archive to S3, so session ${shortId(session.sessionId)} was kept as it is. Please try again later.`);
    return undefined;
  }
  try {
    await ctx.sessions.deleteSession(ctx.userId, session.sessionId, session.messageCount);
  } catch (err) {
    // While the session item is still there, the object just written is a copy that
    // /listarchives would show next to the live session: it goes. Once the item is gone (our
    // delete went through before its messages' delete failed, or another /archive finished),
    // the object is the archive and stays. If that cannot be told, it stays too: a stale copy
    // is better than a lost archive.
    const live = await stillLive(ctx, session.sessionId);
    const withdrawn = live === true && (await withdraw(ctx, archives, session.sessionId, written.key));
    if (err instanceof SessionChangedError) {
      if (live === false) {
        ctx.log.warn("session removed while archiving; archive kept", { action: "archive_session", outcome: "warning", session_id: session.sessionId, key: written.key });
        await ctx.reply(`Session ${shortId(session.sessionId)} was removed while I archived it (another /archive?); see /listarchives.`);
        return undefined;
      }
      // A message arrived after the archive was read: keep the session whole.
      ctx.log.warn("session changed while archiving; kept", { action: "archive_session", outcome: "warning", session_id: session.sessionId, archive_withdrawn: withdrawn });
      await ctx.reply(changedText(session, position));
      return undefined;
    }
    ctx.log.error(withdrawn ? "session not removed; archive withdrawn" : "session archived but not removed from the table", err, {
      action: "archive_session",
      outcome: "failure",
      session_id: session.sessionId,
      key: written.key,
    });
    if (withdrawn) {
      await ctx.reply(`Could not remove session ${shortId(session.sessionId)} from the live sessions, so I kept it as it is and did not archive it. Please try again later.`);
      return undefined;
    }
    // The archive is safe in S3 and the session item goes first, so either it is still listed
    // whole or it is gone from every list: nothing is lost, and archiving it again is safe.
    await ctx.reply(
      `Session ${shortId(session.sessionId)} was saved to the archive, but I could not remove it from the live sessions, so it may still be listed. Nothing was lost; archiving it again is safe.`,
    );
    return undefined;
  }
  ctx.log.info("session archived", {
    action: "archive_session",
    outcome: "success",
    session_id: session.sessionId,
    messages: messages.length,
    bytes: written.sizeBytes,
  });
  const lines = [`Archived session ${shortId(session.sessionId)} (${session.modelName}, ${messages.length} messages).`];
  if (read.missing > 0) lines.push(`${read.missing} message(s) whose saving failed long ago are not in it.`);
  return lines;
}

const goneText = (session: Pick<Session, "sessionId">) =>
  `Session ${shortId(session.sessionId)} is no longer there; see /listsessions and /listarchives.`;

/**
 * The reply for a session that this update resolved but that is no longer live: when an earlier
 * attempt of the update archived it (its archive exists) and died before answering, the answer
 * it would have given, after finishing what it left (a new active session); otherwise that
 * the session is gone.
 */
async function archivedEarlier(
  ctx: UpdateContext,
  archives: ArchiveStore,
  sessionId: string,
  sessions: readonly Session[],
  activeSessionId: string | undefined,
): Promise<string> {
  const archive = ctx.journal.rerun ? await archives.find(ctx.userId, sessionId) : undefined;
  if (!archive) return goneText({ sessionId });
  const what = [archive.modelName, archive.messageCount !== undefined ? `${archive.messageCount} messages` : undefined].filter(Boolean).join(", ");
  const lines = [`Archived session ${shortId(sessionId)}${what ? ` (${what})` : ""}.`];
  if (activeSessionId === sessionId) lines.push(await activateNext(ctx, sessions, sessionId));
  return lines.join("\n");
}

const changedText = (session: Session, position: number) =>
  `Session ${shortId(session.sessionId)} got a new message while I archived it, so I kept it. Send /archive ${position} again.`;

/**
 * No invocation runs longer than this (Lambda's limit is 15 minutes), so a message whose
 * counter was raised longer ago than this and whose item is missing was never written (its
 * write failed for good), and never will be. In ms.
 */
export const MAX_WRITE_IN_FLIGHT_MS = 15 * 60_000;

/** A session read whole for archiving; `missing` messages were never written (see {@link readWhole}). */
interface WholeSession {
  readonly session: Session;
  readonly messages: StoredMessage[];
  readonly missing: number;
}

/**
 * The session and its whole conversation. Appending a message raises the session's counter
 * (which gives the message its seq: 1, 2, 3...) before it writes the message item, so a read can
 * fall between the two and miss a message the counter already includes. The conversation is
 * whole when its seqs are exactly 1..message_count, with the count read before the messages.
 * Otherwise the session and its messages are read once more, so that a write in flight can land:
 * "gone" if the session went meanwhile; "incomplete" if seqs are still missing and a write
 * may still be in flight. Seqs missing for longer than {@link MAX_WRITE_IN_FLIGHT_MS} are writes
 * that failed for good: the conversation is archived without them, instead of never.
 */
async function readWhole(ctx: UpdateContext, listed: Session): Promise<WholeSession | "incomplete" | "gone"> {
  const messages = await ctx.sessions.allMessages(ctx.userId, listed.sessionId);
  if (isWhole(messages, listed.messageCount)) return { session: listed, messages, missing: 0 };
  const session = await ctx.sessions.getSession(ctx.userId, listed.sessionId);
  if (!session) return "gone";
  const again = await ctx.sessions.allMessages(ctx.userId, listed.sessionId);
  if (isWhole(again, session.messageCount)) return { session, messages: again, missing: 0 };
  const missing = missingSeqs(again, session.messageCount);
  if (!gapsSettled(again, session, missing, ctx.now())) return "incomplete";
  ctx.log.warn("archiving a session with messages that were never written", {
    action: "archive_session",
    outcome: "warning",
    session_id: session.sessionId,
    missing: missing.length,
  });
  return { session, messages: again.filter((m) => m.seq <= session.messageCount), missing: missing.length };
}

/** Whether messages (in seq order, as allMessages returns them) are exactly seqs 1..count. Pure. */
function isWhole(messages: readonly StoredMessage[], count: number): boolean {
  return messages.length === count && messages.every((m, i) => m.seq === i + 1);
}

/** The seqs of 1..count with no message, ascending. Pure. */
export function missingSeqs(messages: readonly StoredMessage[], count: number): number[] {
  const present = new Set(messages.map((m) => m.seq));
  const missing: number[] = [];
  for (let seq = 1; seq <= count; seq++) if (!present.has(seq)) missing.push(seq);
  return missing;
}

/**
 * Whether every missing seq was given out longer than {@link MAX_WRITE_IN_FLIGHT_MS} before
 * `nowMs`. A seq was given out no later than the next message that exists (its ts), or, for the
 * newest ones, than the session's last counter update (last_message_ts). Pure.
 */
export function gapsSettled(messages: readonly StoredMessage[], session: Session, missing: readonly number[], nowMs: number): boolean {
  const cutoffSeconds = (nowMs - MAX_WRITE_IN_FLIGHT_MS) / 1000;
  const bySeq = [...messages].sort((a, b) => a.seq - b.seq);
  return missing.every((seq) => {
    const next = bySeq.find((m) => m.seq > seq);
    return (next ? next.ts : session.lastMessageTs) < cutoffSeconds;
  });
}

/** Whether the session item still exists; undefined when that could not be read. */
async function stillLive(ctx: UpdateContext, sessionId: string): Promise<boolean | undefined> {
  try {
    return (await ctx.sessions.getSession(ctx.userId, sessionId)) !== undefined;
  } catch (err) {
    ctx.log.error("could not check the session after a failed removal", err, { action: "archive_session", outcome: "failure", session_id: sessionId });
    return undefined;
  }
}

/** Deletes the archive just written for a session that stays live; false (logged) if S3 refused. */
async function withdraw(ctx: UpdateContext, archives: ArchiveStore, sessionId: string, key: string): Promise<boolean> {
  try {
    await archives.delete(ctx.userId, sessionId);
    return true;
  } catch (err) {
    ctx.log.error("could not withdraw the archive of a session that was kept", err, { action: "archive_session", outcome: "failure", session_id: sessionId, key });
    return false;
  }
}

/**
 * After the active session was archived: the most recently used other session becomes active.
 * `remaining` is in list order, so its index is the number /listsessions now shows.
 */
async function activateNext(ctx: UpdateContext, remaining: readonly Session[], archivedId: string): Promise<string> {
  if (remaining.length === 0) {
    await ctx.sessions.activate(ctx.userId, undefined, archivedId);
    return "It was your active session; your next message starts a new one.";
  }
  const next = [...remaining].sort((a, b) => b.lastMessageTs - a.lastMessageTs || b.createdAt - a.createdAt)[0]!;
  await ctx.sessions.activate(ctx.userId, next.sessionId, archivedId);
  const position = remaining.indexOf(next) + 1;
  return `It was your active session; session ${position} (${shortId(next.sessionId)}, ${next.modelName}) is active now.`;
}

/** /listarchives: numbered archives in a stable order. */
export const listArchivesCommand: Command = {
  name: "listarchives",
  privateOnly: true,
  usage: "/listarchives",
  description: "list your archived sessions",
  async run(ctx) {
    if (!ctx.archives) {
      await ctx.reply(NO_BUCKET);
      return;
    }
    const entries = await ctx.archives.describe(await ctx.archives.list(ctx.userId));
    await ctx.reply(formatArchiveList(entries));
  },
};

/** /export <n>: archive n as a JSON document that imports back unchanged. */
export const exportCommand: Command = {
  name: "export",
  privateOnly: true,
  usage: "/export [n]",
  description: "pick an archive (buttons), or send archive n (from /listarchives) as a JSON file",
  run: (ctx, args) => exportArchive(ctx, { typed: args }),
  button: { action: BUTTON_ACTIONS.exportArchive, press: (ctx, argument) => exportArchive(ctx, { pressed: argument }) },
};

/** The buttons of an archive picker, numbered as /listarchives numbers them. Pure. */
export function archiveItems(entries: readonly ArchiveEntry[]): PickerItem[] {
  return entries.map((e, i) => ({ label: buttonLabel(`${i + 1}. ${e.modelName ?? "unknown model"} · ${shortId(e.sessionId)}`), argument: e.sessionId }));
}

async function exportArchive(ctx: UpdateContext, choice: Choice): Promise<void> {
  if (!ctx.archives) {
    await ctx.reply(NO_BUCKET);
    return;
  }
  const entries = await ctx.archives.list(ctx.userId);
  if (entries.length === 0) {
    await ctx.reply("You have no archives yet. Use /archive to archive a session.");
    return;
  }
  // The choice is resolved once: a rerun of this update sends the same archive.
  const sessionId = await resolvePick(ctx, "archive", choice, entries, (e) => e.sessionId);
  if (sessionId === undefined) {
    const page = pickerPage(choice);
    const heading = page !== undefined ? "Pick the archive to export." : `Usage: /export <number>, a number from 1 to ${entries.length}.`;
    const described = await ctx.archives.describe(entries);
    await ctx.reply(`${heading}\n\n${formatArchiveList(described)}`, withPicker(ctx, BUTTON_ACTIONS.exportArchive, archiveItems(described), page ?? 1));
    return;
  }
  const entry = entries.find((e) => e.sessionId === sessionId);
  if (!entry) {
    await ctx.reply("That archive is no longer there; see /listarchives.");
    return;
  }
  const bytes = await ctx.archives.get(entry.key);
  let model = "unknown";
  let count: number | undefined;
  try {
    const parsed = JSON.parse(Buffer.from(bytes).toString("utf8")) as { model_name?: unknown; conversation?: unknown };
    if (typeof parsed.model_name === "string") model = parsed.model_name;
    if (Array.isArray(parsed.conversation)) count = parsed.conversation.length;
  } catch {
    // Sent as stored anyway; the name just says "unknown".
  }
  await ctx.journal.send(() =>
    ctx.bot.call("sendDocument", {
      chat_id: ctx.chatId,
      document: { filename: exportFileName(entry.sessionId, model), data: bytes, contentType: "application/json" },
      caption: `Archive ${shortId(entry.sessionId)} (${model}${count !== undefined ? `, ${count} messages` : ""}). Send this file back to me to import it.`,
    }),
  );
  if (ctx.press) await ctx.reply(`Sent archive ${shortId(entry.sessionId)} as a file below.`);
  ctx.log.info("archive exported", { action: "export_archive", outcome: "success", session_id: entry.sessionId, bytes: bytes.byteLength });
}
