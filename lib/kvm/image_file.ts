/**
 * The VM's disk as an image file the host reads over the network (the
 * KVM/NFS baseline: the host mounts the image server by NFS and QEMU opens
 * the image file on it), with guest writes kept in a local copy-on-write
 * overlay (QEMU `-snapshot`, a qcow2 overlay in host memory). The network
 * path is an injected transport (the deploy layer passes a host NFS client
 * or an image client), so this file adds only the overlay's costs.
 */
import {
  type FieldIssue,
  issuesError,
  NO_VERSION,
  numberIssue,
  requireNumber,
  transferTime,
  VersionMap,
  withDefaults,
} from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import { Resource } from "../sim/mod.ts";
import type { ProcessGenerator, SimEvent, Simulation } from "../sim/mod.ts";
import type { DiskCommand, DiskResult } from "../hw/mod.ts";
import type { VirtioBackend } from "./virtio_blk.ts";

/** Reads `count` sectors of the image from `lba`; fails when the remote side does. */
export type ImageTransport = (req: { lba: number; count: number }) => SimEvent<Int32Array>;

/** Options of {@link RemoteImageFile}. */
export interface RemoteImageFileOptions {
  /** Simulation the file's command processes run in. */
  sim: Simulation;
  /** File name used in process names and error messages. @default "image-file" */
  name?: string;
  /** Size of the image, 512-byte sectors. */
  sectors: number;
  /** Network read path to the image server (host NFS client or image client). */
  transport: ImageTransport;
  /** Reads outstanding on the transport at once. @default 16 */
  queueDepth?: number;
  /** Overlay lookup or allocation per command, reads of the backing file included (qcow2 L2 lookup, host page cache), ns. */
  overlayAccess: SimTime;
  /** Copy bandwidth into or out of the overlay, bytes/s. @default Infinity */
  overlayBandwidth?: number;
}

/** Counters. */
export interface RemoteImageFileStats {
  /** Read commands sent to the transport (some sector not in the overlay). */
  remoteReads: number;
  /** Sectors requested by those transport reads (whole commands, overlaid sectors included). */
  remoteSectors: number;
  /** Reads served by the overlay alone. */
  overlayReads: number;
  /** Write commands stored in the overlay. */
  overlayWrites: number;
  /** Commands failed: out of range, or the transport failed. */
  errors: number;
}

/** The defaults of the file's optional settings (their sources: {@link RemoteImageFileOptions}). */
const FILE_DEFAULTS: Required<Pick<RemoteImageFileOptions, "queueDepth" | "overlayBandwidth">> = {
  queueDepth: 16,
  overlayBandwidth: Infinity,
};

/** What {@link remoteImageFileIssues} checks: the file's queue and overlay costs. */
export type RemoteImageFileSettings = Pick<
  RemoteImageFileOptions,
  "queueDepth" | "overlayAccess" | "overlayBandwidth"
>;

/**
 * Every problem with a remote image file's queue depth and overlay costs
 * ({@link RemoteImageFile} rejects them), the defaults filled in. A profile
 * checks its values with it before any run.
 * @example
 * ```ts
 * import { remoteImageFileIssues } from "./image_file.ts";
 * const [issue] = remoteImageFileIssues({ queueDepth: 0, overlayAccess: 1_000 });
 * console.assert(issue.field === "queueDepth" && issue.message === "must be an integer >= 1: current value is 0");
 * ```
 */
export function remoteImageFileIssues(settings: RemoteImageFileSettings): FieldIssue[] {
  const { queueDepth, overlayBandwidth } = withDefaults(settings, FILE_DEFAULTS);
  const { overlayAccess } = settings;
  return [
    numberIssue("queueDepth", queueDepth, { integer: true, min: 1 }),
    numberIssue("overlayAccess", overlayAccess, { integer: true, min: 0 }),
    overlayBandwidth === Infinity
      ? undefined
      : numberIssue("overlayBandwidth", overlayBandwidth, { min: 0, strict: true }),
  ].filter((i) => i !== undefined);
}

/**
 * An image file on a remote server with a local write overlay.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { RemoteImageFile } from "./image_file.ts";
 * const sim = new Simulation();
 * const transport = (r: { lba: number; count: number }) => sim.timeout(100_000, new Int32Array(r.count));
 * const file = new RemoteImageFile({ sim, sectors: 1024, transport, overlayAccess: 1_000 });
 * sim.process(function* () {
 *   yield file.submit({ op: "write", lba: 2, versions: [5] });
 *   const r = (yield file.submit({ op: "read", lba: 0, count: 4 })) as { versions: Int32Array };
 *   console.assert(r.versions.join() === "0,0,5,0");
 * });
 * sim.run();
 * ```
 */
export class RemoteImageFile implements VirtioBackend {
  /** File name used in process names and error messages. */
  readonly name: string;
  /** Size of the image, 512-byte sectors. */
  readonly sectors: number;
  /** Reads outstanding on the transport at once; virtio-blk's host queue uses it too. */
  readonly queueDepth: number;
  /** Counters since creation. */
  readonly stats: RemoteImageFileStats = {
    remoteReads: 0,
    remoteSectors: 0,
    overlayReads: 0,
    overlayWrites: 0,
    errors: 0,
  };
  /** Guest writes (NO_VERSION where the image shows through). */
  readonly overlay: VersionMap;
  readonly #sim: Simulation;
  readonly #transport: ImageTransport;
  readonly #overlayAccess: SimTime;
  readonly #overlayBandwidth: number;
  readonly #slots: Resource;

  /**
   * Creates the file with an empty overlay.
   * @throws RangeError on bad sizes or costs; TypeError when `transport` is not a function.
   */
  constructor(options: RemoteImageFileOptions) {
    const { sim, name = "image-file", sectors, transport, overlayAccess } = options;
    const { queueDepth, overlayBandwidth } = withDefaults(options, FILE_DEFAULTS);
    const what = `create remote image file '${name}'`;
    requireNumber(what, "sectors", sectors, { integer: true, min: 0, strict: true });
    const issues = remoteImageFileIssues({ queueDepth, overlayAccess, overlayBandwidth });
    if (issues.length > 0) throw issuesError(what, issues);
    if (typeof transport !== "function") {
      throw new TypeError(`Cannot ${what}: 'transport' must be a function`);
    }
    this.name = name;
    this.sectors = sectors;
    this.queueDepth = queueDepth;
    this.overlay = new VersionMap(sectors, NO_VERSION);
    this.#sim = sim;
    this.#transport = transport;
    this.#overlayAccess = overlayAccess;
    this.#overlayBandwidth = overlayBandwidth;
    this.#slots = new Resource(sim, { capacity: queueDepth, name: `${name}:transport` });
  }

  /** Runs a command; failures complete with ok=false like a disk's. */
  submit(cmd: DiskCommand): SimEvent<DiskResult> {
    return this.#sim.process(this.#serve(cmd), `${this.name}:${cmd.op}`);
  }

  *#serve(cmd: DiskCommand): ProcessGenerator<DiskResult> {
    const start = this.#sim.now;
    const done = (ok: boolean, versions?: Int32Array, error?: "idnf" | "abrt"): DiskResult => {
      if (!ok) this.stats.errors++;
      return { ok, versions, error, serviceTime: this.#sim.now - start };
    };
    if (cmd.op === "flush") return done(true); // the overlay lives in host memory
    const count = cmd.op === "read" ? cmd.count : cmd.versions.length;
    if (!(count >= 1 && cmd.lba >= 0 && cmd.lba + count <= this.sectors)) {
      return done(false, undefined, "idnf");
    }
    // Every command looks its clusters up in the overlay first (qcow2 L2
    // tables), a read that then goes to the backing file included.
    const copy = this.#overlayAccess + this.#copyTime(count);
    if (cmd.op === "write") {
      yield this.#sim.timeout(copy);
      this.overlay.set(cmd.lba, cmd.versions);
      this.stats.overlayWrites++;
      return done(true);
    }
    const mine = this.overlay.read(cmd.lba, count);
    let overlaid = 0;
    for (let i = 0; i < count; i++) if (mine[i] !== NO_VERSION) overlaid++;
    if (overlaid === count) {
      yield this.#sim.timeout(copy);
      this.stats.overlayReads++;
      return done(true, mine);
    }
    if (this.#overlayAccess > 0) yield this.#sim.timeout(this.#overlayAccess);
    let remote: Int32Array;
    {
      using slot = this.#slots.request();
      yield slot;
      this.stats.remoteReads++;
      this.stats.remoteSectors += count;
      try {
        remote = (yield this.#transport({ lba: cmd.lba, count })) as Int32Array;
      } catch {
        return done(false, undefined, "abrt");
      }
    }
    if (overlaid > 0) {
      yield this.#sim.timeout(this.#copyTime(overlaid));
      const merged = Int32Array.from(remote);
      for (let i = 0; i < count; i++) if (mine[i] !== NO_VERSION) merged[i] = mine[i];
      return done(true, merged);
    }
    return done(true, remote);
  }

  #copyTime(sectors: number): SimTime {
    return this.#overlayBandwidth === Infinity
      ? 0
      : transferTime(sectors * 512, this.#overlayBandwidth);
  }
}
