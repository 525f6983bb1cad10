/**
 * The root file system over NFS on bare metal (the OS-streaming baseline),
 * seen as a block client of the OS image: no VMM, no local disk. Reads are
 * served from the client's page cache or fetched in RPCs of at most `rsize`
 * bytes aligned to `rsize` (Linux NFS `rsize`), at most `maxInFlight` at once
 * (the sunrpc slot table); each RPC costs client CPU (XDR, sunrpc, socket,
 * page cache insert). A sequential reader triggers read-ahead of
 * `readAhead` further RPCs. Writes stay in a local overlay (tmpfs/overlayfs
 * upper layer) or are also sent to the server in RPCs of `wsize`.
 *
 * The network and the server are an injected transport: lib/guest does not
 * know the image server, so the deploy layer passes an image-protocol client
 * (its flows, RTT and the server's CPU, cache and disk give the RPC's time).
 */
import {
  NO_VERSION,
  rangeError,
  requireNumber,
  requireSectorRange,
  transferTime,
  VersionMap,
} from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import { Resource } from "../sim/mod.ts";
import type { ProcessGenerator, SimEvent, Simulation } from "../sim/mod.ts";
import type { BlockRead, BlockWrite, GuestBlockDriver, IoResult } from "./ahci_driver.ts";

const SECTOR = 512;

/** Reads `count` image sectors from `lba` at the server; fails when the RPC does. */
export type NfsReadTransport = (req: { lba: number; count: number }) => SimEvent<Int32Array>;
/** Writes versions to the server from `lba`. */
export type NfsWriteTransport = (req: { lba: number; versions: Int32Array }) => SimEvent<unknown>;

/** Where guest writes go. */
export type NfsWriteMode = "overlay" | "server";

/** Client CPU costs, ns. */
export interface NfsClientCosts {
  /** Per guest request: VFS and page cache lookup. */
  request: SimTime;
  /** Per RPC: encode, sunrpc and socket send, reply decode, page cache insert. */
  rpc: SimTime;
}

/** Options of {@link NfsClient}. */
export interface NfsClientOptions {
  /** Simulation the client's request and RPC processes run in. */
  sim: Simulation;
  /** Size of the exported image, 512-byte sectors. */
  sectors: number;
  /** READ path to the server (network, server CPU, cache and disk). */
  transport: NfsReadTransport;
  /** Client CPU time per request and per RPC, ns. */
  costs: NfsClientCosts;
  /** Largest READ, bytes; RPCs are aligned to it. @default 32768 */
  rsize?: number;
  /** Largest WRITE, bytes. @default 32768 */
  wsize?: number;
  /** RPCs outstanding at once (sunrpc slot table). @default 16 */
  maxInFlight?: number;
  /** RPCs read ahead of a sequential reader (Linux: up to 15, NFS_MAX_READAHEAD). @default 0 */
  readAhead?: number;
  /** Where guest writes go: the local overlay only, or also the server. @default "overlay" */
  writes?: NfsWriteMode;
  /** Required when `writes` is "server". */
  writeTransport?: NfsWriteTransport;
  /** Copy into the overlay or page cache, bytes/s. @default Infinity */
  copyBandwidth?: number;
  /** Page cache limit in bytes, at least `rsize` (oldest rsize chunks dropped first). @default Infinity */
  cacheBytes?: number;
}

/** Counters. */
export interface NfsClientStats {
  /** Guest read, write and flush calls. */
  requests: number;
  /** READ RPCs sent, read-ahead included. */
  rpcs: number;
  /** WRITE RPCs sent (writes "server" only). */
  writeRpcs: number;
  /** READ RPCs started by read-ahead. */
  readAheadRpcs: number;
  /** Chunks a request found cached or already in flight. */
  cacheHits: number;
  /** Guest requests that failed because a READ or WRITE RPC failed. */
  errors: number;
  /** Sectors returned to the guest by successful reads. */
  sectorsRead: number;
  /** Sectors the guest wrote (stored in the overlay). */
  sectorsWritten: number;
}

/**
 * An NFS-root block client.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { NfsClient } from "./nfs_client.ts";
 * const sim = new Simulation();
 * const transport = (r: { lba: number; count: number }) => sim.timeout(200_000, new Int32Array(r.count));
 * const nfs = new NfsClient({ sim, sectors: 1 << 16, transport, costs: { request: 1_000, rpc: 10_000 } });
 * sim.process(function* () {
 *   yield nfs.write({ lba: 1, count: 1, version: 9 });
 *   const r = (yield nfs.read({ lba: 0, count: 128 })) as { versions: Int32Array };
 *   console.assert(r.versions[1] === 9 && r.versions[2] === 0);
 * });
 * sim.run();
 * console.assert(nfs.stats.rpcs === 2); // 64 KiB in 32 KiB READs
 * ```
 */
export class NfsClient implements GuestBlockDriver {
  /** Simulation the client's processes run in. */
  readonly sim: Simulation;
  /** Size of the exported image, 512-byte sectors. */
  readonly sectors: number;
  /** Client CPU time per request and per RPC, ns. */
  readonly costs: Readonly<NfsClientCosts>;
  /** Counters since creation. */
  readonly stats: NfsClientStats = {
    requests: 0,
    rpcs: 0,
    writeRpcs: 0,
    readAheadRpcs: 0,
    cacheHits: 0,
    errors: 0,
    sectorsRead: 0,
    sectorsWritten: 0,
  };
  /** Sectors per READ (`rsize / 512`); READs are aligned to it. */
  readonly chunkSectors: number;
  /** Sectors per WRITE (`wsize / 512`). */
  readonly writeSectors: number;
  /** Guest writes (NO_VERSION where the image shows through). */
  readonly overlay: VersionMap;
  readonly #o: Required<Omit<NfsClientOptions, "writeTransport">> & {
    writeTransport?: NfsWriteTransport;
  };
  readonly #cpu: Resource;
  readonly #slots: Resource;
  #cache = new Map<number, Int32Array>();
  #inFlight = new Map<number, SimEvent<Int32Array>>();
  #nextSequential = -1;

  /**
   * Creates the client with an empty page cache and overlay.
   * @throws RangeError on bad sizes, limits or costs; TypeError on a missing transport.
   */
  constructor(options: NfsClientOptions) {
    const o = {
      rsize: 32_768,
      wsize: 32_768,
      maxInFlight: 16,
      readAhead: 0,
      writes: "overlay" as NfsWriteMode,
      copyBandwidth: Infinity,
      cacheBytes: Infinity,
      ...options,
    };
    const what = "create NFS client";
    requireNumber(what, "sectors", o.sectors, { integer: true, min: 0, strict: true });
    if (typeof o.transport !== "function") {
      throw new TypeError(`Cannot ${what}: 'transport' must be a function`);
    }
    for (const k of ["request", "rpc"] as const) {
      requireNumber(what, `costs.${k}`, o.costs?.[k], { integer: true, min: 0 });
    }
    for (const k of ["rsize", "wsize"] as const) {
      requireNumber(what, k, o[k], { integer: true, min: SECTOR });
      if (o[k] % SECTOR !== 0) throw rangeError(what, k, "a multiple of 512", o[k]);
    }
    requireNumber(what, "maxInFlight", o.maxInFlight, { integer: true, min: 1 });
    requireNumber(what, "readAhead", o.readAhead, { integer: true, min: 0 });
    if (o.writes !== "overlay" && o.writes !== "server") {
      throw rangeError(what, "writes", `"overlay" or "server"`, o.writes);
    }
    if (o.writes === "server" && typeof o.writeTransport !== "function") {
      throw new TypeError(
        `Cannot ${what}: 'writeTransport' must be a function when writes is "server"`,
      );
    }
    for (const k of ["copyBandwidth", "cacheBytes"] as const) {
      if (o[k] !== Infinity) requireNumber(what, k, o[k], { min: 0, strict: true });
    }
    // A cache below one chunk would keep nothing: every read would go to the server.
    if (o.cacheBytes < o.rsize) {
      throw rangeError(what, "cacheBytes", `>= rsize (${o.rsize})`, o.cacheBytes);
    }
    this.sim = o.sim;
    this.sectors = o.sectors;
    this.costs = { ...o.costs };
    this.chunkSectors = o.rsize / SECTOR;
    this.writeSectors = o.wsize / SECTOR;
    this.overlay = new VersionMap(o.sectors, NO_VERSION);
    this.#o = o;
    this.#cpu = new Resource(o.sim, { capacity: 1, name: "nfs client cpu" });
    this.#slots = new Resource(o.sim, { capacity: o.maxInFlight, name: "rpc slots" });
  }

  /**
   * Reads `count` sectors from `lba`. `direct`: the caller's page cache missed (as Linux, the
   * client has no page cache besides the guest's), so the client's cache is not asked and keeps
   * nothing, the READs ask for just the sectors needed, and no read-ahead starts.
   */
  read(req: BlockRead): SimEvent<IoResult> {
    this.#check("read", req.lba, req.count);
    this.stats.requests++;
    return this.sim.process(this.#read(req.lba, req.count, req.direct === true), "nfs read");
  }

  /**
   * Writes `count` sectors: each gets `version`, or versions[i] (versions are integers in
   * [0, 2^31), what an Int32Array holds without wrapping). The client keeps no dirty data: a
   * write completes when the overlay holds it or the server replied, so `fua` changes nothing
   * (the server's reply stands for stable storage, as nfsd's default `sync` export).
   * @throws RangeError on a range outside the image or a bad version.
   */
  write(req: BlockWrite): SimEvent<IoResult> {
    this.#check("write", req.lba, req.count);
    const v = req.version;
    const given = typeof v === "number" ? [v] : Array.from(v);
    if (typeof v !== "number" && given.length !== req.count) {
      throw rangeError("write", "version", `a number or ${req.count} versions`, given.length);
    }
    // Checked before the Int32Array: it would turn NaN into 0, 2.7 into 2 and 2^31 into -2^31.
    const bad = given.findIndex((x) => !(Number.isInteger(x) && x >= 0 && x < 2 ** 31));
    if (bad >= 0) {
      const field = typeof v === "number" ? "version" : `version[${bad}]`;
      throw rangeError("write", field, "an integer in [0, 2^31)", given[bad]);
    }
    const versions = typeof v === "number" ? new Int32Array(req.count).fill(v) : Int32Array.from(v);
    this.stats.requests++;
    return this.sim.process(this.#write(req.lba, versions), "nfs write");
  }

  /**
   * Completes at once: every write completed before it is already where it stays (see
   * {@linkcode NfsClient.write}); a COMMIT RPC is not modelled.
   */
  flush(): SimEvent<IoResult> {
    this.stats.requests++;
    return this.sim.timeout(0, { ok: true, latency: 0 });
  }

  #check(op: string, lba: number, count: number): void {
    requireSectorRange(op, lba, count, this.sectors);
  }

  *#cpuWork(ns: SimTime): ProcessGenerator<void> {
    using cpu = this.#cpu.request();
    yield cpu;
    yield this.sim.timeout(ns);
  }

  *#read(lba: number, count: number, direct: boolean): ProcessGenerator<IoResult> {
    const sim = this.sim;
    const start = sim.now;
    yield* this.#cpuWork(this.costs.request);
    const mine = this.overlay.read(lba, count);
    const out = Int32Array.from(mine);
    const first = Math.floor(lba / this.chunkSectors);
    const last = Math.floor((lba + count - 1) / this.chunkSectors);
    const sequential = lba === this.#nextSequential;
    this.#nextSequential = lba + count;
    // Where each part comes from: the chunk (cache, READ in flight or a new one), or for a direct
    // read a READ of just its sectors (Linux reads a random page alone, without read-ahead).
    const need: { base: number; ev: SimEvent<Int32Array> }[] = [];
    for (let c = first; c <= last; c++) {
      const from = Math.max(lba, c * this.chunkSectors),
        to = Math.min(lba + count, (c + 1) * this.chunkSectors);
      let covered = true;
      for (let s = from; s < to && covered; s++) covered = mine[s - lba] !== NO_VERSION;
      if (covered) continue;
      if (direct) {
        // Waited for in order: a later READ may fail while an earlier one is still awaited. Its
        // failure is this request's (thrown when the loop below yields it), not the run's.
        const ev = sim.process(this.#readRpc(from, to - from), "nfs direct READ").defuse();
        need.push({ base: from, ev });
      } else need.push({ base: c * this.chunkSectors, ev: this.#chunk(c, false) });
    }
    if (sequential && !direct) {
      const end = Math.ceil(this.sectors / this.chunkSectors);
      for (let c = last + 1; c <= last + this.#o.readAhead && c < end; c++) this.#chunk(c, true);
    }
    try {
      for (const { base, ev } of need) {
        const v = (yield ev) as Int32Array;
        for (let s = Math.max(lba, base); s < Math.min(lba + count, base + v.length); s++) {
          if (mine[s - lba] === NO_VERSION) out[s - lba] = v[s - base];
        }
      }
    } catch (e) {
      // The other parts' READs are not waited for now: their failures must not stop the run.
      for (const { ev } of need) ev.defuse();
      this.stats.errors++;
      return {
        ok: false,
        error: `NFS READ failed: ${e instanceof Error ? e.message : e}`,
        latency: sim.now - start,
      };
    }
    yield sim.timeout(this.#copyTime(count));
    this.stats.sectorsRead += count;
    return { ok: true, versions: out, latency: sim.now - start };
  }

  /** The chunk's versions from the cache, an RPC in flight, or a new READ kept in the cache. */
  #chunk(c: number, readAhead: boolean): SimEvent<Int32Array> {
    const cached = this.#cache.get(c);
    if (cached !== undefined) {
      if (!readAhead) this.stats.cacheHits++;
      return this.sim.timeout(0, cached);
    }
    const flying = this.#inFlight.get(c);
    if (flying !== undefined) {
      if (!readAhead) this.stats.cacheHits++;
      return flying;
    }
    if (readAhead) this.stats.readAheadRpcs++;
    const ev = this.sim.process(this.#fetchChunk(c), `nfs READ ${c}`);
    this.#inFlight.set(c, ev);
    ev.then(() => this.#inFlight.delete(c));
    // A read-ahead nobody waits for must not stop the run when it fails.
    if (readAhead) ev.defuse();
    return ev;
  }

  *#fetchChunk(c: number): ProcessGenerator<Int32Array> {
    const lba = c * this.chunkSectors;
    const v = yield* this.#readRpc(lba, Math.min(this.chunkSectors, this.sectors - lba));
    this.#cache.set(c, v);
    const limit = Math.floor(this.#o.cacheBytes / this.#o.rsize);
    while (this.#cache.size > limit) this.#cache.delete(this.#cache.keys().next().value!);
    return v;
  }

  *#readRpc(lba: number, count: number): ProcessGenerator<Int32Array> {
    using slot = this.#slots.request();
    yield slot;
    this.stats.rpcs++;
    yield* this.#cpuWork(this.costs.rpc);
    return (yield this.#o.transport({ lba, count })) as Int32Array;
  }

  *#write(lba: number, versions: Int32Array): ProcessGenerator<IoResult> {
    const sim = this.sim;
    const start = sim.now;
    yield* this.#cpuWork(this.costs.request);
    yield sim.timeout(this.#copyTime(versions.length));
    this.overlay.set(lba, versions);
    this.stats.sectorsWritten += versions.length;
    if (this.#o.writes === "overlay") return { ok: true, latency: sim.now - start };
    const rpcs: SimEvent<unknown>[] = [];
    for (let k = 0; k < versions.length; k += this.writeSectors) {
      const part = versions.subarray(k, Math.min(versions.length, k + this.writeSectors));
      rpcs.push(sim.process(this.#writeRpc(lba + k, part), "nfs WRITE"));
    }
    try {
      yield sim.allOf(rpcs);
    } catch (e) {
      this.stats.errors++;
      return {
        ok: false,
        error: `NFS WRITE failed: ${e instanceof Error ? e.message : e}`,
        latency: sim.now - start,
      };
    }
    return { ok: true, latency: sim.now - start };
  }

  *#writeRpc(lba: number, versions: Int32Array): ProcessGenerator<void> {
    using slot = this.#slots.request();
    yield slot;
    this.stats.writeRpcs++;
    yield* this.#cpuWork(this.costs.rpc);
    yield this.#o.writeTransport!({ lba, versions });
  }

  #copyTime(sectors: number): SimTime {
    return this.#o.copyBandwidth === Infinity
      ? 0
      : transferTime(sectors * SECTOR, this.#o.copyBandwidth);
  }
}
