/**
 * A guest page cache: LRU over fixed-size blocks, holding each block's
 * sector versions (content is versions, never bytes).
 */
import { rangeError, requireNumber } from "../_util/mod.ts";

/**
 * LRU cache of blocks of `blockBytes`, at most `capacityBytes` in total.
 * @example
 * ```ts
 * import { PageCache } from "./page_cache.ts";
 * const c = new PageCache({ capacityBytes: 8192, blockBytes: 4096 });
 * c.put(1, new Int32Array(8));
 * c.put(2, new Int32Array(8));
 * c.get(1);
 * c.put(3, new Int32Array(8)); // evicts 2, the least recently used
 * console.assert(c.get(2) === undefined && c.get(1) !== undefined && c.hits === 2);
 * ```
 */
export class PageCache {
  /** Size of a cached block, bytes (a multiple of 512). */
  readonly blockBytes: number;
  /** Blocks held at most. */
  readonly capacity: number;
  /** Lookups ({@link PageCache.get}) that found their block. */
  hits = 0;
  /** Lookups that did not find their block. */
  misses = 0;
  /** Blocks dropped to make room (least recently used first). */
  evictions = 0;
  #blocks = new Map<number, Int32Array>();

  /**
   * An empty cache holding `floor(capacityBytes / blockBytes)` blocks.
   * @param options `capacityBytes` (>= 0) and `blockBytes` (a multiple of 512, >= 512)
   * @throws RangeError for a bad size
   */
  constructor(options: { capacityBytes: number; blockBytes: number }) {
    const { capacityBytes, blockBytes } = options;
    requireNumber("create page cache", "blockBytes", blockBytes, { integer: true, min: 512 });
    if (blockBytes % 512 !== 0) {
      throw rangeError("create page cache", "blockBytes", "a multiple of 512", blockBytes);
    }
    requireNumber("create page cache", "capacityBytes", capacityBytes, { min: 0 });
    this.blockBytes = blockBytes;
    this.capacity = Math.floor(capacityBytes / blockBytes);
  }

  /** Blocks held. */
  get size(): number {
    return this.#blocks.size;
  }

  /** Hits / lookups (0 before any lookup). */
  get hitRatio(): number {
    const n = this.hits + this.misses;
    return n === 0 ? 0 : this.hits / n;
  }

  /** Looks `block` up, counting a hit or a miss; a hit becomes most recently used. */
  get(block: number): Int32Array | undefined {
    const v = this.#blocks.get(block);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#blocks.delete(block);
    this.#blocks.set(block, v);
    return v;
  }

  /** Caches `block` with its sector versions, evicting the least recently used blocks. */
  put(block: number, versions: Int32Array): void {
    if (this.capacity === 0) return;
    this.#blocks.delete(block);
    this.#blocks.set(block, versions);
    while (this.#blocks.size > this.capacity) {
      this.#blocks.delete(this.#blocks.keys().next().value!);
      this.evictions++;
    }
  }
}
