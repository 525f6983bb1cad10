/**
 * The paper's four figures as `repro` and `report` run them: each one's
 * configuration, experiment and chart, and how the four share the machine's
 * two cores (startup, storage and RDMA in a worker beside Cassandra's three
 * runs, which take about as long).
 */
import { callInWorker } from "../lib/_util/mod.ts";
import {
  type BarRow,
  barsFigure,
  type ComparisonRow,
  type Figure,
  startupFigure,
  type StartupRow,
  throughputFigure,
  type ThroughputMarker,
  type ThroughputRow,
} from "../lib/plot/mod.ts";
import { minImageBytes, type Profile } from "../lib/scenario/mod.ts";
import * as startup from "./fig_startup.ts";
import * as cassandra from "./fig_cassandra.ts";
import * as storage from "./fig_storage.ts";
import * as rdma from "./fig_rdma.ts";

/** The paper's figures, in its order. */
export const FIGURE_NAMES = ["startup", "cassandra", "storage", "rdma"] as const;
/** One of {@link FIGURE_NAMES}. */
export type FigureName = (typeof FIGURE_NAMES)[number];

/**
 * What repro and report use of an experiment's output: plain data, so it
 * crosses workers (the outputs' other fields may hold live models, e.g. the
 * RDMA runs' HCAs).
 */
export interface FigureOutput {
  /** The experiment's tidy rows. */
  rows: Record<string, unknown>[];
  /** Paper-versus-simulation checks. */
  comparisons: ComparisonRow[];
  /** Fig. Cassandra's de-virtualization marker. */
  markers?: ThroughputMarker[];
}

interface FigureDef {
  /** The experiment's parameters for the quick or the paper's configuration (seed 1). */
  config(small: boolean, profile: Profile): Record<string, unknown>;
  run(params: Record<string, unknown>): Promise<FigureOutput>;
  chart(o: FigureOutput): Figure;
}

const plain = (o: { rows: readonly object[]; comparisons: ComparisonRow[] }): FigureOutput => ({
  rows: o.rows as Record<string, unknown>[],
  comparisons: o.comparisons,
});

const FIGURES: Record<FigureName, FigureDef> = {
  startup: {
    // The image must hold every area the boot reads and writes: another
    // profile's boot may need more than the quick configuration's 12 GB.
    config: (small, profile) =>
      small
        ? {
          ...startup.small,
          imageBytes: Math.max(startup.small.imageBytes ?? 0, minImageBytes(profile)),
        }
        : { ...startup.full },
    run: async (p) => plain(await startup.run(p as unknown as startup.StartupParams)),
    chart: (o) =>
      startupFigure(o.rows as unknown as StartupRow[], { title: "OS-startup time (s)" }),
  },
  cassandra: {
    // In this thread: the other experiments keep the second core busy meanwhile.
    config: (small) => ({ ...(small ? cassandra.small : cassandra.full), parallel: false }),
    run: async (p) => {
      const o = await cassandra.run(p as unknown as cassandra.CassandraParams);
      return { ...plain(o), markers: o.markers };
    },
    chart: (o) =>
      throughputFigure(o.rows as unknown as ThroughputRow[], o.markers ?? [], {
        title: "Cassandra throughput (% of bare metal)",
      }),
  },
  storage: {
    config: (small) => ({ ...(small ? storage.small : storage.full) }),
    run: async (p) => plain(await storage.run(p as unknown as storage.StorageParams)),
    chart: (o) =>
      barsFigure(o.rows as unknown as BarRow[], {
        title: "Storage throughput (MB/s)",
        yLabel: "MB/s",
      }),
  },
  rdma: {
    config: (small) => ({ ...(small ? rdma.small : rdma.full) }),
    run: async (p) => plain(await rdma.run(p as unknown as rdma.RdmaParams)),
    chart: (o) =>
      barsFigure(o.rows as unknown as BarRow[], {
        title: "InfiniBand RDMA latency (\u00b5s)",
        yLabel: "\u00b5s",
      }),
  },
};

/**
 * What repro and report say instead of a verdict when nothing is judged:
 * the quick configurations (`small`), or `--no-judge`.
 */
export function notJudgedText(small: boolean): string {
  return small
    ? "small configurations: the paper's values do not apply, nothing judged"
    : "--no-judge: the paper's values are shown beside the simulated ones, nothing judged";
}

/** What every figure of a run gets. */
export interface FigureSettings {
  /** Quick configurations. */
  small: boolean;
  /** Seed of every random stream. */
  seed: number;
  /** The hardware profile. */
  profile: Profile;
}

/** One figure's run: its parameters (without the profile), output or crash, and wall time. */
export interface FigureRun {
  name: FigureName;
  /** The experiment's parameters, seed included, profile left out. */
  config: Record<string, unknown>;
  /** Absent when the experiment threw. */
  output?: FigureOutput;
  /** The experiment's throw (its stack), when it threw. */
  error?: string;
  /** Wall time of the experiment, seconds (it may have shared the machine with another). */
  wallS: number;
}

/** The figure's chart (Observable Plot) for an output. */
export function figureChart(name: FigureName, output: FigureOutput): Figure {
  return FIGURES[name].chart(output);
}

/**
 * Runs the named figures' experiments one after another, each crash caught
 * as its figure's `error`; `report` gets each one's name as it ends. Exported for
 * {@link runFigures}' worker.
 */
export async function runFiguresHere(
  names: readonly FigureName[],
  settings: FigureSettings,
  report?: (name: FigureName) => void,
): Promise<FigureRun[]> {
  const { small, seed, profile } = settings;
  const out: FigureRun[] = [];
  for (const name of names) {
    const config = { ...FIGURES[name].config(small, profile), seed };
    const t0 = performance.now();
    const run: FigureRun = { name, config, wallS: 0 };
    try {
      run.output = await FIGURES[name].run({ ...config, profile });
    } catch (e) {
      run.error = e instanceof Error ? e.stack ?? e.message : String(e);
    }
    run.wallS = (performance.now() - t0) / 1000;
    report?.(name);
    out.push(run);
  }
  return out;
}

/** Run in a worker beside Cassandra's three runs: about as long as those (20-25 s). */
const BESIDE_CASSANDRA: readonly FigureName[] = ["startup", "storage", "rdma"];

/**
 * Runs the four figures' experiments for one seed and returns them in the
 * paper's order; `onEnd` gets each one's name as it ends. With `parallel` (the default)
 * startup, storage and RDMA run in a worker beside Cassandra: the results
 * are the same, in about two thirds of the wall time on 2 cores.
 * @example
 * ```ts ignore
 * import { runFigures } from "./_figures.ts";
 * const runs = await runFigures({ small: true, seed: 1, profile });
 * console.assert(runs.map((r) => r.name).join() === "startup,cassandra,storage,rdma");
 * ```
 */
export async function runFigures(
  options: FigureSettings & { parallel?: boolean; onEnd?: (name: FigureName) => void },
): Promise<FigureRun[]> {
  const { parallel = true, onEnd, ...settings } = options;
  if (!parallel) return runFiguresHere(FIGURE_NAMES, settings, onEnd);
  const beside = callInWorker<FigureRun[]>({
    module: import.meta.url,
    fn: "runFiguresHere",
    args: [BESIDE_CASSANDRA, settings],
    onProgress: (name) => onEnd?.(name as FigureName),
    what: `${BESIDE_CASSANDRA.join(", ")} (seed ${settings.seed})`,
  });
  // Settled either way before a failure is thrown: no worker outlives the call.
  const [here, there] = await Promise.allSettled([
    runFiguresHere(["cassandra"], settings, onEnd),
    beside,
  ]);
  if (here.status === "rejected") throw here.reason;
  if (there.status === "rejected") throw there.reason;
  const runs = [...here.value, ...there.value];
  return FIGURE_NAMES.map((name) => runs.find((r) => r.name === name)!);
}
