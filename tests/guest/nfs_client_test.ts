import assert from "node:assert/strict";
import fc from "fast-check";
import { Simulation } from "../../lib/sim/mod.ts";
import { BlockProtocol, type Network, starNetwork } from "../../lib/net/mod.ts";
import { ImageClient, ImageContent, ImageServer } from "../../lib/image/mod.ts";
import { NfsClient, type NfsClientOptions } from "../../lib/guest/nfs_client.ts";
import type { IoResult } from "../../lib/guest/mod.ts";

const MiB = 1 << 20;
const IMAGE = 64 * MiB;
const SECTORS = IMAGE / 512;
const COSTS = { request: 2_000, rpc: 15_000 };
const BW = 125e6; // 1 GbE line rate, bytes/s

/** A node and an image server behind one switch; the NFS client reads through an image client. */
function world(opts: Partial<NfsClientOptions> = {}) {
  const sim = new Simulation({ seed: 1 });
  const net: Network = starNetwork(sim, {
    hosts: ["srv", "n0"],
    bandwidth: BW,
    latency: 500,
    switchLatency: 2_000,
  });
  const protocol = new BlockProtocol({ maxBlocksPerRequest: 2048 });
  const server = new ImageServer({ network: net, host: "srv", protocol, cpuPerRequest: 0 });
  server.addImage(new ImageContent({ id: "os", bytes: IMAGE }));
  const client = new ImageClient({ network: net, host: "n0", server: "srv", protocol });
  const nfs = new NfsClient({
    sim,
    sectors: SECTORS,
    costs: COSTS,
    transport: (r) => client.read({ imageId: "os", lba: r.lba, count: r.count }),
    ...opts,
  });
  return { sim, net, protocol, nfs, server };
}

/** Reads `bytes` from LBA 0 in guest requests of `chunk` bytes, one at a time. */
function sequential(nfs: NfsClient, sim: Simulation, bytes: number, chunk: number): number {
  sim.process(function* () {
    for (let off = 0; off < bytes; off += chunk) {
      const r = (yield nfs.read({ lba: off / 512, count: chunk / 512 })) as IoResult;
      assert.ok(r.ok && r.versions!.every((v) => v === 0));
    }
  });
  sim.run();
  return sim.now;
}

Deno.test("reading N MB one rsize at a time takes N/goodput + RPCs x (RTT + client CPU)", () => {
  const { sim, net, protocol, nfs } = world();
  const N = 8 * MiB, rsize = 32_768;
  const t = sequential(nfs, sim, N, rsize);
  const rpcs = N / rsize;
  assert.equal(nfs.stats.rpcs, rpcs);
  const big = { type: "data", reqId: 1, versions: new Int32Array(rsize / 512) } as const;
  const goodput = (BW * rsize) / protocol.wireBytes(big);
  const rtt = net.pathLatency("n0", "srv") + net.pathLatency("srv", "n0");
  const predicted = N / goodput * 1e9 + rpcs * (rtt + COSTS.request + COSTS.rpc);
  assert.ok(Math.abs(t - predicted) / predicted < 0.02, `t=${t} predicted=${predicted}`);
});

/** Ideal time to move `bytes` of data in rsize answers at the protocol's goodput, ns. */
function ideal(protocol: BlockProtocol, bytes: number, rsize = 32_768): number {
  const answer = { type: "data", reqId: 1, versions: new Int32Array(rsize / 512) } as const;
  return (bytes / ((BW * rsize) / protocol.wireBytes(answer))) * 1e9;
}

Deno.test("one large read pipelines its RPCs: round trips and client CPU hide behind the transfer", () => {
  const serial = world();
  const tSerial = sequential(serial.nfs, serial.sim, 8 * MiB, 32_768);
  const piped = world({ maxInFlight: 16 });
  const t = sequential(piped.nfs, piped.sim, 8 * MiB, 8 * MiB);
  assert.equal(piped.nfs.stats.rpcs, 256);
  const n = ideal(piped.protocol, 8 * MiB);
  assert.ok(t >= n && t < n * 1.01, `t=${t} ideal=${n}`);
  const hidden = 256 * (serial.net.pathLatency("n0", "srv") * 2 + COSTS.request + COSTS.rpc);
  assert.ok(Math.abs(tSerial - t - hidden) / hidden < 0.1, `saved ${tSerial - t} vs ${hidden}`);
});

Deno.test("read-ahead hides RPC round trips from a sequential reader", () => {
  const plain = world();
  const t0 = sequential(plain.nfs, plain.sim, 4 * MiB, 32_768);
  const ra = world({ readAhead: 4 });
  const t1 = sequential(ra.nfs, ra.sim, 4 * MiB, 32_768);
  assert.ok(t1 < t0, `read-ahead ${t1} vs ${t0}`);
  // What remains: the start-up before the window fills, and answers sharing the link.
  const n = ideal(ra.protocol, 4 * MiB);
  assert.ok(t1 < n * 1.04, `t1=${t1} ideal=${n}`);
  assert.ok(ra.nfs.stats.readAheadRpcs > 0);
  assert.ok(ra.nfs.stats.rpcs <= 128 + 4, "at most the window beyond the last read");
});

Deno.test("a larger rsize needs fewer RPCs and less time", () => {
  const small = world({ rsize: 8192 });
  const big = world({ rsize: 65_536 });
  const ts = sequential(small.nfs, small.sim, 2 * MiB, 2 * MiB);
  const tb = sequential(big.nfs, big.sim, 2 * MiB, 2 * MiB);
  assert.deepEqual([small.nfs.stats.rpcs, big.nfs.stats.rpcs], [256, 32]);
  assert.ok(tb < ts);
});

Deno.test("writes go to the local overlay and reads see them without an RPC", () => {
  const { sim, nfs } = world();
  let r: IoResult | undefined;
  sim.process(function* () {
    yield nfs.write({ lba: 64, count: 64, version: 3 });
    r = (yield nfs.read({ lba: 64, count: 64 })) as IoResult;
    assert.equal(nfs.stats.rpcs, 0);
    r = (yield nfs.read({ lba: 60, count: 8 })) as IoResult;
  });
  sim.run();
  assert.equal(r!.versions!.join(), "0,0,0,0,3,3,3,3");
  assert.equal(nfs.stats.rpcs, 1);
});

Deno.test("the client's page cache keeps at most cacheBytes, dropping the oldest chunks first", () => {
  const { sim, nfs } = world({ cacheBytes: 2 * 32_768 });
  const chunk = 64; // sectors per 32 KiB READ
  sim.process(function* () {
    for (const c of [0, 1, 2]) yield nfs.read({ lba: c * chunk, count: chunk });
    assert.equal(nfs.stats.rpcs, 3);
    yield nfs.read({ lba: 2 * chunk, count: chunk }); // kept
    yield nfs.read({ lba: chunk, count: chunk }); // kept
    assert.equal(nfs.stats.rpcs, 3);
    yield nfs.read({ lba: 0, count: chunk }); // dropped first
    assert.equal(nfs.stats.rpcs, 4);
  });
  sim.run();
  assert.equal(nfs.stats.cacheHits, 2);
});

Deno.test("a direct read asks the server for just its sectors, neither using nor filling the client's cache, and reads nothing ahead", () => {
  const sim = new Simulation({ seed: 1 });
  const asked: string[] = [];
  const nfs = new NfsClient({
    sim,
    sectors: SECTORS,
    costs: COSTS,
    readAhead: 4,
    transport: (r) => {
      asked.push(`${r.lba}+${r.count}`);
      return sim.timeout(200_000, new Int32Array(r.count));
    },
  });
  sim.process(function* () {
    yield nfs.read({ lba: 0, count: 64 });
    const r = (yield nfs.read({ lba: 8, count: 8, direct: true })) as IoResult;
    assert.ok(r.ok && r.versions!.length === 8 && r.versions!.every((v) => v === 0));
    for (const lba of [640, 648, 640]) yield nfs.read({ lba, count: 8, direct: true });
    // Across a chunk boundary: one READ per chunk's part, merged with the local overlay.
    yield nfs.write({ lba: 1344, count: 8, version: 5 });
    const w = (yield nfs.read({ lba: 1336, count: 24, direct: true })) as IoResult;
    assert.equal(w.versions!.join(), [...Array(24)].map((_, i) => i >= 8 && i < 16 ? 5 : 0).join());
  });
  sim.run();
  // Cached, yet read again; sequential, yet nothing ahead; read twice, so not kept.
  assert.deepEqual(asked, ["0+64", "8+8", "640+8", "648+8", "640+8", "1336+8", "1344+16"]);
  assert.equal(nfs.stats.readAheadRpcs, 0);
  assert.equal(nfs.stats.cacheHits, 0);
});

Deno.test("writes to the server go in wsize RPCs and stay readable", () => {
  const sim = new Simulation();
  const writes: { lba: number; n: number }[] = [];
  const nfs = new NfsClient({
    sim,
    sectors: 4096,
    costs: COSTS,
    transport: (r) => sim.timeout(100_000, new Int32Array(r.count)),
    writes: "server",
    wsize: 4096,
    writeTransport: (w) => {
      writes.push({ lba: w.lba, n: w.versions.length });
      return sim.timeout(200_000);
    },
  });
  const ev = nfs.write({ lba: 0, count: 20, version: 2 });
  sim.run();
  assert.ok(ev.value.ok);
  assert.deepEqual(writes, [{ lba: 0, n: 8 }, { lba: 8, n: 8 }, { lba: 16, n: 4 }]);
  assert.equal(nfs.stats.writeRpcs, 3);
  const r = nfs.read({ lba: 16, count: 8 });
  sim.run();
  assert.equal(r.value.versions!.join(), "2,2,2,2,0,0,0,0");
});

Deno.test("a failed RPC fails the request without stopping the run, and a retry works", () => {
  const sim = new Simulation();
  let fail = true;
  const nfs = new NfsClient({
    sim,
    sectors: 4096,
    costs: COSTS,
    readAhead: 2,
    transport: (r) => {
      const ev = sim.event<Int32Array>();
      sim.call(
        1_000,
        () => (fail ? ev.fail(new Error("timeout")) : ev.succeed(new Int32Array(r.count))),
      );
      return ev;
    },
  });
  const a = nfs.read({ lba: 0, count: 8 });
  sim.run();
  assert.deepEqual([a.value.ok, nfs.stats.errors], [false, 1]);
  assert.match(a.value.error!, /NFS READ failed: timeout/);
  // Across two chunks both READs fail; the one the request no longer waits for must not stop the run.
  const span = [nfs.read({ lba: 120, count: 16 }), nfs.read({ lba: 248, count: 16, direct: true })];
  sim.run();
  assert.deepEqual(span.map((r) => r.value.ok), [false, false]);
  fail = false;
  const b = nfs.read({ lba: 0, count: 8 });
  sim.run();
  assert.ok(b.value.ok);
});

Deno.test("property: reads return the image overlaid with the latest writes", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          write: fc.boolean(),
          lba: fc.integer({ min: 0, max: 1000 }),
          count: fc.integer({ min: 1, max: 300 }),
        }),
        { minLength: 1, maxLength: 15 },
      ),
      fc.integer({ min: 0, max: 3 }),
      (ops, readAhead) => {
        const sim = new Simulation();
        const nfs = new NfsClient({
          sim,
          sectors: 1300,
          costs: COSTS,
          rsize: 4096,
          readAhead,
          transport: (r) => sim.timeout(50_000, new Int32Array(r.count)),
        });
        const model = new Int32Array(1300);
        let v = 1, ok = true;
        sim.process(function* () {
          for (const op of ops) {
            const count = Math.min(op.count, 1300 - op.lba);
            if (op.write) {
              yield nfs.write({ lba: op.lba, count, version: v });
              model.fill(v++, op.lba, op.lba + count);
            } else {
              const r = (yield nfs.read({ lba: op.lba, count })) as IoResult;
              ok &&= r.versions!.join() === model.slice(op.lba, op.lba + count).join();
            }
          }
        });
        sim.run();
        return ok;
      },
    ),
    { numRuns: 50 },
  );
});

Deno.test("bad NFS client options throw RangeErrors naming the field", () => {
  const sim = new Simulation();
  const base = { sim, sectors: 1024, costs: COSTS, transport: () => sim.event<Int32Array>() };
  assert.throws(
    () => new NfsClient({ ...base, rsize: 1000 }),
    (e: Error) => e instanceof RangeError && /'rsize' must be a multiple of 512/.test(e.message),
  );
  assert.throws(() => new NfsClient({ ...base, costs: { request: 0, rpc: -5 } }), /'costs.rpc'/);
  assert.throws(() => new NfsClient({ ...base, maxInFlight: 0 }), /'maxInFlight'/);
  assert.throws(() => new NfsClient({ ...base, writes: "disk" as never }), /'writes'/);
  assert.throws(() => new NfsClient({ ...base, writes: "server" }), /'writeTransport'/);
  const nfs = new NfsClient(base);
  assert.throws(() => nfs.read({ lba: 1020, count: 8 }), /'lba'\+'count'/);
  assert.throws(() => nfs.write({ lba: 0, count: 1, version: -1 }), /'version'/);
});

Deno.test("a direct read over two chunks whose later READ fails while the earlier one is awaited fails the request, not the run", () => {
  const sim = new Simulation();
  const nfs = new NfsClient({
    sim,
    sectors: 4096,
    costs: COSTS,
    // The second chunk's READ fails after 1 us; the first one's answer takes 500 us.
    transport: (r) => {
      if (r.lba < 64) return sim.timeout(500_000, new Int32Array(r.count));
      const ev = sim.event<Int32Array>();
      sim.call(1_000, () => ev.fail(new Error("server down")));
      return ev;
    },
  });
  const r = nfs.read({ lba: 32, count: 64, direct: true });
  sim.run(); // must not throw "server down"
  assert.equal(r.value.ok, false);
  assert.match(r.value.error!, /NFS READ failed: server down/);
  assert.equal(nfs.stats.errors, 1);
});

Deno.test("a page cache smaller than one rsize chunk is refused: it would keep nothing", () => {
  const sim = new Simulation();
  const base = { sim, sectors: 1024, costs: COSTS, transport: () => sim.event<Int32Array>() };
  assert.throws(() => new NfsClient({ ...base, rsize: 8192, cacheBytes: 4096 }), {
    name: "RangeError",
    message: /'cacheBytes' must be >= rsize \(8192\): current value is 4096/,
  });
  // Exactly one chunk is a working cache.
  assert.doesNotThrow(() => new NfsClient({ ...base, rsize: 8192, cacheBytes: 8192 }));
});

Deno.test("write versions must be integers in [0, 2^31): NaN, fractions and values that would wrap are refused", () => {
  const sim = new Simulation();
  const nfs = new NfsClient({
    sim,
    sectors: 1024,
    costs: COSTS,
    transport: (r) => sim.timeout(10, new Int32Array(r.count)),
  });
  for (const version of [NaN, 2.7, 2 ** 31, Infinity]) {
    assert.throws(() => nfs.write({ lba: 0, count: 2, version }), {
      name: "RangeError",
      message: new RegExp(
        `'version' must be an integer in \\[0, 2\\^31\\): current value is ${version}`,
      ),
    });
  }
  assert.throws(() => nfs.write({ lba: 0, count: 2, version: [1, 2.7] }), {
    name: "RangeError",
    message: /'version\[1\]' must be an integer in \[0, 2\^31\): current value is 2.7/,
  });
  assert.throws(
    () => nfs.write({ lba: 0, count: 2, version: [1] }),
    /'version' must be a number or 2 versions/,
  );
  assert.equal(nfs.stats.requests, 0);
  const ok = nfs.write({ lba: 0, count: 2, version: [0, 2 ** 31 - 1] });
  sim.run();
  assert.ok(ok.value.ok);
  assert.deepEqual(Array.from(nfs.overlay.read(0, 2)), [0, 2 ** 31 - 1]);
});

Deno.test("an NFS client's flush completes at once: its writes completed where they stay (overlay or server)", () => {
  const { sim, nfs } = world();
  let flushed: IoResult | undefined;
  sim.process(function* () {
    yield nfs.write({ lba: 8, count: 8, version: 5, fua: true });
    const t = sim.now;
    flushed = (yield nfs.flush()) as IoResult;
    assert.equal(sim.now, t);
  });
  sim.run();
  assert.deepEqual(flushed, { ok: true, latency: 0 });
  assert.equal(nfs.overlay.get(8), 5);
});
