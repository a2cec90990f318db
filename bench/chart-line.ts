/**
 * Line charts: series of (x, y) points joined by lines, each point a marker. Series differ in
 * colour, marker, marker size and dash, so series that coincide stay told apart. Pure: numbers
 * in, an SVG string out.
 */
import { composeChart, drawAxes, drawNoData, drawReference, referenceLegend, type ChartFrame, type Panel, type ReferenceLine } from "./chart-frame";
import { formatNumber, formatTick, INK, niceTicks, px, svgMarker, svgText, type Box, type SeriesStyle } from "./chart-svg";

/** One point; a non-finite coordinate (or x <= 0 on a log axis) drops the point. */
export interface LinePoint {
  readonly x: number;
  readonly y: number;
}

/** One line. Its points are drawn in order of x. */
export interface LineSeries {
  readonly name: string;
  readonly points: readonly LinePoint[];
}

/** One panel of lines. */
export interface LinePanelSpec {
  /** Bold line over the panel (for charts of several panels). @default none */
  readonly heading?: string;
  /** Along x, with its unit. */
  readonly xLabel: string;
  /** Along y, with its unit. */
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** "log": powers of ten along x (for sizes spanning decades). @default "linear" */
  readonly xScale?: "linear" | "log";
  /** Targets and the like, as dashed lines. @default none */
  readonly references?: readonly ReferenceLine[];
  /** Write each point's y over it (once where points of several series coincide). @default false */
  readonly valueLabels?: boolean;
  /** How an x value is written (ticks and tooltips). @default thousands separators */
  readonly formatX?: (x: number) => string;
  /** How a y value is written (labels and tooltips). @default formatNumber */
  readonly formatY?: (y: number) => string;
  /** What an empty panel says; starts with "no data" whatever is given. @default "no data" */
  readonly noDataText?: string;
  /** Share of the chart's width when beside other panels. @default 1 */
  readonly weight?: number;
}

/** A chart of one panel of lines. */
export interface LineChartSpec extends ChartFrame, LinePanelSpec {}

/** A line chart as an SVG document (640×360 unless told). An empty chart says "no data". */
export function svgLineChart(spec: LineChartSpec): string {
  return composeChart(spec, [linePanel(spec)]);
}

/** A panel of lines, for {@link composeChart} beside other panels. */
export function linePanel(spec: LinePanelSpec): Panel {
  return {
    legend: [...spec.series.map((s) => ({ name: s.name, kind: "line" as const })), ...referenceLegend(spec.references)],
    weight: spec.weight,
    render: (box, styleOf) => renderLines(box, spec, styleOf),
  };
}

const X_INSET = 20;

/** The x axis: its ticks (ends included) and the value → fraction of the width mapping. */
interface XAxis {
  readonly ticks: readonly number[];
  readonly at: (x: number) => number;
}

function xAxis(xs: readonly number[], log: boolean): XAxis {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  if (log) {
    const first = Math.floor(Math.log10(lo) + 1e-9);
    const last = Math.max(first + 1, Math.ceil(Math.log10(hi) - 1e-9));
    const ticks = Array.from({ length: last - first + 1 }, (_, i) => 10 ** (first + i));
    return { ticks, at: (x) => (Math.log10(x) - first) / (last - first) };
  }
  const ticks = niceTicks(Math.min(0, lo), hi);
  const start = ticks[0]!;
  const end = ticks[ticks.length - 1]!;
  return { ticks, at: (x) => (x - start) / (end - start || 1) };
}

function renderLines(box: Box, spec: LinePanelSpec, styleOf: (name: string) => SeriesStyle): string {
  const log = spec.xScale === "log";
  const usable = (p: LinePoint) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!log || p.x > 0);
  const series = spec.series.map((s) => ({ name: s.name, points: s.points.filter(usable).sort((a, b) => a.x - b.x) }));
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) return drawNoData(box, spec.heading, spec.noDataText);
  const formatY = spec.formatY ?? formatNumber;
  const references = (spec.references ?? []).filter((r) => Number.isFinite(r.value));
  // Headroom over the highest point for its marker and value label.
  const bounds = [0, ...points.map((p) => p.y * 1.12), ...references.map((r) => r.value)];
  const yTicks = niceTicks(Math.min(...bounds), Math.max(...bounds));
  const axes = drawAxes(box, { heading: spec.heading, xLabel: spec.xLabel, yLabel: spec.yLabel, yTicks });
  const { plot, y } = axes;
  const x = xAxis(
    points.map((p) => p.x),
    log,
  );
  const xStep = x.ticks.length > 1 ? x.ticks[1]! - x.ticks[0]! : 1;
  const formatX = spec.formatX ?? ((value: number) => formatTick(value, log ? 1 : xStep));
  // Inset from both ends, so the first and last points and their labels clear the axis and the edge.
  const toX = (value: number) => plot.x + X_INSET + (plot.width - 2 * X_INSET) * x.at(value);
  const out: string[] = [axes.svg];

  for (const tick of x.ticks) {
    const tx = toX(tick);
    out.push(`<line x1="${px(tx)}" y1="${px(plot.y + plot.height)}" x2="${px(tx)}" y2="${px(plot.y + plot.height + 4)}" stroke="${INK.axis}" stroke-width="1"/>`);
    out.push(svgText(tx, plot.y + plot.height + 16, formatX(tick), { size: 11, anchor: "middle", color: INK.muted }));
  }
  for (const reference of references) out.push(drawReference(reference, y(reference.value), plot.x, plot.x + plot.width));

  const labelled = new Set<string>();
  series.forEach((s) => {
    if (s.points.length === 0) return;
    const style = styleOf(s.name);
    const d = s.points.map((p, i) => `${i === 0 ? "M" : "L"}${px(toX(p.x))} ${px(y(p.y))}`).join("");
    out.push(`<path d="${d}" fill="none" stroke="${style.color}" stroke-width="2"${style.dash ? ` stroke-dasharray="${style.dash}"` : ""}/>`);
    for (const p of s.points) {
      out.push(svgMarker(toX(p.x), y(p.y), style, `${s.name} at ${formatX(p.x)}: ${formatY(p.y)}`));
      const key = `${px(toX(p.x))},${px(y(p.y))}`;
      if ((spec.valueLabels ?? false) && !labelled.has(key)) {
        labelled.add(key);
        out.push(svgText(toX(p.x), y(p.y) - 11, formatY(p.y), { size: 10, anchor: "middle" }));
      }
    }
  });
  return out.join("");
}
