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
