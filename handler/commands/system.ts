import { ensureActiveSession } from "../chat/active-session";
import { effectiveSystemPrompt, SYSTEM_PROMPT_MAX_CHARS, type EffectiveSystemPrompt } from "../chat/system-prompt";
import { shortId } from "../format/views";
import type { Command } from "./command";

/** Characters of a system prompt /status shows. */
export const SYSTEM_PROMPT_STATUS_CHARS = 80;

/** A prompt cut to `max` characters for a one-line view. Pure. */
const preview = (text: string, max: number) => {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
};

/** What /system shows for the active session's prompt. Pure. */
export function formatSystemPrompt(prompt: EffectiveSystemPrompt): string {
  switch (prompt.source) {
    case "own":
      return `System prompt of this session:\n${prompt.text}\n\nChange it with /system <text>, or turn it off with /system off.`;
    case "default":
      return `This session uses the default system prompt:\n${prompt.text}\n\nGive it its own with /system <text>, or turn it off with /system off.`;
    case "off":
      return "This session has no system prompt (turned off with /system off). Set one with /system <text>.";
    case "none":
      return "This session has no system prompt. Set one with /system <text>: it is sent to the model before every message of this session.";
  }
}

/** The /status line about the active session's system prompt. Pure. */
export function formatSystemPromptStatus(prompt: EffectiveSystemPrompt): string {
  const shown = `"${preview(prompt.text, SYSTEM_PROMPT_STATUS_CHARS)}"`;
  switch (prompt.source) {
    case "own":
      return `System prompt: ${shown} (/system shows it).`;
    case "default":
      return `System prompt: the default, ${shown} (/system shows it).`;
    case "off":
      return "System prompt: off.";
    case "none":
      return "System prompt: none.";
  }
}

/** The refusal of a prompt over SYSTEM_PROMPT_MAX_CHARS. Pure. */
export function tooLongText(length: number): string {
  return `That system prompt has ${length} characters; the most I accept is ${SYSTEM_PROMPT_MAX_CHARS}. Nothing was changed.`;
}

/**
 * /system: shows the active session's system prompt; /system <text> sets it; /system off turns
 * it off (the default included). A session's prompt is private, so in groups it answers
 * PRIVATE_ONLY_TEXT like the other session commands.
 */
export const systemCommand: Command = {
  name: "system",
  privateOnly: true,
  usage: "/system [text|off]",
  description: "show the system prompt of your active session; with text, set it; with off, turn it off",
  async run(ctx, args) {
    if (args.length === 0) {
      const { session } = await ctx.sessions.getActive(ctx.userId);
      await ctx.reply(formatSystemPrompt(effectiveSystemPrompt(session, ctx.config)));
      return;
    }
    const off = args.toLowerCase() === "off";
    if (!off && args.length > SYSTEM_PROMPT_MAX_CHARS) {
      await ctx.reply(tooLongText(args.length));
      return;
    }
    const { session } = await ensureActiveSession(ctx);
    if (!(await ctx.sessions.setSystemPrompt(ctx.userId, session.sessionId, off ? "" : args))) {
      await ctx.reply(`Session ${shortId(session.sessionId)} is no longer there (archived?); see /listsessions.`);
      return;
    }
    ctx.log.info("system prompt set", { action: "set_system_prompt", outcome: "success", session_id: session.sessionId, chars: off ? 0 : args.length });
    await ctx.reply(
      off
        ? `System prompt of session ${shortId(session.sessionId)} turned off${ctx.config.defaultSystemPrompt ? " (the default one is not used either)" : ""}.`
        : `System prompt of session ${shortId(session.sessionId)} set (${args.length} characters). It is sent to the model before every message of this session.`,
    );
  },
};
