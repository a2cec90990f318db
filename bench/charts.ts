/**
 * The benchmark's charts: bench/results.json's main figures as SVG files in bench/charts/ (see
 * bench/chart-figures.ts for what each shows). `npm run bench` writes them after results.json;
 * to rebuild them from an existing results.json without running the bench again:
 *
 *   npx tsx bench/charts.ts [bench/results.json] [bench/charts]
 *
 * The output folder defaults to `charts/` beside the results file.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { renderCharts, type ChartResults } from "./chart-figures";

export { svgBarChart, type BarChartSpec, type BarSeries } from "./chart-bar";
export { svgLineChart, type LineChartSpec, type LineSeries, type LinePoint } from "./chart-line";
export { CHART_FILES, renderCharts, type Chart, type ChartResults } from "./chart-figures";

/** Writes the four charts of `results` into `dir` (created if missing); returns the paths written. */
export async function writeCharts(results: ChartResults, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const chart of renderCharts(results)) {
    const file = join(dir, chart.file);
    await writeFile(file, chart.svg);
    written.push(file);
  }
  return written;
}

const OBJECT_SECTIONS = ["machine", "options", "warmLatencyMs", "stopLatency", "queueDelivery"] as const;
const ARRAY_SECTIONS = ["requestsPerUpdate", "targets"] as const;

/**
 * Checks that parsed JSON looks like a bench results file (an object whose known sections have
 * the right kind) and returns it typed; throws naming the file and the section otherwise.
 */
export function asChartResults(value: unknown, file: string): ChartResults {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${file}: not a bench results file (expected a JSON object)`);
  const record = value as Record<string, unknown>;
  for (const key of OBJECT_SECTIONS) {
    const section = record[key];
    if (section !== undefined && (typeof section !== "object" || section === null || Array.isArray(section))) throw new Error(`${file}: ${key} should be an object`);
  }
  for (const key of ARRAY_SECTIONS) {
    if (record[key] !== undefined && !Array.isArray(record[key])) throw new Error(`${file}: ${key} should be an array`);
  }
  return record as ChartResults;
}

/** The CLI: reads the results file (argv[0], default bench/results.json), writes its charts (argv[1]). */
export async function rebuildCharts(argv: readonly string[]): Promise<string[]> {
  if (argv.length > 2 || argv.some((a) => a.startsWith("-"))) throw new Error("usage: npx tsx bench/charts.ts [bench/results.json] [bench/charts]");
  const file = resolve(argv[0] ?? "bench/results.json");
  const dir = resolve(argv[1] ?? join(dirname(file), "charts"));
  const results = asChartResults(JSON.parse(await readFile(file, "utf8")) as unknown, file);
  return writeCharts(results, dir);
}

if (require.main === module) {
  rebuildCharts(process.argv.slice(2)).then(
    (written) => {
      for (const file of written) process.stderr.write(`charts: wrote ${file}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`charts failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
