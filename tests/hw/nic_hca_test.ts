import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { starNetwork } from "../../lib/net/mod.ts";
import { Cpu, InterruptController, MmioBus } from "../../lib/hw/mod.ts";
import { Nic, type NicOptions } from "../../lib/hw/nic/nic.ts";
import { NicIcr, NicReg, NicStatus } from "../../lib/hw/nic/registers.ts";
import { Hca, hcaLatencyIssues, type IommuOptions } from "../../lib/hw/hca/hca.ts";
import { UarReg } from "../../lib/hw/hca/registers.ts";
import { hcaPair, TEST_CPU_COSTS } from "./_fixtures.ts";

/** A NIC on "a" and one on "b" (and "c" when asked), 1 GbE cables; the receivers' drivers gave their rings to the hardware. */
function nics(
  o: Partial<NicOptions> = {},
  net: { hosts?: string[]; bandwidth?: number; switchLatency?: number; latency?: number } = {},
) {
  const sim = new Simulation();
  const { hosts = ["a", "b"], bandwidth = 125e6, switchLatency = 0, latency = 0 } = net;
  const network = starNetwork(sim, { switchLatency, hosts, bandwidth, latency });
  const ic = new InterruptController(sim, { latency: 0 });
  const [tx, rx, rx2] = hosts.map((host, i) =>
    new Nic({ name: ["tx", "rx", "rx2"][i], network, host, interrupts: ic, vector: 40 + i, ...o })
  );
  for (const r of [rx, rx2]) {
    if (r === undefined) continue;
    r.bind("app");
    r.write(NicReg.RDT, 4, r.ringSize - 1); // the driver's receive buffers
  }
  return { sim, net: network, ic, tx, rx, rx2 };
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
  const cpu = new Cpu(0, TEST_CPU_COSTS);
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
  sim.process(function* () {
    for (let i = 0; i < 10; i++) yield tx.send({ to: "b", port: "app", bytes: 10 });
  });
  sim.run();
  assert.equal(rx.rxPending, 7);
  assert.equal(rx.stats.rxMissed, 3);
  assert.equal(rx.read(NicReg.MPC, 4), 3);
});

Deno.test("NIC: one transmit engine: concurrent messages leave one after another, together at most at line rate", () => {
  // A 1 GbE NIC on a 10 GbE port, two messages to two hosts: the port is not the limit, the NIC is.
  const fast = nics({}, { hosts: ["a", "b", "c"], bandwidth: 1.25e9 });
  const t: number[] = [];
  for (const to of ["b", "c"]) {
    fast.tx.send({ to, port: "app", bytes: 1448 * 1000 }).then(() => t.push(fast.sim.now));
  }
  fast.sim.run();
  assert.deepEqual(t, [1000 * 1538 * 8, 2 * 1000 * 1538 * 8]);
  // A slow descriptor engine: one frame per 20 us for the NIC, not for each message.
  const slow = nics({ txDescriptorCost: 20_000 }, { hosts: ["a", "b", "c"] });
  const u: number[] = [];
  for (let i = 0; i < 4; i++) {
    slow.tx.send({ to: i % 2 ? "b" : "c", port: "app", bytes: 1448 * 10 })
      .then(() => u.push(slow.sim.now));
  }
  slow.sim.run();
  // The first fetch, then 4 x 10 frames at 20 us each; the next fetch overlaps the wire.
  assert.deepEqual(u, [1, 2, 3, 4].map((k) => 20_000 + k * 10 * 20_000));
  assert.equal(slow.tx.stats.txFrames, 40);
});

Deno.test("NIC: a full transmit ring refuses a post: it holds ringSize - 1 descriptors (head == tail means empty)", () => {
  const { sim, tx, rx } = nics({ ringSize: 8 });
  for (let i = 0; i < 7; i++) tx.post({ to: "b", port: "app", bytes: 100 });
  assert.equal(tx.txFree, 0);
  assert.equal(tx.postedTail, 7);
  assert.throws(
    () => tx.post({ to: "b", port: "app", bytes: 100 }),
    /^RangeError: Cannot send on NIC 'tx': 'txFree' must be > 0 \(the ring holds at most ringSize - 1 = 7 descriptors not yet written back\): current value is 0$/,
  );
  tx.write(NicReg.TDT, 4, tx.postedTail);
  assert.equal(tx.txFree, 0); // the hardware owns them until each is written back
  sim.run();
  assert.equal(tx.txFree, 7);
  assert.equal(tx.read(NicReg.TDH, 4), 7);
  assert.equal(rx.drain().length, 7);
  tx.send({ to: "b", port: "app", bytes: 100 }); // the ring wraps
  sim.run();
  assert.equal(rx.drain().length, 1);
  assert.equal(tx.read(NicReg.TDH, 4), 0);
  assert.equal(tx.stats.badDoorbells, 0);
});

Deno.test("NIC: a packet takes the receive descriptor at RDH only while RDT leaves the hardware one; else it is dropped into MPC", () => {
  const { sim, rx } = nics({ ringSize: 8 });
  const fresh = new Nic({
    name: "fresh",
    network: rx.network,
    host: "a",
    interrupts: new InterruptController(sim, { latency: 0 }),
    vector: 50,
    ringSize: 8,
  });
  fresh.bind("app");
  // After reset RDH == RDT == 0: the hardware owns no descriptor (82575EB SDM §14.3.58-14.3.59).
  assert.deepEqual([fresh.read(NicReg.RDH, 4), fresh.read(NicReg.RDT, 4)], [0, 0]);
  rx.send({ to: "a", port: "app", bytes: 100 });
  sim.run();
  assert.equal(fresh.rxPending, 0);
  assert.equal(fresh.stats.rxMissed, 1);
  assert.equal(fresh.read(NicReg.MPC, 4), 1);
  // Software gives three descriptors: three packets land, the fourth is missed.
  fresh.write(NicReg.RDT, 4, 3);
  sim.process(function* () {
    for (let i = 0; i < 4; i++) yield rx.send({ to: "a", port: "app", bytes: 100 });
  });
  sim.run();
  assert.equal(fresh.rxPending, 3);
  assert.equal(fresh.read(NicReg.RDH, 4), 3);
  assert.equal(fresh.stats.rxMissed, 2);
  // The driver's drain gives the three back: RDT moves past them and reception resumes.
  assert.equal(fresh.drain().length, 3);
  assert.equal(fresh.read(NicReg.RDT, 4), 6);
  rx.send({ to: "a", port: "app", bytes: 100 });
  sim.run();
  assert.deepEqual([fresh.rxPending, fresh.read(NicReg.RDH, 4)], [1, 4]);
});

Deno.test("NIC: TXDW is raised and TDH moves when the last byte left the NIC, not when the message arrived", () => {
  // 100 us switch and 2 x 50 us cables: 200 us between the NIC's last byte and delivery.
  const { sim, ic, tx } = nics({}, { switchLatency: 100_000, latency: 50_000 });
  tx.write(NicReg.IMS, 4, NicIcr.TXDW);
  const txdw: number[] = [];
  ic.onVector(40, () => {
    txdw.push(sim.now);
    assert.equal(tx.read(NicReg.TDH, 4), 1);
    tx.read(NicReg.ICR, 4);
  });
  let delivered = -1;
  tx.send({ to: "b", port: "app", bytes: 1448 }).then(() => (delivered = sim.now));
  sim.run();
  assert.deepEqual(txdw, [1538 * 8]);
  assert.equal(delivered, 1538 * 8 + 200_000);
});

Deno.test("NIC: a plain network message on a NIC's port is dropped and counted, not a TypeError", () => {
  const { sim, net, rx } = nics();
  net.send({ from: "a", to: "b", port: "app", bytes: 100, payload: "not frames" });
  net.send({ from: "a", to: "b", port: "app", bytes: 100 });
  sim.run();
  assert.equal(rx.stats.rxUnframed, 2);
  assert.equal(rx.rxPending, 0);
  assert.equal(rx.stats.rxMessages, 0);
});

Deno.test("NIC: bad options give a RangeError naming the field", () => {
  assert.throws(() => nics({ lineRate: 0 }), /'lineRate'/);
  assert.throws(() => nics({ txDescriptorCost: -1 }), /'txDescriptorCost'/);
  assert.throws(() => nics({ ringSize: 4 }), /'ringSize'/);
  // RDLEN/TDLEN count 128-byte units (8 descriptors); igb allows at most 4096.
  assert.throws(
    () => nics({ ringSize: 9 }),
    /'ringSize' must be a multiple of 8 from 8 to 4096: current value is 9$/,
  );
  assert.throws(() => nics({ ringSize: 100_000 }), /'ringSize' must be a multiple of 8/);
  assert.equal(nics({ ringSize: 4096 }).tx.ringSize, 4096);
  assert.throws(() => nics({ framing: { mtu: 20 } }), /'mtu'/);
});

Deno.test("HCA: the one-way RDMA write latency is the sum of its documented parts", () => {
  const { ib, a, b } = hcaPair({
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
  const { sim, a, b } = hcaPair();
  const lat = a.rdmaWriteLatency(b, 2).total;
  const pp = a.pingPong({ peer: b, iterations: 100, bytes: 2 });
  sim.run();
  assert.equal(pp.value.halfRtt.length, 100);
  assert.ok(pp.value.halfRtt.every((t) => t === lat));
  assert.equal(a.stats.writesSent, 100);
  assert.equal(b.stats.writesReceived, 100);
  // Datasheet-like defaults land near the ~1.3 us measured on QDR ConnectX (ib_write_lat).
  assert.ok(lat > 1_000 && lat < 1_600, `default one-way latency ${lat}`);
});

Deno.test("HCA: an assigned device pays IOMMU translation on each of its DMAs", () => {
  const iommu = { enabled: true, iotlbMissCost: 400, missRatio: 0.5 };
  const base = hcaPair();
  const on = hcaPair({ iommu });
  const d = on.a.rdmaWriteLatency(on.b, 2).total - base.a.rdmaWriteLatency(base.b, 2).total;
  assert.equal(d, 2 * 200); // WQE fetch at the sender, data write at the target
  const cq = hcaPair({ iommu, inline: false, completion: "cq" });
  const parts = cq.a.rdmaWriteLatency(cq.b, 2);
  assert.equal(parts.iommu, 4 * 200); // + payload fetch, + CQE write
  assert.equal(parts.payloadFetch, 500);
  assert.equal(parts.completionDma, 250);
  const pp = on.a.pingPong({ peer: on.b, iterations: 3 });
  on.sim.run();
  assert.deepEqual(pp.value.halfRtt, Array(3).fill(on.a.rdmaWriteLatency(on.b, 2).total));
});

Deno.test("HCA: the doorbell goes through Cpu.mmio, so a VMM can trap it or swallow it", () => {
  const { sim, a, b } = hcaPair();
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
  assert.throws(() => hcaPair({ pcieRoundTrip: -1 }), /'pcieRoundTrip'/);
  assert.throws(() => hcaPair({ pollPeriod: 1.5 }), /'pollPeriod'/);
  assert.throws(() => hcaPair({ completion: "event" as "cq" }), /'completion'/);
  assert.throws(() => hcaPair({ iommu: { enabled: true, missRatio: 2 } }), /'iommu.missRatio'/);
  const { sim, a, b } = hcaPair();
  assert.throws(() => a.pingPong({ peer: b, iterations: 0 }), /'iterations'/);
  sim.run();
});

Deno.test("HCA: a peer that cannot take the writes is refused when the work is asked for, not inside the run", () => {
  const { sim, ib, a, b } = hcaPair();
  ib.addHca("c"); // no cable
  const c = new Hca({
    name: "c",
    fabric: ib,
    port: "c",
    bus: new MmioBus(),
    base: 0xf000_0000,
    cpu: new Cpu(0, TEST_CPU_COSTS),
  });
  assert.throws(
    () => a.pingPong({ peer: a, iterations: 2 }),
    /^RangeError: Cannot run ping-pong: 'peer' must be an HCA other than 'a': current value is a$/,
  );
  assert.throws(() => a.pingPong({ peer: b, iterations: 2, bytes: -1 }), /'bytes'/);
  assert.throws(
    () => a.postWrite({ target: c, bytes: 8 }),
    /^RangeError: Cannot post RDMA write on 'a': 'target' must be an HCA that 'a' reaches over a cable: current value is c$/,
  );
  assert.throws(() => c.pingPong({ peer: a, iterations: 2 }), /'peer'/);
  assert.throws(() => a.postWrite({ target: b, bytes: NaN }), /'bytes'/);
  sim.run(); // nothing was scheduled
  assert.equal(sim.now, 0);
  assert.equal(a.stats.doorbells, 0);
});

Deno.test("HCA: the IOMMU's options are checked too: a misspelt one or a non-boolean 'enabled'", () => {
  assert.deepEqual(
    hcaLatencyIssues({ iommu: { enabled: "no", missratio: 0.1 } as unknown as IommuOptions }),
    [
      {
        field: "iommu.missratio",
        message:
          "is not an option, did you mean missRatio? The options are enabled, iotlbMissCost, missRatio",
      },
      { field: "iommu.enabled", message: "must be true or false: current value is no" },
    ],
  );
  assert.equal(hcaLatencyIssues({ iommu: 5 as unknown as IommuOptions })[0].field, "iommu");
  assert.throws(
    () => hcaPair({ iommu: { enabled: "no" } as unknown as IommuOptions }),
    /'iommu\.enabled' must be true or false/,
  );
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
  assert.throws(() => hcaPair(bad), /'txProcessing' .*; 'inline' .*; 'iommu\.missRatio'/);
});
