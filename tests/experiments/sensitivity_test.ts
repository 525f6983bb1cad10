import assert from "node:assert/strict";
import { join } from "node:path";
import * as rdma from "../../experiments/fig_rdma.ts";
import * as startup from "../../experiments/fig_startup.ts";
import {
  CASSANDRA_METRICS,
  configOf,
  ranked,
  run,
  small,
  TARGETS,
} from "../../experiments/fig_sensitivity.ts";
import { runScript } from "../_script.ts";

Deno.test("sensitivity: a faster disk shortens BMcast's startup; the result does not depend on the workers", async () => {
  const one = await run(small);
  const rpm = one.rows.find((r) => r.path === "hdd.rpm" && r.metric === "bmcast total (s)");
  assert.ok(rpm, "hdd.rpm varied");
  assert.equal(rpm.changed, 7920, "+10 %");
  assert.equal(rpm.kind, "sourced");
  assert.ok(rpm.value < rpm.baseValue && rpm.elasticity < 0, `elasticity ${rpm.elasticity}`);
  assert.equal(rpm.baseValue, one.baseline["bmcast total (s)"]);
  const idle = one.rows.find((r) => r.path === "vmm.copyPolicy.idleThreshold");
  assert.equal(idle?.kind, "calibrated");
  // copyDepth is an integer >= 1: 1.1 is not valid and rounds back to 1, so it steps to 2.
  const depth = one.rows.find((r) => r.path === "installer.copyDepth");
  assert.equal(depth?.changed, 2);
  assert.deepEqual(one.skipped, []);
  assert.deepEqual(ranked(one.rows)[0], "hdd.rpm");
  const two = await run({ ...small, workers: 2 });
  assert.deepEqual(two, one);
});

Deno.test("sensitivity: a fraction at its bound goes down, a byte size stays whole sectors, 0 is skipped", async () => {
  const out = await run({ ...small, paths: ["infiniband.iommuMissRatio"] });
  assert.equal(out.skipped.length, 0);
  const [r] = out.rows;
  assert.equal(r.base, 1);
  assert.ok(Math.abs(r.changed - 0.9) < 1e-12, "1.1 is not a valid fraction: -10 % instead");
  assert.equal(Math.abs(r.elasticity), 0, "the startup experiment has no InfiniBand in it");
  const sizes = await run({
    ...small,
    paths: ["guestDriver.maxRequestBytes", "kvm.virtio.hostPollDelay"],
  });
  assert.equal(sizes.rows.find((x) => x.path === "guestDriver.maxRequestBytes")?.changed, 576_512);
  assert.deepEqual(sizes.skipped, [{
    path: "kvm.virtio.hostPollDelay",
    reason: "0 has no relative change",
  }]);
});

Deno.test("sensitivity reruns other figures too: VT-d's miss cost moves only KVM/Pass latency; a value the model refuses gives way to the next", async () => {
  const out = await run({
    step: 0.1,
    figure: "rdma",
    config: TARGETS.rdma.small,
    paths: ["infiniband.iommuMissCost", "infiniband.fabric.lanes"],
  });
  // 4.4 lanes is refused by the fabric model's check (run when the profile is parsed): 5 instead.
  assert.equal(out.rows.find((r) => r.path === "infiniband.fabric.lanes")?.changed, 5);
  const miss = out.rows.filter((r) => r.path === "infiniband.iommuMissCost");
  const by = Object.fromEntries(miss.map((r) => [r.metric, r.elasticity]));
  assert.deepEqual(Object.keys(by), Object.keys(out.baseline));
  assert.ok(by["KVM/Pass latency (us)"] > 0, JSON.stringify(by));
  for (const m of ["Bare-metal latency (us)", "Deploy latency (us)", "Devirt latency (us)"]) {
    assert.equal(Math.abs(by[m]), 0, m);
  }
});

Deno.test("sensitivity reruns the Cassandra figure: EPT's share of the store's CPU time moves KVM; InfiniBand moves nothing", async () => {
  const out = await run({
    step: 0.1,
    figure: "cassandra",
    config: TARGETS.cassandra.small,
    paths: ["cassandra.store.cpu.memoryBound", "infiniband.iommuMissCost"],
  });
  assert.deepEqual(Object.keys(out.baseline), Object.values(CASSANDRA_METRICS));
  const devirt = out.baseline[CASSANDRA_METRICS.devirt];
  assert.ok(devirt > 100 && devirt < 320, `de-virtualized at ${devirt} s (small: ~175 s)`);
  const ib = out.rows.filter((r) => r.path === "infiniband.iommuMissCost");
  assert.equal(ib.length, 4);
  for (const r of ib) {
    assert.equal(r.value, r.baseValue, `${r.metric}: no InfiniBand in this figure`);
  }
  // EPT's two-dimensional walks cost only the memory-bound share of each
  // operation's CPU time: a larger share lowers KVM's % of bare metal.
  const kvm = out.rows.find((r) =>
    r.path === "cassandra.store.cpu.memoryBound" && r.metric === CASSANDRA_METRICS.kvm
  );
  assert.ok(kvm !== undefined && kvm.elasticity < 0 && kvm.aboveNoise, JSON.stringify(kvm));
  // The analysis varies the store only for this figure.
  const sections = (f: keyof typeof TARGETS) => TARGETS[f].sections as readonly string[];
  assert.ok(sections("cassandra").includes("cassandra"));
  for (const f of ["startup", "storage", "rdma"] as const) {
    assert.ok(!sections(f).includes("cassandra"), f);
  }
});

Deno.test("sensitivity measures the seed noise and judges each change against it", async () => {
  // RDMA latency does not depend on the seed: no noise, so any real change stands out.
  const rdmaOut = await run({
    step: 0.1,
    figure: "rdma",
    config: TARGETS.rdma.small,
    paths: ["infiniband.iommuMissCost"],
  });
  assert.deepEqual(rdmaOut.noiseSeeds, [1, 2, 3]);
  for (const v of Object.values(rdmaOut.noisePct)) assert.equal(v, 0);
  const judged = Object.fromEntries(rdmaOut.rows.map((r) => [r.metric, r.aboveNoise]));
  assert.deepEqual(judged, {
    "Bare-metal latency (us)": false,
    "Deploy latency (us)": false,
    "Devirt latency (us)": false,
    "KVM/Pass latency (us)": true,
  });
  // BMcast's boot races its copier for the disk: the seed alone moves it.
  const boot = await run({ ...small, paths: ["installer.copyDepth"] });
  assert.ok(boot.noisePct["bmcast total (s)"] > 0.5, JSON.stringify(boot.noisePct));
  assert.deepEqual(boot.rows.map((r) => r.aboveNoise), [false], "the installer is not in BMcast");
});

Deno.test("ranked puts parameters that move a metric beyond the noise first", () => {
  const row = (path: string, elasticity: number, aboveNoise: boolean) => ({
    path,
    kind: "sourced" as const,
    inherited: false,
    base: 1,
    changed: 1.1,
    metric: "m",
    baseValue: 1,
    value: 1 + elasticity / 10,
    changePct: elasticity * 10,
    elasticity,
    aboveNoise,
  });
  assert.deepEqual(
    ranked([row("jitter", -0.3, false), row("small", 0.1, true), row("big", -0.5, true)]),
    ["big", "small", "jitter"],
  );
});

Deno.test("sensitivity: bad paths and steps are rejected, every unknown path listed", async () => {
  await assert.rejects(
    run({ ...small, paths: ["hdd.rpm", "hdd.color", "nope"] }),
    (e: Error) =>
      e instanceof RangeError && /hdd\.color: not a number/.test(e.message) &&
      /nope: not a number/.test(e.message) && !/hdd\.rpm:/.test(e.message),
  );
  for (const step of [0, 1, NaN]) {
    await assert.rejects(
      run({ ...small, step }),
      (e: Error) =>
        e instanceof RangeError && /'step' must be a number in \(0, 1\)/.test(e.message),
    );
  }
});

Deno.test("sensitivity: a partial config changes only the fields it gives of the figure's full configuration", async () => {
  assert.deepEqual(configOf({ figure: "rdma", config: { seed: 2 } }), { ...rdma.full, seed: 2 });
  assert.deepEqual(configOf({}), TARGETS.startup.full);
  const config = { methods: ["nfsroot"], seed: 2 }; // over startup.full's 32 GB image
  const out = await run({ config, step: 0.1, paths: ["hdd.rpm"] });
  assert.deepEqual(out.noiseSeeds, [2, 3, 4], "the noise runs start at the config's seed");
  const alone = await startup.run({ ...startup.full, ...config });
  const total = alone.comparisons.find((c) => c.metric === "nfsroot total (s)")!;
  assert.deepEqual(out.baseline, { "nfsroot total (s)": total.simulated });
});

Deno.test("sensitivity: an unknown figure or parameter, bad workers, an empty path list or a config that is no object are refused", async () => {
  const refused = async (params: unknown, message: string) =>
    await assert.rejects(
      run(params as typeof small),
      (e: Error) => e instanceof RangeError && e.message === `Cannot run sensitivity: ${message}`,
    );
  await refused(
    { ...small, figure: "bogus" },
    `'figure' must be one of startup, cassandra, storage, rdma: current value is "bogus"`,
  );
  for (const workers of [NaN, 0, 1.5]) {
    await refused(
      { ...small, workers },
      `'workers' must be an integer >= 1: current value is ${workers}`,
    );
  }
  await refused(
    { ...small, paths: [] },
    "'paths' must be a list of one or more profile paths: current value is []",
  );
  await refused({ ...small, config: [1] }, "'config' must be an object: current value is [1]");
  await refused(
    { ...small, path: ["hdd.rpm"] },
    "'path' is not an option, did you mean paths? The options are figure, config, step, paths, workers, profile, onProgress",
  );
});

Deno.test("sensitivity refuses, before any run, a startup configuration naming a method it does not measure, every issue listed", async () => {
  const { bmcast, registerStrategy } = await import("../../lib/deploy/mod.ts");
  registerStrategy("bmcast-here", bmcast, { preinstalled: false, deployed: "copy" });
  const measured = "image-copy, bmcast, nfsroot, kvm-nfs";
  for (
    const methods of [
      ["kvm-local"],
      ["bare-metal", "bmcast-multicast"],
      ["bmcast", "bmcast-here"],
      [],
    ]
  ) {
    await assert.rejects(
      run({ ...small, config: { ...small.config, methods } }),
      (e: Error) =>
        e instanceof RangeError &&
        e.message === "Cannot run sensitivity: 'config.methods' must be a list of one or " +
            `more of the methods the figure measures (${measured}): current value is ${
              JSON.stringify(methods)
            }`,
    );
  }
  await assert.rejects(
    run({ ...small, step: 2, config: { methods: ["kvm-local"] } }),
    (e: Error) => /'step' must be .*; 'config\.methods' must be/.test(e.message),
  );
});

Deno.test("deno task sensitivity prints the table, writes CSV and JSON, and rejects bad input with exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runScript(
      "experiments/fig_sensitivity.ts",
      "--small",
      "--path",
      "hdd.rpm",
      "--out",
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^parameter\s*\|\s*source\s*\|\s*BMcast\n/);
    // An elasticity within the seed noise is in parentheses; the noise is on the last line.
    assert.match(r.stdout, /^hdd\.rpm\s*\|\s*sourced\s*\|\s*(\(-0\.\d\d\)| -0\.\d\d)$/m);
    assert.match(r.stdout, /^seed noise \(3 seeds\)\s*\|\s*\|\s*\u00b10\.\d\d$/m);
    assert.match(r.stdout, /1 parameters varied, [01] move a metric beyond the noise/);
    const csv = (await Deno.readTextFile(join(dir, "sensitivity.csv"))).trim().split("\n");
    assert.equal(
      csv[0],
      "path,kind,inherited,base,changed,metric,baseValue,value,changePct,elasticity,aboveNoise",
    );
    const json = JSON.parse(await Deno.readTextFile(join(dir, "sensitivity.json")));
    assert.equal(json.rows.length, csv.length - 1);
    assert.deepEqual(json.noiseSeeds, [1, 2, 3]);
    // The wall time is printed, not written: the same flags write the same bytes.
    assert.match(r.stdout, /; wall time \d+\.\d s\n/);
    assert.equal("wallSeconds" in json, false);
    const bad = await runScript(
      "experiments/fig_sensitivity.ts",
      "--step",
      "2",
      "--top",
      "0",
      "--path",
      "hdd.colour",
      "--figure",
      "fleet",
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid input \(4 issues\)/);
    assert.match(
      bad.stderr,
      /--figure: must be one of startup, cassandra, storage, rdma: current value is "fleet"/,
    );
    assert.match(bad.stderr, /--path: hdd\.colour: not a number in the profile/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task sensitivity states a step of 0.07 as 7 %, not 7.000000000000001 %", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runScript(
      "experiments/fig_sensitivity.ts",
      "--small",
      "--path",
      "hdd.rpm",
      "--step",
      "0.07",
      "--out",
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /per % change of the parameter \(\+7 %; where that is not valid, -7 %/);
    assert.doesNotMatch(r.stdout, /\d\.\d{6,}/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
