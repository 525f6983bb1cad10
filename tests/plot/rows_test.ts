import assert from "node:assert/strict";
import fc from "fast-check";
import {
  barsFigure,
  checkComparisonRows,
  checkStartupRows,
  checkTimelineRows,
  comparisonTable,
  formatComparison,
  startupFigure,
  throughputFigure,
  timelineFigure,
} from "../../lib/plot/mod.ts";
import { COMPARISON, MARKERS, RDMA, STARTUP, THROUGHPUT, TIMELINE } from "./_examples.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

Deno.test("checkStartupRows() names the row index and field of a NaN", () => {
  const rows = [STARTUP[0], { ...STARTUP[1], endS: NaN }];
  assert.throws(
    () => checkStartupRows(rows),
    (e: Error) =>
      e instanceof TypeError &&
      e.message ===
        "Cannot plot startup rows: 'rows[1].endS' must be a finite number: current value is NaN",
  );
});

Deno.test("checkStartupRows() reports a missing field as undefined and a bad source by value", () => {
  const { phase: _, ...noPhase } = STARTUP[0];
  assert.throws(
    () => checkStartupRows([noPhase as Loose]),
    /TypeError: .*'rows\[0\]\.phase' must be a string: current value is undefined/,
  );
  assert.throws(
    () => checkStartupRows([{ ...STARTUP[0], source: "model" as Loose }]),
    /'rows\[0\]\.source' must be "paper" or "sim": current value is "model"/,
  );
  assert.throws(() => checkStartupRows([null as Loose]), /'rows\[0\]' must be an object/);
  assert.throws(() => checkStartupRows("rows" as Loose), /'rows' must be an array/);
});

Deno.test("checkStartupRows() rejects a phase that ends before it starts with a RangeError", () => {
  assert.throws(
    () => checkStartupRows([{ ...STARTUP[0], startS: 10, endS: 5 }]),
    (e: Error) => e instanceof RangeError && /'rows\[0\]\.endS' must be >= startS/.test(e.message),
  );
});

Deno.test("checkTimelineRows() accepts lib/sim SpanRows with their extra fields", () => {
  const span = {
    run: "r",
    seed: 1,
    entity: "node0",
    phase: "boot",
    start: 0,
    end: 2e9,
    startS: 0,
    endS: 2,
    durationS: 2,
  };
  assert.equal(checkTimelineRows([span])[0].durationS, 2);
});

Deno.test("every builder rejects a corrupted field with a TypeError naming that field", () => {
  // Each builder with its valid rows; corrupting any field of any row must be
  // reported with that row and field (property over rows and fields).
  const cases: [string, Loose[], (rows: Loose[]) => unknown][] = [
    ["startup rows", STARTUP, (r) => startupFigure(r)],
    ["throughput rows", THROUGHPUT, (r) => throughputFigure(r, MARKERS)],
    ["throughput markers", MARKERS, (r) => throughputFigure(THROUGHPUT, r)],
    ["bar rows", RDMA, (r) => barsFigure(r)],
    ["timeline rows", TIMELINE, (r) => timelineFigure(r)],
    ["comparison rows", COMPARISON, (r) => comparisonTable(r)],
    ["comparison rows", COMPARISON, (r) => formatComparison(r)],
  ];
  for (const [what, rows, build] of cases) {
    build(rows); // valid rows pass
    fc.assert(
      fc.property(
        fc.nat({ max: rows.length - 1 }),
        fc.constantFrom(...Object.keys(rows[0])),
        fc.constantFrom(NaN, undefined, null, Infinity, {}, []),
        (i, field, bad) => {
          const corrupted = rows.map((r, j) => j === i ? { ...r, [field]: bad } : r);
          assert.throws(
            () => build(corrupted),
            (e: Error) =>
              e instanceof TypeError &&
              e.message.startsWith(`Cannot plot ${what}: 'rows[${i}].${field}' must be`),
          );
        },
      ),
      { numRuns: 40 },
    );
  }
});

/** A metric the run never reached (e.g. BMcast never de-virtualized): simulated NaN. */
const NOT_REACHED = {
  figure: "cassandra",
  metric: "bmcast after de-virtualization: mean % of bare metal",
  paper: 100,
  simulated: NaN,
  errorPct: NaN,
  tolerancePct: 1,
  pass: false,
};

Deno.test("checkComparisonRows() accepts a metric not reached within the run: simulated and errorPct NaN, failing", () => {
  assert.equal(checkComparisonRows([...COMPARISON, NOT_REACHED]).length, COMPARISON.length + 1);
});

Deno.test("checkComparisonRows() accepts a band row and rejects a band that is not finite low < high", () => {
  const band = { ...COMPARISON[0], paper: 85, band: { low: 70, high: 100 }, tolerancePct: 0 };
  assert.equal(checkComparisonRows([band]).length, 1);
  for (const bad of [{ low: 100, high: 70 }, { low: 70, high: NaN }, { low: 70 }, null]) {
    assert.throws(
      () => checkComparisonRows([{ ...band, band: bad } as Loose]),
      (e: Error) =>
        e instanceof TypeError &&
        e.message.startsWith(
          "Cannot plot comparison rows: 'rows[0].band' must be absent, or { low, high } with finite low < high: ",
        ),
      JSON.stringify(bad),
    );
  }
});

Deno.test("checkComparisonRows() stays strict on every other non-finite number and on inconsistent rows", () => {
  const at = COMPARISON.length;
  const cases: [Record<string, unknown>, string, string][] = [
    // A not-reached row that passes, or with a finite error, is a programming error.
    [{ ...NOT_REACHED, pass: true }, "simulated", "NaN"],
    [{ ...NOT_REACHED, errorPct: 5 }, "simulated", "NaN"],
    // NaN error beside a finite value.
    [{ ...COMPARISON[0], errorPct: NaN }, "errorPct", "NaN"],
    // The paper's value and the tolerance must be finite; so must a reached value.
    [{ ...NOT_REACHED, paper: NaN }, "paper", "NaN"],
    [{ ...COMPARISON[0], tolerancePct: NaN }, "tolerancePct", "NaN"],
    [{ ...COMPARISON[0], simulated: Infinity }, "simulated", "Infinity"],
    [{ ...NOT_REACHED, simulated: "NaN" }, "simulated", '"NaN"'],
  ];
  for (const [row, field, shown] of cases) {
    assert.throws(
      () => checkComparisonRows([...COMPARISON, row as Loose]),
      (e: Error) =>
        e instanceof TypeError &&
        e.message.startsWith(`Cannot plot comparison rows: 'rows[${at}].${field}' must be `) &&
        e.message.endsWith(`: current value is ${shown}`),
      JSON.stringify(row),
    );
  }
  assert.throws(
    () => checkComparisonRows([{ ...COMPARISON[0], simulated: NaN }]),
    /'rows\[0\]\.simulated' must be a finite number, or NaN \(not reached within the run\) with errorPct NaN and pass false: current value is NaN/,
  );
});
