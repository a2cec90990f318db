/**
 * `npm run bench:jit`: how long V8 keeps compiling the chat path in a fresh process, the
 * reason `npm run bench` warms each scenario up before timing it. Runs chat messages through
 * the handler (as the bench's chat scenario does) in a child process started with
 * `--trace-opt`, and prints how many functions V8 finished compiling in each block of 100
 * updates. Options: `--updates <n>` (default 1500).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** Marks the start of a block of updates in the child's output. */
const BLOCK_MARK = "=== jit-curve block ";
/** V8's --trace-opt line for a finished (Maglev or TurboFan) compilation. */
const COMPILED = /completed (?:optimizing|compiling)/;

/** Compilations per block, from the child's output lines in order. Pure. */
export function compilationsPerBlock(lines: Iterable<string>): { block: number; compilations: number }[] {
  const blocks: { block: number; compilations: number }[] = [];
  for (const line of lines) {
    if (line.startsWith(BLOCK_MARK)) blocks.push({ block: Number(line.slice(BLOCK_MARK.length)), compilations: 0 });
    else if (COMPILED.test(line) && blocks.length > 0) blocks[blocks.length - 1]!.compilations += 1;
  }
  return blocks;
}

async function child(updates: number): Promise<void> {
  const { lambdaContext } = await import("../local/lambda-event");
  const { eventFor, freshUser, seedSession, startBenchHarness } = await import("./scenarios");
  const harness = await startBenchHarness();
  try {
    const user = freshUser();
    await seedSession(harness, user, 10);
    for (let i = 0; i < updates; i++) {
      if (i % 100 === 0) process.stdout.write(`${BLOCK_MARK}${i}\n`);
      await harness.handler(eventFor(`a chat message, number ${i}`, user), lambdaContext({ timeoutMs: 30_000 }));
    }
  } finally {
    await harness.stop();
  }
}

async function parent(updates: number): Promise<number> {
  const proc = spawn(process.execPath, ["--trace-opt", "--import", "tsx", __filename, "--updates", String(updates)], {
    env: { ...process.env, JIT_CURVE_CHILD: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const closed = new Promise<number>((resolve) => proc.on("close", (c) => resolve(c ?? 1)));
  const lines: string[] = [];
  for await (const line of createInterface({ input: proc.stdout })) lines.push(line);
  const code = await closed;
  if (code !== 0) return code;
  process.stdout.write("| updates | functions compiled |\n|---|---:|\n");
  for (const { block, compilations } of compilationsPerBlock(lines)) process.stdout.write(`| ${block + 1}–${block + 100} | ${compilations} |\n`);
  return 0;
}

if (require.main === module) {
  const at = process.argv.indexOf("--updates");
  const updates = at > 0 ? Number(process.argv[at + 1]) : 1500;
  if (!Number.isInteger(updates) || updates < 1) {
    process.stderr.write("usage: npm run bench:jit -- [--updates <n>]\n");
    process.exit(2);
  }
  (process.env.JIT_CURVE_CHILD ? child(updates).then(() => 0) : parent(updates)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`jit-curve failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
