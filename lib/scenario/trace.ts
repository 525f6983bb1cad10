/**
 * Fleet runs as a timeline trace in the Trace Event Format (the JSON that
 * Perfetto, https://ui.perfetto.dev, and chrome://tracing open): one process
 * per run, one thread per node (and one more for phases that overlap, like
 * BMcast's background copy), one complete ("X") event per phase, the POST
 * included, on the run's clock (0 = its first power-on); a run with an
 * image-server outage has one more lane, "image server", showing it until
 * the run's end (an outage that begins after the run has no lane).
 */
import { type FleetRun, runEndS } from "./fleet.ts";

/** One event of a {@link FleetTrace} (complete "X" events and "M" metadata). */
export interface TraceEvent {
  /** Phase name ("POST", "VMM boot", "OS boot", "copy", ...) or metadata kind. */
  name: string;
  /** "X": a complete event with `ts` and `dur`; "M": metadata (process or thread name, order). */
  ph: "X" | "M";
  /** The run (index in the runs given). */
  pid: number;
  /** The node's lane (numbered within the run; named by thread_name metadata). */
  tid?: number;
  /** Start, microseconds from the run's first power-on ("X" events). */
  ts?: number;
  /** Duration, microseconds ("X" events). */
  dur?: number;
  /** Category: "firmware" for the POST, "phase" for the strategy's phases, "fault" for an outage. */
  cat?: string;
  /** Metadata value, or the phase's times in s as the other outputs give them. */
  args?: Record<string, string | number>;
}

/** A trace document: open the file in Perfetto or chrome://tracing. */
export interface FleetTrace {
  /** Events in run, node, time order. */
  traceEvents: TraceEvent[];
  /** Unit the viewers show. */
  displayTimeUnit: "ms";
}

/**
 * The runs' phases as a trace: per node its POST (power-on to POST end),
 * then every phase of its strategy (and, run until deployed, its copy and
 * de-virtualization), placed on the run's clock. An image-server outage
 * shows on its own lane, clipped to the run's end (the summary's `readyS`,
 * or its `deployedS` when the run went on until every node was deployed);
 * one that begins at or after that end is left out, as it changed nothing.
 * Its `args` keep the outage as given (`atS`, `durationS`).
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { runFleet } from "./fleet.ts";
 * import { fleetTrace } from "./trace.ts";
 * const profile = await loadProfile(BUILTIN_PROFILE);
 * const run = runFleet({ profile, point: { run: "r", strategy: "nfsroot", nodes: 2, seed: 1 } });
 * const trace = fleetTrace([run]);
 * const boots = trace.traceEvents.filter((e) => e.name === "OS boot");
 * console.assert(boots.length === 2 && boots[0].ph === "X" && boots[0].ts! > 0);
 * ```
 */
export function fleetTrace(runs: readonly FleetRun[]): FleetTrace {
  const events: TraceEvent[] = [];
  const us = (s: number) => Math.round(s * 1e6);
  runs.forEach((run, pid) => {
    // A lane is a thread: its name and its place in the viewer.
    const laneMeta = (tid: number, name: string): TraceEvent[] => [
      { name: "thread_name", ph: "M", pid, tid, args: { name } },
      { name: "thread_sort_index", ph: "M", pid, tid, args: { sort_index: tid } },
    ];
    const s = run.summary;
    events.push(
      { name: "process_name", ph: "M", pid, args: { name: `${s.run}: ${s.strategy}` } },
      { name: "process_sort_index", ph: "M", pid, args: { sort_index: pid } },
    );
    let tids = 0;
    for (const t of run.totals) {
      // Viewers need the events of a thread to nest, so a phase that overlaps
      // the one before it (BMcast's copy runs while the OS boots) opens a lane.
      const lanes: { tid: number; end: number }[] = [];
      const lane = (start: number, end: number, phase: string) => {
        let l = lanes.find((x) => x.end <= start);
        if (l === undefined) {
          l = { tid: tids++, end };
          lanes.push(l);
          events.push(...laneMeta(l.tid, lanes.length === 1 ? t.node : `${t.node} ${phase}`));
        }
        l.end = end;
        return l.tid;
      };
      const post = { start: us(t.powerOnS), end: us(t.postEndS) };
      events.push({
        name: "POST",
        cat: "firmware",
        ph: "X",
        pid,
        tid: lane(post.start, post.end, "POST"),
        ts: post.start,
        dur: post.end - post.start,
      });
      for (const p of run.phases.filter((x) => x.node === t.node)) {
        const ts = us(t.postEndS + p.startS), end = Math.max(ts, us(t.postEndS + p.endS));
        events.push({
          name: p.phase,
          cat: "phase",
          ph: "X",
          pid,
          tid: lane(ts, end, p.phase),
          ts,
          dur: end - ts,
          args: { startS: p.startS, endS: p.endS },
        });
      }
    }
    const runEnd = us(runEndS(s));
    if (
      s.outageAtS !== undefined && s.outageDurationS !== undefined && us(s.outageAtS) < runEnd
    ) {
      const tid = tids++;
      const ts = us(s.outageAtS);
      events.push(
        ...laneMeta(tid, "image server"),
        {
          name: "outage",
          cat: "fault",
          ph: "X",
          pid,
          tid,
          ts,
          dur: Math.min(us(s.outageDurationS), runEnd - ts),
          args: { atS: s.outageAtS, durationS: s.outageDurationS },
        },
      );
    }
  });
  return { traceEvents: events, displayTimeUnit: "ms" };
}
