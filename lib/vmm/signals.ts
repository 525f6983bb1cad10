/**
 * The VMM's counters as recorder signals: periodic samples of VM exits (by
 * reason), redirected reads and sectors, background-copy progress and the
 * guest's queueing delay behind VMM commands, plus the de-virtualization
 * timeline as spans. Observers stay outside the model: this only reads.
 */
import type { SimTime } from "../_util/mod.ts";
import type { Recorder } from "../sim/mod.ts";
import type { ExitReason } from "../hw/mod.ts";
import type { AhciMediator } from "./mediators/ahci/ahci_mediator.ts";
import type { Vmm } from "./vmm.ts";

/**
 * Samples the VMM's signals into `rec` every `every` ns until `until`.
 * Metrics: `vm_exits` (all CPUs), `vm_exits:<reason>`, `redirected_reads`,
 * `redirected_sectors`, `copy_progress` (0..1), `guest_queue_delay_s`.
 * @example
 * ```ts
 * // See tests/vmm/signals_test.ts for a run against a real HBA.
 * import { recordVmmSignals } from "./signals.ts";
 * console.assert(typeof recordVmmSignals === "function");
 * ```
 */
export function recordVmmSignals(
  rec: Recorder,
  options: {
    vmm: Vmm;
    mediator: AhciMediator;
    progress: () => number;
    every: SimTime;
    until: SimTime;
  },
): void {
  const { vmm, mediator, every, until, progress } = options;
  const exits = (reason?: ExitReason) =>
    vmm.cpus.reduce(
      (s, c) => s + (reason === undefined ? c.exitCount : c.exits.get(reason) ?? 0),
      0,
    );
  rec.sample("vm_exits", { every, until, read: () => exits() });
  // The reasons the VMM raises: trapped MMIO, its timer, the de-virtualization IPIs.
  for (const reason of ["ept-violation", "preemption-timer", "ipi"] as const) {
    rec.sample(`vm_exits:${reason}`, { every, until, read: () => exits(reason) });
  }
  rec.sample("redirected_reads", { every, until, read: () => mediator.stats.redirectedReads });
  rec.sample("redirected_sectors", { every, until, read: () => mediator.stats.redirectedSectors });
  rec.sample("copy_progress", { every, until, read: progress });
  rec.sample("guest_queue_delay_s", {
    every,
    until,
    read: () => mediator.stats.guestQueueDelay / 1e9,
  });
}

/** Adds the de-virtualization phases of `vmm` as spans of `entity`. */
export function recordDevirtualization(rec: Recorder, vmm: Vmm, entity: string): void {
  const t = vmm.timeline;
  if (t.requested === undefined || t.done === undefined) {
    throw new Error("Cannot record de-virtualization: it has not completed");
  }
  rec.span(entity, "I/O mediation off", t.requested, t.ioOff!);
  rec.span(entity, "EPT off", t.ioOff!, t.eptOff!);
  rec.span(entity, "VMXOFF on every CPU", t.eptOff!, t.done);
}
