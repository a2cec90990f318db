import { median, percentile, round, summarize } from "../../bench/stats";

describe("bench/stats", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it("takes nearest-rank percentiles of sorted samples", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
  });

  it("rounds the rank up for small sets, so p99 of ten samples is the largest", () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(ten, 99)).toBe(10);
    expect(percentile(ten, 50)).toBe(5);
    expect(percentile([7], 1)).toBe(7);
  });

  it("refuses no samples and percentiles out of range", () => {
    expect(() => percentile([], 50)).toThrow("no samples");
    expect(() => percentile([1], 0)).toThrow("(0, 100]");
    expect(() => percentile([1], 101)).toThrow("(0, 100]");
  });

  it("takes the median of unsorted samples, averaging the middle pair for an even count", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("summarises unsorted samples without changing them", () => {
    const samples = [...hundred].reverse();
    const s = summarize(samples);
    expect(s).toEqual({ n: 100, min: 1, mean: 50.5, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(samples[0]).toBe(100);
  });

  it("rounds to the given decimals", () => {
    expect(round(1.23456)).toBe(1.23);
    expect(round(1.25, 1)).toBe(1.3);
    expect(round(12.5, 0)).toBe(13);
  });
});
