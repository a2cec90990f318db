import { htmlToPlain, TranscriptRenderer, visibleText } from "../../local/terminal-render";

describe("terminal rendering", () => {
  it("shows Telegram HTML as plain text", () => {
    expect(htmlToPlain("<b>bold</b> &lt;tag&gt; &amp; &#128512; <a href=\"x\">link</a>")).toBe("bold <tag> & 😀 link");
    expect(visibleText({ text: "<i>a</i>", parse_mode: "HTML" })).toBe("a");
    expect(visibleText({ text: "<i>a</i>" })).toBe("<i>a</i>");
  });

  it("streams growing drafts and completes them with the final message", () => {
    const r = new TranscriptRenderer();
    expect(r.draft("Hel")).toBe("bot> Hel");
    expect(r.draft("Hello wor")).toBe("lo wor");
    expect(r.message("Hello world")).toBe("ld\n");
    expect(r.message("next")).toBe("bot> next\n");
  });

  it("starts a new line when the final message differs from the draft", () => {
    const r = new TranscriptRenderer();
    r.draft("draft text");
    expect(r.message("Other")).toBe("\nbot> Other\n");
    expect(r.closeDraft()).toBe("");
  });

  it("marks edits and saved documents", () => {
    const r = new TranscriptRenderer();
    expect(r.edit("changed")).toBe("bot> (edited) changed\n");
    expect(r.document("exports/a.json", "Archive")).toBe("bot> [document saved to exports/a.json] — Archive\n");
  });
});
