import assert from "node:assert/strict";
import fc from "fast-check";
import { Resource, Simulation } from "../../lib/sim/mod.ts";
import { BlockProtocol, starNetwork } from "../../lib/net/mod.ts";
import { ImageClient, ImageContent, ImageServer, Inflater } from "../../lib/image/mod.ts";

const MIB = 2 ** 20;

/** One server (page cache off: every read goes to its disk) and one client host. */
function pair(ratio: number, inflateRate?: number) {
  const sim = new Simulation();
  const network = starNetwork(sim, {
    switchLatency: 5_000,
    hosts: ["srv", "n0"],
    bandwidth: 125e6,
    latency: 50,
  });
  const protocol = new BlockProtocol();
  const server = new ImageServer({
    network,
    host: "srv",
    protocol,
    cpuPerRequest: 0,
    cache: { kind: "ratio", hitRatio: 0 },
    disk: { bandwidth: 1e12, latency: 0 },
    inflateRate: 100e6,
  });
  const image = new ImageContent({ id: "os", bytes: 64 * MIB, compressionRatio: ratio });
  image.versions.fill(4096, 8, 7);
  server.addImage(image);
  const inflater = inflateRate === undefined
    ? undefined
    : new Inflater(sim, { rate: inflateRate, name: "n0" });
  const client = new ImageClient({ network, host: "n0", server: "srv", protocol, inflater });
  /** Reads the whole image in 1 MiB requests one after the other; the time it took. */
  const readAll = (compressed?: boolean) => {
    const t0 = sim.now;
    const p = sim.process(function* () {
      for (let lba = 0; lba < image.blocks; lba += 2048) {
        const v =
          (yield client.read({ imageId: "os", lba, count: 2048, compressed })) as Int32Array;
        if (lba === 4096) assert.deepEqual([...v.subarray(0, 9)], [7, 7, 7, 7, 7, 7, 7, 7, 0]);
      }
    });
    sim.run();
    assert.ok(p.ok);
    return sim.now - t0;
  };
  return { sim, server, image, client, inflater, readAll };
}

Deno.test("a compressed image crosses the network and the server's disk at 1/ratio of its size", () => {
  const raw = pair(1, 1e12);
  const tRaw = raw.readAll();
  const z = pair(4, 1e12); // inflating costs nothing here: only the transfer shrinks
  const tZ = z.readAll();
  assert.equal(raw.server.stats.bytesSent, 64 * MIB);
  assert.equal(z.server.stats.bytesServed, 64 * MIB);
  assert.ok(
    Math.abs(z.server.stats.bytesSent / (16 * MIB) - 1) < 1e-4,
    `${z.server.stats.bytesSent}`,
  );
  assert.ok(
    Math.abs(z.server.stats.diskBytes / (16 * MIB) - 1) < 0.01,
    `${z.server.stats.diskBytes}`,
  );
  assert.ok(tZ < tRaw / 3 && tZ > tRaw / 5, `raw ${tRaw} ns, compressed ${tZ} ns`);
  assert.equal(z.inflater!.stats.bytes, 64 * MIB);
});

Deno.test("a slow inflater makes a compressed read slower than a raw one: the client's core is the bottleneck", () => {
  const tRaw = pair(1).readAll();
  const z = pair(4, 20e6); // 20 MB/s of output, well under the 125 MB/s line
  const tZ = z.readAll();
  const inflateOnly = (64 * MIB / 20e6) * 1e9;
  assert.ok(
    tZ > tRaw && tZ >= inflateOnly,
    `raw ${tRaw}, compressed ${tZ}, inflating ${inflateOnly}`,
  );
  assert.equal(z.inflater!.stats.chunks, 64);
});

Deno.test("a raw read of a compressed image (an NFS READ) is inflated by the server's worker and sent whole", () => {
  const z = pair(4, 1e12);
  const t = z.readAll(false);
  assert.equal(z.server.stats.bytesSent, 64 * MIB);
  assert.equal(z.inflater!.stats.chunks, 0);
  // 64 MiB inflated at the server's 100 MB/s, one request at a time, besides the transfer.
  assert.ok(t > (64 * MIB / 100e6) * 1e9, `${t}`);
  // A client without an inflater asks for raw data too.
  const plain = pair(4);
  plain.readAll();
  assert.equal(plain.server.stats.bytesSent, 64 * MIB);
});

Deno.test("compression options are checked, naming the field", () => {
  assert.throws(
    () => new ImageContent({ id: "os", bytes: 512, compressionRatio: 0.5 }),
    /'compressionRatio'/,
  );
  const sim = new Simulation();
  assert.throws(() => new Inflater(sim, { rate: 0, name: "n0" }), /'rate'/);
  const net = starNetwork(sim, { switchLatency: 0, hosts: ["srv"], bandwidth: 1e6 });
  assert.throws(
    () => new ImageServer({ network: net, host: "srv", inflateRate: -1 }),
    /'inflateRate'/,
  );
  const img = new ImageContent({ id: "os", bytes: 2 ** 20, compressionRatio: 3 });
  assert.deepEqual(img.storedRun(0, 2048), { lba: 0, count: 683 });
  assert.deepEqual(img.storedRun(3000, 3), { lba: 1000, count: 1 });
  assert.equal(img.encodedBytes(3), 512);
});

Deno.test("an inflater on shared CPUs waits for a free one, holds it while it works, and inflates one chunk at a time", () => {
  const sim = new Simulation();
  const cpus = new Resource(sim, { capacity: 2, name: "cpus" });
  const z = new Inflater(sim, { rate: 100e6, name: "n0", cores: cpus });
  const busy = (ns: number) =>
    sim.process(function* () {
      using c = cpus.request();
      yield c;
      yield sim.timeout(ns);
    });
  busy(5e6), busy(5e6); // both CPUs taken for 5 ms
  const done: number[] = [];
  for (let k = 0; k < 2; k++) z.inflate(1e6).then(() => done.push(sim.now)); // 10 ms each
  let other = NaN; // work that asks for a CPU at 6 ms finds one free beside the inflater
  sim.call(6e6, () => busy(1e6).then(() => (other = sim.now)));
  sim.run();
  assert.deepEqual(done, [15e6, 25e6]);
  assert.equal(other, 7e6);
});

Deno.test("property: whatever the ratio, a read returns exactly the image's versions, compressed or raw", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1, max: 8, noNaN: true }),
      fc.array(
        fc.record({
          lba: fc.nat(131_000),
          count: fc.integer({ min: 1, max: 2048 }),
          raw: fc.boolean(),
        }),
        {
          minLength: 1,
          maxLength: 8,
        },
      ),
      (ratio, reads) => {
        const { sim, image, client } = pair(ratio, 200e6);
        image.versions.fill(1000, 3000, 9);
        const evs = reads.map((r) => {
          const count = Math.min(r.count, image.blocks - r.lba);
          return {
            r: { ...r, count },
            ev: client.read({ imageId: "os", lba: r.lba, count, compressed: !r.raw }),
          };
        });
        sim.run();
        for (const { r, ev } of evs) {
          assert.deepEqual([...ev.value], [...image.read(r.lba, r.count)]);
        }
      },
    ),
    { numRuns: 40, seed: 7 },
  );
});
