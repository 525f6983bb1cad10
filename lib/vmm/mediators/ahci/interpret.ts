/**
 * I/O interpretation: reads a command the guest issued in slot `slot` out of
 * its command list in guest memory and decodes it into (slot, read/write,
 * LBA, count, buffers), including NCQ. Layouts: AHCI 1.3.1 §4.2.2-4.2.3;
 * opcodes and field placement: ACS-3 §7 (FPDMA QUEUED keeps the sector count
 * in FEATURES and the tag in COUNT 7:3).
 */
import type { Gpa, Lba } from "../../../_util/mod.ts";
import {
  decodeCommand,
  type PhysicalMemory,
  type PrdEntry,
  validateCommand,
} from "../../../hw/mod.ts";

/** A decoded guest command. */
export interface GuestCommand {
  /** Command slot (0-31) the guest issued it in (bit of PxCI, AHCI 1.3.1 §3.3.14). */
  slot: number;
  /** Data transfer direction, or "other" for anything not a decodable read/write. */
  kind: "read" | "write" | "other";
  /** ATA command opcode of the H2D register FIS (-1 when it could not be read). */
  opcode: number;
  /** First sector addressed (28- or 48-bit LBA from the FIS). */
  lba: Lba;
  /** Sectors transferred (for FPDMA QUEUED taken from FEATURES). */
  count: number;
  /** Native command queuing (READ/WRITE FPDMA QUEUED). */
  ncq: boolean;
  /** Header DW0 W bit (data direction host->device). */
  w: boolean;
  /** Physical region descriptor table: the guest's data buffers (AHCI 1.3.1 §4.2.3.3). */
  prdt: PrdEntry[];
  /** The guest's command list the command was read from. */
  clb: Gpa;
}

/**
 * Decodes slot `slot` of the command list at `clb` with the HBA model's own
 * decoders and checks (one reading of the spec for device and mediator).
 * Anything it does not understand, and any command the device would abort
 * (`validateCommand`: a short CFL or PRDT, a wrong NCQ tag...), is
 * `kind: "other"` and is passed through to the device, which fails it the
 * way the spec says: the mediator never completes or marks present what the
 * disk would refuse.
 */
export function interpretCommand(
  mem: PhysicalMemory,
  options: { clb: Gpa; slot: number },
): GuestCommand {
  const clb = options.clb;
  const other = {
    slot: options.slot,
    kind: "other" as const,
    opcode: -1,
    lba: 0,
    count: 0,
    ncq: false,
    w: false,
    prdt: [],
    clb,
  };
  let d;
  try {
    d = decodeCommand(mem, options);
  } catch (e) {
    if (e instanceof RangeError) return other; // structures outside memory: the device will fail it
    throw e;
  }
  const c = d.command;
  // The device's own checks (validateCommand): anything else it fails, so it is passed through.
  const valid = validateCommand(d, { sectors: Infinity })?.error !== "abrt";
  const kind = valid && (c.kind === "read" || c.kind === "write") ? c.kind : "other";
  return {
    slot: options.slot,
    kind,
    opcode: c.opcode,
    lba: c.lba,
    count: c.count,
    ncq: c.ncq,
    w: d.header.write,
    prdt: d.prdt,
    clb,
  };
}
