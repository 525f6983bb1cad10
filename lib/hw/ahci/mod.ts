/**
 * The AHCI host bus adapter (Serial ATA AHCI 1.3.1) at its device interface:
 * the register window (generic host control and per-port registers, with
 * the PxCMD ST/CR and FRE/FR engines as state machines), the in-memory
 * command structures (command list, command tables, PRDTs, received-FIS
 * area) and the FISes exchanged with the disk, with encoders and decoders a
 * driver or a mediator can share. Disks are {@link BlockDevice}s; data
 * buffers carry block versions, not bytes.
 *
 * Errors: a command the device fails (ABRT, IDNF, UNC from the disk, or a
 * malformed command) ends in a task-file error that halts the port, as the
 * spec's ERR:FatalTaskfile and ERR:WaitForClear states do (§5.3.16): PxTFD
 * carries STS.ERR and the error, PxIS.TFES is set (not DHRS/SDBS), and
 * nothing more is fetched or issued until software clears PxCMD.ST, clears
 * PxIS and PxSERR and sets ST again (§6.2.2). A failing non-queued command
 * keeps its PxCI bit and PxCMD.CCS names it (§6.2.2.1). A failing NCQ
 * command is reported by an SDB FIS with ERR that completes nothing: it and
 * every other queued command keep their PxSACT bits (the device aborts
 * them), and the device records the failed tag in its NCQ Command Error log,
 * which READ LOG EXT (2Fh) of log 10h returns and clears (§6.2.2.2, SATA 2.6
 * §13.5.4.1). Until that log is read the device is in its NCQ error state
 * ({@link DeviceState}): it aborts every other command (ABRT, nothing reaches
 * the media) whether software restarted the engine or not; only the log read,
 * a COMRESET or an HBA reset ends it. A host bus error (PxIS.HBFS) halts the
 * port the same way.
 *
 * Deliberately not modelled: the SATA link layer beyond COMRESET and its
 * delay (link power states, port multipliers), ATAPI, PIO and DMA-setup FIS
 * exchanges (IDENTIFY and READ LOG EXT complete with a D2H FIS), command-
 * completion coalescing, and SError bits other than those a COMRESET
 * leaves. The device's abort of its queued commands happens at the error (a
 * real one discards them with an SDB FIS when the log is read, after
 * software's ST clear has already cleared PxSACT).
 * Only log 10h exists (other logs end in ABRT), and the disks themselves
 * report errors only when a test injects them.
 * @module
 */
export { AhciHba, type AhciHbaCounters, type AhciHbaOptions } from "./hba.ts";
export {
  type AhciCompletion,
  type AhciCosts,
  AhciPort,
  type AhciPortCounters,
  ATA_ERROR_BITS,
  type AtaError,
  type DeviceState,
  type EngineState,
  type FisEngineState,
  type LinkState,
} from "./port.ts";
export {
  type AtaCommand,
  type AtaCommandKind,
  type CommandHeader,
  type CommandProblem,
  type D2hFis,
  decodeAtaCommand,
  decodeCommand,
  decodeD2hFis,
  type DecodedCommand,
  decodeH2dFis,
  decodeNcqErrorLog,
  decodeSdbFis,
  encodeAtaCommand,
  encodeD2hFis,
  encodeH2dFis,
  encodeNcqErrorLog,
  encodeSdbFis,
  type H2dFis,
  type NcqErrorLog,
  PRD_MAX_BYTES,
  type PrdEntry,
  readCommandHeader,
  readPrdt,
  readsNcqErrorLog,
  scatterVersions,
  type SdbFis,
  validateCommand,
  writeCommandHeader,
  writePrdbc,
  writePrdt,
} from "./structures.ts";
/**
 * Register offsets, bit masks and structure layouts of AHCI 1.3.1 and the
 * SATA FISes, as one namespace (e.g. `AhciRegs.PxCMD_ST`).
 */
export * as AhciRegs from "./registers.ts";
