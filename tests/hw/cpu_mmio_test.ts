import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { Cpu, type CpuCosts } from "../../lib/hw/cpu.ts";
import { InterruptController } from "../../lib/hw/interrupts.ts";
import { MmioBus } from "../../lib/hw/mmio.ts";

const COSTS: CpuCosts = {
  vmExit: 500,
  vmEntry: 400,
  mmioRead: 800,
  mmioWrite: 150,
  eptOverhead: 0.1,
  ipi: 1000,
  tlbFlush: 2000,
};

/** A bus with one 4 KiB device at 0x1000 that logs what reaches it, and a hook on 0x1100..0x117f. */
function hookedBus(): { bus: MmioBus; seen: string[]; hooked: number[] } {
  const bus = new MmioBus();
  const seen: string[] = [];
  const hooked: number[] = [];
  bus.map({
    base: 0x1000,
    size: 0x1000,
    name: "dev",
    device: {
      read: (o) => (seen.push(`read 0x${o.toString(16)}`), 0),
      write: (o, _s, v) => void seen.push(`write 0x${o.toString(16)}=${v}`),
    },
  });
  bus.hook({ base: 0x1100, size: 0x80, name: "port0" }, (a) => {
    hooked.push(a.offset);
    return { action: "done", value: 7 };
  });
  return { bus, seen, hooked };
}

Deno.test("MmioBus.access() traps an access that starts before a hook and runs into it, and only those", () => {
  const { bus, seen, hooked } = hookedBus();
  const wide = bus.access({ addr: 0x10fc, size: 8, write: true, value: 2 ** 32, cpu: 0 });
  assert.equal(wide.trapped, true);
  const word = bus.access({ addr: 0x10fe, size: 4, write: false, value: 0, cpu: 0 });
  assert.deepEqual([word.trapped, word.value], [true, 7]);
  assert.deepEqual(hooked, [-4, -2], "the hook sees where the access starts relative to it");
  assert.deepEqual(seen, [], "nothing reached the device behind the hook's back");
  assert.equal(bus.trappedAccesses.get("port0"), 2);
  // Ending just before the hook or starting just after it reaches the device.
  assert.equal(
    bus.access({ addr: 0x10fc, size: 4, write: false, value: 0, cpu: 0 }).trapped,
    false,
  );
  assert.equal(
    bus.access({ addr: 0x1180, size: 4, write: false, value: 0, cpu: 0 }).trapped,
    false,
  );
  assert.equal(bus.access({ addr: 0x117c, size: 4, write: false, value: 0, cpu: 0 }).trapped, true);
  assert.deepEqual(seen, ["read 0xfc", "read 0x180"]);
  assert.deepEqual(hooked, [-4, -2, 0x7c]);
});

Deno.test("MmioBus.isTrapped() answers for the whole access", () => {
  const { bus } = hookedBus();
  assert.equal(bus.isTrapped(0x10fc), false, "one byte before the hook");
  assert.equal(bus.isTrapped(0x10fc, 8), true, "eight bytes reach into it");
  assert.equal(bus.isTrapped(0x1100), true);
  assert.equal(bus.isTrapped(0x1180, 4), false);
});

Deno.test("MmioBus.hook() refuses a range that is not integers with size >= 1, naming the field", () => {
  const bus = new MmioBus();
  const done = () => ({ action: "done" as const });
  const cases: [{ base: number; size: number }, RegExp][] = [
    [
      { base: NaN, size: 16 },
      /Cannot hook 'h': 'base' must be an integer >= 0: current value is NaN/,
    ],
    [{ base: -4, size: 16 }, /'base' must be an integer >= 0: current value is -4/],
    [{ base: 16.5, size: 16 }, /'base' must be an integer >= 0: current value is 16.5/],
    [{ base: 0x1000, size: 0 }, /'size' must be an integer >= 1: current value is 0/],
    [{ base: 0x1000, size: -5 }, /'size' must be an integer >= 1: current value is -5/],
    [{ base: 0x1000, size: Infinity }, /'size' must be an integer >= 1: current value is Infinity/],
  ];
  for (const [range, message] of cases) {
    assert.throws(() => bus.hook({ ...range, name: "h" }, done), { name: "RangeError", message });
  }
  assert.equal(bus.hooks.length, 0);
});

Deno.test("new Cpu() refuses missing, fractional or negative costs, naming each field", () => {
  assert.throws(() => new Cpu(0, {} as CpuCosts), {
    name: "RangeError",
    message:
      /^Cannot create cpu 0: 'vmExit' must be an integer >= 0: current value is undefined; 'vmEntry'.*'tlbFlush'.*; 'eptOverhead' must be a finite number >= 0: current value is undefined$/,
  });
  const cases: [Partial<CpuCosts>, RegExp][] = [
    [{ mmioRead: 800.5 }, /'mmioRead' must be an integer >= 0: current value is 800.5/],
    [{ vmEntry: -1 }, /'vmEntry' must be an integer >= 0: current value is -1/],
    [{ ipi: NaN }, /'ipi' must be an integer >= 0: current value is NaN/],
    [{ tlbFlush: undefined }, /'tlbFlush' must be an integer >= 0: current value is undefined/],
    [{ eptOverhead: -0.1 }, /'eptOverhead' must be a finite number >= 0: current value is -0.1/],
    [{ eptOverhead: Infinity }, /'eptOverhead' must be a finite number >= 0/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(() => new Cpu(1, { ...COSTS, ...bad }), { name: "RangeError", message });
  }
  assert.equal(new Cpu(2, { ...COSTS, eptOverhead: 0.05 }).costs.eptOverhead, 0.05);
});

Deno.test("Cpu.computeTime() takes a memory-bound fraction in [0, 1] only", () => {
  const cpu = new Cpu(0, COSTS);
  cpu.ept = true;
  assert.equal(cpu.computeTime(1000, 0), 1000);
  assert.equal(cpu.computeTime(1000, 1), 1100);
  for (const bad of [-5, NaN, 1.5]) {
    assert.throws(() => cpu.computeTime(1000, bad), {
      name: "RangeError",
      message: new RegExp(
        `Cannot compute guest time: 'memoryBound' must be a number in \\[0, 1\\]: current value is ${bad}`,
      ),
    });
  }
  cpu.ept = false;
  assert.throws(() => cpu.computeTime(1000, -5), /'memoryBound'/, "refused on bare metal too");
});

Deno.test("new InterruptController() refuses a latency that is not an integer >= 0", () => {
  const sim = new Simulation();
  for (const latency of [-1, NaN, 1.5]) {
    assert.throws(() => new InterruptController(sim, { latency }), {
      name: "RangeError",
      message: new RegExp(
        `Cannot create interrupt controller: 'latency' must be an integer >= 0: current value is ${latency}`,
      ),
    });
  }
  assert.equal(new InterruptController(sim, { latency: 0 }).latency, 0);
});

Deno.test("MmioBus.map() rejects a bad base or size with the common range error, one issue per field", () => {
  const bus = new MmioBus();
  const device = { read: () => 0, write: () => {} };
  assert.throws(() => bus.map({ base: 0x1000, size: 0, name: "dev", device }), {
    name: "RangeError",
    message: "Cannot map 'dev': 'size' must be an integer >= 1: current value is 0",
  });
  assert.throws(() => bus.map({ base: -1, size: NaN, name: "dev", device }), {
    name: "RangeError",
    message: "Cannot map 'dev': 'base' must be an integer >= 0: current value is -1; " +
      "'size' must be an integer >= 1: current value is NaN",
  });
  assert.throws(
    () => bus.map({ base: 4096.5, size: 0x100, name: "dev", device }),
    /'base' must be an integer >= 0: current value is 4096\.5/,
  );
  bus.map({ base: 0x1000, size: 0x100, name: "dev", device });
  assert.equal(bus.raw({ addr: 0x1000, size: 4, write: false, value: 0 }), 0);
});
