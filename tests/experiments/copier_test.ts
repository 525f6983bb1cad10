import assert from "node:assert/strict";
import { join } from "node:path";
import { caseIssues, label, parsePolicySpec, run, small } from "../../experiments/fig_copier.ts";
import { copyPolicy, runSystem, small as cassandraSmall } from "../../experiments/fig_cassandra.ts";
import { BUILTIN_PROFILE, loadProfile } from "../../lib/scenario/mod.ts";
import { runScript } from "../_script.ts";
import { MAX_SEED } from "../../lib/_util/mod.ts";

const eager = { policy: { kind: "idle" as const, idleThreshold: 500_000 }, pipeline: 3 };
const shy = { policy: { kind: "idle" as const, idleThreshold: 50_000_000 }, pipeline: 3 };

Deno.test("copier: an eager idle copier de-virtualizes sooner but slows the guest more than a shy one", async () => {
  const out = await run({ ...small, cases: [eager, shy] });
  const [e, s] = out.rows;
  assert.deepEqual(out.rows.map((r) => r.policy), ["idle 0.5 ms, 3 ahead", "idle 50 ms, 3 ahead"]);
  assert.ok(e.devirtS < s.devirtS, `${e.devirtS} vs ${s.devirtS}`);
  assert.ok(e.streamingPct < s.streamingPct - 10, `${e.streamingPct} vs ${s.streamingPct}`);
  assert.ok(e.lostS > s.lostS && s.lostS > 0);
  // Neither dominates the other: both on the Pareto front, both drawn.
  assert.deepEqual(out.rows.map((r) => r.pareto), [true, true]);
  assert.deepEqual(out.points.map((p) => [p.label, p.group]), [
    ["idle 0.5 ms, 3 ahead", "idle"],
    ["idle 50 ms, 3 ahead", "idle"],
  ]);
});

Deno.test("copier: Fig. Cassandra's copier as a case reproduces that figure's BMcast run", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const policy = copyPolicy(profile, cassandraSmall)!;
  const c = { policy, pipeline: cassandraSmall.copyBackoff!.pipeline! };
  const out = await run({ ...small, cases: [c], profile });
  const direct = runSystem(profile, "bmcast", cassandraSmall);
  assert.equal(out.rows[0].policy, label(c));
  assert.equal(out.rows[0].devirtS, direct.devirtS);
  assert.equal(out.rows[0].osUpS, direct.startupS);
  assert.equal(out.rows[0].redirectedMB, (direct.redirectedSectors * 512) / 1e6);
});

Deno.test("copier over several seeds: means with their range, each seed against its own bare metal", async () => {
  const one = await run({ ...small, cases: [shy], seed: 2 });
  const two = await run({ ...small, cases: [shy], seed: 1, seeds: 2 });
  assert.deepEqual(two.seeds, [1, 2]);
  const r = two.rows[0];
  assert.ok(r.devirtMinS <= r.devirtS && r.devirtS <= r.devirtMaxS);
  assert.ok(r.streamingMinPct <= r.streamingPct && r.streamingPct <= r.streamingMaxPct);
  // Seed 2 alone is one end of each range.
  assert.ok([r.devirtMinS, r.devirtMaxS].includes(one.rows[0].devirtS));
  assert.ok([r.streamingMinPct, r.streamingMaxPct].includes(one.rows[0].streamingPct));
});

Deno.test("copier: an image that does not hold what the Cassandra run reads, no case, bad workers or an unknown parameter are refused before anything runs", async () => {
  await assert.rejects(
    run({ ...small, imageBytes: 1e9, cases: [shy] }),
    /imageBytes: must be a multiple of 512 >= 6676480000 to hold what the run uses of the image \(the boot's read areas .*; the store's data set .*, up to sector 13040000\) .*: current value is 1000000000/,
  );
  await assert.rejects(
    run({ ...small, cases: [] }),
    /cases: must be a list of one or more copier cases: current value is \[\]/,
  );
  for (const workers of [NaN, 0, 1.5]) {
    await assert.rejects(
      run({ ...small, cases: [shy], workers }),
      new RegExp(`workers: must be an integer >= 1: current value is ${workers}`),
    );
  }
  await assert.rejects(
    run({ ...small, case: [shy] } as never),
    /case: is not an option, did you mean cases\? The options are cases, /,
  );
});

Deno.test("copier: bad cases and windows are rejected with every issue listed", async () => {
  await assert.rejects(
    run({ ...small, cases: [shy], seed: MAX_SEED, seeds: 2 }),
    /seeds: must keep the last seed \(seed \+ seeds - 1 = 4294967296\) <= 4294967295: current value is 2/,
  );
  await assert.rejects(
    run({
      ...small,
      durationS: 0,
      seeds: 0,
      cases: [
        { policy: { kind: "idle", idleThreshold: -1 }, pipeline: 0 },
        { policy: { kind: "rate", bytesPerSecond: 1e6 } as never, pipeline: 1 },
        shy,
        { ...shy, policy: { ...shy.policy, recheck: 1e6 } },
        { policy: { kind: "rate", bytesPerSecond: 1e6, burstBytes: 1e6 }, pipeline: 1 },
      ],
    }),
    (e: Error) =>
      e instanceof RangeError && /\(7 issues\)/.test(e.message) &&
      /cases\[4\]\.policy\.burstBytes: must be >= the copy chunk/.test(e.message) &&
      /cases\[3\]: the same copier as cases\[2\] \(idle 50 ms, 3 ahead\)/.test(e.message) &&
      /seeds: must be an integer in \[1, 20\]: current value is 0/.test(e.message) &&
      /cases\[0\]\.policy\.idleThreshold:/.test(e.message) &&
      /cases\[0\]\.pipeline: must be an integer >= 1: current value is 0/.test(e.message) &&
      /cases\[1\]\.policy\.burstBytes:/.test(e.message) &&
      /durationS: must be a finite number > 0: current value is 0/.test(e.message),
  );
});

Deno.test("copier: a case fetching more chunks ahead than the VMM's memory holds is refused, as the profile would", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  assert.deepEqual(caseIssues([{ ...shy, pipeline: 47 }], { profile }), []);
  assert.deepEqual(caseIssues([{ ...shy, pipeline: 48 }], { profile }), [
    "cases[0].pipeline: must be <= 47 to keep the copier's buffers, (pipeline + 1) x 4194304 bytes, " +
    "in the VMM's memory above its image (3/4 of vmm.memoryBytes: 201326592 bytes): current value is 48",
  ]);
});

Deno.test("copier: a learned order is named, takes the earlier deployment's redirected reads, and is a row of its own", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const learned = { ...shy, order: "learned" as const };
  const p = { ...cassandraSmall, durationS: 4, sampleEveryS: 2, copyBackoff: undefined };
  const out = await run({
    ...small,
    cases: [shy, learned],
    durationS: 4,
    sampleEveryS: 2,
    profile,
  });
  assert.deepEqual(out.rows.map((r) => [r.policy, r.order]), [
    ["idle 50 ms, 3 ahead", "disk"],
    ["idle 50 ms, 3 ahead, learned order", "learned"],
  ]);
  // The same run as BMcast given the next seed's redirected reads as its copy order.
  const withShy = { ...profile, vmm: { ...profile.vmm, pipeline: { value: 3, source: "test" } } };
  const copier = { value: shy.policy, source: "test" };
  const prof = { ...withShy, vmm: { ...withShy.vmm, copyPolicy: copier } };
  const earlier = runSystem(prof, "bmcast", { ...p, seed: 2 });
  assert.ok(earlier.redirectedRuns.length > 0);
  const direct = runSystem(prof, "bmcast", { ...p, copyOrder: earlier.redirectedRuns });
  assert.equal(out.rows[1].osUpS, direct.startupS);
  assert.equal(out.rows[1].redirectedMB, (direct.redirectedSectors * 512) / 1e6);
  assert.notEqual(out.rows[1].osUpS, out.rows[0].osUpS, "the order changed the run");
  assert.deepEqual(parsePolicySpec("idle:idleThreshold=2e6,pipeline=3,order=learned").case, {
    policy: { kind: "idle", idleThreshold: 2e6 },
    pipeline: 3,
    order: "learned",
  });
  assert.deepEqual(parsePolicySpec("idle:idleThreshold=2e6,order=hot").issues, [
    '--policy "idle:idleThreshold=2e6,order=hot": order: must be one of disk, learned: current value is "hot"',
  ]);
  await assert.rejects(
    run({ ...small, cases: [{ ...shy, order: "hot" as never }] }),
    /cases\[0\]\.order: must be one of disk, learned: current value is "hot"/,
  );
});

Deno.test("copier: a policy spec names the kind, the field and the allowed values when wrong", () => {
  const ok = parsePolicySpec("adaptive:minIdle=2e6,maxIdle=2e8,step=1e6,pipeline=3");
  assert.deepEqual(ok, {
    case: {
      policy: { kind: "adaptive", minIdle: 2e6, maxIdle: 2e8, step: 1e6 },
      pipeline: 3,
    },
    issues: [],
  });
  assert.deepEqual(parsePolicySpec("fast").issues, [
    '--policy "fast": the kind must be one of idle, rate, adaptive: current value is "fast"',
  ]);
  assert.deepEqual(parsePolicySpec("adaptve").issues, [
    '--policy "adaptve": the kind must be one of idle, rate, adaptive, did you mean adaptive?: current value is "adaptve"',
  ]);
  assert.deepEqual(
    parsePolicySpec("adaptive:minIdle=2e6,maxIdle=2e8,step=1e6,redirectAware=true,pipeline=3").case,
    {
      policy: { kind: "adaptive", minIdle: 2e6, maxIdle: 2e8, step: 1e6, redirectAware: true },
      pipeline: 3,
    },
  );
  assert.deepEqual(
    parsePolicySpec("adaptive:minIdle=0,maxIdle=1,step=1,redirectAware=yes").issues,
    [
      '--policy "adaptive:minIdle=0,maxIdle=1,step=1,redirectAware=yes": redirectAware: must be true or false: current value is "yes"',
    ],
  );
  const bad = parsePolicySpec("idle:idleTreshold=5e6,recheck=x,pipeline=0");
  assert.equal(bad.case, undefined);
  assert.deepEqual(bad.issues, [
    '--policy "idle:idleTreshold=5e6,recheck=x,pipeline=0": idleTreshold: not a field of the idle policy, did you mean idleThreshold? (fields: idleThreshold, recheck, pipeline, order)',
    '--policy "idle:idleTreshold=5e6,recheck=x,pipeline=0": recheck: must be a number: current value is "x"',
    '--policy "idle:idleTreshold=5e6,recheck=x,pipeline=0": pipeline: must be an integer >= 1: current value is "0"',
    '--policy "idle:idleTreshold=5e6,recheck=x,pipeline=0": idleThreshold: Invalid input: expected number, received undefined',
  ]);
});

Deno.test("copier: a policy spec with a field given twice or an empty item is refused, naming them, not read as the last value or skipped", () => {
  const twice = "idle:idleThreshold=5e6,idleThreshold=6e6,pipeline=2,pipeline=2";
  assert.deepEqual(parsePolicySpec(twice), {
    issues: [
      `--policy "${twice}": idleThreshold: given more than once`,
      `--policy "${twice}": pipeline: given more than once`,
    ],
  });
  const empty = "idle:idleThreshold=5e6,,pipeline=3,";
  assert.deepEqual(parsePolicySpec(empty), {
    issues: [
      `--policy "${empty}": item 2 is empty (items are key=value, separated by ",")`,
      `--policy "${empty}": item 4 is empty (items are key=value, separated by ",")`,
    ],
  });
  // A kind alone, with or without its colon, is no empty item: only its missing fields are named.
  assert.deepEqual(
    parsePolicySpec("idle:").issues.map((i) => i.replace('"idle:"', '"idle"')),
    parsePolicySpec("idle").issues,
  );
});

Deno.test("copier: a policy spec item without a key is refused as such, naming the item", () => {
  const spec = "idle:=1,=2";
  assert.deepEqual(parsePolicySpec(spec).issues, [
    `--policy "${spec}": item 1 has no key (items are key=value, separated by ",")`,
    `--policy "${spec}": item 2 has no key (items are key=value, separated by ",")`,
    `--policy "${spec}": idleThreshold: Invalid input: expected number, received undefined`,
  ]);
});

Deno.test("deno task copier prints the table and writes CSV, JSON and SVG; bad input exits 2 and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runScript(
      "experiments/fig_copier.ts",
      "--small",
      "--policy",
      "rate:bytesPerSecond=6e7,burstBytes=8388608",
      "--seed",
      "2",
      "--set",
      "hdd.rpm=7200",
      "--out",
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^policy +\| OS up s \| de-virtualized s \| streaming % \|/);
    assert.match(r.stdout, /\nrate 60 MB\/s, 1 ahead \| +[\d.]+ \| +[\d.]+ \|/);
    assert.match(r.stdout, /7 GB image, 320 s in 10 s windows, seed 2; bare metal \d+ ops\/s/);
    const csv = await Deno.readTextFile(join(dir, "copier.csv"));
    assert.match(
      csv,
      /^policy,kind,pipeline,order,osUpS,devirtS,devirtMinS,devirtMaxS,streamingPct,/,
    );
    assert.match(await Deno.readTextFile(join(dir, "copier.svg")), /rate 60 MB\/s, 1 ahead/);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "copier.json")));
    assert.equal(json.rows.length, 1);
    // The run's own seed and profile changes (it said seed 1, the --small default, whatever --seed was).
    assert.deepEqual([json.seed, json.seeds, json.set], [2, [2], { "hdd.rpm": 7200 }]);
    // The wall time is printed, not written: the same flags write the same bytes.
    assert.match(r.stdout, /; wall time \d+\.\d s\n/);
    assert.equal("wallSeconds" in json, false);

    // A rate bucket smaller than the profile's copy chunk would never copy: bad input, not a crash.
    const tiny = await runScript(
      "experiments/fig_copier.ts",
      "--small",
      "--policy",
      "rate:bytesPerSecond=1e6,burstBytes=1e6",
      "--out",
      join(dir, "tiny"),
    );
    assert.equal(tiny.code, 2, tiny.stderr);
    assert.match(
      tiny.stderr,
      /--policy "rate:bytesPerSecond=1e6,burstBytes=1e6": burstBytes: must be >= the copy chunk \(vmm\.chunkSectors: 8192 x 512 = 4194304 bytes\)/,
    );
    assert.throws(() => Deno.statSync(join(dir, "tiny")));

    const bad = join(dir, "bad");
    const b = await runScript(
      "experiments/fig_copier.ts",
      "--seed=x",
      "--policy",
      "turbo",
      "--set",
      "hdd.colour=3",
      "--out",
      bad,
    );
    assert.equal(b.code, 2);
    assert.match(b.stderr, /copier: invalid input \(3 issues\)/);
    assert.match(b.stderr, /--seed: must be an integer in \[0, 4294967295\]/);
    assert.match(b.stderr, /--policy "turbo": the kind must be one of idle, rate, adaptive/);
    assert.match(b.stderr, /hdd\.colour/);
    assert.throws(() => Deno.statSync(bad));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
