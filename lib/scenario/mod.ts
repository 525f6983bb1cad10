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
  loadProfile,
  type Node,
  type NumericParameter,
  numericParameters,
  parseOverrides,
  parseProfile,
  type Profile,
  ProfileError,
  ProfileSchema,
  SERVER,
  values,
  type World,
  type WorldOptions,
} from "../deploy/mod.ts";
export {
  bareMetal,
  bmcast,
  finishDeployment,
  imageCopy,
  imageSource,
  nfsRoot,
  type PhaseSpan,
  STARTUP_STRATEGIES,
  type StartupOptions,
  type StartupResult,
} from "../deploy/mod.ts";
export { type ProfileInput, type ProfileInputResult, readProfileInput } from "./profile_input.ts";
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
  type KvmStartupResult,
  RDMA_SYSTEMS,
  rdmaLatency,
  type RdmaSystem,
} from "../deploy/mod.ts";
export {
  type KvResult,
  type KvWorkloadParams,
  runKvWorkload,
  storageBenchmark,
  type StorageRow,
} from "../workload/mod.ts";
