/**
 * The experiments as a library: one module per figure of the paper
 * (`startup`, `cassandra`, `storage`, `rdma`) and four beyond it (`fleet`,
 * `sensitivity`, `copier`, `elasticity`). Each has `run(params)` returning tidy rows (and
 * comparison rows where the paper has values), and `small` / `full`
 * configurations; `reproduce` runs the paper's four as `deno task repro` does,
 * and `sim.main(args)` is `deno task sim`.
 * @example
 * ```ts
 * import { rdma } from "./mod.ts";
 * const out = await rdma.run(rdma.small);
 * console.assert(out.comparisons.length === 4 && out.comparisons.every((c) => c.pass));
 * ```
 * @module
 */
/** Fig. OS-startup time: the phases of each deployment method, from the end of POST. */
export * as startup from "./fig_startup.ts";
/** Fig. Cassandra throughput during deployment. */
export * as cassandra from "./fig_cassandra.ts";
/** Fig. storage throughput. */
export * as storage from "./fig_storage.ts";
/** Fig. InfiniBand RDMA latency. */
export * as rdma from "./fig_rdma.ts";
/** Beyond the paper: N nodes at once. */
export * as fleet from "./fig_fleet.ts";
/** Beyond the paper: which profile parameters the results depend on. */
export * as sensitivity from "./fig_sensitivity.ts";
/** Beyond the paper: background-copy policies. */
export * as copier from "./fig_copier.ts";
/** Beyond the paper: the capacity a scale-out adds over time. */
export * as elasticity from "./fig_elasticity.ts";
/** `deno task sim` as a function: `sim.main(args)` (e.g. after registering a strategy). */
export * as sim from "./sim.ts";
export { type FigureOut, reproduce, type ReproduceOptions } from "./repro.ts";
export type { ImageArea } from "./_params.ts";
