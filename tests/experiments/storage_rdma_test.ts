import assert from "node:assert/strict";
import * as storage from "../../experiments/fig_storage.ts";
import * as rdma from "../../experiments/fig_rdma.ts";
import {
  applyOverrides,
  buildWorld,
  BUILTIN_PROFILE,
  loadProfile,
  parseProfile,
  values,
} from "../../lib/deploy/mod.ts";
import { rdmaLatency } from "../../lib/deploy/rdma.ts";

const profile = await loadProfile(BUILTIN_PROFILE);

let storageOut: Promise<storage.StorageOutput> | undefined;
const storageSmall = () => storageOut ??= storage.run({ ...storage.small, profile });
let rdmaOut: Promise<rdma.RdmaOutput> | undefined;
const rdmaSmall = () => rdmaOut ??= rdma.run({ ...rdma.small, profile });

const SYSTEMS = ["Bare-metal", "Deploy", "Devirt", "KVM/Local"];

Deno.test("storage figure: a read and a write bar per system, the paper's bars and comparisons", async () => {
  const out = await storageSmall();
  const sim = out.rows.filter((r) => r.source === "sim");
  assert.equal(sim.length, 8);
  assert.deepEqual(
    sim.map((r) => `${r.group}/${r.series}`),
    SYSTEMS.flatMap((g) => [`${g}/read`, `${g}/write`]),
  );
  assert.ok(sim.every((r) => r.unit === "MB/s" && r.value > 10 && r.value < 300));
  assert.equal(out.rows.filter((r) => r.source === "paper").length, 8);
  assert.equal(out.comparisons.length, 8);
  assert.ok(out.comparisons.every((c) => c.figure === "storage" && Number.isFinite(c.errorPct)));
  assert.ok(out.passes.every((p) => p.errors === 0));
});

Deno.test("storage: after de-virtualization the OS gets bare-metal throughput, KVM/Local less", async () => {
  const out = await storageSmall();
  const mbps = (g: string, op: string) =>
    out.rows.find((r) => r.source === "sim" && r.group === g && r.series === op)!.value;
  for (const op of ["read", "write"]) {
    const bare = mbps("Bare-metal", op);
    assert.ok(
      Math.abs(mbps("Devirt", op) / bare - 1) < 0.01,
      `${op}: devirt ${mbps("Devirt", op)} vs bare ${bare}`,
    );
    assert.ok(mbps("KVM/Local", op) < bare, `${op}: kvm ${mbps("KVM/Local", op)} vs bare ${bare}`);
  }
  const pass = (g: string, op: string) => out.passes.find((p) => p.group === g && p.op === op)!;
  // Devirt and bare metal run without a single VM exit; the others pay exits.
  for (const op of ["read", "write"]) {
    assert.equal(pass("Devirt", op).exits, 0);
    assert.equal(pass("Bare-metal", op).exits, 0);
    assert.ok(pass("KVM/Local", op).exits >= 2 * pass("KVM/Local", op).requests);
    assert.ok(pass("Deploy", op).exits > 0);
  }
  // The Deploy region was absent: every read went to the image server.
  assert.equal(pass("Deploy", "read").redirectedReads, pass("Deploy", "read").requests);
});

Deno.test("RDMA figure: Deploy and Devirt equal bare metal; KVM/Pass pays the IOMMU", async () => {
  const out = await rdmaSmall();
  const us = (g: string) => out.rows.find((r) => r.source === "sim" && r.group === g)!.value;
  assert.deepEqual(
    out.rows.filter((r) => r.source === "sim").map((r) => r.group),
    ["Bare-metal", "Deploy", "Devirt", "KVM/Pass"],
  );
  assert.ok(out.rows.every((r) => r.series === "latency" && r.unit === "us"));
  assert.equal(out.comparisons.length, 4);
  // The HCA pipeline is calibrated to the bare-metal bar.
  assert.ok(Math.abs(us("Bare-metal") / 1.3 - 1) < 0.01, `bare metal ${us("Bare-metal")}`);
  assert.equal(us("Deploy"), us("Bare-metal"));
  assert.equal(us("Devirt"), us("Bare-metal"));
  assert.ok(us("KVM/Pass") > us("Bare-metal"));
  // No doorbell trapped under BMcast: the mediator hooks only the AHCI window.
  assert.ok(out.runs.every((r) => r.trappedExits === 0));
  const ib = values(profile.infiniband);
  const kvm = out.runs.find((r) => r.system === "kvm-pass")!;
  assert.equal(kvm.parts.iommu, Math.round(ib.iommuMissRatio * ib.iommuMissCost));
  assert.ok(kvm.hcas.every((h) => h.cpu.vmx === "non-root" && h.cpu.ept));
  const deploy = out.runs.find((r) => r.system === "deploy")!;
  assert.ok(deploy.hcas.every((h) => h.cpu.vmx === "non-root" && h.stats.doorbells > 0));
  const devirt = out.runs.find((r) => r.system === "devirt")!;
  assert.ok(devirt.hcas.every((h) => h.cpu.vmx === "off"));
});

Deno.test("RDMA latency needs two nodes and a known system", () => {
  const w = buildWorld(profile, { nodes: 1 });
  assert.throws(() => w.sim.process(rdmaLatency(w, "bare-metal")) && w.sim.run(), /'nodes'/);
  const w2 = buildWorld(profile, { nodes: 2 });
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => w2.sim.process(rdmaLatency(w2, "xen" as any)) && w2.sim.run(),
    (e: Error) => e instanceof RangeError && /'system'/.test(e.message),
  );
});

Deno.test("RDMA latency checks ib_write_lat's options before it prepares the nodes (a whole deployment for devirt)", () => {
  for (
    const [opts, field, min] of [
      [{ iterations: 3 }, "iterations", 4],
      [{ iterations: 1.5 }, "iterations", 4],
      [{ bytes: -1 }, "bytes", 1],
    ] as const
  ) {
    const w = buildWorld(profile, { nodes: 2 });
    assert.throws(
      () => w.sim.run(w.sim.process(rdmaLatency(w, "devirt", opts))),
      new RegExp(
        `^RangeError: Cannot measure RDMA latency: '${field}' must be an integer >= ${min}`,
      ),
    );
    assert.equal(w.sim.now, 0, `${JSON.stringify(opts)} failed at ${w.sim.now} ns`);
  }
});

Deno.test("a profile whose infiniband.hca sets a misspelt or non-boolean IOMMU option is refused", () => {
  const json = structuredClone(profile) as unknown as {
    infiniband: { hca: { value: Record<string, unknown> } };
  };
  json.infiniband.hca.value.iommu = { enabled: "yes", missratio: 0.1 };
  assert.throws(
    () => parseProfile(json),
    (e: Error) =>
      /infiniband\.hca\.value\.iommu\.missratio: is not an option/.test(e.message) &&
      /infiniband\.hca\.value\.iommu\.enabled: must be true or false/.test(e.message),
  );
});

Deno.test("RDMA under KVM/Pass runs with a one-core guest, and a poll period the profile leaves out is the HCA's own", () => {
  const run = (p: typeof profile, system: "kvm-pass" | "bare-metal") => {
    const w = buildWorld(p, { nodes: 2, preinstalled: true });
    const r = w.sim.process(rdmaLatency(w, system, { iterations: 200 }));
    w.sim.run(r);
    return r.value;
  };
  // The benchmark's vCPU exists whatever the guest's cores (it was "'vcpu' must be in [0, 0]").
  const one = run(applyOverrides(profile, { "boot.cores": 1 }), "kvm-pass");
  assert.ok(one.latency.avgUs > 1.5 && one.latency.avgUs < 1.7, `${one.latency.avgUs}`);
  // Without pollPeriod in infiniband.hca: the HCA model's default (50 ns), not 0.
  const { pollPeriod: _, ...hca } = profile.infiniband.hca.value as Record<string, unknown>;
  const json = structuredClone(profile);
  json.infiniband.hca.value = hca as typeof json.infiniband.hca.value;
  const dflt = run(json, "bare-metal");
  assert.equal(dflt.pollPeriod, 50);
});

Deno.test("RDMA under KVM/Pass counts the timer exits of its ping-pong (about 3 a vCPU in 1000 iterations); bare metal has none", () => {
  const ticks = values(profile.kvm).timerExitsPerSecond as number;
  const run = (system: "kvm-pass" | "bare-metal") => {
    const w = buildWorld(profile, { nodes: 2, preinstalled: true });
    const p = w.sim.process(rdmaLatency(w, system, { iterations: 1000 }));
    w.sim.run(p);
    return p.value;
  };
  const kvm = run("kvm-pass");
  assert.equal(kvm.trappedExits, 0, "the doorbell is EPT-mapped: nothing traps");
  // Two vCPUs spin through 1000 round trips of two one-way latencies each.
  const runS = 1000 * 2 * kvm.latency.avgUs * 1e-6;
  const expected = 2 * ticks * runS;
  assert.ok(Math.abs(kvm.timerExits / expected - 1) < 0.02, `${kvm.timerExits} vs ${expected}`);
  assert.ok(kvm.timerExits > 6 && kvm.timerExits < 7, `${kvm.timerExits}`);
  const bare = run("bare-metal");
  assert.deepEqual([bare.trappedExits, bare.timerExits], [0, 0]);
});

Deno.test("storage and RDMA refuse a Devirt image that misses what the pass reads, is not whole sectors or does not fit the disk, and an unknown parameter", async () => {
  // The Devirt pass reads its region (lba 262,144 + 128 MiB: up to sector 524,288) from the image;
  // the boot only brings the node there, so its areas need not lie in it.
  await assert.rejects(
    storage.run({ ...storage.small, devirtImageBytes: 100e6, profile }),
    /^RangeError: Cannot run the storage experiment: 'devirtImageBytes' must be a multiple of 512 >= 268435456 to hold what the run uses of the image \(the benchmark's region at lba, up to sector 524288\) and <= 500107862016 .*: current value is 100000000$/,
  );
  for (const devirtImageBytes of [0, 100, 1e15]) {
    await assert.rejects(
      rdma.run({ ...rdma.small, devirtImageBytes, profile }),
      new RegExp(
        `^RangeError: Cannot run the RDMA experiment: 'devirtImageBytes' must be a multiple of 512 >= 512 to hold at least one sector and <= 500107862016 .*: current value is ${devirtImageBytes}$`,
      ),
    );
  }
  await assert.rejects(
    storage.run({ ...storage.small, byte: 1 } as never),
    /'byte' is not an option, did you mean bytes\? The options are bytes, queueDepth, lba, deployLba, devirtImageBytes, seed, profile$/,
  );
  await assert.rejects(
    rdma.run({ ...rdma.small, iteration: 1 } as never),
    /'iteration' is not an option, did you mean iterations\? The options are iterations, bytes, devirtImageBytes, seed, profile$/,
  );
});

Deno.test("storage and RDMA name every bad parameter at once, as the caller wrote it, before anything runs", async () => {
  await assert.rejects(
    rdma.run({ ...rdma.small, iterations: -3, bytes: 0, seed: -1 }),
    (e: Error) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot run the RDMA experiment: 'iterations' must be an integer >= 4: current value is -3; " +
          "'bytes' must be an integer >= 1: current value is 0; " +
          "'seed' must be an integer in [0, 4294967295]: current value is -1",
  );
  // The Deploy pass's region starts at deployLba: still named as the caller wrote it.
  await assert.rejects(
    storage.run({ ...storage.small, bytes: -1, queueDepth: 0, lba: -5, deployLba: 1.5 }),
    (e: Error) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot run the storage experiment: " +
          "'bytes' must be an integer > 0 and a multiple of 512: current value is -1; " +
          "'queueDepth' must be an integer >= 1: current value is 0; " +
          "'lba' must be an integer >= 0: current value is -5; " +
          "'deployLba' must be an integer >= 0: current value is 1.5",
  );
  // A bad number and an image too small for the region: both named.
  await assert.rejects(
    storage.run({ ...storage.small, queueDepth: 0, devirtImageBytes: 100e6 }),
    /^RangeError: Cannot run the storage experiment: 'queueDepth' must be an integer >= 1: current value is 0; 'devirtImageBytes' must be a multiple of 512 >= 268435456 /,
  );
  await assert.rejects(
    rdma.run({ seed: 1 } as never),
    /^RangeError: Cannot run the RDMA experiment: 'iterations' must be an integer >= 4: current value is undefined; 'bytes' must be an integer >= 1: current value is undefined; 'devirtImageBytes' must be given: current value is undefined$/,
  );
});
