import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { rdmaWriteLatency } from "../../lib/workload/mod.ts";
import { hcaPair } from "../hw/_fixtures.ts";

Deno.test("RDMA latency summarises the half round trips in microseconds with ib_write_lat's statistics", () => {
  // linux-rdma/perftest print_report_lat: iterations - 1 samples (the last round trip is not
  // measured), sorted, the 2 largest dropped; t_max is the sample just past the kept ones.
  const summary = (halfRtt: number[]) => {
    const sim = new Simulation();
    let asked: unknown;
    const endpoint = {
      pingPong(o: { peer: string; iterations: number; bytes?: number }) {
        asked = o;
        return sim.timeout(10_000, { halfRtt });
      },
    };
    const ev = rdmaWriteLatency({ endpoint, peer: "b", iterations: halfRtt.length, bytes: 8 });
    sim.run();
    assert.deepEqual(asked, { peer: "b", iterations: halfRtt.length, bytes: 8 });
    return ev.value;
  };
  // Odd count kept (5): the middle one. The last iteration's 7000 is never a sample.
  assert.deepEqual(summary([1200, 1600, 1300, 9000, 1500, 1400, 1700, 7000]), {
    bytes: 8,
    iterations: 8,
    avgUs: 1.4,
    minUs: 1.2,
    typicalUs: 1.4,
    maxUs: 1.7,
  });
  // Even count kept (4): the mean of the middle two; the last iteration's 1 is not the minimum.
  assert.deepEqual(summary([1000, 1200, 1400, 1600, 3000, 4000, 1]), {
    bytes: 8,
    iterations: 7,
    avgUs: 1.3,
    minUs: 1,
    typicalUs: 1.3,
    maxUs: 3,
  });
});

Deno.test("RDMA latency runs on lib/hw's HCA and grows when its DMAs are translated by an IOMMU", () => {
  const measure = (iommu: boolean) => {
    const { sim, a, b } = hcaPair({ iommu: { enabled: iommu } });
    const ev = rdmaWriteLatency({ endpoint: a, peer: b, iterations: 50 });
    sim.run();
    return { row: ev.value, model: a.rdmaWriteLatency(b, 2).total };
  };
  const bare = measure(false);
  assert.equal(bare.row.iterations, 50);
  assert.equal(bare.row.bytes, 2);
  assert.ok(Math.abs(bare.row.typicalUs - bare.model / 1000) < 1e-9);
  assert.ok(measure(true).row.avgUs > bare.row.avgUs);
});

Deno.test("Hca.pingPong() reports the samples alone: ib_write_lat's summary of them is the one summary", () => {
  const { sim, a, b } = hcaPair();
  const pp = a.pingPong({ peer: b, iterations: 10 });
  sim.run();
  assert.deepEqual(Object.keys(pp.value), ["halfRtt"], "no summary of its own");
  const oneWay = a.rdmaWriteLatency(b, 2).total;
  assert.deepEqual(pp.value.halfRtt, Array(10).fill(oneWay));
  // The summary: lib/workload's, with the HCA as the endpoint.
  const other = hcaPair();
  const lat = rdmaWriteLatency({ endpoint: other.a, peer: other.b, iterations: 10 });
  other.sim.run();
  assert.equal(lat.value.typicalUs, oneWay / 1000);
  assert.equal(lat.value.avgUs, oneWay / 1000);
});

Deno.test("RDMA latency rejects a bad iteration count, naming the field", () => {
  const endpoint = { pingPong: () => new Simulation().event<{ halfRtt: number[] }>() };
  assert.throws(() => rdmaWriteLatency({ endpoint, peer: 0, iterations: 0 }), /'iterations'/);
  // ib_write_lat's statistics need one sample left after the last round trip and the 2 largest.
  assert.throws(
    () => rdmaWriteLatency({ endpoint, peer: 0, iterations: 3 }),
    /'iterations' must be an integer >= 4: current value is 3/,
  );
});
