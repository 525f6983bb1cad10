/**
 * Deployment strategies on a simulated bare-metal cloud: the profile (every
 * cost with its source), the world builder (network, image server, nodes at
 * the device interface) and the strategies that bring an OS up on a node:
 * bare metal, image copy, BMcast, NFS root, and KVM variants, registered
 * by name with any a user adds (registry.ts). It does not
 * decide what is measured: experiments do.
 * @module
 */
export {
  applyOverrides,
  BUILTIN_PROFILE,
  copyPipelineIssue,
  imageSizeIssue,
  type ImageSizeRange,
  imageSizeRange,
  loadProfile,
  minImageBytes,
  type NumericParameter,
  numericParameters,
  parameterUnit,
  parseOverrides,
  parseProfile,
  type Profile,
  type ProfileCheckOptions,
  ProfileError,
  profileImageIssue,
  profileIssue,
  ProfileSchema,
  rateBurstIssue,
  type SectionName,
  ssdOf,
  values,
} from "./profile.ts";
export {
  ABAR,
  AHCI_VECTOR,
  buildWorld,
  guestCpus,
  guestDriver,
  IMAGE_ID,
  imageIdOf,
  MAX_NODES,
  type Node,
  SERVER,
  serverHost,
  serverOutage,
  usedRuns,
  type World,
  type WorldOptions,
} from "./world.ts";
export {
  bareMetal,
  bmcast,
  bmcastMulticast,
  bootLocalOs,
  type CopyFeed,
  copyImage,
  type DeploymentSpans,
  finishDeployment,
  firmwareReboot,
  imageCopy,
  imageCopyMulticast,
  type LocalOs,
  nfsRoot,
  type PhaseSpan,
  recordPhase,
  requireImageOnDisk,
  requireStartupOptions,
  STARTUP_OPTIONS,
  type StartupOptions,
  type StartupResult,
} from "./strategies.ts";
export {
  DEPLOYED_WHEN,
  type DeployedWhen,
  type RegisteredStrategy,
  registerStrategy,
  type StartupStrategy,
  startupStrategy,
  strategyNames,
  type StrategyTraits,
} from "./registry.ts";
export {
  kvmLocal,
  type KvmMachine,
  kvmNfs,
  type KvmStartupOptions,
  type KvmStartupResult,
  startKvm,
  vmCpuTime,
} from "./kvm.ts";
export {
  RDMA_CPU,
  rdmaLatency,
  type RdmaNode,
  type RdmaOptions,
  type RdmaRun,
  type RdmaSystem,
} from "./rdma.ts";
