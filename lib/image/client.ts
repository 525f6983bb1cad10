/**
 * The client side of the image block protocol, for the VMM's streaming
 * driver and the NFS-root / installer baselines: `read()` sends a request
 * from its host to the server and returns an event that succeeds with the
 * block versions, or fails with a typed {@link ImageRequestError} (the
 * server's answer) or {@link ImageRequestTimeout} (no answer in time).
 */
import { requireNumber } from "../_util/mod.ts";
import type { Lba, SimTime } from "../_util/mod.ts";
import {
  BLOCK_BYTES,
  BlockProtocol,
  type ImageErrorCode,
  type ImageReadRequest,
  type ImageResponse,
  type Network,
  type Packet,
} from "../net/mod.ts";
import type { SimEvent, Timer } from "../sim/mod.ts";
import type { Inflater } from "./inflater.ts";

/** The server answered a read with an error. */
export class ImageRequestError extends Error {
  /** Error class name, `"ImageRequestError"`. */
  override name = "ImageRequestError";
  /**
   * Builds the error for the server's answer to `request`.
   * @param code the error code the server answered with.
   * @param request the read that failed.
   * @param detail the server's message, appended to this error's message.
   */
  constructor(
    /** Error code the server answered with. */
    readonly code: ImageErrorCode,
    /** The read that failed. */
    readonly request: Readonly<ImageReadRequest>,
    detail: string,
  ) {
    super(
      `image read ${request.imageId}[${request.lba}, +${request.count}) failed: ${code}: ${detail}`,
    );
  }
}

/** No answer arrived within the timeout. */
export class ImageRequestTimeout extends Error {
  /** Error class name, `"ImageRequestTimeout"`. */
  override name = "ImageRequestTimeout";
  /**
   * Builds the error for `request`, unanswered after `timeout` ns.
   * @param request the read that got no answer.
   * @param timeout how long the client waited, ns.
   */
  constructor(
    /** The read that got no answer. */
    readonly request: Readonly<ImageReadRequest>,
    /** How long the client waited for the answer, ns. */
    readonly timeout: SimTime,
  ) {
    super(
      `image read ${request.imageId}[${request.lba}, +${request.count}) timed out after ${timeout} ns`,
    );
  }
}

/** Options of {@link ImageClient}. */
export interface ImageClientOptions {
  /** Network the client's host is on; `server` must be reachable from `host`. */
  network: Network;
  /** Host the client runs on. */
  host: string;
  /** Host of the image server. */
  server: string;
  /** Server port. @default "image" */
  serverPort?: string;
  /** Local port for answers. @default the first free of "image-client", "image-client-1", ... */
  port?: string;
  /** Wire format (the server's). @default new BlockProtocol() */
  protocol?: BlockProtocol;
  /** Default per-request timeout, ns. @default Infinity (wait forever) */
  timeout?: SimTime;
  /**
   * The client's inflating thread (beyond the paper): reads ask for compressed
   * data, which it inflates before the read completes (a compressed image's
   * chunks cross the network at 1/ratio of their size). @default none: raw data
   */
  inflater?: Inflater;
}

/** What to read. */
export interface ReadOptions {
  /** Id of the image on the server. */
  imageId: string;
  /** First block to read (512-byte blocks). */
  lba: Lba;
  /** Blocks to read; the server rejects counts outside [1, maxBlocksPerRequest]. */
  count: number;
  /** Overrides the client's timeout for this request, ns. */
  timeout?: SimTime;
  /**
   * Whether to take compressed data (with an `inflater`); false asks for raw
   * blocks, which the server inflates (an NFS READ). @default true
   */
  compressed?: boolean;
  /** A background copy's fetch: a server that serves demand reads first lets it wait. @default false */
  background?: boolean;
}

interface Pending {
  ev: SimEvent<Int32Array>;
  req: ImageReadRequest;
  /** The request's timeout, cancelled by the answer (none when it waits forever). */
  timer: Timer | undefined;
}

/**
 * Reads image blocks from a server.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { starNetwork } from "../net/mod.ts";
 * import { ImageClient, ImageContent, ImageRequestError, ImageServer } from "./mod.ts";
 * const sim = new Simulation();
 * const net = starNetwork(sim, { switchLatency: 2_000, hosts: ["srv", "n0"], bandwidth: 125e6 });
 * new ImageServer({ network: net, host: "srv" }).addImage(new ImageContent({ id: "os", bytes: 4096 }));
 * const client = new ImageClient({ network: net, host: "n0", server: "srv" });
 * let code = "";
 * sim.process(function* () {
 *   try {
 *     yield client.read({ imageId: "os", lba: 6, count: 4 });
 *   } catch (e) {
 *     if (e instanceof ImageRequestError) code = e.code;
 *   }
 * });
 * sim.run();
 * console.assert(code === "lba-out-of-range");
 * ```
 */
export class ImageClient {
  /** Network the client sends on and listens on. */
  readonly network: Network;
  /** Host the client runs on. */
  readonly host: string;
  /** Host of the image server. */
  readonly server: string;
  /** Port the server listens on. */
  readonly serverPort: string;
  /** Local port the answers come to. */
  readonly port: string;
  /** Wire format (the server's): message sizes and request latency. */
  readonly protocol: BlockProtocol;
  /** Default per-request timeout, ns (Infinity: wait forever). */
  readonly timeout: SimTime;
  /** The inflating thread, when the client takes compressed data. */
  readonly inflater: Inflater | undefined;
  /** Requests sent. */
  requests = 0;
  /** Requests failed with {@link ImageRequestTimeout}. */
  timeouts = 0;
  /** Answers that came after their request timed out (ignored). */
  lateAnswers = 0;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #unlisten: () => void;

  /**
   * Creates the client and starts listening on `host`:`port`.
   * @throws when `server` is not reachable from `host`; RangeError on a bad timeout.
   */
  constructor(options: ImageClientOptions) {
    const {
      network,
      host,
      server,
      serverPort = "image",
      protocol = new BlockProtocol(),
      timeout = Infinity,
    } = options;
    const what = `create image client on '${host}'`;
    network.route(host, server); // fails early when unreachable
    if (timeout !== Infinity) {
      requireNumber(what, "timeout", timeout, { integer: true, min: 0, strict: true });
    }
    let port = options.port;
    if (port === undefined) {
      port = "image-client";
      for (let k = 1; network.isListening(host, port); k++) port = `image-client-${k}`;
    }
    this.network = network;
    this.host = host;
    this.server = server;
    this.serverPort = serverPort;
    this.port = port;
    this.protocol = protocol;
    this.timeout = timeout;
    this.inflater = options.inflater;
    this.#unlisten = network.listen(host, port, (p) => this.#receive(p));
  }

  /** Requests waiting for an answer. */
  get outstanding(): number {
    return this.#pending.size;
  }

  /**
   * Reads `count` blocks from `lba`; the event succeeds with their versions.
   * Argument checking is the server's job (a wrong request is answered with
   * an {@link ImageRequestError}), so that both ends see the same rules.
   */
  read(options: ReadOptions): SimEvent<Int32Array> {
    const sim = this.network.sim;
    const timeout = options.timeout ?? this.timeout;
    if (timeout !== Infinity) {
      requireNumber("read image", "timeout", timeout, { integer: true, min: 0, strict: true });
    }
    const req: ImageReadRequest = {
      type: "read",
      imageId: options.imageId,
      lba: options.lba,
      count: options.count,
      reqId: this.#nextId++,
    };
    if (this.inflater !== undefined && options.compressed !== false) req.compressed = true;
    if (options.background === true) req.background = true;
    const ev = sim.event<Int32Array>();
    const entry: Pending = { ev, req, timer: undefined };
    this.#pending.set(req.reqId, entry);
    this.requests++;
    const send = () =>
      this.network.sendRetrying({
        from: this.host,
        to: this.server,
        port: this.serverPort,
        replyPort: this.port,
        bytes: this.protocol.wireBytes(req),
        payload: req,
        name: `${this.host}:read`,
      });
    if (this.protocol.requestLatency > 0) sim.call(this.protocol.requestLatency, send);
    else send();
    if (timeout !== Infinity) {
      // Still pending when it runs: an answer cancels it (see #receive).
      entry.timer = sim.timer(timeout, () => {
        this.#pending.delete(req.reqId);
        this.timeouts++;
        ev.fail(new ImageRequestTimeout(req, timeout));
      });
    }
    return ev;
  }

  /** Stops listening; outstanding requests stay unanswered. */
  close(): void {
    this.#unlisten();
  }

  #receive(p: Packet): void {
    const answer = p.payload as ImageResponse;
    const entry = this.#pending.get(answer.reqId);
    if (entry === undefined) {
      this.lateAnswers++;
      return;
    }
    this.#pending.delete(answer.reqId);
    // Answered: the timeout must not stay queued (a run would go on to it).
    entry.timer?.cancel();
    if (answer.type === "data" && answer.encodedBytes !== undefined && this.inflater) {
      const versions = answer.versions;
      this.inflater.inflate(versions.length * BLOCK_BYTES).then(() => entry.ev.succeed(versions));
    } else if (answer.type === "data") entry.ev.succeed(answer.versions);
    else entry.ev.fail(new ImageRequestError(answer.code, entry.req, answer.message));
  }
}
