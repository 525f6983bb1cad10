import assert from "node:assert/strict";
import { Interrupt, Resource, Simulation, Store } from "../../lib/sim/mod.ts";

Deno.test("Resource serves requests FIFO with capacity k", () => {
  const sim = new Simulation();
  const res = new Resource(sim, { capacity: 2 });
  const done: string[] = [];
  for (const name of ["a", "b", "c", "d"]) {
    sim.process(function* () {
      using req = res.request();
      yield req;
      yield sim.timeout(10);
      done.push(`${name}@${sim.now}`);
    });
  }
  sim.run();
  assert.deepEqual(done, ["a@10", "b@10", "c@20", "d@20"]);
  const st = res.stats();
  assert.equal(st.granted, 4);
  assert.equal(st.maxQueueLength, 2);
  assert.equal(st.utilization, 1);
  assert.equal(st.meanWait, (0 + 0 + 10 + 10) / 4);
});

Deno.test("Resource rejects zero capacity with a RangeError naming the value", () => {
  const sim = new Simulation();
  assert.throws(() => new Resource(sim, { capacity: 0 }), {
    name: "RangeError",
    message: /'capacity' must be an integer > 0: current value is 0/,
  });
  assert.throws(() => new Resource(sim, { capacity: 1.5 }), RangeError);
});

Deno.test("releasing an ungranted request withdraws it from the queue", () => {
  const sim = new Simulation();
  const res = new Resource(sim, { capacity: 1 });
  const first = res.request();
  const second = res.request();
  const third = res.request();
  second.release();
  first.release();
  sim.run();
  assert.equal(third.ok, true);
  assert.equal(second.triggered, false);
});

Deno.test("M/M/1 queue matches theory within statistical tolerance", () => {
  // lambda = 0.7, mu = 1 (per microsecond): rho = 0.7
  // E[Wq] = rho / (mu - lambda) = 2.333 us, Lq = rho^2 / (1 - rho) = 1.633, utilisation 0.7
  const sim = new Simulation({ seed: 11 });
  const server = new Resource(sim, { capacity: 1 });
  const arrivals = sim.rng.stream("arrivals");
  const service = sim.rng.stream("service");
  const meanIa = 1000 / 0.7, meanS = 1000;
  const horizon = 400_000_000; // 400 ms: ~280k customers
  sim.process(function* () {
    while (sim.now < horizon) {
      yield sim.timeout(Math.round(arrivals.exponential(meanIa)));
      sim.process(function* () {
        using req = server.request();
        yield req;
        yield sim.timeout(Math.round(service.exponential(meanS)));
      });
    }
  });
  sim.run(horizon);
  const st = server.stats();
  const rel = (got: number, want: number) => Math.abs(got - want) / want;
  assert.ok(rel(st.utilization, 0.7) < 0.03, `utilization ${st.utilization}`);
  assert.ok(rel(st.meanWait, 2333.3) < 0.08, `meanWait ${st.meanWait}`);
  assert.ok(rel(st.meanQueueLength, 1.6333) < 0.08, `Lq ${st.meanQueueLength}`);
});

Deno.test("Store hands items to getters in FIFO order and blocks putters when full", () => {
  const sim = new Simulation();
  const q = new Store<number>(sim, { capacity: 1 });
  const got: string[] = [];
  sim.process(function* () {
    for (let i = 0; i < 3; i++) {
      yield q.put(i);
      got.push(`put${i}@${sim.now}`);
    }
  });
  sim.process(function* () {
    for (let i = 0; i < 3; i++) {
      yield sim.timeout(10);
      const v = yield q.get();
      got.push(`get${v}@${sim.now}`);
    }
  });
  sim.run();
  assert.deepEqual(got, ["put0@0", "get0@10", "put1@10", "get1@20", "put2@20", "get2@30"]);
  assert.throws(() => new Store(sim, { capacity: 0 }), /'capacity'.*current value is 0/);
});

Deno.test("a get withdrawn by `using` when its process is interrupted does not swallow the next item", () => {
  const sim = new Simulation();
  const q = new Store<string>(sim);
  const got: string[] = [];
  const waiter = sim.process(function* () {
    try {
      using get = q.get();
      yield get;
    } catch (e) {
      if (!(e instanceof Interrupt)) throw e;
    }
  });
  sim.process(function* () {
    yield sim.timeout(5);
    got.push((yield q.get()) as string);
  });
  sim.call(2, () => waiter.interrupt("shutdown"));
  sim.call(10, () => void q.put("job"));
  sim.run();
  assert.deepEqual(got, ["job"]);
  assert.equal(q.size, 0);
});

Deno.test("a cancelled put never stores its item; cancelling a get or put that already happened does nothing", () => {
  const sim = new Simulation();
  const q = new Store<number>(sim, { capacity: 1 });
  q.put(1);
  const late = q.put(2); // waits for room
  late.cancel();
  const first = q.get();
  assert.equal(q.size, 0, "the cancelled put did not move in when room was made");
  first.cancel();
  const waiting = q.get();
  q.put(3);
  waiting[Symbol.dispose]();
  sim.run();
  assert.equal(first.value, 1);
  assert.equal(waiting.value, 3);
  assert.ok(!late.triggered);
});

Deno.test("Resource and Store refuse a misspelt option, naming the closest one, instead of taking the default capacity", () => {
  const sim = new Simulation();
  assert.throws(() => new Resource(sim, { capacty: 4 } as { capacity?: number }), {
    name: "RangeError",
    message: "Cannot create resource 'resource': 'capacty' is not an option, did you mean " +
      "capacity? The options are capacity, name",
  });
  assert.throws(
    () => new Resource(sim, { capacity: 0, nmae: "disk" } as { capacity?: number }),
    {
      name: "RangeError",
      message: "Cannot create resource 'resource': 'nmae' is not an option, did you mean name? " +
        "The options are capacity, name; 'capacity' must be an integer > 0: current value is 0",
    },
  );
  assert.throws(() => new Store(sim, { capasity: 2 } as { capacity?: number }), {
    name: "RangeError",
    message: "Cannot create store: 'capasity' is not an option, did you mean capacity? " +
      "The options are capacity",
  });
  assert.equal(new Resource(sim, { capacity: 4, name: "disk" }).capacity, 4);
});
