/**
 * Paper-versus-simulation comparison rows and the paper's reference values
 * (data/reference/paper-2015.json).
 */
import type { ComparisonRow } from "../_util/mod.ts";

/** One metric compared with the paper: the row type lib/plot's table draws. */
export type Comparison = ComparisonRow;

/**
 * Builds a comparison row: error % relative to the paper's value.
 * @example
 * ```ts
 * import { compare } from "./compare.ts";
 * const c = compare({ figure: "startup", metric: "bmcast total (s)", paper: 63, simulated: 64, tolerancePct: 5 });
 * console.assert(c.pass && Math.abs(c.errorPct - 1.587) < 0.01);
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
