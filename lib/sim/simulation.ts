/**
 * The discrete-event kernel: a {@link Simulation} owns an integer-nanosecond
 * clock and an event queue; {@link SimEvent}s are triggered and then processed
 * in (time, priority, sequence) order; {@link Process}es are generator
 * functions that `yield` events (SimPy semantics). Plain callbacks
 * ({@link Simulation.call}) serve hot paths that need no process;
 * {@link Simulation.timer} schedules one that can be cancelled.
 */
import {
  fieldIssue,
  issuesError,
  numberIssue,
  rangeError,
  requireNumber,
  showValue,
  unknownKeyIssues,
} from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import { EventQueue, MAX_PRIORITY, NORMAL, URGENT } from "./event_queue.ts";
import { RngStreams } from "./rng.ts";

/** Lifecycle of an event: pending -> triggered (scheduled) -> processed. */
export type EventState = "pending" | "triggered" | "processed";

// SimEvent._f packs the lifecycle state (low two bits) with two outcome flags,
// so an event is four small fields (it is allocated once per timeout).
const PENDING = 0, TRIGGERED = 1, PROCESSED = 2, STATE = 3;
/** Triggered by fail(): _value is the error. */
const FAILED = 4;
/** A failure someone handled: it does not stop the run. */
const DEFUSED = 8;
const STATE_NAMES: readonly EventState[] = ["pending", "triggered", "processed"];

/** Something woken when an event is processed. */
type Waiter = Process<unknown> | ((ev: SimEvent<unknown>) => void);

/** What a process generator looks like. */
export type ProcessGenerator<T = unknown> = Generator<SimEvent<unknown>, T, unknown>;

/**
 * An event that may happen. Yield it from a process to wait for it, or add a
 * callback. A failed event that nobody waits for stops the run.
 * @example
 * ```ts
 * import { Simulation } from "./simulation.ts";
 * const sim = new Simulation();
 * const ev = sim.event<string>();
 * sim.process(function* () {
 *   const v = yield ev;
 *   console.assert(v === "go" && sim.now === 7);
 * });
 * sim.call(7, () => ev.succeed("go"));
 * sim.run();
 * ```
 */
export class SimEvent<T = unknown> {
  /** @internal State (low bits) | FAILED | DEFUSED. */ _f: number;
  /** @internal */ _value: unknown;
  /** @internal One waiter, or several in an array (the common case is one). */ _w:
    | Waiter
    | Waiter[]
    | null = null;

  /**
   * A pending event of `sim` (models use `sim.event()`; `f` and `value` are
   * the kernel's internal initial state).
   */
  constructor(readonly sim: Simulation, f: number = PENDING, value?: unknown) {
    this._f = f;
    this._value = value;
  }

  /** Current lifecycle state. */
  get state(): EventState {
    return STATE_NAMES[this._f & STATE];
  }
  /** True once triggered (succeeded or failed). */
  get triggered(): boolean {
    return (this._f & STATE) !== PENDING;
  }
  /** True once processed (its waiters have run). */
  get processed(): boolean {
    return (this._f & STATE) === PROCESSED;
  }
  /** True when triggered successfully. */
  get ok(): boolean {
    return (this._f & STATE) !== PENDING && (this._f & FAILED) === 0;
  }
  /** The value (or error) once triggered. */
  get value(): T {
    return this._value as T;
  }

  /** Triggers success now with `value`; waiters run in this instant. */
  succeed(value?: T, priority: number = NORMAL): this {
    if ((this._f & STATE) !== PENDING) {
      throw new Error(`Cannot succeed an event that is ${this.state}`);
    }
    this._value = value;
    this._f = (this._f & DEFUSED) | TRIGGERED;
    this.sim._schedule(this, 0, priority);
    return this;
  }

  /** Triggers failure now with `error`; a waiting process gets it thrown. */
  fail(error: Error, priority: number = NORMAL): this {
    if ((this._f & STATE) !== PENDING) {
      throw new Error(`Cannot fail an event that is ${this.state}`);
    }
    if (!(error instanceof Error)) throw new TypeError("fail() expects an Error");
    this._value = error;
    this._f = (this._f & DEFUSED) | FAILED | TRIGGERED;
    this.sim._schedule(this, 0, priority);
    return this;
  }

  /** Marks a failure as handled so it does not stop the run. */
  defuse(): this {
    this._f |= DEFUSED;
    return this;
  }

  /** Calls `fn` when the event is processed (at once if it already was, in the next instant). */
  then(fn: (ev: SimEvent<T>) => void): this {
    this._addWaiter(fn as (ev: SimEvent<unknown>) => void);
    return this;
  }

  /** @internal */
  _addWaiter(w: Waiter): void {
    if ((this._f & STATE) === PROCESSED) {
      // Late waiter: run it in the current instant, via the queue, to keep ordering.
      const ev = this as SimEvent<unknown>;
      this.sim.call(0, () => (typeof w === "function" ? w(ev) : w._resume(ev)));
      return;
    }
    const cur = this._w;
    if (cur === null) this._w = w;
    else if (Array.isArray(cur)) cur.push(w);
    else this._w = [cur, w];
  }

  /** @internal */
  _removeWaiter(w: Waiter): void {
    const cur = this._w;
    if (cur === w) this._w = null;
    else if (Array.isArray(cur)) {
      const i = cur.indexOf(w);
      if (i >= 0) cur.splice(i, 1);
      if (cur.length === 0) this._w = null;
    }
  }

  /** @internal Runs the waiters; called by the loop. */
  _process(): void {
    const f = this._f;
    const w = this._w;
    if (w === null) {
      this._f = (f & ~STATE) | PROCESSED;
      if ((f & (FAILED | DEFUSED)) === FAILED) throw this._value as Error;
      return;
    }
    this._w = null;
    // A failure with a waiter is handled by it.
    this._f = (f & FAILED) !== 0 ? (f & ~STATE) | PROCESSED | DEFUSED : (f & ~STATE) | PROCESSED;
    const self = this as SimEvent<unknown>;
    if (typeof w === "function") w(self);
    else if (!Array.isArray(w)) w._resume(self);
    else {
      for (let i = 0; i < w.length; i++) {
        const x = w[i];
        if (typeof x === "function") x(self);
        else x._resume(self);
      }
    }
  }
}

/**
 * Thrown into a process by {@link Process.interrupt}; `cause` says why.
 * @example
 * ```ts
 * import { Interrupt, Simulation } from "./simulation.ts";
 * const sim = new Simulation();
 * const p = sim.process(function* () {
 *   try { yield sim.timeout(100); } catch (e) { console.assert(e instanceof Interrupt); }
 * });
 * sim.call(10, () => p.interrupt("stop"));
 * sim.run();
 * ```
 */
export class Interrupt extends Error {
  /** Always `"Interrupt"`. */
  override name = "Interrupt";
  /** An interrupt whose `cause` is what the interrupter passed (also in the message). */
  constructor(cause: unknown) {
    super(`process interrupted: ${String(cause)}`, { cause });
  }
}

/**
 * A running generator function. It is itself an event that succeeds with the
 * generator's return value (or fails with what it threw), so processes can wait
 * for each other.
 */
export class Process<T = unknown> extends SimEvent<T> {
  /** @internal */ _target: SimEvent<unknown> | null = null;
  #gen: ProcessGenerator<T>;
  #next: (v: unknown) => IteratorResult<SimEvent<unknown>, T>;
  #throw: (e: unknown) => IteratorResult<SimEvent<unknown>, T>;

  /**
   * Starts `gen` as process `name` of `sim`: its first step runs at the
   * current instant (URGENT). Models use `sim.process()`.
   */
  constructor(sim: Simulation, gen: ProcessGenerator<T>, readonly name: string) {
    super(sim);
    this.#gen = gen;
    this.#next = gen.next;
    this.#throw = gen.throw;
    const init = new SimEvent(sim);
    init._f = TRIGGERED;
    init._w = this as Process<unknown>;
    this._target = init;
    sim._schedule(init, 0, URGENT);
  }

  /** True while the generator has not finished. */
  get isAlive(): boolean {
    return (this._f & STATE) === PENDING;
  }

  /** The event the process is waiting for, if any. */
  get target(): SimEvent<unknown> | null {
    return this._target;
  }

  /**
   * Throws an {@link Interrupt} into the process at the current instant
   * (URGENT priority); it stops waiting for its current target.
   */
  interrupt(cause?: unknown): void {
    if ((this._f & STATE) !== PENDING) {
      throw new Error(`Cannot interrupt process '${this.name}': it has already finished`);
    }
    const sim = this.sim;
    const ev = new SimEvent<unknown>(sim);
    ev._value = new Interrupt(cause);
    ev._f = TRIGGERED | FAILED | DEFUSED;
    ev._w = (e: SimEvent<unknown>) => {
      if ((this._f & STATE) !== PENDING) return; // finished in the meantime
      if (this._target !== null) this._target._removeWaiter(this as Process<unknown>);
      this._resume(e);
    };
    sim._schedule(ev, 0, URGENT);
  }

  /** @internal Resumes the generator with the outcome of `ev`. */
  _resume(ev: SimEvent<unknown>): void {
    this._target = null;
    const gen = this.#gen;
    let ok = (ev._f & FAILED) === 0;
    let value = ev._value;
    for (;;) {
      let r: IteratorResult<SimEvent<unknown>, T>;
      try {
        r = ok ? this.#next.call(gen, value) : this.#throw.call(gen, value);
      } catch (err) {
        this.#finish(false, err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (r.done) {
        this.#finish(true, r.value);
        return;
      }
      const next = r.value;
      if (!(next instanceof SimEvent)) {
        ok = false;
        value = new TypeError(
          `Process '${this.name}' yielded ${String(next)}; a process must yield SimEvents`,
        );
        continue;
      }
      const nf = next._f;
      if ((nf & STATE) === PROCESSED) {
        // Already happened: continue synchronously with its outcome.
        ok = (nf & FAILED) === 0;
        value = next._value;
        if (!ok) next._f = nf | DEFUSED;
        continue;
      }
      next._addWaiter(this as Process<unknown>);
      this._target = next;
      return;
    }
  }

  #finish(ok: boolean, value: unknown): void {
    this._value = value;
    // Keep DEFUSED: a process defused while it ran must not stop the run when it fails.
    this._f = (this._f & DEFUSED) | (ok ? TRIGGERED : TRIGGERED | FAILED);
    this.sim._schedule(this as SimEvent<unknown>, 0, NORMAL);
  }
}

/**
 * A callback scheduled with {@link Simulation.timer}; `cancel()` takes it off
 * the schedule. A cancelled callback never runs and leaves no trace: it does
 * not move the clock, count as a step, count in `sim.pending` or show in
 * `sim.peek()`, so a run with nothing else to do ends before its time (a
 * request's timeout once the answer came, say). Cancelling a callback that
 * already ran, or cancelling twice, does nothing.
 * @example
 * ```ts
 * import { Simulation } from "./simulation.ts";
 * const sim = new Simulation();
 * let answered = false;
 * const deadline = sim.timer(30_000, () => console.assert(answered, "timed out"));
 * sim.call(10, () => {
 *   answered = true;
 *   console.assert(deadline.cancel() && !deadline.cancel());
 * });
 * sim.run();
 * console.assert(sim.now === 10 && sim.steps === 1 && sim.pending === 0);
 * ```
 */
export class Timer {
  readonly #queue: EventQueue<unknown>;
  readonly #priority: number;
  readonly #seq: number;

  /** @internal Made by {@link Simulation.timer}: the queue entry (time, priority, seq). */
  constructor(
    queue: EventQueue<unknown>,
    /** When the callback is due, ns. */
    readonly time: SimTime,
    priority: number,
    seq: number,
  ) {
    this.#queue = queue;
    this.#priority = priority;
    this.#seq = seq;
  }

  /** Takes the callback off the schedule; true when it was still due, false once it ran or was cancelled. */
  cancel(): boolean {
    return this.#queue.remove(this.time, this.#priority, this.#seq);
  }
}

/** Options of {@link Simulation}. */
export interface SimulationOptions {
  /** Seed of the PRNG streams. @default 1 */
  seed?: number;
  /** Called before each queue entry is handled: (time, what). For traces and tests. */
  trace?: (time: SimTime, what: string) => void;
}

/** The keys {@link SimulationOptions} has. */
const SIMULATION_OPTIONS: readonly (keyof SimulationOptions)[] = ["seed", "trace"];

/**
 * Owns the clock, the event queue and the random streams. Pass it explicitly; there
 * is no global clock.
 * @example
 * ```ts
 * import { Simulation } from "./simulation.ts";
 * const sim = new Simulation({ seed: 42 });
 * const log: number[] = [];
 * sim.process(function* () {
 *   for (let i = 0; i < 3; i++) {
 *     yield sim.timeout(10);
 *     log.push(sim.now);
 *   }
 * });
 * sim.run();
 * console.assert(log.join() === "10,20,30");
 * ```
 */
export class Simulation {
  /** Current simulated time (integer ns). */
  now: SimTime = 0;
  /** Seeded, independent named random streams. */
  readonly rng: RngStreams;
  /** Seed given at construction. */
  readonly seed: number;
  /** Queue entries handled so far. */
  steps = 0;
  readonly #queue = new EventQueue<SimEvent<unknown> | (() => void)>();
  readonly #trace: ((time: SimTime, what: string) => void) | undefined;
  #procCount = 0;

  /**
   * A simulation at time 0 with an empty queue and streams seeded by `options.seed`.
   * @throws RangeError naming every option that breaks its rule or is not an option
   *   (a misspelt `seed` would otherwise run on seed 1)
   */
  constructor(options: SimulationOptions = {}) {
    const { seed = 1, trace } = options;
    const issues = [
      ...unknownKeyIssues(options, SIMULATION_OPTIONS),
      numberIssue("seed", seed, { integer: true, min: 0 }),
      trace === undefined || typeof trace === "function"
        ? undefined
        : fieldIssue("trace", "a function (time, what)", showValue(trace)),
    ].filter((i) => i !== undefined);
    if (issues.length > 0) throw issuesError("create simulation", issues);
    this.seed = seed;
    this.rng = new RngStreams(seed);
    this.#trace = trace;
  }

  /** Number of scheduled entries (cancelled callbacks are no longer scheduled). */
  get pending(): number {
    return this.#queue.size;
  }

  /** Time of the next scheduled entry (Infinity when none). */
  peek(): SimTime {
    return this.#queue.peekTime();
  }

  /** A pending event, triggered later with `succeed`/`fail`. */
  event<T = unknown>(): SimEvent<T> {
    return new SimEvent<T>(this);
  }

  /**
   * An event that succeeds `delay` ns from now with `value`.
   * @throws RangeError when delay is negative, not finite or not an integer.
   */
  timeout<T = undefined>(delay: SimTime, value?: T): SimEvent<T> {
    const time = due(this.now, delay, "schedule a timeout");
    const ev = new SimEvent<T>(this, TRIGGERED, value);
    this.#queue.push(time, NORMAL, ev as SimEvent<unknown>);
    return ev;
  }

  /**
   * Runs `fn` `delay` ns from now: the hot-path alternative to a process.
   * To be able to cancel it, schedule it with {@link timer} instead.
   * @throws RangeError for a negative or non-integer delay or a bad priority.
   */
  call(delay: SimTime, fn: () => void, priority: number = NORMAL): void {
    const time = due(this.now, delay, "schedule a callback");
    if (priority !== NORMAL) checkPriority(priority);
    this.#queue.push(time, priority, fn);
  }

  /**
   * Like {@link call}, and returns a {@link Timer} whose `cancel()` takes the
   * callback off the schedule (a timeout once the answer came, say). Separate
   * from `call` so that callbacks nobody cancels allocate no handle.
   * @throws RangeError for a negative or non-integer delay or a bad priority.
   * @example
   * ```ts
   * import { Simulation } from "./simulation.ts";
   * const sim = new Simulation();
   * const deadline = sim.timer(30_000, () => console.assert(false, "timed out"));
   * sim.call(10, () => deadline.cancel());
   * sim.run();
   * console.assert(sim.now === 10 && sim.pending === 0);
   * ```
   */
  timer(delay: SimTime, fn: () => void, priority: number = NORMAL): Timer {
    const time = due(this.now, delay, "schedule a timer");
    if (priority !== NORMAL) checkPriority(priority);
    return new Timer(this.#queue, time, priority, this.#queue.push(time, priority, fn));
  }

  /**
   * Starts a process from a generator (or a generator function called with no
   * arguments). Returns the process, itself an event.
   */
  process<T>(gen: ProcessGenerator<T> | (() => ProcessGenerator<T>), name?: string): Process<T> {
    const g = typeof gen === "function" ? gen() : gen;
    if (g === null || typeof g !== "object" || typeof g.next !== "function") {
      throw new TypeError("process() expects a generator or a generator function");
    }
    return new Process<T>(this, g, name ?? `p${this.#procCount++}`);
  }

  /** An event that succeeds when all `events` succeeded (value: their values), or fails with the first failure. */
  allOf(events: readonly SimEvent<unknown>[]): SimEvent<unknown[]> {
    return this.#condition(events, events.length);
  }

  /**
   * An event that succeeds when the first of `events` succeeds, or fails with
   * the first failure. Its value is the values of those of `events` processed
   * by then, in their order (the first one's alone unless several happened
   * in the same instant or before the call).
   */
  anyOf(events: readonly SimEvent<unknown>[]): SimEvent<unknown[]> {
    return this.#condition(events, Math.min(1, events.length));
  }

  #condition(events: readonly SimEvent<unknown>[], need: number): SimEvent<unknown[]> {
    const out = new SimEvent<unknown[]>(this);
    if (need === 0) return out.succeed([]);
    let done = 0;
    for (const ev of events) {
      ev.then((e) => {
        if ((out._f & STATE) !== PENDING) {
          if ((e._f & FAILED) !== 0) e._f |= DEFUSED;
          return;
        }
        if ((e._f & FAILED) !== 0) {
          e._f |= DEFUSED;
          out.fail(e._value as Error);
          return;
        }
        if (++done >= need) out.succeed(events.filter((x) => x.processed).map((x) => x._value));
      });
    }
    return out;
  }

  /** @internal Schedules a triggered event. */
  _schedule(ev: SimEvent<unknown>, delay: SimTime, priority: number): void {
    this.#queue.push(this.now + delay, priority, ev);
  }

  /** Handles one queue entry. Returns false when nothing was scheduled. */
  step(): boolean {
    const item = this.#queue.popBefore(Infinity);
    if (item === undefined) return false;
    const t = this.#queue.lastTime;
    this.now = t;
    this.steps++;
    if (this.#trace !== undefined) {
      this.#trace(t, typeof item === "function" ? "call" : describe(item));
    }
    if (typeof item === "function") item();
    else item._process();
    return true;
  }

  /**
   * Runs until the queue is empty, until simulated time `until` (entries at
   * exactly `until` are not handled; `now` ends at `until`; `Infinity` is
   * the same as no `until`), or until the event `until` is processed.
   * Returns the event's value in that case.
   * @throws RangeError when `until` lies in the past or is not an integer.
   */
  run(until?: SimTime | SimEvent<unknown>): unknown {
    if (until === undefined) {
      this.#loop(Infinity);
      return undefined;
    }
    if (until instanceof SimEvent) {
      let stop = false;
      if (!until.processed) until.then(() => (stop = true));
      else stop = true;
      while (!stop && this.step()) { /* keep going */ }
      if (!until.processed) {
        throw new Error("run(until=event): the schedule ran empty before the event happened");
      }
      if ((until._f & FAILED) !== 0) throw until._value;
      return until._value;
    }
    if (!(until >= this.now) || (!Number.isInteger(until) && until !== Infinity)) {
      throw rangeError("run", "until", `>= now (${this.now}) and an integer or Infinity`, until);
    }
    this.#loop(until);
    // run(Infinity) is run(): the clock stays at the last entry handled.
    if (until !== Infinity) this.now = until;
    return undefined;
  }

  #loop(until: number): void {
    const queue = this.#queue;
    if (this.#trace !== undefined) {
      while (queue.peekTime() < until) this.step();
      return;
    }
    // Hot loop: step() inlined, without tracing.
    for (;;) {
      const item = queue.popBefore(until);
      if (item === undefined) break;
      this.now = queue.lastTime;
      this.steps++;
      if (typeof item === "function") item();
      else item._process();
    }
  }
}

/** `now + delay`; throws unless the delay is a whole number of ns >= 0 (the cheap test first: every event passes here). */
function due(now: SimTime, delay: SimTime, what: string): SimTime {
  if (!(delay >= 0) || !Number.isInteger(delay)) {
    requireNumber(what, "delay", delay, { integer: true, min: 0 });
  }
  return now + delay;
}

function checkPriority(priority: number): void {
  requireNumber("schedule", "priority", priority, { integer: true, min: 0 });
  if (priority > MAX_PRIORITY) {
    throw new RangeError(
      `Cannot schedule: 'priority' must be an integer in [0, ${MAX_PRIORITY}]: current value is ${priority}`,
    );
  }
}

function describe(ev: SimEvent<unknown>): string {
  if (ev instanceof Process) {
    return `process ${ev.name} ${(ev._f & FAILED) === 0 ? "done" : "failed"}`;
  }
  const w = ev._w;
  if (w instanceof Process) return `resume ${w.name}`;
  return "event";
}
