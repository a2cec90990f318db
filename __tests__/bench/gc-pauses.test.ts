import { recordGcPauses, summarizeGcPauses } from "../../bench/gc-pauses";

describe("summarizeGcPauses", () => {
  const updates = Array.from({ length: 200 }, (_, i) => ({ start: i * 10, durationMs: i === 50 || i === 120 ? 9 : 2 }));

  it("counts the pauses that fell inside measured updates, and which of the slowest 1% had one", () => {
    const pauses = [
      { start: 501, durationMs: 3 }, // inside update 50 (a slow one)
      { start: 1203, durationMs: 1.5 }, // inside update 120 (a slow one)... at 1200..1209
      { start: 305, durationMs: 2 }, // between updates 30 (300..302) and 31: not counted
    ];
    expect(summarizeGcPauses(updates, pauses)).toEqual({ count: 2, totalMs: 4.5, maxMs: 3, slowestWithPause: 2, slowest: 2 });
    expect(summarizeGcPauses(updates, [])).toEqual({ count: 0, totalMs: 0, maxMs: 0, slowestWithPause: 0, slowest: 2 });
  });
});

describe("recordGcPauses", () => {
  it("sees a collection forced while it records", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const recording = recordGcPauses();
    // Without --expose-gc, allocate until the young generation is collected.
    if (gc) gc();
    else for (let i = 0; i < 200; i++) new Array(100_000).fill(i);
    await new Promise((resolve) => setTimeout(resolve, 50)); // GC entries are reported asynchronously
    expect(recording.stop().length).toBeGreaterThan(0);
  });
});
