import {
  cutNoteText,
  decodeText,
  displayName,
  documentKindOf,
  fileKeptText,
  fileMessage,
  FILE_NAME_MAX_CHARS,
  isCut,
  isJsonDocument,
  pdfFileMessage,
  pdfPagesText,
  pdfProblemText,
  tooLargeText,
  unsupportedText,
} from "../../../handler/format/document-text";

describe("documentKindOf", () => {
  it.each([
    ["notes.txt", "text/plain", "text"],
    ["README.md", "application/octet-stream", "text"],
    ["data.CSV", undefined, "text"],
    ["main.ts", "video/mp2t", "text"],
    ["script.py", "text/x-python", "text"],
    ["Dockerfile", undefined, "text"],
    [".gitignore", undefined, "text"],
    ["config.yml", undefined, "text"],
    ["report.pdf", "application/octet-stream", "pdf"],
    ["scan", "application/pdf", "pdf"],
    ["package.json", "application/octet-stream", "json"],
    ["download", "application/json", "json"],
    ["notes", "text/plain", "text"],
    ["feed.atom", "application/xml", "text"],
    ["archive.zip", "application/zip", "unsupported"],
    ["photo.jpg", "image/jpeg", "unsupported"],
    ["blob", undefined, "unsupported"],
    [undefined, undefined, "unsupported"],
  ])("%s (%s) is %s", (name, mime, kind) => {
    expect(documentKindOf(name, mime)).toBe(kind);
  });
});

describe("isJsonDocument", () => {
  it("takes a .json name or the JSON MIME type, as the archive import does", () => {
    expect(isJsonDocument("a.JSON", undefined)).toBe(true);
    expect(isJsonDocument("export", "application/json")).toBe(true);
    expect(isJsonDocument("a.txt", "text/plain")).toBe(false);
    expect(isJsonDocument(undefined, undefined)).toBe(false);
  });
});

describe("displayName", () => {
  it("keeps a name on one line, without the marker's brackets, and at most FILE_NAME_MAX_CHARS", () => {
    expect(displayName("re[port]\n.txt")).toBe("re_port__.txt");
    expect(displayName(undefined)).toBe("the file");
    const long = displayName(`${"é".repeat(150)}.txt`);
    expect([...long]).toHaveLength(FILE_NAME_MAX_CHARS);
    expect(long.endsWith("…")).toBe(true);
  });
});

describe("decodeText", () => {
  const bytes = (...values: number[]) => Uint8Array.from(values);

  it("decodes UTF-8, dropping a byte order mark, making line ends \\n and trimming the end", () => {
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from("a\r\nb\rc ✓ 😀\n\n")]))).toBe("a\nb\nc ✓ 😀");
  });

  it("refuses a NUL byte", () => {
    expect(decodeText(bytes(0x61, 0x00, 0x62))).toBeUndefined();
  });

  it("accepts a stray invalid byte in a long text, and refuses more than a small share of them", () => {
    expect(decodeText(new Uint8Array([...Buffer.from("x".repeat(200)), 0xe9]))).toBe(`${"x".repeat(200)}\uFFFD`);
    expect(decodeText(bytes(0x63, 0x61, 0x66, 0xe9))).toBeUndefined();
    expect(decodeText(new Uint8Array(Array.from({ length: 100 }, (_, i) => 0x80 + (i % 60))))).toBeUndefined();
  });
});

describe("pdfPagesText", () => {
  it("makes runs of spaces one, leaves out empty pages and puts a blank line between pages", () => {
    expect(pdfPagesText(["  Title \n\n\n\nbody   text ", "   ", "next\npage"])).toBe("Title\n\nbody text\n\nnext\npage");
  });
});

describe("fileMessage", () => {
  it("marks the text with the file's name, the question after a blank line", () => {
    const message = fileMessage("a.txt", "hello", "why?", 1_000);
    expect(message).toEqual({ content: "[file a.txt]\nhello\n[/file]\n\nwhy?", shownChars: 5, totalChars: 5 });
    expect(isCut(message)).toBe(false);
  });

  it("without a question, ends with the closing marker", () => {
    expect(fileMessage("a.txt", "hello", "", 1_000).content).toBe("[file a.txt]\nhello\n[/file]");
  });

  it("cuts the text to the room left beside the markers and the question", () => {
    const message = fileMessage("a.txt", "0123456789".repeat(10), "q?", 40);
    expect(message.content).toBe("[file a.txt]\n012345678901234\n[/file]\n\nq?");
    expect(message.content).toHaveLength(40);
    expect(message).toMatchObject({ shownChars: 15, totalChars: 100 });
    expect(isCut(message)).toBe(true);
  });

  it("never cuts inside a surrogate pair", () => {
    const message = fileMessage("e", "a😀b", "", "[file e]\n".length + "\n[/file]".length + 2);
    expect(message.content).toBe("[file e]\na\n[/file]");
    expect(message.shownChars).toBe(1);
  });
});

describe("pdfFileMessage", () => {
  it("with every page read, counts characters of the whole text", () => {
    const message = pdfFileMessage("r.pdf", ["one", "two"], 2, "", 1_000);
    expect(message).toEqual({ content: "[file r.pdf]\none\n\ntwo\n[/file]", shownChars: 8, totalChars: 8 });
  });

  it("with pages left unread, names the last page the cut text reaches", () => {
    const room = "[file r.pdf]\n".length + "\n[/file]".length + 13;
    const message = pdfFileMessage("r.pdf", ["aaaa", "", "bbbb", "cccc"], 90, "", room);
    expect(message.content).toBe("[file r.pdf]\naaaa\n\nbbbb\n\nc\n[/file]");
    expect(message.pages).toEqual({ through: 4, of: 90 });
    expect(isCut(message)).toBe(true);
    expect(cutNoteText("r.pdf", message)).toBe("r.pdf is too long to read whole: the model sees its first 13 characters, up to page 4 of 90.");
  });
});

describe("the sentences", () => {
  it("say which part of a cut file the model sees", () => {
    const message = fileMessage("report.pdf", "x".repeat(41_000), "q", 9_800);
    expect(cutNoteText("report.pdf", message)).toBe(`report.pdf is too long to read whole: the model sees its first ${message.shownChars.toLocaleString("en-US")} of 41,000 characters.`);
  });

  it("answer a file without a question, whole or cut", () => {
    expect(fileKeptText("a.txt", fileMessage("a.txt", "x".repeat(1_234), "", 10_000))).toBe("I read a.txt (1,234 characters). Ask your question about it in your next message.");
    expect(fileKeptText("a.txt", fileMessage("a.txt", "x".repeat(2_000), "", 1_021))).toBe(
      "I read a.txt. It is too long to keep whole: the model will see its first 1,000 of 2,000 characters. Ask your question about it in your next message.",
    );
  });

  it("refuse another kind of file naming what is read, and tell a picture to come as a photo", () => {
    expect(unsupportedText("a.zip", "application/zip")).toMatch(/^I can read text files \(plain text, Markdown, CSV, JSON, source code .*\) and PDFs with a text layer\. a\.zip is not one of those\.$/);
    expect(unsupportedText("p.png", "image/png")).toMatch(/ To ask about a picture, send it as a photo, not as a file\.$/);
  });

  it("name the size limit and each PDF problem", () => {
    expect(tooLargeText("big.pdf", 5 * 1024 * 1024)).toBe("big.pdf is larger than 5.0 MB, the most I read. Send a smaller file, or paste the part you mean.");
    expect(pdfProblemText("s.pdf", "password")).toBe("s.pdf is protected by a password, so I cannot read it. Send a copy without the password.");
    expect(pdfProblemText("s.pdf", "damaged")).toBe("I could not read s.pdf: it is damaged, or not really a PDF.");
    expect(pdfProblemText("s.pdf", "too_complex")).toBe("s.pdf took too long to read (it may be very large or complex). Send a smaller part of it, or paste its text.");
  });
});
