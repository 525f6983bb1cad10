/**
 * `deno task boot-trace`: what a recorded boot holds, before a profile
 * replays it (README, "Your own OS's boot"). Reads a trace file as
 * `loadProfile` does (a `.json` list of operations, or the text `blkparse`
 * prints), prints what it reads, writes and flushes, what the boot waits
 * for, its think time, phases and areas, and the smallest image that holds
 * it; `--out FILE.json` writes its operations as a JSON trace, e.g. to tag
 * phases by hand. Exit status: 0 done, 1 the output could not be written
 * after the trace was read, 2 invalid input (every issue listed at once; also
 * an --out found unusable before anything is written).
 */
import { basename, dirname } from "node:path";
import {
  type CommandIo,
  issuesMessage,
  outFileIssue,
  PROCESS_IO,
  readFlags,
  writeOutputs,
} from "../lib/_util/mod.ts";
import {
  type BlkparseOptions,
  type BootTraceOp,
  type BootTraceSummary,
  describeBootTrace,
  parseBootTraceFile,
} from "../lib/workload/mod.ts";

const FLAGS = {
  trace: { type: "string" },
  device: { type: "string" },
  "partition-start": { type: "string" },
  out: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const USAGE = `usage: deno task boot-trace --trace FILE [--device M,m] [--partition-start N]
                             [--out FILE.json] [--json]

  --trace FILE          a recorded boot: blkparse's text output, or a .json list of
                        { op, lba, count, thinkNs, phase? } (as a profile's boot.params.value.trace)
  --device M,m          the device to keep, of a blkparse text with several
  --partition-start N   added to each sector, for a trace whose sectors count from a partition
  --out FILE.json       write the operations as a JSON trace (to tag phases by hand, say)
  --json                print the summary as JSON

  exit status: 0 done, 1 the output could not be written after the trace was read (a
  previous one is left as it was), 2 invalid input (every issue listed at once; also an
  --out found unusable before anything is written: nothing is written then)`;

/** The trace of `path` with blkparse's options, or the issues that keep it from being read. */
async function readTrace(
  path: string,
  options: BlkparseOptions,
): Promise<BootTraceOp[] | string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    return [`--trace: cannot read ${path}: ${(e as Error).message}`];
  }
  try {
    return parseBootTraceFile(path, text, options);
  } catch (e) {
    return [`--trace ${path}: ${(e as Error).message}`];
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(2);

/** The summary as the table {@link main} prints. */
function summaryText(path: string, s: BootTraceSummary): string {
  const areas = (runs: { lba: number; count: number }[], end: number) =>
    runs.length === 0
      ? "none"
      : `sectors ${runs[0].lba}-${end} in ${runs.length} area${runs.length === 1 ? "" : "s"}`;
  const rows = [
    [
      "operations",
      `${s.operations} in ${s.phases.length} phase${s.phases.length === 1 ? "" : "s"}`,
    ],
    ["reads", `${s.reads.count}, ${mb(s.reads.bytes)} MB`],
    [
      "writes",
      `${s.writes.count}, ${
        mb(s.writes.bytes)
      } MB: ${s.writes.sync} waited for (sync), ${s.writes.fua} FUA`,
    ],
    ["flushes", `${s.flushes.count}: ${s.flushes.sync} waited for (sync)`],
    ["think time", `${s.thinkS.toFixed(3)} s (CPU between requests, as the replay plays it)`],
    ["reads span", areas(s.extents.reads, s.extents.readEnd)],
    ["writes span", areas(s.extents.writes, s.extents.writeEnd)],
    ["smallest image", `${(s.minImageBytes / 1e9).toFixed(2)} GB (image.bytes must hold it)`],
    ["phases", s.phases.map((p) => `${p.name} ${p.operations}`).join(", ")],
  ];
  return `${path}\n${rows.map(([k, v]) => `  ${k.padEnd(15)} ${v}`).join("\n")}\n`;
}

/**
 * Runs the command on `args`; returns the exit status.
 * @example
 * ```ts
 * import { main } from "./boot_trace.ts";
 * let out = "";
 * const code = await main(["--trace", "data/examples/recorded-boot/boot.blkparse"], {
 *   stdout: (t) => (out += t), stderr: () => {},
 * });
 * console.assert(code === 0 && /flushes +1: 1 waited for/.test(out));
 * ```
 */
export async function main(args: string[], io: CommandIo): Promise<number> {
  const { values: f, issues } = readFlags(args, FLAGS, "boot-trace");
  if (f.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  // "--trace" without its value is one issue, readFlags's.
  if (f.trace === undefined && !issues.some((i) => i.startsWith("--trace: "))) {
    issues.push("--trace: needs the trace file");
  }
  let partitionStart: number | undefined;
  let readable = f.trace !== undefined;
  if (f["partition-start"] !== undefined) {
    partitionStart = Number(f["partition-start"]);
    if (!(Number.isInteger(partitionStart) && partitionStart >= 0)) {
      readable = false; // the trace's sectors would be named by a wrong partition start
      issues.push(
        `--partition-start: must be an integer >= 0: current value is ${
          JSON.stringify(f["partition-start"])
        }`,
      );
    }
  }
  if (f.out !== undefined && !f.out.toLowerCase().endsWith(".json")) {
    issues.push(`--out: must name a .json file: current value is ${JSON.stringify(f.out)}`);
  } else if (f.out !== undefined) {
    // Where it goes, checked before the trace is read, as the other commands do.
    const outIssue = outFileIssue("out", f.out);
    if (outIssue !== undefined) issues.push(outIssue);
  }
  if (readable) {
    const read = await readTrace(f.trace!, { device: f.device, partitionStart });
    if (typeof read[0] === "string") issues.push(...read as string[]);
    else if (issues.length === 0) {
      const trace = read as BootTraceOp[];
      const summary = describeBootTrace(trace);
      if (f.out !== undefined) {
        const failure = writeOutputs({
          command: "boot-trace",
          out: f.out,
          dir: dirname(f.out),
          files: { [basename(f.out)]: `${JSON.stringify(trace, null, 1)}\n` },
        });
        if (failure !== undefined) {
          io.stderr(`${failure}\n`);
          return 1;
        }
      }
      io.stdout(f.json ? `${JSON.stringify(summary, null, 2)}\n` : summaryText(f.trace!, summary));
      return 0;
    }
  }
  io.stderr(`${issuesMessage("boot-trace: invalid input", issues)}\n${USAGE}\n`);
  return 2;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args, PROCESS_IO));
}
