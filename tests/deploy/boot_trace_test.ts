/**
 * A recorded boot in a profile: `boot.params.value.trace` (inline, or a file
 * that loadProfile reads) replaces the boot generator in every strategy.
 */
import assert from "node:assert/strict";
import { type BootParams, type BootTraceOp, generateBootTrace } from "../../lib/workload/mod.ts";
import {
  BUILTIN_PROFILE,
  loadProfile,
  minImageBytes,
  parseProfile,
  ProfileError,
  runFleet,
  usedRuns,
} from "../../lib/scenario/mod.ts";

const base = await loadProfile(BUILTIN_PROFILE);
const genParams = base.boot.params.value as BootParams;

/** A profile extending the built-in one whose boot is `value`. */
const child = (value: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    extends: "paper-2015",
    name: "recorded-boot",
    boot: { params: { value, source: "a recorded boot" } },
    ...extra,
  });

async function inDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The generator's trace for seed 1, as a profile's replay of it. */
function generatedReplay() {
  const t = generateBootTrace(genParams, 1);
  return {
    trace: t.ops,
    parallelism: Object.fromEntries(t.phases.map((p) => [p.name, p.parallelism])),
    memoryBound: t.memoryBound,
  };
}

const BLKPARSE = [
  "  8,0    0        1     0.000000000   1  D   R 2048 + 256 [systemd]",
  "  8,0    0        2     0.004000000   0  C   R 2048 + 256 [0]",
  "  8,0    0        3     0.104000000   1  D  WS 30000000 + 8 [journald]",
  "  8,0    0        4     0.105000000   1  D   R 4000000 + 64 [systemd]",
  "  8,0    0        5     0.110000000   0  C  WS 30000000 + 8 [0]",
  "  8,0    0        6     0.111000000   0  C   R 4000000 + 64 [0]",
  "",
].join("\n");

Deno.test("a boot trace file of the generator's own trace gives the same startup as the generator", async () => {
  await inDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/boot.json`, JSON.stringify(generatedReplay().trace));
    const { trace: _, ...rest } = generatedReplay();
    await Deno.writeTextFile(`${dir}/p.json`, child({ trace: "boot.json", ...rest }));
    const recorded = await loadProfile(`${dir}/p.json`);
    assert.equal((recorded.boot.params.value as { trace: unknown[] }).trace.length, 3000 + 200);
    const point = { run: "run", strategy: "bmcast", nodes: 1, seed: 1 };
    const a = runFleet({ profile: base, point }).totals[0].totalS;
    const b = runFleet({ profile: recorded, point }).totals[0].totalS;
    assert.equal(b, a);
    // A different seed draws a different generated boot; the recorded one stays.
    const c = runFleet({ profile: base, point: { ...point, seed: 2 } }).totals[0].totalS;
    assert.notEqual(c, a);
  });
});

Deno.test("a blkparse trace in a profile is replayed, and sizes the image's areas", async () => {
  await inDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/boot.blkparse`, BLKPARSE);
    await Deno.writeTextFile(`${dir}/p.json`, child({ trace: "boot.blkparse" }));
    const p = await loadProfile(`${dir}/p.json`);
    const trace = (p.boot.params.value as { trace: { op: string; thinkNs: number }[] }).trace;
    assert.deepEqual(trace.map((o) => o.op), ["read", "write", "read"]);
    assert.equal(trace[1].thinkNs, 100_000_000);
    // The trace's last write ends the boot's areas; its reads are what a used-blocks copy takes.
    assert.equal(minImageBytes(p), 30_000_008 * 512);
    const used = usedRuns(p, p.image.bytes.value / 512);
    assert.ok(used.some((r) => r.lba <= 4_000_000 && r.lba + r.count >= 4_000_064));
    assert.ok(!used.some((r) => r.lba <= 30_000_000 && r.lba + r.count > 30_000_000));
    for (const strategy of ["bare-metal", "bmcast", "nfsroot", "kvm-nfs"]) {
      const out = runFleet({ profile: p, point: { run: "run", strategy, nodes: 1, seed: 1 } });
      assert.ok(out.totals[0].totalS > 0, strategy);
    }
    // Through BMcast, the boot's reads of absent blocks are served by the image server.
    const bmcast = runFleet({
      profile: p,
      point: { run: "r", strategy: "bmcast", nodes: 1, seed: 1 },
    });
    assert.ok(bmcast.summary.serverGb > 0);
  });
});

Deno.test("journal commits (a flush, then a sync FUA write) cost BMcast more than bare metal: a guest flush waits for the VMM's writes in the drive's cache", () => {
  const { trace, ...rest } = generatedReplay();
  const commits = trace.flatMap((o): BootTraceOp[] =>
    o.op === "write"
      ? [{ op: "flush", thinkNs: o.thinkNs, phase: o.phase, sync: true }, {
        ...o,
        thinkNs: 0,
        sync: true,
        fua: true,
      }]
      : [o]
  );
  const startup = (t: BootTraceOp[], strategy: string) => {
    const raw = structuredClone(base) as unknown as { boot: { params: unknown } };
    raw.boot.params = { value: { trace: t, ...rest }, source: "the generator's trace, seed 1" };
    const point = { run: "r", strategy, nodes: 1, seed: 1 };
    return runFleet({ profile: parseProfile(raw), point }).totals[0].totalS;
  };
  const cost = (strategy: string) => startup(commits, strategy) - startup(trace, strategy);
  const [bare, bmcast] = [cost("bare-metal"), cost("bmcast")];
  // 200 commits: under a second on bare metal; several on BMcast (README: +0.7 s, +7.0 s).
  assert.ok(bare > 0 && bare < 1.5, `bare metal +${bare} s`);
  assert.ok(bmcast > 4 * bare, `BMcast +${bmcast} s, bare metal +${bare} s`);
});

Deno.test("blkparse options of a trace file are taken, and refused for a .json trace", async () => {
  await inDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/boot.txt`, BLKPARSE);
    await Deno.writeTextFile(`${dir}/boot.json`, JSON.stringify(generatedReplay().trace));
    const at = (file: string, opts: object) =>
      Deno.writeTextFile(`${dir}/p.json`, child({ trace: { file, ...opts } }));
    await at("boot.txt", { partitionStart: 2048 });
    const p = await loadProfile(`${dir}/p.json`);
    assert.equal((p.boot.params.value as { trace: { lba: number }[] }).trace[0].lba, 4096);
    await at("boot.json", { partitionStart: 2048 });
    await assert.rejects(loadProfile(`${dir}/p.json`), (e) => {
      assert.ok(e instanceof ProfileError);
      assert.match(
        e.issues[0],
        /boot\.params\.value\.trace \(boot\.json\): partitionStart: only for blkparse text/,
      );
      return true;
    });
  });
});

Deno.test("a boot trace file that is missing or invalid is a ProfileError naming the profile, field and file", async () => {
  await inDir(async (dir) => {
    const cases: [string, string | undefined, RegExp][] = [
      [
        "nope.json",
        undefined,
        /^\(file .*p\.json\) boot\.params\.value\.trace: cannot read .*nope\.json/,
      ],
      [
        "bad.json",
        '[{"op":"trim","lba":0,"count":8,"thinkNs":0}]',
        /trace \(bad\.json\): Cannot load boot trace: '0\.op'/,
      ],
      ["empty.txt", "CPU0 (8,0):\n", /trace \(empty\.txt\): .*no D \(issued\) read or write/],
    ];
    for (const [file, text, reason] of cases) {
      if (text !== undefined) await Deno.writeTextFile(`${dir}/${file}`, text);
      await Deno.writeTextFile(`${dir}/p.json`, child({ trace: file }));
      await assert.rejects(loadProfile(`${dir}/p.json`), (e) => {
        assert.ok(e instanceof ProfileError);
        assert.match(e.issues[0], reason);
        return true;
      });
    }
  });
});

Deno.test("a boot trace file that does not read is reported with the profile's other issues, all at once", async () => {
  await inDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/bad.blkparse`, "8,0 0 1 0.1 1 D R abc + 256 [x]\n");
    const rpm = { hdd: { rpm: { value: -5, source: "datasheet" } } };
    const cases: [unknown, RegExp][] = [
      [
        { trace: "bad.blkparse", parallelism: 1, memoryBound: 0.3 },
        /trace \(bad\.blkparse\): .*'line 1'/,
      ],
      [{ trace: "gone.blkparse", parallelism: 1, memoryBound: 0.3 }, /trace: cannot read /],
      [
        { trace: { file: "" }, parallelism: 1, memoryBound: 0.3 },
        /trace\.file: must be the trace file's path/,
      ],
    ];
    for (const [value, reason] of cases) {
      await Deno.writeTextFile(`${dir}/p.json`, child(value, rpm));
      await assert.rejects(loadProfile(`${dir}/p.json`), (e) => {
        assert.ok(e instanceof ProfileError);
        assert.equal(e.issues.length, 2, e.issues.join("\n"));
        assert.match(e.issues[0], reason);
        assert.match(e.issues[1], /^hdd\.rpm\.value: .*current value is -5$/);
        return true;
      });
    }
    // The replay's other fields are checked too; the file's name in the trace's place is not an issue.
    await Deno.writeTextFile(
      `${dir}/p.json`,
      child({ trace: "bad.blkparse", parallelism: 0, memoryBound: 0.3 }),
    );
    await assert.rejects(loadProfile(`${dir}/p.json`), (e) => {
      assert.ok(e instanceof ProfileError);
      assert.equal(e.issues.length, 2, e.issues.join("\n"));
      assert.match(e.issues[1], /^boot\.params\.value\.parallelism: .*current value is 0$/);
      return true;
    });
  });
});

Deno.test("a profile's inline boot trace is checked: operations, phases of parallelism, a read, the image holding it", () => {
  const json = (value: unknown, image?: number) => {
    const p = structuredClone(base) as unknown as Record<string, Record<string, unknown>>;
    p.boot.params = { value, source: "a recorded boot" };
    if (image !== undefined) p.image.bytes = { value: image, source: "test" };
    return p;
  };
  const issues = (value: unknown, image?: number) => {
    try {
      parseProfile(json(value, image));
      return [];
    } catch (e) {
      assert.ok(e instanceof ProfileError);
      return e.issues;
    }
  };
  const read = { op: "read", lba: 2048, count: 8, thinkNs: 0, phase: "kernel" };
  assert.deepEqual(issues({ trace: [read], parallelism: { kernel: 2 } }), []);
  assert.deepEqual(issues({ trace: "boot.json" }), [
    'boot.params.value.trace: must be the trace\'s operations: a file ("boot.json") is read only by loadProfile, relative to the profile file',
  ]);
  assert.deepEqual(issues({ trace: [read], parallelism: { kernal: 2 } }), [
    "boot.params.value.parallelism.kernal: is not a phase of the trace: the phases are kernel: current value is 2",
  ]);
  assert.deepEqual(issues({ trace: [{ ...read, op: "write" }] }), [
    "boot.params.value.trace: must have at least one read (an OS boot reads its files)",
  ]);
  const many = Array.from({ length: 30 }, () => ({ ...read, count: 0 }));
  const found = issues({ trace: many });
  assert.equal(found.length, 11);
  assert.match(found[10], /and 20 more issues/);
  // A read beyond the image: the image-size rule names the trace's end.
  const far = issues({ trace: [{ ...read, lba: 70_000_000 }] });
  assert.equal(far.length, 1);
  assert.match(far[0], /^image\.bytes\.value: .*70000008.*current value is 32000000000/);
});

Deno.test("the example profile with a recorded boot loads: reads, a log write, a flush waited for", async () => {
  const p = await loadProfile(
    new URL("../../data/examples/recorded-boot/profile.json", import.meta.url),
  );
  const trace = (p.boot.params.value as { trace: BootTraceOp[] }).trace;
  assert.deepEqual(
    trace.map((o) =>
      `${o.op === "flush" ? o.op : `${o.op} ${o.lba}`}${o.op !== "read" && o.sync ? " sync" : ""}`
    ),
    // The write's S: the next read was issued before it completed, so nothing waited for it.
    ["read 2048", "write 20000000", "read 4000000", "read 3000128", "flush sync"],
  );
  assert.equal(p.boot.cores.value, base.boot.cores.value);
});
