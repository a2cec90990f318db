import { classifyMessage, parseCommand } from "../../../handler/conversation/router";
import type { Message } from "@grammyjs/types";

describe("parseCommand", () => {
  it.each([
    ["/start", { name: "start", botUsername: undefined, args: "" }],
    ["/switch 2", { name: "switch", botUsername: undefined, args: "2" }],
    ["/Echo@My_Bot  hello  world ", { name: "echo", botUsername: "My_Bot", args: "hello  world" }],
    ["/echo\nline two", { name: "echo", botUsername: undefined, args: "line two" }],
  ])("parses %j", (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each(["hello", " not/command", "/", "/bad-name", "/@bot", "//x"])("returns undefined for %j", (text) => {
    expect(parseCommand(text)).toBeUndefined();
  });
});

describe("classifyMessage", () => {
  const base = { message_id: 1, date: 0, chat: { id: 1, type: "private" as const, first_name: "A" } };
  it("tells commands, chat text, documents and everything else apart", () => {
    expect(classifyMessage({ ...base, text: "/help" } as Message).kind).toBe("command");
    expect(classifyMessage({ ...base, text: "hi" } as Message).kind).toBe("chat");
    expect(classifyMessage({ ...base, document: { file_id: "f", file_unique_id: "u" } } as Message).kind).toBe("document");
    expect(classifyMessage({ ...base, sticker: {} } as unknown as Message).kind).toBe("other");
  });
});
