import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import {
  GuestCpus,
  storageBenchmark,
  type StorageBenchmarkOptions,
} from "../../lib/workload/mod.ts";
import { fakeCpu, FakeDriver } from "../../lib/workload/_test_utils.ts";
import { comparePass } from "../../experiments/fig_storage.ts";

const MiB = 1 << 20;

Deno.test("storage benchmark reports the driver's bandwidth within 1%", () => {
  for (const bw of [80e6, 112e6, 500e6]) {
    const sim = new Simulation();
    const driver = new FakeDriver(sim, { sectors: 1 << 22, latency: 100_000, bandwidth: bw });
    const p = storageBenchmark(driver, { bytes: 256 * MiB, queueDepth: 4 });
    sim.run();
    assert.deepEqual(p.value.map((r) => r.op), ["write", "read"]);
    for (const row of p.value) {
      assert.ok(
        Math.abs(row.mbps - bw / 1e6) / (bw / 1e6) < 0.01,
        `${row.op} ${row.mbps} vs ${bw / 1e6}`,
      );
      assert.equal(row.bytes, 256 * MiB);
      assert.equal(row.requests, 256);
      assert.equal(row.errors, 0);
    }
  }
});

Deno.test("storage benchmark at queue depth 1 pays the per-request latency on every request", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 20, latency: 1_000_000, bandwidth: 100e6 });
  const p = storageBenchmark(driver, { bytes: 64 * MiB, requestBytes: MiB, ops: ["read"] });
  sim.run();
  const perRequest = 1e-3 + MiB / 100e6;
  assert.ok(Math.abs(p.value[0].seconds - 64 * perRequest) < 1e-6);
  assert.ok(Math.abs(p.value[0].mbps - MiB / 1e6 / perRequest) < 0.01);
});

Deno.test("storage benchmark writes and reads each pass over its own LBA region", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 20, bandwidth: 1e9 });
  storageBenchmark(driver, {
    bytes: 4 * MiB,
    requestBytes: 64 * 1024,
    queueDepth: 3,
    writeLba: 1000,
    readLba: 500_000,
  });
  sim.run();
  const writes = driver.log.filter((r) => r.op === "write");
  const reads = driver.log.filter((r) => r.op === "read");
  assert.equal(writes.length, 64);
  assert.equal(Math.min(...writes.map((r) => r.lba)), 1000);
  assert.equal(Math.max(...writes.map((r) => r.lba + r.count)), 1000 + 8192);
  assert.equal(Math.min(...reads.map((r) => r.lba)), 500_000);
  assert.ok(
    writes.every((w) => w.end <= Math.min(...reads.map((r) => r.start))),
    "write pass ends before the read pass",
  );
  assert.equal(
    driver.versions.countOther(1000, 8192, 0),
    8192,
    "every written sector got a fresh version",
  );
});

Deno.test("storage benchmark slows down when the CPU per request is slower", () => {
  const run = (overhead: number) => {
    const sim = new Simulation();
    const driver = new FakeDriver(sim, { sectors: 1 << 20, bandwidth: 200e6 });
    const cpus = new GuestCpus(sim, { cpu: fakeCpu(overhead), cores: 1 });
    const p = storageBenchmark(driver, {
      bytes: 32 * MiB,
      ops: ["write"],
      requestCpu: { cpus, ns: 2_000_000, memoryBound: 1 },
    });
    sim.run();
    return p.value[0].mbps;
  };
  assert.ok(run(0.5) < run(0));
});

Deno.test("storage benchmark rejects a bad request size, naming the field", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 20 });
  assert.throws(
    () => storageBenchmark(driver, { bytes: MiB, requestBytes: 1000 }),
    (e: Error) =>
      e instanceof RangeError &&
      /'requestBytes' must be a multiple of 512: current value is 1000/.test(e.message),
  );
  assert.throws(() => storageBenchmark(driver, { bytes: MiB, queueDepth: 0 }), /'queueDepth'/);
});

Deno.test("storage benchmark counts only the bytes of requests that succeeded", () => {
  const sim = new Simulation();
  // 100 MB/s if every request succeeded; this driver fails `failing` of them.
  const driverFailing = (fails: (n: number) => boolean) => {
    let n = 0;
    const io = (r: { count: number }) =>
      sim.timeout(r.count * 5120, { ok: !fails(n++), latency: r.count * 5120 });
    return { sim, read: io, write: io };
  };
  const all = storageBenchmark(driverFailing(() => true), { bytes: 10 * MiB });
  sim.run();
  for (const row of all.value) {
    assert.equal(row.requests, 10);
    assert.equal(row.errors, 10);
    assert.equal(row.bytes, 0, `${row.op}: a failed request moved nothing`);
    assert.equal(row.mbps, 0, row.op);
  }
  const half = storageBenchmark(driverFailing((n) => n % 2 === 1), {
    bytes: 10 * MiB,
    ops: ["read"],
  });
  sim.run();
  assert.equal(half.value[0].errors, 5);
  assert.equal(half.value[0].bytes, 5 * MiB);
  assert.ok(Math.abs(half.value[0].mbps - 50) < 0.01, String(half.value[0].mbps));
});

Deno.test("storage benchmark rejects a bad lba and memory-bound fraction, even where unused", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 20 });
  const cpus = new GuestCpus(sim, { cpu: fakeCpu(0.5), cores: 1 });
  for (const lba of [-5, NaN, 1.5]) {
    assert.throws(
      () => storageBenchmark(driver, { bytes: MiB, lba, writeLba: 0, readLba: 0 }),
      (e: Error) =>
        e instanceof RangeError &&
        e.message.endsWith(`'lba' must be an integer >= 0: current value is ${lba}`),
    );
  }
  for (const memoryBound of [2, -1, NaN]) {
    assert.throws(
      () => storageBenchmark(driver, { bytes: MiB, requestCpu: { cpus, ns: 1000, memoryBound } }),
      (e: Error) =>
        e instanceof RangeError &&
        e.message.endsWith(
          `'requestCpu.memoryBound' must be a number in [0, 1]: current value is ${memoryBound}`,
        ),
    );
  }
});

Deno.test("storage figure: a pass with failed requests says so and does not pass its comparison", () => {
  const pass = { group: "Deploy", op: "read" as const, mbps: 100, requests: 128 };
  const clean = comparePass({ ...pass, errors: 0 }, 100, 5);
  assert.equal(clean.metric, "Deploy read (MB/s)");
  assert.ok(clean.pass);
  const failed = comparePass({ ...pass, errors: 3 }, 100, 5);
  assert.equal(failed.metric, "Deploy read (MB/s): 3 of 128 requests failed");
  assert.equal(failed.pass, false, "right on the paper's value, but not what the paper measured");
  assert.equal(failed.simulated, 100);
});

Deno.test("storage benchmark refuses a misspelt option, naming the closest one, before it starts", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 20 });
  assert.throws(
    () =>
      storageBenchmark(
        driver,
        { bytes: 8 * MiB, queuedepth: 32, requestbytes: 4096 } as StorageBenchmarkOptions,
      ),
    (e: Error) => {
      assert.ok(e instanceof RangeError, String(e));
      assert.match(
        e.message,
        /^Cannot run storage benchmark: 'queuedepth' is not an option, did you mean queueDepth\? The options are bytes, requestBytes, queueDepth, /,
      );
      assert.match(e.message, /; 'requestbytes' is not an option, did you mean requestBytes\? /);
      return true;
    },
  );
  assert.throws(
    () =>
      storageBenchmark(driver, {
        bytes: MiB,
        requestCpu: {
          cpus: new GuestCpus(sim, { cpu: fakeCpu(0.5), cores: 1 }),
          ns: 10,
          memorybound: 0.5,
        },
      } as StorageBenchmarkOptions),
    /'requestCpu\.memorybound' is not an option, did you mean memoryBound\?/,
  );
  assert.equal(sim.pending, 0, "no process started");
});

Deno.test("storage benchmark reports every bad option at once", () => {
  const sim = new Simulation();
  const driver = new FakeDriver(sim, { sectors: 1 << 20 });
  assert.throws(
    () =>
      storageBenchmark(driver, {
        bytes: -1,
        requestBytes: 1000,
        queueDepth: 0,
        ops: ["reed"],
      } as unknown as StorageBenchmarkOptions),
    {
      name: "RangeError",
      message:
        "Cannot run storage benchmark: 'bytes' must be an integer > 0: current value is -1; " +
        "'requestBytes' must be a multiple of 512: current value is 1000; " +
        "'queueDepth' must be an integer >= 1: current value is 0; " +
        `'ops.0' must be "read" or "write": current value is "reed"`,
    },
  );
});
