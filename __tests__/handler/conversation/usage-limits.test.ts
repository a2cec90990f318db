import { usageSk } from "../../../handler/store/table-layout";
import { useHarness } from "../../support/handler-harness";
import { documentUpdate, resetUpdateIds, textUpdate, TEST_USER_ID } from "../../support/updates";

describe("per-user limits in the handler", () => {
  const h = useHarness({ config: { userLimits: { messagesPerHour: 2, messagesPerDay: 3, importsPerDay: 1 } }, deps: { now: () => clock } });
  let user = TEST_USER_ID + 90_000;
  // 14:35 UTC: the hour resets at 15:00, the day at midnight.
  let clock = Date.UTC(2026, 11, 6, 14, 35);
  const last = () => h.repliesTo(user).at(-1) ?? "";
  const usage = async (kind: string) =>
    (await h.doc.get({ TableName: h.config.tableName, Key: { pk: user, sk: usageSk(kind, "2026-12-06") } })).Item;

  beforeEach(() => {
    resetUpdateIds();
    user += 1;
    clock = Date.UTC(2026, 11, 6, 14, 35);
  });

  it("answers up to the hour's limit, then says which limit and when it resets, and neither asks the model nor stores the message", async () => {
    await h.sendText("one", { userId: user });
    await h.sendText("two", { userId: user });
    const asked = h.ollama.chatRequests().length;
    expect((await h.sendText("three", { userId: user })).statusCode).toBe(200);
    expect(last()).toContain("You reached the limit of 2 messages per hour.");
    expect(last()).toContain("again at 15:00 UTC (in 25 min)");
    expect(h.ollama.chatRequests().length).toBe(asked);
    expect(await h.conversationOf(user)).toEqual(["user:one", "assistant:You said: one", "user:two", "assistant:You said: two"]);
    expect(h.logEntries()).toContainEqual(expect.objectContaining({ action: "check_limit", limit_kind: "chat", window: "hour", user_id: user }));
  });

  it("then the day's limit, which resets at midnight UTC", async () => {
    await h.sendText("one", { userId: user });
    await h.sendText("two", { userId: user });
    clock = Date.UTC(2026, 11, 6, 15, 10);
    await h.sendText("three", { userId: user });
    expect(last()).toBe("You said: three");
    await h.sendText("four", { userId: user });
    expect(last()).toContain("limit of 3 messages per day");
    expect(last()).toContain("again at 00:00 UTC (in 8 h 50 min)");
  });

  it("counts an update handled again (its answer could not be delivered the first time) once", async () => {
    const update = textUpdate("redelivered", { userId: user });
    h.telegram.failNext("sendMessage", { errorCode: 500, description: "Internal Server Error" });
    expect((await h.send(update)).statusCode).toBe(503);
    expect((await h.send(update)).statusCode).toBe(200);
    expect(h.repliesTo(user)).toEqual(["You said: redelivered"]);
    expect((await usage("chat"))?.day_count).toBe(1);
    await h.sendText("next", { userId: user });
    expect(last()).toBe("You said: next");
  });

  it("limits imports per day and says so; the file is not imported", async () => {
    const archive = JSON.stringify({
      user_id: user,
      session_id: "0123456789abcdef",
      model_name: h.config.modelNames[0],
      conversation: [{ role: "user", content: "hi", ts: 10 }],
      last_message_ts: 10,
      archived_at: "2026-12-01T10:00:00.000Z",
      archive_version: "1.0",
    });
    for (const name of ["a.json", "b.json"]) {
      const file = h.telegram.addFile(Buffer.from(archive));
      await h.send(documentUpdate(file.file_id, { userId: user, fileName: name }));
    }
    expect(last()).toContain("You reached the limit of 1 import per day.");
    expect(last()).toContain("This file was not imported.");
    expect((await h.archives.list(user)).length).toBe(1);
  });

  it("limits nothing with limits of 0, and still counts the messages and their tokens (for /usage)", async () => {
    const handler = h.createBotHandler({ userLimits: { messagesPerHour: 0, messagesPerDay: 0, importsPerDay: 0 } });
    for (const text of ["a", "b", "c", "d"]) await h.sendText(text, { userId: user, handler });
    expect(last()).toBe("You said: d");
    expect(await usage("chat")).toEqual(expect.objectContaining({ day_count: 4, day_in: expect.any(Number), day_out: expect.any(Number) }));
  });
});
