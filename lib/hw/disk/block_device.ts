/**
 * What a storage controller sees of a disk: 512-byte sectors whose content is
 * block versions (a {@link VersionMap}), and commands that take simulated
 * time. Disk models (HDD, SSD) implement it; the AHCI port drives it.
 */
import type { Lba, SimTime, VersionMap } from "../../_util/mod.ts";
import type { SimEvent } from "../../sim/mod.ts";

/** Bytes per logical sector. */
export const SECTOR_SIZE = 512;

/** A media command. */
export type DiskCommand =
  | { op: "read"; lba: Lba; count: number }
  | { op: "write"; lba: Lba; versions: ArrayLike<number>; fua?: boolean }
  | { op: "flush" };

/** Outcome of a command: versions read (reads), or an ATA error. */
export interface DiskResult {
  /** True when the command succeeded; false with `error` set otherwise. */
  ok: boolean;
  /** Versions of the sectors read. */
  versions?: Int32Array;
  /**
   * When `ok` is false: "idnf" (LBA out of range), "abrt" (command aborted) or
   * "unc" (uncorrectable data: a media error; the disk models here never
   * report one, a test disk may).
   */
  error?: "idnf" | "abrt" | "unc";
  /** Time the command spent in service (excluding queueing), ns. */
  serviceTime: SimTime;
}

/** A disk attached to a controller port. */
export interface BlockDevice {
  /** Device label; also the serial and model strings of IDENTIFY DEVICE. */
  readonly name: string;
  /** Capacity in sectors. */
  readonly sectors: number;
  /** Media content (versions per sector), including the write cache's effect. */
  readonly content: VersionMap;
  /** Maximum NCQ queue depth the device accepts (32 for SATA). */
  readonly queueDepth: number;
  /**
   * Takes forced-unit-access writes (IDENTIFY word 84 bit 6: WRITE DMA FUA EXT). Absent: true,
   * as every disk model here honours `fua`.
   */
  readonly fua?: boolean;
  /** Queues a command; the event succeeds when it completes. Commands that fail still succeed with ok=false. */
  submit(cmd: DiskCommand): SimEvent<DiskResult>;
  /** Commands queued or in service. */
  readonly outstanding: number;
}
