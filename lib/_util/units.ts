/**
 * Units used across the toolkit. Simulated time is an integer number of
 * nanoseconds (`SimTime`), so sums never drift; sizes are integer bytes.
 * The aliases document intent; at the edges, {@link seconds}, {@link millis}
 * and {@link micros} round to whole ns, and the kernel (lib/sim) refuses a
 * delay that is not a whole number of ns >= 0.
 * @module
 */

/** Simulated time or duration in integer nanoseconds. */
export type SimTime = number;
/** A size in bytes (integer). */
export type Bytes = number;
/** A logical block address (512-byte sector index). */
export type Lba = number;
/** A guest-physical address (identity-mapped to host-physical under BMcast). */
export type Gpa = number;

/** Nanoseconds per microsecond. */
const NS_PER_US = 1_000;
/** Nanoseconds per millisecond. */
const NS_PER_MS = 1_000_000;
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
 * Time to move `bytes` at `bytesPerSecond`, in integer ns: the least whole
 * number of ns `t` with `t * bytesPerSecond >= bytes * 1e9` (rounded up, so a
 * transfer never finishes early). Exact for any rate, fractional ones too, and
 * any size whose time is a safe integer, where `Math.ceil(bytes * 1e9 / rate)`
 * is not: its division can round a quotient just above a whole number down to
 * it (1 ns low: a fractional rate, or a product past 2^53), and from
 * 2^53 / 5^9 bytes (4.6 GB) the product itself can round (1 ns high).
 * @example
 * ```ts
 * import { transferTime } from "./units.ts";
 * console.assert(transferTime(1_000_000, 1e9) === 1_000_000);
 * console.assert(transferTime(31_232, 1e9) === 31_232 && transferTime(1, 3) === 333_333_334);
 * console.assert(transferTime(5_000_000_003, 1e9) === 5_000_000_003);
 * ```
 */
export function transferTime(bytes: Bytes, bytesPerSecond: number): SimTime {
  const n = bytes * NS_PER_S;
  // Integers whose product is below 2^53: the product is exact and the one
  // rounding of the division cannot cross a whole number, so the ceiling is.
  // The common case, kept small so that it inlines.
  if (n < 2 ** 53 && Number.isInteger(bytes) && Number.isInteger(bytesPerSecond)) {
    return Math.ceil(n / bytesPerSecond);
  }
  return exactTransferTime(bytes, bytesPerSecond);
}

/** {@link transferTime} outside its fast case: the float ceiling, corrected in exact arithmetic. */
function exactTransferTime(bytes: Bytes, bytesPerSecond: number): SimTime {
  let t = Math.ceil((bytes * NS_PER_S) / bytesPerSecond);
  // Out of exact range (or nonsense input: left as the plain formula gives it).
  if (!(t <= Number.MAX_SAFE_INTEGER && bytes >= 0 && bytesPerSecond > 0)) return t;
  // The float quotient is within a few ulps of the true one: step t to the
  // least integer whose t * rate reaches bytes * 1e9, compared exactly.
  while (t > 0 && productAtLeast(t - 1, bytesPerSecond, bytes, NS_PER_S)) t--;
  while (!productAtLeast(t, bytesPerSecond, bytes, NS_PER_S)) t++;
  return t;
}

/** 2^27 + 1: splits a double into two halves of 26 significant bits (Veltkamp). */
const SPLIT = 134_217_729;

/** The rounding error of the product `p = a * b`: `a * b === p + e` exactly (Dekker). */
function productError(a: number, b: number, p: number): number {
  let s = SPLIT * a;
  const ah = s - (s - a), al = a - ah;
  s = SPLIT * b;
  const bh = s - (s - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/**
 * `a * b >= c * d` in exact arithmetic, for finite products well inside the
 * double range. Rounding keeps order, so differing rounded products decide;
 * equal ones are told apart by their exact rounding errors.
 */
function productAtLeast(a: number, b: number, c: number, d: number): boolean {
  const p = a * b, r = c * d;
  return p !== r ? p > r : productError(a, b, p) >= productError(c, d, r);
}
