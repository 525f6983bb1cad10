import assert from "node:assert/strict";
import { Recorder, RngStreams, Simulation } from "../../lib/sim/mod.ts";

Deno.test("named streams are reproducible and independent of each other", () => {
  const a1 = new RngStreams(9);
  const a2 = new RngStreams(9);
  a2.stream("other").random(); // using another stream must not shift this one
  const x = Array.from({ length: 5 }, () => a1.stream("disk").random());
  const y = Array.from({ length: 5 }, () => a2.stream("disk").random());
  assert.deepEqual(x, y);
  assert.notDeepEqual(
    x,
    Array.from({ length: 5 }, () => new RngStreams(10).stream("disk").random()),
  );
});

Deno.test("exponential and uniform have the right means", () => {
  const s = new RngStreams(3).stream("t");
  let e = 0, u = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    e += s.exponential(5);
    u += s.uniform(2, 4);
  }
  assert.ok(Math.abs(e / n - 5) < 0.05, `exp mean ${e / n}`);
  assert.ok(Math.abs(u / n - 3) < 0.01, `uniform mean ${u / n}`);
  assert.throws(() => s.exponential(0), /'mean'.*current value is 0/);
});

Deno.test("zipf sampler matches the k^-s law", () => {
  const s = new RngStreams(4).stream("z");
  for (const exponent of [0.99, 1.0, 1.5]) {
    const n = 50;
    const draw = s.zipf({ n, exponent });
    const counts = new Array(n + 1).fill(0);
    const draws = 300_000;
    for (let i = 0; i < draws; i++) counts[draw()]++;
    let h = 0;
    for (let k = 1; k <= n; k++) h += k ** -exponent;
    for (const k of [1, 2, 5, 20]) {
      const want = k ** -exponent / h;
      const got = counts[k] / draws;
      assert.ok(
        Math.abs(got - want) < 0.1 * want + 0.001,
        `s=${exponent} k=${k}: ${got} vs ${want}`,
      );
    }
    assert.equal(counts[0], 0);
  }
  assert.throws(() => s.zipf({ n: 0, exponent: 1 }), /'n'/);
});

Deno.test("Recorder samples a signal periodically and records spans", () => {
  const sim = new Simulation({ seed: 2 });
  const rec = new Recorder(sim, { run: "r1", params: { strategy: "bmcast" } });
  let v = 0;
  sim.call(25, () => (v = 7));
  rec.sample("v", { every: 10, until: 40, read: () => v });
  rec.begin("n0", "boot");
  sim.call(33, () => rec.end("n0", "boot"));
  sim.run();
  const rows = rec.samples();
  assert.deepEqual(rows.map((r) => [r.time, r.value]), [[0, 0], [10, 0], [20, 0], [30, 7], [
    40,
    7,
  ]]);
  assert.equal(rows[0].strategy, "bmcast");
  assert.equal(rows[0].seed, 2);
  const [span] = rec.spans();
  assert.equal(span.phase, "boot");
  assert.equal(span.durationS, 33e-9);
  assert.throws(() => rec.end("n0", "boot"), /was not begun/);
});
