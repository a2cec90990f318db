import { archiveCommand, exportCommand, listArchivesCommand } from "./archive";
import type { Command } from "./command";
import { echoCommand } from "./echo";
import { helpCommand } from "./help";
import { historyCommand, listSessionsCommand, newSessionCommand, switchCommand } from "./sessions";
import { startCommand } from "./start";
import { retryCommand } from "./retry";
import { statusCommand } from "./status";
import { stopCommand } from "./stop";
import { systemCommand } from "./system";
import { usageCommand } from "./usage";

const list: Command[] = [
  startCommand,
  helpCommand(() => COMMAND_LIST),
  newSessionCommand,
  listSessionsCommand,
  switchCommand,
  historyCommand,
  stopCommand,
  retryCommand,
  systemCommand,
  archiveCommand,
  listArchivesCommand,
  exportCommand,
  statusCommand,
  usageCommand,
  echoCommand,
];

/** Every command in the order /help lists them. */
export const COMMAND_LIST: readonly Command[] = list;

/** Command name or alias (lower case, no slash) → command. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  list.flatMap((c) => [c.name, ...(c.aliases ?? [])].map((name) => [name, c] as const)),
);

/**
 * The command menu Telegram shows when the user types "/" (setMyCommands): every command of
 * /help with its description, as the Bot API's BotCommand (1-32 lower-case letters, digits
 * and underscores; a description of 1-256 characters). Pure.
 */
export function commandMenu(commands: readonly Command[] = COMMAND_LIST): { command: string; description: string }[] {
  return commands.filter((c) => /^[a-z0-9_]{1,32}$/.test(c.name)).map((c) => ({ command: c.name, description: c.description.slice(0, 256) }));
}
