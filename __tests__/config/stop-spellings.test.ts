import { isControlUpdate, messageGroupIdOf, STOP_BUTTON_ACTION } from "../../config/queue-groups";
import { QUEUE_REQUEST_TEMPLATE } from "../../constructs/webhook-api/queue-request-template";
import { BUTTON_ACTIONS } from "../../handler/conversation/buttons";
import { parseCommand } from "../../handler/conversation/router";
import { renderMappingTemplate } from "../../local/api-gateway-vtl";

/**
 * The three readers of a `/stop` — the API Gateway template (rendered by velocityjs), the
 * function's messageGroupIdOf and the command parser — agree on every spelling, so whatever the
 * parser runs as the stop command travels in the control group, and nothing else does.
 */

const CHAT = 4242;
const update = (text: string) => ({
  update_id: 1,
  message: { message_id: 5, date: 1, from: { id: CHAT, is_bot: false, first_name: "Ada" }, chat: { id: CHAT, type: "private" }, text },
});
const templateGroup = (body: unknown) =>
  new URLSearchParams(renderMappingTemplate(QUEUE_REQUEST_TEMPLATE, { body: JSON.stringify(body) })).get("MessageGroupId");
const parsedAsStop = (text: string) => parseCommand(text)?.name === "stop";

const CORPUS: readonly string[] = [
  "/stop", "/Stop", "/STOP", "/sToP", "/stop@MyBot", "/Stop@my_bot", "/stop@", "/stop@other bot",
  "/stop please", "/stop\nplease", "/stop\tnow", "/stop\r\n", "  /stop  ", "\n/stop", "/stop ", "/stop\u000b",
  "/stopwatch", "/stop_now", "/stops", "/stop!", "/stop.", "/stop\u00a0please", "\u00a0/stop", "/stop\u2028x",
  "stop", "/ stop", "//stop", "/st op", "/stopİ", "/STOPİ", "/stop@bot\u00a0x", "x /stop", "/sto", "/", "",
  "/stop🛑", "🛑/stop", "/stop/stop", "/retry", "/Retry 2", "/newsession",
];

describe("the spellings of /stop", () => {
  it.each(CORPUS.map((t) => [JSON.stringify(t), t]))("%s: the template, messageGroupIdOf and the parser agree", (_name, text) => {
    const body = update(text);
    const control = parsedAsStop(text);
    expect(isControlUpdate(body)).toBe(control);
    expect(messageGroupIdOf(body)).toBe(control ? `${CHAT}:control` : String(CHAT));
    expect(templateGroup(body)).toBe(messageGroupIdOf(body));
  });

  it("agrees on random texts built from the characters that matter", () => {
    const pieces = ["/", "stop", "STOP", "Stop", "@", "bot", " ", "\n", "\t", "\u00a0", "x", "_", "İ", "🛑", "\r"];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 400; i++) {
      const text = Array.from({ length: 1 + (next() % 6) }, () => pieces[next() % pieces.length]).join("");
      const body = update(`/stop`.slice(0, next() % 2 === 0 ? 5 : 0) + text);
      const control = parsedAsStop(body.message.text);
      expect([JSON.stringify(body.message.text), isControlUpdate(body)]).toEqual([JSON.stringify(body.message.text), control]);
      expect([JSON.stringify(body.message.text), templateGroup(body)]).toEqual([JSON.stringify(body.message.text), messageGroupIdOf(body)]);
    }
  });
});

describe("which presses jump the line", () => {
  const press = (data: string) => ({
    update_id: 2,
    callback_query: { id: "q1", from: { id: CHAT, is_bot: false, first_name: "Ada" }, chat_instance: "1", data, message: { message_id: 3, date: 1, chat: { id: CHAT, type: "private" } } },
  });

  it("the Stop button's action is the one the groups test", () => {
    expect(BUTTON_ACTIONS.stop).toBe(STOP_BUTTON_ACTION);
  });

  it.each(Object.entries(BUTTON_ACTIONS))("a %s press goes to the control group only when it is Stop", (name, action) => {
    const body = press(`${action}:3a:abc`);
    const expected = name === "stop" ? `${CHAT}:control` : String(CHAT);
    expect(messageGroupIdOf(body)).toBe(expected);
    expect(templateGroup(body)).toBe(expected);
  });

  it("a press whose data is not a Stop button's stays in the chat's group", () => {
    for (const data of ["", "st", "stop", "xst:1:a", "ST:1:a"]) {
      expect(templateGroup(press(data))).toBe(String(CHAT));
      expect(messageGroupIdOf(press(data))).toBe(String(CHAT));
    }
  });
});
