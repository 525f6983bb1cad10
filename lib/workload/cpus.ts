/**
 * The guest's CPUs as workloads see them: a pool of `cores` identical cores
 * (a FIFO {@link Resource}) on which work of a nominal bare-metal duration
 * takes whatever the CPU underneath makes of it (EPT overhead under a VMM).
 */
import type { SimTime } from "../_util/mod.ts";
import { rangeError, requireFraction, requireNumber } from "../_util/mod.ts";
import type { ProcessGenerator, Simulation } from "../sim/mod.ts";
import { Resource } from "../sim/mod.ts";

/**
 * Anything that turns nominal (bare-metal) work into real time; lib/hw's
 * `Cpu` is one (its EPT overhead applies to the memory-bound fraction).
 */
export interface CpuTime {
  /** Real duration of `ns` of bare-metal work whose fraction `memoryBound` (0..1) is memory-bound. */
  computeTime(ns: SimTime, memoryBound: number): SimTime;
}

/** Options of {@link GuestCpus}. */
export interface GuestCpusOptions {
  /** What a core's work costs (a lib/hw Cpu, or any {@link CpuTime}). */
  cpu: CpuTime;
  /** Number of cores the guest schedules work on. */
  cores: number;
}

/**
 * The guest's cores: `run()` waits for a free core, then holds it for the
 * real duration of the work.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { GuestCpus } from "./cpus.ts";
 * const sim = new Simulation();
 * const slow = { computeTime: (ns: number, mb: number) => Math.round(ns * (1 + 0.1 * mb)) };
 * const cpus = new GuestCpus(sim, { cpu: slow, cores: 1 });
 * sim.process(function* () {
 *   yield* cpus.run(1000, 1);
 *   console.assert(sim.now === 1100);
 * });
 * sim.run();
 * ```
 */
export class GuestCpus {
  /** What a core's work costs (the nominal-to-real time conversion). */
  readonly cpu: CpuTime;
  /** Number of cores. */
  readonly cores: number;
  /** The cores as a FIFO resource of capacity `cores`; `run()` holds one while it works. */
  readonly pool: Resource;

  /**
   * Guest cores on `sim`.
   * @param sim the simulation the cores' work runs in
   * @param options the CPU underneath and the number of cores
   * @throws RangeError when `cores` is not a positive integer
   * @throws TypeError when `cpu` has no `computeTime` method
   */
  constructor(readonly sim: Simulation, options: GuestCpusOptions) {
    const { cpu, cores } = options;
    requireNumber("create guest CPUs", "cores", cores, { integer: true, min: 1 });
    if (typeof cpu?.computeTime !== "function") {
      throw new TypeError(
        "Cannot create guest CPUs: 'cpu' must have a computeTime(ns, memoryBound) method",
      );
    }
    this.cpu = cpu;
    this.cores = cores;
    this.pool = new Resource(sim, { capacity: cores, name: "guest cpus" });
  }

  /**
   * Runs `ns` of nominal work on one core; returns the real time it took on the core.
   * @param ns nominal (bare-metal) duration, an integer >= 0 (the simulation's clock ticks in ns)
   * @param memoryBound the fraction of the work that is memory-bound, in [0, 1]
   * @throws RangeError naming `ns` or `memoryBound` when out of range
   */
  *run(ns: SimTime, memoryBound = 0): ProcessGenerator<SimTime> {
    if (!(Number.isInteger(ns) && ns >= 0)) {
      throw rangeError("run guest CPU work", "ns", "an integer >= 0", ns);
    }
    requireFraction("run guest CPU work", "memoryBound", memoryBound);
    if (ns === 0) return 0;
    const t = this.cpu.computeTime(ns, memoryBound);
    using core = this.pool.request();
    yield core;
    yield this.sim.timeout(t);
    return t;
  }
}
