/** What the command-line tools share: flag parsing, integer flags, all-or-nothing output. */
import { dirname } from "node:path";
import type { parseArgs, ParseArgsConfig } from "node:util";
import { didYouMean, issuesMessage } from "./errors.ts";

/** The `options` table of `node:util` `parseArgs`: flag name -> type, short alias, default. */
export type FlagOptions = NonNullable<ParseArgsConfig["options"]>;
/** The parsed flags of `options` (strict, no positionals). */
export type Flags<O extends FlagOptions> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>
>["values"];

/**
 * Reads a command's flags (`--name VALUE`, `--name=VALUE`, a boolean's
 * `--name`, a short alias `-h`; everything after `--` is an argument) and
 * returns them with every issue found, so a command lists them all at once:
 * an unknown flag (the issue names the flag it most likely misspells, if
 * one is close, and lists the command's flags; an argument after it that is
 * not a flag is taken as its value, not reported again), a flag that takes a
 * value and has none (the next argument is another flag, or there is none),
 * a value given to a boolean flag (`--small=yes`), an argument that is not a
 * flag, and a flag given more than once that takes one value (not
 * `multiple`; `--help` aside), where the last one would win silently. A flag
 * with an issue is left out of `values` (its default stands), a flag given
 * more than once too, so that none of its values is checked again. A value that
 * starts with `-` is taken when it is a number (`--seed -1`, so the command's
 * own range check names it) or written `--name=-x`.
 * @example
 * ```ts
 * import { readFlags } from "./cli.ts";
 * const options = { seed: { type: "string" }, set: { type: "string", multiple: true } } as const;
 * const { values, issues } = readFlags(["--seed", "1", "--seed", "2", "--set", "a=1", "--set", "b=2"], options);
 * console.assert(values.set?.length === 2 && values.seed === undefined);
 * console.assert(issues[0] === '--seed: given more than once: current value is "1", "2"');
 * const bad = readFlags(["--bogus", "--seed", "-1"], options, "demo");
 * console.assert(bad.values.seed === "-1");
 * console.assert(bad.issues[0] === "--bogus: not a flag of demo; its flags: --seed, --set");
 * const typo = readFlags(["--sede", "2"], options, "demo");
 * console.assert(typo.issues.length === 1 &&
 *   typo.issues[0] === "--sede: not a flag of demo, did you mean --seed? Its flags: --seed, --set");
 * ```
 */
export function readFlags<const O extends FlagOptions>(
  args: string[],
  options: O,
  command?: string,
): { values: Flags<O>; issues: string[] } {
  const issues: string[] = [];
  const known = Object.keys(options).map((n) => `--${n}`);
  const unknown = (flag: string) => {
    const hint = flag.startsWith("--") ? didYouMean(flag, known) : "";
    issues.push(
      `${flag}: not a flag${command ? ` of ${command}` : ""}${
        hint === "" ? "; its flags" : `${hint} Its flags`
      }: ${known.join(", ")}`,
    );
  };
  const byShort = new Map(
    Object.entries(options).flatMap(([n, o]) => o.short ? [[o.short, n] as const] : []),
  );
  // Each flag read well, in order: name and value (undefined for a boolean).
  const read: [string, string | undefined][] = [];
  // Takes the value of string flag `name` (written `flag`) from the next argument, if it is one.
  const valueAt = (i: number, flag: string, name: string): number => {
    const next = args[i + 1];
    if (next !== undefined && (!next.startsWith("-") || next === "-" || NEGATIVE.test(next))) {
      read.push([name, next]);
      return i + 1;
    }
    const hint = next === undefined ? "" : ` (one that starts with '-' is written ${flag}=-...)`;
    issues.push(`${flag}: needs a value${hint}`);
    return i;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      for (const rest of args.slice(i + 1)) issues.push(unexpected(rest, command));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const flag = `--${name}`;
      const option = Object.hasOwn(options, name) ? options[name] : undefined;
      if (option === undefined) {
        unknown(flag);
        // Its value, if it was given one, is not a stray argument of its own.
        const next = args[i + 1];
        if (eq < 0 && next !== undefined && (!next.startsWith("-") || NEGATIVE.test(next))) i++;
      } else if (eq >= 0 && option.type === "boolean") {
        issues.push(
          `${flag}: takes no value: current value is ${JSON.stringify(arg.slice(eq + 1))}`,
        );
      } else if (eq >= 0) read.push([name, arg.slice(eq + 1)]);
      else if (option.type === "boolean") read.push([name, undefined]);
      else i = valueAt(i, flag, name);
    } else if (arg.startsWith("-") && arg !== "-" && !NEGATIVE.test(arg)) {
      // One short alias, or several booleans' (`-ab`); a string one takes the next argument.
      for (const [k, c] of [...arg.slice(1)].entries()) {
        const name = byShort.get(c);
        if (name === undefined) unknown(`-${c}`);
        else if (options[name].type === "boolean") read.push([name, undefined]);
        else if (k === arg.length - 2) i = valueAt(i, `-${c}`, name);
        else issues.push(`-${c}: needs a value, after the other short flags`);
      }
    } else issues.push(unexpected(arg, command));
  }
  const values: Record<string, unknown> = {};
  const given = new Map<string, (string | undefined)[]>();
  for (const [name, value] of read) {
    const option = options[name];
    if (option.multiple) {
      values[name] = [...(values[name] as unknown[] ?? []), value ?? true];
      continue;
    }
    values[name] = value ?? true;
    if (name !== "help") given.set(name, [...given.get(name) ?? [], value]);
  }
  for (const [name, v] of given) {
    if (v.length < 2) continue;
    // Refused, so none of its values is checked further (nor taken): its default stands.
    delete values[name];
    const shown = v.every((x) => x === undefined)
      ? ""
      : `: current value is ${v.map((x) => JSON.stringify(x)).join(", ")}`;
    issues.push(`--${name}: given more than once${shown}`);
  }
  for (const [name, option] of Object.entries(options)) {
    if (values[name] === undefined && option.default !== undefined) values[name] = option.default;
  }
  return { values: values as Flags<O>, issues };
}

// A negative number as a flag's value (`--seed -1`), not a flag: a minus, then a digit or a point.
const NEGATIVE = /^-\.?\d/;

function unexpected(arg: string, command: string | undefined): string {
  return `${JSON.stringify(arg)}: not a flag; ${
    command ?? "the command"
  } takes only flags (see --help)`;
}

/**
 * Parses a command's flags with {@link readFlags} (`--help`/`-h` added).
 * Returns the flags, or the exit status once it has printed what to: 0 after
 * the usage for `--help` (whatever else is wrong), 2 after
 * `command: invalid input (N issues):` and the usage. Each issue of the
 * flags (an unknown flag, a missing value, a flag given twice, ...) is added
 * to `issues`, the command's list, to be reported with its other issues;
 * without that list, they are printed and the status is 2.
 * @example
 * ```ts
 * import { parseFlags } from "./cli.ts";
 * const options = { out: { type: "string", default: "out" }, small: { type: "boolean" } } as const;
 * const issues: string[] = [];
 * const f = parseFlags({ command: "demo", usage: "usage: demo", args: ["--small"], options, issues });
 * console.assert(typeof f !== "number" && f.small === true && f.out === "out");
 * ```
 */
export function parseFlags<const O extends FlagOptions>(
  spec: { command: string; usage: string; args: string[]; options: O; issues?: string[] },
): Flags<O> | number {
  const options = { ...spec.options, help: { type: "boolean", short: "h" } } as const;
  const { values, issues }: { values: Record<string, unknown>; issues: string[] } = readFlags(
    spec.args,
    options,
    spec.command,
  );
  if (values.help === true) {
    console.log(spec.usage);
    return 0;
  }
  spec.issues?.push(...issues);
  if (!spec.issues && issues.length > 0) {
    console.error(`${issuesMessage(`${spec.command}: invalid input`, issues)}\n${spec.usage}`);
    return 2;
  }
  delete values.help;
  return values as Flags<O>;
}

/**
 * A figure script's flags: `--small` (the quick configuration) and `--help`.
 * For a script's main: on `--help` or a bad flag it prints what
 * {@link parseFlags} prints and exits (0 or 2).
 * @example
 * ```ts
 * import { smallFlag } from "./cli.ts";
 * console.assert(smallFlag({ command: "demo", usage: "usage: demo [--small]", args: ["--small"] }));
 * ```
 */
export function smallFlag(
  options: { command: string; usage: string; args?: string[] },
): boolean {
  const { command, usage, args = Deno.args } = options;
  const flags = parseFlags({
    command,
    usage,
    args,
    options: { small: { type: "boolean", default: false } },
  });
  if (typeof flags === "number") Deno.exit(flags);
  return flags.small;
}

/** Where a command's main writes its output and its errors (Deno's streams, or strings in tests). */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The process's own stdout and stderr, whole texts each ({@link writeAll}). */
export const PROCESS_IO: CommandIo = {
  stdout: (t) => writeAll(Deno.stdout, t),
  stderr: (t) => writeAll(Deno.stderr, t),
};

/**
 * Writes all of `text` to `file` (a single writeSync may write only part of it).
 * @example
 * ```ts
 * import { writeAll } from "./cli.ts";
 * const got: number[] = [];
 * writeAll({ writeSync: (b: Uint8Array) => (got.push(b[0]), 1) }, "ab");
 * console.assert(got.join() === "97,98");
 * ```
 */
export function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** Where {@link progressLine} writes (Deno.stderr, or a stand-in in tests). */
export interface ProgressStream {
  isTerminal(): boolean;
  writeSync(bytes: Uint8Array): number;
}

/**
 * A one-line run counter for long commands: on a terminal, `update` rewrites
 * the line as `<command> <done>/<total> <what>` and `clear` erases it; when
 * the stream is not a terminal (CI, a pipe) both do nothing.
 * @example
 * ```ts
 * import { progressLine } from "./cli.ts";
 * const written: string[] = [];
 * const out = { isTerminal: () => true, writeSync: (b: Uint8Array) => written.push(new TextDecoder().decode(b)) };
 * const line = progressLine("copier", out);
 * line.update(1, 3, "idle 2 ms");
 * line.clear();
 * console.assert(written.join("|") === "\r\x1b[2Kcopier 1/3 idle 2 ms|\r\x1b[2K");
 * ```
 */
export function progressLine(
  command: string,
  out: ProgressStream = Deno.stderr,
): { update(done: number, total: number, what: string): void; clear(): void } {
  const tty = out.isTerminal();
  const enc = new TextEncoder();
  const write = (text: string) => tty && out.writeSync(enc.encode(`\r\x1b[2K${text}`));
  return {
    update: (done, total, what) => void write(`${command} ${done}/${total} ${what}`),
    clear: () => void write(""),
  };
}

/**
 * Largest seed the command-line tools accept. The random streams take any
 * integer >= 0; one bound keeps `repro`, `report` and `sim` alike.
 */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * The issue of running seeds `seed` .. `seed + count - 1` when the last one
 * passes {@link MAX_SEED} (`name`: the count's flag or field), else undefined.
 * @example
 * ```ts
 * import { MAX_SEED, seedRangeIssue } from "./cli.ts";
 * console.assert(seedRangeIssue("--seeds", 1, 20) === undefined);
 * console.assert(seedRangeIssue("--seeds", MAX_SEED, 2)!.startsWith("--seeds: must keep"));
 * ```
 */
export function seedRangeIssue(name: string, seed: number, count: number): string | undefined {
  if (!(seed + count - 1 > MAX_SEED)) return undefined;
  return `${name}: must keep the last seed (seed + seeds - 1 = ${
    seed + count - 1
  }) <= ${MAX_SEED}: current value is ${count}`;
}

// An optional sign, digits with an optional point (or a point and digits), an optional exponent.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The number `text` spells in plain decimal ("15000", "-2.5", ".5",
 * "1.25e9"; blanks around it ignored), or undefined: for anything else, also
 * what `Number()` would read but a reader may not expect to be a number
 * ("0x10", "0b1", "0o7", "", " ", "Infinity") and a number too large to be
 * finite ("1e400").
 * @example
 * ```ts
 * import { decimalNumber } from "./cli.ts";
 * console.assert(decimalNumber(" 1.25e9 ") === 1.25e9 && decimalNumber("-2") === -2);
 * console.assert(decimalNumber("0x10") === undefined && decimalNumber("") === undefined);
 * ```
 */
export function decimalNumber(text: string): number | undefined {
  const t = text.trim();
  const v = DECIMAL.test(t) ? Number(t) : NaN;
  return Number.isFinite(v) ? v : undefined;
}

/**
 * `rule` (an issue's "must be ..." part) with ", written in decimal (...)"
 * added when `input` is text that `Number()` reads as a finite number but
 * {@link decimalNumber} refuses ("0x10"), so the issue says why a number
 * was not taken; `rule` unchanged otherwise.
 * @example
 * ```ts
 * import { decimalRule } from "./cli.ts";
 * console.assert(decimalRule("must be an integer", "x") === "must be an integer");
 * console.assert(decimalRule("must be an integer", "0x10") ===
 *   "must be an integer, written in decimal (e.g. 16 or 1.5e3)");
 * ```
 */
export function decimalRule(rule: string, input: unknown): string {
  const nonDecimal = typeof input === "string" && input.trim() !== "" &&
    Number.isFinite(Number(input)) && decimalNumber(input) === undefined;
  return nonDecimal ? `${rule}, written in decimal (e.g. 16 or 1.5e3)` : rule;
}

/**
 * The value a `PATH=VALUE` text spells (a `--set` item's value, or a string
 * in a scenario's `set`): "true" and "false" as booleans, a decimal number
 * ({@link decimalNumber}) as a number, "[...]" and "{...}" as the JSON array
 * or object; anything else, also JSON that does not parse, stays the text.
 * @example
 * ```ts
 * import { valueOfText } from "./cli.ts";
 * console.assert(valueOfText("15000") === 15000 && valueOfText("true") === true);
 * console.assert((valueOfText('{"kind":"idle"}') as { kind: string }).kind === "idle");
 * console.assert(valueOfText("0x10") === "0x10" && valueOfText("fast") === "fast");
 * ```
 */
export function valueOfText(text: string): unknown {
  const t = text.trim();
  if (t === "true" || t === "false") return t === "true";
  if (t.startsWith("[") || t.startsWith("{")) {
    try {
      return JSON.parse(t);
    } catch {
      return text; // reported as the wrong type
    }
  }
  return decimalNumber(t) ?? text;
}

/**
 * Each value of `items` as a profile takes it: texts read by
 * {@link valueOfText}, other values kept (`{ "hdd.rpm": "15000" }` ->
 * `{ "hdd.rpm": 15000 }`), as every output records `--set` items.
 * @example
 * ```ts
 * import { valuesOfText } from "./cli.ts";
 * const v = valuesOfText({ "hdd.rpm": "15000", "vmm.pipeline": 3 });
 * console.assert(v["hdd.rpm"] === 15000 && v["vmm.pipeline"] === 3);
 * ```
 */
export function valuesOfText(items: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(items).map(([k, v]) => [k, typeof v === "string" ? valueOfText(v) : v]),
  );
}

/**
 * The integer flag `--name` within [min, max] (`fallback` when absent),
 * written in decimal ({@link decimalNumber}); a bad value adds an issue
 * naming the flag, the allowed values and what was given, and yields
 * `fallback`, so every issue can be reported at once.
 * @example
 * ```ts
 * import { intFlag } from "./cli.ts";
 * const issues: string[] = [];
 * console.assert(intFlag("top", "7", { min: 1, fallback: 15 }, issues) === 7);
 * console.assert(intFlag("top", undefined, { min: 1, fallback: 15 }, issues) === 15);
 * intFlag("seeds", "2.5", { min: 1, max: 20, fallback: 1 }, issues);
 * console.assert(issues[0] === '--seeds: must be an integer in [1, 20]: current value is "2.5"');
 * ```
 */
export function intFlag(
  name: string,
  raw: string | undefined,
  range: { min: number; max?: number; fallback: number },
  issues: string[],
): number {
  if (raw === undefined) return range.fallback;
  const { min, max = Infinity } = range;
  const v = decimalNumber(raw);
  if (v !== undefined && Number.isInteger(v) && v >= min && v <= max) return v;
  const allowed = max === Infinity ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
  issues.push(
    `--${name}: ${decimalRule(`must be ${allowed}`, raw)}: current value is ${JSON.stringify(raw)}`,
  );
  return range.fallback;
}

/**
 * Checks, before a long run, that output can later be written into `dir`
 * (created then if missing): it names a directory, or nothing under a
 * writable directory. Probes with a temporary file it removes again, so it
 * leaves nothing behind. Returns the issue (`--<flag>: ...`) or undefined.
 * @example
 * ```ts
 * import { outDirIssue } from "./cli.ts";
 * const dir = Deno.makeTempDirSync();
 * console.assert(outDirIssue("out", `${dir}/new/sub`) === undefined);
 * Deno.writeTextFileSync(`${dir}/file`, "");
 * console.assert(outDirIssue("out", `${dir}/file`)!.includes("not a directory"));
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function outDirIssue(flag: string, dir: string): string | undefined {
  if (dir === "") return `--${flag}: must name a directory: current value is ""`;
  // The nearest existing folder on the path: where the output (or its parents) will be created.
  let at = dir;
  for (;;) {
    let info: Deno.FileInfo | undefined;
    try {
      info = Deno.statSync(at);
    } catch (e) {
      const absent = e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
      if (!absent) return `--${flag}: cannot use '${dir}': ${msg(e)}`;
    }
    if (info !== undefined) {
      if (!info.isDirectory) return `--${flag}: '${at}' is not a directory`;
      break;
    }
    const up = at.replace(/\/+$/, "").replace(/\/[^/]*$/, "");
    at = up === at ? "." : up === "" ? "/" : up;
  }
  try {
    Deno.removeSync(Deno.makeTempFileSync({ dir: at, prefix: ".probe-" }));
  } catch (e) {
    return `--${flag}: cannot create files in '${at}' (${msg(e)})`;
  }
  return undefined;
}

/**
 * Checks, before a run, that output can later be written to the file
 * `path`: it names a file (not "", not ending in "/", not a directory),
 * in a folder {@link outDirIssue} accepts. Returns the issue
 * (`--<flag>: ...`) or undefined.
 * @example
 * ```ts
 * import { outFileIssue } from "./cli.ts";
 * const dir = Deno.makeTempDirSync();
 * console.assert(outFileIssue("out", `${dir}/new/r.html`) === undefined);
 * console.assert(outFileIssue("out", dir)!.startsWith("--out: must name a file"));
 * Deno.writeTextFileSync(`${dir}/file`, "");
 * console.assert(outFileIssue("out", `${dir}/file/r.html`)!.includes("not a directory"));
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function outFileIssue(flag: string, path: string): string | undefined {
  let isDir = false;
  try {
    isDir = Deno.statSync(path).isDirectory;
  } catch { /* absent, or not reachable: the folder's check names why */ }
  if (path === "" || path.endsWith("/") || isDir) {
    return `--${flag}: must name a file: current value is ${JSON.stringify(path)}`;
  }
  return outDirIssue(flag, dirname(path));
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message.replace(/ \(os error \d+\).*$/, "") : String(e);
}

/**
 * Writes `files` (name -> text) into `dir` all or nothing: into a temporary
 * folder inside `dir` first, then each renamed into place with the previous
 * output moved aside, and moved back if a later rename fails, so a failed
 * write leaves the previous outputs untouched. A name taken by a directory
 * fails before anything moves.
 * @example
 * ```ts
 * import { writeFilesAtomically } from "./cli.ts";
 * const dir = Deno.makeTempDirSync();
 * writeFilesAtomically(dir, { "a.csv": "x\n1\n", "b.json": "{}" });
 * console.assert(Deno.readTextFileSync(`${dir}/a.csv`) === "x\n1\n");
 * console.assert([...Deno.readDirSync(dir)].length === 2);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function writeFilesAtomically(dir: string, files: Record<string, string>): void {
  Deno.mkdirSync(dir, { recursive: true });
  const tmp = Deno.makeTempDirSync({ dir, prefix: ".partial-" });
  // What moved so far: each output's previous file (aside in tmp) and whether the new one is in.
  const moved: { target: string; old?: string; placed: boolean }[] = [];
  try {
    const names = Object.keys(files);
    for (const name of names) {
      if (statOrUndefined(`${dir}/${name}`)?.isDirectory) {
        throw new Error(`cannot write '${dir}/${name}': a directory has that name`);
      }
      Deno.writeTextFileSync(`${tmp}/${name}`, files[name]);
    }
    names.forEach((name, i) => {
      const m: (typeof moved)[number] = { target: `${dir}/${name}`, placed: false };
      moved.push(m);
      if (statOrUndefined(m.target) !== undefined) {
        m.old = `${tmp}/.previous-${i}`;
        Deno.renameSync(m.target, m.old);
      }
      Deno.renameSync(`${tmp}/${name}`, m.target);
      m.placed = true;
    });
  } catch (e) {
    for (const m of moved.reverse()) {
      try {
        if (m.placed) Deno.removeSync(m.target);
        if (m.old !== undefined) Deno.renameSync(m.old, m.target);
      } catch { /* best effort: the first error is the one to report */ }
    }
    throw e;
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

/**
 * A command's outputs written with {@link writeFilesAtomically} into `dir`
 * (default `out`, the `--out` value): undefined when written, else the one
 * line to print, `<command>: cannot write --out <out>: <why>` (the previous
 * outputs are left as they were).
 * @example
 * ```ts
 * import { writeOutputs } from "./cli.ts";
 * const out = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${out}/a.csv`); // a directory has that name
 * const failure = writeOutputs({ command: "demo", out, files: { "a.csv": "x\n" } });
 * console.assert(failure?.startsWith(`demo: cannot write --out ${out}: `));
 * Deno.removeSync(out, { recursive: true });
 * ```
 */
export function writeOutputs(
  options: { command: string; out: string; files: Record<string, string>; dir?: string },
): string | undefined {
  const { command, out, files, dir = out } = options;
  try {
    writeFilesAtomically(dir, files);
  } catch (e) {
    return `${command}: cannot write --out ${out}: ${(e as Error).message}`;
  }
}

function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
