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
  EventState,
  FlowOptions,
  LinkOptions,
  ProcessGenerator,
  ResourceStats,
  SampleRow,
  SimulationOptions,
  SpanRow,
} from "./lib/sim/mod.ts";
export {
  mergeRuns,
  micros,
  millis,
  seconds,
  splitRun,
  toSeconds,
  VersionMap,
} from "./lib/_util/mod.ts";
export type { Bytes, ComparisonRow, Gpa, Lba, Run, SimTime } from "./lib/_util/mod.ts";
// Machine model.
export {
  AhciHba,
  Cpu,
  E820Map,
  EXIT_REASONS,
  Firmware,
  Hca,
  Hdd,
  InterruptController,
  MmioBus,
  Nic,
  PhysicalMemory,
  Ssd,
} from "./lib/hw/mod.ts";
export type {
  AccessResult,
  AccessSize,
  AhciCompletion,
  AhciCosts,
  AhciHbaCounters,
  AhciPort,
  AhciPortCounters,
  AtaCommandKind,
  BlockDevice,
  BusDevice,
  CompletionMode,
  CpuCosts,
  DiskCommand,
  DiskResult,
  DiskStats,
  E820Entry,
  E820Type,
  EngineState,
  ExitReason,
  FirmwareState,
  FisEngineState,
  HcaStats,
  HddStats,
  HookHandle,
  HookResult,
  IommuOptions,
  LinkState,
  MmioAccess,
  MmioHook,
  NicMessage,
  NicStats,
  PingPongResult,
  PxeResult,
  RdmaLatencyParts,
  VmxState,
} from "./lib/hw/mod.ts";
export { BlockProtocol, InfinibandFabric, Network, starNetwork } from "./lib/net/mod.ts";
export type {
  ConnectOptions,
  Framing,
  ImageErrorCode,
  MulticastOptions,
  NetNode,
  NodeKind,
  OutageOptions,
  Packet,
  PacketHandler,
  SendOptions,
  StarOptions,
  Transport,
} from "./lib/net/mod.ts";
// Image server.
export {
  ImageClient,
  ImageContent,
  ImageServer,
  MulticastReceiver,
  MulticastServer,
} from "./lib/image/mod.ts";
export type {
  BackingDiskOptions,
  ImageServerStats,
  MulticastChunk,
  MulticastControl,
  MulticastReceiverOptions,
  MulticastReceiverStats,
  MulticastServerOptions,
  MulticastServerStats,
  PageCacheOptions,
  ReadOptions,
} from "./lib/image/mod.ts";
// The de-virtualizable VMM and its mediators.
export { AhciMediator, BackgroundCopier, BlockMap, makeCopyPolicy, Vmm } from "./lib/vmm/mod.ts";
export type {
  AhciMediatorStats,
  ChunkState,
  CopierStats,
  CopyContext,
  CopyDecision,
  CopyPolicy,
  CopyPolicyConfig,
  DevirtTimeline,
  ImageSource,
  ImageStream,
  Mediator,
  SectorRun,
  VmmBlockIo,
  VmmCosts,
  VmmState,
} from "./lib/vmm/mod.ts";
// Baselines, guest, workloads.
export { KvmHost, KvmVm, VirtioBlk } from "./lib/kvm/mod.ts";
export type {
  BackgroundExit,
  GuestWorkOptions,
  KvmHostState,
  KvmVmOptions,
  KvmVmState,
  RemoteImageFile,
  RemoteImageFileStats,
  VirtioBackend,
  VirtioBlkCosts,
  VirtioBlkStats,
  VirtioIoResult,
} from "./lib/kvm/mod.ts";
export { AhciDriver, NfsClient } from "./lib/guest/mod.ts";
export type {
  AhciDriverInfo,
  AhciDriverStats,
  BootOp,
  GuestBlockDriver,
  IoResult,
  NfsClientCosts,
  NfsClientStats,
  PhysAllocator,
} from "./lib/guest/mod.ts";
export {
  GuestCpus,
  kvDataRun,
  KvStore,
  rdmaWriteLatency,
  runBoot,
  runKvWorkload,
  storageBenchmark,
} from "./lib/workload/mod.ts";
export type {
  BootParams,
  BootPhaseRow,
  BootReplay,
  BootResult,
  BootRunExtras,
  BootTraceOp,
  CpuTime,
  KvOpRecord,
  KvResult,
  KvRunExtras,
  KvStoreStats,
  KvThroughputRow,
  KvWorkloadParams,
  PageCache,
  RdmaLatencyRow,
  RdmaPingPong,
  StorageBenchmarkOptions,
  StorageRow,
} from "./lib/workload/mod.ts";
// Deployment strategies and scenarios.
export {
  applyOverrides,
  bareMetal,
  bmcast,
  bmcastMulticast,
  buildWorld,
  BUILTIN_PROFILE,
  compare,
  imageCopy,
  imageCopyMulticast,
  KVM_STRATEGIES,
  kvmLocal,
  kvmNfs,
  loadProfile,
  nfsRoot,
  numericParameters,
  parseProfile,
  ProfileError,
  rdmaLatency,
  serverOutage,
  spreadOverSeeds,
  STARTUP_STRATEGIES,
  usedRuns,
} from "./lib/scenario/mod.ts";
export type {
  Comparison,
  CopyFeed,
  KvmStartupOptions,
  KvmStartupResult,
  Node,
  NumericParameter,
  PhaseSpan,
  Profile,
  RdmaOptions,
  RdmaRun,
  RdmaSystem,
  SeedSpread,
  StartupOptions,
  StartupResult,
  World,
  WorldOptions,
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
export type {
  BarRow,
  BarsFigureOptions,
  Figure,
  FigureOptions,
  JupyterDisplayable,
  Source,
  StartupRow,
  ThroughputFigureOptions,
  ThroughputMarker,
  ThroughputRow,
  TimelineRow,
} from "./lib/plot/mod.ts";
// Experiments: one namespace per figure (run(params), small/full) and reproduce().
export * as experiments from "./experiments/mod.ts";
