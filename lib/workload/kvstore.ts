/**
 * A Cassandra-like key-value store on a guest block driver, driven the YCSB
 * way. Records live at fixed places in a data region of the disk image;
 * updates go to a memtable and a commit log (appended sequentially by
 * periodic group commits, or in batch mode with writers waiting for them);
 * a full memtable is flushed as a sorted SSTable, written sequentially to an
 * SSTable region; reads look in the memtables first, then read the newest
 * on-disk copy through a page cache (LRU over blocks: a hit costs CPU only).
 * Every written sector carries a version, so a read returns the version it
 * found on disk and the bookkeeping can be checked end to end.
 */
import { z } from "zod";
import type { Run, SimTime } from "../_util/mod.ts";
import { rangeError } from "../_util/mod.ts";
import type { Process, ProcessGenerator, RandomStream, SimEvent, Simulation } from "../sim/mod.ts";
import { Interrupt } from "../sim/mod.ts";
import type { GuestBlockDriver, IoResult } from "../guest/mod.ts";
import type { GuestCpus } from "./cpus.ts";
import { PageCache } from "./page_cache.ts";
import { int, parseParams, SECTOR } from "./_params.ts";

/** Most records a store holds: where the key hash's reduction (`fnvHash64Mod`) is exact in doubles. */
const MAX_RECORDS = 2 ** 34;
/** Most sampling windows of a run (`durationNs / sampleEveryNs`): one counter each. */
const MAX_WINDOWS = 1_000_000;

const StoreShape = {
  /** Number of records (keys 0..records-1), at most 2^34. */
  records: int().positive().max(MAX_RECORDS),
  /** Bytes per record; a record occupies whole sectors. */
  recordBytes: int().positive(),
  /** Page-cache and read block size, bytes. */
  blockBytes: int().positive().multipleOf(SECTOR).default(4096),
  /** Where things live on the disk; every region starts on a block boundary. */
  layout: z.object({
    /** First LBA of the data set (records in key order). */
    dataLba: int().min(0),
    sstableLba: int().min(0),
    sstableSectors: int().positive(),
    commitLogLba: int().min(0),
    commitLogSectors: int().positive(),
  }).strict(),
  /** Page-cache capacity, bytes. */
  pageCacheBytes: int().min(0),
  /** Memtable size that triggers a flush, bytes. */
  memtableBytes: int().positive(),
  /** Bytes per request of a flush and of a commit-log write. */
  writeRequestBytes: int().positive().multipleOf(SECTOR).default(1 << 20),
  commitLog: z.object({
    /** "periodic": updates return at once; "batch": they wait for the next group commit. */
    sync: z.enum(["periodic", "batch"]),
    /** Group-commit period (commitlog_sync_period / batch window), ns. */
    periodNs: int().positive(),
  }).strict(),
  /** Nominal (bare-metal) CPU time per operation, ns, and its memory-bound fraction. */
  cpu: z.object({
    /** Read: request parsing, memtable and index lookups, serialisation. */
    readNs: int().min(0),
    /** Update: parsing, commit-log serialisation, memtable insert. */
    updateNs: int().min(0),
    /** Flush: serialising one record into an SSTable. */
    flushNsPerRecord: int().min(0).default(0),
    memoryBound: z.number().min(0).max(1),
  }).strict(),
};

/**
 * The sectors of the preloaded data set: `records` records of whole sectors
 * from `layout.dataLba`, rounded up to whole blocks.
 * @example
 * ```ts
 * import { kvDataRun } from "./kvstore.ts";
 * const r = kvDataRun({ records: 3, recordBytes: 1000, blockBytes: 4096, layout: { dataLba: 64 } });
 * console.assert(r.lba === 64 && r.count === 8); // 3 records x 2 sectors, one 8-sector block
 * ```
 */
export function kvDataRun(
  p: Pick<z.output<typeof KvStoreParamsSchema>, "records" | "recordBytes" | "blockBytes"> & {
    layout: { dataLba: number };
  },
): Run {
  const bs = p.blockBytes / SECTOR;
  const rs = Math.ceil(p.recordBytes / SECTOR);
  return { lba: p.layout.dataLba, count: Math.ceil((p.records * rs) / bs) * bs };
}

function checkLayout(p: z.output<z.ZodObject<typeof StoreShape>>, ctx: z.RefinementCtx): void {
  const bs = p.blockBytes / SECTOR;
  const rs = Math.ceil(p.recordBytes / SECTOR);
  const l = p.layout;
  const regions = [
    ["dataLba", l.dataLba, kvDataRun(p).count],
    ["sstableLba", l.sstableLba, l.sstableSectors],
    ["commitLogLba", l.commitLogLba, l.commitLogSectors],
  ] as const;
  for (const [name, lba, n] of regions) {
    if (lba % bs !== 0) {
      ctx.addIssue({
        code: "custom",
        path: ["layout", name],
        message: `must be a multiple of ${bs} (blockBytes / 512)`,
      });
    }
    for (const [other, lba2, n2] of regions) {
      if (other > name && lba < lba2 + n2 && lba2 < lba + n) {
        ctx.addIssue({
          code: "custom",
          path: ["layout", name],
          message: `region overlaps the one at '${other}'`,
        });
      }
    }
  }
  if (p.layout.commitLogSectors < rs) {
    ctx.addIssue({
      code: "custom",
      path: ["layout", "commitLogSectors"],
      message: "must hold one record",
    });
  }
}

/**
 * Schema of the store's parameters.
 * @example
 * ```ts
 * import { KvStoreParamsSchema } from "./kvstore.ts";
 * const r = KvStoreParamsSchema.safeParse({ records: 10, recordBytes: 1000, pageCacheBytes: 0, memtableBytes: 4096,
 *   layout: { dataLba: 0, sstableLba: 0, sstableSectors: 64, commitLogLba: 128, commitLogSectors: 64 },
 *   commitLog: { sync: "periodic", periodNs: 1e6 }, cpu: { readNs: 1, updateNs: 1, memoryBound: 0 } });
 * console.assert(!r.success && r.error.issues[0].path.join(".") === "layout.dataLba"); // data and SSTables overlap
 * ```
 */
export const KvStoreParamsSchema = z.object(StoreShape).strict().superRefine(checkLayout);

/** Store parameters (input form). */
export type KvStoreParams = z.input<typeof KvStoreParamsSchema>;

const ClientShape = {
  /** Fraction of operations that are reads; the rest are updates (YCSB A: 0.5, B: 0.95). */
  readProportion: z.number().min(0).max(1),
  /** Key popularity: YCSB's (scrambled) Zipfian or uniform. */
  distribution: z.enum(["zipfian", "uniform"]).default("zipfian"),
  /** Zipf exponent (YCSB ZipfianGenerator.ZIPFIAN_CONSTANT = 0.99). */
  zipfConstant: z.number().positive().default(0.99),
  /**
   * Spread popular keys over the key space, as YCSB's ScrambledZipfianGenerator
   * (`scrambledZipfian`: a Zipf over 10^10 items hashed onto the records);
   * false: a Zipf over the records, key 0 the hottest.
   */
  scramble: z.boolean().default(true),
  /** YCSB client threads, each in a closed loop. */
  threads: int().positive(),
  /** Target throughput over all threads, ops/s (YCSB -target); none = as fast as possible. */
  targetOpsPerS: z.number().positive().optional(),
};

/**
 * Schema of a run's client side alone (YCSB's mix, key popularity and
 * threads; no store, no window): what a profile's `cassandra.workload` holds.
 * @example
 * ```ts
 * import { KvClientParamsSchema } from "./kvstore.ts";
 * console.assert(KvClientParamsSchema.safeParse({ readProportion: 0.5, threads: 1 }).success);
 * console.assert(!KvClientParamsSchema.safeParse({ readProportion: 2, threads: 1 }).success);
 * ```
 */
export const KvClientParamsSchema = z.object(ClientShape).strict();

/**
 * Schema of a YCSB-style run: the store plus the client side.
 * @example
 * ```ts
 * import { KvWorkloadParamsSchema } from "./kvstore.ts";
 * console.assert(KvWorkloadParamsSchema.shape.zipfConstant.parse(undefined) === 0.99);
 * ```
 */
export const KvWorkloadParamsSchema = z.object({
  ...StoreShape,
  ...ClientShape,
  /** Length of the run, ns. */
  durationNs: int().positive(),
  /** Throughput sampling interval, ns; at most 10^6 intervals in `durationNs`. */
  sampleEveryNs: int().positive(),
}).strict().superRefine(checkLayout).superRefine((p, ctx) => {
  const windows = Math.ceil(p.durationNs / p.sampleEveryNs);
  if (windows > MAX_WINDOWS) {
    ctx.addIssue({
      code: "custom",
      path: ["sampleEveryNs"],
      message:
        `must split durationNs (${p.durationNs}) into at most ${MAX_WINDOWS} windows, not ${windows}`,
    });
  }
});

/** Workload parameters (input form). */
export type KvWorkloadParams = z.input<typeof KvWorkloadParamsSchema>;

/** Store counters. */
export interface KvStoreStats {
  /** Reads served. */
  reads: number;
  /** Updates applied (to the memtable and the commit log). */
  updates: number;
  /** Reads answered from a memtable. */
  memtableHits: number;
  /** Block reads issued to the driver. */
  diskReads: number;
  /** Memtables flushed to disk as SSTables. */
  flushes: number;
  /** Write requests issued to the commit log. */
  commitLogWrites: number;
  /** Updates that waited for a flush because both memtables were full. */
  stalls: number;
  /** Requests the driver reported failed. */
  ioErrors: number;
  /** Reads whose sectors carried different versions. */
  tornReads: number;
}

/** One completed operation, for observers. */
export interface KvOpRecord {
  /** Kind of operation. */
  op: "read" | "update";
  /** Record key (0..records-1). */
  key: number;
  /** Version read or written. */
  version: number;
  /** Simulation time the client issued the operation, ns. */
  start: SimTime;
  /** Simulation time the operation returned, ns. */
  end: SimTime;
}

/**
 * The store engine: `read(key)` and `update(key)` are blocking generators
 * returning the record's version.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { GuestCpus } from "./cpus.ts";
 * import { KvStore } from "./kvstore.ts";
 * const sim = new Simulation();
 * const io = (r: { count: number }) => sim.timeout(1000, { ok: true, versions: new Int32Array(r.count), latency: 1000 });
 * const cpus = new GuestCpus(sim, { cpu: { computeTime: (ns: number) => ns }, cores: 2 });
 * const kv = new KvStore({ read: io, write: io, sim }, cpus, {
 *   records: 100, recordBytes: 1000, pageCacheBytes: 1 << 20, memtableBytes: 1 << 20,
 *   layout: { dataLba: 0, sstableLba: 1024, sstableSectors: 4096, commitLogLba: 8192, commitLogSectors: 4096 },
 *   commitLog: { sync: "periodic", periodNs: 1e6 }, cpu: { readNs: 5000, updateNs: 5000, memoryBound: 0.5 },
 * });
 * kv.start();
 * sim.process(function* () {
 *   const v = yield* kv.update(7);
 *   console.assert((yield* kv.read(7)) === v);
 *   kv.stop();
 * });
 * sim.run();
 * ```
 */
export class KvStore {
  /** The simulation of the driver the store runs on. */
  readonly sim: Simulation;
  /** The validated parameters, defaults filled in. */
  readonly params: z.output<typeof KvStoreParamsSchema>;
  /** The store's page cache over blocks of `params.blockBytes`. */
  readonly cache: PageCache;
  /** Counters since the store was created. */
  readonly stats: KvStoreStats = {
    reads: 0,
    updates: 0,
    memtableHits: 0,
    diskReads: 0,
    flushes: 0,
    commitLogWrites: 0,
    stalls: 0,
    ioErrors: 0,
    tornReads: 0,
  };
  /** Sectors per record and per block. */
  readonly recordSectors: number;
  /** Sectors per page-cache block. */
  readonly blockSectors: number;
  #driver: GuestBlockDriver;
  #cpus: GuestCpus;
  #nextVersion: () => number;
  #memtable = new Map<number, number>();
  #flushing: Map<number, number> | null = null;
  #flushDone: SimEvent<void> | null = null;
  /** LBA of each record's newest on-disk copy (-1: its place in the data region). */
  #where: Float64Array;
  #sstHead = 0;
  #inflight = new Map<number, SimEvent<Int32Array | undefined>>();
  #logPending = 0;
  #logHead = 0;
  #logSynced: SimEvent<void>;
  #syncer: Process<void> | null = null;
  #syncing = false;
  #stopped = false;

  /**
   * A store on `driver` whose CPU work runs on `cpus`; call {@link KvStore.start} before use.
   * @param driver the guest block driver holding the data, SSTable and commit-log regions
   * @param cpus the guest cores that run each operation's CPU time
   * @param params store parameters, and `nextVersion` giving each write's version (default: a counter from 1)
   * @throws RangeError listing every invalid parameter
   */
  constructor(
    driver: GuestBlockDriver,
    cpus: GuestCpus,
    params: KvStoreParams & { nextVersion?: () => number },
  ) {
    const { nextVersion, ...data } = params;
    this.params = parseParams("create kv store", KvStoreParamsSchema, data);
    this.sim = driver.sim;
    this.#driver = driver;
    this.#cpus = cpus;
    let counter = 0;
    this.#nextVersion = nextVersion ?? (() => ++counter);
    this.recordSectors = Math.ceil(this.params.recordBytes / SECTOR);
    this.blockSectors = this.params.blockBytes / SECTOR;
    this.#where = new Float64Array(this.params.records).fill(-1);
    this.cache = new PageCache({
      capacityBytes: this.params.pageCacheBytes,
      blockBytes: this.params.blockBytes,
    });
    this.#logSynced = this.sim.event();
  }

  /** Starts the commit-log syncer. */
  start(): void {
    if (this.#syncer !== null) throw new Error("kv store already started");
    this.#syncer = this.sim.process(this.#syncLoop(), "kv:commitlog");
  }

  /** Stops the commit-log syncer (after its current write); flushes in progress complete. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#syncer?.isAlive && !this.#syncing) this.#syncer.interrupt("stop");
  }

  /** Reads record `key`; returns the version found. */
  *read(key: number): ProcessGenerator<number> {
    this.#checkKey(key);
    const p = this.params;
    yield* this.#cpus.run(p.cpu.readNs, p.cpu.memoryBound);
    this.stats.reads++;
    const mem = this.#memtable.get(key) ?? this.#flushing?.get(key);
    if (mem !== undefined) {
      this.stats.memtableHits++;
      return mem;
    }
    const at = this.#where[key];
    const lba = at >= 0 ? at : p.layout.dataLba + key * this.recordSectors;
    const bs = this.blockSectors;
    const b0 = Math.floor(lba / bs), b1 = Math.floor((lba + this.recordSectors - 1) / bs);
    const blocks: (Int32Array | undefined)[] = [];
    const waits: SimEvent<Int32Array | undefined>[] = [];
    for (let b = b0; b <= b1; b++) {
      const hit = this.cache.get(b);
      blocks.push(hit);
      if (hit === undefined) waits.push(this.#fetch(b));
    }
    if (waits.length > 0) {
      const got = (yield this.sim.allOf(waits)) as (Int32Array | undefined)[];
      let w = 0;
      for (let i = 0; i < blocks.length; i++) if (blocks[i] === undefined) blocks[i] = got[w++];
    }
    let version: number | undefined;
    for (let s = lba; s < lba + this.recordSectors; s++) {
      const blk = blocks[Math.floor(s / bs) - b0];
      const v = blk === undefined ? -1 : blk[s % bs];
      if (version === undefined) version = v;
      else if (v !== version) {
        this.stats.tornReads++;
        break;
      }
    }
    return version!;
  }

  /** Updates record `key`; returns the new version. */
  *update(key: number): ProcessGenerator<number> {
    this.#checkKey(key);
    const p = this.params;
    yield* this.#cpus.run(p.cpu.updateNs, p.cpu.memoryBound);
    while (this.#memtableFull() && !this.#memtable.has(key)) {
      if (this.#flushing === null) this.#startFlush();
      else {
        this.stats.stalls++;
        yield this.#flushDone!;
      }
    }
    const v = this.#nextVersion();
    this.#memtable.set(key, v);
    this.stats.updates++;
    this.#logPending += this.recordSectors;
    if (this.#memtableFull() && this.#flushing === null) this.#startFlush();
    if (p.commitLog.sync === "batch") yield this.#logSynced;
    return v;
  }

  #checkKey(key: number): void {
    if (!(Number.isInteger(key) && key >= 0 && key < this.params.records)) {
      throw rangeError("access kv store", "key", `an integer in [0, ${this.params.records})`, key);
    }
  }

  #memtableFull(): boolean {
    return this.#memtable.size * this.params.recordBytes >= this.params.memtableBytes;
  }

  /** Reads one block into the cache; concurrent misses of a block share one read. */
  #fetch(block: number): SimEvent<Int32Array | undefined> {
    const pending = this.#inflight.get(block);
    if (pending !== undefined) return pending;
    const out = this.sim.event<Int32Array | undefined>();
    this.#inflight.set(block, out);
    this.stats.diskReads++;
    // `direct`: this cache is the guest's page cache, so a driver must not keep a second one.
    const r = this.#driver.read({
      lba: block * this.blockSectors,
      count: this.blockSectors,
      direct: true,
    });
    r.then(() => {
      this.#inflight.delete(block);
      const res = r.value;
      if (!res.ok || res.versions === undefined) {
        this.stats.ioErrors++;
        return out.succeed(undefined);
      }
      this.cache.put(block, res.versions);
      out.succeed(res.versions);
    });
    return out;
  }

  #startFlush(): void {
    this.#flushing = this.#memtable;
    this.#memtable = new Map();
    this.#flushDone = this.sim.event();
    this.sim.process(this.#flush(this.#flushing), "kv:flush");
  }

  /** Writes a memtable as a sorted SSTable, sequentially, from a block boundary. */
  *#flush(table: Map<number, number>): ProcessGenerator<void> {
    const p = this.params;
    const rs = this.recordSectors, bs = this.blockSectors;
    const keys = [...table.keys()].sort((a, b) => a - b);
    yield* this.#cpus.run(p.cpu.flushNsPerRecord * keys.length, p.cpu.memoryBound);
    const total = Math.ceil((keys.length * rs) / bs) * bs;
    if (this.#sstHead + total > p.layout.sstableSectors) {
      throw new RangeError(
        `Cannot flush memtable: 'layout.sstableSectors' must hold every flushed SSTable (compaction is not modelled): current value is ${p.layout.sstableSectors}, needed at least ${
          this.#sstHead + total
        }`,
      );
    }
    const base = p.layout.sstableLba + this.#sstHead;
    this.#sstHead += total;
    const versions = new Int32Array(total);
    keys.forEach((k, j) => versions.fill(table.get(k)!, j * rs, (j + 1) * rs));
    versions.fill(table.get(keys[keys.length - 1])!, keys.length * rs); // padding to the block boundary
    const chunk = p.writeRequestBytes / SECTOR;
    for (let s = 0; s < total; s += chunk) {
      const n = Math.min(chunk, total - s);
      const r = (yield this.#driver.write({
        lba: base + s,
        count: n,
        version: versions.subarray(s, s + n),
      })) as IoResult;
      if (!r.ok) this.stats.ioErrors++;
    }
    keys.forEach((k, j) => (this.#where[k] = base + j * rs));
    for (let s = 0; s < total; s += bs) this.cache.put((base + s) / bs, versions.slice(s, s + bs));
    this.stats.flushes++;
    this.#flushing = null;
    this.#flushDone!.succeed();
  }

  /**
   * Group commit: appends what accumulated to the commit log, then sleeps a
   * period (Cassandra 2.0 PeriodicCommitLogExecutorService: sync, then
   * Thread.sleep(commitlog_sync_period_in_ms), so the period runs from a sync's end).
   */
  *#syncLoop(): ProcessGenerator<void> {
    const p = this.params;
    const chunk = p.writeRequestBytes / SECTOR;
    try {
      while (!this.#stopped) {
        yield this.sim.timeout(p.commitLog.periodNs);
        if (this.#logPending === 0) continue;
        this.#syncing = true;
        let left = this.#logPending;
        this.#logPending = 0;
        const synced = this.#logSynced;
        this.#logSynced = this.sim.event();
        while (left > 0) {
          if (this.#logHead >= p.layout.commitLogSectors) this.#logHead = 0; // segments are recycled
          const n = Math.min(left, chunk, p.layout.commitLogSectors - this.#logHead);
          const version = this.#nextVersion();
          const r = (yield this.#driver.write({
            lba: p.layout.commitLogLba + this.#logHead,
            count: n,
            version,
          })) as IoResult;
          if (!r.ok) this.stats.ioErrors++;
          this.stats.commitLogWrites++;
          this.#logHead += n;
          left -= n;
        }
        this.#syncing = false;
        synced.succeed();
      }
    } catch (e) {
      if (!(e instanceof Interrupt)) throw e;
    }
  }
}

/**
 * Throughput in one sampling interval, ending at `timeS` (simulated seconds).
 * An interval holds the operations that completed after its start and no
 * later than its end; the last one ends with the run, so it is shorter when
 * the duration is not a multiple of the interval.
 */
export interface KvThroughputRow {
  /** End of the interval, simulated seconds. */
  timeS: number;
  /** Operations completed in the interval. */
  ops: number;
  /** Operations completed in the interval per second of it. */
  opsPerS: number;
}

/** Outcome of a YCSB-style run. */
export interface KvResult {
  /** Simulation time the run began, ns. */
  start: SimTime;
  /** Simulation time the run ended (`start + durationNs`), ns. */
  end: SimTime;
  /** Operations completed within the run. */
  ops: number;
  /** Mean throughput over the run, operations per second. */
  opsPerS: number;
  /** Throughput per sampling interval (`sampleEveryNs`), in time order; their `ops` sum to `ops`. */
  rows: KvThroughputRow[];
  /** Page-cache hits / lookups. */
  hitRatio: number;
  /** Mean latency of reads, ns. */
  readLatency: number;
  /** Mean latency of updates, ns. */
  updateLatency: number;
  /** The store's counters at the end of the run. */
  stats: KvStoreStats;
}

/** Run-time extras of {@link runKvWorkload}. */
export interface KvRunExtras {
  /** Version of each write. @default a counter from 1 */
  nextVersion?: () => number;
  /** Called with every completed operation (also those that end after the run). */
  observe?: (op: KvOpRecord) => void;
  /**
   * Name prefix of the clients' random streams (`<prefix>:client<t>`): stores
   * on several nodes of one simulation need their own. @default "kv"
   */
  rngStream?: string;
}

/**
 * The sampling window an operation counts in, by when it completed (`elapsed`
 * since the windows began): windows are (k·width, (k+1)·width], so one
 * completing on a boundary counts in the window it closes, whatever the order
 * of events at that instant.
 * @example
 * ```ts
 * import { windowOf } from "./kvstore.ts";
 * console.assert(windowOf(1, 10) === 0 && windowOf(10, 10) === 0 && windowOf(11, 10) === 1);
 * ```
 */
export function windowOf(elapsed: SimTime, width: SimTime): number {
  return Math.max(0, Math.ceil(elapsed / width) - 1);
}

/** Items of YCSB's ScrambledZipfianGenerator (ITEM_COUNT): its Zipf is over these, then hashed. */
const YCSB_ITEMS = 1e10;

/**
 * YCSB's scrambled Zipfian key chooser (ScrambledZipfianGenerator): a Zipf
 * over 10^10 items, each item FNV-64-hashed onto the `records` keys
 * (`Utils.fnvhash64(item) % records`), so popular keys are spread over the
 * key space and, several items sharing a key, less hot than a Zipf over the
 * records. The Zipf is drawn exactly (YCSB approximates it, Gray et al. 1994).
 * @example
 * ```ts
 * import { RngStreams } from "../sim/mod.ts";
 * import { scrambledZipfian } from "./kvstore.ts";
 * const next = scrambledZipfian(new RngStreams(1).stream("keys"), { records: 100, exponent: 0.99 });
 * const k = next();
 * console.assert(Number.isInteger(k) && k >= 0 && k < 100);
 * ```
 */
export function scrambledZipfian(
  rng: RandomStream,
  options: { records: number; exponent: number },
): () => number {
  const { records: n, exponent } = options;
  if (!(Number.isInteger(n) && n >= 1 && n <= MAX_RECORDS)) {
    throw rangeError(
      "create a scrambled Zipfian",
      "records",
      `an integer in [1, ${MAX_RECORDS}]`,
      n,
    );
  }
  const zipf = rng.zipf({ n: YCSB_ITEMS, exponent });
  return () => fnvHash64Mod(zipf() - 1, n);
}

/** Key of a 1-based Zipf rank: rank 1 is key 0. */
const rankOf = (zipf: () => number) => () => zipf() - 1;

/**
 * YCSB's `Utils.fnvhash64(v)` (FNV-1a over v's 8 bytes, low byte first, then
 * Java's Math.abs of the signed result) mod `n`, on 32-bit halves: exact in
 * doubles for v < 2^53 and n <= 2^34. (Java's abs leaves Long.MIN_VALUE
 * negative; here it is 2^63.)
 */
function fnvHash64Mod(v: number, n: number): number {
  // FNV_OFFSET_BASIS_64 0xCBF29CE484222325; FNV_PRIME_64 = 2^40 + 0x1b3.
  let hi = 0xcbf29ce4, lo = 0x84222325;
  const vLo = v >>> 0, vHi = Math.floor(v / 2 ** 32);
  for (let i = 0; i < 8; i++) {
    lo = (lo ^ ((i < 4 ? vLo >>> (8 * i) : vHi >>> (8 * (i - 4))) & 0xff)) >>> 0;
    // h * 2^40 adds lo * 2^8 to the high word; h * 0x1b3 carries into it.
    const m = lo * 0x1b3;
    hi = (hi * 0x1b3 + Math.floor(m / 2 ** 32) + lo * 256) >>> 0;
    lo = m >>> 0;
  }
  if (hi >= 2 ** 31) { // negative as a Java long: two's complement
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    lo = (~lo + 1) >>> 0;
  }
  // (hi * 2^32 + lo) mod n, in steps that stay below 2^53.
  let r = hi % n;
  r = (r * 65536) % n;
  r = (r * 65536) % n;
  return (r + lo) % n;
}

/**
 * Runs a store with YCSB clients for `durationNs`; the process's value is the
 * overall and sampled throughput.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { GuestCpus } from "./cpus.ts";
 * import { runKvWorkload } from "./kvstore.ts";
 * const sim = new Simulation({ seed: 3 });
 * const io = (r: { count: number }) => sim.timeout(100_000, { ok: true, versions: new Int32Array(r.count), latency: 100_000 });
 * const cpus = new GuestCpus(sim, { cpu: { computeTime: (ns: number) => ns }, cores: 4 });
 * const p = runKvWorkload({ read: io, write: io, sim }, cpus, {
 *   records: 10_000, recordBytes: 1000, pageCacheBytes: 4 << 20, memtableBytes: 1 << 20,
 *   layout: { dataLba: 0, sstableLba: 1 << 16, sstableSectors: 1 << 18, commitLogLba: 1 << 19, commitLogSectors: 1 << 16 },
 *   commitLog: { sync: "periodic", periodNs: 10e6 }, cpu: { readNs: 20_000, updateNs: 20_000, memoryBound: 0.5 },
 *   readProportion: 0.5, threads: 8, durationNs: 1e9, sampleEveryNs: 1e8,
 * });
 * sim.run();
 * console.assert(p.value.rows.length === 10 && p.value.opsPerS > 0);
 * ```
 */
export function runKvWorkload(
  driver: GuestBlockDriver,
  cpus: GuestCpus,
  params: KvWorkloadParams & KvRunExtras,
): Process<KvResult> {
  const { nextVersion, observe, rngStream = "kv", ...data } = params;
  const p = parseParams("run kv workload", KvWorkloadParamsSchema, data);
  const {
    readProportion,
    distribution,
    zipfConstant,
    scramble,
    threads,
    targetOpsPerS,
    durationNs,
    sampleEveryNs,
    ...storeParams
  } = p;
  const sim = driver.sim;
  const store = new KvStore(driver, cpus, { ...storeParams, nextVersion });
  const n = p.records;
  const tick = targetOpsPerS === undefined ? 0 : Math.round((threads * 1e9) / targetOpsPerS);

  return sim.process(function* (): ProcessGenerator<KvResult> {
    const start = sim.now, end = start + durationNs;
    let ops = 0;
    let readSum = 0, updateSum = 0, reads = 0, updates = 0;
    // Intervals (start + k·sampleEveryNs, start + (k+1)·sampleEveryNs], the last cut at the
    // end: an operation completing on a boundary counts in the interval it closes, whatever
    // the order of events at that instant.
    const perInterval = new Array<number>(Math.ceil(durationNs / sampleEveryNs)).fill(0);
    store.start();
    function* client(t: number): ProcessGenerator<void> {
      const rng = sim.rng.stream(`${rngStream}:client${t}`);
      const nextKey = distribution === "uniform"
        ? () => rng.int(n)
        : scramble
        ? scrambledZipfian(rng, { records: n, exponent: zipfConstant })
        : rankOf(rng.zipf({ n, exponent: zipfConstant }));
      let deadline = sim.now;
      while (sim.now < end) {
        const isRead = rng.random() < readProportion;
        const key = nextKey();
        const t0 = sim.now;
        const version = isRead ? yield* store.read(key) : yield* store.update(key);
        observe?.({ op: isRead ? "read" : "update", key, version, start: t0, end: sim.now });
        if (sim.now > end) break; // finished after the run: not counted
        ops++;
        perInterval[windowOf(sim.now - start, sampleEveryNs)]++;
        if (isRead) {
          reads++;
          readSum += sim.now - t0;
        } else {
          updates++;
          updateSum += sim.now - t0;
        }
        if (tick > 0) {
          // YCSB's throttle: after each operation, sleep until start + done x tick.
          deadline += tick;
          if (deadline > sim.now) yield sim.timeout(Math.min(deadline, end) - sim.now);
        }
      }
    }
    const clients = Array.from({ length: threads }, (_, t) => sim.process(client(t), `ycsb:${t}`));
    yield sim.allOf(clients);
    store.stop();
    const seconds = durationNs / 1e9;
    const rows = perInterval.map((n, k): KvThroughputRow => {
      const to = Math.min(end, start + (k + 1) * sampleEveryNs);
      const from = start + k * sampleEveryNs;
      return { timeS: to / 1e9, ops: n, opsPerS: n / ((to - from) / 1e9) };
    });
    return {
      start,
      end,
      ops,
      opsPerS: ops / seconds,
      rows,
      hitRatio: store.cache.hitRatio,
      readLatency: reads > 0 ? readSum / reads : 0,
      updateLatency: updates > 0 ? updateSum / updates : 0,
      stats: { ...store.stats },
    };
  }, "ycsb");
}
