import assert from "node:assert/strict";
import {
  intFlag,
  MAX_SEED,
  outDirIssue,
  progressLine,
  writeFilesAtomically,
} from "../../lib/_util/mod.ts";

Deno.test("intFlag accepts integers in range and names the flag and the range otherwise", () => {
  const issues: string[] = [];
  const range = { min: 1, max: 20, fallback: 3 };
  assert.equal(intFlag("seeds", " 20 ", range, issues), 20);
  assert.equal(intFlag("seeds", undefined, range, issues), 3);
  for (const bad of ["", "0", "21", "1.5", "1e400", "x"]) {
    assert.equal(intFlag("seeds", bad, range, issues), 3);
  }
  assert.equal(issues.length, 6);
  assert.equal(issues[1], '--seeds: must be an integer in [1, 20]: current value is "0"');
  intFlag("seed", String(MAX_SEED + 1), { min: 0, max: MAX_SEED, fallback: 1 }, issues);
  assert.equal(
    issues[6],
    `--seed: must be an integer in [0, ${MAX_SEED}]: current value is "${MAX_SEED + 1}"`,
  );
  intFlag("top", "-2", { min: 1, fallback: 15 }, issues);
  assert.equal(issues[7], '--top: must be an integer >= 1: current value is "-2"');
});

Deno.test("writeFilesAtomically leaves the previous outputs untouched when a write fails", () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeFilesAtomically(dir, { "a.csv": "old\n" });
    // The second file cannot be written (its folder does not exist), so nothing lands.
    assert.throws(() => writeFilesAtomically(dir, { "a.csv": "new\n", "no/such/b.csv": "b" }));
    assert.equal(Deno.readTextFileSync(`${dir}/a.csv`), "old\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.csv"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("writeFilesAtomically replaces nothing when one output's name is taken by a directory", () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeFilesAtomically(dir, { "a.csv": "old\n", "b.csv": "old\n" });
    Deno.mkdirSync(`${dir}/c.csv/inside`, { recursive: true });
    assert.throws(
      () => writeFilesAtomically(dir, { "a.csv": "new\n", "b.csv": "new\n", "c.csv": "new\n" }),
      /c\.csv': a directory has that name/,
    );
    assert.deepEqual(["a.csv", "b.csv"].map((f) => Deno.readTextFileSync(`${dir}/${f}`)), [
      "old\n",
      "old\n",
    ]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "a.csv",
      "b.csv",
      "c.csv",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("outDirIssue accepts a directory or a path it can create, and names what is wrong otherwise", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/file`, "");
    assert.equal(outDirIssue("out", dir), undefined);
    assert.equal(outDirIssue("out", `${dir}/a/b/`), undefined);
    assert.equal(outDirIssue("out", `${dir}/file`), `--out: '${dir}/file' is not a directory`);
    assert.equal(outDirIssue("out", `${dir}/file/x/y`), `--out: '${dir}/file' is not a directory`);
    assert.equal(outDirIssue("out", ""), '--out: must name a directory: current value is ""');
    // /proc takes no new files, even from root.
    assert.match(outDirIssue("out", "/proc/metalcast")!, /^--out: cannot create files in '\/proc'/);
    // The probe leaves nothing behind and creates nothing.
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["file"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("progressLine rewrites one line on a terminal and writes nothing elsewhere", () => {
  const stream = (tty: boolean, written: string[]) => ({
    isTerminal: () => tty,
    writeSync: (b: Uint8Array) => written.push(new TextDecoder().decode(b)),
  });
  const onTty: string[] = [], piped: string[] = [];
  for (const [tty, written] of [[true, onTty], [false, piped]] as const) {
    const line = progressLine("sensitivity", stream(tty, written));
    line.update(2, 9, "hdd.rpm");
    line.clear();
  }
  assert.deepEqual(onTty, ["\r\x1b[2Ksensitivity 2/9 hdd.rpm", "\r\x1b[2K"]);
  assert.deepEqual(piped, []);
});
