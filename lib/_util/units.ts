/**
 * Units used across the toolkit. Simulated time is an integer number of
 * nanoseconds (`SimTime`), so sums never drift; sizes are integer bytes.
 * The aliases document intent; {@link assertSimTime} guards the edges.
 */

/** Simulated time or duration in integer nanoseconds. */
export type SimTime = number;
/** A size in bytes (integer). */
export type Bytes = number;
/** A logical block address (512-byte sector index). */
export type Lba = number;
/** A guest-physical address (identity-mapped to host-physical under BMcast). */
export type Gpa = number;

/** Nanoseconds per microsecond, millisecond and second. */
export const NS_PER_US = 1_000;
/** Nanoseconds per millisecond. */
export const NS_PER_MS = 1_000_000;
/** Nanoseconds per second. */
export const NS_PER_S = 1_000_000_000;

/**
 * Converts seconds to integer nanoseconds (rounded to nearest).
 * @example
 * ```ts
 * import { seconds } from "./units.ts";
 * console.assert(seconds(1.5) === 1_500_000_000);
 * ```
 */
export function seconds(s: number): SimTime {
  return Math.round(s * NS_PER_S);
}

/**
 * Converts milliseconds to integer nanoseconds.
 * @example
 * ```ts
 * import { millis } from "./units.ts";
 * console.assert(millis(2) === 2_000_000);
 * ```
 */
export function millis(ms: number): SimTime {
  return Math.round(ms * NS_PER_MS);
}

/**
 * Converts microseconds to integer nanoseconds.
 * @example
 * ```ts
 * import { micros } from "./units.ts";
 * console.assert(micros(1.3) === 1_300);
 * ```
 */
export function micros(us: number): SimTime {
  return Math.round(us * NS_PER_US);
}

/**
 * Converts integer nanoseconds to (float) seconds, for reporting only.
 * @example
 * ```ts
 * import { toSeconds } from "./units.ts";
 * console.assert(toSeconds(2_000_000_000) === 2);
 * ```
 */
export function toSeconds(t: SimTime): number {
  return t / NS_PER_S;
}

/**
 * Time to move `bytes` at `bytesPerSecond`, in integer ns (rounded up, so a
 * transfer never finishes early). Exact for an integer rate and up to
 * 9,007,199 bytes (bytes * 1e9 < 2^53): a whole number of ns is not rounded
 * up to one more by the division's rounding error.
 * @example
 * ```ts
 * import { transferTime } from "./units.ts";
 * console.assert(transferTime(1_000_000, 1e9) === 1_000_000);
 * console.assert(transferTime(31_232, 1e9) === 31_232 && transferTime(1, 3) === 333_333_334);
 * ```
 */
export function transferTime(bytes: Bytes, bytesPerSecond: number): SimTime {
  // One rounding, not two: exact while bytes * 1e9 < 2^53 and the rate is an integer.
  return Math.ceil((bytes * NS_PER_S) / bytesPerSecond);
}
