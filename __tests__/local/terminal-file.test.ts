import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Update } from "@grammyjs/types";
import { ChatUpdateFactory } from "../../local/chat-updates";
import { handleTypedLine, type TypedLineTools } from "../../local/terminal-lines";
import { minimalPdf } from "../support/pdf";

/** `/file <path> [question]` in the terminal chat: a local file sent as Telegram sends a document with a caption. */
describe("the terminal chat's /file", () => {
  let cwd: string;
  let sent: Update[];
  let printed: string;
  let uploaded: { name: string; bytes: number }[];
  const tools = (): TypedLineTools => ({
    updates: new ChatUpdateFactory({ id: 7, firstName: "Local" }, 1_000, () => 0),
    buttons: () => undefined,
    send: async (update) => {
      sent.push(update);
    },
    print: (text) => {
      printed += text;
    },
    uploadFile: (data, fileName) => {
      uploaded.push({ name: fileName, bytes: data.length });
      return `file-${uploaded.length}`;
    },
    cwd,
  });

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), "terminal-file-"));
    sent = [];
    printed = "";
    uploaded = [];
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it("sends a PDF as a document with the question as its caption", async () => {
    const pdf = minimalPdf(["Hello"]);
    writeFileSync(join(cwd, "report.pdf"), pdf);
    await handleTypedLine("/file report.pdf what does it say?", tools());
    expect(uploaded).toEqual([{ name: "report.pdf", bytes: pdf.length }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.message).toMatchObject({
      document: { file_id: "file-1", file_name: "report.pdf", mime_type: "application/pdf", file_size: pdf.length },
      caption: "what does it say?",
    });
    expect(printed).toBe(`(sending report.pdf, ${pdf.length} bytes, as a document with your question)\n`);
  });

  it("without a question, sends the document alone", async () => {
    writeFileSync(join(cwd, "notes.md"), "# Notes");
    await handleTypedLine("/file notes.md", tools());
    expect(sent[0]!.message).toMatchObject({ document: { file_name: "notes.md", mime_type: "text/markdown" } });
    expect(sent[0]!.message).not.toHaveProperty("caption");
  });

  it("says how to use it, or that the file cannot be read, and sends nothing", async () => {
    await handleTypedLine("/file", tools());
    await handleTypedLine("/file missing.txt why?", tools());
    expect(printed).toBe("usage: /file <path to a text file or PDF> [question]\ncannot read missing.txt: ENOENT\n");
    expect(sent).toEqual([]);
  });
});
