/**
 * Markdown tables for the benchmark's printout. Pure.
 */

/** A cell: text, or a number printed as is. */
export type Cell = string | number;

/**
 * A Markdown (GitHub) table with columns padded to their widest cell, numbers right-aligned.
 * Throws when a row has a different number of cells than the header.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  for (const [index, row] of rows.entries()) {
    if (row.length !== headers.length) {
      throw new Error(`row ${index} has ${row.length} cells, the header has ${headers.length}`);
    }
  }
  const text = rows.map((row) => row.map((cell) => String(cell).replace(/\|/g, "\\|").replace(/\n/g, " ")));
  const numeric = headers.map((_, col) => rows.length > 0 && rows.every((row) => typeof row[col] === "number"));
  const widths = headers.map((header, col) => Math.max(3, header.length, ...text.map((row) => row[col]!.length)));
  const pad = (value: string, col: number) => (numeric[col] ? value.padStart(widths[col]!) : value.padEnd(widths[col]!));
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = `|${widths.map((w, col) => (numeric[col] ? `${"-".repeat(w + 1)}:` : `${"-".repeat(w + 2)}`)).join("|")}|`;
  return [line(headers), rule, ...text.map(line)].join("\n");
}

/** Formats a count of bytes as "1,021,019 B (997.1 KB)". */
export function formatBytes(bytes: number): string {
  return `${bytes.toLocaleString("en-US")} B (${(bytes / 1024).toFixed(1)} KB)`;
}

/** Formats a request breakdown {GetItem: 2, PutItem: 1} as "GetItem 2, PutItem 1", sorted by name. */
export function formatBreakdown(byCommand: Readonly<Record<string, number>>): string {
  const entries = Object.entries(byCommand).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "-" : entries.map(([name, count]) => `${name} ${count}`).join(", ");
}
