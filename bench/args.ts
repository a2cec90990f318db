/**
 * Command-line options of `npm run bench`. Pure.
 */

/** What a bench run measures and prints. */
export interface BenchOptions {
  /** Fewer iterations and smaller inputs, for a smoke test. @default false */
  readonly quick: boolean;
  /** Print only results.json's content, no table. @default false */
  readonly jsonOnly: boolean;
  /** Skip the cold-start measurement (which needs dist/handler/index.js). @default false */
  readonly skipCold: boolean;
  /** Where to write the results. @default "bench/results.json" (none with --no-write) */
  readonly output: string | undefined;
  /** Updates per warm scenario. @default 1000 (quick: 40) */
  readonly iterations: number;
  /**
   * Unmeasured updates before each warm scenario's measured ones. V8 keeps compiling the hot
   * path through a fresh process's first few hundred updates (`npm run bench:jit`: about 620
   * compilations in the first 100 chat messages, about 100 in the fourth hundred, a few dozen a
   * hundred after the 500th), and on 2 cores those compilations compete with the handler. The
   * measured figures are those of a container past most of that; a quiet bot's containers may
   * never get there, and the warm-up's own figures (reported apart) are closer to theirs.
   * @default 500 (quick: 5)
   */
  readonly warmup: number;
  /** Fresh node processes for the cold start. @default 20 (quick: 3) */
  readonly coldRuns: number;
  /** Stopped answers per stop path (issue 14's stop latency). @default 10 (quick: 2) */
  readonly stopRuns: number;
  /** Session counts of the request-count matrix. @default [1, 10, 100] (quick: [1, 3]) */
  readonly sessionCounts: readonly number[];
  /** History lengths of the request-count matrix. @default [10, 1000, 10000] (quick: [10, 100]) */
  readonly historyLengths: readonly number[];
}

/** The usage line printed for --help or a bad option. */
export const USAGE = "usage: npm run bench -- [--quick] [--json-only] [--no-cold] [--no-write] [--out <file>] [--iterations <n>] [--warmup <n>] [--cold-runs <n>] [--stop-runs <n>]";

/** Parses argv (without node and the script); throws with {@link USAGE} on an unknown option. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const quick = argv.includes("--quick");
  let output: string | undefined = "bench/results.json";
  let iterations = quick ? 40 : 1000;
  let warmup = quick ? 5 : 500;
  let coldRuns = quick ? 3 : 20;
  let stopRuns = quick ? 2 : 10;
  let jsonOnly = false;
  let skipCold = false;
  const count = (name: string, value: string | undefined, least = 1): number => {
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < least) throw new Error(`${name} needs a whole number >= ${least}\n${USAGE}`);
    return Number(value);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case "--quick":
        break;
      case "--json-only":
        jsonOnly = true;
        break;
      case "--no-cold":
        skipCold = true;
        break;
      case "--no-write":
        output = undefined;
        break;
      case "--out":
        output = argv[++i];
        if (!output) throw new Error(`--out needs a file\n${USAGE}`);
        break;
      case "--iterations":
        iterations = count(arg, argv[++i]);
        break;
      case "--warmup":
        warmup = count(arg, argv[++i], 0);
        break;
      case "--cold-runs":
        coldRuns = count(arg, argv[++i]);
        break;
      case "--stop-runs":
        stopRuns = count(arg, argv[++i]);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return {
    quick,
    jsonOnly,
    skipCold,
    output,
    iterations,
    warmup,
    coldRuns,
    stopRuns,
    sessionCounts: quick ? [1, 3] : [1, 10, 100],
    historyLengths: quick ? [10, 100] : [10, 1000, 10000],
  };
}
