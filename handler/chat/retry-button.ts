import type { InlineKeyboardMarkup } from "@grammyjs/types";
import { BUTTON_ACTIONS, button, keyboard } from "../conversation/buttons";

/**
 * The 🔄 Retry button under a private chat's answer. It carries the session and the seq of the
 * user message the answer answers (`<session id>.<seq base 36>`, within callback_data's 64
 * bytes with its owner), so a press of an older answer's button is recognised as stale
 * instead of regenerating whatever came last. Pure.
 */

/** The Retry button's label. */
export const RETRY_BUTTON_LABEL = "🔄 Retry";

/** What a Retry button names: the session and the question whose answer it regenerates. */
export interface RetryTarget {
  readonly sessionId: string;
  readonly questionSeq: number;
}

/** The argument of a Retry button. */
export const retryArgument = (target: RetryTarget): string => `${target.sessionId}.${target.questionSeq.toString(36)}`;

/** The target a Retry button's argument names, or undefined for anything else. */
export function retryTargetOf(argument: string): RetryTarget | undefined {
  const match = /^([0-9A-Za-z-]{1,40})\.([0-9a-z]{1,8})$/.exec(argument);
  if (!match) return undefined;
  const questionSeq = parseInt(match[2]!, 36);
  return questionSeq > 0 ? { sessionId: match[1]!, questionSeq } : undefined;
}

/** The keyboard of an answer: one Retry button, for `owner`. */
export function retryKeyboard(owner: number, target: RetryTarget): InlineKeyboardMarkup {
  return keyboard([[button(RETRY_BUTTON_LABEL, { action: BUTTON_ACTIONS.retry, owner, argument: retryArgument(target) })]]);
}
