/**
 * Fakes for AHCI tests: an in-memory {@link BlockDevice} whose commands all
 * take a fixed latency (no queueing model) and that fails the commands a test
 * picks (error injection), a zero-cost HBA cost set, and a rig that wires an
 * HBA to memory and interrupts and programs it directly.
 */
import type { SimTime } from "../../_util/mod.ts";
import { NO_VERSION, VersionMap } from "../../_util/mod.ts";
import type { SimEvent } from "../../sim/mod.ts";
import { Simulation } from "../../sim/mod.ts";
import type { BlockDevice, DiskCommand, DiskResult } from "../disk/block_device.ts";
import { InterruptController } from "../interrupts.ts";
import { PhysicalMemory } from "../memory.ts";
import { AhciHba } from "./hba.ts";
import type { AhciCosts } from "./port.ts";
import { Ghc, GHC_AE, GHC_IE, portReg, Px, PxCMD_FRE, PxCMD_ST } from "./registers.ts";
import { type PrdEntry, writeCommandHeader, writePrdt } from "./structures.ts";

/** Picks the commands a {@link MemDisk} fails, and the ATA error each ends in. */
export type DiskFault = (cmd: DiskCommand) => DiskResult["error"] | undefined;

/**
 * A disk that completes every command `latency` ns after submission, all in
 * parallel, and keeps content as versions. `fail` injects errors: a command
 * it picks completes after the same latency with that error and changes
 * nothing.
 * @example
 * ```ts
 * import { Simulation } from "../../sim/mod.ts";
 * import { MemDisk } from "./_test_utils.ts";
 * const sim = new Simulation();
 * const disk = new MemDisk(sim, { sectors: 100, latency: 50 });
 * disk.submit({ op: "write", lba: 3, versions: [9] });
 * disk.fail = (c) => c.op === "write" && c.lba === 4 ? "unc" : undefined;
 * const bad = disk.submit({ op: "write", lba: 4, versions: [9] });
 * sim.run();
 * console.assert(disk.content.get(3) === 9 && disk.content.get(4) !== 9);
 * console.assert(bad.value.error === "unc" && disk.failed === 1);
 * ```
 */
export class MemDisk implements BlockDevice {
  readonly name: string;
  readonly sectors: number;
  readonly content: VersionMap;
  readonly queueDepth: number;
  readonly latency: SimTime;
  /** Takes FUA writes (IDENTIFY says so). */
  readonly fua: boolean;
  /** Commands seen, in submission order. */
  readonly log: DiskCommand[] = [];
  /** Highest number of commands outstanding at once. */
  maxOutstanding = 0;
  /** Error injection: commands it picks fail with the error it returns. */
  fail: DiskFault | undefined;
  /** Commands failed by `fail`. */
  failed = 0;
  #outstanding = 0;

  constructor(
    readonly sim: Simulation,
    options: {
      sectors: number;
      latency: SimTime;
      queueDepth?: number;
      name?: string;
      initial?: number;
      fail?: DiskFault;
      fua?: boolean;
    },
  ) {
    this.name = options.name ?? "memdisk";
    this.sectors = options.sectors;
    this.latency = options.latency;
    this.queueDepth = options.queueDepth ?? 32;
    this.content = new VersionMap(options.sectors, options.initial ?? NO_VERSION);
    this.fail = options.fail;
    this.fua = options.fua ?? true;
  }

  get outstanding(): number {
    return this.#outstanding;
  }

  submit(cmd: DiskCommand): SimEvent<DiskResult> {
    this.log.push(cmd);
    this.#outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.#outstanding);
    const ev = this.sim.event<DiskResult>();
    this.sim.call(this.latency, () => {
      this.#outstanding--;
      ev.succeed(this.#run(cmd));
    });
    return ev;
  }

  #run(cmd: DiskCommand): DiskResult {
    const serviceTime = this.latency;
    const error = this.fail?.(cmd);
    if (error !== undefined) {
      this.failed++;
      return { ok: false, error, serviceTime };
    }
    if (cmd.op === "flush") return { ok: true, serviceTime };
    const count = cmd.op === "read" ? cmd.count : cmd.versions.length;
    if (cmd.lba + count > this.sectors) return { ok: false, error: "idnf", serviceTime };
    if (cmd.op === "read") {
      return { ok: true, versions: this.content.read(cmd.lba, count), serviceTime };
    }
    this.content.set(cmd.lba, cmd.versions);
    return { ok: true, serviceTime };
  }
}

/**
 * A fault for {@link MemDisk.fail}: every `every`-th command the disk
 * completes fails with ABRT, but a command (op and LBA) at most `most` times,
 * so a driver's retries get it through.
 * @example
 * ```ts
 * import { flakyDisk } from "./_test_utils.ts";
 * const f = flakyDisk(2, 1);
 * const c = { op: "read" as const, lba: 8, count: 1 };
 * console.assert([f(c), f(c), f(c), f(c)].join() === ",abrt,,");
 * ```
 */
export function flakyDisk(every: number, most = 2): DiskFault {
  const failures = new Map<string, number>();
  let n = 0;
  return (c) => {
    const key = c.op === "flush" ? "flush" : `${c.op} ${c.lba}`;
    const k = failures.get(key) ?? 0;
    if (++n % every !== 0 || k >= most) return undefined;
    failures.set(key, k + 1);
    return "abrt";
  };
}

/**
 * HBA costs for tests: everything `base` ns (0 by default), DMA at 1 GB/s.
 * @example
 * ```ts
 * import { testCosts } from "./_test_utils.ts";
 * console.assert(testCosts().commandOverhead === 0 && testCosts({ fisPost: 5 }).fisPost === 5);
 * ```
 */
export function testCosts(over: Partial<AhciCosts> = {}, base = 0): AhciCosts {
  return {
    commandOverhead: base,
    prdEntry: base,
    fisPost: base,
    dmaBandwidth: 1e9,
    identify: base,
    engineStart: base,
    engineStop: base,
    fisEngine: base,
    hbaReset: base,
    ...over,
  };
}

/** A simulated machine slice for HBA tests: memory, interrupts, one HBA, its disks. */
export interface AhciRig {
  sim: Simulation;
  memory: PhysicalMemory;
  irq: InterruptController;
  hba: AhciHba;
  disks: MemDisk[];
  /** Interrupts delivered on the HBA's vector. */
  interrupts: number[];
  /** Port `p`'s command list and received-FIS area, as {@link startPort} programmed them. */
  clb(p: number): number;
  fb(p: number): number;
  /** Programs PxCLB/PxFB, sets FRE then ST (directly, no CPU), optionally PxIE and GHC.IE. */
  startPort(p: number, options?: { ie?: number; ghcIe?: boolean }): void;
  /** Writes a command into `slot` of port `p` (header, FIS bytes, PRDT) and optionally issues it. */
  issue(
    p: number,
    cmd: {
      slot: number;
      fis: Uint8Array;
      prdt?: PrdEntry[];
      cfl?: number;
      write?: boolean;
      prdtl?: number;
      go?: boolean;
    },
  ): void;
  /** Command table address of `slot` of port `p`. */
  ctba(p: number, slot: number): number;
}

const RIG_MEM = 64 << 20;
const VECTOR = 40;

/**
 * Builds an {@link AhciRig} with `ports` disks of `sectors` sectors and fixed latency.
 * @example
 * ```ts
 * import { ahciRig } from "./_test_utils.ts";
 * import { encodeAtaCommand, encodeH2dFis } from "./structures.ts";
 * const rig = ahciRig({ latency: 1000 });
 * rig.startPort(0);
 * rig.issue(0, { slot: 0, fis: encodeH2dFis(encodeAtaCommand({ kind: "flush" })) });
 * rig.sim.run();
 * console.assert(rig.hba.port(0).read(0x38) === 0);
 * ```
 */
export function ahciRig(
  options: {
    ports?: number;
    sectors?: number;
    latency?: SimTime;
    queueDepth?: number;
    costs?: Partial<AhciCosts>;
    ncq?: boolean;
    irqLatency?: SimTime;
    /** The disks take FUA writes. @default true */
    fua?: boolean;
  } = {},
): AhciRig {
  const { ports = 1, sectors = 1 << 20, latency = 10_000, queueDepth = 32, ncq = true } = options;
  const sim = new Simulation();
  const memory = new PhysicalMemory({ size: RIG_MEM });
  const irq = new InterruptController(sim, { latency: options.irqLatency ?? 0 });
  const disks = Array.from(
    { length: ports },
    (_, i) =>
      new MemDisk(sim, {
        sectors,
        latency,
        queueDepth,
        name: `disk${i}`,
        initial: 0,
        fua: options.fua,
      }),
  );
  const hba = new AhciHba({
    sim,
    memory,
    irq,
    vector: VECTOR,
    ports: disks,
    costs: testCosts(options.costs),
    ncq,
  });
  const interrupts: number[] = [];
  irq.onVector(VECTOR, () => interrupts.push(sim.now));
  // Port p: command list at 1 MiB + p*64 KiB, FIS at +1 KiB, tables from +4 KiB, 1 KiB apart.
  const clb = (p: number) => 0x10_0000 + p * 0x1_0000;
  const fb = (p: number) => clb(p) + 0x400;
  const ctba = (p: number, slot: number) => clb(p) + 0x1000 + slot * 0x400;
  const reg = (p: number, r: Px) => portReg(p, r);
  return {
    sim,
    memory,
    irq,
    hba,
    disks,
    interrupts,
    clb,
    fb,
    ctba,
    startPort(p, o = {}) {
      hba.write(reg(p, Px.CLB), 4, clb(p));
      hba.write(reg(p, Px.FB), 4, fb(p));
      hba.write(reg(p, Px.CMD), 4, PxCMD_FRE);
      hba.write(reg(p, Px.CMD), 4, PxCMD_FRE | PxCMD_ST);
      if (o.ie !== undefined) hba.write(reg(p, Px.IE), 4, o.ie);
      if (o.ghcIe) hba.write(Ghc.GHC, 4, (GHC_AE | GHC_IE) >>> 0);
    },
    issue(p, c) {
      const prdt = c.prdt ?? [];
      const t = ctba(p, c.slot);
      memory.writeBytes(t, c.fis);
      if (prdt.length > 0) writePrdt(memory, t, prdt);
      writeCommandHeader(memory, { clb: clb(p), slot: c.slot }, {
        cfl: c.cfl ?? 5,
        write: c.write ?? false,
        prdtl: c.prdtl ?? prdt.length,
        ctba: t,
      });
      if (c.go ?? true) hba.write(reg(p, Px.CI), 4, (1 << c.slot) >>> 0);
    },
  };
}
