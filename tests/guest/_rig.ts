/** A machine for guest-driver tests: CPU, bus, memory, E820, interrupts, an HBA with MemDisks. */
import { type SimEvent, Simulation } from "../../lib/sim/mod.ts";
import {
  Cpu,
  type DiskCommand,
  type DiskResult,
  E820Map,
  InterruptController,
  type MmioAccess,
  MmioBus,
  PhysicalMemory,
} from "../../lib/hw/mod.ts";
import { type AhciCosts, AhciHba } from "../../lib/hw/ahci/mod.ts";
import { MemDisk, testCosts } from "../../lib/hw/ahci/_test_utils.ts";
import { AhciDriver, type AhciDriverOptions } from "../../lib/guest/mod.ts";

export const ABAR = 0xfebf_0000;
export const VECTOR = 42;
export const MEM = 256 << 20;

export interface GuestRig {
  sim: Simulation;
  memory: PhysicalMemory;
  e820: E820Map;
  irq: InterruptController;
  bus: MmioBus;
  cpu: Cpu;
  hba: AhciHba;
  disks: MemDisk[];
  driver: AhciDriver;
  /** Register accesses seen by a passthrough hook (when `trace` is set). */
  accesses: MmioAccess[];
}

export function guestRig(
  o: {
    disks?: MemDisk[] | ((sim: Simulation) => MemDisk[]);
    sectors?: number;
    latency?: number;
    hbaCosts?: Partial<AhciCosts>;
    hbaNcq?: boolean;
    driver?: Partial<AhciDriverOptions>;
    trace?: boolean;
    reserve?: [number, number][];
    seed?: number;
  } = {},
): GuestRig {
  const sim = new Simulation({ seed: o.seed ?? 1 });
  const memory = new PhysicalMemory({ size: MEM });
  const e820 = E820Map.standard(MEM);
  for (const [b, l] of o.reserve ?? []) e820.reserve(b, l);
  const irq = new InterruptController(sim, { latency: 2_000 });
  const bus = new MmioBus();
  const cpu = new Cpu(0, {
    vmExit: 600,
    vmEntry: 500,
    mmioRead: 700,
    mmioWrite: 150,
    eptOverhead: 0,
    ipi: 1_000,
    tlbFlush: 2_000,
  });
  const disks = typeof o.disks === "function" ? o.disks(sim) : o.disks ?? [
    new MemDisk(sim, { sectors: o.sectors ?? 1 << 20, latency: o.latency ?? 80_000, initial: 0 }),
  ];
  const hba = new AhciHba({
    sim,
    memory,
    irq,
    vector: VECTOR,
    ports: disks,
    costs: testCosts({
      commandOverhead: 1_500,
      fisPost: 200,
      prdEntry: 20,
      identify: 20_000,
      ...o.hbaCosts,
    }),
    ncq: o.hbaNcq ?? true,
  });
  bus.map({ base: ABAR, size: 0x1100, name: "ahci", device: hba });
  const accesses: MmioAccess[] = [];
  if (o.trace) {
    bus.hook({ base: ABAR, size: 0x1100, name: "trace" }, (a) => {
      accesses.push(a);
      return { action: "passthrough" };
    });
  }
  const driver = new AhciDriver({
    sim,
    cpu,
    bus,
    memory,
    e820,
    irq,
    vector: VECTOR,
    abar: ABAR,
    costs: { issue: 2_000, complete: 1_000, pollInterval: 10_000 },
    ...o.driver,
  });
  return { sim, memory, e820, irq, bus, cpu, hba, disks, driver, accesses };
}

/** Runs driver init, then `body` (if any) as a process; returns its value. */
export function runGuest<T>(rig: GuestRig, body?: () => Generator<unknown, T, unknown>): T {
  const p = rig.sim.process(function* () {
    yield rig.driver.init();
    if (body === undefined) return undefined;
    // deno-lint-ignore no-explicit-any
    return yield* body() as any;
  });
  return rig.sim.run(p) as T;
}

/** A disk that never answers its first `hangs` data commands (until a reset drops them). */
export class HangingDisk extends MemDisk {
  constructor(sim: Simulation, public hangs: number) {
    super(sim, { sectors: 1 << 16, latency: 50_000, initial: 0 });
  }
  override submit(cmd: DiskCommand): SimEvent<DiskResult> {
    if (cmd.op !== "flush" && this.hangs > 0) {
      this.hangs--;
      return this.sim.event<DiskResult>(); // never completes
    }
    return super.submit(cmd);
  }
}
