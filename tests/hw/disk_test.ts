import assert from "node:assert/strict";
import fc from "fast-check";
import { IMAGE_VERSION, NS_PER_S, VersionMap } from "../../lib/_util/mod.ts";
import {
  type ProcessGenerator,
  RandomStream,
  type SimEvent,
  Simulation,
} from "../../lib/sim/mod.ts";
import { TEST_HDD } from "./_fixtures.ts";
import {
  type BlockDevice,
  type DiskCommand,
  type DiskResult,
  Hdd,
  type HddOptions,
  SECTOR_SIZE,
  Ssd,
  type SsdOptions,
} from "../../lib/hw/disk/mod.ts";

const SSD: SsdOptions = {
  sectors: 1 << 24,
  readLatency: 80_000,
  writeLatency: 40_000,
  channels: 8,
  readBandwidth: 540e6,
  writeBandwidth: 480e6,
};

const MiB = 1 << 20;

/** Runs `body` as a process to completion and returns the simulation. */
function run(sim: Simulation, body: () => ProcessGenerator<void>): void {
  const p = sim.process(body);
  sim.run();
  assert.ok(p.ok, "test process finished");
}

function* io(disk: BlockDevice, cmd: DiskCommand): ProcessGenerator<DiskResult> {
  return (yield disk.submit(cmd)) as DiskResult;
}

function sequentialRead(lba: number, bytes: number): { elapsed: number; disk: Hdd } {
  const sim = new Simulation();
  const disk = new Hdd(sim, { ...TEST_HDD, deterministic: true });
  const per = MiB / SECTOR_SIZE;
  run(sim, function* () {
    for (let done = 0; done < bytes / SECTOR_SIZE; done += per) {
      const r = yield* io(disk, { op: "read", lba: lba + done, count: per });
      assert.ok(r.ok);
    }
  });
  return { elapsed: sim.now, disk };
}

Deno.test("a long sequential read streams at the zoned media rate of its LBA", () => {
  const bytes = 128 * MiB;
  const outer = sequentialRead(0, bytes);
  const expectOuter = (bytes / outer.disk.mediaRate(0)) * NS_PER_S;
  assert.ok(Math.abs(outer.elapsed / expectOuter - 1) < 0.03, `${outer.elapsed} vs ${expectOuter}`);
  assert.equal(outer.disk.stats().sequentialHits, 127);

  const innerLba = TEST_HDD.sectors - bytes / SECTOR_SIZE;
  const inner = sequentialRead(innerLba, bytes);
  const expectInner = (bytes / inner.disk.mediaRate(innerLba)) * NS_PER_S;
  assert.ok(Math.abs(inner.elapsed / expectInner - 1) < 0.03, `${inner.elapsed} vs ${expectInner}`);
  assert.ok(inner.elapsed > 1.9 * outer.elapsed, "inner zone is about half as fast");
});

Deno.test("random 4 KiB reads average average-seek + half a revolution + transfer", () => {
  const sim = new Simulation({ seed: 3 });
  const disk = new Hdd(sim, TEST_HDD);
  const pick = sim.rng.stream("test:lba");
  const n = 4000;
  let sum = 0;
  run(sim, function* () {
    for (let i = 0; i < n; i++) {
      const r = yield* io(disk, { op: "read", lba: pick.int(TEST_HDD.sectors - 8), count: 8 });
      sum += r.serviceTime;
    }
  });
  const transfer = (4096 / disk.mediaRate(TEST_HDD.sectors / 2)) * NS_PER_S;
  const expected = TEST_HDD.commandOverhead + TEST_HDD.averageSeek + disk.revolution / 2 + transfer;
  const mean = sum / n;
  assert.ok(Math.abs(mean / expected - 1) < 0.03, `mean ${mean} vs ${expected}`);
  const st = disk.stats();
  assert.equal(st.seeks, n);
  assert.ok(Math.abs(st.rotationTime / n / (disk.revolution / 2) - 1) < 0.05);
});

Deno.test("seek time grows with distance from track-to-track to full stroke", () => {
  const disk = new Hdd(new Simulation(), TEST_HDD);
  const track = Math.ceil(disk.sectorsPerTrack(0));
  assert.equal(disk.seekTime(track - 1), 0, "within a track: no seek");
  assert.ok(Math.abs(disk.seekTime(track) - TEST_HDD.trackToTrackSeek) < 20_000);
  assert.equal(disk.seekTime(TEST_HDD.sectors), TEST_HDD.fullStrokeSeek);
  let prev = 0;
  for (let d = track; d <= TEST_HDD.sectors; d *= 4) {
    const t = disk.seekTime(d);
    assert.ok(t > prev, `seek(${d}) = ${t} > ${prev}`);
    prev = t;
  }
  // The measured service time follows the same order.
  const times: number[] = [];
  for (const lba of [1_000_000, 100_000_000, 900_000_000]) {
    const sim = new Simulation();
    const d = new Hdd(sim, { ...TEST_HDD, deterministic: true });
    run(sim, function* () {
      times.push((yield* io(d, { op: "read", lba, count: 8 })).serviceTime);
    });
  }
  assert.ok(times[0] < times[1] && times[1] < times[2], times.join());
});

Deno.test("back-to-back sequential commands pay no positioning", () => {
  const sim = new Simulation();
  const disk = new Hdd(sim, { ...TEST_HDD, deterministic: true, sequentialWindow: 64 });
  const lba = 5_000_000;
  run(sim, function* () {
    const first = yield* io(disk, { op: "read", lba, count: 256 });
    assert.ok(first.serviceTime > disk.revolution / 2);
    const next = yield* io(disk, { op: "read", lba: lba + 256, count: 256 });
    assert.equal(next.serviceTime, TEST_HDD.commandOverhead + disk.mediaTime(lba + 256, 256));
    // A small forward gap streams over the skipped sectors.
    const gap = yield* io(disk, { op: "read", lba: lba + 512 + 32, count: 8 });
    assert.equal(
      gap.serviceTime,
      TEST_HDD.commandOverhead + disk.mediaTime(lba + 512, 32) + disk.mediaTime(lba + 544, 8),
    );
    // Beyond the window: a rotation (same track: no seek).
    const far = yield* io(disk, { op: "read", lba: lba + 552 + 200, count: 8 });
    assert.equal(
      far.serviceTime,
      TEST_HDD.commandOverhead + Math.round(disk.revolution / 2) + disk.mediaTime(lba + 752, 8),
    );
  });
  const st = disk.stats();
  assert.equal(st.sequentialHits, 2);
  assert.equal(st.seeks, 1, "only the first access seeks");
});

Deno.test("writes acknowledge at interface speed until the cache fills; flush waits for destage", () => {
  const sim = new Simulation({ seed: 5 });
  const cacheBytes = MiB;
  const disk = new Hdd(sim, {
    ...TEST_HDD,
    writeCacheBytes: cacheBytes,
    destageChunkBytes: cacheBytes,
  });
  const size = 64 * 1024;
  const n = size / SECTOR_SIZE;
  const fast = TEST_HDD.commandOverhead + Math.ceil((size / TEST_HDD.interfaceRate) * NS_PER_S);
  run(sim, function* () {
    for (let i = 0; i < cacheBytes / size; i++) {
      const r = yield* io(disk, {
        op: "write",
        lba: i * 10_000_000,
        versions: new Array(n).fill(i),
      });
      assert.equal(r.serviceTime, fast, `write ${i} absorbed by the cache`);
    }
    assert.equal(disk.dirtySectors, cacheBytes / SECTOR_SIZE);
    const slow = yield* io(disk, { op: "write", lba: 999_000, versions: new Array(n).fill(99) });
    assert.ok(slow.serviceTime > fast + TEST_HDD.trackToTrackSeek, "a full cache destages first");
    const before = disk.stats().destagedBytes;
    assert.ok(before >= size);
    const flush = yield* io(disk, { op: "flush" });
    assert.equal(disk.dirtySectors, 0);
    const destaged = disk.stats().destagedBytes - before;
    assert.equal(destaged, cacheBytes + size - before);
    // Every destaged 64 KiB extent needs at least a seek-free transfer plus a rotation draw.
    assert.ok(flush.serviceTime > (destaged / size) * disk.mediaTime(0, n), `${flush.serviceTime}`);
    const fua = yield* io(disk, { op: "write", lba: 123_456, versions: [1], fua: true });
    assert.ok(fua.serviceTime > fast, "FUA goes to the media");
  });
  assert.equal(disk.stats().cacheWrites, cacheBytes / size + 1);
});

Deno.test("the write cache drains in the background once the host is idle", () => {
  const sim = new Simulation();
  const disk = new Hdd(sim, { ...TEST_HDD, destageIdleDelay: 5_000_000 });
  run(sim, function* () {
    yield* io(disk, { op: "write", lba: 100, versions: new Array(2048).fill(4) });
    assert.equal(disk.dirtySectors, 2048);
    assert.ok(disk.isIdle);
    assert.equal(disk.idleSince, sim.now);
    yield sim.timeout(4_000_000);
    assert.equal(disk.dirtySectors, 2048, "waits for the idle delay");
  });
  assert.equal(disk.dirtySectors, 0);
  assert.equal(disk.stats().destagedBytes, 2048 * SECTOR_SIZE);
  assert.equal(disk.content.get(2147), 4);
});

Deno.test("written versions are read back, from the cache and from the media", () => {
  const sim = new Simulation();
  const disk = new Hdd(sim, { ...TEST_HDD, initialVersion: IMAGE_VERSION });
  run(sim, function* () {
    const versions = [5, 6, 7, 8];
    yield* io(disk, { op: "write", lba: 1000, versions });
    const cached = yield* io(disk, { op: "read", lba: 1000, count: 4 });
    assert.deepEqual([...cached.versions!], versions);
    assert.equal(disk.stats().cacheReadHits, 1);
    const mixed = yield* io(disk, { op: "read", lba: 998, count: 8 });
    assert.deepEqual([...mixed.versions!], [0, 0, 5, 6, 7, 8, 0, 0]);
    yield* io(disk, { op: "flush" });
    const media = yield* io(disk, { op: "read", lba: 1000, count: 4 });
    assert.deepEqual([...media.versions!], versions);
  });
  assert.equal(disk.stats().cacheReadHits, 1);
});

Deno.test("an existing version map is the disk's content", () => {
  const map = new VersionMap(1 << 20, IMAGE_VERSION);
  map.fill(10, 2, 3);
  const sim = new Simulation();
  const disk = new Hdd(sim, { ...TEST_HDD, sectors: 1 << 20, content: map });
  const ev = disk.submit({ op: "read", lba: 9, count: 4 });
  sim.run();
  assert.deepEqual([...ev.value.versions!], [0, 3, 3, 0]);
  assert.equal(disk.content, map);
});

Deno.test("an out-of-range LBA completes with idnf and a malformed command with abrt", () => {
  for (
    const disk of [(s: Simulation) => new Hdd(s, TEST_HDD), (s: Simulation) => new Ssd(s, SSD)]
  ) {
    const sim = new Simulation();
    const d = disk(sim);
    const evs = [
      d.submit({ op: "read", lba: d.sectors - 4, count: 8 }),
      d.submit({ op: "write", lba: -1, versions: [1] }),
      d.submit({ op: "read", lba: 1.5, count: 1 }),
      d.submit({ op: "read", lba: 0, count: 0 }),
      d.submit({ op: "write", lba: 0, versions: [] }),
    ];
    sim.run();
    assert.deepEqual(evs.map((e) => e.value.error), ["idnf", "idnf", "idnf", "abrt", "abrt"]);
    assert.ok(evs.every((e) => e.value.ok === false));
    assert.equal(d.outstanding, 0);
  }
});

Deno.test("commands beyond the queue depth are aborted and counted", () => {
  const sim = new Simulation();
  const disk = new Hdd(sim, TEST_HDD);
  const evs: SimEvent<DiskResult>[] = [];
  for (let i = 0; i < 33; i++) evs.push(disk.submit({ op: "read", lba: i * 1000, count: 1 }));
  assert.equal(disk.outstanding, 33);
  sim.run();
  assert.equal(evs.filter((e) => e.value.ok).length, 32);
  assert.equal(evs[32].value.error, "abrt");
  assert.equal(disk.stats().overflows, 1);
});

/** Mean rotational latency of `n` accesses, in revolutions. */
function meanRotation(disk: Hdd, n: number): number {
  return disk.stats().rotationTime / n / disk.revolution;
}

/**
 * `n` random 4 KiB reads over the first `span` sectors (the whole disk by
 * default), kept `qd` deep (closed loop); returns the disk and the submission
 * index of each read in completion order.
 */
function randomReads(o: Partial<HddOptions>, qd: number, span = TEST_HDD.sectors, n = 2000) {
  const sim = new Simulation({ seed: 9 });
  const disk = new Hdd(sim, { ...TEST_HDD, ...o });
  const pick = sim.rng.stream("test:lba");
  const order: number[] = [];
  let next = 0;
  function* worker(): ProcessGenerator<void> {
    while (next < n) {
      const id = next++;
      const r = yield* io(disk, { op: "read", lba: 8 * pick.int(span / 8 - 1), count: 8 });
      assert.ok(r.ok);
      order.push(id);
    }
  }
  const ws = Array.from({ length: qd }, () => sim.process(worker()));
  sim.run(sim.allOf(ws));
  return { disk, order, iops: n / (sim.now / NS_PER_S), rev: meanRotation(disk, n) };
}

Deno.test("FIFO (sptfWindow 0 or 1) serves in arrival order, one rotation draw per access", () => {
  const fifo = randomReads({}, 32);
  assert.deepEqual(fifo.order, fifo.order.toSorted((a, b) => a - b));
  // Each access takes the next draw of the disk's stream, whatever the queue
  // depth: reordering must not shift FIFO's draws (the paper runs are FIFO).
  const draws = new RandomStream(9, "hdd:hdd");
  let rot = 0;
  for (let i = 0; i < 2000; i++) rot += Math.round(draws.uniform(0, fifo.disk.revolution));
  assert.equal(fifo.disk.stats().rotationTime, rot);
  assert.deepEqual(randomReads({ sptfWindow: 1 }, 32).disk.stats(), fifo.disk.stats());
  // No reordering, so queueing gains nothing.
  assert.ok(Math.abs(fifo.iops / randomReads({}, 1).iops - 1) < 0.01);
});

Deno.test("SPTF over the 32-deep queue gives random 4 KiB reads >= 1.4x FIFO's IOPS, saving rotation as well as seek", () => {
  // Over the whole disk and over 2 GB, where seeks are short and rotation
  // dominates (a seek-only pick gains little there).
  for (const span of [TEST_HDD.sectors, 4_000_000]) {
    const fifo = randomReads({}, 32, span), sptf = randomReads({ sptfWindow: 32 }, 32, span);
    assert.ok(sptf.iops >= 1.4 * fifo.iops, `sptf ${sptf.iops} vs fifo ${fifo.iops} IOPS`);
    // FIFO waits half a revolution on average; picking the least of many
    // independent rotations waits far less.
    assert.ok(Math.abs(fifo.rev - 0.5) < 0.02, `fifo ${fifo.rev} rev`);
    assert.ok(sptf.rev < 0.3, `sptf ${sptf.rev} rev`);
  }
});

Deno.test("SPTF passes a command over at most sptfWindow times", () => {
  for (const sptfWindow of [4, 32]) {
    const { order } = randomReads({ sptfWindow }, 32);
    // Younger commands served before each one (service is one at a time).
    let most = 0;
    order.forEach((id, k) => {
      most = Math.max(most, order.slice(0, k).filter((other) => other > id).length);
    });
    assert.equal(most, sptfWindow);
  }
});

Deno.test("SPTF with deterministic rotation still saves seek time", () => {
  function total(sptfWindow: number): number {
    const sim = new Simulation({ seed: 9 });
    const disk = new Hdd(sim, { ...TEST_HDD, deterministic: true, sptfWindow });
    const pick = sim.rng.stream("test:lba");
    const evs: SimEvent<DiskResult>[] = [];
    for (let i = 0; i < 32; i++) {
      evs.push(disk.submit({ op: "read", lba: pick.int(TEST_HDD.sectors - 8), count: 8 }));
    }
    sim.run();
    assert.ok(evs.every((e) => e.value.ok));
    assert.equal(disk.stats().rotationTime, 32 * Math.round(disk.revolution / 2));
    return sim.now;
  }
  const fifo = total(0), sptf = total(32);
  assert.ok(sptf < 0.8 * fifo, `sptf ${sptf} vs fifo ${fifo}`);
});

Deno.test("destaging picks among the oldest sptfWindow dirty extents by seek + rotation too", () => {
  function destage(sptfWindow: number): { seek: number; rev: number } {
    const sim = new Simulation({ seed: 5 });
    const disk = new Hdd(sim, { ...TEST_HDD, sptfWindow });
    const pick = sim.rng.stream("test:lba");
    run(sim, function* () {
      for (let i = 0; i < 512; i++) {
        yield* io(disk, { op: "write", lba: pick.int(TEST_HDD.sectors - 8), versions: [1] });
      }
    });
    const s = disk.stats();
    assert.equal(s.seeks, 512);
    return { seek: s.seekTime / 512, rev: meanRotation(disk, 512) };
  }
  const fifo = destage(0), sptf = destage(32);
  assert.ok(sptf.seek < 0.8 * fifo.seek, `seek ${sptf.seek} vs ${fifo.seek} ns`);
  assert.ok(fifo.rev > 0.45 && sptf.rev < 0.3, `rotation ${sptf.rev} vs ${fifo.rev} rev`);
});

Deno.test("the idle signal reports when the last command completed", () => {
  const sim = new Simulation();
  const disk = new Hdd(sim, { ...TEST_HDD, deterministic: true });
  assert.ok(disk.isIdle);
  const seen: number[] = [];
  sim.call(1000, () => {
    const ev = disk.submit({ op: "read", lba: 0, count: 8 });
    assert.ok(!disk.isIdle && Number.isNaN(disk.idleSince));
    disk.whenIdle().then(() => seen.push(sim.now));
    ev.then(() => seen.push(sim.now));
  });
  sim.run();
  assert.equal(seen.length, 2);
  assert.equal(seen[0], seen[1]);
  assert.equal(disk.idleSince, seen[0]);
  assert.equal(disk.stats().busyTime, seen[0] - 1000);
});

Deno.test("bad TEST_HDD and SSD options give a RangeError naming the field", () => {
  const sim = new Simulation();
  const cases: [Partial<HddOptions>, RegExp][] = [
    [{ sectors: -1 }, /'sectors' must be an integer > 0: current value is -1/],
    [{ rpm: 0 }, /'rpm' must be a finite number > 0/],
    [{ averageSeek: 16_000_000 }, /'averageSeek' must be within \[\d+, \d+\] ns/],
    [{ fullStrokeSeek: 500_000 }, /'fullStrokeSeek' must be >= trackToTrackSeek/],
    [{ outerRate: NaN }, /'outerRate'/],
    [{ innerRate: 200e6 }, /'innerRate' must be <= outerRate \(\d+\): current value is 200000000/],
    [{ writeCacheBytes: 1.5 }, /'writeCacheBytes'/],
    [{ sptfWindow: -2 }, /'sptfWindow'/],
    [{ content: new VersionMap(8) }, /'content' must be a VersionMap of 976773168 blocks/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(() => new Hdd(sim, { ...TEST_HDD, ...bad }), { name: "RangeError", message });
  }
  assert.throws(() => new Ssd(sim, { ...SSD, channels: 0 }), {
    name: "RangeError",
    message: /Cannot create SSD 'ssd': 'channels' must be an integer > 0: current value is 0/,
  });
  assert.throws(() => new Ssd(sim, { ...SSD, readBandwidth: -1 }), /'readBandwidth'/);
});

Deno.test("an SSD read at queue depth 1 takes its latency plus the transfer", () => {
  const sim = new Simulation();
  const ssd = new Ssd(sim, SSD);
  run(sim, function* () {
    const r = yield* io(ssd, { op: "read", lba: 0, count: 8 });
    assert.equal(r.serviceTime, SSD.readLatency + Math.ceil((4096 / SSD.readBandwidth) * NS_PER_S));
    const w = yield* io(ssd, { op: "write", lba: 0, versions: new Array(8).fill(1) });
    assert.equal(
      w.serviceTime,
      SSD.writeLatency + Math.ceil((4096 / SSD.writeBandwidth) * NS_PER_S),
    );
  });
});

Deno.test("SSD channels overlap latencies and deep queues reach the sustained bandwidth", () => {
  function burst(channels: number): number {
    const sim = new Simulation();
    const ssd = new Ssd(sim, { ...SSD, channels });
    for (let i = 0; i < 8; i++) ssd.submit({ op: "read", lba: i * 8, count: 8 });
    sim.run();
    return sim.now;
  }
  assert.ok(burst(8) < 1.2 * (SSD.readLatency + 8 * 4096 / SSD.readBandwidth * NS_PER_S));
  assert.ok(burst(1) >= 8 * SSD.readLatency);

  const sim = new Simulation();
  const ssd = new Ssd(sim, SSD);
  const size = 128 * 1024;
  const total = 256 * MiB;
  let issued = 0;
  function issue(): void {
    if (issued >= total) return;
    const lba = issued / SECTOR_SIZE;
    issued += size;
    ssd.submit({ op: "read", lba, count: size / SECTOR_SIZE }).then(issue);
  }
  for (let i = 0; i < 32; i++) issue();
  sim.run();
  const rate = total / (sim.now / NS_PER_S);
  assert.ok(Math.abs(rate / SSD.readBandwidth - 1) < 0.02, `${rate}`);
  assert.equal(ssd.stats().bytesRead, total);
  assert.ok(ssd.isIdle);
});

Deno.test("SSD flush completes after every earlier command", () => {
  const sim = new Simulation();
  const ssd = new Ssd(sim, { ...SSD, channels: 1, flushLatency: 1000 });
  const w = ssd.submit({ op: "write", lba: 0, versions: new Array(64).fill(2) });
  const f = ssd.submit({ op: "flush" });
  let wDone = 0;
  w.then(() => (wDone = sim.now));
  sim.run();
  assert.ok(f.value.ok && wDone > 0);
  assert.equal(f.value.serviceTime, wDone + 1000);
});

// ---------------------------------------------------------------------------
// Property: any interleaving of reads, writes and flushes returns, for every
// sector, the version of the latest write submitted before the read.

type Op = { kind: "read" | "write" | "fua" | "flush"; lba: number; count: number; gap: number };
const SMALL = 4096;
const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom("read", "read", "write", "write", "fua", "flush"),
  lba: fc.integer({ min: 0, max: SMALL - 1 }),
  count: fc.integer({ min: 1, max: 96 }),
  gap: fc.constantFrom(0, 0, 0, 50_000, 3_000_000),
}).map((o) => ({ ...o, count: Math.min(o.count, SMALL - o.lba) }));

function checkLatestVersion(make: (sim: Simulation) => BlockDevice, ops: Op[]): void {
  const sim = new Simulation({ seed: 11 });
  const disk = make(sim);
  const model = new VersionMap(SMALL, IMAGE_VERSION);
  const checks: { ev: SimEvent<DiskResult>; expect: Int32Array }[] = [];
  let next = 1;
  sim.process(function* () {
    for (const op of ops) {
      if (op.gap > 0) yield sim.timeout(op.gap);
      if (op.kind === "read") {
        const ev = disk.submit({ op: "read", lba: op.lba, count: op.count });
        checks.push({ ev, expect: model.read(op.lba, op.count) });
      } else if (op.kind === "flush") {
        checks.push({ ev: disk.submit({ op: "flush" }), expect: new Int32Array(0) });
      } else {
        const versions = new Array(op.count).fill(next++);
        model.set(op.lba, versions);
        const ev = disk.submit({ op: "write", lba: op.lba, versions, fua: op.kind === "fua" });
        versions.fill(-7); // the disk must have copied the buffer
        checks.push({ ev, expect: new Int32Array(0) });
      }
      // Keep within the queue depth, as a host does.
      if (disk.outstanding >= disk.queueDepth) yield checks[checks.length - 1].ev;
    }
  });
  sim.run();
  for (const { ev, expect } of checks) {
    assert.ok(ev.processed && ev.value.ok);
    if (expect.length > 0) assert.deepEqual(ev.value.versions, expect);
  }
  assert.ok(disk.content.equals(model));
  assert.equal(disk.outstanding, 0);
}

const SMALL_HDD: HddOptions = {
  ...TEST_HDD,
  sectors: SMALL,
  initialVersion: IMAGE_VERSION,
  writeCacheBytes: 64 * SECTOR_SIZE,
  destageChunkBytes: 16 * SECTOR_SIZE,
};

Deno.test("property: reads return the latest written version per sector (TEST_HDD, FIFO and SPTF)", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 80 }), fc.constantFrom(0, 8, 32), (ops, sptf) => {
      checkLatestVersion((sim) => new Hdd(sim, { ...SMALL_HDD, sptfWindow: sptf }), ops);
    }),
    { numRuns: 150 },
  );
});

Deno.test("property: reads return the latest written version per sector (SSD)", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
      checkLatestVersion(
        (sim) => new Ssd(sim, { ...SSD, sectors: SMALL, initialVersion: IMAGE_VERSION }),
        ops,
      );
    }),
    { numRuns: 100 },
  );
});

function sequentialWrite(
  options: Partial<HddOptions>,
  lba: number,
  bytes: number,
): { elapsed: number; disk: Hdd; commands: number } {
  const sim = new Simulation({ seed: 3 });
  const disk = new Hdd(sim, { ...TEST_HDD, ...options });
  const per = (512 * 1024) / SECTOR_SIZE;
  const versions = new Int32Array(per).fill(IMAGE_VERSION);
  let elapsed = 0;
  run(sim, function* () {
    for (let done = 0; done < bytes / SECTOR_SIZE; done += per) {
      const r = yield* io(disk, { op: "write", lba: lba + done, versions });
      assert.ok(r.ok);
    }
    elapsed = sim.now;
  });
  return { elapsed, disk, commands: bytes / SECTOR_SIZE / per };
}

Deno.test("a long sequential write streams through the write cache at the media rate less the per-command overhead", () => {
  const bytes = 1 << 30;
  for (const [lba, commandOverhead] of [[0, 100_000], [0, 300_000], [600_000_000, 300_000]]) {
    const { elapsed, disk, commands } = sequentialWrite({ commandOverhead }, lba, bytes);
    // Destaging streams on while the host transfers into the cache, so each
    // 512 KiB command costs its media time plus its overhead, not also its
    // interface transfer (which would cap the stream near 85 MB/s).
    const expected = disk.mediaTime(lba, bytes / SECTOR_SIZE) + commands * commandOverhead;
    assert.ok(Math.abs(elapsed / expected - 1) < 0.03, `${elapsed} vs ${expected}`);
    const mbps = bytes / (elapsed / NS_PER_S) / 1e6;
    assert.ok(mbps < disk.mediaRate(lba) / 1e6, `${mbps} MB/s beats the media`);
    assert.ok(disk.dirtySectors <= TEST_HDD.writeCacheBytes / SECTOR_SIZE);
    assert.equal(disk.stats().seeks, lba === 0 ? 0 : 1, "the destage stream never seeks");
  }
});

Deno.test("a read amid a write stream waits behind at most one destage chunk", () => {
  const sim = new Simulation({ seed: 4 });
  const disk = new Hdd(sim, { ...TEST_HDD, destageIdleDelay: 1e9 });
  const per = 1024;
  run(sim, function* () {
    for (let i = 0; i < 64; i++) {
      yield* io(disk, { op: "write", lba: i * per, versions: new Int32Array(per).fill(i) });
    }
    assert.ok(disk.stats().destagedBytes > 0, "the full cache destages while the host is busy");
    const r = yield* io(disk, { op: "read", lba: 500_000_000, count: 8 });
    const chunk = disk.mediaTime(0, 262_144 / SECTOR_SIZE);
    const bound = TEST_HDD.commandOverhead + chunk + TEST_HDD.fullStrokeSeek + disk.revolution +
      disk.mediaTime(500_000_000, 8);
    assert.ok(r.serviceTime <= bound, `${r.serviceTime} > ${bound}`);
    // Between writes destaging stops after its chunk and waits for the idle delay.
    const dirty = disk.dirtySectors;
    assert.ok(TEST_HDD.writeCacheBytes / SECTOR_SIZE - dirty < per + 262_144 / SECTOR_SIZE);
    yield sim.timeout(100_000_000);
    assert.equal(disk.dirtySectors, dirty);
  });
});

Deno.test("a media write after a pause waits for its sector to come round; back-to-back writes and reads after a pause stream on", () => {
  const sim = new Simulation();
  const disk = new Hdd(sim, { ...TEST_HDD, writeCache: false, deterministic: true });
  const lba = 1000;
  const versions = new Array(8).fill(1);
  const think = 1_000_000;
  const paused: number[] = [];
  const streamed: number[] = [];
  const reads: number[] = [];
  run(sim, function* () {
    yield* io(disk, { op: "write", lba, versions }); // seeks and rotates: the stream's start
    for (let i = 1; i <= 3; i++) {
      yield sim.timeout(think);
      paused.push((yield* io(disk, { op: "write", lba: lba + 8 * i, versions })).serviceTime);
    }
    for (let i = 4; i <= 6; i++) {
      streamed.push((yield* io(disk, { op: "write", lba: lba + 8 * i, versions })).serviceTime);
    }
    for (let i = 7; i <= 8; i++) {
      yield sim.timeout(think);
      reads.push((yield* io(disk, { op: "read", lba: lba + 8 * i, count: 8 })).serviceTime);
    }
  });
  // The platter turned for the think time since the last write left the head
  // at this sector: about one revolution less the pause (the missed revolution).
  const transfer = disk.mediaTime(lba, 8);
  const missed = TEST_HDD.commandOverhead + Math.round(disk.revolution - think) + transfer;
  assert.deepEqual(paused, [missed, missed, missed]);
  const stream = TEST_HDD.commandOverhead + transfer;
  assert.deepEqual(streamed, [stream, stream, stream]);
  assert.deepEqual(reads, [stream, stream], "the track buffer covers reads");
  const st = disk.stats();
  assert.equal(st.sequentialHits, 5, "only the back-to-back writes and the reads stream on");
  assert.equal(
    st.rotationTime,
    Math.round(disk.revolution / 2) + 3 * Math.round(disk.revolution - think),
  );
});

Deno.test("a FUA write after a pause misses its sector; write-back-cached writes do not", () => {
  const sim = new Simulation();
  const disk = new Hdd(sim, { ...TEST_HDD, deterministic: true });
  const lba = 1000;
  const versions = new Array(8).fill(1);
  let fua = 0, cached = 0;
  run(sim, function* () {
    yield* io(disk, { op: "write", lba, versions, fua: true });
    yield sim.timeout(1_000_000);
    fua = (yield* io(disk, { op: "write", lba: lba + 8, versions, fua: true })).serviceTime;
    yield sim.timeout(1_000_000);
    cached = (yield* io(disk, { op: "write", lba: lba + 16, versions })).serviceTime;
  });
  assert.equal(
    fua,
    TEST_HDD.commandOverhead + Math.round(disk.revolution - 1_000_000) + disk.mediaTime(lba, 8),
  );
  assert.equal(
    cached,
    TEST_HDD.commandOverhead + Math.ceil((4096 / TEST_HDD.interfaceRate) * NS_PER_S),
  );
});
