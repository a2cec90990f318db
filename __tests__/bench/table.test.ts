import { formatBreakdown, formatBytes, formatTable } from "../../bench/table";

describe("bench/table", () => {
  it("pads columns to the widest cell and right-aligns numeric columns", () => {
    const table = formatTable(["update", "p99"], [
      ["chat", 12.5],
      ["listsessions", 3],
    ]);
    expect(table.split("\n")).toEqual([
      "| update       |  p99 |",
      "|--------------|-----:|",
      "| chat         | 12.5 |",
      "| listsessions |    3 |",
    ]);
  });

  it("escapes pipes and newlines inside cells so the table stays one row per line", () => {
    const table = formatTable(["a"], [["x|y\nz"]]);
    expect(table.split("\n")[2]).toBe("| x\\|y z |");
  });

  it("refuses a row with the wrong number of cells", () => {
    expect(() => formatTable(["a", "b"], [["only one"]])).toThrow("row 0 has 1 cells, the header has 2");
  });

  it("prints a header and rule for no rows", () => {
    expect(formatTable(["name"], []).split("\n")).toHaveLength(2);
  });

  it("formats bytes with separators and kilobytes", () => {
    expect(formatBytes(1_021_019)).toBe("1,021,019 B (997.1 KB)");
  });

  it("formats a request breakdown sorted by operation, or a dash when empty", () => {
    expect(formatBreakdown({ Query: 1, GetItem: 2 })).toBe("GetItem 2, Query 1");
    expect(formatBreakdown({})).toBe("-");
  });
});
