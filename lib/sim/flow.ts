/**
 * Flow-level bandwidth sharing (SimGrid's fluid model, simplified): links
 * have a capacity (bytes/s) and a latency; a flow moves `bytes` over a route
 * of links. Rates are the max-min fair allocation, computed by progressive
 * filling whenever a flow arrives or finishes; each flow may also carry its
 * own rate cap (a window, a disk, a NIC). A flow completes `latency` (the sum
 * over its route) after its last byte was sent.
 *
 * Cost per reallocation: O(F·R·log L) for F active flows with routes of R
 * links over L links (each flow is fixed once; links sit in a lazy heap), plus
 * a single wake-up timer for the earliest completion, so there is no
 * per-flow heap traffic. Arrivals in one instant are batched into one
 * reallocation (run URGENT at the same instant, or at once when a rate is read).
 */
import { requireNumber } from "../_util/mod.ts";
import type { Bytes, SimTime } from "../_util/mod.ts";
import { URGENT } from "./event_queue.ts";
import { SimEvent, type Simulation } from "./simulation.ts";

/** Options of {@link FlowNetwork.link}. */
export interface LinkOptions {
  /** Name for traces and errors. */
  name: string;
  /** Capacity in bytes per second (> 0). */
  bandwidth: number;
  /** One-way latency added to each flow crossing it, ns. @default 0 */
  latency?: SimTime;
}

/** A shared link. */
export class Link {
  /** Name for traces and errors. */
  readonly name: string;
  /** Capacity shared max-min fairly by the flows crossing it, bytes/s. */
  readonly bandwidth: number;
  /** One-way latency added to each flow crossing it, ns. */
  readonly latency: SimTime;
  /** Bytes delivered over this link by finished flows. */
  bytesCarried = 0;
  /** @internal active flows crossing this link */
  _flows = new Set<Flow>();
  /** @internal progressive-filling scratch */
  _rem = 0;
  /** @internal */ _n = 0;
  /** @internal */ _done = false;

  /** A link with no flows (use {@link FlowNetwork.link} to add one to a network). */
  constructor(options: LinkOptions) {
    const { name, bandwidth, latency = 0 } = options;
    requireNumber(`create link '${name}'`, "bandwidth", bandwidth, { min: 0, strict: true });
    requireNumber(`create link '${name}'`, "latency", latency, { integer: true, min: 0 });
    this.name = name;
    this.bandwidth = bandwidth;
    this.latency = latency;
  }

  /** Active flows on this link. */
  get activeFlows(): number {
    return this._flows.size;
  }
  /** Sum of the current rates of flows on this link (bytes/s). */
  get load(): number {
    let s = 0;
    for (const f of this._flows) s += f.rate;
    return s;
  }
}

/** Options of {@link FlowNetwork.flow}. */
export interface FlowOptions {
  /** Links crossed, in order (may be empty when `maxRate` is set). */
  route: readonly Link[];
  /** Bytes to move (>= 0). */
  bytes: Bytes;
  /** Own rate cap in bytes/s (window, endpoint); Infinity: no cap of its own. @default Infinity */
  maxRate?: number;
  /**
   * Delay from the last byte sent to completion, ns. @default the route's
   * summed link latency (a multicast tree sets its deepest path's instead)
   */
  latency?: SimTime;
  /** Label for traces. */
  name?: string;
}

/** A transfer in progress; an event that succeeds with itself on completion. */
export class Flow extends SimEvent<Flow> {
  /** @internal current rate, bytes/s */
  _rate = 0;
  /** When the flow was started, ns. */
  readonly startedAt: SimTime;
  /**
   * When its last byte left, ns (NaN until then); the flow completes the
   * route's summed latency later.
   */
  sentAt: SimTime = NaN;
  /** @internal The {@link Flow.sent} event, made on first use. */ _sent?: SimEvent<Flow>;
  /** @internal */ _remaining: number;
  /** @internal */ _fixed = false;
  /** Links crossed, in order. */
  readonly route: readonly Link[];
  /** Bytes to move in total. */
  readonly bytes: Bytes;
  /** Own rate cap, bytes/s (Infinity when only the links limit it). */
  readonly maxRate: number;
  /** Delay from the last byte sent to completion, ns. */
  readonly latency: SimTime;
  /** Label for traces. */
  readonly name: string;
  readonly #net: FlowNetwork;
  /** A flow of `net` starting now (models use {@link FlowNetwork.flow}). */
  constructor(net: FlowNetwork, options: FlowOptions) {
    super(net.sim);
    this.#net = net;
    this.route = options.route;
    this.bytes = options.bytes;
    this.maxRate = options.maxRate ?? Infinity;
    let lat = 0;
    for (const l of options.route) lat += l.latency;
    this.latency = options.latency ?? lat;
    this.name = options.name ?? "flow";
    this._remaining = options.bytes;
    this.startedAt = net.sim.now;
  }
  /** Current rate, bytes/s (settles a pending reallocation first). */
  get rate(): number {
    this.#net._settle();
    return this._rate;
  }
  /** Bytes not yet sent, as of the last reallocation. */
  get remaining(): number {
    return Math.max(0, this._remaining);
  }
  /**
   * An event that succeeds with this flow when its last byte left
   * ({@link Flow.sentAt}), the route's latency before the flow completes: a
   * sender's own resources (a NIC's queue, a descriptor) are free from then.
   * @example
   * ```ts
   * import { Simulation } from "./simulation.ts";
   * import { FlowNetwork } from "./flow.ts";
   * const sim = new Simulation();
   * const net = new FlowNetwork(sim);
   * const f = net.flow({ route: [net.link({ name: "l", bandwidth: 1e9, latency: 500 })], bytes: 1_000 });
   * let sent = -1;
   * f.sent.then(() => (sent = sim.now));
   * sim.run();
   * console.assert(sent === 1_000 && f.processed && sim.now === 1_500);
   * ```
   */
  get sent(): SimEvent<Flow> {
    if (this._sent === undefined) {
      this._sent = new SimEvent<Flow>(this.sim);
      if (!Number.isNaN(this.sentAt)) this._sent.succeed(this);
    }
    return this._sent;
  }
}

/**
 * A set of links and the flows over them.
 * @example
 * ```ts
 * import { Simulation } from "./simulation.ts";
 * import { FlowNetwork } from "./flow.ts";
 * const sim = new Simulation();
 * const net = new FlowNetwork(sim);
 * const l = net.link({ name: "uplink", bandwidth: 100e6 });
 * const a = net.flow({ route: [l], bytes: 100e6 });
 * const b = net.flow({ route: [l], bytes: 50e6 });
 * sim.run();
 * // b gets 50 MB/s until it ends at 1 s; then a has the whole link.
 * console.assert(b.sentAt === 1e9 && a.sentAt === 1.5e9);
 * ```
 */
export class FlowNetwork {
  /** Reallocations done (arrivals plus completion batches). */
  reallocations = 0;
  #flows = new Set<Flow>();
  #links = new Set<Link>();
  #lastUpdate: SimTime = 0;
  #timerToken = 0;
  #dirty = false;

  /** An empty network whose flows run on `sim`'s clock. */
  constructor(readonly sim: Simulation) {}

  /** Creates a link. */
  link(options: LinkOptions): Link {
    const l = new Link(options);
    this.#links.add(l);
    return l;
  }

  /** Active flows. */
  get activeFlows(): number {
    return this.#flows.size;
  }

  /** Starts a flow now; yield it to wait for completion. */
  flow(options: FlowOptions): Flow {
    const what = `start flow${options.name ? ` '${options.name}'` : ""}`;
    requireNumber(what, "bytes", options.bytes, { min: 0 });
    if (options.maxRate !== undefined && options.maxRate !== Infinity) {
      requireNumber(what, "maxRate", options.maxRate, { min: 0, strict: true });
    }
    if (options.latency !== undefined) {
      requireNumber(what, "latency", options.latency, { integer: true, min: 0 });
    }
    if (!Array.isArray(options.route)) {
      throw new TypeError(`Cannot ${what}: 'route' must be an array of links`);
    }
    for (const l of options.route) {
      if (!(l instanceof Link) || !this.#links.has(l)) {
        throw new TypeError(`Cannot ${what}: 'route' holds a link not created by this network`);
      }
    }
    if (options.route.length === 0 && (options.maxRate ?? Infinity) === Infinity) {
      throw new RangeError(`Cannot ${what}: an empty 'route' needs a finite 'maxRate'`);
    }
    const f = new Flow(this, options);
    if (f.bytes === 0) {
      this.#deliver(f);
      return f;
    }
    this.#advance();
    this.#flows.add(f);
    for (const l of f.route) l._flows.add(f);
    if (!this.#dirty) {
      this.#dirty = true;
      this.sim.call(0, () => this._settle(), URGENT);
    }
    return f;
  }

  /** @internal Runs a pending reallocation now. */
  _settle(): void {
    if (this.#dirty) {
      this.#dirty = false;
      this.#reallocate();
    }
  }

  /** Moves every flow's remaining bytes forward to `now`. */
  #advance(): void {
    const now = this.sim.now;
    const dt = (now - this.#lastUpdate) / 1e9;
    if (dt > 0) { for (const f of this.#flows) f._remaining -= f._rate * dt; }
    this.#lastUpdate = now;
  }

  /** Progressive filling, then one timer for the earliest completion. */
  #reallocate(): void {
    this.reallocations++;
    const flows = this.#flows;
    // Reset scratch on links in use.
    const used: Link[] = [];
    for (const f of flows) {
      f._fixed = false;
      for (const l of f.route) {
        if (l._n === 0 && !l._done) {
          used.push(l);
          l._done = true; // marks "collected"; cleared below
        }
        l._n++;
      }
    }
    for (const l of used) {
      l._done = false;
      l._rem = l.bandwidth;
    }
    const heap = new LinkHeap();
    for (const l of used) heap.push(l._rem / l._n, l);
    const capped: Flow[] = [];
    for (const f of flows) if (f.maxRate !== Infinity) capped.push(f);
    capped.sort((a, b) => a.maxRate - b.maxRate);
    let ci = 0;
    let unfixed = flows.size;
    const fix = (f: Flow, rate: number) => {
      f._fixed = true;
      f._rate = rate;
      unfixed--;
      for (const l of f.route) {
        l._rem -= rate;
        l._n--;
        if (!l._done && l._n > 0) heap.push(Math.max(0, l._rem) / l._n, l);
      }
    };
    while (unfixed > 0) {
      while (ci < capped.length && capped[ci]._fixed) ci++;
      const top = heap.peek();
      const linkShare = top === undefined ? Infinity : top.share;
      if (ci < capped.length && capped[ci].maxRate <= linkShare) {
        fix(capped[ci++], capped[ci - 1].maxRate);
        continue;
      }
      if (top === undefined) break; // cannot happen: uncapped flows have links
      heap.pop(); // peek() returned a live entry: the top is not stale
      const l = top.link;
      l._done = true;
      const share = Math.max(0, l._rem) / Math.max(1, l._n);
      for (const f of l._flows) if (!f._fixed) fix(f, share);
    }
    for (const l of used) {
      l._done = false;
      l._n = 0;
    }
    // One timer for the earliest completion.
    let next = Infinity;
    for (const f of flows) {
      if (f._rate > 0) {
        const t = f._remaining / f._rate;
        if (t < next) next = t;
      }
    }
    const token = ++this.#timerToken;
    if (next !== Infinity) {
      const delay = Math.max(0, Math.ceil(next * 1e9));
      this.sim.call(delay, () => {
        if (token === this.#timerToken) this.#complete();
      });
    }
  }

  #complete(): void {
    this.#advance();
    const done: Flow[] = [];
    for (const f of this.#flows) {
      // Within one nanosecond of sending (integer-ns rounding) counts as sent.
      if (f._remaining <= f._rate * 1e-9 + 1e-6) done.push(f);
    }
    for (const f of done) {
      this.#flows.delete(f);
      for (const l of f.route) {
        l._flows.delete(f);
        l.bytesCarried += f.bytes;
      }
      f._remaining = 0;
      f._rate = 0;
    }
    this.#dirty = false;
    this.#reallocate();
    for (const f of done) this.#deliver(f);
  }

  #deliver(f: Flow): void {
    f.sentAt = this.sim.now;
    f._sent?.succeed(f);
    if (f.latency === 0) f.succeed(f);
    else this.sim.call(f.latency, () => f.succeed(f));
  }
}

interface HeapEntry {
  share: number;
  link: Link;
  n: number;
}

/**
 * Min-heap of link shares with lazy invalidation: an entry is stale once its
 * link is fixed or its flow count changed, and {@link LinkHeap.peek} drops
 * stale tops. A reallocation builds a new heap, so entries never outlive it.
 */
class LinkHeap {
  #a: HeapEntry[] = [];
  push(share: number, link: Link): void {
    const a = this.#a;
    const e = { share, link, n: link._n };
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].share <= share) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = e;
  }
  peek(): HeapEntry | undefined {
    // Drop stale tops so peek reflects a live share.
    const a = this.#a;
    while (a.length > 0) {
      const e = a[0];
      if (!e.link._done && e.n === e.link._n) return e;
      this.pop();
    }
    return undefined;
  }
  pop(): HeapEntry | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      const n = a.length;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && a[c + 1].share < a[c].share) c++;
        if (a[c].share >= last.share) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
