/**
 * The AHCI host bus adapter (Serial ATA AHCI 1.3.1) at its device interface:
 * the register window (generic host control and per-port registers, with
 * the PxCMD ST/CR and FRE/FR engines as state machines), the in-memory
 * command structures (command list, command tables, PRDTs, received-FIS
 * area) and the FISes exchanged with the disk, with encoders and decoders a
 * driver or a mediator can share. Disks are {@link BlockDevice}s; data
 * buffers carry block versions, not bytes.
 *
 * Deliberately not modelled: the SATA link layer (COMRESET, PxSCTL.DET, link
 * power states, port multipliers), ATAPI, PIO and DMA-setup FIS exchanges,
 * command-completion coalescing, SError bits, and the halt of command
 * processing after a task-file error (§6.2.2): a failing command completes
 * with a task-file error and the port keeps running.
 * @module
 */
export { AHCI_VS, AhciHba, type AhciHbaCounters, type AhciHbaOptions } from "./hba.ts";
export {
  type AhciCompletion,
  type AhciCosts,
  AhciPort,
  type AhciPortCounters,
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
  decodeSdbFis,
  encodeAtaCommand,
  encodeD2hFis,
  encodeH2dFis,
  encodeSdbFis,
  type H2dFis,
  PRD_MAX_BYTES,
  type PrdEntry,
  readCommandHeader,
  readPrdt,
  REG_FIS_BYTES,
  scatterVersions,
  SDB_FIS_BYTES,
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
