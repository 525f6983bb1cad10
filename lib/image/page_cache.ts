/**
 * The image server's page cache, cold at start: which pages of each image
 * are in RAM, which are being read from the backing disk, and CLOCK
 * (second-chance) eviction once the capacity is reached, the usual
 * approximation of LRU (Linux keeps active/inactive lists to the same end).
 * A reader of a page another request is still reading waits for that read
 * instead of reading it again, as on a locked page under Linux: so N nodes
 * booting the same image read each block from the server's disk once.
 * A read the disk fails (its event's value has `ok: false`, a lib/hw
 * DiskResult) caches nothing: its pages are absent again and their room free.
 * One byte of state per page (a 32 GB image in 4 KiB pages: 8 MB).
 */
import { requireNumber, type Run } from "../_util/mod.ts";
import type { Bytes } from "../_util/mod.ts";
import type { SimEvent } from "../sim/mod.ts";

const SECTOR = 512;
// Page states. PINNED: a cached page of the lookup in progress (not to be evicted by it).
const ABSENT = 0, CACHED = 1, REFERENCED = 2, READING = 3, PINNED = 4;
/** A ring slot a failed read gave back (no page). */
const FREE = -1;

/**
 * A page cache over the server's images.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { PageCache } from "./page_cache.ts";
 * const sim = new Simulation();
 * const cache = new PageCache({ bytes: 1 << 20 });
 * cache.addImage("os", 1 << 30);
 * const disk = (runs: { lba: number; count: number }[]) => sim.timeout(5_000 * runs.length);
 * const [first] = cache.read("os", 0, 16, disk); // 8 KiB: pages 0 and 1 read from disk
 * console.assert(cache.read("os", 8, 8, disk)[0] === first); // page 1 is being read: wait for it
 * sim.run();
 * console.assert(cache.read("os", 0, 16, disk).length === 0); // both cached now
 * ```
 */
export class PageCache {
  /** Capacity, bytes. */
  readonly bytes: Bytes;
  /** Page size, bytes (a multiple of 512). */
  readonly pageBytes: Bytes;
  readonly #capacity: number;
  readonly #sectorsPerPage: number;
  /** First global page of each image, and its size in sectors. */
  readonly #images = new Map<string, { base: number; sectors: number }>();
  #state = new Uint8Array(0);
  /** Pages of all images added (the state array may be longer: it grows by doubling). */
  #pages = 0;
  /** Resident pages (cached or being read; FREE: room a failed read gave back); the CLOCK hand sweeps it. */
  #ring = new Int32Array(16);
  #resident = 0;
  /** Of the ring's slots, those FREE. */
  #free = 0;
  #hand = 0;
  /**
   * Reads in progress with the pages each brings in (ascending): a page being
   * read is in exactly one of them. Few at a time (the server's outstanding
   * reads), so a reader of a page in flight scans them; a per-page map cost
   * two hash operations for every page the server ever read.
   */
  readonly #reading: { pages: number[]; event: SimEvent<unknown> }[] = [];

  /**
   * Creates an empty cache of `bytes` capacity in pages of `pageBytes` (default 4096).
   * @throws RangeError on a negative capacity or a page size that is not a multiple of 512.
   */
  constructor(options: { bytes: Bytes; pageBytes?: Bytes }) {
    const { bytes, pageBytes = 4096 } = options;
    requireNumber("create page cache", "bytes", bytes, { min: 0 });
    requireNumber("create page cache", "pageBytes", pageBytes, { integer: true, min: SECTOR });
    if (pageBytes % SECTOR !== 0) {
      throw new RangeError(
        `Cannot create page cache: 'pageBytes' must be a multiple of 512: current value is ${pageBytes}`,
      );
    }
    this.bytes = bytes;
    this.pageBytes = pageBytes;
    this.#capacity = Math.floor(bytes / pageBytes);
    this.#sectorsPerPage = pageBytes / SECTOR;
  }

  /** Pages held (cached or being read). */
  get residentPages(): number {
    return this.#resident - this.#free;
  }

  /** Gives image `id` of `bytes` bytes its pages, all absent. */
  addImage(id: string, bytes: Bytes): void {
    if (this.#images.has(id)) {
      throw new RangeError(`Cannot add image to page cache: '${id}' is there`);
    }
    const sectors = Math.ceil(bytes / SECTOR);
    const base = this.#pages;
    const pages = Math.ceil(sectors / this.#sectorsPerPage);
    if (base + pages > 2 ** 31 - 1) {
      throw new RangeError(`Cannot add image to page cache: more than 2^31 pages in all`);
    }
    // Doubling: adding K images copies O(K) pages' state, not O(K^2).
    if (base + pages > this.#state.length) {
      const grown = this.#state.length === 0 ? 0 : 2 * this.#state.length;
      const state = new Uint8Array(Math.min(2 ** 31 - 1, Math.max(base + pages, grown)));
      state.set(this.#state.subarray(0, base));
      this.#state = state;
    }
    this.#pages = base + pages;
    this.#images.set(id, { base, sectors });
  }

  /**
   * Brings sectors [lba, lba+count) of image `id` into memory: its absent
   * pages are read with one call of `readDisk` (page-aligned sector runs)
   * and cached once that read is processed (unless it failed); its cached
   * pages are marked referenced. Returns what to wait for: that read, and the reads other
   * requests started of pages this one needs (none: every page was cached).
   */
  read(
    id: string,
    lba: number,
    count: number,
    readDisk: (runs: Run[]) => SimEvent<unknown>,
  ): SimEvent<unknown>[] {
    const img = this.#images.get(id);
    if (img === undefined) throw new RangeError(`page cache has no image '${id}'`);
    if (!(lba >= 0 && count >= 1 && lba + count <= img.sectors)) {
      throw new RangeError(
        `page cache read: sectors [${lba}, ${
          lba + count
        }) are not within image '${id}' (${img.sectors} sectors)`,
      );
    }
    const spp = this.#sectorsPerPage, state = this.#state, base = img.base;
    const first = Math.floor(lba / spp), last = Math.floor((lba + count - 1) / spp);
    const runs: Run[] = [], waits: SimEvent<unknown>[] = [];
    const pages: number[] = [], slots: number[] = [];
    let runStart = -1;
    const close = (end: number) => {
      if (runStart < 0) return;
      const from = runStart * spp;
      runs.push({ lba: from, count: Math.min(end * spp, img.sectors) - from });
      runStart = -1;
    };
    // Pin this request's cached pages first, so making room for its absent
    // ones cannot evict them (what LRU would do: they are the most recent).
    for (let g = base + first; g <= base + last; g++) {
      if (state[g] === CACHED || state[g] === REFERENCED) state[g] = PINNED;
    }
    for (let p = first; p <= last; p++) {
      const g = base + p;
      const s = state[g];
      if (s === PINNED) close(p);
      else if (s === READING) {
        const ev = this.#readOf(g);
        if (!waits.includes(ev)) waits.push(ev);
        close(p);
      } else {
        if (runStart < 0) runStart = p;
        const slot = this.#admit(g);
        if (slot >= 0) {
          state[g] = READING;
          pages.push(g);
          slots.push(slot);
        }
      }
    }
    close(last + 1);
    for (let g = base + first; g <= base + last; g++) {
      if (state[g] === PINNED) state[g] = REFERENCED;
    }
    if (runs.length === 0) return waits;
    const read = readDisk(runs);
    waits.push(read);
    if (pages.length > 0) {
      const entry = { pages, event: read };
      this.#reading.push(entry);
      read.then(() => {
        // The disk did not return the pages: nothing to cache, their room is free again.
        const failed = (read.value as { ok?: unknown } | undefined)?.ok === false;
        const state = this.#state; // (addImage may have replaced the array)
        for (let i = 0; i < pages.length; i++) {
          state[pages[i]] = failed ? ABSENT : CACHED;
          if (failed) {
            this.#ring[slots[i]] = FREE;
            this.#free++;
          }
        }
        const all = this.#reading;
        all.splice(all.indexOf(entry), 1);
      });
    }
    return waits;
  }

  /** The read in progress that brings in page `g` (one in state READING). */
  #readOf(g: number): SimEvent<unknown> {
    for (const { pages, event } of this.#reading) {
      if (g < pages[0] || g > pages[pages.length - 1]) continue;
      let lo = 0, hi = pages.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (pages[mid] === g) return event;
        if (pages[mid] < g) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    throw new Error(`page cache: page ${g} is being read by no read in progress`);
  }

  /** Makes room for page `g` (CLOCK): its slot in the ring, -1 when it cannot be held. */
  #admit(g: number): number {
    if (this.#capacity === 0) return -1;
    if (this.#resident < this.#capacity) {
      if (this.#resident === this.#ring.length) {
        const ring = new Int32Array(Math.min(this.#capacity, this.#ring.length * 2));
        ring.set(this.#ring);
        this.#ring = ring;
      }
      this.#ring[this.#resident] = g;
      return this.#resident++;
    }
    const ring = this.#ring, state = this.#state, n = this.#capacity;
    // Two sweeps clear every reference bit; pinned pages and pages being read cannot go.
    for (let i = 0; i < 2 * n; i++) {
      const at = this.#hand;
      this.#hand = at + 1 === n ? 0 : at + 1;
      const victim = ring[at];
      const s = victim === FREE ? ABSENT : state[victim];
      if (s === REFERENCED) state[victim] = CACHED;
      else if (s === CACHED || victim === FREE) {
        if (victim === FREE) this.#free--;
        else state[victim] = ABSENT;
        ring[at] = g;
        return at;
      }
    }
    return -1;
  }
}
