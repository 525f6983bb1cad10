import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { InfinibandFabric, starNetwork } from "../../lib/net/mod.ts";
import { Cpu, type CpuCosts, InterruptController, MmioBus } from "../../lib/hw/mod.ts";
import { Nic, type NicOptions } from "../../lib/hw/nic/nic.ts";
import { NicIcr, NicReg, NicStatus } from "../../lib/hw/nic/registers.ts";
import { Hca, hcaLatencyIssues, type HcaLatencyOptions } from "../../lib/hw/hca/hca.ts";
import { UarReg } from "../../lib/hw/hca/registers.ts";

const COSTS: CpuCosts = {
  vmExit: 700,
  vmEntry: 500,
  mmioRead: 600,
  mmioWrite: 100,
  eptOverhead: 0,
  ipi: 0,
  tlbFlush: 0,
};

function nics(o: Partial<NicOptions> = {}) {
  const sim = new Simulation();
  const net = starNetwork(sim, { switchLatency: 0, hosts: ["a", "b"], bandwidth: 125e6 });
  const ic = new InterruptController(sim, { latency: 0 });
  const tx = new Nic({ name: "tx", network: net, host: "a", interrupts: ic, vector: 40, ...o });
  const rx = new Nic({ name: "rx", network: net, host: "b", interrupts: ic, vector: 41, ...o });
  rx.bind("app");
  return { sim, net, ic, tx, rx };
}

Deno.test("NIC: a message of k full frames takes k x 1538 byte times at 1 Gb/s", () => {
  const { sim, tx, rx } = nics();
  const done = tx.send({ to: "b", port: "app", bytes: 1448 * 7 });
  let at = -1;
  done.then(() => (at = sim.now));
  sim.run();
  assert.equal(at, 7 * 1538 * 8);
  assert.equal(tx.stats.txFrames, 7);
  assert.equal(rx.stats.rxFrames, 7);
  assert.equal(rx.drain()[0].bytes, 1448 * 7);
});

Deno.test("NIC: a slow descriptor engine caps the rate at one frame per descriptor time", () => {
  const { sim, tx } = nics({ txDescriptorCost: 20_000 });
  assert.equal(tx.maxWireRate, (1538 * 1e9) / 20_000);
  let at = -1;
  tx.send({ to: "b", port: "app", bytes: 1448 * 10 }).then(() => (at = sim.now));
  sim.run();
  assert.equal(at, 20_000 + 10 * 20_000); // first fetch, then ten frames at 20 us each
});

Deno.test("NIC: receive interrupts coalesce until ICR is read, and masked causes stay silent", () => {
  const { sim, ic, tx, rx } = nics({ rxDescriptorCost: 500 });
  rx.write(NicReg.IMS, 4, NicIcr.RXT0);
  let irqs = 0;
  ic.onVector(41, () => irqs++);
  tx.send({ to: "b", port: "app", bytes: 100 });
  tx.send({ to: "b", port: "app", bytes: 100 });
  sim.run();
  assert.equal(irqs, 1);
  assert.equal(rx.read(NicReg.ICR, 4), NicIcr.RXT0);
  assert.equal(rx.read(NicReg.ICR, 4), 0); // read-to-clear
  assert.equal(rx.drain().length, 2);
  rx.write(NicReg.IMC, 4, NicIcr.RXT0);
  tx.send({ to: "b", port: "app", bytes: 100 });
  sim.run();
  assert.equal(irqs, 1);
  rx.write(NicReg.IMS, 4, NicIcr.RXT0); // unmasking the pending cause raises it
  sim.run();
  assert.equal(irqs, 2);
  assert.equal(rx.stats.interrupts, 2);
});

Deno.test("NIC: a TDT write through the CPU can be trapped by a hook and still reaches the device", () => {
  const { sim, tx } = nics();
  const bus = new MmioBus();
  bus.map({ base: 0xfe00_0000, size: 0x20000, name: "nic", device: tx });
  const seen: number[] = [];
  bus.hook({ base: 0xfe00_3800, size: 0x100, name: "vmm" }, (a) => {
    seen.push(a.offset);
    return { action: "passthrough", cost: 1_000 };
  });
  const cpu = new Cpu(0, COSTS);
  cpu.transition("root");
  cpu.transition("non-root");
  sim.process(function* () {
    tx.post({ to: "b", port: "app", bytes: 64 });
    yield* cpu.mmio(sim, bus, {
      addr: 0xfe00_0000 + NicReg.TDT,
      size: 4,
      write: true,
      value: tx.postedTail,
    });
  });
  sim.run();
  assert.deepEqual(seen, [0x18]);
  assert.equal(cpu.exitCount, 1);
  assert.equal(tx.stats.txMessages, 1);
  assert.equal(tx.read(NicReg.TDH, 4), 1);
  assert.equal(tx.read(NicReg.STATUS, 4) & NicStatus.LU, NicStatus.LU);
});

Deno.test("NIC: guest misbehaviour is counted, not thrown: doorbell past filled descriptors, full RX ring", () => {
  const { sim, tx, rx } = nics({ ringSize: 8 });
  tx.write(NicReg.TDT, 4, 5);
  assert.equal(tx.stats.badDoorbells, 1);
  tx.write(0x1234, 4, 9); // reserved offset: ignored
  assert.equal(tx.read(0x1234, 4), 0);
  for (let i = 0; i < 10; i++) tx.send({ to: "b", port: "app", bytes: 10 });
  sim.run();
  assert.equal(rx.rxPending, 7);
  assert.equal(rx.stats.rxMissed, 3);
  assert.equal(rx.read(NicReg.MPC, 4), 3);
});

Deno.test("NIC: bad options give a RangeError naming the field", () => {
  assert.throws(() => nics({ lineRate: 0 }), /'lineRate'/);
  assert.throws(() => nics({ txDescriptorCost: -1 }), /'txDescriptorCost'/);
  assert.throws(() => nics({ ringSize: 4 }), /'ringSize'/);
  assert.throws(() => nics({ framing: { mtu: 20 } }), /'mtu'/);
});

function hcas(o: HcaLatencyOptions = {}, ob: HcaLatencyOptions = o) {
  const sim = new Simulation();
  const ib = new InfinibandFabric(sim, { switchLatency: 100 });
  ib.addSwitch("sw");
  const mk = (n: string, opts: HcaLatencyOptions) => {
    ib.addHca(n);
    ib.connect({ a: n, b: "sw", meters: 3 });
    return new Hca({
      name: n,
      fabric: ib,
      port: n,
      bus: new MmioBus(),
      base: 0xf000_0000,
      cpu: new Cpu(0, COSTS),
      ...opts,
    });
  };
  return { sim, ib, a: mk("a", o), b: mk("b", ob) };
}

Deno.test("HCA: the one-way RDMA write latency is the sum of its documented parts", () => {
  const { ib, a, b } = hcas({
    pcieRoundTrip: 480,
    txProcessing: 40,
    rxProcessing: 60,
    pollPeriod: 80,
  });
  const p = a.rdmaWriteLatency(b, 2);
  assert.deepEqual(p, {
    doorbell: 240,
    wqeFetch: 480,
    payloadFetch: 0,
    txProcessing: 40,
    wire: ib.latency("a", "b", 2),
    rxProcessing: 60,
    remoteWrite: 240,
    completionDma: 0,
    polling: 40,
    iommu: 0,
    total: 240 + 480 + 40 + ib.latency("a", "b", 2) + 60 + 240 + 40,
  });
  assert.equal(p.wire, 11 + 2 * 15 + 100);
});

Deno.test("HCA: ping-pong reports half round trips equal to the modelled one-way latency", () => {
  const { sim, a, b } = hcas();
  const lat = a.rdmaWriteLatency(b, 2).total;
  const pp = a.pingPong({ peer: b, iterations: 100, bytes: 2 });
  sim.run();
  assert.equal(pp.value.halfRtt.length, 100);
  assert.equal(pp.value.min, lat);
  assert.equal(pp.value.max, lat);
  assert.equal(a.stats.writesSent, 100);
  assert.equal(b.stats.writesReceived, 100);
  // Datasheet-like defaults land near the ~1.3 us measured on QDR ConnectX (ib_write_lat).
  assert.ok(lat > 1_000 && lat < 1_600, `default one-way latency ${lat}`);
});

Deno.test("HCA: an assigned device pays IOMMU translation on each of its DMAs", () => {
  const iommu = { enabled: true, iotlbMissCost: 400, missRatio: 0.5 };
  const base = hcas();
  const on = hcas({ iommu });
  const d = on.a.rdmaWriteLatency(on.b, 2).total - base.a.rdmaWriteLatency(base.b, 2).total;
  assert.equal(d, 2 * 200); // WQE fetch at the sender, data write at the target
  const cq = hcas({ iommu, inline: false, completion: "cq" });
  const parts = cq.a.rdmaWriteLatency(cq.b, 2);
  assert.equal(parts.iommu, 4 * 200); // + payload fetch, + CQE write
  assert.equal(parts.payloadFetch, 500);
  assert.equal(parts.completionDma, 250);
  const pp = on.a.pingPong({ peer: on.b, iterations: 3 });
  on.sim.run();
  assert.equal(pp.value.median, on.a.rdmaWriteLatency(on.b, 2).total);
});

Deno.test("HCA: the doorbell goes through Cpu.mmio, so a VMM can trap it or swallow it", () => {
  const { sim, a, b } = hcas();
  const hook = a.bus.hook(
    { base: 0xf000_0000, size: 0x1000, name: "vmm" },
    () => ({ action: "passthrough" }),
  );
  a.cpu.transition("root");
  a.cpu.transition("non-root");
  sim.process(a.postWrite({ target: b, bytes: 8 }));
  sim.run();
  assert.equal(a.cpu.exitCount, 1);
  assert.equal(b.stats.writesReceived, 1);
  a.bus.unhook(hook);
  a.bus.hook({ base: 0xf000_0000, size: 0x1000, name: "vmm2" }, () => ({ action: "done" }));
  sim.process(a.postWrite({ target: b, bytes: 8 }));
  sim.run();
  assert.equal(b.stats.writesReceived, 1); // the device never saw the doorbell
  a.write(UarReg.SEND_DOORBELL, 4, 1); // a VMM replaying it later
  a.write(UarReg.SEND_DOORBELL, 4, 1); // nothing left to send
  sim.run();
  assert.equal(b.stats.writesReceived, 2);
  assert.equal(a.stats.spuriousDoorbells, 1);
});

Deno.test("HCA: bad options give a RangeError naming the field", () => {
  assert.throws(() => hcas({ pcieRoundTrip: -1 }), /'pcieRoundTrip'/);
  assert.throws(() => hcas({ pollPeriod: 1.5 }), /'pollPeriod'/);
  assert.throws(() => hcas({ completion: "event" as "cq" }), /'completion'/);
  assert.throws(() => hcas({ iommu: { enabled: true, missRatio: 2 } }), /'iommu.missRatio'/);
  const { sim, a, b } = hcas();
  assert.throws(() => a.pingPong({ peer: b, iterations: 0 }), /'iterations'/);
  sim.run();
});

Deno.test("hcaLatencyIssues lists every bad latency option, as the HCA reports them", () => {
  assert.deepEqual(hcaLatencyIssues({}), []);
  const bad = {
    txProcessing: -1,
    inline: "yes" as unknown as boolean,
    iommu: { enabled: true, missRatio: 2 },
  };
  assert.deepEqual(hcaLatencyIssues(bad), [
    { field: "txProcessing", message: "must be an integer >= 0: current value is -1" },
    { field: "inline", message: "must be true or false: current value is yes" },
    { field: "iommu.missRatio", message: "must be in [0, 1]: current value is 2" },
  ]);
  assert.throws(() => hcas(bad), /'txProcessing' .*; 'inline' .*; 'iommu\.missRatio'/);
});
