/**
 * metalcast: simulate streaming OS deployment on bare-metal clouds (BMcast,
 * ASPLOS 2015) at the device interface. The public face re-exports each
 * part's main names; each part's own mod.ts has the rest. `experiments`
 * holds one module per figure (the paper's four and three beyond it).
 * @module
 */
// Discrete-event kernel.
export {
  Flow,
  FlowNetwork,
  Interrupt,
  Link,
  Process,
  RandomStream,
  Recorder,
  Request,
  Resource,
  RngStreams,
  SimEvent,
  Simulation,
  Store,
} from "./lib/sim/mod.ts";
export type {
  FlowOptions,
  LinkOptions,
  ProcessGenerator,
  ResourceStats,
  SampleRow,
  SimulationOptions,
  SpanRow,
} from "./lib/sim/mod.ts";
export { micros, millis, seconds, toSeconds, VersionMap } from "./lib/_util/mod.ts";
export type { Bytes, Gpa, Lba, SimTime } from "./lib/_util/mod.ts";
// Machine model.
export {
  AhciHba,
  Cpu,
  E820Map,
  Firmware,
  Hca,
  Hdd,
  InterruptController,
  MmioBus,
  Nic,
  PhysicalMemory,
  Ssd,
} from "./lib/hw/mod.ts";
export type { BlockDevice, CpuCosts, HookResult, MmioHook, VmxState } from "./lib/hw/mod.ts";
export { BlockProtocol, InfinibandFabric, Network, starNetwork } from "./lib/net/mod.ts";
// Image server.
export { ImageClient, ImageContent, ImageServer } from "./lib/image/mod.ts";
// The de-virtualizable VMM and its mediators.
export { AhciMediator, BackgroundCopier, BlockMap, makeCopyPolicy, Vmm } from "./lib/vmm/mod.ts";
export type {
  CopyPolicyConfig,
  ImageSource,
  Mediator,
  VmmBlockIo,
  VmmCosts,
} from "./lib/vmm/mod.ts";
// Baselines, guest, workloads.
export { KvmHost, KvmVm, VirtioBlk } from "./lib/kvm/mod.ts";
export { AhciDriver, NfsClient } from "./lib/guest/mod.ts";
export type { GuestBlockDriver, IoResult } from "./lib/guest/mod.ts";
export {
  GuestCpus,
  KvStore,
  rdmaWriteLatency,
  runBoot,
  runKvWorkload,
  storageBenchmark,
} from "./lib/workload/mod.ts";
// Deployment strategies and scenarios.
export {
  applyOverrides,
  bareMetal,
  bmcast,
  buildWorld,
  BUILTIN_PROFILE,
  compare,
  imageCopy,
  KVM_STRATEGIES,
  kvmLocal,
  kvmNfs,
  loadProfile,
  nfsRoot,
  numericParameters,
  parseProfile,
  ProfileError,
  rdmaLatency,
  spreadOverSeeds,
  STARTUP_STRATEGIES,
} from "./lib/scenario/mod.ts";
export type {
  Comparison,
  Node,
  Profile,
  SeedSpread,
  StartupResult,
  World,
} from "./lib/scenario/mod.ts";
// Figures.
export {
  barsFigure,
  comparisonTable,
  display,
  formatComparison,
  startupFigure,
  throughputFigure,
  timelineFigure,
  toHtml,
  toSvg,
} from "./lib/plot/mod.ts";
// Experiments: one namespace per figure (run(params), small/full) and reproduce().
export * as experiments from "./experiments/mod.ts";
