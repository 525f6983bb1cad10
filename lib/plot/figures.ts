/**
 * Figure builders: tidy rows in, one Observable Plot `<svg>` out. Legends and
 * titles are drawn as marks inside the SVG (Plot's own legend wraps the plot
 * in an HTML `<figure>`, which a standalone .svg cannot hold). Every mark
 * group carries a `mc-*` class so tests and stylesheets can find it.
 */
import * as Plot from "@observablehq/plot";
import { errorText, paperText, textTable } from "../_util/mod.ts";
import {
  type BarRow,
  checkBarRows,
  checkComparisonRows,
  checkPointRows,
  checkStartupRows,
  checkThroughputMarkers,
  checkThroughputRows,
  checkTimelineRows,
  type ComparisonRow,
  type PointRow,
  type Source,
  type StartupRow,
  type ThroughputMarker,
  type ThroughputRow,
  type TimelineRow,
} from "./rows.ts";
import { categoryColors, seriesColors, SOURCE_STYLE, systemColor, THEME } from "./theme.ts";
import { headlessDocument } from "./render.ts";

/**
 * What a builder returns: Plot's element (always an `<svg>` here). Typed as a
 * plain DOM element so the public API names no Observable Plot type; Plot's
 * `scale()`/`legend()` accessors are still on the object at run time.
 */
export type Figure = SVGSVGElement | HTMLElement;

/** Options shared by every figure builder. */
export interface FigureOptions {
  /** DOM to build with. @default a shared linkedom document */
  document?: Document;
  /** Width in px. @default 640 */
  width?: number;
  /** Title drawn inside the SVG, top left. @default none */
  title?: string;
}

interface LegendItem {
  label: string;
  color: string;
  /**
   * square: solid swatch; outline: light swatch (paper); dash: a tick; ring:
   * hollow dot; strip: a row of small swatches, one per colour of `colors`
   * (a series whose bars take each group's colour).
   */
  symbol: "square" | "outline" | "dash" | "ring" | "strip";
  /** The strip's colours (symbol "strip" only). */
  colors?: readonly string[];
}

const TITLE_H = 24;
const LEGEND_H = 18;
const AXIS_LABEL_H = 22;
const CHAR_W = 6.2; // px per character at 11 px, for layout estimates only
const STRIP_STEP = 7; // px from one swatch of a strip to the next

/** Width of an item's swatch, px (the label follows 4 px after it). */
function swatchWidth(item: LegendItem): number {
  if (item.symbol === "strip") return (item.colors?.length ?? 0) * STRIP_STEP;
  return item.symbol === "dash" ? 16 : 12;
}
/**
 * Bottom margin of a plot with an x-axis label: Plot puts the label 3 px
 * above the bottom edge, so with its default 30 px the label's line overlaps
 * the tick labels (drawn 9 px below the axis at 12 px) and collides with a
 * tick near the right end ("1,200" under "time (s) →").
 */
const X_LABEL_MARGIN_BOTTOM = 42;

/**
 * Rounds for labels: 3 significant-ish digits, no trailing zeros; a value
 * below 0.001 keeps 2 significant digits (0.00042, not "0", which would read
 * as exactly zero).
 */
function fmt(v: number): string {
  const a = Math.abs(v);
  if (a > 0 && a < 0.001) return String(Number(v.toPrecision(2)));
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return String(Number(v.toFixed(digits)));
}

/**
 * Text as readers see it: microseconds read "µs", while rows, CSV and JSON
 * outputs and metric names keep the ASCII "us" (scripts and tests match it).
 * Only the unit alone or in parentheses changes, never the word "us".
 * @example
 * ```ts
 * import { displayUnit } from "./mod.ts";
 * console.assert(displayUnit("us") === "\u00b5s");
 * console.assert(displayUnit("Deploy latency (us)") === "Deploy latency (\u00b5s)");
 * ```
 */
export function displayUnit(text: string): string {
  return text === "us" ? "\u00b5s" : text.replaceAll("(us)", "(\u00b5s)");
}

function firstSeen<T>(rows: readonly T[], key: (r: T) => string): string[] {
  return [...new Set(rows.map(key))];
}

/**
 * Title, legend and y-axis label marks placed in the top margin, one row each
 * (facet "super": drawn once, relative to the whole plot; Plot's own y label
 * would sit at the very top, over the title). Returns the marks and the
 * margin they need.
 */
function header(
  { title, items, span, marginLeft, yLabel }: {
    title: string | undefined;
    items: readonly LegendItem[];
    span: number;
    marginLeft: number;
    yLabel?: string;
  },
): { marks: Plot.Markish[]; marginTop: number } {
  // Lay legend items out left to right, wrapping when the row is full.
  const rows: { item: LegendItem; x: number }[][] = [];
  let row: { item: LegendItem; x: number }[] = [];
  let x = 0;
  for (const item of items) {
    // 20 px for a single swatch and its gap (a dash's label sits 4 px further in).
    const w = (item.symbol === "strip" ? 8 + swatchWidth(item) : 20) +
      item.label.length * CHAR_W + 14;
    if (row.length > 0 && x + w > span) {
      rows.push(row);
      row = [];
      x = 0;
    }
    row.push({ item, x });
    x += w;
  }
  if (row.length > 0) rows.push(row);
  const marginTop = 8 + (title ? TITLE_H : 0) + rows.length * LEGEND_H +
    (yLabel ? AXIS_LABEL_H : 10);
  const marks: Plot.Markish[] = [];
  if (yLabel) {
    marks.push(Plot.text([`\u2191 ${displayUnit(yLabel)}`], {
      frameAnchor: "top-left",
      dx: -marginLeft + 8,
      dy: -8,
      text: (d: string) => d,
      textAnchor: "start",
      lineAnchor: "bottom",
      fill: THEME.color,
      facet: "super",
      className: "mc-y-label",
    }));
  }
  if (title) {
    marks.push(Plot.text([displayUnit(title)], {
      frameAnchor: "top-left",
      dx: -marginLeft + 8,
      dy: -marginTop + 8,
      text: (d: string) => d,
      textAnchor: "start",
      lineAnchor: "top",
      fontSize: 15,
      fontWeight: "bold",
      fill: THEME.color,
      facet: "super",
      className: "mc-title",
    }));
  }
  rows.forEach((r, i) => {
    const dy = -marginTop + 8 + (title ? TITLE_H : 0) + i * LEGEND_H + LEGEND_H / 2;
    for (const { item, x: x0 } of r) {
      const x = x0 + 8 - marginLeft; // rows start at the left edge, like the title
      const common = {
        frameAnchor: "top-left" as const,
        dy,
        facet: "super" as const,
        lineAnchor: "middle" as const,
      };
      if (item.symbol === "strip") {
        marks.push(...(item.colors ?? []).map((color, j) =>
          Plot.dot([color], {
            ...common,
            dx: x + 3 + j * STRIP_STEP,
            r: 3.2,
            symbol: "square",
            fill: color,
            stroke: color,
            className: "mc-legend-swatch",
          })
        ));
      } else if (item.symbol === "dash") {
        marks.push(Plot.text(["\u2014"], {
          ...common,
          dx: x + 6,
          text: (d: string) => d,
          textAnchor: "middle",
          fill: item.color,
          fontSize: 16,
          fontWeight: "bold",
          className: "mc-legend-swatch",
        }));
      } else {
        marks.push(Plot.dot([item.label], {
          ...common,
          dx: x + 6,
          r: item.symbol === "ring" ? 3.5 : 5.5,
          symbol: item.symbol === "ring" ? "circle" : "square",
          fill: item.symbol === "ring" ? "white" : item.color,
          fillOpacity: item.symbol === "outline" ? SOURCE_STYLE.paper.fillOpacity : 1,
          stroke: item.color,
          className: "mc-legend-swatch",
        }));
      }
      marks.push(Plot.text([item.label], {
        ...common,
        dx: x + swatchWidth(item) + 4,
        text: (d: string) => d,
        textAnchor: "start",
        fontSize: 11,
        fill: THEME.color,
        className: "mc-legend-label",
      }));
    }
  });
  return { marks, marginTop };
}

/**
 * Plot options every figure shares. `kind` and `description` name the figure
 * for screen readers (the `<svg>`'s aria-label is the title, else `kind`; its
 * aria-description says how to read it), since the title is only drawn text.
 */
function base(options: FigureOptions, kind: string, description: string) {
  const width = options.width ?? 640;
  if (!(Number.isFinite(width) && width >= 200)) {
    throw new RangeError(
      `Cannot build figure: 'width' must be a finite number >= 200: current value is ${width}`,
    );
  }
  return {
    document: options.document ?? headlessDocument(),
    width,
    style: { background: THEME.background, color: THEME.color, fontSize: `${THEME.fontSize}px` },
    ariaLabel: displayUnit(options.title ?? kind),
    ariaDescription: description,
  };
}

/**
 * OS-startup time as horizontal stacked bars: one bar per method and source
 * ("image-copy · paper" beside "image-copy · sim"), phases as colours, paper
 * bars light with an outline, totals labelled at the bar ends.
 * @param rows phases with start and end in seconds
 * @returns an `<svg>` element
 * @example
 * ```ts
 * import { startupFigure, toSvg } from "./mod.ts";
 * const svg = toSvg(startupFigure([
 *   { method: "bmcast", phase: "VMM boot", startS: 0, endS: 5, source: "paper" },
 *   { method: "bmcast", phase: "OS boot", startS: 5, endS: 63, source: "paper" },
 * ]));
 * console.assert(svg.includes("63 s"));
 * ```
 */
export function startupFigure(rows: readonly StartupRow[], options: FigureOptions = {}): Figure {
  const data = checkStartupRows(rows);
  const b = base(
    options,
    "OS-startup time",
    "Horizontal stacked bars of startup time in seconds, one bar per method and source " +
      "(paper bars light with an outline, simulated bars solid), one colour per phase, " +
      "each bar's total written at its end.",
  );
  const key = (d: { method: string; source: Source }) => `${d.method} \u00b7 ${d.source}`;
  const methods = firstSeen(data, (d) => d.method);
  const yDomain = methods.flatMap((m) =>
    (["paper", "sim"] as const).filter((s) => data.some((d) => d.method === m && d.source === s))
      .map((source) => key({ method: m, source }))
  );
  const phases = firstSeen(data, (d) => d.phase);
  const totals = yDomain.map((k) => {
    const bars = data.filter((d) => key(d) === k);
    return { key: k, total: Math.max(...bars.map((d) => d.endS)) };
  });
  const xMax = Math.max(1, ...totals.map((t) => t.total));
  const marginLeft = Math.max(
    80,
    Math.ceil(Math.max(0, ...yDomain.map((k) => k.length)) * 6.5) + 16,
  );
  const head = header({
    title: options.title,
    items: phases.map((p, i) => ({ label: p, color: categoryColors(phases)[i], symbol: "square" })),
    span: b.width - 16,
    marginLeft,
  });
  const bar = (source: Source) =>
    Plot.barX(data.filter((d) => d.source === source), {
      x1: "startS",
      x2: "endS",
      y: key,
      fill: "phase",
      fillOpacity: SOURCE_STYLE[source].fillOpacity,
      stroke: source === "paper" ? "phase" : "white",
      strokeWidth: source === "paper" ? 1.2 : 0.5,
      insetTop: 2,
      insetBottom: 2,
      title: (d: StartupRow) =>
        `${d.method} (${d.source}): ${d.phase} ${fmt(d.startS)}-${fmt(d.endS)} s`,
      className: `mc-bar-${source}`,
    });
  return Plot.plot({
    ...b,
    height: head.marginTop + X_LABEL_MARGIN_BOTTOM + 10 + yDomain.length * 28,
    marginTop: head.marginTop,
    marginLeft,
    marginRight: 10,
    marginBottom: X_LABEL_MARGIN_BOTTOM,
    x: { domain: [0, xMax * 1.12], label: "startup time (s) \u2192", grid: true },
    y: { domain: yDomain, label: null, padding: 0.15 },
    color: { domain: phases, range: categoryColors(phases) },
    marks: [
      bar("paper"),
      bar("sim"),
      Plot.text(totals, {
        x: "total",
        y: "key",
        text: (t: { total: number }) => `${fmt(t.total)} s`,
        dx: 4,
        textAnchor: "start",
        fill: THEME.color,
        className: "mc-total",
      }),
      Plot.ruleX([0]),
      ...head.marks,
    ],
  });
}

/** Options of {@link throughputFigure}. */
export interface ThroughputFigureOptions extends FigureOptions {
  /**
   * y range in % of bare metal, two finite numbers low < high (else a
   * RangeError); widened to fit the data. @default [60, 120]
   */
  yDomain?: [number, number];
  /** Label of the y axis. @default "throughput (% of bare metal)" */
  yLabel?: string;
}

/**
 * Throughput over time in % of bare metal: one line per system (paper series
 * dashed with hollow dots), a rule at 100 %, and each marker (e.g. the
 * de-virtualization moment) as a dashed vertical rule with its label. The
 * time axis starts at 0 s (the deployment's start), not at the first sample.
 * @param rows samples per system
 * @param markers labelled moments
 * @returns an `<svg>` element
 * @example
 * ```ts
 * import { throughputFigure, toSvg } from "./mod.ts";
 * const svg = toSvg(throughputFigure(
 *   [0, 600, 1200].map((t) => ({ system: "bmcast", timeS: t, pctOfBareMetal: t < 900 ? 85 : 100, source: "sim" as const })),
 *   [{ system: "bmcast", timeS: 900, label: "de-virtualized" }],
 * ));
 * console.assert(svg.includes("de-virtualized"));
 * ```
 */
export function throughputFigure(
  rows: readonly ThroughputRow[],
  markers: readonly ThroughputMarker[] = [],
  options: ThroughputFigureOptions = {},
): Figure {
  const data = checkThroughputRows(rows);
  const marks = checkThroughputMarkers(markers);
  const b = base(
    options,
    "Throughput over time",
    "Lines of throughput in % of bare metal over time in seconds, one colour per system " +
      "(paper series dashed with hollow dots), a dotted rule at 100 %, and dashed vertical " +
      "rules at labelled moments.",
  );
  const given = options.yDomain;
  if (
    given !== undefined &&
    !(Array.isArray(given) && given.length === 2 && given.every(Number.isFinite) &&
      given[0] < given[1])
  ) {
    throw new RangeError(
      `Cannot build figure: 'yDomain' must be two finite numbers [low, high] with low < high: current value is ${
        JSON.stringify(given)
      }`,
    );
  }
  const systems = firstSeen([...data, ...marks], (d) => d.system);
  const colors = systems.map(systemColor);
  const values = data.map((d) => d.pctOfBareMetal);
  const [lo0, hi0] = options.yDomain ?? [60, 120];
  const yDomain = [
    Math.min(lo0, Math.floor(Math.min(lo0, ...values) / 10) * 10),
    Math.max(hi0, Math.ceil(Math.max(hi0, ...values) / 10) * 10),
  ];
  const byTime = (src: Source) =>
    data.filter((d) => d.source === src).sort((a, b) => a.timeS - b.timeS);
  const hasPaper = data.some((d) => d.source === "paper");
  const items: LegendItem[] = systems.map((s, i) => ({
    label: s,
    color: colors[i],
    symbol: "square",
  }));
  if (hasPaper) items.push({ label: "paper (dashed)", color: "#777777", symbol: "ring" });
  const marginLeft = 50;
  const head = header({
    title: options.title,
    items,
    span: b.width - 16,
    marginLeft,
    yLabel: options.yLabel ?? "throughput (% of bare metal)",
  });
  const xy = { x: "timeS", y: "pctOfBareMetal", stroke: "system", z: "system" } as const;
  return Plot.plot({
    ...b,
    height: head.marginTop + 300 + X_LABEL_MARGIN_BOTTOM - 30,
    marginTop: head.marginTop,
    marginLeft,
    marginRight: 20,
    marginBottom: X_LABEL_MARGIN_BOTTOM,
    // From 0 s: samples are windows' ends, so the first one comes a window late.
    x: {
      domain: [
        Math.min(0, ...data.map((d) => d.timeS)),
        Math.max(0, ...[...data, ...marks].map((d) => d.timeS)),
      ],
      label: "time (s) \u2192",
      grid: true,
    },
    y: { domain: yDomain, label: null, grid: true },
    color: { domain: systems, range: colors },
    marks: [
      Plot.ruleY([100], { stroke: THEME.color, strokeDasharray: "2,2", className: "mc-rule-100" }),
      Plot.line(byTime("paper"), {
        ...xy,
        strokeWidth: 1.4,
        strokeDasharray: SOURCE_STYLE.paper.strokeDasharray,
        className: "mc-line-paper",
      }),
      Plot.dot(byTime("paper"), {
        ...xy,
        r: 2.5,
        fill: "white",
        title: (d: ThroughputRow) =>
          `paper ${d.system}: ${fmt(d.pctOfBareMetal)} % at ${fmt(d.timeS)} s`,
        className: "mc-dot-paper",
      }),
      Plot.line(byTime("sim"), { ...xy, strokeWidth: 2, className: "mc-line-sim" }),
      Plot.ruleX(marks, {
        x: "timeS",
        stroke: "system",
        strokeWidth: 1.2,
        strokeDasharray: "6,3",
        className: "mc-marker",
      }),
      Plot.text(marks, {
        x: "timeS",
        frameAnchor: "top",
        dy: 4,
        dx: 4,
        text: "label",
        textAnchor: "start",
        lineAnchor: "top",
        fill: THEME.color,
        className: "mc-marker-label",
      }),
      ...head.marks,
    ],
  });
}

/** Options of {@link barsFigure}. */
export interface BarsFigureOptions extends FigureOptions {
  /** y-axis label. @default the rows' unit */
  yLabel?: string;
}

/**
 * Grouped bars: groups (systems) side by side, series (e.g. read/write) as
 * colours (see seriesColors) named in the legend. A single series is coloured
 * by system instead, and the legend names it beside a strip of those colours.
 * Simulated values are solid bars labelled with their value; each paper value
 * is a black tick (with a tooltip), or a light dashed bar when no simulated
 * value exists. A unit "us" reads "µs" (see displayUnit).
 * @param rows one value per group, series and source; all with the same unit
 * @returns an `<svg>` element
 * @example
 * ```ts
 * import { barsFigure, toSvg } from "./mod.ts";
 * const svg = toSvg(barsFigure([
 *   { group: "Bare-metal", series: "latency", value: 1.3, unit: "us", source: "paper" },
 *   { group: "Bare-metal", series: "latency", value: 1.31, unit: "us", source: "sim" },
 * ], { yLabel: "RDMA latency (us)" }));
 * console.assert(svg.includes("paper: 1.3 \u00b5s"));
 * ```
 */
export function barsFigure(rows: readonly BarRow[], options: BarsFigureOptions = {}): Figure {
  const data = checkBarRows(rows);
  const b = base(
    options,
    "Grouped bars",
    "Vertical bars grouped along the x axis, each simulated value a solid bar labelled " +
      "with its value; each paper value a black tick, or a light dashed bar when there is " +
      "no simulated value.",
  );
  const units = firstSeen(data, (d) => d.unit);
  if (units.length > 1) {
    throw new RangeError(
      `Cannot plot bar rows: 'unit' must be the same in every row: current values are ${
        units.join(", ")
      }`,
    );
  }
  const groups = firstSeen(data, (d) => d.group);
  const series = firstSeen(data, (d) => d.series);
  const bySystem = series.length === 1;
  const cell = (d: BarRow) => `${d.group}\u0000${d.series}`;
  const sim = data.filter((d) => d.source === "sim");
  const paper = data.filter((d) => d.source === "paper");
  const simCells = new Set(sim.map(cell));
  const paperOnly = paper.filter((d) => !simCells.has(cell(d)));
  // A bar's label sits at its end: above a positive bar, below a negative one.
  const end = new Map<string, number>();
  for (const d of data) {
    const e = end.get(cell(d)) ?? 0;
    end.set(cell(d), d.value < 0 ? Math.min(e, d.value) : Math.max(e, d.value));
  }
  const yMax = Math.max(0, ...data.map((d) => d.value));
  const yMin = Math.min(0, ...data.map((d) => d.value));
  const color = bySystem
    ? { domain: groups, range: groups.map(systemColor) }
    : { domain: series, range: seriesColors(series) };
  const fill = bySystem ? "group" : "series";
  // One series takes each group's colour: its legend item shows them all.
  const items: LegendItem[] = bySystem
    ? [{ label: series[0], color: THEME.color, symbol: "strip", colors: color.range }]
    : series.map((s, i) => ({ label: s, color: color.range[i], symbol: "square" }));
  if (paper.length > 0) items.push({ label: "paper value", color: THEME.color, symbol: "dash" });
  const marginLeft = 50;
  const head = header({
    title: options.title,
    items,
    span: b.width - 16,
    marginLeft,
    yLabel: options.yLabel ?? units[0] ?? "",
  });
  const pos = { fx: "group", x: "series", y: "value" } as const;
  return Plot.plot({
    ...b,
    height: head.marginTop + 280,
    marginTop: head.marginTop,
    marginLeft,
    marginRight: 10,
    marginBottom: 36,
    fx: { domain: groups, label: null, axis: "bottom", padding: 0.12 },
    x: { domain: series, axis: null, padding: 0.1 },
    y: {
      domain: yMax === 0 && yMin === 0 ? [0, 1] : [yMin * 1.15, yMax * 1.15],
      label: null,
      grid: true,
    },
    color,
    marks: [
      Plot.barY(sim, {
        ...pos,
        fill,
        title: (d: BarRow) => `sim ${d.group} ${d.series}: ${fmt(d.value)} ${displayUnit(d.unit)}`,
        className: "mc-bar-sim",
      }),
      Plot.barY(paperOnly, {
        ...pos,
        fill,
        fillOpacity: SOURCE_STYLE.paper.fillOpacity,
        stroke: fill,
        strokeDasharray: SOURCE_STYLE.paper.strokeDasharray,
        className: "mc-bar-paper",
      }),
      Plot.tickY(paper, {
        ...pos,
        stroke: THEME.color,
        strokeWidth: 2.5,
        title: (d: BarRow) => `paper: ${fmt(d.value)} ${displayUnit(d.unit)}`,
        className: "mc-tick-paper",
      }),
      ...([[-6, "bottom", (v: number) => v >= 0], [6, "top", (v: number) => v < 0]] as const)
        .map(([dy, lineAnchor, side]) =>
          Plot.text([...sim, ...paperOnly].filter((d) => side(d.value)), {
            ...pos,
            y: (d: BarRow) => end.get(cell(d)),
            text: (d: BarRow) => fmt(d.value),
            dy,
            lineAnchor,
            fill: THEME.color,
            className: "mc-value",
          })
        ),
      Plot.ruleY([0]),
      ...head.marks,
    ],
  });
}

/** Options of {@link scatterFigure}. */
export interface ScatterFigureOptions extends FigureOptions {
  /** x-axis label. @default "x" */
  xLabel?: string;
  /** y-axis label. @default "y" */
  yLabel?: string;
}

/**
 * Labelled points of a trade-off, coloured by group (legend on top), each
 * named beside it. The axes span the data with a margin, not from zero, so
 * close points stay apart.
 * @param rows one point per labelled case
 * @returns an `<svg>` element
 * @example
 * ```ts
 * import { scatterFigure, toSvg } from "./mod.ts";
 * const svg = toSvg(scatterFigure([
 *   { label: "idle 2 ms", group: "idle", x: 420, y: 88 },
 *   { label: "rate 30 MB/s", group: "rate", x: 1100, y: 97 },
 * ], { xLabel: "deployed at (s)", yLabel: "% of bare metal" }));
 * console.assert(svg.includes("rate 30 MB/s") && svg.includes("deployed at (s)"));
 * ```
 */
export function scatterFigure(
  rows: readonly PointRow[],
  options: ScatterFigureOptions = {},
): Figure {
  const data = checkPointRows(rows);
  const b = base(
    options,
    "Trade-off scatter plot",
    "Labelled points, one colour per group, each named beside it.",
  );
  const groups = firstSeen(data, (d) => d.group);
  const colors = categoryColors(groups);
  const marginLeft = 50;
  const head = header({
    title: options.title,
    items: groups.map((g, i) => ({ label: g, color: colors[i], symbol: "square" })),
    span: b.width - 16,
    marginLeft,
    yLabel: options.yLabel ?? "y",
  });
  // A margin around the data: more on the right, where the labels go.
  const pad = (vs: number[], lo: number, hi: number) => {
    const min = Math.min(...vs), max = Math.max(...vs);
    const span = max - min || Math.abs(max) || 1;
    return [min - lo * span, max + hi * span];
  };
  const plotW = b.width - marginLeft - 20;
  const [xLo, xPad] = pad(data.map((d) => d.x), 0.08, 0.35);
  // Wide enough on the right for every label, which starts 8 px right of its point
  // (one longer than three quarters of the plot is left to overflow).
  const xHi = Math.max(
    xPad,
    ...data.map((d) => {
      const room = plotW - 8 - d.label.length * CHAR_W;
      return room > plotW / 4 ? xLo + ((d.x - xLo) * plotW) / room : xPad;
    }),
  );
  const xDomain = [xLo, xHi];
  const yDomain = pad(data.map((d) => d.y), 0.12, 0.12);
  const plotH = 300 - 40;
  const labelY = dodgeLabels(data, {
    xPerPx: (xDomain[1] - xDomain[0]) / plotW,
    yPerPx: (yDomain[1] - yDomain[0]) / plotH,
  });
  return Plot.plot({
    ...b,
    height: head.marginTop + 300,
    marginTop: head.marginTop,
    marginLeft,
    marginRight: 20,
    marginBottom: 40,
    x: { domain: xDomain, label: options.xLabel ?? "x", grid: true },
    y: { domain: yDomain, label: null, grid: true },
    color: { domain: groups, range: colors },
    marks: [
      Plot.dot(data, {
        x: "x",
        y: "y",
        fill: "group",
        r: 5,
        title: (d: PointRow) => `${d.label}: ${fmt(d.x)}, ${fmt(d.y)}`,
        className: "mc-point",
      }),
      Plot.text(data, {
        x: "x",
        y: (_d: PointRow, i: number) => labelY[i],
        text: "label",
        dx: 8,
        textAnchor: "start",
        fontSize: 10,
        fill: THEME.color,
        className: "mc-point-label",
      }),
      ...head.marks,
    ],
  });
}

/**
 * The y (data units) of each point's label: at its point, or moved down a
 * line at a time until it no longer overlaps a label placed before it
 * (points taken from the top), so close or equal points stay readable.
 */
function dodgeLabels(
  data: readonly PointRow[],
  scale: { xPerPx: number; yPerPx: number },
): number[] {
  const LINE = 12, placed: { x0: number; x1: number; y: number }[] = [];
  const out = new Array<number>(data.length);
  const order = data.map((_, i) => i).sort((a, b) => data[b].y - data[a].y);
  for (const i of order) {
    const d = data[i];
    // Label box in px from the data origin: starts 8 px right of the point.
    const x0 = d.x / scale.xPerPx + 8, x1 = x0 + d.label.length * CHAR_W;
    let y = -d.y / scale.yPerPx;
    while (placed.some((p) => x0 < p.x1 && p.x0 < x1 && Math.abs(p.y - y) < LINE)) y += LINE;
    placed.push({ x0, x1, y });
    out[i] = -y * scale.yPerPx;
  }
  return out;
}

/**
 * Per-entity phase Gantt chart: one row per entity (node), bars from startS
 * to endS coloured by phase. Accepts lib/sim's SpanRow as is.
 * @param rows phases of each entity
 * @returns an `<svg>` element
 * @example
 * ```ts
 * import { timelineFigure, toSvg } from "./mod.ts";
 * const svg = toSvg(timelineFigure([
 *   { entity: "node0", phase: "VMM boot", startS: 0, endS: 5 },
 *   { entity: "node0", phase: "OS boot", startS: 5, endS: 63 },
 * ]));
 * console.assert(svg.includes("node0"));
 * ```
 */
export function timelineFigure(rows: readonly TimelineRow[], options: FigureOptions = {}): Figure {
  const data = checkTimelineRows(rows);
  const b = base(
    options,
    "Phase timeline",
    "Horizontal bars of phases over time in seconds, one row per entity, one colour per phase.",
  );
  const entities = firstSeen(data, (d) => d.entity);
  const phases = firstSeen(data, (d) => d.phase);
  const colors = categoryColors(phases);
  const marginLeft = Math.max(
    60,
    Math.ceil(Math.max(0, ...entities.map((e) => e.length)) * 6.5) + 16,
  );
  const head = header({
    title: options.title,
    items: phases.map((p, i) => ({ label: p, color: colors[i], symbol: "square" })),
    span: b.width - 16,
    marginLeft,
  });
  const rowH = entities.length > 40 ? 8 : 20;
  return Plot.plot({
    ...b,
    height: head.marginTop + X_LABEL_MARGIN_BOTTOM + 10 + entities.length * rowH,
    marginTop: head.marginTop,
    marginLeft,
    marginRight: 20,
    marginBottom: X_LABEL_MARGIN_BOTTOM,
    x: { label: "time (s) \u2192", grid: true },
    y: { domain: entities, label: null, padding: 0.1, axis: entities.length > 40 ? null : "left" },
    color: { domain: phases, range: colors },
    marks: [
      Plot.barX(data, {
        x1: "startS",
        x2: "endS",
        y: "entity",
        fill: "phase",
        title: (d: TimelineRow) => `${d.entity}: ${d.phase} ${fmt(d.startS)}-${fmt(d.endS)} s`,
        className: "mc-bar",
      }),
      ...head.marks,
    ],
  });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function signed(v: number): string {
  const shown = Math.abs(v).toFixed(1);
  // An error that rounds to 0.0 has no sign ("-0.0" read as a deviation).
  return `${shown === "0.0" ? "" : v > 0 ? "+" : "\u2212"}${shown}`;
}

/** How a comparison's simulated value reads: NaN is a metric the run never reached. */
const NOT_REACHED = "not reached";

/**
 * The paper, simulated and error % cells of a comparison row: a band row
 * reads "70-100" and "in band" or "-3.1 (below band)" (its middle is no value
 * of the paper's); NaN reads "not reached" and "n/a".
 */
function cells(r: ComparisonRow): [string, string, string] {
  const simulated = Number.isNaN(r.simulated) ? NOT_REACHED : fmt(r.simulated);
  return [paperText(r, fmt), simulated, errorText(r, signed)];
}

/**
 * Paper-versus-simulation checks as an HTML `<table>`; failing rows get
 * class "fail", a red colour and the status "FAIL". A row whose `simulated`
 * is NaN (not reached within the run) shows "not reached" and error "n/a",
 * and fails. A row with a `band` (the paper gives only a range) shows the
 * band as its paper value ("70-100"), its error as "in band" or the distance
 * outside it ("-3.1 (below band)") and "band" as its tolerance. With
 * `judged: false` (configurations the paper's values do not apply to) the
 * table has no tolerance and status columns and no row is marked: the rows
 * get class "unjudged". A metric's "(us)" reads "(µs)" (see displayUnit).
 * @param rows one check per row
 * @param options `judged`: mark rows pass/FAIL (default true)
 * @returns an HTML string
 * @throws TypeError when a row is malformed (see checkComparisonRows)
 * @example
 * ```ts
 * import { comparisonTable } from "./mod.ts";
 * const rows = [{
 *   figure: "startup", metric: "bmcast total (s)", paper: 63, simulated: 70,
 *   errorPct: 11.1, tolerancePct: 5, pass: false,
 * }, {
 *   figure: "cassandra", metric: "bmcast after de-virtualization (%)", paper: 100,
 *   simulated: NaN, errorPct: NaN, tolerancePct: 1, pass: false,
 * }, {
 *   figure: "cassandra", metric: "kvm-local mean (%)", paper: 85, band: { low: 70, high: 100 },
 *   simulated: 93, errorPct: 0, tolerancePct: 0, pass: true,
 * }];
 * const html = comparisonTable(rows);
 * console.assert(html.includes("FAIL") && html.includes("not reached"));
 * console.assert(html.includes(">70-100<") && html.includes(">in band<") && !html.includes(">85<"));
 * console.assert(!comparisonTable(rows, { judged: false }).includes("FAIL"));
 * ```
 */
export function comparisonTable(
  rows: readonly ComparisonRow[],
  options: { judged?: boolean } = {},
): string {
  const data = checkComparisonRows(rows);
  const judged = options.judged ?? true;
  // Headers align with their column (a <th> centres by default) and are
  // column headers for screen readers.
  const tableCells = (tag: "th" | "td", values: string[], numeric: boolean[]) =>
    values.map((v, i) =>
      `<${tag}${tag === "th" ? ' scope="col"' : ""} style="text-align:${
        numeric[i] ? "right" : "left"
      };padding:2px 8px">${escapeHtml(v)}</${tag}>`
    ).join("");
  const numeric = [false, false, true, true, true, true, false];
  const head = ["figure", "metric", "paper", "simulated", "error %", "tolerance %", "status"];
  const columns = judged ? head.length : 5;
  const body = data.map((r) => {
    const attrs = !judged
      ? ' class="unjudged"'
      : r.pass
      ? ' class="pass"'
      : ' class="fail" style="color:#b00020;font-weight:bold"';
    const values = [
      r.figure,
      displayUnit(r.metric),
      ...cells(r),
      r.band === undefined ? `\u00b1${fmt(r.tolerancePct)}` : "band",
      r.pass ? "pass" : "FAIL",
    ];
    return `<tr${attrs}>${tableCells("td", values.slice(0, columns), numeric)}</tr>`;
  });
  return [
    '<table class="mc-comparison" style="border-collapse:collapse;font-family:system-ui,sans-serif;font-size:13px;background:white;color:black">',
    `<thead><tr style="border-bottom:1px solid black">${
      tableCells("th", head.slice(0, columns), numeric)
    }</tr></thead>`,
    `<tbody>${body.join("")}</tbody>`,
    "</table>",
  ].join("\n");
}

/**
 * Paper-versus-simulation checks as aligned plain-text lines for terminals:
 * `figure | metric | paper | simulated | error % | status`, numbers right
 * aligned, failures marked `FAIL (tol ±N%)`. A row whose `simulated` is NaN
 * (not reached within the run) shows "not reached" and error "n/a", and
 * fails. A row with a `band` shows it as its paper value ("70-100") and its
 * error as "in band" or e.g. "-3.1 (below band)"; it fails as plain "FAIL".
 * With `judged: false` (quick configurations the paper's values do not apply
 * to) the status column is left out, as in {@link comparisonTable}.
 * @param rows one check per row
 * @param options `judged` (default true): show the status column
 * @returns the lines joined with "\n" (header first)
 * @throws TypeError when a row is malformed (see checkComparisonRows)
 * @example
 * ```ts
 * import { formatComparison } from "./mod.ts";
 * const text = formatComparison([{
 *   figure: "rdma", metric: "bare-metal latency (us)", paper: 1.3, simulated: 1.31,
 *   errorPct: 0.8, tolerancePct: 5, pass: true,
 * }, {
 *   figure: "cassandra", metric: "bmcast after de-virtualization (%)", paper: 100,
 *   simulated: NaN, errorPct: NaN, tolerancePct: 1, pass: false,
 * }, {
 *   figure: "cassandra", metric: "kvm-local mean (%)", paper: 85, band: { low: 70, high: 100 },
 *   simulated: 67.9, errorPct: -3, tolerancePct: 0, pass: false,
 * }]);
 * const [head, , never, band] = text.split("\n");
 * console.assert(head.startsWith("figure") && /not reached \|\s+n\/a \| FAIL/.test(never));
 * console.assert(/\| 70-100 \|\s+67\.9 \| -3\.0 \(below band\) \| FAIL$/.test(band), band);
 * console.assert(!formatComparison([], { judged: false }).includes("status"));
 * ```
 */
export function formatComparison(
  rows: readonly ComparisonRow[],
  options: { judged?: boolean } = {},
): string {
  const data = checkComparisonRows(rows);
  const judged = options.judged ?? true;
  const columns = judged ? 6 : 5;
  return textTable(
    ["figure", "metric", "paper", "simulated", "error %", "status"].slice(0, columns),
    data.map((r) => {
      const [paper, simulated, error] = cells(r);
      return [
        r.figure,
        r.metric,
        paper,
        simulated,
        error.replace("\u2212", "-"),
        r.pass ? "ok" : r.band === undefined ? `FAIL (tol \u00b1${fmt(r.tolerancePct)}%)` : "FAIL",
      ].slice(0, columns);
    }),
    [false, false, true, true, true, false].slice(0, columns),
  );
}
