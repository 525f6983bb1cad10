import assert from "node:assert/strict";
import fc from "fast-check";
import { type RandomStream, RngStreams, Simulation } from "../../lib/sim/mod.ts";
import {
  GuestCpus,
  type KvOpRecord,
  KvStore,
  type KvStoreParams,
  type KvWorkloadParams,
  runKvWorkload,
  scrambledZipfian,
} from "../../lib/workload/mod.ts";
import {
  checkReads,
  fakeCpu,
  FakeDriver,
  type FakeDriverOptions,
} from "../../lib/workload/_test_utils.ts";
import { NfsClient } from "../../lib/guest/mod.ts";

const MiB = 1 << 20;
const LAYOUT = {
  dataLba: 8192,
  sstableLba: 1 << 20,
  sstableSectors: 1 << 20,
  commitLogLba: 1 << 21,
  commitLogSectors: 1 << 16,
};

function params(over: Partial<KvWorkloadParams> = {}): KvWorkloadParams {
  return {
    records: 20_000,
    recordBytes: 1000,
    layout: LAYOUT,
    pageCacheBytes: 4 * MiB,
    memtableBytes: 256 * 1024,
    commitLog: { sync: "periodic", periodNs: 10_000_000 },
    cpu: { readNs: 20_000, updateNs: 25_000, flushNsPerRecord: 500, memoryBound: 0.5 },
    readProportion: 0.5,
    threads: 8,
    durationNs: 500_000_000,
    sampleEveryNs: 50_000_000,
    ...over,
  };
}

function storeParams(): KvStoreParams {
  const { readProportion: _r, threads: _t, durationNs: _d, sampleEveryNs: _s, ...store } = params();
  return store;
}

function run(
  p: KvWorkloadParams,
  opts: { overhead?: number; cores?: number; seed?: number; driver?: Partial<FakeDriverOptions> } =
    {},
) {
  const sim = new Simulation({ seed: opts.seed ?? 1 });
  const driver = new FakeDriver(sim, {
    sectors: 1 << 22,
    latency: 200_000,
    bandwidth: 200e6,
    ...opts.driver,
  });
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(opts.overhead ?? 0), cores: opts.cores ?? 4 });
  const history: KvOpRecord[] = [];
  const proc = runKvWorkload(driver, cpus, { ...p, observe: (o) => history.push(o) });
  sim.run();
  return { result: proc.value, driver, history };
}

Deno.test("kv throughput falls when the CPU is slower (EPT overhead on memory-bound work)", () => {
  const p = params({ pageCacheBytes: 64 * MiB }); // everything fits: CPU-bound
  const bare = run(p, { cores: 1 }).result.opsPerS;
  const ept = run(p, { overhead: 0.3, cores: 1 }).result.opsPerS;
  assert.ok(ept < bare * 0.93, `${ept} vs ${bare}`);
});

Deno.test("kv throughput falls when disk latency grows", () => {
  const p = params({ pageCacheBytes: 1 * MiB });
  const t = [100_000, 1_000_000, 5_000_000].map((latency) =>
    run(p, { driver: { latency } }).result.opsPerS
  );
  assert.ok(t[0] > t[1] && t[1] > t[2], t.join(" "));
});

Deno.test("page-cache hit ratio rises with cache size", () => {
  const ratios = [0.25, 2, 8, 32].map((mb) =>
    run(params({ pageCacheBytes: mb * MiB, readProportion: 0.95 })).result.hitRatio
  );
  for (let i = 1; i < ratios.length; i++) assert.ok(ratios[i] > ratios[i - 1], ratios.join(" "));
  assert.ok(ratios[3] > 0.9);
});

Deno.test("on NFS root a store reads what its page cache dropped from the server again: the NFS client keeps no second page cache", () => {
  const sim = new Simulation({ seed: 1 });
  const transport = (r: { lba: number; count: number }) =>
    sim.timeout(300_000, new Int32Array(r.count));
  const nfs = new NfsClient({
    sim,
    sectors: 1 << 22,
    transport,
    costs: { request: 2_000, rpc: 15_000 },
  });
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(0), cores: 4 });
  const proc = runKvWorkload(nfs, cpus, params({ pageCacheBytes: 1 * MiB, readProportion: 0.95 }));
  sim.run();
  const { diskReads } = proc.value.stats;
  // The 20 MB data set spans 640 READs of 32 KiB: a second cache would stop there.
  assert.ok(nfs.stats.rpcs > 4 * 640, `${nfs.stats.rpcs} READs`);
  // Every miss goes to the server, but for blocks the store wrote (the local overlay) and misses
  // of one chunk at once (one READ).
  assert.ok(nfs.stats.rpcs > 0.9 * diskReads, `${nfs.stats.rpcs} READs, ${diskReads} misses`);
});

Deno.test("Zipfian keys hit the page cache more often than uniform keys, unscrambled ones most", () => {
  const hits = (over: Partial<KvWorkloadParams>) =>
    run(params({ pageCacheBytes: 2 * MiB, ...over })).result.hitRatio;
  const uniform = hits({ distribution: "uniform" });
  const scrambled = hits({ distribution: "zipfian" });
  const plain = hits({ distribution: "zipfian", scramble: false });
  assert.ok(scrambled > 1.5 * uniform, `${scrambled} vs ${uniform}`);
  // Hashing 10^10 items onto the records makes the hot keys less hot than a Zipf over the records.
  assert.ok(plain > scrambled + 0.2, `${plain} vs ${scrambled}`);
});

/** YCSB's Utils.fnvhash64 in Java's long arithmetic (BigInt), the reference for the hashing. */
function ycsbFnvHash64(v: bigint): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < 8; i++) {
    h = BigInt.asIntN(64, (h ^ (v & 0xffn)) * 1099511628211n);
    v >>= 8n;
  }
  return h < 0n ? -h : h; // Math.abs
}

Deno.test("scrambled Zipfian keys are YCSB's: FNV-64 of a Zipf item over 10^10, mod the records (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 1, max: 2 ** 34 }),
      fc.double({ min: 0.2, max: 2, noNaN: true }),
      (seed, records, exponent) => {
        const keys = scrambledZipfian(new RngStreams(seed).stream("k"), { records, exponent });
        const items = new RngStreams(seed).stream("k").zipf({ n: 1e10, exponent });
        for (let i = 0; i < 50; i++) {
          const want = ycsbFnvHash64(BigInt(items() - 1)) % BigInt(records);
          assert.equal(keys(), Number(want));
        }
      },
    ),
    { numRuns: 200 },
  );
  // Items near 2^32 and 2^34 (both halves of the 64-bit hash input in use).
  for (const item of [2 ** 32 - 1, 2 ** 32, 2 ** 33 + 12345, 1e10 - 1]) {
    const keys = scrambledZipfian({ zipf: () => () => item + 1 } as unknown as RandomStream, {
      records: 20_000,
      exponent: 0.99,
    });
    assert.equal(keys(), Number(ycsbFnvHash64(BigInt(item)) % 20_000n));
  }
});

Deno.test("scrambled Zipfian keys over 20,000 records are as hot as YCSB's", () => {
  const keys = scrambledZipfian(new RngStreams(7).stream("k"), { records: 20_000, exponent: 0.99 });
  const counts = new Array<number>(20_000).fill(0);
  const draws = 400_000;
  for (let i = 0; i < draws; i++) counts[keys()]++;
  counts.sort((a, b) => b - a);
  const top1 = counts.slice(0, 200).reduce((a, b) => a + b, 0) / draws;
  // YCSB's generator: the hottest key ~3.8 % of requests, the top 1 % of keys ~24 % (a Zipf
  // over the records would give 9.1 % and 55 %).
  assert.ok(counts[0] / draws > 0.03 && counts[0] / draws < 0.05, `hottest ${counts[0] / draws}`);
  assert.ok(top1 > 0.2 && top1 < 0.28, `top 1 % ${top1}`);
  assert.throws(
    () => scrambledZipfian(new RngStreams(1).stream("k"), { records: 0, exponent: 0.99 }),
    /'records' must be an integer in \[1, 17179869184\]: current value is 0/,
  );
});

Deno.test("kv reads return the latest written version of a record (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1000 }),
      fc.integer({ min: 50, max: 3000 }),
      fc.integer({ min: 1, max: 64 }),
      fc.constantFrom(0, 16 * 1024, 256 * 1024),
      fc.constantFrom(600, 1000, 1500, 4096),
      fc.double({ min: 0.1, max: 0.9, noNaN: true }),
      fc.constantFrom("periodic" as const, "batch" as const),
      (seed, records, memKiB, cacheBytes, recordBytes, readProportion, sync) => {
        const { result, history, driver } = run(
          params({
            records,
            recordBytes,
            memtableBytes: memKiB * 1024,
            pageCacheBytes: cacheBytes,
            readProportion,
            commitLog: { sync, periodNs: 2_000_000 },
            durationNs: 100_000_000,
            threads: 6,
          }),
          { seed, driver: { latency: 50_000 } },
        );
        assert.equal(result.stats.tornReads, 0);
        assert.equal(result.stats.ioErrors, 0);
        assert.ok(history.some((h) => h.op === "read" && h.version > 0), "some read saw an update");
        checkReads(history);
        // The store wrote SSTables and the commit log into their regions only.
        assert.equal(
          driver.versions.countOther(
            LAYOUT.dataLba,
            Math.ceil(records * Math.ceil(recordBytes / 512) / 8) * 8,
            0,
          ),
          0,
        );
      },
    ),
    { numRuns: 25 },
  );
});

Deno.test("kv store reads an update back from the memtable and from a flushed SSTable; untouched records keep the image's version", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 22, latency: 100_000 });
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(), cores: 1 });
  const kv = new KvStore(driver, cpus, {
    ...storeParams(),
    records: 100,
    memtableBytes: 3000, // three 1000-byte records
    pageCacheBytes: 0,
  });
  kv.start();
  const seen: number[] = [];
  sim.process(function* () {
    const v1 = yield* kv.update(42);
    seen.push(v1, yield* kv.read(42)); // memtable
    yield* kv.update(1);
    yield* kv.update(2); // memtable full: flushed
    yield sim.timeout(10_000_000);
    assert.equal(kv.stats.flushes, 1);
    const before = kv.stats.diskReads;
    seen.push(yield* kv.read(42)); // from the SSTable on disk
    assert.equal(kv.stats.diskReads, before + 1);
    seen.push(yield* kv.read(7)); // never updated: the image's version
    kv.stop();
  });
  sim.run();
  assert.deepEqual(seen, [seen[0], seen[0], seen[0], 0]);
  const sst = driver.log.filter((r) =>
    r.op === "write" && r.lba >= LAYOUT.sstableLba &&
    r.lba < LAYOUT.sstableLba + LAYOUT.sstableSectors
  );
  assert.deepEqual(sst.map((r) => [r.lba, r.count]), [[LAYOUT.sstableLba, 8]]);
  assert.ok(
    driver.log.some((r) => r.op === "write" && r.lba === LAYOUT.commitLogLba),
    "group commit wrote the log",
  );
});

Deno.test("kv flushes and group commits write sequentially", () => {
  const { driver, result } = run(params({ readProportion: 0.2 }));
  assert.ok(
    result.stats.flushes >= 3 && result.stats.commitLogWrites >= 20,
    JSON.stringify(result.stats),
  );
  for (
    const [lba, sectors] of [[LAYOUT.sstableLba, LAYOUT.sstableSectors], [
      LAYOUT.commitLogLba,
      LAYOUT.commitLogSectors,
    ]]
  ) {
    const w = driver.log.filter((r) => r.op === "write" && r.lba >= lba && r.lba < lba + sectors)
      .sort((a, b) => a.start - b.start);
    for (let i = 1; i < w.length; i++) {
      const wrapped = w[i].lba === lba; // the commit log recycles its segments
      assert.ok(wrapped || w[i].lba >= w[i - 1].lba + w[i - 1].count, "appends only");
    }
  }
});

Deno.test("kv throughput rows sample every interval and average to the overall rate", () => {
  const { result } = run(params());
  assert.equal(result.rows.length, 10);
  result.rows.forEach((r, k) => assert.ok(Math.abs(r.timeS - 0.05 * (k + 1)) < 1e-9));
  const mean = result.rows.reduce((s, r) => s + r.opsPerS, 0) / result.rows.length;
  assert.ok(Math.abs(mean - result.opsPerS) / result.opsPerS < 0.01);
});

Deno.test("an operation completing on a window boundary counts in the window it closes, the run's last one too", () => {
  // Where the run's operations end does not depend on the windows: pick one's end as the width.
  const { history } = run(params());
  const e = history[Math.floor(history.length / 3)].end;
  const endsBy = (t: number) => history.filter((o) => o.end <= t).length;
  const { result } = run(params({ sampleEveryNs: e, durationNs: 2 * e }));
  assert.deepEqual(result.rows.map((r) => r.ops), [endsBy(e), endsBy(2 * e) - endsBy(e)]);
  const last = run(params({ sampleEveryNs: e, durationNs: e })).result;
  assert.equal(last.ops, endsBy(e), "an operation ending at the run's end is in the run");
  assert.equal(last.rows[0].ops, last.ops, "and in its last window");
});

Deno.test("a duration that is not a multiple of the window ends with a shorter window", () => {
  const { result } = run(params({ durationNs: 500_000_000, sampleEveryNs: 150_000_000 }));
  assert.deepEqual(result.rows.map((r) => r.timeS), [0.15, 0.3, 0.45, 0.5]);
  assert.equal(result.rows.reduce((n, r) => n + r.ops, 0), result.ops);
  const last = result.rows[3];
  assert.ok(last.ops > 0 && Math.abs(last.opsPerS - last.ops / 0.05) < 1e-6, String(last.opsPerS));
});

Deno.test("kv run is deterministic for a seed", () => {
  const a = run(params(), { seed: 9 }).result;
  const b = run(params(), { seed: 9 }).result;
  const c = run(params(), { seed: 10 }).result;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.stats, c.stats);
});

Deno.test("two stores in one simulation draw their own requests when their random streams are named apart", () => {
  const keys = (prefixes: string[]) => {
    const sim = new Simulation({ seed: 4 });
    const seen = prefixes.map(() => [] as number[]);
    prefixes.forEach((rngStream, i) => {
      const driver = new FakeDriver(sim, { sectors: 1 << 22, latency: 200_000, bandwidth: 200e6 });
      const cpus = new GuestCpus(sim, { cpu: fakeCpu(0), cores: 4 });
      runKvWorkload(driver, cpus, {
        ...params({ threads: 1, durationNs: 50_000_000, sampleEveryNs: 50_000_000 }),
        rngStream,
        observe: (o) => seen[i].push(o.key),
      });
    });
    sim.run();
    return seen;
  };
  const [a, b] = keys(["kv:node0", "kv:node1"]);
  const [alone] = keys(["kv:node0"]);
  assert.deepEqual(a, alone, "the other store does not change this one's requests");
  assert.notDeepEqual(a.slice(0, 20), b.slice(0, 20));
  // One shared stream: the stores take turns drawing, so each sees other keys than alone.
  const [s0] = keys(["kv", "kv"]);
  assert.notDeepEqual(s0, keys(["kv"])[0]);
});

Deno.test("kv target throughput caps the rate (YCSB -target)", () => {
  const { result, history } = run(params({ targetOpsPerS: 20_000, pageCacheBytes: 64 * MiB }));
  assert.ok(Math.abs(result.opsPerS - 20_000) / 20_000 < 0.02, String(result.opsPerS));
  // YCSB throttles after an operation: each of the 8 clients starts its first at once.
  assert.deepEqual(history.slice(0, 8).map((o) => o.start), Array(8).fill(0));
});

Deno.test("batch commit-log sync makes updates wait for the group commit", () => {
  const periodic = run(params({ readProportion: 0 })).result.updateLatency;
  const batch =
    run(params({ readProportion: 0, commitLog: { sync: "batch", periodNs: 2_000_000 } })).result
      .updateLatency;
  assert.ok(batch > periodic + 1_000_000, `${batch} vs ${periodic}`);
});

Deno.test("bad kv parameters are rejected, naming the field", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 22 });
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(), cores: 1 });
  assert.throws(
    () => runKvWorkload(driver, cpus, params({ readProportion: 1.5 })),
    (e: Error) =>
      e instanceof RangeError && /'readProportion'/.test(e.message) &&
      /current value is 1.5/.test(e.message),
  );
  assert.throws(
    () => runKvWorkload(driver, cpus, params({ layout: { ...LAYOUT, sstableLba: 8196 } })),
    /'layout\.dataLba' region overlaps.*'layout\.sstableLba' must be a multiple of 8/,
  );
  assert.throws(() => runKvWorkload(driver, cpus, params({ threads: 0 })), /'threads'/);
  assert.throws(
    () => new KvStore(driver, cpus, { ...storeParams(), threads: 4 } as KvStoreParams),
    /'threads' is not a known parameter/,
  );
  assert.throws(
    () => new KvStore(driver, cpus, { ...storeParams(), records: 10 }).read(10).next(),
    /'key' must be an integer in \[0, 10\)/,
  );
  assert.throws(() => new GuestCpus(sim, { cpu: fakeCpu(), cores: 0 }), /'cores'/);
});

Deno.test("a run's window count and record count are bounded, with errors naming the field", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 22 });
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(), cores: 1 });
  // One counter per window: 10^15 windows would be a bare 'Invalid array length'.
  assert.throws(
    () => runKvWorkload(driver, cpus, params({ durationNs: 1e15, sampleEveryNs: 1 })),
    (e: Error) =>
      e instanceof RangeError &&
      e.message.includes(
        "'sampleEveryNs' must split durationNs (1000000000000000) into at most 1000000 windows, not 1000000000000000: current value is 1",
      ),
  );
  assert.doesNotThrow(() =>
    runKvWorkload(driver, cpus, params({ durationNs: 1e6, sampleEveryNs: 1 }))
  );
  // The key scrambling stays exact in doubles up to 2^34 records.
  assert.throws(
    () => runKvWorkload(driver, cpus, params({ records: 2 ** 34 + 1 })),
    (e: Error) =>
      e instanceof RangeError &&
      /'records' .*17179869184.*current value is 17179869185/.test(e.message),
  );
});
