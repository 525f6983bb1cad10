/**
 * The AHCI host bus adapter as a {@link BusDevice}: generic host control
 * registers (AHCI 1.3.1 §3.1) in front of up to 32 {@link AhciPort}s, and the
 * interrupt line to the OS through an {@link InterruptController} vector.
 */
import { requireNumber } from "../../_util/mod.ts";
import type { Simulation } from "../../sim/mod.ts";
import type { PhysicalMemory } from "../memory.ts";
import type { AccessSize, BusDevice } from "../mmio.ts";
import type { InterruptController } from "../interrupts.ts";
import type { BlockDevice } from "../disk/block_device.ts";
import {
  CAP_NCS_SHIFT,
  CAP_S64A,
  CAP_SNCQ,
  Ghc,
  GHC_AE,
  GHC_HR,
  GHC_IE,
  PORT_BASE,
  PORT_STRIDE,
} from "./registers.ts";
import {
  type AhciCompletion,
  type AhciCosts,
  AhciPort,
  type AhciPortCounters,
  emptyPortCounters,
} from "./port.ts";
import type { AtaCommandKind } from "./structures.ts";

/** AHCI version 1.3.1 (VS register, §3.1.5). */
const AHCI_VS = 0x0001_0301;

/** Options of {@link AhciHba}. */
export interface AhciHbaOptions {
  /** Simulation that times commands and engine transitions. */
  sim: Simulation;
  /** Physical memory holding command lists, FIS areas, PRDTs and data buffers. */
  memory: PhysicalMemory;
  /** Interrupt controller the HBA raises `vector` on. */
  irq: InterruptController;
  /** Interrupt vector the HBA raises (its MSI vector). */
  vector: number;
  /** Disk per port; `undefined` for an implemented but empty port. 1..32 entries. */
  ports: readonly (BlockDevice | undefined)[];
  /** Per-command, per-PRD, FIS-post, DMA and engine timing (validated). */
  costs: AhciCosts;
  /** Advertise NCQ (CAP.SNCQ). @default true */
  ncq?: boolean;
}

/** HBA-wide counters: the ports' sums plus interrupt and access counts. */
export interface AhciHbaCounters extends AhciPortCounters {
  /** Interrupts raised on the vector. */
  interrupts: number;
  /** Accesses to offsets that are not registers (read 0, writes dropped). */
  unknownRegister: number;
  /** Accesses narrower than 32 bits (normalised at the edge). */
  narrowAccess: number;
}

type GhcHandler = { read: (h: AhciHba) => number; write?: (h: AhciHba, v: number) => void };

/** Generic host control registers by offset: dispatch from a table. */
const GHC_REGS: Record<number, GhcHandler> = {
  [Ghc.CAP]: { read: (h) => h.cap },
  [Ghc.GHC]: { read: (h) => h._ghc(), write: (h, v) => h._writeGhc(v) },
  [Ghc.IS]: { read: (h) => h._is, write: (h, v) => h._writeIs(v) },
  [Ghc.PI]: { read: (h) => h.pi },
  [Ghc.VS]: { read: () => AHCI_VS },
  [Ghc.CCC_CTL]: { read: () => 0, write: () => {} }, // coalescing not modelled (CAP.CCCS = 0)
  [Ghc.CCC_PORTS]: { read: () => 0, write: () => {} },
  [Ghc.CAP2]: { read: () => 0 },
  [Ghc.BOHC]: { read: () => 0, write: () => {} },
};

/**
 * An AHCI HBA. Map it on an {@link MmioBus} at its ABAR.
 * @example
 * ```ts
 * import { Simulation } from "../../sim/mod.ts";
 * import { PhysicalMemory } from "../memory.ts";
 * import { InterruptController } from "../interrupts.ts";
 * import { AhciHba } from "./hba.ts";
 * const sim = new Simulation();
 * const hba = new AhciHba({
 *   sim, memory: new PhysicalMemory({ size: 1 << 24 }), irq: new InterruptController(sim, { latency: 0 }),
 *   vector: 40, ports: [undefined],
 *   costs: { commandOverhead: 1000, prdEntry: 10, fisPost: 200, dmaBandwidth: 4e9, identify: 5000,
 *     engineStart: 0, engineStop: 0, fisEngine: 0, hbaReset: 0 },
 * });
 * console.assert(hba.read(0x10, 4) === 0x10301 && hba.read(0x0c, 4) === 1);
 * ```
 */
export class AhciHba implements BusDevice {
  /** CAP: NP, NCS = 31, SNCQ, S64A (§3.1.1). */
  readonly cap: number;
  /** PI: one bit per port. */
  readonly pi: number;
  /** Simulation that times commands and engine transitions. */
  readonly sim: Simulation;
  /** Copy of the timing options, shared with every port. */
  readonly costs: Readonly<AhciCosts>;
  /** @internal */ _is = 0;
  #ports: AhciPort[];
  #ie = false;
  #ae = false;
  #resetting = false;
  #line = false;
  #irq: InterruptController;
  #vector: number;
  #counts = { interrupts: 0, unknownRegister: 0, narrowAccess: 0 };

  /**
   * Creates the HBA and one {@link AhciPort} per entry of `options.ports`,
   * with GHC.AE and GHC.IE clear.
   * @param options Memory, interrupt vector, disks per port and costs (validated).
   */
  constructor(options: AhciHbaOptions) {
    const { sim, memory, irq, vector, ports, costs, ncq = true } = options;
    const what = "create AHCI HBA";
    if (!(ports.length >= 1 && ports.length <= 32)) {
      throw new RangeError(
        `Cannot ${what}: 'ports' must have 1..32 entries: current value is ${ports.length}`,
      );
    }
    requireNumber(what, "vector", vector, { integer: true, min: 0 });
    for (const k of COST_KEYS) {
      // Times are integer ns; the bandwidth is bytes/s > 0.
      const rule = k === "dmaBandwidth" ? { min: 0, strict: true } : { integer: true, min: 0 };
      requireNumber(what, `costs.${k}`, costs[k], rule);
    }
    if (costs.linkReset !== undefined) {
      requireNumber(what, "costs.linkReset", costs.linkReset, { integer: true, min: 0 });
    }
    this.sim = sim;
    this.costs = { ...costs };
    this.#irq = irq;
    this.#vector = vector;
    const ctx = {
      sim,
      memory,
      costs: this.costs,
      interruptChanged: (p: number) => this.#portInterrupt(p),
    };
    this.#ports = ports.map((d, i) => new AhciPort(i, d, ctx));
    this.cap = ((ports.length - 1) | (31 << CAP_NCS_SHIFT) | (ncq ? CAP_SNCQ : 0) | CAP_S64A) >>> 0;
    this.pi = ports.length === 32 ? 0xffff_ffff : (1 << ports.length) - 1;
  }

  /** Port `i`. @throws RangeError for a port that is not implemented. */
  port(i: number): AhciPort {
    const p = this.#ports[i];
    if (p === undefined) {
      throw new RangeError(
        `Cannot get AHCI port: 'i' must be in [0, ${this.#ports.length}): current value is ${i}`,
      );
    }
    return p;
  }

  /** Number of ports. */
  get portCount(): number {
    return this.#ports.length;
  }

  /** Sets one completion listener on every port (a recorder's hook). */
  set onComplete(fn: ((c: AhciCompletion) => void) | undefined) {
    for (const p of this.#ports) p.onComplete = fn;
  }

  /** Counters summed over ports, plus HBA-level counts. */
  counters(): AhciHbaCounters {
    const out: AhciHbaCounters = { ...emptyPortCounters(), ...this.#counts };
    const commands = out.commands;
    for (const p of this.#ports) {
      const c = p.counters;
      for (const k of Object.keys(commands) as AtaCommandKind[]) commands[k] += c.commands[k];
      out.ncq += c.ncq;
      out.bytesRead += c.bytesRead;
      out.bytesWritten += c.bytesWritten;
      out.errors += c.errors;
      out.malformed += c.malformed;
      out.ncqErrorAborts += c.ncqErrorAborts;
      for (const [k, v] of Object.entries(c.malformedBy)) {
        out.malformedBy[k] = (out.malformedBy[k] ?? 0) + v;
      }
      for (const [k, v] of Object.entries(c.illegal)) out.illegal[k] = (out.illegal[k] ?? 0) + v;
    }
    return out;
  }

  /** Register read; accesses narrower than 32 bits return the addressed bytes. */
  read(offset: number, size: AccessSize): number {
    const aligned = offset & ~3;
    const v = this.#read32(aligned);
    if (size === 4 && aligned === offset) return v;
    this.#counts.narrowAccess++;
    const shift = (offset & 3) * 8;
    return size >= 4 ? v : (v >>> shift) & (2 ** (8 * size) - 1);
  }

  /**
   * Register write. A narrower write merges with the register's value, except
   * for per-bit registers (RW1C, write-1-to-set) where the other bytes are 0.
   */
  write(offset: number, size: AccessSize, value: number): void {
    const aligned = offset & ~3;
    if (size === 4 && aligned === offset) return this.#write32(aligned, value >>> 0);
    this.#counts.narrowAccess++;
    const shift = (offset & 3) * 8;
    const mask = size >= 4 ? 0xffff_ffff : ((2 ** (8 * size) - 1) * 2 ** shift) >>> 0;
    const part = ((value * 2 ** shift) % 2 ** 32 & mask) >>> 0;
    const bitwise = aligned === Ghc.IS ||
      (aligned >= PORT_BASE && AhciPort.isBitwise((aligned - PORT_BASE) % PORT_STRIDE));
    const merged = bitwise ? part : ((this.#read32(aligned) & ~mask) | part) >>> 0;
    this.#write32(aligned, merged);
  }

  #read32(off: number): number {
    if (off < PORT_BASE) {
      const h = GHC_REGS[off];
      if (h === undefined) this.#counts.unknownRegister++;
      return h?.read(this) ?? 0;
    }
    const p = this.#ports[Math.floor((off - PORT_BASE) / PORT_STRIDE)];
    if (p === undefined) {
      this.#counts.unknownRegister++;
      return 0;
    }
    return p.read((off - PORT_BASE) % PORT_STRIDE);
  }

  #write32(off: number, v: number): void {
    if (off < PORT_BASE) {
      const h = GHC_REGS[off];
      if (h?.write === undefined) this.#counts.unknownRegister++;
      else h.write(this, v);
      return;
    }
    const p = this.#ports[Math.floor((off - PORT_BASE) / PORT_STRIDE)];
    if (p === undefined || !p.write((off - PORT_BASE) % PORT_STRIDE, v)) {
      this.#counts.unknownRegister++;
    }
  }

  /** @internal */
  _ghc(): number {
    return ((this.#ae ? GHC_AE : 0) | (this.#ie ? GHC_IE : 0) | (this.#resetting ? GHC_HR : 0)) >>>
      0;
  }

  /** @internal */
  _writeGhc(v: number): void {
    if (v & GHC_HR) {
      // HBA reset (§10.4.3): GHC and ports reset; HR reads 1 until done.
      for (const p of this.#ports) p.reset();
      this._is = 0;
      this.#ie = this.#ae = false;
      this.#line = false;
      this.#resetting = true;
      if (this.costs.hbaReset === 0) this.#resetting = false;
      else this.sim.call(this.costs.hbaReset, () => (this.#resetting = false));
      return;
    }
    this.#ae = (v & GHC_AE) !== 0;
    this.#ie = (v & GHC_IE) !== 0;
    this.#evaluate(false);
  }

  /** @internal IS is RW1C (§3.1.3); a bit whose port still has an enabled PxIS bit re-latches. */
  _writeIs(v: number): void {
    const cleared = this._is & v;
    this._is = (this._is & ~v) >>> 0;
    this.#relatch();
    this.#evaluate(cleared !== 0);
  }

  #relatch(): void {
    for (const p of this.#ports) {
      if ((p._is & p._ie) !== 0) this._is = (this._is | (1 << p.index)) >>> 0;
    }
  }

  #portInterrupt(i: number): void {
    const p = this.#ports[i];
    if ((p._is & p._ie) !== 0) this._is = (this._is | (1 << i)) >>> 0;
    this.#evaluate(false);
  }

  /**
   * The interrupt line is GHC.IE && IS != 0. A message is sent on a rising
   * edge, and again after software clears IS while a port is still pending
   * (the line drops and rises), so no event is lost.
   */
  #evaluate(pulse: boolean): void {
    const line = this.#ie && this._is !== 0;
    if (line && (!this.#line || pulse)) {
      this.#counts.interrupts++;
      this.#irq.raise(this.#vector);
    }
    this.#line = line;
  }
}

const COST_KEYS: readonly Exclude<keyof AhciCosts, "linkReset">[] = [
  "commandOverhead",
  "prdEntry",
  "fisPost",
  "dmaBandwidth",
  "identify",
  "engineStart",
  "engineStop",
  "fisEngine",
  "hbaReset",
];
