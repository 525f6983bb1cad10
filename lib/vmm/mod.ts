/**
 * The de-virtualizable VMM of BMcast: VMM start (VMX on every CPU, EPT
 * identity map, memory hidden through E820), device mediators (AHCI:
 * interpretation, redirection, multiplexing), the block map and background
 * copier with pluggable policies, and de-virtualization in the paper's order.
 * It does not model guest scheduling or interrupt virtualization: the VMM is
 * passive, only mediated device accesses and its own timer exit.
 * @module
 */
export {
  type DevirtTimeline,
  type Mediator,
  Vmm,
  type VmmCosts,
  VmmCostsSchema,
  type VmmState,
} from "./vmm.ts";
export { BlockMap, type ChunkState, type SectorRun } from "./block_map.ts";
export type { ImageSource, VmmBlockIo } from "./block_io.ts";
export {
  type CopyContext,
  type CopyDecision,
  type CopyPolicy,
  type CopyPolicyConfig,
  CopyPolicySchema,
  makeCopyPolicy,
} from "./copy_policy.ts";
export {
  BackgroundCopier,
  type CopierStats,
  COPY_ATTEMPTS,
  copyOrderIssues,
  type ImageStream,
} from "./copier.ts";
export {
  AhciMediator,
  type AhciMediatorStats,
  VmmDiskError,
} from "./mediators/ahci/ahci_mediator.ts";
export { type GuestCommand, interpretCommand } from "./mediators/ahci/interpret.ts";
export { nextPortState, type PortState } from "./mediators/ahci/port_state.ts";
export { recordDevirtualization, recordVmmSignals } from "./signals.ts";
