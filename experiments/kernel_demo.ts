/**
 * Kernel demo: N nodes each pull a 32 GB image over their own 1 GbE port
 * through a shared image-server uplink (max-min fair flow sharing), then
 * "boot". Prints when each node is ready. Runnable alone:
 * `deno run -A experiments/kernel_demo.ts [nodes]`.
 */
import { FlowNetwork, Recorder, Simulation } from "../lib/sim/mod.ts";
import type { SpanRow } from "../lib/sim/mod.ts";

/** Parameters of the demo. */
export interface KernelDemoParams {
  nodes: number;
  imageBytes: number;
  uplinkBytesPerS: number;
  portBytesPerS: number;
  seed: number;
}

/** Default demo: 4 nodes, 32 GB image, 10 GbE uplink, 1 GbE ports. */
export const DEFAULT_DEMO: KernelDemoParams = {
  nodes: 4,
  imageBytes: 32e9,
  uplinkBytesPerS: 1.25e9,
  portBytesPerS: 117e6,
  seed: 1,
};

/**
 * Runs the demo and returns one span row per node and phase.
 * @example
 * ```ts
 * import { runKernelDemo } from "./kernel_demo.ts";
 * const rows = runKernelDemo({ nodes: 2 });
 * console.assert(rows.length === 4);
 * ```
 */
export function runKernelDemo(params: Partial<KernelDemoParams> = {}): SpanRow[] {
  const p = { ...DEFAULT_DEMO, ...params };
  const sim = new Simulation({ seed: p.seed });
  const rec = new Recorder(sim, { run: "kernel-demo" });
  const net = new FlowNetwork(sim);
  const uplink = net.link({ name: "uplink", bandwidth: p.uplinkBytesPerS, latency: 50_000 });
  const boot = sim.rng.stream("boot");
  for (let i = 0; i < p.nodes; i++) {
    const port = net.link({ name: `port${i}`, bandwidth: p.portBytesPerS, latency: 5_000 });
    sim.process(function* () {
      rec.begin(`node${i}`, "copy");
      yield net.flow({ route: [uplink, port], bytes: p.imageBytes });
      rec.end(`node${i}`, "copy");
      rec.begin(`node${i}`, "boot");
      yield sim.timeout(Math.round(boot.uniform(25e9, 35e9)));
      rec.end(`node${i}`, "boot");
    });
  }
  sim.run();
  return rec.spans();
}

if (import.meta.main) {
  const nodes = Number(Deno.args[0] ?? DEFAULT_DEMO.nodes);
  const rows = runKernelDemo({ nodes });
  console.log("entity | phase | start s | end s");
  for (const r of rows) {
    console.log(`${r.entity} | ${r.phase} | ${r.startS.toFixed(1)} | ${r.endS.toFixed(1)}`);
  }
}
