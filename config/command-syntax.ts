/**
 * How a bot command is spelled, the one rule shared by the handler's command parser
 * (handler/conversation/router.ts `parseCommand`), the queue's message groups
 * (config/queue-groups.ts) and their twin in the API Gateway request template
 * (constructs/webhook-api/queue-request-template.ts, VTL on Java strings).
 *
 * The rule is written in terms Java and JavaScript compute alike, so the three agree on every
 * spelling (tested against one corpus): a command starts the text (as Telegram's own
 * `bot_command` entity at offset 0), is `/name`, optionally `@anything` up to the next
 * separator, then nothing or a separator and the arguments; a separator is a character up to
 * U+0020 (space, tab, newline…); the name is case-blind (phones capitalise `/Stop`). Unicode
 * spaces (U+00A0 and the like) are not separators, and the text is not trimmed: String.trim()
 * differs between the two languages on exactly those.
 */

/** True for the characters Java's `String.trim()` strips and the command syntax separates on. Pure. */
export const isJavaSpace = (code: number): boolean => code <= 0x20;

/** A command: `/name`, `@bot` up to a separator, then a separator and the arguments. */
// eslint-disable-next-line no-control-regex -- the separators are exactly the characters up to U+0020
export const COMMAND_PATTERN = /^\/([A-Za-z0-9_]{1,64})(?:@([^\x00-\x20]*))?(?:[\x00-\x20]([\s\S]*))?$/;
