/**
 * Startup strategies: each brings the OS up on one node and records its
 * phases (after the node's initial power-on self test, which every method
 * pays alike). Every duration comes out of the models: firmware and PXE,
 * the network and image server, the disks, the VMM and its mediator, the
 * guest's driver and boot workload.
 */
import {
  concatVersions,
  type FieldIssue,
  fieldIssue,
  issuesError,
  NO_VERSION,
  type Run,
  schemaIssues,
  showValue,
  type SimTime,
  splitRun,
  unknownKeyIssues,
} from "../_util/mod.ts";
import type { ProcessGenerator, SimEvent } from "../sim/mod.ts";
import {
  AhciMediator,
  BackgroundCopier,
  BlockMap,
  copyOrderIssues,
  CopyPolicySchema,
  type ImageSource,
  makeCopyPolicy,
  Vmm,
} from "../vmm/mod.ts";
import type { CopyPolicy, CopyPolicyConfig } from "../vmm/mod.ts";
import { type AhciDriver, type GuestBlockDriver, NfsClient } from "../guest/mod.ts";
import { MulticastReceiver, type MulticastReceiverOptions } from "../image/mod.ts";
import {
  type BootParams,
  type BootReplay,
  type BootResult,
  type GuestCpus,
  runBoot,
} from "../workload/mod.ts";
import { copyPipelineIssue, rateBurstIssue, values, VMM_MEMORY_END } from "./profile.ts";
import { ABAR, AHCI_VECTOR, guestCpus, guestDriver, type Node, type World } from "./world.ts";

/** One phase of a startup: its start and end in simulated time (ns). */
export interface PhaseSpan {
  /** Phase name as recorded ("VMM boot", "image copy", "OS boot", "copy", ...). */
  phase: string;
  /** Simulation time the phase began, ns. */
  start: SimTime;
  /** Simulation time the phase ended, ns. */
  end: SimTime;
}

/** What a startup leaves running for later workloads. */
export interface StartupResult {
  /** Strategy name, its key in the strategy tables ("bare-metal", "bmcast", "kvm-nfs", ...). */
  method: string;
  /** The startup's phases in order. */
  phases: PhaseSpan[];
  /** Startup time, ns (from the end of the initial POST to OS ready). */
  total: SimTime;
  /** What the guest OS boot did (reads, writes, per-phase times). */
  boot: BootResult;
  /** The guest's block driver, for workloads run after the boot. */
  driver: GuestBlockDriver;
  /** The guest's cores, for workloads run after the boot. */
  cpus: GuestCpus;
  /** BMcast's VMM (BMcast only). */
  vmm?: Vmm;
  /** BMcast's AHCI mediator, redirecting reads of blocks not yet copied (BMcast only). */
  mediator?: AhciMediator;
  /** BMcast's background copier filling the local disk (BMcast only). */
  copier?: BackgroundCopier;
}

/**
 * Where BMcast's background copier gets the image: by fetching it from the
 * image server (the paper), or from the server's multicast session, shared
 * with every node deploying at the same time (beyond the paper).
 */
export type CopyFeed = "fetch" | "multicast";

/** Per-strategy knobs. */
export interface StartupOptions {
  /** Copy policy override (BMcast). */
  copyPolicy?: CopyPolicyConfig;
  /** Chunks the copier fetches ahead, overriding the profile's `vmm.pipeline` (BMcast). */
  copyPipeline?: number;
  /** Start the background copier (BMcast). @default true */
  backgroundCopy?: boolean;
  /**
   * Sectors the copier copies first, in this order, the rest following in
   * disk order (BMcast; beyond the paper, which copies in disk order): e.g.
   * the `mediator.redirectedRuns` of an earlier deployment of the image.
   * Each a run `{ lba, count }` of whole sectors within the image.
   * @default []
   */
  copyOrder?: readonly Run[];
}

/** The keys of {@link StartupOptions}. */
export const STARTUP_OPTIONS = [
  "copyPolicy",
  "copyPipeline",
  "backgroundCopy",
  "copyOrder",
] as const satisfies readonly (keyof StartupOptions)[];

const booleanRule = (v: unknown, field: string): FieldIssue[] =>
  typeof v === "boolean" ? [] : [fieldIssue(field, "true or false", showValue(v))];
/** What each known option's value must be (the others are the strategy's own to check). */
const OPTION_RULES: Record<string, (value: unknown, field: string) => FieldIssue[]> = {
  copyPolicy: (v, field) => {
    const kinds = CopyPolicySchema.options.map((o) => o.shape.kind.value);
    const kind = (v as { kind?: unknown } | null)?.kind;
    return kinds.includes(kind as never)
      ? schemaIssues(CopyPolicySchema, v, `${field}.`)
      : [fieldIssue(`${field}.kind`, `one of ${kinds.join(", ")}`, showValue(kind))];
  },
  // Its bound (the image's size) is BMcast's to check, which knows the image.
  copyOrder: (v, field) => copyOrderIssues(v as never, { field }),
  copyPipeline: (v, field) =>
    Number.isInteger(v) && (v as number) >= 1
      ? []
      : [fieldIssue(field, "an integer >= 1", showValue(v))],
  backgroundCopy: booleanRule,
  boot: booleanRule,
};

/**
 * Refuses a key of a strategy's `options` that is not among `known` (a
 * misspelt option would otherwise be ignored), and a bad value of a known
 * {@link StartupOptions} key (or the KVM strategies' `boot`), at the call,
 * before the strategy runs: the strategies' one check.
 * @throws RangeError naming each such key, the closest known ones, and all of them, and each bad value
 * @example
 * ```ts
 * import { requireStartupOptions } from "./strategies.ts";
 * let message = "";
 * try {
 *   requireStartupOptions("start bmcast", { copyPipelin: 3, backgroundCopy: "yes" });
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * console.assert(message.startsWith("Cannot start bmcast: 'copyPipelin' is not an option, did you mean copyPipeline?"));
 * console.assert(message.endsWith("'backgroundCopy' must be true or false: current value is \"yes\""));
 * ```
 */
export function requireStartupOptions(
  what: string,
  options: object,
  known: readonly string[] = STARTUP_OPTIONS,
): void {
  const issues = startupOptionIssues(options, known);
  if (issues.length > 0) throw issuesError(what, issues);
}

/** What {@link requireStartupOptions} refuses, every issue. */
function startupOptionIssues(options: object, known: readonly string[]): FieldIssue[] {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return [fieldIssue("options", "an object", showValue(options))];
  }
  const issues = unknownKeyIssues(options, known);
  for (const [key, value] of Object.entries(options)) {
    const rule = OPTION_RULES[key];
    if (value !== undefined && rule !== undefined && known.includes(key)) {
      issues.push(...rule(value, key));
    }
  }
  return issues;
}

/** The image server as the VMM sees it: the block protocol client. */
function imageSource(w: World, node: Node): ImageSource {
  return {
    maxSectors: w.profile.image.maxRequestSectors.value,
    read: (r) =>
      node.image.read({
        imageId: node.imageId,
        lba: r.lba,
        count: r.count,
        background: r.background,
      }),
  };
}

/**
 * Records phase `phase` of `node`, from `start` until now: in `phases` (the
 * strategy's result) and in the world's recorder (the run's timeline).
 * @example
 * ```ts
 * import { buildWorld, BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { type PhaseSpan, recordPhase } from "./strategies.ts";
 * const w = buildWorld(await loadProfile(BUILTIN_PROFILE));
 * const phases: PhaseSpan[] = [];
 * w.sim.process(function* () {
 *   yield w.sim.timeout(3e9);
 *   recordPhase(w, w.nodes[0], phases, "kexec", 1e9);
 * });
 * w.sim.run();
 * console.assert(phases[0].end === 3e9 && w.rec.spans().some((s) => s.phase === "kexec"));
 * ```
 */
export function recordPhase(
  w: World,
  node: Node,
  phases: PhaseSpan[],
  phase: string,
  start: SimTime,
): void {
  phases.push({ phase, start, end: w.sim.now });
  w.rec.span(node.name, phase, start, w.sim.now);
}

function bootParams(w: World): BootParams | BootReplay {
  return w.profile.boot.params.value as BootParams | BootReplay;
}

function* osBoot(
  w: World,
  driver: GuestBlockDriver,
  cpus: GuestCpus,
): ProcessGenerator<BootResult> {
  return (yield runBoot(driver, cpus, { ...bootParams(w), seed: w.sim.seed })) as BootResult;
}

/** What {@link bootLocalOs} leaves running. */
export interface LocalOs {
  /** What the OS boot did (reads, writes, per-phase times). */
  boot: BootResult;
  /** The guest's AHCI driver, for workloads run after the boot. */
  driver: AhciDriver;
  /** The guest's cores, for workloads run after the boot. */
  cpus: GuestCpus;
}

/**
 * The unmodified OS boots from the node's local disk: its AHCI driver
 * starts the HBA, then the profile's boot workload runs. It comes after
 * whatever hands control to the OS: the firmware's local boot
 * (`yield* node.firmware.localBoot()`), or a kexec from a running OS.
 * @example
 * ```ts
 * import { buildWorld, BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { bootLocalOs } from "./strategies.ts";
 * const w = buildWorld(await loadProfile(BUILTIN_PROFILE), { imageBytes: 12e9, preinstalled: true });
 * const node = w.nodes[0];
 * const p = w.sim.process(function* () {
 *   yield* node.firmware.powerOn();
 *   yield* node.firmware.localBoot();
 *   return yield* bootLocalOs(w, node);
 * }());
 * w.sim.run(p);
 * console.assert(p.value.boot.reads > 0 && p.value.boot.errors === 0);
 * ```
 */
export function* bootLocalOs(w: World, node: Node): ProcessGenerator<LocalOs> {
  const driver = guestDriver(w, node);
  const cpus = guestCpus(w, node);
  yield driver.init();
  const boot = yield* osBoot(w, driver, cpus);
  return { boot, driver, cpus };
}

/**
 * Reboots the node through its firmware: the running OS shuts down (the
 * profile's `firmware.shutdown`), power goes off and on, and the power-on
 * self test runs; the firmware is then ready to boot again.
 * @example
 * ```ts
 * import { buildWorld, BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { firmwareReboot } from "./strategies.ts";
 * const w = buildWorld(await loadProfile(BUILTIN_PROFILE));
 * const node = w.nodes[0];
 * w.sim.process(function* () {
 *   yield* node.firmware.powerOn();
 *   yield* firmwareReboot(w, node);
 * });
 * w.sim.run();
 * console.assert(node.firmware.state === "idle" && w.rec.spans().filter((s) => s.phase === "post").length === 2);
 * ```
 */
export function* firmwareReboot(w: World, node: Node): ProcessGenerator<void> {
  yield w.sim.timeout(w.profile.firmware.shutdown.value);
  node.firmware.powerOff();
  yield* node.firmware.powerOn();
}

/**
 * Refuses to boot `node` from its local disk unless the disk holds every
 * sector of the image a copy brings (`w.copyRuns`, where the boot reads):
 * on a blank disk the OS would read sectors holding nothing and still "boot".
 * @throws RangeError naming `preinstalled`, with how many sectors are blank
 * @example
 * ```ts
 * import { buildWorld, BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { requireImageOnDisk } from "./strategies.ts";
 * const profile = await loadProfile(BUILTIN_PROFILE);
 * const w = buildWorld(profile, { imageBytes: 12e9, preinstalled: true });
 * requireImageOnDisk("start bare-metal", w, w.nodes[0]);
 * let message = "";
 * try {
 *   const blank = buildWorld(profile, { imageBytes: 12e9 });
 *   requireImageOnDisk("start bare-metal", blank, blank.nodes[0]);
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * console.assert(message.includes("{ preinstalled: true }"));
 * ```
 */
export function requireImageOnDisk(what: string, w: World, node: Node): void {
  const content = node.disk.content;
  let blank = 0, sectors = 0;
  for (const r of w.copyRuns) {
    sectors += r.count;
    blank += r.count - content.countOther(r.lba, r.count, NO_VERSION);
  }
  if (blank > 0) {
    throw new RangeError(
      `Cannot ${what} on '${node.name}': its local disk does not hold the image ` +
        `(${blank} of the image's ${sectors} sectors to copy are blank): build the world ` +
        "with { preinstalled: true }, or install the image first",
    );
  }
}

/**
 * Bare metal with the image already on the local disk (build the world with
 * `preinstalled: true`): local boot, OS boot. Takes {@link StartupOptions}
 * and ignores them (they are BMcast's).
 * @throws RangeError at the call for an unknown option or a local disk without the image
 */
export function bareMetal(
  w: World,
  node: Node,
  options: StartupOptions = {},
): ProcessGenerator<StartupResult> {
  requireStartupOptions("start bare-metal", options);
  requireImageOnDisk("start bare-metal", w, node);
  return bareMetalRun(w, node);
}

function* bareMetalRun(w: World, node: Node): ProcessGenerator<StartupResult> {
  const t0 = w.sim.now;
  const phases: PhaseSpan[] = [];
  yield* node.firmware.localBoot();
  const { boot, driver, cpus } = yield* bootLocalOs(w, node);
  recordPhase(w, node, phases, "OS boot", t0);
  return { method: "bare-metal", phases, total: w.sim.now - t0, boot, driver, cpus };
}

/**
 * BMcast: PXE-boot the VMM, start it (VMX on all CPUs, mediator hooked), then
 * the unmodified OS boots at once from the "local" disk while the mediator
 * redirects reads of absent blocks and the copier fills the disk.
 */
export function bmcast(
  w: World,
  node: Node,
  options: StartupOptions = {},
): ProcessGenerator<StartupResult> {
  return bmcastFed(w, node, { options, method: "bmcast", feed: "fetch" });
}

/**
 * BMcast whose background copier is fed by the image server's multicast
 * session (beyond the paper): nodes deploying together share one stream of
 * the image (lib/image/multicast.ts); a piece that arrives while the guest
 * keeps the disk busy waits in the VMM's buffer (`vmm.multicastBufferBytes`)
 * or, when that is full, is dropped and asked for again on the next lap.
 * Redirected reads still go to the server one by one.
 */
export function bmcastMulticast(
  w: World,
  node: Node,
  options: StartupOptions = {},
): ProcessGenerator<StartupResult> {
  return bmcastFed(w, node, { options, method: "bmcast-multicast", feed: "multicast" });
}

/** How each {@link CopyFeed} runs the copier (dispatch by name). */
const COPY_FEEDS: Record<
  CopyFeed,
  (w: World, node: Node, copier: BackgroundCopier) => ProcessGenerator<void>
> = {
  fetch: (_w, _node, copier) => copier.run(),
  multicast: (w, node, copier) =>
    copier.runFromStream((write) =>
      joinMulticast(w, node, { bufferBytes: w.profile.vmm.multicastBufferBytes.value, write })
    ),
};

/** Checks BMcast's options and makes its copy policy at the call, so a bad one is refused there. */
function bmcastFed(
  w: World,
  node: Node,
  at: { options: StartupOptions; method: string; feed: CopyFeed },
): ProcessGenerator<StartupResult> {
  // A copy order must also lie in the image: BMcast's own check of it.
  const issues = startupOptionIssues(at.options, STARTUP_OPTIONS)
    .filter((i) => !/^copyOrder(\.|$)/.test(i.field));
  const order = at.options.copyOrder ?? [];
  issues.push(...copyOrderIssues(order, { sectors: w.imageSectors, field: "copyOrder" }));
  issues.push(...copierFitIssues(w, at.options, issues));
  if (issues.length > 0) throw issuesError(`start ${at.method}`, issues);
  const config = at.options.copyPolicy ?? w.profile.vmm.copyPolicy.value as CopyPolicyConfig;
  return bmcastRun(w, node, { ...at, policy: makeCopyPolicy(config) });
}

/**
 * A per-run copier against the profile's, as the profile's own checks hold
 * them (lib/deploy profile: vmm): a rate policy's bucket holds one copy
 * chunk, else the copier never copies; the chunks fetched ahead and the one
 * written fit in the VMM's memory above its image (3/4 of it). Only options
 * without an issue of their own in `known` are checked.
 */
function copierFitIssues(w: World, options: StartupOptions, known: FieldIssue[]): FieldIssue[] {
  const v = values(w.profile.vmm);
  const clean = (f: string) => !known.some((i) => i.field === f || i.field.startsWith(`${f}.`));
  const issues: FieldIssue[] = [];
  const p = options.copyPolicy;
  const burst = p?.kind === "rate" && clean("copyPolicy")
    ? rateBurstIssue("copyPolicy.burstBytes", p.burstBytes, v)
    : undefined;
  if (burst !== undefined) issues.push(burst);
  const pipeline = options.copyPipeline;
  if (pipeline !== undefined && clean("copyPipeline")) {
    const issue = copyPipelineIssue("copyPipeline", pipeline, v);
    if (issue !== undefined) issues.push(issue);
  }
  return issues;
}

function* bmcastRun(
  w: World,
  node: Node,
  at: { options: StartupOptions; method: string; feed: CopyFeed; policy: CopyPolicy },
): ProcessGenerator<StartupResult> {
  const { options, method, feed, policy } = at;
  const t0 = w.sim.now;
  const phases: PhaseSpan[] = [];
  const v = values(w.profile.vmm);
  yield* node.firmware.pxeBoot({ payloadBytes: v.payloadBytes });
  const vmm = new Vmm({
    sim: w.sim,
    cpus: node.cpus,
    bus: node.bus,
    e820: node.e820,
    memory: { base: VMM_MEMORY_END - v.memoryBytes, size: v.memoryBytes },
    costs: {
      init: v.init,
      perCpuStart: v.perCpuStart,
      mmioHandler: v.mmioHandler,
      commandInterpret: v.commandInterpret,
      pollInterval: v.pollInterval,
      vmxoffSkew: v.vmxoffSkew,
    },
  });
  const map = new BlockMap({
    sectors: w.imageSectors,
    chunkSectors: v.chunkSectors,
    needed: w.copyRuns,
  });
  const image = imageSource(w, node);
  const mediator = new AhciMediator({
    sim: w.sim,
    vmm,
    bus: node.bus,
    memory: node.memory,
    irq: node.irq,
    vector: AHCI_VECTOR,
    abar: ABAR,
    port: 0,
    map,
    image,
    readAhead: v.readAheadSectors,
  });
  vmm.addMediator(mediator);
  yield* vmm.start();
  recordPhase(w, node, phases, "VMM boot", t0);
  const copier = new BackgroundCopier({
    sim: w.sim,
    map,
    image,
    io: mediator,
    policy,
    pipeline: options.copyPipeline ?? v.pipeline,
    order: options.copyOrder,
  });
  if (options.backgroundCopy ?? true) {
    w.sim.process(COPY_FEEDS[feed](w, node, copier), `${node.name}/copier`);
  }
  const t1 = w.sim.now;
  yield* node.firmware.localBoot();
  const { boot, driver, cpus } = yield* bootLocalOs(w, node);
  recordPhase(w, node, phases, "OS boot", t1);
  return {
    method,
    phases,
    total: w.sim.now - t0,
    boot,
    driver,
    cpus,
    vmm,
    mediator,
    copier,
  };
}

/**
 * Image copy: PXE-boot an installer, copy the image (all of it, or its used
 * blocks: `image.copyScope`) from the server to the local disk (network
 * fetch and disk write pipelined), reboot through the firmware, boot the OS
 * locally. Takes {@link StartupOptions} and ignores them (they are BMcast's).
 * @throws RangeError at the call for an unknown option
 */
export function imageCopy(
  w: World,
  node: Node,
  options: StartupOptions = {},
): ProcessGenerator<StartupResult> {
  requireStartupOptions("start image-copy", options);
  return installed(w, node, "image-copy", () => copyImage(w, node));
}

/**
 * The installer's copy of the image to the node's local disk: it reads the
 * copy's runs (`w.copyRuns`) from the image server in chunks of
 * `installer.copyChunkBytes`, keeping `installer.copyDepth` chunks in flight
 * while it writes one, and flushes the disk at the end. Run it from an
 * installer (or any OS) running on the node, e.g. after
 * `node.firmware.pxeBoot`.
 * @example
 * ```ts
 * import { buildWorld, BUILTIN_PROFILE, loadProfile } from "./mod.ts";
 * import { copyImage, requireImageOnDisk } from "./strategies.ts";
 * const w = buildWorld(await loadProfile(BUILTIN_PROFILE), { imageBytes: 12e9 });
 * w.sim.process(copyImage(w, w.nodes[0]));
 * w.sim.run();
 * requireImageOnDisk("check the copy", w, w.nodes[0]); // throws where a sector is missing
 * ```
 */
export function* copyImage(w: World, node: Node): ProcessGenerator<void> {
  const inst = values(w.profile.installer);
  // The copy tool: read a chunk of the copy's runs from the server (split
  // into protocol-sized requests), write it to the disk; the next fetch
  // overlaps the write.
  const chunks = w.copyRuns.flatMap((r) => splitRun(r, Math.floor(inst.copyChunkBytes / 512)));
  const maxReq = w.profile.image.maxRequestSectors.value;
  const fetch = (chunk: Run): SimEvent<Int32Array[]> => {
    const parts = splitRun(chunk, maxReq).map((r) =>
      node.image.read({ imageId: node.imageId, ...r })
    );
    return w.sim.allOf(parts) as SimEvent<Int32Array[]>;
  };
  // Keep `copyDepth` chunks in flight on the network while one is written.
  const ahead: SimEvent<Int32Array[]>[] = [];
  let fetched = 0;
  const refill = () => {
    while (ahead.length < inst.copyDepth && fetched < chunks.length) {
      ahead.push(fetch(chunks[fetched++]));
    }
  };
  let pendingWrite: SimEvent<unknown> | undefined;
  for (const { lba } of chunks) {
    refill();
    const parts = (yield ahead.shift()!) as Int32Array[];
    refill();
    const versions = concatVersions(parts);
    yield w.sim.timeout(inst.copyCpuPerChunk);
    if (pendingWrite) yield pendingWrite;
    pendingWrite = node.disk.submit({ op: "write", lba, versions });
  }
  if (pendingWrite) yield pendingWrite;
  yield node.disk.submit({ op: "flush" });
}

/**
 * An installer's deployment: PXE-boot the installer, let it `install` the
 * image on the local disk (the "image copy" phase), reboot through the
 * firmware, boot the OS from the local disk.
 */
function* installed(
  w: World,
  node: Node,
  method: string,
  install: () => ProcessGenerator<void>,
): ProcessGenerator<StartupResult> {
  const t0 = w.sim.now;
  const phases: PhaseSpan[] = [];
  const inst = values(w.profile.installer);
  yield* node.firmware.pxeBoot({ payloadBytes: inst.payloadBytes });
  yield w.sim.timeout(inst.bootTime);
  yield* install();
  recordPhase(w, node, phases, "image copy", t0);
  const t1 = w.sim.now;
  yield* firmwareReboot(w, node);
  recordPhase(w, node, phases, "reboot and firmware init", t1);
  const t2 = w.sim.now;
  yield* node.firmware.localBoot();
  const { boot, driver, cpus } = yield* bootLocalOs(w, node);
  recordPhase(w, node, phases, "OS boot", t2);
  return { method, phases, total: w.sim.now - t0, boot, driver, cpus };
}

/**
 * Image copy by multicast (beyond the paper; Frisbee-style, see
 * lib/image/multicast.ts): PXE-boot the installer, join the image server's
 * multicast session, write each chunk as it arrives (chunks the buffer
 * cannot hold are asked for again), then reboot and boot locally like
 * {@link imageCopy}. Nodes installing together share one stream. Takes
 * {@link StartupOptions} and ignores them (they are BMcast's).
 * @throws RangeError at the call for an unknown option
 */
export function imageCopyMulticast(
  w: World,
  node: Node,
  options: StartupOptions = {},
): ProcessGenerator<StartupResult> {
  requireStartupOptions("start image-copy-multicast", options);
  return installed(w, node, "image-copy-multicast", function* () {
    yield joinMulticast(w, node, {
      bufferBytes: w.profile.installer.multicastBufferBytes.value,
      write: (lba, versions) => node.disk.submit({ op: "write", lba, versions }),
    });
    yield node.disk.submit({ op: "flush" });
  });
}

/** Joins the world's multicast session from `node`; the event succeeds once every piece was written. */
function joinMulticast(
  w: World,
  node: Node,
  rx: Pick<MulticastReceiverOptions, "bufferBytes" | "write">,
): SimEvent<void> {
  const session = w.multicasts.find((m) =>
    m.server.host === node.server && m.imageId === node.imageId
  )!;
  return new MulticastReceiver({
    network: w.network,
    host: node.name,
    server: node.server,
    port: session.port,
    protocol: w.protocol,
    imageId: node.imageId,
    blocks: w.imageSectors,
    want: w.copyRuns,
    chunkSectors: session.chunkSectors,
    inflater: node.image.inflater,
    idleTimeout: w.profile.imageServer.multicastIdleTimeout.value,
    ...rx,
  }).start();
}

/**
 * OS streaming with an NFS root: PXE kernel and initrd, then boot over NFS.
 * Takes {@link StartupOptions} and ignores them (they are BMcast's).
 * @throws RangeError at the call for an unknown option
 */
export function nfsRoot(
  w: World,
  node: Node,
  options: StartupOptions = {},
): ProcessGenerator<StartupResult> {
  requireStartupOptions("start nfsroot", options);
  return nfsRootRun(w, node);
}

function* nfsRootRun(w: World, node: Node): ProcessGenerator<StartupResult> {
  const t0 = w.sim.now;
  const phases: PhaseSpan[] = [];
  yield* node.firmware.pxeBoot({ payloadBytes: w.profile.boot.kernelPayloadBytes.value });
  const n = values(w.profile.nfs);
  const driver = new NfsClient({
    sim: w.sim,
    sectors: w.imageSectors,
    // NFS READs ask for raw blocks: a compressed image is inflated by the server.
    transport: (r) =>
      node.image.read({ imageId: node.imageId, lba: r.lba, count: r.count, compressed: false }),
    costs: { request: n.request, rpc: n.rpc },
    rsize: n.rsize,
    maxInFlight: n.maxInFlight,
    readAhead: n.readAhead,
  });
  const cpus = guestCpus(w, node);
  const boot = yield* osBoot(w, driver, cpus);
  recordPhase(w, node, phases, "OS boot", t0);
  return { method: "nfsroot", phases, total: w.sim.now - t0, boot, driver, cpus };
}

/** When a BMcast node's background copy ran and when it de-virtualized. */
export interface DeploymentSpans {
  /** Copy started (with the VMM, before the OS booted) and completed. */
  copy: PhaseSpan;
  /** De-virtualization, from the complete copy to bare metal. */
  devirtualize: PhaseSpan;
}

/**
 * Waits until BMcast's copy is complete, then de-virtualizes, recording the
 * "copy" and "de-virtualize" phases of the node; returns them.
 */
export function* finishDeployment(
  w: World,
  node: Node,
  up: StartupResult,
): ProcessGenerator<DeploymentSpans> {
  if (up.vmm === undefined) {
    throw new TypeError(`Cannot finish deployment of '${node.name}': it runs no VMM`);
  }
  const t0 = up.copier?.stats.startedAt ?? w.sim.now;
  yield* up.vmm.untilFinished();
  w.rec.span(node.name, "copy", t0, w.sim.now);
  const t1 = w.sim.now;
  yield* up.vmm.devirtualize();
  w.rec.span(node.name, "de-virtualize", t1, w.sim.now);
  return {
    copy: { phase: "copy", start: t0, end: t1 },
    devirtualize: { phase: "de-virtualize", start: t1, end: w.sim.now },
  };
}

/** Keeps the type of the AHCI driver visible to callers that need its stats. */
export type { AhciDriver };
