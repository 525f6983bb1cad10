import assert from "node:assert/strict";
import fc from "fast-check";
import { BlockMap } from "../../lib/vmm/block_map.ts";

Deno.test("BlockMap tracks presence exactly against a per-sector model", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.tuple(fc.nat(299), fc.integer({ min: 1, max: 60 }), fc.boolean()), {
        maxLength: 40,
      }),
      (sectors, chunkSectors, writes) => {
        const map = new BlockMap({ sectors, chunkSectors });
        const model = new Uint8Array(sectors);
        for (const [a, n, g] of writes) {
          const lba = a % sectors;
          const count = Math.min(n, sectors - lba);
          map.markPresent(lba, count, g);
          model.fill(1, lba, lba + count);
        }
        const runs = map.missing(0, sectors);
        const fromRuns = new Uint8Array(sectors).fill(1);
        for (const r of runs) fromRuns.fill(0, r.lba, r.lba + r.count);
        assert.deepEqual(fromRuns, model);
        assert.equal(map.presentSectors, model.reduce((x, y) => x + y, 0));
        assert.equal(map.complete, model.every((x) => x === 1));
        for (let c = 0; c < map.chunks; c++) {
          const { lba, count } = map.chunkRange(c);
          const have = model.subarray(lba, lba + count).reduce((x, y) => x + y, 0);
          const want = have === 0 ? "absent" : have === count ? "present" : "partial";
          assert.equal(map.chunkState(c), want);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("BlockMap hands out each chunk to copy once while it is in flight", () => {
  const map = new BlockMap({ sectors: 100, chunkSectors: 10 });
  const c0 = map.nextToCopy();
  map.setInflight(c0, true);
  const c1 = map.nextToCopy();
  assert.notEqual(c0, c1);
  map.markPresent(map.chunkRange(c0).lba, 10);
  map.setInflight(c0, false);
  map.markPresent(0, 100);
  assert.equal(map.nextToCopy(), -1);
  assert.equal(map.complete, true);
});

Deno.test("BlockMap rejects ranges outside the disk and bad sizes", () => {
  const map = new BlockMap({ sectors: 64, chunkSectors: 8 });
  assert.throws(() => map.missing(60, 8), RangeError);
  assert.throws(
    () => new BlockMap({ sectors: 64, chunkSectors: 0 }),
    /'chunkSectors'.*current value is 0/,
  );
});

Deno.test("BlockMap with needed runs counts the rest present from the start and hands out only needed chunks", () => {
  const map = new BlockMap({
    sectors: 100,
    chunkSectors: 10,
    needed: [{ lba: 45, count: 10 }, { lba: 0, count: 10 }],
  });
  assert.equal(map.unneededSectors, 80);
  assert.equal(map.presentSectors, 80);
  assert.deepEqual(map.missing(0, 100), [{ lba: 0, count: 10 }, { lba: 45, count: 10 }]);
  const handed: number[] = [];
  for (let c = map.nextToCopy(); c >= 0; c = map.nextToCopy()) {
    handed.push(c);
    map.markPresent(map.chunkRange(c).lba, 10);
  }
  assert.deepEqual(handed, [0, 4, 5]); // chunks 4 and 5 each hold half of [45, 55)
  assert.ok(map.complete);
  assert.throws(
    () => new BlockMap({ sectors: 100, chunkSectors: 10, needed: [{ lba: 95, count: 10 }] }),
    /'needed' run .*\[95, 105\)/,
  );
});

Deno.test("BlockMap.nextToCopy(from) wraps around to a chunk before `from` when none is left after it", () => {
  const map = new BlockMap({ sectors: 100, chunkSectors: 10 });
  map.markPresent(0, 10); // chunk 0: the copy cursor moves past it
  map.markPresent(60, 40); // chunks 6..9 present: nothing left after 5
  map.setInflight(3, true);
  assert.equal(map.nextToCopy(5), 5);
  map.setInflight(5, true);
  // Nothing to copy at or after 6: back to the first absent chunk not in flight.
  assert.equal(map.nextToCopy(6), 1);
  for (const c of [1, 2, 4]) map.setInflight(c, true);
  assert.equal(map.nextToCopy(6), -1, "every chunk left is in flight");
  map.setInflight(3, false);
  assert.equal(map.nextToCopy(6), 3);
});

Deno.test("BlockMap.chunkState() and setInflight() refuse an index that is not a chunk", () => {
  const map = new BlockMap({ sectors: 64, chunkSectors: 8 });
  for (const c of [-1, 8, 1.5, NaN]) {
    assert.throws(() => map.chunkState(c), {
      name: "RangeError",
      message: `Cannot query block map: 'c' must be a chunk index in [0, 8): current value is ${c}`,
    });
    assert.throws(() => map.setInflight(c, true), {
      name: "RangeError",
      message:
        `Cannot mark chunk in flight: 'c' must be a chunk index in [0, 8): current value is ${c}`,
    });
  }
  // A bad index marked nothing: every chunk is still handed out in order.
  assert.equal(map.nextToCopy(), 0);
  assert.equal(map.chunkState(7), "absent");
});
