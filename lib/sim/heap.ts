/**
 * Binary min-heap of scheduled entries ordered by (time, priority, sequence).
 * Only times and slot numbers live in the heap order (two typed arrays, the
 * only data that moves while sifting); the (priority, sequence) key and the
 * payload stay put in per-slot tables, since the key is only read to break a
 * tie in time. So sifting does no pointer writes (and no GC write barriers).
 * The sequence number makes same-time, same-priority entries FIFO, so a run
 * is deterministic.
 */

/** Priority of interrupts and process initialisation: overtakes NORMAL at the same instant. */
export const URGENT = 0;
/** Priority of ordinary events. */
export const NORMAL = 1;
/** Largest allowed priority (lower values run first). */
export const MAX_PRIORITY = 255;

// priority * 2^44 + seq stays below 2^53, so the pair is one exact double.
const SEQ_SPAN = 2 ** 44;

/**
 * Event heap keyed by (time, priority, seq).
 * @example
 * ```ts
 * import { EventHeap, NORMAL, URGENT } from "./heap.ts";
 * const h = new EventHeap<string>();
 * h.push(5, NORMAL, "b");
 * h.push(5, URGENT, "a");
 * h.push(1, NORMAL, "first");
 * console.assert(h.pop() === "first" && h.pop() === "a" && h.pop() === "b");
 * ```
 */
export class EventHeap<T> {
  #time: Float64Array;
  #slot: Int32Array;
  /** (priority, seq) key of each slot. */
  #key: Float64Array;
  #payload: (T | undefined)[];
  #free: Int32Array;
  #freeTop = 0;
  #size = 0;
  #seq = 0;
  // pop() leaves the root empty; the next push() fills it with one sift-down.
  #hole = false;
  #holeSlot = 0;

  /** An empty heap with room for `initialCapacity` entries (at least 4) before it grows. */
  constructor(initialCapacity = 1024) {
    const cap = Math.max(4, initialCapacity);
    this.#time = new Float64Array(cap);
    this.#key = new Float64Array(cap);
    this.#slot = new Int32Array(cap);
    this.#payload = new Array(cap).fill(undefined);
    this.#free = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.#free[i] = cap - 1 - i;
    this.#freeTop = cap;
  }

  /** Number of entries. */
  get size(): number {
    return this.#hole ? this.#size - 1 : this.#size;
  }

  /** Time of the earliest entry, or Infinity when empty. */
  peekTime(): number {
    if (this.#hole) this.#settle();
    return this.#size === 0 ? Infinity : this.#time[0];
  }

  /** Adds an entry; returns its sequence number. */
  push(time: number, priority: number, payload: T): number {
    const seq = this.#seq++;
    const key = priority * SEQ_SPAN + seq;
    if (this.#hole) {
      this.#hole = false;
      const slot = this.#holeSlot;
      this.#payload[slot] = payload;
      this.#key[slot] = key;
      this.#siftDown(time, key, slot);
      return seq;
    }
    if (this.#freeTop === 0) this.#grow();
    const slot = this.#free[--this.#freeTop];
    this.#payload[slot] = payload;
    const t = this.#time, k = this.#key, s = this.#slot;
    k[slot] = key;
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = t[parent];
      if (pt < time || (pt === time && k[s[parent]] < key)) break;
      t[i] = pt;
      s[i] = s[parent];
      i = parent;
    }
    t[i] = time;
    s[i] = slot;
    return seq;
  }

  /** Removes and returns the earliest entry's payload (undefined when empty). */
  pop(): T | undefined {
    if (this.#hole) this.#settle();
    if (this.#size === 0) return undefined;
    const slot = this.#slot[0];
    const top = this.#payload[slot];
    this.#payload[slot] = undefined;
    this.#hole = true;
    this.#holeSlot = slot;
    return top;
  }

  /** Fills the hole at the root with the last entry and frees the hole's slot. */
  #settle(): void {
    this.#hole = false;
    this.#free[this.#freeTop++] = this.#holeSlot;
    const last = --this.#size;
    if (last === 0) return;
    const slot = this.#slot[last];
    this.#siftDown(this.#time[last], this.#key[slot], slot);
  }

  /** Places (time, key, slot) at the root and sifts it down. */
  #siftDown(time: number, key: number, slot: number): void {
    const t = this.#time, k = this.#key, s = this.#slot;
    const n = this.#size;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n) {
        const tr = t[r], tc = t[c];
        if (tr < tc || (tr === tc && k[s[r]] < k[s[c]])) c = r;
      }
      const tc = t[c];
      if (time < tc || (time === tc && key < k[s[c]])) break;
      t[i] = tc;
      s[i] = s[c];
      i = c;
    }
    t[i] = time;
    s[i] = slot;
  }

  #grow(): void {
    const old = this.#time.length, cap = old * 2;
    const t = new Float64Array(cap), k = new Float64Array(cap), s = new Int32Array(cap);
    t.set(this.#time);
    k.set(this.#key);
    s.set(this.#slot);
    this.#time = t;
    this.#key = k;
    this.#slot = s;
    for (let i = old; i < cap; i++) this.#payload.push(undefined);
    const free = new Int32Array(cap);
    free.set(this.#free.subarray(0, this.#freeTop));
    for (let i = cap - 1; i >= old; i--) free[this.#freeTop++] = i;
    this.#free = free;
  }
}
