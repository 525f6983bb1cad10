/**
 * Multicast image distribution, the way Frisbee installs one disk image on
 * many nodes at once (Hibler et al., "Fast, Scalable Disk Imaging with
 * Frisbee", USENIX ATC 2003): receivers join a session for an image; the
 * server sends, in cyclic order from where it is, each chunk that some member
 * still needs, once for the whole group (the switch copies it, so the server
 * link carries it once); a receiver that joins late takes the stream from
 * where it is and gets what it missed on the next lap; a receiver whose
 * buffer of chunks not yet written is full drops the chunk and asks for it
 * again (a NAK). The server reads the next chunk through its page cache while
 * the previous one is on the wire. As in Frisbee, a compressed image goes
 * out compressed (receivers inflate it) and the session can be rate-limited
 * (`rate`); without a limit the group's slowest link paces the stream.
 * Chunks and control messages are datagrams: one sent while the server is
 * unreachable (an outage) is lost, and a receiver that has heard nothing for
 * `idleTimeout` while it still misses chunks asks again for all of them, as
 * Frisbee's client re-requests after three idle receive timeouts.
 */
import { isRun, mergeRuns, requireNumber, transferTime } from "../_util/mod.ts";
import type { Bytes, Run, SimTime } from "../_util/mod.ts";
import { BLOCK_BYTES, type BlockProtocol, type Network, type Packet } from "../net/mod.ts";
import { type Flow, type ProcessGenerator, type SimEvent, type Timer, URGENT } from "../sim/mod.ts";
import type { Inflater } from "./inflater.ts";
import type { ImageServer } from "./server.ts";

/** A receiver's control message to the session. */
export type MulticastControl =
  | { type: "join"; want?: Run[] }
  | { type: "nak"; chunk: number }
  | { type: "leave" };

/** One chunk as sent to the group (`reqId` is the chunk index). */
export interface MulticastChunk {
  /** Always "data": a data message of the block protocol (same framing). */
  type: "data";
  /** Chunk index (blocks `reqId * chunkSectors` on). */
  reqId: number;
  /** Versions of the chunk's blocks. */
  versions: Int32Array;
  /** Bytes on the wire when the image is compressed (beyond the paper); absent: raw. */
  encodedBytes?: Bytes;
}

/** Options of {@link MulticastServer}. */
export interface MulticastServerOptions {
  /** The image server: the session reads through its page cache and sends from its host. */
  server: ImageServer;
  /** Image the session distributes. */
  imageId: string;
  /** Chunk size, blocks (the unit sent, acknowledged and asked for again). */
  chunkSectors: number;
  /** Port the session listens on and sends to. @default "multicast" */
  port?: string;
  /**
   * Most image bytes per second the session sends (beyond the paper), as
   * Frisbee's server is rate-limited (Hibler et al., USENIX ATC 2003):
   * receivers that write (or inflate) slower than chunks arrive drop them and
   * NAK, and every resend takes the link from everyone. Counted in image bytes,
   * so a compressed image goes out at `rate / ratio` on the wire.
   * @default Infinity (the link's rate)
   */
  rate?: number;
}

/** Counters of a {@link MulticastServer}. */
export interface MulticastServerStats {
  /** Join messages received. */
  joins: number;
  /** Leave messages received. */
  leaves: number;
  /** NAKs received (chunks a receiver dropped). */
  naks: number;
  /** Chunks sent to the group. */
  chunksSent: number;
  /** Of those, chunks sent before (a late joiner's lap or a NAK). */
  chunksResent: number;
  /** Image bytes sent to the group, compressed for a compressed image (each crosses the server's link once). */
  bytesSent: Bytes;
  /** The same with framing: wire bytes. */
  wireBytes: Bytes;
}

/**
 * The sending side of a multicast session on the image server's host.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { BlockProtocol, starNetwork } from "../net/mod.ts";
 * import { ImageContent, ImageServer, MulticastReceiver, MulticastServer } from "./mod.ts";
 * const sim = new Simulation();
 * const network = starNetwork(sim, {
 *   hosts: ["srv", "a", "b"], bandwidth: 125e6, switchLatency: 1_000,
 * });
 * const protocol = new BlockProtocol();
 * const server = new ImageServer({ network, host: "srv", protocol });
 * server.addImage(new ImageContent({ id: "os", bytes: 8 << 20 }));
 * const session = new MulticastServer({ server, imageId: "os", chunkSectors: 2048 });
 * const done = ["a", "b"].map((host) =>
 *   new MulticastReceiver({
 *     network, host, server: "srv", protocol, imageId: "os", blocks: 16384,
 *     chunkSectors: 2048, bufferBytes: 4 << 20, write: () => sim.timeout(1_000_000),
 *   }).start()
 * );
 * sim.run();
 * console.assert(done.every((d) => d.processed));
 * // 8 chunks for both nodes; b's join came just after chunk 0 left, so b got it on a second lap
 * console.assert(session.stats.chunksSent === 9 && session.stats.chunksResent === 1);
 * ```
 */
export class MulticastServer {
  /** The image server it reads through and sends from. */
  readonly server: ImageServer;
  /** Image it distributes. */
  readonly imageId: string;
  /** Chunk size, blocks. */
  readonly chunkSectors: number;
  /** Number of chunks of the image (the last may be short). */
  readonly chunks: number;
  /** Port it listens on and sends to. */
  readonly port: string;
  /** Most image bytes per second it sends (Infinity: the link's rate). */
  readonly rate: number;
  /** Counters since creation. */
  readonly stats: MulticastServerStats = {
    joins: 0,
    leaves: 0,
    naks: 0,
    chunksSent: 0,
    chunksResent: 0,
    bytesSent: 0,
    wireBytes: 0,
  };
  readonly #blocks: number;
  /** Per member: 1 for each chunk it still needs from the server. */
  readonly #members = new Map<string, Uint8Array>();
  /** Per chunk: members that still need it. */
  readonly #needers: Int32Array;
  readonly #sent: Uint8Array;
  #cursor = 0;
  #sending = false;

  /**
   * Opens the session and listens for joins.
   * @throws RangeError for an image the server does not hold or a bad chunk size.
   */
  constructor(options: MulticastServerOptions) {
    const { server, imageId, chunkSectors, port = "multicast", rate = Infinity } = options;
    const what = `open multicast session for '${imageId}'`;
    const img = server.image(imageId);
    if (img === undefined) {
      throw new RangeError(`Cannot ${what}: the server on '${server.host}' holds no such image`);
    }
    requireNumber(what, "chunkSectors", chunkSectors, { integer: true, min: 1 });
    if (rate !== Infinity) requireNumber(what, "rate", rate, { min: 0, strict: true });
    if (chunkSectors > server.protocol.maxBlocksPerRequest) {
      throw new RangeError(
        `Cannot ${what}: 'chunkSectors' must be <= the protocol's largest message (${server.protocol.maxBlocksPerRequest} blocks): current value is ${chunkSectors}`,
      );
    }
    this.server = server;
    this.imageId = imageId;
    this.chunkSectors = chunkSectors;
    this.port = port;
    this.rate = rate;
    this.#blocks = img.blocks;
    this.chunks = Math.ceil(img.blocks / chunkSectors);
    this.#needers = new Int32Array(this.chunks);
    this.#sent = new Uint8Array(this.chunks);
    server.network.listen(server.host, port, (p) => this.#receive(p));
  }

  /** Hosts currently in the group. */
  get members(): string[] {
    return [...this.#members.keys()];
  }

  #receive(p: Packet): void {
    const m = p.payload as MulticastControl | null;
    const handler = m !== null && typeof m === "object" ? CONTROL[m.type] : undefined;
    if (handler === undefined) return; // not a session message: ignored, like stray datagrams
    handler(this, p.from, m as never);
    if (!this.#sending && this.#pick() >= 0) {
      this.#sending = true;
      this.server.network.sim.process(this.#send(), `${this.server.host}:multicast`);
    }
  }

  /** @internal */
  _join(host: string, want: readonly Run[] | undefined): void {
    this.stats.joins++;
    const need = this.#members.get(host) ?? new Uint8Array(this.chunks);
    // A (re-)join asks for everything it wants: the receiver starts over.
    const wanted = wantedChunks(want, this.chunkSectors, this.chunks);
    for (let c = 0; c < this.chunks; c++) this.#needers[c] += wanted[c] - need[c];
    need.set(wanted);
    this.#members.set(host, need);
  }

  /** @internal */
  _nak(host: string, chunk: number): void {
    const need = this.#members.get(host);
    if (need === undefined || !Number.isInteger(chunk) || chunk < 0 || chunk >= this.chunks) return;
    this.stats.naks++;
    if (need[chunk] === 0) {
      need[chunk] = 1;
      this.#needers[chunk]++;
    }
  }

  /** @internal */
  _leave(host: string): void {
    const need = this.#members.get(host);
    if (need === undefined) return;
    this.stats.leaves++;
    for (let c = 0; c < this.chunks; c++) this.#needers[c] -= need[c];
    this.#members.delete(host);
  }

  /** The next chunk someone needs, cyclically from the cursor; -1 when none. */
  #pick(): number {
    for (let k = 0; k < this.chunks; k++) {
      const c = (this.#cursor + k) % this.chunks;
      if (this.#needers[c] > 0) return c;
    }
    return -1;
  }

  /** Sends until no member needs anything; reads the next chunk while one is on the wire. */
  *#send(): ProcessGenerator<void> {
    const net = this.server.network;
    const protocol = this.server.protocol;
    const sim = net.sim;
    let onWire: Flow | undefined;
    let nextAt = sim.now; // the rate limit's earliest start of the next chunk
    for (;;) {
      const c = this.#pick();
      if (c < 0) {
        if (onWire === undefined) break;
        // A NAK or join may come in while the last chunk crosses: wait for it, then look again.
        yield onWire;
        onWire = undefined;
        continue;
      }
      this.#cursor = (c + 1) % this.chunks;
      const lba = c * this.chunkSectors;
      const count = Math.min(this.chunkSectors, this.#blocks - lba);
      const versions = yield* this.server.readLocal(this.imageId, lba, count);
      if (onWire !== undefined) yield onWire;
      onWire = undefined;
      if (nextAt > sim.now) yield sim.timeout(nextAt - sim.now);
      // Members as of now get it; whoever still needed it no longer does.
      const group: string[] = [];
      for (const [host, need] of this.#members) {
        group.push(host);
        if (need[c] === 1) {
          need[c] = 0;
          this.#needers[c]--;
        }
      }
      if (group.length === 0) continue;
      if (this.rate !== Infinity) nextAt = sim.now + transferTime(count * BLOCK_BYTES, this.rate);
      const chunk: MulticastChunk = { type: "data", reqId: c, versions };
      const img = this.server.image(this.imageId)!;
      if (img.compressionRatio > 1) chunk.encodedBytes = img.encodedBytes(count);
      const bytes = protocol.wireBytes(chunk);
      this.stats.chunksSent++;
      if (this.#sent[c] === 1) this.stats.chunksResent++;
      this.#sent[c] = 1;
      this.stats.bytesSent += chunk.encodedBytes ?? count * BLOCK_BYTES;
      this.stats.wireBytes += bytes;
      onWire = net.multicast({
        from: this.server.host,
        to: group,
        port: this.port,
        replyPort: this.port,
        bytes,
        payload: chunk,
        name: `${this.server.host}:multicast #${c}`,
      });
    }
    this.#sending = false;
  }
}

/** What the session does with each control message (dispatch by type). */
const CONTROL: {
  [K in MulticastControl["type"]]: (
    s: MulticastServer,
    from: string,
    m: Extract<MulticastControl, { type: K }>,
  ) => void;
} = {
  join: (s, from, m) => s._join(from, m.want),
  nak: (s, from, m) => s._nak(from, m.chunk),
  leave: (s, from) => s._leave(from),
};

/**
 * 1 for each chunk holding a block of `want` (every chunk when undefined);
 * blocks outside the image are ignored.
 */
function wantedChunks(
  want: readonly Run[] | undefined,
  chunkSectors: number,
  chunks: number,
): Uint8Array {
  const out = new Uint8Array(chunks);
  if (want === undefined) return out.fill(1);
  for (const r of want) {
    if (!(r.count > 0 && Number.isFinite(r.lba))) continue; // a malformed run asks for nothing
    const first = Math.max(0, Math.floor(r.lba / chunkSectors));
    const last = Math.min(chunks - 1, Math.floor((r.lba + r.count - 1) / chunkSectors));
    out.fill(1, first, last + 1);
  }
  return out;
}

/** Options of {@link MulticastReceiver}. */
export interface MulticastReceiverOptions {
  /** Network the receiver's host is on. */
  network: Network;
  /** Receiving host. */
  host: string;
  /** Host of the session ({@link MulticastServer}). */
  server: string;
  /** Session port (on both ends). @default "multicast" */
  port?: string;
  /** Wire format of the control messages (share it with the server). */
  protocol: BlockProtocol;
  /** Image to receive (for messages and errors). */
  imageId: string;
  /** Size of the image, blocks. */
  blocks: number;
  /** The runs of blocks to receive (the chunks holding them are sent whole). @default the whole image */
  want?: readonly Run[];
  /** The session's chunk size, blocks. */
  chunkSectors: number;
  /** Memory for chunks received but not yet written, bytes (at least one chunk). */
  bufferBytes: Bytes;
  /** Writes a received chunk (to the local disk); its event completes when written. */
  write: (lba: number, versions: Int32Array) => SimEvent<unknown>;
  /**
   * When the receiver has heard no chunk for this long (ns) while it still
   * misses some (its join, a NAK or chunks were lost in an outage), it joins
   * again asking for exactly what it misses, and again after each further
   * idle period (no back-off, like Frisbee's client: re-request after three
   * 30 ms receive timeouts, frisbee.redux/decls.h). @default Infinity (never)
   */
  idleTimeout?: SimTime;
  /**
   * Inflates compressed chunks as they arrive, ahead of the writer (required
   * when the session's image is compressed; the buffer still counts each
   * chunk at its image size). @default none
   */
  inflater?: Inflater;
}

/** Counters of a {@link MulticastReceiver}. */
export interface MulticastReceiverStats {
  /** Chunks kept (each chunk once). */
  received: number;
  /** Chunks that arrived but were not needed: kept before, or not wanted (sent for another member). */
  duplicates: number;
  /** Chunks dropped for a full buffer (each answered by a NAK). */
  dropped: number;
  /** Chunks written. */
  written: number;
  /** Joins sent again after an idle period (see `idleTimeout`). */
  rejoins: number;
}

/**
 * The receiving side of a multicast session on one node: joins, keeps each
 * chunk once, writes chunks in arrival order, NAKs what its buffer cannot
 * hold, joins again for what it misses when it has heard nothing for
 * `idleTimeout` (lost messages) and leaves when every chunk is written. See
 * {@link MulticastServer}.
 */
export class MulticastReceiver {
  /** Counters since creation. */
  readonly stats: MulticastReceiverStats = {
    received: 0,
    duplicates: 0,
    dropped: 0,
    written: 0,
    rejoins: 0,
  };
  /** Number of chunks of the image. */
  readonly chunks: number;
  readonly #o: Required<Omit<MulticastReceiverOptions, "want" | "inflater">>;
  /** When a chunk last arrived (or the last join left), ns. */
  #heard = 0;
  readonly #inflater: Inflater | undefined;
  readonly #want: Run[] | undefined;
  /** 1 for each chunk kept or not wanted. */
  readonly #have: Uint8Array;
  /** Chunks to write before leaving. */
  readonly #needed: number;
  /** Chunks kept, in arrival order, each with its inflation (undefined when raw). */
  readonly #queue: { chunk: MulticastChunk; inflated?: SimEvent<void> }[] = [];
  #buffered = 0;
  #writing = false;
  #done: SimEvent<void> | undefined;
  #unlisten: (() => void) | undefined;
  /** The idle watcher's next look (see {@link #watch}); cancelled by the last needed chunk. */
  #idle: Timer | undefined;

  /** Validates the options (nothing is sent before {@link start}). */
  constructor(options: MulticastReceiverOptions) {
    const o = { port: "multicast", ...options, idleTimeout: options.idleTimeout ?? Infinity };
    const what = `receive image '${o.imageId}' on '${o.host}'`;
    requireNumber(what, "blocks", o.blocks, { integer: true, min: 1 });
    requireNumber(what, "chunkSectors", o.chunkSectors, { integer: true, min: 1 });
    requireNumber(what, "bufferBytes", o.bufferBytes, {
      integer: true,
      min: o.chunkSectors * BLOCK_BYTES,
    });
    if (o.idleTimeout !== Infinity) {
      requireNumber(what, "idleTimeout", o.idleTimeout, { integer: true, min: 1 });
    }
    o.network.node(o.host);
    o.network.node(o.server);
    for (const r of o.want ?? []) {
      if (!isRun(r)) {
        throw new RangeError(
          `Cannot ${what}: 'want' runs need integer lba and count >= 0: current value is ${
            JSON.stringify(r)
          }`,
        );
      }
    }
    const { inflater, ...rest } = o;
    this.#o = rest;
    this.#inflater = inflater;
    this.#want = o.want?.map((r) => ({ ...r }));
    this.chunks = Math.ceil(o.blocks / o.chunkSectors);
    const wanted = wantedChunks(this.#want, o.chunkSectors, this.chunks);
    this.#have = wanted.map((x) => 1 - x);
    this.#needed = wanted.reduce((n, x) => n + x, 0);
  }

  /**
   * Joins the session; returns the event that succeeds once every wanted
   * chunk is written (the receiver has left the group by then; at once when
   * it wants nothing).
   * @throws Error when started twice.
   */
  start(): SimEvent<void> {
    if (this.#done !== undefined) {
      throw new Error(`Cannot start receiving on '${this.#o.host}': already started`);
    }
    const o = this.#o;
    this.#done = o.network.sim.event<void>();
    if (this.#needed === 0) return this.#done.succeed(); // nothing wanted: no join
    this.#unlisten = o.network.listen(o.host, o.port, (p) => this.#receive(p));
    this.#control(this.#want === undefined ? { type: "join" } : { type: "join", want: this.#want });
    this.#heard = o.network.sim.now;
    if (o.idleTimeout !== Infinity) {
      // First look at this instant, URGENT: where the watcher's first step ran
      // when it was a process, so the schedule's order is unchanged.
      this.#idle = o.network.sim.timer(0, () => this.#watch(), URGENT);
    }
    return this.#done;
  }

  /**
   * The idle watcher: joins again for what is still missing when nothing
   * arrived for `idleTimeout`, then looks again when the (new) idle period
   * ends. A callback, not a process, so that the last needed chunk can take
   * its next look off the schedule: a finished receiver leaves nothing queued.
   */
  #watch(): void {
    const { network: { sim }, idleTimeout, chunkSectors, blocks } = this.#o;
    if (sim.now >= this.#heard + idleTimeout) {
      const missing: Run[] = [];
      for (let c = 0; c < this.chunks; c++) {
        if (this.#have[c] === 0) missing.push({ lba: c * chunkSectors, count: chunkSectors });
      }
      const want = mergeRuns(missing, blocks);
      this.stats.rejoins++;
      this.#control({ type: "join", want });
      this.#heard = sim.now;
    }
    this.#idle = sim.timer(this.#heard + idleTimeout - sim.now, () => this.#watch());
  }

  #control(message: MulticastControl): void {
    const o = this.#o;
    o.network.sendDatagram({
      from: o.host,
      to: o.server,
      port: o.port,
      replyPort: o.port,
      bytes: o.protocol.wireBytes(message),
      payload: message,
      name: `${o.host}:multicast ${message.type}`,
    });
  }

  #receive(p: Packet): void {
    const chunk = p.payload as MulticastChunk;
    const c = chunk.reqId;
    this.#heard = this.#o.network.sim.now;
    if (this.#have[c] === 1) {
      this.stats.duplicates++;
      return;
    }
    const bytes = chunk.versions.length * BLOCK_BYTES;
    if (this.#buffered + bytes > this.#o.bufferBytes) {
      this.stats.dropped++;
      this.#control({ type: "nak", chunk: c });
      return;
    }
    this.#have[c] = 1;
    // The last needed chunk: nothing left to ask again for, so the watcher stops.
    if (++this.stats.received === this.#needed) this.#idle?.cancel();
    this.#buffered += bytes;
    if (chunk.encodedBytes === undefined) this.#queue.push({ chunk });
    else {
      if (this.#inflater === undefined) {
        throw new Error(
          `Cannot receive image '${this.#o.imageId}' on '${this.#o.host}': the session sends it compressed and the receiver has no 'inflater'`,
        );
      }
      this.#queue.push({ chunk, inflated: this.#inflater.inflate(bytes) });
    }
    if (!this.#writing) {
      this.#writing = true;
      this.#o.network.sim.process(this.#write(), `${this.#o.host}:multicast writer`);
    }
  }

  /** Writes buffered chunks in arrival order; leaves after the last. */
  *#write(): ProcessGenerator<void> {
    const o = this.#o;
    while (this.#queue.length > 0) {
      const { chunk, inflated } = this.#queue.shift()!;
      if (inflated !== undefined) yield inflated;
      yield o.write(chunk.reqId * o.chunkSectors, chunk.versions);
      this.#buffered -= chunk.versions.length * BLOCK_BYTES;
      this.stats.written++;
    }
    this.#writing = false;
    if (this.stats.written === this.#needed) {
      this.#unlisten!();
      this.#control({ type: "leave" });
      this.#done!.succeed();
    }
  }
}
