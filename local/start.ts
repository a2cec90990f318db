/**
 * `npm start`: the bot on this machine, no AWS account needed. With TELEGRAM_TOKEN it
 * long-polls Telegram; without, it opens a terminal chat that plays a Telegram private chat.
 * Either way every update goes through the handler's real entry point against dynalite and
 * s3rver on loopback, with data kept under .data/. See START_HELP for the options.
 */
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import { Agent } from "undici";
// The terminal chat needs a Bot API endpoint in-process: the stand-in (shared with the tests)
// is exactly that (real HTTP, Telegram's HTML checks, files for getFile).
import { TelegramStandIn } from "./stand-ins/telegram/server";
import { ConnectionError, ServiceError } from "../handler/net/errors";
import { createRedactor } from "../handler/observability/log";
import { TelegramClient } from "../handler/telegram/client";
import { ArgumentError, parseStartArgs, START_HELP, type StartArgs } from "./args";
import { observeBotApi, type ObservedCall } from "./observed-bot";
import { botIdOf, FileOffsetStore } from "./offset-store";
import { pollUpdates, WebhookActiveError } from "./polling";
import { FUNCTION_ENV } from "../config/function-env";
import { EMULATOR_CREDENTIALS } from "./emulators";
import { TranscriptionStandIn } from "./stand-ins/transcription";
import { runtimeBanner, startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from "./runtime";
import { standInRows, type BannerStandIn } from "./banner";
import { startStandInModels, type StandInModels } from "./stand-in-model";
import { loadStackConfig } from "../config/stack-config";
import { runTerminalChat } from "./terminal-chat";

/** The token of the in-process Bot API of the terminal chat (not a real bot). */
export const LOCAL_CHAT_TOKEN = "1:local-terminal-chat";

/** What `npm start` reads and writes; tests pass their own. */
export interface StartDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Project directory (data and exports folders are relative to it). @default process.cwd() */
  readonly cwd: string;
  /** Aborted on Ctrl-C / SIGTERM. @default - one wired to the process's signals */
  readonly signal: AbortSignal;
  /** Passed to startLocalRuntime (tests give running emulators). @default - none */
  readonly runtime: Partial<LocalRuntimeOptions>;
  /** The stand-in model servers running (--stand-in-model), listed in the banner. @default - none */
  readonly standIns: readonly BannerStandIn[];
}

const line = (out: Writable, text = "") => void out.write(`${text}\n`);

/** An AbortSignal aborted by the first SIGINT or SIGTERM; a second one exits at once. */
function processSignal(stderr: Writable): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      line(stderr, `\n${name} again: exiting now`);
      process.exit(130);
    }
    line(stderr, `\n${name}: finishing the update in flight, then stopping (press Ctrl-C again to force)`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}


/** Long polling with a real token; resolves with the exit code. */
export async function runPollingMode(args: StartArgs, token: string, deps: StartDeps): Promise<number> {
  const { env, stdout, stderr } = deps;
  const apiUrl = env.TELEGRAM_API_URL?.trim() || undefined;
  // A connection pool of its own: destroying it on stop ends a long poll in flight at once.
  const pollingAgent = new Agent();
  const api = new TelegramClient({ token, apiUrl, timeoutMs: (args.pollTimeoutSeconds + 15) * 1000, dispatcher: pollingAgent });
  try {
    let username: string | undefined;
    try {
      username = (await api.call("getMe", {})).username;
    } catch (error) {
      if (error instanceof ServiceError && (error.status === 401 || error.status === 404)) {
        line(stderr, `error: Telegram rejected TELEGRAM_TOKEN (${error.status}); copy the token from @BotFather again`);
        return 1;
      }
      if (error instanceof ConnectionError) {
        line(stderr, `error: cannot reach the Bot API at ${apiUrl ?? "https://api.telegram.org"} (${error.message})`);
        return 1;
      }
      throw error;
    }
    const webhook = await api.call("getWebhookInfo", {});
    if (webhook.url) {
      if (!args.deleteWebhook) {
        line(stderr, `error: the bot has a webhook (${webhook.url}), so Telegram delivers updates there and long polling gets none.`);
        line(stderr, "  delete it with: npm start -- --delete-webhook   (point it back at AWS later with: npm run setup-webhook)");
        return 1;
      }
      await api.call("deleteWebhook", { drop_pending_updates: false });
      line(stdout, `deleted the webhook ${webhook.url}; pending updates are kept and will be polled`);
    }

    const runtime = await startLocalRuntime({ ...deps.runtime, dataDir: args.dataDir, cwd: deps.cwd, env, token, telegramApiUrl: apiUrl });
    try {
      const offsetStore = new FileOffsetStore(runtime.paths.offsetFile, botIdOf(token));
      line(stdout, runtimeBanner(runtime, `long polling as @${username ?? "?"}`, [...standInRows(deps.standIns), ["offset", runtime.paths.offsetFile]]));
      const summary = await pollUpdates({
        api,
        offsetStore,
        signal: deps.signal,
        timeoutSeconds: args.pollTimeoutSeconds,
        onUpdate: async (update) => {
          const status = await runtime.handleUpdate(update);
          if (status !== 200) line(stderr, `update ${update.update_id}: the handler answered ${status}`);
        },
        onError: (error, stage, update) => {
          const what = stage === "onUpdate" ? `update ${update?.update_id}` : "getUpdates";
          line(stderr, `${what} failed: ${error instanceof Error ? error.message : String(error)}; going on`);
        },
      });
      line(stdout, `stopped: ${summary.handled} update(s) handled${summary.offset !== undefined ? `, next offset ${summary.offset} saved` : ""}`);
      return 0;
    } catch (error) {
      if (error instanceof WebhookActiveError) {
        line(stderr, "error: a webhook was set while polling; stop it with npm start -- --delete-webhook");
        return 1;
      }
      throw error;
    } finally {
      await runtime.stop();
    }
  } finally {
    await pollingAgent.destroy().catch(() => undefined);
  }
}

/** The terminal chat; resolves with the exit code. */
export async function runTerminalMode(args: StartArgs, deps: StartDeps): Promise<number> {
  const { stdout } = deps;
  const standIn = await TelegramStandIn.start({ token: LOCAL_CHAT_TOKEN, botUsername: "LocalBot" });
  const listeners = new Set<(call: ObservedCall) => void>();
  const bot = observeBotApi(new TelegramClient({ token: LOCAL_CHAT_TOKEN, apiUrl: standIn.url }), (call) => {
    for (const listener of listeners) listener(call);
  });
  let log: ReturnType<typeof createWriteStream> | undefined;
  let runtime: LocalRuntime | undefined;
  try {
    const dataDir = resolve(deps.cwd, args.dataDir);
    await mkdir(dataDir, { recursive: true });
    const logStream = createWriteStream(resolve(dataDir, "bot.log"), { flags: "a" });
    log = logStream;
    runtime = await startLocalRuntime({
      ...deps.runtime,
      dataDir: args.dataDir,
      cwd: deps.cwd,
      env: deps.env,
      token: LOCAL_CHAT_TOKEN,
      telegramApiUrl: standIn.url,
      bot,
      logSink: (entry) => void logStream.write(`${entry}\n`),
    });
    const exportsDir = resolve(deps.cwd, args.exportsDir);
    line(
      stdout,
      runtimeBanner(runtime, "terminal chat (no TELEGRAM_TOKEN set)", [
        ...standInRows(deps.standIns),
        ["exports", exportsDir],
        ["bot log", runtime.paths.logFile],
        ["you", `user ${args.userId}; /import <file.json> sends a file, /photo <file> [caption] a picture, :<n> presses a button, /stop stops an answer, /quit or Ctrl-D ends`],
      ]),
    );
    const active = runtime;
    const summary = await runTerminalChat({
      input: deps.stdin,
      output: stdout,
      handleUpdate: async (update) => {
        const status = await active.handleUpdate(update);
        if (status !== 200) throw new Error(`the handler answered ${status}`);
      },
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      uploadFile: (data, fileName) => standIn.addFile(data, { filePath: `documents/${fileName}` }).file_id,
      exportsDir,
      user: { id: args.userId, firstName: "Local" },
      signal: deps.signal,
      cwd: deps.cwd,
    });
    line(stdout, `bye: ${summary.updates} message(s) sent; data kept in ${runtime.paths.dataDir}`);
    return 0;
  } finally {
    await runtime?.stop();
    await standIn.stop();
    await new Promise<void>((done) => (log ? log.end(done) : done()));
  }
}

/** Runs `npm start` with these arguments; resolves with the exit code. */
export async function main(argv: readonly string[], given: Partial<StartDeps> = {}): Promise<number> {
  const stderr = given.stderr ?? process.stderr;
  let args: StartArgs;
  try {
    args = parseStartArgs(argv);
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    line(stderr, `error: ${error.message}. See npm start -- --help.`);
    return 2;
  }
  const stdout = given.stdout ?? process.stdout;
  if (args.help) {
    stdout.write(START_HELP);
    return 0;
  }
  const own = given.signal ? undefined : processSignal(stderr);
  let deps: StartDeps = {
    env: given.env ?? process.env,
    stdin: given.stdin ?? process.stdin,
    stdout,
    stderr,
    cwd: given.cwd ?? process.cwd(),
    signal: given.signal ?? own!.signal,
    runtime: given.runtime ?? {},
    standIns: given.standIns ?? [],
  };
  const secrets = [deps.env.TELEGRAM_TOKEN, deps.env.OLLAMA_API_KEY, deps.env.OPENAI_API_KEY];
  let models: StandInModels | undefined;
  let transcription: TranscriptionStandIn | undefined;
  try {
    if (args.standInModel) {
      const signing = { credentials: { ...EMULATOR_CREDENTIALS }, ...standInSigning(deps.runtime) };
      models = await startStandInModels({ stack: deps.runtime.stackConfig ?? loadStackConfig({ env: deps.env }), env: deps.env, ...signing });
      deps = { ...deps, runtime: { ...deps.runtime, modelCredentials: signing.credentials } };
      deps = withStandIns(deps, models);
      for (const s of models.running) line(stdout, `stand-in model at ${s.url} (--stand-in-model): ${s.serves} for ${s.models.join(", ")}`);
      line(stdout, "stand-in answers are a fixed note, not a language model's");
      transcription = await standInTranscription(deps, stdout);
      if (transcription) deps = { ...deps, env: { ...deps.env, [FUNCTION_ENV.transcriptionUrl]: transcription.url } };
    }
    const token = deps.env.TELEGRAM_TOKEN?.trim();
    return token ? await runPollingMode(args, token, deps) : await runTerminalMode(args, deps);
  } catch (error) {
    const redact = createRedactor(secrets);
    line(stderr, `error: ${redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error))}`);
    return 1;
  } finally {
    await models?.stop();
    await transcription?.stop();
    own?.dispose();
  }
}

/**
 * The region and credentials the local handler signs Bedrock calls with, for its stand-in to
 * check: its emulators' (local/runtime.ts gives them to the handler as deps.credentials, and
 * their AWS_REGION to its config), or, when the runtime starts them, the defaults it starts
 * them with (EMULATOR_CREDENTIALS, the stack's region).
 */
function standInSigning(runtime: Partial<LocalRuntimeOptions>) {
  const emulators = runtime.emulators;
  return emulators ? { region: emulators.region, credentials: { ...emulators.credentials } } : {};
}

/** What the transcription stand-in hears in every recording under --stand-in-model. */
export const STAND_IN_TRANSCRIPT = "This is the stand-in transcription of npm start --stand-in-model, not a speech-to-text model.";

/** A transcription stand-in for voice messages, unless TRANSCRIPTION_URL names a real server. */
async function standInTranscription(deps: StartDeps, stdout: Writable): Promise<TranscriptionStandIn | undefined> {
  if (deps.env[FUNCTION_ENV.transcriptionUrl]?.trim()) return undefined;
  const standIn = await TranscriptionStandIn.start({ text: STAND_IN_TRANSCRIPT });
  line(stdout, `stand-in transcription at ${standIn.url} (--stand-in-model): every recording is heard as a fixed sentence`);
  return standIn;
}

/** The deps reaching the stand-ins: their environment, the model list with their URLs, the banner's rows. */
function withStandIns(deps: StartDeps, models: StandInModels): StartDeps {
  return { ...deps, env: models.env, runtime: { ...deps.runtime, stackConfig: models.stack }, standIns: models.running };
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
