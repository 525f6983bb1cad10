/** Shared test fixtures for lib/kvm (test values, not sourced profiles). */
import { Simulation } from "../../lib/sim/mod.ts";
import { Cpu, type CpuCosts, Hdd, type HddOptions } from "../../lib/hw/mod.ts";
import { TEST_HDD } from "../hw/_fixtures.ts";
import { KvmHost, type KvmVm, type KvmVmOptions, type VirtioBlkCosts } from "../../lib/kvm/mod.ts";

export const CPU: CpuCosts = {
  vmExit: 1_000,
  vmEntry: 800,
  mmioRead: 800,
  mmioWrite: 150,
  eptOverhead: 0.2,
  ipi: 1_000,
  tlbFlush: 2_000,
};

/** The shared test disk, smaller, without a write cache, and without random rotation. */
export const HDD: HddOptions = {
  ...TEST_HDD,
  sectors: 1 << 26,
  writeCache: false,
  writeCacheBytes: 0,
  deterministic: true,
};

export const VIRTIO: VirtioBlkCosts = {
  guestSubmit: 3_000,
  guestComplete: 2_000,
  hostWakeup: 5_000,
  hostRequest: 4_000,
  hostBlockLayer: 3_000,
  hostComplete: 2_000,
  interruptDelivery: 1_500,
  hostPollDelay: 1_000,
};

export const HANDLERS: KvmVmOptions["exitHandlers"] = {
  "io-instruction": 2_500,
  "external-interrupt": 1_500,
  "ept-violation": 3_000,
};

/** A booted host with one started VM on CPU 0. */
export function bootedVm(
  vm: Partial<KvmVmOptions> = {},
  sim = new Simulation({ seed: 1 }),
): { sim: Simulation; host: KvmHost; vm: KvmVm; cpu: Cpu } {
  const cpu = new Cpu(0, CPU);
  const host = new KvmHost({ sim, cpus: [cpu, new Cpu(1, CPU)], hostOsBoot: 0 });
  const v = host.createVm({ vmmStart: 0, guestFirmware: 0, exitHandlers: HANDLERS, ...vm });
  sim.process(function* () {
    yield host.boot();
    yield v.start();
  });
  sim.run();
  return { sim, host, vm: v, cpu };
}

export function hdd(sim: Simulation): Hdd {
  return new Hdd(sim, HDD);
}
