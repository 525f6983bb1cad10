/**
 * Hardware-and-software profiles: every cost parameter of a run with its
 * source (a datasheet, a public measurement, or "calibrated to <figure>").
 * Parsed once at the edge with zod; a bad profile is rejected with every
 * issue listed by path. Sections mirror the models' option objects, so the
 * deployment layer passes `values(section)` straight to a constructor.
 */
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import {
  closestNames,
  decimalRule,
  didYouMean,
  type FieldIssue,
  fieldIssue,
  issuesError,
  issuesMessage,
  showValue,
  unknownKeyIssues,
  valueAt,
  valueOfText,
} from "../_util/mod.ts";
import { HCA_LATENCY_OPTIONS, hcaLatencyIssues, hddIssues, HIGH_MEMORY } from "../hw/mod.ts";
import {
  remoteImageFileIssues,
  VIRTIO_COST_FIELDS,
  type VirtioBlkCosts,
  virtioBlkIssues,
} from "../kvm/mod.ts";
import { cableIssues, INFINIBAND_OPTIONS, infinibandIssues } from "../net/mod.ts";
import { CopyPolicySchema } from "../vmm/mod.ts";
import {
  bootExtents,
  type BootParams,
  BootParamsSchema,
  type BootReplay,
  BootReplaySchema,
  type BootTraceOp,
  KvClientParamsSchema,
  KvStoreParamsSchema,
  parseBootTraceFile,
} from "../workload/mod.ts";

const WHERE = "(datasheet, measurement, or 'calibrated to <figure>')";
// Missing, not text, too short: each says so (parseProfile shows only a value's own value).
const sourceText = () =>
  z.string({
    error: (i) =>
      i.input === undefined
        ? `every parameter needs a source ${WHERE}`
        : `a source must be text ${WHERE}: current value is ${showValue(i.input)}`,
  }).min(3, {
    error: (i) =>
      `a source must be at least 3 characters ${WHERE}: current value is ${showValue(i.input)}`,
  });

/**
 * A parameter's unit as the schema defines it: text for a value ("ns",
 * "bytes/s", the choices "all | used"); for an object-valued parameter, each
 * field's; for a list, its items' (a one-item array).
 */
type Unit = string | readonly [Unit] | { readonly [field: string]: Unit };

// Each parameter's unit, by its schema: where a parameter is defined, so is its unit.
const UNITS = new WeakMap<z.ZodType, Unit>();

/**
 * A parameter: a value in `unit` and where it comes from. An object-valued
 * parameter may also give some of its fields a source of their own
 * (`fieldSources`), where they come from different places.
 */
function param<T extends z.ZodTypeAny>(value: T, unit: Unit) {
  const schema = z.object({
    value,
    source: sourceText(),
    fieldSources: z.record(z.string(), sourceText()).optional(),
  }, {
    // A bare value (`"rpm": 15000`) or none: the form every parameter takes.
    error: (i) =>
      i.code === "invalid_type"
        ? `must be { "value": ..., "source": "..." } (every parameter has a source): current value is ${
          showValue(i.input)
        }`
        : undefined,
  }).strict().superRefine((p, ctx) => {
    const { value: v, fieldSources } = p as { value: unknown; fieldSources?: object };
    const fields = typeof v === "object" && v !== null ? Object.keys(v) : undefined;
    for (const field of Object.keys(fieldSources ?? {})) {
      if (fields?.includes(field)) continue;
      ctx.addIssue({
        code: "custom",
        path: ["fieldSources", field],
        message: `names no field of the value${
          fields === undefined
            ? ` (${showValue(v)} has no fields)`
            : `${didYouMean(field, fields, JSON.stringify)} (it has: ${fields.join(", ")})`
        }`,
      });
    }
  });
  UNITS.set(schema, unit);
  return schema;
}
/**
 * A parameter added after profiles were written: where a profile leaves it
 * out it takes `value`, its source saying so, so an older full copy of a
 * profile still loads.
 */
function added<S extends z.ZodTypeAny>(schema: S, value: unknown, why: string) {
  const fill = { value, source: `not in the profile, the default: ${why}` };
  const wrapped = schema.default(fill as never);
  UNITS.set(wrapped, UNITS.get(schema)!);
  return wrapped;
}
/** A time, integer ns (SimTime, as every model takes it). */
const ns = () => param(z.number().int().nonnegative(), "ns");
const pos = (unit: string) => param(z.number().positive(), unit);
const nonneg = (unit: string) => param(z.number().nonnegative(), unit);
const frac = () => param(z.number().min(0).max(1), "fraction");
const int = (unit: string) => param(z.number().int().positive(), unit);
/** A size the disk interfaces move in whole sectors, bytes. */
const sectorsBytes = () =>
  param(z.number().int().positive().multipleOf(512, "must be a multiple of 512"), "bytes");
const count = (unit: string) => param(z.number().int().nonnegative(), unit);
const FLAG = "true | false";
const flag = () => param(z.boolean(), FLAG);
/** One of `choices`: its unit names them. */
const choice = <const T extends readonly [string, ...string[]]>(...choices: T) =>
  param(z.enum(choices), choices.join(" | "));

/** A problem inside an object-valued parameter: where below its value, and what is wrong. */
interface ValueIssue {
  path: readonly PropertyKey[];
  message: string;
}

/**
 * An object-valued parameter whose value the model that takes it checks:
 * `check` lists every problem, by the model's own schema or checks, so a
 * bad value is reported when the profile is parsed (or a `--set` applied)
 * rather than deep in a run. The value is kept as written: defaults are the
 * model's business.
 */
const obj = (
  check: (value: Record<string, unknown>) => ValueIssue[],
  units: { readonly [field: string]: Unit },
) =>
  param(
    z.record(z.string(), z.any()).superRefine((value, ctx) => {
      for (const i of check(value)) {
        ctx.addIssue({ code: "custom", path: [...i.path], message: i.message });
      }
    }),
    units,
  );

/** A model's zod schema as a check: each issue with the value found at its path. */
function bySchema(schema: z.ZodType) {
  return (value: unknown): ValueIssue[] => {
    const r = schema.safeParse(value);
    if (r.success) return [];
    return r.error.issues.map((i) => {
      const v = valueAt(value, i.path);
      const shown = v === undefined || typeof v === "object"
        ? ""
        : `: current value is ${showValue(v)}`;
      return { path: i.path, message: `${i.message}${shown}` };
    });
  };
}

/** A model's own checks' issues, its option names renamed to the parameter's fields. */
function byFields(
  issues: readonly FieldIssue[],
  rename: (field: string) => string = (f) => f,
): ValueIssue[] {
  return issues.map((i) => ({ path: rename(i.field).split("."), message: i.message }));
}

/** Just `keys` of an object-valued parameter (what one model takes of it). */
function only(value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => keys.includes(k)));
}

/** A misspelt field: named with every field the parameter takes (the models' and the deploy layer's). */
function unknownFields(value: Record<string, unknown>, known: readonly string[]): ValueIssue[] {
  return unknownKeyIssues(value, known).map((i) => ({ path: [i.field], message: i.message }));
}

/** A boot to replay (`boot.params` with a `trace`): inline operations, at least one read. */
function traceIssues(value: Record<string, unknown>): ValueIssue[] {
  if (typeof value.trace === "string" || isRecord(value.trace)) {
    // The other fields are checked all the same, as with one read in the trace's place.
    const read = { op: "read", lba: 0, count: 1, thinkNs: 0 };
    return [{
      path: ["trace"],
      message: `must be the trace's operations: a file (${
        showValue(value.trace)
      }) is read only by loadProfile, relative to the profile file`,
    }, ...bySchema(BootReplaySchema)({ ...value, trace: [read] })];
  }
  // A long trace with one systematic mistake: its first issues say enough.
  const all = bySchema(BootReplaySchema)(value);
  const issues = all.slice(0, 10);
  if (all.length > 10) {
    issues.push({ path: ["trace"], message: `and ${all.length - 10} more issues` });
  }
  const trace = value.trace as { op?: unknown }[];
  if (issues.length === 0 && !trace.some((o) => o.op === "read")) {
    issues.push({
      path: ["trace"],
      message: "must have at least one read (an OS boot reads its files)",
    });
  }
  return issues;
}

/** A sector address: 512-byte sectors from the start of the disk or image. */
const LBA = "sector (LBA)";
/** A weight among others: what counts is its share of their sum. */
const WEIGHT = "relative weight";

/**
 * The object-valued parameters, each checked by the models that take it
 * (see lib/deploy kvm.ts, rdma.ts, strategies.ts and world.ts for how each
 * value reaches them).
 */
const objects = {
  /** lib/vmm CopyPolicySchema: the fields of every kind. */
  copyPolicy: () =>
    obj(bySchema(CopyPolicySchema), {
      kind: "idle | rate | adaptive",
      idleThreshold: "ns",
      recheck: "ns",
      bytesPerSecond: "bytes/s",
      burstBytes: "bytes",
      minIdle: "ns",
      maxIdle: "ns",
      step: "ns",
      redirectAware: FLAG,
    }),
  /**
   * lib/workload BootParamsSchema (the generator's parameters) or, with a
   * `trace` field, BootReplaySchema (a recorded boot to replay; a file name
   * there is read by {@link loadProfile}).
   */
  bootParams: () =>
    obj((v) => "trace" in v ? traceIssues(v) : bySchema(BootParamsSchema)(v), {
      readBytes: "bytes",
      readRequests: "requests",
      sizes: [{ bytes: "bytes", weight: WEIGHT }],
      sequentialFraction: "fraction",
      regions: [{ name: "text", lba: LBA, sectors: "sectors", weight: WEIGHT }],
      alignSectors: "sectors",
      writes: { requests: "requests", bytes: "bytes", lba: LBA, sectors: "sectors" },
      // A phase's share of the read requests is apportioned: a weight, not a fraction.
      phases: [{ name: "text", cpuNs: "ns", share: WEIGHT, parallelism: "readers" }],
      memoryBound: "fraction",
      trace: [{ op: "read | write", lba: LBA, count: "sectors", thinkNs: "ns", phase: "text" }],
      parallelism: "readers",
    }),
  /**
   * virtio-blk's costs (lib/kvm VirtioBlk), and the KVM/NFS image file's
   * queue depth (`imageQueueDepth`) and overlay cost (RemoteImageFile).
   */
  virtio: () =>
    obj((v) => [
      ...unknownFields(v, [...VIRTIO_COST_FIELDS, "imageQueueDepth", "overlayAccess"]),
      ...byFields(
        virtioBlkIssues({ costs: only(v, VIRTIO_COST_FIELDS) as unknown as VirtioBlkCosts }),
        (f) => f.replace(/^costs\./, ""),
      ),
      ...byFields(
        remoteImageFileIssues({
          queueDepth: v.imageQueueDepth as number | undefined,
          overlayAccess: v.overlayAccess as number,
        }),
        (f) => f === "queueDepth" ? "imageQueueDepth" : f,
      ),
    ], {
      // VirtioBlkCosts are all times (SimTime); the image file's queue depth counts reads.
      ...Object.fromEntries(VIRTIO_COST_FIELDS.map((f) => [f, "ns"])),
      overlayAccess: "ns",
      imageQueueDepth: "reads in flight",
    }),
  /** lib/net InfinibandFabric's options, and each HCA's cable (`cableMeters`). */
  fabric: () =>
    obj((v) => [
      ...unknownFields(v, [...INFINIBAND_OPTIONS, "cableMeters"]),
      ...byFields(infinibandIssues(only(v, INFINIBAND_OPTIONS))),
      ...byFields(
        cableIssues({ meters: v.cableMeters as number }),
        () => "cableMeters",
      ),
    ], {
      lanes: "lanes",
      // Signalling per lane, bits: unlike network.lineRate (bytes/s).
      laneRate: "bit/s",
      encodingEfficiency: "fraction",
      switchLatency: "ns",
      propagationPerMeter: "ns/m",
      mtu: "bytes",
      packetOverhead: "bytes",
      firstPacketOverhead: "bytes",
      cableMeters: "m",
    }),
  /** lib/hw Hca's latency options, and the poll loop's memory-bound fraction (`pollMemoryBound`). */
  hca: () =>
    obj((v) => [
      ...unknownFields(v, [...HCA_LATENCY_OPTIONS, "pollMemoryBound"]),
      ...byFields(hcaLatencyIssues(only(v, HCA_LATENCY_OPTIONS))),
      ...bySchema(z.object({ pollMemoryBound: z.number().min(0).max(1).optional() }))(
        { pollMemoryBound: v.pollMemoryBound },
      ),
    ], {
      pcieRoundTrip: "ns",
      txProcessing: "ns",
      rxProcessing: "ns",
      wqeFetch: FLAG,
      inline: FLAG,
      completion: "memory | cq",
      pollPeriod: "ns",
      iommu: { enabled: FLAG, iotlbMissCost: "ns", missRatio: "fraction" },
      pollMemoryBound: "fraction",
    }),
  /** lib/workload KvStoreParamsSchema. */
  kvStore: () =>
    obj(bySchema(KvStoreParamsSchema), {
      records: "records",
      recordBytes: "bytes",
      blockBytes: "bytes",
      layout: {
        dataLba: LBA,
        sstableLba: LBA,
        sstableSectors: "sectors",
        commitLogLba: LBA,
        commitLogSectors: "sectors",
      },
      pageCacheBytes: "bytes",
      memtableBytes: "bytes",
      writeRequestBytes: "bytes",
      commitLog: { sync: "periodic | batch", periodNs: "ns" },
      cpu: { readNs: "ns", updateNs: "ns", flushNsPerRecord: "ns/record", memoryBound: "fraction" },
    }),
  /** lib/workload KvClientParamsSchema: the YCSB client (the store and the window come apart). */
  kvClient: () =>
    obj(bySchema(KvClientParamsSchema), {
      readProportion: "fraction",
      distribution: "zipfian | uniform",
      zipfConstant: "exponent",
      scramble: FLAG,
      threads: "threads",
      targetOpsPerS: "ops/s",
    }),
};

/** The machines whose disk a profile's `ssd` section is: the nodes, the image servers, or both. */
const SSD_MACHINES = ["nodes", "server", "all"] as const;

/**
 * The `ssd` section if it is the disk of `machine`, else undefined (the
 * machine has the `hdd` section's drive).
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile, ssdOf } from "./profile.ts";
 * const p = await loadProfile(new URL("paper-2015-ssd.json", BUILTIN_PROFILE));
 * console.assert(ssdOf(p, "node") === p.ssd && ssdOf(p, "server") === undefined);
 * ```
 */
export function ssdOf(
  profile: Pick<Profile, "ssd">,
  machine: "node" | "server",
): Profile["ssd"] {
  // An unparsed profile may lack it (ProfileSchema's image-size check): the default.
  const m = profile.ssd?.machines?.value ?? "nodes";
  return m === "all" || m === (machine === "node" ? "nodes" : "server") ? profile.ssd : undefined;
}

const sections = {
  cpu: z.object({
    logicalCpus: int("CPUs"),
    clockHz: pos("Hz"),
    vmExit: ns(),
    vmEntry: ns(),
    mmioRead: ns(),
    mmioWrite: ns(),
    // lib/hw CpuCosts: the extra time of memory-bound work under EPT, a fraction of it.
    eptOverhead: nonneg("fraction"),
    ipi: ns(),
    tlbFlush: ns(),
    interruptLatency: ns(),
    /** zlib inflate output rate of one core, bytes/s (compressed images only). */
    inflateRate: pos("bytes/s"),
  }).strict(),
  memory: z.object({ bytes: int("bytes") }).strict(),
  hba: z.object({
    commandOverhead: ns(),
    prdEntry: ns(),
    fisPost: ns(),
    dmaBandwidth: pos("bytes/s"),
    identify: ns(),
    engineStart: ns(),
    engineStop: ns(),
    fisEngine: ns(),
    hbaReset: ns(),
    linkReset: ns(),
  }).strict(),
  hdd: z.object({
    sectors: int("sectors"),
    rpm: pos("rev/min"),
    trackToTrackSeek: ns(),
    averageSeek: ns(),
    fullStrokeSeek: ns(),
    outerRate: pos("bytes/s"),
    innerRate: pos("bytes/s"),
    interfaceRate: pos("bytes/s"),
    commandOverhead: ns(),
    writeCache: flag(),
    writeCacheBytes: int("bytes"),
    // lib/hw Hdd: 0 or 1 serve queued commands in arrival order.
    sptfWindow: added(count("commands"), 0, "arrival order"),
  }).strict().superRefine((h, ctx) => {
    // lib/hw Hdd's seek curve and zones, checked by the model's own rule.
    const timing = {
      trackToTrackSeek: 0,
      averageSeek: 0,
      fullStrokeSeek: 0,
      outerRate: 0,
      innerRate: 0,
    };
    for (const k of Object.keys(timing) as (keyof typeof timing)[]) {
      const v = h[k]?.value;
      if (!(Number.isFinite(v) && v >= 0)) return; // reported by the field's own schema
      timing[k] = v;
    }
    for (const i of hddIssues(timing)) {
      ctx.addIssue({ code: "custom", path: [i.field, "value"], message: i.message });
    }
  }),
  /**
   * Optional: a SATA SSD (lib/hw SsdOptions) that replaces the `hdd`
   * section's drive in the machines `machines` names: each node's local
   * disk ("nodes"), each image server's disk ("server"), or both ("all").
   */
  ssd: z.object({
    machines: added(choice(...SSD_MACHINES), "nodes", "each node's local disk"),
    sectors: int("sectors"),
    readLatency: ns(),
    writeLatency: ns(),
    channels: int("commands at once"),
    readBandwidth: pos("bytes/s"),
    writeBandwidth: pos("bytes/s"),
    flushLatency: ns(),
    queueDepth: int("commands"),
  }).strict().optional(),
  network: z.object({
    // lib/net Link bandwidth: wire bytes/s (1 Gb/s is 125e6).
    lineRate: pos("bytes/s"),
    linkLatency: ns(),
    switchLatency: ns(),
    /** A sender's first retransmission timeout when an end is unreachable (an outage), ns. */
    retransmitTimeout: int("ns"),
    /** Its largest retransmission timeout (it doubles after each lost try), ns. */
    maxRetransmitTimeout: int("ns"),
    /**
     * Nodes per rack (beyond the paper): node i in rack floor(i / rackSize), each rack's switch
     * with one uplink to a core switch that holds the image servers. 0: one switch for all.
     */
    rackSize: added(count("nodes"), 0, "one switch, as the paper's"),
    /** Each rack's uplink to the core switch, wire bytes/s (with rackSize > 0). */
    uplinkRate: added(pos("bytes/s"), 1.25e9, "10 Gb/s uplinks"),
    /**
     * Each image server's cable, wire bytes/s (beyond the paper: e.g. 10 GbE for a server
     * feeding GbE nodes). 0: lineRate, the paper's server on the nodes' GbE switch.
     */
    serverLinkRate: added(nonneg("bytes/s"), 0, "the line rate, as the paper's server"),
  }).strict(),
  imageServer: z.object({
    /** Image servers; node i uses server i mod count (beyond the paper: it has one). */
    count: param(z.number().int().min(1).max(64), "servers"),
    /**
     * Distinct images the nodes boot, all of the image section's size and
     * layout (e.g. each tenant's own customized image); node i boots image
     * i mod images. Every server holds them all, one after the other on its
     * disk, and its page cache holds each image's pages apart (beyond the
     * paper: it deploys one image).
     */
    images: added(param(z.number().int().min(1).max(128), "images"), 1, "one image, as the paper"),
    /**
     * Serve demand reads first (beyond the paper): a background copy's fetch
     * (BMcast's copier) waits until no other request is at the server.
     */
    demandFirst: added(flag(), false, "first come, first served, as the paper's server"),
    cpuPerRequest: ns(),
    concurrency: int("requests at once"),
    pageCacheBytes: int("bytes"),
    requestLatency: ns(),
    headerBytes: int("bytes"),
    /** Most image bytes/s a multicast session sends (each image's session apart); 0: no limit (the link's rate). */
    multicastRate: nonneg("bytes/s"),
    /** A multicast receiver that has heard nothing this long while it misses chunks asks again, ns. */
    multicastIdleTimeout: int("ns"),
  }).strict(),
  image: z.object({
    bytes: int("bytes"),
    /** Largest block-protocol request, sectors. */
    maxRequestSectors: int("sectors"),
    /**
     * What a copy brings to the local disk: the whole image ("all", the
     * paper) or only its used blocks ("used", beyond the paper: a file-system
     * aware copy as in Frisbee).
     */
    copyScope: choice("all", "used"),
    /**
     * Image bytes per stored byte: 1 sends raw blocks (the paper); above 1
     * (beyond the paper) the server holds and sends the image compressed,
     * Frisbee-style, and the block-protocol clients inflate it.
     */
    compressionRatio: param(z.number().min(1), "image bytes per stored byte"),
  }).strict(),
  firmware: z.object({
    postDuration: ns(),
    localBootDelay: ns(),
    dhcpMessageLatency: ns(),
    dhcpServerDelay: ns(),
    tftpBlockSize: int("bytes"),
    tftpPacketLatency: ns(),
    shutdown: ns(),
  }).strict(),
  guestDriver: z.object({
    issue: ns(),
    complete: ns(),
    pollInterval: int("ns"), // a poll loop's period: at least 1 ns
    maxRequestBytes: sectorsBytes(),
    commandTimeout: ns(),
    commandRetries: count("retries"),
    linkDebounce: ns(),
  }).strict(),
  vmm: z.object({
    payloadBytes: int("bytes"),
    memoryBytes: int("bytes"),
    init: ns(),
    perCpuStart: ns(),
    mmioHandler: ns(),
    commandInterpret: ns(),
    pollInterval: int("ns"), // a poll loop's period: at least 1 ns
    vmxoffSkew: ns(),
    chunkSectors: int("sectors"),
    pipeline: int("chunks"),
    multicastBufferBytes: int("bytes"),
    readAheadSectors: count("sectors"),
    copyPolicy: objects.copyPolicy(),
  }).strict(),
  installer: z.object({
    payloadBytes: int("bytes"),
    bootTime: ns(),
    copyChunkBytes: sectorsBytes(),
    copyDepth: int("chunks"),
    copyCpuPerChunk: ns(),
    multicastBufferBytes: int("bytes"),
  }).strict(),
  boot: z.object({
    /** lib/workload BootParams (validated by its own schema). */
    params: objects.bootParams(),
    /** Where the image's root partition starts, sectors. */
    rootLba: count(LBA),
    cores: int("cores"),
    kernelPayloadBytes: int("bytes"),
  }).strict(),
  nfs: z.object({
    request: ns(),
    rpc: ns(),
    rsize: int("bytes"),
    maxInFlight: int("RPCs"),
    readAhead: count("RPCs"),
  }).strict(),
  kvm: z.object({
    hostOsBoot: ns(),
    vmmStart: ns(),
    guestFirmware: ns(),
    exitHandler: ns(),
    timerExitsPerSecond: nonneg("exits/s per vCPU"),
    virtio: objects.virtio(),
  }).strict(),
  infiniband: z.object({
    fabric: objects.fabric(),
    hca: objects.hca(),
    iommuMissCost: ns(),
    iommuMissRatio: frac(),
  }).strict(),
  cassandra: z.object({
    store: objects.kvStore(),
    workload: objects.kvClient(),
  }).strict(),
};

/** The profile's sections, without the check across them of the image's size. */
const ProfileObject = z.object({
  name: z.string().min(1),
  description: z.string(),
  ...sections,
}).strict().superRefine((p, ctx) => {
  // The guest's cores run on the machine's CPUs (KVM pins a vCPU to each).
  const cores = p.boot?.cores?.value, cpus = p.cpu?.logicalCpus?.value;
  if (typeof cores === "number" && typeof cpus === "number" && cores > cpus) {
    ctx.addIssue({
      code: "custom",
      path: ["boot", "cores", "value"],
      message: `must be <= cpu.logicalCpus (${cpus})`,
    });
  }
  // BMcast's VMM takes its memory just below VMM_MEMORY_END, in RAM the firmware reports usable.
  const ram = p.memory?.bytes?.value, vmmBytes = p.vmm?.memoryBytes?.value;
  if (typeof ram === "number" && typeof vmmBytes === "number") {
    if (vmmBytes > VMM_MEMORY_END - HIGH_MEMORY) {
      ctx.addIssue({
        code: "custom",
        path: ["vmm", "memoryBytes", "value"],
        message: `must be <= ${
          VMM_MEMORY_END - HIGH_MEMORY
        } (the VMM's memory lies between 1 MiB and 0x${VMM_MEMORY_END.toString(16)})`,
      });
    } else if (ram < VMM_MEMORY_END) {
      ctx.addIssue({
        code: "custom",
        path: ["memory", "bytes", "value"],
        message: `must be >= ${VMM_MEMORY_END} (BMcast's VMM takes vmm.memoryBytes below 0x${
          VMM_MEMORY_END.toString(16)
        }, in usable RAM)`,
      });
    }
  }
  vmmIssues(p.vmm, ctx);
  // A sender's timeout doubles from the first up to the largest: a largest below the first has no meaning.
  const rto = p.network?.retransmitTimeout?.value, maxRto = p.network?.maxRetransmitTimeout?.value;
  if (typeof rto === "number" && typeof maxRto === "number" && maxRto < rto) {
    crossIssue(
      ctx,
      "network.maxRetransmitTimeout",
      `must be >= network.retransmitTimeout (${rto})`,
      {
        "network.retransmitTimeout": `must be <= network.maxRetransmitTimeout (${maxRto})`,
      },
    );
  }
  // KVM's timer exits take their cost from each vCPU: all of it would leave the guest nothing.
  const k = p.kvm, c = p.cpu;
  const rate = k?.timerExitsPerSecond?.value;
  const cost = [c?.vmExit?.value, k?.exitHandler?.value, c?.vmEntry?.value];
  if (typeof rate === "number" && cost.every((x) => typeof x === "number")) {
    const share = rate * (cost as number[]).reduce((a, b) => a + b, 0) / 1e9;
    if (share >= 1) {
      ctx.addIssue({
        code: "custom",
        path: ["kvm", "timerExitsPerSecond", "value"],
        message:
          `must keep the exits' time, timerExitsPerSecond x (cpu.vmExit + kvm.exitHandler + cpu.vmEntry), below 100% of a vCPU (it is ${
            (share * 100).toFixed(1)
          }%)`,
      });
    }
  }
});

/**
 * An issue of a check across parameters, reported at `path`'s value; `blame` says, by
 * parameter, what to report instead when that one was changed ({@link applyOverrides}) and
 * `path` was not: the issue then names what the user changed.
 */
function crossIssue(
  ctx: z.RefinementCtx,
  path: string,
  message: string,
  blame: Record<string, string> = {},
  below: readonly string[] = [],
): void {
  ctx.addIssue({
    code: "custom",
    path: [...path.split("."), "value", ...below],
    message,
    params: { blame },
  });
}

/**
 * The VMM's memory above its image (lib/vmm Vmm: the image takes the first
 * quarter), where BMcast's copier keeps its buffers, bytes: 3/4 of
 * `memoryBytes` (rounded up).
 */
function copierRoomBytes(memoryBytes: number): number {
  return memoryBytes - Math.floor(memoryBytes / 4);
}

/**
 * The issue of a per-run copier fetching `pipeline` chunks ahead of the one
 * it writes, named `field`, unless its buffers fit in the VMM's memory above
 * its image (3/4 of `vmm.memoryBytes`), as the profile's own `vmm.pipeline`
 * must; undefined when they do.
 * @example
 * ```ts
 * import { copyPipelineIssue } from "./profile.ts";
 * const vmm = { chunkSectors: 8192, memoryBytes: 256 << 20 };
 * console.assert(copyPipelineIssue("pipeline", 47, vmm) === undefined);
 * console.assert(copyPipelineIssue("pipeline", 48, vmm)?.message.startsWith("must be <= 47 to keep"));
 * ```
 */
export function copyPipelineIssue(
  field: string,
  pipeline: number,
  vmm: { chunkSectors: number; memoryBytes: number },
): FieldIssue | undefined {
  const chunkBytes = vmm.chunkSectors * 512, room = copierRoomBytes(vmm.memoryBytes);
  if ((pipeline + 1) * chunkBytes <= room) return undefined;
  return fieldIssue(
    field,
    `<= ${
      Math.floor(room / chunkBytes) - 1
    } to keep the copier's buffers, (${field} + 1) x ${chunkBytes} bytes, in the VMM's memory above its image (3/4 of vmm.memoryBytes: ${room} bytes)`,
    pipeline,
  );
}

/**
 * The issue of a rate copy policy's bucket, `burstBytes`, named `field`,
 * unless it holds one copy chunk (else the copier never copies), as the
 * profile's own `vmm.copyPolicy` must; undefined when it does.
 * @example
 * ```ts
 * import { rateBurstIssue } from "./profile.ts";
 * console.assert(rateBurstIssue("burstBytes", 4 << 20, { chunkSectors: 8192 }) === undefined);
 * console.assert(rateBurstIssue("burstBytes", 1e6, { chunkSectors: 8192 })?.message.startsWith(
 *   "must be >= the copy chunk (vmm.chunkSectors: 8192 x 512 = 4194304 bytes)",
 * ));
 * ```
 */
export function rateBurstIssue(
  field: string,
  burstBytes: number,
  vmm: { chunkSectors: number },
): FieldIssue | undefined {
  const chunkBytes = vmm.chunkSectors * 512;
  if (burstBytes >= chunkBytes) return undefined;
  return fieldIssue(
    field,
    `>= the copy chunk (vmm.chunkSectors: ${vmm.chunkSectors} x 512 = ${chunkBytes} bytes), or the copier never copies`,
    burstBytes,
  );
}

function vmmIssues(v: z.infer<typeof sections.vmm> | undefined, ctx: z.RefinementCtx): void {
  const chunk = v?.chunkSectors?.value, pipeline = v?.pipeline?.value;
  const memory = v?.memoryBytes?.value;
  const whole = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 1;
  if (whole(chunk) && whole(pipeline) && whole(memory)) {
    const room = copierRoomBytes(memory);
    const held = (pipeline + 1) * chunk * 512;
    if (held > room) {
      const why = `the copier's buffers, (vmm.pipeline + 1) x vmm.chunkSectors x 512 bytes ` +
        `(the chunks fetched ahead and the one written), in the VMM's memory above its image ` +
        `(3/4 of vmm.memoryBytes: ${room} bytes)`;
      crossIssue(
        ctx,
        "vmm.chunkSectors",
        `must be <= ${Math.floor(room / ((pipeline + 1) * 512))} to keep ${why}`,
        {
          "vmm.pipeline": `must be <= ${
            Math.max(0, Math.floor(room / (chunk * 512)) - 1)
          } to keep ${why}`,
          "vmm.memoryBytes": `must be >= ${
            Math.ceil(held * 4 / 3)
          } to hold the copier's buffers, (vmm.pipeline + 1) x vmm.chunkSectors x 512 = ${held} bytes, above the VMM's image (its first quarter)`,
        },
      );
    }
  }
  const policy = v?.copyPolicy?.value;
  if (whole(chunk) && isRecord(policy) && policy.kind === "rate") {
    const burst = typeof policy.burstBytes === "number" ? policy.burstBytes : 0;
    const issue = burst > 0
      ? rateBurstIssue("vmm.copyPolicy", burst, { chunkSectors: chunk })
      : undefined;
    if (issue !== undefined) {
      crossIssue(
        ctx,
        "vmm.copyPolicy",
        issue.message,
        {
          "vmm.chunkSectors": `must be <= ${
            Math.floor(burst / 512)
          } for the rate copy policy's bucket (vmm.copyPolicy burstBytes: ${burst}) to hold a chunk, or the copier never copies`,
        },
        ["burstBytes"],
      );
    }
  }
}

/** Where BMcast's VMM memory ends, guest-physical: it sits just below, under 4 GiB, as BitVisor's does. */
export const VMM_MEMORY_END = 0xc000_0000;

/** The profile schema. */
export const ProfileSchema = ProfileObject.superRefine((p, ctx) => {
  // Across sections: the image must hold the boot and fit on the disks. Run
  // even when other parts failed (every issue at once), on the parts it
  // needs once they are valid.
  const valid = (schema: z.ZodType, v: unknown) => schema.safeParse(v).success;
  const { image, boot, hdd, ssd, imageServer } = sections;
  if (
    typeof p !== "object" || p === null ||
    !valid(imageServer.shape.images, p.imageServer?.images) ||
    !valid(image.shape.bytes, p.image?.bytes) ||
    !valid(image.shape.compressionRatio, p.image?.compressionRatio) ||
    !valid(boot.shape.params, p.boot?.params) || !valid(boot.shape.rootLba, p.boot?.rootLba) ||
    !valid(hdd.shape.sectors, p.hdd?.sectors) ||
    (p.ssd !== undefined && (!valid(ssd.unwrap().shape.sectors, p.ssd.sectors) ||
      !valid(ssd.unwrap().shape.machines, p.ssd.machines)))
  ) return;
  const issue = imageCheck(p);
  if (issue !== undefined) crossIssue(ctx, "image.bytes", issue.message, issue.blame);
}, { when: () => true });

/**
 * The profile's image against its boot and its disks ({@link imageSizeIssue}): the issue
 * of `image.bytes`, and what to say instead of a parameter on the other side when that
 * one was changed (the disk that cannot hold the image, the boot that reads beyond it).
 */
function imageCheck(
  p: Pick<Profile, "boot" | "hdd" | "ssd" | "image" | "imageServer">,
): { message: string; blame: Record<string, string> } | undefined {
  const bytes = p.image.bytes.value;
  const rule = imageSizeIssue(p, bytes);
  if (rule === undefined) return undefined;
  const r = imageSizeRange(p);
  const sectors = Math.ceil(bytes / 512);
  const image = `the image (image.bytes: ${bytes}, ${sectors} sectors)`;
  const blame: Record<string, string> = {};
  if (bytes > r.max) {
    // Each disk too small for it: what it must hold.
    const ratio = p.image.compressionRatio.value, images = p.imageServer.images.value;
    // A disk both machines have must hold the larger of the two.
    const needs = new Map<string, { need: number; what: string }>();
    const need = (machine: "node" | "server", n: number, what: string) => {
      const ssd = ssdOf(p, machine);
      const field = ssd ? "ssd.sectors" : "hdd.sectors";
      const have = ssd ? ssd.sectors.value : p.hdd.sectors.value;
      if (n > have && n > (needs.get(field)?.need ?? 0)) needs.set(field, { need: n, what });
    };
    need("node", sectors, image);
    need(
      "server",
      images * Math.ceil(sectors / ratio),
      `${image} as the image server stores ${
        images > 1 ? `each of its imageServer.images (${images})` : "it"
      } (image.compressionRatio: ${ratio})`,
    );
    for (const [field, d] of needs) blame[field] = `must be >= ${d.need} to hold ${d.what}`;
  } else if (bytes < r.min) {
    // What lies beyond the image: the root partition's start, or the boot's reads and writes.
    const root = p.boot.rootLba.value;
    if (root >= sectors) {
      blame["boot.rootLba"] =
        `must be < the image's sectors (image.bytes: ${bytes}, ${sectors} sectors): the root partition starts inside the image`;
    }
    const e = bootExtents(p.boot.params.value as BootParams | BootReplay);
    if (Math.max(e.readEnd, e.writeEnd) > sectors) {
      blame["boot.params"] = `must read and write inside ${image}: it reaches sector ${
        Math.max(e.readEnd, e.writeEnd)
      }`;
    }
  }
  return { message: `${rule}: current value is ${bytes}`, blame };
}

/**
 * The issue of a profile's image size ({@link imageSizeIssue}) as a profile issue,
 * `path.value: rule: current value is ...`: of `image.bytes`, or, when `changed` (the
 * dotted paths a caller changed, as {@link applyOverrides} takes them) names the
 * parameter on the other side and not `image.bytes`, of that one (e.g. `hdd.sectors`,
 * too small to hold the image). Undefined when the image fits.
 * @example
 * ```ts
 * import { applyOverrides, BUILTIN_PROFILE, loadProfile, profileImageIssue } from "./profile.ts";
 * const set = { "hdd.sectors": 41_943_040 };
 * const p = applyOverrides(await loadProfile(BUILTIN_PROFILE), set, { checkImageSize: false });
 * console.assert(profileImageIssue(p)?.startsWith("image.bytes.value: must be"));
 * console.assert(profileImageIssue(p, Object.keys(set))?.startsWith("hdd.sectors.value: must be >= 62500000 to hold the image"));
 * ```
 */
export function profileImageIssue(
  profile: Pick<Profile, "boot" | "hdd" | "ssd" | "image" | "imageServer">,
  changed: readonly string[] = [],
): string | undefined {
  const issue = imageCheck(profile);
  if (issue === undefined) return undefined;
  const [path, message] = blamed("image.bytes", issue.message, issue.blame, changed);
  const v = valueAt(profile, [...path.split("."), "value"]);
  const shown = typeof v === "object" || message.includes("current value")
    ? ""
    : `: current value is ${showValue(v)}`;
  return `${path}.value: ${message}${shown}`;
}

/**
 * Which parameter a cross-parameter issue at `path` names: `path` itself, unless `changed`
 * leaves it alone and changes one that `blame` has a message for (the first such).
 */
function blamed(
  path: string,
  message: string,
  blame: Readonly<Record<string, string>>,
  changed: readonly string[],
): [string, string] {
  const covers = (field: string) =>
    changed.some((c) => c === field || c.startsWith(`${field}.`) || field.startsWith(`${c}.`));
  if (covers(path)) return [path, message];
  const other = Object.keys(blame).find(covers);
  return other === undefined ? [path, message] : [other, blame[other]];
}

/** A parsed profile. */
export type Profile = z.infer<typeof ProfileSchema>;
/** Section names: the profile's keys other than `name` and `description` ("cpu", "hdd", "vmm", ...). */
export type SectionName = Exclude<keyof Profile, "name" | "description">;

/**
 * What is wrong with `profile` as an argument, if it is not a valid profile
 * (an object with every required section, each of which its schema accepts;
 * the image's size is the caller's to check): a library function given,
 * say, the profile's path, `{}` or a hand-edited copy with `hdd: {}` names
 * what is wrong instead of failing deep inside. A profile found valid is
 * remembered (a WeakSet), so checking it again is free: edit a copy, not a
 * profile already checked.
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile, profileIssue } from "./profile.ts";
 * const p = await loadProfile(BUILTIN_PROFILE);
 * console.assert(profileIssue(p) === undefined);
 * console.assert(profileIssue("paper-2015.json")?.message.startsWith("must be a profile (loadProfile, parseProfile)"));
 * const bad = { ...p, hdd: { ...p.hdd, rpm: { ...p.hdd.rpm, value: -1 } } };
 * console.assert(profileIssue(bad)?.message.includes("its issues: hdd.rpm.value: Too small"));
 * ```
 */
export function profileIssue(profile: unknown, field = "profile"): FieldIssue | undefined {
  const isObject = isRecord(profile);
  if (isObject && validProfiles.has(profile)) return undefined;
  const missing = isObject
    ? REQUIRED_SECTIONS.filter((k) => !isRecord(profile[k]))
    : REQUIRED_SECTIONS;
  if (isObject && missing.length === 0) {
    try {
      parseProfile(profile, { checkImageSize: false });
      validProfiles.add(profile);
      return undefined;
    } catch (e) {
      if (!(e instanceof ProfileError)) throw e;
      const shown = e.issues.slice(0, 3);
      const more = e.issues.length - shown.length;
      return {
        field,
        message: `must be a valid profile (loadProfile, parseProfile); its issues: ${
          shown.join("; ")
        }${more > 0 ? ` (and ${more} more)` : ""}`,
      };
    }
  }
  const why = isObject ? `; sections missing or not objects: ${missing.join(", ")}` : "";
  return {
    field,
    message: `must be a profile (loadProfile, parseProfile)${why}: current value is ${
      isObject ? "an object" : showValue(profile)
    }`,
  };
}

/** Profiles {@link profileIssue} found valid. */
const validProfiles = new WeakSet<object>();

/** The sections every profile has (all but the optional `ssd`). */
const REQUIRED_SECTIONS = Object.entries(sections)
  .filter(([, s]) => !s.safeParse(undefined).success).map(([k]) => k);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The smallest image, bytes, that holds every area the profile's boot reads
 * and writes (boot.params regions and log writes, or its trace's
 * requests: lib/workload `bootExtents`) and the root partition's first
 * sector (`boot.rootLba`): a smaller image would have the OS read files
 * that are not in it, or a copy of its used blocks copy what is not.
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile, minImageBytes } from "./profile.ts";
 * console.assert(minImageBytes(await loadProfile(BUILTIN_PROFILE)) === 20_200_000 * 512);
 * ```
 */
export function minImageBytes(profile: Pick<Profile, "boot">): number {
  const e = bootExtents(profile.boot.params.value as BootParams | BootReplay);
  return Math.max(e.readEnd, e.writeEnd, profile.boot.rootLba.value + 1) * 512;
}

/** The image sizes a profile's machines can run, bytes, and what sets each bound. */
export interface ImageSizeRange {
  /** Smallest: {@link minImageBytes}. */
  min: number;
  /** Largest (whole sectors): what each node's local disk holds, and each image server's disk as stored. */
  max: number;
  /** Why `min`, e.g. "to hold every area the profile's boot reads and writes (up to sector 20200000)". */
  minReason: string;
  /** Why `max`, e.g. "to fit on the node's disk (hdd.sectors: 976773168)". */
  maxReason: string;
}

/**
 * The image sizes a profile's machines can run: at least what the boot
 * reads and writes, at most what a node's local disk holds and what an
 * image server's disk holds of it as stored (compressed by
 * `image.compressionRatio`; a server holds `imageServer.images` of them); each disk is the `ssd` section's where its
 * `machines` names that machine ({@link ssdOf}), else the `hdd` section's.
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, imageSizeRange, loadProfile } from "./profile.ts";
 * const r = imageSizeRange(await loadProfile(BUILTIN_PROFILE));
 * console.assert(r.min === 10_342_400_000 && r.max === 976_773_168 * 512);
 * ```
 */
export function imageSizeRange(
  profile: Pick<Profile, "boot" | "hdd" | "ssd" | "image" | "imageServer">,
): ImageSizeRange {
  const min = minImageBytes(profile);
  const disk = (machine: "node" | "server") => {
    const ssd = ssdOf(profile, machine);
    return ssd
      ? { field: "ssd.sectors", sectors: ssd.sectors.value }
      : { field: "hdd.sectors", sectors: profile.hdd.sectors.value };
  };
  const node = disk("node");
  // The server stores ceil(n / ratio) sectors of an n-sector image (lib/image storedRun).
  const { field: heldField, sectors: all } = disk("server");
  // Each server holds every image, one after the other.
  const images = profile.imageServer.images.value;
  const held = Math.floor(all / images);
  const ratio = profile.image.compressionRatio.value;
  let server = Math.floor(held * ratio);
  while (server > 0 && Math.ceil(server / ratio) > held) server--;
  const lastBoot = min / 512;
  const root = profile.boot.rootLba.value;
  return {
    min,
    max: Math.min(node.sectors, server) * 512,
    minReason: root + 1 === lastBoot
      ? `to hold the root partition's start (boot.rootLba: ${root})`
      : `to hold every area the profile's boot reads and writes (up to sector ${lastBoot})`,
    maxReason: node.sectors <= server
      ? `to fit on the node's disk (${node.field}: ${node.sectors})`
      : `to fit on the image server's disk as stored (${heldField}: ${all}, image.compressionRatio: ${ratio}${
        images > 1 ? `, imageServer.images: ${images}` : ""
      })`,
  };
}

/**
 * What is wrong with an image of `bytes` on a profile's machines (see
 * {@link imageSizeRange}), as `must be ...` naming the allowed range;
 * undefined when it fits. With `unit: "GB"` the bounds are stated in GB
 * (1e9 bytes), exactly, for a size given in GB and rounded up to whole
 * sectors; else `bytes` must also be a multiple of 512.
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, imageSizeIssue, loadProfile } from "./profile.ts";
 * const p = await loadProfile(BUILTIN_PROFILE);
 * console.assert(imageSizeIssue(p, 32e9) === undefined);
 * console.assert(imageSizeIssue(p, 1e12, { unit: "GB" })?.startsWith("must be >= 10.3424 to hold"));
 * ```
 */
export function imageSizeIssue(
  profile: Pick<Profile, "boot" | "hdd" | "ssd" | "image" | "imageServer">,
  bytes: number,
  options: { unit?: "bytes" | "GB" } = {},
): string | undefined {
  const { unit = "bytes" } = options;
  const r = imageSizeRange(profile);
  const whole = unit === "GB" || bytes % 512 === 0;
  if (whole && bytes >= r.min && bytes <= r.max) return undefined;
  const [min, max] = unit === "GB" ? [r.min / 1e9, r.max / 1e9] : [r.min, r.max];
  const what = unit === "GB" ? "" : "a multiple of 512 ";
  return `must be ${what}>= ${min} ${r.minReason} and <= ${max} ${r.maxReason}`;
}

/**
 * Values of a section without their sources.
 * @example
 * ```ts
 * import { values } from "./profile.ts";
 * const v = values({ rpm: { value: 7200, source: "datasheet" } });
 * console.assert(v.rpm === 7200);
 * ```
 */
export function values<S extends Record<string, { value: unknown; source: string }>>(
  section: S,
): { [K in keyof S]: S[K]["value"] } {
  const out = {} as { [K in keyof S]: S[K]["value"] };
  for (const k of Object.keys(section) as (keyof S)[]) out[k] = section[k].value;
  return out;
}

/** Thrown for a profile that does not validate; `issues` lists every problem. */
export class ProfileError extends Error {
  /** Error name, "ProfileError". */
  override name = "ProfileError";
  /**
   * An error whose message lists `issues`.
   * @param issues every problem found, each `path: message`
   */
  constructor(readonly issues: string[]) {
    super(issuesMessage("invalid profile", issues));
  }
}

/** Options of {@link parseProfile} and {@link applyOverrides}. */
export interface ProfileCheckOptions {
  /**
   * Check `image.bytes` against the boot and the disks ({@link imageSizeIssue}).
   * false: the caller decides the image's size and checks it itself, as a
   * fleet run does when it replaces the profile's image (lib/scenario
   * runProfile). @default true
   */
  checkImageSize?: boolean;
}

/**
 * Validates a profile object, listing every issue with its path.
 * @throws ProfileError for a profile that does not validate
 * @throws RangeError for an option that is not one of {@link ProfileCheckOptions}
 *   or breaks its rule (before the profile is looked at)
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, parseProfile } from "./profile.ts";
 * const json = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
 * json.hdd.sectors.value = 41_943_040; // 21.5 GB: too small for the 32 GB image
 * let threw = false;
 * try {
 *   parseProfile(json);
 * } catch {
 *   threw = true;
 * }
 * console.assert(threw && parseProfile(json, { checkImageSize: false }).hdd.sectors.value === 41_943_040);
 * ```
 */
export function parseProfile(input: unknown, options: ProfileCheckOptions = {}): Profile {
  checkOptions("parse profile", options, CHECK_OPTIONS);
  return parseInput(input, options.checkImageSize ?? true, false);
}

/** The keys of {@link ProfileCheckOptions}. */
const CHECK_OPTIONS: readonly (keyof ProfileCheckOptions)[] = ["checkImageSize"];

/**
 * Throws a RangeError naming every option of a profile function that breaks
 * its rule or is not one of `known` (a misspelt `checkImageSize` would
 * otherwise leave the check on).
 */
function checkOptions(what: string, options: unknown, known: readonly string[]): void {
  if (!isRecord(options)) {
    throw issuesError(what, [fieldIssue("options", "an object", showValue(options))]);
  }
  const { checkImageSize, origin } = options;
  const issues = [
    ...unknownKeyIssues(options, known),
    checkImageSize === undefined || typeof checkImageSize === "boolean"
      ? undefined
      : fieldIssue("checkImageSize", "true or false", showValue(checkImageSize)),
    !known.includes("origin") || origin === undefined || (typeof origin === "string" && origin)
      ? undefined
      : fieldIssue("origin", "text that says who changed the parameters", showValue(origin)),
  ].filter((i) => i !== undefined);
  if (issues.length > 0) throw issuesError(what, issues);
}

/**
 * {@link parseProfile} without its options' check; `inFile`: `input` is a
 * profile file's JSON (its `extends` merged in), where `extends` is a key too.
 */
function parseInput(
  input: unknown,
  checkImageSize: boolean,
  inFile: boolean,
  changed: readonly string[] = [],
): Profile {
  const r = (checkImageSize ? ProfileSchema : ProfileObject).safeParse(input);
  if (r.success) return r.data;
  const rootKeys = [...(inFile ? ["extends"] : []), ...Object.keys(ProfileObject.shape)];
  const misspelt = (k: string) => closestNames(k, rootKeys).includes("extends");
  // A file that misspells `extends` meant to take what it leaves out from a base:
  // that key is the cause (named first), what is missing only follows from it.
  const meantToExtend = inFile &&
    r.error.issues.some((i) =>
      i.code === "unrecognized_keys" && i.path.length === 0 && i.keys.some(misspelt)
    );
  const first: string[] = [];
  const issues = r.error.issues.flatMap((i) => {
    if (i.code === "unrecognized_keys") {
      return i.keys.flatMap((k) => {
        const issue = unknownKeyIssue(i.path, k, rootKeys);
        if (!meantToExtend || i.path.length > 0 || !misspelt(k)) return [issue];
        first.push(`${issue}; what a base profile would give is not reported missing`);
        return [];
      });
    }
    if (meantToExtend && i.path.length <= 2 && valueAt(input, i.path) === undefined) return [];
    let { path, message } = i;
    // A check across parameters names the one that was changed (see crossIssue).
    const blame = i.code === "custom" ? i.params?.blame : undefined;
    if (blame !== undefined) {
      const at = path.indexOf("value");
      const [field, said] = blamed(path.slice(0, at).join("."), message, blame, changed);
      if (said !== message) [path, message] = [[...field.split("."), "value"], said];
    }
    // A parameter's own value (the models' checks of an object's fields say theirs).
    const v = path.at(-1) === "value" ? valueAt(input, path) : undefined;
    const shown = v === undefined || typeof v === "object" || message.includes("current value")
      ? ""
      : `: current value is ${showValue(v)}`;
    return [`${path.join(".") || "(root)"}: ${message}${shown}`];
  });
  issues.unshift(...first);
  throw new ProfileError(issues);
}

/** The keys of a parameter: `value`, `source`, `fieldSources`. */
const PARAM_KEYS = Object.keys(param(z.unknown(), "").shape);

/**
 * `<path>: <owner> has no <noun> "<key>"`, naming the closest of what it
 * `has` and all of it (as `shown`, e.g. with units).
 */
function noKey(
  path: string,
  owner: string,
  noun: string,
  key: string,
  has: readonly string[],
  shown: readonly string[] = has,
) {
  return `${path}: ${owner} has no ${noun} ${JSON.stringify(key)}${
    didYouMean(key, has, JSON.stringify)
  } (it has: ${shown.join(", ")})`;
}

/** The parameter schemas of a section (optional ones too). */
function sectionParams(section: keyof typeof sections): Record<string, z.ZodType> {
  const schema = sections[section];
  return schema instanceof z.ZodOptional ? schema.unwrap().shape : schema.shape;
}

/** Keys below `path` (a section's parameters, an object's fields) each with its unit: `rpm [rev/min]`. */
function withUnits(path: string, keys: readonly string[]): string[] {
  return keys.map((k) => `${k} [${parameterUnit(`${path}.${k}`) ?? "?"}]`);
}

/** The unit one key further down: a field's, a list item's (by index), else none. */
function unitBelow(unit: Unit | undefined, key: string): Unit | undefined {
  if (unit === undefined || typeof unit === "string") return undefined;
  if (Array.isArray(unit)) return /^\d+$/.test(key) ? unit[0] : undefined;
  const fields = unit as { readonly [field: string]: Unit };
  return Object.hasOwn(fields, key) ? fields[key] : undefined;
}

/**
 * The unit of a profile parameter, or of a field inside an object-valued
 * one, by dotted path (`section.parameter`, then fields; a list's items by
 * index): "ns", "bytes", "bytes/s", "sectors", "fraction", "rev/min", ...;
 * a text's or flag's choices ("all | used", "true | false"); "object" or
 * "list" for one with fields or items of their own (ask for theirs by
 * path). Units are defined once, with the schema in this file: profile
 * files hold values only.
 * @returns undefined for a path the schema does not define
 * @example
 * ```ts
 * import { parameterUnit } from "./profile.ts";
 * console.assert(parameterUnit("cpu.vmExit") === "ns" && parameterUnit("hdd.rpm") === "rev/min");
 * console.assert(parameterUnit("kvm.virtio") === "object" && parameterUnit("kvm.virtio.hostWakeup") === "ns");
 * console.assert(parameterUnit("boot.params.sizes.0.bytes") === "bytes");
 * console.assert(parameterUnit("hdd.speed") === undefined);
 * ```
 */
export function parameterUnit(path: string): string | undefined {
  const [section, name, ...fields] = path.split(".");
  if (!Object.hasOwn(sections, section)) return undefined;
  const params = sectionParams(section as keyof typeof sections);
  if (name === undefined || !Object.hasOwn(params, name)) return undefined;
  const unit = fields.reduce(unitBelow, UNITS.get(params[name]));
  if (unit === undefined || typeof unit === "string") return unit;
  return Array.isArray(unit) ? "list" : "object";
}

/**
 * The issue of a key `key` that the profile, a section or a parameter at `at`
 * does not take; `rootKeys` are the profile's (a file's include `extends`).
 */
function unknownKeyIssue(at: readonly PropertyKey[], key: string, rootKeys: string[]): string {
  const path = [...at, key].join(".");
  const [section, name] = at.map(String);
  if (at.length === 0 && key === "extends" && !rootKeys.includes(key)) {
    return `${path}: only a profile file has it (loadProfile merges the base it names); ` +
      "parseProfile takes the whole profile";
  }
  if (at.length === 0) return noKey(path, "a profile", "key", key, rootKeys);
  if (at.length === 1 && Object.hasOwn(sections, section)) {
    const params = Object.keys(sectionParams(section as keyof typeof sections));
    return noKey(path, `section ${section}`, "parameter", key, params, withUnits(section, params));
  }
  return noKey(path, `parameter ${section}.${name}`, "key", key, PARAM_KEYS);
}

/**
 * Reads and validates a profile JSON file. A profile may build on another:
 * `"extends": "<path relative to this file>"` or a built-in profile's name
 * ("paper-2015", when no such file is beside it); it then holds only what
 * differs (its name and description, whole sections, or single parameters
 * of a section, each replacing the base's; without a name of its own it is
 * named after its file, `faster-disk.json`: "faster-disk") and the result
 * is validated as a whole (with `checkImageSize: false`, all but its
 * image's size, for a caller that decides the run's image itself: see
 * {@link parseProfile}).
 * @throws ProfileError also when a file cannot be read or the chain of
 *   `extends` loops, so a caller reports every case alike; a misspelt
 *   `extends` is named first, and what the base would give is then not
 *   reported missing
 * @throws RangeError for an option that is not one of {@link ProfileCheckOptions}
 *   or breaks its rule (before any file is read)
 * @example
 * ```ts
 * import { loadProfile } from "./profile.ts";
 * const p = await loadProfile(new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url));
 * console.assert(p.ssd?.channels.value === 8 && p.hdd.rpm.value === 7200);
 * ```
 */
export async function loadProfile(
  path: string | URL,
  options: ProfileCheckOptions = {},
): Promise<Profile> {
  checkOptions("load profile", options, CHECK_OPTIONS);
  const url = path instanceof URL ? path : pathToFileURL(resolve(path));
  const traceIssues: string[] = [];
  const json = await readProfileJson(url, [], String(path), traceIssues);
  const check = options.checkImageSize ?? true;
  if (traceIssues.length === 0) return parseInput(json, check, true);
  // A boot trace file that does not read: its issues, and the rest of the profile's
  // (the trace's place holds the file's name, which is no trace: not reported again).
  let others: string[] = [];
  try {
    parseInput(json, check, true);
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    others = e.issues.filter((i) => !/^boot\.params\.value\.trace[.:]/.test(i));
  }
  throw new ProfileError([...traceIssues, ...others]);
}

/**
 * A profile file's JSON with its `extends` chain merged in; the issues of a boot
 * trace file that does not read go to `traceIssues` (its name is left in its place).
 */
async function readProfileJson(
  url: URL,
  chain: string[],
  shown: string,
  traceIssues: string[],
): Promise<unknown> {
  if (chain.includes(url.href)) {
    throw new ProfileError([`extends: ${shown} is already in the chain (a loop)`]);
  }
  let text: string;
  try {
    text = await Deno.readTextFile(url);
  } catch (e) {
    throw new ProfileError([`cannot read ${shown}: ${(e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProfileError([`(file ${shown}): not valid JSON: ${(e as Error).message}`]);
  }
  json = await inlineBootTrace(json, url, shown, traceIssues);
  if (typeof json !== "object" || json === null || !("extends" in json)) return json;
  const { extends: base, ...own } = json as Record<string, unknown>;
  if (typeof base !== "string" || base === "") {
    throw new ProfileError([
      `(file ${shown}) extends: must be the path of the base profile: current value is ${
        showValue(base)
      }`,
    ]);
  }
  const merged = await readProfileJson(
    baseUrl(base, url, shown),
    [...chain, url.href],
    base,
    traceIssues,
  ) as Record<string, unknown>;
  const baseName = merged.name;
  for (const [key, v] of Object.entries(own)) {
    // A section merges parameter by parameter; anything else replaces.
    merged[key] = Object.hasOwn(sections, key) && isRecord(v) && isRecord(merged[key])
      ? { ...merged[key], ...v }
      : v;
  }
  // Without a name of its own, a profile is named after its file, not its base (whose
  // name in outputs would hide the change); a file called just ".json" keeps the base's.
  const stem = decodeURIComponent(url.pathname.split("/").at(-1)!).replace(/\.json$/i, "");
  if (!Object.hasOwn(own, "name") && stem !== "") merged.name = stem;
  // Without a description of its own, the base's would tell of the base alone: it lists the changes.
  const changed = Object.entries(own).filter(([k]) => k !== "name").flatMap(([k, v]) =>
    Object.hasOwn(sections, k) && isRecord(v) ? Object.keys(v).map((p) => `${k}.${p}`) : [k]
  );
  if (
    !Object.hasOwn(own, "description") && typeof merged.description === "string" &&
    changed.length > 0
  ) {
    merged.description += ` Changed from ${baseName}: ${changed.join(", ")}.`;
  }
  return merged;
}

/**
 * A profile file's boot trace given as a file, `boot.params.value.trace`: a
 * path relative to the profile file, or `{ file, device?, partitionStart? }`
 * (the options of lib/workload `parseBlkparse`). Replaced by its operations:
 * a `.json` file holds them as a list (lib/workload `BootTraceSchema`), any
 * other is `blkparse` text output. A file that cannot be read or parsed
 * leaves the JSON as it is, its issues added to `issues`.
 */
async function inlineBootTrace(
  json: unknown,
  url: URL,
  shown: string,
  issues: string[],
): Promise<unknown> {
  if (!isRecord(json)) return json;
  const boot = isRecord(json.boot) ? json.boot : undefined;
  const params = isRecord(boot?.params) ? boot.params : undefined;
  const value = isRecord(params?.value) ? params.value : undefined;
  const ref = value?.trace;
  if (typeof ref !== "string" && !isRecord(ref)) return json;
  const field = `(file ${shown}) boot.params.value.trace`;
  const { file, ...options } = typeof ref === "string" ? { file: ref } : ref;
  if (typeof file !== "string" || file === "") {
    issues.push(
      `${field}.file: must be the trace file's path, relative to the profile file: current value is ${
        showValue(file)
      }`,
    );
    return json;
  }
  const at = new URL(file, url);
  let text: string;
  try {
    text = await Deno.readTextFile(at);
  } catch (e) {
    const path = at.protocol === "file:" ? fileURLToPath(at) : at.href;
    issues.push(`${field}: cannot read ${path}: ${(e as Error).message}`);
    return json;
  }
  let trace: BootTraceOp[];
  try {
    trace = parseBootTraceFile(file, text, options);
  } catch (e) {
    issues.push(`${field} (${file}): ${(e as Error).message}`);
    return json;
  }
  return { ...json, boot: { ...boot, params: { ...params, value: { ...value, trace } } } };
}

/** The built-in profile (the paper's testbed). */
export const BUILTIN_PROFILE = new URL("../../data/profiles/paper-2015.json", import.meta.url);
const BUILTIN_DIR = new URL("./", BUILTIN_PROFILE);

/**
 * Where `extends: base` of the file at `url` points: the path relative to
 * that file or, when none is there and `base` is a bare name, the built-in
 * profile of that name (with or without ".json"), so a copy of
 * paper-2015-ssd.json works outside data/profiles/.
 */
function baseUrl(base: string, url: URL, shown: string): URL {
  const exists = (u: URL) => {
    try {
      return Deno.statSync(u).isFile;
    } catch {
      return false;
    }
  };
  const relative = new URL(base, url);
  // A file extending its own name (a copy called paper-2015.json) means the built-in.
  if (exists(relative) && relative.href !== url.href) return relative;
  let builtins: string[] = [];
  try {
    builtins = [...Deno.readDirSync(BUILTIN_DIR)]
      .filter((e) => e.isFile && e.name.endsWith(".json")).map((e) => e.name.slice(0, -5)).sort();
  } catch {
    // Not readable here (no read permission, not a file: URL): no built-in to fall back to.
  }
  const name = base.replace(/\.json$/, "");
  if (!base.includes("/") && builtins.includes(name)) return new URL(`${name}.json`, BUILTIN_DIR);
  const path = relative.protocol === "file:" ? fileURLToPath(relative) : relative.href;
  throw new ProfileError([
    `(file ${shown}) extends: must be a profile file, a path relative to this one (there is no ` +
    `${path}), or a built-in profile's name (${builtins.join(", ")}): current value is ${
      showValue(base)
    }${didYouMean(name, builtins)}`,
  ]);
}

/**
 * A profile with some parameters changed: `overrides` maps a dotted path
 * (`section.parameter`, and further keys into an object-valued parameter,
 * e.g. `kvm.virtio.hostWakeup`) to the new value. A string is read as a
 * decimal number, boolean, JSON array or JSON object when it spells one
 * (`valueOfText`; "0x10" stays text, so a numeric parameter refuses it); an
 * object-valued parameter given an object is replaced whole (how to add a
 * field or switch `vmm.copyPolicy`'s kind). Each changed parameter's source
 * becomes `<origin> ([field ]was <old value>; <old source>)`, so outputs that list
 * sources show what was changed; `origin` says who changed it ("overridden"
 * unless given; the command-line tools give "set on the command line"). The
 * result is validated like any profile (with `checkImageSize: false`, all but
 * its image's size: see {@link parseProfile}); an issue of a check across
 * parameters names the one changed where the other was not (`hdd.sectors`
 * too small for the image, not `image.bytes`).
 * @throws ProfileError listing every unknown path, wrong type and invalid value (the
 *   values of the paths that exist are checked even when others do not)
 * @throws RangeError for an option other than `origin` and `checkImageSize`, or one
 *   that breaks its rule (before any override is applied)
 * @example
 * ```ts
 * import { applyOverrides, BUILTIN_PROFILE, loadProfile } from "./profile.ts";
 * const p = applyOverrides(await loadProfile(BUILTIN_PROFILE), { "hdd.rpm": "15000" });
 * console.assert(p.hdd.rpm.value === 15000 && p.hdd.rpm.source.startsWith("overridden (was 7200; datasheet"));
 * ```
 */
export function applyOverrides(
  profile: Profile,
  overrides: Readonly<Record<string, unknown>>,
  options: { origin?: string } & ProfileCheckOptions = {},
): Profile {
  checkOptions("apply overrides", options, OVERRIDE_OPTIONS);
  if (!isRecord(overrides)) {
    throw issuesError("apply overrides", [
      fieldIssue("overrides", "an object of dotted paths and values", showValue(overrides)),
    ]);
  }
  const { origin = "overridden", checkImageSize } = options;
  const out = structuredClone(profile) as unknown as Record<string, Record<string, Param>>;
  const issues: string[] = [];
  for (const [path, raw] of Object.entries(overrides)) {
    const [section, name, ...keys] = path.split(".");
    const form = "SECTION.PARAMETER=VALUE";
    if ([section, name, ...keys].includes("")) {
      issues.push(
        `${path}: has an empty part; give ${form}, or SECTION.PARAMETER.FIELD=VALUE for a field of an object-valued parameter`,
      );
      continue;
    }
    const params = Object.hasOwn(sections, section) ? out[section] : undefined;
    if (params === undefined) {
      issues.push(
        Object.hasOwn(sections, section)
          ? `${path}: the profile has no ${section} section (it is optional)`
          : `${path}: no such section${didYouMean(section, Object.keys(sections))} (sections: ${
            Object.keys(sections).join(", ")
          })`,
      );
      continue;
    }
    const p = name !== undefined && Object.hasOwn(params, name) ? params[name] : undefined;
    if (p === undefined) {
      const has = Object.keys(params);
      const shown = withUnits(section, has);
      issues.push(
        name === undefined
          ? `${path}: a whole section cannot be set; give ${form} (section ${section} has: ${
            shown.join(", ")
          })`
          : noKey(path, `section ${section}`, "parameter", name, has, shown),
      );
      continue;
    }
    // Walk into an object-valued parameter; the last key is the one replaced.
    let holder: Record<string, unknown> = p as unknown as Record<string, unknown>;
    let key = "value";
    let bad = false;
    for (const [i, k] of keys.entries()) {
      const inner = holder[key];
      // A field the value leaves out may be added where the schema defines it
      // (a trace's parallelism, a copy policy's recheck); the model checks it.
      const addable = i === keys.length - 1 && kind(inner) === "object" &&
        parameterUnit(path) !== undefined;
      if (
        typeof inner !== "object" || inner === null || Array.isArray(inner) ||
        (!Object.hasOwn(inner, k) && !addable)
      ) {
        const at = [section, name, ...keys.slice(0, keys.indexOf(k))].join(".");
        const fields = kind(inner) === "object"
          ? `${didYouMean(k, Object.keys(inner as object), JSON.stringify)} (it has: ${
            withUnits(at, Object.keys(inner as object)).join(", ")
          }; to add a field, give ${at} whole as a JSON object)`
          : ` (it is ${aKind(inner)}, not an object: give ${at}=VALUE)`;
        issues.push(
          `${path}: ${at} has no field ${JSON.stringify(k)}${fields}`,
        );
        bad = true;
        break;
      }
      holder = inner as Record<string, unknown>;
      key = k;
    }
    if (bad) continue;
    const absent = !Object.hasOwn(holder, key);
    const old = holder[key];
    const value = typeof raw === "string" ? valueOfText(raw) : raw;
    if (kind(old) === "object" && kind(value) !== "object") {
      issues.push(
        `${path}: is an object; set one of its fields (${
          Object.keys(old as object).map((k) => `${path}.${k}`).join(", ")
        }) or give it whole as a JSON object: current value is ${showValue(raw)}`,
      );
      continue;
    }
    if (!absent && kind(value) !== kind(old)) {
      const rule = kind(old) === "number"
        ? decimalRule("must be a number", raw)
        : `must be ${aKind(old)}`;
      issues.push(`${path}: ${rule}: current value is ${showValue(raw)}`);
      continue;
    }
    holder[key] = value;
    const field = keys.length > 0 ? `${keys.join(".")} ` : "";
    const was = absent ? "was not given" : `was ${showValue(old)}`;
    p.source = `${origin} (${field}${was}; ${p.source})`;
    if (keys.length > 0) {
      const own = p.fieldSources?.[keys[0]];
      if (own !== undefined) {
        p.fieldSources![keys[0]] = `${origin} (${was}; ${own})`;
      }
    } else if (p.fieldSources !== undefined && kind(old) === "object") {
      // A whole object replaced: a field's own source says so where its value changed,
      // and goes with the field where the new object drops it.
      const before = old as Record<string, unknown>;
      const after = value as Record<string, unknown>;
      for (const [f, own] of Object.entries(p.fieldSources)) {
        if (!Object.hasOwn(after, f)) delete p.fieldSources[f];
        else if (JSON.stringify(after[f]) !== JSON.stringify(before[f])) {
          p.fieldSources[f] = `${origin} (was ${showValue(before[f])}; ${own})`;
        }
      }
    }
  }
  if (issues.length > 0) {
    // The values of the overrides that could be applied are checked too: every issue at once.
    try {
      parseInput(out, checkImageSize ?? true, false, Object.keys(overrides));
    } catch (e) {
      if (!(e instanceof ProfileError)) throw e;
      issues.push(...e.issues);
    }
    throw new ProfileError(issues);
  }
  return parseInput(out, checkImageSize ?? true, false, Object.keys(overrides));
}

/** The keys of {@link applyOverrides}' options. */
const OVERRIDE_OPTIONS = ["origin", ...CHECK_OPTIONS];

type Param = { value: unknown; source: string; fieldSources?: Record<string, string> };

/** A JSON value's kind: "array", "null" or its typeof. */
const kind = (v: unknown) => Array.isArray(v) ? "array" : v === null ? "null" : typeof v;
/** Its kind with an article: "a number", "an array", "an object", "null". */
const aKind = (v: unknown) =>
  kind(v) === "null" ? "null" : `${/^[aeiou]/.test(kind(v)) ? "an" : "a"} ${kind(v)}`;

/**
 * Reads `PATH=VALUE` items (repeated `--set` flags) into the overrides
 * {@link applyOverrides} takes.
 * @throws ProfileError listing every item without a path and value, or a path given twice
 * @example
 * ```ts
 * import { parseOverrides } from "./profile.ts";
 * const o = parseOverrides(["hdd.rpm=15000", "network.lineRate=1.25e9"]);
 * console.assert(o["hdd.rpm"] === "15000" && Object.keys(o).length === 2);
 * ```
 */
export function parseOverrides(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const issues: string[] = [];
  for (const item of items) {
    const eq = item.indexOf("=");
    const path = eq < 0 ? "" : item.slice(0, eq).trim();
    if (path === "" || eq === item.length - 1) {
      issues.push(`${JSON.stringify(item)}: must be PATH=VALUE, e.g. hdd.rpm=15000`);
    } else if (Object.hasOwn(out, path)) {
      issues.push(`${path}: given more than once`);
    } else out[path] = item.slice(eq + 1);
  }
  if (issues.length > 0) throw new ProfileError(issues);
  return out;
}

/** A number in a profile that {@link applyOverrides} can change. */
export interface NumericParameter {
  /** Dotted path, e.g. "hdd.rpm" or "kvm.virtio.hostWakeup". */
  path: string;
  /** Current value, in the parameter's own unit (ns, bytes, sectors, ...: {@link parameterUnit}). */
  value: number;
  /** The parameter's source; for a field, its own (`fieldSources`) or else its object's. */
  source: string;
  /** A field without a source of its own: `source` is its object's. */
  inherited: boolean;
}

/**
 * Every number of a profile by its dotted path: each numeric parameter, and
 * each numeric field inside an object-valued parameter, at any depth (not in arrays).
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile, numericParameters } from "./profile.ts";
 * const ps = numericParameters(await loadProfile(BUILTIN_PROFILE));
 * console.assert(ps.some((p) => p.path === "hdd.rpm" && p.value === 7200));
 * console.assert(ps.some((p) => p.path === "kvm.virtio.hostWakeup"));
 * console.assert(ps.some((p) => p.path === "cassandra.store.cpu.readNs"));
 * ```
 */
export function numericParameters(profile: Profile): NumericParameter[] {
  const out: NumericParameter[] = [];
  for (const section of Object.keys(sections)) {
    const params = (profile as unknown as Record<string, Record<string, Param>>)[section];
    for (const [name, p] of Object.entries(params ?? {})) {
      if (typeof p.value === "number") {
        out.push({
          path: `${section}.${name}`,
          value: p.value,
          source: p.source,
          inherited: false,
        });
        continue;
      }
      // Fields of an object-valued parameter, at any depth; a field's own
      // source (`fieldSources`, keyed by the top-level field) covers what is inside it.
      const walk = (obj: unknown, path: string, own: string | undefined) => {
        if (typeof obj === "number") {
          out.push({ path, value: obj, source: own ?? p.source, inherited: own === undefined });
        } else if (typeof obj === "object" && obj !== null && !Array.isArray(obj)) {
          for (const [k, v] of Object.entries(obj)) walk(v, `${path}.${k}`, own);
        }
      };
      if (typeof p.value === "object" && p.value !== null && !Array.isArray(p.value)) {
        for (const [field, v] of Object.entries(p.value)) {
          walk(v, `${section}.${name}.${field}`, p.fieldSources?.[field]);
        }
      }
    }
  }
  return out;
}
