/**
 * InfiniBand RDMA latency of a system (the paper's Fig. RDMA): two nodes of
 * a world get a QDR HCA each (UAR page on the node's MMIO bus, work posted
 * and polled by one of the node's CPUs), cabled to one switch, and run
 * ib_write_lat between them. The system decides what lies under the HCA:
 *
 * | system     | under the HCA                                                    |
 * |------------|------------------------------------------------------------------|
 * | bare-metal | nothing: CPUs out of VMX                                         |
 * | deploy     | BMcast's VMM while it deploys: CPUs in non-root mode with EPT, the mediator hooks only the AHCI window, so the doorbell reaches the HCA untrapped |
 * | devirt     | BMcast after the copy finished and the VMM de-virtualized itself |
 * | kvm-pass   | KVM with the HCA assigned by VT-d: every HCA DMA is translated (IOTLB miss cost x miss ratio), the UAR is EPT-mapped (no exit), polling runs on a vCPU (EPT, timer exits) |
 *
 * Both nodes run the same system (ib_write_lat between two like machines).
 */
import type { SimTime } from "../_util/mod.ts";
import type { ProcessGenerator } from "../sim/mod.ts";
import {
  type Cpu,
  Hca,
  HCA_LATENCY_DEFAULTS,
  type HcaLatencyOptions,
  type RdmaLatencyParts,
} from "../hw/mod.ts";
import { InfinibandFabric, type InfinibandOptions } from "../net/mod.ts";
import {
  type CpuTime,
  type RdmaLatencyRow,
  rdmaOptions,
  rdmaWriteLatency,
} from "../workload/mod.ts";
import { startKvm } from "./kvm.ts";
import { bmcast } from "./strategies.ts";
import type { Node, World } from "./world.ts";

/** Systems of Fig. RDMA. */
export type RdmaSystem = "bare-metal" | "deploy" | "devirt" | "kvm-pass";

/** Physical address of each HCA's UAR page (a free window below the AHCI BAR). */
const HCA_UAR_BASE = 0xfb80_0000;
/**
 * CPU that runs ib_write_lat (pinned away from CPU 0, where the guest's disk
 * interrupts and BMcast's VMM timer land).
 */
export const RDMA_CPU = 1;
/** Guest time over which a VM's timer exits are averaged into its poll loop, ns. */
const POLL_WINDOW: SimTime = 1_000_000_000;

/** Options of {@link rdmaLatency}. */
export interface RdmaOptions {
  /** Ping-pong iterations. @default 1000 (ib_write_lat -n) */
  iterations?: number;
  /** Message size. @default 2 (ib_write_lat -s) */
  bytes?: number;
}

/** A node prepared for the benchmark: the CPU that posts and polls, and what the system adds to its HCA. */
export interface RdmaNode {
  /** The CPU (a vCPU under KVM) that posts the writes and polls for completions: {@link RDMA_CPU}. */
  cpu: Cpu;
  /** How the poll loop's time turns out on that CPU. */
  cpuTime: CpuTime;
  /** HCA options the system adds to the profile's (VT-d remapping under KVM pass-through; none otherwise). */
  hca: HcaLatencyOptions;
  /**
   * Timer exits per second of run time on `cpu`: a VM's timer ticks (KVM's
   * background exits), 0 outside a VM. The poll loop pays their time on
   * average (in its period), so the ping-pong never takes one; RdmaRun's
   * `timerExits` counts what they come to over the run.
   */
  timerExitsPerSecond: number;
}

/** What a run measured. */
export interface RdmaRun {
  /** The system both nodes ran. */
  system: RdmaSystem;
  /** ib_write_lat's summary (us). */
  latency: RdmaLatencyRow;
  /** The analytical one-way latency of the first HCA's write, by part (ns). */
  parts: RdmaLatencyParts;
  /** The two nodes' HCAs, first node first. */
  hcas: Hca[];
  /**
   * VM exits the benchmark CPUs took during the ping-pong: trapped accesses
   * (a doorbell a VMM hooks), 0 when nothing traps.
   */
  trappedExits: number;
  /**
   * Timer exits expected on the benchmark CPUs over the ping-pong: each
   * node's {@link RdmaNode.timerExitsPerSecond} times the ping-pong's run
   * time, summed (not rounded: their time is in the poll period on average,
   * so none is taken one by one).
   */
  timerExits: number;
  /** Poll-loop period on the benchmark CPU, ns. */
  pollPeriod: SimTime;
}

/** A fabric with one switch and an HCA on each of `nodes`. */
interface IbSetup {
  /** The InfiniBand fabric: one switch, each HCA cabled to it. */
  fabric: InfinibandFabric;
  /** One HCA per entry of `nodes`, in order. */
  hcas: Hca[];
}

/**
 * Cables an HCA of each node to one switch; `extra` adds a node's
 * system-specific HCA options (VT-d, poll period) to the profile's.
 */
function infiniband(
  w: World,
  nodes: readonly { node: Node; cpu: Cpu; extra?: HcaLatencyOptions }[],
): IbSetup {
  const { cableMeters, ...fabricOptions } = w.profile.infiniband.fabric.value;
  const fabric = new InfinibandFabric(w.sim, fabricOptions as InfinibandOptions);
  fabric.addSwitch("ib-switch");
  const hcaOptions = hcaLatencyOptions(w);
  const hcas = nodes.map(({ node, cpu, extra }) => {
    fabric.addHca(node.name);
    fabric.connect({ a: node.name, b: "ib-switch", meters: cableMeters });
    return new Hca({
      name: `${node.name}/hca`,
      fabric,
      port: node.name,
      bus: node.bus,
      base: HCA_UAR_BASE,
      cpu,
      ...hcaOptions,
      ...extra,
    });
  });
  return { fabric, hcas };
}

/** The profile's HCA options (without the deploy layer's own keys). */
function hcaLatencyOptions(w: World): HcaLatencyOptions {
  const { pollMemoryBound: _, ...o } = w.profile.infiniband.hca.value;
  return o as HcaLatencyOptions;
}

/** The poll loop's period on a CPU: bare-metal period through that CPU's time for guest work. */
function pollPeriod(w: World, p: RdmaNode): SimTime {
  // The HCA model's own default where the profile leaves it out (as the fabric's HCAs get it).
  const base = hcaLatencyOptions(w).pollPeriod ?? HCA_LATENCY_DEFAULTS.pollPeriod;
  const mb = w.profile.infiniband.hca.value.pollMemoryBound as number;
  return Math.round((base * p.cpuTime.computeTime(POLL_WINDOW, mb)) / POLL_WINDOW);
}

function* bareMetalNode(_w: World, node: Node): ProcessGenerator<RdmaNode> {
  yield* node.firmware.powerOn(); // the OS is installed; nothing runs under it
  const cpu = node.cpus[RDMA_CPU];
  return { cpu, cpuTime: cpu, hca: {}, timerExitsPerSecond: 0 };
}

function* deployNode(w: World, node: Node): ProcessGenerator<RdmaNode> {
  yield* node.firmware.powerOn();
  yield* bmcast(w, node); // returns with the OS up and the background copy still running
  const cpu = node.cpus[RDMA_CPU];
  return { cpu, cpuTime: cpu, hca: {}, timerExitsPerSecond: 0 };
}

function* devirtNode(w: World, node: Node): ProcessGenerator<RdmaNode> {
  yield* node.firmware.powerOn();
  const r = yield* bmcast(w, node);
  yield* r.vmm!.untilFinished();
  yield* r.vmm!.devirtualize();
  const cpu = node.cpus[RDMA_CPU];
  return { cpu, cpuTime: cpu, hca: {}, timerExitsPerSecond: 0 };
}

function* kvmPassNode(w: World, node: Node): ProcessGenerator<RdmaNode> {
  yield* node.firmware.powerOn();
  // The benchmark runs on vCPU RDMA_CPU: the VM has it whatever the guest's core count.
  const { vm } = yield* startKvm(w, node, {
    vcpus: Math.max(RDMA_CPU + 1, w.profile.boot.cores.value),
  });
  const ib = w.profile.infiniband;
  return {
    cpu: vm.vcpus[RDMA_CPU],
    cpuTime: {
      computeTime: (ns, memoryBound) => vm.guestTime(ns, { vcpu: RDMA_CPU, memoryBound }),
    },
    // VT-d: each DMA of the HCA is remapped (Intel VT-d spec §3); doorbells are EPT-mapped.
    hca: {
      iommu: {
        enabled: true,
        iotlbMissCost: ib.iommuMissCost.value,
        missRatio: ib.iommuMissRatio.value,
      },
    },
    // The VM's background exits are its timer ticks (startKvm).
    timerExitsPerSecond: vm.backgroundExits.reduce((sum, b) => sum + b.perSecond, 0),
  };
}

/** How each system prepares a node (dispatch by name). */
const RDMA_SYSTEMS: Record<
  RdmaSystem,
  (w: World, node: Node) => ProcessGenerator<RdmaNode>
> = {
  "bare-metal": bareMetalNode,
  deploy: deployNode,
  devirt: devirtNode,
  "kvm-pass": kvmPassNode,
};

/**
 * Prepares the world's first two nodes as `system`, cables their HCAs and
 * runs ib_write_lat between them. For "devirt" build the world with a small
 * `imageBytes` so the copy finishes soon.
 * @example
 * ```ts
 * import { buildWorld, BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { rdmaLatency } from "./rdma.ts";
 * const w = buildWorld(await loadProfile(BUILTIN_PROFILE), { nodes: 2 });
 * const p = w.sim.process(rdmaLatency(w, "kvm-pass", { iterations: 10 }));
 * w.sim.run(p);
 * console.assert(p.value.latency.typicalUs > 1 && p.value.parts.iommu > 0);
 * console.assert(p.value.trappedExits === 0 && p.value.timerExits > 0); // ticks, no trap
 * ```
 */
export function* rdmaLatency(
  w: World,
  system: RdmaSystem,
  options: RdmaOptions = {},
): ProcessGenerator<RdmaRun> {
  const prepare = RDMA_SYSTEMS[system];
  if (prepare === undefined) {
    throw new RangeError(
      `Cannot measure RDMA latency: 'system' must be one of ${
        Object.keys(RDMA_SYSTEMS).join(", ")
      }: current value is ${system}`,
    );
  }
  if (w.nodes.length < 2) {
    throw new RangeError(
      `Cannot measure RDMA latency: 'nodes' of the world must be >= 2: current value is ${w.nodes.length}`,
    );
  }
  // Checked before the nodes are prepared (for "devirt" a whole deployment), as the benchmark would.
  const { iterations, bytes } = rdmaOptions(options);
  const nodes = w.nodes.slice(0, 2);
  const preps = nodes.map((node) => w.sim.process(prepare(w, node), `${node.name}/rdma-prepare`));
  const prepared = (yield w.sim.allOf(preps)) as RdmaNode[];
  const periods = prepared.map((p) => pollPeriod(w, p));
  const { hcas } = infiniband(
    w,
    nodes.map((node, i) => ({
      node,
      cpu: prepared[i].cpu,
      extra: { ...prepared[i].hca, pollPeriod: periods[i] },
    })),
  );
  const exitsBefore = prepared.reduce((s, p) => s + p.cpu.exitCount, 0);
  const start = w.sim.now;
  const latency = (yield rdmaWriteLatency({
    endpoint: hcas[0],
    peer: hcas[1],
    iterations,
    bytes,
  })) as RdmaLatencyRow;
  return {
    system,
    latency,
    parts: hcas[0].rdmaWriteLatency(hcas[1], bytes),
    hcas,
    trappedExits: prepared.reduce((s, p) => s + p.cpu.exitCount, 0) - exitsBefore,
    timerExits: prepared.reduce((s, p) => s + p.timerExitsPerSecond, 0) * (w.sim.now - start) / 1e9,
    pollPeriod: periods[0],
  };
}
