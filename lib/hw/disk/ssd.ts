/**
 * A SATA SSD for what-if studies: fixed per-command latency, a number of
 * internal channels serving commands in parallel, and a shared sustained
 * bandwidth. No seek, no rotation.
 */
import { NS_PER_S, requireNumber } from "../../_util/mod.ts";
import type { SimTime, VersionMap } from "../../_util/mod.ts";
import { type ProcessGenerator, Resource } from "../../sim/mod.ts";
import type { SimEvent, Simulation } from "../../sim/mod.ts";
import type { BlockDevice, DiskCommand, DiskResult } from "./block_device.ts";
import { SECTOR_SIZE } from "./block_device.ts";
import {
  Activity,
  Admission,
  applyContent,
  count,
  type Decoded,
  type DiskStats,
  emptyStats,
  makeContent,
} from "./_common.ts";

/** Parameters of {@link Ssd}; every cost comes from here. */
export interface SsdOptions {
  /** Device label (process names, IDENTIFY strings). @default "ssd" */
  name?: string;
  /** Capacity in 512-byte sectors. */
  sectors: number;
  /** Time from service start to data ready for a read (flash read + controller), ns. */
  readLatency: SimTime;
  /** Time from service start to a write being accepted (buffer + controller), ns. */
  writeLatency: SimTime;
  /** Commands the controller serves at once (flash channels / dies in parallel). */
  channels: number;
  /** Sustained read bandwidth of the whole device (incl. the SATA link), bytes/s. */
  readBandwidth: number;
  /** Sustained write bandwidth of the whole device, bytes/s. */
  writeBandwidth: number;
  /** Extra time of FLUSH CACHE after earlier commands completed, ns. @default 0 */
  flushLatency?: SimTime;
  /** NCQ queue depth. @default 32 */
  queueDepth?: number;
  /** Existing content; its size must equal `sectors`. */
  content?: VersionMap;
  /** Version of every sector of a fresh disk when `content` is not given. @default NO_VERSION */
  initialVersion?: number;
}

/**
 * A SATA SSD. A command waits for one of `channels` (FIFO), spends its
 * latency, then moves its bytes through one shared pipe at the read or write
 * bandwidth, so a lone 4 KiB read takes `readLatency + 4096/readBandwidth`
 * and deep queues saturate the bandwidth. FLUSH completes `flushLatency`
 * after every earlier command. Content changes when a command gets its
 * channel, i.e. in submission order. Guest errors ("idnf", "abrt") complete
 * after `readLatency`. Not modelled: garbage collection, write
 * amplification, SLC caching, wear, thermal throttling.
 * @example
 * ```ts
 * import { Simulation } from "../../sim/mod.ts";
 * import { Ssd } from "./ssd.ts";
 * const sim = new Simulation();
 * const ssd = new Ssd(sim, {
 *   sectors: 1 << 24, readLatency: 80_000, writeLatency: 40_000, channels: 8,
 *   readBandwidth: 540e6, writeBandwidth: 500e6,
 * });
 * const ev = ssd.submit({ op: "read", lba: 0, count: 8 });
 * sim.run();
 * console.assert(ev.value.ok && ev.value.serviceTime === 80_000 + Math.ceil(4096 / 540e6 * 1e9));
 * ```
 */
export class Ssd implements BlockDevice {
  readonly name: string;
  readonly sectors: number;
  readonly content: VersionMap;
  readonly queueDepth: number;

  readonly #sim: Simulation;
  readonly #o: Required<Omit<SsdOptions, "content" | "initialVersion" | "name">>;
  readonly #channels: Resource;
  readonly #activity: Activity;
  readonly #admission: Admission;
  readonly #stats: DiskStats = emptyStats();
  /** When the shared transfer pipe is next free. */
  #pipeFreeAt: SimTime = 0;
  /** Completion events of commands not yet completed, for FLUSH. */
  #pending = new Set<SimEvent<DiskResult>>();

  /**
   * Creates an idle SSD.
   * @param sim Simulation that times the device.
   * @param options Latencies, parallelism and bandwidths (validated).
   */
  constructor(sim: Simulation, options: SsdOptions) {
    const name = options.name ?? "ssd";
    const what = `create SSD '${name}'`;
    const o = { flushLatency: 0, queueDepth: 32, ...options };
    requireNumber(what, "sectors", o.sectors, { integer: true, min: 0, strict: true });
    for (const f of ["readLatency", "writeLatency", "flushLatency"] as const) {
      requireNumber(what, f, o[f], { integer: true, min: 0 });
    }
    requireNumber(what, "channels", o.channels, { integer: true, min: 0, strict: true });
    for (const f of ["readBandwidth", "writeBandwidth"] as const) {
      requireNumber(what, f, o[f], { min: 0, strict: true });
    }
    requireNumber(what, "queueDepth", o.queueDepth, { integer: true, min: 0, strict: true });
    this.#sim = sim;
    this.#o = o;
    this.name = name;
    this.sectors = o.sectors;
    this.queueDepth = o.queueDepth;
    this.content = makeContent(what, o.sectors, options.content, options.initialVersion);
    this.#channels = new Resource(sim, { capacity: o.channels, name: `${name}:channels` });
    this.#activity = new Activity(sim);
    this.#admission = new Admission({
      activity: this.#activity,
      stats: this.#stats,
      queueDepth: o.queueDepth,
      sectors: o.sectors,
      errorTime: o.readLatency,
      finish: (d, ev, r) => this.#finish(d, ev, r),
    });
  }

  /** Commands queued or in service. */
  get outstanding(): number {
    return this.#activity.outstanding;
  }
  /** True when no host command is outstanding. */
  get isIdle(): boolean {
    return this.#activity.outstanding === 0;
  }
  /** When the disk last became idle, ns; NaN while commands are outstanding. */
  get idleSince(): SimTime {
    return this.#activity.idleSince;
  }

  /** An event that succeeds when no host command is outstanding (at once if none is). */
  whenIdle(): SimEvent<void> {
    return this.#activity.whenIdle();
  }

  /** Counters so far (a snapshot). */
  stats(): DiskStats {
    return { ...this.#stats, busyTime: this.#activity.busyTime() };
  }

  /** Queues a command; the event succeeds with its result. Guest errors give ok=false, never throw. */
  submit(cmd: DiskCommand): SimEvent<DiskResult> {
    const ev = this.#sim.event<DiskResult>();
    const d = this.#admission.admit(cmd, ev);
    if (d === null) return ev;
    const earlier = [...this.#pending];
    this.#pending.add(ev);
    this.#sim.process(
      d.op === "flush" ? this.#flush(ev, earlier) : this.#serve(d, ev),
      `${this.name}:${d.op}`,
    );
    return ev;
  }

  *#serve(d: Decoded, ev: SimEvent<DiskResult>): ProcessGenerator<void> {
    const sim = this.#sim;
    using req = this.#channels.request();
    yield req;
    const start = sim.now;
    const versions = applyContent(this.content, d);
    const read = d.op === "read";
    yield sim.timeout(read ? this.#o.readLatency : this.#o.writeLatency);
    const bw = read ? this.#o.readBandwidth : this.#o.writeBandwidth;
    const from = Math.max(sim.now, this.#pipeFreeAt);
    this.#pipeFreeAt = from + Math.ceil(((d.count * SECTOR_SIZE) / bw) * NS_PER_S);
    yield sim.timeout(this.#pipeFreeAt - sim.now);
    this.#finish(d, ev, { ok: true, versions, serviceTime: sim.now - start });
  }

  *#flush(ev: SimEvent<DiskResult>, earlier: SimEvent<DiskResult>[]): ProcessGenerator<void> {
    const sim = this.#sim;
    const start = sim.now;
    yield sim.allOf(earlier);
    yield sim.timeout(this.#o.flushLatency);
    const d: Decoded = { op: "flush", lba: 0, count: 0, versions: null, fua: false };
    this.#finish(d, ev, { ok: true, serviceTime: sim.now - start });
  }

  #finish(d: Decoded | null, ev: SimEvent<DiskResult>, result: DiskResult): void {
    this.#pending.delete(ev);
    count(this.#stats, d, result);
    ev.succeed(result);
    this.#activity.end();
  }
}
