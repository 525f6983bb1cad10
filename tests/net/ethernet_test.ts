import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { frameCount, framing, goodput, starNetwork, wireBytes } from "../../lib/net/mod.ts";

const GBE = 1e9;

Deno.test("1 GbE TCP goodput with timestamps is 125 MB/s x 1448/1538 = 117.69 MB/s", () => {
  // 1500 MTU - 20 IP - 20 TCP - 12 timestamps = 1448 payload; 1500 + 18 + 20 = 1538 on the wire.
  const g = goodput(GBE, framing({ mtu: 1500, transport: "tcp", tcpOptionBytes: 12 }));
  assert.ok(Math.abs(g - 117.685e6) < 1e3, `got ${g}`);
  assert.ok(Math.abs(g / 1e6 - 117.7) < 0.05);
});

Deno.test("goodput follows header sizes: bare TCP, UDP, raw and jumbo frames", () => {
  const near = (got: number, want: number) =>
    assert.ok(Math.abs(got - want) < 1, `${got} vs ${want}`);
  near(goodput(GBE, framing({ tcpOptionBytes: 0 })), 125e6 * 1460 / 1538);
  near(goodput(GBE, framing({ transport: "udp" })), 125e6 * 1472 / 1538);
  near(goodput(GBE, framing({ transport: "raw" })), 125e6 * 1500 / 1538);
  near(goodput(10e9, framing({ mtu: 9000 })), 1.25e9 * 8948 / 9038);
});

Deno.test("short messages are padded to the 64-byte minimum frame plus preamble and gap", () => {
  const udp = framing({ transport: "udp" });
  assert.equal(wireBytes(0, udp), 84);
  assert.equal(wireBytes(18, udp), 84); // 18 + 28 = 46: exactly the minimum
  assert.equal(wireBytes(19, udp), 85);
  assert.equal(frameCount(0, udp), 1);
});

Deno.test("a multi-frame message pays framing on every frame", () => {
  const tcp = framing();
  assert.equal(frameCount(1448 * 3, tcp), 3);
  assert.equal(wireBytes(1448 * 3, tcp), 3 * 1538);
  assert.equal(frameCount(1448 * 3 + 1, tcp), 4);
  assert.equal(wireBytes(1448 * 3 + 1, tcp), 3 * 1538 + (1 + 52) + 38); // 52 = IP + TCP + timestamps
});

Deno.test("a bulk transfer of framed bytes over a GbE link runs at the computed goodput", () => {
  const sim = new Simulation();
  const net = starNetwork(sim, { switchLatency: 0, hosts: ["a", "b"], bandwidth: GBE / 8 });
  const f = framing();
  const payload = 1448 * 100_000;
  const flow = net.send({ from: "a", to: "b", bytes: wireBytes(payload, f) });
  sim.run();
  const rate = payload / (flow.sentAt / 1e9);
  assert.ok(Math.abs(rate - goodput(GBE, f)) / rate < 1e-6, `rate ${rate}`);
});

Deno.test("bad framing options give a RangeError naming the field", () => {
  assert.throws(() => framing({ mtu: 10 }), /'mtu'/);
  // An MTU above IPv4's minimum that leaves no room for data after TCP's headers and options.
  assert.throws(() => framing({ mtu: 80, tcpOptionBytes: 40 }), /'mtu' must exceed the 80 bytes/);
  assert.equal(framing({ mtu: 81, tcpOptionBytes: 40 }).payloadPerFrame, 1);
  assert.throws(() => framing({ transport: "sctp" as "tcp" }), /'transport'/);
  assert.throws(() => framing({ tcpOptionBytes: 13 }), /'tcpOptionBytes'/);
  assert.throws(() => goodput(0, framing()), /'lineRate'/);
});

Deno.test("a transport name Object.prototype has (toString, constructor, __proto__) is refused, not a NaN framing", () => {
  for (const t of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
    assert.throws(
      () => framing({ transport: t as "tcp" }),
      new RegExp(
        `^RangeError: Cannot compute Ethernet framing: 'transport' must be one of tcp, udp, raw: current value is ${t}$`,
      ),
    );
  }
});
