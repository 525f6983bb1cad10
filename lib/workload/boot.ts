/**
 * A guest OS boot as block I/O and CPU time. A seeded generator turns a few
 * parameters (bytes and requests read, request-size mix, locality over the
 * image's file areas, log writes, CPU time per phase, readers in parallel)
 * into a trace; {@link runBoot} plays a trace on a block driver and the
 * guest's cores, phase after phase, each phase with N readers taking the
 * next operation: think on a core, then a read it waits for (writes are
 * write-back: issued without waiting, awaited at the end of the phase; a
 * trace's `sync` writes and flushes are waited for).
 */
import { z } from "zod";
import type { Process, ProcessGenerator, Recorder, SimEvent } from "../sim/mod.ts";
import { RngStreams } from "../sim/mod.ts";
import { mergeRuns, type Run, type SimTime } from "../_util/mod.ts";
import type { BootOp, GuestBlockDriver, IoResult } from "../guest/mod.ts";
import type { GuestCpus } from "./cpus.ts";
import { int, parseParams, SECTOR } from "./_params.ts";

const sectorBytes = () => int().positive().multipleOf(SECTOR);

/**
 * One operation of a boot trace (data/traces/*.json), optionally tagged with its phase: a read,
 * a write, or a flush of the disk's write cache.
 */
export type BootTraceOp =
  | BootTraceRead
  | BootTraceWrite
  | BootTraceFlush;

/** A read of a boot trace: the reader waits for it. */
export interface BootTraceRead extends BootOp {
  /** Direction. */
  op: "read";
  /** Boot phase the operation belongs to ("boot" when absent). */
  phase?: string;
}

/** A write of a boot trace: write-back (the reader goes on, the phase's end waits) unless `sync`. */
export interface BootTraceWrite extends BootOp {
  /** Direction. */
  op: "write";
  /**
   * The reader waits for it (a journal commit). parseBlkparse sets it for a write whose RWBS has
   * `S` and that completed before the next request was issued: the recorded boot waited for it.
   */
  sync?: boolean;
  /** Forced unit access: it completes only once on the medium (RWBS `F` after the `W`). */
  fua?: boolean;
  /** Boot phase the operation belongs to ("boot" when absent). */
  phase?: string;
}

/** A flush of the disk's write cache (blkparse's `FN`, or `FWS` with no data). */
export interface BootTraceFlush {
  /** A flush. */
  op: "flush";
  /**
   * The reader waits for it, else the phase's end does. parseBlkparse sets it for a flush that
   * completed before the next request was issued.
   */
  sync?: boolean;
  /** CPU time before it is issued, ns. */
  thinkNs: SimTime;
  /** Boot phase the operation belongs to ("boot" when absent). */
  phase?: string;
}

const traceCommon = { thinkNs: int().min(0), phase: z.string().min(1).optional() };
const traceExtent = { lba: int().min(0), count: int().min(1) };

/**
 * Schema of a boot trace file: `[{ op, lba, count, thinkNs, phase? }]`, a write may add `sync`
 * and `fua`, a flush is `{ op: "flush", thinkNs, phase?, sync? }`.
 * @example
 * ```ts
 * import { BootTraceSchema } from "./boot.ts";
 * console.assert(!BootTraceSchema.safeParse([{ op: "trim", lba: 0, count: 1, thinkNs: 0 }]).success);
 * console.assert(BootTraceSchema.safeParse([{ op: "write", lba: 0, count: 1, thinkNs: 0, fua: true }, { op: "flush", thinkNs: 0 }]).success);
 * console.assert(!BootTraceSchema.safeParse([{ op: "read", lba: 0, count: 1, thinkNs: 0, sync: true }]).success);
 * ```
 */
export const BootTraceSchema = z.array(
  z.discriminatedUnion("op", [
    z.object({ op: z.literal("read"), ...traceExtent, ...traceCommon }).strict(),
    z.object({
      op: z.literal("write"),
      ...traceExtent,
      ...traceCommon,
      sync: z.boolean().optional(),
      fua: z.boolean().optional(),
    }).strict(),
    z.object({ op: z.literal("flush"), ...traceCommon, sync: z.boolean().optional() }).strict(),
  ], {
    // The op's rule; an entry that is no object keeps zod's "expected object".
    error: (iss) => iss.code === "invalid_union" ? 'must be "read", "write" or "flush"' : undefined,
  }),
);

/**
 * Schema of the boot generator's parameters.
 * @example
 * ```ts
 * import { BootParamsSchema } from "./boot.ts";
 * const r = BootParamsSchema.safeParse({ readBytes: 4096, readRequests: 1, sequentialFraction: 0,
 *   sizes: [{ bytes: 4096, weight: 1 }], regions: [{ lba: 0, sectors: 64 }], phases: [{ name: "all", cpuNs: 0, share: 1 }] });
 * console.assert(r.success && r.data.phases[0].parallelism === 1);
 * ```
 */
export const BootParamsSchema = z.object({
  /** Total bytes read during boot. */
  readBytes: sectorBytes(),
  /** Number of read requests. */
  readRequests: int().positive(),
  /** Request-size mix: sizes are drawn by weight, then scaled to sum to `readBytes`. */
  sizes: z.array(z.object({ bytes: sectorBytes(), weight: z.number().positive() }).strict()).min(1),
  /** Probability that a read continues where the previous one ended. */
  sequentialFraction: z.number().min(0).max(1),
  /** Where the boot's files lie in the image (e.g. /boot, /lib, /usr); random reads pick one by weight. */
  regions: z.array(
    z.object({
      name: z.string().optional(),
      lba: int().min(0),
      sectors: int().positive(),
      weight: z.number().positive().default(1),
    }).strict(),
  ).min(1),
  /** Random reads start on multiples of this many sectors (4 KiB pages). */
  alignSectors: int().positive().default(8),
  /** Log writes, appended sequentially to a region (wrapping). */
  writes: z.object({
    requests: int().min(0),
    bytes: int().min(0).multipleOf(SECTOR),
    lba: int().min(0),
    sectors: int().positive(),
  }).strict().optional(),
  /** Phases in order: total CPU time, share of the read requests, readers in parallel. */
  phases: z.array(
    z.object({
      name: z.string().min(1),
      cpuNs: int().min(0),
      share: z.number().positive(),
      parallelism: int().positive().default(1),
    }).strict(),
  ).min(1),
  /** Memory-bound fraction of the CPU work (EPT overhead applies to it). */
  memoryBound: z.number().min(0).max(1).default(0),
}).strict().superRefine((p, ctx) => {
  if (p.readBytes < p.readRequests * SECTOR) {
    ctx.addIssue({
      code: "custom",
      path: ["readBytes"],
      message: `must be >= 512 * readRequests (${p.readRequests * SECTOR})`,
    });
  }
  if (p.readRequests < p.phases.length) {
    ctx.addIssue({
      code: "custom",
      path: ["readRequests"],
      message: `must be >= the number of phases (${p.phases.length})`,
    });
  }
  const w = p.writes;
  if (w !== undefined && w.bytes < w.requests * SECTOR) {
    ctx.addIssue({
      code: "custom",
      path: ["writes", "bytes"],
      message: `must be >= 512 * writes.requests (${w.requests * SECTOR})`,
    });
  }
  if (w !== undefined && w.requests > 0 && Math.ceil(w.bytes / SECTOR / w.requests) > w.sectors) {
    ctx.addIssue({
      code: "custom",
      path: ["writes", "sectors"],
      message: "must hold one log write",
    });
  }
  const names = new Set(p.phases.map((x) => x.name));
  if (names.size !== p.phases.length) {
    ctx.addIssue({ code: "custom", path: ["phases"], message: "names must be unique" });
  }
});

/** Parameters of the boot generator (input form; defaults filled by the schema). */
export type BootParams = z.input<typeof BootParamsSchema>;

/** Where a boot reads and writes on the image, 512-byte sectors. */
export interface BootExtents {
  /** The areas it reads, sorted and disjoint: a generator's `regions` (whole), a trace's reads. */
  reads: Run[];
  /** The areas it writes: a generator's log (`writes`, when it has requests), a trace's writes. */
  writes: Run[];
  /** The sector after the last one it reads (0: none). */
  readEnd: number;
  /** The sector after the last one it writes (0: none). */
  writeEnd: number;
}

/**
 * Where a boot (generator parameters or a trace to replay) reads and
 * writes. An image of at least `readEnd` sectors holds every read; one of
 * `max(readEnd, writeEnd)` also its writes.
 * @example
 * ```ts
 * import { bootExtents } from "./boot.ts";
 * const g = bootExtents({ regions: [{ lba: 2048, sectors: 200_000 }, { lba: 400_000, sectors: 8 }] });
 * console.assert(g.readEnd === 400_008 && g.writes.length === 0);
 * const t = bootExtents({ trace: [{ op: "read", lba: 8, count: 8, thinkNs: 0 }, { op: "write", lba: 64, count: 1, thinkNs: 0 }] });
 * console.assert(t.reads[0].lba === 8 && t.readEnd === 16 && t.writeEnd === 65);
 * ```
 */
export function bootExtents(
  boot: Pick<BootParams, "regions" | "writes"> | Pick<BootReplay, "trace">,
): BootExtents {
  let reads: Run[], writes: Run[];
  if ("trace" in boot) {
    const of = (op: "read" | "write") =>
      boot.trace.flatMap((o) => o.op === op ? [{ lba: o.lba, count: o.count }] : []);
    [reads, writes] = [of("read"), of("write")];
  } else {
    const w = boot.writes;
    reads = boot.regions.map((r) => ({ lba: r.lba, count: r.sectors }));
    writes = w !== undefined && (w.requests ?? 1) > 0 ? [{ lba: w.lba, count: w.sectors }] : [];
  }
  [reads, writes] = [mergeRuns(reads, Infinity), mergeRuns(writes, Infinity)];
  const end = (runs: Run[]) =>
    runs.length === 0 ? 0 : runs[runs.length - 1].lba + runs[runs.length - 1].count;
  return { reads, writes, readEnd: end(reads), writeEnd: end(writes) };
}

/** What a boot trace holds: {@link describeBootTrace}'s answer. */
export interface BootTraceSummary {
  /** Operations in all. */
  operations: number;
  /** Reads: how many, bytes. */
  reads: { count: number; bytes: number };
  /** Writes: how many, bytes, the ones the boot waits for (`sync`), the FUA ones. */
  writes: { count: number; bytes: number; sync: number; fua: number };
  /** Flushes: how many, the ones the boot waits for (`sync`). */
  flushes: { count: number; sync: number };
  /** Think time (CPU between requests) in all, s. */
  thinkS: number;
  /** The phases in play order, with their operations. */
  phases: { name: string; operations: number }[];
  /** Where it reads and writes ({@link bootExtents}). */
  extents: BootExtents;
  /** The smallest image holding every read and write, bytes. */
  minImageBytes: number;
}

/**
 * Sums up a boot trace (a recorded one, before replaying it): what it reads,
 * writes and flushes, how much it waits, its phases, where on the disk.
 * @example
 * ```ts
 * import { describeBootTrace } from "./boot.ts";
 * const s = describeBootTrace([
 *   { op: "read", lba: 2048, count: 256, thinkNs: 0 },
 *   { op: "flush", thinkNs: 1_000_000, sync: true },
 *   { op: "write", lba: 9000, count: 8, thinkNs: 0, sync: true, fua: true },
 * ]);
 * console.assert(s.reads.bytes === 131072 && s.writes.fua === 1 && s.flushes.sync === 1);
 * console.assert(s.minImageBytes === 9008 * 512 && s.thinkS === 0.001);
 * ```
 */
export function describeBootTrace(trace: readonly BootTraceOp[]): BootTraceSummary {
  const s: BootTraceSummary = {
    operations: trace.length,
    reads: { count: 0, bytes: 0 },
    writes: { count: 0, bytes: 0, sync: 0, fua: 0 },
    flushes: { count: 0, sync: 0 },
    thinkS: 0,
    phases: [],
    extents: bootExtents({ trace }),
    minImageBytes: 0,
  };
  let thinkNs = 0;
  for (const op of trace) {
    thinkNs += op.thinkNs;
    const name = op.phase ?? "boot";
    const last = s.phases[s.phases.length - 1];
    if (last?.name === name) last.operations++;
    else s.phases.push({ name, operations: 1 });
    if (op.op === "read") {
      s.reads.count++;
      s.reads.bytes += op.count * SECTOR;
    } else if (op.op === "write") {
      s.writes.count++;
      s.writes.bytes += op.count * SECTOR;
      if (op.sync === true) s.writes.sync++;
      if (op.fua === true) s.writes.fua++;
    } else {
      s.flushes.count++;
      if (op.sync === true) s.flushes.sync++;
    }
  }
  s.thinkS = thinkNs / 1e9;
  s.minImageBytes = Math.max(s.extents.readEnd, s.extents.writeEnd) * SECTOR;
  return s;
}

/** A generated or loaded trace with the parallelism of each phase. */
export interface BootTrace {
  /** The operations in play order, each tagged with its phase. */
  ops: BootTraceOp[];
  /** Phases in order, each with its number of readers in parallel. */
  phases: { name: string; parallelism: number }[];
  /** Memory-bound fraction (0..1) of the think time (EPT overhead applies to it). */
  memoryBound: number;
}

/** Splits `total` into integers proportional to `weights` (largest remainder), each >= `min`. */
function apportion(total: number, weights: readonly number[], min = 0): number[] {
  const rest = total - min * weights.length;
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum > 0 ? (w / sum) * rest : rest / weights.length));
  const out = exact.map((x) => Math.floor(x));
  let left = rest - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i]).sort((a, b) =>
    b[0] - a[0] || a[1] - b[1]
  );
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k][1]]++;
  return out.map((x) => x + min);
}

/**
 * Generates a boot trace; the same parameters and seed give the same trace.
 * @example
 * ```ts
 * import { generateBootTrace } from "./boot.ts";
 * const t = generateBootTrace({
 *   readBytes: 64 << 20, readRequests: 2000, sequentialFraction: 0.6,
 *   sizes: [{ bytes: 4096, weight: 3 }, { bytes: 131072, weight: 1 }],
 *   regions: [{ name: "/usr", lba: 2048, sectors: 1 << 22 }],
 *   phases: [{ name: "kernel", cpuNs: 1e9, share: 0.1 }, { name: "services", cpuNs: 4e9, share: 0.9, parallelism: 4 }],
 * }, 7);
 * console.assert(t.ops.reduce((s, o) => s + (o.op === "read" ? o.count : 0), 0) === (64 << 20) / 512);
 * ```
 */
export function generateBootTrace(params: BootParams, seed: number): BootTrace {
  const p = parseParams("generate boot trace", BootParamsSchema, params);
  const rng = new RngStreams(seed).stream("boot-trace");
  const pick = <T extends { weight: number }>(xs: readonly T[]): T => {
    const total = xs.reduce((a, x) => a + x.weight, 0);
    let u = rng.random() * total;
    for (const x of xs) if ((u -= x.weight) < 0) return x;
    return xs[xs.length - 1];
  };
  // Request sizes: drawn from the mix, then scaled to sum exactly to readBytes.
  const drawn = Array.from({ length: p.readRequests }, () => pick(p.sizes).bytes / SECTOR);
  const sizes = apportion(p.readBytes / SECTOR, drawn, 1);
  const perPhase = apportion(p.readRequests, p.phases.map((x) => x.share), 1);
  const fits = (count: number) => p.regions.filter((r) => r.sectors >= count);
  const ops: BootTraceOp[] = [];
  let region = p.regions[0];
  let end = -1; // where the previous read ended
  let k = 0;
  p.phases.forEach((ph, pi) => {
    for (let j = 0; j < perPhase[pi]; j++, k++) {
      const count = sizes[k];
      const seq = rng.random() < p.sequentialFraction;
      let lba: number;
      if (seq && end >= 0 && end + count <= region.lba + region.sectors) lba = end;
      else {
        const cand = fits(count);
        if (cand.length === 0) {
          throw new RangeError(
            `Cannot generate boot trace: 'regions' must hold a read of ${count} sectors: current largest is ${
              Math.max(...p.regions.map((r) => r.sectors))
            } sectors`,
          );
        }
        region = pick(cand);
        const off = rng.int(region.sectors - count + 1);
        lba = region.lba + Math.max(0, off - (off % p.alignSectors));
      }
      end = lba + count;
      ops.push({ op: "read", lba, count, thinkNs: 0, phase: ph.name });
    }
  });
  // Log writes: after uniformly drawn reads, appended sequentially in the log region.
  const w = p.writes;
  if (w !== undefined && w.requests > 0) {
    const wsizes = apportion(w.bytes / SECTOR, new Array(w.requests).fill(1), 1);
    const after = Array.from({ length: w.requests }, () => rng.int(ops.length)).sort((a, b) =>
      a - b
    );
    let cursor = 0;
    const merged: BootTraceOp[] = [];
    let wi = 0;
    ops.forEach((op, i) => {
      merged.push(op);
      for (; wi < after.length && after[wi] === i; wi++) {
        const count = wsizes[wi];
        if (cursor + count > w.sectors) cursor = 0;
        merged.push({ op: "write", lba: w.lba + cursor, count, thinkNs: 0, phase: op.phase });
        cursor += count;
      }
    });
    ops.splice(0, ops.length, ...merged);
  }
  // Think time: each phase's CPU time split over its operations at random.
  for (const ph of p.phases) {
    const mine = ops.filter((o) => o.phase === ph.name);
    const think = apportion(ph.cpuNs, mine.map(() => rng.exponential(1)));
    mine.forEach((o, i) => (o.thinkNs = think[i]));
  }
  return {
    ops,
    phases: p.phases.map((x) => ({ name: x.name, parallelism: x.parallelism })),
    memoryBound: p.memoryBound,
  };
}

/**
 * Checks a trace loaded from JSON (data/traces/*.json).
 * @example
 * ```ts
 * import { parseBootTrace } from "./boot.ts";
 * const ops = parseBootTrace([{ op: "read", lba: 0, count: 8, thinkNs: 1000 }]);
 * console.assert(ops.length === 1);
 * ```
 */
export function parseBootTrace(json: unknown): BootTraceOp[] {
  return parseParams("load boot trace", BootTraceSchema, json);
}

/** Replaying an explicit trace. */
export interface BootReplay {
  /** The operations to play, in order (validated like a trace file). */
  trace: readonly BootTraceOp[];
  /** Readers in parallel: one number, or per phase name (each a phase of the trace; absent ones 1). @default 1 */
  parallelism?: number | Record<string, number>;
  /** Memory-bound fraction of the think time. @default 0 */
  memoryBound?: number;
}

/** What {@link runBoot} needs besides the trace. */
export interface BootRunExtras {
  /** Seed of the generator. @default the simulation's seed */
  seed?: number;
  /** Version of each write. @default a counter from 1 */
  nextVersion?: () => number;
  /** Also record the phase spans here, as `entity`. */
  recorder?: Recorder;
  /** Entity name of the recorded spans. @default "guest" */
  entity?: string;
}

/** One phase of a played boot. */
export interface BootPhaseRow {
  /** Phase name. */
  phase: string;
  /** Simulation time the phase began, ns. */
  start: SimTime;
  /** Simulation time its last read and write completed, ns. */
  end: SimTime;
  /** `start` in seconds. */
  startS: number;
  /** `end` in seconds. */
  endS: number;
  /** Phase duration, seconds. */
  durationS: number;
  /** Operations of the trace (reads, writes and flushes) the phase played. */
  requests: number;
}

/** Outcome of a played boot. */
export interface BootResult {
  /** Simulation time the boot began, ns. */
  start: SimTime;
  /** Simulation time the last phase ended, ns. */
  end: SimTime;
  /** Boot duration, ns. */
  duration: SimTime;
  /** Boot duration, seconds. */
  seconds: number;
  /** The phases in order. */
  phases: BootPhaseRow[];
  /** Read requests issued. */
  reads: number;
  /** Write requests issued. */
  writes: number;
  /** Flushes issued (a replayed trace's). */
  flushes: number;
  /** Bytes read. */
  bytesRead: number;
  /** Bytes written. */
  bytesWritten: number;
  /** Requests the driver reported failed. */
  errors: number;
  /** Sum of think times as given (bare-metal CPU time), ns. */
  thinkTime: SimTime;
  /** CPU time actually spent on the cores, ns. */
  cpuTime: SimTime;
  /** Sum of request latencies, ns. */
  ioTime: SimTime;
  /** The longest request latency, ns (Linux gives a disk command 30 s before error handling). */
  longestIo: SimTime;
}

/**
 * Schema of a trace to replay ({@link BootReplay}): each `parallelism` key
 * must name a phase of the trace (a misspelt one would leave its phase at one
 * reader, unnoticed).
 * @example
 * ```ts
 * import { BootReplaySchema } from "./boot.ts";
 * const trace = [{ op: "read", lba: 0, count: 8, thinkNs: 0, phase: "kernel" }];
 * console.assert(BootReplaySchema.safeParse({ trace, parallelism: { kernel: 2 } }).success);
 * console.assert(!BootReplaySchema.safeParse({ trace, parallelism: { kernal: 2 } }).success);
 * ```
 */
export const BootReplaySchema = z.object({
  trace: BootTraceSchema,
  parallelism: z.union([int().positive(), z.record(z.string(), int().positive())]).default(1),
  memoryBound: z.number().min(0).max(1).default(0),
}).strict().superRefine((r, ctx) => {
  if (typeof r.parallelism === "number") return;
  const names = [...new Set(r.trace.map((op) => op.phase ?? "boot"))];
  for (const k of Object.keys(r.parallelism)) {
    if (names.includes(k)) continue;
    ctx.addIssue({
      code: "custom",
      path: ["parallelism", k],
      message: `is not a phase of the trace: the phases are ${names.join(", ") || "none"}`,
    });
  }
});

/** Replays checked, by their trace: a fleet's nodes play one trace, checked once (edit a copy). */
const checkedReplays = new WeakMap<
  object,
  { key: string; replay: z.output<typeof BootReplaySchema> }
>();

/** `replay` checked by {@link BootReplaySchema}, once per trace and settings. */
function checkedReplay(replay: BootReplay): z.output<typeof BootReplaySchema> {
  const { trace, ...rest } = replay;
  const key = JSON.stringify(rest);
  const known = typeof trace === "object" && trace !== null ? checkedReplays.get(trace) : undefined;
  if (known?.key === key) return known.replay;
  const r = parseParams("replay boot trace", BootReplaySchema, replay);
  checkedReplays.set(trace, { key, replay: r });
  return r;
}

/**
 * Plays a boot (generated from `params`, or `params.trace`) on `driver` and
 * `cpus`; the process's value is the duration and phase spans.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { GuestCpus } from "./cpus.ts";
 * import { runBoot } from "./boot.ts";
 * const sim = new Simulation();
 * const io = () => sim.timeout(100, { ok: true, versions: new Int32Array(8), latency: 100 });
 * const driver = { sim, read: io, write: io };
 * const cpus = new GuestCpus(sim, { cpu: { computeTime: (ns: number) => ns }, cores: 1 });
 * const p = runBoot(driver, cpus, { trace: [{ op: "read", lba: 0, count: 8, thinkNs: 50 }] });
 * sim.run();
 * console.assert(p.value.duration === 150);
 * ```
 */
export function runBoot(
  driver: GuestBlockDriver,
  cpus: GuestCpus,
  params: (BootParams | BootReplay) & BootRunExtras,
): Process<BootResult> {
  const { seed, nextVersion: nv, recorder, entity = "guest", ...data } = params;
  const sim = driver.sim;
  let plan: BootTrace;
  if ("trace" in data) {
    const r = checkedReplay(data as BootReplay);
    const phases: BootTrace["phases"] = [];
    for (const op of r.trace) {
      const name = op.phase ?? "boot";
      if (phases.length === 0 || phases[phases.length - 1].name !== name) {
        const par = typeof r.parallelism === "number" ? r.parallelism : r.parallelism[name] ?? 1;
        phases.push({ name, parallelism: par });
      }
    }
    plan = { ops: r.trace, phases, memoryBound: r.memoryBound };
    const flushes = r.trace.filter((op) => op.op === "flush").length;
    if (driver.flush === undefined && flushes > 0) {
      throw new RangeError(
        `Cannot replay boot trace: 'trace' must have no flush on a driver without flush(): current value has ${flushes}`,
      );
    }
  } else plan = generateBootTrace(data as BootParams, seed ?? sim.seed);
  let counter = 0;
  const nextVersion = nv ?? (() => ++counter);

  return sim.process(function* (): ProcessGenerator<BootResult> {
    const res: BootResult = {
      start: sim.now,
      end: sim.now,
      duration: 0,
      seconds: 0,
      phases: [],
      reads: 0,
      writes: 0,
      flushes: 0,
      bytesRead: 0,
      bytesWritten: 0,
      errors: 0,
      thinkTime: 0,
      cpuTime: 0,
      ioTime: 0,
      longestIo: 0,
    };
    const done = (r: IoResult) => {
      res.ioTime += r.latency;
      res.longestIo = Math.max(res.longestIo, r.latency);
      if (!r.ok) res.errors++;
    };
    let i = 0; // next operation of the trace
    for (const ph of plan.phases) {
      const start = sim.now;
      const first = i;
      const pendingWrites: SimEvent<IoResult>[] = [];
      // Readers share the phase's operations: each takes the next one in trace order.
      const reader = function* (): ProcessGenerator<void> {
        while (i < plan.ops.length && (plan.ops[i].phase ?? "boot") === ph.name) {
          const op = plan.ops[i++];
          res.thinkTime += op.thinkNs;
          res.cpuTime += yield* cpus.run(op.thinkNs, plan.memoryBound);
          if (op.op === "read") {
            res.reads++;
            res.bytesRead += op.count * SECTOR;
            done((yield driver.read({ lba: op.lba, count: op.count })) as IoResult);
            continue;
          }
          let ev: SimEvent<IoResult>;
          if (op.op === "flush") {
            res.flushes++;
            ev = driver.flush!();
          } else {
            res.writes++;
            res.bytesWritten += op.count * SECTOR;
            const { lba, count, fua } = op;
            ev = driver.write({ lba, count, version: nextVersion(), fua });
          }
          // A sync write or flush holds the reader; any other, only the phase's end.
          if (op.sync === true) done((yield ev) as IoResult);
          else {
            ev.then(() => done(ev.value));
            pendingWrites.push(ev);
          }
        }
      };
      const readers = Array.from(
        { length: ph.parallelism },
        (_, r) => sim.process(reader(), `boot:${ph.name}:${r}`),
      );
      yield sim.allOf(readers);
      yield sim.allOf(pendingWrites);
      const end = sim.now;
      res.phases.push({
        phase: ph.name,
        start,
        end,
        startS: start / 1e9,
        endS: end / 1e9,
        durationS: (end - start) / 1e9,
        requests: i - first,
      });
      recorder?.span(entity, ph.name, start, end);
    }
    res.end = sim.now;
    res.duration = res.end - res.start;
    res.seconds = res.duration / 1e9;
    return res;
  }, "boot");
}
