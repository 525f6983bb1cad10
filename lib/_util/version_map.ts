/**
 * Block content as versions, not bytes: a sparse map from block index to a
 * version number over a fixed number of blocks. Stored in chunks that are
 * either uniform (one number) or an Int32Array, so a 32 GB disk holding a
 * copied image (all version 0) costs a few kilobytes, and guest writes only
 * materialise the chunks they touch.
 */
import { rangeError } from "./errors.ts";

/** Version of a block never written (garbage on a fresh local disk). */
export const NO_VERSION: number = -1;
/** Version of every block of a pristine image. */
export const IMAGE_VERSION = 0;

const CHUNK = 4096; // blocks per chunk
/**
 * Most blocks a map holds: 2^43, 4 PiB of 512-byte sectors. A block's chunk
 * is `(i / CHUNK) | 0`, exact while the quotient fits an int32, and cheap on
 * the hot paths; `i >>> 12` and `ci << 12` would wrap from 2^32 and 2^31 blocks
 * on (a 48-bit LBA disk has more).
 */
const MAX_BLOCKS = 2 ** 43;

function isUniform(a: Int32Array, v: number): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== v) return false;
  return true;
}

/**
 * Joins runs of versions read in pieces (a request split into commands) into
 * one array, in order.
 * @example
 * ```ts
 * import { concatVersions } from "./version_map.ts";
 * console.assert(concatVersions([Int32Array.of(1, 2), Int32Array.of(3)]).join() === "1,2,3");
 * ```
 */
export function concatVersions(parts: readonly ArrayLike<number>[]): Int32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Int32Array(n);
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}

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
  /**
   * A map of `blocks` blocks (`blocks` is readable afterwards), every one at
   * version `initial` ({@link NO_VERSION} by default).
   * @throws RangeError unless `blocks` is an integer in [0, 2^43].
   */
  constructor(readonly blocks: number, initial: number = NO_VERSION) {
    if (!(Number.isInteger(blocks) && blocks >= 0 && blocks <= MAX_BLOCKS)) {
      throw rangeError(
        "create version map",
        "blocks",
        `an integer in [0, 2^43 = ${MAX_BLOCKS}]`,
        blocks,
      );
    }
    this.#chunks = new Array(Math.ceil(blocks / CHUNK)).fill(initial);
  }

  /** Version of block `i`. */
  get(i: number): number {
    this.#check(i, 1);
    const c = this.#chunks[(i / CHUNK) | 0];
    // `&` keeps the low 32 bits of any safe integer: the offset is exact.
    return typeof c === "number" ? c : c[i & (CHUNK - 1)];
  }

  /** Sets `count` blocks from `start` to `version`. */
  fill(start: number, count: number, version: number): void {
    this.#check(start, count);
    let i = start;
    const end = start + count;
    while (i < end) {
      const ci = (i / CHUNK) | 0;
      const cStart = ci * CHUNK;
      const cEnd = Math.min(cStart + CHUNK, end);
      const c = this.#chunks[ci];
      if (i === cStart && cEnd - cStart === this.#chunkLength(ci)) {
        this.#chunks[ci] = version; // whole chunk: collapse to uniform
      } else if (c !== version) {
        const arr = typeof c === "number" ? new Int32Array(CHUNK).fill(c) : c;
        arr.fill(version, i - cStart, cEnd - cStart);
        this.#chunks[ci] = arr;
        this.#tryCollapse(ci, i - cStart, cEnd - cStart);
      }
      i = cEnd;
    }
  }

  /**
   * Copies versions into blocks from `start` (block `start + k` gets
   * `versions[k]`, stored as an int32). Works chunk by chunk: a piece whose
   * versions all equal a uniform chunk's value changes nothing, and a chunk
   * left holding one value becomes uniform again.
   */
  set(start: number, versions: ArrayLike<number>): void {
    const count = versions.length;
    this.#check(start, count);
    const src = versions instanceof Int32Array ? versions : Int32Array.from(versions);
    let i = start;
    const end = start + count;
    while (i < end) {
      const ci = (i / CHUNK) | 0;
      const cStart = ci * CHUNK;
      const cEnd = Math.min(cStart + CHUNK, end);
      const piece = src.subarray(i - start, cEnd - start);
      const v = piece[0];
      const uniform = isUniform(piece, v);
      const c = this.#chunks[ci];
      if (uniform && i === cStart && cEnd - cStart === this.#chunkLength(ci)) {
        this.#chunks[ci] = v; // whole chunk, one value
      } else if (!(uniform && typeof c === "number" && (c | 0) === v)) {
        const arr = typeof c === "number" ? new Int32Array(CHUNK).fill(c) : c;
        arr.set(piece, i - cStart);
        this.#chunks[ci] = arr;
        if (uniform) this.#tryCollapse(ci, i - cStart, cEnd - cStart);
      }
      i = cEnd;
    }
  }

  /** Versions of `count` blocks from `start`. */
  read(start: number, count: number): Int32Array {
    this.#check(start, count);
    const out = new Int32Array(count);
    let i = start;
    const end = start + count;
    while (i < end) {
      const ci = (i / CHUNK) | 0;
      const cStart = ci * CHUNK;
      const cEnd = Math.min(cStart + CHUNK, end);
      const c = this.#chunks[ci];
      if (typeof c === "number") out.fill(c, i - start, cEnd - start);
      else out.set(c.subarray(i - cStart, cEnd - cStart), i - start);
      i = cEnd;
    }
    return out;
  }

  /** Number of blocks in [start, start+count) whose version is not `version`. */
  countOther(start: number, count: number, version: number): number {
    this.#check(start, count);
    let n = 0;
    let i = start;
    const end = start + count;
    while (i < end) {
      const ci = (i / CHUNK) | 0;
      const cStart = ci * CHUNK;
      const cEnd = Math.min(cStart + CHUNK, end);
      const c = this.#chunks[ci];
      if (typeof c === "number") {
        if ((c | 0) !== version) n += cEnd - i;
      } else {
        for (let k = i - cStart; k < cEnd - cStart; k++) if (c[k] !== version) n++;
      }
      i = cEnd;
    }
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
      const n = Math.min(CHUNK, this.blocks - ci * CHUNK);
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

  #chunkLength(ci: number): number {
    return Math.min(CHUNK, this.blocks - ci * CHUNK);
  }

  /**
   * Turns chunk `ci` uniform again when [from, to) was just given one value
   * and the rest holds it too. Tried only when the write reaches the chunk's
   * end (where a sequential fill completes), so small random writes rarely
   * pay the scan.
   */
  #tryCollapse(ci: number, from: number, to: number): void {
    const n = this.#chunkLength(ci);
    if (to !== n) return;
    const arr = this.#chunks[ci] as Int32Array;
    const v = arr[from];
    if (isUniform(arr.subarray(0, from), v)) this.#chunks[ci] = v;
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
