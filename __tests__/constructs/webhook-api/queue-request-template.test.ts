import { messageGroupIdOf, NO_CHAT_GROUP } from "../../../config/queue-groups";
import { TELEGRAM_SECRET_HEADER } from "../../../config/defaults";
import { QUEUE_REQUEST_TEMPLATE } from "../../../constructs/webhook-api/queue-request-template";
import { decodeBody } from "../../../handler/delivery/decode";
import { queueRecordOf } from "../../../handler/delivery/sqs";
import { sqsRecord } from "../../../local/sqs-event";
import { javaUrlEncode, renderMappingTemplate } from "../../../local/api-gateway-vtl";
import { TEST_SECRET_TOKEN } from "../../support/updates";

/** The SendMessage parameters SQS reads from the rendered form body. */
function sendMessageOf(body: string): Record<string, string> {
  const rendered = renderMappingTemplate(QUEUE_REQUEST_TEMPLATE, { body, headers: { [TELEGRAM_SECRET_HEADER]: TEST_SECRET_TOKEN } });
  expect(rendered).not.toMatch(/\n/);
  expect(rendered).not.toContain(TEST_SECRET_TOKEN);
  return Object.fromEntries(new URLSearchParams(rendered));
}

const message = (text: string, chatId = 4242, extra: Record<string, unknown> = {}) => ({
  update_id: 700_000_001,
  message: { message_id: 5, date: 1_760_000_000, from: { id: 4242, is_bot: false, first_name: "Ada" }, chat: { id: chatId, type: chatId < 0 ? "supergroup" : "private" }, text, ...extra },
});

describe("the API Gateway → SQS request template, rendered by a Velocity engine", () => {
  const cases: [string, unknown][] = [
    ["a plain text message", message("hello")],
    ["quotes, backslashes and an ampersand", message(`she said "hi" & left \\o/ 'ok' a=b+c%20`)],
    ["newlines and tabs", message("line one\nline two\r\n\tindented")],
    ["emoji and other scripts", message("🦙🚀 naïve 日本語 Ελληνικά 👩🏽‍💻")],
    ["64 KB of text", message("x".repeat(16_000) + "🙂".repeat(12_000))],
    ["a supergroup beyond 32 bits", message("@bot hi", -1001234567890)],
    ["an edited message", { update_id: 9, edited_message: { message_id: 1, date: 1, edit_date: 2, chat: { id: 77, type: "private" }, text: "fixed" } }],
    ["a Retry press", { update_id: 10, callback_query: { id: "4382bfdwdsb323b2d9", from: { id: 77, is_bot: false, first_name: "A" }, chat_instance: "1", data: "rt:25:abc.3", message: { message_id: 3, date: 1, chat: { id: 77, type: "private" } } } }],
    ["/stop", message("/stop")],
    ["a Stop press", { update_id: 12, callback_query: { id: "4382bfdwdsb323b2da", from: { id: 77, is_bot: false, first_name: "A" }, chat_instance: "1", data: "st:25:abc", message: { message_id: 4, date: 1, chat: { id: 77, type: "private" } } } }],
    ["/stop@SomeBot in a group", message("/stop@SomeBot", -100555)],
    ["/stopwatch (not a stop)", message("/stopwatch")],
    ["a member update (no chat the bot reads)", { update_id: 11, my_chat_member: { chat: { id: 5, type: "private" }, from: { id: 5 }, date: 1 } }],
  ];

  it.each(cases)("%s: one SendMessage with the chat's group, the update_id as deduplication id and the raw body", (_name, update) => {
    for (const body of [JSON.stringify(update), JSON.stringify(update, null, 2)]) {
      const params = sendMessageOf(body);
      expect(params).toEqual({
        Action: "SendMessage",
        MessageGroupId: messageGroupIdOf(update),
        MessageDeduplicationId: String((update as { update_id: number }).update_id),
        MessageBody: body,
      });
      // The consumer reads back exactly the update Telegram sent.
      const decoded = decodeBody({ body: queueRecordOf(sqsRecord(params.MessageBody)).body, isBase64Encoded: false });
      expect(decoded).toEqual({ ok: true, update, updateId: (update as { update_id: number }).update_id });
    }
  });

  it("groups one chat's updates together (Retry presses too), stops apart, and chatless ones in one group", () => {
    expect(sendMessageOf(JSON.stringify(message("a", -1001234567890))).MessageGroupId).toBe("-1001234567890");
    expect(sendMessageOf(JSON.stringify(message("/stop"))).MessageGroupId).toBe("4242:control");
    expect(sendMessageOf(JSON.stringify(message("/stopwatch"))).MessageGroupId).toBe("4242");
    expect(sendMessageOf(JSON.stringify(cases[7][1])).MessageGroupId).toBe("77");
    expect(sendMessageOf(JSON.stringify(cases[9][1])).MessageGroupId).toBe("77:control");
    expect(sendMessageOf(JSON.stringify(cases[12][1])).MessageGroupId).toBe(NO_CHAT_GROUP);
  });

  it("encodes as Java's URLEncoder does (what $util.urlEncode is)", () => {
    expect(javaUrlEncode("a b&c=d+e*f~g/é🙂")).toBe("a+b%26c%3Dd%2Be*f%7Eg%2F%C3%A9%F0%9F%99%82");
  });
});
