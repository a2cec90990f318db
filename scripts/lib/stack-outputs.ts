/**
 * The deployed stack's outputs for the operator scripts. They come from, in order:
 * 1. the file `npx cdktf deploy --outputs-file cdktf-outputs.json --outputs-file-include-sensitive-outputs`
 *    writes: `{ "<stack>": { "<output id>": value, "<construct id>": { ... } } }`;
 * 2. `terraform output -json` run in cdktf.out/stacks/<stack> (the state cdktf deployed with):
 *    `{ "<name>": { "value": ..., "sensitive": bool, "type": ... } }`.
 * Neither gives anything: a CliError saying the stack is not deployed.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { MODEL_PROVIDERS_OUTPUT } from "../../config/models";
import { loadStackConfig } from "../../config/stack-config";
import { CliError } from "./cli";

/** Default outputs file, relative to the project directory. */
export const DEFAULT_OUTPUTS_FILE = "cdktf-outputs.json";
/** cdktf's output directory (cdktf.json "output"). */
export const CDKTF_OUT_DIR = "cdktf.out";

/** The output names the scripts read (the stack's TerraformOutput ids). */
export const OUTPUT_NAMES = Object.freeze({
  apiGatewayUrl: "api_gateway_url",
  s3BucketName: "s3_bucket_name",
  dynamodbTableName: "dynamodb_table_name",
  lambdaFunctionName: "lambda_function_name",
  lambdaLogGroup: "lambda_log_group",
  ollamaUrl: "ollama_url",
  ollamaInstanceId: "ollama_instance_id",
  ollamaPublicIp: "ollama_public_ip",
  ollamaApiKey: "ollama_api_key",
  ollamaCertificatePem: "ollama_certificate_pem",
  updateQueueUrl: "update_queue_url",
  deadLetterQueueUrl: "dead_letter_queue_url",
  webhookSecret: "webhook_secret",
  region: "region",
  /** The providers of the model list ("ollama,bedrock"). */
  modelProviders: MODEL_PROVIDERS_OUTPUT,
  dashboardUrl: "dashboard_url",
} as const);

/** Outputs that only an outputs file written with --outputs-file-include-sensitive-outputs carries. */
export const SENSITIVE_OUTPUTS: readonly string[] = [OUTPUT_NAMES.ollamaApiKey, OUTPUT_NAMES.webhookSecret];

/** The command that deploys and writes the outputs file the scripts read first. */
export const DEPLOY_COMMAND = `npx cdktf deploy --outputs-file ${DEFAULT_OUTPUTS_FILE} --outputs-file-include-sensitive-outputs`;

/**
 * Whether the deployed stack has an Ollama instance: its model_providers output names ollama.
 * A stack deployed before that output existed always had one. Pure.
 */
export function hasOllamaInstance(outputs: StackOutputs): boolean {
  const providers = outputs.get(OUTPUT_NAMES.modelProviders);
  return providers === undefined || providers.split(",").some((p) => p.trim() === "ollama");
}

/** Lower-case with `_`, `-` and `.` removed, so `apiGatewayUrl`, `api-gateway-url` and `api_gateway_url` match. */
function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[-_.]/g, "");
}

/** The outputs of one deployed stack. */
export class StackOutputs {
  private readonly byName: ReadonlyMap<string, unknown>;

  constructor(
    /** Stack the outputs belong to. */
    readonly stackName: string,
    /** Where they were read: a file path or "terraform output". */
    readonly source: string,
    values: Readonly<Record<string, unknown>>,
  ) {
    const map = new Map<string, unknown>();
    for (const [name, value] of Object.entries(values)) map.set(normaliseName(name), value);
    this.byName = map;
  }

  /** Names present (normalised). */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** An output as a string (numbers and booleans converted); undefined when absent or empty. */
  get(name: string): string | undefined {
    const value = this.byName.get(normaliseName(name));
    if (value === undefined || value === null) return undefined;
    const text = typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
    return text === "" ? undefined : text;
  }

  /** An output that must be there; the CliError names it and how to get it (never a value). */
  require(name: string): string {
    const value = this.get(name);
    if (value !== undefined) return value;
    if (SENSITIVE_OUTPUTS.includes(name)) {
      throw new CliError(
        `output ${name} is sensitive and ${this.source} does not carry it: run ${DEPLOY_COMMAND} (the file holds secrets; keep it out of git)`,
      );
    }
    throw new CliError(`stack ${this.stackName} has no output ${name} (read from ${this.source}); run ${DEPLOY_COMMAND}`);
  }
}

/**
 * The leaf values of one stack in a cdktf outputs file, keyed by output id. Outputs nested in
 * constructs are found by their own id and by the path joined with "_". Pure.
 */
export function flattenOutputsFile(stackValues: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (node: unknown, path: string[]) => {
    if (node !== null && typeof node === "object" && !Array.isArray(node)) {
      for (const [key, child] of Object.entries(node as Record<string, unknown>)) walk(child, [...path, key]);
      return;
    }
    if (path.length === 0) return;
    out[path.join("_")] = node;
    out[path[path.length - 1]!] ??= node;
  };
  walk(stackValues, []);
  return out;
}

/**
 * Picks a stack's outputs from a parsed cdktf outputs file: `stackName` when given and present,
 * else the only stack. Throws a CliError naming the stacks when the choice is ambiguous. Pure.
 */
export function parseOutputsFile(json: unknown, source: string, stackName?: string): StackOutputs | undefined {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new CliError(`${source} is not a cdktf outputs file (expected a JSON object of stacks)`);
  }
  const stacks = Object.keys(json);
  if (stacks.length === 0) return undefined;
  const chosen = stackName !== undefined && stacks.includes(stackName) ? stackName : stacks.length === 1 ? stacks[0]! : undefined;
  if (chosen === undefined) {
    throw new CliError(`${source} has stacks ${stacks.join(", ")}; choose one with --stack`);
  }
  return new StackOutputs(chosen, source, flattenOutputsFile((json as Record<string, unknown>)[chosen]));
}

/** Parses `terraform output -json`; undefined when there are no outputs (nothing deployed). Pure. */
export function parseTerraformOutputJson(text: string, stackName: string): StackOutputs | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError("terraform output -json did not print JSON");
  }
  if (json === null || typeof json !== "object") return undefined;
  const values: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    values[name] = entry !== null && typeof entry === "object" && "value" in entry ? (entry as { value: unknown }).value : entry;
  }
  return Object.keys(values).length === 0 ? undefined : new StackOutputs(stackName, "terraform output", values);
}

/**
 * The stack name: the only stack in cdktf.out/manifest.json, else the configured project name
 * (main.ts names the stack after it).
 */
export function resolveStackName(cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const manifest = join(cwd, CDKTF_OUT_DIR, "manifest.json");
  if (existsSync(manifest)) {
    try {
      const stacks = Object.keys((JSON.parse(readFileSync(manifest, "utf8")) as { stacks?: object }).stacks ?? {});
      if (stacks.length === 1) return stacks[0]!;
    } catch {
      // An unreadable manifest is not fatal: fall back to the configured name.
    }
  }
  return loadStackConfig({ env }).projectName;
}

/** Runs `terraform output -json` in a directory; resolves with stdout. */
export type TerraformOutputRunner = (workingDirectory: string) => Promise<string>;

/** The real runner: the terraform binary on PATH, 60 s at most. */
export const runTerraformOutput: TerraformOutputRunner = (workingDirectory) =>
  new Promise((resolvePromise, reject) => {
    execFile("terraform", ["output", "-json"], { cwd: workingDirectory, timeout: 60_000, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`terraform output failed: ${String(stderr).trim().split("\n").slice(-3).join(" ") || error.message}`));
      else resolvePromise(String(stdout));
    });
  });

/** Options of {@link loadStackOutputs}. */
export interface LoadStackOutputsOptions {
  /** Project directory. @default process.cwd() */
  readonly cwd?: string;
  /** Outputs file; when given explicitly it must exist. @default "cdktf-outputs.json" in cwd, if present */
  readonly file?: string;
  /** Stack whose outputs are read. @default resolveStackName(cwd) */
  readonly stackName?: string;
  /** Runs terraform. @default runTerraformOutput */
  readonly terraform?: TerraformOutputRunner;
  /** Environment (stack config overrides). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Reads the deployed stack's outputs: the outputs file, else `terraform output -json` in the
 * synthesized stack's directory. Throws a CliError "stack ... not deployed" when neither has any.
 */
export async function loadStackOutputs(options: LoadStackOutputsOptions = {}): Promise<StackOutputs> {
  const cwd = options.cwd ?? process.cwd();
  const stackName = options.stackName ?? resolveStackName(cwd, options.env);
  const file = resolve(cwd, options.file ?? DEFAULT_OUTPUTS_FILE);
  if (options.file !== undefined && !existsSync(file)) {
    throw new CliError(`outputs file ${options.file} does not exist; write it with ${DEPLOY_COMMAND}`);
  }
  if (existsSync(file)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      throw new CliError(`${file} is not valid JSON; write it again with ${DEPLOY_COMMAND}`);
    }
    const outputs = parseOutputsFile(json, file, stackName);
    if (outputs) return outputs;
  }
  const stackDir = join(cwd, CDKTF_OUT_DIR, "stacks", stackName);
  if (existsSync(stackDir)) {
    let text: string | undefined;
    try {
      text = await (options.terraform ?? runTerraformOutput)(stackDir);
    } catch {
      text = undefined;
    }
    const outputs = text === undefined ? undefined : parseTerraformOutputJson(text, stackName);
    if (outputs) return outputs;
  }
  throw new CliError(`stack ${stackName} is not deployed (no ${DEFAULT_OUTPUTS_FILE}, no terraform outputs): run ${DEPLOY_COMMAND}`);
}
