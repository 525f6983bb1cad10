import assert from "node:assert/strict";
import fc from "fast-check";
import { NO_VERSION } from "../../lib/_util/mod.ts";
import { E820Map, PhysicalMemory, SECTOR_BYTES } from "../../lib/hw/memory.ts";

const SIZE = 1 << 20;
const MAX_UNITS = 600; // spans several 64 KiB version pages

/** The per-sector model: one entry per exact unit address. */
class MapModel {
  #m = new Map<number, number>();
  write(addr: number, versions: ArrayLike<number>): void {
    for (let i = 0; i < versions.length; i++) this.#m.set(addr + i * SECTOR_BYTES, versions[i]);
  }
  read(addr: number, count: number): Int32Array {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.#m.get(addr + i * SECTOR_BYTES) ?? NO_VERSION;
    return out;
  }
}

// Mostly sector-aligned buffers (every real one), sometimes any address.
const addr = (count: number) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.nat((SIZE - count * SECTOR_BYTES) / SECTOR_BYTES).map((u) => u * SECTOR_BYTES),
    },
    { weight: 1, arbitrary: fc.nat(SIZE - count * SECTOR_BYTES) },
  );
const op = fc.integer({ min: 0, max: MAX_UNITS }).chain((count) =>
  fc.record({
    write: fc.boolean(),
    addr: addr(count),
    count: fc.constant(count),
    versions: fc.array(fc.integer({ min: -1, max: 4 }), { minLength: count, maxLength: count }),
    typed: fc.boolean(),
  })
);

Deno.test("memory version pages equal the per-sector model", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const mem = new PhysicalMemory({ size: SIZE });
      const model = new MapModel();
      for (const o of ops) {
        if (o.write) {
          mem.writeVersions(o.addr, o.typed ? Int32Array.from(o.versions) : o.versions);
          model.write(o.addr, o.versions);
        } else {
          assert.deepEqual(mem.readVersions(o.addr, o.count), model.read(o.addr, o.count));
        }
      }
      for (const o of ops) {
        assert.deepEqual(mem.readVersions(o.addr, o.count), model.read(o.addr, o.count));
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("memory keeps a sector unit by its exact address", () => {
  const mem = new PhysicalMemory({ size: SIZE });
  mem.writeVersions(0x10100, [7, 8]);
  mem.writeVersions(0x10000, [1, 2, 3]);
  assert.deepEqual([...mem.readVersions(0x10100, 2)], [7, 8]);
  assert.deepEqual([...mem.readVersions(0x10000, 4)], [1, 2, 3, NO_VERSION]);
  assert.deepEqual([...mem.readVersions(0x10001, 1)], [NO_VERSION]);
});

Deno.test("memory version DMA crosses version pages and keeps bytes apart", () => {
  const mem = new PhysicalMemory({ size: 1 << 30 });
  const buf = 0x3000_0000 - 3 * SECTOR_BYTES; // straddles a 64 KiB boundary
  const versions = Int32Array.from({ length: 2048 }, (_, i) => i);
  mem.writeVersions(buf, versions);
  assert.deepEqual(mem.readVersions(buf, 2048), versions);
  assert.equal(mem.pagesTouched, 0); // versions are not bytes
  mem.write(buf, 4, 0xabcd);
  assert.equal(mem.readVersions(buf, 1)[0], 0);
  assert.throws(() => mem.writeVersions((1 << 30) - SECTOR_BYTES, [1, 2]), RangeError);
  assert.throws(() => mem.readVersions(-SECTOR_BYTES, 1), RangeError);
});

Deno.test("PhysicalMemory.write() refuses a value wider than the access instead of truncating it", () => {
  const mem = new PhysicalMemory({ size: SIZE });
  const cases: [1 | 2 | 4 | 8, number, string][] = [
    [1, 0x1ff, "an integer in [0, 0xff] for a 1-byte access: current value is 511"],
    [2, 0x12345, "an integer in [0, 0xffff] for a 2-byte access: current value is 74565"],
    [4, 2 ** 32, "an integer in [0, 0xffffffff] for a 4-byte access: current value is 4294967296"],
    [
      8,
      2 ** 53,
      "an integer in [0, 0x1fffffffffffff] for a 8-byte access: current value is 9007199254740992",
    ],
    [4, -1, "an integer in [0, 0xffffffff] for a 4-byte access: current value is -1"],
    [4, 1.5, "an integer in [0, 0xffffffff] for a 4-byte access: current value is 1.5"],
  ];
  for (const [size, value, rule] of cases) {
    assert.throws(() => mem.write(0x100, size, value), {
      name: "RangeError",
      message: `Cannot write memory: 'value' must be ${rule}`,
    });
  }
  assert.equal(mem.read(0x100, 8), 0, "nothing was written");
  mem.write(0x100, 1, 0xff);
  mem.write(0x102, 2, 0xffff);
  mem.write(0x108, 8, Number.MAX_SAFE_INTEGER);
  assert.deepEqual([mem.read(0x100, 4), mem.read(0x108, 8)], [0xffff00ff, Number.MAX_SAFE_INTEGER]);
});

Deno.test("PhysicalMemory.read() and write() take sizes 1, 2, 4 and 8 only", () => {
  const mem = new PhysicalMemory({ size: SIZE });
  mem.write(0x200, 4, 0x12345678);
  for (const size of [0, 3, 16, NaN]) {
    const message = `must be 1, 2, 4 or 8: current value is ${size}`;
    assert.throws(() => mem.read(0x200, size as 4), {
      name: "RangeError",
      message: `Cannot read memory: 'size' ${message}`,
    });
    assert.throws(() => mem.write(0x200, size as 4, 1), {
      name: "RangeError",
      message: `Cannot write memory: 'size' ${message}`,
    });
  }
  assert.equal(mem.read(0x200, 4), 0x12345678);
});

Deno.test("E820Map.reserve() refuses a base or length that is not an integer in range", () => {
  const map = E820Map.standard(64 << 20);
  const before = map.entries();
  const cases: [number, number, string][] = [
    [NaN, 4096, "'base' must be an integer >= 0: current value is NaN"],
    [-4096, 8192, "'base' must be an integer >= 0: current value is -4096"],
    [2097152.5, 4096, "'base' must be an integer >= 0: current value is 2097152.5"],
    [0x200000, Infinity, "'length' must be an integer > 0: current value is Infinity"],
    [0x200000, 0, "'length' must be an integer > 0: current value is 0"],
  ];
  for (const [base, length, message] of cases) {
    assert.throws(() => map.reserve(base, length), {
      name: "RangeError",
      message: `Cannot reserve memory: ${message}`,
    });
  }
  assert.deepEqual(map.entries(), before, "the map is unchanged");
});

Deno.test("E820Map.standard() needs memory above the 1 MiB legacy hole", () => {
  for (const size of [512 << 10, 0x100000, 0, -1, NaN, 1.5 * 2 ** 20 + 0.5]) {
    assert.throws(() => E820Map.standard(size), {
      name: "RangeError",
      message: new RegExp(
        `^Cannot create the E820 map: 'size' must be an integer > 1048576 \\(0x100000: .*\\): current value is ${size}$`,
      ),
    });
  }
  const map = E820Map.standard(0x100000 + 4096);
  assert.deepEqual(map.entries().at(-1), { base: 0x100000, length: 4096, type: "usable" });
});
