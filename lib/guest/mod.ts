/**
 * The unmodified guest OS, at the level of its block I/O: a physical page
 * allocator built from the E820 map, an AHCI driver that talks to the HBA
 * only through CPU register accesses and structures in its own memory, and a
 * boot-trace player that runs a boot's I/O as a process with N requests
 * outstanding. It imports no VMM: transparency is a property of the code.
 *
 * Deliberately not modelled: the page cache and block-layer scheduling
 * (requests reach the driver as issued, split at `maxRequestBytes`), error
 * recovery beyond Linux's timeout path (a timed-out command: port stop,
 * COMRESET, retries; a task-file error just fails its request), ATAPI, port
 * multipliers, hot plug and power management.
 * @module
 */
export {
  AhciDriver,
  type AhciDriverCosts,
  type AhciDriverInfo,
  type AhciDriverOptions,
  type AhciDriverStats,
  type BlockRead,
  type BlockWrite,
  type GuestBlockDriver,
  type IoResult,
} from "./ahci_driver.ts";
export {
  type BootOp,
  type BootTraceOptions,
  type BootTraceStats,
  playBootTrace,
} from "./boot_trace.ts";
export { PhysAllocator } from "./phys_alloc.ts";
export {
  NfsClient,
  type NfsClientCosts,
  type NfsClientOptions,
  type NfsClientStats,
  type NfsReadTransport,
  type NfsWriteMode,
  type NfsWriteTransport,
} from "./nfs_client.ts";
