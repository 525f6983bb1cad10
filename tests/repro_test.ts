/**
 * `deno task repro`, the main job, end to end: spawned as a user runs it
 * (stderr a pipe, so no progress bar), on the quick configurations.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runScript } from "./_script.ts";
import { formatSpread, reproduce, tidyComparison } from "../experiments/repro.ts";
import { compare, spreadOverSeeds } from "../lib/scenario/mod.ts";

const repro = (...args: string[]) => runScript("experiments/repro.ts", ...args);

Deno.test("repro --small prints the comparison table and writes every output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await repro("--small", "--set", "hdd.rpm=7200", "--out", dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    // Quick configurations are shown, not judged: no status column, no pass count.
    assert.match(lines[0], /^figure\s*\|\s*metric\s*\|\s*paper\s*\|\s*simulated\s*\|\s*error %$/);
    assert.doesNotMatch(r.stdout, /FAIL|\| ok$|within tolerance/m);
    for (const fig of ["startup", "cassandra", "storage", "rdma"]) {
      assert.ok(lines.some((l) => l.startsWith(fig)), `no ${fig} row`);
      assert.match(await Deno.readTextFile(join(dir, `fig_${fig}.svg`)), /^<svg[\s\S]*<\/svg>\s*$/);
      const csv = (await Deno.readTextFile(join(dir, `fig_${fig}.csv`))).trim().split("\n");
      assert.ok(csv.length > 1, `fig_${fig}.csv has no rows`);
    }
    const json = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.deepEqual(json.figures.map((f: { name: string }) => f.name), [
      "startup",
      "cassandra",
      "storage",
      "rdma",
    ]);
    assert.equal(json.small, true);
    assert.deepEqual(json.seeds, [1]);
    // The wall time is printed, not written: the same flags write the same bytes.
    assert.match(r.stdout, /; wall time \d+\.\d s; outputs in /);
    assert.equal("wallSeconds" in json, false);
    assert.deepEqual(json.profile, {
      name: "paper-2015",
      path: "data/profiles/paper-2015.json",
      overrides: { "hdd.rpm": 7200 },
    });
    assert.match(
      r.stdout,
      /^profile paper-2015 \(data\/profiles\/paper-2015\.json\) with hdd\.rpm=7200, seed 1$/m,
    );
    const comparisons = json.figures.flatMap((f: { comparisons: unknown[] }) => f.comparisons);
    const csvRows = (await Deno.readTextFile(join(dir, "comparison.csv"))).trim().split("\n");
    assert.equal(csvRows.length, comparisons.length + 1);
    // Fig. Cassandra's "below bare metal" checks are a band, shown as such, not as "paper 85".
    assert.match(csvRows[0], /^figure,metric,paper,paperLow,paperHigh,simulated,/);
    assert.equal(csvRows.filter((l) => /^cassandra,.*,,70,100,/.test(l)).length, 4);
    assert.equal(lines.filter((l) => /^cassandra .*\| 70-100 \|/.test(l)).length, 4);
    assert.doesNotMatch(r.stdout, /\|\s+85 \|/);
    assert.match(r.stdout, /^\d+ metrics, not judged; wall time [\d.]+ s/m);
    assert.match(r.stdout, /nothing judged/);
    // The CLI ran startup, storage and RDMA in a worker beside Cassandra: in this thread, the same.
    const inThread = await reproduce({ small: true, parallel: false });
    for (const [i, f] of inThread.entries()) {
      assert.equal(f.svg, await Deno.readTextFile(join(dir, `fig_${f.name}.svg`)), f.name);
      assert.deepEqual(JSON.parse(JSON.stringify(f.rows)), json.figures[i].rows, f.name);
    }
    // no temporary folder left behind
    for await (const e of Deno.readDir(dir)) assert.ok(!e.name.startsWith(".repro-"), e.name);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("repro rejects bad usage with exit 2, the reason and the usage, writing nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "a-file");
    await Deno.writeTextFile(file, "x");
    for (
      const [args, reason] of [
        [["--bogus"], /\n {2}--bogus: not a flag of repro; its flags: --/],
        [["extra"], /\n {2}"extra": not a flag; repro takes only flags/],
        [["--out", file], /--out: '.*a-file' is not a directory/],
        [["--out", join(file, "sub")], /--out: '.*a-file' is not a directory/],
        [["--seeds", "0"], /--seeds: must be an integer in \[1, 100\]: current value is "0"/],
        [["--seed", "x", "--profile", join(dir, "none.json")], /--profile: cannot read .*none/],
        [["--set", "hdd.rpm=fast"], /--set: hdd\.rpm: must be a number: current value is "fast"/],
        // The last seed, S+N-1, would pass the simulator's largest seed.
        [["--seed", "4294967295", "--seeds", "2"], /--seeds: [^\n]*\b4294967295\b/],
        [["--seed", "4294967200", "--seeds", "97"], /--seeds: [^\n]*\b4294967295\b/],
      ] as const
    ) {
      const r = await repro(...args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, reason);
      assert.match(r.stderr, /usage: deno task repro/);
      assert.equal(r.stdout, "");
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a-file"]);
    const help = await repro("--help");
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /Exit status: 0 all metrics within tolerance, 1 some outside, 2 bad usage/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("repro lists every issue at once: a flag given twice, a bad count, a malformed --set item and another item's bad value", async () => {
  const r = await repro(
    "--seed",
    "1",
    "--seed",
    "2",
    "--seeds",
    "0",
    "--set",
    "oops",
    "--set",
    "hdd.rpm=fast",
  );
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^repro: invalid input \(4 issues\):\n/);
  assert.match(r.stderr, /\n {2}--seed: given more than once: current value is "1", "2"\n/);
  assert.match(r.stderr, /\n {2}--seeds: must be an integer in \[1, 100\]: current value is "0"\n/);
  assert.match(r.stderr, /\n {2}--set: "oops": must be PATH=VALUE/);
  assert.match(r.stderr, /\n {2}--set: hdd\.rpm: must be a number: current value is "fast"\n/);
});

Deno.test("repro names an output it cannot write in one line after its summary, exits 3 (not 1, a metric outside tolerance) and leaves the previous outputs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "fig_startup.csv")); // a directory where an output goes
    await Deno.writeTextFile(join(dir, "comparison.csv"), "old\n");
    const r = await repro("--small", "--out", dir);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(
      r.stderr,
      `repro: cannot write --out ${dir}: cannot write '${dir}/fig_startup.csv': a directory has that name\n`,
    );
    assert.match(r.stdout, /^figure\s*\|/, "the table is still shown");
    assert.match(r.stdout, /^\d+ metrics, not judged; wall time [\d.]+ s$/m, "and the summary");
    assert.match(r.stdout, /^profile paper-2015 \(data\/profiles\/paper-2015\.json\), seed 1$/m);
    assert.doesNotMatch(r.stdout, /outputs in/);
    assert.equal(await Deno.readTextFile(join(dir, "comparison.csv")), "old\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "comparison.csv",
      "fig_startup.csv",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("repro's results.json records each --set value as the profile takes it (a number, a JSON object), as sim.json does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const policy = '{"kind":"idle","idleThreshold":1e6}';
    const r = await repro(
      "--small",
      "--set",
      "hdd.rpm=15000",
      "--set",
      `vmm.copyPolicy=${policy}`,
      "--out",
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.deepEqual(json.profile.overrides, {
      "hdd.rpm": 15000,
      "vmm.copyPolicy": { kind: "idle", idleThreshold: 1e6 },
    });
    // The summary line shows them as given.
    assert.match(r.stdout, new RegExp(`with hdd\\.rpm=15000, vmm\\.copyPolicy=\\{"kind":"idle"`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("repro --small leaves every pass cell of comparison.csv empty (null in results.json): nothing is judged", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await repro("--small", "--out", dir);
    assert.equal(r.code, 0, r.stderr);
    const [head, ...rows] = (await Deno.readTextFile(join(dir, "comparison.csv"))).trim().split(
      "\n",
    );
    // Metric names hold quoted commas: the pass cell is the one before the seed, last.
    assert.match(head, /,pass,seed$/);
    for (const l of rows) assert.match(l, /,[^,]+,,1$/);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    const comparisons = json.figures.flatMap((f: { comparisons: unknown[] }) => f.comparisons);
    assert.ok(comparisons.length > 0);
    for (const c of comparisons) assert.equal(c.pass, null, JSON.stringify(c));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("repro --no-judge runs the full configurations, shows the paper's values and exits 0 although a metric is outside tolerance (Known deviations)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await repro("--no-judge", "--out", dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /--no-judge: the paper's values are shown beside the simulated ones, nothing judged/,
    );
    assert.doesNotMatch(r.stdout, /FAIL|outside tolerance|within tolerance/);
    // The full configuration: the KVM/Local write the paper gives as 100 MB/s is shown with it.
    assert.match(r.stdout, /storage .*KVM\/Local.*write.*\| +100 +\|/);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.equal(json.small, false);
    assert.equal(json.judged, false);
    for (const f of json.figures) {
      for (const c of f.comparisons) assert.equal(c.pass, null, JSON.stringify(c));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("repro --seeds N runs every seed and shows each metric's spread (judged per seed: formatSpread below)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await repro("--small", "--seed", "1", "--seeds", "2", "--out", dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.match(
      lines[0],
      /^figure\s*\|\s*metric\s*\|\s*paper\s*\|\s*mean\s*\|\s*min\s*\|\s*max\s*\|\s*worst error %$/,
    );
    assert.doesNotMatch(r.stdout, /seeds\)|FAIL|within tolerance/, "--small: not judged");
    assert.match(r.stdout, /^\d+ metrics, not judged; wall time/m);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.deepEqual(json.seeds, [1, 2]);
    assert.equal(json.figures.length, 8);
    const perSeed = json.figures.slice(0, 4).flatMap((f: { comparisons: unknown[] }) =>
      f.comparisons
    );
    assert.equal(json.spread.length, perSeed.length, "one spread row per metric");
    for (const s of json.spread) assert.deepEqual([s.pass, s.passes], [null, null], "not judged");
    const csv = (await Deno.readTextFile(join(dir, "fig_startup.csv"))).trim().split("\n");
    const seedCol = csv[0].split(",").indexOf("seed");
    assert.ok(seedCol >= 0, csv[0]);
    assert.deepEqual([...new Set(csv.slice(1).map((l) => l.split(",")[seedCol]))], ["1", "2"]);
    // Seed 2 of the two-seed run is the same run as seed 2 alone.
    const alone = await repro("--small", "--seed", "2", "--out", join(dir, "alone"));
    assert.equal(alone.code, 0, alone.stderr);
    const json2 = JSON.parse(await Deno.readTextFile(join(dir, "alone", "results.json")));
    const simulated = (figs: { seed: number; comparisons: { simulated: number }[] }[]) =>
      figs.filter((f) => f.seed === 2).flatMap((f) => f.comparisons.map((c) => c.simulated));
    assert.deepEqual(simulated(json.figures), simulated(json2.figures));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("repro shows a metric the run never reached as such, and still writes every output", async () => {
  // A 100 Mb/s network: the Cassandra run ends before BMcast's copy does, so it never
  // de-virtualizes and "after de-virtualization" has no value (simulated NaN).
  const dir = await Deno.makeTempDir();
  try {
    const r = await repro("--small", "--set", "network.lineRate=12.5e6", "--out", dir);
    assert.equal(r.code, 0, r.stderr); // --small: nothing judged
    const line = r.stdout.split("\n").find((l) => l.includes("after de-virtualization"));
    assert.ok(line, r.stdout);
    assert.match(line, /\|\s+100 \| not reached \|\s+n\/a$/);
    assert.doesNotMatch(r.stdout, /NaN/);
    assert.match(r.stdout, /nothing judged/);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    const after = json.figures.flatMap((f: { comparisons: { metric: string }[] }) => f.comparisons)
      .find((c: { metric: string }) => c.metric.includes("after de-virtualization"));
    assert.deepEqual([after.simulated, after.errorPct, after.pass], [null, null, null]);
    for (const f of ["fig_cassandra.svg", "fig_cassandra.csv", "comparison.csv"]) {
      assert.ok((await Deno.stat(join(dir, f))).size > 0, f);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("formatSpread() shows a metric some seeds never reached as the table does, failing", () => {
  const run = (v: number) => [
    compare({ figure: "f", metric: "m", paper: 100, simulated: v, tolerancePct: 1 }),
  ];
  const spread = spreadOverSeeds([run(100.5), run(NaN), run(99.8)]);
  assert.deepEqual(
    [spread[0].mean, spread[0].min, spread[0].max, spread[0].passes, spread[0].pass],
    [100.15, 99.8, 100.5, 2, false],
  );
  assert.ok(Number.isNaN(spread[0].worstErrorPct));
  const none = spreadOverSeeds([run(NaN), run(NaN)]);
  const lines = formatSpread([...spread, ...none, ...spreadOverSeeds([run(100), run(100.2)])])
    .split("\n");
  assert.doesNotMatch(lines.join("\n"), /NaN/);
  assert.match(
    lines[1],
    /\|\s+100\.2 \|\s+99\.8 \|\s+100\.5 \|\s+n\/a \| FAIL \(2\/3 seeds within \u00b11%, 1 not reached\)$/,
  );
  assert.match(
    lines[2],
    /\| not reached \| not reached \| not reached \|\s+n\/a \| FAIL \(0\/2 seeds within \u00b11%, 2 not reached\)$/,
  );
  assert.match(lines[3], /\|\s+100\.1 \|\s+100 \|\s+100\.2 \|\s+\+0\.2 \| ok \(2\/2 seeds\)$/);
  const bars = (l: string) => [...l.matchAll(/ \| /g)].map((m) => m.index);
  for (const l of lines) assert.deepEqual(bars(l), bars(lines[0]), l);
});

Deno.test("comparison.csv and results.json give a band as paperLow and paperHigh, its paper and tolerance empty", () => {
  const band = compare({
    figure: "cassandra",
    metric: "kvm-local: mean % of bare metal",
    band: { low: 70, high: 100 },
    simulated: 93,
  });
  const point = compare({ figure: "f", metric: "m", paper: 63, simulated: 64, tolerancePct: 5 });
  assert.deepEqual(Object.entries(tidyComparison({ ...band, seed: 1 })), [
    ["figure", "cassandra"],
    ["metric", "kvm-local: mean % of bare metal"],
    ["paper", null],
    ["paperLow", 70],
    ["paperHigh", 100],
    ["simulated", 93],
    ["tolerancePct", null],
    ["errorPct", 0],
    ["pass", true],
    ["seed", 1],
  ]);
  // A value the paper reports keeps every column as it was, the bounds empty.
  const tidy = tidyComparison(point);
  assert.deepEqual(Object.keys(tidy), [
    "figure",
    "metric",
    "paper",
    "paperLow",
    "paperHigh",
    "simulated",
    "tolerancePct",
    "errorPct",
    "pass",
  ]);
  assert.deepEqual([tidy.paper, tidy.paperLow, tidy.paperHigh, tidy.tolerancePct], [
    63,
    null,
    null,
    5,
  ]);
});

Deno.test("formatSpread() shows a band metric's band and whether every seed is inside it", () => {
  const run = (v: number) => [
    compare({ figure: "f", metric: "m", band: { low: 70, high: 100 }, simulated: v }),
  ];
  const lines = formatSpread([
    ...spreadOverSeeds([run(80), run(90)]),
    ...spreadOverSeeds([run(80), run(63)]),
    ...spreadOverSeeds([run(80), run(100)]),
  ]).split("\n");
  assert.match(lines[1], /\| 70-100 \|\s+85 \|\s+80 \|\s+90 \|\s+in band \| ok \(2\/2 seeds\)$/);
  assert.match(
    lines[2],
    /\| 70-100 \|.*\|\s+-10\.0 \(below band\) \| FAIL \(1\/2 seeds in band\)$/,
  );
  // The band is half-open: a seed exactly at its high bound is outside, by 0.
  assert.match(lines[3], /\|\s+\+0\.0 \(above band\) \| FAIL \(1\/2 seeds in band\)$/);
});
