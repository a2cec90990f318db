import { NEW_SESSION, ensureActiveSession, modelAvailable } from "../chat/active-session";
import {
  formatHistory,
  formatModelList,
  formatSessionList,
  parsePosition,
  shortId,
  unavailableModelWarning,
} from "../format/views";
import type { Command } from "./command";

/** Messages shown by /history. */
export const HISTORY_MESSAGES = 10;

/** /newsession: the model list; /newsession <n>: a new active session with model n. */
export const newSessionCommand: Command = {
  name: "newsession",
  privateOnly: true,
  usage: "/newsession [n]",
  description: "list the models; with a number, start a new session with that model",
  async run(ctx, args) {
    const models = ctx.config.ollamaModels;
    if (args.length === 0) {
      await ctx.reply(formatModelList(models));
      return;
    }
    const position = parsePosition(args, models.length);
    if (position === undefined) {
      await ctx.reply(`"${args.slice(0, 20)}" is not a model number.\n\n${formatModelList(models)}`);
      return;
    }
    const model = models[position - 1]!;
    const { activeSessionId } = await ctx.sessions.getActive(ctx.userId);
    const session = await ctx.sessions.createSession(ctx.userId, model, activeSessionId, ctx.journal.idFor(NEW_SESSION));
    ctx.log.info("session created", { action: "create_session", outcome: "success", session_id: session.sessionId });
    await ctx.reply(`New session ${shortId(session.sessionId)} with ${model} is now active. Send a message to start.`);
  },
};

/** /listsessions: numbered sessions with model, short id, active marker, count, last activity. */
export const listSessionsCommand: Command = {
  name: "listsessions",
  privateOnly: true,
  usage: "/listsessions",
  description: "list your sessions",
  async run(ctx) {
    const [sessions, { activeSessionId }] = await Promise.all([
      ctx.sessions.listSessions(ctx.userId),
      ctx.sessions.getActive(ctx.userId),
    ]);
    const list = formatSessionList(sessions, activeSessionId, ctx.config.ollamaModels);
    await ctx.reply(sessions.length > 0 ? `${list}\n\nSwitch with /switch <number>.` : list);
  },
};

/** /switch <n>: session n becomes the active one. */
export const switchCommand: Command = {
  name: "switch",
  privateOnly: true,
  usage: "/switch <n>",
  description: "make session n (from /listsessions) the active one",
  async run(ctx, args) {
    const [sessions, { activeSessionId }] = await Promise.all([
      ctx.sessions.listSessions(ctx.userId),
      ctx.sessions.getActive(ctx.userId),
    ]);
    if (sessions.length === 0) {
      await ctx.reply("You have no sessions yet. Send a message or use /newsession to start one.");
      return;
    }
    // The position is resolved once: a rerun of this update switches to the same session.
    const targetId = await ctx.journal.resolve("session", async () => {
      const position = parsePosition(args, sessions.length);
      return position === undefined ? undefined : sessions[position - 1]!.sessionId;
    });
    if (targetId === undefined) {
      await ctx.reply(
        `Usage: /switch <number>, a number from 1 to ${sessions.length}.\n\n${formatSessionList(sessions, activeSessionId, ctx.config.ollamaModels)}`,
      );
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
  },
};

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
