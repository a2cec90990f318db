import type { InlineKeyboardButton, InlineKeyboardMarkup } from "@grammyjs/types";
import { STOP_BUTTON_ACTION } from "../../config/queue-groups";

/**
 * The bot's inline buttons and what they carry. A button's `callback_data` is
 * `<action>:<owner>:<argument>`: the action (two letters), the Telegram id of the user the
 * button was made for (base 36, so a 52-bit id takes at most 11 bytes) and the argument (a
 * session id, a model number, a page as `~<n>`). It fits Telegram's 64 bytes for every
 * argument the bot makes, and is checked before it is sent. Pure: parsing what a press carries
 * never trusts it; the action is run only for its owner, on that owner's own data.
 */

/** What a press whose button the bot no longer knows (or never made) gets. */
export const STALE_BUTTON_TEXT = "This button is no longer valid. Send the command again for a fresh one.";

/** Telegram's limit on callback_data, in bytes. */
export const CALLBACK_DATA_MAX_BYTES = 64;

/** What each button does, by its action code. */
export const BUTTON_ACTIONS = {
  newSession: "ns",
  switchSession: "sw",
  archiveSession: "ar",
  exportArchive: "ex",
  stop: STOP_BUTTON_ACTION,
  retry: "rt",
} as const;

/** One of the action codes of {@link BUTTON_ACTIONS}. */
export type ButtonAction = (typeof BUTTON_ACTIONS)[keyof typeof BUTTON_ACTIONS];
const ACTIONS: ReadonlySet<string> = new Set(Object.values(BUTTON_ACTIONS));

/** What a press carries, decoded. */
export interface ButtonData {
  readonly action: ButtonAction;
  /** The user the button was made for. */
  readonly owner: number;
  readonly argument: string;
}

/** The argument of a button that shows page `page` (1-based) of a picker. */
export const pageArgument = (page: number): string => `~${page}`;
/** The page a button's argument names, or undefined when it names something else. */
export function pageOf(argument: string): number | undefined {
  const match = /^~(\d{1,4})$/.exec(argument);
  return match ? Number(match[1]) : undefined;
}

/** Encodes a button's callback_data; throws when it would not fit Telegram's 64 bytes (a bug, not input). */
export function encodeButton(data: ButtonData): string {
  const encoded = `${data.action}:${data.owner.toString(36)}:${data.argument}`;
  if (Buffer.byteLength(encoded, "utf8") > CALLBACK_DATA_MAX_BYTES) {
    throw new RangeError(`callback_data over ${CALLBACK_DATA_MAX_BYTES} bytes for action ${data.action}`);
  }
  return encoded;
}

/** Decodes callback_data the bot made; undefined for anything else (a forged or stale format). */
export function decodeButton(raw: unknown): ButtonData | undefined {
  if (typeof raw !== "string" || Buffer.byteLength(raw, "utf8") > CALLBACK_DATA_MAX_BYTES) return undefined;
  const match = /^([a-z]{2}):([0-9a-z]{1,11}):([\x21-\x7e]{0,60})$/.exec(raw);
  if (!match || !ACTIONS.has(match[1]!)) return undefined;
  const owner = parseInt(match[2]!, 36);
  if (!Number.isSafeInteger(owner) || owner <= 0) return undefined;
  return { action: match[1] as ButtonAction, owner, argument: match[3]! };
}

/** A button with its callback_data encoded. */
export function button(text: string, data: ButtonData): InlineKeyboardButton.CallbackButton {
  return { text, callback_data: encodeButton(data) };
}

/** An inline keyboard of the given rows (empty rows dropped). */
export function keyboard(rows: readonly (readonly InlineKeyboardButton.CallbackButton[])[]): InlineKeyboardMarkup {
  return { inline_keyboard: rows.filter((row) => row.length > 0).map((row) => [...row]) };
}

/** Buttons shown per page of a picker. */
export const PICKER_PAGE_SIZE = 6;

/** One item a picker offers: its label and the argument its button carries. */
export interface PickerItem {
  readonly label: string;
  readonly argument: string;
}

/**
 * A picker: one button per item of page `page` (clamped to the pages there are), then a row
 * with ‹ and › to the neighbouring pages when there are several. Pure.
 */
export function pickerKeyboard(action: ButtonAction, owner: number, items: readonly PickerItem[], page = 1): InlineKeyboardMarkup {
  const pages = Math.max(1, Math.ceil(items.length / PICKER_PAGE_SIZE));
  const shown = Math.min(Math.max(1, page), pages);
  const start = (shown - 1) * PICKER_PAGE_SIZE;
  const rows = items.slice(start, start + PICKER_PAGE_SIZE).map((item) => [button(item.label, { action, owner, argument: item.argument })]);
  const nav: InlineKeyboardButton.CallbackButton[] = [];
  if (shown > 1) nav.push(button(`‹ ${shown - 1}/${pages}`, { action, owner, argument: pageArgument(shown - 1) }));
  if (shown < pages) nav.push(button(`${shown + 1}/${pages} ›`, { action, owner, argument: pageArgument(shown + 1) }));
  return keyboard([...rows, nav]);
}
