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

/** Runs the four experiments and returns their outputs (in figure order). */
export async function reproduce(options: { small?: boolean } = {}): Promise<FigureOut[]> {
  const small = options.small ?? false;
  const steps: [string, () => Promise<FigureOut>][] = [
    ["startup", async () => {
      const o = await startup.run(small ? startup.small : startup.full);
      return {
        name: "startup",
        rows: o.rows as unknown as Row[],
        comparisons: o.comparisons,
        svg: toSvg(startupFigure(o.rows, { title: "OS-startup time (s)" })),
      };
    }],
    ["cassandra", async () => {
      const o = await cassandra.run(small ? cassandra.small : cassandra.full);
      return {
        name: "cassandra",
        rows: o.rows as unknown as Row[],
        comparisons: o.comparisons,
        svg: toSvg(
          throughputFigure(o.rows, o.markers, { title: "Cassandra throughput (% of bare metal)" }),
        ),
      };
    }],
    ["storage", async () => {
      const o = await storage.run(small ? storage.small : storage.full);
      return {
        name: "storage",
        rows: o.rows as unknown as Row[],
        comparisons: o.comparisons,
        svg: toSvg(barsFigure(o.rows, { title: "Storage throughput (MB/s)", yLabel: "MB/s" })),
      };
    }],
    ["rdma", async () => {
      const o = await rdma.run(small ? rdma.small : rdma.full);
      return {
        name: "rdma",
        rows: o.rows as unknown as Row[],
        comparisons: o.comparisons,
        svg: toSvg(barsFigure(o.rows, { title: "InfiniBand RDMA latency (us)", yLabel: "us" })),
      };
    }],
  ];
  const out: FigureOut[] = [];
  for (const [i, [label, step]] of steps.entries()) {
    progress(label, i, steps.length);
    out.push(await step());
  }
  progress("done", steps.length, steps.length);
  return out;
}

if (import.meta.main) {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: {
      small: { type: "boolean", default: false },
      out: { type: "string", default: "out" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (flags.help) {
    console.log(
      "usage: deno task repro [--small] [--out DIR]\n  reproduces the paper's figures; exit 1 when a metric misses its tolerance",
    );
    Deno.exit(0);
  }
  const t0 = performance.now();
  const figures = await reproduce({ small: flags.small });
  const wall = (performance.now() - t0) / 1000;
  const comparisons = figures.flatMap((f) => f.comparisons);
  console.log(formatComparison(comparisons));
  const dir = flags.out!;
  Deno.mkdirSync(dir, { recursive: true });
  for (const f of figures) {
    Deno.writeTextFileSync(join(dir, `fig_${f.name}.svg`), f.svg);
    Deno.writeTextFileSync(join(dir, `fig_${f.name}.csv`), csv(f.rows));
  }
  Deno.writeTextFileSync(join(dir, "comparison.csv"), csv(comparisons as unknown as Row[]));
  Deno.writeTextFileSync(
    join(dir, "results.json"),
    JSON.stringify(
      {
        wallSeconds: wall,
        small: flags.small,
        figures: figures.map(({ svg: _svg, ...f }) => f),
      },
      null,
      2,
    ),
  );
  const failed = comparisons.filter((c) => !c.pass);
  console.log(
    `\n${
      comparisons.length - failed.length
    } of ${comparisons.length} metrics within tolerance; wall time ${
      wall.toFixed(1)
    } s; outputs in ${dir}/`,
  );
  if (failed.length > 0) {
    console.log(`outside tolerance: ${failed.map((c) => `${c.figure}/${c.metric}`).join("; ")}`);
    Deno.exit(1);
  }
}
