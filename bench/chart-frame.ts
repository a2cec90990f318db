/**
 * The frame every benchmark chart shares: the SVG document (white background, title, subtitle,
 * legend, caption) laid out around one or more panels side by side, and the axes a panel draws
 * inside its own box. Pure: specs in, SVG text out. The panels themselves are bench/chart-bar.ts
 * and bench/chart-line.ts.
 */
import { FONT_FAMILY, INK, px, seriesStyle, svgMarker, svgText, textWidth, wrapText, formatTick, escapeXml, type Box, type SeriesStyle } from "./chart-svg";

/** What surrounds the panels of a chart. */
export interface ChartFrame {
  /** The heading, and the document's `<title>`. */
  readonly title: string;
  /** A smaller line under the title (the machine, the run). @default none */
  readonly subtitle?: string;
  /** What the chart shows and how it was measured, wrapped under the panels. @default none */
  readonly caption?: string;
  /** @default 640 */
  readonly width?: number;
  /** @default 360 */
  readonly height?: number;
}

/** One legend entry: a series name and how its series is drawn, or a reference line's label. */
export interface LegendEntry {
  readonly name: string;
  readonly kind: "bar" | "line" | "reference";
}

/** A horizontal line at a value, e.g. a target, drawn dashed in the target colour. */
export interface ReferenceLine {
  readonly value: number;
  /** Its legend entry (and tooltip), e.g. "target: slowest < 1,500 ms". */
  readonly label: string;
}

/** A panel: something that draws itself into the box the frame gives it. */
export interface Panel {
  /** The series it draws, in order; the frame gives each name one style across panels. */
  readonly legend: readonly LegendEntry[];
  /** Its share of the chart's width, against the other panels' weights. @default 1 */
  readonly weight?: number;
  /** SVG elements drawing the panel inside `box`. */
  render(box: Box, styleOf: (name: string) => SeriesStyle): string;
}

/** The text shown where a panel has nothing to draw. */
export const NO_DATA = "no data";

const MARGIN = 16;
const CAPTION_SIZE = 11;
const PANEL_GAP = 20;

/**
 * A whole chart: `panels` side by side between the header (title, subtitle, legend) and the
 * caption. Never throws on empty panels: they say {@link NO_DATA}.
 */
export function composeChart(frame: ChartFrame, panels: readonly Panel[]): string {
  const width = frame.width ?? 640;
  const height = frame.height ?? 360;
  const parts: string[] = [`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`];
  parts.push(svgText(MARGIN, 24, frame.title, { size: 16, bold: true }));
  let top = 32;
  if (frame.subtitle) {
    parts.push(svgText(MARGIN, 44, frame.subtitle, { size: 11, color: INK.muted }));
    top = 50;
  }

  const names: string[] = [];
  const entries: LegendEntry[] = [];
  for (const entry of panels.flatMap((p) => p.legend)) {
    if (!names.includes(entry.name)) {
      names.push(entry.name);
      entries.push(entry);
    }
  }
  const seriesNames = entries.filter((e) => e.kind !== "reference").map((e) => e.name);
  const styleOf = (name: string) => seriesStyle(Math.max(0, seriesNames.indexOf(name)));
  if (entries.length > 0) {
    const legend = svgLegend(entries, styleOf, MARGIN, top + 4, width - 2 * MARGIN);
    parts.push(legend.svg);
    top += 4 + legend.height;
  }

  const captionLines = frame.caption ? wrapText(frame.caption, Math.floor((width - 2 * MARGIN) / (CAPTION_SIZE * 0.55))) : [];
  const lineHeight = CAPTION_SIZE * 1.2;
  const captionTop = height - 8 - captionLines.length * lineHeight;
  if (captionLines.length > 0) parts.push(svgText(MARGIN, captionTop + CAPTION_SIZE, captionLines, { size: CAPTION_SIZE, color: INK.muted }));

  const area: Box = { x: MARGIN / 2, y: top + 6, width: width - MARGIN, height: captionTop - 6 - (top + 6) };
  const weights = panels.map((p) => Math.max(0, p.weight ?? 1));
  const totalWeight = weights.reduce((sum, w) => sum + w, 0) || 1;
  const usable = area.width - PANEL_GAP * Math.max(0, panels.length - 1);
  let x = area.x;
  panels.forEach((panel, i) => {
    const panelWidth = (usable * weights[i]!) / totalWeight;
    parts.push(`<g>${panel.render({ x, y: area.y, width: panelWidth, height: area.height }, styleOf)}</g>`);
    x += panelWidth + PANEL_GAP;
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" font-family="${FONT_FAMILY}">`,
    `<title>${escapeXml(frame.title)}</title>`,
    frame.caption ? `<desc>${escapeXml(frame.caption)}</desc>` : "",
    ...parts,
    "</svg>",
  ]
    .filter((line) => line.length > 0)
    .join("\n")
    .concat("\n");
}

/** The legend, left to right, wrapping onto more rows when it is wider than `maxWidth`. */
function svgLegend(entries: readonly LegendEntry[], styleOf: (name: string) => SeriesStyle, left: number, top: number, maxWidth: number): { svg: string; height: number } {
  const rowHeight = 18;
  const out: string[] = [];
  let x = left;
  let row = 0;
  for (const entry of entries) {
    const swatch = entry.kind === "bar" ? 12 : 26;
    const itemWidth = swatch + 6 + textWidth(entry.name, 12) + 16;
    if (x > left && x + itemWidth > left + maxWidth) {
      x = left;
      row++;
    }
    const mid = top + row * rowHeight + 9;
    const style = styleOf(entry.name);
    if (entry.kind === "bar") out.push(`<rect x="${px(x)}" y="${px(mid - 6)}" width="12" height="12" fill="${style.color}"/>`);
    else if (entry.kind === "reference") out.push(referenceLine(x, x + swatch, mid, ""));
    else {
      out.push(`<line x1="${px(x)}" y1="${px(mid)}" x2="${px(x + swatch)}" y2="${px(mid)}" stroke="${style.color}" stroke-width="2"${style.dash ? ` stroke-dasharray="${style.dash}"` : ""}/>`);
      out.push(svgMarker(x + swatch / 2, mid, { ...style, markerRadius: Math.min(style.markerRadius, 5) }, entry.name, "swatch"));
    }
    out.push(svgText(x + swatch + 6, mid + 4, entry.name, { size: 12 }));
    x += itemWidth;
  }
  return { svg: `<g>${out.join("")}</g>`, height: (row + 1) * rowHeight };
}

/** What a panel's axes show. */
export interface AxesSpec {
  /** Bold line over the panel. @default none */
  readonly heading?: string;
  /** Under the x axis, with its unit. */
  readonly xLabel: string;
  /** Along the y axis, with its unit. */
  readonly yLabel: string;
  /** The y ticks, ascending; the first and last are the axis's ends. */
  readonly yTicks: readonly number[];
  /** Text lines the x tick labels take (category names may wrap). @default 1 */
  readonly xTickLines?: number;
}

/** The axes of a panel: the plot area they leave, their SVG, and the value → y mapping. */
export interface Axes {
  readonly plot: Box;
  readonly svg: string;
  readonly y: (value: number) => number;
}

const TICK_SIZE = 11;
const TICK_LINE = 13;
const RIGHT_PAD = 8;

/** How far from a panel's left edge its plot area starts, for these y ticks. */
export function plotInsetLeft(yTicks: readonly number[]): number {
  const step = yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1;
  const widest = Math.max(0, ...yTicks.map((t) => textWidth(formatTick(t, step), TICK_SIZE)));
  return 20 + widest + 6;
}

/** The plot width a panel of `boxWidth` has with these y ticks. */
export function plotWidthFor(boxWidth: number, yTicks: readonly number[]): number {
  return Math.max(10, boxWidth - plotInsetLeft(yTicks) - RIGHT_PAD);
}

/** Heading, y grid and tick labels, both axis lines and both axis labels of a panel in `box`. */
export function drawAxes(box: Box, spec: AxesSpec): Axes {
  const ticks = spec.yTicks.length >= 2 ? spec.yTicks : [0, 1];
  const lo = ticks[0]!;
  const hi = ticks[ticks.length - 1]!;
  const step = ticks[1]! - ticks[0]!;
  const headingSpace = spec.heading ? 18 : 0;
  const inset = plotInsetLeft(ticks);
  const bottom = (spec.xTickLines ?? 1) * TICK_LINE + 8 + 16;
  const plot: Box = {
    x: box.x + inset,
    y: box.y + headingSpace + 14,
    width: plotWidthFor(box.width, ticks),
    height: Math.max(10, box.height - headingSpace - 14 - bottom),
  };
  const y = (value: number) => plot.y + plot.height * (1 - (value - lo) / (hi - lo || 1));
  const out: string[] = [];
  if (spec.heading) out.push(svgText(box.x + 4, box.y + 12, spec.heading, { size: 12, bold: true }));
  for (const tick of ticks) {
    const ty = y(tick);
    out.push(`<line x1="${px(plot.x)}" y1="${px(ty)}" x2="${px(plot.x + plot.width)}" y2="${px(ty)}" stroke="${INK.grid}" stroke-width="1"/>`);
    out.push(svgText(plot.x - 6, ty + 4, formatTick(tick, step), { size: TICK_SIZE, anchor: "end", color: INK.muted }));
  }
  const baseline = lo <= 0 && hi >= 0 ? y(0) : plot.y + plot.height;
  out.push(`<line x1="${px(plot.x)}" y1="${px(plot.y)}" x2="${px(plot.x)}" y2="${px(plot.y + plot.height)}" stroke="${INK.axis}" stroke-width="1"/>`);
  out.push(`<line x1="${px(plot.x)}" y1="${px(baseline)}" x2="${px(plot.x + plot.width)}" y2="${px(baseline)}" stroke="${INK.axis}" stroke-width="1"/>`);
  out.push(svgText(box.x + 12, plot.y + plot.height / 2, spec.yLabel, { size: 11, anchor: "middle", rotate: -90 }));
  out.push(svgText(plot.x + plot.width / 2, box.y + box.height - 4, spec.xLabel, { size: 11, anchor: "middle" }));
  return { plot, svg: out.join(""), y };
}

/** The legend entries of a panel's reference lines. */
export function referenceLegend(references: readonly ReferenceLine[] | undefined): LegendEntry[] {
  return (references ?? []).map((r) => ({ name: r.label, kind: "reference" }));
}

const referenceLine = (x1: number, x2: number, y: number, tooltip: string) =>
  `<line class="reference" x1="${px(x1)}" y1="${px(y)}" x2="${px(x2)}" y2="${px(y)}" stroke="${INK.target}" stroke-width="2" stroke-dasharray="6 4">${tooltip ? `<title>${escapeXml(tooltip)}</title>` : ""}</line>`;

/**
 * A reference line across x1..x2 at `y`: dashed, in the target colour, named in the legend (an
 * inline label would collide with the bars or points near it).
 */
export function drawReference(reference: ReferenceLine, y: number, x1: number, x2: number): string {
  return referenceLine(x1, x2, y, reference.label);
}

/** "no data", or `reason` when it already starts so, or "no data: reason". */
export function noDataText(reason: string | undefined): string {
  if (!reason) return NO_DATA;
  return reason.toLowerCase().startsWith(NO_DATA) ? reason : `${NO_DATA}: ${reason}`;
}

/** A panel with nothing to draw: its heading and a framed "no data", with `reason` if given. */
export function drawNoData(box: Box, heading: string | undefined, reason?: string): string {
  const text = noDataText(reason);
  const top = box.y + (heading ? 18 : 0);
  const inner: Box = { x: box.x + 4, y: top + 4, width: box.width - 8, height: Math.max(10, box.y + box.height - top - 8) };
  return [
    heading ? svgText(box.x + 4, box.y + 12, heading, { size: 12, bold: true }) : "",
    `<rect x="${px(inner.x)}" y="${px(inner.y)}" width="${px(inner.width)}" height="${px(inner.height)}" fill="#fafafa" stroke="${INK.grid}"/>`,
    svgText(inner.x + inner.width / 2, inner.y + inner.height / 2, wrapText(text, Math.max(10, Math.floor(inner.width / 7))), { size: 13, anchor: "middle", color: INK.muted }),
  ].join("");
}
