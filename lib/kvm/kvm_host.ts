/**
 * A conventional hosted VMM (Linux + KVM + QEMU) on one machine: the host OS
 * boots, then QEMU creates a VM whose vCPUs run in VMX non-root mode with EPT
 * on the machine's physical CPUs (vCPU i pinned to one physical CPU). KVM's
 * exit handlers have a cost per exit reason; timer ticks and IPIs cause
 * background exits at a rate per vCPU while it runs guest code, which steal
 * guest CPU time. Everything the VMM adds is an option a profile fills.
 */
import { rangeError, requireFraction, requireNumber } from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import type { ProcessGenerator, SimEvent, Simulation } from "../sim/mod.ts";
import { type Cpu, EXIT_REASONS, type ExitReason } from "../hw/mod.ts";

/** Life of the host. */
export type KvmHostState = "off" | "booting" | "running";
/** Life of a VM. */
export type KvmVmState = "created" | "starting" | "running" | "stopped";

const HOST_EDGES: Record<KvmHostState, readonly KvmHostState[]> = {
  off: ["booting"],
  booting: ["running"],
  running: [],
};
const VM_EDGES: Record<KvmVmState, readonly KvmVmState[]> = {
  created: ["starting"],
  starting: ["running"],
  running: ["stopped"],
  stopped: [],
};

/** Options of {@link KvmHost}. */
export interface KvmHostOptions {
  /** Simulation the host's boot process runs in. */
  sim: Simulation;
  /** Host name used in process names and error messages. @default "kvm-host" */
  name?: string;
  /** The machine's logical CPUs. */
  cpus: readonly Cpu[];
  /** Host OS boot after the firmware hands over: kernel, initramfs, services, kvm modules, ns. */
  hostOsBoot: SimTime;
}

/** Background exits of a running vCPU: `perSecond` of guest run time, handled as `reason`. */
export interface BackgroundExit {
  /** Exit reason these exits are charged as (hardware exit + KVM handler + entry). */
  reason: ExitReason;
  /** Exits per second of guest run time on one vCPU. */
  perSecond: number;
}

/** Options of {@link KvmHost.createVm}. */
export interface KvmVmOptions {
  /** VM name used in process names and error messages. @default "vm" */
  name?: string;
  /** Physical CPU ids the vCPUs are pinned to; vCPU i runs on `pin[i]`. @default [0] */
  pin?: readonly number[];
  /** QEMU start: process, KVM_CREATE_VM, guest RAM, device models, up to the first VM entry, ns. */
  vmmStart: SimTime;
  /** Virtual firmware (SeaBIOS) POST until the guest's boot loader runs, ns. */
  guestFirmware: SimTime;
  /** KVM's handler time per exit reason, on top of the hardware exit and entry (CpuCosts), ns. */
  exitHandlers: Partial<Record<ExitReason, SimTime>>;
  /** Timer ticks, IPIs and host interrupts that exit while a vCPU runs guest code. @default [] */
  backgroundExits?: readonly BackgroundExit[];
  /** Nested paging for the guest (Cpu.computeTime charges eptOverhead). @default true */
  ept?: boolean;
}

/** What {@link KvmVm.guestTime} is told about a piece of guest work. */
export interface GuestWorkOptions {
  /** vCPU index. @default 0 */
  vcpu?: number;
  /** Fraction of the work that is memory-bound (pays the EPT walk overhead), 0..1. @default 0 */
  memoryBound?: number;
}

/**
 * A KVM host.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { Cpu } from "../hw/mod.ts";
 * import { KvmHost } from "./kvm_host.ts";
 * const sim = new Simulation();
 * const costs = { vmExit: 500, vmEntry: 400, mmioRead: 800, mmioWrite: 150, eptOverhead: 0.1, ipi: 1000, tlbFlush: 2000 };
 * const host = new KvmHost({ sim, cpus: [new Cpu(0, costs)], hostOsBoot: 20e9 });
 * const vm = host.createVm({ vmmStart: 2e9, guestFirmware: 1e9, exitHandlers: {} });
 * sim.process(function* () {
 *   yield host.boot();
 *   yield vm.start();
 * });
 * sim.run();
 * console.assert(sim.now === 23e9 && vm.vcpus[0].vmx === "non-root");
 * console.assert(vm.guestTime(1000, { memoryBound: 1 }) === 1100);
 * ```
 */
export class KvmHost {
  /** Simulation the host's processes run in. */
  readonly sim: Simulation;
  /** Host name used in process names and error messages. */
  readonly name: string;
  /** The machine's logical CPUs; VMs pin their vCPUs to these. */
  readonly cpus: readonly Cpu[];
  /** Host OS boot time after the firmware hands over, ns. */
  readonly hostOsBoot: SimTime;
  /** When the host finished booting (NaN before). */
  bootedAt: SimTime = NaN;
  #state: KvmHostState = "off";
  #pinned = new Map<number, KvmVm>();

  /** Creates a powered-off host. @throws RangeError on an empty `cpus` or a bad `hostOsBoot`. */
  constructor(options: KvmHostOptions) {
    const { sim, name = "kvm-host", cpus, hostOsBoot } = options;
    const what = `create KVM host '${name}'`;
    if (!Array.isArray(cpus) || cpus.length === 0) {
      throw rangeError(what, "cpus", "a non-empty array of Cpu", cpus);
    }
    requireNumber(what, "hostOsBoot", hostOsBoot, { integer: true, min: 0 });
    this.sim = sim;
    this.name = name;
    this.cpus = cpus;
    this.hostOsBoot = hostOsBoot;
  }

  /** Current life-cycle state of the host. */
  get state(): KvmHostState {
    return this.#state;
  }

  /** Changes state. @throws Error on an illegal edge. */
  transition(to: KvmHostState): void {
    if (!HOST_EDGES[this.#state].includes(to)) {
      throw new Error(`KVM host '${this.name}': illegal transition ${this.#state} -> ${to}`);
    }
    this.#state = to;
  }

  /** Boots the host OS; kvm_intel loads at the end (VMXON on every CPU). */
  boot(): SimEvent<void> {
    this.transition("booting");
    const sim = this.sim;
    return sim.process(
      function* (this: KvmHost): ProcessGenerator<void> {
        yield sim.timeout(this.hostOsBoot);
        for (const cpu of this.cpus) if (cpu.vmx === "off") cpu.transition("root");
        this.bootedAt = sim.now;
        this.transition("running");
      }.call(this),
      `${this.name}:boot`,
    );
  }

  /** Defines a VM (QEMU not started yet). @throws RangeError on bad options or a CPU already pinned. */
  createVm(options: KvmVmOptions): KvmVm {
    const vm = new KvmVm(this, options);
    for (const c of vm.vcpus) this.#pinned.set(c.id, vm);
    return vm;
  }

  /** @internal The VM a CPU is pinned to. */
  _pinnedTo(cpuId: number): KvmVm | undefined {
    return this.#pinned.get(cpuId);
  }

  /** @internal A stopped VM gives its CPUs back, for another VM to pin. */
  _unpin(vm: KvmVm): void {
    for (const c of vm.vcpus) if (this.#pinned.get(c.id) === vm) this.#pinned.delete(c.id);
  }
}

/**
 * A VM on a {@link KvmHost}. Guest CPU work goes through {@link guestTime}:
 * EPT slows its memory-bound part (Cpu.computeTime) and background exits
 * accrue at their rate over the time the vCPU runs, each a real VM exit
 * counted on the Cpu (exit + KVM handler + entry).
 */
export class KvmVm {
  /** Host the VM runs on. */
  readonly host: KvmHost;
  /** VM name used in process names and error messages. */
  readonly name: string;
  /** The physical CPUs the vCPUs run on (non-root while the VM runs). */
  readonly vcpus: readonly Cpu[];
  /** QEMU start up to the first VM entry, ns. */
  readonly vmmStart: SimTime;
  /** Virtual firmware (SeaBIOS) POST until the guest's boot loader runs, ns. */
  readonly guestFirmware: SimTime;
  /** KVM's handler time per exit reason, on top of hardware exit and entry, ns (missing = 0). */
  readonly exitHandlers: Readonly<Partial<Record<ExitReason, SimTime>>>;
  /** Background exit rates charged while a vCPU runs guest code. */
  readonly backgroundExits: readonly BackgroundExit[];
  /** Whether the vCPUs use nested paging (EPT) while the VM runs. */
  readonly ept: boolean;
  /** When QEMU entered the guest (NaN before). */
  enteredAt: SimTime = NaN;
  /** When the guest's boot loader started, after the virtual firmware (NaN before). */
  runningAt: SimTime = NaN;
  #state: KvmVmState = "created";
  /** Fractional background exits not yet charged, per vCPU and entry. */
  #accrued: number[][];

  /**
   * Defines a VM on `host`; use {@link KvmHost.createVm}, which also records
   * the pinning. @throws RangeError on bad options, an unknown or already
   * pinned CPU, or background exits that would take 100% of a vCPU.
   */
  constructor(host: KvmHost, options: KvmVmOptions) {
    const {
      name = "vm",
      pin = [0],
      vmmStart,
      guestFirmware,
      exitHandlers,
      backgroundExits = [],
      ept = true,
    } = options;
    const what = `create VM '${name}'`;
    requireNumber(what, "vmmStart", vmmStart, { integer: true, min: 0 });
    requireNumber(what, "guestFirmware", guestFirmware, { integer: true, min: 0 });
    if (exitHandlers === null || typeof exitHandlers !== "object") {
      throw rangeError(what, "exitHandlers", "an object of ns per exit reason", exitHandlers);
    }
    for (const [k, v] of Object.entries(exitHandlers)) {
      if (!EXIT_REASONS.includes(k as ExitReason)) {
        throw rangeError(what, `exitHandlers.${k}`, `one of ${EXIT_REASONS.join(", ")}`, k);
      }
      requireNumber(what, `exitHandlers.${k}`, v, { integer: true, min: 0 });
    }
    backgroundExits.forEach((b, i) => {
      if (!EXIT_REASONS.includes(b.reason)) {
        throw rangeError(what, `backgroundExits[${i}].reason`, "an ExitReason", b.reason);
      }
      requireNumber(what, `backgroundExits[${i}].perSecond`, b.perSecond, { min: 0 });
    });
    if (!Array.isArray(pin) || pin.length === 0) {
      throw rangeError(what, "pin", "a non-empty array of CPU ids", pin);
    }
    const vcpus = pin.map((id, i) => {
      const cpu = host.cpus.find((c) => c.id === id);
      if (cpu === undefined) throw rangeError(what, `pin[${i}]`, "the id of a host CPU", id);
      if (host._pinnedTo(id) !== undefined || pin.indexOf(id) !== i) {
        throw rangeError(what, `pin[${i}]`, "a CPU no other vCPU is pinned to", id);
      }
      return cpu;
    });
    this.host = host;
    this.name = name;
    this.vcpus = vcpus;
    this.vmmStart = vmmStart;
    this.guestFirmware = guestFirmware;
    this.exitHandlers = { ...exitHandlers };
    this.backgroundExits = backgroundExits.map((b) => ({ ...b }));
    this.ept = Boolean(ept);
    for (let v = 0; v < vcpus.length; v++) {
      if (this.stealFraction(v) >= 1) {
        throw rangeError(
          what,
          "backgroundExits",
          "rates whose exit time stays below 100% of a vCPU",
          `${(this.stealFraction(v) * 100).toFixed(1)}%`,
        );
      }
    }
    this.#accrued = vcpus.map(() => this.backgroundExits.map(() => 0));
  }

  /** Current life-cycle state of the VM. */
  get state(): KvmVmState {
    return this.#state;
  }

  /** Changes state. @throws Error on an illegal edge. */
  transition(to: KvmVmState): void {
    if (!VM_EDGES[this.#state].includes(to)) {
      throw new Error(`VM '${this.name}': illegal transition ${this.#state} -> ${to}`);
    }
    this.#state = to;
  }

  /** Full cost of one exit of `reason` on vCPU `vcpu`: hardware exit + KVM handler + entry, ns. */
  exitCost(reason: ExitReason, vcpu = 0): SimTime {
    const c = this.#vcpu(vcpu).costs;
    return c.vmExit + (this.exitHandlers[reason] ?? 0) + c.vmEntry;
  }

  /** Fraction of a running vCPU's time spent in background exits. */
  stealFraction(vcpu = 0): number {
    let f = 0;
    for (const b of this.backgroundExits) f += (b.perSecond * this.exitCost(b.reason, vcpu)) / 1e9;
    return f;
  }

  /**
   * Starts QEMU (`vmmStart`), enters the guest (vCPUs non-root, EPT on, KVM's
   * exit handlers installed), then runs the virtual firmware.
   */
  start(): SimEvent<void> {
    if (this.host.state !== "running") {
      throw new Error(`VM '${this.name}': start before host '${this.host.name}' is running`);
    }
    this.transition("starting");
    const sim = this.host.sim;
    return sim.process(
      function* (this: KvmVm): ProcessGenerator<void> {
        yield sim.timeout(this.vmmStart);
        for (const cpu of this.vcpus) {
          cpu.ept = this.ept;
          cpu.onExit = (_c, reason) => this.exitHandlers[reason] ?? 0;
          cpu.transition("non-root");
        }
        this.enteredAt = sim.now;
        yield sim.timeout(this.guestFirmware);
        this.runningAt = sim.now;
        this.transition("running");
      }.call(this),
      `${this.name}:start`,
    );
  }

  /** Powers the VM off: vCPUs back to root mode, handlers removed, CPUs unpinned. */
  stop(): void {
    this.transition("stopped");
    for (const cpu of this.vcpus) {
      if (cpu.vmx === "non-root") cpu.transition("root");
      cpu.ept = false;
      cpu.onExit = undefined;
    }
    this.host._unpin(this);
  }

  /**
   * Wall time of `ns` of bare-metal guest work on a vCPU: EPT slows the
   * memory-bound part, then background exits accrue over the run time
   * (including time they themselves steal) and are charged as real exits.
   */
  guestTime(ns: SimTime, options: GuestWorkOptions = {}): SimTime {
    const { vcpu = 0, memoryBound = 0 } = options;
    requireNumber("run guest work", "ns", ns, { min: 0 });
    requireFraction("run guest work", "memoryBound", memoryBound);
    const cpu = this.#vcpu(vcpu);
    if (this.#state !== "running" && this.#state !== "starting") {
      throw new Error(`VM '${this.name}': guest work while ${this.#state}`);
    }
    const base = cpu.computeTime(Math.round(ns), memoryBound);
    if (this.backgroundExits.length === 0 || cpu.vmx !== "non-root") return base;
    const wall = base / (1 - this.stealFraction(vcpu));
    const acc = this.#accrued[vcpu];
    let t = base;
    this.backgroundExits.forEach((b, i) => {
      acc[i] += (wall * b.perSecond) / 1e9;
      const n = Math.floor(acc[i]);
      acc[i] -= n;
      for (let k = 0; k < n; k++) t += cpu.vmExit(b.reason);
    });
    return t;
  }

  #vcpu(i: number): Cpu {
    const cpu = this.vcpus[i];
    if (cpu === undefined) {
      throw rangeError(`use VM '${this.name}'`, "vcpu", `in [0, ${this.vcpus.length - 1}]`, i);
    }
    return cpu;
  }
}
