/**
 * The machine at the device interface: sparse physical memory with an E820
 * map, an MMIO bus with trap points, logical CPUs with VMX/EPT state and
 * exit costs, interrupt delivery, and devices (AHCI HBA, disks, NIC,
 * InfiniBand HCA, firmware). It never imports a VMM: virtualization is hooks
 * on the bus and callbacks on CPUs, and de-virtualizing removes them. It does
 * not model instruction execution, caches or bytes of data (content is block
 * versions).
 * @module
 */
export {
  type E820Entry,
  E820Map,
  type E820Type,
  HIGH_MEMORY,
  PhysicalMemory,
  SECTOR_BYTES,
} from "./memory.ts";
export {
  type AccessResult,
  type AccessSize,
  type BusDevice,
  BusOverlapError,
  type HookHandle,
  type HookResult,
  type MmioAccess,
  MmioBus,
  type MmioHook,
} from "./mmio.ts";
export { Cpu, type CpuCosts, EXIT_REASONS, type ExitReason, type VmxState } from "./cpu.ts";
export { InterruptController } from "./interrupts.ts";
export {
  type BlockDevice,
  type DiskCommand,
  type DiskResult,
  type DiskStats,
  Hdd,
  hddIssues,
  type HddOptions,
  type HddStats,
  SECTOR_SIZE,
  Ssd,
  type SsdOptions,
} from "./disk/mod.ts";
export * from "./ahci/registers.ts";
export {
  type AhciCompletion,
  type AhciCosts,
  AhciHba,
  type AhciHbaCounters,
  type AhciHbaOptions,
  AhciPort,
  type AhciPortCounters,
  AhciRegs,
  type AtaCommand,
  type AtaCommandKind,
  type AtaError,
  type CommandHeader,
  type CommandProblem,
  type D2hFis,
  decodeAtaCommand,
  decodeCommand,
  decodeD2hFis,
  type DecodedCommand,
  decodeH2dFis,
  decodeSdbFis,
  type DeviceState,
  encodeAtaCommand,
  encodeD2hFis,
  encodeH2dFis,
  encodeSdbFis,
  type EngineState,
  type FisEngineState,
  type H2dFis,
  type LinkState,
  PRD_MAX_BYTES,
  type PrdEntry,
  readCommandHeader,
  readPrdt,
  scatterVersions,
  type SdbFis,
  validateCommand,
  writeCommandHeader,
  writePrdbc,
  writePrdt,
} from "./ahci/mod.ts";
export { Nic, type NicMessage, type NicOptions, type NicStats } from "./nic/nic.ts";
export { NIC_WINDOW, NicIcr, NicReg, NicStatus } from "./nic/registers.ts";
export {
  type CompletionMode,
  Hca,
  HCA_LATENCY_DEFAULTS,
  HCA_LATENCY_OPTIONS,
  hcaLatencyIssues,
  type HcaLatencyOptions,
  type HcaOptions,
  type HcaStats,
  type IommuOptions,
  type PingPongResult,
  type RdmaLatencyParts,
} from "./hca/hca.ts";
export { UAR_SIZE, UarReg } from "./hca/registers.ts";
export {
  Firmware,
  type FirmwareOptions,
  type FirmwarePhase,
  type FirmwareState,
  type PxeOptions,
  type PxeResult,
} from "./firmware.ts";
