import assert from "node:assert/strict";
import { Recorder, Simulation } from "../../lib/sim/mod.ts";
import { framing, starNetwork, wireBytes } from "../../lib/net/mod.ts";
import { Firmware, type PxeOptions, type PxeResult } from "../../lib/hw/firmware.ts";

const BW = 125e6;

function machine(opts: { latency?: number; pxe?: Partial<PxeOptions>; nodes?: number } = {}) {
  const sim = new Simulation();
  const n = opts.nodes ?? 1;
  const hosts = ["srv", ...Array.from({ length: n }, (_, i) => `n${i}`)];
  const network = starNetwork(sim, {
    switchLatency: 0,
    hosts,
    bandwidth: BW,
    latency: opts.latency ?? 0,
  });
  const fws = hosts.slice(1).map((h) =>
    new Firmware({
      sim,
      name: h,
      postDuration: 1_000_000,
      pxe: { network, host: h, server: "srv", ...opts.pxe },
    })
  );
  return { sim, network, fw: fws[0], fws };
}

function pxe(opts: Parameters<typeof machine>[0], payloadBytes: number): PxeResult {
  const { sim, fw } = machine(opts);
  const p = sim.process(function* () {
    yield* fw.powerOn();
    return yield* fw.pxeBoot({ payloadBytes });
  });
  sim.run();
  return p.value;
}

const udp = framing({ transport: "udp" });
const wire = (bytes: number) => Math.ceil((wireBytes(bytes, udp) / BW) * 1e9);

Deno.test("DHCP is four messages plus two server delays", () => {
  const lat = 20_000;
  const r = pxe({ latency: lat, pxe: { dhcpMessageLatency: 3_000, dhcpServerDelay: 500_000 } }, 0);
  // Each message: its wire time, two cables, and the receiver's handling.
  assert.equal(r.dhcp, 4 * (wire(300) + 2 * lat + 3_000) + 2 * 500_000);
});

Deno.test("TFTP time grows linearly with the payload: one round trip per 512-byte block", () => {
  const t = (kb: number) => pxe({ latency: 50_000 }, kb * 512).tftp;
  const [t1, t2, t3] = [t(100), t(200), t(300)];
  assert.equal(t2 - t1, t3 - t2);
  const perBlock = wire(516) + wire(4) + 4 * 50_000; // DATA and ACK, two cables each way
  assert.equal((t2 - t1) / 100, perBlock);
  assert.equal(pxe({ latency: 50_000 }, 100 * 512).blocks, 101); // ends with an empty block
});

Deno.test("TFTP time grows linearly with the round-trip time", () => {
  const t = (lat: number) => pxe({ latency: lat }, 64 * 1024).tftp;
  const [a, b, c] = [t(10_000), t(20_000), t(30_000)];
  assert.equal(b - a, c - b);
  // The request plus 129 DATA/ACK pairs: 259 one-way trips, each crossing two cables 10 us longer.
  assert.equal(b - a, (129 * 2 + 1) * 2 * 10_000);
});

Deno.test("a negotiated block size cuts the number of round trips", () => {
  const small = pxe({ latency: 50_000 }, 1 << 20);
  const big = pxe({ latency: 50_000, pxe: { tftpBlockSize: 1432 } }, 1 << 20);
  assert.equal(small.blocks, 2049);
  assert.equal(big.blocks, Math.floor((1 << 20) / 1432) + 1);
  assert.ok(big.tftp < small.tftp / 2.5, `${big.tftp} vs ${small.tftp}`);
});

Deno.test("machines booting at once share the server's link", () => {
  const { sim, fws } = machine({ nodes: 4, latency: 0, pxe: { tftpBlockSize: 8192 } });
  const solo = pxe({ latency: 0, pxe: { tftpBlockSize: 8192 } }, 8 << 20).tftp;
  const ps = fws.map((fw) =>
    sim.process(function* () {
      yield* fw.powerOn();
      return yield* fw.pxeBoot({ payloadBytes: 8 << 20 });
    })
  );
  sim.run();
  for (const p of ps) assert.ok(p.value.tftp > 3 * solo, `${p.value.tftp} vs ${solo}`);
});

Deno.test("power-on, PXE and local boot report phases in order and hand control to the bootloader", () => {
  const sim = new Simulation();
  const network = starNetwork(sim, { switchLatency: 0, hosts: ["srv", "n0"], bandwidth: BW });
  const rec = new Recorder(sim);
  const events: string[] = [];
  let bootloaderAt = -1;
  const fw = new Firmware({
    sim,
    name: "n0",
    postDuration: 40_000_000,
    localBootDelay: 2_000_000,
    pxe: { network, host: "n0", server: "srv" },
    recorder: rec,
    onPhase: (phase, edge) => events.push(`${edge}:${phase}`),
    bootloader: function* (f) {
      assert.equal(f.state, "handed-off");
      bootloaderAt = sim.now;
      yield sim.timeout(1);
    },
  });
  assert.throws(
    () => sim.process(fw.pxeBoot({ payloadBytes: 1 })) && sim.run(),
    /illegal transition off -> pxe/,
  );
  const sim2 = new Simulation();
  void sim2;
  sim.process(function* () {
    yield* fw.powerOn();
    assert.equal(sim.now, 40_000_000);
    yield* fw.pxeBoot({ payloadBytes: 4096 });
    yield* fw.localBoot();
  });
  sim.run();
  assert.deepEqual(events, [
    "begin:post",
    "end:post",
    "begin:dhcp",
    "end:dhcp",
    "begin:tftp",
    "end:tftp",
    "begin:local-boot",
    "end:local-boot",
  ]);
  assert.deepEqual(rec.spans().map((s) => s.phase), ["post", "dhcp", "tftp", "local-boot"]);
  const lb = rec.spans()[3];
  assert.equal(lb.end - lb.start, 2_000_000);
  assert.equal(bootloaderAt, lb.end);
  assert.equal(fw.state, "handed-off");
  assert.throws(() => fw.transition("pxe"), /handed-off -> pxe/);
  fw.powerOff();
  assert.equal(fw.state, "off");
});

Deno.test("bad firmware options give a RangeError naming the field", () => {
  const sim = new Simulation();
  const network = starNetwork(sim, { switchLatency: 0, hosts: ["srv", "n0"], bandwidth: BW });
  const mk = (o: object) => () => new Firmware({ sim, name: "n0", postDuration: 0, ...o });
  assert.throws(mk({ postDuration: -1 }), /'postDuration'/);
  assert.throws(mk({ localBootDelay: 0.5 }), /'localBootDelay'/);
  const pxeOpt = (p: Partial<PxeOptions>) => ({
    pxe: { network, host: "n0", server: "srv", ...p },
  });
  assert.throws(mk(pxeOpt({ tftpBlockSize: 4 })), /'pxe.tftpBlockSize'/);
  assert.throws(mk(pxeOpt({ dhcpServerDelay: -1 })), /'pxe.dhcpServerDelay'/);
  assert.throws(mk(pxeOpt({ server: "nowhere" })), /'name'.*nowhere/);
  const fw = new Firmware({ sim, name: "n0", postDuration: 0 });
  assert.throws(() => fw.pxeBoot({ payloadBytes: 1 }).next(), /'pxe' options were not given/);
});

Deno.test("powerOff() during a boot is refused with the state named; the boot finishes and power then goes off", () => {
  const { sim, fw } = machine({ latency: 25_000 });
  const p = sim.process(function* () {
    yield* fw.powerOn();
    return yield* fw.pxeBoot({ payloadBytes: 1 << 20 });
  });
  const refused: string[] = [];
  for (const at of [500_000, 5_000_000]) {
    sim.call(at, () => {
      assert.throws(() => fw.powerOff(), (e: Error) => (refused.push(e.message), true));
    });
  }
  sim.run();
  assert.deepEqual(refused, [
    "Cannot power off firmware 'n0': a boot is in progress (state 'post'); power off once it has finished",
    "Cannot power off firmware 'n0': a boot is in progress (state 'pxe'); power off once it has finished",
  ]);
  assert.ok(p.ok && p.value.blocks === 2049, "the PXE boot ran to its end");
  assert.equal(fw.state, "idle");
  fw.powerOff();
  assert.equal(fw.state, "off");
  fw.powerOff(); // already off: nothing to do
  assert.equal(fw.state, "off");
});

Deno.test("firmware states leave a boot in progress only forward, never straight to off", () => {
  const { fw } = machine();
  fw.transition("post");
  assert.throws(() => fw.transition("off"), /illegal transition post -> off/);
  fw.transition("idle");
  fw.transition("pxe");
  assert.throws(() => fw.transition("off"), /illegal transition pxe -> off/);
  fw.transition("idle");
  fw.transition("local-boot");
  assert.throws(() => fw.transition("off"), /illegal transition local-boot -> off/);
});

Deno.test("a boot asked of firmware that is off says to power on first; other illegal edges get no hint", () => {
  const { fw } = machine();
  const hint = ": power the node on first: yield* node.firmware.powerOn()";
  assert.throws(() => fw.transition("local-boot"), {
    message: `firmware 'n0': illegal transition off -> local-boot${hint}`,
  });
  assert.throws(() => fw.transition("pxe"), {
    message: `firmware 'n0': illegal transition off -> pxe${hint}`,
  });
  assert.equal(fw.state, "off", "the refused edges changed nothing");
  fw.transition("post");
  assert.throws(() => fw.transition("local-boot"), {
    message: "firmware 'n0': illegal transition post -> local-boot",
  });
});

Deno.test("a DHCP message shorter than 300 bytes (RFC 1542) is refused", () => {
  const sim = new Simulation();
  const network = starNetwork(sim, { switchLatency: 0, hosts: ["srv", "n0"], bandwidth: BW });
  const mk = (dhcpMessageBytes: number) => () =>
    new Firmware({
      sim,
      name: "n0",
      postDuration: 0,
      pxe: { network, host: "n0", server: "srv", dhcpMessageBytes },
    });
  for (const bytes of [1, 299, 300.5]) {
    assert.throws(mk(bytes), {
      name: "RangeError",
      message:
        `Cannot create firmware 'n0': 'pxe.dhcpMessageBytes' must be an integer >= 300: current value is ${bytes}`,
    });
  }
  mk(300)();
  mk(548)();
});
