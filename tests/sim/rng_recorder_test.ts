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

Deno.test("a stream is fixed by its seed and name both: seed 1's '2x' is not seed 12's 'x'", () => {
  const draws = (seed: number, name: string) => {
    const s = new RngStreams(seed).stream(name);
    return Array.from({ length: 4 }, () => s.random());
  };
  assert.notDeepEqual(draws(1, "2x"), draws(12, "x"));
  assert.notDeepEqual(draws(1, "0disk"), draws(10, "disk"));
  assert.notDeepEqual(draws(1, "\u00002x"), draws(1, "2x"));
  // Names that start with neither a digit nor a NUL keep their draws (published results depend on them).
  assert.equal(new RngStreams(9).stream("disk").random(), 0.29843114862164866);
  assert.equal(new RngStreams(1).stream("fleet:power-on").random(), 0.21225071327276734);
});

Deno.test("uniform(lo, hi) stays below hi even where lo + (hi - lo) * r rounds up to it", () => {
  const s = new RngStreams(5).stream("u");
  const hi = 1 + 2 ** -52; // the float after 1: every r >= 0.5 rounds up to hi
  for (let i = 0; i < 200; i++) assert.equal(s.uniform(1, hi), 1);
  assert.equal(s.uniform(3, 3), 3, "an empty range gives lo");
  assert.throws(() => s.uniform(0, Infinity), {
    name: "RangeError",
    message:
      /Cannot draw uniform: 'hi' must be a finite number >= lo \(0\): current value is Infinity/,
  });
  assert.throws(() => s.uniform(-Infinity, 0), {
    name: "RangeError",
    message: /'lo' must be a finite number: current value is -Infinity/,
  });
  assert.throws(
    () => s.uniform(2, 1),
    /'hi' must be a finite number >= lo \(2\): current value is 1/,
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

Deno.test("Recorder.record rejects an extra column named like a column of the row itself", () => {
  const rec = new Recorder(new Simulation({ seed: 1 }));
  for (const name of ["run", "seed", "time", "timeS", "metric", "value"]) {
    assert.throws(() => rec.record("x", 1, { [name]: 5 }), {
      name: "RangeError",
      message: `Cannot record 'x': 'extra.${name}' is a reserved column: ` +
        "extra columns may not be named run, seed, time, timeS, metric, value",
    });
  }
  assert.throws(
    () => rec.record("x", 1, { ok: 1, value: 2, seed: 3 }),
    /'extra\.value'.*; 'extra\.seed'/,
  );
  assert.equal(rec.samples().length, 0, "a rejected row is not recorded");
  rec.record("x", 1, { node: "n0" });
  assert.equal(rec.samples()[0].node, "n0");
});

Deno.test("Recorder rejects params named like a column of every row", () => {
  assert.throws(
    () => new Recorder(new Simulation({ seed: 1 }), { params: { metric: "latency" } }),
    /Cannot create recorder: 'params\.metric' is a reserved column: extra columns may not be named run, seed, time, timeS, metric, value/,
  );
});

Deno.test("Recorder and its sampling refuse a misspelt option, naming the closest one, every problem at once", () => {
  const sim = new Simulation();
  assert.throws(
    () =>
      new Recorder(
        sim,
        { rnu: "r1", params: { seed: 3 } } as unknown as ConstructorParameters<
          typeof Recorder
        >[1],
      ),
    {
      name: "RangeError",
      message:
        /^Cannot create recorder: 'rnu' is not an option, did you mean run\? .*; 'params\.seed' is a reserved column/,
    },
  );
  const rec = new Recorder(sim);
  assert.throws(
    () =>
      rec.sample(
        "v",
        {
          evry: 10,
          until: 40,
          read: () => 0,
        } as unknown as Parameters<
          Recorder["sample"]
        >[1],
      ),
    {
      name: "RangeError",
      message: "Cannot sample 'v': 'evry' is not an option, did you mean every? The options are " +
        "every, until, read; 'every' must be an integer > 0: current value is undefined",
    },
  );
  assert.equal(sim.pending, 0, "nothing scheduled");
});
