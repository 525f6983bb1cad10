import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { InfinibandFabric } from "../../lib/net/mod.ts";
import { Cpu, MmioBus } from "../../lib/hw/mod.ts";
import { Hca } from "../../lib/hw/hca/hca.ts";
import { rdmaWriteLatency } from "../../lib/workload/mod.ts";

const COSTS = {
  vmExit: 0,
  vmEntry: 0,
  mmioRead: 500,
  mmioWrite: 100,
  eptOverhead: 0,
  ipi: 0,
  tlbFlush: 0,
};

function pair() {
  const sim = new Simulation();
  const ib = new InfinibandFabric(sim);
  ib.addSwitch("sw");
  const [a, b] = ["a", "b"].map((n) => {
    ib.addHca(n);
    ib.connect({ a: n, b: "sw", meters: 2 });
    const bus = new MmioBus();
    return new Hca({
      name: n,
      fabric: ib,
      port: n,
      bus,
      base: 0xf000_0000,
      cpu: new Cpu(0, COSTS),
    });
  });
  return { sim, a, b };
}

Deno.test("Hca.pingPong() reports the samples alone: ib_write_lat's summary of them is the one summary", () => {
  const { sim, a, b } = pair();
  const pp = a.pingPong({ peer: b, iterations: 10 });
  sim.run();
  assert.deepEqual(Object.keys(pp.value), ["halfRtt"], "no summary of its own");
  const oneWay = a.rdmaWriteLatency(b, 2).total;
  assert.deepEqual(pp.value.halfRtt, Array(10).fill(oneWay));
  // The summary: lib/workload's, with the HCA as the endpoint.
  const other = pair();
  const lat = rdmaWriteLatency({ endpoint: other.a, peer: other.b, iterations: 10 });
  other.sim.run();
  assert.equal(lat.value.typicalUs, oneWay / 1000);
  assert.equal(lat.value.avgUs, oneWay / 1000);
});
