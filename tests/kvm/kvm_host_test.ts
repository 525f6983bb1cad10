import assert from "node:assert/strict";
import fc from "fast-check";
import { seconds } from "../../lib/_util/mod.ts";
import { Simulation } from "../../lib/sim/mod.ts";
import { Cpu } from "../../lib/hw/mod.ts";
import { KvmHost } from "../../lib/kvm/mod.ts";
import { bootedVm, CPU, HANDLERS } from "./_fixtures.ts";

Deno.test("host boot then VM start take host OS boot + QEMU start + virtual firmware", () => {
  const sim = new Simulation();
  const cpus = [new Cpu(0, CPU), new Cpu(1, CPU)];
  const host = new KvmHost({ sim, cpus, hostOsBoot: seconds(21) });
  const vm = host.createVm({
    pin: [0, 1],
    vmmStart: seconds(6),
    guestFirmware: seconds(3),
    exitHandlers: {},
  });
  sim.process(function* () {
    yield host.boot();
    assert.equal(sim.now, seconds(21));
    assert.deepEqual(cpus.map((c) => c.vmx), ["root", "root"]);
    yield vm.start();
  });
  sim.run();
  assert.equal(host.bootedAt, seconds(21));
  assert.equal(vm.enteredAt, seconds(27));
  assert.equal(vm.runningAt, seconds(30));
  assert.deepEqual(cpus.map((c) => [c.vmx, c.ept]), [["non-root", true], ["non-root", true]]);
  vm.stop();
  assert.deepEqual(cpus.map((c) => [c.vmx, c.ept, c.onExit]), [
    ["root", false, undefined],
    ["root", false, undefined],
  ]);
  // Its CPUs are free again: another VM may pin them.
  const next = host.createVm({
    name: "vm2",
    pin: [0, 1],
    vmmStart: 1,
    guestFirmware: 1,
    exitHandlers: {},
  });
  assert.equal(next.vcpus.length, 2);
});

Deno.test("a VM cannot start before its host runs, nor start twice", () => {
  const sim = new Simulation();
  const host = new KvmHost({ sim, cpus: [new Cpu(0, CPU)], hostOsBoot: 10 });
  const vm = host.createVm({ vmmStart: 1, guestFirmware: 1, exitHandlers: {} });
  assert.throws(() => vm.start(), /before host/);
  host.boot();
  assert.throws(() => host.boot(), /illegal transition booting -> booting/);
  sim.run();
  vm.start();
  assert.throws(() => vm.start(), /illegal transition starting -> starting/);
});

Deno.test("EPT slows the memory-bound part of guest work by the CPU's eptOverhead", () => {
  const { vm } = bootedVm();
  assert.equal(vm.guestTime(1_000_000, { memoryBound: 1 }), 1_200_000);
  assert.equal(vm.guestTime(1_000_000, { memoryBound: 0.5 }), 1_100_000);
  assert.equal(vm.guestTime(1_000_000), 1_000_000);
  const noEpt = bootedVm({ ept: false }).vm;
  assert.equal(noEpt.guestTime(1_000_000, { memoryBound: 1 }), 1_000_000);
});

Deno.test("background timer exits are counted on the CPU and steal their share of guest time", () => {
  const { vm, cpu } = bootedVm({
    backgroundExits: [{ reason: "external-interrupt", perSecond: 1000 }, {
      reason: "ipi",
      perSecond: 250,
    }],
  });
  const timer = CPU.vmExit + HANDLERS["external-interrupt"]! + CPU.vmEntry;
  const ipi = CPU.vmExit + CPU.vmEntry; // no handler cost configured for "ipi"
  const f = (1000 * timer + 250 * ipi) / 1e9;
  assert.ok(Math.abs(vm.stealFraction() - f) < 1e-12);
  let wall = 0;
  for (let i = 0; i < 1000; i++) wall += vm.guestTime(1_000_000); // 1 s of guest work
  const ticks = cpu.exits.get("external-interrupt")!;
  assert.ok(Math.abs(ticks - 1000 / (1 - f)) <= 1, `ticks ${ticks}`);
  assert.ok(Math.abs(cpu.exits.get("ipi")! - 250 / (1 - f)) <= 1);
  assert.equal(wall, 1e9 + ticks * timer + cpu.exits.get("ipi")! * ipi);
  assert.ok(Math.abs(wall - 1e9 / (1 - f)) < 2 * timer);
});

Deno.test("property: guest work under a VM never takes less than on bare metal", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10_000_000 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 0, max: 5000 }),
      (ns, mb, rate) => {
        const { vm } = bootedVm({
          backgroundExits: [{ reason: "preemption-timer", perSecond: rate }],
        });
        return vm.guestTime(ns, { memoryBound: mb }) >= ns;
      },
    ),
    { numRuns: 50 },
  );
});

Deno.test("bad host and VM options throw RangeErrors naming the field", () => {
  const sim = new Simulation();
  const cpus = [new Cpu(0, CPU)];
  assert.throws(
    () => new KvmHost({ sim, cpus, hostOsBoot: -1 }),
    (e: Error) => e instanceof RangeError && /'hostOsBoot'/.test(e.message),
  );
  assert.throws(() => new KvmHost({ sim, cpus: [], hostOsBoot: 0 }), /'cpus'/);
  const host = new KvmHost({ sim, cpus, hostOsBoot: 0 });
  const base = { vmmStart: 0, guestFirmware: 0, exitHandlers: {} };
  assert.throws(() => host.createVm({ ...base, pin: [3] }), /'pin\[0\]'.*current value is 3/);
  assert.throws(() => host.createVm({ ...base, vmmStart: 1.5 }), /'vmmStart'/);
  assert.throws(
    () => host.createVm({ ...base, exitHandlers: { "io-instruction": -4 } }),
    /'exitHandlers.io-instruction'/,
  );
  assert.throws(
    () => host.createVm({ ...base, exitHandlers: { hlt: 5 } as never }),
    /'exitHandlers.hlt'/,
  );
  assert.throws(
    () => host.createVm({ ...base, backgroundExits: [{ reason: "ipi", perSecond: 1e9 }] }),
    (e: Error) => e instanceof RangeError && /'backgroundExits'/.test(e.message),
  );
  host.createVm(base);
  assert.throws(() => host.createVm(base), /'pin\[0\]' must be a CPU no other vCPU is pinned to/);
});
