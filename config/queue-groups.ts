/**
 * Which SQS FIFO message group a Telegram update goes to in queue mode: the one rule shared by
 * the API Gateway request template (constructs/webhook-api/queue-request-template.ts, which
 * mirrors it in VTL and is tested to agree), local mode's queue and the tests.
 *
 * One group per chat keeps a chat's updates in order, one at a time, while chats run in
 * parallel. Only what stops an answer — a press of the Stop button and `/stop` in any spelling
 * the command parser accepts (config/command-syntax.ts) — goes to the chat's control group, so
 * it never waits behind the very generation it is meant to stop. Every other press (Retry, the
 * pickers) stays in the chat's group, in order with the messages: a press that starts a
 * generation, or changes which session the next message lands in, must not overtake them.
 */
import { isJavaSpace } from "./command-syntax";

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

/** The action code of the Stop button's callback_data (`st:<owner>:<argument>`, handler/conversation/buttons.ts). */
export const STOP_BUTTON_ACTION = "st";

/**
 * True for every spelling of `/stop` the command parser reads as the stop command: `/stop`,
 * `/Stop`, `/STOP@SomeBot`, `/stop please`, `/stop\nnow`. The template computes the same with
 * toLowerCase, startsWith and codePointAt. Pure.
 */
export function isStopCommand(text: unknown): boolean {
  if (typeof text !== "string") return false;
  const t = text.toLowerCase();
  if (t === "/stop" || t.startsWith("/stop@")) return true;
  return t.startsWith("/stop") && isJavaSpace(t.codePointAt(5) ?? 0x21);
}

/** True for a press of the Stop button (its callback_data's action). Pure. */
export function isStopPress(update: unknown): boolean {
  const data = at(update, "callback_query", "data");
  return typeof data === "string" && data.startsWith(`${STOP_BUTTON_ACTION}:`);
}

/** True for an update that stops a running answer: a Stop press or `/stop`. Pure. */
export function isControlUpdate(update: unknown): boolean {
  return isStopPress(update) || isStopCommand(at(update, "message", "text"));
}

/** The MessageGroupId of an update (see the module comment). Pure. */
export function messageGroupIdOf(update: unknown): string {
  const chat = chatIdOf(update);
  const group = typeof chat === "number" || (typeof chat === "string" && chat !== "") ? String(chat) : NO_CHAT_GROUP;
  return isControlUpdate(update) ? `${group}${CONTROL_GROUP_SUFFIX}` : group;
}
