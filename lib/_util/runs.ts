/**
 * Sector runs: the one way to cut a run of sectors into requests no larger
 * than a protocol or device allows.
 */
import { rangeError, requireNumber } from "./errors.ts";

/** A run of sectors [lba, lba+count). */
export interface Run {
  /** First sector of the run. */
  lba: number;
  /** Number of sectors in the run (0 for an empty run). */
  count: number;
}

/**
 * Cuts `run` into consecutive pieces of at most `max` sectors (none for an
 * empty run).
 * @throws RangeError when `max` is not a positive integer.
 * @example
 * ```ts
 * import { splitRun } from "./runs.ts";
 * const p = splitRun({ lba: 10, count: 5 }, 2);
 * console.assert(p.map((r) => `${r.lba}+${r.count}`).join() === "10+2,12+2,14+1");
 * ```
 */
export function splitRun(run: Run, max: number): Run[] {
  requireNumber("split a sector run", "max", max, { integer: true, min: 1 });
  const out: Run[] = [];
  for (let o = 0; o < run.count; o += max) {
    out.push({ lba: run.lba + o, count: Math.min(max, run.count - o) });
  }
  return out;
}

/**
 * True when `r` is a run of whole sectors: integer lba >= 0 and count >= 0,
 * ending at or before `end`.
 * @example
 * ```ts
 * import { isRun } from "./runs.ts";
 * console.assert(isRun({ lba: 0, count: 8 }, 8) && !isRun({ lba: 1, count: 8 }, 8) && !isRun({ lba: -1, count: 1 }));
 * ```
 */
export function isRun(r: Run, end = Infinity): boolean {
  return Number.isInteger(r.lba) && Number.isInteger(r.count) && r.lba >= 0 && r.count >= 0 &&
    r.lba + r.count <= end;
}

/**
 * The union of `runs` as sorted, disjoint runs (overlapping or touching
 * runs joined, empty runs dropped), each clipped to [0, `end`).
 * @throws RangeError unless `end` is a number >= 0 (Infinity: no end)
 * @example
 * ```ts
 * import { mergeRuns } from "./runs.ts";
 * const m = mergeRuns([{ lba: 8, count: 4 }, { lba: 0, count: 4 }, { lba: 2, count: 4 }, { lba: 10, count: 9 }], 16);
 * console.assert(m.map((r) => `${r.lba}+${r.count}`).join() === "0+6,8+8");
 * ```
 */
export function mergeRuns(runs: readonly Run[], end: number): Run[] {
  // NaN or a negative end would silently give runs of NaN or nothing.
  if (!(typeof end === "number" && end >= 0)) {
    throw rangeError("merge runs", "end", "a number >= 0 (Infinity: no end)", end);
  }
  const out: Run[] = [];
  const sorted = runs.filter((r) => r.count > 0).sort((a, b) => a.lba - b.lba);
  for (const r of sorted) {
    const lba = Math.max(0, r.lba), stop = Math.min(end, r.lba + r.count);
    if (stop <= lba) continue;
    const last = out[out.length - 1];
    if (last !== undefined && lba <= last.lba + last.count) {
      last.count = Math.max(last.count, stop - last.lba);
    } else out.push({ lba, count: stop - lba });
  }
  return out;
}

/**
 * A set of sectors kept as sorted, disjoint runs (touching ones joined), to
 * which runs are added one at a time; memory grows with the runs, not the
 * sectors covered.
 * @example
 * ```ts
 * import { RunSet } from "./runs.ts";
 * const set = new RunSet();
 * set.add({ lba: 10, count: 10 });
 * const news = set.add({ lba: 0, count: 30 });
 * console.assert(news.map((r) => `${r.lba}+${r.count}`).join() === "0+10,20+10");
 * console.assert(set.add({ lba: 5, count: 5 }).length === 0 && set.size === 1);
 * ```
 */
export class RunSet {
  #lba: number[] = [];
  #end: number[] = [];

  /** Disjoint runs held (touching runs count as one). */
  get size(): number {
    return this.#lba.length;
  }

  /** Adds `run`; returns its parts that were not in the set, in order. */
  add(run: Run): Run[] {
    const end = run.lba + run.count;
    if (run.count <= 0) return [];
    // The first held run that ends at or after run.lba (it may touch or overlap).
    let lo = 0, hi = this.#lba.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#end[mid] < run.lba) lo = mid + 1;
      else hi = mid;
    }
    const news: Run[] = [];
    let at = run.lba, i = lo;
    for (; i < this.#lba.length && this.#lba[i] <= end; i++) {
      if (this.#lba[i] > at) news.push({ lba: at, count: this.#lba[i] - at });
      at = Math.max(at, this.#end[i]);
    }
    if (at < end) news.push({ lba: at, count: end - at });
    // Held runs lo..i-1 touch or overlap `run`: one run replaces them all.
    const lba = Math.min(run.lba, this.#lba[lo] ?? run.lba);
    const last = Math.max(end, i > lo ? this.#end[i - 1] : end);
    this.#lba.splice(lo, i - lo, lba);
    this.#end.splice(lo, i - lo, last);
    return news;
  }
}
