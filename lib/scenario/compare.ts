/**
 * Paper-versus-simulation comparison rows and the paper's reference values
 * (data/reference/paper-2015.json).
 */
import { type ComparisonRow, rangeError, showValue } from "../_util/mod.ts";

/** One metric compared with the paper: the row type lib/plot's table draws. */
export type Comparison = ComparisonRow;

/** What {@link compare} compares: a metric, its simulated value, and the paper's value or band. */
export type CompareInput =
  & {
    /** Figure or table the metric belongs to. */
    figure: string;
    /** What is compared, with its unit. */
    metric: string;
    /** The simulated value; NaN when the run never reached what the metric measures. */
    simulated: number;
  }
  & (
    | {
      /** The value the paper reports. */
      paper: number;
      /** Largest |error %| that passes. */
      tolerancePct: number;
      /** Not with a point value. */
      band?: undefined;
    }
    | {
      /** The range the paper gives instead of a value: pass iff low <= simulated < high. */
      band: { low: number; high: number };
      /** Not with a band (its middle is filled in). */
      paper?: undefined;
      /** Not with a band. */
      tolerancePct?: undefined;
    }
  );

/**
 * Builds a comparison row, against either the paper's value (`paper` within
 * `tolerancePct`: error % relative to it) or a range the paper gives instead
 * of a value (`band`, half-open: passes iff low <= simulated < high; error %
 * is the distance outside the band in % of its nearest bound, 0 inside; the
 * row's `paper` is the band's middle and its `tolerancePct` 0). A
 * `simulated` of NaN means the run never reached what the metric measures
 * (e.g. BMcast never de-virtualized within the run): the row then has
 * `errorPct` NaN and fails, and lib/plot's tables show it as "not reached".
 * @throws RangeError when both or neither of `paper` and `band` are given, or
 * the band is not 0 < low < high
 * @example
 * ```ts
 * import { compare } from "./compare.ts";
 * const c = compare({ figure: "startup", metric: "bmcast total (s)", paper: 63, simulated: 64, tolerancePct: 5 });
 * console.assert(c.pass && Math.abs(c.errorPct - 1.587) < 0.01);
 * const never = compare({ figure: "cassandra", metric: "after (%)", paper: 100, simulated: NaN, tolerancePct: 1 });
 * console.assert(!never.pass && Number.isNaN(never.errorPct));
 * const below = compare({ figure: "cassandra", metric: "mean (%)", band: { low: 70, high: 100 }, simulated: 63 });
 * console.assert(!below.pass && below.errorPct === -10 && below.paper === 85);
 * ```
 */
export function compare(c: CompareInput): Comparison {
  const { figure, metric, simulated } = c;
  const what = `compare ${figure}/${metric}`;
  const point = c.paper !== undefined || c.tolerancePct !== undefined;
  if (point === (c.band !== undefined)) {
    throw new RangeError(
      `Cannot ${what}: give either 'paper' and 'tolerancePct', or 'band' ({ low, high }): ${
        point ? "both are given" : "neither is given"
      }`,
    );
  }
  if (c.band === undefined) {
    const errorPct = ((simulated - c.paper) / c.paper) * 100;
    return {
      figure,
      metric,
      paper: c.paper,
      simulated,
      tolerancePct: c.tolerancePct,
      errorPct,
      pass: Number.isFinite(errorPct) && Math.abs(errorPct) <= c.tolerancePct,
    };
  }
  const { low, high } = c.band;
  // The error is in % of a bound, so a bound must be positive.
  if (!(Number.isFinite(high) && low > 0 && low < high)) {
    throw rangeError(what, "band", "{ low, high } with finite 0 < low < high", showValue(c.band));
  }
  const errorPct = Number.isNaN(simulated)
    ? NaN
    : simulated < low
    ? ((simulated - low) / low) * 100
    : simulated >= high
    ? ((simulated - high) / high) * 100
    : 0;
  return {
    figure,
    metric,
    paper: (low + high) / 2,
    band: { low, high },
    simulated,
    tolerancePct: 0,
    errorPct,
    pass: low <= simulated && simulated < high,
  };
}

/** The paper's reference values. */
const REFERENCE_FILE = new URL("../../data/reference/paper-2015.json", import.meta.url);

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
  /** The paper's value, in the metric's unit; for a `band` metric the band's middle. */
  paper: number;
  /** The range the paper gives instead of a value (see {@link compare}); absent for a value. */
  band?: { low: number; high: number };
  /** Largest |error %| that passes; 0 for a `band` metric. */
  tolerancePct: number;
  /** The simulated value of each seed, in run order; NaN for a seed whose run never reached it. */
  simulated: number[];
  /** Mean of the values the seeds reached; NaN when none did. */
  mean: number;
  /** Lowest value a seed reached; NaN when none did. */
  min: number;
  /** Highest value a seed reached; NaN when none did. */
  max: number;
  /**
   * Error % of the seed farthest from the paper (for a `band` metric, farthest
   * outside the band: 0 when every seed is inside); NaN when a seed did not reach the metric.
   */
  worstErrorPct: number;
  /** Seeds whose value is within tolerance (or inside the band). */
  passes: number;
  /** Every seed within tolerance (or inside the band). */
  pass: boolean;
}

/**
 * Folds the comparisons of several seeds' runs (each the same metrics in the
 * same order) into one row per metric: mean, range, and how many seeds pass.
 * A seed whose `simulated` is NaN (not reached within its run) fails, is
 * left out of the mean and range, and makes `worstErrorPct` NaN (no seed is
 * farther from the paper than one that never got there). A `band` metric
 * keeps its band.
 * @throws Error when the runs do not list the same metrics
 * @example
 * ```ts
 * import { compare, spreadOverSeeds } from "./compare.ts";
 * const run = (v: number) => [compare({ figure: "f", metric: "m", paper: 100, simulated: v, tolerancePct: 5 })];
 * const [s] = spreadOverSeeds([run(98), run(104), run(107)]);
 * console.assert(s.min === 98 && s.max === 107 && s.passes === 2 && !s.pass && Math.round(s.worstErrorPct) === 7);
 * const [t] = spreadOverSeeds([run(98), run(NaN), run(102)]);
 * console.assert(t.mean === 100 && t.min === 98 && t.passes === 2 && !t.pass && Number.isNaN(t.worstErrorPct));
 * const inBand = (v: number) => [compare({ figure: "f", metric: "m", band: { low: 70, high: 100 }, simulated: v })];
 * const [b] = spreadOverSeeds([inBand(80), inBand(63)]);
 * console.assert(b.band?.low === 70 && b.passes === 1 && b.worstErrorPct === -10);
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
      ...(c.band === undefined ? {} : { band: c.band }),
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
