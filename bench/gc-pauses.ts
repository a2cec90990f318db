/**
 * Garbage-collection pauses during a measurement, and how many of the slowest updates one of
 * them fell into: what tells a tail made by the collector from one made by the code.
 */
import { PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";

/** One measured update, in performance.now() milliseconds. */
export interface TimedSpan {
  readonly start: number;
  readonly durationMs: number;
}

/** GC pauses seen during a run of updates. */
export interface GcPauses {
  /** Pauses (scavenges and full collections) while the updates ran. */
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
  /** Of the slowest 1% of updates (at least one), how many had a pause inside them. */
  readonly slowestWithPause: number;
  readonly slowest: number;
}

/** Starts recording GC pauses; `stop()` ends the recording and returns the pauses seen. */
export function recordGcPauses(): { stop(): readonly TimedSpan[] } {
  const pauses: TimedSpan[] = [];
  const keep = (entries: readonly PerformanceEntry[]) => {
    for (const e of entries) pauses.push({ start: e.startTime, durationMs: e.duration });
  };
  const observer = new PerformanceObserver((list) => keep(list.getEntries()));
  observer.observe({ entryTypes: ["gc"] });
  return {
    stop() {
      keep(observer.takeRecords());
      observer.disconnect();
      return pauses;
    },
  };
}

/** Relates GC pauses to measured updates. Pure. */
export function summarizeGcPauses(updates: readonly TimedSpan[], pauses: readonly TimedSpan[]): GcPauses {
  const inside = (p: TimedSpan, u: TimedSpan) => p.start >= u.start && p.start < u.start + u.durationMs;
  const during = pauses.filter((p) => updates.some((u) => inside(p, u)));
  const slowest = [...updates].sort((a, b) => b.durationMs - a.durationMs).slice(0, Math.max(1, Math.ceil(updates.length / 100)));
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    count: during.length,
    totalMs: round(during.reduce((sum, p) => sum + p.durationMs, 0)),
    maxMs: round(during.reduce((max, p) => Math.max(max, p.durationMs), 0)),
    slowestWithPause: slowest.filter((u) => pauses.some((p) => inside(p, u))).length,
    slowest: updates.length === 0 ? 0 : slowest.length,
  };
}
