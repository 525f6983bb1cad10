/**
 * Scenarios: validated profiles and run configurations, the world builder
 * and strategies re-exported for experiments, and paper-vs-simulation
 * comparison rows. Experiments and notebooks import this part only.
 * @module
 */
export {
  ABAR,
  AHCI_VECTOR,
  applyOverrides,
  buildWorld,
  BUILTIN_PROFILE,
  guestCpus,
  guestDriver,
  IMAGE_ID,
  imageSizeIssue,
  type ImageSizeRange,
  imageSizeRange,
  loadProfile,
  minImageBytes,
  type Node,
  type NumericParameter,
  numericParameters,
  parseOverrides,
  parseProfile,
  type Profile,
  type ProfileCheckOptions,
  ProfileError,
  ProfileSchema,
  SERVER,
  serverOutage,
  usedRuns,
  values,
  type World,
  type WorldOptions,
} from "../deploy/mod.ts";
export {
  bareMetal,
  bmcast,
  bmcastMulticast,
  type CopyFeed,
  type DeploymentSpans,
  finishDeployment,
  imageCopy,
  imageCopyMulticast,
  imageSource,
  nfsRoot,
  type PhaseSpan,
  STARTUP_STRATEGIES,
  type StartupOptions,
  type StartupResult,
} from "../deploy/mod.ts";
export {
  type ProfileInput,
  type ProfileInputResult,
  readOverrideItems,
  readProfileInput,
} from "./profile_input.ts";
export { type CopyPolicyConfig, CopyPolicySchema } from "../vmm/mod.ts";
export {
  compare,
  type Comparison,
  loadReference,
  REFERENCE_FILE,
  type SeedSpread,
  spreadOverSeeds,
} from "./compare.ts";
export {
  KVM_STRATEGIES,
  kvmLocal,
  kvmNfs,
  type KvmStartupOptions,
  type KvmStartupResult,
  RDMA_SYSTEMS,
  rdmaLatency,
  type RdmaNode,
  type RdmaOptions,
  type RdmaRun,
  type RdmaSystem,
} from "../deploy/mod.ts";
export {
  type BootPhaseRow,
  type BootResult,
  type CpuTime,
  type GuestCpus,
  type KvOpRecord,
  type KvResult,
  type KvRunExtras,
  type KvStoreStats,
  type KvThroughputRow,
  type KvWorkloadParams,
  type KvWorkloadParamsSchema,
  type RdmaLatencyRow,
  runKvWorkload,
  storageBenchmark,
  type StorageBenchmarkOptions,
  type StorageRow,
} from "../workload/mod.ts";
