/**
 * What the HDD and SSD models share: command checks (ATA error codes for
 * guest input), LBA-range overlap, content set-up, statistics and the idle
 * signal. Private to lib/hw/disk.
 */
import { NO_VERSION, rangeError, requireNumber, VersionMap } from "../../_util/mod.ts";
import type { SimTime } from "../../_util/mod.ts";
import type { SimEvent, Simulation } from "../../sim/mod.ts";
import { type DiskCommand, type DiskResult, SECTOR_SIZE } from "./block_device.ts";

/** Counters every disk model keeps. */
export interface DiskStats {
  /** Commands completed (including failed ones). */
  commands: number;
  /** Successful READ commands. */
  reads: number;
  /** Successful WRITE commands. */
  writes: number;
  /** Successful FLUSH commands. */
  flushes: number;
  /** Commands that completed with ok=false (idnf or abrt). */
  errors: number;
  /** Commands aborted because `queueDepth` commands were already outstanding. */
  overflows: number;
  /** Bytes transferred by successful reads (sectors x 512). */
  bytesRead: number;
  /** Bytes transferred by successful writes (sectors x 512). */
  bytesWritten: number;
  /** Time with at least one host command outstanding, ns. */
  busyTime: SimTime;
}

/** A fresh, all-zero {@link DiskStats}. */
export function emptyStats(): DiskStats {
  return {
    commands: 0,
    reads: 0,
    writes: 0,
    flushes: 0,
    errors: 0,
    overflows: 0,
    bytesRead: 0,
    bytesWritten: 0,
    busyTime: 0,
  };
}

/** A command after decoding: range and a private copy of the write data. */
export interface Decoded {
  op: DiskCommand["op"];
  lba: number;
  count: number;
  versions: Int32Array | null;
  fua: boolean;
}

/**
 * Decodes a guest command, or returns the ATA error the device reports:
 * "idnf" (ID Not Found, bit 4 of the ATA Error register) for an LBA range outside the media,
 * "abrt" for a malformed command (zero count, unknown op).
 */
function decode(cmd: DiskCommand, sectors: number): Decoded | "idnf" | "abrt" {
  if (cmd === null || typeof cmd !== "object") return "abrt";
  if (cmd.op === "flush") return { op: "flush", lba: 0, count: 0, versions: null, fua: false };
  if (cmd.op !== "read" && cmd.op !== "write") return "abrt";
  const count = cmd.op === "read" ? cmd.count : cmd.versions?.length;
  if (!Number.isInteger(count) || count < 1) return "abrt";
  const { lba } = cmd;
  if (!Number.isInteger(lba) || lba < 0 || lba + count > sectors) return "idnf";
  if (cmd.op === "read") return { op: "read", lba, count, versions: null, fua: false };
  // Copy now: the caller may reuse its buffer once the command is queued.
  return { op: "write", lba, count, versions: Int32Array.from(cmd.versions), fua: !!cmd.fua };
}

/** What an {@link Admission} needs of its disk (fixed for the disk's life). */
export interface AdmissionOptions {
  activity: Activity;
  stats: DiskStats;
  queueDepth: number;
  sectors: number;
  /** How long the device takes to report an error, ns. */
  errorTime: SimTime;
  /** The disk's completion path. */
  finish: (d: Decoded | null, ev: SimEvent<DiskResult>, result: DiskResult) => void;
}

/** The front of a disk's `submit()`, built once per disk. */
export class Admission {
  constructor(readonly options: AdmissionOptions) {}

  /**
   * Counts `cmd` as outstanding and decodes it. A command beyond the queue
   * depth ("abrt") or a malformed one completes `ev` with ok=false after
   * `errorTime`; then null.
   */
  admit(cmd: DiskCommand, ev: SimEvent<DiskResult>): Decoded | null {
    const o = this.options;
    const full = o.activity.outstanding >= o.queueDepth;
    o.activity.begin();
    const d = full ? "abrt" : decode(cmd, o.sectors);
    if (typeof d !== "string") return d;
    if (full) o.stats.overflows++;
    const t = o.errorTime;
    o.activity.sim.call(t, () => o.finish(null, ev, { ok: false, error: d, serviceTime: t }));
    return null;
  }
}

/** True when [a, a+n) and [b, b+m) share a sector. */
export function overlaps(a: number, n: number, b: number, m: number): boolean {
  return a < b + m && b < a + n;
}

/** True when serving `later` before `earlier` could change what a read returns. */
export function conflicts(earlier: Decoded, later: Decoded): boolean {
  if (earlier.op === "flush" || later.op === "flush") return true;
  if (earlier.op === "read" && later.op === "read") return false;
  return overlaps(earlier.lba, earlier.count, later.lba, later.count);
}

/** Applies a decoded command to content; returns the versions a read sees. */
export function applyContent(content: VersionMap, d: Decoded): Int32Array | undefined {
  if (d.op === "read") return content.read(d.lba, d.count);
  if (d.op === "write") content.set(d.lba, d.versions!);
  return undefined;
}

/** Adds a completed command to the counters. */
export function count(stats: DiskStats, d: Decoded | null, result: DiskResult): void {
  stats.commands++;
  if (!result.ok) stats.errors++;
  if (d === null || !result.ok) return;
  if (d.op === "read") {
    stats.reads++;
    stats.bytesRead += d.count * SECTOR_SIZE;
  } else if (d.op === "write") {
    stats.writes++;
    stats.bytesWritten += d.count * SECTOR_SIZE;
  } else stats.flushes++;
}

/** Builds the content map from the options (a given map, or a fresh one). */
export function makeContent(
  what: string,
  sectors: number,
  content: VersionMap | undefined,
  initialVersion: number | undefined,
): VersionMap {
  if (content !== undefined) {
    if (!(content instanceof VersionMap)) {
      throw new TypeError(`Cannot ${what}: 'content' must be a VersionMap`);
    }
    if (content.blocks !== sectors) {
      throw rangeError(what, "content", `a VersionMap of ${sectors} blocks`, content.blocks);
    }
    return content;
  }
  const v = initialVersion ?? NO_VERSION;
  requireNumber(what, "initialVersion", v, { integer: true, min: NO_VERSION });
  return new VersionMap(sectors, v);
}

/** Checks an optional boolean option. */
export function requireBoolean(what: string, field: string, value: unknown): void {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(
      `Cannot ${what}: '${field}' must be a boolean: current value is ${String(value)}`,
    );
  }
}

/**
 * Host-side activity of a disk: commands outstanding, the idle signal (the
 * disk's `isIdle`/`idleSince`/`whenIdle()`, and what the HDD's destaging
 * waits on), and busy time.
 */
export class Activity {
  outstanding = 0;
  /** When the disk last became idle; NaN while commands are outstanding. */
  idleSince: SimTime = 0;
  #busyFrom = 0;
  #busy = 0;
  #waiters: SimEvent<void>[] = [];

  constructor(readonly sim: Simulation) {}

  begin(): void {
    if (this.outstanding++ === 0) {
      this.#busyFrom = this.sim.now;
      this.idleSince = NaN;
    }
  }

  end(): void {
    if (--this.outstanding > 0) return;
    this.#busy += this.sim.now - this.#busyFrom;
    this.idleSince = this.sim.now;
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w.succeed();
  }

  /** Busy time up to now, ns. */
  busyTime(): SimTime {
    return this.#busy + (this.outstanding > 0 ? this.sim.now - this.#busyFrom : 0);
  }

  /** An event that succeeds when no command is outstanding (at once if none is). */
  whenIdle(): SimEvent<void> {
    const ev = this.sim.event<void>();
    if (this.outstanding === 0) return ev.succeed();
    this.#waiters.push(ev);
    return ev;
  }
}
