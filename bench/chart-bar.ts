/**
 * Grouped bar charts: one group per category along x, one bar per series in each group, the
 * value written over each bar. Pure: numbers in, an SVG string out.
 */
import { composeChart, drawAxes, drawNoData, drawReference, plotWidthFor, referenceLegend, type ChartFrame, type Panel, type ReferenceLine } from "./chart-frame";
import { escapeXml, formatNumber, niceTicks, px, svgText, wrapText, type Box, type SeriesStyle } from "./chart-svg";

/** One series of bars: `values[i]` belongs to `categories[i]`; a missing or non-finite value draws no bar. */
export interface BarSeries {
  readonly name: string;
  readonly values: readonly (number | undefined)[];
}

/** A reference line over all groups, or over one group only (`category`, its index). */
export interface BarReference extends ReferenceLine {
  /** @default every category */
  readonly category?: number;
}

/** One panel of grouped bars. */
export interface BarPanelSpec {
  /** Bold line over the panel (for charts of several panels). @default none */
  readonly heading?: string;
  /** Under the categories, with the unit if any. */
  readonly xLabel: string;
  /** Along the value axis, with its unit. */
  readonly yLabel: string;
  /** The groups, left to right. Long names wrap. */
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  /** Targets and the like, as dashed lines. @default none */
  readonly references?: readonly BarReference[];
  /** Write each bar's value over it. @default true */
  readonly valueLabels?: boolean;
  /** How a value is written (labels and tooltips). @default formatNumber */
  readonly formatValue?: (value: number) => string;
  /** What an empty panel says; starts with "no data" whatever is given. @default "no data" */
  readonly noDataText?: string;
  /** Share of the chart's width when beside other panels. @default 1 */
  readonly weight?: number;
}

/** A chart of one panel of grouped bars. */
export interface BarChartSpec extends ChartFrame, BarPanelSpec {}

const MAX_BAR_WIDTH = 46;

/** A grouped bar chart as an SVG document (640×360 unless told). An empty chart says "no data". */
export function svgBarChart(spec: BarChartSpec): string {
  return composeChart(spec, [barPanel(spec)]);
}

/** A panel of grouped bars, for {@link composeChart} beside other panels. */
export function barPanel(spec: BarPanelSpec): Panel {
  return {
    legend: [...spec.series.map((s) => ({ name: s.name, kind: "bar" as const })), ...referenceLegend(spec.references)],
    weight: spec.weight,
    render: (box, styleOf) => renderBars(box, spec, styleOf),
  };
}

const finite = (value: number | undefined): value is number => typeof value === "number" && Number.isFinite(value);

function renderBars(box: Box, spec: BarPanelSpec, styleOf: (name: string) => SeriesStyle): string {
  const values = spec.series.flatMap((s) => s.values.slice(0, spec.categories.length).filter(finite));
  if (spec.categories.length === 0 || values.length === 0) return drawNoData(box, spec.heading, spec.noDataText);
  const format = spec.formatValue ?? formatNumber;
  const references = (spec.references ?? []).filter((r) => Number.isFinite(r.value));
  const bounds = [0, ...values, ...references.map((r) => r.value)];
  const yTicks = niceTicks(Math.min(...bounds), Math.max(...bounds));

  const groupWidth = plotWidthFor(box.width, yTicks) / spec.categories.length;
  const labelLines = spec.categories.map((c) => wrapText(c, Math.max(4, Math.floor((groupWidth - 4) / 6.2))));
  const axes = drawAxes(box, { heading: spec.heading, xLabel: spec.xLabel, yLabel: spec.yLabel, yTicks, xTickLines: Math.max(1, ...labelLines.map((l) => l.length)) });
  const { plot, y } = axes;
  const zero = y(Math.min(Math.max(0, yTicks[0]!), yTicks[yTicks.length - 1]!));
  const barWidth = Math.min(MAX_BAR_WIDTH, (groupWidth * 0.8) / Math.max(1, spec.series.length));
  const out: string[] = [axes.svg];

  spec.categories.forEach((category, c) => {
    const groupLeft = plot.x + c * groupWidth;
    const barsLeft = groupLeft + (groupWidth - barWidth * spec.series.length) / 2;
    spec.series.forEach((series, s) => {
      const value = series.values[c];
      if (!finite(value)) return;
      const x = barsLeft + s * barWidth;
      const top = Math.min(y(value), zero);
      const height = Math.max(value === 0 ? 0 : 1, Math.abs(zero - y(value)));
      const color = styleOf(series.name).color;
      out.push(
        `<rect class="mark" x="${px(x + 1)}" y="${px(top)}" width="${px(Math.max(1, barWidth - 2))}" height="${px(height)}" fill="${color}"><title>${escapeXml(`${category}, ${series.name}: ${format(value)}`)}</title></rect>`,
      );
      if (spec.valueLabels ?? true) {
        const labelY = value >= 0 ? top - 3 : top + height + 11;
        out.push(svgText(x + barWidth / 2, labelY, format(value), { size: barWidth < 22 ? 9 : 10, anchor: "middle" }));
      }
    });
    out.push(svgText(groupLeft + groupWidth / 2, plot.y + plot.height + 14, labelLines[c]!, { size: 11, anchor: "middle" }));
  });

  for (const reference of references) {
    const inGroup = reference.category !== undefined && reference.category >= 0 && reference.category < spec.categories.length;
    const x1 = inGroup ? plot.x + reference.category! * groupWidth + 2 : plot.x;
    const x2 = inGroup ? x1 + groupWidth - 4 : plot.x + plot.width;
    out.push(drawReference(reference, y(reference.value), x1, x2));
  }
  return out.join("");
}
