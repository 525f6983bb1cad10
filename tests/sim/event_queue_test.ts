import assert from "node:assert/strict";
import fc from "fast-check";
import { EventQueue, RngStreams, Simulation } from "../../lib/sim/mod.ts";

interface Entry {
  t: number;
  p: number;
  seq: number;
}
const byOrder = (a: Entry, b: Entry) => a.t - b.t || a.p - b.p || a.seq - b.seq;

type Op = { op: "push"; t: number; p: number } | { op: "pop" } | { op: "remove"; k: number };

/** Runs push/pop/remove operations on a queue and on a sorted-array model; asserts they agree. */
function agreesWithModel(ops: Op[]): void {
  const queue = new EventQueue<number>(4);
  const model: Entry[] = [];
  const pushed: Entry[] = [];
  let seq = 0;
  for (const o of ops) {
    if (o.op === "push") {
      assert.equal(queue.push(o.t, o.p, seq), seq);
      model.push({ t: o.t, p: o.p, seq: seq++ });
      pushed.push(model[model.length - 1]);
    } else if (o.op === "remove") {
      // Any entry pushed so far: still queued, popped or removed before.
      if (pushed.length === 0) continue;
      const e = pushed[o.k % pushed.length];
      const i = model.indexOf(e);
      assert.equal(queue.remove(e.t, e.p, e.seq), i >= 0, `remove #${e.seq}`);
      if (i >= 0) model.splice(i, 1);
    } else {
      model.sort(byOrder);
      const want = model.shift();
      assert.equal(queue.peekTime(), want?.t ?? Infinity);
      assert.equal(queue.pop(), want?.seq);
    }
    assert.equal(queue.size, model.length);
  }
  model.sort(byOrder);
  for (const m of model) {
    assert.equal(queue.peekTime(), m.t);
    assert.equal(queue.pop(), m.seq);
  }
  assert.equal(queue.pop(), undefined);
  assert.equal(queue.peekTime(), Infinity);
}

/** Operations on the queue for the model checks: a push at a time in [0, max], a pop. */
const push = (max: number) =>
  fc.record({
    op: fc.constant("push" as const),
    t: fc.integer({ min: 0, max }),
    p: fc.integer({ min: 0, max: 3 }),
  });
const pop = fc.record({ op: fc.constant("pop" as const) });

Deno.test("event queue pops in (time, priority, insertion) order for any interleaving", () => {
  // Near times (many ties), times over twelve orders of magnitude, and long
  // runs of pushes that grow the queue past several re-layouts.
  for (const max of [50, 1e12]) {
    fc.assert(
      fc.property(fc.array(fc.oneof(push(max), pop), { maxLength: 400 }), agreesWithModel),
      { numRuns: 200 },
    );
  }
  fc.assert(
    fc.property(
      fc.array(fc.oneof({ arbitrary: push(1e6), weight: 4 }, { arbitrary: pop, weight: 1 }), {
        minLength: 200,
        maxLength: 2000,
      }),
      agreesWithModel,
    ),
    { numRuns: 30 },
  );
});

Deno.test("event queue removes any still-queued entry; removed entries are never popped, counted or peeked", () => {
  const remove = fc.record({ op: fc.constant("remove" as const), k: fc.nat() });
  // Ties (one day's list, removals from its head, middle and tail), wide
  // times, and removals that shrink the queue past re-layouts.
  for (const max of [0, 50, 1e12]) {
    fc.assert(
      fc.property(fc.array(fc.oneof(push(max), pop, remove), { maxLength: 400 }), agreesWithModel),
      { numRuns: 200 },
    );
  }
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          { arbitrary: push(1e6), weight: 4 },
          { arbitrary: pop, weight: 1 },
          { arbitrary: remove, weight: 3 },
        ),
        { minLength: 200, maxLength: 2000 },
      ),
      agreesWithModel,
    ),
    { numRuns: 30 },
  );
});

Deno.test("event queue never pops an entry earlier than one it popped before (clock order)", () => {
  // A simulation's pattern: pop the earliest, push later ones relative to it.
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1e9 })), {
        minLength: 1,
        maxLength: 300,
      }),
      fc.integer({ min: 1, max: 300 }),
      (delays, initial) => {
        const queue = new EventQueue<number>(4);
        for (let i = 0; i < initial; i++) queue.push(0, 1, i);
        let now = 0, i = 0;
        for (const [pushes, delay] of delays) {
          const t = queue.peekTime();
          assert.ok(t >= now, `popped ${t} after ${now}`);
          now = t;
          queue.pop();
          for (let k = 0; k < pushes; k++) queue.push(now + (delay >> k), 1, i++);
        }
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("event queue takes an entry set before a peeked one (clock set back by run(until))", () => {
  const sim = new Simulation();
  const log: number[] = [];
  sim.call(1_000_000, () => log.push(sim.now));
  sim.run(10); // peeks the entry at 1 ms, stops at 10 ns
  sim.call(5, () => log.push(sim.now));
  sim.run();
  assert.deepEqual(log, [15, 1_000_000]);
});

Deno.test("event queue work per operation stays bounded across time scales and sizes", () => {
  // Brown's calendar queue is O(1) per operation only with a fitting day
  // width; the queue re-fits it as the entries change. Deterministic counters,
  // not timings: list steps plus days passed per push or pop.
  const shapes: Record<string, (r: ReturnType<RngStreams["stream"]>, i: number) => number> = {
    "exponential (hold model)": (r) => Math.round(r.exponential(1_000)),
    "ns and seconds mixed": (r) =>
      Math.round(r.uniform(0, 1) < 0.9 ? r.exponential(1_000) : r.exponential(1e9)),
    "half at the same instant": (r) => r.uniform(0, 1) < 0.5 ? 0 : Math.round(r.exponential(1e6)),
    "scale shifts 10 ns -> 100 ms": (r, i) => Math.round(r.exponential(i < 50_000 ? 10 : 1e8)),
    "sparse (seconds apart)": (r) => Math.round(r.exponential(1e10)),
  };
  for (const n of [10, 1_000, 20_000]) {
    for (const [name, delay] of Object.entries(shapes)) {
      const queue = new EventQueue<number>();
      const rng = new RngStreams(3).stream("shape");
      for (let p = 0; p < n; p++) queue.push(delay(rng, 0), 1, p);
      for (let i = 0; i < 100_000; i++) {
        const now = queue.peekTime();
        queue.push(now + delay(rng, i), 1, queue.pop()!);
      }
      const { work, operations } = queue.stats;
      assert.ok(work / operations < 16, `${name}, ${n} entries: ${work / operations} per op`);
    }
  }
});
