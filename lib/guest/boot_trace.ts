/**
 * Plays an OS boot's block I/O (a recorded trace, or any generator of
 * operations) as a guest process on top of a {@link GuestBlockDriver}: each
 * operation waits until fewer than N requests are outstanding, then its think
 * time (CPU work between I/Os), then is issued. Reports timing and, optionally, checks
 * that every read returns the version last written.
 */
import type { SimTime } from "../_util/mod.ts";
import {
  type FieldIssue,
  fieldIssue,
  issuesError,
  numberIssue,
  requireNumber,
} from "../_util/mod.ts";
import type { Process, ProcessGenerator, SimEvent } from "../sim/mod.ts";
import type { GuestBlockDriver, IoResult } from "./ahci_driver.ts";

/** One block operation of a boot. */
export interface BootOp {
  /** Direction of the request. */
  op: "read" | "write";
  /** First sector of the request. */
  lba: number;
  /** Sectors in the request (512 bytes each). */
  count: number;
  /** CPU time before this operation is issued, ns. */
  thinkNs: SimTime;
}

/** Options of {@link playBootTrace}. */
export interface BootTraceOptions {
  /**
   * The operations: an array (a trace) or a generator (a synthetic workload).
   * Each is checked as it is pulled, by the rules of a trace file's reads
   * and writes (lib/workload `BootTraceSchema`): op "read" or "write", lba an
   * integer >= 0, count an integer >= 1, thinkNs an integer >= 0. (Flushes,
   * sync and FUA writes are lib/workload runBoot's.)
   */
  ops: Iterable<BootOp>;
  /** Requests kept outstanding at most. @default 1 */
  outstanding?: number;
  /** Version for each write. @default a counter starting at 1 */
  nextVersion?: () => number;
  /** Compare every read with the versions this player wrote. @default false */
  verify?: boolean;
}

/** Timing of a played trace. */
export interface BootTraceStats {
  /** Operations issued. */
  requests: number;
  /** Read operations issued. */
  reads: number;
  /** Write operations issued. */
  writes: number;
  /** Sectors requested by reads (failed ones included). */
  sectorsRead: number;
  /** Sectors requested by writes (failed ones included). */
  sectorsWritten: number;
  /** Requests the driver completed with `ok: false`. */
  errors: number;
  /** Read sectors whose version differed from the one this player last wrote. */
  mismatches: number;
  /** Simulated time the player started, ns. */
  start: SimTime;
  /** Simulated time the last request completed, ns. */
  end: SimTime;
  /** `end - start`: the boot's I/O time including think times, ns. */
  elapsed: SimTime;
  /** Sum of think times. */
  thinkTime: SimTime;
  /**
   * Request latency as the driver reported it (issue to completion): mean, median, 99th
   * percentile (nearest rank: the smallest latency at least that share of requests did not
   * exceed), max, ns.
   */
  latency: { mean: number; p50: SimTime; p99: SimTime; max: SimTime };
}

/**
 * Starts a process that plays `options.ops` on `driver`; its value is the stats.
 * @param driver the guest block driver (initialised).
 * @param options the operations and the concurrency.
 * @returns the player process; it fails with a RangeError naming the operation's index
 * and field when it pulls an operation that breaks the trace rules.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { playBootTrace } from "./boot_trace.ts";
 * const sim = new Simulation();
 * const driver = {
 *   sim,
 *   read: (r: { count: number }) => sim.timeout(100, { ok: true, versions: new Int32Array(r.count), latency: 100 }),
 *   write: () => sim.timeout(100, { ok: true, latency: 100 }),
 * };
 * const p = playBootTrace(driver, { ops: [{ op: "read", lba: 0, count: 8, thinkNs: 50 }, { op: "write", lba: 8, count: 8, thinkNs: 50 }] });
 * sim.run();
 * console.assert(p.value.elapsed === 300 && p.value.sectorsRead === 8);
 * ```
 */
export function playBootTrace(
  driver: GuestBlockDriver,
  options: BootTraceOptions,
): Process<BootTraceStats> {
  const { ops, outstanding = 1, verify = false } = options;
  requireNumber("play boot trace", "outstanding", outstanding, { integer: true, min: 1 });
  let counter = 0;
  const nextVersion = options.nextVersion ?? (() => ++counter);
  const sim = driver.sim;
  return sim.process(function* (): ProcessGenerator<BootTraceStats> {
    const st: BootTraceStats = {
      requests: 0,
      reads: 0,
      writes: 0,
      sectorsRead: 0,
      sectorsWritten: 0,
      errors: 0,
      mismatches: 0,
      start: sim.now,
      end: sim.now,
      elapsed: 0,
      thinkTime: 0,
      latency: { mean: 0, p50: 0, p99: 0, max: 0 },
    };
    const latencies: SimTime[] = [];
    const written = new Map<number, number>(); // lba -> version, after the write completed
    const writing = new Map<number, number>(); // lba -> writes in flight
    const racing = new Set<number>(); // overlapping writes in flight: final version unknown
    // Reads in flight with what they must return (undefined: either version is right).
    const reading = new Set<{ lba: number; expect: (number | undefined)[] }>();
    const inflight = new Set<SimEvent<unknown>>();
    let slotFreed = sim.event<void>();
    const track = (ev: SimEvent<IoResult>, onDone: (r: IoResult) => void) => {
      inflight.add(ev);
      ev.then(() => {
        inflight.delete(ev);
        const r = ev.value;
        latencies.push(r.latency);
        if (!r.ok) st.errors++;
        onDone(r);
        if (!slotFreed.triggered) slotFreed.succeed();
      });
    };
    let index = 0;
    for (const op of ops) {
      checkOp(op, index++);
      // Closed loop: wait for a free slot, then think, then issue (N = 1 replays synchronously).
      while (inflight.size >= outstanding) {
        yield slotFreed;
        slotFreed = sim.event<void>();
      }
      if (op.thinkNs > 0) {
        st.thinkTime += op.thinkNs;
        yield sim.timeout(op.thinkNs);
      }
      st.requests++;
      if (op.op === "read") {
        st.reads++;
        st.sectorsRead += op.count;
        const expect: (number | undefined)[] = [];
        if (verify) {
          for (let i = 0; i < op.count; i++) {
            const l = op.lba + i;
            expect.push(writing.has(l) ? undefined : written.get(l));
          }
        }
        const mine = { lba: op.lba, expect };
        if (verify) reading.add(mine);
        track(driver.read({ lba: op.lba, count: op.count }), (r) => {
          reading.delete(mine);
          if (!verify || !r.ok) return;
          expect.forEach((v, i) => {
            if (v !== undefined && r.versions![i] !== v) st.mismatches++;
          });
        });
      } else {
        st.writes++;
        st.sectorsWritten += op.count;
        const version = nextVersion();
        if (verify) {
          for (let i = 0; i < op.count; i++) {
            const l = op.lba + i;
            if (writing.has(l)) racing.add(l);
            writing.set(l, (writing.get(l) ?? 0) + 1);
          }
          // A read in flight may see this write or not: both are right.
          for (const r of reading) {
            const from = Math.max(r.lba, op.lba),
              to = Math.min(r.lba + r.expect.length, op.lba + op.count);
            for (let l = from; l < to; l++) r.expect[l - r.lba] = undefined;
          }
        }
        track(driver.write({ lba: op.lba, count: op.count, version }), (r) => {
          if (!verify) return;
          for (let i = 0; i < op.count; i++) {
            const l = op.lba + i;
            const n = writing.get(l)! - 1;
            if (r.ok) written.set(l, version);
            if (n > 0) {
              writing.set(l, n);
              continue;
            }
            writing.delete(l);
            // Which of several overlapping writes the disk applied last is unknown.
            if (racing.delete(l)) written.delete(l);
          }
        });
      }
    }
    while (inflight.size > 0) {
      yield slotFreed;
      slotFreed = sim.event<void>();
    }
    st.end = sim.now;
    st.elapsed = st.end - st.start;
    if (latencies.length > 0) {
      latencies.sort((a, b) => a - b);
      // Nearest rank: the ceil(q*n)-th smallest (the median of [100, 300] is 100).
      const at = (q: number) => latencies[Math.max(0, Math.ceil(q * latencies.length) - 1)];
      st.latency = {
        mean: latencies.reduce((a, b) => a + b, 0) / latencies.length,
        p50: at(0.5),
        p99: at(0.99),
        max: latencies[latencies.length - 1],
      };
    }
    return st;
  }, "boot-trace");
}

/** Throws unless `op` follows the rules of a trace file (lib/workload BootTraceSchema). */
function checkOp(op: BootOp, index: number): void {
  const at = `ops[${index}]`;
  const issues: FieldIssue[] = [];
  if (op === null || typeof op !== "object") {
    issues.push(fieldIssue(at, "an object { op, lba, count, thinkNs }", op));
  } else {
    if (op.op !== "read" && op.op !== "write") {
      issues.push(fieldIssue(`${at}.op`, `"read" or "write"`, op.op));
    }
    for (
      const [k, min] of [["lba", 0], ["count", 1], ["thinkNs", 0]] as const
    ) {
      const issue = numberIssue(`${at}.${k}`, op[k], { integer: true, min });
      if (issue !== undefined) issues.push(issue);
    }
  }
  if (issues.length > 0) throw issuesError("play boot trace", issues);
}
