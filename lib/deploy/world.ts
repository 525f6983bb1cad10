/**
 * Builds a world from a profile: a GbE network (one switch, as the paper's, or
 * racks behind uplinks to a core switch: `network.rackSize`) with the image
 * servers (one in the paper; each with the image on its own HDD), and bare-metal
 * nodes at the device interface (memory + E820, MMIO bus, CPUs, interrupt
 * controller, an AHCI HBA with the local HDD, firmware with PXE). Strategies (bare metal, image copy,
 * BMcast, NFS root, KVM variants) then run on these nodes.
 */
import {
  type FieldIssue,
  fieldIssue,
  IMAGE_VERSION,
  issuesError,
  MAX_SEED,
  mergeRuns,
  NO_VERSION,
  numberIssue,
  showValue,
  unknownKeyIssues,
  VersionMap,
} from "../_util/mod.ts";
import type { Gpa, Run, SimTime } from "../_util/mod.ts";
import {
  AhciHba,
  Cpu,
  E820Map,
  Firmware,
  Hdd,
  InterruptController,
  MmioBus,
  PhysicalMemory,
  Ssd,
} from "../hw/mod.ts";
import { BlockProtocol, framing, type Network, rackNetwork, starNetwork } from "../net/mod.ts";
import { ImageClient, ImageContent, ImageServer, Inflater, MulticastServer } from "../image/mod.ts";
import { AhciDriver } from "../guest/mod.ts";
import {
  bootExtents,
  type BootParams,
  type BootReplay,
  GuestCpus,
  kvDataRun,
  KvStoreParamsSchema,
} from "../workload/mod.ts";
import { Recorder, Simulation } from "../sim/mod.ts";
import { imageSizeRange, type Profile, profileIssue, ssdOf, values } from "./profile.ts";

/** Physical address of the HBA's registers (ABAR). */
export const ABAR: Gpa = 0xfebf_0000;
/** The HBA's interrupt vector. */
export const AHCI_VECTOR = 40;
/** Image id on the server (of the first image, when the profile's `imageServer.images` is more). */
export const IMAGE_ID = "ubuntu-14.04";

/**
 * Id of image `k` of the world (`imageServer.images` of them, all of the
 * profile's size and layout): {@link IMAGE_ID}, then `ubuntu-14.04-1`, ...
 * @example
 * ```ts
 * import { imageIdOf } from "./world.ts";
 * console.assert(imageIdOf(0) === "ubuntu-14.04" && imageIdOf(2) === "ubuntu-14.04-2");
 * ```
 */
export function imageIdOf(k: number): string {
  return k === 0 ? IMAGE_ID : `${IMAGE_ID}-${k}`;
}
/** Name of the (first) image server host; more are `image-server-1`, `image-server-2`, ... */
export const SERVER = "image-server";

/** Host name of image server `i` (0: {@link SERVER}). */
export function serverHost(i: number): string {
  return i === 0 ? SERVER : `${SERVER}-${i}`;
}

/** One bare-metal machine. */
export interface Node {
  /** Host name on the network (`node0`, `node1`, ...); prefixes its disk's and VM's names. */
  name: string;
  /** The node's RAM (the profile's `memory.bytes`). */
  memory: PhysicalMemory;
  /** The firmware's E820 memory map of that RAM (BMcast's VMM reserves its own memory in it). */
  e820: E820Map;
  /** MMIO bus the CPUs' loads and stores go through; the HBA's registers are mapped at {@link ABAR}. */
  bus: MmioBus;
  /** Interrupt controller delivering device vectors (the HBA's is {@link AHCI_VECTOR}). */
  irq: InterruptController;
  /** The logical CPUs (the profile's `cpu.logicalCpus`), with its VMX costs. */
  cpus: Cpu[];
  /** The local disk: the profile's `ssd` where its `machines` names the nodes, else its `hdd`. */
  disk: Hdd | Ssd;
  /** The AHCI HBA, with the local disk on port 0. */
  hba: AhciHba;
  /** Platform firmware (BIOS): POST, PXE boot (DHCP, TFTP) from the image server, local boot. */
  firmware: Firmware;
  /** Host of the node's image server (node i uses server i mod `imageServer.count`). */
  server: string;
  /** The image the node boots ({@link imageIdOf}: node i boots image i mod `imageServer.images`). */
  imageId: string;
  /**
   * Client of that image server on this node's network port; with a
   * compressed image it takes compressed data and inflates it on one of the
   * node's CPUs ({@link Node.guestCpus}' pool: under BMcast the guest's).
   */
  image: ImageClient;
  /** The node's CPUs as the OS's workloads (and the image client's inflater) share them. */
  guestCpus: GuestCpus;
}

/** A simulation world. */
export interface World {
  /** The discrete-event simulation every model of the world runs in. */
  sim: Simulation;
  /** The profile the world was built from (every cost parameter with its source). */
  profile: Profile;
  /** The GbE network: the image servers and every node on one switch, or racks (`network.rackSize`). */
  network: Network;
  /** Block protocol (over UDP) between image clients and the server. */
  protocol: BlockProtocol;
  /**
   * The image servers (the profile's `imageServer.count`; the paper has one),
   * each holding every image ({@link imageIdOf}) on its own disk (the `hdd` section's, or
   * the `ssd` section's where it names the server), named by {@link serverHost}.
   */
  servers: ImageServer[];
  /** Each server's disk holding the images, in the order of `servers` (for its busy time). */
  serverDisks: (Hdd | Ssd)[];
  /**
   * Each server's multicast session for each image (chunks of the block
   * protocol's largest message): server by server in the order of `servers`,
   * image by image within a server, each on its own port.
   */
  multicasts: MulticastServer[];
  /** Size of the OS image, 512-byte sectors. */
  imageSectors: number;
  /**
   * The runs of the image a copy brings to the local disk (image copy, BMcast's
   * copier, multicast): all of it, or its used blocks ({@link usedRuns}), as
   * the profile's `image.copyScope` says.
   */
  copyRuns: Run[];
  /** The bare-metal nodes, `node0` first. */
  nodes: Node[];
  /** Recorder of the run's phase spans and samples. */
  rec: Recorder;
}

/** Largest world: each node is a full machine model (about 25 MB, 1 s of wall time for BMcast). */
export const MAX_NODES = 128;

/** Options of {@link buildWorld}. */
export interface WorldOptions {
  /** Seed of the simulation's random streams, an integer in [0, {@link MAX_SEED}]. @default 1 */
  seed?: number;
  /** Number of nodes, an integer in [1, {@link MAX_NODES}]. @default 1 */
  nodes?: number;
  /** The local disks already hold the image (bare-metal baseline, after-deployment runs). */
  preinstalled?: boolean;
  /**
   * Image size override, bytes (default: the profile's): at most what a node's disk
   * holds ({@link imageSizeRange}'s `max`); it may be smaller than the boot reads.
   */
  imageBytes?: number;
  /** Run label the recorder puts on its rows. @default "run" */
  run?: string;
}

/** Every option of {@link buildWorld} that breaks its rule, and every key it does not take. */
function worldIssues(profile: Profile, options: WorldOptions): FieldIssue[] {
  const bad = profileIssue(profile);
  if (bad !== undefined) return [bad];
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return [fieldIssue("options", "an object", showValue(options))];
  }
  const { seed, nodes, imageBytes } = options;
  const within = (v: unknown, min: number, max: number) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  const { max, maxReason } = imageSizeRange(profile);
  // Each option: whether its value keeps its rule, and the rule.
  const rules: Record<keyof WorldOptions, [boolean, string]> = {
    seed: [within(seed, 0, MAX_SEED), `an integer in [0, ${MAX_SEED}]`],
    nodes: [within(nodes, 1, MAX_NODES), `an integer in [1, ${MAX_NODES}]`],
    preinstalled: [typeof options.preinstalled === "boolean", "true or false"],
    imageBytes: [
      typeof imageBytes === "number" && imageBytes > 0 && imageBytes <= max,
      `a number > 0 and <= ${max} ${maxReason}`,
    ],
    run: [typeof options.run === "string", "text"],
  };
  const given = options as Record<string, unknown>;
  return [
    ...unknownKeyIssues(options, Object.keys(rules)),
    ...Object.entries(rules).filter(([k, [ok]]) => given[k] !== undefined && !ok)
      .map(([k, [, rule]]) => fieldIssue(k, rule, showValue(given[k]))),
  ];
}

/**
 * Builds the world.
 * @throws RangeError naming every option that breaks its rule or is not an option
 * @example
 * ```ts
 * import { buildWorld, loadProfile, BUILTIN_PROFILE } from "./mod.ts";
 * const w = buildWorld(await loadProfile(BUILTIN_PROFILE), { nodes: 2 });
 * console.assert(w.nodes.length === 2 && w.nodes[0].cpus.length === 12);
 * ```
 */
export function buildWorld(profile: Profile, options: WorldOptions = {}): World {
  const issues = worldIssues(profile, options);
  if (issues.length > 0) throw issuesError("build world", issues);
  const { seed = 1, nodes = 1, preinstalled = false } = options;
  const sim = new Simulation({ seed });
  const rec = new Recorder(sim, { run: options.run ?? "run" });
  const net = values(profile.network);
  const names = Array.from({ length: nodes }, (_, i) => `node${i}`);
  const isv = values(profile.imageServer);
  const hosts = Array.from({ length: isv.count }, (_, i) => serverHost(i));
  const serverLink = net.serverLinkRate > 0 ? net.serverLinkRate : net.lineRate;
  const network = net.rackSize === 0
    ? starNetwork(sim, {
      switchLatency: net.switchLatency,
      hosts: [...hosts, ...names],
      bandwidth: net.lineRate,
      hostBandwidth: Object.fromEntries(hosts.map((h) => [h, serverLink])),
      latency: net.linkLatency,
    })
    : rackNetwork(sim, {
      switchLatency: net.switchLatency,
      coreHosts: hosts,
      racks: Array.from(
        { length: Math.ceil(nodes / net.rackSize) },
        (_, r) => names.slice(r * net.rackSize, (r + 1) * net.rackSize),
      ),
      bandwidth: net.lineRate,
      coreBandwidth: serverLink,
      uplink: net.uplinkRate,
      latency: net.linkLatency,
    });
  const img = values(profile.image);
  const imageBytes = options.imageBytes ?? img.bytes;
  const imageSectors = Math.ceil(imageBytes / 512);
  const imageIds = Array.from({ length: isv.images }, (_, k) => imageIdOf(k));
  const protocol = new BlockProtocol({
    framing: framing({ transport: "udp" }),
    headerBytes: isv.headerBytes,
    requestLatency: isv.requestLatency,
    maxBlocksPerRequest: img.maxRequestSectors,
  });
  const serverSsd = ssdOf(profile, "server");
  const serverDisks: (Hdd | Ssd)[] = [];
  const servers = hosts.map((host, i) => {
    const n = i === 0 ? "" : `-${i}`;
    const store = serverSsd
      ? new Ssd(sim, {
        ...ssdOptions(serverSsd),
        name: `server-ssd${n}`,
        initialVersion: IMAGE_VERSION,
      })
      : new Hdd(sim, {
        ...values(profile.hdd),
        name: `server-hdd${n}`,
        initialVersion: IMAGE_VERSION,
        rngStream: `server-hdd${n}`, // the first keeps the paper's stream
      });
    serverDisks.push(store);
    const server = new ImageServer({
      network,
      host,
      protocol,
      cpuPerRequest: isv.cpuPerRequest,
      concurrency: isv.concurrency,
      cache: { kind: "lru", bytes: isv.pageCacheBytes },
      inflateRate: profile.cpu.inflateRate.value,
      demandFirst: isv.demandFirst,
      store,
    });
    for (const id of imageIds) {
      server.addImage(
        new ImageContent({ id, bytes: imageBytes, compressionRatio: img.compressionRatio }),
      );
    }
    return server;
  });
  const multicasts = servers.flatMap((server) =>
    imageIds.map((imageId, k) =>
      new MulticastServer({
        server,
        imageId,
        port: k === 0 ? "multicast" : `multicast-${k}`,
        chunkSectors: img.maxRequestSectors,
        rate: isv.multicastRate > 0 ? isv.multicastRate : Infinity,
      })
    )
  );
  const w: World = {
    sim,
    profile,
    network,
    protocol,
    servers,
    serverDisks,
    multicasts,
    imageSectors,
    copyRuns: img.copyScope === "used"
      ? usedRuns(profile, imageSectors)
      : [{ lba: 0, count: imageSectors }],
    nodes: [],
    rec,
  };
  names.forEach((name, i) =>
    w.nodes.push(
      buildNode(w, name, {
        preinstalled,
        server: hosts[i % hosts.length],
        imageId: imageIds[i % imageIds.length],
      }),
    )
  );
  return w;
}

/** The keys of {@link serverOutage}'s window. */
const SERVER_OUTAGE_KEYS = ["start", "duration"];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Makes every image server of the world unreachable for `duration` ns from
 * `start` (absolute ns): messages to or from it that start meanwhile are sent
 * again with the profile's TCP back-off (`network.retransmitTimeout`, doubling
 * up to `network.maxRetransmitTimeout`; see lib/net `Network.addOutage`);
 * the multicast sessions' chunks, joins and NAKs are datagrams and are lost
 * (receivers ask again after `imageServer.multicastIdleTimeout` of silence).
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, buildWorld, loadProfile, serverOutage } from "./mod.ts";
 * const w = buildWorld(await loadProfile(BUILTIN_PROFILE), { nodes: 1 });
 * serverOutage(w, { start: 1e9, duration: 5e9 });
 * w.sim.run(2e9);
 * console.assert(w.network.outageDelay("node0", w.servers[0].host) === 6_200_000_000);
 * ```
 * @throws RangeError naming every problem of `window` before any outage is added: `start`
 *   and `duration` whole ns >= 0 (a duration of 0 is a 1 ns outage), no other key.
 */
export function serverOutage(w: World, window: { start: SimTime; duration: SimTime }): void {
  const issues = isObject(window)
    ? [
      ...unknownKeyIssues(window, SERVER_OUTAGE_KEYS),
      numberIssue("start", window.start, { integer: true, min: 0 }),
      numberIssue("duration", window.duration, { integer: true, min: 0 }),
    ].filter((i) => i !== undefined)
    : [fieldIssue("window", "an object { start, duration }", showValue(window))];
  if (issues.length > 0) throw issuesError("start a server outage", issues);
  const net = values(w.profile.network);
  for (const server of w.servers) {
    w.network.addOutage({
      host: server.host,
      start: window.start,
      end: window.start + Math.max(1, window.duration),
      initialTimeout: net.retransmitTimeout,
      maxTimeout: net.maxRetransmitTimeout,
    });
  }
}

/**
 * The image's used blocks, sorted and disjoint: the sectors before the root
 * partition (MBR and boot loader), the file-system regions the boot reads
 * from (taken whole: an upper bound of what they hold; for a recorded boot,
 * what its trace reads) and the preloaded
 * Cassandra data set. Everything the built-in workloads read before writing
 * lies in them; the rest is free space a file-system aware copy skips.
 * The runs are clipped to the image's first `imageSectors` 512-byte
 * sectors: by default the profile's image, `ceil(image.bytes / 512)`
 * sectors (what {@link buildWorld} takes without an `imageBytes` option).
 * @throws RangeError when `profile` is not a valid profile or `imageSectors`
 *   is not a whole number >= 0 (each problem at once)
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile, usedRuns } from "./mod.ts";
 * const profile = await loadProfile(BUILTIN_PROFILE);
 * const runs = usedRuns(profile, 62_500_000);
 * const gb = runs.reduce((n, r) => n + r.count, 0) * 512 / 1e9;
 * console.assert(runs[0].lba === 0 && gb > 5 && gb < 6);
 * // The profile's own image (32 GB) holds them all alike.
 * console.assert(JSON.stringify(usedRuns(profile)) === JSON.stringify(runs));
 * ```
 */
export function usedRuns(profile: Profile, imageSectors?: number): Run[] {
  const issues = [
    profileIssue(profile),
    imageSectors === undefined
      ? undefined
      : numberIssue("imageSectors", imageSectors, { integer: true, min: 0 }),
  ].filter((i) => i !== undefined);
  if (issues.length > 0) throw issuesError("list the image's used runs", issues);
  const boot = profile.boot.params.value as BootParams | BootReplay;
  return mergeRuns([
    { lba: 0, count: profile.boot.rootLba.value },
    ...bootExtents(boot).reads,
    kvDataRun(KvStoreParamsSchema.parse(profile.cassandra.store.value)),
  ], imageSectors ?? Math.ceil(profile.image.bytes.value / 512));
}

/** The `ssd` section as lib/hw Ssd options (without which machines have it). */
function ssdOptions(ssd: NonNullable<Profile["ssd"]>) {
  const { machines: _, ...o } = values(ssd);
  return o;
}

/** A node's local disk holding the image's first `imageSectors` (0: an empty disk). */
function localDisk(
  profile: Profile,
  sim: Simulation,
  name: string,
  imageSectors: number,
): Hdd | Ssd {
  const content = (sectors: number) => {
    const c = new VersionMap(sectors, NO_VERSION);
    if (imageSectors > 0) c.fill(0, imageSectors, IMAGE_VERSION);
    return c;
  };
  const ssd = ssdOf(profile, "node");
  if (ssd !== undefined) {
    const o = ssdOptions(ssd);
    return new Ssd(sim, { ...o, name: `${name}-ssd`, content: content(o.sectors) });
  }
  const o = values(profile.hdd);
  return new Hdd(sim, {
    ...o,
    name: `${name}-hdd`,
    content: content(o.sectors),
    rngStream: `${name}-hdd`,
  });
}

function buildNode(
  w: World,
  name: string,
  at: { preinstalled: boolean; server: string; imageId: string },
): Node {
  const { preinstalled, server, imageId } = at;
  const { sim, profile } = w;
  const cpuP = values(profile.cpu);
  const memBytes = profile.memory.bytes.value;
  const memory = new PhysicalMemory({ size: memBytes });
  const e820 = E820Map.standard(memBytes);
  const bus = new MmioBus();
  const irq = new InterruptController(sim, { latency: cpuP.interruptLatency });
  const costs = {
    vmExit: cpuP.vmExit,
    vmEntry: cpuP.vmEntry,
    mmioRead: cpuP.mmioRead,
    mmioWrite: cpuP.mmioWrite,
    eptOverhead: cpuP.eptOverhead,
    ipi: cpuP.ipi,
    tlbFlush: cpuP.tlbFlush,
  };
  const cpus = Array.from({ length: cpuP.logicalCpus }, (_, i) => new Cpu(i, costs));
  const guest = new GuestCpus(sim, { cpu: cpus[0], cores: profile.boot.cores.value });
  const disk = localDisk(profile, sim, name, preinstalled ? w.imageSectors : 0);
  const hba = new AhciHba({
    sim,
    memory,
    irq,
    vector: AHCI_VECTOR,
    ports: [disk],
    costs: values(profile.hba),
  });
  bus.map({ base: ABAR, size: 0x1100, name: "ahci", device: hba });
  const fw = values(profile.firmware);
  const firmware = new Firmware({
    sim,
    name,
    postDuration: fw.postDuration,
    localBootDelay: fw.localBootDelay,
    recorder: w.rec, // firmware phases (post, dhcp, tftp, local-boot) as spans
    pxe: {
      network: w.network,
      host: name,
      server,
      dhcpMessageLatency: fw.dhcpMessageLatency,
      dhcpServerDelay: fw.dhcpServerDelay,
      tftpBlockSize: fw.tftpBlockSize,
      tftpPacketLatency: fw.tftpPacketLatency,
    },
  });
  const image = new ImageClient({
    network: w.network,
    host: name,
    server,
    protocol: w.protocol,
    inflater: profile.image.compressionRatio.value > 1
      ? new Inflater(sim, { rate: cpuP.inflateRate, name, cores: guest.pool })
      : undefined,
  });
  return {
    name,
    memory,
    e820,
    bus,
    irq,
    cpus,
    disk,
    hba,
    firmware,
    server,
    imageId,
    image,
    guestCpus: guest,
  };
}

/** The unmodified guest's AHCI driver on a node (driver code runs on CPU 0). */
export function guestDriver(w: World, node: Node): AhciDriver {
  const d = values(w.profile.guestDriver);
  return new AhciDriver({
    sim: w.sim,
    cpu: node.cpus[0],
    bus: node.bus,
    memory: node.memory,
    e820: node.e820,
    irq: node.irq,
    vector: AHCI_VECTOR,
    abar: ABAR,
    costs: { issue: d.issue, complete: d.complete, pollInterval: d.pollInterval },
    maxRequestBytes: d.maxRequestBytes,
    commandTimeout: d.commandTimeout,
    commandRetries: d.commandRetries,
    linkDebounce: d.linkDebounce,
  });
}

/** The guest's CPUs as workloads see them (the node's one pool). */
export function guestCpus(_w: World, node: Node): GuestCpus {
  return node.guestCpus;
}
