/**
 * SVG primitives of the benchmark's charts (bench/charts.ts): escaping, number formatting, axis
 * ticks, text and series styles. Pure: numbers and strings in, SVG text out. No fonts, scripts or
 * anything else from outside the file: the charts are plain text a README can embed.
 */

/** A rectangle on the canvas, in px from the top left corner. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** How one series is drawn: the same name gets the same style in every panel of a chart. */
export interface SeriesStyle {
  /** Stroke and fill colour, dark enough to read on white. */
  readonly color: string;
  /** Marker of a line series' points. */
  readonly marker: "circle" | "square" | "triangle" | "diamond";
  /** Marker radius in px; series drawn later get smaller markers, so coinciding points stay visible. */
  readonly markerRadius: number;
  /** stroke-dasharray of a line series; "" for a solid line. */
  readonly dash: string;
}

/** Okabe-Ito colours (told apart with the common colour blindnesses), the light ones left out. */
const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#555555", "#8C6D00"] as const;
const MARKERS: readonly SeriesStyle["marker"][] = ["circle", "square", "triangle", "diamond"];
const DASHES = ["", "7 4", "2 3", "9 3 2 3"] as const;

/** The style of the `index`th series of a chart (cycling through colours, markers and dashes). */
export function seriesStyle(index: number): SeriesStyle {
  return {
    color: COLORS[index % COLORS.length]!,
    marker: MARKERS[index % MARKERS.length]!,
    markerRadius: Math.max(3, 7 - 2 * (index % 3)),
    dash: DASHES[index % DASHES.length]!,
  };
}

/** Text colours and line colours shared by every chart. */
export const INK = Object.freeze({ text: "#1a1a1a", muted: "#444444", axis: "#666666", grid: "#e4e4e4", target: "#B00020" });

/** The font stack: fonts every system has, none fetched. */
export const FONT_FAMILY = "Helvetica, Arial, sans-serif";

/**
 * Escapes text for an SVG text node or attribute value (`& < > " '`), and drops the control
 * characters XML 1.0 does not allow, so any label keeps the document well-formed.
 */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- removing exactly the characters XML forbids
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}

/** A coordinate or length rounded to 0.1 px, which keeps the files small and stable. */
export function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/**
 * A value as a chart prints it: thousands separators, 0 decimals from 100 up, 1 from 10 up, at
 * most 2 below. 1008.71 → "1,009", 41.2 → "41.2", 1.3447 → "1.34".
 */
export function formatNumber(value: number): string {
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits });
}

/**
 * Evenly spaced "nice" ticks (steps of 1, 2 or 5 times a power of ten, so counts get whole ticks) covering lo..hi,
 * about `target` of them. An empty or reversed range is widened to hold its value (0..1 for 0).
 */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  let low = Math.min(lo, hi);
  let high = Math.max(lo, hi);
  if (!Number.isFinite(low) || !Number.isFinite(high)) return [0, 1];
  if (high === low) {
    if (high === 0) high = 1;
    else if (high > 0) low = 0;
    else high = 0;
  }
  const raw = (high - low) / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * 0.999) ?? 10 * power;
  const first = Math.floor(low / step + 1e-9);
  const last = Math.ceil(high / step - 1e-9);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toFixed(decimals)));
  return ticks;
}

/** The label of an axis tick: as many decimals as the tick step needs, thousands separators. */
export function formatTick(value: number, step: number): string {
  let decimals = 0;
  while (decimals < 4 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6) decimals++;
  return value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** About how wide `text` is at `fontSize` px in the font stack (Helvetica's mean advance, generously). */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.58;
}

/**
 * Breaks `text` into lines of at most `maxChars` characters at spaces (a longer word gets a line
 * of its own). Blank text gives no lines.
 */
export function wrapText(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (line.length === 0) line = word;
    else if (line.length + 1 + word.length <= maxChars) line = `${line} ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

/** Options of {@link svgText}. */
export interface TextOptions {
  /** @default 12 */
  readonly size?: number;
  /** @default "start" */
  readonly anchor?: "start" | "middle" | "end";
  /** @default INK.text */
  readonly color?: string;
  /** @default false */
  readonly bold?: boolean;
  /** Degrees, about (x, y). @default 0 */
  readonly rotate?: number;
}

/** A `<text>` element, its content escaped; several lines become `<tspan>`s, each `size * 1.2` px lower. */
export function svgText(x: number, y: number, text: string | readonly string[], options: TextOptions = {}): string {
  const size = options.size ?? 12;
  const lines = typeof text === "string" ? [text] : text;
  const attrs = [
    `x="${px(x)}"`,
    `y="${px(y)}"`,
    `font-size="${size}"`,
    `fill="${options.color ?? INK.text}"`,
    options.anchor && options.anchor !== "start" ? `text-anchor="${options.anchor}"` : "",
    options.bold ? `font-weight="bold"` : "",
    options.rotate ? `transform="rotate(${options.rotate} ${px(x)} ${px(y)})"` : "",
  ].filter((a) => a.length > 0);
  const body =
    lines.length <= 1
      ? escapeXml(lines[0] ?? "")
      : lines.map((line, i) => `<tspan x="${px(x)}"${i === 0 ? "" : ` dy="${px(size * 1.2)}"`}>${escapeXml(line)}</tspan>`).join("");
  return `<text ${attrs.join(" ")}>${body}</text>`;
}

/**
 * A marker centred on (x, y) in `style`, hollow, with a tooltip: one element of class
 * `className` ("mark" for a data point, so each point is one element of that class).
 */
export function svgMarker(x: number, y: number, style: SeriesStyle, tooltip: string, className = "mark"): string {
  const r = style.markerRadius;
  const paint = `class="${className}" fill="#ffffff" stroke="${style.color}" stroke-width="2"`;
  const tip = `<title>${escapeXml(tooltip)}</title>`;
  switch (style.marker) {
    case "circle":
      return `<circle ${paint} cx="${px(x)}" cy="${px(y)}" r="${px(r)}">${tip}</circle>`;
    case "square":
      return `<rect ${paint} x="${px(x - r)}" y="${px(y - r)}" width="${px(2 * r)}" height="${px(2 * r)}">${tip}</rect>`;
    case "triangle":
      return `<path ${paint} d="M${px(x)} ${px(y - r * 1.15)}L${px(x + r)} ${px(y + r * 0.85)}L${px(x - r)} ${px(y + r * 0.85)}Z">${tip}</path>`;
    case "diamond":
      return `<path ${paint} d="M${px(x)} ${px(y - r * 1.2)}L${px(x + r * 1.2)} ${px(y)}L${px(x)} ${px(y + r * 1.2)}L${px(x - r * 1.2)} ${px(y)}Z">${tip}</path>`;
  }
}
