/**
 * One AHCI port: its registers (AHCI 1.3.1 §3.3), the command-list and
 * FIS-receive engines as explicit state machines (§3.3.7, §10.3.2), and
 * command processing: fetch the header, command FIS and PRDT from memory,
 * run the command on the attached {@link BlockDevice}, DMA versions, post the
 * D2H or Set Device Bits FIS and raise the port's interrupt status.
 * Guest mistakes (bad register orders, malformed commands) are counted and
 * end the way a device ends them: ignored writes or task-file errors.
 *
 * A task-file error (or a host bus error) halts the command-list engine
 * (ERR:FatalTaskfile / ERR:Fatal, then ERR:WaitForClear, §5.3.16): PxIS.TFES
 * is set, the failing non-queued command keeps its PxCI bit and is named by
 * PxCMD.CCS, queued commands keep their PxSACT bits (the device aborts them;
 * the failing tag is in the NCQ Command Error log, read with READ LOG EXT
 * 10h), and nothing more is fetched or issued until software clears PxCMD.ST
 * (which clears PxCI and PxSACT), clears PxIS and PxSERR and sets ST again
 * (§6.2.2.1, §6.2.2.2). The device side keeps its NCQ error state across
 * that restart ({@link DeviceState}): until READ LOG EXT of log 10h is read
 * (or a COMRESET or HBA reset) it aborts every other command (SATA 2.6
 * §13.5.4.1).
 */
import type { Gpa, SimTime } from "../../_util/mod.ts";
import { transferTime } from "../../_util/mod.ts";
import type { Simulation } from "../../sim/mod.ts";
import type { PhysicalMemory } from "../memory.ts";
import type { BlockDevice, DiskCommand, DiskResult } from "../disk/block_device.ts";
import {
  ATA_ERR_ABRT,
  ATA_ERR_IDNF,
  ATA_ERR_UNC,
  ATA_STS_BSY,
  ATA_STS_DRDY,
  ATA_STS_DRQ,
  ATA_STS_ERR,
  Px,
  PxCMD_CCS_SHIFT,
  PxCMD_CR,
  PxCMD_FR,
  PxCMD_FRE,
  PxCMD_POD,
  PxCMD_ST,
  PxCMD_SUD,
  PxIS_DHRS,
  PxIS_HBFS,
  PxIS_SDBS,
  PxIS_TFES,
  PxSSTS_ACTIVE,
  RFIS_RFIS,
  RFIS_SDBFIS,
  SIG_ATA,
} from "./registers.ts";
import {
  type AtaCommandKind,
  decodeCommand,
  type DecodedCommand,
  encodeD2hFis,
  encodeNcqErrorLog,
  encodeSdbFis,
  type NcqErrorLog,
  readsNcqErrorLog,
  scatterVersions,
  validateCommand,
  writePrdbc,
} from "./structures.ts";

const U32 = 2 ** 32;
const SECTOR = 512;
/** PxTFD after the device's initial D2H FIS: DRDY and DSC (bit 4, ATA-4 legacy). */
const TFD_READY = ATA_STS_DRDY | 0x10;
/** PxTFD with no device: 0x7F (§3.3.8 reset value). */
const TFD_NO_DEVICE = 0x7f;
/** Largest Data FIS payload (SATA 3.0 §10.5.11). */
const DATA_FIS_BYTES = 8192;

/** Costs of the HBA, all from the profile. Times in ns. */
export interface AhciCosts {
  /** HBA/firmware per-command processing: fetch header, FIS and PRDT, decode; serial per port. */
  commandOverhead: SimTime;
  /** Extra processing per PRD entry walked. */
  prdEntry: SimTime;
  /** Posting a FIS into the received-FIS area and updating PxTFD/PxIS. */
  fisPost: SimTime;
  /** DMA bandwidth between HBA and memory, bytes/s (one Data FIS's worth per command is exposed). */
  dmaBandwidth: number;
  /** Device response time to IDENTIFY DEVICE (and to READ LOG EXT, answered the same way). */
  identify: SimTime;
  /** Time for PxCMD.CR to follow ST set to 1. */
  engineStart: SimTime;
  /** Time for CR to clear after ST is cleared (the spec allows up to 500 ms, §10.1.2). */
  engineStop: SimTime;
  /** Time for PxCMD.FR to follow FRE (set or cleared). */
  fisEngine: SimTime;
  /** Time for GHC.HR to self-clear after an HBA reset. */
  hbaReset: SimTime;
  /**
   * Time from the end of a COMRESET (PxSCTL.DET 1 -> 0) until the link is up
   * again and the device's signature FIS has arrived (PxSSTS.DET = 3, PxTFD
   * ready). @default 0
   */
  linkReset?: SimTime;
}

/** Link as PxSSTS.DET shows it: up (3), or held in / training after a COMRESET (1). */
export type LinkState = "up" | "reset" | "training";
/** PxSSTS with a device present but no Phy communication (DET = 1, §3.3.10). */
const SSTS_NO_PHY = 0x1;
/** PxSERR.DIAG bits a link reset leaves: N (PhyRdy change) and X (exchanged) (§3.3.12). */
const SERR_LINK_CHANGE = (1 << 16 | 1 << 26) >>> 0;

/**
 * Command-list engine: ST/CR as one state (§3.3.7, §10.3.2). "halted": ST
 * and CR set, but after a task-file or host bus error the HBA processes
 * nothing until software clears ST (ERR:WaitForClear, §5.3.16, §6.2.2).
 */
export type EngineState = "idle" | "starting" | "running" | "halted" | "stopping";
/** FIS-receive engine: FRE/FR as one state. */
export type FisEngineState = "off" | "starting" | "on" | "stopping";

type EngineEvent = "start" | "started" | "error" | "stop" | "stopped" | "reset";
type FisEvent = "enable" | "enabled" | "disable" | "disabled" | "reset";

const ENGINE_EDGES: Record<EngineState, Partial<Record<EngineEvent, EngineState>>> = {
  idle: { start: "starting", reset: "idle" },
  starting: { started: "running", error: "halted", stop: "stopping", reset: "idle" },
  running: { error: "halted", stop: "stopping", reset: "idle" },
  halted: { stop: "stopping", reset: "idle" },
  stopping: { stopped: "idle", reset: "idle" },
};
const FIS_EDGES: Record<FisEngineState, Partial<Record<FisEvent, FisEngineState>>> = {
  off: { enable: "starting", reset: "off" },
  starting: { enabled: "on", disable: "stopping", reset: "off" },
  on: { disable: "stopping", reset: "off" },
  stopping: { disabled: "off", reset: "off" },
};

/**
 * The device's side of NCQ error handling (SATA 2.6 §13.5.4.1; SATA-IO NCQ
 * compliance: "the device shall stop processing commands until a READ LOG
 * EXT command with a specified log page of 10h or reset is issued"):
 * "ncq-error" once a queued command failed (its tag is in log 10h). Then
 * every command but READ LOG EXT of log 10h ends in ABRT without reaching
 * the media, and the log read returns the log and ends the state. A COMRESET
 * or an HBA reset (which resets the device) ends it too. A port's engine
 * stop (PxCMD.ST 1->0) is the HBA's and leaves it as it is.
 */
export type DeviceState = "ready" | "ncq-error";

/** Counters of one port, for a recorder. */
export interface AhciPortCounters {
  /** Commands completed, by kind. */
  commands: Record<AtaCommandKind, number>;
  /** NCQ commands among them. */
  ncq: number;
  /** Bytes DMA'd into memory by successful reads. */
  bytesRead: number;
  /** Bytes DMA'd from memory by successful writes. */
  bytesWritten: number;
  /** Commands that ended in a task-file error (malformed or device error). */
  errors: number;
  /** Commands rejected as malformed (counted when their task-file error is posted). */
  malformed: number;
  /** Commands the device aborted because its NCQ error log was not read yet (SATA 2.6 §13.5.4.1). */
  ncqErrorAborts: number;
  /** Malformed commands by reason. */
  malformedBy: Record<string, number>;
  /** Register writes in an order the spec forbids (ignored), by rule. */
  illegal: Record<string, number>;
}

/** Port counters at zero. */
export function emptyPortCounters(): AhciPortCounters {
  return {
    commands: { read: 0, write: 0, identify: 0, flush: 0, log: 0, unknown: 0 },
    ncq: 0,
    bytesRead: 0,
    bytesWritten: 0,
    errors: 0,
    malformed: 0,
    ncqErrorAborts: 0,
    malformedBy: {},
    illegal: {},
  };
}

/** What a completed command looked like; emitted to {@link AhciPort.onComplete}. */
export interface AhciCompletion {
  /** Index of the port the command ran on. */
  port: number;
  /** Command slot (0..31). */
  slot: number;
  /** What the command was ("unknown" when it could not be decoded). */
  kind: AtaCommandKind;
  /** Starting LBA (0 for commands without one). */
  lba: number;
  /** Sectors transferred (0 for commands without data). */
  count: number;
  /** True for an NCQ (FPDMA QUEUED) command, completed by a Set Device Bits FIS. */
  ncq: boolean;
  /**
   * True when the command succeeded; false when it ended in a task-file error
   * (its slot then stays issued, and the port halted, until software clears ST).
   */
  ok: boolean;
  /** ATA error on failure: ABRT, IDNF or UNC (a media error). */
  error?: DiskResult["error"];
  /** Simulated time software set the slot's PxCI bit, ns. */
  issuedAt: SimTime;
  /** Simulated time the HBA posted the completion (cleared PxCI) or the error, ns. */
  completedAt: SimTime;
}

/** The ATA error a command ends in: ABRT, IDNF (LBA not found) or UNC (media). */
export type AtaError = NonNullable<DiskResult["error"]>;
/** ATA Error register bit of each error (what PxTFD bits 15:8 and an error FIS show). */
export const ATA_ERROR_BITS: Readonly<Record<AtaError, number>> = {
  abrt: ATA_ERR_ABRT,
  idnf: ATA_ERR_IDNF,
  unc: ATA_ERR_UNC,
};

/** What the port needs from its HBA. */
export interface PortContext {
  sim: Simulation;
  memory: PhysicalMemory;
  costs: AhciCosts;
  /** Called whenever PxIS gains bits or PxIE changes. */
  interruptChanged(port: number): void;
}

interface Command {
  slot: number;
  gen: number;
  issuedAt: SimTime;
  decoded?: DecodedCommand;
  ncq: boolean;
  /** Started on the device (counts against the queue depth). */
  running: boolean;
}

type RegHandler = {
  read: (p: AhciPort) => number;
  write?: (p: AhciPort, v: number) => void;
};

/** Port registers by offset: dispatch from a table. */
const PORT_REGS: Record<number, RegHandler> = {
  [Px.CLB]: { read: (p) => p._clb, write: (p, v) => p._setBase("clb", v) },
  [Px.CLBU]: { read: (p) => p._clbu, write: (p, v) => p._setBase("clbu", v) },
  [Px.FB]: { read: (p) => p._fb, write: (p, v) => p._setBase("fb", v) },
  [Px.FBU]: { read: (p) => p._fbu, write: (p, v) => p._setBase("fbu", v) },
  [Px.IS]: {
    read: (p) => p._is,
    write: (p, v) => { // RW1C (§3.3.5)
      p._is = (p._is & ~v) >>> 0;
      p._ctx.interruptChanged(p.index);
    },
  },
  [Px.IE]: {
    read: (p) => p._ie,
    write: (p, v) => {
      p._ie = v >>> 0;
      p._ctx.interruptChanged(p.index);
    },
  },
  [Px.CMD]: { read: (p) => p._cmd(), write: (p, v) => p._writeCmd(v) },
  [Px.TFD]: { read: (p) => p._tfd },
  [Px.SIG]: { read: (p) => (p.disk ? SIG_ATA : 0xffff_ffff) },
  [Px.SSTS]: { read: (p) => (p.disk ? (p.link === "up" ? PxSSTS_ACTIVE : SSTS_NO_PHY) : 0) },
  [Px.SCTL]: { read: (p) => p._sctl, write: (p, v) => p._writeSctl(v) },
  [Px.SERR]: { read: (p) => p._serr, write: (p, v) => (p._serr = (p._serr & ~v) >>> 0) },
  [Px.SACT]: { read: (p) => p._sact, write: (p, v) => p._writeSact(v) },
  [Px.CI]: { read: (p) => p._ci, write: (p, v) => p._writeCi(v) },
  [Px.SNTF]: { read: () => 0, write: () => {} },
};

/**
 * One port of an {@link AhciHba}. Reached through the HBA's register window;
 * tests and recorders read its state and counters.
 * @example
 * ```ts
 * import { Simulation } from "../../sim/mod.ts";
 * import { PhysicalMemory } from "../memory.ts";
 * import { AhciPort } from "./port.ts";
 * import { Px } from "./registers.ts";
 * const sim = new Simulation();
 * const costs = { commandOverhead: 0, prdEntry: 0, fisPost: 0, dmaBandwidth: 1e9, identify: 0, engineStart: 0, engineStop: 0, fisEngine: 0, hbaReset: 0 };
 * const port = new AhciPort(0, undefined, { sim, memory: new PhysicalMemory({ size: 1 << 20 }), costs, interruptChanged: () => {} });
 * port.write(Px.FB, 0x1000);
 * port.write(Px.CMD, 0x10); // FRE
 * console.assert(port.fisState === "on" && port.read(Px.SSTS) === 0);
 * ```
 */
export class AhciPort {
  /** @internal */ _clb = 0;
  /** @internal */ _clbu = 0;
  /** @internal */ _fb = 0;
  /** @internal */ _fbu = 0;
  /** @internal */ _is = 0;
  /** @internal */ _ie = 0;
  /** @internal */ _tfd: number;
  /** @internal */ _sctl = 0;
  /** @internal */ _serr = 0;
  /** @internal */ _sact = 0;
  /** @internal */ _ci = 0;
  #otherCmd = 0; // SUD, POD: stored, no effect
  #ccs = 0;
  #engine: EngineState = "idle";
  #fis: FisEngineState = "off";
  #engineToken = 0;
  #fisToken = 0;
  #link: LinkState = "up";
  #linkToken = 0;
  #clbSet = false;
  #fbSet = false;
  /**
   * The device's NCQ Command Error log (10h): its first queued-command error,
   * until read; the device is in its NCQ error state exactly while it holds one.
   */
  #ncqLog: NcqErrorLog | undefined;
  /** Bumped when the engine stops or resets: in-flight work of older generations is dropped. */
  #gen = 0;
  #fetchBusyUntil: SimTime = 0;
  #ready: Command[] = [];
  #activeNcq = 0;
  #activeOther = false;
  #nextFetch = 0;
  /** Command, byte and guest-mistake counters since creation. */
  readonly counters: AhciPortCounters = emptyPortCounters();
  /** Signal: a command completed (success or error). */
  onComplete: ((c: AhciCompletion) => void) | undefined = undefined;

  /**
   * Creates a port with both engines idle; PxTFD reads ready when a disk is
   * attached, 0x7F otherwise.
   * @param index Port number within the HBA (0..31).
   * @param disk Attached disk, or undefined for an empty port.
   * @param _ctx Simulation, memory, costs and interrupt callback of the HBA.
   */
  constructor(
    readonly index: number,
    readonly disk: BlockDevice | undefined,
    /** @internal */ readonly _ctx: PortContext,
  ) {
    this._tfd = disk ? TFD_READY : TFD_NO_DEVICE;
  }

  /** Command-list engine state (ST/CR). */
  get state(): EngineState {
    return this.#engine;
  }
  /** FIS-receive engine state (FRE/FR). */
  get fisState(): FisEngineState {
    return this.#fis;
  }
  /** The attached device's NCQ error state (SATA 2.6 §13.5.4.1). */
  get device(): DeviceState {
    return this.#ncqLog === undefined ? "ready" : "ncq-error";
  }
  /** Link state after COMRESETs (always "up" for a port that was never reset). */
  get link(): LinkState {
    return this.#link;
  }
  /** PxCLB/PxCLBU as one address. */
  get clb(): Gpa {
    return this._clb + this._clbu * U32;
  }
  /** PxFB/PxFBU as one address. */
  get fb(): Gpa {
    return this._fb + this._fbu * U32;
  }

  /** Reads the 32-bit register at `reg` (offset within the port block); unknown offsets read 0. */
  read(reg: number): number {
    return PORT_REGS[reg]?.read(this) ?? 0;
  }

  /** Writes the 32-bit register at `reg`; returns false when the offset is not a writable register. */
  write(reg: number, value: number): boolean {
    const h = PORT_REGS[reg];
    if (h?.write === undefined) return false;
    h.write(this, value >>> 0);
    return true;
  }

  /** Registers whose writes act per bit (RW1C or write-1-to-set): narrow writes must not merge. */
  static isBitwise(reg: number): boolean {
    return reg === Px.IS || reg === Px.SERR || reg === Px.SACT || reg === Px.CI;
  }

  /** HBA reset (GHC.HR, §10.4.3): engines idle, status cleared; PxCLB/PxFB keep their values. */
  reset(): void {
    this.#engineTransition("reset");
    this.#fisTransition("reset");
    this.#gen++;
    this.#dropWork();
    this.#link = "up";
    this.#linkToken++;
    this.#ncqLog = undefined; // the device is reset: its NCQ error state ends
    this._is =
      this._ie =
      this._serr =
      this._sctl =
      this.#otherCmd =
        0;
    this._tfd = this.disk ? TFD_READY : TFD_NO_DEVICE;
  }

  // ---- registers ----

  /** @internal */
  _cmd(): number {
    const st = this.#stSet();
    const cr = this.#engine === "running" || this.#engine === "halted" ||
      this.#engine === "stopping";
    const fre = this.#fis === "starting" || this.#fis === "on";
    const fr = this.#fis === "on" || this.#fis === "stopping";
    return ((st ? PxCMD_ST : 0) | (cr ? PxCMD_CR : 0) | (fre ? PxCMD_FRE : 0) |
      (fr ? PxCMD_FR : 0) | this.#otherCmd | (this.#ccs << PxCMD_CCS_SHIFT)) >>> 0;
  }

  /** @internal */
  _setBase(which: "clb" | "clbu" | "fb" | "fbu", v: number): void {
    if (which === "clb" || which === "clbu") {
      // PxCLB shall not be changed while ST or CR is set (§3.3.1).
      if (this.#engine !== "idle") return this.#illegal("clb-while-running");
      if (which === "clb") this._clb = (v & ~0x3ff) >>> 0; // 1 KiB aligned
      else this._clbu = v;
      this.#clbSet = true;
    } else {
      // PxFB shall not be changed while FRE or FR is set (§3.3.3).
      if (this.#fis !== "off") return this.#illegal("fb-while-fis-running");
      if (which === "fb") this._fb = (v & ~0xff) >>> 0; // 256-byte aligned
      else this._fbu = v;
      this.#fbSet = true;
    }
  }

  /** @internal */
  _writeCmd(v: number): void {
    this.#otherCmd = v & (PxCMD_SUD | PxCMD_POD);
    const wantSt = (v & PxCMD_ST) !== 0;
    const wantFre = (v & PxCMD_FRE) !== 0;
    if (!wantSt && this.#stSet()) this.#stopEngine();
    if (wantFre && this.#fis === "off") {
      if (!this.#fbSet) this.#illegal("fre-without-fb");
      else this.#startFis();
    } else if (wantFre && this.#fis === "stopping") this.#illegal("fre-while-fr");
    else if (!wantFre && (this.#fis === "starting" || this.#fis === "on")) {
      // FRE shall not be cleared while ST is set (§3.3.7).
      if (this.#stSet()) {
        this.#illegal("fre-clear-while-st");
      } else this.#stopFis();
    }
    if (wantSt && this.#engine === "idle") {
      // ST shall not be set before FRE, nor before PxCLB is programmed (§3.3.7, §10.3.1).
      if (this.#fis !== "on" && this.#fis !== "starting") this.#illegal("st-without-fre");
      else if (!this.#clbSet) this.#illegal("st-without-clb");
      else this.#startEngine();
    } else if (wantSt && this.#engine === "stopping") {
      // ST shall not be set while CR is still set from a previous stop (§10.3.2).
      this.#illegal("st-while-cr");
    }
  }

  /**
   * @internal PxSCTL.DET (§3.3.11): 1 sends COMRESET and holds the link in
   * reset (commands in flight are lost, as in a port stop); 0 releases it and
   * the link comes up `linkReset` later with the device ready (§10.4.2).
   */
  _writeSctl(v: number): void {
    const det = v & 0xf, was = this._sctl & 0xf;
    this._sctl = v >>> 0;
    if (this.disk === undefined || det === was) return;
    if (det === 1) {
      // Software shall clear ST (and wait for CR) before a COMRESET (§10.4.2).
      if (this.#engine !== "idle") this.#illegal("comreset-while-st");
      this.#gen++;
      this.#dropWork();
      this.#link = "reset";
      this.#linkToken++;
      this.#ncqLog = undefined; // the device is reset: its NCQ error state ends
      this._tfd = ATA_STS_BSY;
    } else if (det === 0 && this.#link === "reset") {
      this.#link = "training";
      const token = ++this.#linkToken;
      this._ctx.sim.call(this._ctx.costs.linkReset ?? 0, () => {
        if (token !== this.#linkToken) return;
        this.#link = "up";
        this._tfd = TFD_READY; // the device's signature FIS
        this._serr = (this._serr | SERR_LINK_CHANGE) >>> 0;
      });
    }
  }

  /** @internal */
  _writeSact(v: number): void {
    if (!this.#stSet()) return this.#illegal("sact-while-stopped");
    this._sact = (this._sact | v) >>> 0; // software can only set bits (§3.3.13)
  }

  /** @internal */
  _writeCi(v: number): void {
    // CI is only valid with ST=1 (§3.3.14).
    if (!this.#stSet()) return this.#illegal("ci-while-stopped");
    const fresh = (v & ~this._ci) >>> 0;
    if (fresh === 0) return;
    this._ci = (this._ci | fresh) >>> 0;
    // Halted after an error: the bits stay set, nothing is fetched until ST is cleared.
    if (this.#engine === "halted") return;
    // Fetch in round-robin order from the slot after the last one fetched.
    const first = this.#nextFetch;
    for (let i = 0; i < 32; i++) {
      const slot = (first + i) % 32;
      if (fresh & (1 << slot)) this.#fetch(slot);
    }
  }

  // ---- engines ----

  /** PxCMD.ST as software last wrote it (the engine starting, running or halted). */
  #stSet(): boolean {
    return this.#engine === "starting" || this.#engine === "running" || this.#engine === "halted";
  }

  #engineTransition(ev: EngineEvent): void {
    const to = ENGINE_EDGES[this.#engine][ev];
    if (to === undefined) {
      throw new Error(`ahci port ${this.index}: illegal engine edge ${this.#engine} --${ev}-->`);
    }
    this.#engine = to;
    this.#engineToken++;
  }

  #fisTransition(ev: FisEvent): void {
    const to = FIS_EDGES[this.#fis][ev];
    if (to === undefined) {
      throw new Error(`ahci port ${this.index}: illegal FIS engine edge ${this.#fis} --${ev}-->`);
    }
    this.#fis = to;
    this.#fisToken++;
  }

  /** Runs `fn` after `delay`, unless the token moved on; at once when delay is 0. */
  #after(delay: SimTime, token: () => number, fn: () => void): void {
    if (delay === 0) return fn();
    const t = token();
    this._ctx.sim.call(delay, () => {
      if (token() === t) fn();
    });
  }

  #startEngine(): void {
    this.#engineTransition("start");
    this.#after(this._ctx.costs.engineStart, () => this.#engineToken, () => {
      this.#engineTransition("started");
      this.#dispatch();
    });
  }

  #stopEngine(): void {
    this.#engineTransition("stop");
    // ST 1->0 clears PxCI and PxSACT and resets CCS (§3.3.7, §3.3.13, §3.3.14).
    this.#gen++;
    this.#dropWork();
    this.#after(this._ctx.costs.engineStop, () => this.#engineToken, () => {
      this.#engineTransition("stopped");
    });
  }

  #startFis(): void {
    this.#fisTransition("enable");
    this.#after(this._ctx.costs.fisEngine, () => this.#fisToken, () => {
      this.#fisTransition("enabled");
    });
  }

  #stopFis(): void {
    this.#fisTransition("disable");
    this.#after(this._ctx.costs.fisEngine, () => this.#fisToken, () => {
      this.#fisTransition("disabled");
    });
  }

  #dropWork(): void {
    this._ci = this._sact = 0;
    this.#ccs = 0;
    this.#ready = [];
    this.#activeNcq = 0;
    this.#activeOther = false;
    this._tfd &= ~(ATA_STS_BSY | ATA_STS_DRQ);
  }

  /**
   * ERR:FatalTaskfile / ERR:Fatal then ERR:WaitForClear (§5.3.16): the
   * engine stays ST=CR=1 but fetches and issues nothing more; work under way
   * is dropped (a queued command error makes the device abort every command
   * it holds); PxCI and PxSACT keep their bits until software clears ST.
   */
  #halt(): void {
    this.#engineTransition("error");
    this.#gen++;
    this.#ready = [];
    this.#activeNcq = 0;
    this.#activeOther = false;
  }

  #illegal(rule: string): void {
    this.counters.illegal[rule] = (this.counters.illegal[rule] ?? 0) + 1;
  }

  // ---- commands ----

  /** Fetch and decode: serial per port, `commandOverhead` each, plus per PRD entry. */
  #fetch(slot: number): void {
    const { sim, costs, memory } = this._ctx;
    const cmd: Command = { slot, gen: this.#gen, issuedAt: sim.now, ncq: false, running: false };
    const start = Math.max(sim.now, this.#fetchBusyUntil);
    this.#fetchBusyUntil = start + costs.commandOverhead;
    this.#nextFetch = (slot + 1) % 32;
    sim.call(this.#fetchBusyUntil - sim.now, () => {
      if (cmd.gen !== this.#gen) return;
      let d: DecodedCommand;
      try {
        d = decodeCommand(memory, { clb: this.clb, slot });
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        // A structure outside memory: a host bus error (§6.1.2), ending the command.
        this._is |= PxIS_HBFS;
        return this.#malformed(cmd, "host-bus", "abrt");
      }
      cmd.decoded = d;
      cmd.ncq = d.command.ncq;
      const walk = d.header.prdtl * costs.prdEntry;
      this.#fetchBusyUntil = Math.max(this.#fetchBusyUntil, sim.now + walk);
      const problem = this.disk === undefined
        ? { error: "abrt" as const, reason: "no-device" }
        : validateCommand(d, this.disk);
      if (problem !== undefined) return this.#malformed(cmd, problem.reason, problem.error, walk);
      if (cmd.ncq && !(this._sact & (1 << slot))) this.#illegal("ncq-without-sact");
      sim.call(walk, () => {
        if (cmd.gen !== this.#gen) return;
        this.#ready.push(cmd);
        this.#dispatch();
      });
    });
  }

  /** Ends a rejected command in a task-file error; counted when the error is posted. */
  #malformed(cmd: Command, reason: string, error: AtaError, delay = 0): void {
    this.#finish(cmd, { ok: false, error, bytes: 0, malformed: reason }, delay);
  }

  /** Starts ready commands in order: NCQ up to the disk's queue depth; non-NCQ alone (§5.3). */
  #dispatch(): void {
    if (this.#engine !== "running") return;
    const disk = this.disk!;
    while (this.#ready.length > 0) {
      const cmd = this.#ready[0];
      if (this.#activeOther) return;
      if (cmd.ncq) {
        if (this.#activeNcq >= Math.min(disk.queueDepth, 32)) return;
        this.#activeNcq++;
      } else {
        if (this.#activeNcq > 0) return;
        this.#activeOther = true;
        this._tfd |= ATA_STS_BSY;
        this.#ccs = cmd.slot;
      }
      this.#ready.shift();
      cmd.running = true;
      this.#execute(cmd);
    }
  }

  #execute(cmd: Command): void {
    const { sim, memory, costs } = this._ctx;
    const d = cmd.decoded!;
    const c = d.command;
    const disk = this.disk!;
    const bytes = c.count * SECTOR;
    // Data crosses the link in Data FISes of at most 8 KiB (SATA 3.0 §10.5.11:
    // 2048 Dwords); the HBA moves each to or from memory while the next one
    // crosses, so only one FIS's DMA adds to the command (DMA outpaces the link).
    const dma = bytes > 0 ? transferTime(Math.min(bytes, DATA_FIS_BYTES), costs.dmaBandwidth) : 0;
    if (this.#ncqLog !== undefined && !readsNcqErrorLog(c)) {
      // Until its NCQ error log is read the device aborts everything else (SATA 2.6
      // §13.5.4.1): ABRT at once, nothing reaches the media, the log keeps the first error.
      this.counters.ncqErrorAborts++;
      return this.#finish(cmd, { ok: false, error: "abrt", bytes: 0 });
    }
    if (c.kind === "write" && c.fua === true && !c.ncq && disk.fua === false) {
      // WRITE DMA FUA EXT on a device whose IDENTIFY says it lacks it: an unsupported command,
      // ABRT (ACS-3). FPDMA's FUA bit is a field of commands it has: not refused.
      return this.#finish(cmd, { ok: false, error: "abrt", bytes: 0 });
    }
    if (c.kind === "identify") {
      sim.call(costs.identify + dma, () => {
        if (cmd.gen !== this.#gen) return;
        if (!this.#dma(() => scatterBytes(memory, d, identifyData(disk)), cmd)) return;
        this.#finish(cmd, { ok: true, bytes: SECTOR });
      });
      return;
    }
    if (c.kind === "log") {
      sim.call(costs.identify + dma, () => {
        if (cmd.gen !== this.#gen) return;
        // Only the NCQ Command Error log is modelled (other logs end in ABRT).
        if (!readsNcqErrorLog(c)) return this.#finish(cmd, { ok: false, error: "abrt", bytes: 0 });
        // Reading it ends the device's NCQ error state: the log is cleared (SATA 2.6 §13.5.4.1).
        const log = this.#ncqLog ?? { nq: true, tag: 0, status: 0, error: 0, lba: 0, count: 0 };
        this.#ncqLog = undefined;
        const page = new Uint8Array(c.count * SECTOR);
        page.set(encodeNcqErrorLog(log));
        if (!this.#dma(() => scatterBytes(memory, d, page), cmd)) return;
        this.#finish(cmd, { ok: true, bytes: page.length });
      });
      return;
    }
    const submit = (dc: DiskCommand, after: (r: DiskResult) => void) => {
      disk.submit(dc).then((ev) => {
        if (cmd.gen !== this.#gen) return;
        const r = ev.ok ? ev.value : undefined;
        if (r === undefined || !r.ok) {
          return this.#finish(cmd, { ok: false, error: r?.error ?? "abrt", bytes: 0 });
        }
        after(r);
      });
    };
    if (c.kind === "flush") {
      return submit({ op: "flush" }, () => this.#finish(cmd, { ok: true, bytes: 0 }));
    }
    if (c.kind === "write") {
      // Data moves from memory before the device writes it.
      sim.call(dma, () => {
        if (cmd.gen !== this.#gen) return;
        let versions: Int32Array = new Int32Array(0);
        if (!this.#dma(() => (versions = gatherVersions(memory, d)), cmd)) return;
        submit({ op: "write", lba: c.lba, versions, fua: c.fua }, () => {
          this.counters.bytesWritten += bytes;
          this.#finish(cmd, { ok: true, bytes });
        });
      });
      return;
    }
    submit({ op: "read", lba: c.lba, count: c.count }, (r) => {
      sim.call(dma, () => {
        if (cmd.gen !== this.#gen) return;
        const v = r.versions ?? new Int32Array(c.count);
        if (!this.#dma(() => scatterVersions(memory, d.prdt, v), cmd)) return;
        this.counters.bytesRead += bytes;
        this.#finish(cmd, { ok: true, bytes });
      });
    });
  }

  /**
   * Runs a data DMA; a PRD pointing outside memory is a host bus error
   * (PxIS.HBFS, §6.1.2) that ends the command with ABRT. Returns false then.
   */
  #dma(fn: () => void, cmd: Command): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this._is |= PxIS_HBFS;
      this.#malformed(cmd, "host-bus", "abrt");
      return false;
    }
  }

  /** Completion (§5.3.8, §5.3.10 for NCQ): PRDBC, FIS, PxTFD, PxIS, PxCI/PxSACT, interrupt. */
  #finish(
    cmd: Command,
    r: { ok: boolean; error?: AtaError; bytes: number; malformed?: string },
    delay = 0,
  ): void {
    const { sim, memory, costs } = this._ctx;
    sim.call(delay + costs.fisPost, () => {
      if (cmd.gen !== this.#gen) return;
      const bit = (1 << cmd.slot) >>> 0;
      const c = cmd.decoded?.command;
      const ncq = cmd.ncq;
      const status = r.ok ? TFD_READY : TFD_READY | ATA_STS_ERR;
      const error = r.ok ? 0 : ATA_ERROR_BITS[r.error ?? "abrt"];
      let busError = false;
      try {
        writePrdbc(memory, { clb: this.clb, slot: cmd.slot }, r.bytes);
        if (this.#fis === "on") {
          if (ncq) {
            // An error SDB FIS completes nothing: the failed command and those the
            // device aborts keep their SActive bits (§5.3.13.1, SATA 2.6 §13.5.4.1).
            memory.writeBytes(
              this.fb + RFIS_SDBFIS,
              encodeSdbFis({ status, error, interrupt: true, sactive: r.ok ? bit : 0 }),
            );
          } else {
            memory.writeBytes(
              this.fb + RFIS_RFIS,
              encodeD2hFis({ status, error, interrupt: true }),
            );
          }
        }
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        // The status could not be posted: a host bus error (§6.1.2), fatal like a task-file error.
        this._is |= PxIS_HBFS;
        busError = true;
      }
      if (cmd.running) {
        if (ncq) this.#activeNcq--;
        else this.#activeOther = false;
      }
      this._tfd = (error << 8) | status;
      const completes = r.ok && !busError;
      if (completes) {
        this._sact = (this._sact & ~bit) >>> 0;
        this._ci = (this._ci & ~bit) >>> 0;
        this._is |= ncq ? PxIS_SDBS : PxIS_DHRS;
      } else {
        // The command does not complete and the port halts until software restarts it.
        // A device error is ERR:FatalTaskfile (§5.3.8.1, §5.3.13.1 -> §5.3.16.5): TFES
        // instead of DHRS/SDBS. A status that could not be posted is a host bus error
        // (§6.1.2: HBFS, above). The slot stays in PxCI (non-queued: PxCMD.CCS names it,
        // §6.2.2.1) or PxSACT (queued: the device logs a failed tag, §6.2.2.2).
        if (!r.ok) this._is |= PxIS_TFES;
        if (!ncq) this.#ccs = cmd.slot;
        else if (!r.ok && this.#ncqLog === undefined) {
          // The device enters its NCQ error state; a command it aborts in that
          // state leaves the log naming the first error.
          this.#ncqLog = {
            nq: false,
            tag: c?.tag ?? cmd.slot,
            status,
            error,
            lba: c?.lba ?? 0,
            count: c?.count ?? 0,
          };
        }
        this.counters.errors++;
        if (r.malformed !== undefined) {
          this.counters.malformed++;
          const by = this.counters.malformedBy;
          by[r.malformed] = (by[r.malformed] ?? 0) + 1;
        }
        this.#halt();
      }
      this._is >>>= 0;
      const kind = c?.kind ?? "unknown";
      this.counters.commands[kind]++;
      if (ncq) this.counters.ncq++;
      this.onComplete?.({
        port: this.index,
        slot: cmd.slot,
        kind,
        lba: c?.lba ?? 0,
        count: c?.count ?? 0,
        ncq,
        ok: completes,
        error: r.ok ? (busError ? "abrt" : undefined) : r.error,
        issuedAt: cmd.issuedAt,
        completedAt: sim.now,
      });
      this._ctx.interruptChanged(this.index);
      this.#dispatch();
    });
  }
}

/** Versions of the data to write, gathered across PRD entries. */
function gatherVersions(mem: PhysicalMemory, d: DecodedCommand): Int32Array {
  const out = new Int32Array(d.command.count);
  let k = 0;
  for (const p of d.prdt) {
    if (k >= out.length) break;
    const n = Math.min(p.bytes / SECTOR, out.length - k);
    out.set(mem.readVersions(p.dba, n), k);
    k += n;
  }
  return out;
}

/** DMA of read data: versions split across PRD entries by byte count. */
function scatterBytes(mem: PhysicalMemory, d: DecodedCommand, bytes: Uint8Array): void {
  let k = 0;
  for (const p of d.prdt) {
    if (k >= bytes.length) break;
    const n = Math.min(p.bytes, bytes.length - k);
    mem.writeBytes(p.dba, bytes.subarray(k, k + n));
    k += n;
  }
}

/**
 * IDENTIFY DEVICE data (ACS-3 §7.16.7): words 10-19 serial, 27-46 model,
 * 60-61 28-bit capacity, 75 queue depth - 1, 76 bit 8 NCQ, 83 bit 10 LBA48,
 * 84/87 bit 6 WRITE DMA FUA EXT supported/enabled, 100-103 48-bit capacity.
 */
function identifyData(disk: BlockDevice): Uint8Array {
  const w = new Uint16Array(256);
  w[0] = 0x0040; // fixed device
  ataString(w, 10, 20, disk.name);
  ataString(w, 27, 40, disk.name);
  w[49] = 1 << 9 | 1 << 8; // LBA, DMA
  const cap28 = Math.min(disk.sectors, 0x0fff_ffff);
  w[60] = cap28 & 0xffff;
  w[61] = cap28 >>> 16;
  w[75] = Math.max(0, Math.min(disk.queueDepth, 32) - 1);
  w[76] = disk.queueDepth > 1 ? 1 << 8 : 0;
  w[83] = 1 << 14 | 1 << 10; // valid, 48-bit address feature set
  const fua = disk.fua === false ? 0 : 1 << 6; // WRITE DMA FUA EXT (Linux's ata_id_has_fua)
  w[84] = 1 << 14 | fua; // valid
  w[87] = 1 << 14 | fua; // the same, as enabled
  w[86] = 1 << 10;
  let s = disk.sectors;
  for (let i = 100; i <= 103; i++) {
    w[i] = s % 0x1_0000;
    s = Math.floor(s / 0x1_0000);
  }
  const out = new Uint8Array(512);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 256; i++) dv.setUint16(i * 2, w[i], true);
  return out;
}

/** ATA strings: two characters per word, first in the high byte, space padded. */
function ataString(w: Uint16Array, word: number, chars: number, s: string): void {
  const t = s.padEnd(chars, " ").slice(0, chars);
  for (let i = 0; i < chars; i += 2) {
    w[word + i / 2] = ((t.charCodeAt(i) & 0xff) << 8) | (t.charCodeAt(i + 1) & 0xff);
  }
}
