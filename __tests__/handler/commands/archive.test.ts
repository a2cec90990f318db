import { ARCHIVE_VERSION } from "../../../handler/store/archive-format";
import { archiveKey } from "../../../handler/store/archives";
import { gapsSettled, MAX_WRITE_IN_FLIGHT_MS, missingSeqs } from "../../../handler/commands/archive";
import { messageSk, sessionSk } from "../../../handler/store/table-layout";
import { useHarness } from "../../support/handler-harness";
import { documentUpdate, resetUpdateIds, TEST_USER_ID } from "../../support/updates";

describe("archive commands", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 5_000;
  const last = () => h.repliesTo(user).at(-1) ?? "";

  beforeEach(() => {
    resetUpdateIds();
    user += 1;
  });

  async function archiveJson(userId: number, sessionId: string): Promise<Record<string, unknown>> {
    const bytes = await h.archives.get(archiveKey(userId, sessionId));
    return JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
  }

  it("/archive without a number lists the sessions that can be archived", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/archive", { userId: user });
    expect(last()).toContain("Sessions you can archive:");
    expect(last()).toContain("Archive one with a button or /archive <number>.");
  });

  it("/archive <n> writes the seed's format to S3, then removes the session and its messages", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("first question", { userId: user });
    await h.sendText("/newsession 2", { userId: user });
    const [first] = await h.sessions.listSessions(user);
    await h.sendText("/archive 1", { userId: user });

    const archive = await archiveJson(user, first!.sessionId);
    expect(archive).toEqual({
      user_id: user,
      session_id: first!.sessionId,
      model_name: h.config.modelNames[0],
      conversation: [
        { role: "user", content: "first question", ts: expect.any(Number) },
        { role: "assistant", content: "You said: first question", ts: expect.any(Number) },
      ],
      last_message_ts: expect.any(Number),
      archived_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      archive_version: ARCHIVE_VERSION,
    });
    expect(await h.sessions.getSession(user, first!.sessionId)).toBeUndefined();
    expect(await h.sessions.allMessages(user, first!.sessionId)).toEqual([]);
    expect(await h.sessions.listSessions(user)).toHaveLength(1);
    expect(last()).toContain(`Archived session ${first!.sessionId.slice(0, 8)}`);
  });

  it("archiving the active session says which session is active now", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/newsession 2", { userId: user });
    const [first, second] = await h.sessions.listSessions(user);
    await h.sendText("/archive 2", { userId: user });
    expect(last()).toContain(`session 1 (${first!.sessionId.slice(0, 8)}, ${first!.modelName}) is active now`);
    expect((await h.sessions.getActive(user)).activeSessionId).toBe(first!.sessionId);
    expect(second).toBeDefined();
  });

  it("archiving the last session says the next message starts a new one", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/archive 1", { userId: user });
    expect(last()).toContain("your next message starts a new one");
    expect((await h.sessions.getActive(user)).session).toBeUndefined();
  });

  it("keeps the session in DynamoDB and tells the user when the S3 write fails", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("keep me", { userId: user });
    const handler = h.createBotHandler({ bucketName: "no-such-bucket" });
    await h.sendText("/archive 1", { userId: user, handler });
    expect(last()).toContain("Could not write the archive to S3");
    const [session] = await h.sessions.listSessions(user);
    expect(session?.messageCount).toBe(2);
    expect((await h.sessions.allMessages(user, session!.sessionId)).map((m) => m.content)).toEqual(["keep me", "You said: keep me"]);
    // The failed attempt released its claim: the next /archive goes ahead at once.
    await h.sendText("/archive 1", { userId: user });
    expect(last()).toContain(`Archived session ${session!.sessionId.slice(0, 8)}`);
  });

  describe("a message whose counter update landed before its item (append in flight)", () => {
    let sessionId: string;
    const raiseCounter = () =>
      h.doc.update({
        TableName: h.config.tableName,
        Key: { pk: user, sk: sessionSk(sessionId) },
        UpdateExpression: "ADD message_count :one",
        ExpressionAttributeValues: { ":one": 1 },
      });
    const landMessage = (seq: number) =>
      h.doc.put({ TableName: h.config.tableName, Item: { pk: user, sk: messageSk(sessionId, seq), role: "user", content: "late", ts: 1 } });
    const storedConversation = async () =>
      ((await archiveJson(user, sessionId)).conversation as { content: string }[]).map((m) => m.content);

    beforeEach(async () => {
      await h.sendText("hello", { userId: user });
      sessionId = (await h.sessions.getActive(user)).session!.sessionId;
      await raiseCounter(); // seq 3 is allocated; its MSG item is not written yet
    });

    it("/archive refuses, keeps the session whole and writes nothing to S3; once the item lands it archives every message", async () => {
      await h.sendText("/archive 1", { userId: user });
      expect(last()).toContain(`Session ${sessionId.slice(0, 8)} got a new message while I archived it, so I kept it. Send /archive 1 again.`);
      expect((await h.sessions.listSessions(user)).map((s) => [s.sessionId, s.messageCount])).toEqual([[sessionId, 3]]);
      expect((await h.sessions.allMessages(user, sessionId)).map((m) => m.seq)).toEqual([1, 2]);
      expect(await h.archives.list(user)).toEqual([]);

      await landMessage(3);
      await h.sendText("/archive 1", { userId: user });
      expect(last()).toContain(`Archived session ${sessionId.slice(0, 8)}`);
      expect(last()).toContain("3 messages");
      expect(await storedConversation()).toEqual(["hello", "You said: hello", "late"]);
      expect(await h.sessions.listSessions(user)).toEqual([]);
      expect(await h.sessions.allMessages(user, sessionId)).toEqual([]);
    });

    it("a missing message in the middle (a later append landed first) is caught too", async () => {
      await raiseCounter(); // seq 4
      const now = Math.floor(Date.now() / 1000);
      await h.doc.put({ TableName: h.config.tableName, Item: { pk: user, sk: messageSk(sessionId, 4), role: "assistant", content: "later", ts: now } });
      await h.sendText("/archive 1", { userId: user });
      expect(last()).toContain("got a new message while I archived it, so I kept it");
      expect(await h.archives.list(user)).toEqual([]);
      expect((await h.sessions.allMessages(user, sessionId)).map((m) => m.seq)).toEqual([1, 2, 4]);
    });

    it("a seq whose write failed for good (given out over 15 minutes ago) no longer blocks /archive", async () => {
      const later = h.createBotHandler({}, { now: () => Date.now() + MAX_WRITE_IN_FLIGHT_MS + 60_000 });
      await h.sendText("/archive 1", { userId: user, handler: later });
      expect(last()).toContain(`Archived session ${sessionId.slice(0, 8)}`);
      expect(last()).toContain("2 messages");
      expect(last()).toContain("1 message(s) whose saving failed long ago are not in it.");
      expect(await storedConversation()).toEqual(["hello", "You said: hello"]);
      expect(await h.sessions.listSessions(user)).toEqual([]);
    });

    it("a write that lands while /archive reads is picked up by its one re-read", async () => {
      let pending = true;
      const name = "landDuringArchiveRead";
      h.doc.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (pending && context.commandName === "QueryCommand" && JSON.stringify(args.input).includes(`MSG#${sessionId}#`)) {
            pending = false;
            await landMessage(3);
          }
          return result;
        },
        { step: "initialize", name },
      );
      try {
        await h.sendText("/archive 1", { userId: user });
      } finally {
        h.doc.middlewareStack.remove(name);
      }
      expect(pending).toBe(false);
      expect(last()).toContain(`Archived session ${sessionId.slice(0, 8)}`);
      expect(await storedConversation()).toEqual(["hello", "You said: hello", "late"]);
      expect(await h.sessions.listSessions(user)).toEqual([]);
    });
  });

  it("two /archive commands for one session at once: one archives it, the other is told, nothing is lost", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("only once", { userId: user });
    const [session] = await h.sessions.listSessions(user);
    await Promise.all([h.sendText("/archive 1", { userId: user }), h.sendText("/archive 1", { userId: user })]);
    const replies = h.repliesTo(user).slice(-2);
    expect(replies.filter((r) => r.startsWith(`Archived session ${session!.sessionId.slice(0, 8)}`))).toHaveLength(1);
    expect(replies.filter((r) => /is being archived right now|is no longer there/.test(r))).toHaveLength(1);
    expect((await h.archives.list(user)).map((a) => a.sessionId)).toEqual([session!.sessionId]);
    expect(((await archiveJson(user, session!.sessionId)).conversation as unknown[]).length).toBe(2);
    expect(await h.sessions.listSessions(user)).toEqual([]);
  });

  it("a session another /archive holds is refused until that claim's lease has run out", async () => {
    await h.sendText("/newsession 1", { userId: user });
    const [session] = await h.sessions.listSessions(user);
    expect(await h.sessions.archiving.claim(user, session!.sessionId, "update:elsewhere", 60_000)).toBe("claimed");
    await h.sendText("/archive 1", { userId: user });
    expect(last()).toContain(`Session ${session!.sessionId.slice(0, 8)} is being archived right now`);
    expect(await h.archives.list(user)).toEqual([]);
    expect(await h.sessions.listSessions(user)).toHaveLength(1);

    // The holder died: once its lease has passed, the session can be archived.
    const later = h.createBotHandler({}, { now: () => Date.now() + 61_000 });
    await h.sendText("/archive 1", { userId: user, handler: later });
    expect(last()).toContain(`Archived session ${session!.sessionId.slice(0, 8)}`);
  });

  it("/listarchives numbers archives with short id, model, message count, size and date in a stable order", async () => {
    for (const model of [1, 2, 1]) {
      await h.sendText(`/newsession ${model}`, { userId: user });
      await h.sendText(`chat with ${model}`, { userId: user });
    }
    for (let i = 0; i < 3; i++) await h.sendText("/archive 1", { userId: user });
    await h.sendText("/listarchives", { userId: user });
    const first = last();
    expect(first.split("\n").filter((l) => /^\d\. /.test(l))).toHaveLength(3);
    expect(first).toMatch(/^1\. [0-9a-f]{8} · \S+ · 2 messages · \d+ B · \d{4}-\d\d-\d\d \d\d:\d\d UTC$/m);
    await h.sendText("/listarchives", { userId: user });
    expect(last()).toBe(first);
  });

  it("/listarchives with no archives says how to make one", async () => {
    await h.sendText("/listarchives", { userId: user });
    expect(last()).toContain("You have no archives yet");
  });

  it("/export <n> sends the stored JSON as archive_<id8>_<model>.json with a caption", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("export me", { userId: user });
    const [session] = await h.sessions.listSessions(user);
    await h.sendText("/archive 1", { userId: user });
    await h.sendText("/export 1", { userId: user });
    const [document] = h.telegram.documentsIn(user);
    const model = h.config.modelNames[0]!.replace(/[^A-Za-z0-9._-]/g, "_");
    expect(document?.filename).toBe(`archive_${session!.sessionId.slice(0, 8)}_${model}.json`);
    expect(document?.caption).toContain(`Archive ${session!.sessionId.slice(0, 8)}`);
    const stored = await h.archives.get(archiveKey(user, session!.sessionId));
    expect(Buffer.compare(document!.data, Buffer.from(stored))).toBe(0);
  });

  it("/export with a bad number gets a usage message", async () => {
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("/archive 1", { userId: user });
    await h.sendText("/export 7", { userId: user });
    expect(last()).toContain("Usage: /export <number>");
  });

  it("an exported file imports back as a new archive with the same conversation and import metadata", async () => {
    await h.sendText("/newsession 2", { userId: user });
    await h.sendText("round trip ✓ with émojis 🎉", { userId: user });
    const [session] = await h.sessions.listSessions(user);
    await h.sendText("/archive 1", { userId: user });
    await h.sendText("/export 1", { userId: user });
    const exported = h.telegram.documentsIn(user)[0]!.data;

    const importer = user + 100_000;
    const file = h.telegram.addFile(exported);
    await h.send(documentUpdate(file.file_id, { userId: importer, fileName: "archive.json", fileSize: file.file_size }));
    expect(h.repliesTo(importer).at(-1)).toContain("Imported archive");

    const entries = await h.archives.list(importer);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.sessionId).not.toBe(session!.sessionId);
    const original = JSON.parse(exported.toString("utf8")) as Record<string, unknown>;
    const imported = await archiveJson(importer, entries[0]!.sessionId);
    expect(JSON.stringify(imported.conversation)).toBe(JSON.stringify(original.conversation));
    expect(imported.model_name).toBe(original.model_name);
    expect(imported.user_id).toBe(importer);
    expect(imported.import).toEqual({
      original_user_id: user,
      original_session_id: session!.sessionId,
      imported_at: expect.any(String),
    });
  });

  it("refuses files over 1 MB with a message and stores nothing", async () => {
    const file = h.telegram.addFile(Buffer.alloc(1024 * 1024 + 1, 32));
    await h.send(documentUpdate(file.file_id, { userId: user, fileName: "big.json" }));
    expect(last()).toContain("larger than 1.0 MB");
    expect(await h.archives.list(user)).toEqual([]);
  });

  it("names what is wrong with an invalid archive", async () => {
    const bad = { user_id: "me", session_id: "s", model_name: "m", conversation: [{ role: "robot", content: "x", ts: 1 }], archived_at: "now", archive_version: "2.0" };
    const file = h.telegram.addFile(JSON.stringify(bad));
    await h.send(documentUpdate(file.file_id, { userId: user, fileName: "bad.json" }));
    const text = last();
    expect(text).toContain("not a valid archive");
    expect(text).toContain('is missing "last_message_ts"');
    expect(text).toContain("user_id must be integer");
    expect(text).toContain("conversation/0/role must be one of user, assistant, system");
    expect(text).toContain('archive_version must be "1.0"');
    expect(await h.archives.list(user)).toEqual([]);
  });

  it("says a file that is not JSON is not a valid archive", async () => {
    const file = h.telegram.addFile("not json at all");
    await h.send(documentUpdate(file.file_id, { userId: user, fileName: "x.json" }));
    expect(last()).toContain("the file is not valid UTF-8 JSON");
  });
});

describe("missingSeqs and gapsSettled", () => {
  const message = (seq: number, ts: number) => ({ seq, role: "user" as const, content: String(seq), ts });
  const session = (lastMessageTs: number, messageCount: number) => ({
    userId: 1,
    sessionId: "s",
    modelName: "m",
    isActive: true,
    createdAt: 0,
    lastMessageTs,
    messageCount,
  });
  const now = 10_000_000_000; // epoch ms
  const old = (now - MAX_WRITE_IN_FLIGHT_MS) / 1000 - 1;
  const recent = (now - MAX_WRITE_IN_FLIGHT_MS) / 1000 + 1;

  it("lists the seqs of 1..count that have no message", () => {
    expect(missingSeqs([message(1, 0), message(3, 0)], 4)).toEqual([2, 4]);
    expect(missingSeqs([message(1, 0), message(2, 0)], 2)).toEqual([]);
  });

  it("settles a gap by the next message's time, or the session's last counter update for the newest", () => {
    expect(gapsSettled([message(1, old), message(3, old)], session(recent, 3), [2], now)).toBe(true);
    expect(gapsSettled([message(1, old), message(3, recent)], session(recent, 3), [2], now)).toBe(false);
    expect(gapsSettled([message(1, old)], session(old, 2), [2], now)).toBe(true);
    expect(gapsSettled([message(1, old)], session(recent, 2), [2], now)).toBe(false);
  });
});
