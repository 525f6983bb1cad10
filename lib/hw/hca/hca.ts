/**
 * An InfiniBand HCA (Mellanox ConnectX QDR class) with an additive RDMA
 * write latency model. The one-way latency of an RDMA write, from the
 * doorbell store to the target CPU seeing the data, is the sum of explicit
 * parts, each an option with a public source:
 *
 * | part            | what happens                                              |
 * |-----------------|-----------------------------------------------------------|
 * | doorbell        | posted MMIO write crosses PCIe to the HCA (half a round trip) |
 * | wqeFetch        | HCA DMA-reads the work request (a PCIe round trip; 0 with BlueFlame) |
 * | payloadFetch    | HCA DMA-reads the payload (0 when inline, as ib_write_lat sends small messages) |
 * | txProcessing    | send pipeline inside the HCA                              |
 * | wire            | serialization + cables + switches (from the fabric)       |
 * | rxProcessing    | receive pipeline inside the target HCA                    |
 * | remoteWrite     | posted DMA write of the data into target memory (half a round trip) |
 * | completionDma   | CQE DMA write (half a round trip) when completion is by CQ |
 * | polling         | mean detection delay of a CPU poll loop: half its period  |
 * | iommu           | VT-d translation per DMA when the device is assigned to a VM |
 *
 * The doorbell goes through {@link Cpu.mmio}, so a VMM may trap it; the
 * device acts when the write reaches it on the bus. Reliable-connection
 * ACKs and the initiator's own completion are off the measured path and not
 * modelled; neither are QP state, memory registration or retransmission.
 */
import {
  type FieldIssue,
  fieldIssue,
  issuesError,
  numberIssue,
  rangeError,
  requireNumber,
  unknownKeyIssues,
  withDefaults,
} from "../../_util/mod.ts";
import type { Bytes, Gpa, SimTime } from "../../_util/mod.ts";
import type { InfinibandFabric, Packet } from "../../net/mod.ts";
import { type Process, type ProcessGenerator, Store } from "../../sim/mod.ts";
import type { Cpu } from "../cpu.ts";
import type { AccessSize, BusDevice, MmioBus } from "../mmio.ts";
import { UAR_SIZE, UarReg } from "./registers.ts";

/** VT-d translation cost of one DMA. */
export interface IommuOptions {
  /** The HCA is assigned to a VM and its DMAs are translated. */
  enabled: boolean;
  /** IOTLB miss: a 4-level I/O page walk (Intel VT-d spec §3.6), a few memory reads, ns. @default 300 */
  iotlbMissCost?: SimTime;
  /** Fraction of DMAs that miss the IOTLB (0..1). @default 1 (pessimistic; the profile's infiniband.iommuMissRatio) */
  missRatio?: number;
}

/** How the target learns the write landed. */
export type CompletionMode = "memory" | "cq";

/** Latency options of {@link Hca}; each default cites where it comes from. */
export interface HcaLatencyOptions {
  /**
   * PCIe round trip between the HCA and host memory, ns. Measured DMA read
   * latency on Gen2/Gen3 x8 hosts is 400-600 ns (Neugebauer et al., "Understanding
   * PCIe performance for end host networking", SIGCOMM 2018). @default 500
   */
  pcieRoundTrip?: SimTime;
  /** Send pipeline inside the HCA, ns. No public per-stage figure; left to fitting. @default 0 */
  txProcessing?: SimTime;
  /** Receive pipeline inside the HCA, ns. No public per-stage figure; left to fitting. @default 0 */
  rxProcessing?: SimTime;
  /** The HCA fetches the WQE by DMA (false: BlueFlame writes it with the doorbell). @default true */
  wqeFetch?: boolean;
  /** The payload travels inside the WQE (no payload DMA read). perftest inlines small writes. @default true */
  inline?: boolean;
  /** "memory": the target polls the data buffer (ib_write_lat); "cq": it polls a CQE the HCA writes after the data. @default "memory" */
  completion?: CompletionMode;
  /** Period of the target CPU's poll loop, ns; it notices after half a period on average. @default 50 */
  pollPeriod?: SimTime;
  /** VT-d translation. @default { enabled: false } */
  iommu?: IommuOptions;
}

/** Each latency option's default (their sources: {@link HcaLatencyOptions}, {@link IommuOptions}). */
export const HCA_LATENCY_DEFAULTS: Readonly<Required<HcaLatencyOptions>> = {
  pcieRoundTrip: 500,
  txProcessing: 0,
  rxProcessing: 0,
  wqeFetch: true,
  inline: true,
  completion: "memory",
  pollPeriod: 50,
  iommu: { enabled: false },
};
const IOMMU_DEFAULTS: Required<IommuOptions> = { enabled: false, iotlbMissCost: 300, missRatio: 1 };
/** The options of {@link IommuOptions}, in order. */
const IOMMU_OPTIONS = Object.keys(IOMMU_DEFAULTS) as readonly (keyof IommuOptions)[];

/**
 * The options of {@link HcaLatencyOptions}, in order.
 * @example
 * ```ts
 * import { HCA_LATENCY_OPTIONS } from "./hca.ts";
 * console.assert(HCA_LATENCY_OPTIONS.includes("pollPeriod"));
 * ```
 */
export const HCA_LATENCY_OPTIONS = Object.keys(
  HCA_LATENCY_DEFAULTS,
) as readonly (keyof HcaLatencyOptions)[];

/** The latency options with each default filled in, the IOMMU's too. */
function latencySettings(
  options: HcaLatencyOptions,
): Required<HcaLatencyOptions> & { iommu: Required<IommuOptions> } {
  const o = withDefaults(options, HCA_LATENCY_DEFAULTS);
  return { ...o, iommu: withDefaults(o.iommu ?? {}, IOMMU_DEFAULTS) };
}

/**
 * Every problem with an HCA's latency options ({@link Hca} rejects them), the
 * defaults filled in. A profile checks its values with it before any run.
 * @example
 * ```ts
 * import { hcaLatencyIssues } from "./hca.ts";
 * const [issue] = hcaLatencyIssues({ pollPeriod: 1.5 });
 * console.assert(issue.field === "pollPeriod" && issue.message === "must be an integer >= 0: current value is 1.5");
 * console.assert(hcaLatencyIssues({ completion: "cq", iommu: { enabled: true, missRatio: 0.5 } }).length === 0);
 * // A misspelt IOMMU option would leave its default in place: it is named.
 * const [typo] = hcaLatencyIssues({ iommu: { enabled: true, missratio: 0.5 } as never });
 * console.assert(typo.field === "iommu.missratio");
 * ```
 */
export function hcaLatencyIssues(options: HcaLatencyOptions): FieldIssue[] {
  const o = latencySettings(options);
  const { pcieRoundTrip, txProcessing, rxProcessing, wqeFetch, inline, completion, pollPeriod } = o;
  const { iotlbMissCost, missRatio } = o.iommu;
  const issues: (FieldIssue | undefined)[] = [
    ...unknownKeyIssues(options, HCA_LATENCY_OPTIONS),
  ];
  const iommu: unknown = options.iommu;
  if (
    iommu !== undefined && (typeof iommu !== "object" || iommu === null || Array.isArray(iommu))
  ) {
    issues.push(fieldIssue("iommu", `an object with ${IOMMU_OPTIONS.join(", ")}`, iommu));
  } else {
    issues.push(...unknownKeyIssues(iommu as object | undefined, IOMMU_OPTIONS, "iommu."));
  }
  for (const [k, v] of Object.entries({ pcieRoundTrip, txProcessing, rxProcessing, pollPeriod })) {
    issues.push(numberIssue(k, v, { integer: true, min: 0 }));
  }
  for (const [k, v] of Object.entries({ wqeFetch, inline })) {
    if (typeof v !== "boolean") issues.push(fieldIssue(k, "true or false", v));
  }
  if (completion !== "memory" && completion !== "cq") {
    issues.push(fieldIssue("completion", '"memory" or "cq"', completion));
  }
  if (typeof o.iommu.enabled !== "boolean") {
    issues.push(fieldIssue("iommu.enabled", "true or false", o.iommu.enabled));
  }
  issues.push(numberIssue("iommu.iotlbMissCost", iotlbMissCost, { integer: true, min: 0 }));
  const ratio = numberIssue("iommu.missRatio", missRatio, { min: 0 });
  issues.push(
    ratio ?? (missRatio > 1 ? fieldIssue("iommu.missRatio", "in [0, 1]", missRatio) : undefined),
  );
  return issues.filter((i) => i !== undefined);
}

/** Options of {@link Hca}. */
export interface HcaOptions extends HcaLatencyOptions {
  /** Device label (bus mapping, process names, error messages). */
  name: string;
  /** InfiniBand fabric the HCA's port is attached to. */
  fabric: InfinibandFabric;
  /** Fabric node of this HCA's port. */
  port: string;
  /** Bus the UAR page is mapped on, and its address. */
  bus: MmioBus;
  /** Guest-physical base address of the UAR page on `bus`. */
  base: Gpa;
  /** CPU that posts work requests and polls on this HCA's host. */
  cpu: Cpu;
}

/** The parts of a one-way RDMA write latency, ns. `total` is their sum. */
export interface RdmaLatencyParts {
  /** Posted doorbell write crossing PCIe to the HCA: half a PCIe round trip. */
  doorbell: SimTime;
  /** DMA read of the work request: one PCIe round trip, 0 with BlueFlame. */
  wqeFetch: SimTime;
  /** DMA read of the payload: one PCIe round trip, 0 when inline. */
  payloadFetch: SimTime;
  /** Send pipeline inside the initiator HCA. */
  txProcessing: SimTime;
  /** Serialization, cables and switches, from the fabric. */
  wire: SimTime;
  /** Receive pipeline inside the target HCA. */
  rxProcessing: SimTime;
  /** Posted DMA write of the data into target memory: half the target's PCIe round trip. */
  remoteWrite: SimTime;
  /** CQE DMA write at the target (half a round trip) with "cq" completion, else 0. */
  completionDma: SimTime;
  /** Mean detection delay of the target's poll loop: half its period. */
  polling: SimTime;
  /** VT-d translation of every DMA on both sides (expected value). */
  iommu: SimTime;
  /** Sum of all the parts above. */
  total: SimTime;
}

/**
 * What a ping-pong measured: each iteration's half round trip. The summary
 * is ib_write_lat's, computed in one place from these samples (lib/workload's
 * `rdmaWriteLatency`: perftest's dropped samples, typical and average).
 */
export interface PingPongResult {
  /** Half of each iteration's round trip, in iteration order, ns. */
  halfRtt: SimTime[];
}

/** Counters. */
export interface HcaStats {
  /** Send doorbells received (UAR SEND_DOORBELL writes), spurious ones included. */
  doorbells: number;
  /** Doorbells with no posted work request (guest misbehaviour; ignored like the HCA does). */
  spuriousDoorbells: number;
  /** CQ doorbells received (UAR CQ_DOORBELL writes). */
  cqArms: number;
  /** RDMA writes this HCA put on the fabric. */
  writesSent: number;
  /** RDMA writes that arrived and became visible in this host's memory. */
  writesReceived: number;
  /** DMAs between this HCA and host memory (WQE, payload, data, CQE). */
  dmas: number;
}

interface Wqe {
  target: string;
  bytes: Bytes;
}

interface Arrival {
  from: string;
  bytes: Bytes;
  at: SimTime;
}

const RDMA_PORT = "rdma";

/**
 * An HCA on a fabric port with its UAR page on a bus.
 * @example
 * ```ts
 * import { Simulation } from "../../sim/mod.ts";
 * import { InfinibandFabric } from "../../net/mod.ts";
 * import { Cpu } from "../cpu.ts";
 * import { MmioBus } from "../mmio.ts";
 * import { Hca } from "./hca.ts";
 * const sim = new Simulation();
 * const ib = new InfinibandFabric(sim);
 * ib.addSwitch("sw");
 * const costs = { vmExit: 0, vmEntry: 0, mmioRead: 500, mmioWrite: 100, eptOverhead: 0, ipi: 0, tlbFlush: 0 };
 * const hcas = ["a", "b"].map((n) => {
 *   ib.addHca(n);
 *   ib.connect({ a: n, b: "sw", meters: 2 });
 *   return new Hca({ name: n, fabric: ib, port: n, bus: new MmioBus(), base: 0xf000_0000, cpu: new Cpu(0, costs) });
 * });
 * const lat = hcas[0].rdmaWriteLatency(hcas[1], 2);
 * const p = hcas[0].pingPong({ peer: hcas[1], iterations: 10, bytes: 2 });
 * sim.run();
 * console.assert(p.value.halfRtt.length === 10 && p.value.halfRtt.every((t) => t === lat.total));
 * ```
 */
export class Hca implements BusDevice {
  /** Device label (bus mapping, process names, error messages). */
  readonly name: string;
  /** InfiniBand fabric the HCA's port is attached to. */
  readonly fabric: InfinibandFabric;
  /** Fabric node of this HCA's port. */
  readonly port: string;
  /** Bus the UAR page is mapped on. */
  readonly bus: MmioBus;
  /** Guest-physical base address of the UAR page. */
  readonly base: Gpa;
  /** CPU that posts work and polls for this HCA's host. */
  readonly cpu: Cpu;
  /** PCIe round trip between the HCA and host memory, ns. */
  readonly pcieRoundTrip: SimTime;
  /** Send pipeline inside the HCA, ns. */
  readonly txProcessing: SimTime;
  /** Receive pipeline inside the HCA, ns. */
  readonly rxProcessing: SimTime;
  /** The HCA fetches each WQE by DMA (false: BlueFlame). */
  readonly wqeFetch: boolean;
  /** The payload travels inside the WQE (no payload DMA read). */
  readonly inline: boolean;
  /** How software on this host learns that an incoming write landed. */
  readonly completion: CompletionMode;
  /** Period of this host's poll loop, ns. */
  readonly pollPeriod: SimTime;
  /** VT-d translation settings with defaults filled in. */
  readonly iommu: Readonly<Required<IommuOptions>>;
  /** Doorbell, RDMA write and DMA counters since creation. */
  readonly stats: HcaStats = {
    doorbells: 0,
    spuriousDoorbells: 0,
    cqArms: 0,
    writesSent: 0,
    writesReceived: 0,
    dmas: 0,
  };
  #sq: Wqe[] = [];
  #arrivals: Store<Arrival>;

  /**
   * Creates the HCA, maps its UAR page on `options.bus` at `options.base` and
   * listens for RDMA writes on its fabric port.
   * @param options Fabric port, bus placement, CPU and latency parts (validated).
   */
  constructor(options: HcaOptions) {
    const { name, fabric, port, bus, base, cpu, ...latency } = options;
    fabric.network.node(port);
    const issues = hcaLatencyIssues(latency);
    if (issues.length > 0) throw issuesError(`create HCA '${name}'`, issues);
    const o = latencySettings(latency);
    this.name = name;
    this.fabric = fabric;
    this.port = port;
    this.bus = bus;
    this.base = base;
    this.cpu = cpu;
    this.pcieRoundTrip = o.pcieRoundTrip;
    this.txProcessing = o.txProcessing;
    this.rxProcessing = o.rxProcessing;
    this.wqeFetch = o.wqeFetch;
    this.inline = o.inline;
    this.completion = o.completion;
    this.pollPeriod = o.pollPeriod;
    this.iommu = { ...o.iommu };
    this.#arrivals = new Store<Arrival>(fabric.sim);
    bus.map({ base, size: UAR_SIZE, name, device: this });
    fabric.listen(port, RDMA_PORT, (p) => this.#arrive(p));
  }

  /** VT-d cost added to each DMA of this HCA, ns (expected value). */
  get iommuCostPerDma(): SimTime {
    return this.iommu.enabled ? Math.round(this.iommu.missRatio * this.iommu.iotlbMissCost) : 0;
  }

  /** Mean delay for a poll loop to notice an event, ns. */
  get pollDelay(): SimTime {
    return Math.round(this.pollPeriod / 2);
  }

  /** Time from the doorbell reaching the bus to the first byte leaving this HCA, ns, and its DMA count. */
  #sendSide(): { time: SimTime; dmas: number } {
    const half = Math.round(this.pcieRoundTrip / 2);
    const dmas = (this.wqeFetch ? 1 : 0) + (this.inline ? 0 : 1);
    const time = half + dmas * (this.pcieRoundTrip + this.iommuCostPerDma) + this.txProcessing;
    return { time, dmas };
  }

  /** Time from the last byte arriving to the data (or CQE) being visible in this host's memory, ns. */
  #receiveSide(): { time: SimTime; dmas: number } {
    const half = Math.round(this.pcieRoundTrip / 2);
    const dmas = this.completion === "cq" ? 2 : 1;
    return { time: this.rxProcessing + dmas * (half + this.iommuCostPerDma), dmas };
  }

  /**
   * One-way latency of an RDMA write of `bytes` to `target` on an idle
   * fabric, as the sum of its parts.
   */
  rdmaWriteLatency(target: Hca, bytes: Bytes): RdmaLatencyParts {
    const half = Math.round(this.pcieRoundTrip / 2);
    const tHalf = Math.round(target.pcieRoundTrip / 2);
    const parts = {
      doorbell: half,
      wqeFetch: this.wqeFetch ? this.pcieRoundTrip : 0,
      payloadFetch: this.inline ? 0 : this.pcieRoundTrip,
      txProcessing: this.txProcessing,
      wire: this.fabric.latency(this.port, target.port, bytes),
      rxProcessing: target.rxProcessing,
      remoteWrite: tHalf,
      completionDma: target.completion === "cq" ? tHalf : 0,
      polling: target.pollDelay,
      iommu: this.#sendSide().dmas * this.iommuCostPerDma +
        target.#receiveSide().dmas * target.iommuCostPerDma,
    };
    let total = 0;
    for (const v of Object.values(parts)) total += v;
    return { ...parts, total };
  }

  /**
   * Software side of an RDMA write: posts a WQE and rings the send doorbell
   * through `cpu.mmio` (trappable). Returns when the CPU is free again.
   * @throws RangeError at the call (before anything is posted) for bad
   * `bytes` or a `target` this HCA cannot reach.
   */
  postWrite(options: { target: Hca; bytes: Bytes; cpu?: Cpu }): ProcessGenerator<void> {
    const { target, bytes, cpu = this.cpu } = options;
    const what = `post RDMA write on '${this.name}'`;
    requireNumber(what, "bytes", bytes, { min: 0 });
    this.#requirePeer(what, "target", target);
    return this.#post(target, bytes, cpu);
  }

  *#post(target: Hca, bytes: Bytes, cpu: Cpu): ProcessGenerator<void> {
    this.#sq.push({ target: target.port, bytes });
    yield* cpu.mmio(this.fabric.sim, this.bus, {
      addr: this.base + UarReg.SEND_DOORBELL,
      size: 4,
      write: true,
      value: 1,
    });
  }

  /**
   * Software side of waiting for the next incoming write: the CPU polls and
   * notices it half a poll period (on average) after it became visible.
   * Returns the sender's port.
   */
  *awaitWrite(): ProcessGenerator<string> {
    const a = (yield this.#arrivals.get()) as Arrival;
    yield this.fabric.sim.timeout(this.pollDelay);
    return a.from;
  }

  /**
   * The ping-pong of perftest's ib_write_lat between this HCA and `peer`:
   * `iterations` round trips of `bytes`-byte RDMA writes; reports half of
   * each round trip (lib/workload's `rdmaWriteLatency` summarises them as
   * ib_write_lat does).
   */
  pingPong(options: { peer: Hca; iterations: number; bytes?: Bytes }): Process<PingPongResult> {
    const { peer, iterations, bytes = 2 } = options; // ib_write_lat's default size is 2 bytes
    const what = "run ping-pong";
    requireNumber(what, "iterations", iterations, { integer: true, min: 1 });
    requireNumber(what, "bytes", bytes, { min: 0 });
    // Checked here, not when a write is posted inside the processes, where it would stop the run.
    this.#requirePeer(what, "peer", peer);
    peer.#requirePeer(what, "peer", this);
    const sim = this.fabric.sim;
    sim.process(pong(peer, this, iterations, bytes), `${peer.name}:pong`);
    return sim.process(ping(this, peer, iterations, bytes), `${this.name}:ping`);
  }

  /**
   * Throws unless `other` is another HCA on this fabric that this one's port
   * reaches (a write to it would otherwise fail inside a scheduled callback).
   */
  #requirePeer(what: string, field: string, other: Hca): void {
    if (!(other instanceof Hca) || other === this) {
      throw rangeError(what, field, `an HCA other than '${this.name}'`, other?.name ?? other);
    }
    if (other.fabric !== this.fabric) {
      throw rangeError(what, field, `an HCA on the fabric of '${this.name}'`, other.name);
    }
    try {
      this.fabric.network.route(this.port, other.port);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      throw rangeError(what, field, `an HCA that '${this.name}' reaches over a cable`, other.name);
    }
  }

  read(_offset: number, _size: AccessSize): number {
    return 0; // UAR doorbells are write-only
  }

  write(offset: number, _size: AccessSize, _value: number): void {
    DOORBELLS[offset as UarReg]?.(this);
  }

  /** @internal Send doorbell: the HCA starts every posted WQE. */
  _ringSend(): void {
    this.stats.doorbells++;
    if (this.#sq.length === 0) {
      this.stats.spuriousDoorbells++;
      return;
    }
    const sim = this.fabric.sim;
    const { time, dmas } = this.#sendSide();
    for (const wqe of this.#sq.splice(0)) {
      this.stats.dmas += dmas;
      sim.call(time, () => {
        this.stats.writesSent++;
        this.fabric.send({
          from: this.port,
          to: wqe.target,
          port: RDMA_PORT,
          bytes: wqe.bytes,
          payload: wqe.bytes,
        });
      });
    }
  }

  /** @internal CQ doorbell: arming is counted (events are not modelled). */
  _armCq(): void {
    this.stats.cqArms++;
  }

  #arrive(p: Packet): void {
    const { time, dmas } = this.#receiveSide();
    this.stats.dmas += dmas;
    this.fabric.sim.call(time, () => {
      this.stats.writesReceived++;
      this.#arrivals.put({ from: p.from, bytes: p.payload as Bytes, at: this.fabric.sim.now });
    });
  }
}

/** Doorbell handlers by UAR offset; other offsets are ignored. */
const DOORBELLS: Partial<Record<UarReg, (h: Hca) => void>> = {
  [UarReg.SEND_DOORBELL]: (h) => h._ringSend(),
  [UarReg.CQ_DOORBELL]: (h) => h._armCq(),
};

function* ping(a: Hca, b: Hca, iterations: number, bytes: Bytes): ProcessGenerator<PingPongResult> {
  const sim = a.fabric.sim;
  const halfRtt: SimTime[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = sim.now;
    yield* a.postWrite({ target: b, bytes });
    yield* a.awaitWrite();
    halfRtt.push(Math.round((sim.now - t0) / 2));
  }
  return { halfRtt };
}

function* pong(b: Hca, a: Hca, iterations: number, bytes: Bytes): ProcessGenerator<void> {
  for (let i = 0; i < iterations; i++) {
    yield* b.awaitWrite();
    yield* b.postWrite({ target: a, bytes });
  }
}
