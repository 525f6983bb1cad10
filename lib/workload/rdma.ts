/**
 * RDMA write latency the way perftest's ib_write_lat reports it: run a
 * ping-pong between two endpoints and summarise the one-way (half round
 * trip) latencies in microseconds.
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

/** One result row (us = microseconds). */
export interface RdmaLatencyRow {
  /** Message size, bytes (ib_write_lat -s). */
  bytes: number;
  /** Ping-pongs measured (ib_write_lat -n). */
  iterations: number;
  /** t_avg: mean one-way latency. */
  avgUs: number;
  /** t_min: the lowest one-way latency. */
  minUs: number;
  /** t_typical: the median. */
  typicalUs: number;
  /** t_max: the highest one-way latency. */
  maxUs: number;
}

/**
 * Runs `iterations` ping-pongs of `bytes` between `endpoint` and `peer`; the
 * event's value is the ib_write_lat summary.
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
 * console.assert(ev.value.avgUs === 1.3);
 * ```
 */
export function rdmaWriteLatency<P>(
  options: { endpoint: RdmaPingPong<P>; peer: P; iterations?: number; bytes?: number },
): SimEvent<RdmaLatencyRow> {
  const { endpoint, peer, iterations = 1000, bytes = 2 } = options; // ib_write_lat defaults: -n 1000, -s 2
  requireNumber("measure RDMA latency", "iterations", iterations, { integer: true, min: 1 });
  requireNumber("measure RDMA latency", "bytes", bytes, { integer: true, min: 1 });
  const run = endpoint.pingPong({ peer, iterations, bytes });
  const out = run.sim.event<RdmaLatencyRow>();
  run.then(() => {
    const t = [...run.value.halfRtt].sort((a, b) => a - b);
    const us = (ns: number) => ns / 1000;
    out.succeed({
      bytes,
      iterations: t.length,
      avgUs: us(t.reduce((a, b) => a + b, 0) / t.length),
      minUs: us(t[0]),
      typicalUs: us(t[Math.floor(t.length / 2)]),
      maxUs: us(t[t.length - 1]),
    });
  });
  return out;
}
