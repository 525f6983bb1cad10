/**
 * The image server: holds images by id on a network host and answers block
 * reads over the image block protocol. A request takes a worker (the
 * concurrency limit), spends CPU, then reads what the page cache misses from
 * a backing disk whose bandwidth concurrent misses share; the answer is a
 * flow back to the client (the worker is free once the answer is handed to
 * the network stack, which sends it asynchronously). Every request gets exactly one answer, data or a
 * typed error: bad input is the client's misbehaviour, so it is counted and
 * answered, never thrown; a read the backing store fails is answered with an
 * error too, never with data. A compressed image (beyond the paper) is cached
 * and read from disk in its stored form, 1/ratio of the blocks; a client
 * that inflates gets the compressed bytes, any other (NFS) gets raw blocks
 * inflated by the worker.
 */
import { rangeError, requireNumber, type Run, transferTime } from "../_util/mod.ts";
import type { Bytes, SimTime } from "../_util/mod.ts";
import {
  BLOCK_BYTES,
  BlockProtocol,
  type ImageDataResponse,
  type ImageErrorCode,
  type ImageReadRequest,
  type ImageResponse,
  type Network,
  type Packet,
} from "../net/mod.ts";
import {
  type Link,
  type ProcessGenerator,
  type RandomStream,
  Resource,
  type SimEvent,
} from "../sim/mod.ts";
import type { ImageContent } from "./content.ts";
import { PageCache } from "./page_cache.ts";
import type { BlockDevice, DiskResult } from "../hw/mod.ts";

/**
 * Page cache of the server: a fixed hit ratio, or a cache of a given size
 * that starts cold, shares pages being read between requests and evicts by
 * CLOCK, an approximation of LRU ({@link PageCache}).
 */
export type PageCacheOptions =
  | { kind: "ratio"; hitRatio: number }
  | { kind: "lru"; bytes: Bytes; pageBytes?: Bytes };

/** Backing disk: one shared bandwidth and a latency per request. */
export interface BackingDiskOptions {
  /** Sequential bandwidth, bytes/s. */
  bandwidth: number;
  /** Latency per request (seek + rotation, or flash read), ns. */
  latency: SimTime;
}

/** Options of {@link ImageServer}. */
export interface ImageServerOptions {
  /** Network the server's host is on; it listens and answers through it. */
  network: Network;
  /** Host the server runs on. */
  host: string;
  /** Port it listens on. @default "image" */
  port?: string;
  /** Wire format (share it with the clients). @default new BlockProtocol() */
  protocol?: BlockProtocol;
  /** CPU per request (parse, look up, build the answer), ns. @default 5000 */
  cpuPerRequest?: SimTime;
  /** Requests served at once (worker threads). @default 8 */
  concurrency?: number;
  /** Page cache. @default { kind: "ratio", hitRatio: 1 } (image resident in RAM) */
  cache?: PageCacheOptions;
  /** Backing disk. @default { bandwidth: 150e6, latency: 8e6 } (one 7200 rpm SATA HDD) */
  disk?: BackingDiskOptions;
  /**
   * A disk model holding the images instead of `disk`, one after the other
   * in the order they were added (the first image's block `lba` at disk
   * sector `lba`, or at `lba / ratio` for a compressed image; the next image
   * from where the previous one's stored blocks end): cache misses are read
   * from it, so sequential copies stream and scattered reads pay seeks.
   * It must hold every image's stored blocks ({@link ImageServer.addImage} checks).
   */
  store?: BlockDevice;
  /**
   * Output rate at which a worker inflates a compressed image's blocks for a
   * client that asks for raw data (an NFS client), bytes/s. @default 150e6
   */
  inflateRate?: number;
  /**
   * Serve demand reads first (beyond the paper): a request marked
   * `background` (a background copy's fetch) waits, before it takes a worker,
   * until no other request is at the server; one already taken is not
   * stopped. @default false (first come, first served)
   */
  demandFirst?: boolean;
}

/** Counters of a server. */
export interface ImageServerStats {
  /** Requests received while online. */
  requests: number;
  /** Requests answered with data. */
  dataResponses: number;
  /** Requests answered with an error, per error code. */
  errors: Record<ImageErrorCode, number>;
  /** Requests dropped while offline. */
  dropped: number;
  /** Block bytes sent in data answers (payload, without protocol overhead). */
  bytesServed: Bytes;
  /** The same as they crossed the network: compressed for a client that inflates. */
  bytesSent: Bytes;
  /** Read requests whose blocks were all in the page cache (or resident by wait on another read). */
  cacheHits: number;
  /** Read requests that read some of their blocks from the backing disk. */
  cacheMisses: number;
  /** Bytes read from the backing disk (whole pages with an "lru" cache). */
  diskBytes: Bytes;
}

/**
 * An image server on a host.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { starNetwork } from "../net/mod.ts";
 * import { ImageContent } from "./content.ts";
 * import { ImageServer } from "./server.ts";
 * import { ImageClient } from "./client.ts";
 * const sim = new Simulation();
 * const net = starNetwork(sim, { switchLatency: 2_000, hosts: ["srv", "n0"], bandwidth: 125e6 });
 * const server = new ImageServer({ network: net, host: "srv" });
 * server.addImage(new ImageContent({ id: "os", bytes: 2 ** 30 }));
 * const client = new ImageClient({ network: net, host: "n0", server: "srv" });
 * const ev = client.read({ imageId: "os", lba: 0, count: 8 });
 * sim.run();
 * console.assert(ev.value.length === 8 && server.stats.dataResponses === 1);
 * ```
 */
export class ImageServer {
  /** Network the server listens on. */
  readonly network: Network;
  /** Host the server runs on. */
  readonly host: string;
  /** Port it listens on. */
  readonly port: string;
  /** Wire format: message sizes and the largest read. */
  readonly protocol: BlockProtocol;
  /** CPU per request (parse, look up, build the answer), ns. */
  readonly cpuPerRequest: SimTime;
  /** Worker threads. */
  readonly workers: Resource;
  /** Whether background requests wait for demand ones ({@link ImageServerOptions.demandFirst}). */
  readonly demandFirst: boolean;
  /** Demand requests at the server (received, not yet answered). */
  #demand = 0;
  /** Succeeds when `#demand` drops to 0: background requests wait on it. */
  #demandDone: SimEvent<void> | undefined;
  /** Page cache model in use. */
  readonly cache: Readonly<PageCacheOptions>;
  /** Backing disk bandwidth and latency (unused for reads when a `store` is given). */
  readonly disk: Readonly<BackingDiskOptions>;
  /** When false, requests are dropped unanswered (a crashed or partitioned server). */
  online = true;
  /** Counters since creation. */
  readonly stats: ImageServerStats = {
    requests: 0,
    dataResponses: 0,
    errors: {
      "unknown-image": 0,
      "lba-out-of-range": 0,
      "bad-count": 0,
      malformed: 0,
      "io-error": 0,
    },
    dropped: 0,
    bytesServed: 0,
    bytesSent: 0,
    cacheHits: 0,
    cacheMisses: 0,
    diskBytes: 0,
  };
  #images = new Map<string, ImageContent>();
  /** Where each image's stored blocks begin on the backing disk, sectors. */
  #storeAt = new Map<string, number>();
  /** Where the next image added is stored. */
  #storeEnd = 0;
  #diskLink: Link;
  #store: BlockDevice | undefined;
  #rng: RandomStream;
  #pageCache: PageCache | undefined;
  #unlisten: () => void;
  /** Output rate of a worker inflating blocks for a raw request, bytes/s. */
  readonly inflateRate: number;

  /**
   * Creates the server and starts listening on `host`:`port`.
   * @throws RangeError on bad costs, concurrency, cache or disk options.
   */
  constructor(options: ImageServerOptions) {
    const {
      network,
      host,
      port = "image",
      protocol = new BlockProtocol(),
      cpuPerRequest = 5_000,
      concurrency = 8,
      cache = { kind: "ratio", hitRatio: 1 },
      disk = { bandwidth: 150e6, latency: 8_000_000 },
      inflateRate = 150e6,
      demandFirst = false,
    } = options;
    const what = `create image server on '${host}'`;
    network.node(host);
    requireNumber(what, "cpuPerRequest", cpuPerRequest, { integer: true, min: 0 });
    requireNumber(what, "concurrency", concurrency, { integer: true, min: 1 });
    checkCache(what, cache);
    requireNumber(what, "disk.bandwidth", disk.bandwidth, { min: 0, strict: true });
    requireNumber(what, "disk.latency", disk.latency, { integer: true, min: 0 });
    requireNumber(what, "inflateRate", inflateRate, { min: 0, strict: true });
    if (typeof demandFirst !== "boolean") {
      throw rangeError(what, "demandFirst", "true or false", String(demandFirst));
    }
    this.demandFirst = demandFirst;
    this.inflateRate = inflateRate;
    this.network = network;
    this.host = host;
    this.port = port;
    this.protocol = protocol;
    this.cpuPerRequest = cpuPerRequest;
    this.workers = new Resource(network.sim, { capacity: concurrency, name: `${host}:workers` });
    this.cache = { ...cache };
    if (cache.kind === "lru") {
      this.#pageCache = new PageCache({ bytes: cache.bytes, pageBytes: cache.pageBytes });
    }
    this.disk = { ...disk };
    this.#store = options.store;
    this.#diskLink = network.flows.link({
      name: `${host}:disk`,
      bandwidth: disk.bandwidth,
      latency: disk.latency,
    });
    this.#rng = network.sim.rng.stream(`image-server:${host}:cache`);
    this.#unlisten = network.listen(host, port, (p) => this.#receive(p));
  }

  /**
   * Makes an image available.
   * @throws RangeError when the id is taken, or when the `store` holds fewer sectors than the
   * image takes in its stored form.
   */
  addImage(image: ImageContent): void {
    if (this.#images.has(image.id)) {
      throw new RangeError(
        `Cannot add image: 'id' must be unique on '${this.host}': current value is ${image.id}`,
      );
    }
    const stored = image.storedRun(0, image.blocks);
    const store = this.#store;
    const end = this.#storeEnd + stored.lba + stored.count;
    if (store !== undefined && store.sectors < end) {
      const others = this.#images.size === 0
        ? ""
        : ` after the ${this.#images.size} image(s) already held, ${this.#storeEnd} sectors`;
      throw rangeError(
        `add image '${image.id}' on '${this.host}'`,
        "store.sectors",
        `>= ${end} (the sectors the image takes stored${others})`,
        store.sectors,
      );
    }
    this.#storeAt.set(image.id, this.#storeEnd);
    this.#storeEnd = end;
    this.#images.set(image.id, image);
    this.#pageCache?.addImage(image.id, stored.count * BLOCK_BYTES);
  }

  /** The image called `id`, if held. */
  image(id: string): ImageContent | undefined {
    return this.#images.get(id);
  }

  /**
   * Reads `count` blocks of a held image from `lba` on the server itself:
   * through the page cache and the backing disk like a request, but without
   * a worker or the network (what a multicast sender does before sending).
   * @throws RangeError for an unknown image or a range outside it; Error when the backing
   * store fails the read.
   */
  *readLocal(imageId: string, lba: number, count: number): ProcessGenerator<Int32Array> {
    const img = this.#images.get(imageId);
    if (img === undefined) {
      throw new RangeError(`Cannot read locally: no image '${imageId}' on '${this.host}'`);
    }
    if (!isId(lba) || !Number.isInteger(count) || count < 1 || lba + count > img.blocks) {
      throw new RangeError(
        `Cannot read locally: blocks [${lba}, ${
          lba + count
        }) must lie within image '${imageId}' (${img.blocks} blocks)`,
      );
    }
    const failed = yield* this.#readThroughCache({ type: "read", imageId, lba, count, reqId: -1 });
    if (failed !== undefined) {
      throw new Error(`Cannot read locally: ${failed}`);
    }
    return img.read(lba, count);
  }

  /** Stops listening. */
  close(): void {
    this.#unlisten();
  }

  #receive(p: Packet): void {
    if (!this.online) {
      this.stats.dropped++;
      return;
    }
    this.stats.requests++;
    this.network.sim.process(this.#serve(p), `${this.host}:serve`);
  }

  *#serve(p: Packet): ProcessGenerator<void> {
    const sim = this.network.sim;
    const background = (p.payload as { background?: unknown } | null)?.background === true;
    if (this.demandFirst && !background) this.#demand++;
    // Strict priority: a background request waits until no demand request is here.
    while (this.demandFirst && background && this.#demand > 0) {
      this.#demandDone ??= sim.event<void>();
      yield this.#demandDone;
    }
    let answer: ImageResponse;
    try {
      using worker = this.workers.request();
      yield worker;
      if (this.cpuPerRequest > 0) yield sim.timeout(this.cpuPerRequest);
      const checked = this.#validate(p.payload);
      if (checked.type !== "read") answer = checked;
      else {
        const failed = yield* this.#readThroughCache(checked);
        if (failed !== undefined) {
          // The blocks could not be read: an error, never data the disk did not return.
          answer = { type: "error", reqId: checked.reqId, code: "io-error", message: failed };
        } else answer = yield* this.#data(checked);
      }
    } finally {
      if (this.demandFirst && !background && --this.#demand === 0 && this.#demandDone) {
        const done = this.#demandDone;
        this.#demandDone = undefined;
        done.succeed();
      }
    }
    if (answer.type === "error") this.stats.errors[answer.code]++;
    this.network.sendRetrying({
      from: this.host,
      to: p.from,
      port: p.replyPort,
      replyPort: this.port,
      bytes: this.protocol.wireBytes(answer),
      payload: answer,
      name: `${this.host}:${answer.type}`,
    });
  }

  /** The data answer to `checked` (its blocks are in memory), inflated for a raw request. */
  *#data(checked: ImageReadRequest): ProcessGenerator<ImageResponse> {
    const sim = this.network.sim;
    const img = this.#images.get(checked.imageId)!;
    const versions = img.read(checked.lba, checked.count);
    const answer: ImageDataResponse = { type: "data", reqId: checked.reqId, versions };
    if (img.compressionRatio > 1) {
      // The client inflates what it asked compressed; for a raw request the worker does.
      if (checked.compressed) answer.encodedBytes = img.encodedBytes(checked.count);
      else yield sim.timeout(transferTime(checked.count * BLOCK_BYTES, this.inflateRate));
    }
    this.stats.dataResponses++;
    this.stats.bytesServed += checked.count * BLOCK_BYTES;
    this.stats.bytesSent += answer.encodedBytes ?? checked.count * BLOCK_BYTES;
    return answer;
  }

  /** A well-formed read of a held image within range, or the error to answer. */
  #validate(msg: unknown): ImageReadRequest | ImageResponse {
    let reqId = -1;
    const err = (code: ImageErrorCode, message: string): ImageResponse => ({
      type: "error",
      reqId,
      code,
      message,
    });
    try {
      if (msg === null || typeof msg !== "object") {
        return err("malformed", "message is not an object");
      }
      const m = msg as Record<string, unknown>;
      if (isId(m.reqId)) reqId = m.reqId;
      else return err("malformed", "'reqId' must be a non-negative safe integer");
      if (m.type !== "read") return err("malformed", `unsupported message type ${String(m.type)}`);
      const { imageId, lba, count } = m;
      if (typeof imageId !== "string") return err("malformed", "'imageId' must be a string");
      if (!isId(lba)) return err("malformed", "'lba' must be a non-negative safe integer");
      if (typeof count !== "number" || !Number.isInteger(count)) {
        return err("malformed", "'count' must be an integer");
      }
      const img = this.#images.get(imageId);
      if (img === undefined) return err("unknown-image", `no image '${imageId}'`);
      const max = this.protocol.maxBlocksPerRequest;
      if (count < 1 || count > max) {
        return err("bad-count", `'count' must be in [1, ${max}]: got ${count}`);
      }
      if (lba + count > img.blocks) {
        return err(
          "lba-out-of-range",
          `blocks [${lba}, ${lba + count}) exceed image size ${img.blocks}`,
        );
      }
      return { type: "read", imageId, lba, count, reqId, compressed: m.compressed === true };
    } catch (e) {
      // A hostile object (throwing getter) is still only a malformed message.
      return err("malformed", `unreadable message: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Waits until the pages of `r` are in memory, reading what the cache misses from the disk;
   * returns why when a backing store read of them failed (undefined when they are in memory).
   */
  *#readThroughCache(r: ImageReadRequest): ProcessGenerator<string | undefined> {
    const sim = this.network.sim;
    const c = this.cache;
    // The cache and the disk hold the stored form: a compressed image's blocks take 1/ratio.
    const stored = this.#images.get(r.imageId)!.storedRun(r.lba, r.count);
    const at = this.#storeAt.get(r.imageId)!;
    if (c.kind === "ratio") {
      const hit = c.hitRatio >= 1 || this.#rng.random() < c.hitRatio;
      if (hit) {
        this.stats.cacheHits++;
        return;
      }
      this.stats.cacheMisses++;
      const read = this.#readDisk([stored], at);
      yield read;
      return storeFailure(read);
    }
    let missed = false;
    const waits = this.#pageCache!.read(r.imageId, stored.lba, stored.count, (runs) => {
      missed = true;
      return this.#readDisk(runs, at);
    });
    if (missed) this.stats.cacheMisses++;
    else this.stats.cacheHits++;
    if (waits.length > 0) yield waits.length === 1 ? waits[0] : sim.allOf(waits);
    // Another request's read of these pages counts too: its failure left them unread.
    for (const w of waits) {
      const why = storeFailure(w);
      if (why !== undefined) return why;
    }
    return undefined;
  }

  /**
   * Reads `runs` of a stored image (stored from sector `at`) from the backing disk, one after
   * the other. With a `store`, the event's value is a {@link DiskResult}: the first that failed
   * (the runs after it are not read), else the last.
   */
  #readDisk(image: Run[], at: number): SimEvent<unknown> {
    const runs = at === 0 ? image : image.map((r) => ({ lba: at + r.lba, count: r.count }));
    const sim = this.network.sim;
    let bytes = 0;
    for (const run of runs) bytes += run.count * BLOCK_BYTES;
    this.stats.diskBytes += bytes;
    const store = this.#store;
    if (store === undefined) {
      return this.network.flows.flow({ route: [this.#diskLink], bytes, name: `${this.host}:disk` });
    }
    if (runs.length === 1) return store.submit({ op: "read", ...runs[0] });
    return sim.process(function* () {
      let result: DiskResult | undefined;
      for (const run of runs) {
        result = (yield store.submit({ op: "read", ...run })) as DiskResult;
        if (!result.ok) break;
      }
      return result;
    }, `${this.host}:disk reads`);
  }
}

/** Why the store failed the read `ev` (a {@link DiskResult} with ok false), else undefined. */
function storeFailure(ev: SimEvent<unknown>): string | undefined {
  const r = ev.value as Partial<DiskResult> | undefined;
  if (r === null || typeof r !== "object" || r.ok !== false || !("serviceTime" in r)) {
    return undefined;
  }
  return `backing store read failed: ${r.error ?? "error"}`;
}

function isId(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

function checkCache(what: string, cache: PageCacheOptions): void {
  if (
    cache === null || typeof cache !== "object" || !(cache.kind === "ratio" || cache.kind === "lru")
  ) {
    throw new RangeError(
      `Cannot ${what}: 'cache.kind' must be "ratio" or "lru": current value is ${
        String((cache as { kind?: unknown })?.kind)
      }`,
    );
  }
  if (cache.kind === "ratio") {
    requireNumber(what, "cache.hitRatio", cache.hitRatio, { min: 0 });
    if (cache.hitRatio > 1) {
      throw new RangeError(
        `Cannot ${what}: 'cache.hitRatio' must be in [0, 1]: current value is ${cache.hitRatio}`,
      );
    }
  } else {
    requireNumber(what, "cache.bytes", cache.bytes, { integer: true, min: 0 });
    const pageBytes = cache.pageBytes ?? 4096;
    requireNumber(what, "cache.pageBytes", pageBytes, { integer: true, min: BLOCK_BYTES });
    if (pageBytes % BLOCK_BYTES !== 0) {
      throw rangeError(what, "cache.pageBytes", `a multiple of ${BLOCK_BYTES}`, pageBytes);
    }
  }
}
