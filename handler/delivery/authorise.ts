/**
 * Step 4 of the webhook pipeline: may this user talk to the bot? With ALLOWED_USER_IDS set,
 * only the users listed; without it, everyone.
 */

/** The text a refused user gets. */
export const NOT_ALLOWED_TEXT = "Sorry, this bot is private.";

/** Who may use the bot: undefined allows everyone. */
export type AllowList = ReadonlySet<number> | undefined;

/** The allow-list of a configured list of user ids (undefined: everyone). */
export function allowListOf(userIds: readonly number[] | undefined): AllowList {
  return userIds ? new Set(userIds) : undefined;
}

/** True when `userId` may use the bot. Pure. */
export function isAllowed(allowed: AllowList, userId: number): boolean {
  return allowed === undefined || allowed.has(userId);
}

/** Telegram's stand-in sender of messages that anonymous group admins send (@GroupAnonymousBot). */
export const ANONYMOUS_ADMIN_ID = 1087968824;
/** Telegram's stand-in sender of messages sent on behalf of a channel (@Channel_Bot). */
export const CHANNEL_SENDER_ID = 136817688;

/** The text a sender without an identity of its own gets. */
export const SHARED_IDENTITY_TEXT = "I can only talk to people by their own account: please write to me as yourself, not as the group or a channel.";

/**
 * True for a message whose sender is one of Telegram's shared stand-ins: every anonymous admin
 * of every group is 1087968824, every channel 136817688 (with sender_chat set). Serving them by
 * that id would give all of them one shared set of sessions, so they are not served. Pure.
 */
export function hasSharedIdentity(message: { readonly from?: { readonly id: number }; readonly sender_chat?: unknown }): boolean {
  const id = message.from?.id;
  return id === ANONYMOUS_ADMIN_ID || id === CHANNEL_SENDER_ID || (message.sender_chat !== undefined && message.sender_chat !== null);
}
