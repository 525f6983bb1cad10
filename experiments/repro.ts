/**
 * `deno task repro`: the main job. Until the paper's experiments land it runs
 * the kernel demo and prints its result.
 */
import { runKernelDemo } from "./kernel_demo.ts";

const rows = runKernelDemo();
console.log("kernel demo: 4 nodes pull a 32 GB image through a shared 10 GbE uplink");
console.log("entity | phase | start s | end s");
for (const r of rows) {
  console.log(`${r.entity} | ${r.phase} | ${r.startS.toFixed(1)} | ${r.endS.toFixed(1)}`);
}
