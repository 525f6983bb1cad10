import assert from "node:assert/strict";
import {
  decimalNumber,
  decimalRule,
  intFlag,
  MAX_SEED,
  outDirIssue,
  parseFlags,
  progressLine,
  readFlags,
  valueOfText,
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

Deno.test("intFlag takes integers written in decimal only, and says so for the other forms Number() reads", () => {
  const issues: string[] = [];
  const range = { min: 0, max: 100, fallback: 3 };
  assert.equal(intFlag("seeds", "1e1", range, issues), 10);
  for (const bad of ["0x10", "0b1", "0o7", " ", "Infinity"]) {
    assert.equal(intFlag("seeds", bad, range, issues), 3, bad);
  }
  assert.deepEqual(issues, [
    '--seeds: must be an integer in [0, 100], written in decimal (e.g. 16 or 1.5e3): current value is "0x10"',
    '--seeds: must be an integer in [0, 100], written in decimal (e.g. 16 or 1.5e3): current value is "0b1"',
    '--seeds: must be an integer in [0, 100], written in decimal (e.g. 16 or 1.5e3): current value is "0o7"',
    '--seeds: must be an integer in [0, 100]: current value is " "',
    '--seeds: must be an integer in [0, 100]: current value is "Infinity"',
  ]);
});

Deno.test("decimalNumber reads plain decimal numbers, with a sign, a point and an exponent, and nothing else", () => {
  const read = ["15000", " 7 ", "-2.5", "+3", ".5", "5.", "1.25e9", "125E6", "1e-3"];
  assert.deepEqual(read.map(decimalNumber), [15000, 7, -2.5, 3, 0.5, 5, 1.25e9, 125e6, 1e-3]);
  const refused = ["0x10", "0b1", "0o7", "", " ", "Infinity", "-Infinity", "NaN", "1e400"];
  for (const text of [...refused, "1_000", "1,5", "e5", "1e", "--1", "15000 rpm"]) {
    assert.equal(decimalNumber(text), undefined, JSON.stringify(text));
  }
  // The rule says "decimal" only where the text is a number in another notation.
  assert.equal(
    decimalRule("must be a number", "0b1"),
    "must be a number, written in decimal (e.g. 16 or 1.5e3)",
  );
  for (const other of ["fast", "", " ", "Infinity", "1e400", 16]) {
    assert.equal(decimalRule("must be a number", other), "must be a number", String(other));
  }
});

Deno.test("valueOfText reads a --set value as the profile takes it: decimal numbers, booleans, JSON", () => {
  assert.equal(valueOfText("15000"), 15000);
  assert.equal(valueOfText(" 1.25e9"), 1.25e9);
  assert.equal(valueOfText("false"), false);
  assert.deepEqual(valueOfText('{"kind":"idle","idleThreshold":1e6}'), {
    kind: "idle",
    idleThreshold: 1e6,
  });
  assert.deepEqual(valueOfText("[1, 2]"), [1, 2]);
  for (const text of ["0x10", "0b1", "0o7", "Infinity", "used", "{broken"]) {
    assert.equal(valueOfText(text), text);
  }
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

Deno.test("parseFlags refuses a flag that takes one value given more than once, naming each; repeatable flags and --help may repeat", () => {
  const printed: string[] = [];
  const { error, log } = console;
  console.error = console.log = (text: string) => void printed.push(text);
  try {
    const options = {
      seed: { type: "string" },
      small: { type: "boolean" },
      set: { type: "string", multiple: true },
    } as const;
    const spec = { command: "demo", usage: "usage: demo", options };
    const args = ["--seed", "1", "--seed=2", "--small", "--small", "--set", "a=1", "--set", "b=2"];
    assert.equal(parseFlags({ ...spec, args }), 2);
    assert.deepEqual(printed, [
      'demo: invalid input (2 issues):\n  --seed: given more than once: current value is "1", "2"\n  --small: given more than once\nusage: demo',
    ]);
    printed.length = 0;
    const repeatable = parseFlags({ ...spec, args: ["--set", "a=1", "--set", "b=2"] });
    assert.deepEqual(typeof repeatable === "number" ? repeatable : repeatable.set, ["a=1", "b=2"]);
    assert.equal(parseFlags({ ...spec, args: ["-h", "--help"] }), 0);
    assert.deepEqual(printed, ["usage: demo"]);
  } finally {
    Object.assign(console, { error, log });
  }
});

Deno.test("parseFlags with the command's issue list adds each flag given more than once to it and returns the flags, so they are listed with the command's other issues", () => {
  const printed: string[] = [];
  const { error, log } = console;
  console.error = console.log = (text: string) => void printed.push(text);
  try {
    const options = { seed: { type: "string" }, small: { type: "boolean" } } as const;
    const issues = ["--out: earlier issue"];
    const flags = parseFlags({
      command: "demo",
      usage: "usage: demo",
      args: ["--seed", "1", "--seed", "2", "--small"],
      options,
      issues,
    });
    // The flag given twice is refused, so none of its values is taken (or checked again).
    assert.deepEqual({ ...flags as object }, { small: true });
    assert.deepEqual(issues, [
      "--out: earlier issue",
      '--seed: given more than once: current value is "1", "2"',
    ]);
    assert.deepEqual(printed, []);
    // A parse issue too: listed with the rest, nothing printed.
    const more = parseFlags({
      command: "demo",
      usage: "usage: demo",
      args: ["--x"],
      options,
      issues,
    });
    assert.notEqual(typeof more, "number");
    assert.match(issues.at(-1)!, /^--x: not a flag of demo; its flags: --seed, --small, --help$/);
    assert.deepEqual(printed, []);
  } finally {
    Object.assign(console, { error, log });
  }
});

Deno.test("readFlags lists every parse issue at once: an unknown flag with the command's flags, a missing value, a value given to a boolean, an argument; their flags keep their defaults", () => {
  const options = {
    seed: { type: "string" },
    out: { type: "string", default: "out" },
    small: { type: "boolean", default: false },
    set: { type: "string", multiple: true },
    help: { type: "boolean", short: "h" },
  } as const;
  const { values, issues } = readFlags(
    ["--bogus", "--seed", "3", "--small=yes", "-x", "extra", "--set", "a=1", "--", "more"],
    options,
    "demo",
  );
  const flags = "--seed, --out, --small, --set, --help";
  assert.deepEqual(issues, [
    `--bogus: not a flag of demo; its flags: ${flags}`,
    '--small: takes no value: current value is "yes"',
    `-x: not a flag of demo; its flags: ${flags}`,
    '"extra": not a flag; demo takes only flags (see --help)',
    '"more": not a flag; demo takes only flags (see --help)',
  ]);
  assert.deepEqual({ ...values }, { seed: "3", out: "out", small: false, set: ["a=1"] });
  // The last flag with no value, and one before another flag.
  assert.deepEqual(readFlags(["--seed"], options, "demo").issues, ["--seed: needs a value"]);
  const before = readFlags(["--out", "--small", "-h"], options);
  assert.deepEqual(before.issues, [
    "--out: needs a value (one that starts with '-' is written --out=-...)",
  ]);
  assert.deepEqual({ ...before.values }, { out: "out", small: true, help: true });
});

Deno.test("readFlags names the flag an unknown one most likely misspells, all of them when several are as close, and takes the argument after it as its value", () => {
  const options = {
    seed: { type: "string" },
    seeds: { type: "string" },
    set: { type: "string" },
    small: { type: "boolean" },
  } as const;
  const flags = "--seed, --seeds, --set, --small";
  assert.deepEqual(readFlags(["--sede", "2", "--smal"], options, "demo").issues, [
    `--sede: not a flag of demo, did you mean --seed? Its flags: ${flags}`,
    `--smal: not a flag of demo, did you mean --small? Its flags: ${flags}`,
  ]);
  assert.deepEqual(readFlags(["--sed=2"], options, "demo").issues, [
    `--sed: not a flag of demo, did you mean --seed or --set? Its flags: ${flags}`,
  ]);
  // Too far from every flag: no guess. A flag after the unknown one is read as a flag.
  const far = readFlags(["--bogus", "--seed", "4"], options, "demo");
  assert.deepEqual(far.issues, [`--bogus: not a flag of demo; its flags: ${flags}`]);
  assert.equal(far.values.seed, "4");
});

Deno.test("readFlags takes a negative number after a flag as its value, so the command's own range check names it; --name=-x too", () => {
  const options = { seed: { type: "string" }, stagger: { type: "string" } } as const;
  const { values, issues } = readFlags(["--seed", "-1", "--stagger", "-.5"], options);
  assert.deepEqual(issues, []);
  assert.deepEqual({ ...values }, { seed: "-1", stagger: "-.5" });
  assert.deepEqual({ ...readFlags(["--seed=-x"], options).values }, { seed: "-x" });
  assert.equal(intFlag("seed", values.seed, { min: 0, fallback: 1 }, issues), 1);
  assert.deepEqual(issues, ['--seed: must be an integer >= 0: current value is "-1"']);
});

Deno.test("parseFlags without an issue list prints every parse issue at once with the usage and returns 2; --help wins over them", () => {
  const printed: string[] = [];
  const { error, log } = console;
  console.error = console.log = (text: string) => void printed.push(text);
  try {
    const options = { seed: { type: "string" }, small: { type: "boolean" } } as const;
    const spec = { command: "demo", usage: "usage: demo", options };
    assert.equal(parseFlags({ ...spec, args: ["--bogus", "--small=1", "x", "--seed"] }), 2);
    assert.deepEqual(printed, [
      "demo: invalid input (4 issues):\n" +
      "  --bogus: not a flag of demo; its flags: --seed, --small, --help\n" +
      '  --small: takes no value: current value is "1"\n' +
      '  "x": not a flag; demo takes only flags (see --help)\n' +
      "  --seed: needs a value\n" +
      "usage: demo",
    ]);
    printed.length = 0;
    assert.equal(parseFlags({ ...spec, args: ["--bogus", "x", "--help"] }), 0);
    assert.deepEqual(printed, ["usage: demo"]);
  } finally {
    Object.assign(console, { error, log });
  }
});

Deno.test("readFlags leaves a flag given more than once out of the values, its default standing, so a command checks none of its values as if it were the one given", () => {
  const options = { seed: { type: "string" }, out: { type: "string", default: "out" } } as const;
  const r = readFlags(["--seed", "x", "--seed", "y", "--out", "a", "--out", "b"], options);
  assert.equal(r.values.seed, undefined);
  assert.equal(r.values.out, "out");
  assert.deepEqual(r.issues, [
    '--seed: given more than once: current value is "x", "y"',
    '--out: given more than once: current value is "a", "b"',
  ]);
});
