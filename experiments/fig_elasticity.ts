/**
 * Beyond the paper: elasticity, the capacity a scale-out adds over time. The
 * paper's title promises agility and elasticity; its figures show one node's
 * startup and one node's throughput apart. Here N nodes are added at once
 * (powered on together at 0 s, sharing one image server and one GbE switch,
 * or the profile's racks, as in lib/scenario/fleet) and each, as soon as its OS is up, starts the
 * workload of Fig. Cassandra (the profile's store and YCSB client) and runs
 * it until the horizon. BMcast nodes go on streaming and copying under the
 * load and de-virtualize when their copy completes; NFS root and KVM/NFS
 * stream for good; image copy serves only after its copy and reboot. In each
 * window the cluster's capacity is the operations every node completed in
 * it, in % of N bare-metal nodes in service: N times the throughput of one
 * preinstalled bare-metal node running the same workload with a warm page
 * cache (the second half of a horizon-long run, measured in the same run). Every
 * difference comes out of the models: startup, server and link contention,
 * the copier's interference, virtualization overheads.
 *
 * BMcast's copier backs off as in Fig. Cassandra ({@link COPY_BACKOFF};
 * `copyBackoff: undefined` keeps the profile's idle policy). Nothing here is
 * compared with the paper: it has no such figure.
 * Runnable alone: `deno run -A experiments/fig_elasticity.ts [--small]`.
 */
import { z } from "zod";
import {
  applyOverrides,
  buildWorld,
  finishDeployment,
  type Profile,
  readProfileInput,
  startupStrategy,
} from "../lib/scenario/mod.ts";
import {
  imageBytesOf,
  type Outage,
  OutageSchema,
  parseScenario,
  type ProfileOverrides,
  ScenarioError,
  startOutage,
} from "../lib/scenario/fleet.ts";
import {
  callInWorker,
  csv,
  decimalNumber,
  decimalRule,
  issuesMessage,
  outDirIssue,
  parseFlags,
  progressLine,
  runPool,
  seedRangeIssue,
  type SimTime,
  textTable,
  writeOutputs,
} from "../lib/_util/mod.ts";
import { runKvWorkload, windowOf } from "../lib/workload/mod.ts";
import { throughputFigure, type ThroughputRow, toSvg } from "../lib/plot/mod.ts";
import {
  COPY_BACKOFF,
  type CopyBackoff,
  copyPolicy,
  imageReads,
  runSystem,
  workloadParams,
} from "./fig_cassandra.ts";
import { imageIssue, paramIssues as keyIssues, type ParamRules, runProfile } from "./_params.ts";

/** Parameters of the elasticity experiment. */
export interface ElasticityParams {
  /** Strategies, one line each (names of `deno task sim --strategy`). */
  strategies: readonly string[];
  /** Nodes added at once. */
  nodes: number;
  /** How long to watch, s from the power-on. */
  horizonS: number;
  /** Capacity sample window, s (a partial last window before the horizon is left out). */
  sampleEveryS: number;
  /**
   * Image size, GB; absent: the profile's (32). It must hold every area the
   * boot reads and writes (the profile's rule) and the store's data set
   * (`CassandraParams.imageBytes`).
   */
  imageGb?: number;
  /** Profile parameters changed for every run, e.g. `{ "hdd.rpm": 15000 }`. */
  set?: ProfileOverrides;
  /**
   * Every image server unreachable for `durationS` from `atS` after the
   * power-on (lib/scenario/fleet's outage: TCP retransmits with back-off,
   * multicast datagrams are lost); absent: none.
   */
  outage?: Outage;
  /** Seed of every random stream (the first, over several seeds). */
  seed: number;
  /**
   * Run seeds `seed` .. `seed + seeds - 1`, each against the warm bare-metal
   * node of its seed: the curves and the summary are their means, `bySeed`
   * holds each seed's summary. @default 1
   */
  seeds?: number;
  /**
   * BMcast's copier back-off under the workload, as in Fig. Cassandra
   * (`CassandraParams.copyBackoff`); absent: the profile's copy policy.
   */
  copyBackoff?: CopyBackoff;
  /**
   * Run the built-in strategies in workers, two at a time (worth it under
   * `deno run`); a registered one runs in this thread. @default false
   */
  parallel?: boolean;
  /** Called as each run (strategy and seed, or a bare-metal reference) ends. */
  onProgress?: (done: number, total: number, label: string) => void;
  /** The hardware profile. @default the built-in profile */
  profile?: Profile;
}

/**
 * Most capacity windows in a run (horizonS / sampleEveryS): each run keeps
 * one count per window, and every window is a row of elasticity.csv and a
 * point of the figure, per strategy.
 */
export const MAX_WINDOWS = 10_000;
/** Shortest capacity window, s: the simulator's clock counts whole ns, a window needs many. */
export const MIN_WINDOW_S = 0.001;

/** The shortest window a horizon takes: {@link MIN_WINDOW_S}, and at most {@link MAX_WINDOWS} windows. */
const windowFloor = (horizonS: number) => Math.max(MIN_WINDOW_S, horizonS / MAX_WINDOWS);

/** What the fleet's scenario parser does not check (it checks strategies, nodes, seed, image, set). */
const ParamsSchema = z.object({
  strategies: z.array(z.string(), { error: "must be a list of strategies" })
    .min(1, "must name at least one strategy")
    .refine((xs) => new Set(xs).size === xs.length, "must not name a strategy twice"),
  horizonS: z.number({ error: "must be a number" }).positive("must be > 0")
    .max(86_400, "must be <= 86400"),
  sampleEveryS: z.number({ error: "must be a number" }).positive("must be > 0"),
  seeds: z.number({ error: "must be a number" })
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= 20, "must be an integer in [1, 20]")
    .optional(),
});

/** Seven strategies, 4 nodes added at once, 30 minutes in 25 s windows, the paper's 32 GB image. */
export const full: ElasticityParams = {
  strategies: [
    "bare-metal",
    "image-copy",
    "image-copy-multicast",
    "bmcast",
    "bmcast-multicast",
    "nfsroot",
    "kvm-nfs",
  ],
  nodes: 4,
  horizonS: 1800,
  sampleEveryS: 25,
  seed: 1,
  copyBackoff: COPY_BACKOFF,
  parallel: true,
};

/** A quick configuration for tests: three strategies, 2 nodes, the smallest image, 10 minutes. */
export const small: ElasticityParams = {
  strategies: ["bare-metal", "image-copy", "bmcast"],
  nodes: 2,
  horizonS: 600,
  sampleEveryS: 25,
  imageGb: 10.35,
  seed: 1,
  copyBackoff: COPY_BACKOFF,
};

/** What one strategy's scale-out delivered. */
export interface StrategyCapacity {
  /** Strategy name (as `deno task sim --strategy`). */
  strategy: string;
  /** Nodes added. */
  nodes: number;
  /** The run's seed. */
  seed: number;
  /** Operations completed in each window by all nodes together. */
  windowOps: number[];
  /** First node's OS up, s from the power-on. */
  firstUpS: number;
  /** Last node's OS up, s from the power-on; NaN when one was not up within the horizon. */
  lastUpS: number;
  /** Every node deployed (image on its local disk), s; NaN when not within the horizon or never. */
  deployedS: number;
}

/** Summary of one strategy, against N bare-metal nodes in service. */
export interface CapacitySummary extends Omit<StrategyCapacity, "windowOps" | "seed"> {
  /** End of the first window whose capacity reached 50 %, s; NaN if none did. */
  reach50S: number;
  /** The same for 90 %. */
  reach90S: number;
  /** Capacity delivered over the horizon, % (the mean of the windows). */
  meanPct: number;
  /** Mean capacity over the last quarter of the horizon, %. */
  finalPct: number;
}

/** Output of {@link run}. */
export interface ElasticityOutput {
  /** Capacity per window (at its end) and strategy, % of N bare-metal nodes (mean over the seeds). */
  rows: ThroughputRow[];
  /** One row per strategy, in the order asked: over several seeds, each number's mean. */
  summary: CapacitySummary[];
  /** The seeds run. */
  seeds: number[];
  /** Each seed's summary, strategy by strategy (one per strategy for one seed). */
  bySeed: (CapacitySummary & { seed: number })[];
  /** One warm bare-metal node's throughput, ops/s (100 % per node; mean over the seeds). */
  referenceOpsPerS: number;
  /** Each strategy's run, per seed. */
  runs: StrategyCapacity[];
}

/**
 * The parameters of one strategy's run ({@link runStrategy}): the
 * experiment's, less those of the experiment as a whole.
 */
export type StrategyParams = Omit<
  ElasticityParams,
  "profile" | "strategies" | "parallel" | "seeds" | "onProgress"
>;

/**
 * Counts an operation that ended `elapsed` ns after the power-on in its window
 * of `windowOps`, each `width` ns wide: window 0 covers [0, width], window i > 0
 * (i·width, (i+1)·width], as the kv workload's own (lib/workload's `windowOf`), so one
 * ending on a boundary counts in the window it closes. One past the last whole
 * window is left out.
 * @example
 * ```ts
 * import { countInWindow } from "./fig_elasticity.ts";
 * const w = [0, 0];
 * for (const end of [10, 11, 20, 21]) countInWindow(w, end, 10);
 * console.assert(w.join() === "1,2");
 * ```
 */
export function countInWindow(windowOps: number[], elapsed: SimTime, width: SimTime): void {
  const i = windowOf(elapsed, width);
  if (i < windowOps.length) windowOps[i]++;
}

/**
 * One strategy: N nodes power on at 0 s, each runs the workload from its OS
 * up to the horizon (BMcast also finishes its copy and de-virtualizes).
 * `profile` already carries the run's overrides.
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile } from "../lib/scenario/mod.ts";
 * import { runStrategy, small } from "./fig_elasticity.ts";
 * const r = runStrategy(await loadProfile(BUILTIN_PROFILE), "bare-metal", { ...small, nodes: 1, horizonS: 200 });
 * console.assert(r.windowOps.length === 8 && r.firstUpS > 130);
 * ```
 */
export function runStrategy(
  profile: Profile,
  strategy: string,
  params: StrategyParams,
): StrategyCapacity {
  const { start, preinstalled, deployed: deploys } = startupStrategy(
    strategy,
    "run the elasticity experiment",
  );
  const w = buildWorld(profile, {
    seed: params.seed,
    nodes: params.nodes,
    imageBytes: imageBytesOf(params.imageGb),
    preinstalled,
    run: strategy,
  });
  const dt = Math.round(params.sampleEveryS * 1e9);
  const end = Math.round(params.horizonS * 1e9);
  // Whole windows only: a partial one at the horizon would look like a dip.
  const windowOps = Array<number>(Math.floor(end / dt)).fill(0);
  const workload = workloadParams(profile, {
    durationS: params.horizonS,
    sampleEveryS: params.horizonS,
  });
  const options = {
    copyPolicy: copyPolicy(profile, params),
    copyPipeline: params.copyBackoff?.pipeline,
  };
  const up: number[] = [], deployed: number[] = [];
  const t0 = w.sim.now;
  if (params.outage !== undefined) startOutage(w, t0, params.outage);
  for (const node of w.nodes) {
    w.sim.process(function* () {
      yield* node.firmware.powerOn();
      const r = yield* start(w, node, options);
      up.push(w.sim.now - t0);
      if (deploys === "up") deployed.push(w.sim.now - t0);
      if (deploys === "copy") {
        w.sim.process(function* () {
          yield* finishDeployment(w, node, r);
          deployed.push(w.sim.now - t0);
        }, `${node.name}/deploy`);
      }
      const left = t0 + end - w.sim.now;
      if (left <= 0) return;
      yield runKvWorkload(r.driver, r.cpus, {
        ...workload,
        durationNs: left,
        sampleEveryNs: left,
        rngStream: `kv:${node.name}`,
        observe: (op) => countInWindow(windowOps, op.end - t0, dt),
      });
    }, `${node.name}/scale-out`);
  }
  w.sim.run(t0 + end);
  return {
    strategy,
    nodes: params.nodes,
    seed: params.seed,
    windowOps,
    firstUpS: up.length === 0 ? NaN : Math.min(...up) / 1e9,
    lastUpS: up.length < params.nodes ? NaN : Math.max(...up) / 1e9,
    deployedS: deployed.length < params.nodes ? NaN : Math.max(...deployed) / 1e9,
  };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * A strategy's capacity per window in % of N nodes at `refOpsPerS` each, and
 * when it first reached 50 % and 90 %.
 * @example
 * ```ts
 * import { capacity } from "./fig_elasticity.ts";
 * const c = capacity({ strategy: "x", nodes: 2, windowOps: [0, 100, 190, 200], firstUpS: 5, lastUpS: 15, deployedS: 15 }, 10, 10);
 * console.assert(c.pct.join() === "0,50,95,100" && c.summary.reach50S === 20 && c.summary.reach90S === 30);
 * ```
 */
export function capacity(
  run: Omit<StrategyCapacity, "seed">,
  refOpsPerS: number,
  sampleEveryS: number,
): { pct: number[]; summary: CapacitySummary } {
  const full = run.nodes * refOpsPerS * sampleEveryS;
  const pct = run.windowOps.map((ops) => (100 * ops) / full);
  const reach = (x: number) => {
    const i = pct.findIndex((p) => p >= x);
    return i < 0 ? NaN : (i + 1) * sampleEveryS;
  };
  const { strategy, nodes, firstUpS, lastUpS, deployedS } = run;
  return {
    pct,
    summary: {
      strategy,
      nodes,
      firstUpS,
      lastUpS,
      deployedS,
      reach50S: reach(50),
      reach90S: reach(90),
      meanPct: mean(pct),
      finalPct: mean(pct.slice(Math.floor(pct.length * 0.75))),
    },
  };
}

/** The parameters (the strategies' list is checked by ParamsSchema). */
const RULES: ParamRules<ElasticityParams> = {
  strategies: true,
  nodes: true,
  horizonS: true,
  sampleEveryS: true,
  imageGb: true,
  set: true,
  outage: true,
  seed: true,
  seeds: true,
  copyBackoff: true,
  parallel: true,
  onProgress: true,
  profile: true,
};

/** How {@link paramIssues} names each parameter (e.g. a CLI flag). */
export type ParamLabels = Partial<
  Record<
    | "strategies"
    | "nodes"
    | "horizonS"
    | "sampleEveryS"
    | "imageGb"
    | "seed"
    | "seeds"
    | "set"
    | "outage",
    string
  >
>;

/**
 * Every issue of `params`, each as `<name>: <rule>: current value is <value>`:
 * a key that is not a parameter, the fleet's scenario rules for strategies,
 * nodes, seed, image size and profile changes, and this experiment's for the
 * horizon and the window.
 * @example
 * ```ts
 * import { paramIssues, small } from "./fig_elasticity.ts";
 * const issues = paramIssues({ ...small, horizonS: 10, sampleEveryS: 20 }, { labels: { sampleEveryS: "--window-s" } });
 * console.assert(issues.length === 1 && issues[0].startsWith("--window-s: must be <= horizonS (10)"));
 * ```
 */
export function paramIssues(
  params: ElasticityParams,
  options: { profile?: Profile; labels?: ParamLabels } = {},
): string[] {
  const labels = options.labels ?? {};
  const issues = new Set<string>();
  for (const i of keyIssues(params, RULES)) issues.add(`${i.field}: ${i.message}`);
  const own = ParamsSchema.safeParse(params);
  for (const i of own.error?.issues ?? []) {
    const key = String(i.path[0]) as keyof ParamLabels;
    const value = (params as unknown as Record<string, unknown>)[key];
    issues.add(`${labels[key] ?? key}: ${i.message}: current value is ${JSON.stringify(value)}`);
  }
  const range = own.success
    ? seedRangeIssue(labels.seeds ?? "seeds", params.seed, params.seeds ?? 1)
    : undefined;
  if (range !== undefined) issues.add(range);
  if (own.success && params.sampleEveryS > params.horizonS) {
    const horizon = `${labels.horizonS ?? "horizonS"} (${params.horizonS})`;
    issues.add(
      `${
        labels.sampleEveryS ?? "sampleEveryS"
      }: must be <= ${horizon}: current value is ${params.sampleEveryS}`,
    );
  } else if (own.success && !(params.sampleEveryS >= windowFloor(params.horizonS))) {
    const horizon = `${labels.horizonS ?? "horizonS"} (${params.horizonS})`;
    issues.add(
      `${labels.sampleEveryS ?? "sampleEveryS"}: must be >= ${
        windowFloor(params.horizonS)
      } (at least ${MIN_WINDOW_S} s and ${horizon} / ${MAX_WINDOWS}: at most ${MAX_WINDOWS} windows): current value is ${params.sampleEveryS}`,
    );
  }
  const strategies = Array.isArray(params.strategies) ? params.strategies : [];
  for (const strategy of strategies.length > 0 ? strategies : ["bare-metal"]) {
    try {
      parseScenario(
        {
          strategy,
          nodes: params.nodes,
          seed: params.seed,
          imageGb: params.imageGb,
          set: params.set,
          outage: params.outage,
        },
        {
          profile: options.profile,
          labels: {
            strategy: labels.strategies,
            nodes: labels.nodes,
            seed: labels.seed,
            imageGb: labels.imageGb,
            set: labels.set,
            outage: labels.outage,
          },
        },
      );
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      for (const issue of e.issues) issues.add(issue);
    }
  }
  // The profile's rule on the image covers the boot; the store's data set may lie beyond.
  if (issues.size === 0 && options.profile !== undefined) {
    const profile = params.set ? applyOverrides(options.profile, params.set) : options.profile;
    const size = params.imageGb === undefined
      ? { field: "profile image.bytes", value: profile.image.bytes.value }
      : { field: labels.imageGb ?? "imageGb", value: params.imageGb, unit: "GB" as const };
    const horizon = { durationS: params.horizonS, sampleEveryS: params.horizonS };
    const image = imageIssue(profile, size, imageReads(profile, horizon));
    if (image !== undefined) issues.add(`${image.field}: ${image.message}`);
  }
  return [...issues];
}

/**
 * Runs every strategy on a fresh world and the bare-metal reference.
 * @throws ScenarioError naming every bad strategy, node count, image size, profile change or
 * window, and a profile that is not one
 * @example
 * ```ts
 * import { run, small } from "./fig_elasticity.ts";
 * const out = await run({ ...small, strategies: ["bare-metal"], nodes: 1, horizonS: 250 });
 * console.assert(out.rows.length === 10 && out.summary[0].lastUpS > 130);
 * ```
 */
export async function run(params: ElasticityParams = full): Promise<ElasticityOutput> {
  // A profile given that is not one is named by paramIssues, not used.
  const base = await runProfile(params);
  const issues = paramIssues(params, { profile: base });
  if (issues.length > 0 || base === undefined) throw new ScenarioError(issues);
  const profile = params.set
    ? applyOverrides(base, params.set, { origin: "set by the elasticity experiment" })
    : base;
  const { profile: _p, strategies, parallel, seeds: n = 1, onProgress, ...plain } = params;
  const seeds = Array.from({ length: n }, (_, k) => params.seed + k);
  const jobs = strategies.flatMap((strategy) => seeds.map((seed) => ({ strategy, seed })));
  let done = 0;
  const tick = (what: string, seed: number) =>
    onProgress?.(++done, jobs.length + n, n > 1 ? `${what} (seed ${seed})` : what);
  const one = ({ strategy, seed }: (typeof jobs)[number]): Promise<StrategyCapacity> =>
    // A registered strategy exists only in this thread: it runs here.
    (parallel && startupStrategy(strategy).builtIn
      ? callInWorker<StrategyCapacity>({
        module: import.meta.url,
        fn: "runStrategy",
        args: [profile, strategy, { ...plain, seed }],
        what: `elasticity: the ${strategy} run${n > 1 ? ` (seed ${seed})` : ""}`,
      })
      : Promise.resolve(runStrategy(profile, strategy, { ...plain, seed }))).then((r) => {
        tick(strategy, seed);
        return r;
      });
  // Two at a time in workers (the machine's cores); the references beside them.
  const pool = runPool(jobs, parallel ? 2 : 1, one);
  // Warm: the second half of a horizon-long bare-metal run (its page cache filled).
  const refs = seeds.map((seed) => {
    const ref = runSystem(profile, "bare-metal", {
      durationS: params.horizonS,
      sampleEveryS: params.horizonS / 2,
      seed,
      imageBytes: imageBytesOf(params.imageGb),
    });
    tick("bare-metal reference", seed);
    return ref.windowOps[1] / (params.horizonS / 2);
  });
  const runs = await pool;
  const bySeed = runs.map((r, j) => ({
    ...capacity(r, refs[j % n], params.sampleEveryS),
    seed: r.seed,
  }));
  const rows: ThroughputRow[] = [];
  const summary: CapacitySummary[] = [];
  strategies.forEach((strategy, i) => {
    const mine = bySeed.slice(i * n, (i + 1) * n);
    const avg = (k: keyof Omit<CapacitySummary, "strategy" | "nodes">) =>
      mean(mine.map((c) => c.summary[k]));
    summary.push({
      strategy,
      nodes: params.nodes,
      firstUpS: avg("firstUpS"),
      lastUpS: avg("lastUpS"),
      deployedS: avg("deployedS"),
      reach50S: avg("reach50S"),
      reach90S: avg("reach90S"),
      meanPct: avg("meanPct"),
      finalPct: avg("finalPct"),
    });
    mine[0].pct.forEach((_, w) =>
      rows.push({
        system: strategy,
        timeS: (w + 1) * params.sampleEveryS,
        pctOfBareMetal: mean(mine.map((c) => c.pct[w])),
        source: "sim",
      })
    );
  });
  return {
    rows,
    summary,
    seeds,
    bySeed: bySeed.map((c) => ({ ...c.summary, seed: c.seed })),
    referenceOpsPerS: mean(refs),
    runs,
  };
}

/**
 * The figure: each strategy's capacity over time, % of N bare-metal nodes.
 * @example
 * ```ts
 * import { figure } from "./fig_elasticity.ts";
 * import { toSvg } from "../lib/plot/mod.ts";
 * const rows = [25, 50].map((t) => ({ system: "bmcast", timeS: t, pctOfBareMetal: t - 10, source: "sim" as const }));
 * console.assert(toSvg(figure({ rows, summary: [], seeds: [1], bySeed: [], referenceOpsPerS: 1000, runs: [] })).includes("capacity"));
 * ```
 */
export function figure(out: ElasticityOutput, title?: string): ReturnType<typeof throughputFigure> {
  return throughputFigure(out.rows, [], {
    title,
    yDomain: [0, 110],
    yLabel: "capacity (% of the nodes on bare metal)",
  });
}

/**
 * The run's summary as an aligned text table ("never" where a moment was not
 * reached within the horizon, as `sim` shows a deployment that never comes);
 * over several seeds (`bySeed`), a number that varies shows its range after
 * the mean, and a moment only some seeds reached the mean (and range) of
 * those, with how many: "210.0 (200.0-220.0, 2 of 3 seeds)"; "never" only if
 * no seed reached it.
 * @example
 * ```ts
 * import { formatTable } from "./fig_elasticity.ts";
 * const s = { strategy: "bmcast", nodes: 2, firstUpS: 168, lastUpS: 168, deployedS: NaN, reach50S: 200, reach90S: 275, meanPct: 65.5, finalPct: 99.5 };
 * console.assert(/\| +never \|/.test(formatTable({ summary: [s], bySeed: [{ ...s, seed: 1 }] }).split("\n")[1]));
 * const bySeed = [{ ...s, seed: 1, meanPct: 65 }, { ...s, seed: 2, meanPct: 66 }];
 * console.assert(formatTable({ summary: [s], bySeed }).includes("65.5 (65.0-66.0)"));
 * const some = [...bySeed, { ...s, seed: 3, reach90S: NaN }];
 * console.assert(formatTable({ summary: [{ ...s, reach90S: NaN }], bySeed: some }).includes("275.0 (2 of 3 seeds)"));
 * ```
 */
export function formatTable(out: Pick<ElasticityOutput, "summary" | "bySeed">): string {
  const { summary, bySeed } = out;
  const n = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "never");
  const keys = [
    "firstUpS",
    "lastUpS",
    "reach50S",
    "reach90S",
    "deployedS",
    "meanPct",
    "finalPct",
  ] as const;
  return textTable(
    [
      "strategy",
      "first up s",
      "last up s",
      "50 % at s",
      "90 % at s",
      "deployed s",
      "mean %",
      "final %",
    ],
    summary.map((s) => {
      const seeds = bySeed.filter((b) => b.strategy === s.strategy);
      return [
        s.strategy,
        ...keys.map((k) => {
          const xs = seeds.map((b) => b[k]);
          // The mean over seeds is NaN if one seed never reached the moment: show those that did.
          const hit = xs.filter(Number.isFinite);
          if (xs.length < 2 || hit.length === 0) return n(s[k]);
          const [lo, hi] = [Math.min(...hit), Math.max(...hit)];
          const notes = [
            ...(n(lo) !== n(hi) ? [`${n(lo)}-${n(hi)}`] : []),
            ...(hit.length < xs.length ? [`${hit.length} of ${xs.length} seeds`] : []),
          ];
          const m = n(hit.length < xs.length ? mean(hit) : s[k]);
          return notes.length > 0 ? `${m} (${notes.join(", ")})` : m;
        }),
      ];
    }),
    [false, ...Array(7).fill(true)],
  );
}

const USAGE =
  `usage: deno task elasticity [--small] [--strategies A,B,...] [--nodes N] [--horizon-s S] [--window-s S]
                            [--outage AT:DUR] [--seed S] [--seeds N] [--profile PATH] [--set P=V ...]
                            [--out DIR]
  Beyond the paper: N nodes are added at once; each runs Fig. Cassandra's workload from the
  moment its OS is up. Prints per strategy when the first and last OS were up, when the
  cluster's capacity (the operations of all nodes, % of as many warm bare-metal nodes) first
  reached 50 % and 90 %, when every node was deployed, the mean capacity over the horizon and
  over its last quarter. Writes elasticity.csv, elasticity.json and elasticity.svg to DIR
  (default out/); the same flags write the same bytes (the wall time is only printed).
  --strategies LIST  names of 'deno task sim --strategy' (default: all but kvm-local)
  --nodes N          nodes added at once (default 4; small 2)
  --horizon-s S      how long to watch from the power-on, s (default 1800; small 600)
  --window-s S       capacity sample window, s (default 25): at least ${MIN_WINDOW_S} s and
                     horizon/${MAX_WINDOWS}, at most the horizon (${MAX_WINDOWS} windows at most)
  --outage AT:DUR    every image server unreachable for DUR s from AT s after the power-on
                     (as 'deno task sim --outage'): who still depends on it stalls
  --seeds N          run seeds S..S+N-1 (1-20, default 1): the curves and the table show means,
                     the table each varying number's range after it; a moment only k of the N
                     seeds reached shows their mean and range and "k of N seeds" ("never": none)
  --small            3 strategies, 2 nodes, the smallest image (10.35 GB), 600 s
  exit status: 0 done, 1 the simulation failed or the outputs could not be written after
  the run (the previous ones are left as they were), 2 invalid input, also an --out found
  unusable before the run (nothing runs or is written)`;

if (import.meta.main) {
  const issues: string[] = [];
  const flags = parseFlags({
    command: "elasticity",
    issues,
    usage: USAGE,
    args: Deno.args,
    options: {
      small: { type: "boolean", default: false },
      strategies: { type: "string" },
      nodes: { type: "string" },
      "horizon-s": { type: "string" },
      "window-s": { type: "string" },
      outage: { type: "string" },
      seed: { type: "string" },
      seeds: { type: "string" },
      profile: { type: "string" },
      set: { type: "string", multiple: true },
      out: { type: "string", default: "out" },
    },
  });
  if (typeof flags === "number") Deno.exit(flags);
  const base = flags.small ? small : full;
  // Unparsable numbers are named here; the rules on parsed ones below.
  const num = (flag: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    const v = decimalNumber(raw);
    if (v !== undefined) return v;
    issues.push(
      `--${flag}: ${decimalRule("must be a number", raw)}: current value is ${JSON.stringify(raw)}`,
    );
    return fallback;
  };
  const params: ElasticityParams = {
    ...base,
    strategies: flags.strategies?.split(",").map((x) => x.trim()) ?? base.strategies,
    nodes: num("nodes", flags.nodes, base.nodes),
    horizonS: num("horizon-s", flags["horizon-s"], base.horizonS),
    sampleEveryS: num("window-s", flags["window-s"], base.sampleEveryS),
    seed: num("seed", flags.seed, base.seed),
    seeds: num("seeds", flags.seeds, 1),
    parallel: true,
  };
  if (flags.outage !== undefined) {
    // Parsed here so the object reaches the workers; a bad value is named below.
    const o = OutageSchema.safeParse(flags.outage);
    params.outage = o.success ? o.data : flags.outage as unknown as Outage;
  }
  const input = await readProfileInput({ path: flags.profile, set: flags.set });
  issues.push(...input.issues);
  const outIssue = outDirIssue("out", flags.out);
  if (outIssue !== undefined) issues.push(outIssue);
  issues.push(...paramIssues(params, {
    profile: input.profile,
    labels: {
      strategies: "--strategies",
      nodes: "--nodes",
      horizonS: "--horizon-s",
      sampleEveryS: "--window-s",
      seed: "--seed",
      seeds: "--seeds",
      outage: "--outage",
    },
  }));
  if (issues.length > 0 || input.profile === undefined) {
    console.error(`${issuesMessage("elasticity: invalid input", issues)}\n${USAGE}`);
    Deno.exit(2);
  }
  const progress = progressLine("elasticity");
  const t0 = performance.now();
  let out: ElasticityOutput;
  try {
    out = await run({
      ...params,
      profile: input.profile,
      onProgress: (done, total, what) =>
        progress.update(done, total, `${what} (${((performance.now() - t0) / 1e3).toFixed(0)} s)`),
    });
  } catch (e) {
    progress.clear();
    console.error(`elasticity: the simulation failed: ${(e as Error).message}`);
    Deno.exit(1);
  }
  progress.clear();
  const wall = (performance.now() - t0) / 1e3;
  console.log(formatTable(out));
  const image = (params.imageGb ?? input.profile.image.bytes.value / 1e9).toFixed(2);
  const seedText = out.seeds.length === 1
    ? `seed ${params.seed}`
    : `seeds ${out.seeds[0]}-${out.seeds.at(-1)} (means)`;
  console.log(
    `\n${params.nodes} node${
      params.nodes === 1 ? "" : "s"
    } added at 0 s, ${image} GB image, ${params.horizonS} s in ${params.sampleEveryS} s windows, ${seedText}; ` +
      `100 % = ${params.nodes} x ${
        out.referenceOpsPerS.toFixed(0)
      } ops/s (a warm bare-metal node); wall time ${wall.toFixed(1)} s`,
  );
  const o = params.outage;
  if (o !== undefined) console.log(`image server unreachable ${o.atS}-${o.atS + o.durationS} s`);
  const title =
    `Capacity after adding ${params.nodes} node${params.nodes === 1 ? "" : "s"} at 0 s` +
    (o ? `, image server away ${o.atS}-${o.atS + o.durationS} s` : "") +
    (out.seeds.length > 1 ? ` (mean of ${seedText.replace(" (means)", "")})` : "");
  const files = {
    "elasticity.csv": csv(out.rows),
    "elasticity.json": JSON.stringify(
      // No wall time (printed above): the same seed writes the same bytes.
      { params: { ...params, profile: undefined }, ...out },
      null,
      2,
    ),
    "elasticity.svg": toSvg(figure(out, title)),
  };
  const failure = writeOutputs({ command: "elasticity", out: flags.out, files });
  if (failure !== undefined) {
    console.error(failure);
    Deno.exit(1);
  }
}
