/**
 * `deno task sim` end to end: the CLI is spawned as a user would run it
 * (stderr is a pipe, so no progress bar). Image sizes are the smallest the
 * built-in boot fits in, so each run takes a second or two.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  BUILTIN_PROFILE,
  imageSizeRange,
  loadProfile,
  minImageBytes,
  strategyNames,
} from "../lib/scenario/mod.ts";
import type { SimDocument } from "../experiments/sim.ts";
import { ROOT, runScript } from "./_script.ts";

const profile = await loadProfile(BUILTIN_PROFILE);
/** Smallest image (GB, 2 decimals) the built-in boot fits in. */
const IMAGE_GB = String(Math.ceil(minImageBytes(profile) / 1e7) / 100);

const sim = (...args: string[]) => runScript("experiments/sim.ts", ...args);

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("sim --help lists every flag and strategy and exits 0", async () => {
  const r = await sim("--help");
  assert.equal(r.code, 0, r.stderr);
  for (
    const flag of [
      "--strategy",
      "--nodes",
      "--seed",
      "--image-gb",
      "--stagger-s",
      "--profile",
      "--set",
      "--sweep",
      "--until",
      "--outage",
    ]
  ) {
    assert.match(r.stdout, new RegExp(flag));
  }
  for (const flag of ["--scenario", "--json", "--out"]) assert.match(r.stdout, new RegExp(flag));
  for (const column of ["server GB", "disk GB", "link %", "disk %"]) {
    assert.ok(r.stdout.includes(`(${column}`), column);
  }
  for (const s of strategyNames()) assert.ok(r.stdout.includes(s), s);
  assert.match(
    r.stdout,
    /exit status: 0 done, 1 the simulation failed or the outputs could not be written\s+after the run \(the previous ones are left as they were\), 2 invalid input, also an\s+--out found unusable before the run \(nothing runs or is written\)/,
  );
});

Deno.test("sim boots two BMcast nodes concurrently: JSON rows for both, files in --out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "results");
    const r = await sim(
      "--strategy",
      "bmcast",
      "--nodes",
      "2",
      "--image-gb",
      IMAGE_GB,
      "--json",
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes("[#"), "no progress bar when stderr is not a terminal");
    const doc: SimDocument = JSON.parse(r.stdout);
    assert.deepEqual([...new Set(doc.rows.map((x) => x.node))], ["node0", "node1"]);
    assert.deepEqual(doc.totals.map((t) => t.node), ["node0", "node1"]);
    for (const node of ["node0", "node1"]) {
      const phases = doc.rows.filter((x) => x.node === node);
      assert.deepEqual(phases.map((p) => p.phase), ["VMM boot", "OS boot"]);
      assert.equal(phases[0].startS, 0);
      assert.equal(phases[0].endS, phases[1].startS);
      const total = doc.totals.find((t) => t.node === node)!.totalS;
      assert.ok(Math.abs(total - phases[1].endS) < 1e-9, `${node} total is the end of its boot`);
      assert.ok(total > 10 && total < 1000, `${node} total ${total} s`);
    }
    const [s] = doc.summary;
    assert.equal(s.nodes, 2);
    assert.ok(s.firstS <= s.meanS && s.meanS <= s.lastS);
    assert.ok(s.serverGb > 0, "the nodes streamed from the image server");
    assert.ok(s.serverLinkPct > 0 && s.serverLinkPct <= 100, `link ${s.serverLinkPct} %`);
    assert.ok(s.serverDiskPct > 0 && s.serverDiskPct <= 100, `disk ${s.serverDiskPct} %`);
    assert.match(
      Deno.readTextFileSync(join(out, "summary.csv")).split("\n")[0],
      /,serverLinkPct,serverDiskPct\b/,
    );
    assert.deepEqual(
      [...Deno.readDirSync(out)].map((e) => e.name).sort(),
      ["phases.csv", "sim.json", "summary.csv", "totals.csv", "trace.json"],
    );
    const trace = JSON.parse(Deno.readTextFileSync(join(out, "trace.json")));
    assert.equal(
      trace.traceEvents.filter((e: { ph: string }) => e.ph === "X").length,
      doc.rows.length + 2,
      "each phase and each node's POST",
    );
    assert.equal(Deno.readTextFileSync(join(out, "sim.json")), r.stdout);
    const csv = Deno.readTextFileSync(join(out, "phases.csv")).trim().split("\n");
    assert.equal(csv.length, 1 + doc.rows.length);
    assert.match(
      csv[0],
      /^run,strategy,nodes,imageGb,seed,staggerS,node,phase,startS,endS$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim sweeps one parameter: one run per value, nodes share the image server", async () => {
  const r = await sim(
    "--strategy",
    "nfsroot",
    "--sweep",
    "nodes=1,2",
    "--image-gb",
    IMAGE_GB,
  );
  assert.equal(r.code, 0, r.stderr);
  // Human output: the phase table with a run column, then totals and the summary.
  assert.match(r.stdout, /^run\s+\| node\s+\| strategy \| phase\s+\| start s \| end s$/m);
  assert.match(r.stdout, /^nodes=2 \| node1 \| nfsroot/m);
  const summary = [...r.stdout.matchAll(/^(nodes=\d) \| nfsroot\s+\|\s+(\d)\s+\|.*$/gm)];
  assert.deepEqual(summary.map((m) => [m[1], m[2]]), [["nodes=1", "1"], ["nodes=2", "2"]]);
  const last = summary.map((m) => Number(m[0].split("|")[6]));
  assert.ok(last[1] >= last[0], `two nodes on one server are not faster: ${last}`);
});

Deno.test("sim --until deployed goes on until BMcast copied and de-virtualized, and says when", async () => {
  const r = await sim(
    "--strategy",
    "bmcast",
    "--until",
    "deployed",
    "--image-gb",
    IMAGE_GB,
    "--json",
  );
  assert.equal(r.code, 0, r.stderr);
  const doc: SimDocument = JSON.parse(r.stdout);
  assert.equal(doc.scenario.until, "deployed");
  assert.deepEqual(doc.rows.map((p) => p.phase), ["VMM boot", "OS boot", "copy", "de-virtualize"]);
  const [t] = doc.totals;
  assert.ok(t.deployedS! > t.totalS);
  assert.ok(doc.summary[0].deployedS! > doc.summary[0].readyS);
  const human = await sim("--strategy", "nfsroot", "--until", "deployed", "--image-gb", IMAGE_GB);
  assert.match(human.stdout, /^node\s+\| strategy \| total s \| deployed s$/m);
  assert.match(human.stdout, /^node0 \| nfsroot\s+\|\s+[\d.]+ \|\s+never$/m);
});

Deno.test("sim --outage counts what it held back, the guest's disk resets and failed requests, and says what they mean", async () => {
  const short = await sim("--strategy", "bmcast", "--outage", "150:5", "--image-gb", IMAGE_GB);
  assert.equal(short.code, 0, short.stderr);
  assert.match(
    short.stdout,
    /\| held back \| lost tries \| lost datagrams \| longest I\/O s \| disk resets \| NCQ off \| failed I\/O$/m,
  );
  assert.match(short.stdout, /\|\s+0 \|\s+0 \|\s+0$/m, "no reset, NCQ on, no failure");
  assert.doesNotMatch(short.stdout, /^note:/m);
  const long = await sim("--strategy", "bmcast", "--outage", "150:60", "--image-gb", IMAGE_GB);
  assert.match(
    long.stdout,
    /^note: run \(bmcast\): the guest's disk error handling reset the link/m,
  );
  // 3 timeouts: NCQ stays on (libata's speed-down needs more than 3 in 10 minutes).
  assert.match(long.stdout, /\|\s+3 \|\s+0 \|\s+0$/m, "3 resets, NCQ on, no failure");
  assert.doesNotMatch(long.stdout, /NCQ off, as Linux/);
  const lost = await sim("--strategy", "bmcast", "--outage", "150:200", "--image-gb", IMAGE_GB);
  assert.match(lost.stdout, /^note: run \(bmcast\): boot requests failed after Linux's error/m);
  assert.match(lost.stdout, /\|\s+6 \|\s+1 \|\s+1$/m, "6 resets, NCQ off, 1 failure");
  assert.match(
    lost.stdout,
    /^note: run \(bmcast\): after more than 3 timeouts in 10 minutes the guest's disk driver turned NCQ off/m,
  );
  const help = await sim("--help");
  assert.match(help.stdout, /disk resets, NCQ off \(nodes whose driver turned NCQ off/);
  const calm = await sim("--strategy", "bmcast", "--image-gb", IMAGE_GB);
  assert.doesNotMatch(calm.stdout, /held back/);
  // Multicast's joins go again after each idle timeout: lost datagrams, no held-back messages.
  const mc = await sim(
    "--strategy",
    "image-copy-multicast",
    "--outage",
    "140:20",
    "--image-gb",
    IMAGE_GB,
    "--json",
  );
  assert.equal(mc.code, 0, mc.stderr);
  const s: SimDocument["summary"][number] = JSON.parse(mc.stdout).summary[0];
  assert.ok(s.lostDatagrams! > 0 && s.heldBack === 0, JSON.stringify(s));
});

Deno.test("sim reads a scenario file; flags override it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "scenario.json");
    Deno.writeTextFileSync(
      file,
      JSON.stringify({
        strategy: "kvm-nfs",
        nodes: 2,
        imageGb: Number(IMAGE_GB),
        set: { "hdd.rpm": 15000, "nfs.rpc": 1 },
      }),
    );
    const r = await sim("--scenario", file, "--nodes", "1", "--set", "nfs.rpc=4000000", "--json");
    assert.equal(r.code, 0, r.stderr);
    const doc: SimDocument = JSON.parse(r.stdout);
    assert.deepEqual(doc.totals.map((t) => [t.node, t.strategy]), [["node0", "kvm-nfs"]]);
    // --set items add to the file's set, and win over it.
    assert.deepEqual(doc.scenario.set, { "hdd.rpm": 15000, "nfs.rpc": 4000000 });
    Deno.writeTextFileSync(file, JSON.stringify({ set: [1] }));
    for (const extra of [[], ["--set", "hdd.rpm=5400"]]) {
      const bad = await sim("--scenario", file, ...extra); // --set does not hide the file's mistake
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /scenario\.json: set: must map profile paths to values/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim rejects bad input with every issue at once, exit 2 and no output files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "results");
    const r = await sim("--nodes", "0", "--strategy", "bogus", "--out", out);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /--nodes: must be >= 1: current value is "0"/);
    assert.match(r.stderr, /--strategy: must be one of .*: current value is "bogus"/);
    for (const s of strategyNames()) assert.ok(r.stderr.includes(s), s);
    assert.ok(!exists(out), "--out was not created");

    // A broken profile, a too-small image and a bad sweep value: all reported together.
    const bad = structuredClone(JSON.parse(Deno.readTextFileSync(BUILTIN_PROFILE)));
    bad.cpu.vmExit.value = -1;
    delete bad.hdd.rpm.source;
    const profilePath = join(dir, "bad.json");
    Deno.writeTextFileSync(profilePath, JSON.stringify(bad));
    const r2 = await sim("--profile", profilePath, "--image-gb", "1", "--out", out);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /--profile: cpu\.vmExit\.value/);
    assert.match(r2.stderr, /--profile: hdd\.rpm\.source/);
    const r3 = await sim(
      "--image-gb",
      "1",
      "--sweep",
      "nodes=2,x",
      "--set",
      "hdd.rpm=fast",
      "--set",
      "oops",
      "--outage",
      "soon",
      "--out",
      out,
    );
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /--outage: must be 'AT:DURATION' in seconds .*current value is "soon"/);
    assert.match(
      r3.stderr,
      /--image-gb: must be >= [\d.]+ to hold every area .*current value is 1/,
    );
    assert.match(r3.stderr, /--sweep nodes\[1\]: must be an integer: current value is "x"/);
    assert.match(r3.stderr, /--set: "oops": must be PATH=VALUE/);
    assert.ok(!exists(out), "--out was not created");

    const r4 = await sim("--bogus");
    assert.equal(r4.code, 2);
    assert.match(
      r4.stderr,
      /^sim: invalid input \(1 issue\):\n {2}--bogus: not a flag of sim; its flags: --strategy, /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim rejects a bad field of an object-valued parameter and an image that does not fit, with the others, exit 2 and no output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "results");
    const r1 = await sim(
      "--strategy",
      "bmcast",
      "--image-gb",
      IMAGE_GB,
      "--set",
      "vmm.copyPolicy.idleThreshold=-5",
      "--set",
      "kvm.virtio.hostWakeup=-1",
      "--set",
      "boot.params.memoryBound=5",
      "--out",
      out,
    );
    assert.equal(r1.code, 2, r1.stderr);
    assert.equal(r1.stdout, "");
    assert.match(r1.stderr, /invalid input \(3 issues\)/);
    assert.match(
      r1.stderr,
      /--set: vmm\.copyPolicy\.value\.idleThreshold: .*>=0: current value is -5\n/,
    );
    // Rejected whatever the strategy: BMcast does not use virtio, the value is still invalid.
    assert.match(
      r1.stderr,
      /--set: kvm\.virtio\.value\.hostWakeup: must be an integer >= 0: current value is -1\n/,
    );
    assert.match(r1.stderr, /--set: boot\.params\.value\.memoryBound: .*<=1: current value is 5\n/);
    const r2 = await sim(
      "--image-gb",
      "1000",
      "--outage",
      "10:0",
      "--set",
      "vmm.copyPolicy.kind=rate",
      "--out",
      out,
    );
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(
      r2.stderr,
      /--image-gb: must be >= 10\.3424 to hold .* and <= 500\.107862016 to fit on the node's disk \(hdd\.sectors: 976773168\): current value is 1000\n/,
    );
    assert.match(r2.stderr, /--outage durationS: must be > 0: current value is 0\n/);
    assert.match(r2.stderr, /--set: vmm\.copyPolicy\.value\.bytesPerSecond: .*expected number/);
    const r3 = await sim(
      "--sweep",
      "image.bytes=1000000000",
      "--set",
      "image.bytes=32000000000",
      "--nodes",
      "0",
      "--out",
      out,
    );
    assert.equal(r3.code, 2, r3.stderr);
    assert.match(r3.stderr, /--nodes: must be >= 1/);
    assert.match(r3.stderr, /--set image\.bytes: is also swept by --sweep/);
    assert.match(
      r3.stderr,
      /--sweep image\.bytes\[0\]: image\.bytes\.value: must be a multiple of 512 >= 10342400000 .* <= 500107862016 .*: current value is 1000000000\n/,
    );
    assert.ok(!r3.stderr.includes("    at "), "no stack trace");
    assert.ok(!exists(out), "--out was not created");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim --image-gb runs on a disk smaller than the profile's own image, and is checked against it", async () => {
  const small = ["--strategy", "bare-metal", "--set", "hdd.sectors=41943040"]; // a 21.5 GB disk
  const r = await sim(...small, "--image-gb", "12", "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as SimDocument).summary[0].imageGb, 12);
  const sweep = await sim(...small, "--sweep", "image-gb=11,12", "--json");
  assert.equal(sweep.code, 0, sweep.stderr);
  const big = await sim(...small, "--image-gb", "30");
  assert.equal(big.code, 2);
  assert.match(
    big.stderr,
    /--image-gb: must be >= 10\.3424 .* and <= 21\.47483648 to fit on the node's disk \(hdd\.sectors: 41943040\): current value is 30\n/,
  );
  const own = await sim(...small); // the profile's 32 GB image
  assert.equal(own.code, 2);
  // Named by what the user changed, the disk, not the image it no longer holds.
  assert.match(
    own.stderr,
    /--set: hdd\.sectors\.value: must be >= 62500000 to hold the image \(image\.bytes: 32000000000, 62500000 sectors\): current value is 41943040\n/,
  );
});

Deno.test("sim --profile with a disk smaller than its own image runs with a smaller --image-gb, and is refused without", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "small-disk.json");
    Deno.writeTextFileSync(
      file,
      JSON.stringify({
        extends: new URL("../data/profiles/paper-2015.json", import.meta.url).pathname,
        name: "small disk",
        hdd: { sectors: { value: 41943040, source: "a 21.5 GB disk; test" } },
      }),
    );
    const r = await sim(
      "--strategy",
      "bare-metal",
      "--profile",
      file,
      "--image-gb",
      "12",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr); // it was refused: the file's 32 GB image checked first
    assert.equal((JSON.parse(r.stdout) as SimDocument).summary[0].imageGb, 12);
    const own = await sim("--strategy", "bare-metal", "--profile", file);
    assert.equal(own.code, 2);
    assert.match(own.stderr, /--profile: image\.bytes\.value: .*current value is 32000000000\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim names a --profile file that extends another without a name of its own by its file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "faster-disk.json");
    const rpm = { value: 15000, source: "datasheet of a 15k drive" };
    Deno.writeTextFileSync(file, JSON.stringify({ extends: "paper-2015", hdd: { rpm } }));
    const args = ["--strategy", "bare-metal", "--profile", file, "--image-gb", "12"];
    const text = await sim(...args);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^profile faster-disk, seed 1;/m);
    const json = JSON.parse((await sim(...args, "--json")).stdout) as SimDocument;
    assert.equal(json.profile.name, "faster-disk");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim rejects --image-gb with image.bytes, and --sweep given twice, rather than ignoring one", async () => {
  const r = await sim(
    "--image-gb",
    "12",
    "--set",
    "image.bytes=16000000000",
    "--sweep",
    "nodes=1,2",
    "--sweep",
    "hdd.rpm=5400,15000",
  );
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /invalid input \(2 issues\)/);
  assert.match(
    r.stderr,
    /--image-gb: replaces --set image\.bytes \(the image's size in bytes\); give one or the other: current value is 12\n/,
  );
  assert.match(
    r.stderr,
    /--sweep: given more than once \(a run sweeps one parameter; .*\): current value is "nodes=1,2", "hdd\.rpm=5400,15000"\n/,
  );
  const swept = await sim("--image-gb", "12", "--sweep", "image.bytes=16000000000,20000000000");
  assert.equal(swept.code, 2);
  assert.match(swept.stderr, /--image-gb: replaces --sweep image\.bytes/);
});

Deno.test("sim flags override the scenario file also where it gives the same parameter another way", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "scenario.json");
    const scenario = (s: object) => Deno.writeTextFileSync(file, JSON.stringify(s));
    const docOf = (r: { code: number; stdout: string; stderr: string }): SimDocument => {
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    scenario({
      strategy: "bare-metal",
      nodes: 4,
      imageGb: Number(IMAGE_GB),
      set: { "hdd.rpm": 15000 },
    });
    // --sweep over the file's nodes, or over a parameter its set fixes.
    let doc = docOf(await sim("--scenario", file, "--sweep", "nodes=1,2", "--json"));
    assert.deepEqual(doc.summary.map((s) => [s.run, s.nodes]), [["nodes=1", 1], ["nodes=2", 2]]);
    doc = docOf(await sim("--scenario", file, "--sweep", "hdd.rpm=5400,7200", "--json"));
    assert.deepEqual(doc.summary.map((s) => s.run), ["hdd.rpm=5400", "hdd.rpm=7200"]);
    assert.deepEqual(doc.scenario.set, {});
    // The image's size: --set image.bytes over the file's imageGb.
    doc = docOf(await sim("--scenario", file, "--set", "image.bytes=12000000000", "--json"));
    assert.equal(doc.summary[0].imageGb, 12);
    // A flag fixing what the file sweeps.
    scenario({ strategy: "bare-metal", sweep: "nodes=1,2", imageGb: Number(IMAGE_GB) });
    doc = docOf(await sim("--scenario", file, "--nodes", "3", "--json"));
    assert.deepEqual(doc.summary.map((s) => [s.run, s.nodes]), [["run", 3]]);
    // Given twice in the file itself: still an issue.
    scenario({ sweep: "nodes=1,2", nodes: 3 });
    const bad = await sim("--scenario", file);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /scenario\.json: nodes: is also swept by .*scenario\.json: sweep/);
    // An object given whole by --set replaces the file's field of it (the field would not fit).
    scenario({
      strategy: "bare-metal",
      imageGb: Number(IMAGE_GB),
      set: { "vmm.copyPolicy.idleThreshold": 1000000 },
    });
    const rate = '{"kind":"rate","bytesPerSecond":30000000,"burstBytes":8388608}';
    doc = docOf(await sim("--scenario", file, "--set", `vmm.copyPolicy=${rate}`, "--json"));
    assert.deepEqual(doc.scenario.set, { "vmm.copyPolicy": JSON.parse(rate) });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim takes an object-valued parameter whole as an object in a scenario file's set, and shows it as JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "scenario.json");
    const policy = { kind: "idle", idleThreshold: 2000000, recheck: 500000 };
    Deno.writeTextFileSync(
      file,
      JSON.stringify({
        strategy: "bare-metal",
        imageGb: Number(IMAGE_GB),
        set: { "vmm.copyPolicy": policy },
      }),
    );
    const r = await sim("--scenario", file);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`with vmm.copyPolicy=${JSON.stringify(policy)}, seed 1`), r.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim says when an outage began after the run had ended, and so changed nothing", async () => {
  const r = await sim("--strategy", "bare-metal", "--outage", "1000:10", "--image-gb", IMAGE_GB);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^note: run \(bare-metal, ended at [\d.]+ s\): the outage at 1000 s began after the run had ended, so it changed nothing \(--until deployed runs on/m,
  );
  const during = await sim(
    "--strategy",
    "bare-metal",
    "--outage",
    "100:10",
    "--image-gb",
    IMAGE_GB,
  );
  assert.doesNotMatch(during.stdout, /began after the run/);
});

Deno.test("sim --help says first s and last s are the shortest and longest startup time, not the first and last node up", async () => {
  const r = await sim("--help");
  assert.match(r.stdout, /the shortest \(first\s+s\), mean and longest \(last s\) startup time/);
  assert.doesNotMatch(r.stdout, /the first, mean and\s+last node up/);
  // With a stagger the node up last need not have the longest startup time.
  const s = await sim(
    "--strategy",
    "nfsroot",
    "--nodes",
    "4",
    "--stagger-s",
    "10",
    "--image-gb",
    IMAGE_GB,
    "--json",
  );
  assert.equal(s.code, 0, s.stderr);
  const doc: SimDocument = JSON.parse(s.stdout);
  const totals = doc.totals.map((t) => t.totalS);
  assert.equal(doc.summary[0].firstS, Math.min(...totals));
  assert.equal(doc.summary[0].lastS, Math.max(...totals));
  const upLast = doc.totals.reduce((
    a,
    b,
  ) => (b.postEndS + b.totalS > a.postEndS + a.totalS ? b : a));
  assert.notEqual(upLast.totalS, doc.summary[0].lastS, "seed 1: the last node up boots fastest");
});

Deno.test("sim records the profile's path relative to the working directory, so its JSON does not depend on the checkout's place", async () => {
  const r = await sim("--strategy", "bare-metal", "--image-gb", IMAGE_GB, "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as SimDocument).profile, {
    name: "paper-2015",
    path: "data/profiles/paper-2015.json",
  });
  const ssd = await sim(
    "--strategy",
    "bare-metal",
    "--image-gb",
    IMAGE_GB,
    "--profile",
    join(ROOT, "data/profiles/paper-2015-ssd.json"),
    "--json",
  );
  assert.equal(ssd.code, 0, ssd.stderr);
  assert.equal(
    (JSON.parse(ssd.stdout) as SimDocument).profile.path,
    "data/profiles/paper-2015-ssd.json",
  );
});

Deno.test("sim takes numbers written in decimal only: flags, --set, --sweep and the scenario file refuse 0x10, 0b1, 0o7, saying so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const decimal = "written in decimal (e.g. 16 or 1.5e3)";
    const r = await sim(
      "--nodes",
      "0x2",
      "--seed",
      "0b1",
      "--image-gb",
      "0o7",
      "--outage",
      "0x10:30",
      "--set",
      "hdd.rpm=0x1C20",
      "--sweep",
      "stagger-s=0,0x10",
    );
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    for (
      const line of [
        `--nodes: must be an integer, ${decimal}: current value is "0x2"`,
        `--seed: must be an integer, ${decimal}: current value is "0b1"`,
        `--image-gb: must be a number, ${decimal}: current value is "0o7"`,
        `--outage atS: must be a number, ${decimal}: current value is "0x10"`,
        `--set: hdd.rpm: must be a number, ${decimal}: current value is "0x1C20"`,
        `--sweep stagger-s[1]: must be a number, ${decimal}: current value is "0x10"`,
      ]
    ) assert.ok(r.stderr.includes(`  ${line}\n`), `${line}\nin\n${r.stderr}`);
    const file = join(dir, "scenario.json");
    Deno.writeTextFileSync(
      file,
      JSON.stringify({ nodes: "0x2", staggerS: "", set: { "hdd.rpm": "0b1" } }),
    );
    const f = await sim("--scenario", file);
    assert.equal(f.code, 2, f.stderr);
    assert.match(f.stderr, /invalid input \(3 issues\)/);
    assert.match(
      f.stderr,
      /scenario\.json: nodes: must be an integer, written in decimal .*"0x2"\n/,
    );
    assert.match(f.stderr, /scenario\.json: staggerS: must be a number: current value is ""\n/);
    assert.match(
      f.stderr,
      /scenario\.json: set: hdd\.rpm: must be a number, written in decimal .*"0b1"\n/,
    );
    const help = (await sim("--help")).stdout.replace(/\s+/g, " ");
    assert.match(help, /Numbers, in flags and in a scenario file, are written in decimal/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim --help gives the image size's bounds as a rule of each run's profile, with the built-in profile's values as an example", async () => {
  const r = await sim("--help");
  assert.equal(r.code, 0, r.stderr);
  const help = r.stdout.replace(/\s+/g, " ");
  assert.match(help, /--image-gb X image size, GB \(default: the profile's image\.bytes\)/);
  assert.match(help, /each run's profile \(after --profile, --set and the sweep\) bounds it/);
  const range = imageSizeRange(profile);
  assert.ok(
    help.includes(
      `(built-in profile: ${profile.image.bytes.value / 1e9}; at least ${
        range.min / 1e9
      }, at most ${Math.floor(range.max / 1e6) / 1e3})`,
    ),
    help,
  );
  assert.doesNotMatch(help, /default: the profile's \d/);
  // The outage's timeouts likewise: named by their parameters, the built-in values labelled.
  const g = profile.guestDriver;
  assert.ok(
    help.includes(
      `(built-in profile: ${g.commandTimeout.value / 1e9} s, ${g.commandRetries.value} retries, ${
        profile.imageServer.multicastIdleTimeout.value / 1e6
      } ms)`,
    ),
    help,
  );
  assert.doesNotMatch(help, /after a 30 s command timeout|multicastIdleTimeout \(90 ms\)/);
});

Deno.test("sim writes a time that never comes as an empty CSV cell and null in JSON, and --help says so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "results");
    const r = await sim(
      "--strategy",
      "nfsroot",
      "--until",
      "deployed",
      "--image-gb",
      IMAGE_GB,
      "--json",
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(Deno.readTextFileSync(join(out, "sim.json")));
    assert.equal(doc.totals[0].deployedS, null);
    assert.equal(doc.summary[0].deployedS, null);
    for (const name of ["totals.csv", "summary.csv"]) {
      const [head, row] = Deno.readTextFileSync(join(out, name)).trim().split("\n");
      const cells = row.split(",");
      assert.equal(cells[head.split(",").indexOf("deployedS")], "", `${name}: ${row}`);
      assert.ok(!cells.includes("NaN"), `${name}: ${row}`);
    }
    const help = (await sim("--help")).stdout.replace(/\s+/g, " ");
    assert.match(
      help,
      /A time that never comes \(deployed s of a strategy that never deploys\) is "never" in the tables, null in the JSON and an empty cell in the CSVs/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim records --set values in its JSON as the profile takes them: numbers, booleans, objects", async () => {
  const policy = { kind: "idle", idleThreshold: 2_000_000, recheck: 500_000 };
  const r = await sim(
    "--strategy",
    "nfsroot",
    "--image-gb",
    IMAGE_GB,
    "--set",
    "hdd.rpm=15000",
    "--set",
    "network.lineRate=1.25e9",
    "--set",
    "hdd.writeCache=false",
    "--set",
    "image.copyScope=used",
    "--set",
    `vmm.copyPolicy=${JSON.stringify(policy)}`,
    "--json",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as SimDocument).scenario.set, {
    "hdd.rpm": 15000,
    "network.lineRate": 1.25e9,
    "hdd.writeCache": false,
    "image.copyScope": "used",
    "vmm.copyPolicy": policy,
  });
});

Deno.test("sim names the scenario file's set or --set as the place of each set issue, also when both are given", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "scenario.json");
    Deno.writeTextFileSync(file, JSON.stringify({ set: { "hdd.foo": 1, "hdd.rpm": 7200 } }));
    const r = await sim("--scenario", file, "--set", "hdd.rpm=5400", "--set", "hdd.bar=1");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid input \(2 issues\)/);
    assert.match(
      r.stderr,
      /\n {2}\S*scenario\.json: set: hdd\.foo: section hdd has no parameter "foo"/,
    );
    assert.match(r.stderr, /\n {2}--set: hdd\.bar: section hdd has no parameter "bar"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim refuses a flag that takes one value given more than once, with every other issue", async () => {
  const r = await sim("--nodes", "2", "--nodes", "3", "--json", "--json", "--strategy", "bogus");
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /invalid input \(3 issues\)/);
  assert.match(r.stderr, /\n {2}--nodes: given more than once: current value is "2", "3"\n/);
  assert.match(r.stderr, /\n {2}--json: given more than once\n/);
  assert.match(r.stderr, /\n {2}--strategy: must be one of /);
});

Deno.test("sim reports a --set path given twice together with what is wrong with either value", async () => {
  const r = await sim("--set", "hdd.rpm=5400", "--set", "hdd.rpm=abc", "--set", "oops");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid input \(3 issues\)/);
  assert.match(r.stderr, /\n {2}--set: hdd\.rpm: given more than once\n/);
  assert.match(r.stderr, /\n {2}--set: hdd\.rpm: must be a number: current value is "abc"\n/);
  assert.match(r.stderr, /\n {2}--set: "oops": must be PATH=VALUE/);
});

Deno.test("sim says the form of a --set path naming a whole section and of a --sweep without '='", async () => {
  const r = await sim("--set", "hdd=5", "--sweep", "nodes");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid input \(2 issues\)/);
  assert.match(
    r.stderr,
    /\n {2}--set: hdd: a whole section cannot be set; give SECTION\.PARAMETER=VALUE \(section hdd has: sectors \[sectors\], rpm \[rev\/min\], /,
  );
  assert.match(
    r.stderr,
    /\n {2}--sweep: must be K=V1,V2,\.\.\. \(e\.g\. nodes=1,2,4 or hdd\.rpm=5400,15000\): current value is "nodes"\n/,
  );
});

Deno.test("sim checks every value of a --set path given twice with the rest of the set, and none against a malformed file set", async () => {
  const policy = '{"kind":"rate","bytesPerSecond":1e7,"burstBytes":8388608}';
  const field = "vmm.copyPolicy.bytesPerSecond";
  const r = await sim(
    "--set",
    `vmm.copyPolicy=${policy}`,
    "--set",
    `${field}=abc`,
    "--set",
    `${field}=2e7`,
    "--set",
    `${field}=xyz`,
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid input \(3 issues\)/);
  assert.match(r.stderr, /\n {2}--set: vmm\.copyPolicy\.bytesPerSecond: given more than once\n/);
  const issue = (v: string) =>
    `\n  --set: ${field}: must be a number: current value is ${JSON.stringify(v)}\n`;
  for (const bad of ["abc", "xyz"]) assert.ok(r.stderr.includes(issue(bad)), bad);
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "scenario.json");
    Deno.writeTextFileSync(file, JSON.stringify({ set: [1] }));
    const m = await sim("--scenario", file, "--set", "hdd.rpm=abc", "--set", "hdd.rpm=xyz");
    assert.equal(m.code, 2);
    assert.match(m.stderr, /invalid input \(2 issues\)/);
    assert.match(m.stderr, /\n {2}--set: hdd\.rpm: given more than once\n/);
    assert.match(m.stderr, /\n {2}\S*scenario\.json: set: must map profile paths to values/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim names the scenario file's set as the place of its issues when every --set item is malformed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "scenario.json");
    Deno.writeTextFileSync(file, JSON.stringify({ set: { "cpu.logicalCpus": 1 } }));
    const r = await sim("--scenario", file, "--set", "oops");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid input \(2 issues\)/);
    assert.match(r.stderr, /\n {2}--set: "oops": must be PATH=VALUE/);
    assert.match(
      r.stderr,
      /\n {2}\S*scenario\.json: set: boot\.cores\.value: must be <= cpu\.logicalCpus \(1\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim lists a parse issue (unknown flag, missing value, value to a boolean, argument) with every other issue, and takes --seed -1 to its range check", async () => {
  const r = await sim(
    "--bogus",
    "--nodes",
    "0",
    "--seed",
    "-1",
    "--stagger-s",
    "-5",
    "--json=yes",
    "extra",
    "--out",
    "--strategy",
    "x",
  );
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^sim: invalid input \(8 issues\):\n/);
  assert.match(r.stderr, /\n {2}--bogus: not a flag of sim; its flags: [^\n]*--nodes, --seed,/);
  assert.match(r.stderr, /\n {2}--json: takes no value: current value is "yes"\n/);
  assert.match(r.stderr, /\n {2}"extra": not a flag; sim takes only flags/);
  assert.match(r.stderr, /\n {2}--out: needs a value/);
  assert.match(r.stderr, /\n {2}--strategy: must be one of .*: current value is "x"\n/);
  assert.match(r.stderr, /\n {2}--nodes: must be >= 1: current value is "0"\n/);
  assert.match(r.stderr, /\n {2}--seed: must be >= 0: current value is "-1"\n/);
  assert.match(r.stderr, /\n {2}--stagger-s: must be >= 0: current value is "-5"\n/);
  assert.doesNotMatch(r.stderr, /ambiguous/);
  assert.match(r.stderr, /run 'deno task sim --help' for usage\n$/);
  // --help still wins over bad input.
  const help = await sim("--bogus", "--nodes", "0", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: deno task sim/);
});

Deno.test("sim refuses a sweep that names a value twice, also written another way, naming it: the runs would share a name", async () => {
  const r = await sim("--sweep", "hdd.rpm=7200,7200", "--nodes", "0");
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /invalid input \(2 issues\)/);
  assert.match(
    r.stderr,
    /\n {2}--sweep: must not name a value twice \(7200\): current value is "hdd\.rpm=7200,7200"\n/,
  );
  const spelt = await sim("--sweep", "nodes=1,2,1.0", "--strategy", "nfsroot");
  assert.equal(spelt.code, 2);
  assert.match(
    spelt.stderr,
    /--sweep: must not name a value twice \(1 = 1\.0\): current value is "nodes=1,2,1\.0"/,
  );
  const rpm = await sim("--sweep", "hdd.rpm=7200,7.2e3,5400,5400");
  assert.match(rpm.stderr, /--sweep: must not name a value twice \(7200 = 7\.2e3, 5400\)/);
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "s.json");
    Deno.writeTextFileSync(file, JSON.stringify({ sweep: { param: "seed", values: [3, 3] } }));
    const f = await sim("--scenario", file);
    assert.equal(f.code, 2);
    assert.match(f.stderr, /s\.json: sweep: must not name a value twice \(3\): /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim names an integer past its range by the range alone (1e30 is an integer), and a fraction as not one", async () => {
  const r = await sim("--seed", "1e30", "--nodes", "1e30");
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.split("\nrun ")[0],
    'sim: invalid input (2 issues):\n  --nodes: must be <= 128: current value is "1e30"\n  --seed: must be <= 4294967295: current value is "1e30"',
  );
  const frac = await sim("--seed", "2.5");
  assert.match(
    frac.stderr,
    /\(1 issue\):\n {2}--seed: must be an integer: current value is "2\.5"\n/,
  );
});

Deno.test("sim --out naming a file, or under /proc, is bad input found before the run (exit 2), as --help says", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "a-file");
    Deno.writeTextFileSync(file, "x");
    for (
      const [out, why] of [[file, /--out: '.*a-file' is not a directory/], [
        "/proc/x",
        /--out: cannot create files in '\/proc'/,
      ]] as const
    ) {
      const r = await sim("--strategy", "bare-metal", "--out", out);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^sim: invalid input \(1 issue\):\n/);
      assert.match(r.stderr, why);
      assert.equal(r.stdout, "");
    }
    assert.equal(Deno.readTextFileSync(file), "x");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
