import assert from "node:assert/strict";
import fc from "fast-check";
import { Simulation } from "../../lib/sim/mod.ts";
import { InfinibandFabric } from "../../lib/net/mod.ts";
import { Cpu, MmioBus } from "../../lib/hw/mod.ts";
import { Hca, type HcaLatencyOptions } from "../../lib/hw/hca/hca.ts";
import {
  assignHca,
  type HcaAssignment,
  Iommu,
  KvmHost,
  type KvmVm,
  type RdmaDmaLayout,
  rdmaDmaTrace,
} from "../../lib/kvm/mod.ts";
import { rdmaWriteLatency } from "../../lib/workload/mod.ts";
import { CPU } from "./_fixtures.ts";

const PATH = { wqeFetch: true, inline: true, completion: "memory" } as const;
const LAYOUT: RdmaDmaLayout = { sqBase: 0x10_0000, bufferBase: 0x20_0000 };
const POLL = 50;

/**
 * Two hosts running ib_write_lat; `assign` (if given) assigns each HCA to a
 * started VM. `typical`: ib_write_lat's t_typical, ns.
 */
function pingPong(
  assign?: (vm: KvmVm) => HcaAssignment,
): { typical: number; hcas: Hca[]; cpus: Cpu[]; a?: HcaAssignment } {
  const sim = new Simulation();
  const ib = new InfinibandFabric(sim);
  ib.addSwitch("sw");
  const cpus: Cpu[] = [];
  let a: HcaAssignment | undefined;
  const hcas = ["a", "b"].map((n) => {
    ib.addHca(n);
    ib.connect({ a: n, b: "sw", meters: 2 });
    const cpu = new Cpu(0, CPU);
    cpus.push(cpu);
    let extra: HcaLatencyOptions = { pollPeriod: POLL };
    if (assign !== undefined) {
      const host = new KvmHost({ sim, cpus: [cpu], hostOsBoot: 0 });
      const vm = host.createVm({ vmmStart: 0, guestFirmware: 0, exitHandlers: {} });
      host.boot();
      sim.run();
      vm.start();
      sim.run();
      a = assign(vm);
      extra = a.hcaOptions;
    }
    return new Hca({
      name: n,
      fabric: ib,
      port: n,
      bus: new MmioBus(),
      base: 0xf000_0000,
      cpu,
      ...extra,
    });
  });
  const p = rdmaWriteLatency({ endpoint: hcas[0], peer: hcas[1], iterations: 20 });
  sim.run();
  return { typical: Math.round(p.value.typicalUs * 1000), hcas, cpus, a };
}

Deno.test("IOTLB misses raise RDMA latency by misses x miss cost", () => {
  const bare = pingPong();
  const walk = 120, hit = 0;
  // Other DMA traffic evicts the HCA's translations between iterations: every HCA DMA misses.
  const thrashed = pingPong((vm) =>
    assignHca({
      vm,
      iommu: new Iommu({ entries: 16, hitCost: hit, walkAccess: walk }),
      path: PATH,
      layout: { ...LAYOUT, interferencePages: 32 },
      pollPeriod: POLL,
      pollMemoryBound: 0,
    })
  );
  assert.equal(thrashed.a!.missRatio, 1);
  // One-way: the sender fetches the WQE, the receiver writes the data: 2 DMAs, each a 4-level walk.
  const lat = bare.hcas[0].rdmaWriteLatency(bare.hcas[1], 2);
  assert.equal(lat.iommu, 0);
  assert.equal(thrashed.typical - bare.typical, 2 * 1 * 4 * walk);
});

Deno.test("a working set that fits the IOTLB costs only lookups after warm-up", () => {
  const bare = pingPong();
  const warm = pingPong((vm) =>
    assignHca({
      vm,
      iommu: new Iommu({ entries: 64, hitCost: 15, walkAccess: 120 }),
      path: PATH,
      layout: LAYOUT,
      pollPeriod: POLL,
      pollMemoryBound: 0,
    })
  );
  assert.equal(warm.a!.missRatio, 0);
  assert.equal(warm.a!.costPerDma, 15);
  assert.equal(warm.typical - bare.typical, 2 * 15);
});

Deno.test("doorbells of an assigned HCA reach the device without a VM exit", () => {
  const r = pingPong((vm) =>
    assignHca({
      vm,
      iommu: new Iommu({ entries: 64, hitCost: 0, walkAccess: 100 }),
      path: PATH,
      layout: LAYOUT,
      pollPeriod: POLL,
    })
  );
  assert.ok(r.hcas[0].stats.doorbells >= 20 && r.hcas[1].stats.doorbells >= 20);
  assert.deepEqual(r.cpus.map((c) => [c.vmx, c.exitCount]), [["non-root", 0], ["non-root", 0]]);
});

Deno.test("polling on a vCPU pays EPT and background-exit steal in its period", () => {
  const sim = new Simulation();
  const host = new KvmHost({ sim, cpus: [new Cpu(0, CPU)], hostOsBoot: 0 });
  const vm = host.createVm({
    vmmStart: 0,
    guestFirmware: 0,
    exitHandlers: { "external-interrupt": 8_200 },
    backgroundExits: [{ reason: "external-interrupt", perSecond: 1000 }], // 10 us each: 1% steal
  });
  const a = assignHca({
    vm,
    iommu: new Iommu({ entries: 64, hitCost: 0, walkAccess: 100 }),
    path: PATH,
    layout: LAYOUT,
    pollPeriod: 1000,
    pollMemoryBound: 0.5,
  });
  assert.ok(Math.abs(vm.stealFraction() - 0.01) < 1e-12);
  assert.equal(a.pollPeriod, Math.round((1000 * (1 + 0.2 * 0.5)) / 0.99));
  assert.equal(a.hcaOptions.pollPeriod, a.pollPeriod);
});

Deno.test("the IOTLB is LRU: a cyclic working set one larger than it always misses", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 2, max: 5 }), (n, rounds) => {
      const fits = new Iommu({ entries: n, hitCost: 1, walkAccess: 10 });
      const over = new Iommu({ entries: n, hitCost: 1, walkAccess: 10 });
      for (let r = 0; r < rounds; r++) {
        for (let p = 0; p < n; p++) fits.translate(p * 4096 + 7);
        for (let p = 0; p <= n; p++) over.translate(p * 4096);
      }
      return fits.stats.misses === n && over.stats.misses === (n + 1) * rounds &&
        over.stats.time === over.stats.translations + 40 * over.stats.misses;
    }),
  );
});

Deno.test("the DMA trace follows the HCA's path options", () => {
  const t = rdmaDmaTrace({ wqeFetch: false, inline: false, completion: "cq" }, {
    ...LAYOUT,
    cqBase: 0x30_0000,
    interferencePages: 1,
    interferenceBase: 0x4000_0000,
  }, 2);
  assert.deepEqual(t, [
    0x20_0000,
    0x20_0000,
    0x30_0000,
    0x4000_0000,
    0x20_0000,
    0x20_0000,
    0x30_0040,
    0x4000_1000,
  ]);
});

Deno.test("bad IOMMU and assignment options throw RangeErrors naming the field", () => {
  assert.throws(() => new Iommu({ entries: -1, hitCost: 0, walkAccess: 0 }), /'entries'/);
  assert.throws(
    () => new Iommu({ entries: 8, hitCost: 0, walkAccess: 0, pageBytes: 5000 }),
    /'pageBytes' must be a power of two/,
  );
  const sim = new Simulation();
  const host = new KvmHost({ sim, cpus: [new Cpu(0, CPU)], hostOsBoot: 0 });
  const vm = host.createVm({ vmmStart: 0, guestFirmware: 0, exitHandlers: {} });
  const iommu = new Iommu({ entries: 8, hitCost: 0, walkAccess: 0 });
  assert.throws(
    () => assignHca({ vm, iommu, path: PATH, layout: LAYOUT, pollPeriod: 50, pollMemoryBound: 2 }),
    (e: Error) => e instanceof RangeError && /'pollMemoryBound'/.test(e.message),
  );
  assert.throws(
    () => assignHca({ vm, iommu, path: PATH, layout: { ...LAYOUT, sqDepth: 0 }, pollPeriod: 50 }),
    /'sqDepth'/,
  );
});
