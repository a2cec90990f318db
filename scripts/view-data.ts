/**
 * `npm run view-data`: what the bot has stored: live sessions (DynamoDB) and archives (S3),
 * as a summary or in full (-v), for the deployed stack (its outputs) or local mode (--local:
 * the emulators `npm start` runs, or the .data folder directly when nothing runs).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DocumentClient } from "../handler/store/document-client";
import type { S3ClientFactory } from "../handler/store/archives";
import { createDocumentClient, createS3ClientFactory, type StaticCredentials } from "../handler/store/aws";
import { loadConfig } from "../handler/config";
import { EMULATOR_CREDENTIALS, startEmulators, type EmulatorOptions, type RunningEmulators } from "../local/emulators";
import { readEndpointsFile } from "../local/endpoints-file";
import { DEFAULT_DATA_DIR, localPaths } from "../local/paths";
import { awsCall, stackRegion } from "./lib/aws";
import { CliError, EXIT_OK, parseCli, printer, processIo, runCommand, runMain, UsageError, type CliIo } from "./lib/cli";
import { collectArchives, collectSessions, formatArchivesReport, formatSessionsReport } from "./lib/data-view";
import { loadStackOutputs, OUTPUT_NAMES, type LoadStackOutputsOptions, type StackOutputs } from "./lib/stack-outputs";

/** Help text. */
export const HELP = `Usage: npm run view-data [-- [dynamodb|s3] [options]]

Shows what the bot stored: sessions in DynamoDB and archives in S3. Without a section, both.

Options:
  -v, --verbose           show every message and every archived conversation
  --user <id>             only this Telegram user
  --local                 local mode's data: the emulators npm start runs, else the data folder
  --data-dir <dir>        local data folder (default ${DEFAULT_DATA_DIR})
  --outputs-file <file>   stack outputs file (default cdktf-outputs.json)
  --stack <name>          stack whose outputs are read (default: the only one)
  -h, --help              show this help
`;

/** What the script reads and calls; tests replace them. */
export interface ViewDataDeps {
  readonly io: CliIo;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Reads the stack outputs. @default loadStackOutputs */
  readonly outputs: (options: LoadStackOutputsOptions) => Promise<StackOutputs>;
  /** Starts emulators on a data folder when local mode has none running. @default startEmulators */
  readonly startEmulators: (options: EmulatorOptions) => Promise<RunningEmulators>;
  /** Credentials for the deployed stack. @default - the SDK's default chain */
  readonly credentials: StaticCredentials | undefined;
}

const defaults = (): ViewDataDeps => ({
  io: processIo,
  env: process.env,
  cwd: process.cwd(),
  outputs: loadStackOutputs,
  startEmulators,
  credentials: undefined,
});

/** Where the data is and how to reach it. */
interface Target {
  readonly label: string;
  readonly tableName: string;
  readonly bucketName: string;
  readonly doc: DocumentClient;
  readonly s3: S3ClientFactory;
  close(): Promise<void>;
}

/** Clients for a table and bucket, built by the handler's own helpers from a handler config. */
function clientsFor(env: Record<string, string | undefined>, credentials: StaticCredentials | undefined) {
  const config = loadConfig(env);
  const doc = createDocumentClient(config, credentials);
  const s3 = createS3ClientFactory(config, credentials);
  let s3Used = false;
  return {
    doc,
    s3: (() => {
      s3Used = true;
      return s3();
    }) as S3ClientFactory,
    close: async () => {
      doc.destroy();
      if (s3Used) (await s3()).destroy();
    },
  };
}

async function localTarget(dataDirOption: string, deps: ViewDataDeps): Promise<Target> {
  const paths = localPaths(dataDirOption, deps.cwd);
  const running = await readEndpointsFile(paths.endpointsFile);
  const credentials = { ...EMULATOR_CREDENTIALS };
  const envFor = (e: { dynamodbEndpoint: string; s3Endpoint: string; tableName: string; bucketName: string; region: string }) => ({
    AWS_ENDPOINT_URL_DYNAMODB: e.dynamodbEndpoint,
    AWS_ENDPOINT_URL_S3: e.s3Endpoint,
    S3_FORCE_PATH_STYLE: "true",
    AWS_REGION: e.region,
    DYNAMODB_TABLE: e.tableName,
    S3_BUCKET_NAME: e.bucketName,
  });
  if (running) {
    const clients = clientsFor(envFor(running), credentials);
    return { label: `local (the running npm start, pid ${running.pid})`, tableName: running.tableName, bucketName: running.bucketName, ...clients };
  }
  if (!existsSync(join(paths.dataDir, "dynamodb"))) {
    throw new CliError(`no local data in ${paths.dataDir}: run npm start first (or pass --data-dir)`);
  }
  let emulators: RunningEmulators;
  try {
    emulators = await deps.startEmulators({ dataDir: paths.dataDir });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/lock/i.test(message)) {
      throw new CliError(`${paths.dataDir} is in use by another process (npm start without its endpoints file?); stop it or run view-data while it runs`);
    }
    throw error;
  }
  const clients = clientsFor(envFor(emulators), credentials);
  return {
    label: `local (${paths.dataDir})`,
    tableName: emulators.tableName,
    bucketName: emulators.bucketName,
    doc: clients.doc,
    s3: clients.s3,
    close: async () => {
      await clients.close();
      await emulators.stop();
    },
  };
}

async function deployedTarget(values: { "outputs-file"?: string; stack?: string }, deps: ViewDataDeps): Promise<Target> {
  const outputs = await deps.outputs({ cwd: deps.cwd, env: deps.env, file: values["outputs-file"], stackName: values.stack });
  const tableName = outputs.require(OUTPUT_NAMES.dynamodbTableName);
  const bucketName = outputs.require(OUTPUT_NAMES.s3BucketName);
  const region = stackRegion(outputs, deps.env);
  const clients = clientsFor({ ...deps.env, AWS_REGION: region, DYNAMODB_TABLE: tableName, S3_BUCKET_NAME: bucketName }, deps.credentials);
  return { label: `stack ${outputs.stackName}, ${region}`, tableName, bucketName, ...clients };
}

/** Runs the script; resolves with the exit code. */
export async function main(argv: readonly string[], given: Partial<ViewDataDeps> = {}): Promise<number> {
  const deps = { ...defaults(), ...given };
  const out = printer(deps.io.stdout);
  return runCommand(deps.io, async () => {
    const { values, positionals } = parseCli(argv, {
      help: { type: "boolean", short: "h" },
      verbose: { type: "boolean", short: "v" },
      user: { type: "string" },
      local: { type: "boolean" },
      "data-dir": { type: "string" },
      "outputs-file": { type: "string" },
      stack: { type: "string" },
    });
    if (values.help) {
      deps.io.stdout.write(HELP);
      return EXIT_OK;
    }
    if (positionals.length > 1) throw new UsageError(`expected at most one section (dynamodb or s3), got ${positionals.join(" ")}`);
    const section = positionals[0]?.toLowerCase();
    if (section !== undefined && section !== "dynamodb" && section !== "s3") throw new UsageError(`unknown section "${positionals[0]}": use dynamodb or s3`);
    const userRaw = values.user as string | undefined;
    if (userRaw !== undefined && !/^-?\d+$/.test(userRaw)) throw new UsageError(`--user must be a numeric Telegram user id, got "${userRaw}"`);
    const options = { verbose: values.verbose === true, ...(userRaw !== undefined ? { userId: Number(userRaw) } : {}) };

    const target = values.local
      ? await localTarget((values["data-dir"] as string | undefined) ?? DEFAULT_DATA_DIR, deps)
      : await deployedTarget(values as { "outputs-file"?: string; stack?: string }, deps);
    try {
      if (section === undefined || section === "dynamodb") {
        const users = await awsCall("dynamodb Scan/Query", () => collectSessions(target.doc, target.tableName, options));
        out(formatSessionsReport(`DynamoDB table ${target.tableName} (${target.label})`, users));
      }
      if (section === undefined) out();
      if (section === undefined || section === "s3") {
        const users = await awsCall("s3 ListObjectsV2", () => collectArchives(target.s3, target.bucketName, options));
        out(formatArchivesReport(`S3 bucket ${target.bucketName} (${target.label})`, users));
      }
      return EXIT_OK;
    } finally {
      await target.close();
    }
  });
}

if (require.main === module) runMain((argv) => main(argv));
