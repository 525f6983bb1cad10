import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import {
  BlockProtocol,
  Network,
  type Packet,
  rackNetwork,
  starNetwork,
} from "../../lib/net/mod.ts";

function tree(sim: Simulation): Network {
  // a, b on edge switch e1; c on e2; e1 and e2 under core.
  const net = new Network(sim);
  net.addSwitch({ name: "core", latency: 300 });
  net.addSwitch({ name: "e1", latency: 1_000 });
  net.addSwitch({ name: "e2", latency: 2_000 });
  for (const h of ["a", "b", "c"]) net.addHost(h);
  net.connect({ a: "e1", b: "core", bandwidth: 1.25e9, latency: 10 });
  net.connect({ a: "e2", b: "core", bandwidth: 1.25e9, latency: 10 });
  net.connect({ a: "a", b: "e1", bandwidth: 125e6, latency: 5 });
  net.connect({ a: "b", b: "e1", bandwidth: 125e6, latency: 5 });
  net.connect({ a: "c", b: "e2", bandwidth: 125e6, latency: 5 });
  return net;
}

Deno.test("a route through a tree crosses each switch once and pays its forwarding latency", () => {
  const net = tree(new Simulation());
  assert.deepEqual(net.route("a", "c").map((l) => l.name), [
    "a->e1",
    "e1->core",
    "core->e2",
    "e2->c",
  ]);
  assert.equal(net.pathLatency("a", "c"), 5 + (10 + 1_000) + (10 + 300) + (5 + 2_000));
  assert.deepEqual(net.route("a", "b").map((l) => l.name), ["a->e1", "e1->b"]);
  assert.equal(net.pathBandwidth("a", "c"), 125e6);
});

Deno.test("hosts do not forward, so a path through a host is no path", () => {
  const net = new Network(new Simulation());
  for (const h of ["x", "y", "z"]) net.addHost(h);
  net.connect({ a: "x", b: "y", bandwidth: 1e6 });
  net.connect({ a: "y", b: "z", bandwidth: 1e6 });
  assert.equal(net.route("x", "y").length, 1);
  assert.throws(() => net.route("x", "z"), /no path from 'x' to 'z'/);
});

Deno.test("links are full duplex: opposite directions do not share, the same direction does", () => {
  const sim = new Simulation();
  const net = starNetwork(sim, { switchLatency: 0, hosts: ["a", "b", "c"], bandwidth: 100e6 });
  const ab = net.send({ from: "a", to: "b", bytes: 100e6 });
  const ba = net.send({ from: "b", to: "a", bytes: 100e6 });
  sim.run();
  assert.equal(ab.sentAt, 1e9);
  assert.equal(ba.sentAt, 1e9);
  const sim2 = new Simulation();
  const net2 = starNetwork(sim2, { switchLatency: 0, hosts: ["a", "b", "c"], bandwidth: 100e6 });
  const x = net2.send({ from: "a", to: "c", bytes: 100e6 });
  const y = net2.send({ from: "b", to: "c", bytes: 100e6 });
  sim2.run();
  assert.equal(x.sentAt, 2e9); // both into c's downlink: half each
  assert.equal(y.sentAt, 2e9);
});

Deno.test("messages reach the listener on their port with sender, reply port and size; others are dropped", () => {
  const sim = new Simulation();
  const net = starNetwork(sim, {
    switchLatency: 700,
    hosts: ["a", "b"],
    bandwidth: 125e6,
    latency: 100,
  });
  const got: Packet[] = [];
  let at = -1;
  const stop = net.listen("b", "svc", (p) => {
    got.push(p);
    at = sim.now;
  });
  net.send({ from: "a", to: "b", port: "svc", replyPort: "r1", bytes: 1250, payload: { hi: 1 } });
  sim.run();
  net.send({ from: "a", to: "b", port: "nobody", bytes: 10 });
  sim.run();
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], {
    from: "a",
    to: "b",
    port: "svc",
    replyPort: "r1",
    bytes: 1250,
    payload: { hi: 1 },
    sentAt: 0,
  });
  assert.equal(at, 10_000 + 100 + 100 + 700); // 1250 B at 125 MB/s, two cables, one switch
  assert.equal(net.dropped, 1);
  stop();
  assert.equal(net.isListening("b", "svc"), false);
});

Deno.test("misuse gives errors naming the field", () => {
  const net = new Network(new Simulation());
  net.addHost("a");
  net.addHost("b");
  assert.throws(() => net.addHost("a"), /'name' must be unique/);
  assert.throws(() => net.addSwitch({ name: "s", latency: -1 }), /'latency'/);
  assert.throws(() => net.connect({ a: "a", b: "b", bandwidth: 0 }), /'bandwidth'/);
  assert.throws(() => net.connect({ a: "a", b: "zz", bandwidth: 1 }), /'name'.*zz/);
  assert.throws(() => net.connect({ a: "a", b: "a", bandwidth: 1 }), /'b' must differ/);
  net.connect({ a: "a", b: "b", bandwidth: 1 });
  net.listen("b", "p", () => {});
  assert.throws(() => net.listen("b", "p", () => {}), /'port'/);
  assert.throws(() => net.route("a", "a"), /'to' must differ/);
  // maxRate's default, Infinity, may also be given: no sender-side cap.
  const f = net.send({ from: "a", to: "b", bytes: 10, maxRate: Infinity });
  assert.equal(f.maxRate, Infinity);
});

Deno.test("block protocol: a data answer costs count x 512 bytes plus per-frame overhead", () => {
  const p = new BlockProtocol({ framing: { transport: "udp" }, headerBytes: 24 });
  const versions = new Int32Array(2048); // 1 MiB
  const frames = Math.ceil((2048 * 512) / 1448);
  assert.equal(p.frames({ type: "data", reqId: 1, versions }), frames);
  assert.equal(
    p.wireBytes({ type: "data", reqId: 1, versions }),
    2048 * 512 + frames * (24 + 28 + 38),
  );
  // A read request is one small frame: header 24 + image id 2 + IP/UDP 28, + 38 framing.
  assert.equal(p.wireBytes({ type: "read", imageId: "os", lba: 0, count: 8, reqId: 1 }), 92);
  assert.equal(p.wireBytes(null), 24 + 28 + 38); // anything unparseable still costs a header-only frame
  // Block-aligned frames carry two sectors per 1500-byte frame, like AoE.
  const aoe = new BlockProtocol({
    framing: { transport: "raw" },
    headerBytes: 36,
    blockAligned: true,
  });
  assert.equal(aoe.dataPerFrame, 1024);
  assert.throws(() => new BlockProtocol({ headerBytes: 1500 }), /'headerBytes'/);
  // Room for data but not for a whole block: the MTU is what is too small.
  assert.throws(
    () => new BlockProtocol({ framing: { mtu: 500 }, blockAligned: true }),
    /'framing\.mtu' must leave room for one 512-byte block .*: current value is 500$/,
  );
  assert.throws(() => new BlockProtocol({ maxBlocksPerRequest: 0 }), /'maxBlocksPerRequest'/);
});

Deno.test("block protocol: a compressed data answer costs its encoded bytes, which must be a whole number >= 0", () => {
  const p = new BlockProtocol({ framing: { transport: "udp" }, headerBytes: 24 });
  const versions = new Int32Array(8);
  assert.equal(p.dataBytes({ type: "data", reqId: 1, versions, encodedBytes: 1000 }), 1000);
  assert.equal(p.dataBytes({ type: "data", reqId: 1, versions, encodedBytes: 0 }), 0);
  for (const bad of [-5, 1.5, NaN, Infinity, "x"]) {
    assert.throws(
      () => p.wireBytes({ type: "data", reqId: 1, versions, encodedBytes: bad as number }),
      /Cannot size an image data message: 'encodedBytes' must be/,
      String(bad),
    );
  }
});

Deno.test("a multicast crosses each link of the distribution tree once and reaches every receiver", () => {
  const sim = new Simulation();
  const net = tree(sim);
  const got: Packet[] = [];
  for (const h of ["b", "c"]) net.listen(h, "img", (p) => got.push(p));
  const f = net.multicast({ from: "a", to: ["b", "c"], port: "img", bytes: 125e6, payload: 7 });
  // Tree: a->e1 (shared), e1->b, e1->core, core->e2, e2->c; each once.
  assert.deepEqual(f.route.map((l) => l.name).sort(), [
    "a->e1",
    "core->e2",
    "e1->b",
    "e1->core",
    "e2->c",
  ]);
  assert.equal(f.latency, net.pathLatency("a", "c"), "the farthest receiver's path");
  sim.run();
  // 125 MB at the 125 MB/s edge links: one second, not two.
  assert.equal(sim.now, 1e9 + net.pathLatency("a", "c"));
  assert.deepEqual(got.map((p) => [p.to, p.payload, p.from]), [["b", 7, "a"], ["c", 7, "a"]]);
  assert.equal(net.link("a", "e1").bytesCarried, 125e6);
  assert.equal(net.delivered, 2);
  net.multicast({ from: "a", to: ["c", "b"], port: "nobody", bytes: 100 });
  sim.run();
  assert.equal(net.dropped, 2, "a receiver without a listener drops it");
  assert.throws(() => net.multicast({ from: "a", to: [], bytes: 1 }), /at least one host/);
  assert.throws(
    () => net.multicast({ from: "a", to: ["b", "b"], bytes: 1 }),
    /'to' must name distinct hosts other than 'a': current value is b, b/,
  );
  assert.throws(() => net.multicast({ from: "a", to: ["a"], bytes: 1 }), /other than 'a'/);
});

const ms = 1_000_000;

/** Hosts on a 125 MB/s star; "srv" unreachable from 1 to 10 ms, first timeout 1 ms. */
function outageNet(hosts: string[], maxTimeout: number) {
  const sim = new Simulation();
  const net = starNetwork(sim, { switchLatency: 0, hosts: ["srv", ...hosts], bandwidth: 125e6 });
  net.addOutage({ host: "srv", start: 1 * ms, end: 10 * ms, initialTimeout: ms, maxTimeout });
  return { sim, net };
}

Deno.test("a message sent while its destination is unreachable leaves with the first retransmission after the outage", () => {
  const { sim, net } = outageNet(["n0"], 4 * ms);
  const arrived: number[] = [];
  net.listen("srv", "p", (pk) => arrived.push(pk.sentAt, sim.now));
  const send = () => net.sendRetrying({ from: "n0", to: "srv", port: "p", bytes: 125 });
  sim.call(0, send); // before: unaffected
  // Tries at 2, 3, 5 and 9 ms are lost (timeouts 1, 2, 4, then 4: the cap); 13 ms gets through.
  sim.call(2 * ms, send);
  sim.call(14 * ms, send); // after (and after the connection's retransmission): unaffected
  sim.run();
  const wire = 1_000; // 125 bytes at 125 MB/s (a flow over both links), no latency
  assert.deepEqual(arrived, [0, wire, 13 * ms, 13 * ms + wire, 14 * ms, 14 * ms + wire]);
  assert.equal(net.heldBack, 1);
  assert.equal(net.lostTries, 4);
  // The other direction too: the server's answer during the outage waits as well.
  sim.call(
    0,
    () =>
      net.addOutage({
        host: "srv",
        start: sim.now,
        end: sim.now + ms,
        initialTimeout: 3 * ms,
        maxTimeout: 3 * ms,
      }),
  );
  sim.run();
  assert.equal(net.outageDelay("n0", "srv"), 3 * ms);
  assert.equal(net.outageDelay("srv", "n0"), 3 * ms);
});

Deno.test("an outage with a bad window or timeout is refused, naming the field", () => {
  const sim = new Simulation();
  const net = starNetwork(sim, { switchLatency: 0, hosts: ["srv", "n0"], bandwidth: 125e6 });
  const ok = { host: "srv", start: 10, end: 20, initialTimeout: 5, maxTimeout: 5 };
  assert.throws(() => net.addOutage({ ...ok, host: "nope" }), /'name' must be a node/);
  assert.throws(() => net.addOutage({ ...ok, end: 10 }), /'end' must be .*current value is 10/);
  assert.throws(() => net.addOutage({ ...ok, start: -1 }), /'start'/);
  assert.throws(() => net.addOutage({ ...ok, initialTimeout: 0 }), /'initialTimeout'/);
  assert.throws(() => net.addOutage({ ...ok, maxTimeout: 4 }), /'maxTimeout'/);
  assert.equal(net.outageDelay("n0", "srv"), 0, "nothing was added");
});

Deno.test("messages to one host queue behind a held-back one on their connection, even after the outage", () => {
  const { sim, net } = outageNet(["n0", "n1"], 8 * ms);
  const left: string[] = [];
  net.listen("srv", "p", (pk) => left.push(`${pk.payload}@${pk.sentAt / ms}`));
  const send = (from: string, what: string) => () =>
    net.sendRetrying({ from, to: "srv", port: "p", bytes: 125, payload: what });
  // First try at 2 ms lost, then 3, 5, 9 (timeouts 1, 2, 4, 8): leaves at 17 ms.
  sim.call(2 * ms, send("n0", "a"));
  sim.call(6 * ms, send("n0", "b")); // on its own it would leave at 14 ms
  sim.call(12 * ms, send("n0", "c")); // path back, but the connection waits for its timer
  sim.call(12 * ms, send("n1", "d")); // another connection: unaffected
  sim.run();
  assert.deepEqual(left.sort(), ["a@17", "b@17", "c@17", "d@12"]);
  assert.equal(net.heldBack, 3);
  assert.equal(net.lostTries, 4, "only the first message's tries were lost");
});

Deno.test("datagrams and multicast copies that start while an end is unreachable are lost, not sent again", () => {
  const { sim, net } = outageNet(["n0", "n1"], 4 * ms);
  const got: string[] = [];
  for (const h of ["srv", "n0", "n1"]) net.listen(h, "p", (pk) => got.push(`${pk.payload}>${h}`));
  const dgram = (at: number, from: string, to: string, what: string) =>
    sim.call(at, () => void net.sendDatagram({ from, to, port: "p", bytes: 125, payload: what }));
  dgram(0, "n0", "srv", "before");
  dgram(2 * ms, "n0", "srv", "lost");
  dgram(2 * ms, "n0", "n1", "elsewhere"); // neither end is away
  dgram(10 * ms, "n0", "srv", "after");
  // 1,250 bytes take 10 us: the copy that left at 0.995 ms is on the wire when the outage starts.
  sim.call(
    ms - 5_000,
    () =>
      void net.multicast({ from: "srv", to: ["n0", "n1"], port: "p", bytes: 1_250, payload: "m1" }),
  );
  sim.call(
    5 * ms,
    () =>
      void net.multicast({ from: "srv", to: ["n0", "n1"], port: "p", bytes: 1_250, payload: "m2" }),
  );
  sim.run();
  assert.deepEqual(got.sort(), ["after>srv", "before>srv", "elsewhere>n1", "m1>n0", "m1>n1"]);
  assert.equal(net.lostDatagrams, 3, "one datagram and two copies of m2");
  assert.equal(net.heldBack + net.lostTries, 0, "datagrams are not retransmitted");
});

Deno.test("rackNetwork: a rack's hosts meet at their own switch; a core host's multicast crosses each rack's uplink once", () => {
  const sim = new Simulation();
  const net = rackNetwork(sim, {
    switchLatency: 1_000,
    coreHosts: ["srv"],
    racks: [["n0", "n1"], ["n2", "n3"]],
    bandwidth: 125e6,
    uplink: 250e6,
    latency: 10,
  });
  assert.deepEqual(net.route("n0", "n1").map((l) => l.name), ["n0->rack0", "rack0->n1"]);
  assert.deepEqual(net.route("srv", "n3").map((l) => l.name), [
    "srv->core",
    "core->rack1",
    "rack1->n3",
  ]);
  assert.equal(net.pathLatency("srv", "n3"), 3 * 10 + 2 * 1_000);
  net.multicast({ from: "srv", to: ["n0", "n1", "n2", "n3"], bytes: 1e6 });
  // A message between racks goes up its rack's uplink and down the other's.
  net.send({ from: "n2", to: "n0", bytes: 1e6 });
  sim.run();
  assert.equal(net.link("core", "rack1").bytesCarried, 1e6); // the multicast, once for n2 and n3
  assert.equal(net.link("rack1", "core").bytesCarried, 1e6);
  assert.equal(net.link("core", "rack0").bytesCarried, 2e6); // the multicast and n2's message
  assert.equal(net.link("core", "rack0").bandwidth, 250e6);
});
