/**
 * One paper-vs-simulation comparison: the row `compare()` (lib/scenario)
 * builds and the tables and figures of lib/plot draw. It lives here because
 * plot may see only result rows, not the scenario layer.
 */

/**
 * A metric as the paper reports it and as the simulation predicts it.
 * @example
 * ```ts
 * import type { ComparisonRow } from "./comparison.ts";
 * const row: ComparisonRow = { figure: "startup", metric: "bmcast total (s)", paper: 63,
 *   simulated: 64, errorPct: 1.59, tolerancePct: 5, pass: true };
 * console.assert(row.pass);
 * ```
 */
export interface ComparisonRow {
  /** Figure or table the metric belongs to (e.g. `"startup"`). */
  figure: string;
  /** What is compared, with its unit (e.g. `"bmcast total (s)"`). */
  metric: string;
  /** The value the paper reports, in the metric's unit. */
  paper: number;
  /** The value the simulation predicts, in the metric's unit. */
  simulated: number;
  /** (simulated - paper) / paper, in %. */
  errorPct: number;
  /** Largest |errorPct| that still counts as reproduced, in %. */
  tolerancePct: number;
  /** |errorPct| <= tolerancePct. */
  pass: boolean;
}
