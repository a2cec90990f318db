import { createDocumentClient } from "../../../handler/store/aws";
import { configWith } from "../../../handler/config";
import { SessionChangedError } from "../../../handler/store/session-items";
import { SessionStore } from "../../../handler/store/sessions";
import { messageSk } from "../../../handler/store/table-layout";
import { startEmulators, type RunningEmulators } from "../../../local/emulators";

describe("SessionStore", () => {
  let emulators: RunningEmulators;
  let store: SessionStore;
  let doc: ReturnType<typeof createDocumentClient>;
  let user = 7_000;

  beforeAll(async () => {
    emulators = await startEmulators();
    doc = createDocumentClient(
      configWith({ region: emulators.region, dynamodbEndpoint: emulators.dynamodbEndpoint }),
      emulators.credentials,
    );
    store = new SessionStore({ doc, tableName: emulators.tableName });
  });
  afterAll(async () => {
    doc.destroy();
    await emulators.stop();
  });
  beforeEach(() => {
    user += 1;
  });

  it("grants one archiving claim at a time, again to its owner or after its lease, and releases only its owner's", async () => {
    let now = 1_000_000;
    const clocked = new SessionStore({ doc, tableName: emulators.tableName, now: () => now });
    const { sessionId } = await clocked.createSession(user, "m");
    expect(await clocked.archiving.claim(user, sessionId, "update:1", 60_000)).toBe("claimed");
    expect(await clocked.archiving.claim(user, sessionId, "update:2", 60_000)).toBe("busy");
    expect(await clocked.archiving.claim(user, sessionId, "update:1", 60_000)).toBe("claimed"); // a redelivery
    await clocked.archiving.release(user, sessionId, "update:2"); // not its claim: no effect
    expect(await clocked.archiving.claim(user, sessionId, "update:2", 60_000)).toBe("busy");
    now += 60_001;
    expect(await clocked.archiving.claim(user, sessionId, "update:2", 60_000)).toBe("claimed"); // the lease ran out
    await clocked.archiving.release(user, sessionId, "update:2");
    expect(await clocked.archiving.claim(user, sessionId, "update:3", 60_000)).toBe("claimed");
  });

  it("a release after the session was removed leaves no item behind, and a claim then finds it gone", async () => {
    const { sessionId } = await store.createSession(user, "m");
    expect(await store.archiving.claim(user, sessionId, "update:1", 60_000)).toBe("claimed");
    await store.deleteSession(user, sessionId);
    await store.archiving.release(user, sessionId, "update:1");
    expect(await store.getSession(user, sessionId)).toBeUndefined();
    expect(await store.archiving.claim(user, sessionId, "update:2", 60_000)).toBe("gone");
  });

  it("keys messages so they sort by sequence number", () => {
    expect(messageSk("s", 2) < messageSk("s", 10)).toBe(true);
  });

  it("numbers appended messages and reads the newest ones oldest first", async () => {
    const session = await store.createSession(user, "m");
    for (const text of ["a", "b", "c"]) await store.appendMessage(user, session.sessionId, "user", text);
    expect((await store.recentMessages(user, session.sessionId, 2)).map((m) => [m.seq, m.content])).toEqual([
      [2, "b"],
      [3, "c"],
    ]);
  });

  it("refuses to append to a session that no longer exists", async () => {
    const session = await store.createSession(user, "m");
    await store.deleteSession(user, session.sessionId);
    await expect(store.appendMessage(user, session.sessionId, "user", "late")).rejects.toEqual(
      expect.objectContaining({ name: "ConditionalCheckFailedException" }),
    );
  });

  it("reads the profile's active session id in one request, undefined for a new user", async () => {
    expect(await store.getActiveSessionId(user)).toBeUndefined();
    const session = await store.createSession(user, "m");
    expect(await store.getActiveSessionId(user)).toBe(session.sessionId);
  });

  it("appends a message and returns the session item as the append left it", async () => {
    const session = await store.createSession(user, "model-a");
    await store.appendMessage(user, session.sessionId, "user", "first");
    const appended = await store.appendMessageWithSession(user, session.sessionId, "user", "second");
    expect(appended.message).toEqual(expect.objectContaining({ seq: 2, role: "user", content: "second" }));
    expect(appended.session).toEqual(
      expect.objectContaining({ userId: user, sessionId: session.sessionId, modelName: "model-a", isActive: true, messageCount: 2 }),
    );
    expect(appended.session).toEqual(await store.getSession(user, session.sessionId));
  });

  it("refuses to append with the session item to a session that no longer exists, writing no message", async () => {
    const session = await store.createSession(user, "m");
    await store.deleteSession(user, session.sessionId);
    await expect(store.appendMessageWithSession(user, session.sessionId, "user", "late")).rejects.toEqual(
      expect.objectContaining({ name: "ConditionalCheckFailedException" }),
    );
    expect(await store.allMessages(user, session.sessionId)).toEqual([]);
  });

  it("bulk-loads more than 25 messages and deletes them all with the session", async () => {
    const session = await store.createSession(user, "m");
    await store.bulkAppend(user, session.sessionId, Array.from({ length: 60 }, (_, i) => ({ role: "user" as const, content: `m${i}`, ts: i })));
    expect((await store.allMessages(user, session.sessionId)).length).toBe(60);
    await store.deleteSession(user, session.sessionId, 60);
    expect(await store.allMessages(user, session.sessionId)).toEqual([]);
    expect(await store.getSession(user, session.sessionId)).toBeUndefined();
  });

  it("keeps everything when a message arrived after the count was read", async () => {
    const session = await store.createSession(user, "m");
    await store.appendMessage(user, session.sessionId, "user", "one");
    await store.appendMessage(user, session.sessionId, "user", "two");
    await expect(store.deleteSession(user, session.sessionId, 1)).rejects.toBeInstanceOf(SessionChangedError);
    expect((await store.allMessages(user, session.sessionId)).length).toBe(2);
  });

  it("switching keeps exactly one is_active copy, matching the profile", async () => {
    const first = await store.createSession(user, "m");
    const second = await store.createSession(user, "m", first.sessionId);
    await store.activate(user, first.sessionId, second.sessionId);
    const sessions = await store.listSessions(user);
    expect(sessions.filter((s) => s.isActive).map((s) => s.sessionId)).toEqual([first.sessionId]);
    expect((await store.getActive(user)).activeSessionId).toBe(first.sessionId);
  });

  describe("appends keyed by update (a rerun of an update stores nothing twice)", () => {
    it("gives the same seq and one item when the same key is appended again", async () => {
      const session = await store.createSession(user, "m");
      const first = await store.appendMessage(user, session.sessionId, "user", "hello", {}, "101:user");
      const again = await store.appendMessage(user, session.sessionId, "user", "hello", {}, "101:user");
      expect(again.seq).toBe(first.seq);
      expect((await store.allMessages(user, session.sessionId)).map((m) => m.content)).toEqual(["hello"]);
      expect((await store.getSession(user, session.sessionId))?.messageCount).toBe(1);
    });

    it("writes the message item of a rerun whose first attempt died between the counter and the item", async () => {
      const session = await store.createSession(user, "m");
      const first = await store.appendMessage(user, session.sessionId, "user", "lost", {}, "102:user");
      await doc.delete({ TableName: emulators.tableName, Key: { pk: user, sk: messageSk(session.sessionId, first.seq) } });
      const again = await store.appendMessageWithSession(user, session.sessionId, "user", "lost", "102:user");
      expect(again.message.seq).toBe(first.seq);
      expect(again.session.messageCount).toBe(1);
      expect((await store.allMessages(user, session.sessionId)).map((m) => `${m.seq}:${m.content}`)).toEqual([`${first.seq}:lost`]);
    });

    it("appends different keys one after another", async () => {
      const session = await store.createSession(user, "m");
      await store.appendMessage(user, session.sessionId, "user", "q", {}, "103:user");
      await store.appendMessage(user, session.sessionId, "assistant", "a", {}, "103:assistant");
      await store.appendMessage(user, session.sessionId, "user", "q2", {}, "104:user");
      expect((await store.allMessages(user, session.sessionId)).map((m) => `${m.seq}:${m.role}`)).toEqual(["1:user", "2:assistant", "3:user"]);
    });

    it("still fails when the session is gone", async () => {
      const session = await store.createSession(user, "m");
      await store.deleteSession(user, session.sessionId);
      await expect(store.appendMessage(user, session.sessionId, "user", "late", {}, "105:user")).rejects.toEqual(
        expect.objectContaining({ name: "ConditionalCheckFailedException" }),
      );
    });
  });

  it("creating a session with an id that exists makes that session active instead of a second one", async () => {
    const first = await store.createSession(user, "m", undefined, "derived-id-1");
    await store.appendMessage(user, first.sessionId, "user", "kept");
    const again = await store.createSession(user, "m", undefined, "derived-id-1");
    expect(again.sessionId).toBe("derived-id-1");
    expect(again.messageCount).toBe(1);
    expect(await store.listSessions(user)).toHaveLength(1);
    expect(await store.getActiveSessionId(user)).toBe("derived-id-1");
  });
});
