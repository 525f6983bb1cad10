import assert from "node:assert/strict";
import fc from "fast-check";
import { Recorder, Simulation } from "../../lib/sim/mod.ts";
import {
  type BootParams,
  type BootTraceOp,
  generateBootTrace,
  GuestCpus,
  parseBootTrace,
  runBoot,
} from "../../lib/workload/mod.ts";
import { fakeCpu, FakeDriver } from "../../lib/workload/_test_utils.ts";

const KiB = 1024, MiB = 1 << 20;

function params(over: Partial<BootParams> = {}): BootParams {
  return {
    readBytes: 200 * MiB,
    readRequests: 6000,
    sizes: [{ bytes: 4 * KiB, weight: 5 }, { bytes: 16 * KiB, weight: 3 }, {
      bytes: 128 * KiB,
      weight: 2,
    }],
    sequentialFraction: 0.5,
    regions: [
      { name: "/boot", lba: 2048, sectors: 200_000, weight: 1 },
      { name: "/lib", lba: 400_000, sectors: 1_000_000, weight: 2 },
      { name: "/usr", lba: 2_000_000, sectors: 8_000_000, weight: 4 },
    ],
    writes: { requests: 50, bytes: 2 * MiB, lba: 12_000_000, sectors: 100_000 },
    phases: [
      { name: "kernel", cpuNs: 2e9, share: 0.05 },
      { name: "initramfs", cpuNs: 1e9, share: 0.15 },
      { name: "services", cpuNs: 6e9, share: 0.8, parallelism: 4 },
    ],
    memoryBound: 0.3,
    ...over,
  };
}

function play(
  p: Parameters<typeof runBoot>[2],
  drv: { latency: number; bandwidth?: number; flushLatency?: number },
  cpu = { overhead: 0, cores: 2 },
) {
  const sim = new Simulation({ seed: 11 });
  const driver = new FakeDriver(sim, { sectors: 1 << 24, ...drv });
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(cpu.overhead), cores: cpu.cores });
  const proc = runBoot(driver, cpus, p);
  sim.run();
  return { result: proc.value, driver };
}

Deno.test("boot trace is deterministic for a seed and differs between seeds", () => {
  assert.deepEqual(generateBootTrace(params(), 5), generateBootTrace(params(), 5));
  assert.notDeepEqual(generateBootTrace(params(), 5).ops, generateBootTrace(params(), 6).ops);
});

Deno.test("boot trace totals match the parameters", () => {
  const p = params();
  const t = generateBootTrace(p, 1);
  const reads = t.ops.filter((o) => o.op === "read");
  const writes = t.ops.filter((o) => o.op === "write");
  assert.equal(reads.length, 6000);
  assert.equal(reads.reduce((s, o) => s + o.count, 0) * 512, 200 * MiB);
  assert.equal(writes.length, 50);
  assert.equal(writes.reduce((s, o) => s + o.count, 0) * 512, 2 * MiB);
  for (const ph of p.phases) {
    const mine = t.ops.filter((o) => o.phase === ph.name);
    assert.equal(mine.reduce((s, o) => s + o.thinkNs, 0), ph.cpuNs);
  }
  assert.deepEqual(t.phases.map((x) => x.parallelism), [1, 1, 4]);
  for (const o of reads) {
    assert.ok(
      p.regions.some((r) => o.lba >= r.lba && o.lba + o.count <= r.lba + r.sectors),
      `read at ${o.lba}`,
    );
  }
  for (const o of writes) assert.ok(o.lba >= 12_000_000 && o.lba + o.count <= 12_100_000);
  // Roughly half the reads continue where the previous one ended.
  let seq = 0;
  for (let i = 1; i < reads.length; i++) {
    if (reads[i].lba === reads[i - 1].lba + reads[i - 1].count) seq++;
  }
  assert.ok(Math.abs(seq / reads.length - 0.5) < 0.05, `sequential fraction ${seq / reads.length}`);
});

Deno.test("boot trace totals match the parameters for any parameters (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 4, max: 400 }),
      fc.integer({ min: 1, max: 64 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.array(fc.integer({ min: 0, max: 5e8 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: 20 }),
      fc.nat(1000),
      (requests, avgSectors, seqFrac, cpu, writes, seed) => {
        const p = params({
          readRequests: requests,
          readBytes: requests * avgSectors * 512,
          sequentialFraction: seqFrac,
          phases: cpu.map((c, i) => ({ name: `p${i}`, cpuNs: c, share: 1 + i })),
          writes: { requests: writes, bytes: writes * 4096, lba: 12_000_000, sectors: 64 },
        });
        const t = generateBootTrace(p, seed);
        const reads = t.ops.filter((o) => o.op === "read");
        assert.equal(reads.length, requests);
        assert.equal(reads.reduce((s, o) => s + o.count, 0), requests * avgSectors);
        assert.equal(t.ops.length, requests + writes);
        assert.equal(t.ops.reduce((s, o) => s + o.thinkNs, 0), cpu.reduce((a, b) => a + b, 0));
        assert.ok(
          t.ops.every((o) =>
            o.op !== "flush" && o.count >= 1 && Number.isInteger(o.thinkNs) && o.thinkNs >= 0
          ),
        );
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("boot time equals think time plus I/O time on an idle driver with one reader", () => {
  const p = params({ writes: undefined, phases: [{ name: "all", cpuNs: 3e9, share: 1 }] });
  const { result } = play(p, { latency: 250_000 }, { overhead: 0, cores: 1 });
  assert.equal(result.reads, 6000);
  assert.equal(result.thinkTime, 3e9);
  assert.equal(result.ioTime, 6000 * 250_000);
  assert.equal(result.duration, 3e9 + 6000 * 250_000);
  // A slower CPU stretches only the memory-bound share of the think time.
  const slow = play(p, { latency: 250_000 }, { overhead: 0.2, cores: 1 }).result;
  assert.ok(Math.abs(slow.duration - (3e9 * (1 + 0.2 * 0.3) + 6000 * 250_000)) <= 6000);
});

Deno.test("boot time grows with the driver's per-request latency", () => {
  const times = [50_000, 500_000, 2_000_000, 8_000_000].map((latency) =>
    play(params(), { latency, bandwidth: 150e6 }).result.duration
  );
  for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1], times.join(" "));
});

Deno.test("boot slows down when only the reads of one image region are slow (redirected)", () => {
  const fast = play(params(), { latency: 100_000 }).result.duration;
  const sim = new Simulation({ seed: 11 });
  const driver = new FakeDriver(sim, {
    sectors: 1 << 24,
    latency: (
      r,
    ) => (r.op === "read" && r.lba >= 2_000_000 && r.lba < 10_000_000 ? 3_000_000 : 100_000),
  });
  const p = runBoot(driver, new GuestCpus(sim, { cpu: fakeCpu(), cores: 2 }), params());
  sim.run();
  assert.ok(p.value.duration > fast + 1e9);
});

Deno.test("parallel readers shorten an I/O-bound phase", () => {
  const one = params({ phases: [{ name: "services", cpuNs: 1e8, share: 1, parallelism: 1 }] });
  const four = params({ phases: [{ name: "services", cpuNs: 1e8, share: 1, parallelism: 4 }] });
  const a = play(one, { latency: 1_000_000 }).result.duration;
  const b = play(four, { latency: 1_000_000 }).result.duration;
  assert.ok(b < a / 3, `${b} vs ${a}`);
});

Deno.test("boot phases follow each other and cover the whole boot; the recorder gets the spans", () => {
  const sim = new Simulation({ seed: 2 });
  const driver = new FakeDriver(sim, { sectors: 1 << 24, latency: 300_000 });
  const rec = new Recorder(sim);
  const p = runBoot(driver, new GuestCpus(sim, { cpu: fakeCpu(), cores: 2 }), {
    ...params(),
    recorder: rec,
    entity: "node0",
  });
  sim.run();
  const r = p.value;
  assert.deepEqual(r.phases.map((x) => x.phase), ["kernel", "initramfs", "services"]);
  assert.equal(r.phases[0].start, r.start);
  for (let i = 1; i < r.phases.length; i++) assert.equal(r.phases[i].start, r.phases[i - 1].end);
  assert.equal(r.phases.at(-1)!.end, r.end);
  assert.equal(r.phases.reduce((s, x) => s + x.requests, 0), 6050);
  assert.equal(r.writes, 50);
  assert.equal(
    driver.versions.countOther(12_000_000, 4096, 0),
    4096,
    "log writes reached the disk",
  );
  assert.deepEqual(
    rec.spans().map((s) => [s.entity, s.phase]),
    r.phases.map((x) => ["node0", x.phase]),
  );
});

Deno.test("boot replays an explicit trace with its phases", () => {
  const trace = parseBootTrace([
    { op: "read", lba: 0, count: 8, thinkNs: 1000, phase: "kernel" },
    { op: "read", lba: 8, count: 8, thinkNs: 1000, phase: "kernel" },
    { op: "write", lba: 100, count: 8, thinkNs: 500, phase: "services" },
    { op: "read", lba: 16, count: 8, thinkNs: 500, phase: "services" },
  ]);
  const { result, driver } = play({ trace, parallelism: { services: 2 } }, { latency: 10_000 }, {
    overhead: 0,
    cores: 2,
  });
  assert.deepEqual(result.phases.map((x) => [x.phase, x.requests]), [["kernel", 2], [
    "services",
    2,
  ]]);
  // kernel: 2 x (1000 + 10000); services: two readers in parallel, 500 + 10000.
  assert.equal(result.duration, 22_000 + 10_500);
  assert.equal(driver.versions.get(100), 1);
});

Deno.test("a replayed sync write or sync flush holds its reader; a plain one does not; fua reaches the driver", () => {
  const w = { op: "write", lba: 100, count: 8, thinkNs: 0 } as const;
  const r = { op: "read", lba: 0, count: 8, thinkNs: 0 } as const;
  const run = (...trace: BootTraceOp[]) =>
    play({ trace }, { latency: 1_000_000, flushLatency: 5_000_000 });
  // Write-back: the read goes at once, the phase waits for the write at its end.
  assert.equal(run(w, r).result.duration, 1_000_000);
  assert.equal(run({ ...w, sync: true }, r).result.duration, 2_000_000);
  const flushed = run({ op: "flush", thinkNs: 0, sync: true }, r);
  assert.equal(flushed.result.duration, 6_000_000);
  assert.equal(flushed.result.flushes, 1);
  // A flush nobody waited for: the read goes at once, the phase's end waits for the flush.
  assert.equal(run({ op: "flush", thinkNs: 0 }, r).result.duration, 5_000_000);
  const fua = run({ ...w, fua: true }, { ...w, lba: 200 }, r);
  assert.deepEqual(fua.driver.durable, ["fua 100"]);
  assert.equal(fua.result.duration, 1_000_000); // fua alone does not make the reader wait
});

Deno.test("a trace operation's kind is named with the three allowed", () => {
  assert.throws(() => parseBootTrace([{ op: "trim", lba: 0, count: 1, thinkNs: 0 }]), {
    name: "RangeError",
    message: /'0\.op' must be "read", "write" or "flush": current value is trim$/,
  });
  assert.throws(
    () => parseBootTrace([{ op: "read", lba: 0, count: 1, thinkNs: 0, sync: true }]),
    /'0\.sync' is not a known parameter/,
  );
  assert.throws(() => parseBootTrace([5]), /'0' Invalid input: expected object/);
});

Deno.test("a trace with a flush is refused on a driver that cannot flush", () => {
  const sim = new Simulation();
  const io = () => sim.timeout(10, { ok: true, versions: new Int32Array(8), latency: 10 });
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(), cores: 1 });
  const trace = parseBootTrace([{ op: "read", lba: 0, count: 8, thinkNs: 0 }, {
    op: "flush",
    thinkNs: 0,
  }]);
  assert.throws(() => runBoot({ sim, read: io, write: io }, cpus, { trace }), {
    name: "RangeError",
    message: /'trace' must have no flush on a driver without flush\(\): current value has 1$/,
  });
});

Deno.test("bad boot parameters are rejected, naming the field", () => {
  assert.throws(
    () => generateBootTrace(params({ readRequests: -1 }), 1),
    (e: Error) =>
      e instanceof RangeError && /'readRequests'/.test(e.message) &&
      /current value is -1/.test(e.message),
  );
  assert.throws(
    () => generateBootTrace(params({ sequentialFraction: 1.5 }), 1),
    /'sequentialFraction'/,
  );
  assert.throws(() => generateBootTrace(params({ readBytes: 1000 }), 1), /'readBytes'/);
  assert.throws(
    () => generateBootTrace(params({ sizes: [{ bytes: 4096, weight: 0 }] }), 1),
    /'sizes\.0\.weight'/,
  );
  assert.throws(() => parseBootTrace([{ op: "read", lba: 0, count: 0, thinkNs: 0 }]), /'0\.count'/);
  assert.throws(
    () =>
      generateBootTrace(
        params({ regions: [{ lba: 0, sectors: 16 }], sizes: [{ bytes: 1 << 20, weight: 1 }] }),
        1,
      ),
    /'regions' must hold a read/,
  );
});

Deno.test("a replay's per-phase parallelism may name only phases of the trace", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 20 });
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(0), cores: 4 });
  const trace = [0, 1].map((i) => ({
    op: "read" as const,
    lba: i * 8,
    count: 8,
    thinkNs: 0,
    phase: i === 0 ? "kernel" : "services",
  }));
  // A typo would otherwise leave 'services' at one reader, unnoticed.
  assert.throws(
    () => runBoot(driver, cpus, { trace, parallelism: { servces: 4, kernel: 1 } }),
    (e: Error) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot replay boot trace: 'parallelism.servces' is not a phase of the trace: the phases are kernel, services: current value is 4",
  );
  // A trace without phase tags is one phase, "boot".
  assert.throws(
    () =>
      runBoot(driver, cpus, { trace: [{ ...trace[0], phase: undefined }], parallelism: { x: 2 } }),
    /'parallelism\.x' is not a phase of the trace: the phases are boot: current value is 2$/,
  );
  assert.doesNotThrow(() => runBoot(driver, cpus, { trace, parallelism: { services: 4 } }));
});

Deno.test("a replayed trace is checked once per settings: other settings with the same trace are checked again", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 20 });
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(0), cores: 4 });
  const trace = [{ op: "read" as const, lba: 0, count: 8, thinkNs: 0, phase: "kernel" }];
  runBoot(driver, cpus, { trace, parallelism: { kernel: 2 } });
  runBoot(driver, cpus, { trace, parallelism: { kernel: 2 } });
  assert.throws(
    () => runBoot(driver, cpus, { trace, parallelism: { kernal: 2 } }),
    /'parallelism\.kernal' is not a phase of the trace/,
  );
  assert.throws(() => runBoot(driver, cpus, { trace, memoryBound: 2 }), /'memoryBound' Too big/);
  sim.run();
});
