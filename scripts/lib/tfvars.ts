/**
 * The bot token for the scripts, read the way Terraform would get it: TF_VAR_telegram_token,
 * else `telegram_token = "..."` in terraform.tfvars. The token is returned, never printed.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "./cli";

/** Name of the Terraform variable that holds the bot token. */
export const TOKEN_VARIABLE = "telegram_token";
/** Environment variable Terraform reads the token from. */
export const TOKEN_ENV = `TF_VAR_${TOKEN_VARIABLE}`;
/** The variables file cdktf and Terraform read from the project directory. */
export const TFVARS_FILE = "terraform.tfvars";

/**
 * Parses the simple assignments of a .tfvars file: `key = "value"` (with \" \\ \n \t escapes),
 * `key = 123`, `key = true`. Comments (#, //, and /* *\/ on their own lines) and blank lines are
 * skipped; lists, maps and heredocs are ignored (the scripts need none). Pure.
 */
export function parseTfvars(text: string): Map<string, string> {
  const values = new Map<string, string>();
  let inBlockComment = false;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (inBlockComment) {
      if (line.includes("*/")) inBlockComment = false;
      continue;
    }
    if (line.startsWith("/*")) {
      inBlockComment = !line.includes("*/");
      continue;
    }
    const match = /^([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const value = parseValue(match[2]!);
    if (value !== undefined) values.set(match[1]!, value);
  }
  return values;
}

/** A quoted string (with escapes) or a bare number/bool, with a trailing comment allowed. */
function parseValue(rest: string): string | undefined {
  if (rest.startsWith('"')) {
    let out = "";
    for (let i = 1; i < rest.length; i++) {
      const c = rest[i]!;
      if (c === '"') return out;
      if (c === "\\" && i + 1 < rest.length) {
        const next = rest[++i]!;
        out += next === "n" ? "\n" : next === "t" ? "\t" : next;
      } else {
        out += c;
      }
    }
    return undefined; // unterminated
  }
  const bare = /^(-?\d+(?:\.\d+)?|true|false)\s*(?:(?:#|\/\/).*)?$/.exec(rest);
  return bare ? bare[1] : undefined;
}

/** Where the token was found (for messages; never the token itself). */
export type TokenSource = typeof TOKEN_ENV | typeof TFVARS_FILE;

/**
 * The bot token from TF_VAR_telegram_token or `<cwd>/terraform.tfvars`; throws a CliError
 * saying where to put it when neither has one. @default cwd - process.cwd()
 */
export function readBotToken(options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): { token: string; source: TokenSource } {
  const env = options.env ?? process.env;
  const fromEnv = env[TOKEN_ENV]?.trim();
  if (fromEnv) return { token: fromEnv, source: TOKEN_ENV };
  const file = join(options.cwd ?? process.cwd(), TFVARS_FILE);
  if (existsSync(file)) {
    const token = parseTfvars(readFileSync(file, "utf8")).get(TOKEN_VARIABLE)?.trim();
    if (token) return { token, source: TFVARS_FILE };
  }
  throw new CliError(
    `no bot token: set ${TOKEN_ENV} or add ${TOKEN_VARIABLE} = "<token from @BotFather>" to ${TFVARS_FILE}`,
  );
}

