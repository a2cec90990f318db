import { archiveKey } from "../../handler/store/archives";
import { injectFault, serviceError, throttlingError, type InjectedFault } from "../support/aws-faults";
import { useHarness } from "../support/handler-harness";
import { TEST_USER_ID } from "../support/updates";

describe("S3 faults while archiving", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 700_000;
  let fault: InjectedFault | undefined;
  let sessionId: string;
  const last = () => h.repliesTo(user).at(-1) ?? "";
  const messagesOf = async (id: string) => (await h.sessions.allMessages(user, id)).map((m) => `${m.role}:${m.content}`);
  const objectKeys = async () => (await h.archives.list(user)).map((e) => e.key);

  beforeEach(async () => {
    user += 1;
    await h.sendText("keep me", { userId: user });
    await h.sendText("and me", { userId: user });
    sessionId = (await h.sessions.getActive(user)).session!.sessionId;
  });
  afterEach(() => {
    fault?.remove();
    fault = undefined;
  });

  const conversation = ["user:keep me", "assistant:You said: keep me", "user:and me", "assistant:You said: and me"];

  it("PutObject failing: the session stays in DynamoDB with all its messages and the user is told", async () => {
    const s3 = await h.s3();
    fault = injectFault(s3, { operation: "PutObject", error: () => serviceError("AccessDenied", 403, "Access Denied") });
    const result = await h.sendText("/archive 1", { userId: user });
    expect(result.statusCode).toBe(200);
    expect(last()).toContain("Could not write the archive to S3");
    expect(last()).toContain("was kept");
    expect(await messagesOf(sessionId)).toEqual(conversation);
    expect((await h.sessions.listSessions(user)).map((s) => s.sessionId)).toEqual([sessionId]);
    expect(await objectKeys()).toEqual([]);
  });

  it("the bucket missing: the session stays with all its messages and the user is told", async () => {
    const handler = h.createBotHandler({ bucketName: "no-such-bucket-here" });
    const result = await h.sendText("/archive 1", { userId: user, handler });
    expect(result.statusCode).toBe(200);
    expect(last()).toContain("Could not write the archive to S3");
    expect(await messagesOf(sessionId)).toEqual(conversation);
    expect((await h.sessions.getActive(user)).activeSessionId).toBe(sessionId);
  });

  it("after the failure, archiving again works and moves the whole conversation to S3", async () => {
    const s3 = await h.s3();
    fault = injectFault(s3, { operation: "PutObject", times: 1, error: () => serviceError("AccessDenied", 403) });
    await h.sendText("/archive 1", { userId: user });
    await h.sendText("/archive 1", { userId: user });
    expect(last()).toContain("Archived session");
    const stored = JSON.parse(Buffer.from(await h.archives.get(archiveKey(user, sessionId))).toString("utf8")) as { conversation: { role: string; content: string }[] };
    expect(stored.conversation.map((m) => `${m.role}:${m.content}`)).toEqual(conversation);
    expect(await h.sessions.listSessions(user)).toEqual([]);
  });

  it("the session item's delete failing after a confirmed write: the archive just written is withdrawn, the session still listed whole, the user told", async () => {
    fault = injectFault(h.doc, { operation: "DeleteItem", error: throttlingError });
    const result = await h.sendText("/archive 1", { userId: user });
    expect(result.statusCode).toBe(200);
    expect(fault.attempts()).toBe(await h.doc.client.config.maxAttempts());
    fault.remove();
    expect(await objectKeys()).toEqual([]);
    expect((await h.sessions.listSessions(user)).map((s) => s.sessionId)).toEqual([sessionId]);
    expect(await messagesOf(sessionId)).toEqual(conversation);
    expect(last()).toContain("so I kept it as it is and did not archive it");
  }, 20_000);

  it("the session item's delete and the withdrawal both failing: the copy stays, the user is told what today's message says", async () => {
    fault = injectFault(h.doc, { operation: "DeleteItem", error: throttlingError });
    const s3Fault = injectFault(await h.s3(), { operation: "DeleteObject", error: () => serviceError("AccessDenied", 403) });
    try {
      await h.sendText("/archive 1", { userId: user });
    } finally {
      s3Fault.remove();
    }
    fault.remove();
    expect(s3Fault.failures()).toBeGreaterThan(0);
    expect(await objectKeys()).toEqual([archiveKey(user, sessionId)]);
    expect((await h.sessions.listSessions(user)).map((s) => s.sessionId)).toEqual([sessionId]);
    expect(last()).toContain("saved to the archive");
    expect(h.logs.some((l) => l.includes("could not withdraw the archive"))).toBe(true);
  }, 20_000);

  it("the session changing between the write and the delete: the archive just written is withdrawn and the session kept", async () => {
    fault = injectFault(h.doc, { operation: "DeleteItem", times: 1, error: () => serviceError("ConditionalCheckFailedException", 400) });
    await h.sendText("/archive 1", { userId: user });
    fault.remove();
    expect(last()).toContain("got a new message while I archived it, so I kept it");
    expect(await objectKeys()).toEqual([]);
    expect(await messagesOf(sessionId)).toEqual(conversation);
    await h.sendText("/archive 1", { userId: user });
    expect(last()).toContain("Archived session");
    expect(await objectKeys()).toEqual([archiveKey(user, sessionId)]);
  });

  it("the withdrawal failing on the changed-session path: logged, the user told the same as before", async () => {
    fault = injectFault(h.doc, { operation: "DeleteItem", times: 1, error: () => serviceError("ConditionalCheckFailedException", 400) });
    const s3Fault = injectFault(await h.s3(), { operation: "DeleteObject", error: () => serviceError("AccessDenied", 403) });
    try {
      await h.sendText("/archive 1", { userId: user });
    } finally {
      s3Fault.remove();
    }
    expect(last()).toContain("got a new message while I archived it, so I kept it");
    expect(await messagesOf(sessionId)).toEqual(conversation);
    expect(h.logs.some((l) => l.includes("could not withdraw the archive"))).toBe(true);
  });

  it("the session removed by someone else before our conditional delete: the archive in S3 is kept, not withdrawn", async () => {
    let raced = false;
    const name = "otherArchiveWins";
    h.doc.middlewareStack.add(
      (next, context) => async (args) => {
        if (!raced && /^Delete(Item)?Command$/.test(context.commandName ?? "")) {
          raced = true;
          await h.sessions.deleteSession(user, sessionId);
        }
        return next(args);
      },
      { step: "initialize", name },
    );
    try {
      await h.sendText("/archive 1", { userId: user });
    } finally {
      h.doc.middlewareStack.remove(name);
    }
    expect(raced).toBe(true);
    expect(last()).toContain("was removed while I archived it");
    expect(await objectKeys()).toEqual([archiveKey(user, sessionId)]);
  });

  it("the messages' delete failing after the session item went: the archive holds the whole conversation, the user is told, the bot goes on", async () => {
    fault = injectFault(h.doc, { operation: "BatchWriteItem", error: throttlingError });
    const result = await h.sendText("/archive 1", { userId: user });
    expect(result.statusCode).toBe(200);
    fault.remove();
    expect(last()).toContain("saved to the archive");
    const stored = JSON.parse(Buffer.from(await h.archives.get(archiveKey(user, sessionId))).toString("utf8")) as { conversation: { role: string; content: string }[] };
    expect(stored.conversation.map((m) => `${m.role}:${m.content}`)).toEqual(conversation);
    await h.sendText("still there?", { userId: user });
    expect(last()).toBe("You said: still there?");
  }, 20_000);
});
