/**
 * Beyond the paper: which profile parameters do a figure's results depend
 * on? One at a time, each number of the profile (each parameter, and each
 * numeric field of an object-valued one) is changed by `step` (+10 % by
 * default; -10 % when +10 % is not a valid profile, e.g. a fraction at 1)
 * and the figure's experiment (startup, Cassandra, storage or RDMA) runs
 * again.
 * Reported per parameter and metric:
 * the change in % and the elasticity (% change of the metric per % change
 * of the parameter). Parameters are labelled by their source: sourced
 * (datasheet, paper, measurement), estimate, or calibrated, so one sees
 * which estimates the predictions lean on.
 * Runnable alone: `deno task sensitivity [--figure F] [--small] [--step 0.1]
 * [--top 15] [--path P ...] [--out DIR]`.
 */
import {
  callInWorker,
  csv,
  decimalNumber,
  decimalRule,
  type FieldIssue,
  fieldIssue,
  intFlag,
  issuesError,
  issuesMessage,
  numberIssue,
  outDirIssue,
  parseFlags,
  progressLine,
  showValue,
  textTable,
  writeOutputs,
} from "../lib/_util/mod.ts";
import {
  applyOverrides,
  BUILTIN_PROFILE,
  type Comparison,
  loadProfile,
  numericParameters,
  type Profile,
  ProfileError,
} from "../lib/scenario/mod.ts";
import type { BarRow } from "../lib/plot/mod.ts";
import * as startup from "./fig_startup.ts";
import * as cassandra from "./fig_cassandra.ts";
import * as storage from "./fig_storage.ts";
import * as rdma from "./fig_rdma.ts";
import { paramIssues, type ParamRules } from "./_params.ts";

/** A figure the analysis reruns. */
interface Target {
  /** Profile sections its experiment reads: the numbers varied by default. */
  sections: readonly string[];
  /** Metrics shown, in order; absent: all of them. */
  metrics?: readonly string[];
  /**
   * The methods that have metrics, the only ones its configuration may
   * name; absent: the configuration has no methods.
   */
  methods?: readonly string[];
  /** The experiment's configurations (without the profile). */
  full: Record<string, unknown>;
  small: Record<string, unknown>;
  /** A few parameters for quick checks (`--small`). */
  smallPaths: string[];
  /** One run: each metric's simulated value, by name (a comparison row's, or the figure's own). */
  run: (config: Record<string, unknown>, profile: Profile) => Promise<Record<string, number>>;
}

/** Each comparison row's simulated value, by metric. */
const byMetric = (o: { comparisons: Comparison[] }) =>
  Object.fromEntries(o.comparisons.map((c) => [c.metric, c.simulated]));
// Only the Cassandra figure reads the store and workload; the NFS client and
// the installer only serve startup methods.
const ALL_BUT = (...not: string[]) =>
  [
    "cpu",
    "memory",
    "hba",
    "hdd",
    "network",
    "imageServer",
    "image",
    "firmware",
    "guestDriver",
    "vmm",
    "installer",
    "boot",
    "nfs",
    "kvm",
    "infiniband",
    "cassandra",
  ].filter((s) => !not.includes(s));

/** The Cassandra figure's metrics shown (the run after de-virtualization is 100 % by design). */
export const CASSANDRA_METRICS = {
  streaming:
    "bmcast while streaming: mean % of bare metal (paper: below 100, above the 70 % axis floor)",
  lowest:
    "bmcast while streaming: lowest window, % of bare metal (paper: above the 70 % axis floor)",
  devirt: "bmcast de-virtualized (s)",
  kvm: "kvm-local: mean % of bare metal (paper: below 100)",
} as const;

/** The figures the analysis can rerun, by name. */
export const TARGETS = {
  startup: {
    sections: ALL_BUT("infiniband", "cassandra"),
    // The paper's four methods: the others have no total to compare.
    methods: startup.full.methods,
    metrics: [...startup.full.methods.map((m) => `${m} total (s)`), "image copy / BMcast (x)"],
    full: { ...startup.full },
    small: { ...startup.small, methods: ["bmcast"] },
    smallPaths: ["hdd.rpm", "vmm.copyPolicy.idleThreshold", "installer.copyDepth"],
    run: (c, profile) =>
      startup.run({ ...(c as unknown as startup.StartupParams), profile }).then(byMetric),
  },
  cassandra: {
    sections: ALL_BUT("infiniband", "nfs", "installer"),
    metrics: Object.values(CASSANDRA_METRICS),
    // In series: the analysis runs its own workers.
    full: { ...cassandra.full, parallel: false },
    small: { ...cassandra.small, parallel: false },
    smallPaths: [
      "cassandra.workload.readProportion",
      "vmm.copyPolicy.idleThreshold",
      "cassandra.store.cpu.memoryBound",
    ],
    run: async (c, profile) => {
      const out = await cassandra.run({ ...(c as unknown as cassandra.CassandraParams), profile });
      return { ...byMetric(out), [CASSANDRA_METRICS.devirt]: out.summary.devirtS };
    },
  },
  storage: {
    sections: ALL_BUT("infiniband", "nfs", "installer", "cassandra"),
    full: { ...storage.full },
    small: { ...storage.small },
    smallPaths: ["hdd.commandOverhead", "kvm.virtio.hostWakeup", "vmm.readAheadSectors"],
    run: (c, profile) =>
      storage.run({ ...(c as unknown as storage.StorageParams), profile }).then(byMetric),
  },
  rdma: {
    sections: ALL_BUT("nfs", "installer", "cassandra"),
    full: { ...rdma.full },
    small: { ...rdma.small },
    smallPaths: ["infiniband.hca.pcieRoundTrip", "infiniband.iommuMissCost", "cpu.vmExit"],
    run: (c, profile) => rdma.run({ ...(c as unknown as rdma.RdmaParams), profile }).then(byMetric),
  },
} satisfies Record<string, Target>;

/** A figure of {@link TARGETS}. */
export type FigureName = keyof typeof TARGETS;

/** Parameters of the sensitivity analysis. */
export interface SensitivityParams {
  /** The figure whose experiment is rerun. @default "startup" */
  figure?: FigureName;
  /**
   * Its experiment's configuration (seed, sizes...): the fields given replace
   * those of the figure's full configuration (`TARGETS[figure].full`), e.g.
   * `{ seed: 2 }`; the startup figure's `methods` only those it measures
   * (image-copy, bmcast, nfsroot, kvm-nfs). @default the figure's full configuration
   */
  config?: Record<string, unknown>;
  /** Relative change of each parameter. @default 0.1 */
  step: number;
  /** Profile paths to change (at least one); absent: every number in the figure's sections. */
  paths?: string[];
  /** Parallel workers (each a full simulation), an integer >= 1. @default 1 */
  workers?: number;
  /** The hardware profile. @default the built-in profile */
  profile?: Profile;
  /** Called after each parameter. */
  onProgress?: (done: number, total: number, path: string) => void;
}

/** The paper's startup configuration: all four methods, the 32 GB image (about 5 s per parameter). */
export const full: SensitivityParams = { step: 0.1, figure: "startup" };

/** A quick configuration for tests: the startup figure, BMcast only, three parameters. */
export const small: SensitivityParams = {
  step: 0.1,
  figure: "startup",
  config: TARGETS.startup.small,
  paths: TARGETS.startup.smallPaths,
};

/** Where a parameter's value comes from, from its source text. */
export type SourceKind = "sourced" | "estimate" | "calibrated";

/** One metric's response to one parameter change. */
export interface SensitivityRow {
  /** The parameter's dotted profile path. */
  path: string;
  /** Kind of the parameter's source (a field's own, or else its object's: see `inherited`). */
  kind: SourceKind;
  /** A field without a source of its own: `kind` is its object's. */
  inherited: boolean;
  /** The parameter before the change. */
  base: number;
  /** The parameter after the change. */
  changed: number;
  /** The metric (a comparison row's name). */
  metric: string;
  /** The metric with the profile as it is. */
  baseValue: number;
  /** The metric with the change. */
  value: number;
  /** The metric's change, % of baseValue. */
  changePct: number;
  /** changePct divided by the parameter's change in %. */
  elasticity: number;
  /**
   * The change exceeds what the seed alone moves the metric (`noisePct`):
   * below it, the elasticity is the model's jitter, not a dependence.
   */
  aboveNoise: boolean;
}

/** What {@link varyEach} finds: rows not yet judged against the seed noise. */
export interface VaryResult {
  /** One row per parameter and metric. */
  rows: Omit<SensitivityRow, "aboveNoise">[];
  /** Parameters not varied, and why. */
  skipped: SkippedParameter[];
}

/** A parameter that was not varied, and why. */
export interface SkippedParameter {
  /** The parameter's dotted profile path. */
  path: string;
  /** Why it was not varied. */
  reason: string;
}

/** Output of {@link run}. */
export interface SensitivityOutput {
  /** One row per parameter and metric, judged against the noise. */
  rows: SensitivityRow[];
  /** Parameters not varied, and why. */
  skipped: SkippedParameter[];
  /** The metrics with the profile as it is. */
  baseline: Record<string, number>;
  /**
   * Seed noise of each metric: max - min over `noiseSeeds` runs of the
   * unchanged profile, in % of the baseline. BMcast's boot, where the copier
   * and the boot race for the disk, moves a few % with the seed, and so with
   * any small timing change.
   */
  noisePct: Record<string, number>;
  /** The seeds of those runs (the first is the baseline's). */
  noiseSeeds: number[];
}

/** Runs of the unchanged profile, with consecutive seeds, that measure the noise. */
export const NOISE_SEEDS = 3;

/**
 * Classifies a source text.
 * @example
 * ```ts
 * import { sourceKind } from "./fig_sensitivity.ts";
 * console.assert(sourceKind("calibrated to Fig. startup") === "calibrated");
 * console.assert(sourceKind("PXE ROM link-up ~1 s; estimate") === "estimate");
 * console.assert(sourceKind("datasheet") === "sourced");
 * ```
 */
export function sourceKind(source: string): SourceKind {
  const s = source.toLowerCase();
  if (s.includes("calibrated to")) return "calibrated";
  return /estimate|assumption|design choice/.test(s) ? "estimate" : "sourced";
}

const WHAT = "run sensitivity";

/**
 * Every issue of the figure and its configuration: a figure that is not one
 * of {@link TARGETS}, a config that is no object, and, for a figure whose
 * metrics are per method, a method it does not measure (its runs would
 * show nothing).
 */
function scopeIssues(params: Pick<SensitivityParams, "figure" | "config">): FieldIssue[] {
  const { figure = "startup", config: c } = params;
  const issues: FieldIssue[] = [];
  if (!(typeof figure === "string" && Object.hasOwn(TARGETS, figure))) {
    issues.push(
      fieldIssue("figure", `one of ${Object.keys(TARGETS).join(", ")}`, showValue(figure)),
    );
  }
  if (c !== undefined && (typeof c !== "object" || c === null || Array.isArray(c))) {
    issues.push(fieldIssue("config", "an object", showValue(c)));
  }
  if (issues.length > 0) return issues;
  const { full, methods: measured }: Target = TARGETS[figure];
  const { methods } = { ...full, ...c };
  if (
    measured !== undefined &&
    !(Array.isArray(methods) && methods.length > 0 && methods.every((m) => measured.includes(m)))
  ) {
    const rule = `a list of one or more of the methods the figure measures (${
      measured.join(", ")
    })`;
    issues.push(fieldIssue("config.methods", rule, showValue(methods)));
  }
  return issues;
}

/** The figure's target, or a RangeError naming every {@link scopeIssues} issue. */
function targetOf(params: Pick<SensitivityParams, "figure" | "config">): Target {
  const issues = scopeIssues(params);
  if (issues.length > 0) throw issuesError(WHAT, issues);
  return TARGETS[params.figure ?? "startup"];
}

/**
 * The experiment's configuration of a run: `config`'s fields over the
 * figure's full configuration.
 * @example
 * ```ts
 * import { configOf, TARGETS } from "./fig_sensitivity.ts";
 * const c = configOf({ figure: "rdma", config: { seed: 2 } });
 * console.assert(c.seed === 2 && c.iterations === TARGETS.rdma.full.iterations);
 * ```
 */
export function configOf(
  params: Pick<SensitivityParams, "figure" | "config">,
): Record<string, unknown> {
  return { ...targetOf(params).full, ...params.config };
}

/** The figure's metrics shown, by name, from one run of its experiment. */
async function metrics(profile: Profile, params: VaryOptions): Promise<Record<string, number>> {
  const target = targetOf(params);
  const got = await target.run(configOf(params), profile);
  const shown = target.metrics ?? Object.keys(got);
  return Object.fromEntries(shown.filter((m) => m in got).map((m) => [m, got[m]]));
}

/** What {@link varyEach} needs besides the profile. */
export type VaryOptions = Omit<SensitivityParams, "profile" | "onProgress" | "workers"> & {
  /** The metrics with the profile as it is; absent: measured first. */
  baseline?: Record<string, number>;
};

/**
 * The changed values to try, in order, each a valid profile: +step, then
 * -step. An integral value is tried first as whole sectors (a byte size that
 * is a multiple of 512 stays one), then rounded, then as is (a fraction that
 * happens to be 1), then one more (or less) when 10 % rounds back to it.
 * `reasons` says why values were left out.
 */
function* perturbations(
  profile: Profile,
  options: { path: string; value: number; step: number; reasons: string[] },
): Generator<{ profile: Profile; changed: number }> {
  const { path, value, step, reasons } = options;
  for (const sign of [1, -1]) {
    const raw = value * (1 + sign * step);
    const candidates = Number.isInteger(value)
      ? [
        ...(value % 512 === 0 ? [Math.round(raw / 512) * 512] : []),
        Math.round(raw),
        raw,
        value + sign,
      ]
      : [raw];
    for (const changed of new Set(candidates)) {
      if (changed === value || changed === 0) continue;
      try {
        yield {
          profile: applyOverrides(profile, { [path]: changed }, { origin: "sensitivity" }),
          changed,
        };
      } catch (e) {
        if (!(e instanceof ProfileError)) throw e;
        reasons.push(`${changed}: ${e.issues[0]}`);
      }
    }
  }
}

/**
 * Varies each path in turn on one thread, calling `onDone` after each; used by
 * {@link run} (directly or in workers).
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile } from "../lib/scenario/mod.ts";
 * import { varyEach, small } from "./fig_sensitivity.ts";
 * const profile = await loadProfile(BUILTIN_PROFILE);
 * const out = await varyEach(profile, { ...small, paths: ["hdd.rpm"] });
 * console.assert(out.rows.length > 0 && out.rows.every((r) => r.path === "hdd.rpm"));
 * ```
 */
export async function varyEach(
  profile: Profile,
  params: VaryOptions,
  onDone?: (path: string) => void,
): Promise<VaryResult> {
  const base = params.baseline ?? await metrics(profile, params);
  const byPath = new Map(numericParameters(profile).map((p) => [p.path, p]));
  const rows: VaryResult["rows"] = [];
  const skipped: SkippedParameter[] = [];
  for (const path of params.paths ?? []) {
    const p = byPath.get(path);
    if (p === undefined) {
      skipped.push({ path, reason: "not a number in the profile" });
      onDone?.(path);
      continue;
    }
    if (p.value === 0) {
      skipped.push({ path, reason: "0 has no relative change" });
      onDone?.(path);
      continue;
    }
    // The first change that is a valid profile and that the experiment runs with.
    const reasons: string[] = [];
    let v: { changed: number; got: Record<string, number> } | undefined;
    for (const c of perturbations(profile, { path, value: p.value, step: params.step, reasons })) {
      try {
        v = { changed: c.changed, got: await metrics(c.profile, params) };
        break;
      } catch (e) {
        // The first issue only: the rest of a long list adds little here.
        const first = (e as Error).message.split("\n")[0].split("; ")[0];
        reasons.push(`${c.changed}: the run failed: ${first}`);
      }
    }
    if (v === undefined) {
      skipped.push({
        path,
        reason: `no value near ${stepPct(params.step)} % away works: ${
          reasons.slice(0, 2).join("; ")
        }${reasons.length > 2 ? ` (and ${reasons.length - 2} more values refused)` : ""}`,
      });
      onDone?.(path);
      continue;
    }
    const got = v.got;
    const paramPct = ((v.changed - p.value) / p.value) * 100;
    for (const metric of Object.keys(base)) {
      if (!(metric in got)) continue;
      const changePct = ((got[metric] - base[metric]) / base[metric]) * 100;
      rows.push({
        path,
        kind: sourceKind(p.source),
        inherited: p.inherited,
        base: p.value,
        changed: v.changed,
        metric,
        baseValue: base[metric],
        value: got[metric],
        changePct,
        elasticity: changePct / paramPct,
      });
    }
    onDone?.(path);
  }
  return { rows, skipped };
}

/** An issue for each path that names no number of the profile. */
function unknownPaths(profile: Profile, paths: readonly string[]): string[] {
  const known = new Set(numericParameters(profile).map((p) => p.path));
  return paths.filter((p) => !known.has(p)).map((p) =>
    `${p}: not a number in the profile (e.g. hdd.rpm, kvm.virtio.hostWakeup)`
  );
}

const RULES: ParamRules<SensitivityParams> = {
  figure: true,
  config: true,
  step: true,
  paths: { list: "string", noun: "profile paths" },
  workers: true,
  profile: true,
  onProgress: true,
};

/**
 * Runs the figure's experiment (startup, Cassandra, storage or RDMA) with
 * the profile as it is, with two more seeds (the noise), then once per
 * parameter changed.
 * @throws RangeError for an unknown parameter or figure, a config that is
 * no object or (startup) names a method it does not measure, a step outside
 * (0, 1), workers not an integer >= 1, a profile that is not one, or an
 * empty or unknown path list (every one listed)
 * @example
 * ```ts
 * import { run } from "./fig_sensitivity.ts";
 * // NFS root alone, over the startup figure's full configuration, seeds 2, 3, 4.
 * const config = { methods: ["nfsroot"], seed: 2 };
 * const out = await run({ figure: "startup", config, step: 0.1, paths: ["hdd.rpm"] });
 * console.assert(out.noiseSeeds.join() === "2,3,4" && out.rows[0].metric === "nfsroot total (s)");
 * ```
 */
export async function run(params: SensitivityParams = full): Promise<SensitivityOutput> {
  const issues = paramIssues(params, RULES);
  if (!(params.step > 0 && params.step < 1)) {
    issues.push(fieldIssue("step", "a number in (0, 1)", params.step));
  }
  const lanes = numberIssue("workers", params.workers ?? 1, { min: 1, integer: true });
  if (lanes !== undefined) issues.push(lanes);
  issues.push(...scopeIssues(params));
  if (issues.length > 0) throw issuesError(WHAT, issues);
  const target = targetOf(params);
  const config = configOf(params);
  const profile = params.profile ?? await loadProfile(BUILTIN_PROFILE);
  const known = numericParameters(profile);
  const inScope = known.filter((p) => target.sections.includes(p.path.split(".")[0]));
  const paths = params.paths ?? inScope.map((p) => p.path);
  const unknown = unknownPaths(profile, paths);
  if (unknown.length > 0) {
    throw new RangeError(
      issuesMessage("Cannot run sensitivity: unknown or non-numeric profile paths", unknown),
    );
  }
  const baseline = await metrics(profile, params);
  // The same profile with other seeds: how much the metrics move by chance.
  const seed0 = typeof config.seed === "number" ? config.seed : 1;
  const noiseSeeds = Array.from({ length: NOISE_SEEDS }, (_, k) => seed0 + k);
  const others: Record<string, number>[] = [];
  for (const seed of noiseSeeds.slice(1)) {
    others.push(await metrics(profile, { ...params, config: { ...config, seed } }));
  }
  const noisePct = Object.fromEntries(
    Object.entries(baseline).map(([m, v]) => {
      const all = [v, ...others.map((o) => o[m])];
      return [m, v === 0 ? 0 : ((Math.max(...all) - Math.min(...all)) / Math.abs(v)) * 100];
    }),
  );
  const { profile: _p, onProgress, workers = 1, ...rest } = params;
  const plain = { ...rest, config };
  let done = 0;
  const tick = (path: string) => onProgress?.(++done, paths.length, path);
  // Interleaved shares, so slow and fast parameters spread over the workers.
  const n = Math.max(1, Math.min(workers, paths.length));
  const shares = Array.from({ length: n }, (_, w) => paths.filter((_, i) => i % n === w));
  const parts = n === 1
    ? [await varyEach(profile, { ...plain, paths, baseline }, tick)]
    : await Promise.all(shares.map((s) =>
      callInWorker<VaryResult>({
        module: import.meta.url,
        fn: "varyEach",
        args: [profile, { ...plain, paths: s, baseline }],
        onProgress: (path) => tick(path as string),
        what: "sensitivity",
      })
    ));
  const order = (path: string) => paths.indexOf(path);
  // A change shown with two decimals as 0.00 is no dependence either.
  const above = (r: VaryResult["rows"][number]) =>
    Math.abs(r.changePct) > noisePct[r.metric] && Math.abs(r.elasticity) >= 0.005;
  return {
    baseline,
    noisePct,
    noiseSeeds,
    rows: parts.flatMap((p) => p.rows).sort((a, b) => order(a.path) - order(b.path))
      .map((r) => ({ ...r, aboveNoise: above(r) })),
    skipped: parts.flatMap((p) => p.skipped).sort((a, b) => order(a.path) - order(b.path)),
  };
}

/**
 * Parameters ordered by their largest |elasticity| above the seed noise,
 * largest first; those that move no metric beyond it come last, by their
 * largest |elasticity|.
 */
export function ranked(rows: readonly SensitivityRow[]): string[] {
  const score = new Map<string, [number, number]>();
  for (const r of rows) {
    const [above, any] = score.get(r.path) ?? [0, 0];
    const e = Math.abs(r.elasticity);
    score.set(r.path, [r.aboveNoise ? Math.max(above, e) : above, Math.max(any, e)]);
  }
  return [...score.keys()].sort((a, b) => {
    const [sa, sb] = [score.get(a)!, score.get(b)!];
    return sb[0] - sa[0] || sb[1] - sa[1];
  });
}

/**
 * The `top` parameters' elasticities as bar rows (group: parameter, series:
 * metric), for lib/plot's barsFigure.
 * @example
 * ```ts
 * import { elasticityBars } from "./fig_sensitivity.ts";
 * const bars = elasticityBars({ baseline: {}, noisePct: {}, noiseSeeds: [1], skipped: [], rows: [{
 *   path: "hdd.rpm", kind: "sourced", inherited: false, base: 7200, changed: 7920,
 *   metric: "bmcast total (s)", baseValue: 63, value: 62, changePct: -1.6, elasticity: -0.16,
 *   aboveNoise: true }] }, 5);
 * console.assert(bars[0].group === "hdd.rpm" && bars[0].series === "BMcast" && bars[0].value === -0.16);
 * ```
 */
export function elasticityBars(out: SensitivityOutput, top: number): BarRow[] {
  const keep = new Set(ranked(out.rows).slice(0, top));
  return out.rows.filter((r) => keep.has(r.path)).map((r) => ({
    group: r.path,
    series: shortName(r.metric),
    value: Math.round(r.elasticity * 100) / 100, // two decimals: the labels stay legible
    unit: "elasticity",
    source: "sim",
  }));
}

const SHORT: Record<string, string> = {
  "image-copy total (s)": "image copy",
  "bmcast total (s)": "BMcast",
  "nfsroot total (s)": "NFS root",
  "kvm-nfs total (s)": "KVM/NFS",
  "image copy / BMcast (x)": "copy/BMcast",
  [CASSANDRA_METRICS.streaming]: "BMcast streaming %",
  [CASSANDRA_METRICS.lowest]: "BMcast lowest %",
  [CASSANDRA_METRICS.devirt]: "de-virtualized s",
  [CASSANDRA_METRICS.kvm]: "KVM %",
};
/** A metric's column name: a startup total's short name, else the metric without its unit. */
const shortName = (metric: string) => SHORT[metric] ?? metric.replace(/ \([^)]*\)$/, "");

/** A step as a percentage for text: 0.07 -> "7" (not 7.000000000000001). */
const stepPct = (step: number) => String(Number((step * 100).toPrecision(12)));

/**
 * The top `top` parameters as a text table of elasticities; one within the
 * seed noise is in parentheses, and a last line gives each metric's noise as
 * the elasticity it would show at the run's step.
 */
export function formatTable(out: SensitivityOutput, top: number, step: number): string {
  const metrics = Object.keys(out.baseline);
  const head = ["parameter", "source", ...metrics.map(shortName)];
  const signed = (e: number) => `${e >= 0 ? "+" : "-"}${Math.abs(e).toFixed(2)}`;
  const lines = ranked(out.rows).slice(0, top).map((path) => {
    const rs = out.rows.filter((r) => r.path === path);
    return [
      path,
      // A field without a source of its own is labelled by its object's.
      rs[0].inherited ? `${rs[0].kind} (object)` : rs[0].kind,
      ...metrics.map((m) => {
        const r = rs.find((r) => r.metric === m);
        if (r === undefined) return "";
        return r.aboveNoise ? ` ${signed(r.elasticity)} ` : `(${signed(r.elasticity)})`;
      }),
    ];
  });
  const noise = [
    `seed noise (${out.noiseSeeds.length} seeds)`,
    "",
    ...metrics.map((m) => ` \u00b1${(out.noisePct[m] / (step * 100)).toFixed(2)} `),
  ];
  return textTable(head, [...lines, noise], head.map((_, c) => c >= 2));
}

const USAGE =
  `usage: deno task sensitivity [--figure F] [--small] [--step X] [--top N] [--path P ...] [--out DIR]
  Changes each number of the profile by X (default 0.1, i.e. +10 %) one at a time, reruns
  a figure's experiment (--figure ${
    Object.keys(TARGETS).join(" | ")
  }, default startup), and prints the N
  parameters (default 15) its results depend on most, as elasticities: % change of each
  metric per % change of the parameter. Writes sensitivity.csv and sensitivity.json to DIR
  (default out/); the same flags write the same bytes (the wall time is only printed).
  --path limits the run to the given profile paths (repeatable, each once); --small
  runs the figure's quick configuration on three parameters. Exit status: 0 done, 1 the
  run failed or the outputs could not be written after the run (the previous ones are
  left as they were), 2 bad usage, also an --out found unusable before the run (nothing
  runs or is written).`;

if (import.meta.main) {
  const issues: string[] = [];
  const flags = parseFlags({
    command: "sensitivity",
    issues,
    usage: USAGE,
    args: Deno.args,
    options: {
      figure: { type: "string", default: "startup" },
      small: { type: "boolean", default: false },
      step: { type: "string" },
      top: { type: "string" },
      path: { type: "string", multiple: true },
      out: { type: "string", default: "out" },
    },
  });
  if (typeof flags === "number") Deno.exit(flags);
  const step = flags.step === undefined ? 0.1 : decimalNumber(flags.step) ?? NaN;
  if (!(step > 0 && step < 1)) {
    issues.push(
      `--step: ${decimalRule("must be a number in (0, 1)", flags.step)}: current value is ${
        JSON.stringify(flags.step)
      }`,
    );
  }
  const top = intFlag("top", flags.top, { min: 1, fallback: 15 }, issues);
  const figure = flags.figure as FigureName;
  issues.push(...scopeIssues({ figure }).map((i) => `--${i.field}: ${i.message}`));
  const profile = await loadProfile(BUILTIN_PROFILE);
  issues.push(...unknownPaths(profile, flags.path ?? []).map((i) => `--path: ${i}`));
  // A path given twice would be varied twice (run refuses it): named here, with the rest.
  const paths = flags.path ?? [];
  const repeated = [...new Set(paths.filter((p, i) => paths.indexOf(p) !== i))];
  if (repeated.length > 0) {
    issues.push(
      `--path: must not name a path twice (${repeated.join(", ")}): current value is ${
        JSON.stringify(paths)
      }`,
    );
  }
  const outIssue = outDirIssue("out", flags.out);
  if (outIssue !== undefined) issues.push(outIssue);
  if (issues.length > 0) {
    console.error(`${issuesMessage("sensitivity: invalid input", issues)}\n${USAGE}`);
    Deno.exit(2);
  }
  const target = TARGETS[figure];
  const progress = progressLine("sensitivity");
  const t0 = performance.now();
  let out: SensitivityOutput;
  try {
    out = await run({
      figure,
      config: flags.small ? target.small : target.full,
      step,
      paths: flags.path ?? (flags.small ? target.smallPaths : undefined),
      profile,
      workers: Math.max(1, Math.min(2, navigator.hardwareConcurrency)),
      onProgress: progress.update,
    });
  } catch (e) {
    progress.clear();
    console.error(`sensitivity: the run failed: ${(e as Error).message}`);
    Deno.exit(1);
  }
  progress.clear();
  const wall = (performance.now() - t0) / 1000;
  console.log(formatTable(out, top, step));
  const varied = new Set(out.rows.map((r) => r.path)).size;
  const moving = new Set(out.rows.filter((r) => r.aboveNoise).map((r) => r.path)).size;
  console.log(
    `\n${figure}: elasticity, % change of the metric per % change of the parameter (+${
      stepPct(step)
    } %; ` +
      `where that is not valid, -${stepPct(step)} % or +-1 for a small integer); ` +
      `in parentheses: within the seed noise (what seeds ${out.noiseSeeds.join(", ")} alone move ` +
      `the metric). ${varied} parameters varied, ${moving} move a metric beyond the noise, ` +
      `${out.skipped.length} skipped; wall time ${wall.toFixed(1)} s`,
  );
  for (const s of out.skipped) console.log(`skipped ${s.path}: ${s.reason}`);
  const failure = writeOutputs({
    command: "sensitivity",
    out: flags.out,
    files: {
      "sensitivity.csv": csv(out.rows),
      // No wall time (printed above): the same seed writes the same bytes.
      "sensitivity.json": JSON.stringify({ figure, step, ...out }, null, 2),
    },
  });
  if (failure !== undefined) {
    console.error(failure);
    Deno.exit(1);
  }
}
