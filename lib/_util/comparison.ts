/**
 * One paper-vs-simulation comparison: the row `compare()` (lib/scenario)
 * builds and the tables and figures of lib/plot draw. It lives here because
 * plot may see only result rows, not the scenario layer.
 * @module
 */

/**
 * A metric as the paper reports it and as the simulation predicts it.
 *
 * Most rows compare with a value the paper reports (`paper`, within
 * `tolerancePct`). Where the paper gives only a range (e.g. "below bare
 * metal, above the figure's 70 % axis floor"), the row has a `band` instead:
 * it passes iff `low <= simulated < high`, `errorPct` is the distance outside
 * the band, `paper` is only the band's middle (so rows still sort and plot;
 * tables show the band, never this middle) and `tolerancePct` is 0.
 *
 * `simulated` is NaN when the run never reached what the metric measures
 * (e.g. BMcast never de-virtualized within the run, so there is no
 * "after de-virtualization" value): `errorPct` is then NaN too and `pass`
 * false; tables show it as "not reached". Every other number is finite.
 * @example
 * ```ts
 * import type { ComparisonRow } from "./comparison.ts";
 * const row: ComparisonRow = { figure: "startup", metric: "bmcast total (s)", paper: 63,
 *   simulated: 64, errorPct: 1.59, tolerancePct: 5, pass: true };
 * console.assert(row.pass);
 * const never: ComparisonRow = { ...row, simulated: NaN, errorPct: NaN, pass: false };
 * console.assert(!never.pass);
 * const band: ComparisonRow = { figure: "cassandra", metric: "kvm-local mean (%)", paper: 85,
 *   band: { low: 70, high: 100 }, simulated: 93, errorPct: 0, tolerancePct: 0, pass: true };
 * console.assert(band.pass);
 * ```
 */
export interface ComparisonRow {
  /** Figure or table the metric belongs to (e.g. `"startup"`). */
  figure: string;
  /** What is compared, with its unit (e.g. `"bmcast total (s)"`). */
  metric: string;
  /**
   * The value the paper reports, in the metric's unit; for a `band` row the
   * band's middle, which the paper does not report.
   */
  paper: number;
  /**
   * The range the paper gives instead of a value, in the metric's unit:
   * half-open, `low` included, `high` excluded ("above the axis floor,
   * below bare metal"). Absent when the paper reports a value.
   */
  band?: { low: number; high: number };
  /** The value the simulation predicts, in the metric's unit; NaN when not reached within the run. */
  simulated: number;
  /**
   * (simulated - paper) / paper, in %; for a `band` row the distance outside
   * the band in % of its nearest bound (0 inside, negative below, >= 0 at or
   * above `high`). NaN exactly when `simulated` is.
   */
  errorPct: number;
  /** Largest |errorPct| that still counts as reproduced, in %; 0 for a `band` row. */
  tolerancePct: number;
  /**
   * |errorPct| <= tolerancePct, or for a `band` row low <= simulated < high
   * (false when `simulated` is NaN).
   */
  pass: boolean;
}

/**
 * How tables show a row's paper value: the value, or the band as "low-high"
 * (e.g. "70-100": low included, high excluded), each number as `num` writes it.
 * @example
 * ```ts
 * import { paperText } from "./comparison.ts";
 * console.assert(paperText({ paper: 63 }, String) === "63");
 * console.assert(paperText({ paper: 85, band: { low: 70, high: 100 } }, String) === "70-100");
 * ```
 */
export function paperText(
  row: Pick<ComparisonRow, "paper" | "band">,
  num: (v: number) => string,
): string {
  return row.band === undefined ? num(row.paper) : `${num(row.band.low)}-${num(row.band.high)}`;
}

/**
 * How tables show a row's error %: "n/a" when NaN (not reached), the signed
 * error as `signed` writes it, or for a `band` row "in band" when it passes and
 * else the distance outside with its side, e.g. "-3.1 (below band)".
 * @example
 * ```ts
 * import { errorText } from "./comparison.ts";
 * const signed = (v: number) => (v > 0 ? "+" : "") + v.toFixed(1);
 * const band = { low: 70, high: 100 };
 * console.assert(errorText({ errorPct: 8.9, pass: true }, signed) === "+8.9");
 * console.assert(errorText({ errorPct: 0, band, pass: true }, signed) === "in band");
 * console.assert(errorText({ errorPct: -3.1, band, pass: false }, signed) === "-3.1 (below band)");
 * console.assert(errorText({ errorPct: NaN, band, pass: false }, signed) === "n/a");
 * ```
 */
export function errorText(
  row: Pick<ComparisonRow, "errorPct" | "band" | "pass">,
  signed: (v: number) => string,
): string {
  if (Number.isNaN(row.errorPct)) return "n/a";
  if (row.band === undefined) return signed(row.errorPct);
  if (row.pass) return "in band";
  // Exactly at `high` is outside (half-open) with a distance of 0: above.
  return `${signed(row.errorPct)} (${row.errorPct < 0 ? "below" : "above"} band)`;
}
