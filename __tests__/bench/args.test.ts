import { parseBenchArgs } from "../../bench/args";

describe("bench/args", () => {
  it("defaults to the full run: 1,000 updates after 500 warm-up ones, 20 cold runs, 1/10/100 sessions and 10/1,000/10,000 messages", () => {
    expect(parseBenchArgs([])).toEqual({
      quick: false,
      jsonOnly: false,
      skipCold: false,
      output: "bench/results.json",
      iterations: 1000,
      warmup: 500,
      coldRuns: 20,
      stopRuns: 10,
      sessionCounts: [1, 10, 100],
      historyLengths: [10, 1000, 10000],
    });
  });

  it("--quick shrinks iterations and inputs", () => {
    const options = parseBenchArgs(["--quick"]);
    expect(options.iterations).toBeLessThan(100);
    expect(options.warmup).toBeLessThan(options.iterations);
    expect(options.coldRuns).toBeLessThan(20);
    expect(Math.max(...options.historyLengths)).toBeLessThanOrEqual(100);
  });

  it("reads --json-only, --no-cold, --no-write, --out and explicit counts", () => {
    expect(parseBenchArgs(["--json-only", "--no-cold", "--iterations", "5", "--warmup", "0", "--cold-runs", "2", "--stop-runs", "3", "--out", "x.json"])).toEqual(
      expect.objectContaining({ jsonOnly: true, skipCold: true, iterations: 5, warmup: 0, coldRuns: 2, stopRuns: 3, output: "x.json" }),
    );
    expect(parseBenchArgs(["--no-write"]).output).toBeUndefined();
  });

  it("refuses unknown options and bad counts with the usage", () => {
    expect(() => parseBenchArgs(["--fast"])).toThrow(/unknown option --fast\nusage:/);
    expect(() => parseBenchArgs(["--iterations", "0"])).toThrow("whole number");
    expect(() => parseBenchArgs(["--iterations"])).toThrow("whole number");
    expect(() => parseBenchArgs(["--warmup", "-1"])).toThrow("whole number >= 0");
  });
});
