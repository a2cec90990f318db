import { buildArchive, exportFileName, importedArchive, parseArchive, serialiseArchive } from "../../../handler/store/archive-format";
import type { Session } from "../../../handler/store/session-items";

const session: Session = { userId: 7, sessionId: "0123456789abcdef", modelName: "qwen2.5:1.5b-instruct-q4_K_M", isActive: true, createdAt: 0, lastMessageTs: 5, messageCount: 2 };
const archive = buildArchive(
  session,
  [
    { seq: 1, role: "user", content: "hi", ts: 10 },
    { seq: 2, role: "assistant", content: "hello", ts: 11 },
  ],
  new Date("2025-01-20T12:00:00Z"),
);

describe("archive format", () => {
  it("builds the seed's format", () => {
    expect(archive).toEqual({
      user_id: 7,
      session_id: "0123456789abcdef",
      model_name: "qwen2.5:1.5b-instruct-q4_K_M",
      conversation: [
        { role: "user", content: "hi", ts: 10 },
        { role: "assistant", content: "hello", ts: 11 },
      ],
      last_message_ts: 11,
      archived_at: "2025-01-20T12:00:00.000Z",
      archive_version: "1.0",
    });
  });

  it("parses what it serialises", async () => {
    await expect(parseArchive(serialiseArchive(archive))).resolves.toEqual({ ok: true, archive });
  });

  it("names each problem of an invalid archive", async () => {
    const result = await parseArchive(new TextEncoder().encode(JSON.stringify({ ...archive, conversation: [{ role: "user", ts: "x" }], archive_version: "9" })));
    expect(result).toEqual({
      ok: false,
      problems: expect.arrayContaining(['conversation/0 is missing "content"', "conversation/0/ts must be number", 'archive_version must be "1.0"']),
    });
  });

  it("rejects bytes that are not UTF-8 JSON", async () => {
    await expect(parseArchive(new Uint8Array([0xff, 0xfe]))).resolves.toEqual({ ok: false, problems: ["the file is not valid UTF-8 JSON"] });
  });

  it("an imported archive keeps the conversation, gets the new owner and id, and records its origin", () => {
    const imported = importedArchive(archive, 99, "new-id", new Date("2025-02-01T00:00:00Z"));
    expect(imported.conversation).toBe(archive.conversation);
    expect(imported).toEqual(expect.objectContaining({ user_id: 99, session_id: "new-id", model_name: archive.model_name }));
    expect(imported.import).toEqual({ original_user_id: 7, original_session_id: "0123456789abcdef", imported_at: "2025-02-01T00:00:00.000Z" });
    const again = importedArchive(imported, 100, "third", new Date("2025-03-01T00:00:00Z"));
    expect(again.import?.original_session_id).toBe("0123456789abcdef");
  });

  it("names export files archive_<id8>_<model>.json with unsafe characters replaced", () => {
    expect(exportFileName(session.sessionId, session.modelName)).toBe("archive_01234567_qwen2.5_1.5b-instruct-q4_K_M.json");
  });
});
