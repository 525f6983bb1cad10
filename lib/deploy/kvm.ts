/**
 * KVM strategies (the paper's resident-VMM baselines): the host boots its
 * OS from the local disk, QEMU starts a VM whose vCPUs are pinned one to one
 * on the node's CPUs, and the guest sees a virtio-blk disk backed either by
 * the image file on the image server (KVM/NFS: the host reads it through
 * the node's image client, guest writes stay in a local overlay) or by the
 * node's own HDD (KVM/Local). Guest CPU work goes through the VM's
 * `guestTime`, so EPT and the timer exits apply to it.
 */
import type { SimTime } from "../_util/mod.ts";
import type { ProcessGenerator, SimEvent } from "../sim/mod.ts";
import { NfsClient } from "../guest/mod.ts";
import { EXIT_REASONS, type ExitReason } from "../hw/mod.ts";
import {
  KvmHost,
  type KvmVm,
  RemoteImageFile,
  VIRTIO_COST_FIELDS,
  type VirtioBackend,
  VirtioBlk,
  type VirtioBlkCosts,
} from "../kvm/mod.ts";
import {
  type BootParams,
  type BootReplay,
  type BootResult,
  type CpuTime,
  GuestCpus,
  runBoot,
} from "../workload/mod.ts";
import { values } from "./profile.ts";
import {
  type PhaseSpan,
  recordPhase,
  requireImageOnDisk,
  requireStartupOptions,
  STARTUP_OPTIONS,
  type StartupOptions,
  type StartupResult,
} from "./strategies.ts";
import type { Node, World } from "./world.ts";

/** Options of the KVM strategies. */
export interface KvmStartupOptions extends StartupOptions {
  /** Boot the guest OS; false stops once the VM runs (for performance runs). @default true */
  boot?: boolean;
}

/** The keys of {@link KvmStartupOptions}. */
const KVM_STARTUP_OPTIONS = [
  ...STARTUP_OPTIONS,
  "boot",
] as const satisfies readonly (keyof KvmStartupOptions)[];

/** A KVM startup: the strategy result plus the VMM's handles. */
export interface KvmStartupResult extends StartupResult {
  /** The KVM host running on the node's CPUs. */
  host: KvmHost;
  /** The guest VM (vCPUs pinned one to one on the node's CPUs). */
  vm: KvmVm;
  /** The guest's virtio-blk disk (also the result's `driver`). */
  virtio: VirtioBlk;
  /** The remote image file (KVM/NFS only). */
  imageFile?: RemoteImageFile;
}

/** A running KVM host with one started VM. */
export interface KvmMachine {
  /** The booted KVM host on the node's CPUs. */
  host: KvmHost;
  /** The started VM (QEMU and guest firmware done). */
  vm: KvmVm;
}

/**
 * Boots the host OS (local boot through the firmware, then the host's own
 * boot), starts QEMU and the guest firmware: the VM runs afterwards, with
 * `vcpus` vCPUs pinned to CPUs 0..vcpus-1 (default: the guest's cores).
 * The node's firmware must be powered on.
 * @example
 * ```ts
 * import { buildWorld, BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { startKvm } from "./kvm.ts";
 * const w = buildWorld(await loadProfile(BUILTIN_PROFILE));
 * const node = w.nodes[0];
 * const p = w.sim.process(function* () {
 *   yield* node.firmware.powerOn();
 *   return yield* startKvm(w, node, { vcpus: 4 });
 * }());
 * w.sim.run(p);
 * console.assert(p.value.vm.vcpus.length === 4 && node.cpus[4].vmx === "root");
 * ```
 */
export function* startKvm(
  w: World,
  node: Node,
  options: { vcpus?: number } = {},
): ProcessGenerator<KvmMachine> {
  const k = values(w.profile.kvm);
  const vcpus = Math.min(options.vcpus ?? w.profile.boot.cores.value, node.cpus.length);
  yield* node.firmware.localBoot();
  const host = new KvmHost({
    sim: w.sim,
    name: `${node.name}/kvm`,
    cpus: node.cpus,
    hostOsBoot: k.hostOsBoot,
  });
  yield host.boot();
  const exitHandlers: Partial<Record<ExitReason, SimTime>> = {};
  // KVM's exit handling cost applies to every reason the model raises.
  for (const r of EXIT_REASONS) exitHandlers[r] = k.exitHandler;
  const vm = host.createVm({
    name: `${node.name}/vm`,
    pin: Array.from({ length: vcpus }, (_, i) => node.cpus[i].id),
    vmmStart: k.vmmStart,
    guestFirmware: k.guestFirmware,
    exitHandlers,
    // LAPIC timer ticks: the host's hrtimer interrupt exits the vCPU (Westmere has no posted interrupts).
    backgroundExits: [{ reason: "external-interrupt", perSecond: k.timerExitsPerSecond }],
  });
  yield vm.start();
  return { host, vm };
}

/**
 * The VM's vCPUs as a {@link CpuTime}: each piece of work runs through
 * `vm.guestTime` on the next vCPU in turn (EPT on its memory-bound part,
 * timer exits charged on that vCPU's CPU).
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { Cpu } from "../hw/mod.ts";
 * import { KvmHost } from "../kvm/mod.ts";
 * import { vmCpuTime } from "./kvm.ts";
 * const sim = new Simulation();
 * const costs = { vmExit: 500, vmEntry: 400, mmioRead: 800, mmioWrite: 100, eptOverhead: 0.1, ipi: 1000, tlbFlush: 2000 };
 * const host = new KvmHost({ sim, cpus: [new Cpu(0, costs)], hostOsBoot: 0 });
 * const vm = host.createVm({ vmmStart: 0, guestFirmware: 0, exitHandlers: {} });
 * sim.process(function* () {
 *   yield host.boot();
 *   yield vm.start();
 * });
 * sim.run();
 * console.assert(vmCpuTime(vm).computeTime(1000, 1) === 1100);
 * ```
 */
export function vmCpuTime(vm: KvmVm): CpuTime {
  let next = 0;
  return {
    computeTime(ns: SimTime, memoryBound: number): SimTime {
      const vcpu = next;
      next = (next + 1) % vm.vcpus.length;
      return vm.guestTime(ns, { vcpu, memoryBound });
    },
  };
}

/** The guest's cores under KVM (one per vCPU). */
function vmGuestCpus(w: World, vm: KvmVm): GuestCpus {
  return new GuestCpus(w.sim, { cpu: vmCpuTime(vm), cores: vm.vcpus.length });
}

/** virtio-blk on `backend` with the profile's costs and the guest's request limit. */
function virtioDisk(w: World, vm: KvmVm, backend: VirtioBackend): VirtioBlk {
  return new VirtioBlk({
    vm,
    backend,
    costs: virtioCosts(w),
    maxRequestBytes: w.profile.guestDriver.maxRequestBytes.value,
  });
}

function virtioCosts(w: World): VirtioBlkCosts {
  const v = w.profile.kvm.virtio.value;
  const costs: Partial<VirtioBlkCosts> = {};
  for (const k of VIRTIO_COST_FIELDS) costs[k] = v[k];
  return costs as VirtioBlkCosts;
}

function* guestBoot(
  w: World,
  driver: VirtioBlk,
  cpus: GuestCpus,
  boot: boolean,
): ProcessGenerator<BootResult> {
  // An empty replay yields a zero BootResult: the guest stays at its boot loader.
  const params = boot
    ? { ...(w.profile.boot.params.value as BootParams | BootReplay), seed: w.sim.seed }
    : { trace: [] };
  return (yield runBoot(driver, cpus, params)) as BootResult;
}

function* kvmStartup(
  w: World,
  node: Node,
  method: string,
  backend: (vm: KvmVm) => { disk: VirtioBackend; imageFile?: RemoteImageFile },
  options: KvmStartupOptions,
): ProcessGenerator<KvmStartupResult> {
  const t0 = w.sim.now;
  const phases: PhaseSpan[] = [];
  const { host, vm } = yield* startKvm(w, node);
  recordPhase(w, node, phases, "host and VMM start", t0);
  const t1 = w.sim.now;
  const { disk, imageFile } = backend(vm);
  const virtio = virtioDisk(w, vm, disk);
  const cpus = vmGuestCpus(w, vm);
  const boot = yield* guestBoot(w, virtio, cpus, options.boot ?? true);
  if (options.boot ?? true) recordPhase(w, node, phases, "OS boot", t1);
  return {
    method,
    phases,
    total: w.sim.now - t0,
    boot,
    driver: virtio,
    cpus,
    host,
    vm,
    virtio,
    imageFile,
  };
}

/**
 * KVM/NFS (VM streaming): the host boots locally and starts the VM; the
 * guest boots from a virtio-blk disk whose backend is the image file read
 * over the network through the node's image client, with guest writes in a
 * local overlay. Phases: "host and VMM start", "OS boot".
 * @example
 * ```ts
 * import { buildWorld, BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { kvmNfs } from "./kvm.ts";
 * const w = buildWorld(await loadProfile(BUILTIN_PROFILE));
 * const node = w.nodes[0];
 * const p = w.sim.process(function* () {
 *   yield* node.firmware.powerOn();
 *   return yield* kvmNfs(w, node);
 * }());
 * w.sim.run(p);
 * console.assert(p.value.phases[1].phase === "OS boot" && p.value.imageFile!.stats.remoteReads > 0);
 * ```
 */
export function kvmNfs(
  w: World,
  node: Node,
  options: KvmStartupOptions = {},
): ProcessGenerator<KvmStartupResult> {
  requireStartupOptions("start kvm-nfs", options, KVM_STARTUP_OPTIONS);
  const v = w.profile.kvm.virtio.value;
  const n = values(w.profile.nfs);
  // The host reads the image file over NFS: data RPCs only (the guest's file
  // system lives inside the image, so no per-file metadata RPCs).
  const hostNfs = new NfsClient({
    sim: w.sim,
    sectors: w.imageSectors,
    // NFS READs ask for raw blocks: a compressed image is inflated by the server.
    transport: (r) =>
      node.image.read({ imageId: node.imageId, lba: r.lba, count: r.count, compressed: false }),
    costs: { request: 0, rpc: n.rpc },
    rsize: n.rsize,
    maxInFlight: n.maxInFlight,
    readAhead: n.readAhead,
  });
  const transport = (r: { lba: number; count: number }): SimEvent<Int32Array> => {
    const out = w.sim.event<Int32Array>();
    hostNfs.read(r).then((ev) => {
      const res = ev.value;
      if (res.ok && res.versions) out.succeed(res.versions);
      else out.fail(new Error(`host NFS read failed: ${res.error}`));
    });
    return out;
  };
  return kvmStartup(w, node, "kvm-nfs", () => {
    const imageFile = new RemoteImageFile({
      sim: w.sim,
      name: `${node.name}/image-file`,
      sectors: w.imageSectors,
      transport,
      queueDepth: v.imageQueueDepth,
      overlayAccess: v.overlayAccess,
    });
    return { disk: imageFile, imageFile };
  }, options);
}

/**
 * KVM/Local: the guest image lies on the node's HDD (build the world with
 * `preinstalled: true`); virtio-blk's host side issues commands to that
 * disk. With `boot: false` it returns once the VM runs, for workloads.
 * @throws RangeError at the call for an unknown option or a local disk without the image
 * @example
 * ```ts
 * import { buildWorld, BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { kvmLocal } from "./kvm.ts";
 * const w = buildWorld(await loadProfile(BUILTIN_PROFILE), { preinstalled: true });
 * const node = w.nodes[0];
 * const p = w.sim.process(function* () {
 *   yield* node.firmware.powerOn();
 *   const r = yield* kvmLocal(w, node, { boot: false });
 *   yield r.driver.read({ lba: 0, count: 8 });
 *   return r;
 * }());
 * w.sim.run(p);
 * console.assert(p.value.vm.state === "running" && p.value.virtio.stats.exits === 3);
 * ```
 */
export function kvmLocal(
  w: World,
  node: Node,
  options: KvmStartupOptions = {},
): ProcessGenerator<KvmStartupResult> {
  requireStartupOptions("start kvm-local", options, KVM_STARTUP_OPTIONS);
  requireImageOnDisk("start kvm-local", w, node);
  return kvmStartup(w, node, "kvm-local", () => ({ disk: node.disk }), options);
}
