import assert from "node:assert/strict";
import { E820Map } from "../../lib/hw/mod.ts";
import { PhysAllocator } from "../../lib/guest/mod.ts";

Deno.test("PhysAllocator hands out aligned usable RAM above minAddress, skipping reserved ranges", () => {
  const map = E820Map.standard(16 << 20);
  map.reserve(0x10_0000, 0x10_0000);
  const a = new PhysAllocator(map);
  const x = a.alloc(100, { align: 1024 });
  assert.equal(x, 0x20_0000);
  const y = a.alloc(256, { align: 256 });
  assert.equal(y % 256, 0);
  assert.ok(y >= x + 100);
  assert.ok(map.isUsable(y, 256));
});

Deno.test("PhysAllocator.free() merges neighbours so the memory can be reused whole", () => {
  const a = new PhysAllocator(E820Map.standard(4 << 20));
  const before = a.freeBytes;
  const xs = [a.alloc(4096), a.alloc(4096), a.alloc(4096)];
  a.free(xs[1], 4096);
  a.free(xs[0], 4096);
  a.free(xs[2], 4096);
  assert.equal(a.freeBytes, before);
  assert.equal(a.allocated, 0);
  assert.equal(a.alloc(3 * 4096), xs[0]);
});

Deno.test("PhysAllocator reports exhaustion, double frees and a bad alignment", () => {
  const a = new PhysAllocator(E820Map.standard(2 << 20));
  assert.throws(() => a.alloc(2 << 20), /guest out of memory/);
  const x = a.alloc(4096);
  a.free(x, 4096);
  assert.throws(() => a.free(x, 4096), {
    name: "RangeError",
    message:
      `Cannot free memory: 'addr' must be an address alloc() returned and not yet freed: current value is 0x${
        x.toString(16)
      }`,
  });
  assert.throws(() => a.alloc(10, { align: 3 }), {
    name: "RangeError",
    message: /'align' must be a power of two: current value is 3/,
  });
});

Deno.test("PhysAllocator.free() takes back only what alloc() handed out, whole", () => {
  const map = E820Map.standard(16 << 20);
  map.reserve(0x10_0000, 0x10_0000);
  const a = new PhysAllocator(map);
  const x = a.alloc(8192);
  const before = a.freeBytes;
  const refused = (addr: number, bytes: number, message: RegExp) =>
    assert.throws(() => a.free(addr, bytes), { name: "RangeError", message });
  // Memory the VMM reserved in the E820 map, and usable memory never allocated.
  refused(
    0x10_0000,
    4096,
    /'addr' must be an address alloc\(\) returned .*: current value is 0x100000/,
  );
  refused(x + 8192, 4096, /'addr' must be an address alloc\(\) returned/);
  // Part of an allocation, or more or less than was allocated (zero and negative included).
  refused(x + 4096, 4096, /'addr'/);
  for (const bytes of [4096, 16384, 0, -8192]) {
    refused(
      x,
      bytes,
      new RegExp(
        `'bytes' must be the size allocated at 0x${
          x.toString(16)
        } \\(8192\\): current value is ${bytes}`,
      ),
    );
  }
  assert.equal(a.freeBytes, before, "nothing refused joined the free list");
  assert.equal(a.allocated, 8192);
  a.free(x, 8192);
  assert.equal(a.allocated, 0);
});
