import assert from "node:assert/strict";
import { main } from "../../experiments/boot_trace.ts";
import { parseBlkparse, parseBootTrace } from "../../lib/workload/mod.ts";

const EXAMPLE =
  new URL("../../data/examples/recorded-boot/boot.blkparse", import.meta.url).pathname;

async function run(args: string[]) {
  let stdout = "", stderr = "";
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

Deno.test("boot-trace sums up a recorded boot: operations, what the boot waits for, areas, the smallest image", async () => {
  const r = await run(["--trace", EXAMPLE]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /operations +5 in 1 phase/);
  assert.match(r.stdout, /reads +3, 0\.17 MB/);
  assert.match(r.stdout, /writes +1, 0\.00 MB: 0 waited for \(sync\), 0 FUA/);
  assert.match(r.stdout, /flushes +1: 1 waited for \(sync\)/);
  assert.match(r.stdout, /reads span +sectors 2048-4000064 in 3 areas/);
  assert.match(r.stdout, /smallest image +10\.24 GB/);
  const json = await run(["--trace", EXAMPLE, "--json"]);
  const s = JSON.parse(json.stdout);
  assert.equal(s.writes.count, 1);
  assert.equal(s.minImageBytes, 20_000_008 * 512);
});

Deno.test("boot-trace --out writes the operations as a JSON trace that reads back the same", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/boot.json`;
    const r = await run(["--trace", EXAMPLE, "--out", out, "--partition-start", "2048"]);
    assert.equal(r.code, 0, r.stderr);
    const written = parseBootTrace(JSON.parse(await Deno.readTextFile(out)));
    const text = await Deno.readTextFile(EXAMPLE);
    assert.deepEqual(written, parseBlkparse(text, { partitionStart: 2048 }));
    // Read back as a .json trace, it sums up as the blkparse text did.
    const summary = async (args: string[]) => JSON.parse((await run([...args, "--json"])).stdout);
    const fromText = await summary(["--trace", EXAMPLE, "--partition-start", "2048"]);
    assert.deepEqual(await summary(["--trace", out]), fromText);
    assert.equal(fromText.extents.readEnd, 4_000_064 + 2048);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("boot-trace names every bad input at once, exits 2 and writes nothing; an --out it cannot use is one of them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = await run(["--trace", `${dir}/none.txt`, "--out", `${dir}/x.csv`, "--bogus"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--bogus: not a flag of boot-trace/);
    assert.match(bad.stderr, /--out: must name a \.json file/);
    assert.match(bad.stderr, /--trace: cannot read .*none\.txt/);
    assert.equal(bad.stdout, "");
    assert.match((await run([])).stderr, /--trace: needs the trace file/);
    await Deno.writeTextFile(
      `${dir}/t.json`,
      JSON.stringify([{ op: "trim", lba: 0, count: 1, thinkNs: 0 }]),
    );
    const json = await run(["--trace", `${dir}/t.json`, "--device", "8,0"]);
    assert.match(json.stderr, /only for blkparse text, not a \.json trace/);
    const op = await run(["--trace", `${dir}/t.json`]);
    assert.match(op.stderr, /'0\.op' must be "read", "write" or "flush": current value is trim/);
    await Deno.mkdir(`${dir}/taken.json`);
    // Found before anything is written, in the house style: no OS error's internals.
    const cases = [
      [`${dir}/taken.json`, `--out: must name a file: current value is "${dir}/taken.json"`],
      ["/proc/x.json", "--out: cannot create files in '/proc' (No such file or directory)"],
      [`${dir}/t.json/x.json`, `--out: '${dir}/t.json' is not a directory`],
    ];
    for (const [out, issue] of cases) {
      const r = await run(["--trace", EXAMPLE, "--out", out]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr.split("\nusage:")[0],
        `boot-trace: invalid input (1 issue):\n  ${issue}`,
      );
      assert.doesNotMatch(r.stderr, /os error|tmpdir|mkdir/);
      assert.equal(r.stdout, "");
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "t.json",
      "taken.json",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("boot-trace --trace without its value is one issue, not two", async () => {
  const r = await run(["--trace"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.split("\nusage:")[0],
    "boot-trace: invalid input (1 issue):\n  --trace: needs a value",
  );
  const none = await run([]);
  assert.equal(
    none.stderr.split("\nusage:")[0],
    "boot-trace: invalid input (1 issue):\n  --trace: needs the trace file",
  );
});
