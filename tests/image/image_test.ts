import assert from "node:assert/strict";
import fc from "fast-check";
import { Simulation } from "../../lib/sim/mod.ts";
import { VersionMap } from "../../lib/_util/mod.ts";
import type { BlockDevice, DiskCommand, DiskResult } from "../../lib/hw/mod.ts";
import { BlockProtocol, type ImageResponse, type Network, starNetwork } from "../../lib/net/mod.ts";
import {
  ImageClient,
  ImageContent,
  ImageRequestError,
  ImageRequestTimeout,
  ImageServer,
  type ImageServerOptions,
} from "../../lib/image/mod.ts";

const GIB = 2 ** 30;

/** A backing store of `sectors` whose reads take 1 ms and fail with `error` while `failing`. */
function testStore(sim: Simulation, sectors: number) {
  const store = {
    name: "test-store",
    sectors,
    content: new VersionMap(sectors, 0),
    queueDepth: 32,
    outstanding: 0,
    failing: false,
    error: "unc" as DiskResult["error"],
    reads: 0,
    submit(cmd: DiskCommand) {
      store.reads++;
      const count = cmd.op === "read" ? cmd.count : 0;
      const result: DiskResult = store.failing
        ? { ok: false, error: store.error, serviceTime: 1_000_000 }
        : { ok: true, versions: new Int32Array(count), serviceTime: 1_000_000 };
      return sim.timeout(1_000_000, result);
    },
  };
  return store satisfies BlockDevice;
}

function world(
  n: number,
  server: Partial<ImageServerOptions> = {},
  protocol = new BlockProtocol(),
) {
  const sim = new Simulation();
  const hosts = ["srv", ...Array.from({ length: n }, (_, i) => `n${i}`)];
  const net = starNetwork(sim, { switchLatency: 5_000, hosts, bandwidth: 125e6, latency: 50 });
  const srv = new ImageServer({ network: net, host: "srv", protocol, cpuPerRequest: 0, ...server });
  const img = new ImageContent({ id: "os", bytes: 32 * GIB });
  srv.addImage(img);
  const clients = hosts.slice(1).map((h) =>
    new ImageClient({ network: net, host: h, server: "srv", protocol })
  );
  return { sim, net, srv, img, clients };
}

Deno.test("a 32 GB image costs well under a few MB, even with patched regions", () => {
  const img = new ImageContent({ id: "big", bytes: 32 * GIB });
  assert.equal(img.blocks, 2 ** 26);
  assert.equal(img.bytes, 32 * GIB);
  for (let k = 0; k < 100; k++) img.versions.fill(k * 600_000 + 7, 9, 2);
  assert.ok(img.footprint < 2e6, `footprint ${img.footprint}`);
  assert.throws(
    () => new ImageContent({ id: "odd", bytes: 1000 }),
    /'bytes' must be a multiple of 512/,
  );
  assert.throws(() => new ImageContent({ id: "", bytes: 512 }), /'id'/);
});

Deno.test("a read round trip returns the image's versions for exactly the range asked", () => {
  const { sim, img, clients } = world(1);
  img.versions.fill(1000, 4, 5);
  const ev = clients[0].read({ imageId: "os", lba: 998, count: 8 });
  sim.run();
  assert.deepEqual([...ev.value], [0, 0, 5, 5, 5, 5, 0, 0]);
  assert.equal(clients[0].outstanding, 0);
});

Deno.test("N clients reading at once each get about 1/N of the server's link; total time scales with N", () => {
  // One request of 64 MiB per client: the server's uplink is the only shared link.
  const proto = new BlockProtocol({ maxBlocksPerRequest: 1 << 17 });
  const finish = (n: number) => {
    const { sim, clients } = world(n, {}, proto);
    const evs = clients.map((c) => c.read({ imageId: "os", lba: 0, count: 1 << 17 }));
    const done: number[] = [];
    for (const e of evs) e.then(() => done.push(sim.now));
    sim.run();
    return done;
  };
  const t1 = finish(1)[0];
  for (const n of [2, 4, 8]) {
    const done = finish(n);
    assert.equal(done.length, n);
    for (const t of done) assert.ok(Math.abs(t / t1 - n) < 0.01, `n=${n}: ${t / t1}`);
  }
});

Deno.test("streaming clients issuing 1 MiB requests back to back share the bottleneck fairly", () => {
  const run = (n: number) => {
    const { sim, clients } = world(n);
    const ends: number[] = [];
    for (const c of clients) {
      sim.process(function* () {
        for (let k = 0; k < 32; k++) yield c.read({ imageId: "os", lba: k * 2048, count: 2048 });
        ends.push(sim.now);
      });
    }
    sim.run();
    return ends;
  };
  const one = run(1)[0];
  const four = run(4);
  for (const t of four) assert.ok(Math.abs(t / one - 4) < 0.1, `ratio ${t / one}`);
  assert.ok(Math.max(...four) / Math.min(...four) < 1.02);
});

Deno.test("the concurrency limit queues requests behind busy workers", () => {
  const { sim, srv, clients } = world(1, { concurrency: 2, cpuPerRequest: 1_000_000 });
  const evs = [0, 1, 2, 3].map((i) => clients[0].read({ imageId: "os", lba: i, count: 1 }));
  const at: number[] = [];
  for (const e of evs) e.then(() => at.push(sim.now));
  sim.run();
  // Two waves one CPU time apart.
  assert.equal(at[1] - at[0] < 10_000, true);
  assert.ok(Math.abs(at[2] - at[0] - 1_000_000) < 10_000);
  assert.equal(srv.workers.stats().maxQueueLength, 2);
});

Deno.test("page cache misses read from the backing disk; an LRU cache hits the second time", () => {
  const disk = { bandwidth: 100e6, latency: 5_000_000 };
  const a = world(1, { cache: { kind: "ratio", hitRatio: 1 }, disk });
  const b = world(1, { cache: { kind: "ratio", hitRatio: 0 }, disk });
  const ta = a.clients[0].read({ imageId: "os", lba: 0, count: 2048 });
  const tb = b.clients[0].read({ imageId: "os", lba: 0, count: 2048 });
  let hitAt = 0, missAt = 0;
  ta.then(() => (hitAt = a.sim.now));
  tb.then(() => (missAt = b.sim.now));
  a.sim.run();
  b.sim.run();
  assert.equal(missAt - hitAt, 5_000_000 + Math.ceil((2048 * 512) / 100e6 * 1e9));
  assert.equal(b.srv.stats.diskBytes, 2048 * 512);

  const c = world(1, { cache: { kind: "lru", bytes: 64 * 2 ** 20 }, disk });
  c.sim.process(function* () {
    yield c.clients[0].read({ imageId: "os", lba: 0, count: 64 });
    yield c.clients[0].read({ imageId: "os", lba: 8, count: 16 });
    yield c.clients[0].read({ imageId: "os", lba: 64, count: 1 });
  });
  c.sim.run();
  assert.equal(c.srv.stats.cacheMisses, 2);
  assert.equal(c.srv.stats.cacheHits, 1);
  assert.equal(c.srv.stats.diskBytes, 32 * 1024 + 4096);
});

Deno.test("every protocol error is answered with its typed code", () => {
  const { sim, clients } = world(1, {}, new BlockProtocol({ maxBlocksPerRequest: 16 }));
  const cases: [Parameters<ImageClient["read"]>[0], string][] = [
    [{ imageId: "nope", lba: 0, count: 1 }, "unknown-image"],
    [{ imageId: "os", lba: 2 ** 26 - 1, count: 2 }, "lba-out-of-range"],
    [{ imageId: "os", lba: 0, count: 0 }, "bad-count"],
    [{ imageId: "os", lba: 0, count: 17 }, "bad-count"],
    [{ imageId: "os", lba: -1, count: 1 }, "malformed"],
    [{ imageId: "os", lba: 0.5, count: 1 }, "malformed"],
  ];
  const codes: string[] = [];
  sim.process(function* () {
    for (const [req] of cases) {
      try {
        yield clients[0].read(req);
        codes.push("data");
      } catch (e) {
        assert.ok(e instanceof ImageRequestError);
        assert.equal(e.request.imageId, req.imageId);
        codes.push(e.code);
      }
    }
  });
  sim.run();
  assert.deepEqual(codes, cases.map((c) => c[1]));
});

Deno.test("a silent server makes the client time out with ImageRequestTimeout; a late answer is ignored", () => {
  const { sim, srv, clients } = world(1);
  srv.online = false;
  let err: unknown;
  sim.process(function* () {
    try {
      yield clients[0].read({ imageId: "os", lba: 0, count: 1, timeout: 1_000_000 });
    } catch (e) {
      err = e;
    }
  });
  sim.run();
  assert.ok(err instanceof ImageRequestTimeout);
  assert.equal(err.timeout, 1_000_000);
  assert.equal(sim.now, 1_000_000);
  assert.equal(srv.stats.dropped, 1);

  const w = world(1, { cpuPerRequest: 2_000_000 });
  const late = w.clients[0].read({ imageId: "os", lba: 0, count: 1, timeout: 1_000_000 });
  late.defuse();
  w.sim.run();
  assert.ok(late.value instanceof ImageRequestTimeout);
  assert.equal(w.clients[0].lateAnswers, 1);
  assert.equal(w.clients[0].timeouts, 1);
});

const badRequest = fc.oneof(
  fc.anything(),
  fc.record({
    type: fc.constantFrom("read", "write", "data", 7, undefined),
    imageId: fc.oneof(fc.constantFrom("os", "nope", ""), fc.anything()),
    lba: fc.oneof(
      fc.integer({ min: -10, max: 2 ** 26 + 10 }),
      fc.double(),
      fc.constant(2 ** 60),
      fc.anything(),
    ),
    count: fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.double(), fc.anything()),
    reqId: fc.oneof(fc.nat(), fc.integer({ min: -3, max: -1 }), fc.double(), fc.string()),
  }, { requiredKeys: [] }),
);

/** Sends raw messages from a probe host, each with its own reply port; returns answers per port. */
function probe(net: Network, messages: unknown[], protocol: BlockProtocol) {
  const answers: ImageResponse[][] = messages.map(() => []);
  messages.forEach((m, i) => {
    net.listen("probe", `p${i}`, (p) => answers[i].push(p.payload as ImageResponse));
    net.send({
      from: "probe",
      to: "srv",
      port: "image",
      replyPort: `p${i}`,
      bytes: protocol.wireBytes(m),
      payload: m,
    });
  });
  return answers;
}

Deno.test("property: every request, however malformed, gets exactly one answer before a deadline", () => {
  fc.assert(
    fc.property(fc.array(badRequest, { minLength: 1, maxLength: 20 }), (messages) => {
      const sim = new Simulation();
      const net = starNetwork(sim, {
        switchLatency: 1_000,
        hosts: ["srv", "probe"],
        bandwidth: 125e6,
      });
      const protocol = new BlockProtocol();
      const srv = new ImageServer({ network: net, host: "srv", protocol, concurrency: 2 });
      srv.addImage(new ImageContent({ id: "os", bytes: 32 * GIB }));
      const answers = probe(net, messages, protocol);
      sim.run(1_000_000_000); // 1 s is ample for 20 requests of at most 1 MiB
      for (const [i, a] of answers.entries()) {
        assert.equal(a.length, 1, `message ${i} got ${a.length} answers`);
        const r = a[0];
        assert.ok(r.type === "data" || r.type === "error");
        const m = messages[i] as { reqId?: unknown };
        if (r.type === "data") {
          assert.equal(r.reqId, m.reqId);
          assert.equal(r.versions.length, (m as { count: number }).count);
        } else if (Number.isSafeInteger(m?.reqId) && (m.reqId as number) >= 0) {
          assert.equal(r.reqId, m.reqId);
        } else assert.equal(r.reqId, -1);
      }
      assert.equal(sim.pending, 0);
    }),
    { numRuns: 150 },
  );
});

Deno.test("bad server options give a RangeError naming the field", () => {
  const sim = new Simulation();
  const net = starNetwork(sim, { switchLatency: 0, hosts: ["srv", "c"], bandwidth: 1e6 });
  const mk = (o: Partial<ImageServerOptions>) => () =>
    new ImageServer({ network: net, host: "srv", ...o });
  assert.throws(mk({ concurrency: 0 }), /'concurrency'/);
  assert.throws(mk({ cpuPerRequest: -1 }), /'cpuPerRequest'/);
  assert.throws(mk({ cache: { kind: "ratio", hitRatio: 2 } }), /'cache.hitRatio'/);
  assert.throws(mk({ cache: { kind: "lfu" } as never }), /'cache.kind'/);
  assert.throws(
    mk({ cache: { kind: "lru", bytes: 1 << 20, pageBytes: 1000 } }),
    /^RangeError: Cannot create image server on 'srv': 'cache.pageBytes' must be a multiple of 512/,
  );
  assert.throws(mk({ disk: { bandwidth: 0, latency: 0 } }), /'disk.bandwidth'/);
  assert.throws(
    () => new ImageClient({ network: net, host: "c", server: "srv", timeout: 0 }),
    /'timeout'/,
  );
  const srv = new ImageServer({ network: net, host: "srv" });
  srv.addImage(new ImageContent({ id: "os", bytes: 512 }));
  assert.throws(
    () => srv.addImage(new ImageContent({ id: "os", bytes: 512 })),
    /'id' must be unique/,
  );
});

Deno.test("an answered request's timeout is cancelled: a plain run() ends at the answer, not at the timeout", () => {
  const { sim, clients } = world(1);
  const timeout = 30_000_000_000; // 30 s
  const at: number[] = [];
  const data = clients[0].read({ imageId: "os", lba: 0, count: 8, timeout });
  data.then(() => at.push(sim.now));
  // An error answer ends its request too.
  const error = clients[0].read({ imageId: "nope", lba: 0, count: 8, timeout });
  error.defuse().then(() => at.push(sim.now));
  sim.run();
  assert.ok(data.ok);
  assert.ok(error.value instanceof ImageRequestError);
  assert.ok(at.length === 2 && Math.max(...at) < 1_000_000, `answered at ${at}`);
  assert.equal(sim.now, Math.max(...at), "the run ends with the last answer");
  assert.equal(sim.pending, 0);
  assert.equal(clients[0].timeouts, 0);
  assert.equal(clients[0].outstanding, 0);
});

Deno.test("addImage() refuses a store too small for the image's stored blocks, naming both sizes", () => {
  const sim = new Simulation();
  const net = starNetwork(sim, { switchLatency: 5_000, hosts: ["srv"], bandwidth: 125e6 });
  const server = new ImageServer({ network: net, host: "srv", store: testStore(sim, 2047) });
  assert.throws(() => server.addImage(new ImageContent({ id: "os", bytes: 2048 * 512 })), {
    name: "RangeError",
    message:
      "Cannot add image 'os' on 'srv': 'store.sectors' must be >= 2048 (the sectors the image takes stored): current value is 2047",
  });
  assert.equal(server.image("os"), undefined);
  // A compressed image takes 1/ratio of its blocks on the store: 2048 blocks at 3:1 take 683.
  const packed = new ImageContent({ id: "packed", bytes: 2048 * 512, compressionRatio: 3 });
  assert.doesNotThrow(() => server.addImage(packed));
  const tight = new ImageServer({
    network: net,
    host: "srv",
    port: "p2",
    store: testStore(sim, 682),
  });
  assert.throws(
    () => tight.addImage(packed),
    /'store.sectors' must be >= 683 .*current value is 682/,
  );
});

Deno.test("images share the store one after the other: each image's reads go to its own sectors, and the last must fit", () => {
  const sim = new Simulation();
  const net = starNetwork(sim, { switchLatency: 5_000, hosts: ["srv", "n0"], bandwidth: 125e6 });
  const store = testStore(sim, 4096 + 683 + 100);
  const lbas: number[] = [];
  const submit = store.submit;
  store.submit = (cmd: DiskCommand) => {
    if (cmd.op === "read") lbas.push(cmd.lba);
    return submit(cmd);
  };
  const server = new ImageServer({
    network: net,
    host: "srv",
    cpuPerRequest: 0,
    cache: { kind: "lru", bytes: 1 << 20 },
    store,
  });
  server.addImage(new ImageContent({ id: "a", bytes: 4096 * 512 }));
  server.addImage(new ImageContent({ id: "b", bytes: 2048 * 512, compressionRatio: 3 }));
  assert.throws(
    () => server.addImage(new ImageContent({ id: "c", bytes: 101 * 512 })),
    /'store\.sectors' must be >= 4880 \(the sectors the image takes stored after the 2 image\(s\) already held, 4779 sectors\): current value is 4879/,
  );
  const client = new ImageClient({ network: net, host: "n0", server: "srv" });
  sim.process(function* () {
    yield client.read({ imageId: "a", lba: 8, count: 8 });
    yield client.read({ imageId: "b", lba: 0, count: 8 });
  });
  sim.run();
  // Whole 4 KiB pages: a's page 1 at sector 8; b's first stored page right after a's 4096.
  assert.deepEqual(lbas, [8, 4096]);
});

Deno.test("a server serving demand reads first holds a background fetch while a demand read is there", () => {
  const answered = (demandFirst: boolean) => {
    const sim = new Simulation();
    const net = starNetwork(sim, { switchLatency: 5_000, hosts: ["srv", "n0"], bandwidth: 125e6 });
    const server = new ImageServer({
      network: net,
      host: "srv",
      cpuPerRequest: 0,
      cache: { kind: "ratio", hitRatio: 0 },
      store: testStore(sim, 4096),
      demandFirst,
    });
    server.addImage(new ImageContent({ id: "os", bytes: 4096 * 512 }));
    const client = new ImageClient({ network: net, host: "n0", server: "srv" });
    const at: Record<string, number> = {};
    client.read({ imageId: "os", lba: 0, count: 8 }).then(() => (at.demand = sim.now));
    client.read({ imageId: "os", lba: 64, count: 8, background: true })
      .then(() => (at.background = sim.now));
    sim.run();
    return at.background - at.demand;
  };
  // The store takes 1 ms a read and serves both at once: first come, first served, they end together.
  assert.ok(Math.abs(answered(false)) < 100_000, `${answered(false)}`);
  // Held until the demand read is answered, then its own 1 ms read.
  assert.ok(answered(true) >= 1_000_000, `${answered(true)}`);
  const sim = new Simulation();
  const net = starNetwork(sim, { switchLatency: 5_000, hosts: ["srv"], bandwidth: 125e6 });
  assert.throws(
    () => new ImageServer({ network: net, host: "srv", demandFirst: "yes" as never }),
    /'demandFirst' must be true or false: current value is yes/,
  );
});

Deno.test("a read the backing store fails is answered with an error, not data, and is read again next time", () => {
  const sim = new Simulation();
  const net = starNetwork(sim, { switchLatency: 5_000, hosts: ["srv", "n0"], bandwidth: 125e6 });
  const store = testStore(sim, 4096);
  const server = new ImageServer({
    network: net,
    host: "srv",
    cpuPerRequest: 0,
    cache: { kind: "ratio", hitRatio: 0 },
    store,
  });
  server.addImage(new ImageContent({ id: "os", bytes: 4096 * 512 }));
  const client = new ImageClient({ network: net, host: "n0", server: "srv" });
  store.failing = true;
  let error: unknown;
  sim.process(function* () {
    try {
      yield client.read({ imageId: "os", lba: 0, count: 8 });
    } catch (e) {
      error = e;
    }
  });
  sim.run();
  assert.ok(error instanceof ImageRequestError, `answered ${String(error)}`);
  assert.match(error.message, /backing store read failed: unc/);
  assert.equal(server.stats.errors["io-error"], 1);
  assert.equal(server.stats.dataResponses, 0);
  assert.equal(server.stats.bytesServed, 0);
  // The disk recovers: the same blocks are read from it again and served.
  store.failing = false;
  const again = client.read({ imageId: "os", lba: 0, count: 8 });
  sim.run();
  assert.ok(again.ok);
  assert.equal(store.reads, 2);
  assert.equal(server.stats.dataResponses, 1);
  // A local read (a multicast sender's) that the store fails throws instead of returning data.
  store.failing = true;
  let local: unknown;
  sim.process(function* () {
    try {
      yield* server.readLocal("os", 0, 8);
    } catch (e) {
      local = e;
    }
  });
  sim.run();
  assert.match((local as Error).message, /Cannot read locally: backing store read failed: unc/);
});
