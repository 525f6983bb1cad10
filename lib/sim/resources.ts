/**
 * Shared resources for processes: a FIFO {@link Resource} with capacity k
 * (with time-weighted queue statistics) and a {@link Store} (FIFO queue of
 * items, optionally bounded, whose waiting gets and puts can be cancelled).
 */
import { fieldIssue, issuesError, numberIssue, showValue, unknownKeyIssues } from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import { SimEvent, type Simulation } from "./simulation.ts";

/** Queue statistics of a {@link Resource}, time-weighted from t=0 to `now`. */
export interface ResourceStats {
  /** Requests granted so far. */
  granted: number;
  /** Mean number of waiting requests. */
  meanQueueLength: number;
  /** Mean number of busy units divided by capacity. */
  utilization: number;
  /** Mean wait from request to grant, ns (over granted requests). */
  meanWait: number;
  /** Longest queue seen. */
  maxQueueLength: number;
}

/**
 * A request for one unit of a {@link Resource}; an event that succeeds when
 * granted. Release it with `release()` or a `using` declaration; cancelling an
 * ungranted request removes it from the queue.
 */
export class Request extends SimEvent<Request> {
  /** When the request was made. */
  readonly requestedAt: SimTime;
  /** When it was granted (NaN before). */
  grantedAt: SimTime = NaN;
  #released = false;
  /** A request on `resource`, made now (models use `resource.request()`). */
  constructor(readonly resource: Resource) {
    super(resource.sim);
    this.requestedAt = resource.sim.now;
  }
  /** Gives the unit back (or withdraws the request if still queued). Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.resource._release(this);
  }
  /** Releases at the end of a `using` block: same as {@link Request.release}. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * FIFO server with `capacity` identical units.
 * @example
 * ```ts
 * import { Simulation } from "./simulation.ts";
 * import { Resource } from "./resources.ts";
 * const sim = new Simulation();
 * const cpu = new Resource(sim, { capacity: 1 });
 * const done: number[] = [];
 * for (let i = 0; i < 2; i++) {
 *   sim.process(function* () {
 *     using req = cpu.request();
 *     yield req;
 *     yield sim.timeout(5);
 *     done.push(sim.now);
 *   });
 * }
 * sim.run();
 * console.assert(done.join() === "5,10");
 * ```
 */
export class Resource {
  /** Number of identical units (an integer >= 1). */
  readonly capacity: number;
  /** Name for errors and traces. */
  readonly name: string;
  #users = new Set<Request>();
  #queue: Request[] = [];
  #qHead = 0;
  // time-weighted integrals
  #lastT = 0;
  #qArea = 0;
  #busyArea = 0;
  #waitSum = 0;
  #granted = 0;
  #maxQ = 0;

  /**
   * A resource of `sim` with `capacity` units (default 1), all free.
   * @throws RangeError naming every option that breaks its rule or is not an option
   */
  constructor(readonly sim: Simulation, options: { capacity?: number; name?: string } = {}) {
    const { capacity = 1, name = "resource" } = options;
    const issues = [
      ...unknownKeyIssues(options, ["capacity", "name"]),
      numberIssue("capacity", capacity, { integer: true, min: 0, strict: true }),
      typeof name === "string" ? undefined : fieldIssue("name", "text", showValue(name)),
    ].filter((i) => i !== undefined);
    if (issues.length > 0) throw issuesError(`create resource '${String(name)}'`, issues);
    this.capacity = capacity;
    this.name = name;
  }

  /** Units in use. */
  get inUse(): number {
    return this.#users.size;
  }
  /** Requests waiting. */
  get queueLength(): number {
    return this.#queue.length - this.#qHead;
  }

  /** Asks for one unit; yield the returned request to wait for it. */
  request(): Request {
    this.#account();
    const req = new Request(this);
    if (this.#users.size < this.capacity && this.queueLength === 0) this.#grant(req);
    else {
      this.#queue.push(req);
      this.#maxQ = Math.max(this.#maxQ, this.queueLength);
    }
    return req;
  }

  /** Statistics so far. */
  stats(): ResourceStats {
    this.#account();
    const T = this.sim.now;
    return {
      granted: this.#granted,
      meanQueueLength: T > 0 ? this.#qArea / T : 0,
      utilization: T > 0 ? this.#busyArea / T / this.capacity : 0,
      meanWait: this.#granted > 0 ? this.#waitSum / this.#granted : 0,
      maxQueueLength: this.#maxQ,
    };
  }

  /** @internal */
  _release(req: Request): void {
    this.#account();
    if (this.#users.delete(req)) {
      while (this.#users.size < this.capacity && this.queueLength > 0) {
        this.#grant(this.#queue[this.#qHead++]);
      }
      if (this.#qHead > 1024 && this.#qHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#qHead);
        this.#qHead = 0;
      }
    } else {
      const i = this.#queue.indexOf(req, this.#qHead);
      if (i >= 0) this.#queue.splice(i, 1);
    }
  }

  #grant(req: Request): void {
    this.#users.add(req);
    req.grantedAt = this.sim.now;
    this.#waitSum += this.sim.now - req.requestedAt;
    this.#granted++;
    req.succeed(req);
  }

  #account(): void {
    const now = this.sim.now;
    const dt = now - this.#lastT;
    if (dt > 0) {
      this.#qArea += dt * this.queueLength;
      this.#busyArea += dt * this.#users.size;
      this.#lastT = now;
    }
  }
}

/**
 * A {@link Store.get} (value: the item) or {@link Store.put} (value:
 * undefined) that may have to wait. `cancel()`, or a `using` declaration,
 * withdraws it while it still waits, so a process interrupted while waiting
 * neither swallows the next item nor stores its item later. Once the event
 * has triggered, cancelling does nothing: a get's item is its value.
 */
export class StoreEvent<V> extends SimEvent<V> {
  /** @internal A put's item; undefined for a get. */
  readonly _item: unknown;
  /** A get (or, with `item`, a put) on `store`, made now (models use `get()`/`put()`). */
  constructor(readonly store: Store<unknown>, item?: unknown) {
    super(store.sim);
    this._item = item;
  }
  /** Withdraws the get or put if it still waits. Idempotent. */
  cancel(): void {
    if (!this.triggered) this.store._withdraw(this);
  }
  /** Cancels at the end of a `using` block: same as {@link StoreEvent.cancel}. */
  [Symbol.dispose](): void {
    this.cancel();
  }
}

/**
 * FIFO store of items; `get()` waits for an item, `put()` waits for room.
 * @example
 * ```ts
 * import { Simulation } from "./simulation.ts";
 * import { Store } from "./resources.ts";
 * const sim = new Simulation();
 * const q = new Store<string>(sim);
 * sim.process(function* () {
 *   using get = q.get(); // withdrawn if the process is interrupted while it waits
 *   const item = yield get;
 *   console.assert(item === "job" && sim.now === 3);
 * });
 * sim.call(3, () => void q.put("job"));
 * sim.run();
 * ```
 */
export class Store<T> {
  /** Most items held at once (an integer >= 1, or Infinity for unbounded). */
  readonly capacity: number;
  #items: T[] = [];
  #getters: StoreEvent<T>[] = [];
  #putters: StoreEvent<void>[] = [];

  /**
   * An empty store of `sim` holding at most `capacity` items (default unbounded).
   * @throws RangeError naming every option that breaks its rule or is not an option
   */
  constructor(readonly sim: Simulation, options: { capacity?: number } = {}) {
    const { capacity = Infinity } = options;
    const issues = unknownKeyIssues(options, ["capacity"]);
    if (!(capacity >= 1) || (capacity !== Infinity && !Number.isInteger(capacity))) {
      issues.push(fieldIssue("capacity", "an integer >= 1 or Infinity", capacity));
    }
    if (issues.length > 0) throw issuesError("create store", issues);
    this.capacity = capacity;
  }

  /** Items held. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds an item; the event succeeds once it is stored. */
  put(item: T): StoreEvent<void> {
    const ev = new StoreEvent<void>(this as Store<unknown>, item);
    const g = this.#getters.shift();
    if (g !== undefined) {
      g.succeed(item);
      ev.succeed();
    } else if (this.#items.length < this.capacity) {
      this.#items.push(item);
      ev.succeed();
    } else this.#putters.push(ev);
    return ev;
  }

  /** Takes the oldest item; the event's value is the item. */
  get(): StoreEvent<T> {
    const ev = new StoreEvent<T>(this as Store<unknown>);
    if (this.#items.length > 0) {
      ev.succeed(this.#items.shift()!);
      const p = this.#putters.shift();
      if (p !== undefined) {
        this.#items.push(p._item as T);
        p.succeed();
      }
    } else this.#getters.push(ev);
    return ev;
  }

  /** @internal Takes a waiting get or put off its queue. */
  _withdraw(ev: StoreEvent<unknown>): void {
    const g = this.#getters.indexOf(ev as StoreEvent<T>);
    if (g >= 0) this.#getters.splice(g, 1);
    else {
      const p = this.#putters.indexOf(ev as StoreEvent<void>);
      if (p >= 0) this.#putters.splice(p, 1);
    }
  }
}
