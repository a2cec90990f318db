import { answerReachedChat } from "../conversation/journal";
import type { ChatAllowance } from "../conversation/usage-gate";
import type { UpdateContext } from "../conversation/update-context";
import type { StoredMessage } from "../store/session-items";
import { askModel, journaledReply, logDelivered, readyRoute, takeBackLiveMessages } from "./answer";
import { selectContext } from "./context-window";

/** Someone else's message, quoted in the user's turn as Markdown. Pure. */
const quotedBlock = (text: string) => text.split("\n").map((line) => `> ${line}`).join("\n");

/**
 * A chat message in a group (one that mentions the bot or replies to it), answered apart from
 * the sender's sessions: a group is not a private conversation, so the model sees only this
 * message and, when it replies to one of the bot's messages, that message; nothing is stored,
 * and no private session's history can surface in the group. The first configured model answers.
 * As in private chats, a rerun of the update never shows a second answer (see answer.ts).
 */
export async function handleGroupChat(
  ctx: UpdateContext,
  text: string,
  quoted?: { readonly role: "assistant" | "user"; readonly text: string },
  allowance?: ChatAllowance,
): Promise<void> {
  const route = await readyRoute(ctx, ctx.config.modelNames[0]!);
  if (!route) return;
  const recorded = ctx.journal.recorded.answer;
  if (recorded && answerReachedChat(recorded)) return; // delivered by an earlier attempt
  if (ctx.journal.rerun) await takeBackLiveMessages(ctx);
  const reply = journaledReply(ctx);
  if (recorded) {
    await reply.finish({ complete: true }, recorded.text);
    return;
  }
  // Only the bot's own earlier answer is the assistant's turn; anyone else's words are quoted by the user.
  const thread: StoredMessage[] =
    quoted?.role === "assistant"
      ? [{ seq: 1, role: "assistant", content: quoted.text, ts: 0 }, { seq: 2, role: "user", content: text, ts: 0 }]
      : [{ seq: 1, role: "user", content: quoted ? `${quotedBlock(quoted.text)}\n\n${text}` : text, ts: 0 }];
  // A session's own system prompt is private; the stack's default is not.
  const window = selectContext(thread, ctx.config.contextCharBudget, thread.length, ctx.config.defaultSystemPrompt);
  const asked = await askModel(ctx, route, reply.live, window, false, allowance);
  if (!asked) return;
  const delivered = await reply.finish({ complete: asked.answer.completed, stopped: asked.stopped, speed: ctx.config.showModelSpeed ? asked.speed : undefined });
  logDelivered(ctx, delivered, asked.started);
}
