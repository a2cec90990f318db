/**
 * `npm run manage-ollama -- <start|stop|status|ssh>`: the Ollama EC2 instance day to day.
 * start waits until /api/version answers through the nginx proxy (with the API key), showing
 * progress; stop stops the instance (its models sync to S3 on shutdown); status shows the
 * instance, the API's health and the models present versus configured; ssh prints (or runs)
 * the ssh command. A stack whose model list has no Ollama model has no instance: status says so
 * and exits 0, the other commands fail saying so.
 */
import { spawn } from "node:child_process";
import { DescribeInstancesCommand, EC2Client, StartInstancesCommand, StopInstancesCommand } from "@aws-sdk/client-ec2";
import { OLLAMA_INTERNAL_PORT } from "../config/defaults";
import { loadStackConfig } from "../config/stack-config";
import { createRedactor } from "../handler/observability/log";
import { OllamaClient } from "../handler/model/ollama";
import { pinnedDispatcher } from "../handler/net/undici";
import { awsCall, stackRegion } from "./lib/aws";
import { CliError, EXIT_FAILURE, EXIT_OK, parseCli, printer, processIo, runCommand, runMain, UsageError, type CliIo, type TextSink } from "./lib/cli";
import { compareModels, formatModelComparison, probeOllama, type OllamaProbeApi } from "./lib/ollama-status";
import { startProgress } from "./lib/progress";
import { hasOllamaInstance, loadStackOutputs, OUTPUT_NAMES, type LoadStackOutputsOptions, type StackOutputs } from "./lib/stack-outputs";

/** The login user of the instance's AMI (Amazon Linux 2023, constructs/ollama-server.ts). */
export const DEFAULT_SSH_USER = "ec2-user";
/** How long start waits for the instance and then the API, in seconds. */
export const DEFAULT_START_TIMEOUT_SECONDS = 600;
/** Pause between two polls, in ms. */
export const POLL_INTERVAL_MS = 5000;
/** What every command says of a stack whose model list has no Ollama model (status exits 0, the others 1). */
export const NO_OLLAMA_INSTANCE = "This stack has no Ollama instance (no model in `models` uses provider ollama)";

/** Help text. */
export const HELP = `Usage: npm run manage-ollama -- <command> [options]

Commands:
  start    start the Ollama instance and wait until its API answers through the proxy
  stop     stop the instance (its models are synced to S3 on shutdown)
  status   instance state, public IP, API health, models present versus configured
  ssh      print the ssh command for the instance (--exec runs it)

Options:
  --timeout <s>           start: how long to wait, in seconds (default ${DEFAULT_START_TIMEOUT_SECONDS})
  --wait                  stop: wait until the instance has stopped
  --key <file>            ssh: private key file (e.g. ~/.ssh/labsuser.pem)
  --user <name>           ssh: login user (default ${DEFAULT_SSH_USER}, Amazon Linux 2023)
  --exec                  ssh: run the command instead of printing it
  --outputs-file <file>   stack outputs file (default cdktf-outputs.json)
  --stack <name>          stack whose outputs are read (default: the only one)
  -h, --help              show this help

On the instance Ollama listens on 127.0.0.1:${OLLAMA_INTERNAL_PORT}: OLLAMA_HOST=http://127.0.0.1:${OLLAMA_INTERNAL_PORT} ollama pull <model>
`;

/** What the EC2 client must do (EC2Client does; tests use aws-sdk-client-mock). */
export type Ec2Api = Pick<EC2Client, "send">;

/** What the script reads and calls; tests replace them. */
export interface ManageOllamaDeps {
  readonly io: CliIo & { readonly stderr: TextSink & { isTTY?: boolean } };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly outputs: (options: LoadStackOutputsOptions) => Promise<StackOutputs>;
  /** @default - an EC2Client in the stack's region */
  readonly ec2: (region: string) => Ec2Api;
  /** @default - the handler's OllamaClient with the API key, trusting only the proxy's certificate when given */
  readonly ollama: (baseUrl: string, apiKey: string | undefined, caCert: string | undefined) => OllamaProbeApi;
  /** The Ollama models configured (the stack's). @default loadStackConfig().ollamaModels */
  readonly configuredModels: () => readonly string[];
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  /** Runs ssh with the terminal attached; resolves with its exit code. */
  readonly runSsh: (args: readonly string[]) => Promise<number>;
  /** Pause between polls, in ms. @default 5000 */
  readonly pollIntervalMs: number;
}

/** The handler's OllamaClient for the probes: the API key, and only the proxy's certificate trusted when given. */
export function ollamaProbeClient(baseUrl: string, apiKey: string | undefined, caCert: string | undefined, statusTimeoutMs = 5000): OllamaProbeApi {
  return new OllamaClient({ baseUrl, apiKey, statusTimeoutMs, ...(caCert ? { dispatcher: pinnedDispatcher(caCert) } : {}) });
}

const defaults = (): ManageOllamaDeps => ({
  io: processIo,
  env: process.env,
  cwd: process.cwd(),
  outputs: loadStackOutputs,
  ec2: (region) => new EC2Client({ region }),
  ollama: ollamaProbeClient,
  configuredModels: () => loadStackConfig().ollamaModels,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: Date.now,
  runSsh: (args) =>
    new Promise((resolve, reject) => {
      const child = spawn("ssh", [...args], { stdio: "inherit" });
      child.on("error", reject);
      child.on("exit", (code) => resolve(code ?? EXIT_FAILURE));
    }),
  pollIntervalMs: POLL_INTERVAL_MS,
});

/** The instance as DescribeInstances reports it. */
interface InstanceState {
  readonly state: string;
  readonly publicIp: string | undefined;
  readonly instanceType: string | undefined;
}

async function describe(ec2: Ec2Api, instanceId: string): Promise<InstanceState> {
  const result = await awsCall("ec2 DescribeInstances", () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
  const instance = result.Reservations?.[0]?.Instances?.[0];
  if (!instance) throw new CliError(`instance ${instanceId} was not found; is the stack deployed in this account and region?`);
  return { state: instance.State?.Name ?? "unknown", publicIp: instance.PublicIpAddress, instanceType: instance.InstanceType };
}

/** The ssh command line for an address. Pure. */
export function sshArgs(host: string, user: string, key: string | undefined): string[] {
  return [...(key ? ["-i", key] : []), `${user}@${host}`];
}

/** Quotes an argument for printing as a shell command. Pure. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./~-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The options main parses, checked. */
interface ManageOptions {
  readonly command: "start" | "stop" | "status" | "ssh";
  readonly timeoutMs: number;
  readonly wait: boolean;
  readonly key: string | undefined;
  readonly user: string;
  readonly exec: boolean;
  readonly outputsFile: string | undefined;
  readonly stack: string | undefined;
}

/** What every command works with: the deployed instance, its API and the chosen options. */
interface CommandContext {
  readonly deps: ManageOllamaDeps;
  readonly options: ManageOptions;
  readonly out: (line: string) => void;
  readonly outputs: StackOutputs;
  readonly ec2: Ec2Api;
  readonly instanceId: string;
  readonly apiUrl: () => string;
  /** The API key, remembered so that output redacts it. */
  readonly apiKey: () => string;
  /** The proxy's certificate (output ollama_certificate_pem); undefined for a stack deployed before TLS. */
  readonly caCert: () => string | undefined;
}

const COMMANDS = ["start", "stop", "status", "ssh"] as const;

/** Parses argv; undefined when help was asked for. */
function parseOptions(argv: readonly string[]): ManageOptions | undefined {
  const { values, positionals } = parseCli(argv, {
    help: { type: "boolean", short: "h" },
    timeout: { type: "string" },
    wait: { type: "boolean" },
    key: { type: "string" },
    user: { type: "string" },
    exec: { type: "boolean" },
    "outputs-file": { type: "string" },
    stack: { type: "string" },
  });
  if (values.help) return undefined;
  const command = COMMANDS.find((c) => c === positionals[0]);
  if (positionals.length !== 1 || command === undefined) {
    throw new UsageError(`expected one command: start, stop, status or ssh${positionals.length > 0 ? `, got "${positionals.join(" ")}"` : ""}`);
  }
  const timeoutRaw = values.timeout as string | undefined;
  if (timeoutRaw !== undefined && !/^\d+$/.test(timeoutRaw)) throw new UsageError(`--timeout must be a number of seconds, got "${timeoutRaw}"`);
  return {
    command,
    timeoutMs: (timeoutRaw !== undefined ? Number(timeoutRaw) : DEFAULT_START_TIMEOUT_SECONDS) * 1000,
    wait: Boolean(values.wait),
    key: values.key as string | undefined,
    user: (values.user as string | undefined) ?? DEFAULT_SSH_USER,
    exec: Boolean(values.exec),
    outputsFile: values["outputs-file"] as string | undefined,
    stack: values.stack as string | undefined,
  };
}

/** Runs the script; resolves with the exit code. */
export async function main(argv: readonly string[], given: Partial<ManageOllamaDeps> = {}): Promise<number> {
  const deps = { ...defaults(), ...given };
  const out = printer(deps.io.stdout);
  const secrets: string[] = [];
  return runCommand(
    deps.io,
    async () => {
      const options = parseOptions(argv);
      if (options === undefined) {
        deps.io.stdout.write(HELP);
        return EXIT_OK;
      }
      const outputs = await deps.outputs({ cwd: deps.cwd, env: deps.env, file: options.outputsFile, stackName: options.stack });
      if (!hasOllamaInstance(outputs)) {
        if (options.command !== "status") throw new CliError(`${NO_OLLAMA_INSTANCE}: nothing to ${options.command}`);
        out(NO_OLLAMA_INSTANCE);
        return EXIT_OK;
      }
      const context: CommandContext = {
        deps,
        options,
        out,
        outputs,
        ec2: deps.ec2(stackRegion(outputs, deps.env)),
        instanceId: outputs.require(OUTPUT_NAMES.ollamaInstanceId),
        apiUrl: () => outputs.require(OUTPUT_NAMES.ollamaUrl),
        apiKey: () => {
          const key = outputs.require(OUTPUT_NAMES.ollamaApiKey);
          secrets.push(key);
          return key;
        },
        caCert: () => outputs.get(OUTPUT_NAMES.ollamaCertificatePem),
      };
      return { status, start, stop, ssh }[options.command](context);
    },
    (text) => createRedactor(secrets)(text),
  );
}

async function status(context: CommandContext): Promise<number> {
  const { deps, out, instanceId } = context;
  const instance = await describe(context.ec2, instanceId);
  out(`instance  ${instanceId}  ${instance.state}${instance.instanceType ? `  (${instance.instanceType})` : ""}`);
  out(`public IP ${instance.publicIp ?? context.outputs.get(OUTPUT_NAMES.ollamaPublicIp) ?? "none"}`);
  if (instance.state !== "running") {
    out(`API       not checked: the instance is ${instance.state} (start it with npm run manage-ollama -- start)`);
    return EXIT_OK;
  }
  const url = context.apiUrl();
  const health = await probeOllama(deps.ollama(url, context.apiKey(), context.caCert()));
  if (!health.ok) {
    out(`API       ${url}: ${health.reason}`);
    return EXIT_FAILURE;
  }
  out(`API       ${url}: Ollama ${health.version}, answering through the proxy`);
  const configured = deps.configuredModels();
  const comparison = compareModels(health.models, configured);
  out(`models    ${health.models.length} present, ${configured.length} configured`);
  for (const l of formatModelComparison(comparison, configured)) out(l);
  return comparison.missing.length > 0 ? EXIT_FAILURE : EXIT_OK;
}

/**
 * Polls the instance until `done` holds for its state, showing progress; the final state, or
 * the exit code of giving up at the deadline.
 */
async function waitForInstance(
  context: CommandContext,
  from: InstanceState,
  done: (state: string) => boolean,
  what: { waiting: string; done: (state: string) => string },
  deadline: number,
): Promise<InstanceState | number> {
  const { deps } = context;
  let instance = from;
  const progress = startProgress(deps.io.stderr, what.waiting);
  while (!done(instance.state)) {
    if (deps.now() > deadline) return timedOut(context, progress, `the instance is ${instance.state}`);
    await deps.sleep(deps.pollIntervalMs);
    instance = await describe(context.ec2, context.instanceId);
    progress.step();
  }
  progress.done(what.done(instance.state));
  return instance;
}

async function start(context: CommandContext): Promise<number> {
  const { deps, out, instanceId } = context;
  const deadline = deps.now() + context.options.timeoutMs;
  let instance: InstanceState | number = await describe(context.ec2, instanceId);
  if (instance.state === "stopping") {
    instance = await waitForInstance(context, instance, (s) => s !== "stopping", { waiting: "waiting for the instance to finish stopping", done: (s) => `instance ${s}` }, deadline);
    if (typeof instance === "number") return instance;
  }
  if (instance.state === "terminated" || instance.state === "shutting-down") throw new CliError(`instance ${instanceId} is ${instance.state}; deploy the stack again`);
  if (instance.state !== "running") {
    await awsCall("ec2 StartInstances", () => context.ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] })));
    out(`starting ${instanceId} (was ${instance.state})`);
    instance = await waitForInstance(context, instance, (s) => s === "running", { waiting: "waiting for the instance to run", done: () => "instance running" }, deadline);
    if (typeof instance === "number") return instance;
  } else {
    out(`${instanceId} is already running`);
  }
  return waitForApi(context, deadline);
}

/** Polls the Ollama API through the proxy until it answers, the key is refused, or the deadline. */
async function waitForApi(context: CommandContext, deadline: number): Promise<number> {
  const { deps, out } = context;
  const url = context.apiUrl();
  const api = deps.ollama(url, context.apiKey(), context.caCert());
  const progress = startProgress(deps.io.stderr, `waiting for the Ollama API at ${url}`);
  for (;;) {
    const health = await probeOllama(api);
    if (health.ok) {
      progress.done(`Ollama ${health.version} answers through the proxy`);
      const configured = deps.configuredModels();
      const comparison = compareModels(health.models, configured);
      for (const l of formatModelComparison(comparison, configured)) out(l);
      out("ready: the bot can chat now");
      return EXIT_OK;
    }
    if (health.reason.includes("401")) {
      progress.done("the proxy answers but refuses the API key");
      throw new CliError(`${health.reason}; redeploy, or compare ollama_api_key with /etc/nginx on the instance`);
    }
    if (deps.now() > deadline) return timedOut(context, progress, `last answer: ${health.reason}`);
    await deps.sleep(deps.pollIntervalMs);
    progress.step();
  }
}

function timedOut(context: CommandContext, progress: ReturnType<typeof startProgress>, why: string): number {
  progress.done("gave up");
  context.deps.io.stderr.write(`error: not ready within ${Math.round(context.options.timeoutMs / 1000)} s (${why}); check again with npm run manage-ollama -- status\n`);
  return EXIT_FAILURE;
}

async function stop(context: CommandContext): Promise<number> {
  const { deps, out, instanceId } = context;
  const instance = await describe(context.ec2, instanceId);
  if (instance.state === "stopped") {
    out(`${instanceId} is already stopped`);
    return EXIT_OK;
  }
  await awsCall("ec2 StopInstances", () => context.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] })));
  out(`stopping ${instanceId}; its models are synced to S3 on shutdown and restored on the next start`);
  out("until it runs again the bot answers that the AI server is unreachable");
  if (!context.options.wait) return EXIT_OK;
  const stopped = await waitForInstance(context, instance, (s) => s === "stopped", { waiting: "waiting for the instance to stop", done: () => "instance stopped" }, deps.now() + context.options.timeoutMs);
  return typeof stopped === "number" ? stopped : EXIT_OK;
}

async function ssh(context: CommandContext): Promise<number> {
  const { deps, out, instanceId, options } = context;
  const instance = await describe(context.ec2, instanceId);
  const host = instance.publicIp ?? context.outputs.get(OUTPUT_NAMES.ollamaPublicIp);
  if (!host) throw new CliError(`instance ${instanceId} has no public IP (it is ${instance.state})`);
  if (instance.state !== "running") deps.io.stderr.write(`warning: the instance is ${instance.state}; start it first with npm run manage-ollama -- start\n`);
  const args = sshArgs(host, options.user, options.key);
  if (!options.exec) {
    out(["ssh", ...args].map(shellQuote).join(" "));
    if (!options.key) out(`(add -i <key file> unless your ssh agent holds the instance's key; SSH must be allowed by sshAllowedCidr)`);
    return EXIT_OK;
  }
  return deps.runSsh(args);
}

if (require.main === module) runMain((argv) => main(argv));
