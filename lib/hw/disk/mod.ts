/**
 * Disks behind a SATA port, at the level a storage controller sees them:
 * commands on 512-byte sectors whose content is block versions, taking
 * simulated time. {@link Hdd} is a 7200 rpm hard disk (seek curve, rotation,
 * zoned media rate, sequential streaming, write-back cache, NCQ with optional
 * SPTF reordering); {@link Ssd} is a SATA SSD for what-if studies (latency,
 * internal parallelism, bandwidth). Both report host activity (`isIdle`,
 * `idleSince`, `whenIdle()`: whether a host command is outstanding, and
 * since when not), for callers and tests; the HDD's background destaging
 * waits on the same signal. Deliberately not modelled: bytes of data,
 * cylinder/head geometry, media errors, power states, SSD garbage
 * collection.
 * @module
 */
export {
  type BlockDevice,
  type DiskCommand,
  type DiskResult,
  SECTOR_SIZE,
} from "./block_device.ts";
export { type DiskStats } from "./_common.ts";
export { Hdd, hddIssues, type HddOptions, type HddStats } from "./hdd.ts";
export { Ssd, type SsdOptions } from "./ssd.ts";
