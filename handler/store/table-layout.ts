import { SESSIONS_TABLE_SCHEMA } from "../../config/table-schema";

/**
 * The sessions table's item layout: every sort key and its prefix, in one place. Under
 * pk = Telegram user id:
 * - `PROFILE`: `active_session_id`, the truth about which session is active;
 * - `SESSION#<id>`: model_name, session_id, is_active (1/0, the index copy), created_at,
 *   last_message_ts (epoch seconds), message_count (also the message sequence counter) and,
 *   once /system set it, system_prompt ("" when turned off);
 * - `MSG#<id>#<seq, 10 digits>`: role, content, ts; no model_name/is_active, so messages
 *   stay out of both GSIs, and no item grows with the conversation;
 * - `UPDATE#<update_id>`: an update's idempotency mark (and journal), which expires through the TTL attribute;
 * - `ANSWERING#<chat_id>`: the update whose answer streams in that chat now (`update_id`,
 *   `answering_until`), for `/stop`; a stop itself is `stop_requested_at` on that update's mark;
 * - `USAGE#<kind>#<yyyy-mm-dd>`: a user's count of chat messages or imports that day, per day and
 *   per hour, which expires through the TTL attribute too.
 * The key schema itself (names, types, indexes, TTL attribute) is config/table-schema.ts.
 */

/** Sort key of the profile item. */
export const PROFILE_SK = "PROFILE";
/** Sort key prefix of session items. */
export const SESSION_PREFIX = "SESSION#";
/** Sort key prefix of message items. */
export const MESSAGE_PREFIX = "MSG#";

/** The sort key of a session item. */
export const sessionSk = (sessionId: string) => `${SESSION_PREFIX}${sessionId}`;
/** The prefix of a session's message items. */
export const messagePrefix = (sessionId: string) => `${MESSAGE_PREFIX}${sessionId}#`;
/** The sort key of message `seq` (1-based) of a session; zero-padded so keys sort by seq. */
export const messageSk = (sessionId: string, seq: number) => `${messagePrefix(sessionId)}${String(seq).padStart(10, "0")}`;
/** Sort key prefix of update marks. */
export const UPDATE_PREFIX = "UPDATE#";
/** The sort key of an update's mark. */
export const updateSk = (updateId: number) => `${UPDATE_PREFIX}${updateId}`;

/** Sort key prefix of a user's answering records (see stop-requests.ts). */
export const ANSWERING_PREFIX = "ANSWERING#";
/** The sort key of the record of the answer streaming in chat `chatId`. */
export const answeringSk = (chatId: number) => `${ANSWERING_PREFIX}${chatId}`;

/** Sort key prefix of per-user usage counters (the limits on chat messages and imports). */
export const USAGE_PREFIX = "USAGE#";
/** The sort key of a user's usage counter of one kind on one UTC day (yyyy-mm-dd). */
export const usageSk = (kind: string, day: string) => `${USAGE_PREFIX}${kind}#${day}`;

/** The attribute DynamoDB's TTL reads (epoch seconds): the schema's. */
export const TTL_ATTRIBUTE = SESSIONS_TABLE_SCHEMA.ttlAttribute;
/** The TTL attribute's value for an item that should disappear `seconds` after `nowMs`. */
export const expiresAfter = (nowMs: number, seconds: number): number => Math.floor(nowMs / 1000) + seconds;
