import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Interrupt,
  Simulation,
  type SimulationOptions,
  type Timer,
  URGENT,
} from "../../lib/sim/mod.ts";
import type { ProcessGenerator } from "../../lib/sim/mod.ts";

/** A random model: processes sleeping random times, spawning children, waiting on each other. */
function traceOf(seed: number): string[] {
  const trace: string[] = [];
  const sim = new Simulation({ seed, trace: (t, what) => trace.push(`${t} ${what}`) });
  const rng = sim.rng.stream("model");
  function* worker(id: number, depth: number): ProcessGenerator<number> {
    let sum = 0;
    for (let i = 0; i < 5; i++) {
      yield sim.timeout(rng.int(20));
      sum += sim.now;
      if (depth < 2 && rng.random() < 0.3) {
        sum += (yield sim.process(worker(id * 10 + i, depth + 1))) as number;
      }
    }
    return sum;
  }
  for (let i = 0; i < 8; i++) sim.process(worker(i, 0), `w${i}`);
  sim.run();
  return trace;
}

Deno.test("Simulation is deterministic: same seed, identical event trace", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
      assert.deepEqual(traceOf(seed), traceOf(seed));
    }),
    { numRuns: 30 },
  );
  assert.notDeepEqual(traceOf(1), traceOf(2));
});

Deno.test("timeout() resumes a process at now + delay, in creation order on ties", () => {
  const sim = new Simulation();
  const log: string[] = [];
  for (const name of ["a", "b", "c"]) {
    sim.process(function* () {
      yield sim.timeout(10);
      log.push(`${name}@${sim.now}`);
    });
  }
  sim.run();
  assert.deepEqual(log, ["a@10", "b@10", "c@10"]);
});

Deno.test("yield* runs a sub-process inline and returns its value", () => {
  const sim = new Simulation();
  function* sub(): ProcessGenerator<string> {
    yield sim.timeout(3);
    return "sub-done";
  }
  let got = "";
  sim.process(function* () {
    got = yield* sub();
    yield sim.timeout(2);
  });
  sim.run();
  assert.equal(got, "sub-done");
  assert.equal(sim.now, 5);
});

Deno.test("a process can wait for another process and receives its return value", () => {
  const sim = new Simulation();
  const child = sim.process(function* () {
    yield sim.timeout(7);
    return 42;
  });
  let v: unknown;
  sim.process(function* () {
    v = yield child;
  });
  sim.run();
  assert.equal(v, 42);
});

Deno.test("interrupt() throws Interrupt into the waiting process and cancels its wait", () => {
  const sim = new Simulation();
  const log: string[] = [];
  const p = sim.process(function* () {
    try {
      yield sim.timeout(100);
      log.push("not interrupted");
    } catch (e) {
      assert.ok(e instanceof Interrupt);
      log.push(`interrupted@${sim.now} cause=${e.cause}`);
    }
    yield sim.timeout(5);
    log.push(`end@${sim.now}`);
  });
  sim.call(30, () => p.interrupt("preempt"));
  sim.run();
  assert.deepEqual(log, ["interrupted@30 cause=preempt", "end@35"]);
  assert.throws(() => p.interrupt(), /already finished/);
});

Deno.test("interrupt at the same instant as the timeout overtakes it (URGENT)", () => {
  const sim = new Simulation();
  let caught = false;
  const p = sim.process(function* () {
    try {
      yield sim.timeout(10);
    } catch {
      caught = true;
    }
  });
  // This callback is queued before the process even creates its timeout, so
  // at t=10 it runs first; the URGENT interrupt then overtakes the timeout.
  sim.call(10, () => p.interrupt());
  sim.run();
  assert.equal(caught, true);
});

Deno.test("an uncaught failure in a process stops the run", () => {
  const sim = new Simulation();
  sim.process(function* () {
    yield sim.timeout(1);
    throw new Error("boom");
  });
  assert.throws(() => sim.run(), /boom/);
});

Deno.test("a failure defused before it happens does not stop the run, for an event or a process", () => {
  const sim = new Simulation();
  const ev = sim.event().defuse();
  sim.call(1, () => ev.fail(new Error("event failed")));
  const p = sim.process(function* () {
    yield sim.timeout(2);
    throw new Error("process failed");
  }).defuse();
  sim.run();
  assert.ok(ev.processed && !ev.ok && p.processed && !p.ok);
  assert.equal(sim.now, 2);
});

Deno.test("a failure caught by the waiting process does not stop the run", () => {
  const sim = new Simulation();
  const child = sim.process(function* () {
    yield sim.timeout(1);
    throw new Error("child failed");
  });
  let msg = "";
  sim.process(function* () {
    try {
      yield child;
    } catch (e) {
      msg = (e as Error).message;
    }
  });
  sim.run();
  assert.equal(msg, "child failed");
});

Deno.test("yielding a non-event fails the process with a TypeError", () => {
  const sim = new Simulation();
  sim.process(function* () {
    // deno-lint-ignore no-explicit-any
    yield 5 as any;
  });
  assert.throws(() => sim.run(), TypeError);
});

Deno.test("allOf and anyOf wait for all / the first event", () => {
  const sim = new Simulation();
  let allAt = -1, anyAt = -1;
  sim.process(function* () {
    yield sim.allOf([sim.timeout(5), sim.timeout(9)]);
    allAt = sim.now;
  });
  sim.process(function* () {
    yield sim.anyOf([sim.timeout(5), sim.timeout(9)]);
    anyAt = sim.now;
  });
  sim.run();
  assert.equal(allAt, 9);
  assert.equal(anyAt, 5);
});

Deno.test("run(until) stops before entries at until and sets now", () => {
  const sim = new Simulation();
  const seen: number[] = [];
  for (const t of [5, 10, 15]) sim.call(t, () => seen.push(t));
  sim.run(10);
  assert.deepEqual(seen, [5]);
  assert.equal(sim.now, 10);
  sim.run();
  assert.deepEqual(seen, [5, 10, 15]);
  assert.throws(() => sim.run(3), /'until' must be >= now/);
});

Deno.test("run(Infinity) runs until the queue is empty and leaves the clock at the last entry", () => {
  const sim = new Simulation();
  sim.call(5, () => {});
  sim.run(Infinity);
  assert.equal(sim.now, 5);
  let at = -1;
  sim.call(3, () => (at = sim.now));
  sim.run();
  assert.equal(at, 8);
});

Deno.test("run(until) rejects a time that is not an integer number of ns, naming the value", () => {
  const sim = new Simulation();
  sim.call(20, () => {});
  for (const until of [10.5, NaN, -Infinity]) {
    assert.throws(() => sim.run(until), {
      name: "RangeError",
      message: new RegExp(
        `^Cannot run: 'until' must be >= now \\(0\\) and an integer or Infinity: current value is ${until}$`,
      ),
    });
  }
  assert.equal(sim.now, 0);
  assert.equal(sim.pending, 1, "nothing ran");
});

Deno.test("run(event) returns the event's value", () => {
  const sim = new Simulation();
  const p = sim.process(function* () {
    yield sim.timeout(4);
    return "ok";
  });
  sim.call(100, () => {});
  assert.equal(sim.run(p), "ok");
  assert.equal(sim.now, 4);
});

Deno.test("bad arguments throw RangeError naming the field and value", () => {
  const sim = new Simulation();
  assert.throws(() => sim.timeout(-1), {
    name: "RangeError",
    message: /'delay'.*current value is -1/,
  });
  assert.throws(() => sim.timeout(1.5), { name: "RangeError", message: /'delay'.*1\.5/ });
  assert.throws(() => sim.timeout(NaN), { name: "RangeError", message: /'delay'.*NaN/ });
  assert.throws(() => sim.call(-5, () => {}), { name: "RangeError", message: /'delay'.*-5/ });
  assert.throws(() => sim.call(0, () => {}, 999), {
    name: "RangeError",
    message: /'priority'.*999/,
  });
  assert.throws(() => sim.timer(1.5, () => {}), { name: "RangeError", message: /'delay'.*1\.5/ });
  assert.throws(() => sim.timer(0, () => {}, -1), {
    name: "RangeError",
    message: /'priority'.*-1/,
  });
  assert.equal(sim.pending, 0, "nothing was scheduled");
  assert.throws(() => new Simulation({ seed: -3 }), { name: "RangeError", message: /'seed'.*-3/ });
  // deno-lint-ignore no-explicit-any
  assert.throws(() => sim.process(42 as any), TypeError);
});

Deno.test("an event cannot be triggered twice", () => {
  const sim = new Simulation();
  const ev = sim.event();
  ev.succeed(1);
  assert.throws(() => ev.succeed(2), /already|triggered/);
});

Deno.test("a cancelled callback never runs and does not move the clock", () => {
  const sim = new Simulation();
  const log: string[] = [];
  const stale = sim.timer(30_000, () => log.push("stale"));
  sim.call(10, () => log.push(`answer@${sim.now}`));
  assert.equal(stale.time, 30_000);
  assert.equal(stale.cancel(), true);
  sim.run();
  assert.deepEqual(log, ["answer@10"]);
  assert.equal(sim.now, 10, "run() ends at the last live entry, not at the cancelled one");
  assert.equal(sim.steps, 1, "the cancelled entry is no step");
});

Deno.test("cancelling a callback that already ran, or twice, does nothing and reports false", () => {
  const sim = new Simulation();
  let runs = 0;
  const ran = sim.timer(5, () => runs++);
  sim.run();
  assert.equal(ran.cancel(), false, "already ran");
  const twice = sim.timer(5, () => runs++);
  const other = sim.timer(5, () => runs++);
  assert.equal(twice.cancel(), true);
  assert.equal(twice.cancel(), false, "already cancelled");
  assert.equal(sim.pending, 1, "a second cancel takes nothing else off");
  sim.run();
  assert.equal(runs, 2);
  assert.equal(other.cancel(), false);
  assert.equal(sim.now, 10);
});

Deno.test("pending, peek and the end of run() ignore cancelled callbacks", () => {
  const sim = new Simulation();
  const late = sim.timer(1_000, () => {});
  const early = sim.timer(3, () => {}, URGENT);
  sim.call(7, () => {});
  assert.equal(sim.pending, 3);
  assert.equal(sim.peek(), 3);
  early.cancel();
  assert.equal(sim.pending, 2);
  assert.equal(sim.peek(), 7, "peek() sees the next live entry");
  late.cancel();
  assert.equal(sim.pending, 1);
  sim.run();
  assert.equal(sim.now, 7);
  assert.equal(sim.pending, 0);
  assert.equal(sim.peek(), Infinity);
});

Deno.test("a callback cancelled by another at the same instant never runs; the rest keep their order", () => {
  const sim = new Simulation();
  const log: string[] = [];
  sim.call(5, () => log.push("a"));
  sim.call(5, () => {
    log.push("b");
    assert.equal(victim.cancel(), true);
  });
  const victim = sim.timer(5, () => log.push("victim"));
  sim.call(5, () => log.push("c"));
  sim.process(function* () {
    yield sim.timeout(5);
    log.push("p");
  });
  sim.run();
  assert.deepEqual(log, ["a", "b", "c", "p"]);
  assert.equal(sim.steps, 6, "four calls, the process start and its timeout; not the victim");
});

Deno.test("run(until) is unchanged by cancelled callbacks: it stops at until, and only live entries before it run", () => {
  const sim = new Simulation();
  const log: number[] = [];
  sim.call(4, () => log.push(sim.now));
  sim.timer(6, () => log.push(sim.now)).cancel();
  const atUntil = sim.timer(10, () => log.push(sim.now));
  sim.timer(12, () => log.push(sim.now)).cancel();
  sim.run(10);
  assert.deepEqual(log, [4]);
  assert.equal(sim.now, 10);
  assert.equal(sim.steps, 1);
  assert.equal(sim.peek(), 10, "the entry at exactly until is still due");
  atUntil.cancel();
  sim.run(20);
  assert.deepEqual(log, [4]);
  assert.equal(sim.now, 20);
  assert.equal(sim.pending, 0);
});

Deno.test("property: with any timers cancelled before or during the run, the other callbacks run in (time, priority, order) and the clock ends at the last", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          delay: fc.integer({ min: 0, max: 60 }),
          priority: fc.integer({ min: 0, max: 2 }),
          // -1: never cancelled; 0: cancelled before the run; k > 0: cancelled by call k - 1 when it runs
          cancel: fc.integer({ min: -1, max: 40 }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      (specs) => {
        const sim = new Simulation();
        const ran: number[] = [];
        const timers: (Timer | undefined)[] = [];
        specs.forEach((s, i) => {
          const fn = () => {
            ran.push(i);
            specs.forEach((o, j) => {
              if (o.cancel === i + 1) timers[j]!.cancel();
            });
          };
          // Those never cancelled go through plain call(): one order for both.
          if (s.cancel === -1) sim.call(s.delay, fn, s.priority);
          timers.push(s.cancel === -1 ? undefined : sim.timer(s.delay, fn, s.priority));
        });
        specs.forEach((s, i) => {
          if (s.cancel === 0) timers[i]!.cancel();
        });
        sim.run();
        // Model: in (time, priority, index) order, skip those cancelled before they ran.
        const order = specs.map((_, i) => i).sort((a, b) =>
          specs[a].delay - specs[b].delay || specs[a].priority - specs[b].priority || a - b
        );
        const want: number[] = [];
        const cancelled = new Set<number>();
        for (const i of order) {
          if (specs[i].cancel === 0 || cancelled.has(i)) continue;
          want.push(i);
          specs.forEach((o, j) => {
            if (o.cancel === i + 1) cancelled.add(j);
          });
        }
        assert.deepEqual(ran, want);
        assert.equal(sim.steps, want.length);
        assert.equal(sim.now, want.length === 0 ? 0 : specs[want[want.length - 1]].delay);
        assert.equal(sim.pending, 0);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("Simulation refuses a misspelt option, naming the closest one, instead of running on seed 1", () => {
  assert.throws(() => new Simulation({ sed: 5 } as unknown as SimulationOptions), {
    name: "RangeError",
    message: "Cannot create simulation: 'sed' is not an option, did you mean seed? " +
      "The options are seed, trace",
  });
  // Every problem at once.
  assert.throws(
    () => new Simulation({ seed: -1, trace: "log", bogus: 1 } as unknown as SimulationOptions),
    {
      name: "RangeError",
      message: "Cannot create simulation: 'bogus' is not an option: the options are seed, trace; " +
        "'seed' must be an integer >= 0: current value is -1; " +
        `'trace' must be a function (time, what): current value is "log"`,
    },
  );
  assert.equal(new Simulation({ seed: 5, trace: undefined }).seed, 5);
});
