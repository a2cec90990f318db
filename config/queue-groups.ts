/**
 * Which SQS FIFO message group a Telegram update goes to in queue mode: the one rule shared by
 * the API Gateway request template (constructs/webhook-api/queue-request-template.ts, which
 * mirrors it in VTL and is tested to agree), local mode's queue and the tests.
 *
 * One group per chat keeps a chat's updates in order, one at a time, while chats run in
 * parallel. A control update — a button press (`callback_query`) or `/stop` — goes to the
 * chat's control group, so it never waits behind the very generation it is meant to stop.
 */

/** Suffix of a chat's control message group. */
export const CONTROL_GROUP_SUFFIX = ":control";
/** The group of updates that carry no chat (member updates, inline queries, polls…). */
export const NO_CHAT_GROUP = "no-chat";

type Json = Record<string, unknown>;

function at(value: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>((v, key) => (typeof v === "object" && v !== null ? (v as Json)[key] : undefined), value);
}

/** The chat an update belongs to, where the template looks for it, in that order. Pure. */
function chatIdOf(update: unknown): unknown {
  return at(update, "message", "chat", "id") ?? at(update, "edited_message", "chat", "id")
    ?? at(update, "callback_query", "message", "chat", "id") ?? at(update, "callback_query", "from", "id");
}

/** True for `/stop`, `/stop@SomeBot` and `/stop <anything>`. Pure. */
export function isStopCommand(text: unknown): boolean {
  return typeof text === "string" && (text === "/stop" || text.startsWith("/stop@") || text.startsWith("/stop "));
}

/** True for an update that controls a running answer rather than starting one. Pure. */
export function isControlUpdate(update: unknown): boolean {
  const callbackId = at(update, "callback_query", "id");
  return (callbackId !== undefined && callbackId !== null && callbackId !== "") || isStopCommand(at(update, "message", "text"));
}

/** The MessageGroupId of an update (see the module comment). Pure. */
export function messageGroupIdOf(update: unknown): string {
  const chat = chatIdOf(update);
  const group = typeof chat === "number" || (typeof chat === "string" && chat !== "") ? String(chat) : NO_CHAT_GROUP;
  return isControlUpdate(update) ? `${group}${CONTROL_GROUP_SUFFIX}` : group;
}
