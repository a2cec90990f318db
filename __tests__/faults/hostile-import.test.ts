import { proxyEventFromUpdate } from "../../local/lambda-event";
import { buildArchive } from "../../handler/store/archive-format";
import { runFunction } from "../support/function-process";
import { useHarness } from "../support/handler-harness";
import { TEST_SECRET_TOKEN, documentUpdate } from "../support/updates";

/**
 * A hostile archive file: schema-valid, 1 MB, with extra fields nested hundreds of thousands
 * deep. Sent to the real entry point in a process whose heap is limited to 180 MB (a small
 * Lambda), it gets a clear refusal and the process answers normally.
 */
describe("a hostile import file", () => {
  const h = useHarness();

  it("in a 180 MB heap: refused with a clear reason, and the function returns normally", async () => {
    const userId = 70_001;
    const archive = buildArchive(
      { userId, sessionId: "0123456789abcdef", modelName: "llama3.2:1b", isActive: true, createdAt: 0, lastMessageTs: 1, messageCount: 1 },
      [{ seq: 1, role: "user", content: "hi", ts: 1 }],
      new Date(0),
    );
    const depth = 500_000;
    const text = JSON.stringify({ ...archive, extra: "PLACEHOLDER" }).replace('"PLACEHOLDER"', `${"[".repeat(depth)}${"]".repeat(depth)}`);
    expect(text.length).toBeGreaterThan(1_000_000);
    const file = h.telegram.addFile(Buffer.from(text));
    const event = proxyEventFromUpdate(documentUpdate(file.file_id, { userId, fileName: "archive.json" }), { secretToken: TEST_SECRET_TOKEN });
    const run = await runFunction(event, { ...h.env, NODE_OPTIONS: "--max-old-space-size=180" }).done;
    expect(run).toEqual({ ended: "returned", result: { statusCode: 200, body: "" } });
    expect(h.repliesTo(userId).at(-1)).toBe("That file is not a valid archive:\n- the file is not an archive I can read: it nests deeper than 10 levels");
    expect(await h.archives.list(userId)).toEqual([]);
  }, 60_000);
});
