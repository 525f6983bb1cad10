import assert from "node:assert/strict";
import fc from "fast-check";
import { mergeRuns, RunSet, splitRun } from "../../lib/_util/mod.ts";

Deno.test("splitRun covers the run with consecutive pieces of at most max sectors", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1e9 }),
      fc.integer({ min: 0, max: 5000 }),
      fc.integer({ min: 1, max: 600 }),
      (lba, count, max) => {
        const pieces = splitRun({ lba, count }, max);
        let at = lba;
        for (const p of pieces) {
          assert.equal(p.lba, at);
          assert.ok(p.count >= 1 && p.count <= max);
          at += p.count;
        }
        assert.equal(at, lba + count);
        // only the last piece may be short
        assert.ok(pieces.slice(0, -1).every((p) => p.count === max));
      },
    ),
  );
});

Deno.test("splitRun rejects a max that is not a positive integer, naming it", () => {
  for (const max of [0, -1, 1.5, NaN]) {
    assert.throws(
      () => splitRun({ lba: 0, count: 8 }, max),
      (e: Error) => e instanceof RangeError && /'max'/.test(e.message),
      String(max),
    );
  }
});

Deno.test("mergeRuns gives the sorted, disjoint union of runs clipped to the end", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ lba: fc.integer({ min: -20, max: 200 }), count: fc.nat(60) })),
      fc.integer({ min: 0, max: 220 }),
      (runs, end) => {
        const merged = mergeRuns(runs, end);
        const inUnion = (s: number) =>
          s >= 0 && s < end && runs.some((r) => s >= r.lba && s < r.lba + r.count);
        const inMerged = (s: number) => merged.some((r) => s >= r.lba && s < r.lba + r.count);
        for (let s = -25; s < 270; s++) assert.equal(inMerged(s), inUnion(s), `sector ${s}`);
        for (let i = 1; i < merged.length; i++) {
          // disjoint and not touching (touching runs are one)
          assert.ok(merged[i].lba > merged[i - 1].lba + merged[i - 1].count);
        }
        assert.ok(merged.every((r) => r.count > 0));
      },
    ),
  );
});

Deno.test("RunSet holds the union of the runs added, and each add returns exactly what it newly covered", () => {
  const run = fc.record({
    lba: fc.integer({ min: 0, max: 200 }),
    count: fc.integer({ min: 0, max: 40 }),
  });
  fc.assert(fc.property(fc.array(run, { maxLength: 30 }), (runs) => {
    const set = new RunSet();
    const covered = new Set<number>();
    for (const r of runs) {
      const news = set.add(r);
      const expected: number[] = [];
      for (let s = r.lba; s < r.lba + r.count; s++) if (!covered.has(s)) expected.push(s);
      assert.deepEqual(
        news.flatMap((n) => Array.from({ length: n.count }, (_, i) => n.lba + i)),
        expected,
      );
      assert.ok(news.every((n) => n.count > 0));
      for (const s of expected) covered.add(s);
    }
    assert.equal(set.size, mergeRuns(runs, Infinity).length);
  }));
});

Deno.test("mergeRuns refuses an end that is not a number >= 0, naming it", () => {
  for (const end of [NaN, -1, undefined]) {
    assert.throws(() => mergeRuns([{ lba: 0, count: 4 }], end as never), {
      name: "RangeError",
      message:
        `Cannot merge runs: 'end' must be a number >= 0 (Infinity: no end): current value is ${end}`,
    });
  }
  assert.deepEqual(mergeRuns([{ lba: 2, count: 4 }], Infinity), [{ lba: 2, count: 4 }]);
});
