/**
 * VT-d device assignment of the InfiniBand HCA to a KVM guest (the KVM/pass
 * baseline). Three mechanisms differ from bare metal:
 *
 * - DMA remapping: every DMA the HCA makes is translated by the IOMMU
 *   (Intel VT-d spec §3). {@link Iommu} keeps an LRU IOTLB of `entries`
 *   translations; a lookup costs `hitCost`, a miss adds a walk of
 *   `pageWalkLevels` paging-structure reads of `walkAccess` each (§3.6).
 *   {@link assignHca} replays the HCA's DMA address stream for an RDMA write
 *   ping-pong ({@link rdmaDmaTrace}) through it and hands the resulting
 *   mean translation cost per DMA to the HCA, which adds it to each DMA of
 *   its RDMA path.
 * - Doorbells: the HCA's UAR page is mapped into the guest through EPT, so
 *   the guest's MMIO stores reach the device with no VM exit (nothing hooks
 *   the bus). The HCA's `cpu` is the vCPU's physical CPU, in non-root mode.
 * - Completion polling runs on a vCPU: its memory-bound part pays the EPT
 *   overhead, and background exits steal a share of the loop's time.
 *
 * Not modelled: interrupt remapping and posted MSI-X (the benchmark polls),
 * context-cache and paging-structure caches (a miss always walks all
 * levels), ATS.
 */
import { rangeError, requireNumber } from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import type { KvmVm } from "./kvm_host.ts";

/** Options of {@link Iommu}. */
export interface IommuOptions {
  /** IOTLB capacity, translations. */
  entries: number;
  /** IOTLB lookup (paid by every translation), ns. */
  hitCost: SimTime;
  /** One paging-structure read by the remapping unit, ns. */
  walkAccess: SimTime;
  /** Levels walked on a miss: 4 for a 48-bit guest address width (VT-d §3.6). @default 4 */
  pageWalkLevels?: number;
  /** Page size of the I/O page tables (4 KiB; 2 MiB with superpage support). @default 4096 */
  pageBytes?: number;
}

/** IOMMU counters. */
export interface IommuStats {
  /** DMA addresses translated. */
  translations: number;
  /** Translations found in the IOTLB. */
  hits: number;
  /** Translations that walked the I/O page tables. */
  misses: number;
  /** Total translation time, ns. */
  time: SimTime;
}

/**
 * A VT-d remapping unit with an LRU IOTLB.
 * @example
 * ```ts
 * import { Iommu } from "./passthrough.ts";
 * const mmu = new Iommu({ entries: 2, hitCost: 10, walkAccess: 100 });
 * console.assert(mmu.translate(0x1000) === 410); // miss: lookup + 4-level walk
 * console.assert(mmu.translate(0x1800) === 10); // same page: hit
 * ```
 */
export class Iommu {
  /** IOTLB capacity, translations (0: every translation misses). */
  readonly entries: number;
  /** IOTLB lookup paid by every translation, ns. */
  readonly hitCost: SimTime;
  /** One paging-structure read on a miss, ns. */
  readonly walkAccess: SimTime;
  /** Paging-structure levels walked on a miss (VT-d §3.6). */
  readonly pageWalkLevels: number;
  /** Page size of the I/O page tables, bytes: one IOTLB entry covers one page. */
  readonly pageBytes: number;
  /** Counters since creation or the last {@link resetStats}. */
  readonly stats: IommuStats = { translations: 0, hits: 0, misses: 0, time: 0 };
  #tlb = new Map<number, true>();

  /** Creates a unit with an empty IOTLB. @throws RangeError on bad sizes or costs. */
  constructor(options: IommuOptions) {
    const { entries, hitCost, walkAccess, pageWalkLevels = 4, pageBytes = 4096 } = options;
    const what = "create IOMMU";
    requireNumber(what, "entries", entries, { integer: true, min: 0 });
    requireNumber(what, "hitCost", hitCost, { integer: true, min: 0 });
    requireNumber(what, "walkAccess", walkAccess, { integer: true, min: 0 });
    requireNumber(what, "pageWalkLevels", pageWalkLevels, { integer: true, min: 1 });
    requireNumber(what, "pageBytes", pageBytes, { integer: true, min: 4096 });
    if ((pageBytes & (pageBytes - 1)) !== 0) {
      throw rangeError(what, "pageBytes", "a power of two", pageBytes);
    }
    this.entries = entries;
    this.hitCost = hitCost;
    this.walkAccess = walkAccess;
    this.pageWalkLevels = pageWalkLevels;
    this.pageBytes = pageBytes;
  }

  /** Extra time of a miss: the page walk, ns. */
  get missCost(): SimTime {
    return this.pageWalkLevels * this.walkAccess;
  }

  /** Translates one DMA address; returns its cost and updates the IOTLB. */
  translate(iova: number): SimTime {
    const page = Math.floor(iova / this.pageBytes);
    const st = this.stats;
    st.translations++;
    let cost = this.hitCost;
    if (this.#tlb.delete(page)) st.hits++;
    else {
      st.misses++;
      cost += this.missCost;
    }
    if (this.entries > 0) {
      this.#tlb.set(page, true);
      if (this.#tlb.size > this.entries) this.#tlb.delete(this.#tlb.keys().next().value!);
    }
    st.time += cost;
    return cost;
  }

  /** Drops every cached translation (global IOTLB invalidation, §6.5). */
  invalidate(): void {
    this.#tlb.clear();
  }

  /** Zeroes the counters (e.g. after a warm-up). */
  resetStats(): void {
    Object.assign(this.stats, { translations: 0, hits: 0, misses: 0, time: 0 });
  }
}

/** Where the RDMA benchmark's DMAs land in I/O virtual addresses (guest-physical under VT-d). */
export interface RdmaDmaLayout {
  /** Send queue ring and its WQEs. */
  sqBase: number;
  /** Send queue entries; WQE addresses wrap after this many. @default 128 */
  sqDepth?: number;
  /** Size of one WQE, bytes. @default 64 */
  wqeBytes?: number;
  /** Registered buffer: payload source and RDMA write target. */
  bufferBase: number;
  /** Completion queue ring (used when completion is "cq"). @default sqBase + 1 MiB */
  cqBase?: number;
  /** Completion queue entries; CQE addresses wrap after this many. @default 128 */
  cqDepth?: number;
  /** Size of one CQE, bytes. @default 64 */
  cqeBytes?: number;
  /** DMAs of other traffic between two iterations, each to a page not seen for long (other queues and devices sharing the IOTLB). @default 0 */
  interferencePages?: number;
  /** Where that traffic goes (a region cycled through page by page). @default 1 GiB */
  interferenceBase?: number;
}

/** How the HCA moves one RDMA write (the matching Hca options). */
export interface RdmaDmaPath {
  /** The HCA fetches WQEs by DMA. */
  wqeFetch: boolean;
  /** Payload inline in the WQE (no payload DMA). */
  inline: boolean;
  /** "memory": the receiver polls the data buffer; "cq": the HCA also DMAs a CQE. */
  completion: "memory" | "cq";
}

/**
 * DMA addresses one host's HCA touches in `iterations` of an RDMA write
 * ping-pong: as sender (WQE fetch, payload) and as receiver (data write,
 * CQE), plus interfering DMAs. Counted DMAs match what the HCA charges.
 * @example
 * ```ts
 * import { rdmaDmaTrace } from "./passthrough.ts";
 * const t = rdmaDmaTrace({ wqeFetch: true, inline: true, completion: "memory" }, { sqBase: 0, bufferBase: 0x10000 }, 2);
 * console.assert(t.join() === [0, 0x10000, 64, 0x10000].join());
 * ```
 */
export function rdmaDmaTrace(
  path: RdmaDmaPath,
  layout: RdmaDmaLayout,
  iterations: number,
): number[] {
  const {
    sqBase,
    sqDepth = 128,
    wqeBytes = 64,
    bufferBase,
    cqBase = sqBase + (1 << 20),
    cqDepth = 128,
    cqeBytes = 64,
    interferencePages = 0,
    interferenceBase = 1 << 30,
  } = layout;
  const what = "trace RDMA DMAs";
  for (const [k, v] of Object.entries({ sqBase, bufferBase, cqBase, interferenceBase })) {
    requireNumber(what, k, v, { integer: true, min: 0 });
  }
  for (const [k, v] of Object.entries({ sqDepth, wqeBytes, cqDepth, cqeBytes })) {
    requireNumber(what, k, v, { integer: true, min: 1 });
  }
  requireNumber(what, "interferencePages", interferencePages, { integer: true, min: 0 });
  requireNumber(what, "iterations", iterations, { integer: true, min: 0 });
  const out: number[] = [];
  let other = 0;
  for (let i = 0; i < iterations; i++) {
    if (path.wqeFetch) out.push(sqBase + (i % sqDepth) * wqeBytes);
    if (!path.inline) out.push(bufferBase);
    out.push(bufferBase);
    if (path.completion === "cq") out.push(cqBase + (i % cqDepth) * cqeBytes);
    for (let k = 0; k < interferencePages; k++) out.push(interferenceBase + 4096 * other++);
  }
  return out;
}

/** Options of {@link assignHca}. */
export interface AssignHcaOptions {
  /** VM the HCA is assigned to; its EPT and background exits slow the poll loop. */
  vm: KvmVm;
  /** vCPU that posts work and polls. @default 0 */
  vcpu?: number;
  /** Remapping unit the DMA stream is replayed through (its IOTLB state carries over). */
  iommu: Iommu;
  /** How the HCA moves one RDMA write (must match the Hca's options). */
  path: RdmaDmaPath;
  /** Where the benchmark's DMAs land in guest-physical addresses. */
  layout: RdmaDmaLayout;
  /** Poll loop period on bare metal, ns (the Hca's pollPeriod). */
  pollPeriod: SimTime;
  /** Memory-bound fraction of the poll loop (pays EPT). @default 1 */
  pollMemoryBound?: number;
  /** Iterations replayed to warm the IOTLB before measuring. @default 1000 */
  warmup?: number;
  /** Iterations replayed and measured after the warm-up. @default 1000 */
  rounds?: number;
}

/** What {@link assignHca} found, and the Hca options that carry it. */
export interface HcaAssignment {
  /** Misses per HCA DMA in steady state. */
  missRatio: number;
  /** Mean translation cost per HCA DMA (lookup and walks), ns. */
  costPerDma: SimTime;
  /** Poll period on the vCPU, ns. */
  pollPeriod: SimTime;
  /**
   * Options to pass to the Hca. It charges `missRatio x iotlbMissCost` per
   * DMA; the IOTLB model's mean cost is handed over as a certain cost so that
   * lookups on hits are charged too (see `missRatio` above for the ratio).
   */
  hcaOptions: {
    iommu: { enabled: true; iotlbMissCost: SimTime; missRatio: number };
    pollPeriod: SimTime;
  };
}

/**
 * Assigns the HCA to `vm` with VT-d: replays the HCA's DMA stream through
 * the IOTLB and derives the per-DMA translation cost and the vCPU's poll
 * period. Non-HCA DMA (other interfering traffic) only evicts entries.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { Cpu } from "../hw/mod.ts";
 * import { KvmHost } from "./kvm_host.ts";
 * import { assignHca, Iommu } from "./passthrough.ts";
 * const costs = { vmExit: 500, vmEntry: 400, mmioRead: 800, mmioWrite: 150, eptOverhead: 0.2, ipi: 1000, tlbFlush: 2000 };
 * const host = new KvmHost({ sim: new Simulation(), cpus: [new Cpu(0, costs)], hostOsBoot: 0 });
 * const vm = host.createVm({ vmmStart: 0, guestFirmware: 0, exitHandlers: {} });
 * const a = assignHca({ vm, iommu: new Iommu({ entries: 64, hitCost: 0, walkAccess: 90 }),
 *   path: { wqeFetch: true, inline: true, completion: "memory" },
 *   layout: { sqBase: 0x100000, bufferBase: 0x200000 }, pollPeriod: 50 });
 * console.assert(a.missRatio === 0 && a.pollPeriod === 60);
 * ```
 */
export function assignHca(options: AssignHcaOptions): HcaAssignment {
  const {
    vm,
    vcpu = 0,
    iommu,
    path,
    layout,
    pollPeriod,
    pollMemoryBound = 1,
    warmup = 1000,
    rounds = 1000,
  } = options;
  const what = "assign HCA";
  requireNumber(what, "pollPeriod", pollPeriod, { integer: true, min: 0 });
  requireNumber(what, "pollMemoryBound", pollMemoryBound, { min: 0 });
  if (pollMemoryBound > 1) throw rangeError(what, "pollMemoryBound", "in [0, 1]", pollMemoryBound);
  requireNumber(what, "warmup", warmup, { integer: true, min: 0 });
  requireNumber(what, "rounds", rounds, { integer: true, min: 1 });
  const cpu = vm.vcpus[vcpu];
  if (cpu === undefined) throw rangeError(what, "vcpu", `in [0, ${vm.vcpus.length - 1}]`, vcpu);

  const trace = rdmaDmaTrace(path, layout, warmup + rounds);
  const perIteration = trace.length / (warmup + rounds);
  const interference = layout.interferencePages ?? 0;
  const hcaDmas = perIteration - interference;
  let misses = 0, time = 0, dmas = 0;
  for (let i = 0; i < trace.length; i++) {
    const before = iommu.stats.misses;
    const cost = iommu.translate(trace[i]);
    const measured = i >= warmup * perIteration;
    if (measured && i % perIteration < hcaDmas) {
      dmas++;
      time += cost;
      misses += iommu.stats.misses - before;
    }
  }
  const costPerDma = Math.round(time / dmas);
  const ept = vm.ept ? 1 + cpu.costs.eptOverhead * pollMemoryBound : 1;
  const vPoll = Math.round((pollPeriod * ept) / (1 - vm.stealFraction(vcpu)));
  return {
    missRatio: misses / dmas,
    costPerDma,
    pollPeriod: vPoll,
    hcaOptions: {
      iommu: { enabled: true, iotlbMissCost: costPerDma, missRatio: 1 },
      pollPeriod: vPoll,
    },
  };
}
