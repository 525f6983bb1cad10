/**
 * The tidy rows lib/plot accepts, and their validation. Rows are plain
 * objects: experiments produce them, figures read them, nothing else is
 * shared. Validation throws a TypeError naming the row index and field, so a
 * NaN from a broken experiment is caught here rather than drawn as a gap.
 */
import type { ComparisonRow } from "../_util/mod.ts";

/** Where a value comes from: the paper's figure, or this simulator. */
export type Source = "paper" | "sim";

/** One phase of one startup method, e.g. image-copy "image copy" 0-370 s. */
export interface StartupRow {
  /** Startup method (one bar per method and source), e.g. "image-copy", "bmcast". */
  method: string;
  /** Phase of the startup (one colour per phase), e.g. "VMM boot". */
  phase: string;
  /** Start of the phase on the startup-time axis, seconds. */
  startS: number;
  /** End of the phase on the startup-time axis, seconds (a bar's total is its largest end). */
  endS: number;
  /** Whether the phase is the paper's or the simulator's. */
  source: Source;
}

/** One throughput sample of a system, in % of bare metal. */
export interface ThroughputRow {
  /** System measured (one line per system and source), e.g. "bmcast". */
  system: string;
  /** Time of the sample, seconds. */
  timeS: number;
  /** Throughput at that time, in % of the bare-metal throughput. */
  pctOfBareMetal: number;
  /** Whether the sample is the paper's or the simulator's. */
  source: Source;
}

/** A labelled moment on the throughput figure (e.g. de-virtualization). */
export interface ThroughputMarker {
  /** System the moment belongs to. */
  system: string;
  /** When it happens, seconds (drawn as a dashed vertical rule). */
  timeS: number;
  /** Text drawn beside the rule, e.g. "de-virtualized". */
  label: string;
}

/** One bar: a value of one series (e.g. "read") for one group (system). */
export interface BarRow {
  /** Group on the x axis (a system, e.g. "Bare-metal"). */
  group: string;
  /** Series within the group (one colour per series), e.g. "read". */
  series: string;
  /** Height of the bar, in `unit`. */
  value: number;
  /** Unit of `value` (e.g. "MB/s", "us"); all rows of a figure share one. */
  unit: string;
  /** Paper values are drawn as ticks, simulated ones as solid bars. */
  source: Source;
}

/** One labelled point of a trade-off (e.g. a copy policy: when done, how fast meanwhile). */
export interface PointRow {
  /** Name written beside the point, e.g. "rate 30 MB/s". */
  label: string;
  /** Colour group (e.g. the policy kind). */
  group: string;
  /** Horizontal position, in the unit of the figure's x label. */
  x: number;
  /** Vertical position, in the unit of the figure's y label. */
  y: number;
}

/** One phase of one entity; lib/sim's SpanRow satisfies it. */
export interface TimelineRow {
  /** What went through the phase (one timeline row per entity), e.g. a node. */
  entity: string;
  /** Name of the phase (one colour per phase). */
  phase: string;
  /** Start of the phase, seconds. */
  startS: number;
  /** End of the phase, seconds. */
  endS: number;
}

/** One paper-versus-simulation check (shared with lib/scenario's compare()). */
export type { ComparisonRow };

type FieldKind = "string" | "number" | "source" | "boolean";
/** A field's rule: what it must be (for the message), and the test, which may look at its row. */
type Rule = readonly [string, (v: unknown, row: Record<string, unknown>) => boolean];
type Schema = Readonly<Record<string, FieldKind | Rule>>;

const RULES: Record<FieldKind, Rule> = {
  string: ["a string", (v) => typeof v === "string"],
  number: ["a finite number", (v) => typeof v === "number" && Number.isFinite(v)],
  source: ['"paper" or "sim"', (v) => v === "paper" || v === "sim"],
  boolean: ["a boolean", (v) => typeof v === "boolean"],
};

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function check<T>(what: string, rows: readonly T[], schema: Schema, span = false): T[] {
  if (!Array.isArray(rows)) {
    throw new TypeError(
      `Cannot plot ${what}: 'rows' must be an array: current value is ${show(rows)}`,
    );
  }
  rows.forEach((row, i) => {
    if (typeof row !== "object" || row === null) {
      throw new TypeError(
        `Cannot plot ${what}: 'rows[${i}]' must be an object: current value is ${show(row)}`,
      );
    }
    const r = row as Record<string, unknown>;
    for (const [field, kind] of Object.entries(schema)) {
      const [rule, ok] = typeof kind === "string" ? RULES[kind] : kind;
      if (!ok(r[field], r)) {
        throw new TypeError(
          `Cannot plot ${what}: 'rows[${i}].${field}' must be ${rule}: current value is ${
            show(r[field])
          }`,
        );
      }
    }
    if (span && (r.endS as number) < (r.startS as number)) {
      throw new RangeError(
        `Cannot plot ${what}: 'rows[${i}].endS' must be >= startS (${r.startS}): current value is ${r.endS}`,
      );
    }
  });
  return rows as T[];
}

/**
 * Validates startup rows; returns them typed.
 * @example
 * ```ts
 * import { checkStartupRows } from "./rows.ts";
 * checkStartupRows([{ method: "bmcast", phase: "OS boot", startS: 5, endS: 63, source: "sim" }]);
 * ```
 */
export function checkStartupRows(rows: readonly StartupRow[]): StartupRow[] {
  return check("startup rows", rows, {
    method: "string",
    phase: "string",
    startS: "number",
    endS: "number",
    source: "source",
  }, true);
}

/**
 * Validates throughput rows.
 * @example
 * ```ts
 * import { checkThroughputRows } from "./rows.ts";
 * checkThroughputRows([{ system: "bmcast", timeS: 0, pctOfBareMetal: 90, source: "sim" }]);
 * ```
 */
export function checkThroughputRows(rows: readonly ThroughputRow[]): ThroughputRow[] {
  return check("throughput rows", rows, {
    system: "string",
    timeS: "number",
    pctOfBareMetal: "number",
    source: "source",
  });
}

/**
 * Validates throughput markers.
 * @example
 * ```ts
 * import { checkThroughputMarkers } from "./rows.ts";
 * checkThroughputMarkers([{ system: "bmcast", timeS: 900, label: "de-virtualized" }]);
 * ```
 */
export function checkThroughputMarkers(rows: readonly ThroughputMarker[]): ThroughputMarker[] {
  return check("throughput markers", rows, { system: "string", timeS: "number", label: "string" });
}

/**
 * Validates bar rows.
 * @example
 * ```ts
 * import { checkBarRows } from "./rows.ts";
 * checkBarRows([{ group: "Bare-metal", series: "read", value: 112, unit: "MB/s", source: "paper" }]);
 * ```
 */
export function checkBarRows(rows: readonly BarRow[]): BarRow[] {
  return check("bar rows", rows, {
    group: "string",
    series: "string",
    value: "number",
    unit: "string",
    source: "source",
  });
}

/**
 * Validates point rows.
 * @example
 * ```ts
 * import { checkPointRows } from "./rows.ts";
 * checkPointRows([{ label: "idle 2 ms", group: "idle", x: 420, y: 88 }]);
 * ```
 */
export function checkPointRows(rows: readonly PointRow[]): PointRow[] {
  return check("point rows", rows, { label: "string", group: "string", x: "number", y: "number" });
}

/**
 * Validates timeline rows (extra fields, as in lib/sim's SpanRow, are kept).
 * @example
 * ```ts
 * import { checkTimelineRows } from "./rows.ts";
 * checkTimelineRows([{ entity: "node0", phase: "boot", startS: 0, endS: 2 }]);
 * ```
 */
export function checkTimelineRows<T extends TimelineRow>(rows: readonly T[]): T[] {
  return check("timeline rows", rows, {
    entity: "string",
    phase: "string",
    startS: "number",
    endS: "number",
  }, true);
}

/** A comparison's simulated value: finite, or NaN (not reached within the run) on a failing row. */
const SIMULATED: Rule = [
  "a finite number, or NaN (not reached within the run) with errorPct NaN and pass false",
  (v, row) =>
    typeof v === "number" &&
    (Number.isFinite(v) ||
      (Number.isNaN(v) && Number.isNaN(row.errorPct) && row.pass === false)),
];

/** A comparison's error %: finite, or NaN exactly when its simulated value is. */
const ERROR_PCT: Rule = [
  "a finite number (NaN only when simulated is NaN)",
  (v, row) =>
    typeof v === "number" &&
    (Number.isFinite(v) || (Number.isNaN(v) && Number.isNaN(row.simulated))),
];

/** A comparison's band: absent (the paper reports a value), or finite low < high. */
const BAND: Rule = [
  "absent, or { low, high } with finite low < high",
  (v) => {
    if (v === undefined) return true;
    const b = v as { low?: unknown; high?: unknown } | null;
    return typeof b === "object" && b !== null && Number.isFinite(b.low) &&
      Number.isFinite(b.high) && (b.low as number) < (b.high as number);
  },
];

/**
 * Validates comparison rows. `simulated` may be NaN, meaning the run never
 * reached what the metric measures (e.g. BMcast never de-virtualized): the
 * row must then have `errorPct` NaN and `pass` false, and tables show it as
 * "not reached". Any other non-finite number (a NaN paper value or tolerance,
 * an infinite value, a NaN error beside a finite value) is a programming
 * error and throws a TypeError naming the row and field, as does a `band`
 * that is not `{ low, high }` with finite low < high.
 * @example
 * ```ts
 * import { checkComparisonRows } from "./rows.ts";
 * checkComparisonRows([{
 *   figure: "startup", metric: "bmcast total (s)", paper: 63, simulated: 61,
 *   errorPct: -3.2, tolerancePct: 5, pass: true,
 * }, {
 *   figure: "cassandra", metric: "bmcast after de-virtualization (%)", paper: 100,
 *   simulated: NaN, errorPct: NaN, tolerancePct: 1, pass: false,
 * }]);
 * let threw = false;
 * try {
 *   checkComparisonRows([{ figure: "f", metric: "m", paper: NaN, simulated: 1, errorPct: 0,
 *     tolerancePct: 5, pass: true }]);
 * } catch (e) {
 *   threw = e instanceof TypeError && e.message.includes("'rows[0].paper' must be a finite number");
 * }
 * console.assert(threw);
 * ```
 */
export function checkComparisonRows(rows: readonly ComparisonRow[]): ComparisonRow[] {
  return check("comparison rows", rows, {
    figure: "string",
    metric: "string",
    paper: "number",
    band: BAND,
    simulated: SIMULATED,
    errorPct: ERROR_PCT,
    tolerancePct: "number",
    pass: "boolean",
  });
}
