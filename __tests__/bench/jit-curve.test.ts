import { compilationsPerBlock } from "../../bench/jit-curve";

describe("bench/jit-curve", () => {
  it("counts V8's finished compilations per block of updates, ignoring what comes before the first block", () => {
    const lines = [
      "[completed optimizing 0x1 <JSFunction boot (sfi = 0x2)> (target TURBOFAN) - took 0.1, 2.0, 0.1 ms]",
      "=== jit-curve block 0",
      "[marking 0x3 <JSFunction handleChat (sfi = 0x4)> for optimization to TURBOFAN, ConcurrencyMode::kConcurrent, reason: hot and stable]",
      "[compiling method 0x3 <JSFunction handleChat (sfi = 0x4)> (target TURBOFAN), mode: ConcurrencyMode::kConcurrent]",
      "[completed optimizing 0x3 <JSFunction handleChat (sfi = 0x4)> (target TURBOFAN) - took 0.2, 3.1, 0.1 ms]",
      "[completed compiling 0x5 <JSFunction put (sfi = 0x6)> (target TURBOFAN) OSR - took 0.1, 1.0, 0.1 ms]",
      "=== jit-curve block 100",
      "=== jit-curve block 200",
      "[completed optimizing 0x7 <JSFunction query (sfi = 0x8)> (target TURBOFAN) - took 0.1, 1.2, 0.1 ms]",
    ];
    expect(compilationsPerBlock(lines)).toEqual([
      { block: 0, compilations: 2 },
      { block: 100, compilations: 0 },
      { block: 200, compilations: 1 },
    ]);
  });
});
