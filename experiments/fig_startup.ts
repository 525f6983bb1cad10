/**
 * Fig. "OS-startup time": stacked phases per deployment method for a 32 GB
 * Ubuntu 14.04 image, measured from the end of the node's power-on self
 * test (which every method pays alike) until the OS has booted.
 * Runnable alone: `deno run -A experiments/fig_startup.ts [--small]`.
 */
import {
  buildWorld,
  compare,
  type Comparison,
  loadReference,
  type Profile,
  startupStrategy,
  strategyNames,
} from "../lib/scenario/mod.ts";
import { formatComparison, type StartupRow } from "../lib/plot/mod.ts";
import { issuesError, smallFlag } from "../lib/_util/mod.ts";
import {
  bootAreas,
  imageIssue,
  paramIssues,
  type ParamRules,
  runProfile,
  SEED_RULE,
} from "./_params.ts";

/** Parameters of the startup experiment. */
export interface StartupParams {
  /**
   * Methods to run: registered strategies ({@link strategyNames}); the
   * paper's rows and comparisons are made for the paper's four.
   */
  methods: string[];
  /**
   * Image size override, bytes (the profile's 32 GB when absent): whole
   * sectors, holding every area the boot reads (6.66 GB with the built-in
   * profile) and, for a method over NFS, its log writes (10.34 GB), at most
   * what the disks hold.
   */
  imageBytes?: number;
  /** Seed of every random stream. */
  seed: number;
  /** The hardware profile. @default the built-in profile */
  profile?: Profile;
}

/** The paper's configuration. */
export const full: StartupParams = {
  methods: ["image-copy", "bmcast", "nfsroot", "kvm-nfs"],
  seed: 1,
};
/**
 * A quick configuration for tests: a 12 GB image (it holds every area the
 * boot reads, up to 6.66 GB, and writes, up to 10.34 GB).
 * The paper's values do not apply to it: its `comparisons` are made all the
 * same, and some fail (`deno task repro --small` shows them unjudged).
 */
export const small: StartupParams = {
  methods: ["image-copy", "bmcast", "nfsroot", "kvm-nfs"],
  imageBytes: 12e9,
  seed: 1,
};

/** Result rows of the startup experiment. */
export interface StartupOutput {
  /** Phases per method, simulated and the paper's. */
  rows: StartupRow[];
  /** Paper-versus-simulation checks (phases, totals, the ratio). */
  comparisons: Comparison[];
}

const PAPER_METHOD: Record<string, string> = {
  "image-copy": "image-copy",
  bmcast: "bmcast",
  nfsroot: "nfsroot",
  "kvm-nfs": "kvm-nfs",
};

/** The parameters' rules, with the strategies registered when a run is asked for. */
const rules = (): ParamRules<StartupParams> => ({
  methods: { list: strategyNames(), required: true },
  imageBytes: true,
  seed: SEED_RULE,
  profile: true,
});

/**
 * Runs every method on a fresh world and returns the phase rows (simulated
 * and the paper's) and the comparison rows.
 * @throws RangeError naming, all at once before anything runs, every
 * unknown parameter, a missing, empty or unknown method, a missing or bad
 * seed, a profile that is not one, and an image that does not hold the
 * boot's read areas (and log, over NFS) or does not fit the disks
 * @example
 * ```ts
 * import { run, small } from "./fig_startup.ts";
 * const out = await run({ ...small, methods: ["nfsroot"] });
 * console.assert(out.rows.some((r) => r.method === "nfsroot" && r.source === "sim"));
 * ```
 */
export async function run(params: StartupParams = full): Promise<StartupOutput> {
  const issues = paramIssues(params, rules());
  const profile = await runProfile(params);
  if (profile !== undefined && params.imageBytes !== undefined) {
    const image = { field: "imageBytes", value: params.imageBytes };
    // Over NFS the boot's log is written to the image too.
    const methods = Array.isArray(params.methods) ? params.methods : [];
    const writes = methods.some((m) =>
      strategyNames().includes(m) && startupStrategy(m).writesImage
    );
    const issue = imageIssue(profile, image, bootAreas(profile, { writes }));
    if (issue !== undefined) issues.push(issue);
  }
  if (issues.length > 0 || profile === undefined) throw issuesError("run startup", issues);
  const rows: StartupRow[] = [];
  const totals: Record<string, number> = {};
  const simPhases: Record<string, Record<string, number>> = {};
  for (const method of params.methods) {
    const { start, preinstalled } = startupStrategy(method, "run startup");
    const w = buildWorld(profile, {
      seed: params.seed,
      imageBytes: params.imageBytes,
      preinstalled,
      run: method,
    });
    const node = w.nodes[0];
    let t0 = 0;
    let result:
      | { phases: { phase: string; start: number; end: number }[]; total: number }
      | undefined;
    w.sim.process(function* () {
      yield* node.firmware.powerOn();
      t0 = w.sim.now;
      result = yield* start(w, node);
    });
    // Stop once the OS is up (the BMcast copier would otherwise run on).
    while (result === undefined && w.sim.step()) { /* run */ }
    if (result === undefined) throw new Error(`startup '${method}' never finished`);
    simPhases[method] = {};
    for (const p of result.phases) {
      rows.push({
        method,
        phase: p.phase,
        startS: (p.start - t0) / 1e9,
        endS: (p.end - t0) / 1e9,
        source: "sim",
      });
      simPhases[method][p.phase] = (p.end - p.start) / 1e9;
    }
    totals[method] = result.total / 1e9;
  }
  // The paper's bars and the comparisons.
  const ref = loadReference().startup as unknown as {
    tolerancePct: number;
    values: { method: string; phase: string; seconds: number }[];
    ratios: { name: string; value: number }[];
  };
  const comparisons: Comparison[] = [];
  const cursor: Record<string, number> = {};
  for (const v of ref.values) {
    if (!params.methods.some((m) => PAPER_METHOD[m] === v.method)) continue;
    if (v.phase === "total") {
      comparisons.push(
        compare({
          figure: "startup",
          metric: `${v.method} total (s)`,
          paper: v.seconds,
          simulated: totals[v.method],
          tolerancePct: ref.tolerancePct,
        }),
      );
      continue;
    }
    const start = cursor[v.method] ?? 0;
    rows.push({
      method: v.method,
      phase: v.phase,
      startS: start,
      endS: start + v.seconds,
      source: "paper",
    });
    cursor[v.method] = start + v.seconds;
    const sim = simPhases[v.method]?.[v.phase];
    if (sim !== undefined) {
      comparisons.push(
        compare({
          figure: "startup",
          metric: `${v.method} ${v.phase} (s)`,
          paper: v.seconds,
          simulated: sim,
          tolerancePct: ref.tolerancePct,
        }),
      );
    }
  }
  if (totals["image-copy"] !== undefined && totals.bmcast !== undefined) {
    comparisons.push(
      compare({
        figure: "startup",
        metric: "image copy / BMcast (x)",
        paper: ref.ratios[0].value,
        simulated: totals["image-copy"] / totals.bmcast,
        tolerancePct: ref.tolerancePct,
      }),
    );
  }
  return { rows, comparisons };
}

const USAGE = `usage: deno run -A experiments/fig_startup.ts [--small]
  OS-startup time per deployment method (image copy, BMcast, NFS root, KVM/NFS):
  prints each phase (paper and simulated) and the paper-versus-simulation checks.
  --small   the quick configuration (a 12 GB image instead of the profile's 32 GB)
  exit status: 0 done, 1 the experiment failed, 2 invalid input (every issue listed at once)`;

if (import.meta.main) {
  const quick = smallFlag({ command: "fig_startup", usage: USAGE });
  const out = await run(quick ? small : full);
  console.log("method | phase | start s | end s | source");
  for (const r of out.rows) {
    console.log(
      `${r.method} | ${r.phase} | ${r.startS.toFixed(1)} | ${r.endS.toFixed(1)} | ${r.source}`,
    );
  }
  // Unjudged in the quick configuration: the paper's values do not apply.
  console.log("");
  console.log(formatComparison(out.comparisons, { judged: !quick }));
}
