import assert from "node:assert/strict";
import {
  type CassandraOutput,
  COPY_BACKOFF,
  copyPolicy,
  full,
  imageReads,
  run,
  runSystem,
  small,
  workloadParams,
} from "../../experiments/fig_cassandra.ts";
import { BUILTIN_PROFILE, loadProfile } from "../../lib/scenario/mod.ts";
import { runScript } from "../_script.ts";

// One small run (three systems, BMcast in a worker) shared by the shape tests.
let shared: Promise<CassandraOutput> | undefined;
const smallRun = () => (shared ??= run(small));

const series = (out: CassandraOutput, system: string) =>
  out.rows.filter((r) => r.system === system);

Deno.test("cassandra: BMcast finishes the copy and de-virtualizes inside the small window", async () => {
  const out = await smallRun();
  const bmc = out.runs.find((r) => r.system === "bmcast")!;
  assert.ok(bmc.copyDoneS > 0 && bmc.devirtS < small.durationS - 3 * small.sampleEveryS);
  assert.ok(bmc.devirtS >= bmc.copyDoneS);
  assert.equal(bmc.copiedSectors + bmc.redirectedSectors >= (small.imageBytes! / 512) * 0.9, true);
  assert.deepEqual(out.markers, [{
    system: "bmcast",
    timeS: bmc.devirtS,
    label: "de-virtualized",
  }]);
});

Deno.test("cassandra: after de-virtualization BMcast converges to bare-metal throughput", async () => {
  // Right after de-virtualization the per-operation cost is bare metal's, but
  // BMcast's page cache is colder (it served fewer operations while streaming):
  // once warm (three windows later) throughput equals bare metal's.
  const out = await smallRun();
  const devirt = out.summary.devirtS;
  const warm = series(out, "bmcast").filter((r) =>
    r.timeS - small.sampleEveryS >= devirt + 3 * small.sampleEveryS
  );
  assert.ok(warm.length >= 3, `only ${warm.length} warm windows after de-virtualization`);
  const mean = warm.reduce((s, r) => s + r.pctOfBareMetal, 0) / warm.length;
  assert.ok(Math.abs(mean - 100) <= 1, `mean ${mean}`);
  for (const r of warm) {
    assert.ok(Math.abs(r.pctOfBareMetal - 100) <= 2, `window ${r.timeS}: ${r.pctOfBareMetal}`);
  }
});

Deno.test("cassandra: while streaming BMcast is below bare metal", async () => {
  // How far below (the paper's 70-120 % axis) is a reproduction metric that
  // `deno task repro` reports; the mechanism's invariant is "below".
  const out = await smallRun();
  const copyDone = out.runs.find((r) => r.system === "bmcast")!.copyDoneS;
  const before = series(out, "bmcast").filter((r) => r.timeS <= copyDone);
  assert.ok(before.length >= 5);
  assert.ok(out.summary.bmcastBeforePct < 100 && out.summary.bmcastBeforePct > 0);
  for (const r of before) {
    assert.ok(r.pctOfBareMetal > 0 && r.pctOfBareMetal <= 101, `window ${r.timeS}`);
  }
});

Deno.test("cassandra: KVM without background install stays below bare metal in every window", async () => {
  const out = await smallRun();
  const kvm = series(out, "kvm-local");
  assert.equal(kvm.length, small.durationS / small.sampleEveryS);
  for (const r of kvm) {
    assert.ok(r.pctOfBareMetal < 100 && r.pctOfBareMetal >= 70, `window ${r.timeS}`);
  }
  assert.ok(out.summary.kvmMeanPct < 100);
});

Deno.test("cassandra: comparison rows name the figure and carry finite values", async () => {
  // Whether each passes is the reproduction result `deno task repro` reports.
  const out = await smallRun();
  assert.equal(out.comparisons.length, 5);
  for (const c of out.comparisons) {
    assert.equal(c.figure, "cassandra");
    assert.ok(Number.isFinite(c.simulated) && Number.isFinite(c.errorPct), c.metric);
  }
});

Deno.test("cassandra: the same seed replays the same request stream", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const p = { ...small, durationS: 4, sampleEveryS: 1 };
  const a = runSystem(profile, "bare-metal", p), b = runSystem(profile, "bare-metal", p);
  assert.deepEqual(a.windowOps, b.windowOps);
  const c = runSystem(profile, "bare-metal", { ...p, seed: 2 });
  assert.notDeepEqual(a.windowOps, c.windowOps);
});

Deno.test("cassandra: the profile's store and workload parameters reach the run, overrides win", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const wl = workloadParams(profile, small);
  assert.equal(wl.records, profile.cassandra.store.value.records);
  assert.equal(wl.readProportion, profile.cassandra.workload.value.readProportion);
  assert.equal(wl.durationNs, small.durationS * 1e9);
  assert.equal(wl.sampleEveryNs, small.sampleEveryS * 1e9);
  assert.equal(workloadParams(profile, { ...small, workload: { records: 7 } }).records, 7);
});

Deno.test("cassandra: the copier's back-off starts from the profile's idle threshold; redirectAware is passed on when given", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const floor = (profile.vmm.copyPolicy.value as { idleThreshold: number }).idleThreshold;
  assert.deepEqual(copyPolicy(profile, full), {
    kind: "adaptive",
    minIdle: floor,
    maxIdle: COPY_BACKOFF.maxIdle,
    step: COPY_BACKOFF.step,
  });
  // and fetches one chunk ahead, fewer than the profile's pipeline
  assert.ok(COPY_BACKOFF.pipeline! < profile.vmm.pipeline.value);
  const aware = { ...full, copyBackoff: { ...COPY_BACKOFF, redirectAware: true } };
  assert.deepEqual(copyPolicy(profile, aware), {
    kind: "adaptive",
    minIdle: floor,
    maxIdle: COPY_BACKOFF.maxIdle,
    step: COPY_BACKOFF.step,
    redirectAware: true,
  });
  assert.equal(copyPolicy(profile, { ...full, copyBackoff: undefined }), undefined);
});

Deno.test("cassandra: a bad workload override or system is rejected, naming the field", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  assert.throws(
    () => runSystem(profile, "bare-metal", { ...small, durationS: 10, workload: { threads: 0 } }),
    (e: Error) => e instanceof RangeError && /'threads'/.test(e.message),
  );
  // A strategy that is not one of the figure's systems is named with those three.
  assert.throws(() => runSystem(profile, "nfsroot" as never, small), {
    name: "RangeError",
    message: "Cannot run the Cassandra experiment: 'system' must be one of bare-metal, bmcast, " +
      `kvm-local: current value is "nfsroot"`,
  });
});

Deno.test("cassandra: a bad duration or window is rejected before anything runs, named as given", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  for (const [field, value] of [["durationS", -5], ["sampleEveryS", 0]] as const) {
    await assert.rejects(
      run({ ...small, [field]: value }),
      (e: Error) =>
        e instanceof RangeError && e.message.includes(`'${field}'`) &&
        e.message.endsWith(`current value is ${value}`),
    );
  }
  // Every window one width: the figure compares window k with bare metal's at (k + 1) x width.
  const uneven = { ...small, durationS: 25, sampleEveryS: 10 };
  const multiple = (e: Error) =>
    e instanceof RangeError &&
    e.message.endsWith(
      "'durationS' must be a multiple of sampleEveryS (10), both rounded to whole ns (10000000000 ns windows): current value is 25",
    );
  await assert.rejects(run(uneven), multiple);
  assert.throws(() => runSystem(profile, "bare-metal", uneven), multiple);
});

Deno.test("cassandra: windows are whole in the workload's ns, not only in seconds", async () => {
  // 1 s / (1/3 s) is 3 windows in seconds, but the workload gets 333,333,333 ns windows:
  // a fourth of 1 ns would end the run and be compared with bare metal's as a whole window.
  const third = { ...small, durationS: 1, sampleEveryS: 1 / 3 };
  const named = (e: Error) =>
    e instanceof RangeError && e.message.includes("'durationS' must be a multiple of") &&
    e.message.includes("(333333333 ns windows)") && e.message.endsWith("current value is 1");
  await assert.rejects(run(third), named);
  const profile = await loadProfile(BUILTIN_PROFILE);
  assert.throws(() => workloadParams(profile, third), named);
  // A window shorter than the workload's 1 ns clock.
  await assert.rejects(
    run({ ...small, durationS: 1, sampleEveryS: 1e-10 }),
    (e: Error) =>
      e instanceof RangeError && e.message.includes("'sampleEveryS' must be at least 1 ns"),
  );
});

Deno.test("cassandra: the run's length and window come from durationS and sampleEveryS, never from a workload override", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  for (const [field, by] of [["durationNs", "durationS"], ["sampleEveryNs", "sampleEveryS"]]) {
    const p = { ...small, workload: { [field]: 5e9 } };
    const refused = (e: Error) =>
      e instanceof RangeError &&
      e.message.includes(`'workload.${field}' must be absent`) && e.message.includes(`'${by}'`) &&
      e.message.endsWith("current value is 5000000000");
    assert.throws(() => workloadParams(profile, p), refused);
    await assert.rejects(run(p), refused);
  }
});

Deno.test("cassandra: an image that does not hold the boot's read areas and the store's data set is refused, naming the minimum and why", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  // The boot reads up to sector 13,000,000, the data set (20,000 records of 2 sectors) ends 40,000 later.
  assert.deepEqual(imageReads(profile, small).map((a) => a.end), [13_000_000, 13_040_000]);
  const rule = (end: number, value: number) =>
    new RegExp(
      `^RangeError: Cannot run the Cassandra experiment: 'imageBytes' must be a multiple of 512 >= ${
        end * 512
      } to hold what the run uses of the image \\(the boot's read areas .*; the store's data set .*, up to sector ${end}\\) and <= \\d+ to fit .*: current value is ${value}$`,
    );
  for (const imageBytes of [1e9, 13_040_000 * 512 - 512, 7e9 + 1, 1e15]) {
    await assert.rejects(() => run({ ...small, imageBytes }), rule(13_040_000, imageBytes));
  }
  // The data set as the workload override moves it (past the small run's 7 GB image).
  const layout = { ...profile.cassandra.store.value.layout, dataLba: 16_100_000 };
  await assert.rejects(
    () => run({ ...small, workload: { layout } }),
    rule(16_140_000, small.imageBytes!),
  );
});

Deno.test("cassandra: an unknown parameter is refused, naming the closest one", async () => {
  await assert.rejects(
    () => run({ ...small, imagebytes: 7e9 } as never),
    /^RangeError: Cannot run the Cassandra experiment: 'imagebytes' is not an option, did you mean imageBytes\? The options are durationS, /,
  );
});

Deno.test("cassandra: BMcast reports what its redirected reads fetched, and a bad copyOrder is refused before anything runs", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const p = { ...small, durationS: 2, sampleEveryS: 1 };
  const bmc = runSystem(profile, "bmcast", p);
  const fetched = bmc.redirectedRuns.reduce((s, r) => s + r.count, 0);
  assert.ok(
    fetched > 0 && fetched === bmc.redirectedSectors,
    `${fetched} vs ${bmc.redirectedSectors}`,
  );
  assert.deepEqual(runSystem(profile, "bare-metal", p).redirectedRuns, []);
  await assert.rejects(
    () => run({ ...p, copyOrder: [{ lba: 13_671_875, count: 8 }, { lba: -1, count: 8 }] }),
    /^RangeError: Cannot run the Cassandra experiment: 'copyOrder.0' must be a run \{ lba, count \} of whole sectors, lba >= 0, count >= 1, within \[0, 13671875\): current value is \{"lba":13671875,"count":8\}; 'copyOrder.1' must be /,
  );
});

Deno.test("cassandra: an image-server outage stalls BMcast while it streams, and nothing after de-virtualization", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const calm = runSystem(profile, "bmcast", small);
  // 5-15 s into the workload: the store's cold cache misses go to the server.
  const early = runSystem(profile, "bmcast", { ...small, outage: { atS: 5, durationS: 10 } });
  const first = (r: { windowOps: number[] }) => r.windowOps[0] + r.windowOps[1];
  assert.ok(first(early) < 0.7 * first(calm), `${first(early)} vs ${first(calm)} ops in 0-20 s`);
  // Its copy waits too, so it de-virtualizes later.
  assert.ok(early.devirtS > calm.devirtS, `${early.devirtS} vs ${calm.devirtS}`);
  // Once de-virtualized it no longer needs the server.
  const late = runSystem(profile, "bmcast", {
    ...small,
    outage: { atS: Math.ceil(calm.devirtS) + 5, durationS: 30 },
  });
  assert.deepEqual(late.windowOps, calm.windowOps);
  // Bare metal never needed it.
  const bm = { ...small, durationS: 20 };
  assert.deepEqual(
    runSystem(profile, "bare-metal", { ...bm, outage: { atS: 5, durationS: 10 } }).windowOps,
    runSystem(profile, "bare-metal", bm).windowOps,
  );
  await assert.rejects(
    run({ ...small, outage: { atS: 5, durationS: 0 } }),
    (e: Error) => e instanceof RangeError && e.message.includes("'outage.durationS'"),
  );
});

Deno.test("fig_cassandra.ts takes --outage AT:DURATION and refuses anything else with exit 2", async () => {
  const help = await runScript("experiments/fig_cassandra.ts", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--outage AT:DUR/);
  for (const bad of ["5", "5:0", "x:10", "-1:5"]) {
    const r = await runScript("experiments/fig_cassandra.ts", "--small", `--outage=${bad}`);
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, new RegExp(`--outage: must be AT:DURATION .*current value is "${bad}"`));
    assert.equal(r.stdout, "");
  }
});

Deno.test("fig_cassandra.ts says 'not reached' for a de-virtualization the run never reached, never NaN", async () => {
  // The image server away for the whole small run: BMcast never completes its copy.
  const r = await runScript("experiments/fig_cassandra.ts", "--small", "--outage", "0:400");
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /NaN/);
  assert.match(r.stdout, /^bmcast: .*, not de-virtualized within the run$/m);
  // An outage is not the paper's configuration: shown, not judged.
  assert.match(
    r.stdout,
    /^cassandra \| bmcast after de-virtualization[^|]*\|\s+100 \| not reached \|\s+n\/a$/m,
  );
});

Deno.test("figure scripts judge the paper's values only in the full configuration", async () => {
  const r = await runScript("experiments/fig_rdma.ts", "--small");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^figure\s*\|\s*metric\s*\|\s*paper\s*\|\s*simulated\s*\|\s*error %$/m);
  assert.doesNotMatch(r.stdout, /\b(ok|FAIL)\b/);
});
