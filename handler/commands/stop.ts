import { BUTTON_ACTIONS } from "../conversation/buttons";
import type { UpdateContext } from "../conversation/update-context";
import type { StopOutcome } from "../store/stop-requests";
import type { Command } from "./command";

/** /stop (and the Stop button) when the answer is already stopping. */
export const STOPPING_TEXT = "Stopping the answer…";
/** /stop when no answer of the user is being written in this chat. */
export const NOTHING_TO_STOP_TEXT = "Nothing to stop: no answer of yours is being written here.";
/** The Stop button pressed after its answer ended. */
export const ALREADY_ENDED_TEXT = "That answer has already ended.";

/** The update id a Stop button carries (base 36), or undefined for anything else. Pure. */
export function stoppedUpdateOf(argument: string): number | undefined {
  if (!/^[0-9a-z]{1,11}$/.test(argument)) return undefined;
  const updateId = parseInt(argument, 36);
  return Number.isSafeInteger(updateId) && updateId >= 0 ? updateId : undefined;
}

/** Asks the answer of `updateId` to stop and says what happened (the button's toast or a reply). */
async function stopAnswer(ctx: UpdateContext, updateId: number, say: (text: string) => Promise<void>, endedText: string): Promise<StopOutcome> {
  const outcome = await ctx.stops.requestStop(ctx.userId, updateId);
  ctx.log.info("stop requested", { action: "stop_answer", outcome: outcome === "stopping" ? "success" : "ignored", stopped_update_id: updateId });
  await say(outcome === "stopping" ? STOPPING_TEXT : endedText);
  return outcome;
}

/**
 * /stop and the ⏹ Stop button: end the answer being written. The answer itself keeps what was
 * shown and says it was stopped (chat/stop-watch.ts); here the stop is only requested. Both act
 * on the sender's own answer only: /stop finds it through the chat's answering record, the
 * button carries its update id and is pressed by its owner (delivery/press.ts). In queue mode
 * these updates travel in the chat's control message group, never behind the answer itself.
 */
export const stopCommand: Command = {
  name: "stop",
  usage: "/stop",
  description: "stop the answer being written",
  async run(ctx) {
    const updateId = await ctx.stops.answeringIn(ctx.userId, ctx.chatId);
    if (updateId === undefined) {
      await ctx.reply(NOTHING_TO_STOP_TEXT);
      return;
    }
    // The chat's last answering record outlives its answer: an ended one means nothing streams now.
    await stopAnswer(ctx, updateId, (text) => ctx.reply(text), NOTHING_TO_STOP_TEXT);
  },
  button: {
    action: BUTTON_ACTIONS.stop,
    async press(ctx, argument) {
      const updateId = stoppedUpdateOf(argument);
      const say = (text: string) => ctx.press?.answer(text) ?? Promise.resolve();
      if (updateId === undefined) {
        await say(ALREADY_ENDED_TEXT);
        return;
      }
      await stopAnswer(ctx, updateId, say, ALREADY_ENDED_TEXT);
    },
  },
};
