import type { Message } from "@grammyjs/types";
import { ServiceError } from "../net/errors";
import type { Logger } from "../observability/log";
import type { BotApi } from "../telegram/bot-api";
import type { Press } from "./decode";
import { isPassingStorageFailure, isPassingTelegramFailure } from "./route";
import type { RecordOutcome } from "./sqs";

/**
 * What the queue door does with an error that escaped the pipeline of one record. Only a
 * failure that can pass is retried: throttling, a 5xx, a timeout or an unreachable service, a
 * Telegram 429. Anything else (a malformed update that makes a step throw, a bug) would fail
 * the same way on every delivery, blocking the chat's message group for every receive until
 * the dead-letter queue: it is logged at ERROR (the error alarm counts it), the user is told
 * where there is one, and the record is dropped.
 */

/** What the user hears when their update failed in a way a new delivery would not fix. */
export const DROPPED_UPDATE_TEXT = "Something went wrong on my side with that message, and trying it again would not help, so I dropped it. Please send it in another way.";

/** True for a failure a later delivery may get past. Pure. */
export function mayPass(err: unknown): boolean {
  return isPassingTelegramFailure(err) || isPassingStorageFailure(err);
}

/** Where the user of a failed update can be told: its message's chat, or its press. */
export interface FailedUpdate {
  readonly message?: Pick<Message, "chat" | "message_id">;
  readonly press?: Pick<Press, "queryId">;
}

/** Decides a failed record's outcome; see the module comment. Never rejects. */
export async function recordFailureOutcome(err: unknown, update: FailedUpdate | undefined, bot: BotApi, log: Logger): Promise<RecordOutcome> {
  if (mayPass(err)) {
    log.warn("update not finished; it will be delivered again", {
      action: "handle_update",
      outcome: "retry",
      error_kind: err instanceof Error ? err.name : "unknown",
      status: err instanceof ServiceError ? err.status : undefined,
    });
    return "retry";
  }
  log.error("update failed in a way every delivery would repeat; dropped", err, { action: "handle_update", outcome: "failure" });
  await tellUser(update, bot).catch(() => undefined);
  return "done";
}

async function tellUser(update: FailedUpdate | undefined, bot: BotApi): Promise<void> {
  if (update?.press) {
    await bot.call("answerCallbackQuery", { callback_query_id: update.press.queryId, text: DROPPED_UPDATE_TEXT });
  } else if (update?.message) {
    const { chat, message_id } = update.message;
    const inGroup = chat.type !== "private";
    await bot.call("sendMessage", {
      chat_id: chat.id,
      text: DROPPED_UPDATE_TEXT,
      ...(inGroup ? { reply_parameters: { message_id, allow_sending_without_reply: true } } : {}),
    });
  }
}
