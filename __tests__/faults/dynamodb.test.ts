import { updateSk } from "../../handler/store/table-layout";
import { SESSION_PREFIX } from "../../handler/store/table-layout";
import { injectFault, sortKeyOf, throttlingError, type InjectedFault } from "../support/aws-faults";
import { useHarness } from "../support/handler-harness";
import { textUpdate, TEST_USER_ID } from "../support/updates";

/** The update's claim: the UpdateItem on its mark that returns the journal. */
const isClaim = (input: Record<string, unknown>) => sortKeyOf(input)?.startsWith("UPDATE#") === true && input.ReturnValues === "ALL_NEW";

describe("DynamoDB faults", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 600_000;
  let fault: InjectedFault | undefined;
  const last = () => h.repliesTo(user).at(-1) ?? "";
  const stored = () => h.conversationOf(user);

  beforeEach(async () => {
    user += 1;
    await h.sendText("an earlier message", { userId: user });
  });
  afterEach(() => {
    fault?.remove();
    fault = undefined;
  });

  describe("throttling (ProvisionedThroughputExceededException)", () => {
    it("is retried by the SDK: two throttled attempts of the update's claim, then the update is handled normally", async () => {
      fault = injectFault(h.doc, { operation: "UpdateItem", when: isClaim, times: 2, error: throttlingError });
      const result = await h.sendText("throttled at first", { userId: user });
      expect(result.statusCode).toBe(200);
      expect(fault.attempts()).toBe(3);
      expect(last()).toBe("You said: throttled at first");
      expect(await stored()).toEqual([
        "user:an earlier message",
        "assistant:You said: an earlier message",
        "user:throttled at first",
        "assistant:You said: throttled at first",
      ]);
    }, 20_000);

    it("that outlasts the SDK's retries gets a plain message, asks no model and loses nothing stored", async () => {
      const before = await stored();
      const ollamaCalls = h.ollama.chatRequests().length;
      fault = injectFault(h.doc, { operation: "UpdateItem", when: (input) => sortKeyOf(input)?.startsWith(SESSION_PREFIX) === true, error: throttlingError });
      const result = await h.sendText("while the table is hot", { userId: user });
      expect(result.statusCode).toBe(200);
      // Every attempt the client allows (DynamoDB's default is 4), then the error reaches the handler.
      expect(fault.attempts()).toBe(await h.doc.client.config.maxAttempts());
      expect(last()).toBe("The database is busy right now. Please send that again in a moment.");
      expect(h.ollama.chatRequests().length).toBe(ollamaCalls);
      fault.remove();
      expect(await stored()).toEqual(before);
      const error = h.logEntries().find((e) => e.user_id === user && e.level === "ERROR");
      expect(error).toEqual(expect.objectContaining({ message: "storage request failed", outcome: "failure" }));
    }, 20_000);

    it("on the update's claim gets the same plain message and leaves no mark, so a redelivery is handled", async () => {
      fault = injectFault(h.doc, { operation: "UpdateItem", when: isClaim, error: throttlingError });
      const update = textUpdate("claim me later", { userId: user });
      const result = await h.send(update);
      expect(result.statusCode).toBe(200);
      expect(last()).toBe("The database is busy right now. Please send that again in a moment.");
      fault.remove();
      const mark = await h.doc.get({ TableName: h.config.tableName, Key: { pk: user, sk: updateSk(update.update_id) } });
      expect(mark.Item).toBeUndefined();
      await h.send(update);
      expect(last()).toBe("You said: claim me later");
    }, 20_000);

    it("leaves the bot working: the next message after throttling is answered with the earlier context", async () => {
      fault = injectFault(h.doc, { operation: "Query", error: throttlingError });
      await h.sendText("context read fails", { userId: user });
      expect(last()).toContain("database is busy");
      fault.remove();
      await h.sendText("and now?", { userId: user });
      expect(last()).toBe("You said: and now?");
      const context = h.ollama.chatRequests().at(-1)!.messages.map((m) => m.content);
      expect(context).toEqual(["an earlier message", "You said: an earlier message", "context read fails", "and now?"]);
    }, 20_000);
  });

  describe("the same update delivered twice at the same moment", () => {
    it("has one effect: one stored user message, one model call, one reply", async () => {
      const update = textUpdate("only once please", { userId: user });
      const ollamaBefore = h.ollama.chatRequests().length;
      const repliesBefore = h.repliesTo(user).length;
      const results = await Promise.all([h.send(update), h.send(update)]);
      // One handles it (200); the other found it in progress and asked for a redelivery (503).
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 503]);
      expect(h.ollama.chatRequests().length - ollamaBefore).toBe(1);
      expect(h.repliesTo(user).slice(repliesBefore)).toEqual(["You said: only once please"]);
      expect((await stored()).filter((m) => m === "user:only once please")).toHaveLength(1);
      const duplicate = h.logEntries().find((e) => e.user_id === user && e.message === "duplicate delivery ignored");
      expect(duplicate).toEqual(expect.objectContaining({ found: "in_progress" }));
    });

    it("has one effect for a command too, even with three deliveries racing", async () => {
      const update = textUpdate("/newsession 2", { userId: user });
      await Promise.all([h.send(update), h.send(update), h.send(update)]);
      const sessions = await h.sessions.listSessions(user);
      expect(sessions).toHaveLength(2);
      expect(h.repliesTo(user).filter((r) => r.includes("New session"))).toHaveLength(1);
    });
  });
});
