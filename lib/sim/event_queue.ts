/**
 * The kernel's pending-event set: a calendar queue (R. Brown, "Calendar
 * queues: a fast O(1) priority queue implementation for the simulation event
 * set problem", CACM 31(10), 1988) ordered by (time, priority, sequence) on
 * typed arrays. Time is cut into `buckets` days of `width` ns that repeat every
 * year (buckets x width); each day keeps its entries in a sorted list, so a
 * push appends or walks a short list and a pop takes the head of the current
 * day. The days double when the entries outnumber them and halve below a
 * quarter; each time, the width is fitted to the spacing of the earliest
 * entries, and again when the queue notices it works too hard per operation
 * (a skewed or shifting distribution). Whatever the width, the order is exact:
 * it only changes the cost.
 * The sequence number makes same-time, same-priority entries FIFO, so a run
 * is deterministic.
 * @module
 */

/** Priority of interrupts and process initialisation: overtakes NORMAL at the same instant. */
export const URGENT = 0;
/** Priority of ordinary events. */
export const NORMAL = 1;
/** Largest allowed priority (lower values run first). */
export const MAX_PRIORITY = 255;

// priority * 2^44 + seq stays below 2^53, so the pair is one exact double.
const SEQ_SPAN = 2 ** 44;
const NIL = -1;
const MIN_BUCKETS = 16;
/** Operations between two looks at the work per operation. */
const REVIEW_EVERY = 4096;
/** Average list steps and empty days passed per operation above which the width is re-fitted. */
const MAX_WORK = 8;
/** Earliest entries whose spacing sets the width (Brown samples about 25). */
const SAMPLE = 32;

/** True when entry (ta, ka) comes before (tb, kb): earlier time, or the same time and a smaller key. */
function earlier(ta: number, ka: number, tb: number, kb: number): boolean {
  return ta < tb || (ta === tb && ka < kb);
}

/** Work counters of an {@link EventQueue} (for tests and tuning; they never affect order). */
export interface EventQueueStats {
  /** Pushes, pops and removals so far. */
  operations: number;
  /** List entries stepped over on push and removal plus days passed on pop (the queue's own work). */
  work: number;
  /** Times the days were laid out again (resize or re-fit). */
  rebuilds: number;
  /** Current number of days. */
  buckets: number;
  /** Current day width (ns). */
  width: number;
}

/**
 * Event queue keyed by (time, priority, seq).
 * @example
 * ```ts
 * import { EventQueue, NORMAL, URGENT } from "./event_queue.ts";
 * const q = new EventQueue<string>();
 * q.push(5, NORMAL, "b");
 * q.push(5, URGENT, "a");
 * q.push(1, NORMAL, "first");
 * console.assert(q.pop() === "first" && q.pop() === "a" && q.pop() === "b");
 * ```
 */
export class EventQueue<T> {
  // Per slot: the entry's time, (priority, seq) key, next slot in its day, payload.
  #time: Float64Array;
  #key: Float64Array;
  #next: Int32Array;
  #payload: (T | undefined)[];
  #free: Int32Array;
  #freeTop: number;
  // Per day: first and last slot of its sorted list (laid out by #layDays).
  #head!: Int32Array;
  #tail!: Int32Array;
  #mask!: number;
  #width = 1;
  // No spacing seen yet (empty, or every entry at one instant): fit at the next review.
  #unfitted = true;
  // The scan stands on day `cur`, which covers [top - width, top) this year;
  // no entry is earlier than top - width.
  #cur = 0;
  #top = 1;
  #size = 0;
  #seq = 0;
  #ops = 0;
  // Work: list entries stepped over on push and removal (walk), days passed on pop (scan).
  #walk = 0;
  #scan = 0;
  #windowOps = 0;
  #windowWalk = 0;
  #windowScan = 0;
  #rebuilds = 0;
  #reviewEvery = REVIEW_EVERY;
  #reviewAt = REVIEW_EVERY;
  // Per day: the entry last inserted inside its list, valid while that slot
  // keeps the key (a taken slot's key is set to -1).
  #finger!: Int32Array;
  #fingerKey!: Float64Array;

  /** An empty queue with room for `initialCapacity` entries (at least 4) before it grows. */
  constructor(initialCapacity = 1024) {
    const cap = Math.max(4, initialCapacity);
    this.#time = new Float64Array(cap);
    this.#key = new Float64Array(cap);
    this.#next = new Int32Array(cap);
    this.#payload = new Array(cap).fill(undefined);
    this.#free = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.#free[i] = cap - 1 - i;
    this.#freeTop = cap;
    this.#layDays(MIN_BUCKETS);
  }

  /** Empty days, `buckets` of them. */
  #layDays(buckets: number): void {
    this.#head = new Int32Array(buckets).fill(NIL);
    this.#tail = new Int32Array(buckets).fill(NIL);
    this.#finger = new Int32Array(buckets).fill(NIL);
    this.#fingerKey = new Float64Array(buckets);
    this.#mask = buckets - 1;
  }

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** Work counters (see {@link EventQueueStats}). */
  get stats(): EventQueueStats {
    return {
      operations: this.#ops,
      work: this.#walk + this.#scan,
      rebuilds: this.#rebuilds,
      buckets: this.#mask + 1,
      width: this.#width,
    };
  }

  /** Time of the earliest entry, or Infinity when empty. */
  peekTime(): number {
    return this.#size === 0 ? Infinity : this.#time[this.#find()];
  }

  /** Adds an entry; returns its sequence number. */
  push(time: number, priority: number, payload: T): number {
    const seq = this.#seq++;
    if (this.#freeTop === 0) this.#grow();
    const s = this.#free[--this.#freeTop];
    this.#time[s] = time;
    this.#key[s] = priority * SEQ_SPAN + seq;
    this.#payload[s] = payload;
    // Before the scan's day (the clock was set back by run(until) after a
    // peek) or into an empty queue: move the scan to the entry's day.
    if (this.#size === 0 || time < this.#top - this.#width) this.#moveTo(time);
    const steps = this.#insert(s);
    if (steps > 0) {
      this.#walk += steps;
      this.#overBudget();
    }
    this.#ops++;
    if (++this.#size > this.#mask + 1) this.#rebuild(2 * (this.#mask + 1));
    return seq;
  }

  /** Removes and returns the earliest entry's payload (undefined when empty). */
  pop(): T | undefined {
    return this.#size === 0 ? undefined : this.#take(this.#find());
  }

  /**
   * Removes and returns the earliest entry's payload if its time is before
   * `until` (and leaves its time in {@link lastTime}); undefined otherwise.
   * The run loop's one call per entry.
   */
  popBefore(until: number): T | undefined {
    if (this.#size === 0) return undefined;
    const s = this.#find();
    const t = this.#time[s];
    if (!(t < until)) return undefined;
    this.lastTime = t;
    return this.#take(s);
  }

  /** Time of the entry the last {@link popBefore} returned. */
  lastTime = 0;

  /**
   * Removes the entry that {@link push} queued as (`time`, `priority`) and
   * numbered `seq`, if it is still queued; returns whether it was. The entry
   * is unlinked from its day's list at once (a walk of that short list), so
   * {@link size}, {@link peekTime} and the pops never see it and pay nothing.
   * @example
   * ```ts
   * import { EventQueue, NORMAL } from "./event_queue.ts";
   * const q = new EventQueue<string>();
   * const seq = q.push(5, NORMAL, "cancelled");
   * q.push(9, NORMAL, "kept");
   * console.assert(q.remove(5, NORMAL, seq) && !q.remove(5, NORMAL, seq));
   * console.assert(q.size === 1 && q.peekTime() === 9 && q.pop() === "kept");
   * ```
   */
  remove(time: number, priority: number, seq: number): boolean {
    if (this.#size === 0) return false;
    const t = this.#time, k = this.#key, nx = this.#next;
    const key = priority * SEQ_SPAN + seq;
    const day = Math.floor(time / this.#width) & this.#mask;
    let prev = NIL, h = this.#head[day], steps = 0;
    // The day's list is sorted: stop at the entry or at the first one after it.
    while (h !== NIL && earlier(t[h], k[h], time, key)) {
      prev = h;
      h = nx[h];
      steps++;
    }
    if (h === NIL || t[h] !== time || k[h] !== key) return false;
    const after = nx[h];
    if (prev === NIL) this.#head[day] = after;
    else nx[prev] = after;
    if (after === NIL) this.#tail[day] = prev;
    this.#payload[h] = undefined;
    k[h] = -1; // also invalidates a finger on this slot
    this.#free[this.#freeTop++] = h;
    this.#ops++;
    if (steps > 0) {
      this.#walk += steps;
      this.#overBudget();
    }
    const buckets = this.#mask + 1;
    if (--this.#size < buckets >> 2 && buckets > MIN_BUCKETS) this.#rebuild(buckets >> 1);
    return true;
  }

  /** Unlinks slot `s`, the head of the scan's day. */
  #take(s: number): T | undefined {
    const day = this.#cur;
    const nx = this.#next[s];
    this.#head[day] = nx;
    if (nx === NIL) this.#tail[day] = NIL;
    const payload = this.#payload[s];
    this.#payload[s] = undefined;
    this.#key[s] = -1;
    this.#free[this.#freeTop++] = s;
    const buckets = this.#mask + 1;
    this.#ops++;
    if (--this.#size < buckets >> 2 && buckets > MIN_BUCKETS) this.#rebuild(buckets >> 1);
    else if (this.#ops >= this.#reviewAt) this.#review();
    return payload;
  }

  /** Puts slot `s` into its day's sorted list; returns the list entries it stepped over. */
  #insert(s: number): number {
    const t = this.#time, k = this.#key, nx = this.#next;
    const time = t[s], key = k[s];
    const day = Math.floor(time / this.#width) & this.#mask;
    const last = this.#tail[day];
    if (last === NIL) {
      this.#head[day] = s;
      this.#tail[day] = s;
      nx[s] = NIL;
      return 0;
    }
    if (earlier(t[last], k[last], time, key)) {
      // The common case: at or after the day's last entry.
      nx[last] = s;
      nx[s] = NIL;
      this.#tail[day] = s;
      return 0;
    }
    let h = this.#head[day];
    if (earlier(time, key, t[h], k[h])) {
      nx[s] = h;
      this.#head[day] = s;
      return 0;
    }
    // Somewhere inside (the tail is later, so the walk stops before it). A
    // burst at one instant inserts each entry right after the previous one:
    // start from the day's last inside insert when it is not later.
    let prev = h, steps = 1;
    const f = this.#finger[day];
    if (f !== NIL && k[f] === this.#fingerKey[day] && earlier(t[f], k[f], time, key)) prev = f;
    this.#finger[day] = s;
    this.#fingerKey[day] = key;
    h = nx[prev];
    while (!earlier(time, key, t[h], k[h])) {
      prev = h;
      h = nx[h];
      steps++;
    }
    nx[s] = h;
    nx[prev] = s;
    return steps;
  }

  /** The slot of the earliest entry (the queue is not empty); leaves the scan on its day. */
  #find(): number {
    const t = this.#time, head = this.#head, mask = this.#mask, width = this.#width;
    let cur = this.#cur, top = this.#top;
    let h = head[cur];
    if (h !== NIL && t[h] < top) return h;
    for (let n = 0; n <= mask; n++) {
      cur = (cur + 1) & mask;
      top += width;
      h = head[cur];
      if (h !== NIL && t[h] < top) {
        this.#cur = cur;
        this.#top = top;
        this.#scan += n + 1;
        return h;
      }
    }
    // A whole year without a due entry: jump to the earliest day head.
    let best = NIL;
    for (let d = 0; d <= mask; d++) {
      const x = head[d];
      if (x === NIL) continue;
      if (best === NIL || earlier(t[x], this.#key[x], t[best], this.#key[best])) best = x;
    }
    this.#scan += 2 * (mask + 1);
    this.#overBudget();
    this.#moveTo(t[best]);
    return best;
  }

  /** Puts the scan on the day of `time`. */
  #moveTo(time: number): void {
    const q = Math.floor(time / this.#width);
    this.#cur = q & this.#mask;
    this.#top = (q + 1) * this.#width;
  }

  /** A window's work spent before its end (a full year passed, long walks): review at the next pop. */
  #overBudget(): void {
    const work = this.#walk - this.#windowWalk + this.#scan - this.#windowScan;
    if (work > MAX_WORK * this.#reviewEvery) this.#reviewAt = this.#ops;
  }

  /**
   * Every `reviewEvery` operations (sooner when over budget): when the work
   * per operation is high, lay the days out again. Days passed on pop mean
   * days too narrow, list steps on push days too wide: the fitted width, but
   * at least 4x wider or narrower. A width never fitted is fitted here.
   */
  #review(): void {
    const ops = this.#ops - this.#windowOps;
    const walk = this.#walk - this.#windowWalk, scan = this.#scan - this.#windowScan;
    const busy = walk + scan > MAX_WORK * ops;
    if (busy || this.#unfitted) {
      const before = this.#width;
      this.#rebuild(this.#mask + 1, !busy ? 1 : scan > walk ? 4 : 0.25);
      // As narrow as it goes: look again less often (no rebuild loop).
      this.#reviewEvery = this.#width === before ? this.#reviewEvery * 2 : REVIEW_EVERY;
    }
    this.#windowOps = this.#ops;
    this.#reviewAt = this.#ops + this.#reviewEvery;
    this.#windowWalk = this.#walk;
    this.#windowScan = this.#scan;
  }

  /**
   * Lays the entries out again on `buckets` days. The width: Brown's rule,
   * three times the mean spacing of the earliest entries (past ties, a burst at
   * one instant, it looks further until the times differ); with `change`, at
   * least `change` times the current width (above 1) or at most (below 1).
   */
  #rebuild(buckets: number, change = 1): void {
    this.#rebuilds++;
    const n = this.#size;
    const t = this.#time, nx = this.#next, oldHead = this.#head, oldMask = this.#mask;
    const times = new Float64Array(n);
    let i = 0;
    for (let d = 0; d <= oldMask; d++) {
      for (let h = oldHead[d]; h !== NIL; h = nx[h]) times[i++] = t[h];
    }
    times.sort();
    let width = this.#width;
    if (n > 1) {
      let m = Math.min(n - 1, SAMPLE);
      let span = times[m] - times[0];
      while (span === 0 && m < n - 1) {
        m = Math.min(n - 1, m * 4);
        span = times[m] - times[0];
      }
      if (span > 0) width = Math.round((3 * span) / m);
      this.#unfitted = span === 0;
    }
    if (change > 1) width = Math.max(width, this.#width * change);
    else if (change < 1) width = Math.min(width, Math.floor(this.#width * change));
    this.#width = Math.max(1, width);
    this.#layDays(buckets);
    // Day by day: each old list is sorted, so what stays together appends.
    // (The walks are the re-layout's, not counted as the operations' work.)
    for (let d = 0; d <= oldMask; d++) {
      for (let h = oldHead[d]; h !== NIL;) {
        const next = nx[h];
        this.#insert(h);
        h = next;
      }
    }
    if (n > 0) this.#moveTo(times[0]);
  }

  #grow(): void {
    const old = this.#time.length, cap = old * 2;
    const t = new Float64Array(cap), k = new Float64Array(cap), nx = new Int32Array(cap);
    t.set(this.#time);
    k.set(this.#key);
    nx.set(this.#next);
    this.#time = t;
    this.#key = k;
    this.#next = nx;
    for (let i = old; i < cap; i++) this.#payload.push(undefined);
    const free = new Int32Array(cap);
    free.set(this.#free.subarray(0, this.#freeTop));
    for (let i = cap - 1; i >= old; i--) free[this.#freeTop++] = i;
    this.#free = free;
  }
}
