import type { Command } from "./command";

/** /echo <text>: sends the text back (a quick end-to-end check). */
export const echoCommand: Command = {
  name: "echo",
  usage: "/echo <text>",
  description: "repeat your text back (a quick test)",
  async run(ctx, args) {
    await ctx.reply(args.length > 0 ? args : "Usage: /echo <text>");
  },
};
