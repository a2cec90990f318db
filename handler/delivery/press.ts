import { decodeButton, STALE_BUTTON_TEXT, type ButtonData } from "../conversation/buttons";
import { splitText } from "../format/split";
import type { UpdateJournal } from "../conversation/journal";
import type { PressContext, ReplyOptions } from "../conversation/update-context";
import { ServiceError } from "../net/errors";
import type { Logger } from "../observability/log";
import type { BotApi } from "../telegram/bot-api";
import { isAllowed, NOT_ALLOWED_TEXT, type AllowList } from "./authorise";
import type { Press } from "./decode";

/**
 * How a press of one of the bot's buttons is answered: the callback query itself
 * (answerCallbackQuery, so the client stops its spinner, with a short notice when there is
 * one) and the message carrying the button, edited in place so a picker turns into what was
 * done and cannot be used twice.
 */

/** What a press of a button made for someone else gets (in a group, where everyone sees it). */
export const NOT_YOUR_BUTTON_TEXT = "These buttons belong to someone else. Send the command yourself to get your own.";

/** Whether a press may act, before anything is stored: the presser's, on a button the bot made. */
export type PressCheck =
  | { readonly ok: true; readonly button: ButtonData }
  | { readonly ok: false; readonly reason: "not_allowed" | "forged_or_stale" | "not_owner"; readonly text: string };

/**
 * The press's gate. The allow-list applies as to messages; callback_data is untrusted (a
 * modified client can send any), so it must decode as the bot's own format and name the
 * presser as the button's owner. Even then it only ever acts on the presser's own data. Pure.
 */
export function checkPress(press: Press, allowed: AllowList): PressCheck {
  if (!isAllowed(allowed, press.from.id)) return { ok: false, reason: "not_allowed", text: NOT_ALLOWED_TEXT };
  const button = decodeButton(press.data);
  if (!button) return { ok: false, reason: "forged_or_stale", text: STALE_BUTTON_TEXT };
  if (button.owner !== press.from.id) return { ok: false, reason: "not_owner", text: NOT_YOUR_BUTTON_TEXT };
  return { ok: true, button };
}

/** True when Telegram refused an edit because the message already reads that way (a rerun's edit). */
export function isNotModified(err: unknown): boolean {
  return err instanceof ServiceError && err.service === "telegram" && err.status === 400 && /message is not modified/i.test(err.description);
}

/** The press's answerCallbackQuery: the first call counts; failures (a query too old) are logged, never thrown. */
export function pressAnswerer(bot: BotApi, press: Press, log: Logger): PressContext {
  let answered = false;
  return {
    messageId: press.messageId,
    async answer(text) {
      if (answered) return;
      answered = true;
      try {
        await bot.call("answerCallbackQuery", { callback_query_id: press.queryId, ...(text ? { text: text.slice(0, 200) } : {}) });
      } catch (err) {
        log.warn("could not answer the button press", { action: "answer_press", outcome: "failure", error_kind: err instanceof Error ? err.name : "unknown" });
      }
    },
  };
}

/**
 * The reply of a press: its first part replaces the text (and buttons) of the message carrying
 * the button; further parts and later replies are new messages. Each is a numbered send of the
 * journal, and an edit a rerun repeats ("message is not modified") counts as done.
 */
export function pressReplier(bot: BotApi, press: Press, journal: UpdateJournal): (text: string, options?: ReplyOptions) => Promise<void> {
  let edited = false;
  return async (text, options = {}) => {
    const parts = splitText(text);
    for (const [i, part] of parts.entries()) {
      const markup = options.keyboard && i === parts.length - 1 ? { reply_markup: options.keyboard } : {};
      if (!edited && !options.newMessage) {
        edited = true;
        await journal.send(() =>
          bot.call("editMessageText", { chat_id: press.chat.id, message_id: press.messageId, text: part, ...markup }).catch((err: unknown) => {
            if (!isNotModified(err)) throw err;
            return true as const;
          }),
        );
      } else {
        await journal.send(() => bot.call("sendMessage", { chat_id: press.chat.id, text: part, ...markup }));
      }
    }
  };
}
