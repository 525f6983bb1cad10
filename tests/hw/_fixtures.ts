/** Shared hardware fixtures for tests (test values, not a sourced profile). */
import type { HddOptions } from "../../lib/hw/disk/mod.ts";
import { Simulation } from "../../lib/sim/mod.ts";
import { InfinibandFabric } from "../../lib/net/mod.ts";
import { Cpu, type CpuCosts, MmioBus } from "../../lib/hw/mod.ts";
import { Hca, type HcaLatencyOptions } from "../../lib/hw/hca/hca.ts";

/** CPU costs of the device tests. */
export const TEST_CPU_COSTS: CpuCosts = {
  vmExit: 700,
  vmEntry: 500,
  mmioRead: 600,
  mmioWrite: 100,
  eptOverhead: 0,
  ipi: 0,
  tlbFlush: 0,
};

/**
 * Two HCAs, "a" and "b", on 3 m cables to one switch (100 ns), each polled by
 * a CPU of its own; `o` and `ob` are their latency options (`ob` defaults to `o`).
 */
export function hcaPair(o: HcaLatencyOptions = {}, ob: HcaLatencyOptions = o) {
  const sim = new Simulation();
  const ib = new InfinibandFabric(sim, { switchLatency: 100 });
  ib.addSwitch("sw");
  const mk = (n: string, opts: HcaLatencyOptions) => {
    ib.addHca(n);
    ib.connect({ a: n, b: "sw", meters: 3 });
    return new Hca({
      name: n,
      fabric: ib,
      port: n,
      bus: new MmioBus(),
      base: 0xf000_0000,
      cpu: new Cpu(0, TEST_CPU_COSTS),
      ...opts,
    });
  };
  return { sim, ib, a: mk("a", o), b: mk("b", ob) };
}

/** A Barracuda 7200.12-class 500 GB disk with its 16 MB write cache. */
export const TEST_HDD: HddOptions = {
  sectors: 976_773_168,
  rpm: 7200,
  trackToTrackSeek: 1_000_000,
  averageSeek: 8_500_000,
  fullStrokeSeek: 17_000_000,
  outerRate: 125e6,
  innerRate: 60e6,
  interfaceRate: 300e6,
  commandOverhead: 100_000,
  writeCache: true,
  writeCacheBytes: 16 << 20,
};
