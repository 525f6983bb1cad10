/**
 * The MMIO bus: devices own non-overlapping address ranges and see offsets,
 * never absolute addresses (Firecracker's `Bus`). Trap points let a VMM hook
 * a range (BitVisor's `dres_reg_register_handler`): an access that touches a
 * hooked byte reaches the hook instead of the device, and the hook answers
 * passthrough, done or block. hw never knows what hooks it; de-virtualising
 * removes them.
 */
import { type FieldIssue, issuesError, numberIssue, requireNumber } from "../_util/mod.ts";
import type { Gpa, SimTime } from "../_util/mod.ts";
import type { SimEvent } from "../sim/mod.ts";

/** Access widths the bus accepts. */
export type AccessSize = 1 | 2 | 4 | 8;

/** What a device on the bus implements. */
export interface BusDevice {
  /** Reads `size` bytes at `offset` within the device's window. */
  read(offset: number, size: AccessSize): number;
  /** Writes `size` bytes at `offset`. */
  write(offset: number, size: AccessSize, value: number): void;
}

/** One register access as a hook sees it. */
export interface MmioAccess {
  /** Absolute address. */
  addr: Gpa;
  /**
   * `addr` less the hooked window's base: negative when the access starts
   * just before the window and runs into it.
   */
  offset: number;
  /** Access width, bytes. */
  size: AccessSize;
  /** True for a store, false for a load. */
  write: boolean;
  /** Value written (0 for reads). */
  value: number;
  /** CPU that made the access. */
  cpu: number;
}

/**
 * A hook's answer: pass the access to the device, complete it here (reads
 * return `value`), or hold the CPU until `until` happens (its value, if a
 * number, is what a read returns). `cost` is VMM handler time in ns.
 */
export type HookResult =
  | { action: "passthrough"; cost?: SimTime }
  | { action: "done"; value?: number; cost?: SimTime }
  | { action: "block"; until: SimEvent<unknown>; cost?: SimTime };

/** A trap-point handler. */
export type MmioHook = (access: MmioAccess) => HookResult;

/** Handle returned by {@link MmioBus.hook}; pass it to `unhook`. */
export interface HookHandle {
  /** Absolute start address of the hooked range. */
  readonly base: Gpa;
  /** Length of the hooked range, bytes. */
  readonly size: number;
  /** Label of the hook (for diagnostics). */
  readonly name: string;
}

/** Thrown when a device or hook range overlaps an existing one. */
export class BusOverlapError extends Error {
  /** Error name, `"BusOverlapError"`. */
  override name = "BusOverlapError";
}

interface Mapping {
  base: Gpa;
  size: number;
  name: string;
  device: BusDevice;
}

interface HookEntry extends HookHandle {
  fn: MmioHook;
}

/** Outcome of {@link MmioBus.access}. */
export interface AccessResult {
  /** Value read (reads), or the value written. */
  value: number;
  /** True when a hook saw the access (a VM exit under virtualization). */
  trapped: boolean;
  /** Hook handler time, ns. */
  cost: SimTime;
  /** Set when the hook blocks the access. */
  block?: SimEvent<unknown>;
}

/**
 * Address router with trap points.
 * @example
 * ```ts
 * import { MmioBus } from "./mmio.ts";
 * const bus = new MmioBus();
 * let reg = 0;
 * bus.map({ base: 0xfeb0_0000, size: 0x1000, name: "dev", device: {
 *   read: () => reg, write: (_o, _s, v) => { reg = v; } } });
 * bus.access({ addr: 0xfeb0_0010, size: 4, write: true, value: 7, cpu: 0 });
 * const h = bus.hook({ base: 0xfeb0_0000, size: 0x1000, name: "mediator" }, () => ({ action: "done", value: 99 }));
 * console.assert(bus.access({ addr: 0xfeb0_0010, size: 4, write: false, value: 0, cpu: 0 }).value === 99);
 * bus.unhook(h);
 * console.assert(bus.access({ addr: 0xfeb0_0010, size: 4, write: false, value: 0, cpu: 0 }).value === 7);
 * ```
 */
export class MmioBus {
  #maps: Mapping[] = [];
  #hooks: HookEntry[] = [];
  /** Accesses that hit a hook, by hook name. */
  readonly trappedAccesses = new Map<string, number>();

  /**
   * Places a device at [base, base+size).
   * @throws RangeError unless base is an integer >= 0 and size an integer >= 1.
   * @throws BusOverlapError on overlap.
   */
  map(options: { base: Gpa; size: number; name: string; device: BusDevice }): void {
    const { base, size, name } = options;
    const issues = [
      numberIssue("base", base, { integer: true, min: 0 }),
      numberIssue("size", size, { integer: true, min: 1 }),
    ].filter((i): i is FieldIssue => i !== undefined);
    if (issues.length > 0) throw issuesError(`map '${name}'`, issues);
    const clash = this.#maps.find((m) => base < m.base + m.size && m.base < base + size);
    if (clash) {
      throw new BusOverlapError(
        `Cannot map '${name}' at [0x${base.toString(16)}, +0x${
          size.toString(16)
        }): overlaps '${clash.name}'`,
      );
    }
    this.#maps.push({ ...options });
  }

  /**
   * Installs a trap point on [base, base+size); returns its handle.
   * @throws RangeError unless base is an integer >= 0 and size an integer >= 1.
   * @throws BusOverlapError when the range overlaps an installed hook.
   */
  hook(range: { base: Gpa; size: number; name: string }, fn: MmioHook): HookHandle {
    const what = `hook '${range.name}'`;
    requireNumber(what, "base", range.base, { integer: true, min: 0 });
    requireNumber(what, "size", range.size, { integer: true, min: 1 });
    const clash = this.#hooks.find((h) =>
      range.base < h.base + h.size && h.base < range.base + range.size
    );
    if (clash) {
      throw new BusOverlapError(`Cannot hook '${range.name}': overlaps hook '${clash.name}'`);
    }
    const entry: HookEntry = { ...range, fn };
    this.#hooks.push(entry);
    return entry;
  }

  /** Removes a trap point. @throws Error for an unknown handle. */
  unhook(handle: HookHandle): void {
    const i = this.#hooks.indexOf(handle as HookEntry);
    if (i < 0) throw new Error(`Cannot unhook '${handle.name}': not installed`);
    this.#hooks.splice(i, 1);
  }

  /** Installed hooks. */
  get hooks(): readonly HookHandle[] {
    return this.#hooks;
  }

  /** True when an access of `size` bytes at `addr` would trap (it touches a hooked byte). */
  isTrapped(addr: Gpa, size: AccessSize = 1): boolean {
    return this.#hookAt(addr, size) !== undefined;
  }

  /** The lowest hook that [addr, addr+size) overlaps. */
  #hookAt(addr: Gpa, size: number): HookEntry | undefined {
    let found: HookEntry | undefined;
    for (const h of this.#hooks) {
      if (addr < h.base + h.size && h.base < addr + size && !(found && found.base < h.base)) {
        found = h;
      }
    }
    return found;
  }

  /**
   * An access from a CPU: goes to a hook if it touches a hooked byte (the
   * lowest such hook), else to the device. 8-byte accesses are split into
   * two 4-byte device accesses (low first), as BitVisor does, so devices see
   * one width.
   */
  access(
    a: { addr: Gpa; size: AccessSize; write: boolean; value: number; cpu: number },
  ): AccessResult {
    const h = this.#hookAt(a.addr, a.size);
    if (h !== undefined) {
      this.trappedAccesses.set(h.name, (this.trappedAccesses.get(h.name) ?? 0) + 1);
      const r = h.fn({ ...a, offset: a.addr - h.base });
      const cost = r.cost ?? 0;
      if (r.action === "done") {
        return { value: a.write ? a.value : (r.value ?? 0), trapped: true, cost };
      }
      if (r.action === "block") return { value: 0, trapped: true, cost, block: r.until };
      return { value: this.raw(a), trapped: true, cost };
    }
    return { value: this.raw(a), trapped: false, cost: 0 };
  }

  /** An access that bypasses hooks (what a VMM uses to reach the real device). */
  raw(a: { addr: Gpa; size: AccessSize; write: boolean; value: number }): number {
    const m = this.#maps.find((x) => a.addr >= x.base && a.addr + a.size <= x.base + x.size);
    if (m === undefined) {
      // Unclaimed MMIO: reads float high, writes are dropped (PCI master abort).
      return a.write ? a.value : a.size === 8 ? 2 ** 53 - 1 : 2 ** (8 * a.size) - 1;
    }
    const off = a.addr - m.base;
    if (a.size === 8) {
      if (a.write) {
        m.device.write(off, 4, a.value % 2 ** 32);
        m.device.write(off + 4, 4, Math.floor(a.value / 2 ** 32));
        return a.value;
      }
      return m.device.read(off, 4) + m.device.read(off + 4, 4) * 2 ** 32;
    }
    if (a.write) {
      m.device.write(off, a.size, a.value);
      return a.value;
    }
    return m.device.read(off, a.size);
  }
}
