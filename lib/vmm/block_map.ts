/**
 * Which parts of the image are on the local disk. Chunk-granular for speed
 * (the background copier's unit) with a sector bitmap for chunks that are
 * only partly present, so a guest write of a few sectors inside an absent
 * chunk is exact: those sectors are present (the guest's data is the newest)
 * and the copier later writes only the rest. This is the "sector-granular
 * map" choice (no fetch-merge): a guest write never waits for the network.
 *
 * Chunk states: absent -> partial -> present (a chunk never goes back).
 * "In flight" is a separate mark the background copier sets on the chunks it
 * is fetching, so it does not hand out the same chunk twice. Redirected reads
 * neither set nor read it: a guest read of a chunk the copier is fetching
 * fetches its sectors too, and whichever write comes second finds them
 * present (the VMM's `writeAbsent` writes absent sectors only) and drops
 * them.
 */
import { isRun, rangeError, requireNumber } from "../_util/mod.ts";
import type { Lba, Run } from "../_util/mod.ts";

/** Presence of one chunk. */
export type ChunkState = "absent" | "partial" | "present";

const ABSENT = 0, PARTIAL = 1, PRESENT = 2;
const NAMES: readonly ChunkState[] = ["absent", "partial", "present"];

/** A run of sectors [lba, lba+count). */
export type SectorRun = Run;

/**
 * Presence map over `sectors` sectors in chunks of `chunkSectors`.
 * @example
 * ```ts
 * import { BlockMap } from "./block_map.ts";
 * const map = new BlockMap({ sectors: 1 << 20, chunkSectors: 2048 });
 * map.markPresent(100, 8);
 * console.assert(map.chunkState(0) === "partial");
 * console.assert(map.missing(96, 16).length === 2);
 * ```
 */
export class BlockMap {
  /** Size of the image (and of the mapped disk area), in 512-byte sectors. */
  readonly sectors: number;
  /** Sectors per chunk, the background copier's unit (the last chunk may be shorter). */
  readonly chunkSectors: number;
  /** Number of chunks (`sectors / chunkSectors`, rounded up). */
  readonly chunks: number;
  /** Sectors outside the `needed` runs, present from the start (0 when all are needed). */
  readonly unneededSectors: number;
  #state: Uint8Array;
  #inflight: Uint8Array;
  #partial = new Map<number, Uint8Array>(); // chunk -> one byte per sector (0/1)
  #presentSectors = 0;
  /** Guest-written sectors (present because the guest wrote them). */
  guestWrittenSectors = 0;
  #cursor = 0; // lowest chunk that may still be absent or partial

  /**
   * A map with every chunk absent and none in flight, except outside
   * `needed` when given: sectors no one will read before writing them (a file
   * system's free blocks, for a copy of used blocks only) count as present
   * from the start and are never fetched.
   * @throws RangeError on a bad size or a needed run outside the map.
   */
  constructor(options: { sectors: number; chunkSectors: number; needed?: readonly SectorRun[] }) {
    const { sectors, chunkSectors, needed } = options;
    requireNumber("create block map", "sectors", sectors, { integer: true, min: 0, strict: true });
    requireNumber("create block map", "chunkSectors", chunkSectors, {
      integer: true,
      min: 0,
      strict: true,
    });
    this.sectors = sectors;
    this.chunkSectors = chunkSectors;
    this.chunks = Math.ceil(sectors / chunkSectors);
    this.#state = new Uint8Array(this.chunks);
    this.#inflight = new Uint8Array(this.chunks);
    if (needed !== undefined) {
      let at = 0;
      for (const r of [...needed].sort((a, b) => a.lba - b.lba)) {
        if (!isRun(r, sectors)) {
          throw new RangeError(
            `Cannot create block map: each 'needed' run must lie within [0, ${sectors}): current value is [${r.lba}, ${
              r.lba + r.count
            })`,
          );
        }
        if (r.lba > at) this.markPresent(at, r.lba - at);
        at = Math.max(at, r.lba + r.count);
      }
      if (at < sectors) this.markPresent(at, sectors - at);
    }
    this.unneededSectors = this.#presentSectors;
  }

  /** Sectors on the local disk. */
  get presentSectors(): number {
    return this.#presentSectors;
  }
  /** True when every sector is present. */
  get complete(): boolean {
    return this.#presentSectors === this.sectors;
  }
  /** Fraction present, 0..1. */
  get progress(): number {
    return this.#presentSectors / this.sectors;
  }

  /** State of chunk `c`. @throws RangeError unless `c` is a chunk index. */
  chunkState(c: number): ChunkState {
    this.#checkChunk("query block map", c);
    return NAMES[this.#state[c]];
  }
  /** Sectors [first, first+count) covered by chunk `c`. */
  chunkRange(c: number): SectorRun {
    const lba = c * this.chunkSectors;
    return { lba, count: Math.min(this.chunkSectors, this.sectors - lba) };
  }
  /** Chunk holding sector `lba`. */
  chunkOf(lba: Lba): number {
    return Math.floor(lba / this.chunkSectors);
  }

  /** Marks chunk `c` as being fetched (true) or not. @throws RangeError unless `c` is a chunk index. */
  setInflight(c: number, on: boolean): void {
    this.#checkChunk("mark chunk in flight", c);
    this.#inflight[c] = on ? 1 : 0;
  }
  /** True while chunk `c` is being fetched. */
  isInflight(c: number): boolean {
    return this.#inflight[c] === 1;
  }

  /** True when every sector of [lba, lba+count) is present. */
  isPresent(lba: Lba, count: number): boolean {
    return this.missing(lba, count).length === 0;
  }

  /** The runs of absent sectors within [lba, lba+count), in order. */
  missing(lba: Lba, count: number): SectorRun[] {
    this.#check(lba, count);
    const out: SectorRun[] = [];
    const end = lba + count;
    let runStart = -1;
    const close = (at: number) => {
      if (runStart >= 0) {
        out.push({ lba: runStart, count: at - runStart });
        runStart = -1;
      }
    };
    let s = lba;
    while (s < end) {
      const c = this.chunkOf(s);
      const cEnd = Math.min((c + 1) * this.chunkSectors, end);
      const st = this.#state[c];
      if (st === PRESENT) {
        close(s);
      } else if (st === ABSENT) {
        if (runStart < 0) runStart = s;
      } else {
        const bits = this.#partial.get(c)!;
        const base = c * this.chunkSectors;
        for (let x = s; x < cEnd; x++) {
          if (bits[x - base] === 1) close(x);
          else if (runStart < 0) runStart = x;
        }
      }
      s = cEnd;
    }
    close(end);
    return out;
  }

  /** Marks [lba, lba+count) present; `byGuest` counts them as guest-written. */
  markPresent(lba: Lba, count: number, byGuest = false): void {
    this.#check(lba, count);
    const end = lba + count;
    let s = lba;
    while (s < end) {
      const c = this.chunkOf(s);
      const cStart = c * this.chunkSectors;
      const cLen = Math.min(this.chunkSectors, this.sectors - cStart);
      const cEnd = Math.min(cStart + cLen, end);
      const st = this.#state[c];
      if (st !== PRESENT) {
        let bits = this.#partial.get(c);
        if (st === ABSENT && s === cStart && cEnd === cStart + cLen) {
          this.#state[c] = PRESENT;
          this.#presentSectors += cLen;
          if (byGuest) this.guestWrittenSectors += cLen;
        } else {
          if (bits === undefined) {
            bits = new Uint8Array(cLen);
            this.#partial.set(c, bits);
            this.#state[c] = PARTIAL;
          }
          let have = 0;
          for (let x = s; x < cEnd; x++) {
            if (bits[x - cStart] === 0) {
              bits[x - cStart] = 1;
              this.#presentSectors++;
              if (byGuest) this.guestWrittenSectors++;
            }
          }
          for (let i = 0; i < cLen; i++) have += bits[i];
          if (have === cLen) {
            this.#state[c] = PRESENT;
            this.#partial.delete(c);
          }
        }
      }
      s = cEnd;
    }
  }

  /**
   * The next chunk at or after `from` that is not present and not in flight
   * (wrapping around), or -1 when none.
   */
  nextToCopy(from = 0): number {
    while (this.#cursor < this.chunks && this.#state[this.#cursor] === PRESENT) this.#cursor++;
    const start = Math.max(from, this.#cursor);
    for (let c = start; c < this.chunks; c++) {
      if (this.#state[c] !== PRESENT && this.#inflight[c] === 0) return c;
    }
    for (let c = this.#cursor; c < start; c++) {
      if (this.#state[c] !== PRESENT && this.#inflight[c] === 0) return c;
    }
    return -1;
  }

  #checkChunk(what: string, c: number): void {
    if (!(Number.isInteger(c) && c >= 0 && c < this.chunks)) {
      throw rangeError(what, "c", `a chunk index in [0, ${this.chunks})`, c);
    }
  }

  #check(lba: number, count: number): void {
    if (
      !(lba >= 0 && count >= 0 && lba + count <= this.sectors && Number.isInteger(lba) &&
        Number.isInteger(count))
    ) {
      throw new RangeError(
        `Cannot query block map: range [${lba}, ${
          lba + count
        }) must lie within [0, ${this.sectors})`,
      );
    }
  }
}
