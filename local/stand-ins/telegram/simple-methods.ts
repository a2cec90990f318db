/**
 * The stand-in's Bot API methods that keep no chat state: getMe, sendMessageDraft,
 * sendChatAction and answerCallbackQuery, checked as Telegram checks their parameters.
 */
import { badRequest, CHAT_ACTIONS, requireChatId, toInteger, parseText, type Json } from "./wire";

/** getMe: the bot's own user. */
export function getMe(botId: number, botUsername: string): Json {
  return {
    id: botId,
    is_bot: true,
    first_name: "Test Bot",
    username: botUsername,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}

/** answerCallbackQuery: a query id is required; a notice is at most 200 characters. */
export function answerCallbackQuery(params: Json): true {
  if (typeof params.callback_query_id !== "string" || params.callback_query_id.length === 0) throw badRequest("query is too old and response timeout expired or query ID is invalid");
  if (typeof params.text === "string" && params.text.length > 200) throw badRequest("MESSAGE_TOO_LONG");
  return true;
}

/** sendMessageDraft: private chats only, with a non-zero draft_id. */
export function sendMessageDraft(params: Json): true {
  const chatId = requireChatId(params);
  if (chatId <= 0) throw badRequest("draft can be sent only to private chats");
  const draftId = toInteger(params.draft_id);
  if (draftId === undefined || draftId === 0) throw badRequest("draft_id must be non-zero");
  parseText(params.text ?? "", params.parse_mode, { allowEmpty: true });
  return true;
}

/** sendChatAction: one of the documented actions. */
export function sendChatAction(params: Json): true {
  requireChatId(params);
  if (typeof params.action !== "string" || !CHAT_ACTIONS.has(params.action)) throw badRequest("wrong parameter action in request");
  return true;
}

