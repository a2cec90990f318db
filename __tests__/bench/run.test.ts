import { parseBenchArgs } from "../../bench/args";
import { renderReport, runBench } from "../../bench/run";

describe("bench/run", () => {
  it("runs a tiny benchmark end to end: figures for every scenario, flat chat requests, a report with targets", async () => {
    const options = { ...parseBenchArgs(["--quick", "--no-cold", "--no-write", "--iterations", "5", "--warmup", "3", "--stop-runs", "1"]), sessionCounts: [1, 2], historyLengths: [10, 60] };
    const results = await runBench(options);

    for (const scenario of ["chat", "listsessions", "archive", "export"] as const) {
      expect(results.warmLatencyMs[scenario].n).toBe(5);
      expect(results.warmLatencyMs[scenario].p50).toBeGreaterThan(0);
      expect(results.warmGc[scenario].slowest).toBe(1);
      expect(results.warmupLatencyMs[scenario]?.n).toBe(3);
    }
    expect(results.requestsPerUpdate).toHaveLength(4);
    const chatRequests = new Set(results.requestsPerUpdate.map((row) => row.requests.chat.total));
    expect(chatRequests.size).toBe(1);
    for (const row of results.requestsPerUpdate) {
      expect(row.requests.archive.byOperation.PutObject).toBe(1);
      expect(row.requests.export.byOperation.GetObject).toBe(1);
      expect(row.ollamaBytes).toBeGreaterThan(0);
    }
    expect(results.coldStart).toEqual({ skipped: "--no-cold" });
    const report = renderReport(results);
    expect(report).toContain("### Targets (issues 5, 14 and 26)");
    expect("skipped" in results.stopLatency ? results.stopLatency.skipped : results.stopLatency.paths.map((p) => p.stoppedRuns)).toEqual([1, 1, 1]);
    expect(report).toMatch(/queue, \/stop +\| +1 \| +1 \|/);
    expect(report).toMatch(/stop to end of model request, slowest .* (PASS|MISS)/);
    expect(report).toContain("slowest 1% with a GC pause");
    expect(report).toContain("after 3 warm-up updates");
    expect(report).toContain("Warm-up: the 3 updates before each scenario's measured ones");
    expect(report).toMatch(/requests per chat message .* PASS/);
    expect(results.machine.cores).toBeGreaterThan(0);
  }, 60_000);
});
