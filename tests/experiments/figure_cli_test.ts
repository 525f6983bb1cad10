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
    assert.match(
      r.stderr,
      new RegExp(
        `^fig_${name}: invalid input \\(1 issue\\):\\n {2}--smal: not a flag of fig_${name}, did you mean --small\\? Its flags: --small, [^\\n]*--help\\n`,
      ),
    );
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

Deno.test("copier, elasticity, sensitivity and report list a flag given twice with every other issue, each --set item's too, exit 2 and write nothing", async () => {
  const out = await Deno.makeTempDir();
  const set = ["--set", "oops", "--set", "hdd.rpm=fast"];
  const cases = [
    ["fig_copier", ["--seed", "1", "--seed", "2", "--seeds", "0", ...set, "--out", `${out}/x`], 4],
    [
      "fig_elasticity",
      ["--seed", "1", "--seed", "2", "--nodes", "x", ...set, "--out", `${out}/x`],
      4,
    ],
    ["fig_sensitivity", ["--top", "1", "--top", "2", "--step", "2", "--out", `${out}/x`], 2],
    ["report", ["--seed", "1", "--seed", "2", ...set, "--out", `${out}/x/r.html`], 3],
  ] as const;
  for (const [script, args, count] of cases) {
    const r = await runScript(`experiments/${script}.ts`, ...args);
    assert.equal(r.code, 2, `${script}: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(`: invalid input \\(${count} issues\\):\\n  --(seed|top): given more than once: `),
    );
    if (script !== "fig_sensitivity") {
      assert.match(r.stderr, /\n {2}--set: "oops": must be PATH=VALUE/);
      assert.match(r.stderr, /\n {2}--set: hdd\.rpm: must be a number: current value is "fast"\n/);
    }
    assert.equal(r.stdout, "");
  }
  assert.deepEqual([...Deno.readDirSync(out)], []);
  await Deno.remove(out, { recursive: true });
});

Deno.test("sensitivity --help says it exits 1 when the run fails or the outputs cannot be written", async () => {
  const r = await runScript("experiments/fig_sensitivity.ts", "--help");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /Exit status: 0 done, 1 the\s+run failed or the outputs could not be written/,
  );
});

Deno.test("copier, elasticity, sensitivity and report list an unknown flag, a missing value and an argument with a bad count, exit 2 and write nothing", async () => {
  const out = await Deno.makeTempDir();
  const cases = [
    ["fig_copier", ["--bogus", "--seeds", "0", "extra", "--seed"], 4],
    ["fig_elasticity", ["--bogus", "--nodes", "x", "extra", "--seed"], 4],
    ["fig_sensitivity", ["--bogus", "--step", "2", "extra", "--top"], 4],
    ["report", ["--bogus", "--seed", "-1", "extra", "--profile"], 4],
  ] as const;
  for (const [script, args, count] of cases) {
    const r = await runScript(`experiments/${script}.ts`, ...args, "--out", `${out}/x`);
    assert.equal(r.code, 2, `${script}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`: invalid input \\(${count} issues\\):\\n`), script);
    assert.match(r.stderr, /\n {2}--bogus: not a flag of \w+; its flags: --/, script);
    assert.match(r.stderr, /\n {2}"extra": not a flag; \w+ takes only flags/, script);
    assert.match(r.stderr, /\n {2}--\w+: needs a value/, script);
    assert.match(r.stderr, /\n {2}--(seeds|nodes|step|seed): must be /, script);
    assert.match(r.stderr, /\nusage: /, script);
    assert.equal(r.stdout, "");
  }
  assert.deepEqual([...Deno.readDirSync(out)], []);
  await Deno.remove(out, { recursive: true });
});

Deno.test("fig_cassandra.ts lists every bad input at once in the usual format: an --outage that does not parse with an unknown flag", async () => {
  const both = await runScript("experiments/fig_cassandra.ts", "--outage", "x", "--bogus");
  assert.equal(both.code, 2);
  assert.match(
    both.stderr,
    /^fig_cassandra: invalid input \(2 issues\):\n {2}--bogus: not a flag of fig_cassandra; [^\n]*\n {2}--outage: must be AT:DURATION in seconds, 0 <= AT <= 86400, 0 < DURATION <= 86400: current value is "x"\nusage: /,
  );
  const alone = await runScript("experiments/fig_cassandra.ts", "--outage", "10:-1");
  assert.equal(alone.code, 2);
  assert.match(
    alone.stderr,
    /^fig_cassandra: invalid input \(1 issue\):\n {2}--outage: must be [^\n]*: current value is "10:-1"\nusage: /,
  );
  assert.equal(both.stdout + alone.stdout, "");
});

Deno.test("sensitivity refuses a --path given twice as bad input, with every other issue, exit 2 and no stack trace", async () => {
  const out = await Deno.makeTempDir();
  try {
    const args = ["--small", "--path", "hdd.rpm", "--path", "hdd.rpm", "--out", `${out}/x`];
    const r = await runScript("experiments/fig_sensitivity.ts", ...args, "--bogus");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^sensitivity: invalid input \(2 issues\):\n/);
    assert.match(r.stderr, /\n {2}--bogus: not a flag of sensitivity/);
    assert.match(
      r.stderr,
      /\n {2}--path: must not name a path twice \(hdd\.rpm\): current value is \["hdd\.rpm","hdd\.rpm"\]\n/,
    );
    assert.doesNotMatch(r.stderr, /Uncaught|RangeError| {4}at /);
    assert.equal(r.stdout, "");
    assert.deepEqual([...Deno.readDirSync(out)], []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("the single-figure scripts' --help states their exit status", async () => {
  for (const name of SCRIPTS) {
    const r = await runScript(`experiments/fig_${name}.ts`, "--help");
    assert.match(
      r.stdout,
      /\n {2}exit status: 0 done, 1 the experiment failed, 2 invalid input \(every issue listed at once\)\n?$/,
      name,
    );
  }
});

// An --out found unusable before the run is bad usage (2: nothing runs or is written); an
// output that cannot be written after the run is 1 (3 for repro, whose 1 is a metric).
const OUT_RULE = [
  ["sim", "experiments/sim.ts", []],
  ["repro", "experiments/repro.ts", []],
  ["report", "experiments/report.ts", ["--small"]],
  ["copier", "experiments/fig_copier.ts", ["--small"]],
  ["elasticity", "experiments/fig_elasticity.ts", ["--small"]],
  ["sensitivity", "experiments/fig_sensitivity.ts", ["--small"]],
] as const;

Deno.test("an --out found unusable before the run exits 2 with the issue in the usual list, in every command that writes, before anything runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "a-file");
    await Deno.writeTextFile(file, "");
    for (const [name, script, args] of OUT_RULE) {
      const outs = name === "report"
        ? [["/proc/x.html", /--out: cannot create files in '\/proc'/], [
          `${file}/r.html`,
          /--out: '.*a-file' is not a directory/,
        ]]
        : [["/proc/x", /--out: cannot create files in '\/proc'/], [
          file,
          /--out: '.*a-file' is not a directory/,
        ]];
      for (const [out, why] of outs) {
        const r = await runScript(script, ...args, "--out", out as string);
        assert.equal(r.code, 2, `${name} --out ${out}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^${name}: invalid input \\(1 issue\\):\\n`), name);
        assert.match(r.stderr, why as RegExp, name);
        assert.equal(r.stdout, "", name);
      }
    }
    assert.equal(await Deno.readTextFile(file), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every command that writes says in --help: 2 for an --out found unusable before the run, 1 (repro: 3) for outputs not written after it", async () => {
  for (const [name, script] of OUT_RULE) {
    const r = await runScript(script, "--help");
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.replace(/\s+/g, " ");
    assert.match(
      text,
      /2 (bad usage|invalid input|bad arguments), also an --out found unusable before the run \(nothing runs or is written\)/,
      name,
    );
    const after = name === "repro" ? "3" : "1";
    assert.match(
      text,
      new RegExp(
        `${after} (a crash or )?(the (simulation|run) failed or )?the (outputs|report) could not be written after the run`,
      ),
      name,
    );
  }
  const boot = (await runScript("experiments/boot_trace.ts", "--help")).stdout.replace(/\s+/g, " ");
  assert.match(
    boot,
    /exit status: 0 done, 1 the output could not be written after the trace was read .*, 2 invalid input \(every issue listed at once; also an --out found unusable before anything is written/,
  );
});
