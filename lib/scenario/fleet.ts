/**
 * Fleet startup scenarios: "how fast do N nodes come up with strategy S, and
 * what does the image server serve meanwhile?". N nodes share one image
 * server (or the profile's `imageServer.count`) and one GbE switch (or the
 * profile's racks, `network.rackSize`; buildWorld({nodes})); each runs the startup strategy concurrently after
 * its own power-on self test. A scenario is a
 * zod-validated object (strategy, nodes, seed, image size, profile path and
 * an optional sweep over one parameter), parsed once at the edge with every
 * issue reported at once.
 */
import { z } from "zod";
import {
  decimalNumber,
  decimalRule,
  didYouMean,
  type FieldIssue,
  fieldIssue,
  issuesError,
  issuesMessage,
  MAX_SEED,
  showValue,
  type SimTime,
  unknownKeyIssues,
  valueAt,
  valueOfText,
  valuesOfText,
} from "../_util/mod.ts";
import {
  applyOverrides,
  buildWorld,
  finishDeployment,
  imageSizeIssue,
  MAX_NODES,
  type PhaseSpan,
  type Profile,
  ProfileError,
  profileImageIssue,
  profileIssue,
  serverOutage,
  type StartupResult,
  startupStrategy,
  strategyNames,
  type World,
} from "../deploy/mod.ts";
import type { Link } from "../sim/mod.ts";

/** The image servers are unreachable for `durationS` from `atS` after the first power-on. */
export interface Outage {
  /** Start, s from the first power-on (POST included). */
  atS: number;
  /** Length, s. */
  durationS: number;
}

/**
 * Starts `outage` on `w`: every image server unreachable from `from` (ns,
 * the outage's clock zero) + `atS` for `durationS` ({@link serverOutage}).
 */
export function startOutage(w: World, from: SimTime, outage: Outage): void {
  serverOutage(w, {
    start: from + Math.round(outage.atS * 1e9),
    duration: Math.round(outage.durationS * 1e9),
  });
}

/** How long a fleet run goes: until every OS is up, or until every node is deployed. */
export const UNTIL = ["up", "deployed"] as const;
/** See {@link UNTIL}. */
export type Until = typeof UNTIL[number];

export { MAX_NODES };

/** Parameters a sweep may vary. */
export const SWEEP_PARAMS = [
  "strategy",
  "nodes",
  "imageGb",
  "seed",
  "staggerS",
] as const;
/** A parameter a sweep varies. */
export type SweepParam = typeof SWEEP_PARAMS[number];
/** A profile parameter by its dotted path, e.g. "hdd.rpm" (see applyOverrides). */
export type ProfilePath = `${string}.${string}`;
/**
 * Profile parameters a scenario changes: dotted path -> value (an
 * object-valued parameter may be given whole as an object).
 */
export type ProfileOverrides = Record<
  string,
  string | number | boolean | unknown[] | Record<string, unknown>
>;

/** The profile path of the image's size in bytes, which a scenario's `imageGb` replaces. */
const IMAGE_BYTES = "image.bytes";

const isProfilePath = (p: string): p is ProfilePath => p.includes(".");

/**
 * A scenario field as written on the command line ("imageGb" -> "image-gb").
 * @example
 * ```ts
 * import { flagName } from "./fleet.ts";
 * console.assert(flagName("staggerS") === "stagger-s" && flagName("nodes") === "nodes");
 * ```
 */
export function flagName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** A validated scenario. */
export interface Scenario {
  /** Startup strategy, a registered name ({@link strategyNames}). */
  strategy: string;
  /** Nodes deployed at once. */
  nodes: number;
  /** Simulation seed. */
  seed: number;
  /** Image size in GB (1e9 bytes); absent: the profile's. */
  imageGb?: number;
  /** Nodes power on at seeded random instants over the first `staggerS` seconds (0: all at once). */
  staggerS: number;
  /** Run until every OS is up (default), or until every node is deployed (the strategy's `deployed`). */
  until: Until;
  /** Every image server unreachable for a while (messages retransmitted after it); absent: none. */
  outage?: Outage;
  /** Profile file; absent: the built-in paper profile. */
  profile?: string;
  /**
   * Profile parameters changed for every run, e.g. `{ "hdd.rpm": 15000 }`;
   * each value as the profile takes it (15000 also where given as "15000").
   */
  set?: ProfileOverrides;
  /** Vary one parameter (a scenario field or a profile path); each value is one run. */
  sweep?: { param: SweepParam | ProfilePath; values: (string | number)[] };
}

/** One run of a scenario (a sweep point, or the scenario itself). */
export interface ScenarioPoint {
  /** Run label, e.g. "nodes=4" ("run" without a sweep). */
  run: string;
  /** Startup strategy, a registered name ({@link strategyNames}). */
  strategy: string;
  /** Nodes deployed at once. */
  nodes: number;
  /** Simulation seed. */
  seed: number;
  /** Image size in GB (1e9 bytes); absent: the profile's. */
  imageGb?: number;
  /** Power-on spread, s. @default 0 */
  staggerS?: number;
  /** Run until every OS is up, or every node is deployed. @default "up" */
  until?: Until;
  /** Every image server unreachable for a while. @default none */
  outage?: Outage;
  /** Profile parameters changed for this run. */
  set?: ProfileOverrides;
}

/** Thrown for a scenario that does not validate; `issues` lists every problem. */
export class ScenarioError extends Error {
  /** Always `"ScenarioError"`. */
  override name = "ScenarioError";
  /** An error listing `issues`, each naming its field. */
  constructor(
    /** Every problem found, each naming its field. */
    readonly issues: string[],
  ) {
    super(issuesMessage("invalid scenario", issues));
  }
}

// Flags arrive as strings: decimal numbers are converted, anything else is
// left for the schema to reject with the value shown.
function numeric(schema: z.ZodNumber) {
  return z.preprocess((v) => typeof v === "string" ? decimalNumber(v) ?? v : v, schema);
}

/** A number's schema whose type issue is `rule`, saying decimal is the rule where text was not. */
function numberOf(rule: "must be a number" | "must be an integer") {
  return z.number({ error: (i) => decimalRule(rule, i.input) });
}

/**
 * An integer's schema: its one issue for a whole number outside the range
 * is the range's (zod's int() also refuses one past 2^53 as "not an
 * integer", e.g. 1e30, which is one).
 */
function wholeNumber() {
  return numberOf("must be an integer").refine(Number.isInteger, "must be an integer");
}

const UntilSchema = z.enum(UNTIL, { error: `must be one of ${UNTIL.join(", ")}` });

function fieldSchemas() {
  const names = strategyNames() as [string, ...string[]];
  return {
    strategy: z.enum(names, { error: `must be one of ${names.join(", ")}` }),
    nodes: numeric(
      wholeNumber()
        .min(1, "must be >= 1").max(MAX_NODES, `must be <= ${MAX_NODES}`),
    ),
    seed: numeric(
      wholeNumber().min(0, "must be >= 0")
        .max(MAX_SEED, `must be <= ${MAX_SEED}`),
    ),
    imageGb: numeric(numberOf("must be a number").positive("must be > 0")),
    staggerS: numeric(
      numberOf("must be a number").min(0, "must be >= 0").max(
        86_400,
        "must be <= 86400",
      ),
    ),
  } satisfies Record<SweepParam, z.ZodType>;
}

/** "300:30" as an outage object ({ atS: 300, durationS: 30 }); other values pass unchanged. */
function outageText(v: unknown): unknown {
  if (typeof v !== "string") return v;
  const parts = v.split(":");
  const num = (x: string | undefined) => x === undefined ? x : decimalNumber(x) ?? x;
  return parts.length === 2 ? { atS: num(parts[0]), durationS: num(parts[1]) } : v;
}

/**
 * An outage as a scenario gives it: "AT:DURATION" in seconds, or
 * `{ atS, durationS }`; each part a number within a day.
 */
export const OutageSchema = z.preprocess(
  outageText,
  z.object({
    atS: numberOf("must be a number").min(0, "must be >= 0")
      .max(86_400, "must be <= 86400"),
    durationS: numberOf("must be a number").positive("must be > 0")
      .max(86_400, "must be <= 86400"),
  }, { error: "must be 'AT:DURATION' in seconds or { atS, durationS }" }).strict(),
);

/** "nodes=1,2,4" (or "image-gb=8,16") as a sweep object; other values pass unchanged. */
function sweepText(v: unknown): unknown {
  if (typeof v !== "string") return v;
  const eq = v.indexOf("=");
  if (eq < 0) return v; // no K=V1,V2,... at all: refused whole, saying the form
  const param = v.slice(0, eq).trim().replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return { param, values: v.slice(eq + 1).split(",").map((s) => s.trim()) };
}

/**
 * The parameter a sweep varies, as a scenario field ("stagger-s=0,10" ->
 * "staggerS") or a profile path; undefined when it names none.
 * @example
 * ```ts
 * import { sweptParam } from "./fleet.ts";
 * console.assert(sweptParam("stagger-s=0,10") === "staggerS" && sweptParam({ param: "hdd.rpm", values: [] }) === "hdd.rpm");
 * ```
 */
export function sweptParam(sweep: unknown): string | undefined {
  const v = sweepText(sweep);
  const param = typeof v === "object" && v !== null ? (v as { param?: unknown }).param : undefined;
  return typeof param === "string" && param !== "" ? param : undefined;
}

/**
 * Whether two scenario parameters (fields or profile paths) set the same
 * thing: the same name, one path inside the other (`vmm.copyPolicy` given
 * whole and its field `vmm.copyPolicy.idleThreshold`), or the image's size
 * (`imageGb` and `image.bytes`).
 * @example
 * ```ts
 * import { sameParam } from "./fleet.ts";
 * console.assert(sameParam("imageGb", "image.bytes") && !sameParam("nodes", "hdd.rpm"));
 * console.assert(sameParam("vmm.copyPolicy", "vmm.copyPolicy.kind") && !sameParam("hdd.rpm", "hdd.rpmX"));
 * ```
 */
export function sameParam(a: string, b: string): boolean {
  const size = (x: string) => x === "imageGb" || x === IMAGE_BYTES;
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`) || (size(a) && size(b));
}

/** Options of {@link parseScenario}. */
export interface ParseScenarioOptions {
  /** The profile the scenario runs on: image sizes are checked against its boot and disks. */
  profile?: Profile;
  /** How to name each field in issues (e.g. "--image-gb" for a CLI). @default the field name */
  labels?: Partial<Record<keyof Scenario, string>>;
  /**
   * How to name each item of `set` in issues, by its path, where the items
   * came from different places (a file's set and --set). @default labels.set
   */
  setLabels?: Readonly<Record<string, string>>;
}

/**
 * Validates a scenario object (strings are accepted for numbers, written in
 * decimal: "16", "1.5e1", not "0x10"; a sweep may be written
 * "param=v1,v2,..."), listing every issue as
 * `<field>: <rule>: current value is <value>`. The result's `set` holds
 * each value as the profile takes it (a text "15000" as the number 15000,
 * "true" as a boolean, JSON text as the array or object); a sweep's values
 * over a profile path stay as written, since they name the runs, and none
 * may be named twice (also written another way: 7200 and 7.2e3).
 * @throws ScenarioError
 * @example
 * ```ts
 * import { parseScenario, ScenarioError } from "./fleet.ts";
 * const s = parseScenario({ strategy: "bmcast", nodes: "4", sweep: "image-gb=12,16" });
 * console.assert(s.nodes === 4 && s.sweep?.param === "imageGb" && s.sweep.values[1] === 16);
 * try {
 *   parseScenario({ strategy: "bogus", nodes: 0 });
 * } catch (e) {
 *   console.assert(e instanceof ScenarioError && e.issues.length === 2);
 * }
 * ```
 */
export function parseScenario(input: unknown, options: ParseScenarioOptions = {}): Scenario {
  const fields = fieldSchemas();
  const schema = z.object({
    strategy: fields.strategy.default("bmcast"),
    nodes: fields.nodes.default(1),
    seed: fields.seed.default(1),
    imageGb: fields.imageGb.optional(),
    staggerS: fields.staggerS.default(0),
    until: UntilSchema.default("up"),
    outage: OutageSchema.optional(),
    profile: z.string({ error: "must be a file path" }).min(1, "must be a file path").optional(),
    set: z.record(
      z.string(),
      z.union([
        z.string(),
        z.number(),
        z.boolean(),
        z.array(z.unknown()),
        z.record(z.string(), z.unknown()),
      ], { error: "must be a number, string, boolean, array or object" }),
      { error: 'must map profile paths to values, e.g. { "hdd.rpm": 15000 }' },
    ).optional(),
    sweep: z.preprocess(
      sweepText,
      z.object({
        param: z.union([
          z.enum(SWEEP_PARAMS),
          z.string().regex(/^[A-Za-z]\w*(\.\w+)+$/).transform((p) => p as ProfilePath),
        ], {
          error: `must name one of ${SWEEP_PARAMS.join(", ")} (on the command line: ${
            SWEEP_PARAMS.map(flagName).join(", ")
          }) or a profile parameter such as hdd.rpm`,
        }),
        values: z.array(
          z.union([z.string(), z.number()], { error: "must be a number or a string" }),
          { error: "must list the values, e.g. [1, 2]" },
        ).min(1, "must list at least one value"),
      }, {
        error: (i) =>
          typeof i.input === "string"
            ? "must be K=V1,V2,... (e.g. nodes=1,2,4 or hdd.rpm=5400,15000)"
            : "must be 'param=v1,v2,...' or { param, values }",
      }).strict(),
    ).optional(),
  }, { error: "must be an object" }).strict();
  const label = (path: readonly PropertyKey[]) => {
    const [head, ...rest] = path.map(String);
    if (head === undefined) return "(scenario)";
    const name = (head === "set" ? options.setLabels?.[rest[0]] : undefined) ??
      options.labels?.[head as keyof Scenario] ?? head;
    return rest.length === 0 ? name : `${name}${name.startsWith("-") ? " " : "."}${rest.join(".")}`;
  };
  // A swept value as its caller wrote the parameter: "staggerS[1]" in a
  // scenario object, "stagger-s[1]" on the command line.
  const item = (param: string, i: number) =>
    `${options.labels && !isProfilePath(param) ? flagName(param) : param}[${i}]`;
  const issues: string[] = [];
  const issue = (path: readonly PropertyKey[], message: string, value: unknown) =>
    issues.push(`${label(path)}: ${message}: current value is ${showValue(value)}`);
  const raw = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const r = schema.safeParse(input);
  if (!r.success) {
    for (const i of r.error.issues) {
      if (i.code === "unrecognized_keys") {
        for (const k of i.keys) {
          issue(
            [k],
            `is not a scenario field${didYouMean(k, Object.keys(schema.shape))} (allowed: ${
              Object.keys(schema.shape).join(", ")
            })`,
            raw[k],
          );
        }
      } else {
        const [head, ...rest] = i.path;
        // A sweep or an outage written as text: the value is in what it was read as.
        const value = head === "sweep"
          ? valueAt(sweepText(raw.sweep), rest)
          : head === "outage"
          ? valueAt(outageText(raw.outage), rest)
          : valueAt(input, i.path);
        issue(i.path, i.message, value);
      }
    }
  }
  // Checks across fields run on whatever parsed, so every issue is reported at once.
  const s = r.success ? r.data : undefined;
  const sweep = s?.sweep ?? (() => {
    const p = schema.shape.sweep.safeParse(raw.sweep);
    return p.success ? p.data : undefined;
  })();
  // The profile with the scenario's changes: what the runs, and the checks below, use.
  // Its image's size is checked below, once per run, as the run will have it.
  const set = s?.set ?? (() => {
    const p = schema.shape.set.safeParse(raw.set);
    return p.success ? p.data : undefined;
  })() ?? {};
  // A profile issue is the set item's whose parameter it names ("hdd.rpm.value: ..." is
  // hdd.rpm's), named where that item came from; the set's label when that is not one place.
  const setIssueLabel = (text: string) => {
    const at = text.slice(0, text.indexOf(": ")).split(".");
    if (at[2] === "value") at.splice(2, 1);
    const from = new Set(
      Object.keys(set).filter((p) => sameParam(p, at.join(".")))
        .map((p) => options.setLabels?.[p] ?? label(["set"])),
    );
    return from.size === 1 ? [...from][0] : label(["set"]);
  };
  const unchecked = { checkImageSize: false };
  let profile = options.profile;
  if (profile && Object.keys(set).length > 0) {
    try {
      profile = applyOverrides(profile, set, { origin: "set by the scenario", ...unchecked });
    } catch (e) {
      if (!(e instanceof ProfileError)) throw e;
      for (const i of e.issues) issues.push(`${setIssueLabel(i)}: ${i}`);
      profile = undefined;
    }
  }
  // With a sweep over a profile path: the profile of each run, where it is valid.
  const swept: (Profile | undefined)[] = [];
  if (sweep) {
    const { param } = sweep;
    const given = isProfilePath(param) ? set[param] : raw[param];
    if (given !== undefined) {
      issue(
        isProfilePath(param) ? ["set", param] : [param],
        `is also swept by ${label(["sweep"])}; give one or the other`,
        given,
      );
    }
    const written = [...sweep.values];
    sweep.values = sweep.values.map((v, i) => {
      if (isProfilePath(param)) {
        // Against the unchanged profile when the scenario's own changes are bad.
        const base = profile ?? options.profile;
        if (base) {
          try {
            swept[i] = applyOverrides(base, { [param]: v }, unchecked);
          } catch (e) {
            if (!(e instanceof ProfileError)) throw e;
            const why = e.issues.map((x) =>
              x.startsWith(`${param}: `) ? x.slice(param.length + 2) : x
            );
            issues.push(...why.map((x) => `${label(["sweep", item(param, i)])}: ${x}`));
          }
        }
        return v;
      }
      const p = fields[param].safeParse(v);
      if (!p.success) issue(["sweep", item(param, i)], p.error.issues[0].message, v);
      return p.success ? p.data : v;
    });
    // Two runs of one value would be the same run under the same name (a repeated run key).
    const taken = new Map<string, string | number>();
    const repeated = new Set<string>();
    sweep.values.forEach((v, i) => {
      const as = isProfilePath(param) && typeof v === "string" ? valueOfText(v) : v;
      const key = JSON.stringify(as);
      const first = taken.get(key);
      const w = written[i];
      if (first === undefined) taken.set(key, w);
      else repeated.add(String(first) === String(w) ? String(w) : `${first} = ${w}`);
    });
    if (repeated.size > 0) {
      issue(["sweep"], `must not name a value twice (${[...repeated].join(", ")})`, raw.sweep);
    }
  }
  // The image's size: an image size in GB replaces image.bytes (the
  // profile's, or as set or swept), so the two do not go together.
  const one = fields.imageGb.safeParse(raw.imageGb);
  const byGb = sweep?.param === "imageGb"
    ? ["sweep"]
    : raw.imageGb !== undefined
    ? ["imageGb"]
    : [];
  const byBytes = sweep?.param === IMAGE_BYTES
    ? ["sweep"]
    : set[IMAGE_BYTES] !== undefined
    ? ["set", IMAGE_BYTES]
    : [];
  if (byGb.length > 0 && byBytes.length > 0) {
    issue(
      byGb,
      `replaces ${byBytes[0] === "set" ? label(byBytes) : `${label(["sweep"])} ${IMAGE_BYTES}`}` +
        ` (the image's size in bytes); give one or the other`,
      byGb[0] === "sweep" ? sweep?.values : (one.success ? one.data : raw.imageGb),
    );
  }
  // Each run's image size checked against that run's profile, as runProfile
  // decides it: in GB where the scenario gives one, else image.bytes, whose
  // issue is the set's where the swept value does not change it.
  const sizes: [PropertyKey[], unknown][] = sweep?.param === "imageGb"
    ? sweep.values.map((v, i) => [["sweep", item("imageGb", i)], v])
    : [[["imageGb"], one.success ? one.data : undefined]];
  const sweptProfiles = swept.some((p) => p !== undefined);
  const profiles = sweptProfiles
    ? swept.filter((p) => p !== undefined)
    : [profile ?? options.profile];
  if (byGb.length > 0) {
    for (const [path, gb] of sizes) {
      if (typeof gb !== "number") continue;
      const rules = new Set(profiles.map((p) => p && runImageIssue(p, gb)));
      for (const rule of rules) if (rule !== undefined) issue(path, rule, gb);
    }
  } else {
    const bytesIssue = (p: Profile | undefined, changed = Object.keys(set)) =>
      p && runImageIssue(p, undefined, changed);
    // The profile's own image too: a caller may load it unchecked (sim: --image-gb may replace it).
    const own = bytesIssue(profile);
    const ownLabel = profile === options.profile ? label(["profile"]) : label(["set"]);
    const reported = new Set<string>();
    const report = (where: string, why: string) => {
      if (!reported.has(`${where}: ${why}`)) issues.push(`${where}: ${why}`);
      reported.add(`${where}: ${why}`);
    };
    if (sweep && isProfilePath(sweep.param)) {
      swept.forEach((p, i) => {
        const why = bytesIssue(p, [...Object.keys(set), sweep.param]);
        if (why === undefined) return;
        report(why === own ? ownLabel : label(["sweep", item(sweep.param, i)]), why);
      });
    } else if (own !== undefined) report(ownLabel, own);
  }
  if (issues.length > 0 || s === undefined) throw new ScenarioError(issues);
  // The set's values as the profile takes them ("15000" -> 15000), as outputs record them.
  if (s.set !== undefined) {
    s.set = valuesOfText(s.set) as ProfileOverrides;
  }
  return s;
}

/**
 * The runs of a scenario: one per sweep value, or the scenario itself. A
 * run of a sweep over a profile path has the value in its `set` as the
 * profile takes it ("125e6" -> 125000000) and in its name as written
 * ("network.lineRate=125e6").
 * @example
 * ```ts
 * import { parseScenario, scenarioPoints } from "./fleet.ts";
 * const pts = scenarioPoints(parseScenario({ strategy: "nfsroot", sweep: "nodes=1,2" }));
 * console.assert(pts.length === 2 && pts[1].run === "nodes=2" && pts[1].nodes === 2);
 * ```
 */
export function scenarioPoints(s: Scenario): ScenarioPoint[] {
  const base: ScenarioPoint = {
    run: "run",
    strategy: s.strategy,
    nodes: s.nodes,
    seed: s.seed,
    imageGb: s.imageGb,
    staggerS: s.staggerS,
    until: s.until,
    ...(s.outage ? { outage: s.outage } : {}),
    ...(s.set ? { set: s.set } : {}),
  };
  if (!s.sweep) return [base];
  const { param, values } = s.sweep;
  if (isProfilePath(param)) {
    // The value as the profile takes it; the run is named as the sweep wrote it.
    return values.map((v) => ({
      ...base,
      set: {
        ...s.set,
        [param]: (typeof v === "string" ? valueOfText(v) : v) as ProfileOverrides[string],
      },
      run: `${param}=${v}`,
    }));
  }
  return values.map((v) => ({ ...base, [param]: v, run: `${flagName(param)}=${v}` }));
}

/** The fields that name a run in each of its rows. */
export interface FleetRunKey {
  /** The run's label (`run` of the scenario, or the swept `PARAM=VALUE`). */
  run: string;
  /** Startup strategy, a registered name ({@link strategyNames}). */
  strategy: string;
  /** Nodes started. */
  nodes: number;
  /** Image size, GB (1e9 bytes). */
  imageGb: number;
  /** Simulation seed. */
  seed: number;
  /** Time between two nodes' power-ons, s (0: all at once). */
  staggerS: number;
}

/** One phase of one node's startup, seconds from the end of that node's POST. */
export interface FleetPhaseRow extends FleetRunKey {
  /** The node's name (`node0`, `node1`, ...). */
  node: string;
  /** Phase name ("PXE", "VMM boot", "OS boot", ...). */
  phase: string;
  /** Phase start, s. */
  startS: number;
  /** Phase end, s. */
  endS: number;
}

/** One node's startup time, seconds (end of POST to OS ready). */
export interface FleetTotalRow extends FleetRunKey {
  /** The node's name (`node0`, `node1`, ...). */
  node: string;
  /** When the node powered on, s from the run's first power-on (0 without a stagger). */
  powerOnS: number;
  /** When its POST ended (its phases' zero), s from the run's first power-on. */
  postEndS: number;
  /** Startup time: end of POST to OS ready, s. */
  totalS: number;
  /**
   * With `until: "deployed"`: end of POST to the image on the local disk
   * (BMcast: copy complete and de-virtualized); NaN for a strategy that never
   * deploys (NFS root, KVM/NFS).
   */
  deployedS?: number;
}

/** A run's fleet-wide numbers. */
export interface FleetSummaryRow extends FleetRunKey {
  /**
   * The shortest startup time, the mean, and the longest, s (each from that
   * node's POST end): with nodes powered on together those of the first and
   * the last node up, with a stagger not necessarily (a late node may boot
   * faster on a warm server cache).
   */
  firstS: number;
  /** The mean startup time, s (see `firstS`). */
  meanS: number;
  /** The longest startup time, s (see `firstS`). */
  lastS: number;
  /** From the first power-on until every node is up (POST and the stagger included), s. */
  readyS: number;
  /** With `until: "deployed"`: from the first power-on until every node is deployed, s (NaN: never). */
  deployedS?: number;
  /**
   * Image data the server sent until the run ended (the last node up, or
   * deployed), GB, compressed for a compressed image; a multicast chunk counts once.
   */
  serverGb: number;
  /** What the image server read from its disk meanwhile (its page cache serves the rest). */
  serverDiskGb: number;
  /** Requests the image servers answered. */
  serverRequests: number;
  /**
   * How hard the busiest image server worked from the end of the first POST
   * (before it, no node asks for anything) to the run's end: its link to the
   * switch, bytes carried out (headers included, messages still on the wire at
   * the end not counted) as % of its rate (`network.serverLinkRate`, or the
   * line rate when 0) for that long; its disk, % of that time a read was
   * outstanding.
   */
  serverLinkPct: number;
  /** The busiest server's disk over the same span, % of it with a read outstanding. */
  serverDiskPct: number;
  /**
   * With racks (`network.rackSize`): the busiest rack uplink toward its rack over the same span,
   * bytes carried as % of its rate for that long.
   */
  uplinkPct?: number;
  /** With an outage: when it began, s from the first power-on, and how long it lasted. */
  outageAtS?: number;
  /** With an outage: how long it lasted, s. */
  outageDurationS?: number;
  /**
   * With an outage: messages of the image protocol held back by it, and the
   * tries lost (each a retransmission timeout) before they got through.
   */
  heldBack?: number;
  /** With an outage: tries lost before the held-back messages got through (see `heldBack`). */
  lostTries?: number;
  /**
   * With an outage: datagrams it lost, which nobody sends again by itself:
   * multicast chunks (one per receiver) and the receivers' joins and NAKs
   * (each receiver asks again after `imageServer.multicastIdleTimeout` of silence).
   */
  lostDatagrams?: number;
  /** With an outage: the longest request of any node's OS boot, s (issue to completion). */
  longestBootIoS?: number;
  /**
   * With an outage: link resets the guests' disk error handling made (AHCI
   * guests: a command unanswered for 30 s; NFS and virtio requests wait without limit).
   */
  diskResets?: number;
  /**
   * With an outage: nodes whose guest disk driver turned NCQ off after
   * repeated timeouts (libata's speed-down: more than 3 in 10 minutes).
   */
  ncqOffNodes?: number;
  /** With an outage: boot requests that failed, their retries used up (the real OS would see I/O errors). */
  bootIoErrors?: number;
}

/**
 * When a run ended, s from its first power-on: when every node was up, or,
 * run until deployed, when every node was deployed (a strategy that never
 * deploys, `deployedS` NaN, leaves it at the last node up).
 * @example
 * ```ts
 * import { runEndS, type FleetSummaryRow } from "./fleet.ts";
 * console.assert(runEndS({ readyS: 200, deployedS: 700 } as FleetSummaryRow) === 700);
 * console.assert(runEndS({ readyS: 200, deployedS: NaN } as FleetSummaryRow) === 200);
 * ```
 */
export function runEndS(s: Pick<FleetSummaryRow, "readyS" | "deployedS">): number {
  return Number.isFinite(s.deployedS) ? Math.max(s.readyS, s.deployedS!) : s.readyS;
}

/** Output of {@link runFleet}. */
export interface FleetRun {
  /** Every node's phases. */
  phases: FleetPhaseRow[];
  /** One row per node. */
  totals: FleetTotalRow[];
  /** The run's fleet-wide numbers. */
  summary: FleetSummaryRow;
}

/** Progress of a fleet run, for progress bars. */
export interface FleetProgress {
  /** Nodes whose OS is up. */
  nodesUp: number;
  /** With `until: "deployed"`: nodes deployed (or up, for a strategy that never deploys). */
  nodesDeployed?: number;
  /** Nodes in the run. */
  nodes: number;
  /** Simulated time, s. */
  simS: number;
}

/**
 * An image size in GB as bytes, rounded up to whole 512-byte sectors (what
 * an image is made of); undefined stays undefined (the profile's size).
 * @example
 * ```ts
 * import { imageBytesOf } from "./fleet.ts";
 * console.assert(imageBytesOf(10.35) === 10_350_000_128 && imageBytesOf(undefined) === undefined);
 * ```
 */
export function imageBytesOf(imageGb: number | undefined): number | undefined {
  // To the byte first: 10.3424 GB is 10,342,400,000 bytes, not a sector more.
  return imageGb === undefined ? undefined : Math.ceil(Math.round(imageGb * 1e9) / 512) * 512;
}

/**
 * The profile one run runs on: `base` with the run's changes (`set`) and
 * its image's size, the run's `imageGb` (in bytes, whole sectors) where it
 * gives one, else `image.bytes` as set or the profile's. The one place a
 * run's image size is decided, and checked, once, against the boot and the
 * disks of the changed profile: so an image in GB may fit a disk smaller
 * than the profile's own image.
 * @throws ProfileError listing every issue of the changes, and the image's
 *   size as `imageGb: ...` (in GB) or `image.bytes.value: ...`
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { runProfile } from "./fleet.ts";
 * const base = await loadProfile(BUILTIN_PROFILE); // a 32 GB image
 * const p = runProfile(base, { imageGb: 12, set: { "hdd.sectors": 41_943_040 } }); // a 21.5 GB disk
 * console.assert(p.image.bytes.value === 12e9 && p.hdd.sectors.value === 41_943_040);
 * let threw = false;
 * try {
 *   runProfile(base, { set: { "hdd.sectors": 41_943_040 } }); // the profile's 32 GB image
 * } catch {
 *   threw = true;
 * }
 * console.assert(threw);
 * ```
 */
export function runProfile(
  base: Profile,
  run: Pick<ScenarioPoint, "set" | "imageGb">,
): Profile {
  const bytes = imageBytesOf(run.imageGb);
  const changes = { ...run.set, ...(bytes === undefined ? {} : { [IMAGE_BYTES]: bytes }) };
  const profile = Object.keys(changes).length === 0 ? base : applyOverrides(base, changes, {
    origin: "set by the scenario",
    checkImageSize: false,
  });
  const rule = runImageIssue(profile, run.imageGb, Object.keys(run.set ?? {}));
  if (rule !== undefined) {
    throw new ProfileError([
      run.imageGb === undefined ? rule : `imageGb: ${rule}: current value is ${run.imageGb}`,
    ]);
  }
  return profile;
}

/**
 * The rule a run's image size breaks, if any, as {@link runProfile} decides
 * the size: `imageGb` (in GB) where the run gives one, else the profile's
 * `image.bytes` (the whole issue, with its path and value; of the parameter on the other
 * side where `changed`, the paths the run set, names it and not image.bytes).
 */
function runImageIssue(
  profile: Profile,
  imageGb: number | undefined,
  changed: readonly string[] = [],
): string | undefined {
  if (imageGb !== undefined) return imageSizeIssue(profile, imageBytesOf(imageGb)!, { unit: "GB" });
  // Of the parameter the run changed, where it changed one side only (hdd.sectors, boot.rootLba).
  return profileImageIssue(profile, changed);
}

/** Options of {@link runFleet}. */
export interface RunFleetOptions {
  /** The hardware profile (the point's `set` overrides are applied to it). */
  profile: Profile;
  /** The one run to make (see {@link scenarioPoints}). */
  point: ScenarioPoint;
  /** Called when a node is up and every `progressEvery` simulation steps. */
  onProgress?: (p: FleetProgress) => void;
  /** Simulation steps between two progress calls. @default 20000 */
  progressEvery?: number;
}

const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);

const FLEET_OPTIONS = ["profile", "point", "onProgress", "progressEvery"] as const;

/**
 * `options.point` as {@link runFleet} runs it, its fields checked by the
 * scenario's rules (numbers as numbers); throws naming every bad option.
 */
function fleetPoint(options: RunFleetOptions): ScenarioPoint {
  const what = "run fleet";
  if (typeof options !== "object" || options === null) {
    throw issuesError(what, [
      fieldIssue("options", "{ profile, point, onProgress?, progressEvery? }", showValue(options)),
    ]);
  }
  const issues: FieldIssue[] = [...unknownKeyIssues(options, FLEET_OPTIONS)];
  const bad = profileIssue(options.profile);
  if (bad !== undefined) issues.push(bad);
  const { onProgress, progressEvery } = options;
  if (onProgress !== undefined && typeof onProgress !== "function") {
    issues.push(fieldIssue("onProgress", "a function", showValue(onProgress)));
  }
  if (progressEvery !== undefined && !(Number.isInteger(progressEvery) && progressEvery >= 1)) {
    issues.push(fieldIssue("progressEvery", "an integer >= 1", showValue(progressEvery)));
  }
  const fields = fieldSchemas();
  const schema = z.object({
    run: z.string({ error: "must be a run label (text)" }),
    strategy: fields.strategy,
    nodes: fields.nodes,
    seed: fields.seed,
    imageGb: fields.imageGb.optional(),
    staggerS: fields.staggerS.optional(),
    until: UntilSchema.optional(),
    outage: OutageSchema.optional(),
    set: z.record(z.string(), z.unknown(), { error: "must map profile paths to values" })
      .optional(),
  }, { error: "must be a run: { run, strategy, nodes, seed, ... } (see scenarioPoints)" }).strict();
  const r = schema.safeParse(options.point);
  if (!r.success) {
    for (const i of r.error.issues) {
      if (i.code === "unrecognized_keys") {
        // Only an object has keys: the point is one.
        issues.push(...unknownKeyIssues(options.point, Object.keys(schema.shape), "point."));
      } else {
        const field = ["point", ...i.path.map(String)].join(".");
        issues.push({
          field,
          message: `${i.message}: current value is ${showValue(valueAt(options.point, i.path))}`,
        });
      }
    }
  }
  if (issues.length > 0) throw issuesError(what, issues);
  // set's values are checked by applyOverrides, which names each path.
  return r.data as ScenarioPoint;
}

/** The busiest server's link (out) and disk use, and with racks the busiest uplink, over `span` ns, %. */
function serverLoad(
  w: World,
  span: SimTime,
): Pick<FleetSummaryRow, "serverLinkPct" | "serverDiskPct" | "uplinkPct"> {
  const pct = (x: number) => (span > 0 ? (100 * x) / span : 0);
  const busiest = (links: readonly Link[]) =>
    pct(Math.max(...links.map((l) => (l.bytesCarried / l.bandwidth) * 1e9)));
  const links = w.servers.map((s) => w.network.route(s.host, w.nodes[0].name)[0]);
  // With racks a server reaches a node over its cable, the core's uplink to the rack, the node's.
  const uplinks = new Set(
    w.nodes.map((n) => w.network.route(w.servers[0].host, n.name)).filter((r) => r.length === 3)
      .map((r) => r[1]),
  );
  return {
    serverLinkPct: busiest(links),
    serverDiskPct: pct(Math.max(...w.serverDisks.map((d) => d.stats().busyTime))),
    ...(uplinks.size > 0 ? { uplinkPct: busiest([...uplinks]) } : {}),
  };
}

/**
 * Powers on every node of a fresh world at once and runs the strategy on
 * each, concurrently, until the last OS is up (background work such as
 * BMcast's copier is not waited for), or with `until: "deployed"` until
 * every node is deployed (BMcast: copied and de-virtualized; the copy and
 * de-virtualize phases join the rows).
 * @throws RangeError naming every bad option (not a profile, a point field
 *   that breaks the scenario's rules or is not one, a misspelt option);
 *   ProfileError for a point's `set` or image size the profile refuses
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile } from "../deploy/mod.ts";
 * import { runFleet } from "./fleet.ts";
 * const profile = await loadProfile(BUILTIN_PROFILE);
 * const out = runFleet({ profile, point: { run: "run", strategy: "bare-metal", nodes: 2, seed: 1 } });
 * console.assert(out.totals.length === 2 && out.summary.lastS >= out.summary.firstS);
 * ```
 */
export function runFleet(options: RunFleetOptions): FleetRun {
  const { onProgress, progressEvery = 20_000 } = options ?? {};
  const point = fleetPoint(options);
  const profile = runProfile(options.profile, point);
  const { start, preinstalled, deployed: deploys } = startupStrategy(point.strategy, "run fleet");
  const imageBytes = profile.image.bytes.value;
  const w = buildWorld(profile, {
    seed: point.seed,
    nodes: point.nodes,
    imageBytes,
    preinstalled,
    run: point.run,
  });
  const meta = {
    run: point.run,
    strategy: point.strategy,
    nodes: point.nodes,
    imageGb: point.imageGb ?? imageBytes / 1e9,
    seed: point.seed,
    staggerS: point.staggerS ?? 0,
  };
  const until = point.until ?? "up";
  const phases: FleetPhaseRow[] = [];
  const totals: FleetTotalRow[] = [];
  let up = 0, finished = 0, lastUp = 0, longestIo = 0, bootIoErrors = 0;
  const drivers: StartupResult["driver"][] = [];
  const report = () =>
    onProgress?.({
      nodesUp: up,
      nodes: point.nodes,
      simS: w.sim.now / 1e9,
      ...(until === "deployed" ? { nodesDeployed: finished } : {}),
    });
  // Power-on instants drawn in node order from their own stream: the other
  // streams, and so everything else, stay the same for a seed.
  const powerOn = w.sim.rng.stream("fleet:power-on");
  const delays = w.nodes.map(() => Math.round(powerOn.uniform(0, meta.staggerS) * 1e9));
  const firstOn = w.sim.now + Math.min(...delays);
  if (point.outage !== undefined) startOutage(w, firstOn, point.outage);
  w.nodes.forEach((node, i) => {
    const delay = delays[i];
    w.sim.process(function* () {
      if (delay > 0) yield w.sim.timeout(delay);
      const on = w.sim.now;
      yield* node.firmware.powerOn();
      const t0 = w.sim.now;
      const times = { powerOnS: (on - firstOn) / 1e9, postEndS: (t0 - firstOn) / 1e9 };
      // Phases in s from the end of this node's POST.
      const record = (spans: readonly PhaseSpan[]) => {
        for (const p of spans) {
          const [startS, endS] = [(p.start - t0) / 1e9, (p.end - t0) / 1e9];
          phases.push({ ...meta, node: node.name, phase: p.phase, startS, endS });
        }
      };
      const r = yield* start(w, node);
      longestIo = Math.max(longestIo, r.boot.longestIo);
      bootIoErrors += r.boot.errors;
      drivers.push(r.driver);
      record(r.phases);
      up++;
      lastUp = w.sim.now;
      report();
      if (until === "up") {
        totals.push({ ...meta, node: node.name, ...times, totalS: r.total / 1e9 });
        finished++;
        return;
      }
      let deployedAt = deploys === "up" ? w.sim.now : NaN;
      if (deploys === "copy") {
        const d = yield* finishDeployment(w, node, r);
        record([d.copy, d.devirtualize]);
        deployedAt = w.sim.now;
      }
      const deployedS = (deployedAt - t0) / 1e9;
      totals.push({ ...meta, node: node.name, ...times, totalS: r.total / 1e9, deployedS });
      lastDeployed = Math.max(lastDeployed, deployedAt);
      finished++;
      report();
    }, `${node.name}/startup`);
  });
  let lastDeployed = -Infinity;
  let steps = 0;
  while (finished < point.nodes && w.sim.step()) {
    if (++steps % progressEvery === 0) report();
  }
  if (finished < point.nodes) {
    throw new Error(
      `fleet '${point.run}': only ${up} of ${point.nodes} nodes came up` +
        (until === "deployed" ? `, ${finished} deployed` : ""),
    );
  }
  // Node order, not completion order, for stable output.
  const order = (n: string) => Number(n.replace(/\D/g, ""));
  totals.sort((a, b) => order(a.node) - order(b.node));
  phases.sort((a, b) => order(a.node) - order(b.node)); // stable: phase order kept
  const t = totals.map((r) => r.totalS);
  return {
    phases,
    totals,
    summary: {
      ...meta,
      firstS: Math.min(...t),
      meanS: t.reduce((a, b) => a + b, 0) / t.length,
      lastS: Math.max(...t),
      readyS: (lastUp - firstOn) / 1e9,
      ...(until === "deployed"
        ? { deployedS: deploys === "never" ? NaN : (lastDeployed - firstOn) / 1e9 }
        : {}),
      serverGb: (sum(w.servers, (x) => x.stats.bytesSent) +
        sum(w.multicasts, (m) => m.stats.bytesSent)) / 1e9,
      serverDiskGb: sum(w.servers, (x) => x.stats.diskBytes) / 1e9,
      serverRequests: sum(w.servers, (x) => x.stats.requests),
      // The server has nothing to do before the first POST ends.
      ...serverLoad(w, w.sim.now - firstOn - Math.min(...totals.map((r) => r.postEndS)) * 1e9),
      ...(point.outage !== undefined
        ? {
          outageAtS: point.outage.atS,
          outageDurationS: point.outage.durationS,
          heldBack: w.network.heldBack,
          lostTries: w.network.lostTries,
          lostDatagrams: w.network.lostDatagrams,
          longestBootIoS: longestIo / 1e9,
          // Counted at the end: resets after the boot (a deployment's copy) count too.
          diskResets: sum(drivers, (d) => d.resets ?? 0),
          ncqOffNodes: drivers.filter((d) => d.ncqOff === true).length,
          bootIoErrors,
        }
        : {}),
    },
  };
}
