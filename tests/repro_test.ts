/**
 * `deno task repro`, the main job, end to end: spawned as a user runs it
 * (stderr a pipe, so no progress bar), on the quick configurations.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runScript } from "./_script.ts";

const repro = (...args: string[]) => runScript("experiments/repro.ts", ...args);

Deno.test("repro --small prints the comparison table and writes every output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await repro("--small", "--out", dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.match(lines[0], /^figure\s*\|\s*metric\s*\|\s*paper\s*\|\s*simulated\s*\|\s*error %/);
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
    const comparisons = json.figures.flatMap((f: { comparisons: unknown[] }) => f.comparisons);
    const csvRows = (await Deno.readTextFile(join(dir, "comparison.csv"))).trim().split("\n");
    assert.equal(csvRows.length, comparisons.length + 1);
    assert.match(r.stdout, /metrics within tolerance; wall time [\d.]+ s/);
    assert.match(r.stdout, /nothing judged/);
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
        [["--bogus"], /Unknown option '--bogus'/],
        [["extra"], /Unexpected argument 'extra'/],
        [["--out", file], /--out must name a directory/],
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
