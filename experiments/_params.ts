/**
 * What the experiments' `run(params)` share in checking their parameters:
 * no unknown key, required ones given, numbers and flags of the right kind,
 * lists that name at least one allowed item, a profile that is one, and an
 * image that holds what the run uses of it (reads; a boot over NFS also
 * writes).
 * @module
 */
import {
  didYouMean,
  type FieldIssue,
  fieldIssue,
  issuesError,
  MAX_SEED,
  numberIssue,
  type NumberRule,
  numberRuleText,
  showValue,
  unknownKeyIssues,
} from "../lib/_util/mod.ts";
import {
  BUILTIN_PROFILE,
  imageSizeRange,
  loadProfile,
  type Profile,
  profileIssue,
} from "../lib/scenario/mod.ts";
import { imageBytesOf } from "../lib/scenario/fleet.ts";
import { bootExtents, type BootParams, type BootReplay, kvDataRun } from "../lib/workload/mod.ts";

/**
 * The rule of one parameter, each part optional: it must be given, be a
 * number (or a list of numbers) within bounds, be true or false, or be a
 * list (see {@link ListRule}).
 */
export interface ParamRule {
  /** The parameter must be given (not undefined). @default false */
  required?: boolean;
  /** A number: its rule; for a list of numbers, each item's. */
  number?: NumberRule;
  /** True or false. @default false */
  boolean?: boolean;
  /** A list: its allowed items, or their type. */
  list?: readonly string[] | "string" | "number" | "object";
  /** What a list's items are, for messages. @default the names, or the type's ("numbers") */
  noun?: string;
}

/** A list parameter: its items are among the names given, or of the type given. */
export interface ListRule extends ParamRule {
  /** The allowed items, or their type. */
  list: readonly string[] | "string" | "number" | "object";
}

/**
 * Every parameter of `P` (all of them, so none is forgotten): `true` (any
 * value, checked elsewhere), or its rule. A parameter named `profile` is
 * always checked as a profile (see {@link paramIssues}).
 */
export type ParamRules<P> = { readonly [K in keyof Required<P>]: true | ParamRule };

/** The rule of an experiment's `seed`: given, an integer in [0, MAX_SEED] (as buildWorld's). */
export const SEED_RULE: ParamRule = {
  required: true,
  number: { integer: true, min: 0, max: MAX_SEED },
};

const show = (v: unknown) => v === undefined ? "undefined" : JSON.stringify(v) ?? String(v);

/**
 * Every issue of `params`: a key that is not a parameter (naming the closest
 * one); a required parameter not given; a number outside its rule; a flag
 * that is not true or false; a list parameter given that is not a list, is
 * empty, has an item that is not allowed or of the wrong type (or outside
 * the number rule), or names an item twice; and a `profile` given that is
 * not a valid profile (the check buildWorld makes: `profileIssue`).
 * @example
 * ```ts
 * import { paramIssues } from "./_params.ts";
 * const rules = {
 *   methods: { list: ["bmcast", "nfsroot"], required: true },
 *   seed: { required: true, number: { integer: true, min: 0 } },
 *   profile: true,
 * } as const;
 * const [a, b] = paramIssues({ methods: ["bmcats"], sede: 1 }, rules);
 * console.assert(a.field === "sede" && a.message.startsWith("is not an option, did you mean seed?"));
 * console.assert(b.field === "methods[0]" && b.message.endsWith('current value is "bmcats", did you mean "bmcast"?'));
 * const [c, d] = paramIssues({ methods: ["bmcast"], profile: "paper-2015.json" }, rules);
 * console.assert(c.field === "seed" && c.message === "must be an integer >= 0: current value is undefined");
 * console.assert(d.field === "profile" && d.message.startsWith("must be a profile (loadProfile, parseProfile)"));
 * ```
 */
export function paramIssues<P>(params: unknown, rules: ParamRules<P>): FieldIssue[] {
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    return [fieldIssue("(params)", "an object", show(params))];
  }
  const known = Object.keys(rules);
  const issues = unknownKeyIssues(params, known);
  for (const [key, rule] of Object.entries(rules) as [string, true | ParamRule][]) {
    const value = (params as Record<string, unknown>)[key];
    if (key === "profile" && value !== undefined) {
      const bad = profileIssue(value, key);
      if (bad !== undefined) issues.push(bad);
      continue;
    }
    if (rule === true || (value === undefined && !rule.required)) continue;
    if (value === undefined && rule.list === undefined && !rule.number && !rule.boolean) {
      issues.push(fieldIssue(key, "given", "undefined"));
      continue;
    }
    if (rule.boolean && typeof value !== "boolean") {
      issues.push(fieldIssue(key, "true or false", show(value)));
    }
    if (rule.list === undefined) {
      if (rule.number !== undefined && numberIssue(key, value, rule.number) !== undefined) {
        issues.push(fieldIssue(key, numberRuleText(rule.number), showValue(value)));
      }
      continue;
    }
    const of = rule.list;
    const what = rule.noun ?? (typeof of === "string" ? `${of}s` : `of ${of.join(", ")}`);
    if (!Array.isArray(value) || value.length === 0) {
      issues.push(fieldIssue(key, `a list of one or more ${what}`, show(value)));
      continue;
    }
    value.forEach((v, i) => {
      const field = `${key}[${i}]`;
      if (typeof of === "string") {
        if (typeof v !== of || v === null || Number.isNaN(v)) {
          issues.push(fieldIssue(field, `a ${of}`, show(v)));
        } else if (rule.number !== undefined && numberIssue(field, v, rule.number) !== undefined) {
          issues.push(fieldIssue(field, numberRuleText(rule.number), showValue(v)));
        }
      } else if (!(typeof v === "string" && of.includes(v))) {
        const hint = typeof v === "string" ? didYouMean(v, of, show) : "";
        const { message } = fieldIssue(field, `one of ${of.join(", ")}`, show(v));
        issues.push({ field, message: message + hint });
      }
    });
    if (of !== "object" && new Set(value).size < value.length) {
      issues.push(fieldIssue(key, "a list without repeats", show(value)));
    }
  }
  return issues;
}

/**
 * Throws a RangeError naming every {@link paramIssues} issue, in the house style.
 * @example
 * ```ts
 * import { checkParams } from "./_params.ts";
 * let message = "";
 * try {
 *   checkParams("run fleet", { nodes: [] }, { nodes: { list: "number" } });
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * console.assert(message === "Cannot run fleet: 'nodes' must be a list of one or more numbers: current value is []");
 * ```
 */
export function checkParams<P>(what: string, params: unknown, rules: ParamRules<P>): void {
  const issues = paramIssues(params, rules);
  if (issues.length > 0) throw issuesError(what, issues);
}

/**
 * The profile a run uses: `params.profile`, or the built-in one when it is
 * absent; undefined when the one given is not a valid profile
 * ({@link paramIssues} names it), so that the checks that need a profile
 * are left out rather than fail on it.
 * @example
 * ```ts
 * import { runProfile } from "./_params.ts";
 * console.assert((await runProfile({}))?.name !== undefined);
 * console.assert(await runProfile({ profile: { hdd: {} } as never }) === undefined);
 * ```
 */
export async function runProfile(params: unknown): Promise<Profile | undefined> {
  const given = typeof params === "object" && params !== null
    ? (params as { profile?: unknown }).profile
    : undefined;
  if (given === undefined) return await loadProfile(BUILTIN_PROFILE);
  return profileIssue(given) === undefined ? given as Profile : undefined;
}

/** Sectors of the image a run uses: they must lie in the image. */
export interface ImageArea {
  /** The sector after the last one used. */
  end: number;
  /** What lies there, e.g. "the boot's read areas in boot.params.regions". */
  what: string;
}

/**
 * The areas the profile's OS boot reads (every method boots it); with
 * `writes`, also its log, which a boot over NFS writes to the image.
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile } from "../lib/scenario/mod.ts";
 * import { bootAreas } from "./_params.ts";
 * const p = await loadProfile(BUILTIN_PROFILE);
 * console.assert(bootAreas(p).map((a) => a.end).join() === "13000000");
 * console.assert(bootAreas(p, { writes: true }).map((a) => a.end).join() === "13000000,20200000");
 * ```
 */
export function bootAreas(profile: Profile, options: { writes?: boolean } = {}): ImageArea[] {
  const boot = profile.boot.params.value as BootParams | BootReplay;
  const e = bootExtents(boot);
  const [reads, log] = "trace" in boot
    ? [
      "the boot trace's reads in boot.params.trace",
      "the boot trace's writes in boot.params.trace",
    ]
    : ["the boot's read areas in boot.params.regions", "the boot's log in boot.params.writes"];
  return options.writes && e.writeEnd > 0
    ? [{ end: e.readEnd, what: reads }, { end: e.writeEnd, what: log }]
    : [{ end: e.readEnd, what: reads }];
}

/**
 * The Cassandra store's preloaded data set (records from `layout.dataLba`).
 * @example
 * ```ts
 * import { storeData } from "./_params.ts";
 * const a = storeData({ records: 3, recordBytes: 1000, blockBytes: 4096, layout: { dataLba: 64 } });
 * console.assert(a.end === 72);
 * ```
 */
export function storeData(store: Parameters<typeof kvDataRun>[0]): ImageArea {
  const r = kvDataRun(store);
  return { end: r.lba + r.count, what: "the store's data set at cassandra.store layout.dataLba" };
}

/**
 * The issue of an image of `value` bytes (or GB with `unit: "GB"`, rounded
 * up to whole sectors as a fleet run does) that does not hold every one of
 * `areas` (at least one sector), does not fit the profile's disks
 * ({@link imageSizeRange}'s max) or, in bytes, is not whole sectors.
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile } from "../lib/scenario/mod.ts";
 * import { bootAreas, imageIssue } from "./_params.ts";
 * const p = await loadProfile(BUILTIN_PROFILE);
 * console.assert(imageIssue(p, { field: "imageBytes", value: 7e9 }, bootAreas(p)) === undefined);
 * const i = imageIssue(p, { field: "imageGb", value: 1, unit: "GB" }, bootAreas(p));
 * console.assert(i?.message.startsWith("must be >= 6.656 to hold what the run uses of the image (the boot's"));
 * ```
 */
export function imageIssue(
  profile: Profile,
  image: { field: string; value: number; unit?: "bytes" | "GB" },
  areas: readonly ImageArea[],
): FieldIssue | undefined {
  const { field, value, unit = "bytes" } = image;
  const { max, maxReason } = imageSizeRange(profile);
  const min = Math.max(1, ...areas.map((r) => r.end)) * 512;
  const bytes = unit === "GB" ? imageBytesOf(value) ?? NaN : value;
  const whole = typeof value === "number" && bytes % 512 === 0;
  if (whole && bytes >= min && bytes <= max) return undefined;
  const held = areas.length === 0
    ? "at least one sector"
    : `what the run uses of the image (${
      areas.map((r) => `${r.what}, up to sector ${r.end}`).join("; ")
    })`;
  const [lo, hi] = unit === "GB" ? [min / 1e9, max / 1e9] : [min, max];
  const rule = `${unit === "GB" ? "" : "a multiple of 512 "}>= ${lo} to hold ${held}` +
    ` and <= ${hi} ${maxReason}`;
  return fieldIssue(field, rule, value);
}
