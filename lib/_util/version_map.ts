/**
 * Block content as versions, not bytes: a sparse map from block index to a
 * version number over a fixed number of blocks. Stored in chunks that are
 * either uniform (one number) or an Int32Array, so a 32 GB disk holding a
 * copied image (all version 0) costs a few kilobytes, and guest writes only
 * materialise the chunks they touch.
 */
import { requireNumber } from "./errors.ts";

/** Version of a block never written (garbage on a fresh local disk). */
export const NO_VERSION = -1;
/** Version of every block of a pristine image. */
export const IMAGE_VERSION = 0;

const CHUNK_BITS = 12; // 4096 blocks per chunk
const CHUNK = 1 << CHUNK_BITS;

/**
 * Versions of `blocks` blocks, all `initial` at first.
 * @example
 * ```ts
 * import { VersionMap } from "./version_map.ts";
 * const m = new VersionMap(1 << 26, 0); // 32 GiB of 512-byte sectors
 * m.fill(100, 8, 7);
 * console.assert(m.get(99) === 0 && m.get(100) === 7 && m.get(107) === 7);
 * ```
 */
export class VersionMap {
  #chunks: (number | Int32Array)[];
  constructor(readonly blocks: number, initial: number = NO_VERSION) {
    requireNumber("create version map", "blocks", blocks, { integer: true, min: 0 });
    this.#chunks = new Array(Math.ceil(blocks / CHUNK)).fill(initial);
  }

  /** Version of block `i`. */
  get(i: number): number {
    this.#check(i, 1);
    const c = this.#chunks[i >>> CHUNK_BITS];
    return typeof c === "number" ? c : c[i & (CHUNK - 1)];
  }

  /** Sets `count` blocks from `start` to `version`. */
  fill(start: number, count: number, version: number): void {
    this.#check(start, count);
    let i = start;
    const end = start + count;
    while (i < end) {
      const ci = i >>> CHUNK_BITS;
      const cStart = ci << CHUNK_BITS;
      const cEnd = Math.min(cStart + CHUNK, end);
      const c = this.#chunks[ci];
      if (i === cStart && cEnd - cStart === Math.min(CHUNK, this.blocks - cStart)) {
        this.#chunks[ci] = version; // whole chunk: collapse to uniform
      } else if (c !== version) {
        const arr = typeof c === "number" ? new Int32Array(CHUNK).fill(c) : c;
        arr.fill(version, i - cStart, cEnd - cStart);
        this.#chunks[ci] = arr;
      }
      i = cEnd;
    }
  }

  /** Copies versions into `count` blocks from `start`. */
  set(start: number, versions: ArrayLike<number>): void {
    this.#check(start, versions.length);
    for (let k = 0; k < versions.length; k++) {
      const i = start + k;
      const ci = i >>> CHUNK_BITS;
      let c = this.#chunks[ci];
      const v = versions[k];
      if (typeof c === "number") {
        if (c === v) continue;
        c = this.#chunks[ci] = new Int32Array(CHUNK).fill(c);
      }
      c[i & (CHUNK - 1)] = v;
    }
  }

  /** Versions of `count` blocks from `start`. */
  read(start: number, count: number): Int32Array {
    this.#check(start, count);
    const out = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const i = start + k;
      const c = this.#chunks[i >>> CHUNK_BITS];
      out[k] = typeof c === "number" ? c : c[i & (CHUNK - 1)];
    }
    return out;
  }

  /** Number of blocks in [start, start+count) whose version is not `version`. */
  countOther(start: number, count: number, version: number): number {
    let n = 0;
    const v = this.read(start, count);
    for (let k = 0; k < v.length; k++) if (v[k] !== version) n++;
    return n;
  }

  /** True when every block equals the other map's block. */
  equals(other: VersionMap): boolean {
    if (other.blocks !== this.blocks) return false;
    for (let ci = 0; ci < this.#chunks.length; ci++) {
      const a = this.#chunks[ci], b = other.#chunks[ci];
      if (typeof a === "number" && typeof b === "number") {
        if (a !== b) return false;
        continue;
      }
      const n = Math.min(CHUNK, this.blocks - (ci << CHUNK_BITS));
      for (let k = 0; k < n; k++) {
        const x = typeof a === "number" ? a : a[k];
        const y = typeof b === "number" ? b : b[k];
        if (x !== y) return false;
      }
    }
    return true;
  }

  /** Approximate memory held, in bytes (materialised chunks). */
  get footprint(): number {
    let n = this.#chunks.length * 8;
    for (const c of this.#chunks) if (typeof c !== "number") n += c.byteLength;
    return n;
  }

  #check(start: number, count: number): void {
    if (!(start >= 0 && count >= 0 && start + count <= this.blocks && Number.isInteger(start))) {
      throw new RangeError(
        `Cannot access versions: block range [${start}, ${
          start + count
        }) must lie within [0, ${this.blocks})`,
      );
    }
  }
}
