import assert from "node:assert/strict";
import fc from "fast-check";
import { Simulation } from "../../lib/sim/mod.ts";
import { BlockProtocol, type Network, starNetwork } from "../../lib/net/mod.ts";
import {
  ImageContent,
  ImageServer,
  Inflater,
  MulticastReceiver,
  MulticastServer,
} from "../../lib/image/mod.ts";
import { VersionMap } from "../../lib/_util/mod.ts";

const MIB = 2 ** 20;
const CHUNK = 2048; // blocks: 1 MiB

/** A server holding a 16 MiB image with distinct versions per MiB, and `n` receivers' hosts. */
function session(n: number, o: { compressionRatio?: number; rate?: number } = {}) {
  const sim = new Simulation();
  const hosts = Array.from({ length: n }, (_, i) => `n${i}`);
  const network = starNetwork(sim, {
    switchLatency: 5_000,
    hosts: ["srv", ...hosts],
    bandwidth: 125e6,
    latency: 50,
  });
  const protocol = new BlockProtocol();
  const server = new ImageServer({ network, host: "srv", protocol, cpuPerRequest: 0 });
  const image = new ImageContent({
    id: "os",
    bytes: 16 * MIB,
    compressionRatio: o.compressionRatio,
  });
  for (let c = 0; c < 16; c++) image.versions.fill(c * CHUNK, CHUNK, 100 + c);
  server.addImage(image);
  const mc = new MulticastServer({ server, imageId: "os", chunkSectors: CHUNK, rate: o.rate });
  /** A receiver whose "disk" records what it was written, each write taking `writeNs`. */
  const receiver = (
    host: string,
    opts: {
      writeNs?: number;
      bufferBytes?: number;
      want?: { lba: number; count: number }[];
      inflater?: Inflater;
      idleTimeout?: number;
    } = {},
  ) => {
    const disk = new VersionMap(image.blocks, 0);
    const rx = new MulticastReceiver({
      network,
      host,
      server: "srv",
      protocol,
      imageId: "os",
      blocks: image.blocks,
      chunkSectors: CHUNK,
      bufferBytes: opts.bufferBytes ?? 8 * MIB,
      want: opts.want,
      inflater: opts.inflater,
      idleTimeout: opts.idleTimeout,
      write: (lba, versions) => {
        disk.set(lba, versions);
        return sim.timeout(opts.writeNs ?? 1_000_000);
      },
    });
    return { rx, disk };
  };
  return { sim, network, server, image, mc, hosts, receiver };
}

const holds = (disk: VersionMap, image: ImageContent) => disk.equals(image.versions);

Deno.test("multicast sends each chunk once to receivers that join together; each disk holds the image", () => {
  const { sim, image, mc, hosts, receiver, network } = session(4);
  const rxs = hosts.map((h) => receiver(h));
  // Joins reach the server together when sent before it starts: queue them in one instant.
  const done = rxs.map(({ rx }) => rx.start());
  sim.run();
  assert.ok(done.every((d) => d.processed && d.ok));
  for (const { rx, disk } of rxs) {
    assert.ok(holds(disk, image));
    assert.equal(rx.stats.written, 16);
    assert.equal(rx.stats.dropped, 0);
  }
  // Joins arrive a few microseconds apart, so the first chunk may go out before all have
  // joined and go again; still far from one stream per node (64 chunks).
  assert.ok(mc.stats.chunksSent <= 16 + 1, `${mc.stats.chunksSent}`);
  assert.equal(mc.stats.bytesSent, mc.stats.chunksSent * MIB);
  // The server's link carried the group's chunks once, nothing per receiver.
  assert.equal(network.route("srv", "n0")[0].bytesCarried, mc.stats.wireBytes);
  assert.equal(mc.stats.leaves, 4);
  assert.deepEqual(mc.members, []);
});

Deno.test("a late joiner takes the stream where it is and gets what it missed on the next lap", () => {
  const { sim, image, mc, receiver } = session(2);
  const early = receiver("n0"), late = receiver("n1");
  early.rx.start();
  // n1 joins after 5 of 16 chunks (1 MiB takes ~8.5 ms at 125 MB/s) have gone out.
  sim.call(45_000_000, () => void late.rx.start());
  sim.run();
  assert.ok(holds(early.disk, image) && holds(late.disk, image));
  assert.ok(mc.stats.chunksResent >= 4 && mc.stats.chunksResent <= 6, `${mc.stats.chunksResent}`);
  assert.equal(mc.stats.chunksSent, 16 + mc.stats.chunksResent);
  assert.equal(early.rx.stats.received, 16);
  assert.equal(late.rx.stats.received, 16);
  assert.equal(late.rx.stats.duplicates, 0);
});

Deno.test("a receiver with a full buffer drops chunks and NAKs them, and still gets every chunk", () => {
  const { sim, image, mc, receiver } = session(2);
  // A disk four times slower than the wire, buffer for one chunk.
  const slow = receiver("n0", { writeNs: 34_000_000, bufferBytes: MIB });
  const fast = receiver("n1");
  slow.rx.start();
  fast.rx.start();
  sim.run();
  assert.ok(holds(slow.disk, image) && holds(fast.disk, image));
  assert.ok(slow.rx.stats.dropped > 0);
  assert.equal(mc.stats.naks, slow.rx.stats.dropped);
  assert.equal(fast.rx.stats.dropped, 0);
  assert.ok(mc.stats.chunksResent >= slow.rx.stats.dropped - 1);
});

Deno.test("a receiver that wants some runs gets the chunks holding them; the stream sends the union of what members want", () => {
  const { sim, mc, receiver } = session(2);
  // n0 wants blocks in chunks 1 and 2 (a run across their border) and chunk 9; n1 chunks 2-3.
  const a = receiver("n0", {
    want: [{ lba: 2 * CHUNK - 4, count: 8 }, { lba: 9 * CHUNK, count: 1 }],
  });
  const b = receiver("n1", { want: [{ lba: 2 * CHUNK, count: 2 * CHUNK }] });
  const done = [a.rx.start(), b.rx.start()];
  sim.run();
  assert.ok(done.every((d) => d.ok));
  assert.equal(a.rx.stats.written, 3);
  assert.equal(b.rx.stats.written, 2);
  assert.ok(mc.stats.chunksSent >= 4 && mc.stats.chunksSent <= 5, `${mc.stats.chunksSent}`);
  const chunkOf = (disk: VersionMap, c: number) =>
    disk.read(c * CHUNK, CHUNK).every((v) => v === 100 + c);
  assert.deepEqual([1, 2, 9].map((c) => chunkOf(a.disk, c)), [true, true, true]);
  assert.equal(chunkOf(a.disk, 3), false); // sent for n1, not kept by n0
  assert.equal(a.rx.stats.duplicates >= 1, true);
  assert.deepEqual([2, 3].map((c) => chunkOf(b.disk, c)), [true, true]);
  // Nothing wanted: done at once, without joining.
  const none = receiver("n0", { want: [] }).rx.start();
  assert.ok(none.ok);
  assert.throws(() => receiver("n0", { want: [{ lba: -1, count: 4 }] }), /'want' runs/);
});

Deno.test("multicast sessions and receivers reject bad options, naming the field", () => {
  const { server, network } = session(1);
  assert.throws(
    () => new MulticastServer({ server, imageId: "none", chunkSectors: CHUNK, port: "x" }),
    /Cannot open multicast session for 'none': the server on 'srv' holds no such image/,
  );
  assert.throws(
    () => new MulticastServer({ server, imageId: "os", chunkSectors: 4096, port: "y" }),
    /'chunkSectors' must be <= the protocol's largest message \(2048 blocks\): current value is 4096/,
  );
  const base = {
    network,
    host: "n0",
    server: "srv",
    protocol: server.protocol,
    imageId: "os",
    blocks: 32768,
    chunkSectors: CHUNK,
    write: () => network.sim.timeout(0),
  };
  assert.throws(
    () => new MulticastReceiver({ ...base, bufferBytes: MIB - 1 }),
    /'bufferBytes' must be an integer >= 1048576: current value is 1048575/,
  );
  assert.throws(
    () => new MulticastReceiver({ ...base, bufferBytes: MIB, idleTimeout: 0 }),
    /'idleTimeout' must be an integer >= 1: current value is 0/,
  );
  const rx = new MulticastReceiver({ ...base, bufferBytes: MIB });
  rx.start();
  assert.throws(() => rx.start(), /already started/);
});

Deno.test("multicast of a compressed image: each chunk crosses the link at 1/ratio of its size and receivers inflate it before writing", () => {
  const { sim, image, mc, receiver } = session(2, { compressionRatio: 2 });
  const inflaters = ["n0", "n1"].map((name) => new Inflater(sim, { rate: 200e6, name }));
  const rx = inflaters.map((inflater, i) => receiver(`n${i}`, { inflater }));
  const done = rx.map((r) => r.rx.start());
  sim.run();
  assert.ok(done.every((d) => d.ok));
  for (const r of rx) assert.ok(holds(r.disk, image));
  assert.equal(mc.stats.bytesSent, mc.stats.chunksSent * MIB / 2);
  for (const z of inflaters) assert.equal(z.stats.bytes, 16 * MIB);
  // A receiver without an inflater cannot take a compressed session.
  const bare = session(1, { compressionRatio: 2 });
  bare.receiver("n0").rx.start();
  assert.throws(() => bare.sim.run(), /has no 'inflater'/);
});

Deno.test("a rate limit keeps a compressed session within what slow receivers write; without one they drop and NAK, and resends take the link", () => {
  const run = (rate?: number) => {
    const { sim, image, mc, receiver } = session(2, { compressionRatio: 4, rate });
    // Each receiver writes 1 MiB per 10 ms (~105 MB/s) and buffers two chunks; inflating is quick.
    const rx = ["n0", "n1"].map((h) =>
      receiver(h, {
        writeNs: 10_000_000,
        bufferBytes: 2 * MIB,
        inflater: new Inflater(sim, { rate: 1e12, name: h }),
      })
    );
    for (const r of rx) r.rx.start();
    sim.run();
    for (const r of rx) assert.ok(holds(r.disk, image));
    return { end: sim.now, stats: mc.stats, dropped: rx.map((r) => r.rx.stats.dropped) };
  };
  const free = run();
  const paced = run(90e6);
  assert.ok(free.dropped.every((d) => d > 0) && free.stats.chunksResent > 2, JSON.stringify(free));
  assert.deepEqual(paced.dropped, [0, 0]);
  assert.ok(paced.stats.chunksSent <= 17, `${paced.stats.chunksSent}`);
  assert.ok(paced.end >= (15 * MIB / 90e6) * 1e9, `${paced.end}`); // 16 chunks, 15 gaps
  assert.ok(paced.stats.wireBytes < free.stats.wireBytes);
  assert.throws(() => session(1, { rate: 0 }), /'rate'/);
});

const MS = 1_000_000;

/** The server is unreachable from `start` to `end` (ns). */
const away = (network: Network, start: number, end: number) =>
  network.addOutage({ host: "srv", start, end, initialTimeout: MS, maxTimeout: MS });

Deno.test("chunks sent while the server is unreachable are lost; receivers ask again after an idle timeout and get every chunk", () => {
  const { sim, image, mc, network, receiver } = session(2);
  // The server is away from 20 to 60 ms: chunks 2-6 or so (~8.5 ms each) go nowhere.
  away(network, 20 * MS, 60 * MS);
  const rxs = ["n0", "n1"].map((h) => receiver(h, { idleTimeout: 90 * MS }));
  const done = rxs.map(({ rx }) => rx.start());
  sim.run();
  assert.ok(done.every((d) => d.processed && d.ok));
  for (const { rx, disk } of rxs) {
    assert.ok(holds(disk, image));
    assert.equal(rx.stats.written, 16, "each chunk written once");
    assert.equal(rx.stats.rejoins, 1, "one idle period after the stream ran dry");
  }
  const lost = network.lostDatagrams / 2;
  assert.ok(lost >= 4 && lost <= 6, `${lost} chunks lost`);
  // The lost chunks went again; joins a few microseconds apart (at the start, and the two
  // re-joins) may each let one chunk go before the other member asked: at most two more.
  const extra = mc.stats.chunksResent - lost;
  assert.ok(extra >= 0 && extra <= 2, `${mc.stats.chunksResent} resent for ${lost} lost`);
});

Deno.test("without an idle timeout a receiver that lost chunks waits forever: the timeout is what recovers", () => {
  const { sim, network, receiver } = session(1);
  away(network, 20 * MS, 60 * MS);
  const { rx } = receiver("n0");
  const done = rx.start();
  sim.run();
  assert.equal(done.processed, false);
  assert.ok(rx.stats.written < 16 && rx.stats.rejoins === 0);
});

Deno.test("a join lost in an outage is sent again every idle timeout, without back-off, until one gets through", () => {
  const { sim, image, mc, network, receiver } = session(1);
  away(network, 0, 1_000 * MS);
  const { rx, disk } = receiver("n0", { idleTimeout: 90 * MS });
  const done = rx.start();
  sim.run();
  assert.ok(done.ok && holds(disk, image));
  // Joins at 0, 90, ..., 990 ms are lost (12); the one at 1,080 ms gets through.
  assert.equal(rx.stats.rejoins, 12);
  assert.equal(network.lostDatagrams, 12);
  assert.equal(mc.stats.joins, 1);
  assert.equal(mc.stats.chunksSent, 16);
});

Deno.test("property: whatever the outages, join times and buffers, every receiver ends with the image, each chunk written once", () => {
  fc.assert(
    fc.property(
      // Up to three server outages within the first 400 ms (a 16-chunk lap takes ~140 ms).
      fc.array(fc.record({ at: fc.nat(400), len: fc.integer({ min: 1, max: 300 }) }), {
        maxLength: 3,
      }),
      fc.array(fc.record({ joinAt: fc.nat(300), slow: fc.boolean() }), {
        minLength: 1,
        maxLength: 3,
      }),
      (outages, members) => {
        const { sim, image, network, receiver } = session(members.length);
        for (const o of outages) away(network, o.at * MS, (o.at + o.len) * MS);
        const rxs = members.map((m, i) =>
          receiver(`n${i}`, {
            idleTimeout: 90 * MS,
            // A slow disk with a one-chunk buffer also drops and NAKs.
            ...(m.slow ? { writeNs: 34 * MS, bufferBytes: MIB } : {}),
          })
        );
        const done = rxs.map(({ rx }, i) => {
          const ev = sim.event<void>();
          sim.call(members[i].joinAt * MS, () => void rx.start().then(() => ev.succeed()));
          return ev;
        });
        sim.run();
        rxs.forEach(({ rx, disk }, i) => {
          assert.ok(done[i].ok && holds(disk, image), `n${i} holds the image`);
          assert.equal(rx.stats.written, 16);
          assert.equal(rx.stats.received, 16);
        });
      },
    ),
    { numRuns: 60, seed: 11 },
  );
});

Deno.test("a receiver that finished leaves nothing queued: its idle watcher stops with the last chunk", () => {
  const idleTimeout = 1_000 * MS;
  for (const outage of [false, true]) {
    const { sim, image, network, receiver } = session(2);
    // With an outage the watchers first have to ask again (one idle period).
    if (outage) away(network, 20 * MS, 60 * MS);
    const rxs = ["n0", "n1"].map((h) => receiver(h, { idleTimeout }));
    let doneAt = 0;
    const done = rxs.map(({ rx }) => rx.start().then(() => (doneAt = Math.max(doneAt, sim.now))));
    sim.run();
    assert.ok(done.every((d) => d.ok));
    for (const { rx, disk } of rxs) {
      assert.ok(holds(disk, image));
      assert.equal(rx.stats.rejoins, outage ? 1 : 0);
    }
    // Only the last messages cross after the last write: no watcher runs on to its next look
    // (1 s after the last chunk came).
    const after = sim.now - doneAt;
    assert.ok(after < 10 * MS, `outage ${outage}: run ended ${after} ns after the last write`);
    assert.equal(sim.pending, 0);
  }
});
