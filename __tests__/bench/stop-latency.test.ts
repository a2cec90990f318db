import { STOP_POLL_INTERVAL_MS } from "../../handler/chat/stop-watch";
import { startBenchHarness } from "../../bench/scenarios";
import { measureStopLatency, phaseOf, STOP_PATHS } from "../../bench/stop-latency";
import type { Harness } from "../support/handler-harness";

describe("bench/stop-latency", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBenchHarness();
  });
  afterAll(() => h.stop());

  it("spreads the stops evenly over one poll interval", () => {
    expect(phaseOf(0, 1)).toBe(0);
    expect([0, 1, 2, 3].map((i) => phaseOf(i, 4))).toEqual([0, 250, 500, 750].map((ms) => (ms * STOP_POLL_INTERVAL_MS) / 1000));
  });

  it("stops a streaming answer on every path, sync and queue, and times each stop to the end of its model request", async () => {
    const result = await measureStopLatency(h, 2);
    expect(result.paths.map((p) => p.path)).toEqual(STOP_PATHS);
    for (const path of result.paths) {
      expect(path).toEqual(expect.objectContaining({ runs: 2, stoppedRuns: 2 }));
      expect(path.stopToModelEndMs.n).toBe(2);
      expect(path.stopToModelEndMs.min).toBeGreaterThan(0);
      // The model request ends before the stopped answer is sent, and the stop's own invocation does not wait for either.
      expect(path.stopToModelEndMs.max).toBeLessThanOrEqual(path.stopToAnswerEndMs.max);
      expect(path.stopHandledMs.p50).toBeLessThan(path.stopToAnswerEndMs.p50);
    }
    expect(result.worstStopToModelEndMs).toBe(Math.max(...result.paths.map((p) => p.stopToModelEndMs.max)));
  }, 60_000);
});
