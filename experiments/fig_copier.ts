/**
 * Beyond the paper: how aggressive should BMcast's background copy be? The
 * copier trades the guest's speed while the image streams against how soon
 * the deployment ends (copy complete, VMM de-virtualized). For each copy
 * policy (lib/vmm: `idle` threshold, `adaptive` back-off, `rate` cap) and
 * pipeline depth, BMcast runs the Cassandra workload of Fig. "Cassandra
 * throughput" from the moment its OS is up, against one bare-metal run of
 * the same request stream. Reported per policy: OS up (VMM boot + OS boot),
 * de-virtualized at (s after the workload starts), mean and lowest % of bare
 * metal over the windows before the copy completed, and the work lost over
 * the whole run in seconds of bare-metal throughput. A policy is Pareto
 * optimal when no other both de-virtualizes sooner and keeps more
 * throughput meanwhile. Everything comes from the mechanism: the copier's
 * commands queue with the guest's at the disk, its fetches with the guest's
 * redirected reads at the image server.
 *
 * Runnable alone: `deno task copier [--small] [--seed S] [--profile PATH]
 * [--set P=V ...] [--policy SPEC ...] [--out DIR]`.
 */
import {
  callInWorker,
  csv,
  decimalNumber,
  decimalRule,
  didYouMean,
  intFlag,
  issuesMessage,
  MAX_SEED,
  numberIssue,
  outDirIssue,
  parseFlags,
  progressLine,
  runPool,
  seedRangeIssue,
  showValue,
  textTable,
  valuesOfText,
  writeOutputs,
} from "../lib/_util/mod.ts";
import {
  copyPipelineIssue,
  type CopyPolicyConfig,
  CopyPolicySchema,
  type Profile,
  rateBurstIssue,
  readProfileInput,
  values,
} from "../lib/scenario/mod.ts";
import { type PointRow, scatterFigure, toSvg } from "../lib/plot/mod.ts";
import {
  againstBareMetal,
  type CassandraParams,
  imageReads,
  runSystem,
  type SystemRun,
} from "./fig_cassandra.ts";
import { imageIssue, paramIssues, type ParamRules, runProfile, SEED_RULE } from "./_params.ts";

/** One copier configuration: a policy and the chunks fetched ahead. */
export interface CopierCase {
  /** The policy (lib/vmm's copy policy configuration). */
  policy: CopyPolicyConfig;
  /** Chunks the copier fetches ahead (the profile's `vmm.pipeline`). */
  pipeline: number;
  /**
   * What the copier copies first (beyond the paper): `"disk"`, nothing, the
   * image in disk order as the paper; `"learned"`, what the guest's
   * redirected reads fetched in an earlier deployment of the image with the
   * same copier (run with the next seed: the same workload, another request
   * stream), in that order, then the rest in disk order. @default "disk"
   */
  order?: CopyOrder;
}

/** What a copier copies first (see {@link CopierCase.order}). */
export type CopyOrder = "disk" | "learned";
const ORDERS: readonly CopyOrder[] = ["disk", "learned"];

/** Parameters of the copier study. */
export interface CopierParams {
  /** The copiers compared, in table order. */
  cases: CopierCase[];
  /** Length of each Cassandra run from the start of the workload, s. */
  durationS: number;
  /** Throughput sample window, s. */
  sampleEveryS: number;
  /** First seed. */
  seed: number;
  /**
   * Seeds run (seed, seed+1, ...): each policy and the bare-metal reference
   * once per seed; rows give the means and the spread. @default 1
   */
  seeds?: number;
  /**
   * Image size override, bytes (the profile's 32 GB when absent): as
   * `CassandraParams.imageBytes`, it must hold what the Cassandra run reads
   * from the image.
   */
  imageBytes?: number;
  /** The hardware profile. @default the built-in profile */
  profile?: Profile;
  /** Runs at once, each in its own worker (1: in this thread). @default 1 */
  workers?: number;
  /** Called after each run (each bare-metal reference counts as one). */
  onProgress?: (done: number, total: number, label: string) => void;
}

const MIB = 1 << 20;

/**
 * The policies compared by default: the idle threshold from eager to shy
 * (2 ms is the profile's, calibrated to Fig. startup), the adaptive back-off
 * up to 50 ms, 200 ms (one chunk ahead, which is Fig. Cassandra's copier;
 * three; and three, redirect-aware, beyond the paper) and 1 s, and two rate
 * caps.
 */
export const CASES: readonly CopierCase[] = [
  { policy: { kind: "idle", idleThreshold: 500_000 }, pipeline: 3 },
  { policy: { kind: "idle", idleThreshold: 2_000_000 }, pipeline: 3 },
  { policy: { kind: "idle", idleThreshold: 10_000_000 }, pipeline: 3 },
  { policy: { kind: "idle", idleThreshold: 50_000_000 }, pipeline: 3 },
  { policy: { kind: "adaptive", minIdle: 2_000_000, maxIdle: 50_000_000, step: 1e6 }, pipeline: 1 },
  {
    policy: { kind: "adaptive", minIdle: 2_000_000, maxIdle: 200_000_000, step: 1e6 },
    pipeline: 1,
  },
  {
    policy: { kind: "adaptive", minIdle: 2_000_000, maxIdle: 200_000_000, step: 1e6 },
    pipeline: 3,
  },
  {
    policy: {
      kind: "adaptive",
      minIdle: 2_000_000,
      maxIdle: 200_000_000,
      step: 1e6,
      redirectAware: true,
    },
    pipeline: 3,
  },
  { policy: { kind: "adaptive", minIdle: 2_000_000, maxIdle: 1e9, step: 1e6 }, pipeline: 1 },
  { policy: { kind: "rate", bytesPerSecond: 30e6, burstBytes: 8 * MIB }, pipeline: 1 },
  { policy: { kind: "rate", bytesPerSecond: 60e6, burstBytes: 8 * MIB }, pipeline: 1 },
  { policy: { kind: "idle", idleThreshold: 2_000_000 }, pipeline: 3, order: "learned" },
  {
    policy: { kind: "adaptive", minIdle: 2_000_000, maxIdle: 200_000_000, step: 1e6 },
    pipeline: 1,
    order: "learned",
  },
];

/** The paper's Cassandra run (32 GB image, 1250 s in 25 s windows) for every default policy. */
export const full: CopierParams = { cases: [...CASES], durationS: 1250, sampleEveryS: 25, seed: 1 };

/**
 * Quick: Fig. Cassandra's small run (7 GB image, 320 s) for three policies,
 * one per kind: the profile's idle threshold, the redirect-aware back-off,
 * a 30 MB/s cap.
 */
export const small: CopierParams = {
  cases: [CASES[1], CASES[7], CASES[9]],
  durationS: 320,
  sampleEveryS: 10,
  seed: 1,
  imageBytes: 7e9,
};

/** What one policy gave (over several seeds: the mean, with the range of the two headline numbers). */
export interface CopierRow {
  /** The case's name (see label()). */
  policy: string;
  /** The policy kind. */
  kind: CopyPolicyConfig["kind"];
  /** Chunks fetched ahead. */
  pipeline: number;
  /** What the copier copied first. */
  order: CopyOrder;
  /** VMM boot + OS boot, s from the end of POST. */
  osUpS: number;
  /** De-virtualization done, s from the workload start (NaN: not within the run). */
  devirtS: number;
  /** Lowest devirtS over the seeds. */
  devirtMinS: number;
  /** Highest devirtS over the seeds. */
  devirtMaxS: number;
  /** Mean % of bare metal over the windows that end before the copy completed. */
  streamingPct: number;
  /** Lowest streamingPct over the seeds. */
  streamingMinPct: number;
  /** Highest streamingPct over the seeds. */
  streamingMaxPct: number;
  /** Lowest % of bare metal of those windows. */
  lowestPct: number;
  /** Operations BMcast completed fewer than bare metal over the run, in s of bare-metal throughput. */
  lostS: number;
  /** Reads of absent blocks served from the image server, MB. */
  redirectedMB: number;
  /** No other policy de-virtualizes sooner and keeps more throughput meanwhile. */
  pareto: boolean;
}

/** Result of the study. */
export interface CopierOutput {
  /** One row per case, in the order given. */
  rows: CopierRow[];
  /** The seeds run. */
  seeds: number[];
  /** The bare-metal reference: mean operations per second (over the seeds). */
  bareMetalOpsPerS: number;
  /** The trade-off as points (policies that de-virtualized within the run). */
  points: PointRow[];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (ns: number) => String(Number((ns / 1e6).toFixed(3)));

/** A field's value in a name when it differs from the default cases' (the recheck: the schema's). */
const unless = (v: number | undefined, usual: number, text: (v: number) => string) =>
  v === undefined || v === usual ? "" : ` ${text(v)}`;

/** Each policy kind's name: its main numbers, then any other field that is not the usual one. */
const NAME: {
  [K in CopyPolicyConfig["kind"]]: (p: Extract<CopyPolicyConfig, { kind: K }>) => string;
} = {
  idle: (p) =>
    `idle ${ms(p.idleThreshold)} ms` + unless(p.recheck, 1e6, (v) => `recheck ${ms(v)} ms`),
  adaptive: (p) =>
    `adaptive ${ms(p.minIdle)}-${ms(p.maxIdle)} ms` +
    unless(p.step, 1e6, (v) => `step ${ms(v)} ms`) +
    unless(p.recheck, 1e6, (v) => `recheck ${ms(v)} ms`) +
    (p.redirectAware === true ? " redirect-aware" : ""),
  rate: (p) =>
    `rate ${Number((p.bytesPerSecond / 1e6).toFixed(3))} MB/s` +
    unless(p.burstBytes, 8 * MIB, (v) => `burst ${Number((v / MIB).toFixed(3))} MiB`),
};

/**
 * A short name of a case, e.g. "idle 2 ms, 3 ahead"; fields other than the
 * main ones appear when they differ from the default cases'.
 * @example
 * ```ts
 * import { label } from "./fig_copier.ts";
 * console.assert(label({ policy: { kind: "rate", bytesPerSecond: 3e7, burstBytes: 8 << 20 }, pipeline: 1 })
 *   === "rate 30 MB/s, 1 ahead");
 * console.assert(label({ policy: { kind: "adaptive", minIdle: 2e6, maxIdle: 5e7, step: 5e5 }, pipeline: 3 })
 *   === "adaptive 2-50 ms step 0.5 ms, 3 ahead");
 * ```
 */
export function label(c: CopierCase): string {
  const name = (NAME[c.policy.kind] as (p: CopyPolicyConfig) => string)(c.policy);
  return `${name}, ${c.pipeline} ahead${c.order === "learned" ? ", learned order" : ""}`;
}

/** The seed of the earlier deployment a learned order comes from: the next one (the previous for the last). */
const learnSeed = (seed: number) => (seed < MAX_SEED ? seed + 1 : seed - 1);

/**
 * One BMcast run of the copier study with `profile`'s copier; for a learned
 * `order`, after a run with the next seed whose redirected reads give it.
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile } from "../lib/scenario/mod.ts";
 * import { runCopierCase } from "./fig_copier.ts";
 * const p = { durationS: 2, sampleEveryS: 1, seed: 1, imageBytes: 7e9 };
 * const r = runCopierCase(await loadProfile(BUILTIN_PROFILE), { params: p, order: "learned" });
 * console.assert(r.system === "bmcast" && r.windowOps.length === 2);
 * ```
 */
export function runCopierCase(
  profile: Profile,
  at: { params: CassandraParams; order?: CopyOrder },
): SystemRun {
  const { params } = at;
  if ((at.order ?? "disk") === "disk") return runSystem(profile, "bmcast", params);
  const earlier = runSystem(profile, "bmcast", { ...params, seed: learnSeed(params.seed) });
  return runSystem(profile, "bmcast", { ...params, copyOrder: earlier.redirectedRuns });
}

/** The profile with the case's copier in place of its own. */
function withCopier(profile: Profile, c: CopierCase): Profile {
  const source = `copier study: ${label(c)}`;
  return {
    ...profile,
    vmm: {
      ...profile.vmm,
      copyPolicy: { value: c.policy, source },
      pipeline: { value: c.pipeline, source },
    },
  };
}

/**
 * Every issue of the cases, each naming the case (`names[i]`, else
 * `cases[i]`) and the field: an invalid policy or pipeline, a rate policy
 * whose bucket cannot hold one of the profile's copy chunks (it would never
 * copy), two cases with the same name.
 * @example
 * ```ts
 * import { caseIssues } from "./fig_copier.ts";
 * import { BUILTIN_PROFILE, loadProfile } from "../lib/scenario/mod.ts";
 * const profile = await loadProfile(BUILTIN_PROFILE);
 * const bad = { policy: { kind: "rate" as const, bytesPerSecond: 1e6, burstBytes: 1e6 }, pipeline: 1 };
 * console.assert(caseIssues([bad], { profile })[0].startsWith("cases[0].policy.burstBytes: must be >= "));
 * ```
 */
export function caseIssues(
  cases: readonly CopierCase[],
  options: { profile?: Profile; names?: readonly string[] } = {},
): string[] {
  const issues: string[] = [];
  const vmm = options.profile === undefined ? undefined : values(options.profile.vmm);
  cases.forEach((c, i) => {
    const name = options.names?.[i] ?? `cases[${i}]`;
    // A case given by name (a --policy spec) names its fields plainly.
    const field = (f: string) =>
      options.names?.[i] === undefined ? `${name}.${f}` : `${name}: ${f.replace(/^policy\./, "")}`;
    const r = CopyPolicySchema.safeParse(c.policy);
    for (const e of r.error?.issues ?? []) {
      issues.push(`${field(`policy.${e.path.join(".") || "kind"}`)}: ${e.message}`);
    }
    const p = r.success ? r.data : undefined;
    const burst = p?.kind === "rate" && vmm !== undefined
      ? rateBurstIssue("burstBytes", p.burstBytes, vmm)
      : undefined;
    if (burst !== undefined) issues.push(`${field("policy.burstBytes")}: ${burst.message}`);
    if (c.order !== undefined && !ORDERS.includes(c.order)) {
      issues.push(
        `${field("order")}: must be one of ${ORDERS.join(", ")}: current value is ${
          showValue(c.order)
        }`,
      );
    }
    const whole = Number.isInteger(c.pipeline) && c.pipeline >= 1;
    // The profile's own rule (lib/deploy profile: vmm), which a case's pipeline replaces.
    const deep = whole && vmm !== undefined
      ? copyPipelineIssue("pipeline", c.pipeline, vmm)
      : undefined;
    if (!whole) {
      issues.push(`${field("pipeline")}: must be an integer >= 1: current value is ${c.pipeline}`);
    } else if (deep !== undefined) {
      issues.push(`${field("pipeline")}: ${deep.message}`);
    } else if (r.success) {
      // Rows and points are named by the label: two cases must not share one.
      const j = cases.findIndex((o) =>
        CopyPolicySchema.safeParse(o.policy).success && label(o) === label(c)
      );
      if (j < i) {
        issues.push(
          `${name}: the same copier as ${options.names?.[j] ?? `cases[${j}]`} (${label(c)})`,
        );
      }
    }
  });
  return issues;
}

/** Pareto-optimal flags: lower devirtS and higher streamingPct are better. */
function paretoFront(rows: readonly Omit<CopierRow, "pareto">[]): boolean[] {
  const ok = (r: Omit<CopierRow, "pareto">) =>
    Number.isFinite(r.devirtS) && Number.isFinite(r.streamingPct);
  return rows.map((r) =>
    ok(r) &&
    !rows.some((o) =>
      o !== r && ok(o) && o.devirtS <= r.devirtS && o.streamingPct >= r.streamingPct &&
      (o.devirtS < r.devirtS || o.streamingPct > r.streamingPct)
    )
  );
}

const RULES: ParamRules<CopierParams> = {
  cases: { list: "object", noun: "copier cases", required: true },
  durationS: { required: true, number: { min: 0, strict: true } },
  sampleEveryS: { required: true, number: { min: 0, strict: true } },
  seed: SEED_RULE,
  seeds: true,
  imageBytes: true,
  profile: true,
  workers: true,
  onProgress: true,
};

/**
 * Runs the bare-metal reference and one BMcast Cassandra run per case.
 * @throws RangeError listing every unknown parameter, bad case, bad
 * duration/window, or an image that does not hold what the run reads
 * @example
 * ```ts
 * import { run, small } from "./fig_copier.ts";
 * const out = await run({ ...small, cases: small.cases.slice(0, 1), durationS: 4, sampleEveryS: 2 });
 * console.assert(out.rows.length === 1 && out.rows[0].policy === "idle 2 ms, 3 ahead");
 * ```
 */
export async function run(params: CopierParams = full): Promise<CopierOutput> {
  // Every issue at once: the parameters', then the cases' (when they are objects).
  const issues = paramIssues(params, RULES).map((i) => `${i.field}: ${i.message}`);
  const given = await runProfile(params);
  const cases = Array.isArray(params?.cases) ? params.cases : [];
  if (cases.every((c) => typeof c === "object" && c !== null)) {
    issues.push(...caseIssues(cases, { profile: given }));
  }
  const lanes = numberIssue("workers", params.workers ?? 1, { min: 1, integer: true });
  if (lanes !== undefined) issues.push(`workers: ${lanes.message}`);
  const n = params.seeds ?? 1;
  if (!(Number.isInteger(n) && n >= 1 && n <= 20)) {
    issues.push(`seeds: must be an integer in [1, 20]: current value is ${n}`);
  } else {
    const range = seedRangeIssue("seeds", params.seed, n);
    if (range !== undefined) issues.push(range);
  }
  if (issues.length > 0 || given === undefined) {
    throw new RangeError(issuesMessage("Cannot run the copier study", issues));
  }
  const profile = given;
  {
    const bytes = params.imageBytes ?? profile.image.bytes.value;
    const field = params.imageBytes === undefined ? "profile image.bytes" : "imageBytes";
    const image = imageIssue(profile, { field, value: bytes }, imageReads(profile, params));
    if (image !== undefined) issues.push(`${image.field}: ${image.message}`);
  }
  if (issues.length > 0) {
    throw new RangeError(issuesMessage("Cannot run the copier study", issues));
  }
  const seeds = Array.from({ length: n }, (_, k) => params.seed + k);
  const cassandra = (seed: number): CassandraParams => ({
    durationS: params.durationS,
    sampleEveryS: params.sampleEveryS,
    seed,
    imageBytes: params.imageBytes,
  });
  const jobs = params.cases.flatMap((c, i) => seeds.map((seed, k) => ({ c, i, k, seed })));
  const total = jobs.length + seeds.length;
  let done = 0;
  const tick = (what: string) => params.onProgress?.(++done, total, what);
  const workers = Math.max(1, Math.min(params.workers ?? 1, jobs.length));
  const runCase = (c: CopierCase, seed: number): Promise<SystemRun> => {
    const args = [withCopier(profile, c), { params: cassandra(seed), order: c.order }] as const;
    return workers === 1 ? Promise.resolve(runCopierCase(...args)) : callInWorker<SystemRun>({
      module: import.meta.url,
      fn: "runCopierCase",
      args: [...args],
      what: `copier: the ${label(c)} run (seed ${seed})`,
    });
  };
  // A pool of `workers` runs; the bare-metal references run here meanwhile.
  const pool = runPool(jobs, workers, async ({ c, seed }) => {
    const r = await runCase(c, seed);
    tick(seeds.length === 1 ? label(c) : `${label(c)}, seed ${seed}`);
    return r;
  });
  const bms = seeds.map((seed) => {
    const bm = runSystem(profile, "bare-metal", cassandra(seed));
    tick(seeds.length === 1 ? "bare metal" : `bare metal, seed ${seed}`);
    return bm;
  });
  const runs: SystemRun[][] = params.cases.map(() => []);
  (await pool).forEach((r, j) => (runs[jobs[j].i][jobs[j].k] = r));
  const dt = params.sampleEveryS;
  // One run against the bare-metal run of its seed.
  const measure = (r: SystemRun, bm: SystemRun) => {
    const a = againstBareMetal(r, bm, dt);
    const lost = bm.windowOps.reduce((s, ops, w) => s + ops - r.windowOps[w], 0);
    return {
      osUpS: r.startupS,
      devirtS: r.devirtS,
      streamingPct: a.streamingPct,
      lowestPct: a.streamingMinPct,
      lostS: lost / bm.opsPerS,
      redirectedMB: (r.redirectedSectors * 512) / 1e6,
    };
  };
  const rows = params.cases.map((c, i) => {
    const per = runs[i].map((r, k) => measure(r, bms[k]));
    const avg = (k: keyof typeof per[number]) => mean(per.map((m) => m[k]));
    const devirts = per.map((m) => m.devirtS), streams = per.map((m) => m.streamingPct);
    return {
      policy: label(c),
      kind: c.policy.kind,
      pipeline: c.pipeline,
      order: c.order ?? "disk",
      osUpS: avg("osUpS"),
      devirtS: avg("devirtS"),
      devirtMinS: Math.min(...devirts),
      devirtMaxS: Math.max(...devirts),
      streamingPct: avg("streamingPct"),
      streamingMinPct: Math.min(...streams),
      streamingMaxPct: Math.max(...streams),
      lowestPct: avg("lowestPct"),
      lostS: avg("lostS"),
      redirectedMB: avg("redirectedMB"),
    };
  });
  const front = paretoFront(rows);
  const out = rows.map((r, i) => ({ ...r, pareto: front[i] }));
  return {
    rows: out,
    seeds,
    bareMetalOpsPerS: mean(bms.map((b) => b.opsPerS)),
    points: out.filter((r) => Number.isFinite(r.devirtS) && Number.isFinite(r.streamingPct))
      .map((r) => ({ label: r.policy, group: r.kind, x: r.devirtS, y: r.streamingPct })),
  };
}

/**
 * The study's figure: de-virtualized at (x) against % of bare metal while streaming (y).
 * @example
 * ```ts
 * import { figure } from "./fig_copier.ts";
 * import { toSvg } from "../lib/plot/mod.ts";
 * const svg = toSvg(figure({ rows: [], seeds: [1], bareMetalOpsPerS: 1000, points: [
 *   { label: "idle 2 ms, 3 ahead", group: "idle", x: 398, y: 75 },
 * ] }));
 * console.assert(svg.includes("idle 2 ms, 3 ahead") && svg.includes("de-virtualized at"));
 * ```
 */
export function figure(out: CopierOutput, title?: string): ReturnType<typeof scatterFigure> {
  return scatterFigure(out.points, {
    title,
    xLabel: "de-virtualized at (s after the workload starts) \u2192",
    yLabel: "Cassandra while streaming (mean % of bare metal)",
  });
}

/**
 * The rows as an aligned text table; over several seeds the de-virtualization
 * time and the streaming throughput show their range.
 * @example
 * ```ts
 * import { formatTable } from "./fig_copier.ts";
 * const row = { policy: "rate 30 MB/s, 1 ahead", kind: "rate" as const, pipeline: 1, order: "disk" as const, osUpS: 43.4,
 *   devirtS: 1025, devirtMinS: 1020, devirtMaxS: 1030, streamingPct: 91.6, streamingMinPct: 91,
 *   streamingMaxPct: 92, lowestPct: 66, lostS: 82, redirectedMB: 136, pareto: false };
 * const text = formatTable({ rows: [row], seeds: [1, 2], bareMetalOpsPerS: 1089, points: [] });
 * console.assert(text.includes("1025.0 (1020.0-1030.0)"));
 * ```
 */
export function formatTable(out: CopierOutput): string {
  const n = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : "-");
  // Over several seeds: the mean and the range.
  const spread = (v: number, lo: number, hi: number) =>
    out.seeds.length === 1 ? n(v) : `${n(v)} (${n(lo)}-${n(hi)})`;
  return textTable(
    [
      "policy",
      "OS up s",
      "de-virtualized s",
      "streaming %",
      "lowest %",
      "lost s",
      "redirected MB",
      "Pareto",
    ],
    out.rows.map((r) => [
      r.policy,
      n(r.osUpS),
      spread(r.devirtS, r.devirtMinS, r.devirtMaxS),
      spread(r.streamingPct, r.streamingMinPct, r.streamingMaxPct),
      n(r.lowestPct),
      n(r.lostS),
      n(r.redirectedMB, 0),
      r.pareto ? "yes" : "",
    ]),
    [false, true, true, true, true, true, true, false],
  );
}

/**
 * A case from `KIND:key=value,...`, e.g. `idle:idleThreshold=5e6,pipeline=3`
 * (`pipeline` defaults to 1); issues name the spec and the field.
 * @example
 * ```ts
 * import { parsePolicySpec } from "./fig_copier.ts";
 * const ok = parsePolicySpec("rate:bytesPerSecond=4e7,burstBytes=8388608");
 * console.assert(ok.case?.policy.kind === "rate" && ok.case.pipeline === 1);
 * const bad = parsePolicySpec("idle:idleTreshold=5e6");
 * console.assert(bad.issues[0].includes("idleTreshold: not a field of the idle policy"));
 * const twice = parsePolicySpec("idle:idleThreshold=5e6,idleThreshold=6e6");
 * console.assert(twice.issues[0].endsWith("idleThreshold: given more than once"));
 * ```
 */
export function parsePolicySpec(spec: string): { case?: CopierCase; issues: string[] } {
  const kinds = CopyPolicySchema.options.map((o) => o.shape.kind.value as string);
  const at = (msg: string) => `--policy ${JSON.stringify(spec)}: ${msg}`;
  const colon = spec.indexOf(":");
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const option = CopyPolicySchema.options.find((o) => o.shape.kind.value === kind);
  if (option === undefined) {
    return {
      issues: [
        at(
          `the kind must be one of ${kinds.join(", ")}${
            didYouMean(kind, kinds)
          }: current value is "${kind}"`,
        ),
      ],
    };
  }
  const fields = Object.keys(option.shape).filter((k) => k !== "kind");
  const issues: string[] = [];
  const policy: Record<string, unknown> = { kind };
  let pipeline = 1;
  let order: CopyOrder | undefined;
  const rest = colon < 0 ? "" : spec.slice(colon + 1);
  // An empty item or a key given twice is a slip, not something to skip or let the last win.
  const times = new Map<string, number>();
  for (const [i, pair] of (rest === "" ? [] : rest.split(",")).entries()) {
    if (pair === "") {
      issues.push(at(`item ${i + 1} is empty (items are key=value, separated by ",")`));
      continue;
    }
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === "") {
      issues.push(at(`item ${i + 1} has no key (items are key=value, separated by ",")`));
      continue;
    }
    const raw = eq < 0 ? "" : pair.slice(eq + 1);
    times.set(key, (times.get(key) ?? 0) + 1);
    if (times.get(key) === 2) issues.push(at(`${key}: given more than once`));
    if (times.get(key)! > 1) continue;
    const value = decimalNumber(raw) ?? NaN;
    // A boolean field (redirectAware) takes true or false.
    const flag = raw === "true" ? true : raw === "false" ? false : undefined;
    if (key === "pipeline") {
      if (Number.isInteger(value) && value >= 1) pipeline = value;
      else {
        issues.push(
          at(`pipeline: ${decimalRule("must be an integer >= 1", raw)}: current value is "${raw}"`),
        );
      }
    } else if (key === "order") {
      if (ORDERS.includes(raw as CopyOrder)) order = raw as CopyOrder;
      else {
        issues.push(at(`order: must be one of ${ORDERS.join(", ")}: current value is "${raw}"`));
      }
    } else if (!fields.includes(key)) {
      const all = [...fields, "pipeline", "order"];
      issues.push(
        at(
          `${key}: not a field of the ${kind} policy${didYouMean(key, all)} (fields: ${
            all.join(", ")
          })`,
        ),
      );
    } else if (option.shape[key as keyof typeof option.shape].safeParse(true).success) {
      if (flag === undefined) {
        issues.push(at(`${key}: must be true or false: current value is "${raw}"`));
      } else policy[key] = flag;
    } else if (Number.isNaN(value)) {
      issues.push(at(`${key}: ${decimalRule("must be a number", raw)}: current value is "${raw}"`));
    } else policy[key] = value;
  }
  const r = CopyPolicySchema.safeParse(policy);
  for (const e of r.error?.issues ?? []) {
    if (!issues.some((i) => i.includes(`: ${String(e.path[0])}:`))) {
      issues.push(at(`${e.path.join(".")}: ${e.message}`));
    }
  }
  if (issues.length > 0) return { issues };
  const c: CopierCase = { policy: policy as CopyPolicyConfig, pipeline };
  return { case: order === undefined ? c : { ...c, order }, issues };
}

const USAGE =
  `usage: deno task copier [--small] [--seed S] [--seeds N] [--profile PATH] [--set P=V ...] [--policy SPEC ...] [--out DIR]
  Runs BMcast under the Cassandra workload once per background-copy policy and prints, per
  policy, when the OS was up, when the VMM de-virtualized, the throughput while the image
  streamed (% of bare metal: mean and lowest window), the work lost (s of bare-metal
  throughput) and whether it is Pareto optimal. Writes copier.csv, copier.json and copier.svg
  to DIR (default out/). --policy KIND:key=value,... replaces the default policies
  (repeatable), e.g. idle:idleThreshold=5e6,pipeline=3 or
  rate:bytesPerSecond=4e7,burstBytes=8388608 or adaptive:minIdle=2e6,maxIdle=2e8,step=1e6
  (times in ns, rates in bytes/s; pipeline: chunks fetched ahead, default 1; adaptive's
  redirectAware=true also backs off when a redirected read met a fetch; order=learned copies
  first what an earlier deployment (the next seed) read from the image server, each such case
  running twice). --seeds N runs
  every policy with seeds S..S+N-1 (1-20, default 1) and shows means with their range: BMcast's
  race with its copier makes single runs move a few %. --small runs the quick configuration
  (7 GB image, 320 s). The same flags write the same bytes (the wall time is only printed).
  Exit status: 0 done, 1 the simulation failed or the outputs could not be written after
  the run (the previous ones are left as they were), 2 bad usage, also an --out found
  unusable before the run (nothing runs or is written).`;

if (import.meta.main) {
  const issues: string[] = [];
  const flags = parseFlags({
    command: "copier",
    issues,
    usage: USAGE,
    args: Deno.args,
    options: {
      small: { type: "boolean", default: false },
      seed: { type: "string" },
      seeds: { type: "string" },
      profile: { type: "string" },
      set: { type: "string", multiple: true },
      policy: { type: "string", multiple: true },
      out: { type: "string", default: "out" },
    },
  });
  if (typeof flags === "number") Deno.exit(flags);
  const seed = intFlag("seed", flags.seed, { min: 0, max: MAX_SEED, fallback: 1 }, issues);
  const seeds = intFlag("seeds", flags.seeds, { min: 1, max: 20, fallback: 1 }, issues);
  const range = seedRangeIssue("--seeds", seed, seeds);
  if (range !== undefined) issues.push(range);
  const specs = (flags.policy ?? []).map(parsePolicySpec);
  issues.push(...specs.flatMap((s) => s.issues));
  const input = await readProfileInput({ path: flags.profile, set: flags.set });
  issues.push(...input.issues);
  const outIssue = outDirIssue("out", flags.out);
  if (outIssue !== undefined) issues.push(outIssue);
  const base = flags.small ? small : full;
  const given = specs.every((s) => s.case !== undefined) ? specs.map((s) => s.case!) : [];
  const cases = specs.length > 0 ? given : base.cases;
  if (input.profile !== undefined && given.length === specs.length) {
    const names = specs.length > 0 ? flags.policy!.map((p) => `--policy ${JSON.stringify(p)}`) : [];
    issues.push(...caseIssues(cases, { profile: input.profile, names }));
  }
  if (issues.length > 0 || input.profile === undefined) {
    console.error(`${issuesMessage("copier: invalid input", issues)}\n${USAGE}`);
    Deno.exit(2);
  }
  const progress = progressLine("copier");
  const t0 = performance.now();
  let out: CopierOutput;
  try {
    out = await run({
      ...base,
      cases,
      seed,
      seeds,
      profile: input.profile,
      workers: Math.max(1, Math.min(2, navigator.hardwareConcurrency)),
      onProgress: progress.update,
    });
  } catch (e) {
    progress.clear();
    console.error(`copier: the simulation failed: ${(e as Error).message}`);
    Deno.exit(1);
  }
  progress.clear();
  const wall = (performance.now() - t0) / 1000;
  console.log(formatTable(out));
  const image = ((base.imageBytes ?? input.profile.image.bytes.value) / 1e9).toFixed(0);
  console.log(
    `\nBMcast under the Cassandra workload, ${image} GB image, ${base.durationS} s in ${base.sampleEveryS} s windows, ` +
      `seed${
        seeds === 1 ? ` ${seed}` : `s ${seed}-${seed + seeds - 1} (means, range in parentheses)`
      }; bare metal ${out.bareMetalOpsPerS.toFixed(0)} ops/s; wall time ${wall.toFixed(1)} s`,
  );
  const files = {
    "copier.csv": csv(out.rows),
    "copier.json": JSON.stringify(
      {
        ...base,
        seed,
        profile: flags.profile ?? "built-in",
        // Each --set value as the profile takes it (15000, not "15000"), as sim.json.
        set: valuesOfText(input.overrides),
        cases,
        // No wall time (printed above): the same seed writes the same bytes.
        ...out,
      },
      null,
      2,
    ),
    "copier.svg": toSvg(figure(out, "BMcast copy policies: done sooner vs faster meanwhile")),
  };
  const failure = writeOutputs({ command: "copier", out: flags.out, files });
  if (failure !== undefined) {
    console.error(failure);
    Deno.exit(1);
  }
}
