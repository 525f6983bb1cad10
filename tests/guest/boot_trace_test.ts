import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import {
  type BootOp,
  type GuestBlockDriver,
  type IoResult,
  playBootTrace,
} from "../../lib/guest/mod.ts";
import { guestRig, runGuest } from "./_rig.ts";

/** A driver whose every request takes `latency` ns; reads return what was written (or `stale`). */
function fakeDriver(
  sim: Simulation,
  latency: number,
  stale = false,
): GuestBlockDriver & { peak: number } {
  const content = new Map<number, number>();
  let outstanding = 0;
  const d = {
    sim,
    peak: 0,
    read(r: { lba: number; count: number }) {
      outstanding++;
      d.peak = Math.max(d.peak, outstanding);
      const v = Int32Array.from(
        { length: r.count },
        (_, i) => stale ? 0 : content.get(r.lba + i) ?? 0,
      );
      return sim.timeout<IoResult>(latency, { ok: true, versions: v, latency }).then(() =>
        outstanding--
      );
    },
    write(r: { lba: number; count: number; version: number | ArrayLike<number> }) {
      outstanding++;
      d.peak = Math.max(d.peak, outstanding);
      for (let i = 0; i < r.count; i++) content.set(r.lba + i, r.version as number);
      return sim.timeout<IoResult>(latency, { ok: true, latency }).then(() => outstanding--);
    },
  };
  return d;
}

const trace: BootOp[] = Array.from({ length: 8 }, (_, i) => ({
  op: i % 3 === 2 ? "write" : "read",
  lba: i * 16,
  count: 16,
  thinkNs: 10,
}));

Deno.test("playBootTrace() with one outstanding replays synchronously: think, then wait for each request", () => {
  const sim = new Simulation();
  const p = playBootTrace(fakeDriver(sim, 100), { ops: trace });
  sim.run();
  const s = p.value;
  assert.equal(s.elapsed, 8 * (10 + 100));
  assert.deepEqual([s.requests, s.reads, s.writes, s.sectorsRead, s.sectorsWritten], [
    8,
    6,
    2,
    96,
    32,
  ]);
  assert.equal(s.thinkTime, 80);
  assert.deepEqual(s.latency, { mean: 100, p50: 100, p99: 100, max: 100 });
});

Deno.test("playBootTrace() keeps N requests outstanding and overlaps think time with I/O", () => {
  const sim = new Simulation();
  const drv = fakeDriver(sim, 100);
  const p = playBootTrace(drv, { ops: trace.map((o) => ({ ...o, thinkNs: 0 })), outstanding: 4 });
  sim.run();
  assert.equal(p.value.elapsed, 200);
  assert.equal(drv.peak, 4);
});

Deno.test("playBootTrace() takes a generator of operations as a workload", () => {
  const sim = new Simulation();
  function* workload(): Generator<BootOp> {
    for (let i = 0; i < 5; i++) yield { op: "read", lba: i, count: 1, thinkNs: 5 };
  }
  const p = playBootTrace(fakeDriver(sim, 20), { ops: workload(), outstanding: 2 });
  sim.run();
  assert.equal(p.value.requests, 5);
  assert.ok(p.value.elapsed < 5 * 25);
});

Deno.test("playBootTrace({ verify }) counts reads that miss the version last written", () => {
  const ops: BootOp[] = [
    { op: "write", lba: 0, count: 4, thinkNs: 0 },
    { op: "read", lba: 0, count: 4, thinkNs: 0 },
  ];
  for (const [stale, expected] of [[false, 0], [true, 4]] as const) {
    const sim = new Simulation();
    const p = playBootTrace(fakeDriver(sim, 10, stale), { ops, verify: true });
    sim.run();
    assert.equal(p.value.mismatches, expected);
  }
});

Deno.test("playBootTrace({ verify }) accepts either version from a read a later write overlapped", () => {
  // A consistent device: reads take their data when they end (100 ns), writes land after 10 ns.
  const sim = new Simulation();
  const disk = new Int32Array(64);
  const after = <T>(ns: number, fn: () => T) => {
    const ev = sim.event<T>();
    sim.call(ns, () => ev.succeed(fn()));
    return ev;
  };
  const driver = {
    sim,
    read: (r: { lba: number; count: number }) =>
      after(100, () => ({ ok: true, versions: disk.slice(r.lba, r.lba + r.count), latency: 100 })),
    write: (r: { lba: number; count: number; version: number | ArrayLike<number> }) =>
      after(
        10,
        () => (disk.fill(r.version as number, r.lba, r.lba + r.count), { ok: true, latency: 10 }),
      ),
  };
  const p = playBootTrace(driver, {
    outstanding: 2,
    verify: true,
    ops: [
      { op: "write", lba: 0, count: 8, thinkNs: 0 },
      { op: "read", lba: 0, count: 8, thinkNs: 50 }, // expects the first write's version...
      { op: "write", lba: 4, count: 8, thinkNs: 0 }, // ...but this one lands first for 4-7
    ],
  });
  sim.run();
  assert.equal(p.value.mismatches, 0);
});

Deno.test("playBootTrace() on the AHCI driver returns every version written, with 16 outstanding", () => {
  const rig = guestRig({ sectors: 1 << 14 });
  const rng = rig.sim.rng.stream("trace");
  const ops: BootOp[] = Array.from({ length: 400 }, () => ({
    op: rng.uniform(0, 1) < 0.3 ? "write" : "read",
    lba: rng.int((1 << 14) - 256),
    count: 1 + rng.int(256),
    thinkNs: rng.int(20_000),
  }));
  const s = runGuest(rig, function* () {
    return (yield playBootTrace(rig.driver, { ops, outstanding: 16, verify: true })) as {
      mismatches: number;
      errors: number;
      requests: number;
      elapsed: number;
    };
  });
  assert.equal(s.requests, 400);
  assert.equal(s.errors, 0);
  assert.equal(s.mismatches, 0);
  assert.ok(s.elapsed > 0);
  assert.ok(rig.disks[0].maxOutstanding > 1);
});

/** Plays `ops` on a fake driver; the error the player failed with, if any, and the requests issued. */
function playChecked(ops: Iterable<BootOp>): { error: unknown; issued: number } {
  const sim = new Simulation();
  const drv = fakeDriver(sim, 100);
  let issued = 0;
  const counting = {
    sim,
    read: (r: { lba: number; count: number }) => (issued++, drv.read(r)),
    write: (r: { lba: number; count: number; version: number | ArrayLike<number> }) => (
      issued++, drv.write(r)
    ),
  };
  const p = playBootTrace(counting, { ops });
  let error: unknown;
  sim.process(function* () {
    try {
      yield p;
    } catch (e) {
      error = e;
    }
  });
  sim.run();
  return { error, issued };
}

Deno.test("playBootTrace() refuses an operation that breaks the trace rules, naming its index, before issuing it", () => {
  const good: BootOp = { op: "read", lba: 0, count: 8, thinkNs: 0 };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ op: "READ" }, /'ops\[1\]\.op' must be "read" or "write": current value is READ/],
    [{ count: 0 }, /'ops\[1\]\.count' must be an integer >= 1: current value is 0/],
    [{ lba: -8 }, /'ops\[1\]\.lba' must be an integer >= 0: current value is -8/],
    [{ thinkNs: -5 }, /'ops\[1\]\.thinkNs' must be an integer >= 0: current value is -5/],
    [{ thinkNs: NaN }, /'ops\[1\]\.thinkNs' must be an integer >= 0: current value is NaN/],
  ];
  for (const [change, message] of cases) {
    const bad = { ...good, ...change } as BootOp;
    const { error, issued } = playChecked([good, bad, good]);
    assert.ok(error instanceof RangeError, `${JSON.stringify(change)} was played`);
    assert.match(error.message, /^Cannot play boot trace: /);
    assert.match(error.message, message);
    assert.equal(issued, 1, "only the operation before the bad one was issued");
  }
  // A generator's operations are checked as they are pulled.
  function* workload(): Generator<BootOp> {
    yield good;
    yield good;
    yield { ...good, op: "trim" as "read" };
  }
  const { error, issued } = playChecked(workload());
  assert.match((error as Error).message, /'ops\[2\]\.op'/);
  assert.equal(issued, 2);
});

Deno.test("playBootTrace() latency percentiles are nearest-rank: the median of two is the smaller, p99 of 100 is the 99th", () => {
  const run = (latencies: number[]) => {
    const sim = new Simulation();
    let i = 0;
    const driver = {
      sim,
      read: (r: { count: number }) => {
        const latency = latencies[i++];
        return sim.timeout<IoResult>(latency, {
          ok: true,
          versions: new Int32Array(r.count),
          latency,
        });
      },
      write: () => sim.timeout<IoResult>(1, { ok: true, latency: 1 }),
    };
    const ops = latencies.map((): BootOp => ({ op: "read", lba: 0, count: 1, thinkNs: 0 }));
    const p = playBootTrace(driver, { ops });
    sim.run();
    return p.value.latency;
  };
  assert.deepEqual(run([300, 100]), { mean: 200, p50: 100, p99: 300, max: 300 });
  const hundred = Array.from({ length: 100 }, (_, k) => (k + 1) * 10); // 10, 20, ..., 1000
  const l = run(hundred);
  assert.deepEqual([l.p50, l.p99, l.max], [500, 990, 1000]);
  assert.deepEqual(run([7]), { mean: 7, p50: 7, p99: 7, max: 7 });
});
