import assert from "node:assert/strict";
import fc from "fast-check";
import { NO_VERSION } from "../../lib/_util/mod.ts";
import { PhysicalMemory, SECTOR_BYTES } from "../../lib/hw/memory.ts";

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
