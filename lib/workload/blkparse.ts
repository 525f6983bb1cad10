/**
 * Boot traces from a real boot: the text Linux `blkparse` prints (default
 * format) for a block device traced while an OS boots, as {@link BootTraceOp}s
 * to replay. The rules:
 *
 * - An event line is `device cpu sequence seconds.fraction pid action ...`
 *   (device `major,minor`); other lines (blank, `CPU0 (8,0):`, the summary
 *   blocks) are skipped. An event line missing its time, pid or action, a
 *   D or C line of a read or write without `RWBS sector + count [name]`, a D
 *   or C line whose RWBS has a letter that is not blkparse's (R, W, D, F, N,
 *   E, A, S, M) or names no operation (R, W, D, F or N: `S` alone), and a
 *   request that does not end within the ATA 48-bit LBA range (sector +
 *   `partitionStart` + count <= 2^48) are malformed:
 *   every malformed line is named (`line 12`, the first ten).
 * - Only D events (issued to the driver) become requests: that is what the
 *   disk interface sees, after merging. The RWBS (blkparse's fill_rwbs: an
 *   `F` for a flush, then `D`, `W`, `R` or `N`, then `F` for FUA, `A`, `S`,
 *   `M`) with `W` is a write, with `R` a read, and an `F` after the `W` makes
 *   the write `fua`. A flush with no data is a flush: `FWS` (Linux up to 4.9)
 *   or `FN` (4.10 on); an `F` first on a request with data is a flush, then
 *   that request (ftrace's `FF` and `F` are taken too). A discard (`D`), `N`,
 *   any other request of 0 sectors and SCSI/ATA pass-through commands (`R 36
 *   (12 00 ..)`, udev's disk queries at boot) are skipped. Q, G, I, M, P, U,
 *   A, X, T and the rest are ignored.
 * - Waits: a flush, or a write with `S`, is `sync` (the replay waits for it)
 *   when the recording did: its C came before any later D. A burst of sync
 *   writes issued back to back is thus replayed as the burst, with only the
 *   last one waited for.
 * - `lba` = sector + `partitionStart`: 0 for blktrace's output, which gives a
 *   partition's requests in the disk's sectors too; a partition's first
 *   sector for a trace whose sectors count from the partition's start.
 * - Events are put in time order (stable: line order for ties, a C before a
 *   D). Times are read exactly as integer ns. `thinkNs` of a request is the
 *   time since the later of the previous request's issue and the last C
 *   (completion, of any request) at or before it; 0 for the first.
 * - A text with events of several devices needs `device`; one with no D
 *   read or write (flushes alone included) is refused.
 */
import { type BootTraceOp, parseBootTrace } from "./boot.ts";
import {
  type FieldIssue,
  fieldIssue,
  issuesError,
  numberIssue,
  showValue,
  unknownKeyIssues,
} from "../_util/mod.ts";

/** Options of {@link parseBlkparse}. */
export interface BlkparseOptions {
  /** The device to keep, `"major,minor"` (needed when the text has several). @default the only one */
  device?: string;
  /**
   * Added to each sector, for a trace whose sectors count from a partition's start (blktrace's
   * own output is in the disk's sectors, a partition's too). @default 0
   */
  partitionStart?: number;
}

const WHAT = "parse blkparse output";
const PREFIX = /^\s*(\d+),(\d+)\s+\d+\s+\d+\s/; // device, cpu, sequence: an event line
const EVENT = /^\s*(\d+),(\d+)\s+\d+\s+\d+\s+(\d+)\.(\d{1,9})\s+\d+\s+(\S+)(?:\s+(.*?))?\s*$/;
const IO = /^([A-Z]+)(?:\s+(\d+)(?:\s+\+\s+(\d+))?)?(?:\s+\(\s*\d+\))?\s+\[.*\]$/;
// A SCSI/ATA pass-through request (udev's scsi_id, ata_id): bytes and the command, no sector.
const PASS_THROUGH = /^[A-Z]+(?:\s+\d+)?\s+\([0-9a-fA-F ]*\)(?:\s+\[.*\])?$/;
const DEVICE = /^\s*(\d+)\s*,\s*(\d+)\s*$/;
const SHAPE =
  'a blkparse event "device cpu sequence seconds.ns pid action RWBS sector + count [name]"';
/** Sectors a disk can address: the ATA 48-bit LBA limit (a request must end at or below it). */
const MAX_SECTORS = 2 ** 48;

/**
 * The letters of an RWBS (the kernel's blk_fill_rwbs): R, W, D (discard; `DE` a secure
 * erase), F, N, then the flags A (read-ahead), S, M (metadata). Any other is not blkparse's.
 */
const RWBS = /^[RWDFNEASM]+$/;

/**
 * What an RWBS says (blkparse's fill_rwbs): an `F` first is a preflush (when more letters
 * follow), then the operation (`W`, `R`, `D` discard, `F` flush, `N` none), then flags: `F`
 * forced unit access, `S` sync, and others (A, M, E) kept no further. `kind` is undefined
 * when it names no operation (e.g. `S` or `A` alone): such an event is malformed.
 */
function rwbsOf(rwbs: string) {
  const preflush = rwbs.length > 1 && rwbs[0] === "F";
  const rest = preflush ? rwbs.slice(1) : rwbs;
  const kind = /D/.test(rwbs)
    ? "discard"
    : rest[0] === "W"
    ? "write"
    : rest[0] === "R"
    ? "read"
    : rest[0] === "F" || preflush
    ? "flush"
    : rest[0] === "N"
    ? "none"
    : undefined;
  const flags = kind === "read" || kind === "write" ? rest.slice(1) : rest;
  return { kind, preflush, fua: kind === "write" && /F/.test(flags), sync: /S/.test(flags) };
}

interface Event {
  dev: string;
  ns: number;
  complete: boolean;
  line: number;
  /** What a D event issues: a flush (alone, or a preflush), then a read or write. */
  ops?: BootTraceOp[];
  /** Pairs a C with its D: the sectors, or "flush". */
  key?: string;
  /** The RWBS has S. */
  sync?: boolean;
}

/** A D event's request in flight: its ops, its S, and which D it was (counting from 1). */
interface InFlight {
  ops: BootTraceOp[];
  sync: boolean;
  issue: number;
}

/**
 * A request that completed before anything else was issued: the boot waited
 * for it, so the replay waits for a flush, and for a write the issuer marked
 * sync (S).
 */
function markWaited(f: InFlight): void {
  for (const op of f.ops) if (op.op === "flush" || (op.op === "write" && f.sync)) op.sync = true;
}

/** Exact ns from the decimal text: a float would round 0.000008931 s. */
const timeNs = (sec: string, frac: string) => Number(sec) * 1e9 + Number(frac.padEnd(9, "0"));

/**
 * The D (issued) reads and writes of `text`, blkparse's default output, as a
 * boot trace in time order (see the module doc for the rules).
 * @example
 * ```ts
 * import { parseBlkparse } from "./blkparse.ts";
 * const ops = parseBlkparse([
 *   "  8,0    3        1     0.000000000   697  Q   R 1024 + 256 [systemd]",
 *   "  8,0    3        2     0.000002000   697  D   R 1024 + 256 [systemd]",
 *   "  8,0    1        3     0.000300000     0  C   R 1024 + 256 [0]",
 *   "  8,0    3        4     0.000350000   697  D  WS 4096 + 8 [systemd]",
 * ].join("\n"), { partitionStart: 2048 });
 * console.assert(ops.length === 2 && ops[0].op === "read" && ops[0].lba === 3072);
 * console.assert(ops[1].op === "write" && ops[1].count === 8 && ops[1].thinkNs === 50_000);
 * ```
 */
export function parseBlkparse(text: string, options: BlkparseOptions = {}): BootTraceOp[] {
  const { device, partitionStart = 0 } = options;
  const want = typeof device === "string" ? DEVICE.exec(device) : null;
  const optionIssues = [
    ...unknownKeyIssues(options, ["device", "partitionStart"]),
    numberIssue("partitionStart", partitionStart, { integer: true, min: 0 }),
    device === undefined || want !== null
      ? undefined
      : fieldIssue("device", 'text "major,minor", e.g. "8,0"', showValue(device)),
  ].filter((i) => i !== undefined);
  if (optionIssues.length > 0) throw issuesError(WHAT, optionIssues);
  const chosen = want === null ? undefined : `${Number(want[1])},${Number(want[2])}`;

  const events: Event[] = [];
  const bad: { dev: string; issue: FieldIssue }[] = [];
  const devices = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const pre = PREFIX.exec(raw);
    if (pre === null) return; // not an event: blank, per-CPU and total summaries
    const dev = `${Number(pre[1])},${Number(pre[2])}`;
    devices.add(dev);
    const malformed = () =>
      bad.push({ dev, issue: fieldIssue(`line ${i + 1}`, SHAPE, showValue(raw.trim())) });
    const m = EVENT.exec(raw);
    if (m === null) return void malformed();
    const [, , , sec, frac, action, rest = ""] = m;
    if (action !== "D" && action !== "C") return;
    if (PASS_THROUGH.test(rest)) {
      // Not a block read or write; its completion still ends a wait.
      if (action === "C") events.push({ dev, ns: timeNs(sec, frac), complete: true, line: i });
      return;
    }
    const io = IO.exec(rest);
    const rwbs = io?.[1] ?? rest.split(/\s/)[0];
    const r = rwbsOf(rwbs);
    const data = r.kind === "read" || r.kind === "write";
    // Only blkparse's letters, naming an operation; a read or write must say where; a flush
    // (an F first, as "FWS") may print no sector at all.
    if (
      !RWBS.test(rwbs) || r.kind === undefined ||
      (data && (io === null || (io[3] === undefined && !r.preflush)))
    ) {
      return void malformed();
    }
    const ns = timeNs(sec, frac);
    const count = Number(io?.[3] ?? 0);
    // Sectors a disk can have: the request must end within the ATA 48-bit LBA range.
    if (io?.[2] !== undefined && !(Number(io[2]) + partitionStart + count <= MAX_SECTORS)) {
      return void bad.push({
        dev,
        issue: fieldIssue(
          `line ${i + 1}`,
          `a request that ends within the ATA 48-bit LBA range (sector + partitionStart + count <= 2^48 = ${MAX_SECTORS})`,
          showValue(raw.trim()),
        ),
      });
    }
    const withData = data && count >= 1;
    // A flush alone, a preflush (before the data), or an old kernel's "FWS 0 + 0".
    const flush = r.kind === "flush" || (data && r.preflush);
    // What pairs a completion with its issue: the sectors, or "flush" for a flush alone.
    const key = withData ? `${io![2]}+${count}` : flush ? "flush" : undefined;
    const ops: BootTraceOp[] = [];
    if (action === "D") {
      if (flush) ops.push({ op: "flush", thinkNs: 0 });
      if (withData) {
        const lba = Number(io![2]) + partitionStart;
        ops.push(
          r.kind === "read"
            ? { op: "read", lba, count, thinkNs: 0 }
            : { op: "write", lba, count, thinkNs: 0, ...(r.fua ? { fua: true } : {}) },
        );
      }
    }
    if (action === "C" || ops.length > 0) {
      events.push({ dev, ns, complete: action === "C", line: i, ops, key, sync: r.sync });
    }
  });

  const list = [...devices].sort((a, b) => a.localeCompare(b, "en", { numeric: true })).join(", ");
  const issues: FieldIssue[] = bad.filter((b) => chosen === undefined || b.dev === chosen)
    .map((b) => b.issue);
  if (issues.length > 11) {
    const [from, to] = [issues[10].field, issues[issues.length - 1].field].map((f) => f.slice(5));
    issues.splice(10, Infinity, {
      field: `lines ${from}-${to}`,
      message: `hold ${issues.length - 10} more malformed events`,
    });
  }
  if (chosen === undefined && devices.size > 1) {
    issues.push({
      field: "device",
      message: `must be chosen: the trace has events of devices ${list}`,
    });
  } else if (chosen !== undefined && !devices.has(chosen)) {
    const rule = `a device with events in the trace (${list || "none"})`;
    issues.push(fieldIssue("device", rule, showValue(device)));
  }
  if (issues.length > 0) throw issuesError(WHAT, issues);

  // Stable sort by time; at equal times a completion comes first ("at or before").
  const kept = events.filter((e) => chosen === undefined || e.dev === chosen)
    .sort((a, b) => a.ns - b.ns || Number(b.complete) - Number(a.complete) || a.line - b.line);
  const ops: BootTraceOp[] = [];
  // Issued and not completed yet, by key (oldest first).
  const pending = new Map<string, InFlight[]>();
  let issued = 0; // D events so far
  let since = -Infinity; // the later of the last issue and the last completion
  for (const e of kept) {
    if (e.complete) {
      const started = e.key === undefined ? undefined : pending.get(e.key)?.shift();
      // Waited for when no D came between its own and its C.
      if (started !== undefined && started.issue === issued) markWaited(started);
    } else if (e.ops !== undefined && e.ops.length > 0) {
      issued++;
      const mine = e.ops.map((op, k) => {
        // The event's first operation thinks; a preflush's write follows it at once.
        const thinkNs = ops.length === 0 || k > 0 ? 0 : Math.max(0, e.ns - since);
        return { ...op, thinkNs };
      });
      ops.push(...mine);
      if (e.key !== undefined) {
        const f = { ops: mine, sync: e.sync === true, issue: issued };
        (pending.get(e.key) ?? pending.set(e.key, []).get(e.key)!).push(f);
      }
    }
    since = Math.max(since, e.ns);
  }
  if (!ops.some((o) => o.op !== "flush")) {
    const of = chosen === undefined ? "" : ` of device ${chosen}`;
    throw issuesError(WHAT, [{
      field: "text",
      message:
        `has no D (issued) read or write events${of}: was it made with blkparse's default format?`,
    }]);
  }
  return ops;
}

/**
 * A boot trace file's operations, read as a profile names it: a `.json` file
 * (any case) holds them as a list (lib/workload `BootTraceSchema`), any other
 * is blkparse text, the only kind `options` apply to.
 * @throws RangeError naming what is wrong (a SyntaxError for JSON that does not parse).
 * @example
 * ```ts
 * import { parseBootTraceFile } from "./blkparse.ts";
 * const ops = parseBootTraceFile("boot.JSON", '[{ "op": "read", "lba": 0, "count": 8, "thinkNs": 0 }]');
 * console.assert(ops.length === 1);
 * let message = "";
 * try {
 *   parseBootTraceFile("boot.json", "[]", { device: "8,0" });
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * console.assert(message === "device: only for blkparse text, not a .json trace");
 * ```
 */
export function parseBootTraceFile(
  name: string,
  text: string,
  options: BlkparseOptions = {},
): BootTraceOp[] {
  if (!name.toLowerCase().endsWith(".json")) return parseBlkparse(text, options);
  const given = Object.entries(options).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (given.length > 0) {
    throw new RangeError(`${given.join(", ")}: only for blkparse text, not a .json trace`);
  }
  return parseBootTrace(JSON.parse(text));
}
