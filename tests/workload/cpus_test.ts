import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { GuestCpus } from "../../lib/workload/mod.ts";
import { fakeCpu } from "../../lib/workload/_test_utils.ts";

Deno.test("guest CPUs run nominal work for what the CPU underneath makes of it, one core at a time each", () => {
  const sim = new Simulation();
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(0.5), cores: 1 });
  const ends: number[] = [];
  for (let i = 0; i < 2; i++) {
    sim.process(function* () {
      assert.equal(yield* cpus.run(1000, 0.2), 1100);
      ends.push(sim.now);
    });
  }
  sim.run();
  assert.deepEqual(ends, [1100, 2200]);
});

Deno.test("guest CPUs refuse work that is not a whole number of ns >= 0 or a memory-bound share outside [0, 1], naming it", () => {
  const attempt = (ns: number, memoryBound: number) => {
    const sim = new Simulation();
    const cpus = new GuestCpus(sim, { cpu: fakeCpu(0.1), cores: 1 });
    const it = cpus.run(ns, memoryBound);
    return () => it.next();
  };
  for (const ns of [NaN, -1, 1.5, Infinity]) {
    assert.throws(
      attempt(ns, 0),
      (e: Error) =>
        e instanceof RangeError &&
        e.message ===
          `Cannot run guest CPU work: 'ns' must be an integer >= 0: current value is ${ns}`,
    );
  }
  for (const mb of [NaN, -3, 1.01]) {
    assert.throws(
      attempt(1000, mb),
      (e: Error) =>
        e instanceof RangeError &&
        e.message ===
          `Cannot run guest CPU work: 'memoryBound' must be a number in [0, 1]: current value is ${mb}`,
    );
  }
  assert.doesNotThrow(attempt(0, 1));
});
