/**
 * Fig. "InfiniBand RDMA latency": ib_write_lat (2-byte RDMA writes, median
 * of the half round trips, us) between two like nodes on four systems:
 * Bare-metal, Deploy (BMcast's VMM running, background copy in progress),
 * Devirt (after de-virtualization; a small image so the copy ends soon) and
 * KVM/Pass (the HCA assigned to a KVM guest with VT-d). The HCA's pipeline
 * times are calibrated to the bare-metal bar; the other three bars are
 * predictions of the mechanisms (EPT, trapping, IOMMU, timer exits).
 * Runnable alone: `deno run -A experiments/fig_rdma.ts [--small]`.
 */
import {
  buildWorld,
  compare,
  type Comparison,
  loadReference,
  type Profile,
} from "../lib/scenario/mod.ts";
import { type BarRow, formatComparison } from "../lib/plot/mod.ts";
import { issuesError, smallFlag } from "../lib/_util/mod.ts";
import { imageIssue, paramIssues, type ParamRules, runProfile, SEED_RULE } from "./_params.ts";
import { rdmaLatency, type RdmaRun, type RdmaSystem } from "../lib/deploy/rdma.ts";

/** Parameters of the RDMA experiment. */
export interface RdmaParams {
  /** Ping-pong iterations (ib_write_lat -n). */
  iterations: number;
  /** Message size, bytes (ib_write_lat -s). */
  bytes: number;
  /**
   * Image size for the Devirt run (both nodes copy it before
   * de-virtualizing), bytes: whole sectors. The benchmark reads nothing from
   * the image; the OS boots only to get there (its reads past a small image
   * come from the local disk, and nothing of the boot is measured).
   */
  devirtImageBytes: number;
  /** Seed of every random stream. */
  seed: number;
  /** The hardware profile. @default the built-in profile */
  profile?: Profile;
}

/** ib_write_lat's defaults. */
export const full: RdmaParams = { iterations: 1000, bytes: 2, devirtImageBytes: 512e6, seed: 1 };
/**
 * A quick configuration for tests.
 * The paper's values do not apply to it: its `comparisons` are made all the
 * same, and some fail (`deno task repro --small` shows them unjudged).
 */
export const small: RdmaParams = { ...full, iterations: 200, devirtImageBytes: 128e6 };

/** Systems of the figure: bar group and key in the reference file. */
export const RDMA_BARS: readonly { group: string; system: RdmaSystem }[] = [
  { group: "Bare-metal", system: "bare-metal" },
  { group: "Deploy", system: "deploy" },
  { group: "Devirt", system: "devirt" },
  { group: "KVM/Pass", system: "kvm-pass" },
];

/** Output of {@link run}. */
export interface RdmaOutput {
  /** Latency bars, simulated and the paper's. */
  rows: BarRow[];
  /** Paper-versus-simulation checks. */
  comparisons: Comparison[];
  /** Each system's ping-pong, with its bar group. */
  runs: (RdmaRun & { group: string })[];
}

const WHAT = "run the RDMA experiment";
const RULES: ParamRules<RdmaParams> = {
  // As ib_write_lat (rdmaOptions) takes them: one sample must be left once
  // the last round trip and the two slowest are dropped.
  iterations: { required: true, number: { integer: true, min: 4 } },
  bytes: { required: true, number: { integer: true, min: 1 } },
  devirtImageBytes: { required: true },
  seed: SEED_RULE,
  profile: true,
};

/**
 * Runs the four systems, each on a fresh two-node world.
 * @throws RangeError naming, all at once before anything runs, every
 * unknown parameter, a missing or bad iteration count (an integer >= 4),
 * message size (an integer >= 1) or seed, a profile that is not one, and a
 * Devirt image that is not whole sectors or does not fit the disks
 * @example
 * ```ts
 * import { run, small } from "./fig_rdma.ts";
 * const out = await run({ ...small, iterations: 10 });
 * console.assert(out.rows.filter((r) => r.source === "sim").length === 4);
 * ```
 */
export async function run(params: RdmaParams = full): Promise<RdmaOutput> {
  const issues = paramIssues(params, RULES);
  const profile = await runProfile(params);
  if (profile !== undefined && !issues.some((i) => i.field === "devirtImageBytes")) {
    const image = { field: "devirtImageBytes", value: params.devirtImageBytes };
    const issue = imageIssue(profile, image, []);
    if (issue !== undefined) issues.push(issue);
  }
  if (issues.length > 0 || profile === undefined) throw issuesError(WHAT, issues);
  const ref = loadReference().rdma as unknown as {
    tolerancePct: number;
    values: { system: string; us: number }[];
  };
  const rows: BarRow[] = [];
  const comparisons: Comparison[] = [];
  const runs: RdmaOutput["runs"] = [];
  for (const { group, system } of RDMA_BARS) {
    const w = buildWorld(profile, {
      seed: params.seed,
      nodes: 2,
      run: system,
      imageBytes: system === "devirt" ? params.devirtImageBytes : undefined,
    });
    const proc = w.sim.process(
      rdmaLatency(w, system, { iterations: params.iterations, bytes: params.bytes }),
      `rdma/${system}`,
    );
    w.sim.run(proc); // stop once measured (a deploying node's copier would run on)
    const r = proc.value as RdmaRun;
    runs.push({ ...r, group });
    const us = r.latency.typicalUs;
    rows.push({ group, series: "latency", value: us, unit: "us", source: "sim" });
    const paper = ref.values.find((v) => v.system === system);
    if (paper === undefined) continue;
    rows.push({ group, series: "latency", value: paper.us, unit: "us", source: "paper" });
    comparisons.push(compare({
      figure: "rdma",
      metric: `${group} latency (us)`,
      paper: paper.us,
      simulated: us,
      tolerancePct: ref.tolerancePct,
    }));
  }
  return { rows, comparisons, runs };
}

const USAGE = `usage: deno run -A experiments/fig_rdma.ts [--small]
  InfiniBand RDMA latency (ib_write_lat, us) on Bare-metal, Deploy, Devirt and
  KVM/Pass: prints each system's run and the paper-versus-simulation checks.
  --small   the quick configuration (200 iterations, a 128 MB image for Devirt)
  exit status: 0 done, 1 the experiment failed, 2 invalid input (every issue listed at once)`;

if (import.meta.main) {
  const quick = smallFlag({ command: "fig_rdma", usage: USAGE });
  const out = await run(quick ? small : full);
  console.log(
    "system | typical us | avg us | trapped exits | timer exits | poll period ns | iommu ns",
  );
  for (const r of out.runs) {
    console.log(
      `${r.group} | ${r.latency.typicalUs.toFixed(3)} | ${
        r.latency.avgUs.toFixed(3)
      } | ${r.trappedExits} | ${r.timerExits.toFixed(1)} | ${r.pollPeriod} | ${r.parts.iommu}`,
    );
  }
  // Unjudged in the quick configuration: the paper's values do not apply.
  console.log("");
  console.log(formatComparison(out.comparisons, { judged: !quick }));
}
