import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { Cpu, E820Map, MmioBus } from "../../lib/hw/mod.ts";
import { Vmm } from "../../lib/vmm/mod.ts";

const CPU_COSTS = {
  vmExit: 500,
  vmEntry: 400,
  mmioRead: 800,
  mmioWrite: 150,
  eptOverhead: 0.05,
  ipi: 1000,
  tlbFlush: 2000,
};
const BASE = 0x3000_0000;

const COSTS = {
  init: 1000,
  perCpuStart: 100,
  mmioHandler: 300,
  commandInterpret: 500,
  pollInterval: 100_000,
  vmxoffSkew: 1000,
};

/** A VMM occupying `size` bytes at BASE of a 1 GiB machine. */
function vmm(size: number, costs: typeof COSTS = COSTS): Vmm {
  return new Vmm({
    sim: new Simulation(),
    cpus: [new Cpu(0, CPU_COSTS)],
    bus: new MmioBus(),
    e820: E820Map.standard(1 << 30),
    memory: { base: BASE, size },
    costs,
  });
}

Deno.test("a VMM's bad costs are a RangeError naming every cost, its rule and its value", () => {
  assert.throws(() => vmm(64 << 20, { ...COSTS, pollInterval: 0, init: NaN }), {
    name: "RangeError",
    message: "Cannot create VMM: 'costs.init' Invalid input: expected number, received NaN: " +
      "current value is NaN; 'costs.pollInterval' Too small: expected number to be >0: " +
      "current value is 0",
  });
});

Deno.test("Vmm.allocate() hands out aligned, disjoint ranges above the first quarter of VMM memory", () => {
  const v = vmm(64 << 20);
  const a = v.allocate(100, 1024);
  const b = v.allocate(32, 256);
  const c = v.allocate(4096, 4096);
  assert.equal(a, BASE + (16 << 20));
  assert.deepEqual([b % 256, c % 4096], [0, 0]);
  assert.ok(b >= a + 100 && c >= b + 32);
  assert.throws(() => v.allocate(64 << 20, 1), /out of VMM memory/);
});

Deno.test("Vmm.allocate() refuses a size that is not a positive integer and an align that is not a power of two", () => {
  const v = vmm(64 << 20);
  for (const size of [0, -4096, 2.5, NaN]) {
    assert.throws(() => v.allocate(size, 1), {
      name: "RangeError",
      message:
        `Cannot allocate VMM memory: 'size' must be an integer > 0: current value is ${size}`,
    });
  }
  for (const align of [0, 3, -4, 0.5, NaN]) {
    assert.throws(() => v.allocate(4096, align), {
      name: "RangeError",
      message:
        `Cannot allocate VMM memory: 'align' must be a power of two: current value is ${align}`,
    });
  }
  // Nothing refused moved the pointer: the next allocation is where the first would have been.
  assert.equal(v.allocate(4096, 1), BASE + (16 << 20));
});

Deno.test("Vmm.allocate() starts at a whole byte when the VMM's size is not a multiple of 4", () => {
  const v = vmm(4099);
  const a = v.allocate(1, 1);
  assert.ok(Number.isInteger(a), `allocate(1, 1) returned ${a}`);
  assert.equal(a, BASE + 1024);
});
