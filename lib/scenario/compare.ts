/**
 * Paper-versus-simulation comparison rows and the paper's reference values
 * (data/reference/paper-2015.json).
 */
import type { ComparisonRow } from "../_util/mod.ts";

/** One metric compared with the paper: the row type lib/plot's table draws. */
export type Comparison = ComparisonRow;

/**
 * Builds a comparison row: error % relative to the paper's value. A
 * `simulated` of NaN means the run never reached what the metric measures
 * (e.g. BMcast never de-virtualized within the run): the row then has
 * `errorPct` NaN and fails, and lib/plot's tables show it as "not reached".
 * @example
 * ```ts
 * import { compare } from "./compare.ts";
 * const c = compare({ figure: "startup", metric: "bmcast total (s)", paper: 63, simulated: 64, tolerancePct: 5 });
 * console.assert(c.pass && Math.abs(c.errorPct - 1.587) < 0.01);
 * const never = compare({ figure: "cassandra", metric: "after (%)", paper: 100, simulated: NaN, tolerancePct: 1 });
 * console.assert(!never.pass && Number.isNaN(never.errorPct));
 * ```
 */
export function compare(
  c: { figure: string; metric: string; paper: number; simulated: number; tolerancePct: number },
): Comparison {
  const errorPct = ((c.simulated - c.paper) / c.paper) * 100;
  return {
    ...c,
    errorPct,
    pass: Number.isFinite(errorPct) && Math.abs(errorPct) <= c.tolerancePct,
  };
}

/** The paper's reference values. */
export const REFERENCE_FILE = new URL("../../data/reference/paper-2015.json", import.meta.url);

/** Loads the reference values (figures -> values, tolerances, captions). */
export function loadReference(): Record<
  string,
  & { caption: string; tolerancePct?: number; values?: Record<string, unknown>[] }
  & Record<string, unknown>
> {
  return JSON.parse(Deno.readTextFileSync(REFERENCE_FILE)).figures;
}

/** One metric compared with the paper over several seeds. */
export interface SeedSpread {
  /** Figure the metric belongs to (a key of the reference file's `figures`). */
  figure: string;
  /** Metric name, with its unit, e.g. "bmcast total (s)". */
  metric: string;
  /** The paper's value, in the metric's unit. */
  paper: number;
  /** Largest |error %| that passes. */
  tolerancePct: number;
  /** The simulated value of each seed, in run order; NaN for a seed whose run never reached it. */
  simulated: number[];
  /** Mean of the values the seeds reached; NaN when none did. */
  mean: number;
  /** Lowest value a seed reached; NaN when none did. */
  min: number;
  /** Highest value a seed reached; NaN when none did. */
  max: number;
  /** Error % of the seed farthest from the paper; NaN when a seed did not reach the metric. */
  worstErrorPct: number;
  /** Seeds whose value is within tolerance. */
  passes: number;
  /** Every seed within tolerance. */
  pass: boolean;
}

/**
 * Folds the comparisons of several seeds' runs (each the same metrics in the
 * same order) into one row per metric: mean, range, and how many seeds pass.
 * A seed whose `simulated` is NaN (not reached within its run) fails, is
 * left out of the mean and range, and makes `worstErrorPct` NaN (no seed is
 * farther from the paper than one that never got there).
 * @throws Error when the runs do not list the same metrics
 * @example
 * ```ts
 * import { compare, spreadOverSeeds } from "./compare.ts";
 * const run = (v: number) => [compare({ figure: "f", metric: "m", paper: 100, simulated: v, tolerancePct: 5 })];
 * const [s] = spreadOverSeeds([run(98), run(104), run(107)]);
 * console.assert(s.min === 98 && s.max === 107 && s.passes === 2 && !s.pass && Math.round(s.worstErrorPct) === 7);
 * const [t] = spreadOverSeeds([run(98), run(NaN), run(102)]);
 * console.assert(t.mean === 100 && t.min === 98 && t.passes === 2 && !t.pass && Number.isNaN(t.worstErrorPct));
 * ```
 */
export function spreadOverSeeds(runs: readonly (readonly Comparison[])[]): SeedSpread[] {
  if (runs.length === 0) return [];
  const [first] = runs;
  runs.forEach((run, i) => {
    const same = run.length === first.length &&
      run.every((c, k) => c.figure === first[k].figure && c.metric === first[k].metric);
    if (!same) {
      throw new Error(`spreadOverSeeds: run ${i} does not list the same metrics as run 0`);
    }
  });
  return first.map((c, k) => {
    const rows = runs.map((run) => run[k]);
    const simulated = rows.map((r) => r.simulated);
    const reached = simulated.filter((v) => !Number.isNaN(v));
    const worst = reached.length < rows.length
      ? NaN
      : rows.reduce((w, r) => Math.abs(r.errorPct) > Math.abs(w.errorPct) ? r : w).errorPct;
    const passes = rows.filter((r) => r.pass).length;
    return {
      figure: c.figure,
      metric: c.metric,
      paper: c.paper,
      tolerancePct: c.tolerancePct,
      simulated,
      mean: reached.length === 0 ? NaN : reached.reduce((a, b) => a + b, 0) / reached.length,
      min: reached.length === 0 ? NaN : Math.min(...reached),
      max: reached.length === 0 ? NaN : Math.max(...reached),
      worstErrorPct: worst,
      passes,
      pass: passes === rows.length,
    };
  });
}
