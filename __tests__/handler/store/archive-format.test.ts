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

  it("keeps a session's system prompt (\"\" when turned off) as the optional system_prompt, through parse and import", async () => {
    for (const prompt of ["You are a pirate.", ""]) {
      const withPrompt = buildArchive({ ...session, systemPrompt: prompt }, [], new Date(0));
      expect(withPrompt.system_prompt).toBe(prompt);
      const parsed = await parseArchive(serialiseArchive(withPrompt));
      expect(parsed.ok && parsed.archive.system_prompt).toBe(prompt);
      expect(importedArchive(withPrompt, 8, "new-id", new Date(0)).system_prompt).toBe(prompt);
    }
    expect("system_prompt" in archive).toBe(false);
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

  it("keeps only the format's fields of a file, wherever it hid others", async () => {
    const file = { ...archive, extra: { deep: [1, 2] }, conversation: [{ role: "user", content: "hi", ts: 10, secret: "x", nested: { a: 1 } }], import: { original_user_id: 1, original_session_id: "o", imported_at: "t", more: true } };
    const result = await parseArchive(new TextEncoder().encode(JSON.stringify(file)));
    expect(result).toEqual({
      ok: true,
      archive: { ...archive, conversation: [{ role: "user", content: "hi", ts: 10 }], import: { original_user_id: 1, original_session_id: "o", imported_at: "t" } },
    });
  });

  it("refuses a schema-valid file whose extra fields nest too deep, before parsing it", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const text = JSON.stringify({ ...archive, extra: "PLACEHOLDER" }).replace('"PLACEHOLDER"', deep);
    const result = await parseArchive(new TextEncoder().encode(text));
    expect(result).toEqual({ ok: false, problems: ["the file is not an archive I can read: it nests deeper than 10 levels"] });
  });

  it("refuses a lone surrogate in a message and a model name too long for S3's metadata, with a clear reason", async () => {
    const lone = JSON.stringify({ ...archive, conversation: [{ role: "user", content: "PLACEHOLDER", ts: 1 }] }).replace("PLACEHOLDER", "bad \\ud800 text".replace("\\\\", "\\"));
    const loneResult = await parseArchive(new TextEncoder().encode(lone));
    expect(loneResult.ok).toBe(false);
    expect(loneResult.ok ? [] : loneResult.problems[0]).toMatch(/lone UTF-16 surrogate/);
    const longModel = await parseArchive(serialiseArchive({ ...archive, model_name: "🦙".repeat(200) }));
    expect(longModel).toEqual({ ok: false, problems: ["model_name is too long to store (S3 keeps at most 2048 bytes of metadata)"] });
  });

  it("serialises compactly, on one line", () => {
    const text = new TextDecoder().decode(serialiseArchive(archive));
    expect(text).toBe(`${JSON.stringify(archive)}\n`);
  });
});
