/**
 * A virtio-blk disk of a KVM guest (virtio 1.0 §5.2), as the guest's block
 * driver sees it and as it costs on both sides of the VM boundary.
 *
 * Per guest request the guest driver splits it into virtio requests of at
 * most `min(maxRequestBytes, segMax x segmentBytes)` (queue limits from the
 * device's `seg_max`, §5.2.4). Each virtio request:
 *
 * 1. guest driver CPU (`guestSubmit`, through {@link KvmVm.guestTime}: EPT and
 *    background exits apply), descriptors added to the available ring;
 * 2. notification: a PIO or MMIO write to the queue-notify register is a VM
 *    exit (`io-instruction` / `ept-violation`, KVM's handler time from the
 *    VM); suppressed while the host is already processing the ring
 *    (VIRTIO_F_EVENT_IDX, §2.6.7.2) when `eventIdx`; none when the host polls;
 * 3. host side (QEMU iothread or vhost, one thread): wake-up, `hostRequest`,
 *    then per host command of at most `hostMaxBytes`: `hostBlockLayer` and a
 *    command to the backend (a host {@link BlockDevice}, or a remote image
 *    file), never more outstanding than the backend's queue depth;
 * 4. completion: wake-up, `hostComplete`, used ring, interrupt to the guest:
 *    the IPI makes the vCPU exit (`external-interrupt`) so KVM can inject,
 *    unless posted interrupts deliver it without an exit; the guest's handler
 *    (`guestComplete` per used entry) drains the ring and writes EOI, a VM
 *    exit (APIC access, counted as `ept-violation`) unless APICv virtualizes it.
 *
 * Nothing is a throughput factor: lower throughput comes from the costs on
 * the serial path and from splitting into more disk commands.
 * Not modelled: indirect descriptors and ring wrap, multi-queue, discard and
 * write zeroes, a host page cache in front of a local backend (KVM/Local: QEMU
 * cache=none, O_DIRECT). KVM/NFS's image file is read through the host's NFS
 * client, whose page cache and read-ahead are modelled (lib/deploy kvm.ts).
 */
import {
  concatVersions,
  type FieldIssue,
  fieldIssue,
  issuesError,
  numberIssue,
  rangeError,
  requireSectorRange,
  unknownKeyIssues,
  withDefaults,
} from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import { Resource } from "../sim/mod.ts";
import type { ProcessGenerator, SimEvent, Simulation } from "../sim/mod.ts";
import type { BlockDevice, Cpu, DiskCommand, DiskResult, ExitReason } from "../hw/mod.ts";
import type { KvmVm } from "./kvm_host.ts";

const SECTOR = 512;

/** What virtio-blk's host side needs of its backend: a host disk or a remote image file. */
export type VirtioBackend = Pick<BlockDevice, "sectors" | "queueDepth" | "submit">;

/** How the guest tells the host about new requests. */
export type VirtioNotify = "pio" | "mmio" | "poll";

/** Exit reason of a queue notification (legacy virtio-pci uses an I/O BAR; modern an MMIO BAR). */
const NOTIFY_EXIT: Record<VirtioNotify, ExitReason | null> = {
  pio: "io-instruction",
  mmio: "ept-violation", // EPT misconfiguration on the notify BAR (SDM 28.2.3.1)
  poll: null,
};

/** Outcome of a request, as {@link GuestBlockDriver} returns it (structurally lib/guest's IoResult). */
export interface VirtioIoResult {
  /** Whether every virtio request of the guest request completed with VIRTIO_BLK_S_OK. */
  ok: boolean;
  /** Reads only: the version of each sector read, one entry per sector. */
  versions?: Int32Array;
  /** On failure: the status, `"VIRTIO_BLK_S_IOERR"`. */
  error?: string;
  /** Time from the call until the guest completed the last part, ns. */
  latency: SimTime;
}

/** CPU costs of virtio-blk, ns (before EPT/steal for the guest parts). */
export interface VirtioBlkCosts {
  /** Guest driver per virtio request: build descriptors, add to the available ring. */
  guestSubmit: SimTime;
  /** Guest interrupt handler per used entry: complete the block request. */
  guestComplete: SimTime;
  /** Host thread wake-up after an eventfd signal (kick or aio completion). */
  hostWakeup: SimTime;
  /** Host per virtio request: pop the ring, parse the header, map guest buffers, submit aio. */
  hostRequest: SimTime;
  /** Host block layer and driver per host command (bio, request, dispatch to the disk). */
  hostBlockLayer: SimTime;
  /** Host per virtio request completion: reap aio, write status, push to the used ring. */
  hostComplete: SimTime;
  /** irqfd to the vCPU's physical CPU (IPI), ns. */
  interruptDelivery: SimTime;
  /** Mean delay for a polling host to notice a new request (notify "poll"). */
  hostPollDelay: SimTime;
}

/** Options of {@link VirtioBlk}. */
export interface VirtioBlkOptions {
  /** VM whose guest uses the disk; must be running when requests are issued. */
  vm: KvmVm;
  /** vCPU the driver and its interrupt run on. @default 0 */
  vcpu?: number;
  /** Host disk or remote image file the host side sends its commands to. */
  backend: VirtioBackend;
  /** CPU costs of the guest and host paths. */
  costs: VirtioBlkCosts;
  /** Queue notification mechanism. @default "pio" (legacy virtio-pci, QEMU 1.x/2.x) */
  notify?: VirtioNotify;
  /** VIRTIO_F_EVENT_IDX: no kick while the host is still working through the ring. @default true */
  eventIdx?: boolean;
  /** Posted interrupts: injection without a VM exit. @default false */
  postedInterrupts?: boolean;
  /** APICv: EOI without a VM exit. @default false */
  apicv?: boolean;
  /** Guest block-layer limit per request (max_sectors_kb). @default 524288 */
  maxRequestBytes?: number;
  /** Device `seg_max` (QEMU: queue size - 2). @default 126 */
  segMax?: number;
  /** Bytes per guest scatter-gather segment (one page). @default 4096 */
  segmentBytes?: number;
  /** Host block-layer limit per command on the backend (host max_sectors_kb). @default 524288 */
  hostMaxBytes?: number;
  /** Requests the virtqueue holds. @default 128 */
  queueDepth?: number;
  /** Memory-bound fraction of the guest driver's code (pays EPT). @default 0 */
  memoryBound?: number;
}

/** Counters. */
export interface VirtioBlkStats {
  /** Guest requests (read/write/flush calls; a FUA write counts as a write and a flush). */
  requests: number;
  /** Virtio requests after splitting. */
  virtioRequests: number;
  /** Commands sent to the backend. */
  hostCommands: number;
  /** Notifications that exited. */
  kicks: number;
  /** Notifications suppressed by EVENT_IDX (host still working through the ring). */
  kicksSuppressed: number;
  /** Interrupts raised to the guest. */
  interrupts: number;
  /** VM exits this device caused (kicks, injection, EOI). */
  exits: number;
  /** Guest requests that completed with an error. */
  errors: number;
  /** Sectors read from the backend by successful virtio requests. */
  sectorsRead: number;
  /** Sectors written to the backend by successful virtio requests. */
  sectorsWritten: number;
}

type VirtioOp = "read" | "write" | "flush";

interface VReq {
  op: VirtioOp;
  lba: number;
  count: number;
  versions?: Int32Array;
  done: SimEvent<{ ok: boolean; versions?: Int32Array }>;
  result?: { ok: boolean; versions?: Int32Array };
}

/** What {@link virtioBlkIssues} checks: virtio-blk's options without its VM, vCPU and backend. */
export type VirtioBlkSettings = Omit<VirtioBlkOptions, "vm" | "vcpu" | "backend">;

const SETTING_DEFAULTS: Required<Omit<VirtioBlkSettings, "costs">> = {
  notify: "pio",
  eventIdx: true,
  postedInterrupts: false,
  apicv: false,
  maxRequestBytes: 524_288,
  segMax: 126,
  segmentBytes: 4096,
  hostMaxBytes: 524_288,
  queueDepth: 128,
  memoryBound: 0,
};

/**
 * Every problem with virtio-blk's costs and limits ({@link VirtioBlk} rejects
 * them), the defaults filled in: each field by its name in the options
 * (`costs.hostWakeup`). A profile checks its values with it before any run.
 * @example
 * ```ts
 * import { virtioBlkIssues } from "./virtio_blk.ts";
 * const costs = { guestSubmit: 1000, guestComplete: 1000, hostWakeup: -1, hostRequest: 3000,
 *   hostBlockLayer: 2000, hostComplete: 2000, interruptDelivery: 1000, hostPollDelay: 0 };
 * const [issue] = virtioBlkIssues({ costs });
 * console.assert(issue.field === "costs.hostWakeup" && issue.message.endsWith("current value is -1"));
 * console.assert(virtioBlkIssues({ costs: { ...costs, hostWakeup: 5000 } }).length === 0);
 * ```
 */
export function virtioBlkIssues(settings: VirtioBlkSettings): FieldIssue[] {
  const o = { ...settings, ...withDefaults(settings, SETTING_DEFAULTS) };
  const issues: (FieldIssue | undefined)[] = [
    ...unknownKeyIssues(o.costs, VIRTIO_COST_FIELDS, "costs."),
  ];
  for (const k of VIRTIO_COST_FIELDS) {
    issues.push(numberIssue(`costs.${k}`, o.costs?.[k], { integer: true, min: 0 }));
  }
  if (!(o.notify in NOTIFY_EXIT)) {
    issues.push(fieldIssue("notify", `one of ${Object.keys(NOTIFY_EXIT).join(", ")}`, o.notify));
  }
  for (const k of ["maxRequestBytes", "segmentBytes", "hostMaxBytes"] as const) {
    const issue = numberIssue(k, o[k], { integer: true, min: SECTOR });
    issues.push(
      issue ?? (o[k] % SECTOR !== 0 ? fieldIssue(k, "a multiple of 512", o[k]) : undefined),
    );
  }
  issues.push(numberIssue("segMax", o.segMax, { integer: true, min: 1 }));
  issues.push(numberIssue("queueDepth", o.queueDepth, { integer: true, min: 1 }));
  const mb = numberIssue("memoryBound", o.memoryBound, { min: 0 });
  issues.push(
    mb ?? (o.memoryBound > 1 ? fieldIssue("memoryBound", "in [0, 1]", o.memoryBound) : undefined),
  );
  return issues.filter((i) => i !== undefined);
}

/**
 * virtio-blk for a guest; implements lib/guest's `GuestBlockDriver`.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { Cpu, Ssd } from "../hw/mod.ts";
 * import { KvmHost } from "./kvm_host.ts";
 * import { VirtioBlk } from "./virtio_blk.ts";
 * const sim = new Simulation();
 * const cpu = new Cpu(0, { vmExit: 500, vmEntry: 400, mmioRead: 800, mmioWrite: 150, eptOverhead: 0.1, ipi: 1000, tlbFlush: 2000 });
 * const host = new KvmHost({ sim, cpus: [cpu], hostOsBoot: 0 });
 * const vm = host.createVm({ vmmStart: 0, guestFirmware: 0, exitHandlers: { "io-instruction": 2000 } });
 * const disk = new Ssd(sim, { sectors: 1 << 20, readLatency: 50_000, writeLatency: 20_000, channels: 4,
 *   readBandwidth: 500e6, writeBandwidth: 400e6 });
 * const blk = new VirtioBlk({ vm, backend: disk, costs: { guestSubmit: 1000, guestComplete: 1000,
 *   hostWakeup: 5000, hostRequest: 3000, hostBlockLayer: 2000, hostComplete: 2000,
 *   interruptDelivery: 1000, hostPollDelay: 0 } });
 * sim.process(function* () {
 *   yield host.boot();
 *   yield vm.start();
 *   yield blk.write({ lba: 8, count: 4, version: 7 });
 *   const r = (yield blk.read({ lba: 8, count: 4 })) as { versions: Int32Array };
 *   console.assert(r.versions.join() === "7,7,7,7");
 * });
 * sim.run();
 * console.assert(blk.stats.exits === 6); // per request: kick, injection, EOI
 * ```
 */
export class VirtioBlk {
  /** Simulation of the VM's host. */
  readonly sim: Simulation;
  /** VM whose guest uses the disk. */
  readonly vm: KvmVm;
  /** Host disk or remote image file behind the device. */
  readonly backend: VirtioBackend;
  /** CPU costs of the guest and host paths, ns. */
  readonly costs: Readonly<VirtioBlkCosts>;
  /** Counters since creation. */
  readonly stats: VirtioBlkStats = {
    requests: 0,
    virtioRequests: 0,
    hostCommands: 0,
    kicks: 0,
    kicksSuppressed: 0,
    interrupts: 0,
    exits: 0,
    errors: 0,
    sectorsRead: 0,
    sectorsWritten: 0,
  };
  readonly #o: Required<Omit<VirtioBlkOptions, "vm" | "backend" | "costs">>;
  readonly #cpu: Cpu;
  /** Largest virtio request, sectors. */
  readonly maxRequestSectors: number;
  /** Largest backend command, sectors. */
  readonly hostMaxSectors: number;
  readonly #ring: Resource;
  /** The guest driver's CPU (submission and interrupt handler serialise on it). */
  readonly #guestCpu: Resource;
  readonly #hostQueue: Resource;
  #avail: VReq[] = [];
  #completed: VReq[] = [];
  #used: VReq[] = [];
  #hostIdle = true;
  #wake: SimEvent<void> | null = null;
  #wakePending = false;
  #irqPending = false;

  /**
   * Creates the device and starts its host thread.
   * @throws RangeError on bad costs or limits, or a `vcpu` the VM does not have.
   */
  constructor(options: VirtioBlkOptions) {
    // An option given as undefined takes its default, as an option left out does.
    const o = { ...options, ...withDefaults(options, SETTING_DEFAULTS), vcpu: options.vcpu ?? 0 };
    const what = "create virtio-blk";
    const issues = virtioBlkIssues(o);
    if (issues.length > 0) throw issuesError(what, issues);
    const cpu = o.vm.vcpus[o.vcpu];
    if (cpu === undefined) {
      throw rangeError(what, "vcpu", `in [0, ${o.vm.vcpus.length - 1}]`, o.vcpu);
    }
    this.sim = o.vm.host.sim;
    this.vm = o.vm;
    this.backend = o.backend;
    this.costs = { ...o.costs };
    this.#o = o;
    this.#cpu = cpu;
    this.maxRequestSectors = Math.min(o.maxRequestBytes, o.segMax * o.segmentBytes) / SECTOR;
    this.hostMaxSectors = o.hostMaxBytes / SECTOR;
    this.#ring = new Resource(this.sim, { capacity: o.queueDepth, name: "virtqueue" });
    this.#guestCpu = new Resource(this.sim, { capacity: 1, name: "virtio-blk guest" });
    this.#hostQueue = new Resource(this.sim, {
      capacity: Math.max(1, o.backend.queueDepth),
      name: "host block queue",
    });
    this.sim.process(this.#hostThread(), "virtio-blk host");
  }

  /** Capacity in sectors (virtio-blk config `capacity`). */
  get sectors(): number {
    return this.backend.sectors;
  }

  /**
   * Reads `count` sectors from `lba`. A guest's `direct` does not reach the host: the host's page
   * cache (a host NFS client's) is its own, apart from the guest's.
   */
  read(req: { lba: number; count: number; direct?: boolean }): SimEvent<VirtioIoResult> {
    return this.#request("read", req.lba, req.count);
  }

  /**
   * Writes `count` sectors: each gets `version`, or versions[i]. `fua`: virtio-blk has no FUA
   * (Linux's virtio_blk sets none), so the block layer's answer: the write, then a flush.
   */
  write(
    req: { lba: number; count: number; version: number | ArrayLike<number>; fua?: boolean },
  ): SimEvent<VirtioIoResult> {
    const v = req.version;
    const versions = typeof v === "number" ? new Int32Array(req.count).fill(v) : Int32Array.from(v);
    if (versions.length !== req.count) {
      throw rangeError(
        "write",
        "version",
        `a number or ${req.count} versions`,
        `${versions.length} versions`,
      );
    }
    const write = this.#request("write", req.lba, req.count, versions);
    if (req.fua !== true) return write;
    const sim = this.sim;
    const start = sim.now;
    const flush = () => this.flush();
    return sim.process(function* (): ProcessGenerator<VirtioIoResult> {
      const w = (yield write) as VirtioIoResult;
      const r = w.ok ? (yield flush()) as VirtioIoResult : w;
      return { ...r, latency: sim.now - start };
    }, "virtio-blk fua write");
  }

  /** VIRTIO_BLK_T_FLUSH. */
  flush(): SimEvent<VirtioIoResult> {
    return this.#request("flush", 0, 0);
  }

  // ---- guest side ----

  #request(op: VirtioOp, lba: number, count: number, versions?: Int32Array) {
    if (op !== "flush") requireSectorRange(op, lba, count, this.sectors);
    if (this.vm.state !== "running") {
      throw new Error(`virtio-blk: ${op} while VM '${this.vm.name}' is ${this.vm.state}`);
    }
    this.stats.requests++;
    const sim = this.sim;
    const start = sim.now;
    const parts: SimEvent<{ ok: boolean; versions?: Int32Array }>[] = [];
    if (op === "flush") parts.push(this.#virtio({ op, lba: 0, count: 0, done: sim.event() }));
    for (let k = 0; k < count; k += this.maxRequestSectors) {
      const n = Math.min(this.maxRequestSectors, count - k);
      const v = versions?.subarray(k, k + n);
      parts.push(this.#virtio({ op, lba: lba + k, count: n, versions: v, done: sim.event() }));
    }
    const out = sim.event<VirtioIoResult>();
    sim.allOf(parts).then((ev) => {
      const rs = ev.value as { ok: boolean; versions?: Int32Array }[];
      const latency = sim.now - start;
      if (rs.some((r) => !r.ok)) {
        this.stats.errors++;
        return out.succeed({ ok: false, error: "VIRTIO_BLK_S_IOERR", latency });
      }
      if (op !== "read") return out.succeed({ ok: true, latency });
      out.succeed({ ok: true, versions: concatVersions(rs.map((r) => r.versions!)), latency });
    });
    return out;
  }

  #virtio(r: VReq): VReq["done"] {
    this.stats.virtioRequests++;
    this.sim.process(this.#submit(r), `virtio-blk ${r.op}`);
    return r.done;
  }

  *#submit(r: VReq): ProcessGenerator<void> {
    const sim = this.sim;
    const slot = this.#ring.request();
    yield slot;
    r.done.then(() => slot.release());
    using cpu = this.#guestCpu.request();
    yield cpu;
    yield sim.timeout(this.#guestTime(this.costs.guestSubmit));
    this.#avail.push(r);
    const reason = NOTIFY_EXIT[this.#o.notify];
    if (reason === null) {
      this.#signalHost(this.costs.hostPollDelay);
      return;
    }
    if (this.#o.eventIdx && !(this.#hostIdle && !this.#wakePending)) {
      this.stats.kicksSuppressed++;
      return;
    }
    this.stats.kicks++;
    this.stats.exits++;
    const kick = this.#cpu.vmExit(reason);
    // KVM signals the ioeventfd in its handler, before re-entering the guest.
    this.#signalHost(kick - this.#cpu.costs.vmEntry + this.costs.hostWakeup);
    yield sim.timeout(kick);
  }

  #guestTime(ns: SimTime): SimTime {
    return this.vm.guestTime(ns, { vcpu: this.#o.vcpu, memoryBound: this.#o.memoryBound });
  }

  // ---- host side ----

  /** Wakes the host thread after `delay` if it sleeps and no wake-up is on its way. */
  #signalHost(delay: SimTime): void {
    if (!this.#hostIdle || this.#wakePending) return;
    this.#wakePending = true;
    this.sim.call(delay, () => {
      this.#wakePending = false;
      this.#wake?.succeed();
    });
  }

  *#hostThread(): ProcessGenerator<void> {
    const sim = this.sim;
    for (;;) {
      const c = this.#completed.shift();
      if (c !== undefined) {
        yield sim.timeout(this.costs.hostComplete);
        this.#used.push(c);
        this.#interruptGuest();
        continue;
      }
      const r = this.#avail.shift();
      if (r !== undefined) {
        yield sim.timeout(this.costs.hostRequest);
        yield* this.#dispatch(r);
        continue;
      }
      this.#hostIdle = true;
      this.#wake = sim.event();
      yield this.#wake;
      this.#wake = null;
      this.#hostIdle = false;
    }
  }

  /** Splits a virtio request into backend commands and submits them (asynchronous I/O). */
  *#dispatch(r: VReq): ProcessGenerator<void> {
    const sim = this.sim;
    const cmds: DiskCommand[] = [];
    if (r.op === "flush") cmds.push({ op: "flush" });
    for (let k = 0; k < r.count; k += this.hostMaxSectors) {
      const n = Math.min(this.hostMaxSectors, r.count - k);
      cmds.push(
        r.op === "read"
          ? { op: "read", lba: r.lba + k, count: n }
          : { op: "write", lba: r.lba + k, versions: r.versions!.subarray(k, k + n) },
      );
    }
    const results: SimEvent<DiskResult>[] = [];
    for (const cmd of cmds) {
      yield sim.timeout(this.costs.hostBlockLayer);
      this.stats.hostCommands++;
      results.push(sim.process(this.#toBackend(cmd), "virtio-blk backend"));
    }
    sim.allOf(results).then((ev) => {
      const rs = ev.value as DiskResult[];
      const ok = rs.every((x) => x.ok);
      let versions: Int32Array | undefined;
      if (ok && r.op === "read") {
        versions = concatVersions(rs.map((x) => x.versions!));
        this.stats.sectorsRead += r.count;
      }
      if (ok && r.op === "write") this.stats.sectorsWritten += r.count;
      r.result = { ok, versions };
      this.#completed.push(r);
      this.#signalHost(this.costs.hostWakeup);
    });
  }

  *#toBackend(cmd: DiskCommand): ProcessGenerator<DiskResult> {
    using slot = this.#hostQueue.request();
    yield slot;
    return (yield this.backend.submit(cmd)) as DiskResult;
  }

  // ---- interrupt path ----

  #interruptGuest(): void {
    if (this.#irqPending) return; // the handler drains the used ring (VRING_AVAIL_F_NO_INTERRUPT)
    this.#irqPending = true;
    this.stats.interrupts++;
    const sim = this.sim;
    sim.call(this.costs.interruptDelivery, () => {
      let inject = 0;
      if (!this.#o.postedInterrupts) {
        this.stats.exits++;
        inject = this.#cpu.vmExit("external-interrupt");
      }
      sim.call(inject, () => sim.process(this.#handler(), "virtio-blk irq"));
    });
  }

  *#handler(): ProcessGenerator<void> {
    const sim = this.sim;
    using cpu = this.#guestCpu.request();
    yield cpu;
    for (let r = this.#used.shift(); r !== undefined; r = this.#used.shift()) {
      yield sim.timeout(this.#guestTime(this.costs.guestComplete));
      r.done.succeed(r.result);
    }
    // virtqueue_enable_cb found the ring empty: later completions raise a new interrupt.
    this.#irqPending = false;
    if (!this.#o.apicv) {
      this.stats.exits++;
      // xAPIC EOI write: an APIC-access exit, recorded under the closest ExitReason.
      yield sim.timeout(this.#cpu.vmExit("ept-violation"));
    }
  }
}

/**
 * The fields of {@link VirtioBlkCosts}, in order.
 * @example
 * ```ts
 * import { VIRTIO_COST_FIELDS } from "./virtio_blk.ts";
 * console.assert(VIRTIO_COST_FIELDS.includes("hostWakeup"));
 * ```
 */
export const VIRTIO_COST_FIELDS: readonly (keyof VirtioBlkCosts)[] = [
  "guestSubmit",
  "guestComplete",
  "hostWakeup",
  "hostRequest",
  "hostBlockLayer",
  "hostComplete",
  "interruptDelivery",
  "hostPollDelay",
];
