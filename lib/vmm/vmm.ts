/**
 * The de-virtualizable VMM (BMcast): started from a network-loaded payload,
 * it turns VMX on on every CPU in a passive configuration (no guest
 * scheduling, no interrupt exiting: only mediated device accesses exit),
 * maps guest-physical = host-physical with EPT, hides its own memory as
 * reserved in the guest's E820 view, and runs the device mediators. When
 * every mediator agrees, {@link Vmm.devirtualize} removes the VMM in the
 * paper's order: (1) I/O mediation off at a safe I/O timing, (2) EPT off with
 * a TLB flush, (3) VMXOFF on each CPU at its own next VM exit (forced by an
 * IPI, unsynchronized). Afterwards nothing exits and nothing is hooked.
 */
import { z } from "zod";
import { parseParams, rangeError, requireNumber } from "../_util/mod.ts";
import type { Gpa, SimTime } from "../_util/mod.ts";
import type { Cpu, E820Map, MmioBus } from "../hw/mod.ts";
import type { ProcessGenerator, SimEvent, Simulation } from "../sim/mod.ts";

/** VMM costs (profile section `vmm`), ns. */
export const VmmCostsSchema = z.object({
  /** VMM initialisation after the payload is in memory (page tables, VMCS per CPU, device scan). */
  init: z.number().int().nonnegative(),
  /** Per-CPU VMXON + VMCS setup + first VM entry. */
  perCpuStart: z.number().int().nonnegative(),
  /** Handler time of one trapped MMIO access (decode + shadow update). */
  mmioHandler: z.number().int().nonnegative(),
  /** Handler time added per guest command the mediator interprets (copy header, decode FIS, PRDT walk). */
  commandInterpret: z.number().int().nonnegative(),
  /** Period of the VMM's timer (preemption-timer exit) that polls its own commands. */
  pollInterval: z.number().int().positive(),
  /** Jitter bound of the per-CPU wait for its next VM exit at VMXOFF. */
  vmxoffSkew: z.number().int().nonnegative(),
});
/** VMM costs. */
export type VmmCosts = z.infer<typeof VmmCostsSchema>;
// The costs as an option: issues name them `costs.<field>`.
const CostsOption = z.object({ costs: VmmCostsSchema });

/** A device mediator as the VMM core sees it: no device kind is known here. */
export interface Mediator {
  /** Short name of the mediated device kind, for traces (e.g. "ahci"). */
  readonly name: string;
  /** Installs its hooks (called once at VMM start, before the guest runs). */
  attach(): void;
  /** True when no command of the guest or of the VMM is outstanding and none is held. */
  canDetach(): boolean;
  /** Event that happens the next time canDetach() may have become true. */
  whenQuiet(): SimEvent<unknown>;
  /** Gives the device back to the guest (restores guest structures) and removes its hooks. */
  detach(): ProcessGenerator<void>;
  /** Whether the mediator's job is done (e.g. every block copied). */
  readonly finished: boolean;
  /** Event that happens when `finished` becomes true. */
  whenFinished(): SimEvent<unknown>;
}

/** Phase of the VMM's life. */
export type VmmState = "loading" | "virtualized" | "devirtualizing" | "gone";

const EDGES: Record<VmmState, readonly VmmState[]> = {
  loading: ["virtualized"],
  virtualized: ["devirtualizing"],
  devirtualizing: ["gone"],
  gone: [],
};

/** Timestamps of de-virtualization, ns. */
export interface DevirtTimeline {
  /** When {@link Vmm.devirtualize} was called (unset before). */
  requested?: SimTime;
  /** When every mediator had detached: step (1), I/O mediation off. */
  ioOff?: SimTime;
  /** When EPT was off on every CPU and the TLB flush done: step (2). */
  eptOff?: SimTime;
  /** Per CPU, when it executed VMXOFF. */
  vmxoff: SimTime[];
  /** When the last CPU left VMX: step (3), the VMM is gone. */
  done?: SimTime;
}

/**
 * The VMM core.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { Cpu, E820Map, MmioBus } from "../hw/mod.ts";
 * import { Vmm } from "./vmm.ts";
 * const sim = new Simulation();
 * const costs = { vmExit: 500, vmEntry: 400, mmioRead: 800, mmioWrite: 150, eptOverhead: 0.05, ipi: 1000, tlbFlush: 2000 };
 * const cpus = [new Cpu(0, costs), new Cpu(1, costs)];
 * const vmm = new Vmm({ sim, cpus, bus: new MmioBus(), e820: E820Map.standard(1 << 30),
 *   memory: { base: 0x3000_0000, size: 0x400_0000 },
 *   costs: { init: 1000, perCpuStart: 100, mmioHandler: 300, commandInterpret: 500, pollInterval: 100_000, vmxoffSkew: 1000 } });
 * sim.process(function* () {
 *   yield* vmm.start();
 *   yield* vmm.devirtualize();
 * });
 * sim.run();
 * console.assert(vmm.state === "gone" && cpus.every((c) => c.vmx === "off"));
 * ```
 */
export class Vmm {
  /** Current phase of the VMM's life (changed only by {@link Vmm.transition}). */
  state: VmmState = "loading";
  /** The simulation the VMM runs in. */
  readonly sim: Simulation;
  /** The machine's CPUs, each put into VMX non-root at start. */
  readonly cpus: readonly Cpu[];
  /** The MMIO bus the mediators hook. */
  readonly bus: MmioBus;
  /** The firmware memory map the guest sees; VMM memory is reserved in it at start. */
  readonly e820: E820Map;
  /** Validated cost parameters, ns. */
  readonly costs: VmmCosts;
  /** Memory the VMM occupies (reserved in the guest's E820 view). */
  readonly memory: { base: Gpa; size: number };
  /** Device mediators, in the order they were added (attached at start). */
  readonly mediators: Mediator[] = [];
  /** Timestamps of de-virtualization, filled in as it proceeds. */
  readonly timeline: DevirtTimeline = { vmxoff: [] };
  /** When the VMM started running the guest, ns (NaN before). */
  startedAt: SimTime = NaN;
  #shadowAlloc: Gpa;

  /**
   * A VMM (state "loading") over `cpus`, occupying `memory` (which must lie in
   * usable RAM of `e820`); `costs` are validated against lib/vmm's `VmmCostsSchema`.
   * @throws RangeError naming every cost that breaks its rule, with its value
   */
  constructor(options: {
    sim: Simulation;
    cpus: readonly Cpu[];
    bus: MmioBus;
    e820: E820Map;
    memory: { base: Gpa; size: number };
    costs: VmmCosts;
  }) {
    this.sim = options.sim;
    this.cpus = options.cpus;
    this.bus = options.bus;
    this.e820 = options.e820;
    this.memory = options.memory;
    this.costs = parseParams("create VMM", CostsOption, { costs: options.costs }).costs;
    if (this.cpus.length === 0) throw new RangeError("Cannot create VMM: 'cpus' must not be empty");
    if (!this.e820.isUsable(this.memory.base, this.memory.size)) {
      throw new RangeError(
        `Cannot create VMM: 'memory' [0x${this.memory.base.toString(16)}, +0x${
          this.memory.size.toString(16)
        }) must lie in usable RAM`,
      );
    }
    // Above the VMM image (its first quarter, whole bytes): shadow structures.
    this.#shadowAlloc = this.memory.base + Math.floor(this.memory.size / 4);
  }

  /** Changes state; rejects illegal edges. */
  transition(to: VmmState): void {
    if (!EDGES[this.state].includes(to)) {
      throw new Error(`vmm: illegal transition ${this.state} -> ${to}`);
    }
    this.state = to;
  }

  /**
   * Allocates `size` bytes aligned to `align` in VMM memory (for shadow
   * command lists and FIS areas). The guest cannot see it: it is reserved.
   * @throws RangeError unless `size` is an integer > 0 and `align` a power of two;
   * Error when VMM memory is exhausted.
   */
  allocate(size: number, align: number): Gpa {
    const what = "allocate VMM memory";
    requireNumber(what, "size", size, { integer: true, min: 0, strict: true });
    if (!(Number.isInteger(align) && align >= 1 && (align & (align - 1)) === 0)) {
      throw rangeError(what, "align", "a power of two", align);
    }
    const a = Math.ceil(this.#shadowAlloc / align) * align;
    if (a + size > this.memory.base + this.memory.size) throw new Error("vmm: out of VMM memory");
    this.#shadowAlloc = a + size;
    return a;
  }

  /** True when `addr` lies in VMM memory (protected from the guest while virtualized). */
  protects(addr: Gpa): boolean {
    return this.state !== "gone" && addr >= this.memory.base &&
      addr < this.memory.base + this.memory.size;
  }

  /** Registers a mediator (attached at start). */
  addMediator(m: Mediator): void {
    if (this.state !== "loading") throw new Error("vmm: mediators must be added before start()");
    this.mediators.push(m);
  }

  /**
   * Starts virtualization after the payload is in memory: hides VMM memory,
   * VMX on every CPU with EPT identity map, attaches mediators, launches the guest.
   */
  *start(): ProcessGenerator<void> {
    yield this.sim.timeout(this.costs.init);
    this.e820.reserve(this.memory.base, this.memory.size);
    for (const cpu of this.cpus) {
      yield this.sim.timeout(this.costs.perCpuStart);
      cpu.transition("root"); // VMXON
      cpu.ept = true; // identity map: GPA = HPA, no indirection
      cpu.vpid = cpu.id + 1;
      cpu.transition("non-root"); // VMLAUNCH
    }
    for (const m of this.mediators) m.attach();
    this.transition("virtualized");
    this.startedAt = this.sim.now;
  }

  /** Waits until every mediator's job is finished. */
  *untilFinished(): ProcessGenerator<void> {
    for (const m of this.mediators) if (!m.finished) yield m.whenFinished();
  }

  /** True when the devirtualizer may detach the mediators now. */
  canDetach(): boolean {
    return this.mediators.every((m) => m.canDetach());
  }

  /** Removes the VMM in the paper's order; afterwards the OS runs on bare metal. */
  *devirtualize(): ProcessGenerator<void> {
    this.transition("devirtualizing");
    const tl = this.timeline;
    tl.requested = this.sim.now;
    // (1) I/O mediation off at a safe I/O timing.
    while (!this.canDetach()) {
      yield this.sim.anyOf(this.mediators.filter((m) => !m.canDetach()).map((m) => m.whenQuiet()));
    }
    for (const m of this.mediators) yield* m.detach();
    tl.ioOff = this.sim.now;
    // (2) EPT off: harmless thanks to the identity map, but needs a TLB flush.
    let flush = 0;
    for (const cpu of this.cpus) {
      cpu.ept = false;
      flush = Math.max(flush, cpu.costs.tlbFlush);
    }
    yield this.sim.timeout(flush);
    tl.eptOff = this.sim.now;
    // (3) VMXOFF on every CPU at its own next VM exit, forced by an IPI.
    const skew = this.sim.rng.stream("vmm/vmxoff");
    const offs = this.cpus.map((cpu) => {
      const ev = this.sim.event();
      const delay = cpu.costs.ipi + Math.round(skew.uniform(0, this.costs.vmxoffSkew));
      this.sim.call(delay, () => {
        cpu.vmExit("ipi"); // the forced exit; the handler leaves VMX
        cpu.transition("root");
        cpu.transition("off"); // VMXOFF: guest state now runs natively
        cpu.vpid = 0;
        tl.vmxoff[cpu.id] = this.sim.now;
        ev.succeed();
      });
      return ev;
    });
    yield this.sim.allOf(offs);
    tl.done = this.sim.now;
    this.transition("gone");
  }
}
