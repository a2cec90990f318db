import { FILE_SHARE_OF_CONTEXT } from "../../../handler/chat/document";
import { ACCEPTED_FILES } from "../../../handler/format/document-text";
import { echoReply } from "../../../local/stand-ins/ollama";
import { useHarness } from "../../support/handler-harness";
import { minimalPdf } from "../../support/pdf";
import { documentUpdate, textUpdate, TEST_USER_ID, type DocumentOptions } from "../../support/updates";

/** Documents through the handler: read, marked with their name, cut to the budget, and answered like any message. */
describe("documents (through the handler)", () => {
  const h = useHarness();
  let user = TEST_USER_ID + 95_000;
  const replies = () => h.repliesTo(user);
  const last = () => replies().at(-1) ?? "";
  const chats = () => h.ollama.chatRequests();
  const getFiles = () => h.telegram.callsTo("getFile").length;

  beforeEach(() => {
    user += 1;
  });

  /** The update of `content` sent as a file named `fileName`, registered with the Telegram stand-in. */
  const fileUpdate = (content: Buffer | string, fileName: string, options: Omit<DocumentOptions, "fileName"> = {}) => {
    const file = h.telegram.addFile(content);
    return documentUpdate(file.file_id, { userId: user, fileName, mimeType: "application/octet-stream", fileSize: file.file_size, ...options });
  };
  const sendFile = (content: Buffer | string, fileName: string, options: Omit<DocumentOptions, "fileName"> = {}) => h.send(fileUpdate(content, fileName, options));

  it("a text file with a caption: the model gets the marked file text and the question, and both are stored", async () => {
    await sendFile("line one\r\nline two\n", "notes.txt", { caption: " what is line two? " });
    const content = "[file notes.txt]\nline one\nline two\n[/file]\n\nwhat is line two?";
    expect(chats().at(-1)!.messages.at(-1)).toEqual({ role: "user", content });
    expect(replies()).toEqual([`You said: ${content}`]);
    expect(await h.conversationOf(user)).toEqual([`user:${content}`, `assistant:You said: ${content}`]);
  });

  it("a Markdown file is read as text", async () => {
    await sendFile("# Plan\n\n- ship *it*\n", "plan.md", { mimeType: "text/markdown", caption: "summarise" });
    expect(chats().at(-1)!.messages.at(-1)!.content).toBe("[file plan.md]\n# Plan\n\n- ship *it*\n[/file]\n\nsummarise");
  });

  it("a PDF made by the test: its text layer, page by page", async () => {
    await sendFile(minimalPdf(["Quarterly report\nRevenue grew 12%", "Page two (costs)"]), "report.pdf", { mimeType: "application/pdf", caption: "how much did revenue grow?" });
    expect(chats().at(-1)!.messages.at(-1)!.content).toBe("[file report.pdf]\nQuarterly report\nRevenue grew 12%\n\nPage two (costs)\n[/file]\n\nhow much did revenue grow?");
    expect(last()).toContain("Revenue grew 12%");
  });

  it("a scanned PDF (no text layer) is refused with a sentence saying so; nothing is stored or asked", async () => {
    const asked = chats().length;
    await sendFile(minimalPdf([null, null]), "scan.pdf", { mimeType: "application/pdf", caption: "what does it say?" });
    expect(replies()).toEqual([
      "I found no text in scan.pdf: it looks scanned (its pages are pictures), and I read only a PDF's text layer. Send one with selectable text, or a page as a photo.",
    ]);
    expect(chats()).toHaveLength(asked);
    expect(await h.conversationOf(user)).toEqual([]);
  });

  it("a file longer than its share of the budget: cut, the note says which part the model sees, and the stored message is the cut one", async () => {
    const handler = h.createBotHandler({ contextCharBudget: 1_000 });
    const text = Array.from({ length: 500 }, (_, i) => `row ${i}`).join("\n");
    await h.send(fileUpdate(text, "data.csv", { caption: "which rows?" }), { handler });

    const sent = chats().at(-1)!.messages.at(-1)!.content;
    const room = 1_000 * FILE_SHARE_OF_CONTEXT;
    expect(sent.length).toBe(room);
    expect(sent.startsWith("[file data.csv]\nrow 0\nrow 1\n")).toBe(true);
    expect(sent.endsWith("\n[/file]\n\nwhich rows?")).toBe(true);
    const shown = room - "[file data.csv]\n".length - "\n[/file]\n\nwhich rows?".length;
    expect(replies()).toEqual([`data.csv is too long to read whole: the model sees its first ${shown} of ${text.length.toLocaleString("en-US")} characters.`, `You said: ${sent}`]);
    expect((await h.conversationOf(user))[0]).toBe(`user:${sent}`);
  });

  it("a long PDF is read only as far as fits, and the note names the last page the model sees", async () => {
    const handler = h.createBotHandler({ contextCharBudget: 1_000 });
    const pages = Array.from({ length: 40 }, (_, i) => [`Page ${i + 1}`, ...Array<string>(5).fill("lorem ipsum dolor sit amet, consectetur")].join("\n"));
    await h.send(fileUpdate(minimalPdf(pages), "book.pdf", { caption: "what is it about?" }), { handler });
    const sent = chats().at(-1)!.messages.at(-1)!.content;
    expect(sent.length).toBe(750);
    expect(sent).toContain("Page 4\n");
    expect(sent).not.toContain("Page 5");
    const shown = 750 - "[file book.pdf]\n".length - "\n[/file]\n\nwhat is it about?".length;
    expect(replies()[0]).toBe(`book.pdf is too long to read whole: the model sees its first ${shown} characters, up to page 4 of 40.`);
  });

  it("a later question about a cut file still has it, when the answer left room", async () => {
    h.ollama.setReply(() => "ok");
    try {
      const handler = h.createBotHandler({ contextCharBudget: 1_000 });
      await h.send(fileUpdate("x".repeat(5_000), "long.txt", { caption: "q1" }), { handler });
      await h.send(textUpdate("q2", { userId: user }), { handler });
      const messages = chats().at(-1)!.messages.map((m) => m.content);
      expect(messages).toHaveLength(3);
      expect(messages[0]!.startsWith("[file long.txt]\nxxx")).toBe(true);
      expect(messages.slice(1)).toEqual(["ok", "q2"]);
    } finally {
      h.ollama.setReply(echoReply);
    }
  });

  it("a file over DOCUMENT_MAX_BYTES is refused before any getFile or download", async () => {
    const handler = h.createBotHandler({ maxDocumentBytes: 2_048 });
    const before = getFiles();
    await h.send(fileUpdate("a".repeat(3_000), "big.txt", { caption: "read it" }), { handler });
    expect(replies()).toEqual(["big.txt is larger than 2.0 KB, the most I read. Send a smaller file, or paste the part you mean."]);
    expect(getFiles()).toBe(before);
  });

  it("a file whose size Telegram did not announce is refused once getFile shows it too large, before the download", async () => {
    const handler = h.createBotHandler({ maxDocumentBytes: 2_048 });
    await h.send(fileUpdate("a".repeat(3_000), "big.txt", { caption: "read it", fileSize: undefined }), { handler });
    expect(last()).toBe("big.txt is larger than 2.0 KB, the most I read. Send a smaller file, or paste the part you mean.");
    expect(await h.conversationOf(user)).toEqual([]);
  });

  it.each([
    ["archive.zip", "application/zip", ""],
    ["photo.jpg", "image/jpeg", " To ask about a picture, send it as a photo, not as a file."],
  ])("a file of another kind (%s) is refused naming what is accepted, without downloading it", async (name, mimeType, extra) => {
    const before = getFiles();
    await sendFile(Buffer.from([0x50, 0x4b, 3, 4]), name, { mimeType, caption: "what is in it?" });
    expect(replies()).toEqual([`I can read ${ACCEPTED_FILES}. ${name} is not one of those.${extra}`]);
    expect(getFiles()).toBe(before);
  });

  it("a binary file with a text extension is refused as not UTF-8 text", async () => {
    await sendFile(Buffer.from([0x68, 0x69, 0x00, 0xff, 0xfe]), "notes.txt", { caption: "read" });
    expect(last()).toBe("I could not read notes.txt as text: it is not UTF-8 (a binary file, or text in another encoding). Save it as UTF-8 and send it again.");
    expect(await h.conversationOf(user)).toEqual([]);
  });

  it("JSON: an archive is still imported, with or without a caption; other JSON with a caption is read", async () => {
    await h.sendText("remember this", { userId: user });
    await h.sendText("/archive 1", { userId: user });
    await h.sendText("/export 1", { userId: user });
    const exported = h.telegram.documentsIn(user)[0]!.data;
    await sendFile(exported, "archive.json", { mimeType: "application/json" });
    expect(last()).toContain("Imported archive");
    await sendFile(exported, "archive.json", { mimeType: "application/json", caption: "Session archive" });
    expect(last()).toContain("Imported archive");
    expect(await h.archives.list(user)).toHaveLength(3);

    await sendFile('{"name":"cloud-ai","version":"0.1.0"}', "package.json", { mimeType: "application/json", caption: "which version?" });
    expect(chats().at(-1)!.messages.at(-1)!.content).toBe('[file package.json]\n{"name":"cloud-ai","version":"0.1.0"}\n[/file]\n\nwhich version?');
  });

  it("a file without a caption is kept for the next message, which gets it in its context; /export carries it and imports back", async () => {
    const asked = chats().length;
    await sendFile("The launch is on Tuesday.", "memo.txt");
    expect(replies()).toEqual(["I read memo.txt (25 characters). Ask your question about it in your next message."]);
    expect(chats()).toHaveLength(asked);

    await h.sendText("when is the launch?", { userId: user });
    const file = "[file memo.txt]\nThe launch is on Tuesday.\n[/file]";
    expect(chats().at(-1)!.messages.map((m) => m.content)).toEqual([file, "when is the launch?"]);
    expect(await h.conversationOf(user)).toEqual([`user:${file}`, "user:when is the launch?", "assistant:You said: when is the launch?"]);

    await h.sendText("/archive 1", { userId: user });
    await h.sendText("/export 1", { userId: user });
    const exported = h.telegram.documentsIn(user).at(-1)!.data;
    const archive = JSON.parse(exported.toString("utf8")) as { archive_version: string; conversation: { content: string }[] };
    expect(archive.archive_version).toBe("1.0");
    expect(archive.conversation[0]!.content).toBe(file);
    await h.send(documentUpdate(h.telegram.addFile(exported).file_id, { userId: user + 500_000, fileName: "archive.json" }));
    expect(h.repliesTo(user + 500_000).at(-1)).toContain("Imported archive");
  });

  it("counts a file with its question as a chat message, refused at the limit like any other", async () => {
    const handler = h.createBotHandler({ userLimits: { messagesPerHour: 1, messagesPerDay: 0, importsPerDay: 0 } });
    await h.send(textUpdate("first", { userId: user }), { handler });
    const asked = chats().length;
    await h.send(fileUpdate("text", "a.txt", { caption: "and this?" }), { handler });
    expect(last()).toContain("You reached the limit of 1 message per hour.");
    expect(chats()).toHaveLength(asked);
  });

  describe("exactly once across a redelivery", () => {
    it("a file question whose answer Telegram refused: the redelivery answers once and stores each message once", async () => {
      const update = fileUpdate("alpha", "a.txt", { caption: "what letter?" });
      h.telegram.failNext("sendMessage", { errorCode: 500, description: "Internal Server Error" });
      expect((await h.send(update)).statusCode).toBe(503);
      expect((await h.send(update)).statusCode).toBe(200);
      expect((await h.send(update)).statusCode).toBe(200);
      const content = "[file a.txt]\nalpha\n[/file]\n\nwhat letter?";
      expect(replies()).toEqual([`You said: ${content}`]);
      expect(await h.conversationOf(user)).toEqual([`user:${content}`, `assistant:You said: ${content}`]);
    });

    it("a cut file's note and answer each reach the chat once", async () => {
      const handler = h.createBotHandler({ contextCharBudget: 200 });
      const update = fileUpdate("y".repeat(1_000), "y.txt", { caption: "how many?" });
      h.telegram.failNext("sendMessage", { errorCode: 502, description: "Bad Gateway" });
      expect((await h.send(update, { handler })).statusCode).toBe(503);
      expect((await h.send(update, { handler })).statusCode).toBe(200);
      expect(replies().filter((r) => r.startsWith("y.txt is too long"))).toHaveLength(1);
      expect(replies().filter((r) => r.startsWith("You said:"))).toHaveLength(1);
      expect((await h.conversationOf(user)).map((m) => m.split(":")[0])).toEqual(["user", "assistant"]);
    });

    it("a file without a caption whose reply Telegram refused: stored once, told once", async () => {
      const update = fileUpdate("beta", "b.txt");
      h.telegram.failNext("sendMessage", { errorCode: 500, description: "Internal Server Error" });
      expect((await h.send(update)).statusCode).toBe(503);
      expect((await h.send(update)).statusCode).toBe(200);
      expect(replies()).toEqual(["I read b.txt (4 characters). Ask your question about it in your next message."]);
      expect(await h.conversationOf(user)).toEqual(["user:[file b.txt]\nbeta\n[/file]"]);
    });
  });
});
