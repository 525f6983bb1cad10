/**
 * A 7200 rpm SATA hard disk: one actuator, a seek curve fitted to datasheet
 * seek times, random rotational latency, zoned media rate, sequential
 * streaming through the track buffer, a write-back cache destaged when the
 * host is idle, an NCQ queue served in arrival order or, optionally, by
 * shortest positioning time (seek + rotation) among the oldest commands.
 */
import {
  type FieldIssue,
  fieldIssue,
  issuesError,
  NS_PER_S,
  requireNumber,
} from "../../_util/mod.ts";
import type { Lba, SimTime, VersionMap } from "../../_util/mod.ts";
import { type ProcessGenerator, type RandomStream, Resource } from "../../sim/mod.ts";
import type { SimEvent, Simulation } from "../../sim/mod.ts";
import type { BlockDevice, DiskCommand, DiskResult } from "./block_device.ts";
import { SECTOR_SIZE } from "./block_device.ts";
import {
  Activity,
  Admission,
  applyContent,
  conflicts,
  count,
  type Decoded,
  type DiskStats,
  emptyStats,
  makeContent,
  overlaps,
  requireBoolean,
} from "./_common.ts";

/** Parameters of {@link Hdd}; every cost comes from here (a profile fills them with sources). */
export interface HddOptions {
  /** Device label (process names, IDENTIFY strings). @default "hdd" */
  name?: string;
  /** Capacity in 512-byte sectors. */
  sectors: number;
  /** Spindle speed, revolutions per minute. */
  rpm: number;
  /** Seek to the adjacent track (includes settle), ns. */
  trackToTrackSeek: SimTime;
  /** Mean seek between two uniformly random LBAs, ns (datasheet "average seek"). */
  averageSeek: SimTime;
  /** Seek across the whole LBA range, ns. */
  fullStrokeSeek: SimTime;
  /** Sustained media transfer rate at LBA 0 (outer zone), bytes/s. */
  outerRate: number;
  /** Sustained media transfer rate at the last LBA (inner zone), bytes/s. */
  innerRate: number;
  /** Host interface rate, bytes/s (SATA 3 Gb/s: 300e6 after 8b/10b coding). */
  interfaceRate: number;
  /** Controller time per command (decode, status, completion), ns. */
  commandOverhead: SimTime;
  /** Write-back cache on (ATA SET FEATURES 02h) or off. */
  writeCache: boolean;
  /** Write cache size in bytes (whole sectors are used). */
  writeCacheBytes: number;
  /** Largest piece destaged at once; bounds how long a host command waits behind destaging. @default 262144 */
  destageChunkBytes?: number;
  /** Host idle time before background destaging starts, ns. @default 0 */
  destageIdleDelay?: SimTime;
  /** NCQ queue depth. @default 32 */
  queueDepth?: number;
  /**
   * A read starting at most this many sectors after the previous media access
   * streams on; a media write that close waits for its sector to come round.
   * @default 128
   */
  sequentialWindow?: number;
  /**
   * Commands (from the oldest) among which the drive serves the one with the
   * shortest positioning time, seek + rotation (see {@link Hdd}); it also
   * bounds how often a command is passed over. 0 or 1 = arrival order (FIFO).
   * @default 0
   */
  sptfWindow?: number;
  /** Charge exactly half a revolution of rotational latency instead of a random draw. @default false */
  deterministic?: boolean;
  /** Name of the random stream for rotational latency. @default `hdd:<name>` */
  rngStream?: string;
  /** Existing content (e.g. a disk holding an image); its size must equal `sectors`. */
  content?: VersionMap;
  /** Version of every sector of a fresh disk when `content` is not given. @default NO_VERSION */
  initialVersion?: number;
}

/** Counters of an {@link Hdd}. */
export interface HddStats extends DiskStats {
  /** Media accesses that moved the actuator. */
  seeks: number;
  /** Media accesses that streamed on from the previous one (no seek, no rotational latency). */
  sequentialHits: number;
  /** Total seek time, ns. */
  seekTime: SimTime;
  /** Total rotational latency, ns. */
  rotationTime: SimTime;
  /** Writes absorbed by the write cache. */
  cacheWrites: number;
  /** Reads served entirely from dirty data in the write cache. */
  cacheReadHits: number;
  /** Bytes written from the cache to the media. */
  destagedBytes: number;
  /** Time the actuator was positioning or transferring, ns. */
  actuatorBusyTime: SimTime;
}

interface Job {
  d: Decoded;
  ev: SimEvent<DiskResult>;
  /** Times a younger command was served first (bounds SPTF starvation). */
  bypassed: number;
  /** Rotational latency drawn when SPTF picked the job, charged to its access. */
  rot?: SimTime;
}

interface Positioning {
  /** Streams on from the previous access (the rotation term is the rest of the gap to pass over). */
  sequential: boolean;
  seek: SimTime;
  rot: SimTime;
  total: SimTime;
  /** `rot` of a random target (drawn, or half a revolution when deterministic); unset when the previous access fixes it. */
  drawn?: SimTime;
}

interface Extent {
  lba: number;
  count: number;
}

/** Dirty sectors of the write cache, oldest first. */
class DirtyList {
  extents: Extent[] = [];
  total = 0;

  add(lba: number, n: number): void {
    const last = this.extents[this.extents.length - 1];
    if (last !== undefined && last.lba + last.count === lba) last.count += n;
    else this.extents.push({ lba, count: n });
    this.total += n;
  }

  /** Drops [lba, lba+n): newer data replaces it in place. */
  remove(lba: number, n: number): void {
    if (this.total === 0) return;
    const out: Extent[] = [];
    for (const e of this.extents) {
      if (!overlaps(e.lba, e.count, lba, n)) {
        out.push(e);
        continue;
      }
      if (e.lba < lba) out.push({ lba: e.lba, count: lba - e.lba });
      const end = e.lba + e.count;
      if (end > lba + n) out.push({ lba: lba + n, count: end - lba - n });
    }
    this.extents = out;
    this.total = out.reduce((s, e) => s + e.count, 0);
  }

  /** True when every sector of [lba, lba+n) is dirty here or in `also`. */
  covers(lba: number, n: number, also: Extent | null): boolean {
    if (this.total + (also?.count ?? 0) < n) return false;
    const all = also === null ? this.extents : [...this.extents, also];
    const parts = all.filter((e) => overlaps(e.lba, e.count, lba, n))
      .sort((a, b) => a.lba - b.lba);
    let next = lba;
    for (const e of parts) {
      if (e.lba > next) return false;
      next = Math.max(next, e.lba + e.count);
    }
    return next >= lba + n;
  }

  /** Removes and returns up to `max` sectors from the front of extent `i`. */
  take(i: number, max: number): Extent {
    const e = this.extents[i];
    const n = Math.min(e.count, max);
    const piece = { lba: e.lba, count: n };
    if (n === e.count) this.extents.splice(i, 1);
    else {
      e.lba += n;
      e.count -= n;
    }
    this.total -= n;
    return piece;
  }
}

/**
 * What the drive's timing must satisfy beyond each field's own range: the
 * seek curve (track to track, average over random seeks, full stroke) must
 * exist and rise with the distance (full stroke >= track to track, the
 * average between a third and 8/15 of the way from one to the other), and
 * zoned recording must not make the inner zone faster than the outer one
 * (innerRate <= outerRate). An issue per field (none when they fit), for a
 * profile check and the constructor alike.
 * @example
 * ```ts
 * import { hddIssues } from "./hdd.ts";
 * const ok = { trackToTrackSeek: 800_000, averageSeek: 8_000_000, fullStrokeSeek: 15_000_000, outerRate: 125e6, innerRate: 65e6 };
 * console.assert(hddIssues(ok).length === 0);
 * const [i, j] = hddIssues({ ...ok, averageSeek: 0, innerRate: 130e6 });
 * console.assert(i.field === "averageSeek" && i.message.startsWith("must be within [5533334, 8373333] ns"));
 * console.assert(j.field === "innerRate" && j.message === "must be <= outerRate (125000000): current value is 130000000");
 * ```
 */
export function hddIssues(
  o: Pick<
    HddOptions,
    "trackToTrackSeek" | "averageSeek" | "fullStrokeSeek" | "outerRate" | "innerRate"
  >,
): FieldIssue[] {
  const zones = o.innerRate > o.outerRate
    ? [fieldIssue("innerRate", `<= outerRate (${o.outerRate})`, o.innerRate)]
    : [];
  return [...seekIssues(o), ...zones];
}

function seekIssues(
  seek: Pick<HddOptions, "trackToTrackSeek" | "averageSeek" | "fullStrokeSeek">,
): FieldIssue[] {
  const { trackToTrackSeek: t2t, averageSeek: avg, fullStrokeSeek: full } = seek;
  if (full < t2t) return [fieldIssue("fullStrokeSeek", `>= trackToTrackSeek (${t2t})`, full)];
  // Fit t(d) = t2t + b*sqrt(d) + c*d: t(1) = full, E[t] = avg; b, c >= 0 keeps it monotone.
  const f = full - t2t;
  const lo = t2t + f / 3, hi = t2t + (8 * f) / 15;
  if (avg >= lo - 1e-6 && avg <= hi + 1e-6) return [];
  return [fieldIssue(
    "averageSeek",
    `within [${Math.ceil(lo)}, ${Math.floor(hi)}] ns for a monotone seek curve`,
    avg,
  )];
}

/**
 * A SATA hard disk with one actuator.
 *
 * Timing of a media access: `commandOverhead + seek + rotation +
 * max(media transfer, interface transfer)`.
 * - Seek over a distance of `d` (fraction of the LBA range, a stand-in for
 *   cylinders): `t(d) = trackToTrackSeek + b*sqrt(d) + c*d`, the
 *   square-root-plus-linear curve of Ruemmler & Wilkes ("An introduction to
 *   disk drive modeling", 1994), with b and c chosen so that `t(1)` is the
 *   full-stroke seek and the mean over two uniform LBAs (E[sqrt d] = 8/15,
 *   E[d] = 1/3) is the average seek. An access within one track does not seek.
 * - Rotation: uniform in [0, one revolution) from a seeded stream, or half a
 *   revolution when `deterministic`. No angular position is kept: for random
 *   targets the angle under the head after a seek is independent of the
 *   past, so each access draws afresh.
 * - Media rate falls linearly with LBA from `outerRate` to `innerRate`
 *   (zoned recording); the transfer time integrates it exactly.
 * - A media access that starts 0..`sequentialWindow` sectors after the
 *   previous one ended does not seek. A read, and the drive's own destaging
 *   (chunks back to back), stream on: no rotation (track buffer /
 *   read-ahead), they only pass over the gap. A host write that goes to the
 *   media (write cache off, FUA, larger than the cache) cannot be buffered
 *   ahead: the platter has kept turning since the last media access ended,
 *   so it waits `(gap time - elapsed) mod revolution`, where elapsed runs
 *   from the end of that access to the start of this command's service (the
 *   command overhead overlaps the rotation, as in a stream). Back-to-back
 *   writes still stream on; a write after a pause of `t` misses its sector
 *   and waits about one revolution less `t` (the missed revolution a write
 *   cache hides).
 * - Write cache: a write that fits completes at interface speed. The cache
 *   is destaged in chunks when no host command is outstanding, and also
 *   while a cached write is in service and the cache could not take another
 *   write of its size ("pressure"): then destaging streams on and the host's
 *   transfer into the cache overlaps it, as in a real drive, so sustained
 *   sequential writes run at the media rate. A write that must wait for room
 *   has its command processed in line with the media (it holds the actuator
 *   for `commandOverhead`, as a media command does), so the stream pays the
 *   per-command overhead as reads do. Between writes (host reads, or idle
 *   within `destageIdleDelay`) destaging stops after its current chunk.
 *   FUA writes and writes larger than the cache go to the media; FLUSH
 *   destages everything. Reads of sectors all dirty in the cache are served
 *   from it.
 * - NCQ: up to `queueDepth` commands queue. With `sptfWindow` 0 or 1 they
 *   are served in arrival order. Otherwise the drive serves, among the
 *   oldest `sptfWindow`, the one with the least seek + rotation (rotational
 *   position ordering, as SATA drives do: Intel & Seagate, "Serial ATA
 *   Native Command Queuing", 2003; Jacobson & Wilkes, HPL-CSP-91-7, 1991;
 *   Worthington, Ganger & Patt, SIGMETRICS 1994). Each candidate with a
 *   random target gets its own rotation draw (the targets' angles are
 *   independent), and the chosen command is charged that same draw, so the
 *   pick and the access agree; a candidate that streams on from the
 *   previous access costs its exact pass-over time, a cached one nothing.
 *   Unpicked candidates draw again at the next pick (a memoryless
 *   approximation of their angles). A command passed over `sptfWindow`
 *   times is served next. Destaging picks among the oldest `sptfWindow`
 *   dirty extents the same way. `deterministic` charges half a revolution
 *   to every candidate, so the pick then saves seek time only.
 *
 * Content changes when a command starts service, so reads see every write
 * served before them, cached or not; reordering never passes an overlapping
 * write or a flush. Guest errors (out-of-range LBA: "idnf"; zero count or a
 * command beyond `queueDepth`: "abrt") complete after `commandOverhead`.
 * Not modelled: cylinder/head geometry and skew, the angular position of
 * sectors and head (rotation is drawn), spare sectors, read-ahead beyond the
 * sequential window, power states, media errors, time-based command aging.
 * @example
 * ```ts
 * import { Simulation } from "../../sim/mod.ts";
 * import { Hdd } from "./hdd.ts";
 * const sim = new Simulation({ seed: 1 });
 * const disk = new Hdd(sim, {
 *   sectors: 976_773_168, rpm: 7200,
 *   trackToTrackSeek: 1_000_000, averageSeek: 8_500_000, fullStrokeSeek: 17_000_000,
 *   outerRate: 125e6, innerRate: 60e6, interfaceRate: 300e6, commandOverhead: 100_000,
 *   writeCache: true, writeCacheBytes: 16 << 20,
 * });
 * sim.process(function* () {
 *   yield disk.submit({ op: "write", lba: 2048, versions: [7, 7, 7, 7, 7, 7, 7, 7] });
 *   const r = (yield disk.submit({ op: "read", lba: 2048, count: 8 })) as { versions: Int32Array };
 *   console.assert(r.versions[0] === 7);
 * });
 * sim.run();
 * ```
 */
export class Hdd implements BlockDevice {
  readonly name: string;
  readonly sectors: number;
  readonly content: VersionMap;
  readonly queueDepth: number;
  /** One revolution, ns (float; rounded where charged). */
  readonly revolution: number;

  readonly #sim: Simulation;
  readonly #o: Required<Omit<HddOptions, "content" | "initialVersion" | "name" | "rngStream">>;
  readonly #cacheSectors: number;
  readonly #chunkSectors: number;
  readonly #seekB: number;
  readonly #seekC: number;
  readonly #rng: RandomStream;
  readonly #actuator: Resource;
  readonly #activity: Activity;
  readonly #admission: Admission;
  readonly #stats: HddStats = {
    ...emptyStats(),
    seeks: 0,
    sequentialHits: 0,
    seekTime: 0,
    rotationTime: 0,
    cacheWrites: 0,
    cacheReadHits: 0,
    destagedBytes: 0,
    actuatorBusyTime: 0,
  };
  #queue: Job[] = [];
  #dirty = new DirtyList();
  /** The piece being destaged (still in the cache buffer until written). */
  #inFlight: Extent | null = null;
  /** Sectors of the write being transferred into the cache (room held for it). */
  #reserved = 0;
  /** Size of the cached write in service, sectors (0: none). */
  #writing = 0;
  /** Succeeds when a destaged chunk frees room. */
  #roomFreed: SimEvent<void> | null = null;
  /** Wakes the destager when writes need room while the host is busy. */
  #kick: SimEvent<void> | null = null;
  /** Sector after the last media access; -1 before the first (head parked at LBA 0). */
  #headEnd = -1;
  /** When the last media access ended (its transfer left the head at `#headEnd`), ns. */
  #headFreeAt = 0;
  /** Succeeds (and wakes the destager) when the host goes idle; one per busy period. */
  #idle: SimEvent<void> | null = null;
  #arrival: SimEvent<void> | null = null;
  #dirtied: SimEvent<void> | null = null;

  /**
   * Creates an idle disk with its head parked at LBA 0 and an empty cache.
   * @param sim Simulation that times the disk.
   * @param options Geometry, mechanics and cache parameters (validated).
   */
  constructor(sim: Simulation, options: HddOptions) {
    const name = options.name ?? "hdd";
    const what = `create HDD '${name}'`;
    const o = {
      destageChunkBytes: 262_144,
      destageIdleDelay: 0,
      queueDepth: 32,
      sequentialWindow: 128,
      sptfWindow: 0,
      deterministic: false,
      ...options,
    };
    requireNumber(what, "sectors", o.sectors, { integer: true, min: 0, strict: true });
    requireNumber(what, "rpm", o.rpm, { min: 0, strict: true });
    for (const f of ["trackToTrackSeek", "averageSeek", "fullStrokeSeek"] as const) {
      requireNumber(what, f, o[f], { integer: true, min: 0 });
    }
    for (const f of ["outerRate", "innerRate", "interfaceRate"] as const) {
      requireNumber(what, f, o[f], { min: 0, strict: true });
    }
    requireNumber(what, "commandOverhead", o.commandOverhead, { integer: true, min: 0 });
    requireBoolean(what, "writeCache", o.writeCache);
    requireBoolean(what, "deterministic", o.deterministic);
    requireNumber(what, "writeCacheBytes", o.writeCacheBytes, { integer: true, min: 0 });
    requireNumber(what, "destageChunkBytes", o.destageChunkBytes, {
      integer: true,
      min: SECTOR_SIZE,
    });
    requireNumber(what, "destageIdleDelay", o.destageIdleDelay, { integer: true, min: 0 });
    requireNumber(what, "queueDepth", o.queueDepth, { integer: true, min: 0, strict: true });
    requireNumber(what, "sequentialWindow", o.sequentialWindow, { integer: true, min: 0 });
    requireNumber(what, "sptfWindow", o.sptfWindow, { integer: true, min: 0 });
    const geometry = hddIssues(o);
    if (geometry.length > 0) throw issuesError(what, geometry);
    // b and c of the seek curve's fit (hddIssues checks that it exists).
    const f = o.fullStrokeSeek - o.trackToTrackSeek;
    const a = o.averageSeek - o.trackToTrackSeek;
    this.#seekB = Math.max(0, 5 * a - (5 * f) / 3);
    this.#seekC = Math.max(0, f - this.#seekB);

    this.#sim = sim;
    this.#o = o;
    this.name = name;
    this.sectors = o.sectors;
    this.queueDepth = o.queueDepth;
    this.revolution = (60 * NS_PER_S) / o.rpm;
    this.content = makeContent(what, o.sectors, options.content, options.initialVersion);
    this.#cacheSectors = o.writeCache ? Math.floor(o.writeCacheBytes / SECTOR_SIZE) : 0;
    this.#chunkSectors = Math.floor(o.destageChunkBytes / SECTOR_SIZE);
    this.#rng = sim.rng.stream(options.rngStream ?? `hdd:${name}`);
    this.#actuator = new Resource(sim, { capacity: 1, name: `${name}:actuator` });
    this.#activity = new Activity(sim);
    this.#admission = new Admission({
      activity: this.#activity,
      stats: this.#stats,
      queueDepth: o.queueDepth,
      sectors: o.sectors,
      errorTime: o.commandOverhead,
      finish: (d, ev, r) => this.#finish(d, ev, r),
    });
    sim.process(this.#serveLoop(), `${name}:commands`);
    if (this.#cacheSectors > 0) sim.process(this.#destageLoop(), `${name}:destage`);
  }

  /** Commands queued or in service. */
  get outstanding(): number {
    return this.#activity.outstanding;
  }
  /** True when no host command is outstanding (background destaging may run). */
  get isIdle(): boolean {
    return this.#activity.outstanding === 0;
  }
  /** When the disk last became idle, ns; NaN while commands are outstanding. */
  get idleSince(): SimTime {
    return this.#activity.idleSince;
  }
  /** Sectors in the write cache not yet on the media. */
  get dirtySectors(): number {
    return this.#dirty.total + (this.#inFlight?.count ?? 0);
  }

  /** An event that succeeds when no host command is outstanding (at once if none is). */
  whenIdle(): SimEvent<void> {
    return this.#activity.whenIdle();
  }

  /** Counters so far (a snapshot). */
  stats(): HddStats {
    return { ...this.#stats, busyTime: this.#activity.busyTime() };
  }

  /** Seek time over `distance` sectors, ns (0 within one track). */
  seekTime(distance: number, at: Lba = 0): SimTime {
    const dist = Math.abs(distance);
    if (dist < this.sectorsPerTrack(at)) return 0;
    const d = Math.min(1, dist / this.sectors);
    return Math.round(
      this.#o.trackToTrackSeek + this.#seekB * Math.sqrt(d) + this.#seekC * d,
    );
  }

  /** Sustained media rate at `lba`, bytes/s. */
  mediaRate(lba: Lba): number {
    const { outerRate, innerRate } = this.#o;
    return outerRate + ((innerRate - outerRate) * lba) / this.sectors;
  }

  /** Sectors passing under the head in one revolution at `lba`. */
  sectorsPerTrack(lba: Lba): number {
    return (this.mediaRate(lba) * this.revolution) / NS_PER_S / SECTOR_SIZE;
  }

  /** Time to transfer sectors [lba, lba+n) at the zoned media rate, ns. */
  mediaTime(lba: Lba, n: number): SimTime {
    const { outerRate, innerRate } = this.#o;
    const bytes = n * SECTOR_SIZE;
    if (innerRate === outerRate) return Math.ceil((bytes / outerRate) * NS_PER_S);
    // Integral of SECTOR_SIZE / rate(x) dx with rate linear in x.
    const k = (innerRate - outerRate) / this.sectors;
    const r0 = this.mediaRate(lba);
    return Math.ceil(((SECTOR_SIZE / k) * Math.log1p((k * n) / r0)) * NS_PER_S);
  }

  /**
   * Queues a command; the event succeeds with its result when it completes.
   * Guest errors complete with ok=false, never throw.
   */
  submit(cmd: DiskCommand): SimEvent<DiskResult> {
    const ev = this.#sim.event<DiskResult>();
    const d = this.#admission.admit(cmd, ev);
    if (d === null) return ev;
    this.#queue.push({ d, ev, bypassed: 0 });
    if (this.#arrival !== null && !this.#arrival.triggered) this.#arrival.succeed();
    return ev;
  }

  #finish(d: Decoded | null, ev: SimEvent<DiskResult>, result: DiskResult): void {
    count(this.#stats, d, result);
    ev.succeed(result);
    this.#activity.end();
  }

  *#serveLoop(): ProcessGenerator<void> {
    const sim = this.#sim;
    for (;;) {
      if (this.#queue.length === 0) {
        this.#arrival = sim.event<void>();
        yield this.#arrival;
        continue;
      }
      const job = this.#pick();
      const start = sim.now;
      const versions = applyContent(this.content, job.d);
      const d = job.d;
      if (d.op === "read") yield* this.#read(d, job.rot);
      else if (d.op === "write") yield* this.#write(d, job.rot);
      else yield* this.#flush();
      this.#finish(job.d, job.ev, { ok: true, versions, serviceTime: sim.now - start });
    }
  }

  /**
   * Next job: FIFO (no draw here, so the FIFO stream of draws is unchanged),
   * or the least positioning time among the oldest `sptfWindow`, keeping the
   * winner's rotation draw for its access.
   */
  #pick(): Job {
    const q = this.#queue;
    const window = Math.min(this.#o.sptfWindow, q.length);
    if (window <= 1 || q[0].bypassed >= this.#o.sptfWindow) return q.shift()!;
    let best = 0;
    let bestP = this.#estimate(q[0].d);
    for (let j = 1; j < window; j++) {
      const d = q[j].d;
      if (d.op === "flush") break;
      let blocked = false;
      for (let i = 0; i < j && !blocked; i++) blocked = conflicts(q[i].d, d);
      if (blocked) continue;
      const p = this.#estimate(d);
      if (p.total < bestP.total) [best, bestP] = [j, p];
    }
    for (let i = 0; i < best; i++) q[i].bypassed++;
    const job = q.splice(best, 1)[0];
    job.rot = bestP.drawn;
    return job;
  }

  /** Positioning a candidate would cost now (nothing if the cache serves it). */
  #estimate(d: Decoded): Pick<Positioning, "total" | "drawn"> {
    if (d.op === "flush") return { total: 0 }; // only ever a candidate at the head of the queue
    if (this.#cached(d)) return { total: 0 };
    return this.#positioning(d.lba, d.op === "write");
  }

  /** True when the command is served by the cache alone. */
  #cached(d: Decoded): boolean {
    if (this.#cacheSectors === 0) return false;
    if (d.op === "write") return !d.fua && d.count <= this.#cacheSectors;
    return d.op === "read" && this.#dirty.covers(d.lba, d.count, this.#inFlight);
  }

  /**
   * Seek and rotation to reach `lba` for an access starting now. A random
   * target's rotation is `drawn` when given (drawn at the SPTF pick), else a
   * new draw. `hostWrite`: a host write to the media, which cannot stream on
   * after a pause (see {@link Hdd}).
   */
  #positioning(lba: number, hostWrite: boolean, drawn?: SimTime): Positioning {
    const gap = lba - this.#headEnd;
    if (this.#headEnd >= 0 && gap >= 0 && gap <= this.#o.sequentialWindow) {
      const pass = gap > 0 ? this.mediaTime(this.#headEnd, gap) : 0;
      const late = hostWrite ? this.#sim.now - this.#headFreeAt : 0;
      if (late <= pass) return { sequential: true, seek: 0, rot: pass - late, total: pass - late };
      // The sector has passed under the head: wait for it to come round again.
      const rev = this.revolution;
      const rot = Math.round((((pass - late) % rev) + rev) % rev);
      return { sequential: false, seek: 0, rot, total: rot };
    }
    const seek = this.seekTime(lba - Math.max(0, this.#headEnd), lba);
    // A pick's draw still holds if the head moved since (a destage chunk ran
    // first): the target's angle is just as independent of the new position.
    const rot = drawn ??
      (this.#o.deterministic
        ? Math.round(this.revolution / 2)
        : Math.round(this.#rng.uniform(0, this.revolution)));
    return { sequential: false, seek, rot, total: seek + rot, drawn: rot };
  }

  /**
   * One media access (`hostWrite`: a host write; `rot`: rotation drawn at the
   * pick); the caller holds the actuator.
   */
  *#access(
    lba: number,
    n: number,
    extra: SimTime,
    hostWrite: boolean,
    rot?: SimTime,
  ): ProcessGenerator<void> {
    const st = this.#stats;
    const p = this.#positioning(lba, hostWrite, rot);
    if (p.sequential) st.sequentialHits++;
    else if (p.seek > 0) st.seeks++;
    st.seekTime += p.seek;
    st.rotationTime += p.rot;
    const xfer = Math.max(this.mediaTime(lba, n), this.#ifaceTime(n));
    const media = p.total + xfer;
    st.actuatorBusyTime += media;
    this.#headEnd = lba + n;
    this.#headFreeAt = this.#sim.now + extra + media;
    yield this.#sim.timeout(extra + media);
  }

  /** Host media access: waits for the actuator (at most one destage chunk). */
  *#hostAccess(lba: number, n: number, write: boolean, rot?: SimTime): ProcessGenerator<void> {
    using req = this.#actuator.request();
    yield req;
    yield* this.#access(lba, n, this.#o.commandOverhead, write, rot);
  }

  /** Writes one chunk of the cache to the media; the caller holds the actuator. */
  *#destageChunk(): ProcessGenerator<void> {
    const dirty = this.#dirty;
    let i = 0;
    let rot: SimTime | undefined;
    const window = Math.min(this.#o.sptfWindow, dirty.extents.length);
    if (window > 1) {
      // As #pick: each extent's own draw; the chosen one's is charged.
      let best = Infinity;
      for (let j = 0; j < window; j++) {
        const p = this.#positioning(dirty.extents[j].lba, false);
        if (p.total < best) [best, i, rot] = [p.total, j, p.drawn];
      }
    }
    const piece = dirty.take(i, this.#chunkSectors);
    this.#inFlight = piece;
    yield* this.#access(piece.lba, piece.count, 0, false, rot);
    this.#inFlight = null;
    this.#stats.destagedBytes += piece.count * SECTOR_SIZE;
    const room = this.#roomFreed;
    this.#roomFreed = null;
    room?.succeed();
  }

  /** Cache sectors in use: dirty, being destaged, or being transferred in. */
  #used(): number {
    return this.dirtySectors + this.#reserved;
  }

  /** True while a cached write is in service and the cache could not take another like it. */
  #underPressure(): boolean {
    return this.#writing > 0 && this.#dirty.total > 0 &&
      this.#used() + this.#writing > this.#cacheSectors;
  }

  /** Destages everything (FLUSH); an in-flight chunk finishes first (it holds the actuator). */
  *#drain(): ProcessGenerator<void> {
    if (this.dirtySectors === 0) return;
    using req = this.#actuator.request();
    yield req;
    while (this.#dirty.total > 0) yield* this.#destageChunk();
  }

  *#read(d: Decoded, rot?: SimTime): ProcessGenerator<void> {
    if (this.#cached(d)) {
      this.#stats.cacheReadHits++;
      yield this.#sim.timeout(this.#o.commandOverhead + this.#ifaceTime(d.count));
      return;
    }
    yield* this.#hostAccess(d.lba, d.count, false, rot);
  }

  *#write(d: Decoded, rot?: SimTime): ProcessGenerator<void> {
    if (this.#cacheSectors > 0) this.#dirty.remove(d.lba, d.count);
    if (!this.#cached(d)) {
      yield* this.#hostAccess(d.lba, d.count, true, rot);
      return;
    }
    const sim = this.#sim;
    this.#stats.cacheWrites++;
    this.#writing = d.count;
    if (this.#used() + d.count <= this.#cacheSectors) {
      this.#reserve(d.count);
      yield sim.timeout(this.#o.commandOverhead + this.#ifaceTime(d.count));
    } else {
      // No room: the destager streams on (pressure); this command is processed
      // between its chunks, then its data follows the room destaging frees.
      this.#wakeDestager();
      {
        using req = this.#actuator.request();
        yield req;
        yield sim.timeout(this.#o.commandOverhead);
      }
      while (this.#used() + d.count > this.#cacheSectors) {
        this.#roomFreed ??= sim.event<void>();
        yield this.#roomFreed;
      }
      this.#reserve(d.count);
      yield sim.timeout(this.#ifaceTime(d.count));
    }
    this.#reserved -= d.count;
    this.#writing = 0;
    this.#dirty.add(d.lba, d.count);
    if (this.#dirtied !== null && !this.#dirtied.triggered) this.#dirtied.succeed();
  }

  /** Holds room for a write's transfer; destaging streams on if another like it would not fit. */
  #reserve(n: number): void {
    this.#reserved += n;
    if (this.#underPressure()) this.#wakeDestager();
  }

  #wakeDestager(): void {
    if (this.#kick !== null && !this.#kick.triggered) this.#kick.succeed();
  }

  *#flush(): ProcessGenerator<void> {
    yield this.#sim.timeout(this.#o.commandOverhead);
    if (this.#cacheSectors > 0) yield* this.#drain();
  }

  #newKick(): SimEvent<void> {
    if (this.#kick === null || this.#kick.triggered) this.#kick = this.#sim.event<void>();
    return this.#kick;
  }

  #ifaceTime(n: number): SimTime {
    return Math.ceil(((n * SECTOR_SIZE) / this.#o.interfaceRate) * NS_PER_S);
  }

  /**
   * Destaging, one chunk at a time: back to back while a write is under
   * pressure, otherwise only once the host has been idle `destageIdleDelay`.
   */
  *#destageLoop(): ProcessGenerator<void> {
    const sim = this.#sim;
    const act = this.#activity;
    for (;;) {
      if (this.#dirty.total === 0) {
        this.#dirtied = sim.event<void>();
        yield this.#dirtied;
        yield sim.timeout(0);
        continue;
      }
      const pressure = this.#underPressure();
      if (!pressure && act.outstanding > 0) {
        // Woken by a kick, or by the host going idle (which kicks it).
        if (this.#idle === null || this.#idle.triggered) {
          this.#idle = act.whenIdle().then(() => this.#wakeDestager());
        }
        yield this.#newKick();
        // Let commands submitted in this same instant count as host activity.
        yield sim.timeout(0);
        continue;
      }
      const wait = act.idleSince + this.#o.destageIdleDelay - sim.now;
      if (!pressure && wait > 0) {
        yield sim.anyOf([sim.timeout(wait), this.#newKick()]);
        continue;
      }
      using req = this.#actuator.request();
      yield req;
      if (this.#dirty.total > 0) yield* this.#destageChunk();
    }
  }
}
