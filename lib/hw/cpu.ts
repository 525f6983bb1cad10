/**
 * Logical CPUs with a VMX state (off / root / non-root), EPT on/off and a
 * VPID. Guest code touches devices through {@link Cpu.mmio}: an access that
 * hits a trap point while the CPU is in VMX non-root mode costs a VM exit,
 * the VMM's handler time and a VM entry, all from the profile. Compute under
 * EPT pays the two-dimensional page-walk overhead on its memory-bound part.
 * hw does not know any VMM: exit handling is a callback installed on the CPU.
 */
import { type FieldIssue, issuesError, numberIssue, requireFraction } from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import type { ProcessGenerator, Simulation } from "../sim/mod.ts";
import type { AccessSize, MmioBus } from "./mmio.ts";

/** VMX operation of a logical CPU (Intel SDM Vol. 3C, ch. 23-24). */
export type VmxState = "off" | "root" | "non-root";

const VMX_EDGES: Record<VmxState, readonly VmxState[]> = {
  off: ["root"], // VMXON
  root: ["non-root", "off"], // VMLAUNCH/VMRESUME, VMXOFF
  "non-root": ["root"], // VM exit
};

/** Costs of a CPU, in ns unless named otherwise (from the profile). */
export interface CpuCosts {
  /** Hardware VM exit (guest state save, host state load). */
  vmExit: SimTime;
  /** Hardware VM entry. */
  vmEntry: SimTime;
  /** Uncached MMIO register read (a PCIe round trip). */
  mmioRead: SimTime;
  /** Posted MMIO register write. */
  mmioWrite: SimTime;
  /** Fractional slowdown of memory-bound work under EPT (2-D page walks), e.g. 0.05. */
  eptOverhead: number;
  /** Inter-processor interrupt delivery. */
  ipi: SimTime;
  /** Full TLB flush (INVEPT all-context plus refill). */
  tlbFlush: SimTime;
}

/**
 * The VM exit reasons a CPU counts (SDM Appendix C, basic exit reasons,
 * simplified). The models raise ept-violation (trapped MMIO),
 * io-instruction, external-interrupt, ipi and preemption-timer; cpuid and
 * vmcall are accepted from callers of {@link Cpu.vmExit} but nothing in the
 * model raises them.
 */
export const EXIT_REASONS = [
  "ept-violation",
  "io-instruction",
  "cpuid",
  "external-interrupt",
  "ipi",
  "vmcall",
  "preemption-timer",
] as const;

/** Why a VM exit happened: one of {@link EXIT_REASONS}. */
export type ExitReason = typeof EXIT_REASONS[number];

/** The fields of {@link CpuCosts} that are times (integer ns). */
const COST_TIMES = ["vmExit", "vmEntry", "mmioRead", "mmioWrite", "ipi", "tlbFlush"] as const;

/**
 * One logical CPU.
 * @example
 * ```ts
 * import { Cpu } from "./cpu.ts";
 * const cpu = new Cpu(0, { vmExit: 500, vmEntry: 400, mmioRead: 800, mmioWrite: 150, eptOverhead: 0.05, ipi: 1000, tlbFlush: 2000 });
 * cpu.transition("root");
 * cpu.transition("non-root");
 * console.assert(cpu.vmx === "non-root");
 * ```
 */
export class Cpu {
  /** VMX operation. */
  vmx: VmxState = "off";
  /** EPT (nested paging) enabled for this CPU's guest. */
  ept = false;
  /** Virtual-processor identifier (0 = none). */
  vpid = 0;
  /** VM exits by reason. */
  readonly exits = new Map<ExitReason, number>();
  /** Time spent in VM exit/entry and VMM handlers, ns. */
  virtualizationTime: SimTime = 0;
  /**
   * Called by a VM exit with its reason; returns the VMM handler time (ns).
   * Installed by a VMM; absent on bare metal.
   */
  onExit: ((cpu: Cpu, reason: ExitReason) => SimTime) | undefined = undefined;

  /**
   * Creates a CPU in VMX off, EPT off, with no exits counted.
   * @param id Logical CPU number (also the `cpu` an MMIO hook sees).
   * @param costs Exit, entry, MMIO and EPT costs from the profile: every
   *   field is required; the times are integer ns >= 0, `eptOverhead` a
   *   finite fraction >= 0.
   * @throws RangeError naming each missing or invalid field.
   */
  constructor(readonly id: number, readonly costs: CpuCosts) {
    const issues: FieldIssue[] = [];
    for (const k of COST_TIMES) {
      const i = numberIssue(k, costs?.[k], { integer: true, min: 0 });
      if (i !== undefined) issues.push(i);
    }
    const ept = numberIssue("eptOverhead", costs?.eptOverhead, { min: 0 });
    if (ept !== undefined) issues.push(ept);
    if (issues.length > 0) throw issuesError(`create cpu ${id}`, issues);
  }

  /** Total VM exits. */
  get exitCount(): number {
    let n = 0;
    for (const v of this.exits.values()) n += v;
    return n;
  }

  /** Changes VMX state. @throws Error on an edge the SDM does not allow. */
  transition(to: VmxState): void {
    if (!VMX_EDGES[this.vmx].includes(to)) {
      throw new Error(`cpu ${this.id}: illegal VMX transition ${this.vmx} -> ${to}`);
    }
    this.vmx = to;
  }

  /**
   * Records a VM exit and returns its full cost (exit + handler + entry);
   * the CPU is back in non-root mode afterwards unless the handler left VMX.
   */
  vmExit(reason: ExitReason, handlerCost: SimTime = 0): SimTime {
    if (this.vmx !== "non-root") throw new Error(`cpu ${this.id}: VM exit while ${this.vmx}`);
    this.transition("root");
    this.exits.set(reason, (this.exits.get(reason) ?? 0) + 1);
    const handler = handlerCost + (this.onExit?.(this, reason) ?? 0);
    let cost = this.costs.vmExit + handler;
    if ((this.vmx as VmxState) === "root") {
      this.transition("non-root");
      cost += this.costs.vmEntry;
    }
    this.virtualizationTime += cost;
    return cost;
  }

  /**
   * A register access by code running on this CPU: device time plus, when a
   * trap point sees it in non-root mode, a VM exit. Blocks while a hook holds it.
   */
  *mmio(
    sim: Simulation,
    bus: MmioBus,
    a: { addr: number; size: AccessSize; write: boolean; value?: number },
  ): ProcessGenerator<number> {
    const r = bus.access({ ...a, value: a.value ?? 0, cpu: this.id });
    let t = a.write ? this.costs.mmioWrite : this.costs.mmioRead;
    if (r.trapped && this.vmx === "non-root") t += this.vmExit("ept-violation", r.cost);
    yield sim.timeout(t);
    if (r.block !== undefined) {
      const v = yield r.block;
      return typeof v === "number" ? v : r.value;
    }
    return r.value;
  }

  /**
   * Guest work of `ns` nanoseconds on bare metal; under EPT the memory-bound
   * fraction `memoryBound` (0..1) is slowed by `eptOverhead`.
   * @throws RangeError when `memoryBound` is not a number in [0, 1].
   */
  computeTime(ns: SimTime, memoryBound = 0): SimTime {
    requireFraction("compute guest time", "memoryBound", memoryBound);
    return this.ept ? Math.round(ns * (1 + this.costs.eptOverhead * memoryBound)) : ns;
  }
}
