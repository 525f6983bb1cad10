/**
 * Kernel benchmarks. Run with `deno task bench` (which also prints events/s
 * and ratios through bench/report.ts).
 *
 * (a) "hold" model: 1,000 processes each sleeping exponential times,
 *     10^6 events, generator processes vs plain callbacks vs a minimal
 *     hand-written typed-array heap loop (the baseline, same RNG), bare
 *     generators on that loop (what a generator resume adds to it), and plain
 *     callbacks that each arm and cancel a deadline (what cancelling costs).
 * (b) flow reallocation with 1,000 and 10,000 concurrent flows on a shared
 *     link, with arrivals and departures.
 */
import { FlowNetwork, RngStreams, Simulation } from "../lib/sim/mod.ts";

export const HOLD_PROCS = 1_000;
export const HOLD_EVENTS = 1_000_000;
const MEAN = 1_000; // ns

function holdGenerators(): number {
  const sim = new Simulation({ seed: 1 });
  const rng = sim.rng.stream("hold");
  const per = HOLD_EVENTS / HOLD_PROCS;
  for (let i = 0; i < HOLD_PROCS; i++) {
    sim.process(function* () {
      for (let k = 0; k < per; k++) yield sim.timeout(Math.round(rng.exponential(MEAN)));
    });
  }
  sim.run();
  return sim.steps;
}

function holdCallbacks(): number {
  const sim = new Simulation({ seed: 1 });
  const rng = sim.rng.stream("hold");
  const per = HOLD_EVENTS / HOLD_PROCS;
  for (let i = 0; i < HOLD_PROCS; i++) {
    let k = 0;
    const tick = () => {
      if (++k < per) sim.call(Math.round(rng.exponential(MEAN)), tick);
    };
    sim.call(Math.round(rng.exponential(MEAN)), tick);
  }
  sim.run();
  return sim.steps;
}

/**
 * Plain callbacks that each also arm a deadline and cancel the previous one
 * (the request-timeout pattern: almost every deadline is cancelled before it
 * is due). What cancellation costs next to "plain callbacks".
 */
function holdCallbacksCancelling(): number {
  const sim = new Simulation({ seed: 1 });
  const rng = sim.rng.stream("hold");
  const per = HOLD_EVENTS / HOLD_PROCS;
  const expire = () => {
    throw new Error("a deadline ran: cancel() missed it");
  };
  for (let i = 0; i < HOLD_PROCS; i++) {
    let k = 0;
    let deadline = sim.timer(100 * MEAN, expire);
    const tick = () => {
      deadline.cancel();
      if (++k < per) {
        sim.call(Math.round(rng.exponential(MEAN)), tick);
        deadline = sim.timer(100 * MEAN, expire);
      }
    };
    sim.call(Math.round(rng.exponential(MEAN)), tick);
  }
  sim.run();
  return sim.steps;
}

/** The baseline: the same model as a bare binary heap of (time, id) on typed arrays. */
function holdHandWritten(): number {
  const rng = new RngStreams(1).stream("hold");
  const n = HOLD_PROCS;
  const time = new Float64Array(n), id = new Int32Array(n);
  let size = 0;
  const push = (t: number, p: number) => {
    let i = size++;
    while (i > 0) {
      const par = (i - 1) >> 1;
      if (time[par] <= t) break;
      time[i] = time[par];
      id[i] = id[par];
      i = par;
    }
    time[i] = t;
    id[i] = p;
  };
  for (let p = 0; p < n; p++) push(Math.round(rng.exponential(MEAN)), p);
  let events = 0;
  while (events < HOLD_EVENTS) {
    const now = time[0], p = id[0];
    events++;
    // replace-top with the process's next wake-up, then sift down
    const t = now + Math.round(rng.exponential(MEAN));
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && time[c + 1] < time[c]) c++;
      if (time[c] >= t) break;
      time[i] = time[c];
      id[i] = id[c];
      i = c;
    }
    time[i] = t;
    id[i] = p;
  }
  return events;
}

/**
 * What a generator resume adds to the baseline: its heap loop with the
 * processes as bare generators that yield their next delay (no events, no
 * waiters, no priority or sequence in the order). A kernel on a binary heap
 * could not beat this ratio; the kernel's calendar queue costs about what the
 * inline heap does at 1,000 entries (see plain callbacks), so the kernel's
 * distance to this row is its own per-wait work. The heap loop is written out
 * again on purpose: sharing it would put a call into the baseline.
 */
function holdBareGenerators(): number {
  const rng = new RngStreams(1).stream("hold");
  const n = HOLD_PROCS;
  const gens: Generator<number, never, undefined>[] = [];
  const time = new Float64Array(n), id = new Int32Array(n);
  let size = 0;
  for (let p = 0; p < n; p++) {
    gens.push((function* () {
      for (;;) yield Math.round(rng.exponential(MEAN));
    })());
    let i = size++;
    const t = gens[p].next().value;
    while (i > 0) {
      const par = (i - 1) >> 1;
      if (time[par] <= t) break;
      time[i] = time[par];
      id[i] = id[par];
      i = par;
    }
    time[i] = t;
    id[i] = p;
  }
  let events = 0;
  while (events < HOLD_EVENTS) {
    const now = time[0], p = id[0];
    events++;
    const t = now + gens[p].next().value;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && time[c + 1] < time[c]) c++;
      if (time[c] >= t) break;
      time[i] = time[c];
      id[i] = id[c];
      i = c;
    }
    time[i] = t;
    id[i] = p;
  }
  return events;
}

Deno.bench({
  name: "hold: hand-written typed-array heap",
  group: "hold 1e6 events",
  baseline: true,
  fn: () => void holdHandWritten(),
});
Deno.bench({
  name: "hold: generator processes",
  group: "hold 1e6 events",
  fn: () => void holdGenerators(),
});
Deno.bench({
  name: "hold: bare generators on the hand-written loop",
  group: "hold 1e6 events",
  fn: () => void holdBareGenerators(),
});
Deno.bench({
  name: "hold: plain callbacks",
  group: "hold 1e6 events",
  fn: () => void holdCallbacks(),
});
Deno.bench({
  name: "hold: plain callbacks, each cancelling a deadline",
  group: "hold 1e6 events",
  fn: () => void holdCallbacksCancelling(),
});

/**
 * Keeps `flows` concurrent flows on one link; each departure is followed by
 * an arrival (two reallocations: the departure batch and the arrival).
 * Returns the network after `reallocations` more reallocations.
 */
export function flowChurn(
  flows: number,
  reallocations: number,
  timer?: { start(): void; end(): void },
): FlowNetwork {
  const sim = new Simulation({ seed: 2 });
  const rng = sim.rng.stream("flows");
  const net = new FlowNetwork(sim);
  const link = net.link({ name: "shared", bandwidth: 1e9 });
  const start = () => {
    const f = net.flow({ route: [link], bytes: 1e5 + rng.exponential(1e6) });
    f.then(start);
  };
  for (let i = 0; i < flows; i++) start();
  sim.run(1); // all arrivals at t=0 are one batched reallocation
  timer?.start();
  const target = net.reallocations + reallocations;
  while (net.reallocations < target && sim.step()) { /* run */ }
  timer?.end();
  return net;
}

/** Reallocations measured per iteration of the flow benches. */
export const FLOW_REALLOCATIONS = 400;

for (const n of [1_000, 10_000]) {
  Deno.bench({
    name: `flows: ${n} concurrent`,
    group: "flow reallocation",
    baseline: n === 1_000,
    fn: (b) => void flowChurn(n, FLOW_REALLOCATIONS, b),
  });
}
