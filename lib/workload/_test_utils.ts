/**
 * Fakes for workload tests: a block driver with a per-request latency and a
 * media bandwidth, keeping block versions in a VersionMap.
 */
import type { SimTime } from "../_util/mod.ts";
import { IMAGE_VERSION, requireNumber, transferTime, VersionMap } from "../_util/mod.ts";
import type { ProcessGenerator, SimEvent, Simulation } from "../sim/mod.ts";
import { Resource } from "../sim/mod.ts";
import type { BlockWrite, GuestBlockDriver, IoResult } from "../guest/mod.ts";
import type { KvOpRecord } from "./kvstore.ts";

/** A request as the fake sees it. */
export interface FakeRequest {
  op: "read" | "write";
  lba: number;
  count: number;
}

/** Options of {@link FakeDriver}. */
export interface FakeDriverOptions {
  /** Capacity in 512-byte sectors. */
  sectors: number;
  /** Fixed latency of every request (overlaps between requests), ns, or a function of the request. @default 0 */
  latency?: SimTime | ((req: FakeRequest) => SimTime);
  /** Media bandwidth, bytes/s; transfers are serialised at this rate. @default Infinity */
  bandwidth?: number;
  /** Version of every sector at first. @default IMAGE_VERSION */
  initial?: number;
  /** Time a flush takes, ns. @default 0 */
  flushLatency?: SimTime;
}

/**
 * A {@link GuestBlockDriver} whose request takes `latency` (concurrent
 * requests overlap) followed by a transfer on one channel at `bandwidth`.
 */
export class FakeDriver implements GuestBlockDriver {
  readonly versions: VersionMap;
  readonly log: (FakeRequest & { start: SimTime; end: SimTime })[] = [];
  /** Writes asked for with FUA, and flushes, in order: "fua <lba>", "flush <time issued>". */
  readonly durable: string[] = [];
  #flushLatency: SimTime;
  #latency: (req: FakeRequest) => SimTime;
  #bandwidth: number;
  #channel: Resource;

  constructor(readonly sim: Simulation, options: FakeDriverOptions) {
    const { sectors, latency = 0, bandwidth = Infinity, initial = IMAGE_VERSION } = options;
    requireNumber("create fake driver", "sectors", sectors, { integer: true, min: 1 });
    if (!(bandwidth > 0)) {
      requireNumber("create fake driver", "bandwidth", bandwidth, { min: 0, strict: true });
    }
    this.versions = new VersionMap(sectors, initial);
    this.#latency = typeof latency === "number" ? () => latency : latency;
    this.#bandwidth = bandwidth;
    this.#channel = new Resource(sim, { capacity: 1, name: "fake media" });
    this.#flushLatency = options.flushLatency ?? 0;
  }

  read(req: { lba: number; count: number }): SimEvent<IoResult> {
    return this.#io({ op: "read", lba: req.lba, count: req.count });
  }

  write(req: BlockWrite): SimEvent<IoResult> {
    if (req.fua === true) this.durable.push(`fua ${req.lba}`);
    const v = req.version;
    const versions = typeof v === "number" ? new Int32Array(req.count).fill(v) : Int32Array.from(v);
    if (versions.length !== req.count) {
      throw new RangeError("fake write: 'version' length differs from 'count'");
    }
    return this.#io({ op: "write", lba: req.lba, count: req.count }, versions);
  }

  /** Completes after `flushLatency` (a write here completes on the media: nothing is cached). */
  flush(): SimEvent<IoResult> {
    this.durable.push(`flush ${this.sim.now}`);
    return this.sim.timeout(this.#flushLatency, { ok: true, latency: this.#flushLatency });
  }

  #io(req: FakeRequest, versions?: Int32Array): SimEvent<IoResult> {
    const sim = this.sim;
    const { lba, count } = req;
    if (
      !(Number.isInteger(lba) && Number.isInteger(count) && lba >= 0 && count >= 1 &&
        lba + count <= this.versions.blocks)
    ) {
      throw new RangeError(`fake ${req.op}: [${lba}, ${lba + count}) outside the disk`);
    }
    return sim.process(this.#serve(req, sim.now, versions)) as SimEvent<IoResult>;
  }

  *#serve(req: FakeRequest, start: SimTime, versions?: Int32Array): ProcessGenerator<IoResult> {
    const sim = this.sim;
    const { lba, count } = req;
    yield sim.timeout(this.#latency(req));
    if (this.#bandwidth !== Infinity) {
      using ch = this.#channel.request();
      yield ch;
      yield sim.timeout(transferTime(count * 512, this.#bandwidth));
    }
    this.log.push({ ...req, start, end: sim.now });
    if (versions !== undefined) {
      this.versions.set(lba, versions);
      return { ok: true, latency: sim.now - start };
    }
    return { ok: true, versions: this.versions.read(lba, count), latency: sim.now - start };
  }
}

/** A CPU whose memory-bound work is `overhead` slower (EPT-like); 0 is bare metal. */
export function fakeCpu(overhead = 0): { computeTime(ns: SimTime, memoryBound: number): SimTime } {
  return { computeTime: (ns, mb) => Math.round(ns * (1 + overhead * mb)) };
}

/** Checks every read against the history: it sees the newest update finished before it began, or a later one. */
export function checkReads(history: readonly KvOpRecord[]): void {
  const updates = new Map<number, KvOpRecord[]>();
  for (const h of history) {
    if (h.op === "update") (updates.get(h.key) ?? updates.set(h.key, []).get(h.key)!).push(h);
  }
  for (const r of history) {
    if (r.op !== "read") continue;
    const us = updates.get(r.key) ?? [];
    const before = us.filter((u) => u.end <= r.start).map((u) => u.version);
    const floor = before.length === 0 ? 0 : Math.max(...before);
    const allowed = new Set([
      floor,
      ...us.filter((u) => u.start <= r.end && u.version > floor).map((u) => u.version),
    ]);
    if (!allowed.has(r.version)) {
      throw new Error(
        `read of key ${r.key} at ${r.start} returned ${r.version}, expected one of ${[...allowed]}`,
      );
    }
  }
}
