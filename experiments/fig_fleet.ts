/**
 * Beyond the paper: how fast do N nodes come up? The paper deploys one node;
 * here N nodes start at once with one strategy, sharing one image server
 * (with its page cache, cold at the start) and one GbE switch (the profile's
 * `network.rackSize` puts them in racks)
 * (lib/scenario/fleet, the engine of `deno task sim`). For each strategy and
 * fleet size: the startup time of the last node up, from the end of its POST.
 * Nothing here is compared with the paper: it has no such figure.
 * Runnable alone: `deno run -A experiments/fig_fleet.ts [--small]`.
 */
import { BUILTIN_PROFILE, loadProfile, type Profile } from "../lib/scenario/mod.ts";
import {
  type FleetSummaryRow,
  type Outage,
  parseScenario,
  type ProfileOverrides,
  runFleet,
  ScenarioError,
  type ScenarioPoint,
} from "../lib/scenario/fleet.ts";
import type { BarRow } from "../lib/plot/mod.ts";
import { smallFlag } from "../lib/_util/mod.ts";
import { paramIssues, type ParamRules } from "./_params.ts";

/** Parameters of the fleet experiment. */
export interface FleetParams {
  /** Strategies, in bar order (names of `deno task sim --strategy`). */
  strategies: readonly string[];
  /** Fleet sizes, one bar group each. */
  nodes: readonly number[];
  /** Image size, GB; absent: the profile's (32). */
  imageGb?: number;
  /** Nodes power on at seeded random instants over this many seconds. */
  staggerS: number;
  /** Profile parameters changed for every run, e.g. `{ "hdd.rpm": 15000 }`. */
  set?: ProfileOverrides;
  /** Every image server unreachable for a while in every run (beyond the paper); absent: none. */
  outage?: Outage;
  /**
   * Run until every OS is up, or on until every node is deployed (the
   * summary's `deployedS`; the bars still show the last node up). @default "up"
   */
  until?: "up" | "deployed";
  /** Seed of every random stream. */
  seed: number;
  /** The hardware profile. @default the built-in profile */
  profile?: Profile;
}

/** Five strategies (multicast image copy beyond the paper), 1 to 16 nodes, the paper's 32 GB image, all powered on at once. */
export const full: FleetParams = {
  strategies: ["bmcast", "nfsroot", "kvm-nfs", "image-copy", "image-copy-multicast"],
  nodes: [1, 2, 4, 8, 16],
  staggerS: 0,
  seed: 1,
};

/**
 * A quick configuration for tests: the streaming strategies on 1 and 4
 * nodes (startup does not depend on the image size for them; the smallest
 * image that holds the boot keeps the world small).
 */
export const small: FleetParams = {
  strategies: ["bmcast", "nfsroot", "kvm-nfs"],
  nodes: [1, 4],
  imageGb: 10.35,
  staggerS: 0,
  seed: 1,
};

/** Output of {@link run}. */
export interface FleetOutput {
  /** Last node up per fleet size (group "N nodes") and strategy (series), s. */
  rows: BarRow[];
  /** One row per run: first, mean, last node up, ready time, server GB sent and read from disk, its link and disk use. */
  summary: FleetSummaryRow[];
}

/** The parameters; each strategy and fleet size is checked as the fleet's scenario. */
const RULES: ParamRules<FleetParams> = {
  strategies: { list: "string", noun: "strategies", required: true },
  nodes: { list: "number", noun: "fleet sizes", required: true },
  imageGb: true,
  staggerS: { required: true },
  set: true,
  outage: true,
  until: true,
  seed: { required: true },
  profile: true,
};

/**
 * Runs every strategy on every fleet size, each on a fresh world.
 * @throws ScenarioError naming every unknown or missing parameter, empty
 * list, bad strategy, fleet size, image size, profile change, or a profile
 * that is not one
 * @example
 * ```ts
 * import { run, small } from "./fig_fleet.ts";
 * const out = await run({ ...small, strategies: ["nfsroot"], nodes: [2] });
 * console.assert(out.rows.length === 1 && out.summary[0].nodes === 2);
 * ```
 */
export async function run(params: FleetParams = full): Promise<FleetOutput> {
  const own = paramIssues(params, RULES);
  if (own.length > 0) throw new ScenarioError(own.map((i) => `${i.field}: ${i.message}`));
  const profile = params.profile ?? await loadProfile(BUILTIN_PROFILE);
  const points: ScenarioPoint[] = [];
  // The CLI's validation, over every point before any run; each issue once.
  const issues = new Set<string>();
  for (const nodes of params.nodes) {
    for (const strategy of params.strategies) {
      try {
        const s = parseScenario(
          {
            strategy,
            nodes,
            seed: params.seed,
            imageGb: params.imageGb,
            staggerS: params.staggerS,
            set: params.set,
            outage: params.outage,
            until: params.until,
          },
          { profile },
        );
        points.push({ ...s, run: `${strategy} x${nodes}` });
      } catch (e) {
        if (!(e instanceof ScenarioError)) throw e;
        for (const issue of e.issues) issues.add(issue);
      }
    }
  }
  if (issues.size > 0) throw new ScenarioError([...issues]);
  const rows: BarRow[] = [];
  const summary: FleetSummaryRow[] = [];
  for (const point of points) {
    const out = runFleet({ profile, point });
    summary.push(out.summary);
    rows.push({
      group: `${point.nodes} node${point.nodes === 1 ? "" : "s"}`,
      series: point.strategy,
      value: out.summary.lastS,
      unit: "s",
      source: "sim",
    });
  }
  return { rows, summary };
}

/** Where the SSD is in {@link runSsd}: nowhere (the built-in profile's HDDs), or a choice of `ssd.machines`. */
export const SSD_PLACES = ["none", "nodes", "server", "all"] as const;
/** One of {@link SSD_PLACES}. */
export type SsdPlace = typeof SSD_PLACES[number];

/** Parameters of {@link runSsd}: the fleet experiment's, on the SSD profile, and where the SSD is. */
export interface SsdParams extends Omit<FleetParams, "profile"> {
  /** Where the SSD is, one bar group each. @default SSD_PLACES */
  places?: readonly SsdPlace[];
}

/** BMcast and NFS root on 1 and 16 nodes, the paper's 32 GB image. */
export const ssdFull: SsdParams = {
  strategies: ["bmcast", "nfsroot"],
  nodes: [1, 16],
  staggerS: 0,
  seed: 1,
};

/** A quick configuration for tests and notebooks: one node, the smallest image that holds the boot. */
export const ssdSmall: SsdParams = { ...ssdFull, nodes: [1], imageGb: 10.35 };

/** {@link runSsd}'s parameters: the fleet's (checked again by {@link run}) and the places. */
const SSD_RULES: ParamRules<SsdParams> = (({ profile: _, ...fleet }) => ({
  ...fleet,
  places: { list: SSD_PLACES },
}))(RULES);

/** The SSD profile, beside the built-in one: a SATA SSD where `ssd.machines` says. */
const SSD_PROFILE = new URL("paper-2015-ssd.json", BUILTIN_PROFILE);

/**
 * Beyond the paper: where an SSD helps. The fleet experiment once per place
 * of data/profiles/paper-2015-ssd.json's SATA SSD: no SSD (the built-in
 * profile), each node's local disk, each image server's disk, or both.
 * BMcast's boot reads absent blocks from the server's disk and present ones,
 * with its copier's writes, from the node's; NFS root never touches the
 * node's disk. Rows: group `SSD: <place>`, series `<strategy>, <N> node(s)`,
 * the last node up (s from the end of its POST); the summary's rows in the
 * same order, each run named `<strategy> x<N>, SSD: <place>`.
 * @throws ScenarioError as {@link run}, and for a place not in {@link SSD_PLACES}
 * @example
 * ```ts
 * import { runSsd, ssdSmall } from "./fig_fleet.ts";
 * const out = await runSsd({ ...ssdSmall, strategies: ["nfsroot"], places: ["none", "server"] });
 * console.assert(out.rows[1].value < out.rows[0].value); // the server's SSD serves NFS root faster
 * ```
 */
export async function runSsd(params: SsdParams = ssdFull): Promise<FleetOutput> {
  const own = paramIssues(params, SSD_RULES);
  if (own.length > 0) throw new ScenarioError(own.map((i) => `${i.field}: ${i.message}`));
  const { places = SSD_PLACES, ...fleet } = params;
  const base = await loadProfile(BUILTIN_PROFILE);
  const ssd = places.some((p) => p !== "none") ? await loadProfile(SSD_PROFILE) : base;
  return await runEach(places, (place) => [
    `SSD: ${place}`,
    place === "none"
      ? { ...fleet, profile: base }
      : { ...fleet, profile: ssd, set: { ...fleet.set, "ssd.machines": place } },
  ]);
}

/**
 * The fleet experiment once per variant: each run's rows grouped by the
 * variant's name (the series names strategy and fleet size), its summary rows
 * named `<run>, <name>`.
 */
async function runEach<T>(
  variants: readonly T[],
  variant: (v: T) => [name: string, params: FleetParams],
): Promise<FleetOutput> {
  const rows: BarRow[] = [];
  const summary: FleetSummaryRow[] = [];
  for (const v of variants) {
    const [name, params] = variant(v);
    const out = await run(params);
    out.rows.forEach((r) => rows.push({ ...r, group: name, series: `${r.series}, ${r.group}` }));
    summary.push(...out.summary.map((x) => ({ ...x, run: `${x.run}, ${name}` })));
  }
  return { rows, summary };
}

/** Parameters of {@link runImages}: the fleet experiment's, and how many distinct images. */
export interface ImagesParams extends FleetParams {
  /** Distinct images the nodes boot (`imageServer.images`), one bar group each. @default [1, 4, 8] */
  images?: readonly number[];
}

/** BMcast and NFS root on 16 nodes booting 1, 4 or 8 distinct images of the paper's 32 GB. */
export const imagesFull: ImagesParams = {
  strategies: ["bmcast", "nfsroot"],
  nodes: [16],
  staggerS: 0,
  seed: 1,
  images: [1, 4, 8],
};

/** A quick configuration for tests and notebooks: 4 nodes, 1 or 4 images of the smallest size that holds the boot. */
export const imagesSmall: ImagesParams = {
  ...imagesFull,
  nodes: [4],
  imageGb: 10.35,
  images: [1, 4],
};

/** Most distinct images (the profile's `imageServer.images` rule). */
const MAX_IMAGES = 128;

/** {@link runImages}'s parameters: the fleet's (checked again by {@link run}) and the image counts. */
const IMAGES_RULES: ParamRules<ImagesParams> = { ...RULES, images: { list: "number" } };

/**
 * Beyond the paper: many images. The fleet experiment once per number of
 * distinct images the nodes boot (`imageServer.images`: node i boots image
 * i mod K; the paper deploys one). The server reads each image's blocks
 * from its disk, where the images lie one after the other, and caches them
 * apart: with more images its disk, not its link, bounds the fleet. Rows:
 * group `<K> image(s)`, series `<strategy>, <N> node(s)`, the last node up
 * (s from the end of its POST); the summary's rows in the same order, each
 * run named `<strategy> x<N>, <K> image(s)`.
 * @throws ScenarioError as {@link run} (an image count the server's disk cannot hold is named)
 * @example
 * ```ts
 * import { imagesSmall, runImages } from "./fig_fleet.ts";
 * const out = await runImages({ ...imagesSmall, strategies: ["nfsroot"] });
 * console.assert(out.rows[1].value > out.rows[0].value); // 4 images boot slower than 1
 * ```
 */
export async function runImages(params: ImagesParams = imagesFull): Promise<FleetOutput> {
  const own = paramIssues(params, IMAGES_RULES).map((i) => `${i.field}: ${i.message}`);
  const { images = [1, 4, 8], ...fleet } = params;
  // Named by index here; what the server's disk holds is the profile's check, in run().
  images.forEach((k, i) => {
    if (typeof k === "number" && !(Number.isInteger(k) && k >= 1 && k <= MAX_IMAGES)) {
      own.push(`images[${i}]: must be an integer in [1, ${MAX_IMAGES}]: current value is ${k}`);
    }
  });
  if (own.length > 0) throw new ScenarioError(own);
  return await runEach(images, (k) => [
    `${k} image${k === 1 ? "" : "s"}`,
    { ...fleet, set: { ...fleet.set, "imageServer.images": k } },
  ]);
}

const USAGE = `usage: deno run -A experiments/fig_fleet.ts [--small]
  Beyond the paper: the last of N nodes up (s from the end of its POST), per
  strategy and fleet size; prints one line per run. Any other fleet: deno task sim --help.
  --small   the quick configuration (bmcast, nfsroot, kvm-nfs on 1 and 4 nodes)
  exit status: 0 done, 1 the experiment failed, 2 invalid input (every issue listed at once)`;

if (import.meta.main) {
  const quick = smallFlag({ command: "fig_fleet", usage: USAGE });
  const out = await run(quick ? small : full);
  console.log(
    "strategy | nodes | last node up s | ready s | server GB | disk GB | link % | disk %",
  );
  for (const s of out.summary) {
    console.log(
      [
        s.strategy,
        s.nodes,
        s.lastS.toFixed(1),
        s.readyS.toFixed(1),
        s.serverGb.toFixed(2),
        s.serverDiskGb.toFixed(2),
        s.serverLinkPct.toFixed(1),
        s.serverDiskPct.toFixed(1),
      ].join(" | "),
    );
  }
}
