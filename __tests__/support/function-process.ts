/**
 * Runs the Lambda entry point in a child process (support/function-driver.ts under tsx), so a
 * test can kill it with SIGKILL at any point, as a timeout or a crash would, and run it again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

/** How one run ended. */
export type FunctionRun =
  | { readonly ended: "returned"; readonly result: unknown }
  | { readonly ended: "killed" }
  | { readonly ended: "failed"; readonly code: number | null; readonly stderr: string };

/** A function process being run; `kill()` ends it at once. */
export interface RunningFunction {
  readonly done: Promise<FunctionRun>;
  kill(): void;
}

const DRIVER = join(__dirname, "function-driver.ts");
const ROOT = join(__dirname, "..", "..");

/** Starts the function with `env` and invokes it once with `event`. */
export function runFunction(event: unknown, env: Readonly<Record<string, string | undefined>>): RunningFunction {
  const child: ChildProcess = spawn(process.execPath, ["--require", "tsx/cjs", DRIVER], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env, FUNCTION_EVENT: JSON.stringify(event), AWS_LAMBDA_FUNCTION_NAME: "telegram-bot-test" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let killed = false;
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const done = new Promise<FunctionRun>((resolve) => {
    child.on("close", (code) => {
      if (killed) return resolve({ ended: "killed" });
      const line = stdout.split("\n").find((l) => l.startsWith("FUNCTION_RESULT "));
      if (code === 0 && line) return resolve({ ended: "returned", result: JSON.parse(line.slice("FUNCTION_RESULT ".length)) as unknown });
      resolve({ ended: "failed", code, stderr });
    });
  });
  return {
    done,
    kill: () => {
      killed = true;
      child.kill("SIGKILL");
    },
  };
}
