import type { Command } from "./command";

/** The /help text: every command on one line, then how chatting and importing work. Pure. */
export function helpText(commands: readonly Command[]): string {
  return [
    "Commands:",
    ...commands.map((c) => `${c.usage} — ${c.description}`),
    "",
    "Any other message is sent to the AI model of your active session.",
    "Send a photo (a caption is its question) to a session whose model can see pictures.",
    "Send me an exported archive (.json file) to import it.",
  ].join("\n");
}

/** /help over a given command list (the registry passes itself in). */
export function helpCommand(list: () => readonly Command[]): Command {
  return {
    name: "help",
    usage: "/help",
    description: "show this list",
    async run(ctx) {
      await ctx.reply(helpText(list()));
    },
  };
}
