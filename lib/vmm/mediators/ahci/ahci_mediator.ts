/**
 * The AHCI mediator (BMcast's device-interface-level I/O mediation, shaped
 * after BitVisor's AHCI para-passthrough): it hooks the HBA's whole MMIO
 * window and keeps the guest's view apart from the hardware's.
 *
 * - Interpretation: PxCLB/PxFB writes are recorded (`guestClb`, `guestFb`)
 *   and the hardware is pointed at VMM-owned copies (`shadowClb`, `shadowFb`);
 *   each PxCI write copies the issued headers into the shadow list and decodes
 *   the commands (slot, read/write, LBA, count, PRDT, NCQ).
 * - Redirection: a read touching absent sectors is held (its PxCI bit stays
 *   set in the guest's view), the absent runs are fetched from the image
 *   server and the present runs read from the disk with VMM commands, versions
 *   are placed in the guest's buffers, PRDBC, the D2H/SDB FIS, PxIS and PxCI
 *   are updated and the completion interrupt is injected. Fetched sectors are
 *   then written back (copy-on-read) where still absent.
 * - Multiplexing: VMM commands (background copy, write-back) run alone on the
 *   port: new guest commands are queued meanwhile, the port's interrupts are
 *   masked (hardware PxIE=0) and the VMM polls PxCI from its timer; guest reads
 *   of PxCI/PxSACT/PxIS/PxTFD/IS see only the guest's own state (idle), and
 *   queued guest commands are issued in order afterwards.
 * - Writes pass through and mark their sectors present (byGuest) when they
 *   complete successfully (their PxCI/PxSACT bit cleared with all the data
 *   moved, PRDBC), so image data never overwrites newer guest data and a
 *   write the disk failed is still filled by the copier: VMM commands run
 *   only while no guest command is on the hardware, and write-backs and copy
 *   writes only fill sectors still absent when they are issued, so a guest
 *   write is either on the disk and marked before a VMM write is issued, or
 *   reaches the disk after it (queued behind VMM work).
 * - The disk is larger than the image: a command's part past the image's
 *   end is the disk's own (a read crossing the end has its absent part
 *   copied first, then goes to the disk whole). Commands the device would
 *   refuse (a short CFL or PRDT...) pass through untouched, so the device
 *   fails them and nothing is marked present.
 * - The guest keeps its own PxTFD and PxCMD.CCS while the VMM's commands use
 *   the port (its error handling reads them after a task-file error); a guest
 *   register write during the hand-over at de-virtualization waits in the VM
 *   exit until the port is the guest's again.
 * - Guest error handling (a command timed out: Linux stops the port, resets
 *   the link, issues its commands again): a port stop drops the guest's
 *   commands, held redirects included (their fetched data still fills the
 *   disk); a stop or COMRESET while the VMM's own command runs holds the vCPU
 *   until that command is done (it would abort it, and the VMM's PxCI poll
 *   would take it for done); VMM commands start only on a running engine.
 * - Task-file errors (the HBA halts, AHCI 1.3.1 §6.2.2): a guest command
 *   that fails on the hardware halts the port for the guest, who sees
 *   PxIS.TFES, PxTFD and PxCMD.CCS as the HBA left them, its failed and
 *   waiting commands still in PxCI/PxSACT, and recovers the port itself
 *   (clear ST, wait CR, clear PxIS/PxSERR, set ST, READ LOG EXT 10h after an
 *   NCQ error, issue again). Until it clears ST the mediator completes
 *   nothing for it (held redirects wait, then are dropped with the port
 *   stop) and issues nothing for it: new and queued guest commands stay
 *   queued (under the mediator's own halt too, when its VMM work ends) and
 *   the port stop drops them; VMM work waits too. A VMM command
 *   that fails halts the port under the VMM, which recovers it the same way
 *   (its command is issued again, up to VMM_RETRIES times) while the guest
 *   keeps seeing its own PxCMD.ST/CR, PxTFD, CCS and PxIS; no guest command
 *   is on the hardware then (VMM commands run alone), and those queued
 *   meanwhile are issued afterwards.
 * - The disk's NCQ error state (SATA 2.6 §13.5.4.1): after a guest queued
 *   command fails the disk aborts everything but READ LOG EXT 10h until that
 *   log is read (an engine restart does not end it). Until the guest's log
 *   read completes (or a COMRESET or HBA reset) no VMM command is issued (it
 *   would be aborted, and would push the guest's log read behind it), guest
 *   commands go straight to the hardware (not queued behind VMM work) and
 *   the disk answers them as natively; but a read of absent sectors, which
 *   the disk would serve stale if it came after the log read, waits in the
 *   queue until the log is read, then is redirected (its wait counts apart
 *   from the delay behind VMM commands, which steers the copier).
 * - A VMM command the disk still fails after VMM_RETRIES retries does not
 *   stop the run. What a real VMM owes the guest is the disk's behaviour:
 *   a redirected read whose data cannot be had (the VMM's read of its
 *   present part failed, or the image server failed the fetch) is completed
 *   to the guest as its own task-file error, as the disk would fail it: the
 *   D2H or SDB FIS with ERR, PxTFD with the disk's error (UNC, IDNF, ABRT;
 *   ABRT for a failed fetch), PxIS.TFES, its PxCI/PxSACT bit kept (PxCMD.CCS
 *   naming a non-queued one) and the guest's view halted until it clears ST
 *   (the hardware runs on; what it finishes meanwhile is not shown, and the
 *   guest issues it again). A queued one's error becomes an NCQ error log
 *   the mediator answers the guest's READ LOG EXT 10h with; until then it
 *   aborts the guest's other commands, as the disk would. The guest's error
 *   handling then retries it (ABRT) or fails it (UNC), as for a real disk
 *   error. A read crossing the image's end whose absent part could not be
 *   fetched or written ends the same way (sent whole to the disk it would
 *   read stale sectors). A VMM write that fails (copy-on-read write-back,
 *   background copy) leaves its sectors absent: they stay redirected, and
 *   the copier writes them again later or gives them up and reports them
 *   (`stats.vmmFailedCommands`, the copier's `failedCopies` and
 *   `chunksGivenUp`); the copy then never completes, so the VMM does not
 *   de-virtualize.
 *
 * Simplifications (the paper's own text was not at hand to check them): one
 * mediator per HBA, command tables are read in place (no copy against
 * time-of-check/time-of-use races), the VMM polls its own commands on a timer
 * rather than on an interrupt.
 */
import { type Gpa, type Lba, RunSet, type SimTime, splitRun } from "../../../_util/mod.ts";
import {
  ABAR_SIZE,
  ATA_ERR_IDNF,
  ATA_ERR_UNC,
  ATA_STS_ERR,
  CMD_HEADER_BYTES,
  CT_CFIS,
  CT_PRDT,
  encodeAtaCommand,
  encodeD2hFis,
  encodeH2dFis,
  encodeSdbFis,
  Ghc,
  GHC_HR,
  GHC_IE,
  type HookHandle,
  type HookResult,
  type InterruptController,
  type MmioAccess,
  type MmioBus,
  type PhysicalMemory,
  PORT_BASE,
  PORT_STRIDE,
  PRD_MAX_BYTES,
  Px,
  PxCMD_CR,
  PxCMD_FR,
  PxCMD_FRE,
  PxCMD_ST,
  PxIS_DHRS,
  PxIS_FATAL,
  PxIS_HBFS,
  PxIS_SDBS,
  PxIS_TFES,
  readCommandHeader,
  RFIS_BYTES,
  RFIS_RFIS,
  RFIS_SDBFIS,
  scatterVersions,
  SLOTS,
  writeCommandHeader,
  writePrdbc,
  writePrdt,
} from "../../../hw/mod.ts";
import {
  ATA_ERROR_BITS,
  type AtaError,
  encodeNcqErrorLog,
  type NcqErrorLog,
  readsNcqErrorLog,
} from "../../../hw/ahci/mod.ts";
import type { ProcessGenerator, SimEvent, Simulation } from "../../../sim/mod.ts";
import type { BlockMap, SectorRun } from "../../block_map.ts";
import type { ImageSource, VmmBlockIo } from "../../block_io.ts";
import type { Mediator, Vmm } from "../../vmm.ts";
import { type GuestCommand, interpretCommand } from "./interpret.ts";
import { nextPortState, type PortState } from "./port_state.ts";

/** Idle task-file status the guest sees while the VMM owns the port (DRDY | DSC). */
const TFD_IDLE = 0x50;
/** PxCMD.CCS, the current command slot (AHCI 1.3.1 §3.3.7, bits 12:8). */
const CCS_MASK = 0x1f << 8;
/** Largest VMM command, sectors (4 MiB: one PRD entry). */
const VMM_MAX_SECTORS = 8192;
/** Times the VMM issues a failed command of its own again (as Linux sd's SD_MAX_RETRIES). */
const VMM_RETRIES = 5;

/**
 * A VMM disk command that still failed after its retries
 * ({@link AhciMediator.read} fails with it). `error`: the disk's ATA error.
 */
export class VmmDiskError extends Error {
  /**
   * Builds the error of a VMM command the disk failed with `error`.
   * @param error the ATA error the disk reported on the last try.
   * @param message what failed: the command, its sectors and the retries.
   */
  constructor(
    /** The ATA error the disk reported on the last try. */
    readonly error: AtaError,
    message: string,
  ) {
    super(message);
    this.name = "VmmDiskError";
  }
}
const VMM_BUF_BYTES = VMM_MAX_SECTORS * 512;

/** Mediator counters for recorders. */
export interface AhciMediatorStats {
  /** Guest MMIO reads of the HBA window trapped (each one a VM exit). */
  trappedReads: number;
  /** Guest MMIO writes to the HBA window trapped (each one a VM exit). */
  trappedWrites: number;
  /** Guest commands interpreted (one per slot issued through PxCI). */
  guestCommands: number;
  /** Guest commands put on the hardware unchanged (copied into the shadow list). */
  passthroughCommands: number;
  /** Guest reads of absent sectors completed by redirection. */
  redirectedReads: number;
  /** Absent sectors of redirected reads, fetched from the image server. */
  redirectedSectors: number;
  /** Sectors of redirected reads that were present and read from disk. */
  redirectedPresentSectors: number;
  /** Guest write commands whose sectors were marked present (guest data is newest). */
  guestWrites: number;
  /** Commands the VMM issued on the port itself (copy, write-back, local reads). */
  vmmCommands: number;
  /** Sectors the VMM's write commands put on the disk (absent ones only). */
  vmmSectorsWritten: number;
  /** Guest commands that had to wait while VMM commands owned the port. */
  queuedGuestCommands: number;
  /** Total time guest commands waited behind VMM commands, ns (the copy policy's signal). */
  guestQueueDelay: SimTime;
  /** Guest reads of absent sectors held until the disk's NCQ error log was read (then redirected). */
  logHeldReads: number;
  /** Total time they were held, ns: not in guestQueueDelay, no VMM command caused it. */
  logHeldDelay: SimTime;
  /** HBA interrupts injected into the guest (emulated completions, GHC.IE set). */
  injectedInterrupts: number;
  /** Redirected reads served (in part) by a read-ahead. */
  readAheadHits: number;
  /** Guest commands refused because their DMA targeted VMM memory. */
  blockedDma: number;
  /** Guest register writes in an order the mediator did not expect (passed through). */
  guestOddities: number;
  /** Guest commands dropped because the guest stopped the port (its error handling). */
  abortedGuestCommands: number;
  /** Guest writes (port stop, COMRESET) held until the VMM's own command finished. */
  heldGuestWrites: number;
  /** Task-file errors of guest commands on the hardware (the guest recovers the port). */
  guestTaskFileErrors: number;
  /** VMM commands that failed; the VMM recovered the port and issued them again. */
  vmmErrors: number;
  /**
   * VMM commands that still failed after VMM_RETRIES retries: a write leaves
   * its sectors absent (copied again later), a read fails the redirect that needed it.
   */
  vmmFailedCommands: number;
  /**
   * Guest commands the mediator completed with a task-file error of its own:
   * redirected reads whose data could not be had (from the disk or the image)
   * or put on the disk, and commands the emulated device aborted while its
   * NCQ error log was unread.
   */
  emulatedTaskFileErrors: number;
  /** Guest reads of NCQ log 10h the mediator answered (after an emulated NCQ error). */
  emulatedLogReads: number;
}

interface VmmOp {
  op: "read" | "write";
  lba: Lba;
  count: number;
  versions?: Int32Array;
  done: SimEvent<Int32Array | number>;
  onlyAbsent: boolean;
}

interface Port {
  index: number;
  state: PortState;
  guestClb: Gpa;
  guestClbu: number;
  guestFb: Gpa;
  guestFbu: number;
  guestIe: number;
  guestIs: number;
  guestCi: number;
  guestSact: number;
  guestCmd: number;
  /**
   * PxTFD and PxCMD.CCS as the guest last had them, while the hardware's show
   * another command (the VMM's own, or none for a completion the VMM
   * emulated); undefined: the hardware's are the guest's. Linux's interrupt
   * handler reads both after a task-file error to fail the right command.
   */
  guestTfd: { tfd: number; ccs: number } | undefined;
  shadowClb: Gpa;
  shadowFb: Gpa;
  /** Guest slots currently in the hardware. */
  hwGuest: number;
  /** Decoded guest commands by slot (issued, not completed). */
  cmds: (GuestCommand | undefined)[];
  /**
   * Guest slots waiting, with their queueing time and why: behind VMM work,
   * under a halt (dropped by the port stop), or (reads of absent sectors) for
   * the disk's NCQ error log to be read.
   */
  queue: { slot: number; at: SimTime; why: "vmm" | "halt" | "log" }[];
  held: number; // slots being redirected
  /** Bumped when the guest stops the port: redirects of an older epoch are abandoned. */
  epoch: number;
  /** Abandoned redirects still waiting for their data. */
  orphans: number;
  /**
   * A guest command failed on the hardware and the HBA halted (§6.2.2):
   * nothing completes for the guest until it clears PxCMD.ST.
   */
  halted: boolean;
  /** Succeeds when the guest clears ST after such an error (held redirects wait on it). */
  stopped: SimEvent<unknown> | undefined;
  /**
   * The halt the guest sees is the mediator's own (a redirect failed): the
   * hardware runs on, and what it completes meanwhile is not shown to the guest.
   */
  emulatedHalt: boolean;
  /**
   * The disk is in its NCQ error state (a guest queued command failed on it):
   * it aborts everything but READ LOG EXT 10h until the guest reads that log
   * (SATA 2.6 §13.5.4.1), so no VMM command may run, guest commands go to
   * the hardware unqueued (reads of absent sectors wait for the log read, then
   * are redirected), and the guest's log read is not held behind VMM work.
   */
  diskNeedsLog: boolean;
  /**
   * The NCQ error log of an emulated queued-command error, until the guest
   * reads log 10h (the mediator answers it) or resets the device.
   */
  emulatedLog: NcqErrorLog | undefined;
}

/**
 * Mediates one AHCI HBA for the de-virtualizable VMM.
 */
export class AhciMediator implements Mediator, VmmBlockIo {
  /** Mediator name for traces. */
  readonly name = "ahci";
  /** Counters for recorders, updated as the mediator works. */
  readonly stats: AhciMediatorStats = {
    trappedReads: 0,
    trappedWrites: 0,
    guestCommands: 0,
    passthroughCommands: 0,
    redirectedReads: 0,
    redirectedSectors: 0,
    redirectedPresentSectors: 0,
    guestWrites: 0,
    vmmCommands: 0,
    vmmSectorsWritten: 0,
    queuedGuestCommands: 0,
    guestQueueDelay: 0,
    logHeldReads: 0,
    logHeldDelay: 0,
    injectedInterrupts: 0,
    guestOddities: 0,
    readAheadHits: 0,
    blockedDma: 0,
    abortedGuestCommands: 0,
    heldGuestWrites: 0,
    guestTaskFileErrors: 0,
    vmmErrors: 0,
    vmmFailedCommands: 0,
    emulatedTaskFileErrors: 0,
    emulatedLogReads: 0,
  };
  lastGuestIo: SimTime = 0;
  /** Guest reads redirected and not yet done (VmmBlockIo). */
  redirectsOutstanding = 0;
  /** Guest reads redirected so far (VmmBlockIo). */
  redirectsStarted = 0;
  readonly #sim: Simulation;
  readonly #vmm: Vmm;
  readonly #bus: MmioBus;
  readonly #mem: PhysicalMemory;
  readonly #irq: InterruptController;
  readonly #vector: number;
  readonly #abar: Gpa;
  readonly #map: BlockMap;
  readonly #image: ImageSource;
  readonly #readAhead: number;
  /** Image fetches started ahead of sequential redirected reads. */
  #prefetched: { run: SectorRun; ev: SimEvent<Int32Array> }[] = [];
  #lastRedirectEnd = -1;
  /** Sectors the read-ahead keeps ahead of a sequential reader; 0 until one is seen. */
  #readAheadWindow = 0;
  readonly #portIndex: number;
  #port!: Port;
  #hook: HookHandle | undefined;
  #vmmQueue: VmmOp[] = [];
  #vmmRunning = false;
  /** ATA error of the VMM's last command that failed after its retries. */
  #lastVmmError: AtaError | undefined;
  /** The VMM is restarting the port after its own command failed. */
  #vmmRecovering = false;
  #vmmSlot = SLOTS - 1;
  #vmmTable: Gpa = 0;
  #vmmBuf: Gpa = 0;
  #quiet: SimEvent<unknown> | undefined;
  /** Succeeds when the VMM's worker stops (guest writes wait on it). */
  #vmmIdle: SimEvent<unknown> | undefined;
  /** Guest writes waiting for the VMM's worker: no new VMM work starts meanwhile. */
  #guestHeld = 0;
  #finished: SimEvent<unknown>;
  #detached = false;
  /** Succeeds when a hand-over ends (guest writes made meanwhile wait on it). */
  #handedBack: SimEvent<unknown> | undefined;

  /**
   * A mediator for port `port` of the HBA at `abar`; it hooks nothing until
   * the VMM attaches it ({@link Vmm.addMediator}, then {@link Vmm.start}).
   */
  constructor(options: {
    sim: Simulation;
    vmm: Vmm;
    bus: MmioBus;
    memory: PhysicalMemory;
    irq: InterruptController;
    /** Interrupt vector the HBA raises (the guest's handler). */
    vector: number;
    /** HBA register window base (ABAR). */
    abar: Gpa;
    /** Port whose disk receives the image. */
    port: number;
    map: BlockMap;
    image: ImageSource;
    /**
     * Most sectors fetched ahead when redirected reads are sequential (the
     * next read then finds its data already on the way); the window starts
     * small and grows as Linux's read-ahead does. 0 disables. @default 0
     */
    readAhead?: number;
  }) {
    this.#sim = options.sim;
    this.#vmm = options.vmm;
    this.#bus = options.bus;
    this.#mem = options.memory;
    this.#irq = options.irq;
    this.#vector = options.vector;
    this.#abar = options.abar;
    this.#map = options.map;
    this.#image = options.image;
    this.#portIndex = options.port;
    this.#readAhead = options.readAhead ?? 0;
    this.#finished = this.#sim.event();
  }

  /** Guest commands outstanding as the guest sees them. */
  get guestOutstanding(): number {
    return popcount(this.#port?.guestCi ?? 0);
  }
  /** Total guest queueing delay behind VMM commands, ns. */
  get guestQueueDelay(): SimTime {
    return this.stats.guestQueueDelay;
  }
  /** True once every sector is on the local disk. */
  get finished(): boolean {
    return this.#map.complete;
  }
  /** The hardware port this mediator owns (for tests). */
  get portIndex(): number {
    return this.#portIndex;
  }
  /**
   * The sectors of the image that the guest's redirected reads asked of the
   * image server, each once, in the order first asked (a run continued
   * where the next begins; read-ahead not counted): what a deployment
   * learned of the order in which its guest needs the image, to copy first
   * in a later one (the copier's `order`).
   */
  get redirectedRuns(): SectorRun[] {
    return this.#redirected.map((r) => ({ ...r }));
  }

  whenFinished(): SimEvent<unknown> {
    return this.#finished;
  }

  attach(): void {
    const shadowClb = this.#vmm.allocate(SLOTS * CMD_HEADER_BYTES, 1024);
    const shadowFb = this.#vmm.allocate(RFIS_BYTES, 256);
    this.#vmmTable = this.#vmm.allocate(CT_PRDT + 16 * 16, 128);
    this.#vmmBuf = this.#vmm.allocate(VMM_BUF_BYTES, 4096);
    this.#port = {
      index: this.#portIndex,
      state: "idle",
      guestClb: this.#rawRead(Px.CLB),
      guestClbu: this.#rawRead(Px.CLBU),
      guestFb: this.#rawRead(Px.FB),
      guestFbu: this.#rawRead(Px.FBU),
      guestIe: this.#rawRead(Px.IE),
      guestIs: 0,
      guestCi: 0,
      guestSact: 0,
      guestCmd: this.#rawRead(Px.CMD),
      guestTfd: undefined,
      shadowClb,
      shadowFb,
      hwGuest: 0,
      cmds: new Array(SLOTS).fill(undefined),
      queue: [],
      held: 0,
      epoch: 0,
      orphans: 0,
      halted: false,
      stopped: undefined,
      emulatedHalt: false,
      diskNeedsLog: false,
      emulatedLog: undefined,
    };
    this.#hook = this.#bus.hook(
      { base: this.#abar, size: ABAR_SIZE, name: "vmm/ahci" },
      (a) => this.#onAccess(a),
    );
    if (this.#map.complete) this.#finished.succeed();
  }

  canDetach(): boolean {
    const p = this.#port;
    return p.guestCi === 0 && p.guestSact === 0 && p.hwGuest === 0 && p.held === 0 &&
      p.queue.length === 0 && p.orphans === 0 && this.#guestHeld === 0 &&
      !this.#vmmRunning && this.#vmmQueue.length === 0 && p.emulatedLog === undefined;
  }

  whenQuiet(): SimEvent<unknown> {
    if (this.canDetach()) return this.#sim.timeout(0);
    return (this.#quiet ??= this.#sim.event());
  }

  /**
   * Hands the port back at a safe I/O timing (nothing outstanding, checked):
   * stop (ST=0, wait until CR=0; FRE=0, wait until FR=0), program the guest's
   * own PxCLB/PxFB, restart as the guest had it (FRE, wait FR; then ST),
   * restore PxIE, unhook (AHCI 1.3.1 §10.3.1-10.3.2; PxCLB/PxFB may only
   * change while ST, CR, FRE and FR are clear, §3.3.1, §3.3.3). A guest
   * register write meanwhile holds its vCPU in the VM exit until the port is
   * the guest's again, then reaches the hardware as written.
   */
  *detach(): ProcessGenerator<void> {
    if (!this.canDetach()) throw new Error("ahci mediator: detach with commands outstanding");
    const p = this.#port;
    p.state = nextPortState(p.state, "detaching");
    const wait = function* (
      self: AhciMediator,
      mask: number,
      want: number,
    ): ProcessGenerator<void> {
      while ((self.#rawRead(Px.CMD) & mask) !== want) {
        yield self.#sim.timeout(self.#vmm.costs.pollInterval);
      }
    };
    this.#rawWrite(Px.CMD, this.#rawRead(Px.CMD) & ~PxCMD_ST);
    yield* wait(this, PxCMD_CR, 0);
    this.#rawWrite(Px.CMD, this.#rawRead(Px.CMD) & ~PxCMD_FRE);
    yield* wait(this, PxCMD_FR, 0);
    this.#rawWrite(Px.CLB, p.guestClb);
    this.#rawWrite(Px.CLBU, p.guestClbu);
    this.#rawWrite(Px.FB, p.guestFb);
    this.#rawWrite(Px.FBU, p.guestFbu);
    // The guest's received-FIS area already holds every FIS copied or emulated for it.
    if (p.guestCmd & PxCMD_FRE) {
      this.#rawWrite(Px.CMD, this.#rawRead(Px.CMD) | PxCMD_FRE);
      yield* wait(this, PxCMD_FR, PxCMD_FR);
    }
    if (p.guestCmd & PxCMD_ST) {
      this.#rawWrite(Px.CMD, this.#rawRead(Px.CMD) | PxCMD_ST);
      yield* wait(this, PxCMD_CR, PxCMD_CR);
    }
    this.#rawWrite(Px.IE, p.guestIe);
    if (this.#hook) this.#bus.unhook(this.#hook);
    this.#hook = undefined;
    p.state = nextPortState(p.state, "native");
    this.#detached = true;
    this.#handedBack?.succeed();
  }

  // ---- VmmBlockIo ---------------------------------------------------------

  writeAbsent(request: { lba: Lba; versions: Int32Array }): SimEvent<number> {
    const done = this.#sim.event<number>();
    // Already present (the guest wrote them, or a copy-on-read came first):
    // nothing to write, and the port is not touched (it may be the guest's
    // own again: a copier chunk can arrive after the map completed).
    if (this.#map.isPresent(request.lba, request.versions.length)) {
      done.succeed(0);
      return done;
    }
    this.#vmmQueue.push({
      op: "write",
      lba: request.lba,
      count: request.versions.length,
      versions: request.versions,
      done: done as SimEvent<Int32Array | number>,
      onlyAbsent: true,
    });
    this.#kickVmm();
    return done;
  }

  read(request: { lba: Lba; count: number }): SimEvent<Int32Array> {
    const done = this.#sim.event<Int32Array>();
    this.#vmmQueue.push({
      op: "read",
      ...request,
      done: done as SimEvent<Int32Array | number>,
      onlyAbsent: false,
    });
    this.#kickVmm();
    return done;
  }

  // ---- trapped accesses -----------------------------------------------------

  #onAccess(a: MmioAccess): HookResult {
    const cost = this.#vmm.costs.mmioHandler;
    if (a.write) this.stats.trappedWrites++;
    else this.stats.trappedReads++;
    if (a.write && this.#port.state === "detaching") return this.#afterHandOver(a, cost);
    this.#sync();
    const off = a.offset;
    if (off === Ghc.GHC && a.write && (a.value & GHC_HR)) return this.#hbaReset(a, cost);
    if (off === Ghc.IS) {
      // IS.IPS follows the port's enabled PxIS bits (AHCI 1.3.1 §3.1.3): for
      // completions the VMM emulated, the guest's own PxIS/PxIE decide.
      const bit = (1 << this.#portIndex) >>> 0;
      const pending = (this.#port.guestIs & this.#port.guestIe) !== 0 ? bit : 0;
      if (!a.write) return { action: "done", value: (this.#rawGhc(Ghc.IS) | pending) >>> 0, cost };
      this.#bus.raw({ addr: a.addr, size: 4, write: true, value: a.value });
      // Cleared while the port still has a pending cause: the HBA signals again.
      if ((a.value & bit) && pending) this.#inject();
      return { action: "done", cost };
    }
    const portOff = off - PORT_BASE - this.#portIndex * PORT_STRIDE;
    if (portOff < 0 || portOff >= PORT_STRIDE) return { action: "passthrough", cost };
    const handler = (a.write ? WRITE_HANDLERS : READ_HANDLERS)[portOff as Px];
    if (handler === undefined) return { action: "passthrough", cost };
    return handler(this, a, cost);
  }

  /** @internal register handlers below are dispatched from tables */
  _readReg(reg: Px, cost: SimTime): HookResult {
    const p = this.#port;
    const value: Partial<Record<Px, number>> = {
      [Px.CLB]: p.guestClb,
      [Px.CLBU]: p.guestClbu,
      [Px.FB]: p.guestFb,
      [Px.FBU]: p.guestFbu,
      [Px.IE]: p.guestIe,
      [Px.IS]: p.guestIs,
      [Px.CI]: p.guestCi,
      [Px.SACT]: p.guestSact,
    };
    if (reg === Px.TFD) {
      // While the VMM's commands own the port the guest sees its own last status.
      if (p.guestTfd !== undefined) return { action: "done", value: p.guestTfd.tfd, cost };
      return { action: "passthrough", cost };
    }
    if (reg === Px.CMD) {
      if (p.state === "detaching") {
        // The port is briefly stopped for the hand-over: show the guest its own settings.
        const run = (p.guestCmd & PxCMD_ST ? PxCMD_CR : 0) |
          (p.guestCmd & PxCMD_FRE ? PxCMD_FR : 0);
        return { action: "done", value: (p.guestCmd | run) >>> 0, cost };
      }
      // The current-command-slot field as the guest last had it, not the VMM's slot;
      // while the VMM restarts the engine, the guest's own ST and CR.
      let v = this.#rawRead(Px.CMD);
      if (this.#vmmRecovering) {
        v = (v & ~(PxCMD_ST | PxCMD_CR)) | (p.guestCmd & PxCMD_ST ? PxCMD_ST | PxCMD_CR : 0);
      }
      if (p.guestTfd === undefined) return { action: "done", value: v, cost };
      return { action: "done", value: ((v & ~CCS_MASK) | p.guestTfd.ccs) >>> 0, cost };
    }
    return { action: "done", value: (value[reg] ?? 0) >>> 0, cost };
  }

  /** @internal */
  _writeReg(reg: Px, v: number, cost: SimTime): HookResult {
    const p = this.#port;
    switch (reg) {
      case Px.CLB:
        p.guestClb = v;
        this.#rawWrite(Px.CLB, lo(p.shadowClb));
        return { action: "done", cost };
      case Px.CLBU:
        p.guestClbu = v;
        this.#rawWrite(Px.CLBU, hi(p.shadowClb));
        return { action: "done", cost };
      case Px.FB:
        p.guestFb = v;
        this.#rawWrite(Px.FB, lo(p.shadowFb));
        return { action: "done", cost };
      case Px.FBU:
        p.guestFbu = v;
        this.#rawWrite(Px.FBU, hi(p.shadowFb));
        return { action: "done", cost };
      case Px.IE:
        p.guestIe = v;
        if (!this.#vmmRunning) this.#rawWrite(Px.IE, v);
        return { action: "done", cost };
      case Px.IS:
        p.guestIs &= ~v;
        // Write-1-to-clear the same bits in hardware, unless the VMM's command owns the
        // port: PxIS then holds only its bits (the worker took the guest's into its view),
        // and clearing its TFES would hide its failure from its poll.
        if (!this.#vmmRunning) this.#rawWrite(Px.IS, v);
        return { action: "done", cost };
      case Px.CMD: {
        const was = p.guestCmd;
        if (this.#vmmRecovering) return this.#afterVmm(() => this.#portWrite(reg, v), cost);
        if (!(v & PxCMD_ST) && (was & PxCMD_ST) && this.#vmmRunning) {
          // Stopping the engine now would abort the VMM's own command (and its
          // poll would take the cleared PxCI for a completion): hold the vCPU.
          return this.#afterVmm(() => this.#portWrite(reg, v), cost);
        }
        p.guestCmd = v;
        if ((v & PxCMD_ST) && !(was & PxCMD_ST)) {
          if (p.guestClb === 0) this.stats.guestOddities++; // ST before PxCLB: the spec forbids it
          // Only what differs: PxFB may not change while FRE is set (§3.3.3), as on a restart.
          this.#rawUpdate(Px.CLB, lo(p.shadowClb));
          this.#rawUpdate(Px.CLBU, hi(p.shadowClb));
          this.#rawUpdate(Px.FB, lo(p.shadowFb));
          this.#rawUpdate(Px.FBU, hi(p.shadowFb));
          p.state = nextPortState(p.state, "running");
        } else if (!(v & PxCMD_ST) && (was & PxCMD_ST)) {
          // Clearing ST aborts what is in the hardware (§3.3.7).
          this.#dropGuestCommands();
        }
        return { action: "passthrough", cost };
      }
      case Px.SCTL:
        // A COMRESET would abort the VMM's own command too.
        if (this.#vmmRunning) return this.#afterVmm(() => this.#portWrite(reg, v), cost);
        p.guestTfd = undefined; // the guest waits for the device's own status after a reset
        if ((v & 0xf) === 1) this.#deviceReset(); // COMRESET: the device forgets its NCQ error
        return { action: "passthrough", cost };
      case Px.SACT:
        p.guestSact |= v;
        return { action: "done", cost };
      case Px.CI:
        return this.#issue(v, cost);
      default:
        return { action: "passthrough", cost };
    }
  }

  /**
   * The guest loses its commands (a port stop or an HBA reset): those in the
   * hardware, held for redirection (their fetches still fill the disk) or
   * queued behind VMM work; its recovery reads the hardware's own status.
   */
  #dropGuestCommands(): void {
    const p = this.#port;
    this.stats.abortedGuestCommands += popcount(p.guestCi);
    p.guestCi = 0;
    p.guestSact = 0;
    p.hwGuest = 0;
    p.queue = [];
    p.cmds.fill(undefined);
    p.orphans += popcount(p.held);
    p.held = 0;
    p.epoch++;
    p.guestTfd = undefined;
    p.halted = false;
    p.emulatedHalt = false;
    const stopped = p.stopped;
    p.stopped = undefined;
    stopped?.succeed();
    p.state = nextPortState(p.state, "idle");
    this.#notifyQuiet();
  }

  /** A COMRESET or HBA reset: the disk, and the device the mediator emulates, leave their NCQ error state. */
  #deviceReset(): void {
    const p = this.#port;
    // Reads held for the log read stay queued: only a COMRESET with ST=1 (§10.4.2 forbids it)
    // leaves any, and sent on now they would reach the port as the reset drops its work.
    p.diskNeedsLog = false;
    p.emulatedLog = undefined;
    this.#notifyQuiet(); // an unread emulated log was all that kept the port from quiet
  }

  /**
   * GHC.HR (Linux sets it at probe): it resets every port (§10.4.3), which
   * would abort the VMM's own command, so it waits for that command like a
   * port stop; then the guest's view of the port is reset too (engines off,
   * PxIE/PxIS clear, commands gone). PxCLB/PxFB keep the shadow structures.
   */
  #hbaReset(a: MmioAccess, cost: SimTime): HookResult {
    const apply = () => {
      this.#bus.raw({ addr: a.addr, size: a.size, write: true, value: a.value });
      const p = this.#port;
      this.#dropGuestCommands();
      this.#deviceReset(); // an HBA reset resets the device too (§10.4.3)
      p.guestCmd = p.guestIe = p.guestIs = 0;
    };
    if (!this.#vmmRunning) {
      apply();
      return { action: "done", cost };
    }
    return this.#afterVmm(apply, cost);
  }

  /**
   * Holds the guest's CPU in the VM exit until the VMM's worker has finished
   * its command, then makes the guest's write (BitVisor-style: the VMM does
   * not return to the guest until the access is safe).
   */
  #afterVmm(write: () => void, cost: SimTime): HookResult {
    this.stats.heldGuestWrites++;
    this.#guestHeld++;
    const applied = this.#sim.event();
    (this.#vmmIdle ??= this.#sim.event()).then(() => {
      this.#guestHeld--;
      write();
      applied.succeed();
      this.#kickVmm();
      this.#notifyQuiet();
    });
    return { action: "block", until: applied, cost };
  }

  /**
   * A guest write during the hand-over (the engine briefly stopped, the
   * guest's PxCLB/PxFB going back): its vCPU waits in the VM exit until the
   * port is the guest's, then the write goes to the hardware unchanged.
   */
  #afterHandOver(a: MmioAccess, cost: SimTime): HookResult {
    this.stats.heldGuestWrites++;
    const applied = this.#sim.event();
    (this.#handedBack ??= this.#sim.event()).then(() => {
      this.#bus.raw({ addr: a.addr, size: a.size, write: true, value: a.value });
      applied.succeed();
    });
    return { action: "block", until: applied, cost };
  }

  /** A guest port-register write made later: mediated as it would have been, else raw. */
  #portWrite(reg: Px, v: number): void {
    if (this._writeReg(reg, v, 0).action === "passthrough") this.#rawWrite(reg, v);
  }

  // ---- interpretation and routing ---------------------------------------------

  #issue(v: number, cost: SimTime): HookResult {
    const p = this.#port;
    if (!(p.guestCmd & PxCMD_ST)) {
      this.stats.guestOddities++; // PxCI written while ST=0: the HBA ignores it (§3.3.14)
      return { action: "done", cost };
    }
    const fresh = (v & ~p.guestCi) >>> 0;
    let extra = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      if (!(fresh & (1 << slot))) continue;
      p.guestCi = (p.guestCi | (1 << slot)) >>> 0;
      const cmd = interpretCommand(this.#mem, { clb: clbOf(p), slot });
      p.cmds[slot] = cmd;
      this.stats.guestCommands++;
      extra += this.#vmm.costs.commandInterpret;
      this.lastGuestIo = this.#sim.now;
      // While the disk waits for its log to be read no VMM command runs: nothing to wait for.
      const busy = !p.diskNeedsLog &&
        (this.#vmmRunning || this.#vmmQueue.length > 0 || p.queue.length > 0);
      const whole = busy && !p.halted ? this.#wholeRedirect(cmd, p) : null;
      if (p.halted) {
        // The HBA halted on a guest error: it takes the PxCI bit but runs nothing
        // until the guest clears ST, which drops the command.
        p.queue.push({ slot, at: this.#sim.now, why: "halt" });
      } else if (whole !== null) {
        // A read of absent sectors never touches the port: redirect it at once.
        this.#dispatch(cmd, whole);
      } else if (busy) {
        p.queue.push({ slot, at: this.#sim.now, why: "vmm" });
        this.stats.queuedGuestCommands++;
      } else this.#dispatch(cmd);
    }
    return { action: "done", cost: cost + extra };
  }

  /** True when DMA to [addr, addr + bytes) would reach the VMM's own memory. */
  #touchesVmm(addr: Gpa, bytes: number): boolean {
    const m = this.#vmm.memory;
    return addr < m.base + m.size && m.base < addr + bytes;
  }

  /**
   * For a read wholly absent that no queued guest command overlaps: its one
   * missing run (the whole command), so it can be redirected at once; else null.
   */
  #wholeRedirect(cmd: GuestCommand, p: Port): SectorRun[] | null {
    if (cmd.kind !== "read" || cmd.count === 0 || cmd.lba + cmd.count > this.#map.sectors) {
      return null;
    }
    const m = this.#map.missing(cmd.lba, cmd.count);
    if (m.length !== 1 || m[0].count !== cmd.count) return null;
    const overlapped = p.queue.some(({ slot }) => {
      const q = p.cmds[slot];
      return q !== undefined && q.lba < cmd.lba + cmd.count && cmd.lba < q.lba + q.count;
    });
    return overlapped ? null : m;
  }

  /** Sends a guest command on its way; `missing`: its absent runs when already known. */
  #dispatch(cmd: GuestCommand, missing?: SectorRun[]): void {
    const p = this.#port;
    if (cmd.prdt.some((e) => this.#touchesVmm(e.dba, e.bytes))) {
      // The VMM's memory is reserved in the guest's E820 map and protected
      // (EPT): a command whose DMA would reach it never goes to the device.
      // It completes with nothing transferred (PRDBC = 0), a short transfer.
      this.stats.blockedDma++;
      writePrdbc(this.#mem, cmd, 0);
      this.#emulateCompletion(cmd);
      return;
    }
    // Sectors of the command inside the image (the disk is larger: a command may cross its end).
    const inImage = Math.min(cmd.count, this.#map.sectors - cmd.lba);
    const runs = cmd.kind === "read" && inImage > 0
      ? missing ?? this.#map.missing(cmd.lba, inImage)
      : [];
    // The device's NCQ error state (SATA 2.6 §13.5.4.1): the disk's own goes to the disk,
    // which aborts all but the log read; the emulated one answers the same way here.
    if (p.diskNeedsLog) {
      // But a read of absent sectors the disk would serve stale once its log is read (the
      // log read ahead of it): it waits for that read, then is redirected (#drainQueue).
      if (runs.length === 0) return this.#toHardware(cmd.slot);
      this.stats.logHeldReads++;
      return void p.queue.push({ slot: cmd.slot, at: this.#sim.now, why: "log" });
    }
    if (p.emulatedLog !== undefined) {
      if (readsNcqErrorLog(cmd)) return this.#emulateLogRead(cmd, p.emulatedLog);
      return this.#failGuest(cmd, "abrt");
    }
    if (runs.length > 0) {
      p.held = (p.held | (1 << cmd.slot)) >>> 0;
      const work = inImage === cmd.count ? this.#redirect(cmd, runs) : this.#fillFirst(cmd, runs);
      this.#sim.process(this.#counted(work), `vmm/redirect/${cmd.slot}`);
      return;
    }
    // A write is marked present when it completes (#sync), not here: the disk may fail it.
    this.#toHardware(cmd.slot);
  }

  #toHardware(slot: number): void {
    const p = this.#port;
    const bit = (1 << slot) >>> 0;
    // Copy the guest's header into the shadow list (it points at the guest's table).
    this.#mem.writeBytes(
      p.shadowClb + slot * CMD_HEADER_BYTES,
      this.#mem.readBytes(clbOf(p) + slot * CMD_HEADER_BYTES, CMD_HEADER_BYTES),
    );
    p.hwGuest = (p.hwGuest | bit) >>> 0;
    p.guestTfd = undefined;
    this.stats.passthroughCommands++;
    if (p.cmds[slot]?.ncq) this.#rawWrite(Px.SACT, bit);
    this.#rawWrite(Px.CI, bit);
  }

  /**
   * Collects guest commands the hardware finished, marks the sectors of the
   * writes among them present, and copies their status to the guest's view;
   * after a guest command's task-file error (the HBA halted, §6.2.2) copies
   * the error status, and holds the guest's view halted until it clears ST.
   */
  #sync(): void {
    const p = this.#port;
    if (p.hwGuest === 0 || this.#detached) return;
    const ci = this.#rawRead(Px.CI), sact = this.#rawRead(Px.SACT);
    let done = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const bit = (1 << slot) >>> 0;
      if (!(p.hwGuest & bit) || (ci & bit)) continue;
      if (p.cmds[slot]?.ncq && (sact & bit)) continue;
      done = (done | bit) >>> 0;
    }
    const hwIs = this.#rawRead(Px.IS);
    // Only guest commands are on the hardware: a halting error is the guest's.
    const error = (hwIs & PxIS_FATAL) !== 0;
    if (done === 0 && !error) return;
    const neededLog = p.diskNeedsLog;
    let wrote = false;
    for (let slot = 0; slot < SLOTS; slot++) {
      const bit = (1 << slot) >>> 0;
      if (!(done & bit)) continue;
      const { prdbc } = readCommandHeader(this.#mem, { clb: p.shadowClb, slot });
      writePrdbc(this.#mem, { clb: clbOf(p), slot }, prdbc);
      const cmd = p.cmds[slot];
      // Its data is on the disk: newer than the image (the part inside the image).
      if (
        cmd?.kind === "write" && cmd.lba < this.#map.sectors && prdbc >= cmd.count * 512
      ) {
        this.#map.markPresent(cmd.lba, Math.min(cmd.count, this.#map.sectors - cmd.lba), true);
        this.stats.guestWrites++;
        wrote = true;
      }
      // The guest read the disk's NCQ error log: the disk takes commands again.
      if (cmd !== undefined && readsNcqErrorLog(cmd) && prdbc >= 512) p.diskNeedsLog = false;
      p.cmds[slot] = undefined;
    }
    if (wrote) this.#checkFinished();
    // A queued command failed (its tag and the others keep PxSACT): the disk is in its
    // NCQ error state until its log is read (SATA 2.6 §13.5.4.1).
    if (error && (sact & p.hwGuest & ~done) !== 0) p.diskNeedsLog = true;
    p.hwGuest = (p.hwGuest & ~done) >>> 0;
    if (p.emulatedHalt) {
      // The guest sees the mediator's halt: what the hardware finished since is not
      // shown (a real HBA halted would not have finished it); the guest's port stop
      // drops those commands and its recovery issues them again.
      this.#afterGuestCompletion();
      return;
    }
    if (error && !p.halted) {
      p.halted = true;
      this.stats.guestTaskFileErrors++;
    }
    p.guestTfd = undefined; // the hardware's status is the guest's latest
    p.guestCi = (p.guestCi & ~done) >>> 0;
    p.guestSact = (p.guestSact & ~done) >>> 0;
    p.guestIs = (p.guestIs | hwIs) >>> 0;
    if (fbOf(p) !== 0) {
      this.#mem.writeBytes(fbOf(p), this.#mem.readBytes(p.shadowFb, RFIS_BYTES));
    }
    this.lastGuestIo = this.#sim.now;
    if (neededLog && !p.diskNeedsLog) this.#drainQueue(); // reads held for the log read
    this.#afterGuestCompletion();
  }

  /**
   * True while a guest command's error halts the port (§6.2.2); an error
   * posted since the guest's last register access is taken in now.
   */
  #guestHalted(): boolean {
    const p = this.#port;
    if (!p.halted && p.hwGuest !== 0 && (this.#rawRead(Px.IS) & PxIS_FATAL)) this.#sync();
    return p.halted;
  }

  /**
   * A held command about to complete: while a guest error halts the port (and
   * the guest has not stopped it since `epoch`) the HBA completes nothing, so
   * it waits for the guest's port stop, which drops it.
   */
  *#untilNotHalted(epoch: number): ProcessGenerator<void> {
    const p = this.#port;
    if (this.#guestHalted() && p.epoch === epoch) yield (p.stopped ??= this.#sim.event());
  }

  #afterGuestCompletion(): void {
    this.#kickVmm();
    this.#notifyQuiet();
  }

  // ---- redirection ----------------------------------------------------------------

  /** Runs a redirect, counted outstanding while it runs (what the copier senses). */
  *#counted(work: ProcessGenerator<void>): ProcessGenerator<void> {
    this.redirectsOutstanding++;
    this.redirectsStarted++;
    try {
      yield* work;
    } finally {
      this.redirectsOutstanding--;
    }
  }

  *#redirect(cmd: GuestCommand, missing: SectorRun[]): ProcessGenerator<void> {
    const p = this.#port;
    const versions = new Int32Array(cmd.count);
    const fetches = this.#fetchAll(missing);
    this.#readAheadAfter(cmd);
    const present = complement({ lba: cmd.lba, count: cmd.count }, missing);
    const reads = present.map((run) => ({ run, ev: this.read(run) }));
    const epoch = p.epoch;
    const failure =
      (yield this.#settled([...fetches.map((f) => f.ev), ...reads.map((r) => r.ev)])) as
        | AtaError
        | undefined;
    yield* this.#untilNotHalted(epoch);
    if (p.epoch !== epoch) {
      // The guest stopped the port meanwhile (its error handling gave up on the
      // command): nothing goes to its buffers; the fetched data still fills the disk.
      p.orphans--;
      this.#writeBack(fetches);
      this.#notifyQuiet();
      return;
    }
    if (failure !== undefined) {
      // Part of the data could not be had (the disk failed the VMM's read after its
      // retries, or the image server failed the fetch): the command ends in a
      // task-file error of its own, as the disk's would, and the guest's error
      // handling retries or fails it. What was fetched still fills the disk.
      this.#failGuest(cmd, failure);
      this.#writeBack(fetches);
      this.#notifyQuiet();
      return;
    }
    for (const x of [...fetches, ...reads]) versions.set(x.ev.value, x.run.lba - cmd.lba);
    const placed = scatterVersions(this.#mem, cmd.prdt, versions);
    writePrdbc(this.#mem, cmd, placed);
    this.stats.redirectedReads++;
    this.stats.redirectedSectors += missing.reduce((s, r) => s + r.count, 0);
    this.stats.redirectedPresentSectors += present.reduce((s, r) => s + r.count, 0);
    this.#emulateCompletion(cmd);
    p.held = (p.held & ~(1 << cmd.slot)) >>> 0;
    // Copy-on-read: fetched sectors go to the local disk (only where still absent).
    this.#writeBack(fetches);
    this.#notifyQuiet();
  }

  /** Runs of the image that redirected reads fetched, in order ({@link redirectedRuns}). */
  #redirected: SectorRun[] = [];
  /** The sectors in #redirected. */
  #asked = new RunSet();

  /** Fetches `missing` from the image, in requests the image source takes. */
  #fetchAll(missing: readonly SectorRun[]): { run: SectorRun; ev: SimEvent<Int32Array> }[] {
    // Only sectors not asked before: a retry, or a second read before the write-back, is no news.
    for (const r of missing.flatMap((m) => this.#asked.add(m))) {
      const last = this.#redirected.at(-1);
      if (last !== undefined && last.lba + last.count === r.lba) last.count += r.count;
      else this.#redirected.push({ ...r });
    }
    return missing.flatMap((run) => splitRun(run, this.#image.maxSectors))
      .map((run) => ({ run, ev: this.#fetch(run) }));
  }

  /**
   * Writes what was fetched to the local disk, where still absent
   * (copy-on-read); fetches that failed are skipped (the copier fills them).
   */
  #writeBack(fetches: readonly { run: SectorRun; ev: SimEvent<Int32Array> }[]): SimEvent<number>[] {
    return fetches.filter((f) => f.ev.ok).map((f) =>
      this.writeAbsent({ lba: f.run.lba, versions: f.ev.value })
    );
  }

  /**
   * Succeeds once every one of `events` has triggered, with the ATA error of
   * the first that failed (a {@link VmmDiskError}'s, else ABRT), or undefined.
   */
  #settled(events: readonly SimEvent<unknown>[]): SimEvent<AtaError | undefined> {
    const out = this.#sim.event<AtaError | undefined>();
    let left = events.length;
    let error: AtaError | undefined;
    if (left === 0) return out.succeed(undefined);
    for (const ev of events) {
      ev.then((e) => {
        if (!e.ok) error ??= e.value instanceof VmmDiskError ? e.value.error : "abrt";
        if (--left === 0) out.succeed(error);
      });
    }
    return out;
  }

  /**
   * A read that runs past the image's end: its absent sectors are fetched
   * and written to the disk first, then the command goes to the hardware
   * whole (the disk serves the part past the image, and fails the command if
   * it also runs past the disk's end, as it would natively).
   */
  *#fillFirst(cmd: GuestCommand, missing: SectorRun[]): ProcessGenerator<void> {
    const p = this.#port;
    const epoch = p.epoch;
    const fetches = this.#fetchAll(missing);
    let failure = (yield this.#settled(fetches.map((f) => f.ev))) as AtaError | undefined;
    yield this.#sim.allOf(this.#writeBack(fetches));
    yield* this.#untilNotHalted(epoch);
    if (p.epoch !== epoch) {
      p.orphans--; // the guest stopped the port meanwhile: the command is gone
      this.#notifyQuiet();
      return;
    }
    // Sectors still absent (a fetch or the VMM's write failed) would read stale from
    // the disk: the command ends in a task-file error instead (ABRT for a failed fetch).
    if (failure === undefined && missing.some((r) => !this.#map.isPresent(r.lba, r.count))) {
      failure = this.#lastVmmError ?? "abrt";
    }
    if (failure !== undefined) {
      this.#failGuest(cmd, failure);
      this.#notifyQuiet();
      return;
    }
    p.held = (p.held & ~(1 << cmd.slot)) >>> 0;
    this.stats.redirectedSectors += missing.reduce((s, r) => s + r.count, 0);
    if (this.#vmmRunning || this.#vmmQueue.length > 0 || p.queue.length > 0) {
      p.queue.push({ slot: cmd.slot, at: this.#sim.now, why: "vmm" });
      this.#kickVmm();
    } else this.#toHardware(cmd.slot);
  }

  /**
   * Image versions of `r`: each part a read-ahead under way covers comes from
   * it, the rest from new requests. A request may straddle two read-aheads
   * (windows need not line up with the guest's requests).
   */
  #fetch(r: SectorRun): SimEvent<Int32Array> {
    const end = r.lba + r.count;
    // `whole`: the piece is all its event reads; `hit`: it comes from a read-ahead.
    const pieces: {
      lba: number;
      count: number;
      ev: SimEvent<Int32Array>;
      from: number;
      whole: boolean;
      hit: boolean;
    }[] = [];
    for (let lba = r.lba; lba < end;) {
      const hit = this.#prefetched.find((x) => x.run.lba <= lba && lba < x.run.lba + x.run.count);
      if (hit !== undefined) {
        const upto = Math.min(end, hit.run.lba + hit.run.count);
        const from = lba - hit.run.lba;
        const whole = from === 0 && upto - lba === hit.run.count;
        pieces.push({ lba, count: upto - lba, ev: hit.ev, from, whole, hit: true });
        lba = upto;
        continue;
      }
      const next = Math.min(
        end,
        ...this.#prefetched.filter((x) => x.run.lba > lba).map((x) => x.run.lba),
      );
      const ev = this.#image.read({ lba, count: next - lba });
      pieces.push({ lba, count: next - lba, ev, from: 0, whole: true, hit: false });
      lba = next;
    }
    if (pieces.some((x) => x.hit)) this.stats.readAheadHits++;
    if (pieces.length === 1 && pieces[0].whole) return pieces[0].ev;
    const out = this.#sim.event<Int32Array>();
    this.#sim.allOf(pieces.map((x) => x.ev)).then((ev) => {
      if (!ev.ok) return void out.fail(ev.value as unknown as Error);
      const versions = new Int32Array(r.count);
      for (const x of pieces) {
        versions.set(x.ev.value.subarray(x.from, x.from + x.count), x.lba - r.lba);
      }
      out.succeed(versions);
    });
    return out;
  }

  /**
   * After a redirected read: if it follows the previous one (sequential),
   * fetches the absent sectors of the read-ahead window after it. The window
   * grows with each sequential read up to `readAhead` ({@link nextWindow}); a
   * non-sequential read resets it, so a few adjacent small reads do not pull
   * in the whole window.
   */
  #readAheadAfter(cmd: { lba: number; count: number }): void {
    const end = cmd.lba + cmd.count;
    const sequential = cmd.lba === this.#lastRedirectEnd;
    this.#lastRedirectEnd = end;
    // Drop read-aheads that lie wholly behind the reader.
    this.#prefetched = this.#prefetched.filter((x) => x.run.lba + x.run.count > end);
    if (!sequential || this.#readAhead === 0) {
      this.#readAheadWindow = 0;
      return;
    }
    this.#readAheadWindow = nextWindow(this.#readAheadWindow, cmd.count, this.#readAhead);
    const covered = this.#prefetched.reduce((m, x) => Math.max(m, x.run.lba + x.run.count), end);
    const stop = Math.min(this.#map.sectors, end + this.#readAheadWindow);
    const start = Math.max(end, covered);
    for (const run of splitRun({ lba: start, count: stop - start }, this.#image.maxSectors)) {
      if (this.#map.isPresent(run.lba, run.count)) continue;
      // A read-ahead no redirect ends up using may fail unheeded (a no-op waiter).
      this.#prefetched.push({ run, ev: this.#image.read(run).then(() => {}) });
    }
  }

  /** Makes the guest see a normal completion: FIS, PxIS, PxCI/PxSACT, interrupt. */
  #emulateCompletion(cmd: GuestCommand): void {
    const p = this.#port;
    const bit = (1 << cmd.slot) >>> 0;
    this.#postFis(cmd, { status: TFD_IDLE, error: 0, sactive: bit });
    p.guestIs = (p.guestIs | (cmd.ncq ? PxIS_SDBS : PxIS_DHRS)) >>> 0;
    // The FIS received updates PxTFD (§3.3.8): a good status.
    p.guestTfd = { tfd: TFD_IDLE, ccs: p.guestTfd?.ccs ?? (this.#rawRead(Px.CMD) & CCS_MASK) };
    p.guestCi = (p.guestCi & ~bit) >>> 0;
    p.guestSact = (p.guestSact & ~bit) >>> 0;
    p.cmds[cmd.slot] = undefined;
    this.lastGuestIo = this.#sim.now;
    if ((p.guestIe & p.guestIs) !== 0) this.#inject();
  }

  /**
   * Writes the FIS the device would send at the end of `cmd` to the guest's
   * received-FIS area (if it set one up): a Set Device Bits FIS for a queued
   * command (`sactive`: the tags it completes), else a D2H register FIS.
   */
  #postFis(cmd: GuestCommand, f: { status: number; error: number; sactive: number }): void {
    const fb = fbOf(this.#port);
    if (fb === 0) return;
    if (cmd.ncq) {
      this.#mem.writeBytes(fb + RFIS_SDBFIS, encodeSdbFis({ ...f, interrupt: true }));
    } else {
      const d2h = encodeD2hFis({ status: f.status, error: f.error, interrupt: true });
      this.#mem.writeBytes(fb + RFIS_RFIS, d2h);
    }
  }

  /**
   * Makes the guest see its command fail as the disk would fail it: a D2H
   * (non-queued) or Set Device Bits FIS (queued) with ERR, PxTFD with the
   * error, PxIS.TFES and the interrupt; the command keeps its PxCI/PxSACT bit
   * (a non-queued one is named by PxCMD.CCS) and the port is halted in the
   * guest's view until it clears ST (AHCI 1.3.1 §6.2.2), while the hardware
   * runs on. A queued command's error is kept as the NCQ error log the
   * guest then reads (SATA 2.6 §13.5.4.1); until then the mediator aborts
   * its other commands, as the disk would.
   */
  #failGuest(cmd: GuestCommand, error: AtaError): void {
    const p = this.#port;
    const status = TFD_IDLE | ATA_STS_ERR;
    const bits = ATA_ERROR_BITS[error];
    writePrdbc(this.#mem, cmd, 0);
    this.#postFis(cmd, { status, error: bits, sactive: 0 });
    const ccs = cmd.ncq
      ? p.guestTfd?.ccs ?? (this.#rawRead(Px.CMD) & CCS_MASK)
      : (cmd.slot << 8) & CCS_MASK;
    p.guestTfd = { tfd: (bits << 8) | status, ccs };
    p.guestIs = (p.guestIs | PxIS_TFES) >>> 0;
    p.held = (p.held & ~(1 << cmd.slot)) >>> 0;
    if (!p.halted) {
      p.halted = true;
      p.emulatedHalt = true;
    }
    if (cmd.ncq && p.emulatedLog === undefined) {
      p.emulatedLog = {
        nq: false,
        tag: cmd.slot,
        status,
        error: bits,
        lba: cmd.lba,
        count: cmd.count,
      };
    }
    this.stats.emulatedTaskFileErrors++;
    this.lastGuestIo = this.#sim.now;
    if ((p.guestIe & p.guestIs) !== 0) this.#inject();
  }

  /**
   * The guest's READ LOG EXT of log 10h after an emulated queued-command
   * error: the mediator returns that log (and clears it) as the disk returns
   * its own, with a good completion.
   */
  #emulateLogRead(cmd: GuestCommand, log: NcqErrorLog): void {
    const p = this.#port;
    const page = new Uint8Array(Math.max(1, cmd.count) * 512);
    page.set(encodeNcqErrorLog(log));
    let k = 0;
    for (const e of cmd.prdt) {
      if (k >= page.length) break;
      const n = Math.min(e.bytes, page.length - k);
      this.#mem.writeBytes(e.dba, page.subarray(k, k + n));
      k += n;
    }
    writePrdbc(this.#mem, cmd, k);
    p.emulatedLog = undefined;
    this.stats.emulatedLogReads++;
    this.#emulateCompletion(cmd);
    this.#notifyQuiet();
  }

  /** Injects the HBA's interrupt into the guest (if the guest enabled it in GHC.IE). */
  #inject(): void {
    if (this.#rawGhc(Ghc.GHC) & GHC_IE) {
      this.stats.injectedInterrupts++;
      this.#irq.raise(this.#vector);
    }
  }

  #checkFinished(): void {
    if (this.#map.complete && !this.#finished.triggered) this.#finished.succeed();
  }

  // ---- multiplexing: the VMM's own commands ----------------------------------------

  #kickVmm(): void {
    if (this.#vmmRunning || this.#vmmQueue.length === 0) return;
    if (this.#port.state === "detaching" || this.#port.state === "native") {
      throw new Error("vmm: own disk command after the port was handed back to the guest");
    }
    // Not while guest commands are in the hardware, a guest write waits for the
    // worker to stop, or the engine is stopped (the guest is resetting the port).
    // Nor while the disk aborts all but the guest's read of its NCQ error log.
    if (
      this.#port.hwGuest !== 0 || this.#guestHeld > 0 || this.#port.diskNeedsLog ||
      !(this.#rawRead(Px.CMD) & PxCMD_ST)
    ) {
      this.#schedulePoll();
      return;
    }
    this.#vmmRunning = true;
    this.#sim.process(this.#vmmWorker(), "vmm/ahci-worker");
  }

  #pollPending = false;
  #schedulePoll(): void {
    if (this.#pollPending) return;
    this.#pollPending = true;
    this.#sim.call(this.#vmm.costs.pollInterval, () => {
      this.#pollPending = false;
      if (this.#detached) return;
      this.#timerExit();
      this.#sync();
      this.#kickVmm();
    });
  }

  /** The VMM's timer fires on CPU 0: one VM exit. */
  #timerExit(): void {
    const cpu = this.#vmm.cpus[0];
    if (cpu.vmx === "non-root") cpu.vmExit("preemption-timer", this.#vmm.costs.mmioHandler);
  }

  *#vmmWorker(): ProcessGenerator<void> {
    const p = this.#port;
    this.#rawWrite(Px.IE, 0); // mask: no VMM interrupt may reach the guest
    p.guestTfd ??= { tfd: this.#rawRead(Px.TFD), ccs: this.#rawRead(Px.CMD) & CCS_MASK };
    // What PxIS still holds is the guest's (e.g. a task-file error it has not
    // acknowledged yet): keep it in its view, so what follows is the VMM's own.
    const left = this.#rawRead(Px.IS);
    if (left) {
      p.guestIs = (p.guestIs | left) >>> 0;
      this.#rawWrite(Px.IS, left);
    }
    // A held guest write (port stop, COMRESET, HBA reset) goes first after the
    // command under way: the copier, seeing the held guest idle, would
    // otherwise keep the worker busy, and the guest's vCPU held, to the end.
    while (this.#vmmQueue.length > 0 && this.#guestHeld === 0) {
      const op = this.#vmmQueue.shift()!;
      if (op.op === "read") {
        const out = new Int32Array(op.count);
        let failed: VmmDiskError | undefined;
        for (let o = 0; o < op.count && failed === undefined; o += VMM_MAX_SECTORS) {
          const n = Math.min(VMM_MAX_SECTORS, op.count - o);
          const c = { write: false, lba: op.lba + o, count: n };
          const error = yield* this.#vmmCommand(c);
          if (error !== undefined) failed = this.#vmmFailure(c, error);
          else out.set(this.#mem.readVersions(this.#vmmBuf, n), o);
        }
        // A read the disk keeps failing fails its event: the redirect waiting for it
        // ends the guest's command in a task-file error of its own.
        if (failed !== undefined) op.done.fail(failed);
        else op.done.succeed(out);
      } else {
        let written = 0;
        for (const run of this.#map.missing(op.lba, op.count)) {
          for (let o = 0; o < run.count; o += VMM_MAX_SECTORS) {
            const n = Math.min(VMM_MAX_SECTORS, run.count - o);
            const from = run.lba + o - op.lba;
            this.#mem.writeVersions(this.#vmmBuf, op.versions!.subarray(from, from + n));
            const c = { write: true, lba: run.lba + o, count: n };
            const error = yield* this.#vmmCommand(c);
            // A write the disk keeps failing leaves its sectors absent: the copier
            // (which sees them still missing) writes them again later.
            if (error !== undefined) {
              this.#vmmFailure(c, error);
              continue;
            }
            this.#map.markPresent(run.lba + o, n);
            written += n;
          }
        }
        this.stats.vmmSectorsWritten += written;
        this.#checkFinished();
        op.done.succeed(written);
      }
    }
    this.#rawWrite(Px.IE, p.guestIe);
    this.#vmmRunning = false;
    const idle = this.#vmmIdle;
    this.#vmmIdle = undefined;
    idle?.succeed();
    this.#drainQueue(); // the guest commands that arrived meanwhile
    this.#notifyQuiet();
  }

  /**
   * Issues the queued guest commands, in order, while the port may take them:
   * not under a halt, real or emulated (the HBA runs nothing until software
   * clears ST, AHCI 1.3.1 §6.2.2.1, and that drops them), nor while the disk
   * waits for its NCQ error log to be read (SATA 2.6 §13.5.4.1: the reads
   * held for it go on when it is read).
   */
  #drainQueue(): void {
    const p = this.#port;
    while (p.queue.length > 0 && !p.halted && !p.diskNeedsLog) {
      const { slot, at, why } = p.queue.shift()!;
      // Only a wait behind VMM work is the copier's doing (its policy reads guestQueueDelay).
      if (why === "vmm") this.stats.guestQueueDelay += this.#sim.now - at;
      else if (why === "log") this.stats.logHeldDelay += this.#sim.now - at;
      const cmd = p.cmds[slot];
      if (cmd !== undefined) this.#dispatch(cmd);
    }
  }

  /** Counts a VMM command that failed after its retries and describes it. */
  #vmmFailure(c: { write: boolean; lba: Lba; count: number }, error: AtaError): VmmDiskError {
    this.stats.vmmFailedCommands++;
    this.#lastVmmError = error;
    return new VmmDiskError(
      error,
      `vmm: its own ${
        c.write ? "write" : "read"
      } of ${c.count} sectors at LBA ${c.lba} failed (${error}), ${VMM_RETRIES} retries`,
    );
  }

  /**
   * Builds and issues one VMM command in the VMM's slot, then polls PxCI
   * until it completes. A command that fails is issued again after the port
   * is recovered, up to VMM_RETRIES times; returns undefined on success,
   * else the ATA error of the last try (from PxTFD; ABRT for a host bus error).
   */
  *#vmmCommand(
    c: { write: boolean; lba: Lba; count: number },
  ): ProcessGenerator<AtaError | undefined> {
    const p = this.#port;
    const slot = this.#freeVmmSlot();
    const mem = this.#mem;
    const table = this.#vmmTable;
    const fis = encodeAtaCommand({ kind: c.write ? "write" : "read", lba: c.lba, count: c.count });
    mem.writeBytes(table + CT_CFIS, encodeH2dFis(fis));
    const bytes = c.count * 512;
    const prdt = [];
    for (let o = 0; o < bytes; o += PRD_MAX_BYTES) {
      prdt.push({
        dba: this.#vmmBuf + o,
        bytes: Math.min(PRD_MAX_BYTES, bytes - o),
        interrupt: false,
      });
    }
    writePrdt(mem, table, prdt);
    writeCommandHeader(mem, { clb: p.shadowClb, slot }, {
      cfl: 5,
      write: c.write,
      prdtl: prdt.length,
      ctba: table,
    });
    this.stats.vmmCommands++;
    const bit = (1 << slot) >>> 0;
    const serr = this.#rawRead(Px.SERR); // the guest's, if any
    for (let attempt = 0;; attempt++) {
      // With the engine stopped the HBA ignores PxCI (§3.3.14) and the poll below
      // would take the command for done: #kickVmm never starts the worker then.
      if (!(this.#rawRead(Px.CMD) & PxCMD_ST)) {
        throw new Error("vmm: own command on a stopped port");
      }
      this.#rawWrite(Px.CI, bit);
      // Done when its PxCI bit clears; a halting error leaves it set (§6.2.2.1).
      while ((this.#rawRead(Px.CI) & bit) && !(this.#rawRead(Px.IS) & PxIS_FATAL)) {
        yield this.#sim.timeout(this.#vmm.costs.pollInterval);
        this.#timerExit();
      }
      // Clear what the VMM's command left in PxIS (never seen by the guest).
      const is = this.#rawRead(Px.IS);
      if (is) this.#rawWrite(Px.IS, is);
      const ghcIs = this.#rawGhc(Ghc.IS) & (1 << this.#portIndex);
      if (ghcIs) this.#bus.raw({ addr: this.#abar + Ghc.IS, size: 4, write: true, value: ghcIs });
      if (!(is & PxIS_FATAL)) return undefined;
      const tfd = this.#rawRead(Px.TFD);
      this.stats.vmmErrors++;
      yield* this.#recoverPort(serr);
      if (attempt === VMM_RETRIES) return ataError(is, tfd);
    }
  }

  /**
   * Restarts the port after the VMM's own command halted it, as a driver
   * does (§6.2.2.1): clear ST, wait for CR = 0 (PxCI clears), clear the
   * PxSERR bits that were not the guest's and PxIS, set ST. No guest command
   * is on the hardware (VMM commands run alone); the guest meanwhile reads
   * its own ST/CR, PxTFD, CCS and PxIS, and its PxCMD writes wait.
   */
  *#recoverPort(guestSerr: number): ProcessGenerator<void> {
    this.#vmmRecovering = true;
    this.#rawWrite(Px.CMD, this.#rawRead(Px.CMD) & ~PxCMD_ST);
    while (this.#rawRead(Px.CMD) & PxCMD_CR) {
      yield this.#sim.timeout(this.#vmm.costs.pollInterval);
      this.#timerExit();
    }
    const serr = this.#rawRead(Px.SERR) & ~guestSerr;
    if (serr) this.#rawWrite(Px.SERR, serr);
    this.#rawWrite(Px.IS, 0xffff_ffff);
    this.#rawWrite(Px.CMD, this.#rawRead(Px.CMD) | PxCMD_ST);
    this.#vmmRecovering = false;
  }

  #freeVmmSlot(): number {
    // Only the hardware's slots count: guest commands queued or held for
    // redirection are not on the port (the guest's PxCI is emulated), so a
    // guest with all 32 slots issued still leaves the VMM one.
    const busy = this.#port.hwGuest;
    for (let i = 0; i < SLOTS; i++) {
      const s = (this.#vmmSlot + SLOTS - i) % SLOTS;
      if (!(busy & (1 << s))) return s;
    }
    throw new Error("vmm: no free command slot");
  }

  #notifyQuiet(): void {
    if (this.#quiet !== undefined && this.canDetach()) {
      const q = this.#quiet;
      this.#quiet = undefined;
      q.succeed();
    }
  }

  // ---- raw hardware access ------------------------------------------------------------

  #portAddr(reg: Px): Gpa {
    return this.#abar + PORT_BASE + this.#portIndex * PORT_STRIDE + reg;
  }
  #rawRead(reg: Px): number {
    return this.#bus.raw({ addr: this.#portAddr(reg), size: 4, write: false, value: 0 });
  }
  #rawWrite(reg: Px, value: number): void {
    this.#bus.raw({ addr: this.#portAddr(reg), size: 4, write: true, value: value >>> 0 });
  }
  /** Writes `value` unless the register already holds it. */
  #rawUpdate(reg: Px, value: number): void {
    if (this.#rawRead(reg) !== value >>> 0) this.#rawWrite(reg, value);
  }
  #rawGhc(reg: Ghc): number {
    return this.#bus.raw({ addr: this.#abar + reg, size: 4, write: false, value: 0 });
  }
}

type Handler = (m: AhciMediator, a: MmioAccess, cost: SimTime) => HookResult;
const MEDIATED: readonly Px[] = [
  Px.SCTL,
  Px.CLB,
  Px.CLBU,
  Px.FB,
  Px.FBU,
  Px.IE,
  Px.IS,
  Px.CI,
  Px.SACT,
  Px.CMD,
  Px.TFD,
];
/** Register dispatch tables (BitVisor's mmhandler2, as tables). */
const READ_HANDLERS: Partial<Record<Px, Handler>> = Object.fromEntries(
  MEDIATED.filter((r) => r !== Px.SCTL).map((
    r,
  ) => [r, (m: AhciMediator, _a: MmioAccess, cost: SimTime) => m._readReg(r, cost)]),
);
const WRITE_HANDLERS: Partial<Record<Px, Handler>> = Object.fromEntries(
  MEDIATED.filter((r) => r !== Px.TFD).map((r) => [
    r,
    (m: AhciMediator, a: MmioAccess, cost: SimTime) => m._writeReg(r, a.value, cost),
  ]),
);

/** The ATA error a failed command's PxTFD shows (ABRT for a host bus error or none named). */
function ataError(is: number, tfd: number): AtaError {
  const err = (tfd >>> 8) & 0xff;
  if ((is & PxIS_TFES) === 0 && (is & PxIS_HBFS) !== 0) return "abrt";
  if (err & ATA_ERR_UNC) return "unc";
  if (err & ATA_ERR_IDNF) return "idnf";
  return "abrt";
}

/** The guest's command list and FIS area as full 64-bit addresses. */
function clbOf(p: Port): Gpa {
  return p.guestClb + p.guestClbu * 2 ** 32;
}
function fbOf(p: Port): Gpa {
  return p.guestFb + p.guestFbu * 2 ** 32;
}

/** Low and high 32 bits of a physical address. */
function lo(a: number): number {
  return a % 2 ** 32;
}
function hi(a: number): number {
  return Math.floor(a / 2 ** 32);
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}

/** Runs of `range` not covered by `holes` (both sorted). */
function complement(range: SectorRun, holes: readonly SectorRun[]): SectorRun[] {
  const out: SectorRun[] = [];
  let at = range.lba;
  for (const h of holes) {
    if (h.lba > at) out.push({ lba: at, count: h.lba - at });
    at = h.lba + h.count;
  }
  const end = range.lba + range.count;
  if (end > at) out.push({ lba: at, count: end - at });
  return out;
}

/**
 * Linux's read-ahead window after a sequential read of `size` sectors
 * (mm/readahead.c). The first (`window` 0, get_init_ra_size): the request
 * rounded up to a power of two, x4 if small against `max`, x2 if medium, else
 * `max`. Each next (get_next_ra_size): x4 below max/16, else x2, at most `max`.
 */
function nextWindow(window: number, size: number, max: number): number {
  if (window > 0) return Math.min(max, window < max / 16 ? 4 * window : 2 * window);
  let pow2 = 1;
  while (pow2 < size) pow2 *= 2;
  return pow2 <= max / 32 ? 4 * pow2 : pow2 <= max / 4 ? 2 * pow2 : max;
}
