import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { InfinibandFabric } from "../../lib/net/mod.ts";
import { Cpu, MmioBus } from "../../lib/hw/mod.ts";
import { Hca } from "../../lib/hw/hca/hca.ts";
import { rdmaWriteLatency } from "../../lib/workload/mod.ts";

Deno.test("RDMA latency summarises the half round trips in microseconds like ib_write_lat", () => {
  const sim = new Simulation();
  const halfRtt = [1200, 1400, 1300, 5000, 1300];
  let asked: unknown;
  const endpoint = {
    pingPong(o: { peer: string; iterations: number; bytes?: number }) {
      asked = o;
      return sim.timeout(10_000, { halfRtt });
    },
  };
  const ev = rdmaWriteLatency({ endpoint, peer: "b", iterations: 5, bytes: 8 });
  sim.run();
  assert.deepEqual(asked, { peer: "b", iterations: 5, bytes: 8 });
  assert.deepEqual(ev.value, {
    bytes: 8,
    iterations: 5,
    avgUs: 2.04,
    minUs: 1.2,
    typicalUs: 1.3,
    maxUs: 5,
  });
});

Deno.test("RDMA latency runs on lib/hw's HCA and grows when its DMAs are translated by an IOMMU", () => {
  const measure = (iommu: boolean) => {
    const sim = new Simulation();
    const ib = new InfinibandFabric(sim);
    ib.addSwitch("sw");
    const costs = {
      vmExit: 0,
      vmEntry: 0,
      mmioRead: 500,
      mmioWrite: 100,
      eptOverhead: 0,
      ipi: 0,
      tlbFlush: 0,
    };
    const hcas = ["a", "b"].map((n) => {
      ib.addHca(n);
      ib.connect({ a: n, b: "sw", meters: 2 });
      const bus = new MmioBus();
      const cpu = new Cpu(0, costs);
      return new Hca({
        name: n,
        fabric: ib,
        port: n,
        bus,
        base: 0xf000_0000,
        cpu,
        iommu: { enabled: iommu },
      });
    });
    const ev = rdmaWriteLatency({ endpoint: hcas[0], peer: hcas[1], iterations: 50 });
    sim.run();
    return { row: ev.value, model: hcas[0].rdmaWriteLatency(hcas[1], 2).total };
  };
  const bare = measure(false);
  assert.equal(bare.row.iterations, 50);
  assert.equal(bare.row.bytes, 2);
  assert.ok(Math.abs(bare.row.typicalUs - bare.model / 1000) < 1e-9);
  assert.ok(measure(true).row.avgUs > bare.row.avgUs);
});

Deno.test("RDMA latency rejects a bad iteration count, naming the field", () => {
  const endpoint = { pingPong: () => new Simulation().event<{ halfRtt: number[] }>() };
  assert.throws(() => rdmaWriteLatency({ endpoint, peer: 0, iterations: 0 }), /'iterations'/);
});
