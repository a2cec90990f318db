import { separateThinking } from "../../../handler/format/thinking";

describe("separateThinking", () => {
  it("returns text without reasoning unchanged", () => {
    expect(separateThinking("Just an answer.")).toEqual({ answer: "Just an answer.", thinking: "", thinkingOpen: false });
  });

  it("separates a closed think block from the answer", () => {
    expect(separateThinking("<think>\nLet me see.\n</think>\n\nThe answer is 4.")).toEqual({
      answer: "The answer is 4.",
      thinking: "Let me see.",
      thinkingOpen: false,
    });
  });

  it("hides everything after an unclosed think while streaming", () => {
    expect(separateThinking("<think>\nstill reasoning, maybe **x**", { streaming: true })).toEqual({
      answer: "",
      thinking: "still reasoning, maybe **x**",
      thinkingOpen: true,
    });
  });

  it("treats a closing tag without an opening one as the end of reasoning", () => {
    expect(separateThinking("reasoning first\n</think>\nanswer").answer).toBe("answer");
  });

  it("holds back half a tag at the end of streaming text", () => {
    expect(separateThinking("<thi", { streaming: true }).answer).toBe("");
    expect(separateThinking("<think>abc</thi", { streaming: true })).toMatchObject({ thinking: "abc", thinkingOpen: true });
  });

  it("keeps a half tag when the text is complete", () => {
    expect(separateThinking("a <thi").answer).toBe("a <thi");
  });

  it("keeps think tags inside fenced code as answer text", () => {
    const raw = "Example:\n```html\n<think>\nx\n</think>\n```";
    expect(separateThinking(raw)).toEqual({ answer: raw, thinking: "", thinkingOpen: false });
  });

  it("keeps a think tag in the middle of a line as answer text", () => {
    expect(separateThinking("Models emit <think> tags.").answer).toBe("Models emit <think> tags.");
  });
});
