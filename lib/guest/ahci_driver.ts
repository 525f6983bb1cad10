/**
 * The unmodified guest OS's AHCI driver (after Linux `libahci`): it reaches
 * the HBA only through register accesses made by a CPU
 * ({@link Cpu.mmio}, so a VMM may trap them) and through the command list,
 * command tables, PRDTs and buffers it writes in its own memory, allocated
 * from the E820 map's usable RAM. It knows nothing of any VMM.
 */
import type { Gpa, SimTime } from "../_util/mod.ts";
import { concatVersions, millis, requireNumber, requireSectorRange } from "../_util/mod.ts";
import type { ProcessGenerator, SimEvent, Simulation, Timer } from "../sim/mod.ts";
import { Resource } from "../sim/mod.ts";
import type {
  AccessSize,
  Cpu,
  E820Map,
  InterruptController,
  MmioBus,
  PhysicalMemory,
} from "../hw/mod.ts";
import {
  AhciRegs as R,
  decodeNcqErrorLog,
  encodeAtaCommand,
  encodeH2dFis,
  type NcqErrorLog,
  PRD_MAX_BYTES,
  type PrdEntry,
  readCommandHeader,
  writeCommandHeader,
  writePrdt,
} from "../hw/ahci/mod.ts";
import { PhysAllocator } from "./phys_alloc.ts";

const SECTOR = 512;
const U32 = 2 ** 32;
/** PxIE bits the driver enables (Linux DEF_PORT_IRQ, reduced to what the model raises). */
const PORT_IRQ = R.PxIS_DHRS | R.PxIS_SDBS | R.PxIS_DPS | R.PxIS_TFES | R.PxIS_HBFS |
  R.PxIS_IFS;
/**
 * How long the error handler waits for its READ LOG EXT before it gives up and
 * freezes the port (libata-eh.c ata_eh_cmd_timeout_table: READ LOG EXT uses
 * ata_eh_revalidate_timeouts, 15 s on the first try).
 */
const LOG_READ_TIMEOUT = millis(15_000);
/** Errors libata's speed-down remembers per device (libata.h ATA_ERING_SIZE). */
const ERING_SIZE = 32;
const MINUTE = millis(60_000);

/**
 * An error class of libata's speed-down (libata-eh.c ata_eh_categorize_error):
 * an interface (ATA bus) error; a timeout (any command); a device error of an
 * I/O command that is neither a media error nor an invalid request.
 */
type ErrorCategory = "ata-bus" | "timeout" | "device";

/** One entry of the device's error history (libata ata_ering_entry). */
interface ErrorRecord {
  at: SimTime;
  category: ErrorCategory;
  /** The transfer had not been verified yet (ATA_EFLAG_DUBIOUS_XFER). */
  dubious: boolean;
}

/** CPU time of driver code, ns (from the profile). */
export interface AhciDriverCosts {
  /** Building one command: header, FIS, PRDT, slot bookkeeping. */
  issue: SimTime;
  /** Completing one command in the interrupt handler. */
  complete: SimTime;
  /** Delay between two reads of a register the driver polls (CR, FR, BSY). */
  pollInterval: SimTime;
}

/** Options of {@link AhciDriver}. */
export interface AhciDriverOptions {
  /** Simulation the driver's processes (issue, interrupt handler, init) run in. */
  sim: Simulation;
  /** CPU the driver's code runs on. */
  cpu: Cpu;
  /** Bus the CPU's register accesses to the ABAR window go through. */
  bus: MmioBus;
  /** Guest-physical memory holding the command list, FIS area, command tables and buffers. */
  memory: PhysicalMemory;
  /** Firmware memory map; the driver allocates only usable RAM from it. */
  e820: E820Map;
  /** Interrupt controller the driver registers its handler on for `vector`. */
  irq: InterruptController;
  /** Vector of the HBA's interrupt. */
  vector: number;
  /** ABAR: physical address of the HBA's register window. */
  abar: Gpa;
  /** CPU time of the driver's code paths, ns. */
  costs: AhciDriverCosts;
  /** Port to use. @default the first implemented port with a device (PxSSTS.DET = 3) */
  port?: number;
  /** Use NCQ when the HBA (CAP.SNCQ) and the disk (IDENTIFY word 76) support it. @default true */
  ncq?: boolean;
  /** Bytes per PRD entry: buffers are split at this size (4 KiB pages). @default 4096 */
  prdBytes?: number;
  /** PRD entries per command table (Linux AHCI_MAX_SG). @default 168 */
  maxPrdEntries?: number;
  /**
   * Largest request the block layer sends the disk, bytes (Linux's
   * `max_sectors_kb`; larger requests are split). @default no limit beyond the PRDT's
   */
  maxRequestBytes?: number;
  /** Cap on commands outstanding. @default 32 */
  queueDepth?: number;
  /**
   * Reset the HBA at init (GHC.HR), as Linux's probe does unless booted with
   * `ahci.skip_host_reset=1` (libahci ahci_reset_controller). @default true
   */
  hbaReset?: boolean;
  /** Give up waiting for CR/FR/BSY after this long (§10.1.2 allows 500 ms). @default 500 ms */
  engineTimeout?: SimTime;
  /** Lowest physical address the allocator hands out. @default 1 MiB */
  minAddress?: Gpa;
  /**
   * Error handling (Linux sd + libata EH): a command not completed this long
   * after its PxCI write times out; 0 never (the default). A command's timer
   * is cancelled when it completes, so a run ends at its last completion.
   */
  commandTimeout?: SimTime;
  /**
   * Retries of a command that timed out or failed with a device error before
   * it fails (Linux SD_MAX_RETRIES; a media error and IDENTIFY are not
   * retried). @default 5
   */
  commandRetries?: number;
  /** Time the link must stay up after a hard reset before the port restarts. @default 100 ms */
  linkDebounce?: SimTime;
}

/** Outcome of a request. */
export interface IoResult {
  /** Whether every command of the request completed without error and in full. */
  ok: boolean;
  /** Versions read (reads that succeeded). */
  versions?: Int32Array;
  /** Why it failed: ATA status/error from PxTFD, or a short transfer. */
  error?: string;
  /** Issue to completion, ns. */
  latency: SimTime;
}

/** What IDENTIFY and CAP told the driver. */
export interface AhciDriverInfo {
  /** HBA port the driver uses (bit in PI, device present per PxSSTS.DET). */
  port: number;
  /** Capacity in sectors (IDENTIFY words 100-103). */
  sectors: number;
  /** Commands the driver keeps outstanding at most. */
  queueDepth: number;
  /** NCQ in use. */
  ncq: boolean;
  /** Model string (IDENTIFY words 27-46). */
  model: string;
  /**
   * The disk takes WRITE DMA FUA EXT (IDENTIFY word 84 bit 6, as Linux's ata_id_has_fua). Linux
   * also needs `libata.fua=1`, long off by default: without it, the block layer sends FUA
   * writes as a write and a flush, as this driver does for a disk without FUA.
   */
  fua: boolean;
}

/** Driver counters. */
export interface AhciDriverStats {
  /** Read, write and flush calls. */
  requests: number;
  /** ATA commands issued after splitting, IDENTIFY included. */
  commands: number;
  /** Interrupt handler runs. */
  interrupts: number;
  /** Handler runs that found nothing to do. */
  spurious: number;
  /** Commands that failed: task file error (PxTFD) or short transfer (PRDBC). */
  errors: number;
  /** Sectors read by commands that completed successfully. */
  sectorsRead: number;
  /** Sectors written by commands that completed successfully. */
  sectorsWritten: number;
  /** HBA register reads the driver made through its CPU. */
  mmioReads: number;
  /** HBA register writes the driver made through its CPU. */
  mmioWrites: number;
  /** Commands that timed out (each time). */
  timeouts: number;
  /** Error-handler runs that reset the link (COMRESET). */
  resets: number;
  /**
   * Commands issued again by the error handler: after a reset (timeouts), or
   * after a task-file error (the failed command and those the halt left behind).
   */
  retries: number;
  /** Commands failed because they timed out with no retry left. */
  timedOut: number;
  /**
   * Error-handler runs for an error that halted the port (PxIS.TFES, or HBFS/IFS, which also
   * reset the link): each stops and restarts the port's engine.
   */
  taskFileErrors: number;
  /**
   * Error-handler reads of the NCQ error log that failed (Linux: "failed to
   * read log page 10h"): the READ LOG EXT failed or timed out, or the log named
   * no queued command.
   */
  ncqLogFailures: number;
  /**
   * Times libata's speed-down turned NCQ off after repeated errors (Linux: "NCQ
   * disabled due to excessive errors"); at most 1. Commands are then non-queued.
   */
  ncqTurnedOff: number;
}

/** A guest read request. */
export interface BlockRead {
  /** First sector. */
  lba: number;
  /** Sectors. */
  count: number;
  /** The caller caches the data itself (see {@linkcode GuestBlockDriver.read}). @default false */
  direct?: boolean;
}

/** A guest write request. */
export interface BlockWrite {
  /** First sector. */
  lba: number;
  /** Sectors. */
  count: number;
  /** Every sector gets `version`, or `version[i]`. */
  version: number | ArrayLike<number>;
  /**
   * Forced unit access: complete only once the data is on the medium, not just in the device's
   * write cache. A device without FUA gets the write and then a flush (Linux's blk-flush does
   * the same). @default false
   */
  fua?: boolean;
}

/** A block driver as workloads see it (this one, or any other guest driver). */
export interface GuestBlockDriver {
  /** Simulation the driver's requests complete in. */
  readonly sim: Simulation;
  /**
   * Reads `count` sectors from `lba`; the result carries one version per sector. `direct`: the
   * caller keeps what it reads in a page cache of its own (a workload modelling the guest's page
   * cache), so a driver with a cache of its own neither serves the read from it nor keeps the data
   * (it would be a second copy of the guest's page cache); drivers without one ignore it.
   */
  read(req: BlockRead): SimEvent<IoResult>;
  /** Writes `count` sectors from `lba`: every sector gets `version`, or `version[i]`. */
  write(req: BlockWrite): SimEvent<IoResult>;
  /**
   * Completes once every write completed before it is on the medium (ATA FLUSH CACHE,
   * VIRTIO_BLK_T_FLUSH). Absent: the driver cannot flush, and a boot trace with a flush is
   * refused on it.
   */
  flush?(): SimEvent<IoResult>;
  /** Link resets its error handling made so far (absent: a driver that waits without limit). */
  readonly resets?: number;
  /** Its error handling turned NCQ off (libata's speed-down; absent: a driver without NCQ). */
  readonly ncqOff?: boolean;
}

type CmdKind = "read" | "write" | "identify" | "flush";

interface Cmd {
  kind: CmdKind;
  lba: number;
  count: number;
  versions?: ArrayLike<number>;
  ncq: boolean;
  /** A write with FUA (FPDMA's DEVICE bit 7, or WRITE DMA FUA EXT). */
  fua: boolean;
  buf: Gpa;
  bufBytes: number;
  slot: number;
  done: SimEvent<CmdResult>;
  /** The latest issue's timeout: cancelled when the command retires or is issued again. */
  timer?: Timer;
  /** Retries left after a timeout or a device error. */
  retriesLeft: number;
  /** Timed out; the error handler has not dealt with it yet. */
  expired: boolean;
}

type CmdResult = { ok: boolean; error?: string; versions?: Int32Array; bytes?: Uint8Array };

/** A halting error the interrupt handler saw, for the error handler (libahci ahci_error_intr). */
interface PortError {
  /** PxIS error bits (TFES, HBFS, IFS). */
  is: number;
  /** PxTFD then: the failed command's status and error (non-queued; NCQ: also in log 10h). */
  tfd: number;
  /** PxCMD.CCS then: the failed non-queued command's slot (§6.2.2.1). */
  ccs: number;
}

/**
 * AHCI driver for one port.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { Cpu, E820Map, InterruptController, MmioBus, PhysicalMemory, Ssd } from "../hw/mod.ts";
 * import { AhciHba } from "../hw/ahci/mod.ts";
 * import { AhciDriver } from "./ahci_driver.ts";
 * const sim = new Simulation();
 * const memory = new PhysicalMemory({ size: 64 << 20 });
 * const irq = new InterruptController(sim, { latency: 1000 });
 * const bus = new MmioBus();
 * const disk = new Ssd(sim, { sectors: 1 << 16, readLatency: 80_000, writeLatency: 40_000, channels: 8,
 *   readBandwidth: 540e6, writeBandwidth: 500e6 });
 * const hba = new AhciHba({ sim, memory, irq, vector: 40, ports: [disk], costs: { commandOverhead: 2000,
 *   prdEntry: 20, fisPost: 300, dmaBandwidth: 4e9, identify: 10_000, engineStart: 0, engineStop: 0, fisEngine: 0, hbaReset: 0 } });
 * bus.map({ base: 0xfebf_0000, size: 0x1100, name: "ahci", device: hba });
 * const cpu = new Cpu(0, { vmExit: 0, vmEntry: 0, mmioRead: 500, mmioWrite: 100, eptOverhead: 0, ipi: 0, tlbFlush: 0 });
 * const drv = new AhciDriver({ sim, cpu, bus, memory, e820: E820Map.standard(64 << 20), irq, vector: 40,
 *   abar: 0xfebf_0000, costs: { issue: 1000, complete: 500, pollInterval: 10_000 } });
 * sim.process(function* () {
 *   yield drv.init();
 *   yield drv.write({ lba: 8, count: 4, version: 7 });
 *   const r = (yield drv.read({ lba: 8, count: 4 })) as { versions: Int32Array };
 *   console.assert(r.versions.join() === "7,7,7,7");
 * });
 * sim.run();
 * ```
 */
export class AhciDriver implements GuestBlockDriver {
  /** Simulation the driver's processes run in. */
  readonly sim: Simulation;
  /** Counters since creation. */
  readonly stats: AhciDriverStats = {
    requests: 0,
    commands: 0,
    interrupts: 0,
    spurious: 0,
    errors: 0,
    sectorsRead: 0,
    sectorsWritten: 0,
    mmioReads: 0,
    mmioWrites: 0,
    timeouts: 0,
    resets: 0,
    retries: 0,
    timedOut: 0,
    taskFileErrors: 0,
    ncqLogFailures: 0,
    ncqTurnedOff: 0,
  };
  /** Allocator of the driver's DMA structures and buffers, over the E820 map's usable RAM. */
  readonly allocator: PhysAllocator;
  #o: Required<Omit<AhciDriverOptions, "port">> & { port?: number };
  #lock: Resource;
  #info: AhciDriverInfo | undefined;
  /** Commands are queued (NCQ): options, HBA and disk allow it (init), and speed-down has not turned it off. */
  get #useNcq(): boolean {
    return this.#info?.ncq === true;
  }
  /** Commands the driver keeps outstanding at once (1 until init, and without NCQ). */
  get #depth(): number {
    return this.#info?.queueDepth ?? 1;
  }
  #port = -1;
  #clb: Gpa = 0;
  #fb: Gpa = 0;
  #ctba: Gpa[] = [];
  #busy = 0;
  /** Slots whose PxCI write has been made. */
  #issued = 0;
  #exclusive = false;
  #slots: (Cmd | undefined)[] = new Array(32).fill(undefined);
  #waiting: { cmd: Cmd; ev: SimEvent<number> }[] = [];
  #inHandler = false;
  #again = false;
  #lastCi = 0;
  #lastSact = 0;
  #ehPending = false;
  /** A halting error seen by the interrupt handler and not yet recovered. */
  #portError: PortError | undefined;
  /** The device's error history for speed-down, oldest first (libata dev->ering). */
  #ering: ErrorRecord[] = [];
  /**
   * A read or write has completed since the transfer mode was set
   * (libata clears ATA_DFLAG_DUBIOUS_XFER on the first data command that succeeds).
   */
  #xferVerified = false;

  /**
   * Creates the driver; it touches no register until {@link init}.
   * @throws RangeError on bad PRD, queue, timeout or cost options.
   */
  constructor(options: AhciDriverOptions) {
    const o = {
      ncq: true,
      prdBytes: 4096,
      maxPrdEntries: 168,
      maxRequestBytes: Infinity,
      queueDepth: 32,
      hbaReset: true,
      engineTimeout: millis(500),
      minAddress: 0x10_0000,
      commandTimeout: 0,
      commandRetries: 5,
      linkDebounce: millis(100),
      ...options,
    };
    const what = "create AHCI driver";
    requireNumber(what, "prdBytes", o.prdBytes, { integer: true, min: SECTOR });
    if (o.prdBytes % SECTOR !== 0 || o.prdBytes > PRD_MAX_BYTES) {
      throw new RangeError(
        `Cannot ${what}: 'prdBytes' must be a multiple of 512 <= ${PRD_MAX_BYTES}: current value is ${o.prdBytes}`,
      );
    }
    requireNumber(what, "maxPrdEntries", o.maxPrdEntries, { integer: true, min: 1 });
    if (o.maxRequestBytes !== Infinity) {
      requireNumber(what, "maxRequestBytes", o.maxRequestBytes, { integer: true, min: SECTOR });
      if (o.maxRequestBytes % SECTOR !== 0) {
        throw new RangeError(
          `Cannot ${what}: 'maxRequestBytes' must be a multiple of 512: current value is ${o.maxRequestBytes}`,
        );
      }
    }
    requireNumber(what, "queueDepth", o.queueDepth, { integer: true, min: 1 });
    if (o.queueDepth > 32) {
      throw new RangeError(
        `Cannot ${what}: 'queueDepth' must be <= 32: current value is ${o.queueDepth}`,
      );
    }
    for (
      const k of ["engineTimeout", "commandTimeout", "commandRetries", "linkDebounce"] as const
    ) {
      requireNumber(what, k, o[k], { integer: true, min: 0 });
    }
    for (const k of ["issue", "complete", "pollInterval"] as const) {
      requireNumber(what, `costs.${k}`, o.costs[k], { integer: true, min: 0 });
    }
    requireNumber(what, "costs.pollInterval", o.costs.pollInterval, {
      integer: true,
      min: 0,
      strict: true,
    });
    this.#o = o;
    this.sim = o.sim;
    this.#lock = new Resource(o.sim, { capacity: 1, name: "ahci host lock" });
    this.allocator = new PhysAllocator(o.e820, { minAddress: o.minAddress });
  }

  /** What init found; undefined before init completes. */
  get info(): AhciDriverInfo | undefined {
    return this.#info;
  }

  /** Link resets made by error handling so far (`stats.resets`). */
  get resets(): number {
    return this.stats.resets;
  }
  /** Speed-down turned NCQ off after repeated errors (`stats.ncqTurnedOff`). */
  get ncqOff(): boolean {
    return this.stats.ncqTurnedOff > 0;
  }

  /** Largest number of sectors one command carries. */
  get maxSectorsPerCommand(): number {
    const o = this.#o;
    return Math.min(
      65536,
      Math.floor((o.maxPrdEntries * o.prdBytes) / SECTOR),
      o.maxRequestBytes / SECTOR,
    );
  }

  /** Initialises controller and port, then identifies the disk. The process's value is the info. */
  init(): SimEvent<AhciDriverInfo> {
    return this.sim.process(this.#init(), "ahci-init");
  }

  /**
   * Reads `count` sectors from `lba`; the event's value carries the versions.
   * Requests larger than one command are split; the result merges the parts. (No cache here:
   * `direct` changes nothing.)
   */
  read(req: BlockRead): SimEvent<IoResult> {
    return this.#request("read", req.lba, req.count);
  }

  /**
   * Writes `count` sectors: every sector gets `version`, or versions[i]. `fua`: each command
   * with FUA if the disk takes it, else the write and then a FLUSH CACHE EXT.
   */
  write(req: BlockWrite): SimEvent<IoResult> {
    const v = req.version;
    const versions = typeof v === "number" ? new Int32Array(req.count).fill(v) : v;
    if (versions.length !== req.count) {
      throw new RangeError(
        `Cannot write: 'version' must be a number or hold 'count' (${req.count}) versions: current length is ${versions.length}`,
      );
    }
    return this.#request("write", req.lba, req.count, versions, req.fua === true);
  }

  /** FLUSH CACHE EXT. */
  flush(): SimEvent<IoResult> {
    return this.#request("flush", 0, 0);
  }

  // ---- request path ----

  #request(
    kind: CmdKind,
    lba: number,
    count: number,
    versions?: ArrayLike<number>,
    fua = false,
  ): SimEvent<IoResult> {
    const info = this.#info;
    if (info === undefined) throw new Error("AHCI driver: request before init() completed");
    if (kind === "read" || kind === "write") requireSectorRange(kind, lba, count, info.sectors);
    this.stats.requests++;
    const sim = this.sim;
    const start = sim.now;
    const out = sim.event<IoResult>();
    const max = this.maxSectorsPerCommand;
    const parts: SimEvent<{ ok: boolean; error?: string; versions?: Int32Array }>[] = [];
    if (kind === "flush") parts.push(this.#command(kind, 0, 0));
    for (let k = 0; k < count; k += max) {
      const n = Math.min(max, count - k);
      const v = versions === undefined ? undefined : Array.prototype.slice.call(versions, k, k + n);
      parts.push(this.#command(kind, lba + k, n, v, fua && info.fua));
    }
    const settle = (rs: CmdResult[]) => {
      const bad = rs.find((r) => !r.ok);
      const latency = sim.now - start;
      if (bad !== undefined) return out.succeed({ ok: false, error: bad.error, latency });
      if (kind !== "read") return out.succeed({ ok: true, latency });
      out.succeed({ ok: true, versions: concatVersions(rs.map((r) => r.versions!)), latency });
    };
    sim.allOf(parts).then((ev) => {
      const rs = ev.value as CmdResult[];
      if (!fua || info.fua || rs.some((r) => !r.ok)) return settle(rs);
      // No FUA on the disk: a flush after the write (its data is in the cache by then); a
      // failed write ends there, as Linux's blk-flush sequence does.
      const flush = this.#command("flush", 0, 0);
      flush.then(() => settle([...rs, flush.value]));
    });
    return out;
  }

  #command(
    kind: CmdKind,
    lba: number,
    count: number,
    versions?: ArrayLike<number>,
    fua = false,
  ): Cmd["done"] {
    const bufBytes = kind === "identify" ? SECTOR : count * SECTOR;
    const cmd: Cmd = {
      kind,
      lba,
      count,
      versions,
      ncq: this.#useNcq && (kind === "read" || kind === "write"),
      fua,
      buf: bufBytes > 0 ? this.allocator.alloc(bufBytes, { align: 4096 }) : 0,
      bufBytes,
      slot: -1,
      done: this.sim.event(),
      retriesLeft: this.#o.commandRetries,
      expired: false,
    };
    this.stats.commands++;
    this.sim.process(this.#issue(cmd), `ahci-issue-${kind}`);
    return cmd.done;
  }

  /** A slot is free when it is in neither PxCI nor PxSACT (as last read) nor busy here. */
  #freeSlot(cmd: Cmd): number {
    if (this.#exclusive) return -1;
    if (!cmd.ncq && this.#busy !== 0) return -1; // non-queued commands need an idle queue (ATA)
    let n = 0;
    for (let s = 0; s < 32; s++) if (this.#busy & (1 << s)) n++;
    if (n >= this.#depth) return -1;
    const taken = this.#busy | this.#lastCi | this.#lastSact;
    for (let s = 0; s < this.#depth; s++) if (!(taken & (1 << s))) return s;
    return -1;
  }

  #claim(cmd: Cmd, slot: number): void {
    this.#busy = (this.#busy | (1 << slot)) >>> 0;
    this.#slots[slot] = cmd;
    cmd.slot = slot;
    if (!cmd.ncq) this.#exclusive = true;
  }

  *#issue(cmd: Cmd): ProcessGenerator<void> {
    const sim = this.sim;
    let slot = this.#waiting.length === 0 ? this.#freeSlot(cmd) : -1;
    if (slot < 0) {
      const ev = sim.event<number>();
      this.#waiting.push({ cmd, ev });
      slot = (yield ev) as number;
    } else this.#claim(cmd, slot);
    yield* this.#sendLocked(cmd);
  }

  /** Takes the host lock, then issues `cmd` in the slot it holds. */
  *#sendLocked(cmd: Cmd): ProcessGenerator<void> {
    using lock = this.#lock.request();
    yield lock;
    yield* this.#send(cmd);
  }

  /** Builds `cmd` in its slot and issues it (the host lock held); its timer starts. */
  *#send(cmd: Cmd): ProcessGenerator<void> {
    yield this.sim.timeout(this.#o.costs.issue);
    this.#build(cmd);
    const bit = (1 << cmd.slot) >>> 0;
    // NCQ: PxSACT before PxCI (§5.3.1 / SATA NCQ); tag = slot.
    if (cmd.ncq) yield* this.#w(R.Px.SACT, bit);
    yield* this.#w(R.Px.CI, bit);
    this.#issued = (this.#issued | bit) >>> 0;
    this.#arm(cmd);
  }

  // ---- error handling ----

  /** Starts the command's timer (Linux: the block layer's request timeout). */
  #arm(cmd: Cmd): void {
    const timeout = this.#o.commandTimeout;
    if (timeout === 0) return;
    // A timer that runs is live: issuing again and retiring cancel the previous one.
    cmd.timer?.cancel();
    cmd.timer = this.sim.timer(timeout, () => {
      cmd.expired = true;
      this.stats.timeouts++;
      this.#scheduleRecovery();
    });
  }

  /** Runs the error handler once for whatever it finds pending (timeouts, a halting error). */
  #scheduleRecovery(): void {
    if (this.#ehPending) return;
    this.#ehPending = true;
    this.sim.process(this.#recover(), "ahci-eh");
  }

  /**
   * libata's error handler (ata_scsi_error -> ahci_error_handler ->
   * ata_std_error_handler), for timed-out commands and for the halting errors
   * the interrupt handler saw (PxIS.TFES, HBFS, IFS: the HBA has stopped
   * processing the command list, AHCI 1.3.1 §6.2.2). Every command that was
   * outstanding is out of the HBA afterwards (ST 1->0 clears PxCI and
   * PxSACT, §3.3.14, §3.3.13) and is issued again or failed.
   *
   * The port is frozen (PxIE = 0) and the engine stopped (clear ST, wait for
   * CR = 0). A timeout, a host bus or an interface error also resets the link
   * (ahci_hardreset: COMRESET through PxSCTL.DET held 1 ms, the link
   * (PxSSTS.DET = 3) up `linkDebounce`, the device ready). A task-file error
   * alone needs no reset (ahci_error_handler: ahci_stop_engine,
   * ahci_start_engine). PxSERR and PxIS are cleared and ST set again. After
   * an NCQ error the failed tag is read from the NCQ Command Error log (READ
   * LOG EXT 10h, ata_eh_read_log_10h, §6.2.2.2); a non-queued one is
   * PxCMD.CCS (§6.2.2.1). A log read that fails names no command (every one
   * is charged); one that timed out froze the port, and the link is reset.
   * The run's error then counts towards libata's speed-down, which may turn
   * NCQ off: the commands issued again are then non-queued.
   *
   * Then, per Linux's policy (ata_eh_worth_retry, scsi_eh_flush_done_q): a
   * command charged with the error (timed out, the failed one, or all of
   * them when the log names none) uses up a retry and fails when none is
   * left (SD_MAX_RETRIES); a media error (UNC, AC_ERR_MEDIA) and IDENTIFY (an
   * internal command) fail at once; the others were only caught in the
   * recovery and are issued again without using a retry
   * (ata_eh_qc_retry). Not modelled: the device revalidation (IDENTIFY)
   * and transfer-mode setup libata does after a reset, and libata's issue of
   * its internal command with interrupts on (here it is polled).
   */
  *#recover(): ProcessGenerator<void> {
    using lock = this.#lock.request();
    yield lock;
    this.#ehPending = false;
    const err = this.#portError;
    this.#portError = undefined;
    const outstanding: Cmd[] = [];
    for (let s = 0; s < 32; s++) {
      const c = this.#slots[s];
      if (c !== undefined && this.#issued & (1 << s)) outstanding.push(c);
    }
    const timedOut = outstanding.some((c) => c.expired);
    if (!timedOut && err === undefined) return; // completed meanwhile
    // AC_ERR_TIMEOUT, AC_ERR_HOST_BUS and AC_ERR_ATA_BUS ask for ATA_EH_RESET; AC_ERR_DEV does not.
    const reset = timedOut || (err !== undefined && (err.is & (R.PxIS_HBFS | R.PxIS_IFS)) !== 0);
    yield* this.#w(R.Px.IE, 0);
    yield* this.#stopEngine(yield* this.#r(R.Px.CMD));
    if (reset) yield* this.#hardReset();
    yield* this.#restartEngine();
    // Which command failed, and with what status (ata_eh_link_autopsy).
    let failed: Cmd | undefined;
    let tfd = err?.tfd ?? 0;
    let chargeAll = false;
    if (err !== undefined) {
      this.stats.taskFileErrors++;
      const nonQueued = outstanding.find((c) => !c.ncq);
      if (reset) chargeAll = true; // AC_ERR_HOST_BUS / AC_ERR_ATA_BUS: every command
      else if (nonQueued !== undefined) {
        failed = nonQueued.slot === err.ccs ? nonQueued : undefined;
        chargeAll = failed === undefined;
      } else if (outstanding.length > 0) {
        const { log, frozen } = yield* this.#readNcqLog();
        if (frozen) {
          // A frozen port is reset (ata_eh_link_autopsy: ATA_PFLAG_FROZEN asks for ATA_EH_RESET).
          yield* this.#stopEngine(yield* this.#r(R.Px.CMD));
          yield* this.#hardReset();
          yield* this.#restartEngine();
        }
        failed = log === undefined
          ? undefined
          : outstanding.find((c) => c.ncq && c.slot === log.tag);
        if (failed !== undefined) tfd = (log!.error << 8) | log!.status;
        chargeAll = failed === undefined; // the error stays the link's: every command inherits it
      }
    }
    // libata's autopsy ORs the error masks of every command the handler took
    // (ata_eh_link_autopsy) and files the run under one category (ata_eh_categorize_error).
    const io = outstanding.some((c) => c.kind === "read" || c.kind === "write");
    let category: ErrorCategory | undefined;
    if (err !== undefined && err.is & R.PxIS_IFS) category = "ata-bus"; // AC_ERR_ATA_BUS
    else if (timedOut) category = "timeout"; // AC_ERR_TIMEOUT
    else if (
      io && err !== undefined && !(err.is & R.PxIS_HBFS) && // AC_ERR_HOST_BUS: no category
      // AC_ERR_DEV alone: not AC_ERR_MEDIA (UNC) nor AC_ERR_INVALID (IDNF, ata_eh_analyze_tf)
      (chargeAll || !((tfd >>> 8) & (R.ATA_ERR_UNC | R.ATA_ERR_IDNF)))
    ) category = "device";
    const ncqOff = category !== undefined && this.#speedDown(category);
    yield* this.#w(R.Px.IE, PORT_IRQ >>> 0);
    this.#issued = this.#lastCi = this.#lastSact = 0;
    const requeue: Cmd[] = [];
    const after = this.#o.commandRetries;
    const retries = `${after} ${after === 1 ? "retry" : "retries"}`;
    const tfError = `task file error: status 0x${(tfd & 0xff).toString(16)} error 0x${
      (tfd >>> 8 & 0xff).toString(16)
    }`;
    for (const c of outstanding) {
      const deviceError = c === failed || (chargeAll && err !== undefined);
      if (c.expired || deviceError) {
        const expired = c.expired;
        c.expired = false;
        if (deviceError && !expired && c === failed) {
          // Not worth a retry (ata_eh_worth_retry): a media error, or an internal command.
          if ((tfd >>> 8) & R.ATA_ERR_UNC || c.kind === "identify") {
            this.#retire(c, { ok: false, error: tfError });
            continue;
          }
        }
        if (c.retriesLeft === 0) {
          if (expired) {
            this.stats.timedOut++;
            this.#retire(c, {
              ok: false,
              error: `timeout: no completion within ${this.#o.commandTimeout / 1e9} s, ${retries}`,
            });
          } else this.#retire(c, { ok: false, error: `${tfError}, ${retries}` });
          continue;
        }
        c.retriesLeft--;
      }
      this.stats.retries++;
      if (ncqOff) requeue.push(c);
      else yield* this.#send(c);
    }
    this.#requeue(requeue);
  }

  /**
   * ahci_hardreset: COMRESET through PxSCTL.DET held 1 ms, the link
   * (PxSSTS.DET = 3) up `linkDebounce`, the device ready; the engine is stopped.
   */
  *#hardReset(): ProcessGenerator<void> {
    this.stats.resets++;
    const sctl = (yield* this.#r(R.Px.SCTL)) & 0x0f0; // keep SPD
    yield* this.#w(R.Px.SCTL, (sctl | 0x301) >>> 0); // IPM = 3 (no power states), DET = 1
    yield this.sim.timeout(millis(1));
    yield* this.#w(R.Px.SCTL, (sctl | 0x300) >>> 0);
    yield* this.#waitFor(R.Px.SSTS, 0xf, 3, "PxSSTS.DET = 3 after COMRESET");
    yield this.sim.timeout(this.#o.linkDebounce);
    yield* this.#waitFor(R.Px.TFD, R.ATA_STS_BSY | R.ATA_STS_DRQ, 0, "PxTFD.BSY/DRQ to clear");
  }

  /**
   * libata's speed-down (libata-eh.c ata_eh_speed_down, ata_eh_speed_down_verdict):
   * records an error-handler run's category in the device's error history
   * (ATA_ERING_SIZE entries) and turns NCQ off ("NCQ disabled due to excessive
   * errors") when more than 3 timeouts and device errors occurred in the last
   * 10 minutes (rule 4), or more than 1 before any transfer was verified in
   * the last 5 minutes (rule 2, which keeps the history; otherwise the history
   * is cleared). Not modelled: its other verdicts (a lower SATA link speed or
   * transfer mode, with a reset, rules 1, 3 and 5), which the model's link and
   * disk timings would not feel. Returns whether NCQ went off now.
   */
  #speedDown(category: ErrorCategory): boolean {
    const now = this.sim.now;
    this.#ering.push({ at: now, category, dubious: !this.#xferVerified });
    if (this.#ering.length > ERING_SIZE) this.#ering.shift();
    // ata_ering_map walks newest first; entries older than a verified one count as verified.
    const count = (window: SimTime, dubious: boolean) => {
      let n = 0;
      let xferOk = false;
      for (let i = this.#ering.length - 1; i >= 0 && this.#ering[i].at >= now - window; i--) {
        const e = this.#ering[i];
        if (!e.dubious) xferOk = true;
        if (e.category !== "ata-bus" && dubious === !xferOk) n++;
      }
      return n;
    };
    const keepErrors = count(5 * MINUTE, true) > 1;
    if (!this.#useNcq || !(keepErrors || count(10 * MINUTE, false) > 3)) return false;
    this.stats.ncqTurnedOff++;
    this.#info = { ...this.#info!, ncq: false, queueDepth: 1 };
    for (const w of this.#waiting) w.cmd.ncq = false;
    if (!keepErrors) this.#ering.length = 0;
    return true;
  }

  /**
   * Gives commands back, unissued and non-queued, ahead of those waiting for
   * a slot (SCSI requeues a retried command at the head, and libata builds it
   * again with NCQ off); each is issued when a slot is free.
   */
  #requeue(cmds: Cmd[]): void {
    if (cmds.length === 0) return;
    const entries = cmds.map((cmd) => {
      this.#slots[cmd.slot] = undefined;
      this.#busy = (this.#busy & ~(1 << cmd.slot)) >>> 0;
      cmd.slot = -1;
      cmd.ncq = false;
      cmd.timer?.cancel(); // armed again when issued
      cmd.timer = undefined;
      const ev = this.sim.event<number>();
      ev.then(() => this.sim.process(this.#sendLocked(cmd), `ahci-issue-${cmd.kind}`));
      return { cmd, ev };
    });
    this.#waiting.unshift(...entries);
    this.#admit();
  }

  /** Clears PxCMD.ST (`cmd`: PxCMD as just read) and waits for CR to clear (§10.1.2). */
  *#stopEngine(cmd: number): ProcessGenerator<void> {
    yield* this.#w(R.Px.CMD, (cmd & ~R.PxCMD_ST) >>> 0);
    yield* this.#waitFor(R.Px.CMD, R.PxCMD_CR, 0, "PxCMD.CR to clear");
  }

  /** Clears PxSERR and PxIS (and the port's IS bit), then sets PxCMD.ST (§6.2.2, §10.3.1). */
  *#restartEngine(): ProcessGenerator<void> {
    yield* this.#w(R.Px.SERR, 0xffff_ffff);
    yield* this.#w(R.Px.IS, 0xffff_ffff);
    yield* this.#w(R.Ghc.IS, (1 << this.#port) >>> 0, true);
    yield* this.#w(R.Px.CMD, ((yield* this.#r(R.Px.CMD)) | R.PxCMD_ST) >>> 0);
  }

  /**
   * ata_eh_read_log_10h: READ LOG EXT of the NCQ Command Error log, issued
   * from the error handler as an internal command in slot 0 (every command is
   * out of the HBA after the engine stop; libata's internal tag) and polled.
   * Returns the log, or none when the command fails or the log names no
   * queued command (NQ): Linux's "failed to read log page 10h"
   * (ata_eh_analyze_ncq_error; `stats.ncqLogFailures`). A failed command
   * leaves the engine kicked, stopped and restarted (ahci_post_internal_cmd).
   * `frozen`: it timed out ({@link LOG_READ_TIMEOUT}; ata_exec_internal freezes
   * the port) or the HBA reported a host bus or interface error
   * (ahci_error_intr freezes on those), and the link must be reset.
   */
  *#readNcqLog(): ProcessGenerator<{ log?: NcqErrorLog; frozen: boolean }> {
    const o = this.#o;
    const mem = o.memory;
    const buf = this.allocator.alloc(SECTOR, { align: 4096 });
    const ctba = this.#ctba[0];
    yield this.sim.timeout(o.costs.issue);
    mem.writeBytes(
      ctba,
      encodeH2dFis(encodeAtaCommand({ kind: "log", lba: R.LOG_NCQ_COMMAND_ERROR, count: 1 })),
    );
    writePrdt(mem, ctba, [{ dba: buf, bytes: SECTOR, interrupt: false }]);
    writeCommandHeader(mem, { clb: this.#clb, slot: 0 }, { cfl: 5, prdtl: 1, ctba });
    yield* this.#w(R.Px.CI, 1);
    const deadline = this.sim.now + LOG_READ_TIMEOUT;
    let outcome: "done" | "failed" | "frozen";
    for (;;) {
      yield this.sim.timeout(o.costs.pollInterval);
      const is = yield* this.#r(R.Px.IS);
      if (is & R.PxIS_FATAL) {
        outcome = is & (R.PxIS_HBFS | R.PxIS_IFS) ? "frozen" : "failed";
        break;
      }
      if (!((yield* this.#r(R.Px.CI)) & 1)) {
        outcome = "done";
        break;
      }
      if (this.sim.now >= deadline) {
        outcome = "frozen";
        break;
      }
    }
    let log: NcqErrorLog | undefined;
    if (outcome === "done") {
      yield* this.#w(R.Px.IS, 0xffff_ffff);
      log = decodeNcqErrorLog(mem.readBytes(buf, SECTOR));
    } else {
      yield* this.#stopEngine(yield* this.#r(R.Px.CMD));
      yield* this.#restartEngine();
    }
    this.allocator.free(buf, SECTOR);
    if (log === undefined || log.nq) {
      this.stats.ncqLogFailures++;
      return { frozen: outcome === "frozen" };
    }
    return { log, frozen: false };
  }

  /** Writes the command header, command FIS and PRDT for `cmd` into its slot. */
  #build(cmd: Cmd): void {
    const mem = this.#o.memory;
    const ctba = this.#ctba[cmd.slot];
    const fis = cmd.kind === "identify" || cmd.kind === "flush"
      ? encodeAtaCommand({ kind: cmd.kind })
      : encodeAtaCommand({
        kind: cmd.kind,
        lba: cmd.lba,
        count: cmd.count,
        ncq: cmd.ncq,
        tag: cmd.slot,
        fua: cmd.fua,
      });
    mem.writeBytes(ctba, encodeH2dFis(fis));
    const prdt: PrdEntry[] = [];
    for (let off = 0; off < cmd.bufBytes; off += this.#o.prdBytes) {
      prdt.push({
        dba: cmd.buf + off,
        bytes: Math.min(this.#o.prdBytes, cmd.bufBytes - off),
        interrupt: false,
      });
    }
    writePrdt(mem, ctba, prdt);
    if (cmd.kind === "write") mem.writeVersions(cmd.buf, cmd.versions!);
    writeCommandHeader(mem, { clb: this.#clb, slot: cmd.slot }, {
      cfl: 5, // a register FIS is 5 DWORDs
      write: cmd.kind === "write",
      prefetch: !cmd.ncq && prdt.length > 0,
      prdtl: prdt.length,
      ctba,
    });
  }

  // ---- interrupt path ----

  #onInterrupt(): void {
    if (this.#inHandler) {
      this.#again = true;
      return;
    }
    this.#inHandler = true;
    this.sim.process(this.#isr(), "ahci-isr");
  }

  *#isr(): ProcessGenerator<void> {
    try {
      do {
        this.#again = false;
        this.stats.interrupts++;
        using lock = this.#lock.request();
        yield lock;
        const is = yield* this.#r(R.Ghc.IS, true);
        const bit = (1 << this.#port) >>> 0;
        let completed = 0;
        if (is & bit) completed = yield* this.#servicePort();
        if (is !== 0) yield* this.#w(R.Ghc.IS, is, true);
        if (completed === 0) this.stats.spurious++;
      } while (this.#again);
    } finally {
      this.#inHandler = false;
    }
  }

  /**
   * libahci's ahci_port_intr: ack PxIS, find finished slots from PxCI/PxSACT.
   * After a halting error (ahci_error_intr) the failed command and those
   * behind it stay in PxCI/PxSACT: PxTFD and PxCMD.CCS are kept for the
   * error handler, which is scheduled; what finished before completes here.
   */
  *#servicePort(): ProcessGenerator<number> {
    const pxis = yield* this.#r(R.Px.IS);
    if (pxis !== 0) yield* this.#w(R.Px.IS, pxis);
    if (pxis & R.PxIS_FATAL) {
      const tfd = yield* this.#r(R.Px.TFD);
      const ccs = ((yield* this.#r(R.Px.CMD)) >>> R.PxCMD_CCS_SHIFT) & 0x1f;
      this.#portError ??= { is: pxis & R.PxIS_FATAL, tfd, ccs };
      this.#scheduleRecovery();
    }
    const ci = yield* this.#r(R.Px.CI);
    const sact = this.#useNcq ? yield* this.#r(R.Px.SACT) : 0;
    this.#lastCi = ci;
    this.#lastSact = sact;
    const done = (this.#issued & ~(ci | sact)) >>> 0;
    let n = 0;
    for (let s = 0; s < 32; s++) {
      if (!(done & (1 << s))) continue;
      n++;
      yield this.sim.timeout(this.#o.costs.complete);
      this.#complete(s);
    }
    return n;
  }

  /** A command the HBA finished (a failed one never is: it waits for the error handler). */
  #complete(slot: number): void {
    const cmd = this.#slots[slot]!;
    const mem = this.#o.memory;
    // PRDBC tells how much moved; a short count is an error even without TFES.
    const prdbc = readCommandHeader(mem, { clb: this.#clb, slot }).prdbc;
    let r: CmdResult;
    if (prdbc < cmd.bufBytes) {
      r = { ok: false, error: `short transfer: ${prdbc} of ${cmd.bufBytes} bytes` };
    } else if (cmd.kind === "read") {
      r = { ok: true, versions: mem.readVersions(cmd.buf, cmd.count) };
      this.stats.sectorsRead += cmd.count;
      this.#xferVerified = true;
    } else if (cmd.kind === "identify") {
      r = { ok: true, bytes: mem.readBytes(cmd.buf, SECTOR) };
    } else {
      r = { ok: true };
      if (cmd.kind === "write") {
        this.stats.sectorsWritten += cmd.count;
        this.#xferVerified = true;
      }
    }
    this.#retire(cmd, r);
  }

  /** Frees the command's slot and buffer and completes it with `r`. */
  #retire(cmd: Cmd, r: CmdResult): void {
    const bit = (1 << cmd.slot) >>> 0;
    this.#slots[cmd.slot] = undefined;
    this.#busy = (this.#busy & ~bit) >>> 0;
    this.#issued = (this.#issued & ~bit) >>> 0;
    if (!cmd.ncq) this.#exclusive = false;
    if (!r.ok) this.stats.errors++;
    if (cmd.bufBytes > 0) this.allocator.free(cmd.buf, cmd.bufBytes);
    cmd.timer?.cancel();
    cmd.done.succeed(r);
    this.#admit();
  }

  /** Hands freed slots to waiting commands, in arrival order. */
  #admit(): void {
    while (this.#waiting.length > 0) {
      const w = this.#waiting[0];
      const slot = this.#freeSlot(w.cmd);
      if (slot < 0) return;
      this.#waiting.shift();
      this.#claim(w.cmd, slot);
      w.ev.succeed(slot);
    }
  }

  // ---- init ----

  *#init(): ProcessGenerator<AhciDriverInfo> {
    const o = this.#o;
    if (this.#port >= 0) throw new Error("AHCI driver: init() called twice");
    let hbaSlots = 1;
    let hbaNcq = false;
    {
      using lock = this.#lock.request();
      yield lock;
      o.irq.onVector(o.vector, () => this.#onInterrupt());
      const ghc = yield* this.#r(R.Ghc.GHC, true);
      yield* this.#w(R.Ghc.GHC, (ghc | R.GHC_AE) >>> 0, true);
      if (o.hbaReset) {
        // Linux resets the HBA at probe (libahci ahci_reset_controller): HR, read
        // back until the HBA clears it (AHCI 1.3.1 §10.4.3 allows 1 s), AE again.
        yield* this.#w(R.Ghc.GHC, (ghc | R.GHC_AE | R.GHC_HR) >>> 0, true);
        const deadline = this.sim.now + millis(1000);
        while ((yield* this.#r(R.Ghc.GHC, true)) & R.GHC_HR) {
          if (this.sim.now >= deadline) throw new Error("AHCI driver: HBA reset not done in 1 s");
          yield this.sim.timeout(o.costs.pollInterval);
        }
        yield* this.#w(R.Ghc.GHC, R.GHC_AE, true);
      }
      const cap = yield* this.#r(R.Ghc.CAP, true);
      const pi = yield* this.#r(R.Ghc.PI, true);
      this.#port = yield* this.#pickPort(pi);
      yield* this.#startPort();
      yield* this.#w(R.Ghc.GHC, (R.GHC_AE | R.GHC_IE) >>> 0, true);
      const ncs = ((cap & R.CAP_NCS_MASK) >>> R.CAP_NCS_SHIFT) + 1;
      hbaSlots = Math.min(ncs, o.queueDepth);
      hbaNcq = (cap & R.CAP_SNCQ) !== 0;
      for (let s = 0; s < hbaSlots; s++) {
        // Command table: CFIS/ACMD area then the PRDT, 128-byte aligned (§4.2.3).
        const bytes = R.CT_PRDT + o.maxPrdEntries * R.PRDT_ENTRY_BYTES;
        this.#ctba.push(this.allocator.alloc(bytes, { align: 128 }));
      }
    }
    const id = (yield this.#command("identify", 0, 0)) as {
      ok: boolean;
      error?: string;
      bytes?: Uint8Array;
    };
    if (!id.ok) throw new Error(`AHCI driver: IDENTIFY failed: ${id.error}`);
    const w = new DataView(id.bytes!.buffer);
    const word = (i: number) => w.getUint16(i * 2, true);
    let sectors = 0;
    for (let i = 103; i >= 100; i--) sectors = sectors * 0x1_0000 + word(i);
    const diskNcq = (word(76) & (1 << 8)) !== 0;
    const diskDepth = (word(75) & 0x1f) + 1;
    // Word 84 is valid when bits 15:14 are 01 (ACS-3 IDENTIFY DEVICE data).
    const fua = (word(84) & 0xc000) === 0x4000 && (word(84) & (1 << 6)) !== 0;
    let model = "";
    for (let i = 27; i <= 46; i++) model += String.fromCharCode(word(i) >> 8, word(i) & 0xff);
    const ncq = o.ncq && hbaNcq && diskNcq;
    this.#info = {
      port: this.#port,
      sectors,
      queueDepth: ncq ? Math.min(hbaSlots, diskDepth) : 1,
      ncq,
      model: model.trim(),
      fua,
    };
    return this.#info;
  }

  *#pickPort(pi: number): ProcessGenerator<number> {
    const want = this.#o.port;
    for (let p = 0; p < 32; p++) {
      if (!(pi & (1 << p)) || (want !== undefined && p !== want)) continue;
      const ssts = yield* this.#r(R.portReg(p, R.Px.SSTS), true);
      if ((ssts & 0xf) === 3) return p; // DET = 3: device present, link up (§3.3.10)
    }
    throw new Error(
      `AHCI driver: no port with a device (PI=0x${pi.toString(16)}, wanted ${want ?? "any"})`,
    );
  }

  /** Port start-up in the spec's order (§10.1.2, §10.3). */
  *#startPort(): ProcessGenerator<void> {
    const o = this.#o;
    let cmd = yield* this.#r(R.Px.CMD);
    if (cmd & (R.PxCMD_ST | R.PxCMD_CR)) yield* this.#stopEngine(cmd);
    cmd = yield* this.#r(R.Px.CMD);
    if (cmd & (R.PxCMD_FRE | R.PxCMD_FR)) {
      yield* this.#w(R.Px.CMD, (cmd & ~R.PxCMD_FRE) >>> 0);
      yield* this.#waitFor(R.Px.CMD, R.PxCMD_FR, 0, "PxCMD.FR to clear");
    }
    // Command list 1 KiB (1 KiB aligned), received-FIS area 256 B (256 aligned): §4.2.
    this.#clb = this.allocator.alloc(R.SLOTS * R.CMD_HEADER_BYTES, { align: 1024 });
    this.#fb = this.allocator.alloc(R.RFIS_BYTES, { align: 256 });
    o.memory.writeBytes(this.#clb, new Uint8Array(R.SLOTS * R.CMD_HEADER_BYTES));
    o.memory.writeBytes(this.#fb, new Uint8Array(R.RFIS_BYTES));
    yield* this.#w(R.Px.CLB, this.#clb % U32);
    yield* this.#w(R.Px.CLBU, Math.floor(this.#clb / U32));
    yield* this.#w(R.Px.FB, this.#fb % U32);
    yield* this.#w(R.Px.FBU, Math.floor(this.#fb / U32));
    cmd = yield* this.#r(R.Px.CMD);
    yield* this.#w(R.Px.CMD, (cmd | R.PxCMD_FRE) >>> 0);
    yield* this.#waitFor(R.Px.CMD, R.PxCMD_FR, R.PxCMD_FR, "PxCMD.FR to set");
    yield* this.#w(R.Px.SERR, 0xffff_ffff);
    yield* this.#w(R.Px.IS, 0xffff_ffff);
    yield* this.#w(R.Ghc.IS, (1 << this.#port) >>> 0, true);
    yield* this.#w(R.Px.IE, PORT_IRQ >>> 0);
    // The device must be idle before ST is set (§10.3.1).
    yield* this.#waitFor(R.Px.TFD, R.ATA_STS_BSY | R.ATA_STS_DRQ, 0, "PxTFD.BSY/DRQ to clear");
    cmd = yield* this.#r(R.Px.CMD);
    yield* this.#w(R.Px.CMD, (cmd | R.PxCMD_ST) >>> 0);
  }

  *#waitFor(reg: number, mask: number, value: number, what: string): ProcessGenerator<void> {
    const deadline = this.sim.now + this.#o.engineTimeout;
    for (;;) {
      if (((yield* this.#r(reg)) & mask) === value) return;
      if (this.sim.now >= deadline) throw new Error(`AHCI driver: timed out waiting for ${what}`);
      yield this.sim.timeout(this.#o.costs.pollInterval);
    }
  }

  // ---- register access: always through the CPU ----

  /** Reads a register: a port register offset unless `global`. */
  *#r(off: number, global = false): ProcessGenerator<number> {
    this.stats.mmioReads++;
    return yield* this.#mmio(global ? off : R.portReg(this.#port, off), 4, false, 0);
  }

  *#w(off: number, value: number, global = false): ProcessGenerator<void> {
    this.stats.mmioWrites++;
    yield* this.#mmio(global ? off : R.portReg(this.#port, off), 4, true, value);
  }

  *#mmio(off: number, size: AccessSize, write: boolean, value: number): ProcessGenerator<number> {
    const o = this.#o;
    return yield* o.cpu.mmio(o.sim, o.bus, { addr: o.abar + off, size, write, value });
  }
}
