import { evaluateTargets, TARGETS } from "../../bench/targets";

describe("bench/targets", () => {
  const passing = { coldLoadMs: 40, bundleBytes: 500 * 1024, chatP99Ms: 9.5, chatRequests: [9, 9, 9], worstStopMs: 1_012 };
  const result = (inputs: Parameters<typeof evaluateTargets>[0], target: string) =>
    evaluateTargets(inputs).find((v) => v.target === target)!;

  it("passes every target when all figures are within the limits", () => {
    expect(evaluateTargets(passing).map((v) => v.result)).toEqual(["PASS", "PASS", "PASS", "PASS", "PASS"]);
  });

  it("misses the cold load just over the limit and passes it exactly at the limit", () => {
    expect(result({ ...passing, coldLoadMs: TARGETS.coldLoadOverBareNodeMs + 0.1 }, "cold load over bare node").result).toBe("MISS");
    expect(result({ ...passing, coldLoadMs: TARGETS.coldLoadOverBareNodeMs }, "cold load over bare node").result).toBe("PASS");
  });

  it("misses a bundle over 600 KB and says its size", () => {
    const v = result({ ...passing, bundleBytes: 1_021_019 }, "bundle size");
    expect(v).toEqual({ target: "bundle size", limit: "<= 600 KB", actual: "997.1 KB", result: "MISS" });
  });

  it("misses a chat p99 over 15 ms", () => {
    expect(result({ ...passing, chatP99Ms: 15.01 }, "warm p99, chat message").result).toBe("MISS");
  });

  it("misses requests per chat message that vary with sessions or history, listing the values", () => {
    const v = result({ ...passing, chatRequests: [9, 11, 9] }, "requests per chat message");
    expect(v.result).toBe("MISS");
    expect(v.actual).toBe("varies: 9, 11");
  });

  it("misses a stop that took 1.5 s or more to end the model request, and passes one just under it", () => {
    expect(result({ ...passing, worstStopMs: TARGETS.stopToModelEndMs }, "stop to end of model request, slowest").result).toBe("MISS");
    expect(result({ ...passing, worstStopMs: 1_499.4 }, "stop to end of model request, slowest")).toEqual({
      target: "stop to end of model request, slowest",
      limit: "< 1500 ms",
      actual: "1499 ms",
      result: "PASS",
    });
  });

  it("misses the stop target when an answer was not stopped, however fast the others were", () => {
    expect(result({ ...passing, worstStopMs: 900, unstoppedAnswers: 2 }, "stop to end of model request, slowest")).toEqual(
      expect.objectContaining({ actual: "2 answer(s) not stopped", result: "MISS" }),
    );
  });

  it("skips what was not measured instead of passing it", () => {
    const verdicts = evaluateTargets({ coldLoadMs: undefined, bundleBytes: undefined, chatP99Ms: undefined, chatRequests: [], worstStopMs: undefined });
    expect(verdicts.map((v) => v.result)).toEqual(["SKIP", "SKIP", "SKIP", "SKIP", "SKIP"]);
  });
});

describe("the first-text target per provider", () => {
  it("passes a provider at or under 50 ms and misses one over it, by name", () => {
    const verdicts = evaluateTargets({ coldLoadMs: undefined, bundleBytes: undefined, chatP99Ms: undefined, chatRequests: [], worstStopMs: undefined, firstTextByProvider: { bedrock: 19, openai: 51 } });
    expect(verdicts.filter((v) => v.target.startsWith("first text"))).toEqual([
      expect.objectContaining({ target: "first text after the first token, bedrock, p50", result: "PASS" }),
      expect.objectContaining({ target: "first text after the first token, openai, p50", result: "MISS" }),
    ]);
  });
});
