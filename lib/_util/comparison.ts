/**
 * One paper-vs-simulation comparison: the row `compare()` (lib/scenario)
 * builds and the tables and figures of lib/plot draw. It lives here because
 * plot may see only result rows, not the scenario layer.
 */

/**
 * A metric as the paper reports it and as the simulation predicts it.
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
 * ```
 */
export interface ComparisonRow {
  /** Figure or table the metric belongs to (e.g. `"startup"`). */
  figure: string;
  /** What is compared, with its unit (e.g. `"bmcast total (s)"`). */
  metric: string;
  /** The value the paper reports, in the metric's unit. */
  paper: number;
  /** The value the simulation predicts, in the metric's unit; NaN when not reached within the run. */
  simulated: number;
  /** (simulated - paper) / paper, in %; NaN exactly when `simulated` is. */
  errorPct: number;
  /** Largest |errorPct| that still counts as reproduced, in %. */
  tolerancePct: number;
  /** |errorPct| <= tolerancePct (false when `simulated` is NaN). */
  pass: boolean;
}
