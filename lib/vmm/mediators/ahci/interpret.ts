/**
 * I/O interpretation: reads a command the guest issued in slot `slot` out of
 * its command list in guest memory and decodes it into (slot, read/write,
 * LBA, count, buffers), including NCQ. Layouts: AHCI 1.3.1 §4.2.2-4.2.3;
 * opcodes and field placement: ACS-3 §7 (FPDMA QUEUED keeps the sector count
 * in FEATURES and the tag in COUNT 7:3).
 */
import type { Gpa, Lba } from "../../../_util/mod.ts";
import {
  AtaCmd,
  CH_CFL_MASK,
  CH_CTBA,
  CH_CTBAU,
  CH_PRDBC,
  CH_PRDTL_SHIFT,
  CH_W,
  CMD_HEADER_BYTES,
  CT_CFIS,
  CT_PRDT,
  FIS_H2D_C,
  FIS_TYPE_REG_H2D,
  H2D_COMMAND,
  H2D_COUNT,
  H2D_COUNT_EXP,
  H2D_DEVICE,
  H2D_FEATURES,
  H2D_FEATURES_EXP,
  H2D_LBA0,
  type PhysicalMemory,
  PRD_DBA,
  PRD_DBAU,
  PRD_DBC_MASK,
  PRD_DW3,
  PRDT_ENTRY_BYTES,
} from "../../../hw/mod.ts";

/** One PRDT entry: a guest buffer. */
export interface PrdEntry {
  dba: Gpa;
  bytes: number;
}

/** A decoded guest command. */
export interface GuestCommand {
  slot: number;
  kind: "read" | "write" | "other";
  opcode: number;
  lba: Lba;
  count: number;
  ncq: boolean;
  /** Header DW0 W bit (data direction host->device). */
  w: boolean;
  prdt: PrdEntry[];
  /** Address of this slot's command header in the guest's list. */
  headerAddr: Gpa;
}

const READS = new Set<number>([AtaCmd.READ_DMA, AtaCmd.READ_DMA_EXT, AtaCmd.READ_FPDMA_QUEUED]);
const WRITES = new Set<number>([AtaCmd.WRITE_DMA, AtaCmd.WRITE_DMA_EXT, AtaCmd.WRITE_FPDMA_QUEUED]);

/**
 * Decodes slot `slot` of the command list at `clb`. Anything it does not
 * understand is `kind: "other"` and will be passed through to the device,
 * which fails it the way the spec says if it is malformed.
 */
export function interpretCommand(
  mem: PhysicalMemory,
  options: { clb: Gpa; slot: number },
): GuestCommand {
  const headerAddr = options.clb + options.slot * CMD_HEADER_BYTES;
  const dw0 = mem.read(headerAddr, 4);
  const ctba = mem.read(headerAddr + CH_CTBA, 4) + mem.read(headerAddr + CH_CTBAU, 4) * 2 ** 32;
  const cfl = dw0 & CH_CFL_MASK;
  const prdtl = dw0 >>> CH_PRDTL_SHIFT;
  const w = (dw0 & CH_W) !== 0;
  const base = { slot: options.slot, w, headerAddr, prdt: [] as PrdEntry[] };
  if (ctba + CT_PRDT + prdtl * PRDT_ENTRY_BYTES > mem.size || cfl < 5) {
    return { ...base, kind: "other", opcode: -1, lba: 0, count: 0, ncq: false };
  }
  const fis = mem.readBytes(ctba + CT_CFIS, 20);
  const opcode = fis[H2D_COMMAND];
  if (fis[0] !== FIS_TYPE_REG_H2D || (fis[1] & FIS_H2D_C) === 0) {
    return { ...base, kind: "other", opcode, lba: 0, count: 0, ncq: false };
  }
  const ncq = opcode === AtaCmd.READ_FPDMA_QUEUED || opcode === AtaCmd.WRITE_FPDMA_QUEUED;
  const ext = ncq || opcode === AtaCmd.READ_DMA_EXT || opcode === AtaCmd.WRITE_DMA_EXT;
  let lba = fis[H2D_LBA0] + fis[H2D_LBA0 + 1] * 2 ** 8 + fis[H2D_LBA0 + 2] * 2 ** 16;
  let count: number;
  if (ext) {
    lba += fis[H2D_LBA0 + 4] * 2 ** 24 + fis[H2D_LBA0 + 5] * 2 ** 32 + fis[H2D_LBA0 + 6] * 2 ** 40;
    count = ncq
      ? fis[H2D_FEATURES] + fis[H2D_FEATURES_EXP] * 256
      : fis[H2D_COUNT] + fis[H2D_COUNT_EXP] * 256;
    if (count === 0) count = 65536;
  } else {
    lba += (fis[H2D_DEVICE] & 0x0f) * 2 ** 24; // 28-bit: LBA 27:24 in DEVICE 3:0
    count = fis[H2D_COUNT] === 0 ? 256 : fis[H2D_COUNT];
  }
  const prdt: PrdEntry[] = [];
  for (let i = 0; i < prdtl; i++) {
    const e = ctba + CT_PRDT + i * PRDT_ENTRY_BYTES;
    prdt.push({
      dba: mem.read(e + PRD_DBA, 4) + mem.read(e + PRD_DBAU, 4) * 2 ** 32,
      bytes: (mem.read(e + PRD_DW3, 4) & PRD_DBC_MASK) + 1,
    });
  }
  const kind = READS.has(opcode) ? "read" : WRITES.has(opcode) ? "write" : "other";
  return { slot: options.slot, kind, opcode, lba, count, ncq, w, prdt, headerAddr };
}

/**
 * Scatters `versions` (one per 512-byte sector) into the PRDT's buffers, as
 * the HBA's DMA engine would; returns the bytes placed (for PRDBC).
 */
export function scatterVersions(
  mem: PhysicalMemory,
  prdt: readonly PrdEntry[],
  versions: ArrayLike<number>,
): number {
  let k = 0;
  let bytes = 0;
  for (const e of prdt) {
    const n = Math.min(Math.floor(e.bytes / 512), versions.length - k);
    if (n <= 0) break;
    mem.writeVersions(e.dba, Array.prototype.slice.call(versions, k, k + n));
    k += n;
    bytes += n * 512;
  }
  return bytes;
}

/** Writes PRDBC of a command header (bytes transferred). */
export function setPrdbc(mem: PhysicalMemory, headerAddr: Gpa, bytes: number): void {
  mem.write(headerAddr + CH_PRDBC, 4, bytes);
}
