/**
 * Encoders and decoders of the AHCI in-memory structures (AHCI 1.3.1 §4.2)
 * and the SATA FISes (SATA 3.x §10.3) over {@link PhysicalMemory}, plus the
 * ATA command decoder (ACS-3) shared by the HBA model and by anything that
 * interprets guest commands (a VMM mediator). Pure functions; no state.
 */
import type { Gpa } from "../../_util/mod.ts";
import type { PhysicalMemory } from "../memory.ts";
import {
  AtaCmd,
  CH_A,
  CH_C,
  CH_CFL_MASK,
  CH_CTBA,
  CH_CTBAU,
  CH_DW0,
  CH_P,
  CH_PRDBC,
  CH_PRDTL_SHIFT,
  CH_W,
  CMD_HEADER_BYTES,
  CT_CFIS,
  CT_PRDT,
  DEVICE_LBA,
  FIS_H2D_C,
  FIS_I,
  FIS_TYPE_REG_D2H,
  FIS_TYPE_REG_H2D,
  FIS_TYPE_SET_DEVICE_BITS,
  H2D_COMMAND,
  H2D_COUNT,
  H2D_COUNT_EXP,
  H2D_DEVICE,
  H2D_FEATURES,
  H2D_FEATURES_EXP,
  H2D_LBA0,
  H2D_LBA1,
  H2D_LBA2,
  H2D_LBA3,
  H2D_LBA4,
  H2D_LBA5,
  LOG_NCQ_COMMAND_ERROR,
  NCQ_LOG_NQ,
  PRD_DBA,
  PRD_DBAU,
  PRD_DBC_MASK,
  PRD_DW3,
  PRD_I,
  PRDT_ENTRY_BYTES,
} from "./registers.ts";

const U32 = 2 ** 32;
/** Bytes of an H2D or D2H register FIS (5 DWORDs). */
const REG_FIS_BYTES = 20;
/** Bytes of a Set Device Bits FIS (2 DWORDs). */
const SDB_FIS_BYTES = 8;
/** Largest byte count one PRD entry describes (DBC is 22 bits, §4.2.3.3). */
export const PRD_MAX_BYTES: number = PRD_DBC_MASK + 1;

/** A command header as stored in the command list (§4.2.2). */
export interface CommandHeader {
  /** Command FIS Length in DWORDs (valid: 2..16). */
  cfl: number;
  /** A: ATAPI command. */
  atapi: boolean;
  /** W: data flows host to device. */
  write: boolean;
  /** P: prefetchable. */
  prefetch: boolean;
  /** C: clear busy upon R_OK. */
  clearBusy: boolean;
  /** PRDTL: entries in the PRD table. */
  prdtl: number;
  /** PRDBC: bytes transferred (written by the HBA). */
  prdbc: number;
  /** CTBA/CTBAU: command table base address (128-byte aligned). */
  ctba: Gpa;
}

/** One PRD entry (§4.2.3.3): data base address, byte count, interrupt bit. */
export interface PrdEntry {
  /** DBA/DBAU: guest-physical address of the data buffer (word aligned). */
  dba: Gpa;
  /** Bytes described (DBC + 1). */
  bytes: number;
  /** I: interrupt on completion of this entry. */
  interrupt: boolean;
}

/** A Register Host-to-Device FIS (SATA §10.3.4), fields as raw values. */
export interface H2dFis {
  /** FIS type byte (0x27 for a well-formed one). */
  type: number;
  /** C bit: the FIS carries a command (else device control). */
  c: boolean;
  /** COMMAND (byte 2): the ATA opcode. */
  command: number;
  /** FEATURES 15:0 (7:0 in byte 3, 15:8 in byte 11). */
  features: number;
  /** LBA 47:0 (bytes 4-6, 8-10). */
  lba: number;
  /** DEVICE (byte 7): bit 6 LBA mode; bit 7 FUA for FPDMA commands. */
  device: number;
  /** COUNT 15:0 (7:0 in byte 12, 15:8 in byte 13). */
  count: number;
}

/** A Register Device-to-Host FIS (SATA §10.3.5). */
export interface D2hFis {
  /** FIS type byte (0x34 for a well-formed one). */
  type: number;
  /** I bit: the device requests an interrupt. */
  interrupt: boolean;
  /** ATA Status register (byte 2), e.g. DRDY, ERR; copied into PxTFD.STS. */
  status: number;
  /** ATA Error register (byte 3), e.g. ABRT, IDNF; copied into PxTFD.ERR. */
  error: number;
}

/** A Set Device Bits FIS (SATA §10.3.9): NCQ completion. */
export interface SdbFis {
  /** FIS type byte (0xa1 for a well-formed one). */
  type: number;
  /** I bit: the device requests an interrupt. */
  interrupt: boolean;
  /** Status bits 6:4 and 2:0. */
  status: number;
  /** ATA Error register (byte 3). */
  error: number;
  /** SActive bits the device completes (DW1). */
  sactive: number;
}

/**
 * What a command does, as the HBA and a mediator need it ("log": READ LOG
 * EXT, which reads a device log such as the NCQ Command Error log).
 */
export type AtaCommandKind = "read" | "write" | "identify" | "flush" | "log" | "unknown";

/** A decoded ATA command. */
export interface AtaCommand {
  /** What the command does, as the HBA model handles it. */
  kind: AtaCommandKind;
  /** Raw ATA opcode from the FIS COMMAND byte. */
  opcode: number;
  /** Starting LBA (0 for commands without one; READ LOG EXT: log address 7:0, page 15:8). */
  lba: number;
  /** Sectors transferred (IDENTIFY: 1; READ LOG EXT: pages; FLUSH and unknown: 0). */
  count: number;
  /** First-party DMA queued (NCQ). */
  ncq: boolean;
  /** NCQ tag (COUNT bits 7:3). */
  tag?: number;
  /** Forced unit access: NCQ's DEVICE bit 7, or WRITE DMA FUA EXT. */
  fua?: boolean;
  /** LBA48 addressing. */
  lba48: boolean;
}

/**
 * Reads the command header of `slot` in the command list at `clb`.
 * @param mem physical memory.
 * @param at command list base and slot.
 * @returns the header fields.
 * @example
 * ```ts
 * import { PhysicalMemory } from "../memory.ts";
 * import { readCommandHeader, writeCommandHeader } from "./structures.ts";
 * const mem = new PhysicalMemory({ size: 1 << 20 });
 * writeCommandHeader(mem, { clb: 0x1000, slot: 3 }, { cfl: 5, write: true, prdtl: 2, ctba: 0x2000 });
 * const h = readCommandHeader(mem, { clb: 0x1000, slot: 3 });
 * console.assert(h.cfl === 5 && h.write && h.prdtl === 2 && h.ctba === 0x2000);
 * ```
 */
export function readCommandHeader(
  mem: PhysicalMemory,
  at: { clb: Gpa; slot: number },
): CommandHeader {
  const base = at.clb + at.slot * CMD_HEADER_BYTES;
  const dw0 = mem.read(base + CH_DW0, 4);
  return {
    cfl: dw0 & CH_CFL_MASK,
    atapi: (dw0 & CH_A) !== 0,
    write: (dw0 & CH_W) !== 0,
    prefetch: (dw0 & CH_P) !== 0,
    clearBusy: (dw0 & CH_C) !== 0,
    prdtl: dw0 >>> CH_PRDTL_SHIFT,
    prdbc: mem.read(base + CH_PRDBC, 4),
    // CTBA bits 6:0 are reserved (128-byte alignment, §4.2.2 DW2).
    ctba: ((mem.read(base + CH_CTBA, 4) & ~0x7f) >>> 0) + mem.read(base + CH_CTBAU, 4) * U32,
  };
}

/**
 * Writes the command header of `slot` (what a driver does before issuing).
 * @param mem physical memory.
 * @param at command list base and slot.
 * @param h header fields; omitted flags are false, PRDBC 0.
 * @example
 * ```ts
 * import { PhysicalMemory } from "../memory.ts";
 * import { writeCommandHeader } from "./structures.ts";
 * const mem = new PhysicalMemory({ size: 1 << 20 });
 * writeCommandHeader(mem, { clb: 0x1000, slot: 0 }, { cfl: 5, prdtl: 1, ctba: 0x2000 });
 * console.assert(mem.read(0x1000, 4) === (1 << 16 | 5));
 * ```
 */
export function writeCommandHeader(
  mem: PhysicalMemory,
  at: { clb: Gpa; slot: number },
  h: Partial<CommandHeader> & { cfl: number; prdtl: number; ctba: Gpa },
): void {
  const base = at.clb + at.slot * CMD_HEADER_BYTES;
  const dw0 = (h.cfl & CH_CFL_MASK) | (h.atapi ? CH_A : 0) | (h.write ? CH_W : 0) |
    (h.prefetch ? CH_P : 0) | (h.clearBusy ? CH_C : 0) | ((h.prdtl & 0xffff) << CH_PRDTL_SHIFT);
  mem.write(base + CH_DW0, 4, dw0 >>> 0);
  mem.write(base + CH_PRDBC, 4, h.prdbc ?? 0);
  mem.write(base + CH_CTBA, 4, h.ctba % U32);
  mem.write(base + CH_CTBAU, 4, Math.floor(h.ctba / U32));
  mem.write(base + 0x10, 8, 0); // DW4-7 reserved
  mem.write(base + 0x18, 8, 0);
}

/**
 * DMA of data into a PRDT's buffers, as the HBA does for a read: sector i of
 * `versions` goes to the buffer holding byte i*512 of the transfer. Entries
 * hold whole sectors (a partial one takes only its whole sectors). Returns the
 * bytes placed (what PRDBC reports).
 * @example
 * ```ts
 * import { PhysicalMemory } from "../memory.ts";
 * import { scatterVersions } from "./structures.ts";
 * const mem = new PhysicalMemory({ size: 1 << 20 });
 * const placed = scatterVersions(mem, [{ dba: 0x1000, bytes: 512 }, { dba: 0x8000, bytes: 1024 }], Int32Array.of(7, 8, 9));
 * console.assert(placed === 1536 && mem.readVersions(0x8000, 2).join() === "8,9");
 * ```
 */
export function scatterVersions(
  mem: PhysicalMemory,
  prdt: readonly { dba: Gpa; bytes: number }[],
  versions: Int32Array,
): number {
  let k = 0;
  for (const p of prdt) {
    if (k >= versions.length) break;
    const n = Math.min(Math.floor(p.bytes / 512), versions.length - k);
    mem.writeVersions(p.dba, versions.subarray(k, k + n));
    k += n;
  }
  return k * 512;
}

/**
 * Updates PRDBC of `slot` (the HBA reporting bytes transferred).
 * @example
 * ```ts
 * import { PhysicalMemory } from "../memory.ts";
 * import { readCommandHeader, writePrdbc } from "./structures.ts";
 * const mem = new PhysicalMemory({ size: 1 << 20 });
 * writePrdbc(mem, { clb: 0x400, slot: 1 }, 4096);
 * console.assert(readCommandHeader(mem, { clb: 0x400, slot: 1 }).prdbc === 4096);
 * ```
 */
export function writePrdbc(
  mem: PhysicalMemory,
  at: { clb: Gpa; slot: number },
  bytes: number,
): void {
  mem.write(at.clb + at.slot * CMD_HEADER_BYTES + CH_PRDBC, 4, bytes);
}

/**
 * Reads `count` PRD entries of the command table at `ctba`.
 * @example
 * ```ts
 * import { PhysicalMemory } from "../memory.ts";
 * import { readPrdt, writePrdt } from "./structures.ts";
 * const mem = new PhysicalMemory({ size: 1 << 20 });
 * writePrdt(mem, 0x2000, [{ dba: 0x8000, bytes: 4096, interrupt: true }]);
 * console.assert(readPrdt(mem, 0x2000, 1)[0].bytes === 4096);
 * ```
 */
export function readPrdt(mem: PhysicalMemory, ctba: Gpa, count: number): PrdEntry[] {
  const out: PrdEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = ctba + CT_PRDT + i * PRDT_ENTRY_BYTES;
    const dw3 = mem.read(e + PRD_DW3, 4);
    out.push({
      // DBA bit 0 is reserved (word alignment, §4.2.3.3).
      dba: ((mem.read(e + PRD_DBA, 4) & ~1) >>> 0) + mem.read(e + PRD_DBAU, 4) * U32,
      bytes: (dw3 & PRD_DBC_MASK) + 1,
      interrupt: (dw3 & PRD_I) !== 0,
    });
  }
  return out;
}

/**
 * Writes PRD entries into the command table at `ctba`.
 * @throws RangeError when an entry's byte count is outside [1, 4 MiB].
 * @example
 * ```ts
 * import { PhysicalMemory } from "../memory.ts";
 * import { writePrdt } from "./structures.ts";
 * const mem = new PhysicalMemory({ size: 1 << 20 });
 * writePrdt(mem, 0x2000, [{ dba: 0x8000, bytes: 512, interrupt: false }]);
 * console.assert(mem.read(0x2000 + 0x80 + 12, 4) === 511);
 * ```
 */
export function writePrdt(mem: PhysicalMemory, ctba: Gpa, entries: readonly PrdEntry[]): void {
  entries.forEach((p, i) => {
    if (!(p.bytes >= 1 && p.bytes <= PRD_MAX_BYTES && Number.isInteger(p.bytes))) {
      throw new RangeError(
        `Cannot write PRD entry ${i}: 'bytes' must be an integer in [1, ${PRD_MAX_BYTES}]: current value is ${p.bytes}`,
      );
    }
    const e = ctba + CT_PRDT + i * PRDT_ENTRY_BYTES;
    mem.write(e + PRD_DBA, 4, p.dba % U32);
    mem.write(e + PRD_DBAU, 4, Math.floor(p.dba / U32));
    mem.write(e + 8, 4, 0);
    mem.write(e + PRD_DW3, 4, ((p.bytes - 1) | (p.interrupt ? PRD_I : 0)) >>> 0);
  });
}

/**
 * Encodes an H2D register FIS into its 20 bytes.
 * @example
 * ```ts
 * import { encodeH2dFis } from "./structures.ts";
 * const b = encodeH2dFis({ command: 0x25, lba: 0x123456789a, count: 8 });
 * console.assert(b[0] === 0x27 && b[1] === 0x80 && b[2] === 0x25 && b[4] === 0x9a && b[5] === 0x78 && b[8] === 0x34 && b[12] === 8);
 * ```
 */
export function encodeH2dFis(fis: Partial<H2dFis> & { command: number }): Uint8Array {
  const b = new Uint8Array(REG_FIS_BYTES);
  const lba = fis.lba ?? 0;
  const features = fis.features ?? 0;
  const count = fis.count ?? 0;
  b[0] = fis.type ?? FIS_TYPE_REG_H2D;
  b[1] = (fis.c ?? true) ? FIS_H2D_C : 0;
  b[H2D_COMMAND] = fis.command;
  b[H2D_FEATURES] = features & 0xff;
  b[H2D_LBA0] = lba & 0xff;
  b[H2D_LBA1] = Math.floor(lba / 0x100) & 0xff;
  b[H2D_LBA2] = Math.floor(lba / 0x1_0000) & 0xff;
  b[H2D_DEVICE] = fis.device ?? DEVICE_LBA;
  b[H2D_LBA3] = Math.floor(lba / 0x100_0000) & 0xff;
  b[H2D_LBA4] = Math.floor(lba / U32) & 0xff;
  b[H2D_LBA5] = Math.floor(lba / 0x100_0000_0000) & 0xff;
  b[H2D_FEATURES_EXP] = (features >> 8) & 0xff;
  b[H2D_COUNT] = count & 0xff;
  b[H2D_COUNT_EXP] = (count >> 8) & 0xff;
  return b;
}

/**
 * Decodes the raw fields of an H2D register FIS from its bytes.
 * @example
 * ```ts
 * import { decodeH2dFis, encodeH2dFis } from "./structures.ts";
 * const f = decodeH2dFis(encodeH2dFis({ command: 0x60, features: 0x100, count: 5 << 3, lba: 77 }));
 * console.assert(f.command === 0x60 && f.features === 0x100 && f.count === 40 && f.lba === 77);
 * ```
 */
export function decodeH2dFis(b: Uint8Array): H2dFis {
  return {
    type: b[0],
    c: (b[1] & FIS_H2D_C) !== 0,
    command: b[H2D_COMMAND],
    features: b[H2D_FEATURES] | (b[H2D_FEATURES_EXP] << 8),
    lba: b[H2D_LBA0] + b[H2D_LBA1] * 0x100 + b[H2D_LBA2] * 0x1_0000 +
      b[H2D_LBA3] * 0x100_0000 + b[H2D_LBA4] * U32 + b[H2D_LBA5] * 0x100_0000_0000,
    device: b[H2D_DEVICE],
    count: b[H2D_COUNT] | (b[H2D_COUNT_EXP] << 8),
  };
}

/**
 * Encodes a D2H register FIS (status in byte 2, error in byte 3).
 * @example
 * ```ts
 * import { decodeD2hFis, encodeD2hFis } from "./structures.ts";
 * const f = decodeD2hFis(encodeD2hFis({ status: 0x41, error: 0x04, interrupt: true }));
 * console.assert(f.type === 0x34 && f.interrupt && f.status === 0x41 && f.error === 4);
 * ```
 */
export function encodeD2hFis(f: { status: number; error: number; interrupt: boolean }): Uint8Array {
  const b = new Uint8Array(REG_FIS_BYTES);
  b[0] = FIS_TYPE_REG_D2H;
  b[1] = f.interrupt ? FIS_I : 0;
  b[2] = f.status;
  b[3] = f.error;
  return b;
}

/**
 * Decodes a D2H register FIS.
 * @example
 * ```ts
 * import { decodeD2hFis } from "./structures.ts";
 * console.assert(decodeD2hFis(new Uint8Array([0x34, 0x40, 0x50, 0])).status === 0x50);
 * ```
 */
export function decodeD2hFis(b: Uint8Array): D2hFis {
  return { type: b[0], interrupt: (b[1] & FIS_I) !== 0, status: b[2], error: b[3] };
}

/**
 * Encodes a Set Device Bits FIS: status low/high nibbles in byte 2 (bits 6:4
 * and 2:0), error in byte 3, SActive in DW1 (SATA §10.3.9).
 * @example
 * ```ts
 * import { decodeSdbFis, encodeSdbFis } from "./structures.ts";
 * const f = decodeSdbFis(encodeSdbFis({ status: 0x40, error: 0, interrupt: true, sactive: 1 << 31 }));
 * console.assert(f.type === 0xa1 && f.sactive === 2 ** 31 && f.status === 0x40);
 * ```
 */
export function encodeSdbFis(
  f: { status: number; error: number; interrupt: boolean; sactive: number },
): Uint8Array {
  const b = new Uint8Array(SDB_FIS_BYTES);
  b[0] = FIS_TYPE_SET_DEVICE_BITS;
  b[1] = f.interrupt ? FIS_I : 0;
  b[2] = f.status & 0x77;
  b[3] = f.error;
  new DataView(b.buffer).setUint32(4, f.sactive >>> 0, true);
  return b;
}

/**
 * Decodes a Set Device Bits FIS.
 * @example
 * ```ts
 * import { decodeSdbFis } from "./structures.ts";
 * console.assert(decodeSdbFis(new Uint8Array([0xa1, 0x40, 0x40, 0, 4, 0, 0, 0])).sactive === 4);
 * ```
 */
export function decodeSdbFis(b: Uint8Array): SdbFis {
  return {
    type: b[0],
    interrupt: (b[1] & FIS_I) !== 0,
    status: b[2] & 0x77,
    error: b[3],
    sactive: new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4, true),
  };
}

const READS = new Set<number>([AtaCmd.READ_DMA, AtaCmd.READ_DMA_EXT, AtaCmd.READ_FPDMA_QUEUED]);
const LBA48 = new Set<number>([
  AtaCmd.READ_DMA_EXT,
  AtaCmd.WRITE_DMA_EXT,
  AtaCmd.WRITE_DMA_FUA_EXT,
  AtaCmd.READ_FPDMA_QUEUED,
  AtaCmd.WRITE_FPDMA_QUEUED,
]);

/** Decoders by opcode (ACS-3 §7): dispatch from a table. */
const ATA_DECODERS: Record<number, (f: H2dFis) => Omit<AtaCommand, "opcode">> = {
  // 28-bit DMA: LBA 27:24 in DEVICE 3:0; COUNT 0 means 256 (ACS-3 §7.22, §7.58).
  [AtaCmd.READ_DMA]: (f) => dma28(f),
  [AtaCmd.WRITE_DMA]: (f) => dma28(f),
  // 48-bit DMA EXT: COUNT 0 means 65536 (ACS-3 §7.23, §7.59).
  [AtaCmd.READ_DMA_EXT]: (f) => dma48(f),
  [AtaCmd.WRITE_DMA_EXT]: (f) => dma48(f),
  // WRITE DMA FUA EXT (3Dh): DMA EXT whose data reaches the medium before it completes (ACS-3).
  [AtaCmd.WRITE_DMA_FUA_EXT]: (f) => ({ ...dma48(f), fua: true }),
  // FPDMA QUEUED: count in FEATURES, tag in COUNT 7:3, FUA in DEVICE 7 (ACS-3 §7.26, §7.62).
  [AtaCmd.READ_FPDMA_QUEUED]: (f) => fpdma(f),
  [AtaCmd.WRITE_FPDMA_QUEUED]: (f) => fpdma(f),
  [AtaCmd.IDENTIFY_DEVICE]: () => ({
    kind: "identify",
    lba: 0,
    count: 1,
    ncq: false,
    lba48: false,
  }),
  [AtaCmd.FLUSH_CACHE]: () => ({ kind: "flush", lba: 0, count: 0, ncq: false, lba48: false }),
  [AtaCmd.FLUSH_CACHE_EXT]: () => ({ kind: "flush", lba: 0, count: 0, ncq: false, lba48: true }),
  // READ LOG EXT: log address in LBA 7:0, page in LBA 15:8, pages in COUNT (ACS-3 READ LOG EXT).
  [AtaCmd.READ_LOG_EXT]: (f) => ({
    kind: "log",
    lba: f.lba % 0x1_0000,
    count: f.count,
    ncq: false,
    lba48: true,
  }),
};

function dataKind(f: H2dFis): AtaCommandKind {
  return READS.has(f.command) ? "read" : "write";
}

function dma28(f: H2dFis): Omit<AtaCommand, "opcode"> {
  const lba = (f.lba % 0x100_0000) + (f.device & 0x0f) * 0x100_0000;
  return { kind: dataKind(f), lba, count: (f.count & 0xff) || 256, ncq: false, lba48: false };
}

function dma48(f: H2dFis): Omit<AtaCommand, "opcode"> {
  return { kind: dataKind(f), lba: f.lba, count: f.count || 65536, ncq: false, lba48: true };
}

function fpdma(f: H2dFis): Omit<AtaCommand, "opcode"> {
  return {
    kind: dataKind(f),
    lba: f.lba,
    count: f.features || 65536,
    ncq: true,
    tag: (f.count >> 3) & 0x1f,
    fua: (f.device & 0x80) !== 0,
    lba48: LBA48.has(f.command),
  };
}

/**
 * Interprets an H2D FIS as an ATA command.
 * @param fis decoded raw fields.
 * @returns the typed command; kind "unknown" for opcodes not modelled.
 * @example
 * ```ts
 * import { decodeAtaCommand } from "./structures.ts";
 * const c = decodeAtaCommand({ type: 0x27, c: true, command: 0xc8, features: 0, lba: 0x10, device: 0x4a, count: 0 });
 * console.assert(c.kind === "read" && c.lba === 0xa00_0010 && c.count === 256 && !c.ncq);
 * ```
 */
export function decodeAtaCommand(fis: H2dFis): AtaCommand {
  const dec = ATA_DECODERS[fis.command];
  if (dec === undefined) {
    return { kind: "unknown", opcode: fis.command, lba: 0, count: 0, ncq: false, lba48: false };
  }
  return { opcode: fis.command, ...dec(fis) };
}

/**
 * Builds the H2D FIS for a command (the inverse of {@link decodeAtaCommand}):
 * NCQ uses FPDMA QUEUED, `lba48: false` uses READ/WRITE DMA, else DMA EXT
 * (a write with `fua`: WRITE DMA FUA EXT; `fua` otherwise needs NCQ);
 * "log" is READ LOG EXT of log address `lba` (7:0, page in 15:8), `count`
 * pages (at least 1).
 * @throws RangeError when the LBA or count does not fit the chosen form.
 * @example
 * ```ts
 * import { decodeAtaCommand, encodeAtaCommand } from "./structures.ts";
 * const f = encodeAtaCommand({ kind: "write", lba: 1000, count: 65536, ncq: true, tag: 7 });
 * const c = decodeAtaCommand(f);
 * console.assert(c.kind === "write" && c.count === 65536 && c.tag === 7 && c.lba === 1000);
 * ```
 */
export function encodeAtaCommand(
  cmd: {
    kind: "read" | "write" | "identify" | "flush" | "log";
    lba?: number;
    count?: number;
    ncq?: boolean;
    tag?: number;
    fua?: boolean;
    lba48?: boolean;
  },
): H2dFis {
  const { kind, lba = 0, count = 0, ncq = false, tag = 0, fua = false, lba48 = true } = cmd;
  const base = {
    type: FIS_TYPE_REG_H2D,
    c: true,
    features: 0,
    lba: 0,
    device: DEVICE_LBA,
    count: 0,
  };
  if (kind === "identify") return { ...base, command: AtaCmd.IDENTIFY_DEVICE, device: 0 };
  if (kind === "flush") {
    return { ...base, command: lba48 ? AtaCmd.FLUSH_CACHE_EXT : AtaCmd.FLUSH_CACHE };
  }
  if (kind === "log") {
    return { ...base, command: AtaCmd.READ_LOG_EXT, lba: lba % 0x1_0000, count: count || 1 };
  }
  const read = kind === "read";
  const maxLba = ncq || lba48 ? 2 ** 48 : 2 ** 28;
  const maxCount = ncq || lba48 ? 65536 : 256;
  if (!(Number.isInteger(lba) && lba >= 0 && lba < maxLba)) {
    throw new RangeError(
      `Cannot encode ATA command: 'lba' must be an integer in [0, ${maxLba}): current value is ${lba}`,
    );
  }
  if (!(Number.isInteger(count) && count >= 1 && count <= maxCount)) {
    throw new RangeError(
      `Cannot encode ATA command: 'count' must be an integer in [1, ${maxCount}]: current value is ${count}`,
    );
  }
  if (ncq) {
    if (!(Number.isInteger(tag) && tag >= 0 && tag < 32)) {
      throw new RangeError(
        `Cannot encode ATA command: 'tag' must be an integer in [0, 31]: current value is ${tag}`,
      );
    }
    return {
      ...base,
      command: read ? AtaCmd.READ_FPDMA_QUEUED : AtaCmd.WRITE_FPDMA_QUEUED,
      features: count % 65536,
      lba,
      device: DEVICE_LBA | (fua ? 0x80 : 0),
      count: tag << 3,
    };
  }
  if (fua && (read || !lba48)) {
    // Only NCQ, or WRITE DMA FUA EXT, carries FUA: no non-queued read or 28-bit write does.
    throw new RangeError(
      "Cannot encode ATA command: 'fua' needs 'ncq', or a write with 'lba48': current value is true",
    );
  }
  if (!lba48) {
    return {
      ...base,
      command: read ? AtaCmd.READ_DMA : AtaCmd.WRITE_DMA,
      lba: lba % 0x100_0000,
      device: DEVICE_LBA | Math.floor(lba / 0x100_0000),
      count: count % 256,
    };
  }
  return {
    ...base,
    command: read ? AtaCmd.READ_DMA_EXT : fua ? AtaCmd.WRITE_DMA_FUA_EXT : AtaCmd.WRITE_DMA_EXT,
    lba,
    count: count % 65536,
  };
}

/** Everything an issued slot says, read from guest memory. */
export interface DecodedCommand {
  /** Command slot (0..31) the command was issued in. */
  slot: number;
  /** The slot's command header from the command list. */
  header: CommandHeader;
  /** Raw H2D fields of the command FIS at CTBA + 0x00. */
  fis: H2dFis;
  /** The ATA command the FIS encodes. */
  command: AtaCommand;
  /** PRDT entries (PRDTL of them) at CTBA + 0x80. */
  prdt: PrdEntry[];
  /** Sum of the PRD byte counts. */
  prdBytes: number;
}

/**
 * Reads and decodes the command in `slot` of the command list at `clb`:
 * header, command FIS, ATA command and PRDT. Does not judge validity (see
 * {@link validateCommand}).
 * @throws RangeError when a structure lies outside memory.
 * @example
 * ```ts
 * import { PhysicalMemory } from "../memory.ts";
 * import { decodeCommand, encodeAtaCommand, encodeH2dFis, writeCommandHeader, writePrdt } from "./structures.ts";
 * const mem = new PhysicalMemory({ size: 1 << 20 });
 * writeCommandHeader(mem, { clb: 0x1000, slot: 2 }, { cfl: 5, prdtl: 1, ctba: 0x2000 });
 * mem.writeBytes(0x2000, encodeH2dFis(encodeAtaCommand({ kind: "read", lba: 64, count: 8 })));
 * writePrdt(mem, 0x2000, [{ dba: 0x10000, bytes: 4096, interrupt: false }]);
 * const d = decodeCommand(mem, { clb: 0x1000, slot: 2 });
 * console.assert(d.command.kind === "read" && d.command.lba === 64 && d.prdt[0].dba === 0x10000);
 * ```
 */
export function decodeCommand(
  mem: PhysicalMemory,
  at: { clb: Gpa; slot: number },
): DecodedCommand {
  const header = readCommandHeader(mem, at);
  const fis = decodeH2dFis(mem.readBytes(header.ctba + CT_CFIS, REG_FIS_BYTES));
  const prdt = readPrdt(mem, header.ctba, header.prdtl);
  let prdBytes = 0;
  for (const p of prdt) prdBytes += p.bytes;
  return { slot: at.slot, header, fis, command: decodeAtaCommand(fis), prdt, prdBytes };
}

/** Why a command is rejected, with the ATA error it ends in. */
export interface CommandProblem {
  /** ATA error the command completes with: ABRT (aborted) or IDNF (LBA out of range). */
  error: "abrt" | "idnf";
  /**
   * The check that failed: FIS type not 0x27, C bit clear, CFL outside
   * 5..16, unknown opcode, no PRDT for a data command, PRDT shorter than the
   * data, a PRD not a whole number of sectors, LBA range beyond the disk, or
   * NCQ tag different from the slot.
   */
  reason:
    | "fis-type"
    | "not-command"
    | "cfl"
    | "opcode"
    | "no-prdt"
    | "prd-short"
    | "prd-granularity"
    | "lba-range"
    | "ncq-tag";
}

/**
 * Checks a decoded command the way the HBA and the device would: FIS type
 * 0x27 with C set, CFL in 5..16 DWORDs (§4.2.2 allows 2..16; a Register
 * FIS is 5 DWORDs, SATA 3.x §10.3.4, and a shorter one reaches the device
 * cut off), a known opcode, a PRDT
 * covering the data, tag = slot for NCQ (§8.3.1), and the LBA range (IDNF).
 * Buffers carry versions per 512-byte unit, so every PRD entry of a data
 * command must be a whole number of sectors (a model limit, not ATA's).
 * @param d the decoded command.
 * @param disk capacity in sectors.
 * @returns undefined when valid, else the problem.
 * @example
 * ```ts
 * import { validateCommand } from "./structures.ts";
 * const d = { slot: 0, header: { cfl: 1, atapi: false, write: false, prefetch: false, clearBusy: false, prdtl: 0, prdbc: 0, ctba: 0 },
 *   fis: { type: 0x27, c: true, command: 0xe7, features: 0, lba: 0, device: 0, count: 0 },
 *   command: { kind: "flush" as const, opcode: 0xe7, lba: 0, count: 0, ncq: false, lba48: false }, prdt: [], prdBytes: 0 };
 * console.assert(validateCommand(d, { sectors: 100 })?.reason === "cfl");
 * ```
 */
export function validateCommand(
  d: DecodedCommand,
  disk: { sectors: number },
): CommandProblem | undefined {
  const { header, fis, command } = d;
  if (fis.type !== FIS_TYPE_REG_H2D) return { error: "abrt", reason: "fis-type" };
  if (!fis.c) return { error: "abrt", reason: "not-command" };
  if (header.cfl * 4 < REG_FIS_BYTES || header.cfl > 16) return { error: "abrt", reason: "cfl" };
  if (command.kind === "unknown") return { error: "abrt", reason: "opcode" };
  if (command.ncq && command.tag !== d.slot) return { error: "abrt", reason: "ncq-tag" };
  const bytes = command.count * 512;
  if (bytes > 0) {
    if (header.prdtl === 0) return { error: "abrt", reason: "no-prdt" };
    if (d.prdBytes < bytes) return { error: "abrt", reason: "prd-short" };
    if (
      command.kind !== "identify" && command.kind !== "log" &&
      d.prdt.some((p) => p.bytes % 512 !== 0)
    ) {
      return { error: "abrt", reason: "prd-granularity" };
    }
  }
  if (
    (command.kind === "read" || command.kind === "write") &&
    command.lba + command.count > disk.sectors
  ) return { error: "idnf", reason: "lba-range" };
  return undefined;
}

/** The NCQ Command Error log (log address 10h), as a device reports its last queued-command error. */
export interface NcqErrorLog {
  /** NQ: the last error was not of a queued command, or there was none (`tag` means nothing). */
  nq: boolean;
  /** NCQ tag of the command that failed. */
  tag: number;
  /** ATA Status of the failed command (ERR set). */
  status: number;
  /** ATA Error of the failed command (ABRT, IDNF, UNC...). */
  error: number;
  /** LBA of the failed command. */
  lba: number;
  /** Sector count of the failed command. */
  count: number;
}

/**
 * Whether an ATA command reads the NCQ Command Error log: READ LOG EXT (2Fh)
 * of log address 10h, page 0, at least one sector. It is the one command a
 * device in its NCQ error state takes (SATA 2.6 §13.5.4.1).
 * @example
 * ```ts
 * import { readsNcqErrorLog } from "./structures.ts";
 * console.assert(readsNcqErrorLog({ opcode: 0x2f, lba: 0x10, count: 1 }));
 * console.assert(!readsNcqErrorLog({ opcode: 0x2f, lba: 0x110, count: 1 })); // page 1
 * ```
 */
export function readsNcqErrorLog(c: { opcode: number; lba: number; count: number }): boolean {
  return c.opcode === AtaCmd.READ_LOG_EXT && (c.lba & 0xff) === LOG_NCQ_COMMAND_ERROR &&
    c.lba >>> 8 === 0 && c.count >= 1;
}

/**
 * Encodes the 512-byte NCQ Command Error log page (log 10h, as SATA and ACS
 * define it): byte 0 NQ (bit 7) and tag (4:0), status in byte 2, error in byte 3,
 * LBA in bytes 4-6 and 8-10, count in bytes 12-13, and the checksum in byte
 * 511 (the page's bytes sum to 0 mod 256).
 * @example
 * ```ts
 * import { decodeNcqErrorLog, encodeNcqErrorLog } from "./structures.ts";
 * const b = encodeNcqErrorLog({ nq: false, tag: 7, status: 0x51, error: 0x40, lba: 0x1234_5678, count: 8 });
 * const l = decodeNcqErrorLog(b);
 * console.assert(l.tag === 7 && !l.nq && l.error === 0x40 && l.lba === 0x1234_5678 && l.count === 8);
 * console.assert(b.reduce((s, x) => s + x, 0) % 256 === 0);
 * ```
 */
export function encodeNcqErrorLog(l: NcqErrorLog): Uint8Array {
  const b = new Uint8Array(512);
  b[0] = (l.nq ? NCQ_LOG_NQ : 0) | (l.tag & 0x1f);
  b[2] = l.status;
  b[3] = l.error;
  for (let i = 0; i < 3; i++) b[4 + i] = Math.floor(l.lba / 2 ** (8 * i)) & 0xff;
  b[7] = DEVICE_LBA;
  for (let i = 0; i < 3; i++) b[8 + i] = Math.floor(l.lba / 2 ** (24 + 8 * i)) & 0xff;
  b[12] = l.count & 0xff;
  b[13] = (l.count >> 8) & 0xff;
  let sum = 0;
  for (let i = 0; i < 511; i++) sum += b[i];
  b[511] = (256 - (sum % 256)) % 256;
  return b;
}

/**
 * Decodes an NCQ Command Error log page (the inverse of {@link encodeNcqErrorLog}).
 * @example
 * ```ts
 * import { decodeNcqErrorLog } from "./structures.ts";
 * console.assert(decodeNcqErrorLog(new Uint8Array(512).fill(0x80, 0, 1)).nq);
 * ```
 */
export function decodeNcqErrorLog(b: Uint8Array): NcqErrorLog {
  let lba = 0;
  for (let i = 2; i >= 0; i--) lba = lba * 256 + b[8 + i];
  for (let i = 2; i >= 0; i--) lba = lba * 256 + b[4 + i];
  return {
    nq: (b[0] & NCQ_LOG_NQ) !== 0,
    tag: b[0] & 0x1f,
    status: b[2],
    error: b[3],
    lba,
    count: b[12] | (b[13] << 8),
  };
}
