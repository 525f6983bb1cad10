/**
 * The guest kernel's physical page allocator, built from the firmware's
 * memory map read entry by entry through INT 15h/E820 as an OS does at boot.
 * It hands out only usable RAM, so memory a VMM reserved in the map is never
 * used for DMA structures or buffers.
 */
import type { Bytes, Gpa } from "../_util/mod.ts";
import { rangeError, requireNumber } from "../_util/mod.ts";
import type { E820Map } from "../hw/mod.ts";

interface Range {
  base: Gpa;
  end: Gpa;
}

/**
 * First-fit allocator over the usable E820 ranges, with frees that merge. A
 * free must return exactly one allocation (its address and size), so memory
 * never handed out (reserved by the firmware or a VMM, or never allocated)
 * cannot join the free list.
 * @example
 * ```ts
 * import { E820Map } from "../hw/mod.ts";
 * import { PhysAllocator } from "./phys_alloc.ts";
 * const map = E820Map.standard(64 << 20);
 * map.reserve(1 << 20, 1 << 20);
 * const alloc = new PhysAllocator(map);
 * const a = alloc.alloc(4096, { align: 4096 });
 * console.assert(a >= 2 << 20 && map.isUsable(a, 4096));
 * alloc.free(a, 4096);
 * ```
 */
export class PhysAllocator {
  #free: Range[] = [];
  #live = new Map<Gpa, Bytes>(); // address -> size of each allocation not yet freed
  /** Bytes handed out and not yet freed. */
  allocated: Bytes = 0;

  /**
   * Builds the free list from the usable E820 entries above `minAddress`.
   * @param e820 the firmware memory map.
   * @param options `minAddress`: lowest address used (the kernel keeps low memory for itself). @default 1 MiB
   */
  constructor(e820: E820Map, options: { minAddress?: Gpa } = {}) {
    const { minAddress = 0x10_0000 } = options;
    requireNumber("create allocator", "minAddress", minAddress, { integer: true, min: 0 });
    // Walk the map as the INT 15h continuation protocol returns it.
    let index = 0;
    do {
      const r = e820.int15(index);
      if (r === undefined) break;
      const e = r.entry;
      if (e.type === "usable") {
        const base = Math.max(e.base, minAddress);
        if (e.base + e.length > base) this.#insert({ base, end: e.base + e.length });
      }
      index = r.next;
    } while (index !== 0);
  }

  /** Bytes still free. */
  get freeBytes(): Bytes {
    let n = 0;
    for (const r of this.#free) n += r.end - r.base;
    return n;
  }

  /**
   * Allocates `bytes` at an address aligned to `align`.
   * @throws RangeError for a bad size or alignment; Error when memory is exhausted.
   */
  alloc(bytes: Bytes, options: { align?: Bytes } = {}): Gpa {
    const { align = 4096 } = options;
    requireNumber("allocate memory", "bytes", bytes, { integer: true, min: 0, strict: true });
    if (!(align >= 1 && Number.isInteger(align) && (align & (align - 1)) === 0)) {
      throw new RangeError(
        `Cannot allocate memory: 'align' must be a power of two: current value is ${align}`,
      );
    }
    for (let i = 0; i < this.#free.length; i++) {
      const r = this.#free[i];
      const a = Math.ceil(r.base / align) * align;
      if (a + bytes > r.end) continue;
      const parts: Range[] = [];
      if (a > r.base) parts.push({ base: r.base, end: a });
      if (a + bytes < r.end) parts.push({ base: a + bytes, end: r.end });
      this.#free.splice(i, 1, ...parts);
      this.#live.set(a, bytes);
      this.allocated += bytes;
      return a;
    }
    throw new Error(`guest out of memory: no free range holds ${bytes} bytes aligned to ${align}`);
  }

  /**
   * Returns the allocation [addr, addr+bytes) to the free list.
   * @throws RangeError unless `addr` is the address of an allocation not yet freed
   * (double free, or memory never allocated) and `bytes` its size.
   */
  free(addr: Gpa, bytes: Bytes): void {
    const what = "free memory";
    const size = this.#live.get(addr);
    if (size === undefined) {
      throw rangeError(
        what,
        "addr",
        "an address alloc() returned and not yet freed",
        `0x${Number(addr).toString(16)}`,
      );
    }
    if (bytes !== size) {
      throw rangeError(
        what,
        "bytes",
        `the size allocated at 0x${addr.toString(16)} (${size})`,
        bytes,
      );
    }
    this.#live.delete(addr);
    this.#insert({ base: addr, end: addr + bytes });
    this.allocated -= bytes;
  }

  #insert(r: Range): void {
    const f = this.#free;
    let i = 0;
    while (i < f.length && f[i].base < r.base) i++;
    if ((i > 0 && f[i - 1].end > r.base) || (i < f.length && f[i].base < r.end)) {
      throw new Error(`double free of [0x${r.base.toString(16)}, 0x${r.end.toString(16)})`);
    }
    f.splice(i, 0, r);
    // Merge with neighbours.
    if (i + 1 < f.length && f[i].end === f[i + 1].base) {
      f[i].end = f[i + 1].end;
      f.splice(i + 1, 1);
    }
    if (i > 0 && f[i - 1].end === f[i].base) {
      f[i - 1].end = f[i].end;
      f.splice(i, 1);
    }
  }
}
