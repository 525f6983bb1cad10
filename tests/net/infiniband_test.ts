import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { cableIssues, InfinibandFabric, infinibandIssues } from "../../lib/net/mod.ts";

function fabric(opts: ConstructorParameters<typeof InfinibandFabric>[1] = {}) {
  const sim = new Simulation();
  const ib = new InfinibandFabric(sim, opts);
  ib.addSwitch("sw");
  ib.addHca("a");
  ib.addHca("b");
  ib.connect({ a: "a", b: "sw", meters: 3 });
  ib.connect({ a: "b", b: "sw", meters: 3 });
  return { sim, ib };
}

Deno.test("4X QDR carries 32 Gb/s of data after 8b/10b: 4 GB/s", () => {
  const { ib } = fabric();
  assert.equal(ib.dataRate, 4e9);
  assert.equal(
    new InfinibandFabric(new Simulation(), { encodingEfficiency: 64 / 66, laneRate: 14.0625e9 })
      .dataRate,
    4 * 14.0625e9 * 64 / 66 / 8,
  );
});

Deno.test("one-way wire latency is serialization + cable propagation + switch latency", () => {
  const { ib } = fabric({ switchLatency: 120, propagationPerMeter: 5 });
  // 2 bytes + 26 headers + 16 RETH = 44 bytes at 4 GB/s = 11 ns; 2 x 15 ns cables; one switch.
  assert.equal(ib.latency("a", "b", 2), 11 + 30 + 120);
});

Deno.test("a flow over the fabric matches the analytic latency and carries per-packet headers", () => {
  const { sim, ib } = fabric();
  const f = ib.send({ from: "a", to: "b", bytes: 1 << 20 });
  sim.run();
  const packets = (1 << 20) / 2048;
  assert.equal(ib.packetBytes(1 << 20), (1 << 20) + packets * 26 + 16);
  assert.equal(sim.now, ib.latency("a", "b", 1 << 20));
  assert.ok(f.processed);
});

Deno.test("bad fabric options give a RangeError naming the field", () => {
  assert.throws(() => new InfinibandFabric(new Simulation(), { lanes: 0 }), /'lanes'/);
  assert.throws(
    () => new InfinibandFabric(new Simulation(), { encodingEfficiency: 1.2 }),
    /'encodingEfficiency'/,
  );
  assert.throws(
    () => new InfinibandFabric(new Simulation(), { switchLatency: -5 }),
    /'switchLatency'/,
  );
  const { ib } = fabric();
  assert.throws(() => ib.connect({ a: "a", b: "sw", meters: -1 }), /'meters'/);
});

Deno.test("infinibandIssues and cableIssues list every bad option, as the fabric reports them", () => {
  assert.deepEqual(infinibandIssues({}), []);
  const bad = { lanes: 0, mtu: 100, encodingEfficiency: 0 };
  assert.deepEqual(infinibandIssues(bad).map((i) => i.field), [
    "lanes",
    "encodingEfficiency",
    "mtu",
  ]);
  assert.throws(
    () => new InfinibandFabric(new Simulation(), bad),
    /^RangeError: Cannot create InfiniBand fabric: 'lanes' .*; 'encodingEfficiency' .*; 'mtu' must be one of 256, 512, 1024, 2048, 4096: current value is 100$/,
  );
  // Only the MTUs InfiniBand defines (IBA vol. 1: 256 to 4096 in powers of two).
  assert.deepEqual(infinibandIssues({ mtu: 3000 }), [
    { field: "mtu", message: "must be one of 256, 512, 1024, 2048, 4096: current value is 3000" },
  ]);
  assert.deepEqual([256, 512, 1024, 2048, 4096].flatMap((mtu) => infinibandIssues({ mtu })), []);
  assert.deepEqual(cableIssues({ meters: 0 }), []);
  assert.deepEqual(cableIssues({ meters: Infinity }), [
    { field: "meters", message: "must be a finite number >= 0: current value is Infinity" },
  ]);
});
