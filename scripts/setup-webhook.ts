/**
 * `npm run setup-webhook`: points the bot's Telegram webhook at the deployed API. Reads the
 * token (TF_VAR_telegram_token or terraform.tfvars) and the stack's outputs (api_gateway_url,
 * webhook_secret), calls setWebhook with the secret and the update types the bot handles, then
 * checks getWebhookInfo and getMe and prints a diagnosis. `--delete` removes the webhook. The
 * token is never printed.
 */
import type { BotApi } from "../handler/telegram/bot-api";
import { ConnectionError, ServiceError } from "../handler/net/errors";
import { createRedactor } from "../handler/observability/log";
import { TelegramClient } from "../handler/telegram/client";
import { commandMenu } from "../handler/commands";
import { HANDLED_UPDATE_TYPES } from "../handler/delivery/decode";
import { CliError, EXIT_FAILURE, EXIT_OK, parseCli, printer, processIo, runCommand, runMain, type CliIo } from "./lib/cli";
import { loadStackOutputs, OUTPUT_NAMES, type LoadStackOutputsOptions, type StackOutputs } from "./lib/stack-outputs";
import { readBotToken } from "./lib/tfvars";
import { diagnoseWebhook, formatFindings } from "./lib/webhook-diagnosis";

/** Help text. */
export const HELP = `Usage: npm run setup-webhook [-- options]

Registers the deployed API Gateway URL as the bot's Telegram webhook, with the stack's secret
token and allowed_updates limited to what the bot handles (${HANDLED_UPDATE_TYPES.join(", ")}), then verifies it
with getWebhookInfo and getMe and prints a diagnosis.

The token comes from TF_VAR_telegram_token or telegram_token in terraform.tfvars; the URL and
secret from the stack's outputs (cdktf-outputs.json, else terraform output).

Options:
  --drop-pending          discard updates that queued up while no webhook worked
  --delete                delete the webhook instead (cleanup; or to use npm start's polling)
  --url <https url>       register this URL instead of api_gateway_url (the stack's secret is still used)
  --outputs-file <file>   stack outputs file (default cdktf-outputs.json)
  --stack <name>          stack whose outputs are read (default: the only one)
  -h, --help              show this help

Environment: TELEGRAM_API_URL overrides https://api.telegram.org.
Exit code: 0 when the webhook is set and healthy, 1 on a problem, 2 on a wrong command line.
`;

/** What the script reads and calls; tests replace them. */
export interface SetupWebhookDeps {
  readonly io: CliIo;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly now: () => Date;
  /** The Bot API client for a token. @default - a TelegramClient on TELEGRAM_API_URL */
  readonly telegram: (token: string, apiUrl: string | undefined) => BotApi;
  /** Reads the stack outputs. @default loadStackOutputs */
  readonly outputs: (options: LoadStackOutputsOptions) => Promise<StackOutputs>;
}

const defaults = (): SetupWebhookDeps => ({
  io: processIo,
  env: process.env,
  cwd: process.cwd(),
  now: () => new Date(),
  telegram: (token, apiUrl) => new TelegramClient({ token, apiUrl }),
  outputs: loadStackOutputs,
});

/** Turns a Bot API failure into a message that says what to do (never containing the token). */
function explainTelegram(error: unknown, step: string, source: string): unknown {
  if (error instanceof ServiceError && (error.status === 401 || error.status === 404) && step === "getMe") {
    return new CliError(`Telegram rejected the bot token from ${source} (${error.status} ${error.description}); copy it again from @BotFather`);
  }
  if (error instanceof ServiceError) return new CliError(`${step} failed: ${error.description}`);
  if (error instanceof ConnectionError) return new CliError(`cannot reach the Bot API (${step}): ${error.message}`);
  return error;
}

async function step<T>(name: string, source: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw explainTelegram(error, name, source);
  }
}

/** Runs the script; resolves with the exit code. */
export async function main(argv: readonly string[], given: Partial<SetupWebhookDeps> = {}): Promise<number> {
  const deps = { ...defaults(), ...given };
  const out = printer(deps.io.stdout);
  const secrets: string[] = [];
  const redact = (text: string) => createRedactor(secrets)(text);
  return runCommand(
    deps.io,
    async () => {
      const { values } = parseCli(argv, {
        help: { type: "boolean", short: "h" },
        "drop-pending": { type: "boolean" },
        delete: { type: "boolean" },
        url: { type: "string" },
        "outputs-file": { type: "string" },
        stack: { type: "string" },
      }, false);
      if (values.help) {
        deps.io.stdout.write(HELP);
        return EXIT_OK;
      }
      const { token, source } = readBotToken({ env: deps.env, cwd: deps.cwd });
      secrets.push(token);
      const api = deps.telegram(token, deps.env.TELEGRAM_API_URL?.trim() || undefined);

      const me = await step("getMe", source, () => api.call("getMe", {}));
      out(`bot: @${me.username} (id ${me.id}), token from ${source}`);

      const dropPending = values["drop-pending"] === true;
      if (values.delete) {
        await step("deleteWebhook", source, () => api.call("deleteWebhook", { drop_pending_updates: dropPending }));
        const info = await step("getWebhookInfo", source, () => api.call("getWebhookInfo", {}));
        if (info.url !== "") throw new CliError(`the webhook is still set to ${info.url}`);
        out(`webhook deleted${dropPending ? " and pending updates dropped" : ""}; ${info.pending_update_count} update(s) waiting for getUpdates`);
        return EXIT_OK;
      }

      const outputs = await deps.outputs({ cwd: deps.cwd, env: deps.env, file: values["outputs-file"] as string | undefined, stackName: values.stack as string | undefined });
      const url = (values.url as string | undefined) ?? outputs.require(OUTPUT_NAMES.apiGatewayUrl);
      const secret = outputs.require(OUTPUT_NAMES.webhookSecret);
      secrets.push(secret);
      if (!/^https:\/\//i.test(url)) throw new CliError(`the webhook URL must be https, got ${url}`);

      const registeredAt = deps.now();
      await step("setWebhook", source, () =>
        api.call("setWebhook", {
          url,
          secret_token: secret,
          allowed_updates: [...HANDLED_UPDATE_TYPES],
          drop_pending_updates: dropPending,
        }),
      );
      out(`setWebhook: ${url} (stack ${outputs.stackName}, secret token set${dropPending ? ", pending updates dropped" : ""})`);
      const menu = commandMenu();
      await step("setMyCommands", source, () => api.call("setMyCommands", { commands: menu }));
      out(`setMyCommands: ${menu.length} commands in the "/" menu`);
      const queueUrl = outputs.get(OUTPUT_NAMES.updateQueueUrl);
      if (queueUrl) out(`delivery: queue ${queueUrl} (dead letters: ${outputs.get(OUTPUT_NAMES.deadLetterQueueUrl) ?? "unknown"})`);
      else out("delivery: sync (API Gateway invokes the function)");

      const info = await step("getWebhookInfo", source, () => api.call("getWebhookInfo", {}));
      const findings = diagnoseWebhook(info, { url, allowedUpdates: HANDLED_UPDATE_TYPES, now: deps.now(), registeredAt });
      out("diagnosis:");
      out(formatFindings(findings));
      const failed = findings.some((f) => f.level === "problem");
      out(failed ? "the webhook needs attention (see above)" : `done: send /start to @${me.username} in Telegram`);
      return failed ? EXIT_FAILURE : EXIT_OK;
    },
    redact,
  );
}

if (require.main === module) runMain((argv) => main(argv));
