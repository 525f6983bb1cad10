/**
 * A small machine for mediator tests: one HBA with an in-memory disk, two
 * CPUs, the guest's AHCI driver, and (optionally) the BMcast VMM with the
 * AHCI mediator, a background copier and a fake image server.
 */
import { Cpu, E820Map, InterruptController, MmioBus, PhysicalMemory } from "../../lib/hw/mod.ts";
import { VersionMap } from "../../lib/_util/mod.ts";
import { type AhciCosts, AhciHba } from "../../lib/hw/ahci/mod.ts";
import { MemDisk, testCosts } from "../../lib/hw/ahci/_test_utils.ts";
import { AhciDriver, type AhciDriverOptions } from "../../lib/guest/mod.ts";
import {
  AhciMediator,
  BackgroundCopier,
  BlockMap,
  type ImageSource,
  makeCopyPolicy,
  Vmm,
} from "../../lib/vmm/mod.ts";
import type { CopyPolicyConfig } from "../../lib/vmm/mod.ts";
import { Simulation } from "../../lib/sim/mod.ts";
import type { SimEvent } from "../../lib/sim/mod.ts";

export const ABAR = 0xfebf_0000;
export const VECTOR = 40;
export const MEM = 256 << 20;

/** Image version of sector `lba` (distinct per sector so misplaced data shows). */
export function imageVersion(lba: number): number {
  return 1000 + (lba % 997);
}

export class FakeImage implements ImageSource {
  readonly maxSectors = 2048;
  /** Every request, in order. */
  readonly runs: { lba: number; count: number }[] = [];
  constructor(readonly sim: Simulation, public latency: number) {}
  get requests(): number {
    return this.runs.length;
  }
  get sectors(): number {
    return this.runs.reduce((s, r) => s + r.count, 0);
  }
  read(r: { lba: number; count: number }): SimEvent<Int32Array> {
    this.runs.push({ lba: r.lba, count: r.count });
    const ev = this.sim.event<Int32Array>();
    const v = new Int32Array(r.count);
    for (let i = 0; i < r.count; i++) v[i] = imageVersion(r.lba + i);
    this.sim.call(this.latency + r.count * 100, () => ev.succeed(v));
    return ev;
  }
}

export interface Rig {
  sim: Simulation;
  memory: PhysicalMemory;
  bus: MmioBus;
  irq: InterruptController;
  cpus: Cpu[];
  disk: MemDisk;
  hba: AhciHba;
  driver: AhciDriver;
  vmm?: Vmm;
  mediator?: AhciMediator;
  map?: BlockMap;
  image?: FakeImage;
  copier?: BackgroundCopier;
}

const CPU_COSTS = {
  vmExit: 1_000,
  vmEntry: 800,
  mmioRead: 700,
  mmioWrite: 150,
  eptOverhead: 0.05,
  ipi: 2_000,
  tlbFlush: 5_000,
};

export function makeRig(options: {
  seed?: number;
  sectors?: number;
  /** Sectors of the image (the block map); the disk may be larger. @default sectors */
  imageSectors?: number;
  chunkSectors?: number;
  virtualized?: boolean;
  copier?: CopyPolicyConfig | false;
  /** The copier's `order` (sectors to copy first). */
  copyOrder?: readonly { lba: number; count: number }[];
  diskLatency?: number;
  imageLatency?: number;
  readAhead?: number;
  /** Driver options over the rig's (e.g. error handling). */
  driver?: Partial<AhciDriverOptions>;
  /** HBA costs over the rig's (200 ns each). */
  hbaCosts?: Partial<AhciCosts>;
}): Rig {
  const sectors = options.sectors ?? 4096;
  const sim = new Simulation({ seed: options.seed ?? 1 });
  const memory = new PhysicalMemory({ size: MEM });
  const e820 = E820Map.standard(MEM);
  const bus = new MmioBus();
  const irq = new InterruptController(sim, { latency: 500 });
  const cpus = [new Cpu(0, CPU_COSTS), new Cpu(1, CPU_COSTS)];
  const disk = new MemDisk(sim, { sectors, latency: options.diskLatency ?? 50_000 });
  const hba = new AhciHba({
    sim,
    memory,
    irq,
    vector: VECTOR,
    ports: [disk],
    costs: testCosts(options.hbaCosts ?? {}, 200),
  });
  bus.map({ base: ABAR, size: 0x1100, name: "ahci", device: hba });
  const rig: Rig = { sim, memory, bus, irq, cpus, disk, hba } as Rig;
  if (options.virtualized) {
    const vmm = new Vmm({
      sim,
      cpus,
      bus,
      e820,
      memory: { base: MEM - (64 << 20), size: 64 << 20 },
      costs: {
        init: 1_000,
        perCpuStart: 500,
        mmioHandler: 400,
        commandInterpret: 800,
        pollInterval: 20_000,
        vmxoffSkew: 3_000,
      },
    });
    const map = new BlockMap({
      sectors: options.imageSectors ?? sectors,
      chunkSectors: options.chunkSectors ?? 256,
    });
    const image = new FakeImage(sim, options.imageLatency ?? 200_000);
    const mediator = new AhciMediator({
      sim,
      vmm,
      bus,
      memory,
      irq,
      vector: VECTOR,
      abar: ABAR,
      port: 0,
      map,
      image,
      readAhead: options.readAhead ?? 128,
    });
    vmm.addMediator(mediator);
    Object.assign(rig, { vmm, map, image, mediator });
    if (options.copier !== false) {
      rig.copier = new BackgroundCopier({
        sim,
        map,
        image,
        io: mediator,
        policy: makeCopyPolicy(options.copier ?? { kind: "idle", idleThreshold: 100_000 }),
        order: options.copyOrder,
      });
    }
  }
  rig.driver = new AhciDriver({
    sim,
    cpu: cpus[0],
    bus,
    memory,
    e820,
    irq,
    vector: VECTOR,
    abar: ABAR,
    costs: { issue: 1_000, complete: 500, pollInterval: 5_000 },
    ...options.driver,
  });
  return rig;
}

export { VersionMap };
