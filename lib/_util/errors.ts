/**
 * Error helpers for the three failure tiers (see design.md): API misuse
 * throws a RangeError/TypeError naming the field and value; a broken model
 * invariant throws {@link InvariantError}.
 */

/** Thrown when a model invariant is broken (a bug in the model, not in the input). */
export class InvariantError extends Error {
  /** Always `"InvariantError"`, so stack traces and logs name the tier. */
  override name = "InvariantError";
}

/**
 * The message of a configuration that does not validate: how many issues,
 * then one per line.
 * @example
 * ```ts
 * import { issuesMessage } from "./errors.ts";
 * console.assert(issuesMessage("invalid profile", ["a: bad"]) === "invalid profile (1 issue):\n  a: bad");
 * ```
 */
export function issuesMessage(title: string, issues: readonly string[]): string {
  const n = issues.length;
  return `${title} (${n} issue${n === 1 ? "" : "s"}):\n  ${issues.join("\n  ")}`;
}

/**
 * Throws an {@link InvariantError} when `cond` is false.
 * @example
 * ```ts
 * import { invariant } from "./errors.ts";
 * invariant(1 + 1 === 2, "arithmetic works");
 * ```
 */
export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantError(message);
}

/**
 * Builds a RangeError in the house style:
 * `Cannot <what>: '<field>' must be <rule>: current value is <value>`.
 * @example
 * ```ts
 * import { rangeError } from "./errors.ts";
 * const e = rangeError("create link", "bandwidth", "> 0", 0);
 * console.assert(e.message === "Cannot create link: 'bandwidth' must be > 0: current value is 0");
 * ```
 */
export function rangeError(what: string, field: string, rule: string, value: unknown): RangeError {
  return new RangeError(
    `Cannot ${what}: '${field}' must be ${rule}: current value is ${String(value)}`,
  );
}

/**
 * Checks that `value` is a finite number >= `min` (or > `min` when `strict`), else throws
 * {@link rangeError}.
 * @example
 * ```ts
 * import { requireNumber } from "./errors.ts";
 * requireNumber("schedule", "delay", 5, { min: 0 });
 * ```
 */
export function requireNumber(
  what: string,
  field: string,
  value: number,
  opts: { min?: number; strict?: boolean; integer?: boolean } = {},
): void {
  const { min = -Infinity, strict = false, integer = false } = opts;
  const rule = integer
    ? `an integer ${strict ? ">" : ">="} ${min}`
    : `a finite number ${strict ? ">" : ">="} ${min}`;
  if (
    typeof value !== "number" || !Number.isFinite(value) || (integer && !Number.isInteger(value)) ||
    (strict ? value <= min : value < min)
  ) {
    throw rangeError(what, field, rule, value);
  }
}
