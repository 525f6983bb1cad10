/**
 * The single-figure scripts (`deno run -A experiments/fig_<name>.ts [--small]`)
 * as a user runs them: `--help` prints the usage and runs nothing, and an
 * unknown flag or a stray argument is refused (exit 2, the flag named)
 * instead of being ignored while the full experiment runs.
 */
import assert from "node:assert/strict";
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
