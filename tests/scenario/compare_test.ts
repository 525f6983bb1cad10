/**
 * compare() and spreadOverSeeds(): a metric against the paper's value, or
 * against a band where the paper gives only a range (Fig. Cassandra's
 * "below bare metal, above the 70 % axis floor").
 */
import assert from "node:assert/strict";
import { compare, type CompareInput, spreadOverSeeds } from "../../lib/scenario/mod.ts";

const BAND = { low: 70, high: 100 };
const inBand = (simulated: number) =>
  compare({ figure: "cassandra", metric: "mean (%)", band: BAND, simulated });

Deno.test("a band row passes inside its band, with no error", () => {
  const r = inBand(93);
  assert.deepEqual(
    [r.pass, r.errorPct, r.tolerancePct, r.band],
    [true, 0, 0, { low: 70, high: 100 }],
  );
  // Its paper value is only the band's middle, so rows still sort and plot.
  assert.equal(r.paper, 85);
});

Deno.test("a band row below its band fails, its error negative in % of the low bound", () => {
  const r = inBand(63);
  assert.equal(r.pass, false);
  assert.equal(r.errorPct, -10);
});

Deno.test("a band row above its band fails, its error positive in % of the high bound", () => {
  const r = inBand(110);
  assert.equal(r.pass, false);
  assert.ok(Math.abs(r.errorPct - 10) < 1e-12, String(r.errorPct));
});

Deno.test("a band is half-open: exactly its low bound passes, exactly its high bound fails", () => {
  assert.deepEqual([inBand(70).pass, inBand(70).errorPct], [true, 0]);
  assert.deepEqual([inBand(100).pass, inBand(100).errorPct], [false, 0]);
});

Deno.test("a band row the run never reached fails with a NaN error", () => {
  const r = inBand(NaN);
  assert.equal(r.pass, false);
  assert.ok(Number.isNaN(r.errorPct));
});

Deno.test("compare() takes either the paper's value with a tolerance or a band, not both or neither", () => {
  const base = { figure: "cassandra", metric: "mean (%)", simulated: 93 };
  const cases: [unknown, string][] = [
    [{ ...base, paper: 85, tolerancePct: 17.6, band: BAND }, "both are given"],
    [{ ...base, tolerancePct: 5, band: BAND }, "both are given"],
    [base, "neither is given"],
  ];
  for (const [input, why] of cases) {
    assert.throws(
      () => compare(input as CompareInput),
      new RangeError(
        "Cannot compare cassandra/mean (%): give either 'paper' and 'tolerancePct', " +
          `or 'band' ({ low, high }): ${why}`,
      ),
    );
  }
});

Deno.test("compare() rejects a band that is not 0 < low < high, naming it and its value", () => {
  const cases: [{ low: number; high: number }, string][] = [
    [{ low: 100, high: 70 }, '{"low":100,"high":70}'],
    [{ low: 0, high: 100 }, '{"low":0,"high":100}'],
    [{ low: 70, high: NaN }, '{"low":70,"high":NaN}'],
  ];
  for (const [band, shown] of cases) {
    assert.throws(
      () => compare({ figure: "f", metric: "m", band, simulated: 1 }),
      new RangeError(
        "Cannot compare f/m: 'band' must be { low, high } with finite 0 < low < high: " +
          `current value is ${shown}`,
      ),
    );
  }
});

Deno.test("a point row keeps its value, tolerance and relative error, and has no band", () => {
  const r = compare({ figure: "f", metric: "m", paper: 100, simulated: 104, tolerancePct: 5 });
  assert.deepEqual(Object.keys(r), [
    "figure",
    "metric",
    "paper",
    "simulated",
    "tolerancePct",
    "errorPct",
    "pass",
  ]);
  assert.deepEqual([r.paper, r.tolerancePct, r.pass], [100, 5, true]);
  assert.ok(Math.abs(r.errorPct - 4) < 1e-12);
});

Deno.test("the spread over seeds of a band metric keeps the band and counts the seeds inside it", () => {
  const [s] = spreadOverSeeds([[inBand(80)], [inBand(63)], [inBand(99)]]);
  assert.deepEqual(s.band, BAND);
  assert.deepEqual([s.passes, s.pass, s.worstErrorPct, s.min, s.max], [2, false, -10, 63, 99]);
  const [all] = spreadOverSeeds([[inBand(80)], [inBand(99)]]);
  assert.deepEqual([all.pass, all.worstErrorPct], [true, 0]);
  const [point] = spreadOverSeeds([[
    compare({ figure: "f", metric: "m", paper: 100, simulated: 104, tolerancePct: 5 }),
  ]]);
  assert.ok(!("band" in point));
});
