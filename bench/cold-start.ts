import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { median, round } from "./stats";

/** The bundle `npm run build` writes. */
export const BUNDLE_PATH = resolve(__dirname, "..", "dist", "handler", "index.js");
/** The driver script run in each fresh process. */
export const DRIVER_PATH = resolve(__dirname, "cold-driver.js");
/** The prefix of the driver's result line (handler logs share its stdout). */
export const DRIVER_MARKER = "BENCH_COLD ";

/** One fresh process as the driver measured it, in ms. */
export interface ColdSample {
  /** Process start to the driver running (node's own boot). */
  readonly bootMs: number;
  /** require() of the bundle. */
  readonly loadMs: number;
  /** The first update, call to result. */
  readonly firstUpdateMs: number;
  /** Spawn to exit as the parent saw it. */
  readonly wallMs: number;
  readonly statusCode: number;
}

/** Medians of the cold-start runs, in ms, with the bundle's size. */
export interface ColdStartResult {
  readonly runs: number;
  readonly bundleBytes: number;
  /** `node -e 0`, spawn to exit. */
  readonly bareNodeWallMs: number;
  /** The driver process, spawn to exit. */
  readonly driverWallMs: number;
  readonly bootMs: number;
  readonly moduleLoadMs: number;
  readonly firstUpdateMs: number;
  /** Every status code the first updates got (all 200 when healthy). */
  readonly statusCodes: readonly number[];
}

/**
 * Reads the driver's result line out of its stdout. Pure; throws when the line is missing
 * or malformed (the driver failed).
 */
export function parseDriverOutput(stdout: string): Omit<ColdSample, "wallMs"> {
  const line = stdout.split("\n").find((l) => l.startsWith(DRIVER_MARKER));
  if (!line) throw new Error("the cold-start driver printed no result line");
  const parsed = JSON.parse(line.slice(DRIVER_MARKER.length)) as Partial<Record<keyof ColdSample, unknown>>;
  const num = (key: keyof ColdSample): number => {
    const value = parsed[key];
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`the cold-start driver's ${key} is not a number`);
    return value;
  };
  return { bootMs: num("bootMs"), loadMs: num("loadMs"), firstUpdateMs: num("firstUpdateMs"), statusCode: num("statusCode") };
}

/** Runs a command to its exit; resolves with its stdout and wall time (spawn to exit, ms). */
function timedSpawn(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; wallMs: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("error", reject);
    child.once("close", (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`node ${args[0]} exited with ${code}: ${stderr.slice(-500)}`));
      else resolvePromise({ stdout, wallMs });
    });
  });
}

/** Options of {@link measureColdStart}. */
export interface ColdStartOptions {
  /** Environment pointing the handler at the emulators and stand-ins (TELEGRAM_*, OLLAMA_*, AWS_*...). */
  readonly env: Readonly<Record<string, string>>;
  /** The proxy event of run i (each must be a distinct update, e.g. a chat message of another user). */
  readonly eventFor: (run: number) => unknown;
  /** Fresh processes. @default 20 */
  readonly runs?: number;
  /** @default BUNDLE_PATH */
  readonly bundlePath?: string;
}

/**
 * The cold start of the bundle: `runs` fresh node processes, each loading it and answering
 * one update, beside as many `node -e 0` (alternated, so both see the same machine state).
 */
export async function measureColdStart(options: ColdStartOptions): Promise<ColdStartResult> {
  const bundlePath = options.bundlePath ?? BUNDLE_PATH;
  const runs = options.runs ?? 20;
  const { size } = await stat(bundlePath);
  const baseEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "WARNING", ...options.env };
  const bare: number[] = [];
  const samples: ColdSample[] = [];
  for (let run = 0; run < runs; run++) {
    bare.push((await timedSpawn(["-e", "0"], { PATH: process.env.PATH })).wallMs);
    const { stdout, wallMs } = await timedSpawn([DRIVER_PATH, bundlePath], {
      ...baseEnv,
      BENCH_EVENT: JSON.stringify(options.eventFor(run)),
    });
    samples.push({ ...parseDriverOutput(stdout), wallMs });
  }
  return {
    runs,
    bundleBytes: size,
    bareNodeWallMs: round(median(bare)),
    driverWallMs: round(median(samples.map((s) => s.wallMs))),
    bootMs: round(median(samples.map((s) => s.bootMs))),
    moduleLoadMs: round(median(samples.map((s) => s.loadMs))),
    firstUpdateMs: round(median(samples.map((s) => s.firstUpdateMs))),
    statusCodes: samples.map((s) => s.statusCode),
  };
}
