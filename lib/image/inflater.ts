/**
 * The receiving end of compressed image data (beyond the paper): one thread
 * that inflates compressed chunks in arrival order at a fixed output rate,
 * like Frisbee's decompressing thread (Hibler et al., USENIX ATC 2003), so
 * inflating one chunk overlaps fetching the next and writing the one before.
 * It runs on a core of its own, or holds one of a shared pool while it works
 * (`cores`: the node's CPUs, where BMcast's VMM takes the time from the guest).
 */
import { requireNumber, transferTime } from "../_util/mod.ts";
import type { Bytes, SimTime } from "../_util/mod.ts";
import { Resource } from "../sim/mod.ts";
import type { ProcessGenerator, SimEvent, Simulation } from "../sim/mod.ts";

/** Counters of an {@link Inflater}. */
export interface InflaterStats {
  /** Chunks inflated. */
  chunks: number;
  /** Image bytes they inflated to. */
  bytes: Bytes;
  /** Time spent inflating, ns. */
  busy: SimTime;
}

/**
 * One inflating thread.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { Inflater } from "./inflater.ts";
 * const sim = new Simulation();
 * const z = new Inflater(sim, { rate: 100e6, name: "n0" });
 * z.inflate(1e6); // 10 ms
 * const second = z.inflate(1e6); // waits for the first
 * sim.run();
 * console.assert(sim.now === 20e6 && second.ok && z.stats.chunks === 2);
 * ```
 */
export class Inflater {
  /** Output bytes per second. */
  readonly rate: number;
  /** Counters since creation. */
  readonly stats: InflaterStats = { chunks: 0, bytes: 0, busy: 0 };
  readonly #sim: Simulation;
  /** The one thread: chunks are inflated one at a time, in order. */
  readonly #thread: Resource;
  readonly #cores: Resource | undefined;

  /**
   * A thread of host `name` inflating at `rate` bytes of output per second.
   * @throws RangeError when `rate` is not a positive number.
   */
  constructor(
    sim: Simulation,
    options: {
      rate: number;
      name: string;
      /** CPUs to hold one of while inflating (shared with other work). @default a core of its own */
      cores?: Resource;
    },
  ) {
    requireNumber(`create inflater on '${options.name}'`, "rate", options.rate, {
      min: 0,
      strict: true,
    });
    this.rate = options.rate;
    this.#sim = sim;
    this.#thread = new Resource(sim, { name: `${options.name}:inflate` });
    this.#cores = options.cores;
  }

  /** Inflates a chunk to `bytes` image bytes after those queued before it. */
  inflate(bytes: Bytes): SimEvent<void> {
    return this.#sim.process(this.#run(bytes), "inflate");
  }

  *#run(bytes: Bytes): ProcessGenerator<void> {
    using thread = this.#thread.request();
    yield thread;
    using core = this.#cores?.request();
    if (core !== undefined) yield core;
    const t = transferTime(bytes, this.rate);
    yield this.#sim.timeout(t);
    this.stats.chunks++;
    this.stats.bytes += bytes;
    this.stats.busy += t;
  }
}
