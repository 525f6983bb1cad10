/**
 * The conventional resident VMM the paper's baselines use (Linux + KVM +
 * QEMU): a host that boots its OS and starts a VM whose vCPUs run in VMX
 * non-root mode with EPT on the physical CPUs, KVM exit handlers with a cost
 * per reason, background timer/IPI exits that steal guest time; a virtio-blk
 * disk whose per-request path (guest driver, notification exit, host thread,
 * host block layer, interrupt injection and EOI) runs on a host disk or on a
 * remote image file with a local write overlay (KVM/NFS). The VT-d
 * assignment of the InfiniBand HCA (KVM/Pass) is composed in lib/deploy
 * (rdma.ts): the HCA's own `iommu` option remaps each DMA, doorbells reach
 * it through EPT without an exit, and polling runs on a vCPU. Every cost is
 * an option; differences from bare metal come from these mechanisms, never
 * from a factor.
 *
 * Deliberately not modelled: guest scheduling and vCPU overcommit, emulated
 * (non-virtio) devices, vhost-net and the guest's network stack, live
 * migration, host memory overcommit and huge-page effects beyond EPT's
 * overhead factor, QEMU's host page cache for a local disk (KVM/Local is
 * cache=none; KVM/NFS reads its image through the host's NFS client, page
 * cache and read-ahead included).
 * @module
 */
export {
  type BackgroundExit,
  type GuestWorkOptions,
  KvmHost,
  type KvmHostOptions,
  type KvmHostState,
  KvmVm,
  type KvmVmOptions,
  type KvmVmState,
} from "./kvm_host.ts";
export {
  VIRTIO_COST_FIELDS,
  type VirtioBackend,
  VirtioBlk,
  type VirtioBlkCosts,
  virtioBlkIssues,
  type VirtioBlkOptions,
  type VirtioBlkSettings,
  type VirtioBlkStats,
  type VirtioIoResult,
  type VirtioNotify,
} from "./virtio_blk.ts";
export {
  type ImageTransport,
  RemoteImageFile,
  remoteImageFileIssues,
  type RemoteImageFileOptions,
  type RemoteImageFileSettings,
  type RemoteImageFileStats,
} from "./image_file.ts";
