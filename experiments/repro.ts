/**
 * `deno task repro`: reproduces every figure of the BMcast paper on the
 * built-in profile. Prints `figure | metric | paper | simulated | error %`,
 * writes tidy CSV/JSON and one SVG per figure under out/ (or --out DIR), and
 * exits 1 when a metric is outside its stated tolerance. `--small` runs the
 * quick configurations. Progress goes to stderr, only on a terminal.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import {
  barsFigure,
  type ComparisonRow,
  formatComparison,
  startupFigure,
  throughputFigure,
  toSvg,
} from "../lib/plot/mod.ts";
import * as startup from "./fig_startup.ts";
import * as cassandra from "./fig_cassandra.ts";
import * as storage from "./fig_storage.ts";
import * as rdma from "./fig_rdma.ts";

type Row = Record<string, unknown>;

/** One figure's outputs. */
interface FigureOut {
  name: string;
  rows: Row[];
  comparisons: ComparisonRow[];
  svg: string;
}

const tty = Deno.stderr.isTerminal();
const enc = new TextEncoder();
function progress(label: string, done: number, total: number): void {
  if (!tty) return;
  const width = 30, fill = Math.round((done / total) * width);
  Deno.stderr.writeSync(
    enc.encode(
      `\r\x1b[2K[${"#".repeat(fill)}${"-".repeat(width - fill)}] ${done}/${total} ${label}`,
    ),
  );
  if (done === total) Deno.stderr.writeSync(enc.encode("\r\x1b[2K"));
}

function csv(rows: Row[]): string {
  if (rows.length === 0) return "";
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [cols.join(","), ...rows.map((r) => cols.map((c) => cell(r[c])).join(","))].join("\n") +
    "\n";
}

/** A figure's step: run the experiment (small or full), draw its figure. */
function step<O extends { rows: readonly object[]; comparisons: ComparisonRow[] }>(
  name: string,
  run: (small: boolean) => Promise<O>,
  draw: (o: O) => Parameters<typeof toSvg>[0],
): [string, (small: boolean) => Promise<FigureOut>] {
  return [name, async (small) => {
    const o = await run(small);
    return { name, rows: o.rows as Row[], comparisons: o.comparisons, svg: toSvg(draw(o)) };
  }];
}

/** The paper's figures, in order. */
const STEPS = [
  step(
    "startup",
    (s) => startup.run(s ? startup.small : startup.full),
    (o) => startupFigure(o.rows, { title: "OS-startup time (s)" }),
  ),
  step(
    "cassandra",
    (s) => cassandra.run(s ? cassandra.small : cassandra.full),
    (o) => throughputFigure(o.rows, o.markers, { title: "Cassandra throughput (% of bare metal)" }),
  ),
  step(
    "storage",
    (s) => storage.run(s ? storage.small : storage.full),
    (o) => barsFigure(o.rows, { title: "Storage throughput (MB/s)", yLabel: "MB/s" }),
  ),
  step(
    "rdma",
    (s) => rdma.run(s ? rdma.small : rdma.full),
    (o) => barsFigure(o.rows, { title: "InfiniBand RDMA latency (us)", yLabel: "us" }),
  ),
];

/** Runs the four experiments and returns their outputs (in figure order). */
export async function reproduce(options: { small?: boolean } = {}): Promise<FigureOut[]> {
  const small = options.small ?? false;
  const out: FigureOut[] = [];
  for (const [i, [label, run]] of STEPS.entries()) {
    progress(label, i, STEPS.length);
    out.push(await run(small));
  }
  progress("done", STEPS.length, STEPS.length);
  return out;
}

const USAGE = `usage: deno task repro [--small] [--out DIR]
  Reproduces the paper's figures on the built-in profile: prints
  figure | metric | paper | simulated | error % | status, and writes
  fig_<name>.svg and .csv, comparison.csv and results.json into DIR (default out/).
  Exit status: 0 all metrics within tolerance, 1 some outside, 2 bad usage.
  --small  quick configurations (smaller images and runs): the paper's values
           do not apply to them, so they are shown but not judged (exit 0).`;

/**
 * Writes `files` (name -> text) into `dir` all or nothing: into a temporary
 * folder beside them first, then renamed into place.
 */
function writeAll(dir: string, files: Record<string, string>): void {
  Deno.mkdirSync(dir, { recursive: true });
  const tmp = Deno.makeTempDirSync({ dir, prefix: ".repro-" });
  try {
    for (const [name, text] of Object.entries(files)) Deno.writeTextFileSync(join(tmp, name), text);
    for (const name of Object.keys(files)) Deno.renameSync(join(tmp, name), join(dir, name));
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

if (import.meta.main) {
  let flags: { small: boolean; out: string; help?: boolean };
  try {
    flags = parseArgs({
      args: Deno.args,
      options: {
        small: { type: "boolean", default: false },
        out: { type: "string", default: "out" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }).values as typeof flags;
  } catch (e) {
    console.error(`repro: ${(e as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  if (flags.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const outStat = (() => {
    try {
      return Deno.statSync(flags.out);
    } catch {
      return null; // created when the run is done
    }
  })();
  if (flags.out === "" || (outStat !== null && !outStat.isDirectory)) {
    console.error(`repro: --out must name a directory: '${flags.out}' is not one\n${USAGE}`);
    Deno.exit(2);
  }
  const t0 = performance.now();
  const figures = await reproduce({ small: flags.small });
  const wall = (performance.now() - t0) / 1000;
  const comparisons = figures.flatMap((f) => f.comparisons);
  console.log(formatComparison(comparisons));
  const dir = flags.out;
  const files: Record<string, string> = {};
  for (const f of figures) {
    files[`fig_${f.name}.svg`] = f.svg;
    files[`fig_${f.name}.csv`] = csv(f.rows);
  }
  files["comparison.csv"] = csv(comparisons as unknown as Row[]);
  files["results.json"] = JSON.stringify(
    { wallSeconds: wall, small: flags.small, figures: figures.map(({ svg: _svg, ...f }) => f) },
    null,
    2,
  );
  writeAll(dir, files);
  const failed = comparisons.filter((c) => !c.pass);
  console.log(
    `\n${
      comparisons.length - failed.length
    } of ${comparisons.length} metrics within tolerance; wall time ${
      wall.toFixed(1)
    } s; outputs in ${dir}/`,
  );
  if (flags.small) {
    console.log("small configurations: the paper's values do not apply, nothing judged");
  } else if (failed.length > 0) {
    console.log(`outside tolerance: ${failed.map((c) => `${c.figure}/${c.metric}`).join("; ")}`);
    Deno.exit(1);
  }
}
