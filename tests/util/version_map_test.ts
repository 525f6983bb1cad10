import assert from "node:assert/strict";
import fc from "fast-check";
import { IMAGE_VERSION, NO_VERSION, VersionMap } from "../../lib/_util/mod.ts";

const CHUNK = 4096;
const BLOCKS = 3 * CHUNK + 123; // a partial last chunk

/** The per-block model the chunked map must equal. */
type Op =
  | { kind: "fill"; start: number; count: number; version: number }
  | { kind: "set"; start: number; versions: number[]; typed: boolean }
  | { kind: "read"; start: number; count: number };

const range = fc.integer({ min: 0, max: BLOCKS }).chain((start) =>
  fc.record({
    start: fc.constant(start),
    count: fc.oneof(
      fc.integer({ min: 0, max: Math.min(16, BLOCKS - start) }),
      fc.integer({ min: 0, max: BLOCKS - start }),
      fc.constant(Math.min(CHUNK, BLOCKS - start)),
    ),
  })
);
const version = fc.integer({ min: -1, max: 3 });
const op: fc.Arbitrary<Op> = fc.oneof(
  range.chain((r) =>
    version.map((v) => ({ kind: "fill" as const, start: r.start, count: r.count, version: v }))
  ),
  range.chain((r) =>
    fc.record({
      v: version,
      mixed: fc.boolean(),
      typed: fc.boolean(),
      at: fc.nat(),
      other: version,
    }).map(({ v, mixed, typed, at, other }) => {
      const versions = new Array<number>(r.count).fill(v);
      if (mixed && r.count > 0) versions[at % r.count] = other;
      return { kind: "set" as const, start: r.start, versions, typed };
    })
  ),
  range.map((r) => ({ kind: "read" as const, ...r })),
);

Deno.test("version map chunked fill, set and read equal the per-block model", () => {
  fc.assert(
    fc.property(version, fc.array(op, { maxLength: 25 }), (initial, ops) => {
      const map = new VersionMap(BLOCKS, initial);
      const model = new Int32Array(BLOCKS).fill(initial);
      for (const o of ops) {
        if (o.kind === "fill") {
          map.fill(o.start, o.count, o.version);
          model.fill(o.version, o.start, o.start + o.count);
        } else if (o.kind === "set") {
          map.set(o.start, o.typed ? Int32Array.from(o.versions) : o.versions);
          model.set(o.versions, o.start);
        } else {
          assert.deepEqual(map.read(o.start, o.count), model.slice(o.start, o.start + o.count));
          const n = model.slice(o.start, o.start + o.count).filter((x) => x !== 0).length;
          assert.equal(map.countOther(o.start, o.count, 0), n);
        }
      }
      assert.deepEqual(map.read(0, BLOCKS), model);
      for (let i = 0; i < BLOCKS; i += 997) assert.equal(map.get(i), model[i]);
      const copy = new VersionMap(BLOCKS, NO_VERSION);
      copy.set(0, model);
      assert.ok(copy.equals(map) && map.equals(copy));
    }),
    { numRuns: 300 },
  );
});

Deno.test("version map collapses chunks a sequential copy fills with one value", () => {
  const blocks = 1 << 20; // 512 MiB of sectors
  const disk = new VersionMap(blocks, NO_VERSION);
  const piece = new Int32Array(1024).fill(IMAGE_VERSION); // 512 KiB writes
  for (let lba = 0; lba < blocks; lba += piece.length) disk.set(lba, piece);
  assert.equal(disk.countOther(0, blocks, IMAGE_VERSION), 0);
  // Uniform chunks only: one number per chunk, no Int32Array left behind.
  assert.equal(disk.footprint, (blocks / CHUNK) * 8);
});

Deno.test("version map set of a uniform chunk's own value materialises nothing", () => {
  const m = new VersionMap(2 * CHUNK, IMAGE_VERSION);
  m.set(100, new Int32Array(50));
  m.set(CHUNK - 3, [0, 0, 0, 0, 0, 0]);
  assert.equal(m.footprint, 2 * 8);
  m.set(7, [0, 5]);
  assert.equal(m.footprint, 2 * 8 + CHUNK * 4);
  assert.deepEqual([...m.read(6, 3)], [0, 0, 5]);
});

Deno.test("version map rejects a range outside its blocks", () => {
  const m = new VersionMap(10);
  assert.throws(() => m.set(8, [1, 2, 3]), /block range \[8, 11\) must lie within \[0, 10\)/);
  assert.throws(() => m.read(-1, 2), RangeError);
  assert.throws(() => m.countOther(9, 2, 0), RangeError);
});

Deno.test("version map addresses blocks past 2^31 and 2^32 (a 48-bit LBA disk of 2.3 TiB)", () => {
  const blocks = 0x1_2345_6789;
  const m = new VersionMap(blocks, IMAGE_VERSION);
  for (const high of [2 ** 31 + 5, 2 ** 32 + 5]) { // int32 and uint32 index arithmetic wrap here
    m.fill(high - 2, 4, 7); // before the fix, a fill past 2^31 looped forever
    assert.equal(m.get(high), 7);
    assert.equal(m.get(high % 2 ** 31), IMAGE_VERSION, "the block it would wrap onto is untouched");
    assert.deepEqual([...m.read(high - 3, 6)], [0, 7, 7, 7, 7, 0]);
  }
  m.set(blocks - 3, [8, 9]);
  assert.deepEqual([...m.read(blocks - 4, 4)], [0, 8, 9, 0]);
  assert.equal(m.countOther(0, blocks, IMAGE_VERSION), 10);
  const lastChunk = blocks - (blocks % CHUNK);
  m.fill(lastChunk, blocks - lastChunk, 3); // the whole (partial) last chunk
  assert.equal(m.get(blocks - 1), 3);
  assert.equal(m.countOther(lastChunk, blocks - lastChunk, 3), 0);
});

Deno.test("version map rejects more blocks than 2^43, stating the limit", () => {
  assert.throws(() => new VersionMap(2 ** 43 + 1), {
    name: "RangeError",
    message:
      "Cannot create version map: 'blocks' must be an integer in [0, 2^43 = 8796093022208]: current value is 8796093022209",
  });
  assert.throws(() => new VersionMap(-1), /'blocks' must be an integer in \[0, 2\^43/);
  assert.throws(() => new VersionMap(1.5), /current value is 1\.5/);
});
