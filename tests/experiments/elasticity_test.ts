import assert from "node:assert/strict";
import { join } from "node:path";
import {
  capacity,
  countInWindow,
  formatTable,
  MAX_WINDOWS,
  MIN_WINDOW_S,
  paramIssues,
  run,
  runStrategy,
  small,
} from "../../experiments/fig_elasticity.ts";
import { ScenarioError } from "../../lib/scenario/fleet.ts";
import { applyOverrides, BUILTIN_PROFILE, loadProfile } from "../../lib/scenario/mod.ts";
import { runScript } from "../_script.ts";
import { MAX_SEED } from "../../lib/_util/mod.ts";

const profile = await loadProfile(BUILTIN_PROFILE);

Deno.test("elasticity: no capacity before an OS is up; bare metal reaches its nodes' throughput; BMcast serves long before image copy and ends at bare metal", async () => {
  const out = await run({ ...small, profile });
  assert.deepEqual(out.summary.map((s) => s.strategy), small.strategies);
  const dt = small.sampleEveryS;
  for (const r of out.runs) {
    // A window that ends before the first OS is up holds no operation.
    r.windowOps.forEach((ops, i) => {
      if ((i + 1) * dt <= r.firstUpS) assert.equal(ops, 0, `${r.strategy} window ${i}`);
    });
    assert.equal(r.windowOps.length, small.horizonS / dt);
  }
  const [bare, copy, bmc] = out.summary;
  assert.ok(Math.abs(bare.finalPct - 100) < 3, `bare metal warm: ${bare.finalPct} %`);
  assert.ok(bmc.reach90S < copy.lastUpS, `${bmc.reach90S} vs ${copy.lastUpS}`);
  assert.ok(bmc.meanPct > 5 * copy.meanPct, `${bmc.meanPct} vs ${copy.meanPct}`);
  // De-virtualized within the horizon: the last quarter runs at bare metal's capacity.
  assert.ok(bmc.deployedS < small.horizonS, `${bmc.deployedS}`);
  assert.ok(Math.abs(bmc.finalPct - bare.finalPct) < 2, `${bmc.finalPct} vs ${bare.finalPct}`);
  // Image copy serves only after its copy and reboot: up and deployed at once.
  assert.equal(copy.deployedS, copy.lastUpS);
  assert.ok(copy.firstUpS > bmc.lastUpS + 200);
});

Deno.test("elasticity: each node's store draws its own requests, the same for a seed", () => {
  const params = { ...small, nodes: 2, horizonS: 250 };
  const a = runStrategy(profile, "bare-metal", params);
  assert.deepEqual(runStrategy(profile, "bare-metal", params), a, "same seed, same windows");
  // One node alone does about half the work of two (same boot, own clients).
  const one = runStrategy(profile, "bare-metal", { ...params, nodes: 1 });
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const ratio = sum(a.windowOps) / sum(one.windowOps);
  assert.ok(ratio > 1.9 && ratio < 2.1, `${ratio}`);
});

Deno.test("elasticity over seeds: each seed runs against its own reference; curves and summary are their means", async () => {
  const params = {
    ...small,
    strategies: ["bare-metal", "bmcast"],
    nodes: 1,
    horizonS: 250,
    profile,
  };
  const progress: string[] = [];
  const two = await run({
    ...params,
    seeds: 2,
    onProgress: (done, total, what) => progress.push(`${done}/${total} ${what}`),
  });
  assert.deepEqual(two.seeds, [1, 2]);
  // Each run reported once as it ended: 2 strategies x 2 seeds and 2 references.
  assert.equal(progress.length, 6);
  assert.ok(progress.includes("6/6 bmcast (seed 2)"), progress.join("; "));
  assert.ok(progress.some((p) => p.endsWith("bare-metal reference (seed 1)")));
  assert.deepEqual(two.bySeed.map((b) => `${b.strategy}:${b.seed}`), [
    "bare-metal:1",
    "bare-metal:2",
    "bmcast:1",
    "bmcast:2",
  ]);
  // The first seed is the one-seed run; the second its own run (another request stream).
  const one = await run(params);
  const { seed: _, ...first } = two.bySeed[2];
  assert.deepEqual(first, one.summary[1]);
  const second = await run({ ...params, seed: 2 });
  assert.deepEqual({ ...two.bySeed[3], seed: 2 }, { ...second.summary[1], seed: 2 });
  assert.notEqual(two.bySeed[2].meanPct, two.bySeed[3].meanPct);
  const m = (a: number, b: number) => (a + b) / 2;
  assert.equal(two.summary[1].meanPct, m(one.summary[1].meanPct, second.summary[1].meanPct));
  assert.equal(two.summary[1].firstUpS, m(one.summary[1].firstUpS, second.summary[1].firstUpS));
  assert.equal(two.referenceOpsPerS, m(one.referenceOpsPerS, second.referenceOpsPerS));
  const at = (o: typeof one, i: number) => o.rows.filter((r) => r.system === "bmcast")[i];
  assert.equal(
    at(two, 9).pctOfBareMetal,
    m(at(one, 9).pctOfBareMetal, at(second, 9).pctOfBareMetal),
  );
  assert.match(formatTable(two), /\d\.\d \(\d+\.\d-\d+\.\d\)/);
  for (const seeds of [0, 21, 1.5]) {
    assert.deepEqual(paramIssues({ ...small, seeds }, { labels: { seeds: "--seeds" } }), [
      `--seeds: must be an integer in [1, 20]: current value is ${seeds}`,
    ]);
  }
  assert.deepEqual(
    paramIssues({ ...small, seed: MAX_SEED, seeds: 2 }, { labels: { seeds: "--seeds" } }),
    [`--seeds: must keep the last seed (seed + seeds - 1 = ${
      MAX_SEED + 1
    }) <= ${MAX_SEED}: current value is 2`],
  );
});

Deno.test("elasticity with an image-server outage: a streaming boot waits for it, so capacity comes later", () => {
  const params = { ...small, nodes: 1, horizonS: 300 };
  const calm = runStrategy(profile, "nfsroot", params);
  // POST ends at 130 s: the outage starts 20 s into the OS boot.
  const hit = runStrategy(profile, "nfsroot", { ...params, outage: { atS: 150, durationS: 20 } });
  assert.ok(hit.firstUpS > calm.firstUpS + 20, `${hit.firstUpS} vs ${calm.firstUpS}`);
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  assert.ok(sum(hit.windowOps) < sum(calm.windowOps));
  assert.deepEqual(
    paramIssues({ ...small, outage: { atS: 10, durationS: 0 } }, {
      labels: { outage: "--outage" },
    }),
    ["--outage durationS: must be > 0: current value is 0"],
  );
});

Deno.test("elasticity: with the store's data on disk an image-server outage stops NFS root's nodes, not bare metal's", () => {
  const onDisk = applyOverrides(profile, { "cassandra.store.pageCacheBytes": 4 * 2 ** 20 }, {
    origin: "test",
  });
  const params = { ...small, nodes: 1, horizonS: 350, outage: { atS: 250, durationS: 50 } };
  // The window 250-275 s lies wholly in the outage.
  const during = (strategy: string) => runStrategy(onDisk, strategy, params).windowOps[10];
  const calm = runStrategy(onDisk, "nfsroot", { ...params, outage: undefined }).windowOps[10];
  assert.ok(calm > 1000, `${calm} operations without an outage`);
  assert.ok(during("nfsroot") < calm / 10, `${during("nfsroot")} vs ${calm}`);
  assert.ok(during("bare-metal") > calm / 2, `${during("bare-metal")} vs ${calm}`);
});

Deno.test("elasticity windows: an operation ending exactly on a window's end counts in the window it closes, as the kv workload's own; one past the last whole window is left out", () => {
  const dt = 25e9; // the small configuration's 25 s windows, ns
  const windowOps = [0, 0, 0];
  for (const end of [0, 1, dt, dt + 1, 2 * dt, 3 * dt, 3 * dt + 1]) {
    countInWindow(windowOps, end, dt);
  }
  // [0, 25 s] holds 0, 1 ns and 25 s; (25, 50 s] 25 s + 1 ns and 50 s; (50, 75 s] the horizon's 75 s.
  assert.deepEqual(windowOps, [3, 2, 1]);
});

Deno.test("elasticity capacity: % of N reference nodes per window, and when it first reached 50 and 90 %", () => {
  const c = capacity(
    {
      strategy: "x",
      nodes: 4,
      windowOps: [0, 0, 2_000, 3_800, 4_000],
      firstUpS: 15,
      lastUpS: 18,
      deployedS: NaN,
    },
    100,
    10,
  );
  assert.deepEqual(c.pct, [0, 0, 50, 95, 100]);
  assert.equal(c.summary.reach50S, 30);
  assert.equal(c.summary.reach90S, 40);
  assert.equal(c.summary.meanPct, 49);
  assert.equal(c.summary.finalPct, 97.5);
  const never = capacity({ ...c.summary, windowOps: [0, 10] }, 100, 10).summary;
  assert.ok(Number.isNaN(never.reach50S) && Number.isNaN(never.reach90S));
});

Deno.test('elasticity table shows a moment not reached within the horizon as "never", as sim does', () => {
  const s = {
    strategy: "nfsroot",
    nodes: 2,
    firstUpS: 181,
    lastUpS: 183,
    reach50S: NaN,
    reach90S: NaN,
    deployedS: NaN,
    meanPct: 40,
    finalPct: 45,
  };
  const [head, row] = formatTable({ summary: [s], bySeed: [] }).split("\n");
  assert.match(head, /\| 50 % at s \| 90 % at s \| deployed s \|/);
  assert.match(
    row,
    /^nfsroot +\| +181\.0 \| +183\.0 \| +never \| +never \| +never \| +40\.0 \| +45\.0$/,
  );
  // Over seeds: a moment no seed reached has no range to show.
  const bySeed = [{ ...s, seed: 1, meanPct: 39 }, { ...s, seed: 2, meanPct: 41 }];
  assert.match(
    formatTable({ summary: [s], bySeed }),
    /\| +never \| +never \| +never \| 40\.0 \(39\.0-41\.0\) \|/,
  );
});

Deno.test('elasticity table over seeds: a moment some seeds reached shows the mean of those and how many ("k of N seeds"); "never" only if none did', () => {
  const s = {
    strategy: "bmcast",
    nodes: 2,
    firstUpS: 168,
    lastUpS: 170,
    reach50S: NaN, // the mean over seeds: NaN as one did not reach it
    reach90S: NaN,
    deployedS: NaN,
    meanPct: 60,
    finalPct: 90,
  };
  const seed = (k: number, reach50S: number, reach90S: number) => ({
    ...s,
    seed: k,
    reach50S,
    reach90S,
  });
  const row =
    formatTable({ summary: [s], bySeed: [seed(1, 200, 275), seed(2, NaN, NaN), seed(3, 220, NaN)] })
      .split("\n")[1];
  assert.match(
    row,
    /\| 210\.0 \(200\.0-220\.0, 2 of 3 seeds\) \| 275\.0 \(1 of 3 seeds\) \| +never \| +60\.0 \|/,
    "before the fix: never | never",
  );
});

Deno.test("elasticity rejects bad parameters, naming every issue before anything runs", async () => {
  const bad = { ...small, strategies: ["bogus"], nodes: 0, horizonS: -5, sampleEveryS: 0 };
  await assert.rejects(
    run({ ...bad, profile }),
    (e: unknown) => {
      assert.ok(e instanceof ScenarioError);
      assert.deepEqual(e.issues.map((i) => i.split(":")[0]).sort(), [
        "horizonS",
        "nodes",
        "sampleEveryS",
        "strategy",
      ]);
      return true;
    },
  );
  assert.deepEqual(
    paramIssues({ ...small, sampleEveryS: 700 }, { labels: { sampleEveryS: "--window-s" } }),
    ["--window-s: must be <= horizonS (600): current value is 700"],
  );
  assert.deepEqual(paramIssues({ ...small, strategies: ["bmcast", "bmcast"] }), [
    'strategies: must not name a strategy twice: current value is ["bmcast","bmcast"]',
  ]);
  assert.throws(
    () => runStrategy(profile, "turbo", small),
    /'strategy' must be one of bare-metal, /,
  );
  assert.deepEqual(paramIssues({ ...small, strategies: [] }), [
    "strategies: must name at least one strategy: current value is []",
  ]);
});

Deno.test("elasticity refuses an unknown parameter, and an image that does not hold the store's data set", async () => {
  await assert.rejects(run({ ...small, horizon: 60, profile } as never), (e: unknown) => {
    assert.ok(e instanceof ScenarioError);
    assert.match(
      e.issues[0],
      /^horizon: is not an option, did you mean horizonS\? The options are /,
    );
    return true;
  });
  // The profile's rule on the image covers the boot; a data set moved past 10.35 GB is the run's to refuse.
  const set = { "cassandra.store.layout.dataLba": 20_400_000 };
  assert.deepEqual(paramIssues({ ...small, set }, { profile }), [
    "imageGb: must be >= 10.46528 to hold what the run uses of the image (the boot's read areas in " +
    "boot.params.regions, up to sector 13000000; the store's data set at cassandra.store " +
    "layout.dataLba, up to sector 20440000) and <= 500.107862016 to fit on the node's disk " +
    "(hdd.sectors: 976773168): current value is 10.35",
  ]);
  assert.deepEqual(paramIssues({ ...small, set, imageGb: 10.47 }, { profile }), []);
});

Deno.test("deno task elasticity prints the table and writes CSV, JSON and SVG; bad input exits 2 and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runScript(
      "experiments/fig_elasticity.ts",
      "--small",
      "--strategies",
      "bare-metal",
      "--nodes",
      "1",
      "--horizon-s",
      "200",
      "--out",
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^strategy +\| first up s \| last up s \| 50 % at s \| 90 % at s \|/);
    assert.match(r.stdout, /\nbare-metal \| +159\.\d \|/);
    assert.match(r.stdout, /1 node added at 0 s, 10\.35 GB image, 200 s in 25 s windows, seed 1/);
    const csv = await Deno.readTextFile(join(dir, "elasticity.csv"));
    assert.match(csv, /^system,timeS,pctOfBareMetal,source\n/);
    assert.equal(csv.trim().split("\n").length, 1 + 8);
    assert.match(await Deno.readTextFile(join(dir, "elasticity.svg")), /capacity/);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "elasticity.json")));
    assert.equal(json.summary[0].strategy, "bare-metal");

    const bad = join(dir, "bad");
    const b = await runScript(
      "experiments/fig_elasticity.ts",
      "--strategies",
      "bmcast,turbo",
      "--nodes",
      "0",
      "--horizon-s",
      "soon",
      "--window-s",
      "0",
      "--seeds",
      "0",
      "--set",
      "hdd.colour=3",
      "--out",
      bad,
    );
    assert.equal(b.code, 2);
    assert.match(b.stderr, /elasticity: invalid input \(6 issues\)/);
    assert.match(b.stderr, /--seeds: must be an integer in \[1, 20\]: current value is 0/);
    assert.match(b.stderr, /--strategies: must be one of bare-metal, /);
    assert.match(b.stderr, /--nodes: must be >= 1: current value is 0/);
    assert.match(b.stderr, /--horizon-s: must be a number: current value is "soon"/);
    assert.match(b.stderr, /--window-s: must be > 0: current value is 0/);
    assert.match(b.stderr, /hdd\.colour/);
    assert.throws(() => Deno.statSync(bad));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("elasticity: an --outage that does not parse is named with the part given", () => {
  // The command line passes the text on when it does not parse as an outage.
  const outage = (text: string) => text as unknown as typeof small.outage;
  const labels = { labels: { outage: "--outage" } };
  assert.deepEqual(paramIssues({ ...small, outage: outage("10:0") }, labels), [
    "--outage durationS: must be > 0: current value is 0",
  ]);
  assert.deepEqual(paramIssues({ ...small, outage: outage("a:5") }, labels), [
    '--outage atS: must be a number: current value is "a"',
  ]);
});

Deno.test("elasticity with parallel runs a registered strategy in this thread (workers know only the built-ins), with the same result as without", async () => {
  const { bareMetal, registerStrategy } = await import("../../lib/deploy/mod.ts");
  registerStrategy("bare-metal-here", bareMetal, { preinstalled: true, deployed: "up" });
  const params = {
    ...small,
    strategies: ["bare-metal-here", "bare-metal"],
    nodes: 1,
    horizonS: 250,
    profile,
  };
  const par = await run({ ...params, parallel: true });
  const seq = await run({ ...params, parallel: false });
  assert.deepEqual(par.summary, seq.summary);
  const [here, built] = par.runs;
  assert.deepEqual(here.windowOps, built.windowOps, "the same code under two names");
});

Deno.test("deno task elasticity writes the same bytes on the same flags: the wall time is printed, not written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = ["--small", "--strategies", "bare-metal", "--nodes", "1", "--horizon-s", "200"];
    const outs = [join(dir, "a"), join(dir, "b")];
    for (const out of outs) {
      const r = await runScript("experiments/fig_elasticity.ts", ...args, "--out", out);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /; wall time \d+\.\d s\n/);
    }
    const names = [...Deno.readDirSync(outs[0])].map((e) => e.name).sort();
    assert.deepEqual(names, ["elasticity.csv", "elasticity.json", "elasticity.svg"]);
    for (const name of names) {
      const [a, b] = outs.map((out) => Deno.readFileSync(join(out, name)));
      assert.deepEqual(a, b, `${name} differs between two identical runs`);
    }
    const json = JSON.parse(await Deno.readTextFile(join(outs[0], "elasticity.json")));
    assert.equal("wallSeconds" in json, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("elasticity bounds the window by what a run keeps: at least 1 ms and at most 10000 windows, and --help says so", async () => {
  const labels = { labels: { sampleEveryS: "--window-s", horizonS: "--horizon-s" } };
  const few = { ...small, horizonS: 200 };
  assert.deepEqual(paramIssues({ ...few, sampleEveryS: 1e-9 }, labels), [
    "--window-s: must be >= 0.02 (at least 0.001 s and --horizon-s (200) / 10000: at most 10000 windows): current value is 1e-9",
  ]);
  assert.deepEqual(paramIssues({ ...few, horizonS: 1, sampleEveryS: 0.0005 }, labels), [
    "--window-s: must be >= 0.001 (at least 0.001 s and --horizon-s (1) / 10000: at most 10000 windows): current value is 0.0005",
  ]);
  assert.deepEqual(paramIssues({ ...few, sampleEveryS: 0.02 }, labels), []);
  assert.equal(MAX_WINDOWS, 10_000);
  assert.equal(MIN_WINDOW_S, 0.001);
  // As a user runs it: refused before any run, not a crash in a worker.
  const r = await runScript(
    "experiments/fig_elasticity.ts",
    ...["--strategies", "bare-metal", "--nodes", "1", "--horizon-s", "200", "--window-s", "1e-9"],
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^elasticity: invalid input \(1 issue\):\n {2}--window-s: must be >= 0\.02 /,
  );
  assert.doesNotMatch(r.stderr, /RangeError| {4}at /);
  const help = await runScript("experiments/fig_elasticity.ts", "--help");
  assert.match(
    help.stdout,
    /--window-s S +capacity sample window, s \(default 25\): at least 0\.001 s and\s+horizon\/10000, at most the horizon \(10000 windows at most\)/,
  );
});
