/**
 * Error helpers. API misuse throws a RangeError/TypeError naming the field
 * and value; a broken model invariant (a bug in the model, not in the input)
 * throws {@link InvariantError}.
 * @module
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

/** A field of an options object that does not validate. */
export interface FieldIssue {
  /** Dotted name of the field in the options, e.g. `"costs.hostWakeup"`. */
  field: string;
  /** What is wrong: `must be <rule>: current value is <value>`. */
  message: string;
}

/**
 * The issue of a field that breaks its rule.
 * @example
 * ```ts
 * import { fieldIssue } from "./errors.ts";
 * const i = fieldIssue("mtu", "an integer >= 256", 20);
 * console.assert(i.message === "must be an integer >= 256: current value is 20");
 * ```
 */
export function fieldIssue(field: string, rule: string, value: unknown): FieldIssue {
  return { field, message: `must be ${rule}: current value is ${String(value)}` };
}

/**
 * `options` with each field it leaves undefined taken from `defaults` (a
 * field set to undefined takes its default, as in a destructuring default;
 * keys outside `defaults` are dropped).
 * @example
 * ```ts
 * import { withDefaults } from "./errors.ts";
 * type Opts = { mtu?: number; lanes?: number };
 * const o = withDefaults<Opts>({ mtu: undefined, lanes: 1 }, { mtu: 2048, lanes: 4 });
 * console.assert(o.mtu === 2048 && o.lanes === 1);
 * ```
 */
export function withDefaults<T extends object>(
  options: Partial<T>,
  defaults: Required<T>,
): Required<T> {
  const out = { ...defaults };
  for (const k of Object.keys(defaults) as (keyof T)[]) {
    if (options[k] !== undefined) out[k] = options[k] as Required<T>[keyof T];
  }
  return out;
}

/**
 * The names of `known` that `name` most likely misspells: the closest ones,
 * in `known`'s order, if they are close enough (case ignored; at most one
 * edit, a swap of two neighbours counting as one, per three letters of the
 * longer name, and at least one); none otherwise.
 * @example
 * ```ts
 * import { closestNames } from "./errors.ts";
 * console.assert(closestNames("sede", ["seed", "seeds", "set"]).join() === "seed");
 * console.assert(closestNames("sed", ["seed", "seeds", "set"]).join() === "seed,set");
 * console.assert(closestNames("idleTreshold", ["idleThreshold", "recheck"]).join() === "idleThreshold");
 * console.assert(closestNames("bogus", ["seed", "small"]).length === 0);
 * ```
 */
export function closestNames(name: string, known: readonly string[]): string[] {
  let best: string[] = [];
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d > Math.max(1, Math.floor(Math.max(name.length, k.length) / 3)) || d > bestD) continue;
    if (d < bestD) [best, bestD] = [[], d];
    best.push(k);
  }
  return best;
}

/** Edits (insert, delete, replace, swap of neighbours) from `a` to `b` (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * `, did you mean X?` (or `X or Y?`) for the {@link closestNames} of `name`,
 * each shown by `show`; "" when none is close.
 * @example
 * ```ts
 * import { didYouMean } from "./errors.ts";
 * console.assert(didYouMean("rmp", ["rpm", "sectors"], JSON.stringify) === ', did you mean "rpm"?');
 * ```
 */
export function didYouMean(
  name: string,
  known: readonly string[],
  show: (k: string) => string = (k) => k,
): string {
  const ks = closestNames(name, known);
  return ks.length === 0 ? "" : `, did you mean ${ks.map(show).join(" or ")}?`;
}

/**
 * An issue for each key of `value` that is not in `known` (a misspelt option
 * would otherwise just leave its default in place).
 * @example
 * ```ts
 * import { unknownKeyIssues } from "./errors.ts";
 * const [i] = unknownKeyIssues({ mtu: 2048, mut: 9 }, ["mtu", "lanes"]);
 * console.assert(i.field === "mut" && i.message === "is not an option, did you mean mtu? The options are mtu, lanes");
 * ```
 */
export function unknownKeyIssues(
  value: object | undefined,
  known: readonly string[],
  prefix = "",
): FieldIssue[] {
  return Object.keys(value ?? {}).filter((k) => !known.includes(k)).map((k) => {
    const hint = didYouMean(k, known);
    return {
      field: `${prefix}${k}`,
      message: hint === ""
        ? `is not an option: the options are ${known.join(", ")}`
        : `is not an option${hint} The options are ${known.join(", ")}`,
    };
  });
}

/**
 * A RangeError naming every issue, in the house style:
 * `Cannot <what>: '<field>' must be <rule>: current value is <value>[; ...]`.
 * @example
 * ```ts
 * import { fieldIssue, issuesError } from "./errors.ts";
 * const e = issuesError("create link", [fieldIssue("bandwidth", "> 0", 0)]);
 * console.assert(e.message === "Cannot create link: 'bandwidth' must be > 0: current value is 0");
 * ```
 */
export function issuesError(what: string, issues: readonly FieldIssue[]): RangeError {
  return new RangeError(
    `Cannot ${what}: ${issues.map((i) => `'${i.field}' ${i.message}`).join("; ")}`,
  );
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
  return issuesError(what, [fieldIssue(field, rule, value)]);
}

/** Options of {@link requireNumber} and {@link numberIssue}. */
export interface NumberRule {
  /** Smallest allowed value. @default -Infinity */
  min?: number;
  /** `min` itself is not allowed. @default false */
  strict?: boolean;
  /** Only integers. @default false */
  integer?: boolean;
  /** Largest allowed value. @default Infinity */
  max?: number;
  /** The value is a multiple of this, e.g. 512 for whole sectors. */
  multipleOf?: number;
}

/**
 * The words of a number rule, as {@link numberIssue} says it: "an integer
 * >= 1", "an integer in [0, 9]", "a finite number > 0 and a multiple of 512".
 * @example
 * ```ts
 * import { numberRuleText } from "./errors.ts";
 * console.assert(numberRuleText({ integer: true, min: 0, max: 9 }) === "an integer in [0, 9]");
 * console.assert(numberRuleText({ min: 0, strict: true }) === "a finite number > 0");
 * ```
 */
export function numberRuleText(rule: NumberRule = {}): string {
  const { min = -Infinity, max = Infinity, strict = false, integer = false, multipleOf } = rule;
  const kind = integer ? "an integer" : "a finite number";
  const bounds = max < Infinity && min > -Infinity && !strict
    ? `in [${min}, ${max}]`
    : `${strict ? ">" : ">="} ${min}${max < Infinity ? ` and <= ${max}` : ""}`;
  return `${kind} ${bounds}${multipleOf === undefined ? "" : ` and a multiple of ${multipleOf}`}`;
}

/**
 * The issue of `value` unless it is a finite number >= `min` (or > `min`
 * when `strict`), <= `max`, an integer or a multiple of `multipleOf` when
 * the rule says so; undefined when it is.
 * @example
 * ```ts
 * import { numberIssue } from "./errors.ts";
 * console.assert(numberIssue("delay", 5, { min: 0 }) === undefined);
 * console.assert(numberIssue("delay", -1, { min: 0 })?.message === "must be a finite number >= 0: current value is -1");
 * ```
 */
export function numberIssue(
  field: string,
  value: unknown,
  opts: NumberRule = {},
): FieldIssue | undefined {
  const { min = -Infinity, max = Infinity, strict = false, integer = false, multipleOf } = opts;
  if (
    typeof value !== "number" || !Number.isFinite(value) || (integer && !Number.isInteger(value)) ||
    (strict ? value <= min : value < min) || value > max ||
    (multipleOf !== undefined && value % multipleOf !== 0)
  ) {
    return fieldIssue(field, numberRuleText(opts), value);
  }
  return undefined;
}

/**
 * Checks that `value` is a fraction in [0, 1] (a memory-bound share, a
 * ratio), else throws {@link rangeError} naming `field`.
 * @example
 * ```ts
 * import { requireFraction } from "./errors.ts";
 * requireFraction("run work", "memoryBound", 0.5);
 * ```
 */
export function requireFraction(what: string, field: string, value: number): void {
  if (!(typeof value === "number" && value >= 0 && value <= 1)) {
    throw rangeError(what, field, "a number in [0, 1]", value);
  }
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
  opts: NumberRule = {},
): void {
  const issue = numberIssue(field, value, opts);
  if (issue !== undefined) throw issuesError(what, [issue]);
}

/**
 * Checks a block request against a device of `sectors` 512-byte sectors:
 * `lba` and `count` whole numbers, `count` >= 1, `lba` >= 0 and
 * `lba + count` <= `sectors`; else throws a RangeError that says which of
 * these failed (`op` names the request, e.g. "read").
 * @example
 * ```ts
 * import { requireSectorRange } from "./errors.ts";
 * requireSectorRange("read", 8, 8, 16);
 * try {
 *   requireSectorRange("read", 1.5, 8, 16);
 * } catch (e) {
 *   console.assert(String(e).includes("'lba' must be a whole number"));
 * }
 * ```
 */
export function requireSectorRange(
  op: string,
  lba: number,
  count: number,
  sectors: number,
): void {
  const why = !Number.isInteger(lba)
    ? "'lba' must be a whole number"
    : !Number.isInteger(count)
    ? "'count' must be a whole number"
    : count < 1
    ? "'count' must be at least 1"
    : lba < 0 || lba + count > sectors
    ? `'lba'+'count' must lie within [0, ${sectors}]`
    : undefined;
  if (why !== undefined) {
    throw new RangeError(
      `Cannot ${op}: ${why}: current values are lba ${showValue(lba)}, count ${showValue(count)}`,
    );
  }
}

/**
 * A value as an issue shows it: JSON (strings quoted, objects and arrays
 * spelled out), except that NaN, Infinity and -Infinity stay themselves
 * (JSON would write null) and undefined reads "undefined".
 * @example
 * ```ts
 * import { showValue } from "./errors.ts";
 * console.assert(showValue(NaN) === "NaN" && showValue(-Infinity) === "-Infinity");
 * console.assert(showValue({ rpm: [Infinity, "x"] }) === '{"rpm":[Infinity,"x"]}');
 * ```
 */
export function showValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(showValue).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${showValue(v)}`).join(",")}}`;
  }
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * What lies at `path` in `input` (undefined where the path leaves it).
 * @example
 * ```ts
 * import { valueAt } from "./errors.ts";
 * console.assert(valueAt({ hdd: { rpm: [7200] } }, ["hdd", "rpm", 0]) === 7200);
 * console.assert(valueAt({ hdd: 1 }, ["hdd", "rpm"]) === undefined);
 * ```
 */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** A problem a schema found, as zod reports it: where, what, and for unknown keys which ones. */
export interface SchemaIssue {
  /** Kind of problem; `"unrecognized_keys"` for keys the schema does not know. */
  readonly code?: string;
  /** Where in the input. */
  readonly path: readonly PropertyKey[];
  /** What is wrong, e.g. "Too small: expected number to be >0". */
  readonly message: string;
  /** The unknown keys (`"unrecognized_keys"` only). */
  readonly keys?: readonly string[];
}

/**
 * A schema {@link parseParams} takes: zod's, or anything with its
 * `safeParse`; an object schema's `shape` names the parameters a misspelt
 * one was meant as.
 */
export interface ParamsSchema<T> {
  /** The input as the schema makes it, or every problem found. */
  safeParse(input: unknown):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly SchemaIssue[] } };
  /** An object schema's fields. */
  readonly shape?: object;
}

/**
 * `schema.parse(input)`, but a failure throws a RangeError in the house
 * style naming every field, its rule and its value (the schema's error as
 * its `cause`): `Cannot <what>: 'a.b' <rule>: current value is <v>; ...`;
 * a key the schema does not know is named with the closest known ones.
 * @example
 * ```ts
 * import { z } from "zod";
 * import { parseParams } from "./errors.ts";
 * const Disk = z.object({ rpm: z.number().positive() });
 * console.assert(parseParams("spin disk", Disk, { rpm: 7200 }).rpm === 7200);
 * let message = "";
 * try {
 *   parseParams("spin disk", Disk, { rpm: -1 });
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * console.assert(message === "Cannot spin disk: 'rpm' Too small: expected number to be >0: current value is -1");
 * ```
 */
export function parseParams<T>(what: string, schema: ParamsSchema<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const e = issuesError(what, schemaIssues(schema, input));
  e.cause = r.error;
  throw e;
}

/**
 * The issues {@link parseParams} would name for `input`, each field under
 * `prefix` (e.g. "workload."); none when it validates.
 * @example
 * ```ts
 * import { z } from "zod";
 * import { schemaIssues } from "./errors.ts";
 * const Disk = z.object({ rpm: z.number().positive() }).strict();
 * const [a] = schemaIssues(Disk, { rmp: 1, rpm: 7200 }, "disk.");
 * console.assert(a.field === "disk.rmp" && a.message === "is not a known parameter, did you mean 'rpm'?");
 * ```
 */
export function schemaIssues<T>(
  schema: ParamsSchema<T>,
  input: unknown,
  prefix = "",
): FieldIssue[] {
  const r = schema.safeParse(input);
  if (r.success) return [];
  return r.error.issues.flatMap((i): FieldIssue[] => {
    if (i.code === "unrecognized_keys") {
      // The parameters a misspelt top-level key was meant as (nested objects are not walked).
      const known = i.path.length === 0 && schema.shape ? Object.keys(schema.shape) : [];
      return (i.keys ?? []).map((k) => ({
        field: prefix + [...i.path.map(String), k].join("."),
        message: `is not a known parameter${didYouMean(k, known, (n) => `'${n}'`)}`,
      }));
    }
    const value = valueAt(input, i.path);
    return [{
      field: i.path.length > 0
        ? prefix + i.path.map(String).join(".")
        : prefix.replace(/\.$/, "") || "(params)",
      message: `${i.message}: current value is ${
        typeof value === "object" ? showValue(value) : String(value)
      }`,
    }];
  });
}
