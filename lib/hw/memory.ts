/**
 * Physical memory: sparse and page-granular. Command structures (AHCI
 * command lists, FIS areas, PRDTs) live as bytes in 4 KiB pages created on
 * first write; data buffers carry block versions, one per 512-byte sector
 * unit, instead of bytes (content is modelled as versions throughout: see
 * lib/_util VersionMap).
 * Also the firmware's E820 map, the view the OS gets through INT 15h.
 */
import { NO_VERSION, rangeError, requireNumber } from "../_util/mod.ts";
import type { Bytes, Gpa } from "../_util/mod.ts";

const PAGE = 4096;
/** Bytes per sector unit of a data buffer. */
export const SECTOR_BYTES = 512;
/** Sector units per version page (64 KiB of address space). */
const VPAGE_UNITS = 128;
/**
 * Start of memory above the legacy hole (1 MiB): where {@link E820Map.standard}'s
 * usable RAM resumes.
 * @example
 * ```ts
 * import { E820Map, HIGH_MEMORY } from "./memory.ts";
 * console.assert(E820Map.standard(HIGH_MEMORY * 2).isUsable(HIGH_MEMORY, HIGH_MEMORY));
 * ```
 */
export const HIGH_MEMORY = 0x100000;

function allEqual(a: Int32Array, v: number): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== v) return false;
  return true;
}

/**
 * Sparse physical memory.
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * const mem = new PhysicalMemory({ size: 1 << 30 });
 * mem.write(0x1000, 4, 0xdeadbeef);
 * console.assert(mem.read(0x1000, 4) === 0xdeadbeef && mem.read(0x1000, 2) === 0xbeef);
 * mem.writeVersions(0x20000, [5, 6]);
 * console.assert(mem.readVersions(0x20000, 2).join() === "5,6");
 * ```
 */
export class PhysicalMemory {
  /** Size of the physical address space, bytes; accesses must lie in [0, size). */
  readonly size: Bytes;
  #pages = new Map<number, Uint8Array>();
  /** Version pages by aligned unit index / VPAGE_UNITS. */
  #vpages = new Map<number, Int32Array>();
  /** Versions of sector units at addresses that are not 512-aligned. */
  #unaligned = new Map<number, number>();

  /**
   * Creates empty memory (all bytes 0, all versions {@link NO_VERSION}).
   * @param options.size Address-space size in bytes (a non-negative integer).
   */
  constructor(options: { size: Bytes }) {
    requireNumber("create memory", "size", options.size, { integer: true, min: 0, strict: true });
    this.size = options.size;
  }

  /** Pages materialised so far (memory cost of the model). */
  get pagesTouched(): number {
    return this.#pages.size;
  }

  /**
   * Reads a little-endian integer of 1, 2, 4 or 8 bytes (8: exact up to 2^53).
   * @throws RangeError for another size, or a range outside memory.
   */
  read(addr: Gpa, size: 1 | 2 | 4 | 8): number {
    checkSize("read memory", size);
    this.#check(addr, size);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.#byte(addr + i);
    return v;
  }

  /**
   * Writes a little-endian integer of 1, 2, 4 or 8 bytes.
   * @throws RangeError for another size, a range outside memory, or a value
   *   that is not an integer the access holds: [0, 2^(8*size)) for sizes
   *   below 8, [0, 2^53) for 8 (never truncated).
   */
  write(addr: Gpa, size: 1 | 2 | 4 | 8, value: number): void {
    checkSize("write memory", size);
    this.#check(addr, size);
    const max = size === 8 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * size) - 1;
    if (!(Number.isInteger(value) && value >= 0 && value <= max)) {
      throw rangeError(
        "write memory",
        "value",
        `an integer in [0, 0x${max.toString(16)}] for a ${size}-byte access`,
        value,
      );
    }
    let v = value;
    for (let i = 0; i < size; i++) {
      this.#setByte(addr + i, v % 256);
      v = Math.floor(v / 256);
    }
  }

  /** Copies `len` bytes out (DMA read of a structure). */
  readBytes(addr: Gpa, len: Bytes): Uint8Array {
    this.#check(addr, len);
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.#byte(addr + i);
    return out;
  }

  /** Copies bytes in (DMA write of a structure). */
  writeBytes(addr: Gpa, bytes: Uint8Array): void {
    this.#check(addr, bytes.length);
    for (let i = 0; i < bytes.length; i++) this.#setByte(addr + i, bytes[i]);
  }

  /** DMA of data: sector unit i of the buffer at `addr` gets versions[i]. */
  writeVersions(addr: Gpa, versions: ArrayLike<number>): void {
    const count = versions.length;
    this.#check(addr, count * SECTOR_BYTES);
    if (addr % SECTOR_BYTES !== 0) {
      for (let i = 0; i < count; i++) this.#unaligned.set(addr + i * SECTOR_BYTES, versions[i]);
      return;
    }
    const src = versions instanceof Int32Array ? versions : Int32Array.from(versions);
    const u0 = addr / SECTOR_BYTES;
    let u = u0;
    const end = u0 + count;
    while (u < end) {
      const key = Math.floor(u / VPAGE_UNITS);
      const off = u - key * VPAGE_UNITS;
      const n = Math.min(VPAGE_UNITS - off, end - u);
      const piece = src.subarray(u - u0, u - u0 + n);
      let page = this.#vpages.get(key);
      if (page === undefined) {
        if (allEqual(piece, NO_VERSION)) { // nothing to remember: stay sparse
          u += n;
          continue;
        }
        page = new Int32Array(VPAGE_UNITS).fill(NO_VERSION);
        this.#vpages.set(key, page);
      }
      page.set(piece, off);
      u += n;
    }
  }

  /** Versions held by `count` sector units of the buffer at `addr` (NO_VERSION where none). */
  readVersions(addr: Gpa, count: number): Int32Array {
    this.#check(addr, count * SECTOR_BYTES);
    const out = new Int32Array(count);
    if (addr % SECTOR_BYTES !== 0) {
      for (let i = 0; i < count; i++) {
        out[i] = this.#unaligned.get(addr + i * SECTOR_BYTES) ?? NO_VERSION;
      }
      return out;
    }
    const u0 = addr / SECTOR_BYTES;
    let u = u0;
    const end = u0 + count;
    while (u < end) {
      const key = Math.floor(u / VPAGE_UNITS);
      const off = u - key * VPAGE_UNITS;
      const n = Math.min(VPAGE_UNITS - off, end - u);
      const page = this.#vpages.get(key);
      if (page === undefined) out.fill(NO_VERSION, u - u0, u - u0 + n);
      else out.set(page.subarray(off, off + n), u - u0);
      u += n;
    }
    return out;
  }

  #byte(a: number): number {
    const p = this.#pages.get(Math.floor(a / PAGE));
    return p === undefined ? 0 : p[a % PAGE];
  }

  #setByte(a: number, v: number): void {
    const k = Math.floor(a / PAGE);
    let p = this.#pages.get(k);
    if (p === undefined) {
      if (v === 0) return;
      p = new Uint8Array(PAGE);
      this.#pages.set(k, p);
    }
    p[a % PAGE] = v;
  }

  #check(addr: number, len: number): void {
    if (!(addr >= 0 && Number.isInteger(addr) && addr + len <= this.size)) {
      throw new RangeError(
        `Cannot access memory: [0x${addr.toString(16)}, +${len}) must lie within [0, 0x${
          this.size.toString(16)
        })`,
      );
    }
  }
}

function checkSize(what: string, size: number): void {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw rangeError(what, "size", "1, 2, 4 or 8", size);
  }
}

/** E820 range types (ACPI spec, "System Address Map Interfaces"). */
export type E820Type = "usable" | "reserved" | "acpi" | "nvs";

/** One E820 entry. */
export interface E820Entry {
  /** Guest-physical start address of the range. */
  base: Gpa;
  /** Length of the range, bytes. */
  length: Bytes;
  /** What the range may be used for. */
  type: E820Type;
}

/**
 * The firmware's memory map; `reserve()` carves a range out of usable memory
 * (how BMcast hides its own memory from the guest).
 * @example
 * ```ts
 * import { E820Map } from "./memory.ts";
 * const map = E820Map.standard(1 << 30);
 * map.reserve(0x3000_0000, 0x100_0000);
 * console.assert(!map.isUsable(0x3000_0000, 4096) && map.isUsable(0x100000, 4096));
 * ```
 */
export class E820Map {
  #entries: E820Entry[];
  /** Creates a map from `entries` (copied and sorted by base address). */
  constructor(entries: E820Entry[]) {
    this.#entries = entries.map((e) => ({ ...e })).sort((a, b) => a.base - b.base);
  }

  /**
   * A PC-like map: 640 KiB low memory, legacy hole, usable from 1 MiB to `size`.
   * @throws RangeError unless `size` is an integer above 1 MiB (0x100000).
   */
  static standard(size: Bytes): E820Map {
    if (!(Number.isInteger(size) && size > HIGH_MEMORY)) {
      throw rangeError(
        "create the E820 map",
        "size",
        "an integer > 1048576 (0x100000: memory must reach above the legacy hole)",
        size,
      );
    }
    return new E820Map([
      { base: 0, length: 0x9fc00, type: "usable" },
      { base: 0x9fc00, length: 0x60400, type: "reserved" },
      { base: HIGH_MEMORY, length: size - HIGH_MEMORY, type: "usable" },
    ]);
  }

  /** Entries in address order (copies). */
  entries(): E820Entry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  /**
   * INT 15h, EAX=E820h: the entry at continuation index `index`, and the next
   * index (0 when it was the last one), as the BIOS call returns them.
   */
  int15(index: number): { entry: E820Entry; next: number } | undefined {
    const e = this.#entries[index];
    if (e === undefined) return undefined;
    return { entry: { ...e }, next: index + 1 < this.#entries.length ? index + 1 : 0 };
  }

  /**
   * Marks [base, base+length) reserved, splitting usable ranges.
   * @throws RangeError unless `base` is an integer >= 0 and `length` one > 0.
   */
  reserve(base: Gpa, length: Bytes): void {
    requireNumber("reserve memory", "base", base, { integer: true, min: 0 });
    requireNumber("reserve memory", "length", length, { integer: true, min: 0, strict: true });
    const end = base + length;
    const out: E820Entry[] = [];
    for (const e of this.#entries) {
      const eEnd = e.base + e.length;
      if (eEnd <= base || e.base >= end || e.type !== "usable") {
        out.push(e);
        continue;
      }
      if (e.base < base) out.push({ base: e.base, length: base - e.base, type: e.type });
      if (eEnd > end) out.push({ base: end, length: eEnd - end, type: e.type });
    }
    out.push({ base, length, type: "reserved" });
    this.#entries = out.sort((a, b) => a.base - b.base);
  }

  /** True when [base, base+length) lies entirely in usable ranges. */
  isUsable(base: Gpa, length: Bytes): boolean {
    let a = base;
    const end = base + length;
    for (const e of this.#entries) {
      if (e.type !== "usable") continue;
      if (e.base <= a && e.base + e.length > a) a = e.base + e.length;
      if (a >= end) return true;
    }
    return a >= end;
  }
}
