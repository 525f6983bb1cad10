/**
 * RDMA write latency the way perftest's ib_write_lat reports it: run a
 * ping-pong between two endpoints and summarise the one-way (half round
 * trip) latencies in microseconds with perftest's own statistics
 * (linux-rdma/perftest: src/perftest_parameters.c, `print_report_lat` and
 * `get_median`; the samples are taken in src/perftest_resources.c,
 * `run_iter_lat_write`).
 */
import type { SimTime } from "../_util/mod.ts";
import { requireNumber } from "../_util/mod.ts";
import type { SimEvent } from "../sim/mod.ts";

/** An endpoint that can ping-pong with `peer` (lib/hw's Hca is one). */
export interface RdmaPingPong<P> {
  /**
   * Runs `iterations` ping-pongs of `bytes`-byte RDMA writes with `peer`; the
   * event's value holds each iteration's half round trip, ns.
   */
  pingPong(
    options: { peer: P; iterations: number; bytes?: number },
  ): SimEvent<{ halfRtt: readonly SimTime[] }>;
}

/** One result row (us = microseconds), ib_write_lat's columns. */
export interface RdmaLatencyRow {
  /** Message size, bytes (ib_write_lat -s). */
  bytes: number;
  /** Ping-pongs run (ib_write_lat -n); the statistics use `iterations - 3` of them, see {@link rdmaWriteLatency}. */
  iterations: number;
  /** t_avg: mean one-way latency of the samples kept. */
  avgUs: number;
  /** t_min: the lowest one-way latency. */
  minUs: number;
  /** t_typical: the median of the samples kept (the mean of the middle two for an even count). */
  typicalUs: number;
  /** t_max as ib_write_lat prints it: the sample just above those kept (the second highest of all). */
  maxUs: number;
}

/**
 * Samples ib_write_lat drops from the top before its statistics
 * (perftest_parameters.c: `LAT_MEASURE_TAIL`).
 */
export const LAT_MEASURE_TAIL = 2;

/**
 * ib_write_lat's options with their defaults (-n 1000, -s 2), checked as
 * {@link rdmaWriteLatency} takes them: at least 4 iterations (one sample must
 * be left once the last round trip and the {@link LAT_MEASURE_TAIL} are
 * dropped) and bytes an integer >= 1. A caller with work to do before the
 * benchmark checks them first with this.
 * @throws RangeError naming `iterations` or `bytes`.
 * @example
 * ```ts
 * import { rdmaOptions } from "./rdma.ts";
 * console.assert(rdmaOptions({}).iterations === 1000 && rdmaOptions({ bytes: 64 }).bytes === 64);
 * ```
 */
export function rdmaOptions(
  options: { iterations?: number; bytes?: number },
): { iterations: number; bytes: number } {
  const { iterations = 1000, bytes = 2 } = options;
  requireNumber("measure RDMA latency", "iterations", iterations, {
    integer: true,
    min: LAT_MEASURE_TAIL + 2,
  });
  requireNumber("measure RDMA latency", "bytes", bytes, { integer: true, min: 1 });
  return { iterations, bytes };
}

/**
 * Runs `iterations` ping-pongs of `bytes` between `endpoint` and `peer`; the
 * event's value is the ib_write_lat summary, computed as perftest does
 * (linux-rdma/perftest: src/perftest_parameters.c, `print_report_lat`):
 * - ib_write_lat stamps each post (`tposted`, src/perftest_resources.c
 *   `run_iter_lat_write`) and takes the gaps between successive posts, so
 *   `iterations` ping-pongs give `iterations - 1` round trips: the last
 *   one, after which nothing is posted, is not measured;
 * - it sorts them and drops the {@link LAT_MEASURE_TAIL} (2) largest;
 * - t_typical is `get_median` of the rest (the mean of the middle two for
 *   an even count), t_avg their mean, t_min the smallest, and t_max the
 *   element just past them (`delta[measure_cnt]`: the second largest of all).
 *
 * perftest halves each round trip in CPU cycles; here each half round trip
 * comes from the endpoint in ns, so the median of an even count may end in .5 ns.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { rdmaWriteLatency } from "./rdma.ts";
 * const sim = new Simulation();
 * const endpoint = {
 *   pingPong: (o: { iterations: number }) => sim.timeout(0, { halfRtt: new Array(o.iterations).fill(1300) }),
 * };
 * const ev = rdmaWriteLatency({ endpoint, peer: null, iterations: 100 });
 * sim.run();
 * console.assert(ev.value.avgUs === 1.3 && ev.value.typicalUs === 1.3);
 * ```
 */
export function rdmaWriteLatency<P>(
  options: { endpoint: RdmaPingPong<P>; peer: P; iterations?: number; bytes?: number },
): SimEvent<RdmaLatencyRow> {
  const { endpoint, peer } = options;
  const { iterations, bytes } = rdmaOptions(options);
  const run = endpoint.pingPong({ peer, iterations, bytes });
  const out = run.sim.event<RdmaLatencyRow>();
  run.then(() => {
    const got = run.value.halfRtt;
    if (got.length !== iterations) {
      throw new RangeError(
        `Cannot measure RDMA latency: the endpoint's 'halfRtt' must hold one value per iteration (${iterations}): current length is ${got.length}`,
      );
    }
    const delta = got.slice(0, iterations - 1).sort((a, b) => a - b);
    const n = delta.length - LAT_MEASURE_TAIL; // measure_cnt
    const median = n % 2 === 0 ? (delta[n / 2] + delta[n / 2 - 1]) / 2 : delta[(n - 1) / 2];
    let sum = 0;
    for (let i = 0; i < n; i++) sum += delta[i];
    const us = (ns: number) => ns / 1000;
    out.succeed({
      bytes,
      iterations,
      avgUs: us(sum / n),
      minUs: us(delta[0]),
      typicalUs: us(median),
      maxUs: us(delta[n]),
    });
  });
  return out;
}
