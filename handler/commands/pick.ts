import { pageOf, pickerKeyboard, type ButtonAction, type PickerItem } from "../conversation/buttons";
import { updateDerivedId } from "../conversation/journal";
import type { ReplyOptions, UpdateContext } from "../conversation/update-context";
import { parsePosition } from "../format/views";

/**
 * How a picker command (/newsession, /switch, /archive, /export) learns its choice: a typed
 * position (`/switch 2`, resolved against the list as it is now), or a pressed button, whose
 * argument names the item itself, so a list that changed since the picker was shown cannot
 * make a press act on another item.
 */
export type Choice =
  /** The text after the command; empty when the user typed the command alone. */
  | { readonly typed: string }
  /** A button's argument: an item's id, or `~<page>` for another page of the picker. */
  | { readonly pressed: string };

/** What a picker shows when nothing is chosen yet: page 1, or the page a ‹ › button asked for. */
export function pickerPage(choice: Choice): number | undefined {
  if ("typed" in choice) return choice.typed.length === 0 ? 1 : undefined;
  return pageOf(choice.pressed);
}

/**
 * The id the choice chooses among `items`, resolved once per update (a rerun of it acts on the
 * same item, see UpdateJournal.resolve); undefined when the choice chooses nothing (no
 * position, a position out of range, a page). A pressed id is returned as it came: the caller
 * finds it among the user's own items, or says it is no longer there.
 */
export function resolvePick<T>(ctx: UpdateContext, name: string, choice: Choice, items: readonly T[], idOf: (item: T) => string): Promise<string | undefined> {
  return ctx.journal.resolve(name, async () => {
    if ("pressed" in choice) return pageOf(choice.pressed) === undefined && choice.pressed.length > 0 ? choice.pressed : undefined;
    const position = parsePosition(choice.typed, items.length);
    return position === undefined ? undefined : idOf(items[position - 1]!);
  });
}

/** The reply options that put a picker of `items` (page `page`) under the reply, for the user of ctx. */
export function withPicker(ctx: UpdateContext, action: ButtonAction, items: readonly PickerItem[], page: number): ReplyOptions {
  return items.length === 0 ? {} : { keyboard: pickerKeyboard(action, ctx.userId, items, page) };
}

/**
 * An id for what a press of a picker creates, the same for every press of that picker (and
 * every delivery of each press), so pressing it twice creates one thing.
 */
export function pickerDerivedId(ctx: UpdateContext, purpose: string): string | undefined {
  return ctx.press ? updateDerivedId(ctx.userId, 0, `picker:${ctx.chatId}:${ctx.press.messageId}:${purpose}`) : undefined;
}

/** A button label cut to fit one line of a phone screen. Pure. */
export function buttonLabel(text: string, max = 48): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
