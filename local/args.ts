/**
 * Command lines of `npm start` and `npm run dev:webhook` (node:util parseArgs), parsed into
 * typed options with their defaults. Pure: errors are thrown as messages, never printed here.
 */
import { parseArgs } from "node:util";
import { DEFAULT_POLL_TIMEOUT_SECONDS } from "./polling";
import { DEFAULT_DATA_DIR, DEFAULT_EXPORTS_DIR } from "./paths";

/** A command line that cannot be used; the message says why. */
export class ArgumentError extends Error {
  override readonly name = "ArgumentError";
}

/** Options of `npm start`. */
export interface StartArgs {
  readonly help: boolean;
  /** Delete a webhook that blocks long polling. @default false */
  readonly deleteWebhook: boolean;
  /** @default ".data" */
  readonly dataDir: string;
  /** Where the terminal chat saves documents. @default "exports" */
  readonly exportsDir: string;
  /** getUpdates long-poll timeout, in seconds. @default 30 */
  readonly pollTimeoutSeconds: number;
  /** Telegram user id of the terminal chat's user. @default 1 */
  readonly userId: number;
  /**
   * Answer every configured model from a stand-in on loopback (local/stand-in-model.ts) instead
   * of Ollama at OLLAMA_URL, Bedrock and the openai entries' base URLs. @default false
   */
  readonly standInModel: boolean;
}

/** Help text of `npm start`. */
export const START_HELP = `Usage: npm start [-- options]

Runs the bot on this machine with no AWS account: DynamoDB (dynalite) and S3 (s3rver) on
loopback with data under .data/, Ollama at OLLAMA_URL (default http://127.0.0.1:11434).
With --stand-in-model every configured model, Bedrock and OpenAI-compatible ones too, is
answered by a stand-in on loopback instead: no model server or cloud account needed.

With TELEGRAM_TOKEN set, the bot long-polls Telegram (getUpdates) and answers real chats.
Without it, an interactive terminal chat plays a Telegram private chat:
  type a message or a command (/help), /import <file.json> sends a file as a document,
  /photo <file.jpg|png> [caption] a picture, :<n> presses button n of the latest message,
  /stop stops the answer being written (at once, even while it streams), documents the
  bot sends are saved to exports/, /quit or Ctrl-D ends the chat.

Options:
  --delete-webhook        delete the bot's webhook so long polling can receive updates
  --data-dir <dir>        data folder (default .data)
  --exports-dir <dir>     where the terminal chat saves documents (default exports)
  --poll-timeout <s>      getUpdates long-poll timeout in seconds (default 30)
  --user-id <id>          Telegram user id of the terminal chat's user (default 1)
  --stand-in-model        no model server or cloud account needed: stand-ins on loopback
                          serve every configured model, Ollama, Bedrock and OpenAI-compatible
                          alike, and stream a short fixed note slowly enough to try /stop;
                          reasoning models (thinking) send a short reasoning, vision models
                          and every Ollama model take pictures (none is a language model)
  -h, --help              show this help

Environment: TELEGRAM_TOKEN, TELEGRAM_API_URL, OLLAMA_URL, OLLAMA_API_KEY, OLLAMA_MODELS,
MODELS (the model list as JSON), OPENAI_API_KEY, OLLAMA_TIMEOUT_MS, ALLOWED_USER_IDS,
LOG_LEVEL.
`;

function run<T extends NonNullable<Parameters<typeof parseArgs>[0]>["options"]>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new ArgumentError(error instanceof Error ? error.message : String(error));
  }
}

function positiveInteger(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new ArgumentError(`${name} must be a whole number from 1 to ${max}, got "${raw}"`);
  return Number(raw);
}

/** Parses `npm start`'s arguments. */
export function parseStartArgs(argv: readonly string[]): StartArgs {
  const values = run(argv, {
    help: { type: "boolean", short: "h" },
    "delete-webhook": { type: "boolean" },
    "data-dir": { type: "string" },
    "exports-dir": { type: "string" },
    "poll-timeout": { type: "string" },
    "user-id": { type: "string" },
    "stand-in-model": { type: "boolean" },
  });
  return {
    help: values.help === true,
    deleteWebhook: values["delete-webhook"] === true,
    dataDir: (values["data-dir"] as string | undefined) ?? DEFAULT_DATA_DIR,
    exportsDir: (values["exports-dir"] as string | undefined) ?? DEFAULT_EXPORTS_DIR,
    pollTimeoutSeconds: positiveInteger("--poll-timeout", values["poll-timeout"] as string | undefined, DEFAULT_POLL_TIMEOUT_SECONDS, 50),
    userId: positiveInteger("--user-id", values["user-id"] as string | undefined, 1, Number.MAX_SAFE_INTEGER),
    standInModel: values["stand-in-model"] === true,
  };
}

/** Options of `npm run dev:webhook`. */
export interface WebhookServerArgs {
  readonly help: boolean;
  /** @default 8787 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
  /** @default ".data" */
  readonly dataDir: string;
  /** Public HTTPS base URL of a tunnel; when set, <url>/webhook is registered with setWebhook. @default PUBLIC_URL, else none */
  readonly publicUrl: string | undefined;
  /**
   * `sync`: every POST is handed to the handler as a proxy event, as API Gateway's Lambda proxy
   * integration does. `queue`: the POST goes through the authorizer and the request template
   * into an SQS FIFO queue on the fauxqs emulator, which the handler consumes as the event
   * source mapping would.
   * @default "sync"
   */
  readonly delivery: "sync" | "queue";
}

/** Default port of the dev webhook server. */
export const DEFAULT_WEBHOOK_PORT = 8787;
/** Default address of the dev webhook server. */
export const DEFAULT_WEBHOOK_HOST = "127.0.0.1";

/** Help text of `npm run dev:webhook`. */
export const WEBHOOK_SERVER_HELP = `Usage: npm run dev:webhook [-- options]

Serves Telegram webhook POSTs on a local HTTP endpoint exactly as API Gateway hands them to the
function (same event shape, same X-Telegram-Bot-Api-Secret-Token check), for use behind a
tunnel. Uses the same emulators and data folder as npm start.

--delivery queue plays queue mode instead: the secret is checked by the bundle's authorizer,
the real API Gateway request template builds the SendMessage, and an SQS FIFO queue on the
fauxqs emulator (on loopback, with the stack's queue settings and dead-letter queue) hands the
handler batches per chat, with receive counts and failed records delivered again.

The handler checks the secret TELEGRAM_SECRET_TOKEN (a random one is made when unset and
never printed: --public-url registers the webhook with it). Needs TELEGRAM_TOKEN to answer.

Options:
  --port <n>           port (default 8787; 0 picks a free one)
  --host <address>     address to bind (default 127.0.0.1)
  --data-dir <dir>     data folder (default .data)
  --public-url <url>   your tunnel's https URL: registers <url>/webhook with Telegram,
                       with this run's secret (default: PUBLIC_URL)
  --delivery <mode>    sync (default) or queue
  -h, --help         show this help
`;

/** Parses `npm run dev:webhook`'s arguments. */
export function parseWebhookServerArgs(argv: readonly string[]): WebhookServerArgs {
  const values = run(argv, {
    help: { type: "boolean", short: "h" },
    port: { type: "string" },
    host: { type: "string" },
    "data-dir": { type: "string" },
    "public-url": { type: "string" },
    delivery: { type: "string" },
  });
  const delivery = (values.delivery as string | undefined) ?? "sync";
  if (delivery !== "sync" && delivery !== "queue") throw new ArgumentError(`--delivery must be sync or queue, got "${delivery}"`);
  const rawPort = values.port as string | undefined;
  let port = DEFAULT_WEBHOOK_PORT;
  if (rawPort !== undefined) {
    if (!/^\d+$/.test(rawPort) || Number(rawPort) > 65535) throw new ArgumentError(`--port must be a port number from 0 to 65535, got "${rawPort}"`);
    port = Number(rawPort);
  }
  return {
    help: values.help === true,
    port,
    host: (values.host as string | undefined) ?? DEFAULT_WEBHOOK_HOST,
    dataDir: (values["data-dir"] as string | undefined) ?? DEFAULT_DATA_DIR,
    publicUrl: publicUrl(values["public-url"] as string | undefined),
    delivery,
  };
}

function publicUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^https:\/\/[^\s/]+/i.test(raw)) throw new ArgumentError(`--public-url must be an https URL (Telegram only calls https webhooks), got "${raw}"`);
  return raw.replace(/\/+$/, "");
}
