/**
 * The single-figure scripts (`deno run -A experiments/fig_<name>.ts [--small]`)
 * as a user runs them: `--help` prints the usage and runs nothing, and an
 * unknown flag or a stray argument is refused (exit 2, the flag named)
 * instead of being ignored while the full experiment runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runScript } from "../_script.ts";

const SCRIPTS = ["startup", "storage", "rdma", "cassandra", "fleet"] as const;

for (const name of SCRIPTS) {
  const script = `experiments/fig_${name}.ts`;
  Deno.test(`fig_${name}.ts --help prints its usage and runs nothing`, async () => {
    const r = await runScript(script, "--help");
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^usage: deno run -A experiments/fig_${name}\\.ts \\[--small\\]`),
    );
    assert.match(r.stdout, /--small/);
    // Only the usage: no experiment output.
    assert.doesNotMatch(r.stdout, /\|/);
  });

  Deno.test(`fig_${name}.ts refuses an unknown flag with exit 2, naming it`, async () => {
    const r = await runScript(script, "--smal");
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^fig_${name}: .*--smal`));
    assert.match(r.stderr, /usage: /);
    assert.equal(r.stdout, "");
  });
}

Deno.test("copier, elasticity and sensitivity refuse numbers not written in decimal (0x10), as sim does, with exit 2", async () => {
  const cases = [
    [
      "experiments/fig_copier.ts",
      "--policy",
      "idle:idleThreshold=0x10",
      /idleThreshold: must be a number, written in decimal/,
    ],
    [
      "experiments/fig_copier.ts",
      "--policy",
      "idle:pipeline=0b1",
      /pipeline: must be an integer >= 1, written in decimal/,
    ],
    [
      "experiments/fig_elasticity.ts",
      "--horizon-s",
      "0x10",
      /--horizon-s: must be a number, written in decimal/,
    ],
    [
      "experiments/fig_sensitivity.ts",
      "--step",
      "0o1",
      /--step: must be a number in \(0, 1\), written in decimal/,
    ],
  ] as const;
  const out = await Deno.makeTempDir();
  for (const [script, flag, value, message] of cases) {
    const r = await runScript(script, flag, value, "--out", `${out}/never`);
    assert.equal(r.code, 2, `${script} ${flag} ${value}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, "");
  }
  // Nothing was written.
  assert.deepEqual([...Deno.readDirSync(out)], []);
  await Deno.remove(out, { recursive: true });
});

Deno.test("copier, elasticity and sensitivity name an output they cannot write in one line, exit 1 (as sim) and leave the previous outputs", async () => {
  const cases = [
    ["fig_copier", ["--small", "--policy", "idle:idleThreshold=2e6"], "copier"],
    [
      "fig_elasticity",
      ["--small", "--strategies", "bare-metal", "--nodes", "1", "--horizon-s", "200"],
      "elasticity",
    ],
    ["fig_sensitivity", ["--small", "--path", "hdd.rpm"], "sensitivity"],
  ] as const;
  const dir = await Deno.makeTempDir();
  try {
    for (const [script, args, name] of cases) {
      const out = join(dir, name);
      await Deno.mkdir(join(out, `${name}.json`), { recursive: true }); // where an output goes
      await Deno.writeTextFile(join(out, `${name}.csv`), "old\n");
      const r = await runScript(`experiments/${script}.ts`, ...args, "--out", out);
      assert.equal(r.code, 1, `${script}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `${name}: cannot write --out ${out}: cannot write '${out}/${name}.json': a directory has that name\n`,
      );
      assert.equal(await Deno.readTextFile(join(out, `${name}.csv`)), "old\n");
      assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name).sort(), [
        `${name}.csv`,
        `${name}.json`,
      ]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
