import { modelLabel } from "../../config/models";
import { NEW_SESSION, ensureActiveSession, modelAvailable } from "../chat/active-session";
import {
  formatHistory,
  formatModelList,
  formatSessionList,
  parsePosition,
  shortId,
  unavailableModelWarning,
} from "../format/views";
import { BUTTON_ACTIONS, type PickerItem } from "../conversation/buttons";
import type { UpdateContext } from "../conversation/update-context";
import type { Session } from "../store/session-items";
import type { Command } from "./command";
import { buttonLabel, pickerDerivedId, pickerPage, resolvePick, withPicker, type Choice } from "./pick";

/** Messages shown by /history. */
export const HISTORY_MESSAGES = 10;

/** /newsession: the models as buttons; /newsession <n> or a press: a new active session with that model. */
export const newSessionCommand: Command = {
  name: "newsession",
  privateOnly: true,
  usage: "/newsession [n]",
  description: "pick a model (buttons), or start a new session with model n",
  run: (ctx, args) => newSession(ctx, { typed: args }),
  button: { action: BUTTON_ACTIONS.newSession, press: (ctx, argument) => newSession(ctx, { pressed: argument }) },
};

async function newSession(ctx: UpdateContext, choice: Choice): Promise<void> {
  const models = ctx.config.modelNames;
  // Shown with their providers; a session stores the name alone.
  const labels = ctx.config.models.map(modelLabel);
  const items = labels.map((label, i) => ({ label: buttonLabel(`${i + 1}. ${label}`), argument: String(i + 1) }));
  const page = pickerPage(choice);
  if (page !== undefined) {
    await ctx.reply(formatModelList(labels), withPicker(ctx, BUTTON_ACTIONS.newSession, items, page));
    return;
  }
  const position = parsePosition("typed" in choice ? choice.typed : choice.pressed, models.length);
  if (position === undefined) {
    const shown = "typed" in choice ? `"${choice.typed.slice(0, 20)}" is not a model number.` : "That model is no longer offered.";
    await ctx.reply(`${shown}\n\n${formatModelList(labels)}`, withPicker(ctx, BUTTON_ACTIONS.newSession, items, 1));
    return;
  }
  const model = models[position - 1]!;
  const { activeSessionId } = await ctx.sessions.getActive(ctx.userId);
  const sessionId = pickerDerivedId(ctx, NEW_SESSION) ?? ctx.journal.idFor(NEW_SESSION);
  const session = await ctx.sessions.createSession(ctx.userId, model, activeSessionId, sessionId);
  ctx.log.info("session created", { action: "create_session", outcome: "success", session_id: session.sessionId });
  await ctx.reply(`New session ${shortId(session.sessionId)} with ${labels[position - 1]} is now active. Send a message to start.`);
}

/** /listsessions: numbered sessions with model, short id, active marker, count, last activity. */
export const listSessionsCommand: Command = {
  name: "listsessions",
  privateOnly: true,
  usage: "/listsessions",
  description: "list your sessions",
  async run(ctx) {
    const { sessions, activeSessionId } = await sessionsAndActive(ctx);
    const list = formatSessionList(sessions, activeSessionId, ctx.config.modelNames);
    await ctx.reply(sessions.length > 0 ? `${list}\n\nSwitch with /switch <number>, or /switch for buttons.` : list);
  },
};

/**
 * The user's sessions in list order and the profile's active session id, read together: what
 * every session list and picker shows.
 */
export async function sessionsAndActive(ctx: UpdateContext): Promise<{ sessions: Session[]; activeSessionId: string | undefined }> {
  const [sessions, activeSessionId] = await Promise.all([ctx.sessions.listSessions(ctx.userId), ctx.sessions.getActiveSessionId(ctx.userId)]);
  return { sessions, activeSessionId };
}

/** The buttons of a session picker: one per session, numbered as /listsessions numbers them. Pure. */
export function sessionItems(sessions: readonly Session[], activeId: string | undefined): PickerItem[] {
  return sessions.map((s, i) => ({
    label: buttonLabel(`${i + 1}. ${s.sessionId === activeId ? "▶ " : ""}${s.modelName} · ${shortId(s.sessionId)}`),
    argument: s.sessionId,
  }));
}

/** /switch: the sessions as buttons; /switch <n> or a press: that session becomes the active one. */
export const switchCommand: Command = {
  name: "switch",
  privateOnly: true,
  usage: "/switch [n]",
  description: "pick a session (buttons), or make session n the active one",
  run: (ctx, args) => switchSession(ctx, { typed: args }),
  button: { action: BUTTON_ACTIONS.switchSession, press: (ctx, argument) => switchSession(ctx, { pressed: argument }) },
};

async function switchSession(ctx: UpdateContext, choice: Choice): Promise<void> {
  const { sessions, activeSessionId } = await sessionsAndActive(ctx);
  if (sessions.length === 0) {
    await ctx.reply("You have no sessions yet. Send a message or use /newsession to start one.");
    return;
  }
  // The choice is resolved once: a rerun of this update switches to the same session.
  const targetId = await resolvePick(ctx, "session", choice, sessions, (s) => s.sessionId);
  const list = formatSessionList(sessions, activeSessionId, ctx.config.modelNames);
  const picker = (page: number) => withPicker(ctx, BUTTON_ACTIONS.switchSession, sessionItems(sessions, activeSessionId), page);
  if (targetId === undefined) {
    const page = pickerPage(choice);
    const heading = page !== undefined ? "Pick the session to switch to." : `Usage: /switch <number>, a number from 1 to ${sessions.length}.`;
    await ctx.reply(`${heading}\n\n${list}`, picker(page ?? 1));
    return;
  }
  const position = sessions.findIndex((s) => s.sessionId === targetId) + 1;
  const target = sessions[position - 1];
  if (!target) {
    await ctx.reply(`Session ${shortId(targetId)} is no longer there; see /listsessions.`);
    return;
  }
  await ctx.sessions.activate(ctx.userId, target.sessionId, activeSessionId);
  const lines = [`Switched to session ${position} (${shortId(target.sessionId)}, ${target.modelName}).`];
  if (!modelAvailable(ctx, target)) lines.push(unavailableModelWarning(target.modelName));
  await ctx.reply(lines.join("\n"));
}

/** /history: the last messages of the active session. */
export const historyCommand: Command = {
  name: "history",
  privateOnly: true,
  usage: "/history",
  description: "show the last messages of your active session",
  async run(ctx) {
    const { session } = await ensureActiveSession(ctx);
    const messages = await ctx.sessions.recentMessages(ctx.userId, session.sessionId, HISTORY_MESSAGES);
    await ctx.reply(formatHistory(session, messages));
  },
};
