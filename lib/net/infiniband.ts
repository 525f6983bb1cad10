/**
 * An InfiniBand fabric as its own link model: links run at the data rate
 * left after line coding (4X QDR: 4 lanes x 10 Gb/s signalling, 8b/10b, so
 * 32 Gb/s = 4 GB/s of data), switches forward cut-through with a fixed
 * latency, cables add propagation delay, and every packet carries the
 * transport headers (IBA spec vol. 1, ch. 5 and 9: LRH 8, BTH 12, ICRC 4,
 * VCRC 2 bytes, plus a 16-byte RETH on the first packet of an RDMA write).
 * Credit-based flow control and virtual lanes are not modelled.
 */
import {
  type FieldIssue,
  fieldIssue,
  issuesError,
  numberIssue,
  requireNumber,
  unknownKeyIssues,
  withDefaults,
} from "../_util/mod.ts";
import type { Bytes, SimTime } from "../_util/mod.ts";
import type { Flow, Simulation } from "../sim/mod.ts";
import { type NetNode, Network, type PacketHandler } from "./network.ts";

/** Options of {@link InfinibandFabric}; every default cites its source. */
export interface InfinibandOptions {
  /** Lanes per port. IBA vol. 2: 4X ports. @default 4 */
  lanes?: number;
  /** Signalling rate per lane, bits/s. QDR = 10 Gb/s (IBA vol. 2, release 1.2.1). @default 10e9 */
  laneRate?: number;
  /** Data bits per line bit: 8b/10b for SDR/DDR/QDR = 0.8 (64b/66b from FDR on). @default 0.8 */
  encodingEfficiency?: number;
  /**
   * Port-to-port switch latency, ns. Mellanox QDR switch silicon (InfiniScale IV,
   * IS5000-series product briefs) quotes about 100 ns. @default 100
   */
  switchLatency?: SimTime;
  /** Cable propagation, ns per metre (copper/fibre ~0.66-0.7 c, about 5 ns/m). @default 5 */
  propagationPerMeter?: number;
  /**
   * Path MTU, bytes: 256, 512, 1024, 2048 or 4096, the only MTUs InfiniBand
   * defines (IBA spec vol. 1, PortInfo MTUCap/NeighborMTU encoding 1-5). 2048
   * is the OpenSM/ConnectX default active MTU. @default 2048
   */
  mtu?: Bytes;
  /** Headers per packet: LRH 8 + BTH 12 + ICRC 4 + VCRC 2. @default 26 */
  packetOverhead?: Bytes;
  /** Extra header on the first packet of an RDMA write (RETH). @default 16 */
  firstPacketOverhead?: Bytes;
}

/** Each option's default (their sources: {@link InfinibandOptions}). */
const FABRIC_DEFAULTS: Required<InfinibandOptions> = {
  lanes: 4,
  laneRate: 10e9,
  encodingEfficiency: 0.8,
  switchLatency: 100,
  propagationPerMeter: 5,
  mtu: 2048,
  packetOverhead: 26,
  firstPacketOverhead: 16,
};

/** The path MTUs InfiniBand defines, bytes (IBA spec vol. 1, PortInfo MTU encoding 1-5). */
const INFINIBAND_MTUS: readonly Bytes[] = [256, 512, 1024, 2048, 4096];

/**
 * The options of {@link InfinibandOptions}, in order.
 * @example
 * ```ts
 * import { INFINIBAND_OPTIONS } from "./infiniband.ts";
 * console.assert(INFINIBAND_OPTIONS.includes("switchLatency"));
 * ```
 */
export const INFINIBAND_OPTIONS = Object.keys(
  FABRIC_DEFAULTS,
) as readonly (keyof InfinibandOptions)[];

/**
 * Every problem with a fabric's options ({@link InfinibandFabric} rejects
 * them), the defaults filled in. A profile checks its values with it before any run.
 * @example
 * ```ts
 * import { infinibandIssues } from "./infiniband.ts";
 * const [issue] = infinibandIssues({ encodingEfficiency: 1.25 });
 * console.assert(issue.field === "encodingEfficiency" && issue.message.startsWith("must be in (0, 1]"));
 * console.assert(infinibandIssues({}).length === 0);
 * ```
 */
export function infinibandIssues(options: InfinibandOptions): FieldIssue[] {
  const o = withDefaults(options, FABRIC_DEFAULTS);
  const efficiency = numberIssue("encodingEfficiency", o.encodingEfficiency, {
    min: 0,
    strict: true,
  });
  return [
    ...unknownKeyIssues(options, INFINIBAND_OPTIONS),
    numberIssue("lanes", o.lanes, { integer: true, min: 1 }),
    numberIssue("laneRate", o.laneRate, { min: 0, strict: true }),
    efficiency ??
      (o.encodingEfficiency > 1
        ? fieldIssue("encodingEfficiency", "in (0, 1]", o.encodingEfficiency)
        : undefined),
    numberIssue("switchLatency", o.switchLatency, { integer: true, min: 0 }),
    numberIssue("propagationPerMeter", o.propagationPerMeter, { min: 0 }),
    INFINIBAND_MTUS.includes(o.mtu)
      ? undefined
      : fieldIssue("mtu", `one of ${INFINIBAND_MTUS.join(", ")}`, o.mtu),
    numberIssue("packetOverhead", o.packetOverhead, { integer: true, min: 0 }),
    numberIssue("firstPacketOverhead", o.firstPacketOverhead, { integer: true, min: 0 }),
  ].filter((i) => i !== undefined);
}

/**
 * Every problem with a cable ({@link InfinibandFabric.connect} rejects it):
 * its length must be a finite number of metres >= 0.
 * @example
 * ```ts
 * import { cableIssues } from "./infiniband.ts";
 * console.assert(cableIssues({ meters: -1 })[0].field === "meters" && cableIssues({ meters: 2 }).length === 0);
 * ```
 */
export function cableIssues(options: { meters: number }): FieldIssue[] {
  const issue = numberIssue("meters", options.meters, { min: 0 });
  return issue === undefined ? [] : [issue];
}

/**
 * A switched InfiniBand fabric.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { InfinibandFabric } from "./infiniband.ts";
 * const ib = new InfinibandFabric(new Simulation());
 * ib.addSwitch("sw");
 * ib.addHca("a");
 * ib.addHca("b");
 * ib.connect({ a: "a", b: "sw", meters: 2 });
 * ib.connect({ a: "b", b: "sw", meters: 2 });
 * console.assert(ib.dataRate === 4e9);
 * // 8-byte RDMA write: 50 bytes at 4 GB/s (12.5 ns) + 2 x 10 ns cable + 100 ns switch.
 * console.assert(ib.latency("a", "b", 8) === 133);
 * ```
 */
export class InfinibandFabric {
  /** The switched network holding the fabric's nodes and links (flows at `dataRate`). */
  readonly network: Network;
  /** Data rate of a link after line coding, bytes/s. */
  readonly dataRate: number;
  /** Port-to-port switch latency (cut-through), ns. */
  readonly switchLatency: SimTime;
  /** Cable propagation delay, ns per metre. */
  readonly propagationPerMeter: number;
  /** Path MTU: payload bytes per packet. */
  readonly mtu: Bytes;
  /** Header bytes per packet (LRH + BTH + ICRC + VCRC). */
  readonly packetOverhead: Bytes;
  /** Extra header bytes on the first packet of an RDMA write (RETH). */
  readonly firstPacketOverhead: Bytes;

  /** An empty fabric on `sim`; `options` are validated (defaults: 4X QDR). */
  constructor(readonly sim: Simulation, options: InfinibandOptions = {}) {
    const issues = infinibandIssues(options);
    if (issues.length > 0) throw issuesError("create InfiniBand fabric", issues);
    const o = withDefaults(options, FABRIC_DEFAULTS);
    this.network = new Network(sim);
    this.dataRate = (o.lanes * o.laneRate * o.encodingEfficiency) / 8;
    this.switchLatency = o.switchLatency;
    this.propagationPerMeter = o.propagationPerMeter;
    this.mtu = o.mtu;
    this.packetOverhead = o.packetOverhead;
    this.firstPacketOverhead = o.firstPacketOverhead;
  }

  /** Adds an HCA port (an end node). */
  addHca(name: string): NetNode {
    return this.network.addHost(name);
  }

  /** Adds a switch with the fabric's switch latency. */
  addSwitch(name: string): NetNode {
    return this.network.addSwitch({ name, latency: this.switchLatency });
  }

  /** Cables two nodes with a cable of `meters`. */
  connect(options: { a: string; b: string; meters: number }): void {
    const issues = cableIssues(options);
    if (issues.length > 0) throw issuesError(`connect '${options.a}' and '${options.b}'`, issues);
    this.network.connect({
      a: options.a,
      b: options.b,
      bandwidth: this.dataRate,
      latency: Math.round(options.meters * this.propagationPerMeter),
    });
  }

  /** Bytes on the wire for a message of `bytes` payload (packets of at most `mtu`). */
  packetBytes(bytes: Bytes): Bytes {
    requireNumber("size InfiniBand message", "bytes", bytes, { min: 0 });
    const packets = Math.max(1, Math.ceil(bytes / this.mtu));
    return bytes + packets * this.packetOverhead + this.firstPacketOverhead;
  }

  /** Serialization of a message at the data rate, ns. */
  serializationTime(bytes: Bytes): SimTime {
    return Math.ceil((this.packetBytes(bytes) / this.dataRate) * 1e9);
  }

  /**
   * One-way wire time on an idle fabric: serialization once (cut-through
   * switches pipeline it) plus propagation and switch latency along the route.
   */
  latency(from: string, to: string, bytes: Bytes): SimTime {
    return this.serializationTime(bytes) + this.network.pathLatency(from, to);
  }

  /** Moves a message as a flow (so concurrent transfers share links). */
  send<T>(options: { from: string; to: string; bytes: Bytes; port?: string; payload?: T }): Flow {
    return this.network.send({ ...options, bytes: this.packetBytes(options.bytes) });
  }

  /** Registers a receiver at (`hca`, `port`). */
  listen(hca: string, port: string, handler: PacketHandler): () => void {
    return this.network.listen(hca, port, handler);
  }
}
