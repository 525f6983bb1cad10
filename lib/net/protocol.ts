/**
 * The image block protocol on the wire: typed messages between a client
 * (the VMM's streaming driver, an NFS-root or installer baseline) and the
 * image server, and what each costs in frames. A read asks for `count`
 * 512-byte blocks from `lba`; the answer carries their versions (content is
 * versions, never bytes) or an error. Each frame carries a protocol header
 * plus data, like ATA-over-Ethernet carries sectors in EtherType frames.
 */
import { requireNumber } from "../_util/mod.ts";
import type { Bytes, Lba, SimTime } from "../_util/mod.ts";
import {
  ETHERNET_HEADER_FCS,
  ETHERNET_MIN_PAYLOAD,
  ETHERNET_PREAMBLE_IFG,
  framing,
  type FramingOptions,
} from "./ethernet.ts";
import type { Framing } from "./ethernet.ts";

/** Bytes per block on the wire. */
export const BLOCK_BYTES = 512;

/** A read of `count` blocks from `lba` of image `imageId`. */
export interface ImageReadRequest {
  /** Message kind: a read request. */
  type: "read";
  /** Which image on the server to read. */
  imageId: string;
  /** First block to read (512-byte block index). */
  lba: Lba;
  /** Number of blocks to read (at most the protocol's `maxBlocksPerRequest`). */
  count: number;
  /** Chosen by the client; echoed in the answer. */
  reqId: number;
  /**
   * The client inflates compressed data itself (beyond the paper): the server
   * may answer with the image's compressed chunks. @default false
   */
  compressed?: boolean;
  /**
   * A background copy's fetch, not a read something waits for (beyond the
   * paper): a server that serves demand reads first lets it wait. @default false
   */
  background?: boolean;
}

/** The versions of the blocks read, in order. */
export interface ImageDataResponse {
  /** Message kind: a successful answer. */
  type: "data";
  /** `reqId` of the request answered. */
  reqId: number;
  /** One version per block read, in LBA order (the blocks' content). */
  versions: Int32Array;
  /**
   * Bytes the blocks take on the wire when sent compressed (beyond the
   * paper); absent: raw, 512 per block. The receiver must inflate them.
   */
  encodedBytes?: Bytes;
}

/** Why a request failed. */
export type ImageErrorCode =
  | "unknown-image"
  | "lba-out-of-range"
  | "bad-count"
  | "malformed"
  /** The server's own disk failed to read the blocks (the request was valid). */
  | "io-error";

/** A failed request; `reqId` is -1 when the request carried no usable one. */
export interface ImageErrorResponse {
  /** Message kind: a failed answer. */
  type: "error";
  /** `reqId` of the request answered (-1 when it had none usable). */
  reqId: number;
  /** Machine-readable reason. */
  code: ImageErrorCode;
  /** Human-readable explanation (its length counts as data on the wire, up to 256 bytes). */
  message: string;
}

/** What a server answers. */
export type ImageResponse = ImageDataResponse | ImageErrorResponse;
/** Any message of the protocol. */
export type ImageMessage = ImageReadRequest | ImageResponse;

/** Options of {@link BlockProtocol}. */
export interface BlockProtocolOptions {
  /** Framing below the protocol. @default { transport: "udp" } */
  framing?: FramingOptions;
  /** Protocol header in every frame (opcode, image id, LBA, count, request id). @default 24 */
  headerBytes?: Bytes;
  /** Data per frame is a whole number of blocks (AoE style) rather than filling the frame. @default false */
  blockAligned?: boolean;
  /** Software cost per request at the client (stack traversal, both directions), ns. @default 0 */
  requestLatency?: SimTime;
  /** Largest `count` a server accepts in one request. @default 2048 (1 MiB) */
  maxBlocksPerRequest?: number;
}

/**
 * Wire sizes of protocol messages.
 * @example
 * ```ts
 * import { BlockProtocol } from "./protocol.ts";
 * const p = new BlockProtocol({ framing: { transport: "udp" }, headerBytes: 24 });
 * // 1448 data bytes per 1500-byte frame: 8 blocks = 4096 bytes need 3 frames.
 * console.assert(p.dataPerFrame === 1448 && p.frames({ type: "data", reqId: 1, versions: new Int32Array(8) }) === 3);
 * ```
 */
export class BlockProtocol {
  /** Resolved Ethernet framing below the protocol (UDP unless configured). */
  readonly framing: Framing;
  /** Protocol header in every frame, bytes. */
  readonly headerBytes: Bytes;
  /** Whether data per frame is a whole number of blocks (AoE style). */
  readonly blockAligned: boolean;
  /** Software cost per request at the client, ns. */
  readonly requestLatency: SimTime;
  /** Largest `count` a server accepts in one request, blocks. */
  readonly maxBlocksPerRequest: number;
  /** Data bytes per frame after the protocol header. */
  readonly dataPerFrame: Bytes;

  /**
   * Validates `options` and derives the data per frame.
   * @throws RangeError when the header leaves no room for data in the MTU.
   */
  constructor(options: BlockProtocolOptions = {}) {
    const {
      headerBytes = 24,
      blockAligned = false,
      requestLatency = 0,
      maxBlocksPerRequest = 2048,
    } = options;
    const what = "create block protocol";
    this.framing = framing({ transport: "udp", ...options.framing });
    requireNumber(what, "headerBytes", headerBytes, { integer: true, min: 0 });
    requireNumber(what, "requestLatency", requestLatency, { integer: true, min: 0 });
    requireNumber(what, "maxBlocksPerRequest", maxBlocksPerRequest, { integer: true, min: 1 });
    const room = this.framing.payloadPerFrame - headerBytes;
    const dataPerFrame = blockAligned ? Math.floor(room / BLOCK_BYTES) * BLOCK_BYTES : room;
    if (!(room > 0)) {
      throw new RangeError(
        `Cannot ${what}: 'headerBytes' must leave room for data in a ${this.framing.mtu}-byte MTU: current value is ${headerBytes}`,
      );
    }
    if (!(dataPerFrame > 0)) {
      // Room for data, but not for one whole block: the frame is too small for aligned data.
      throw new RangeError(
        `Cannot ${what}: 'framing.mtu' must leave room for one ${BLOCK_BYTES}-byte block after ${
          this.framing.mtu - room
        } bytes of headers (blockAligned): current value is ${this.framing.mtu}`,
      );
    }
    this.headerBytes = headerBytes;
    this.blockAligned = blockAligned;
    this.requestLatency = requestLatency;
    this.maxBlocksPerRequest = maxBlocksPerRequest;
    this.dataPerFrame = dataPerFrame;
  }

  /** Data bytes a message carries beyond the per-frame header (blocks for data, text for errors). */
  dataBytes(message: unknown): Bytes {
    const m = message as Partial<ImageMessage> | null;
    if (m !== null && typeof m === "object") {
      if (m.type === "data" && m.versions instanceof Int32Array) {
        const e = m.encodedBytes;
        if (e === undefined) return m.versions.length * BLOCK_BYTES;
        // The cheap test first: every data message passes here.
        if (!(Number.isInteger(e) && e >= 0)) {
          requireNumber("size an image data message", "encodedBytes", e, { integer: true, min: 0 });
        }
        return e;
      }
      if (m.type === "error" && typeof m.message === "string") {
        return Math.min(m.message.length, 256);
      }
      if (m.type === "read" && typeof m.imageId === "string") {
        return Math.min(m.imageId.length, 256);
      }
    }
    return 0;
  }

  /** Frames a message needs (at least one). */
  frames(message: unknown): number {
    return Math.max(1, Math.ceil(this.dataBytes(message) / this.dataPerFrame));
  }

  /** Bytes the message occupies on the wire, framing included. */
  wireBytes(message: unknown): Bytes {
    const data = this.dataBytes(message);
    const frames = this.frames(message);
    const l34 = this.framing.mtu - this.framing.payloadPerFrame;
    const perFrame = this.headerBytes + l34 + ETHERNET_HEADER_FCS + ETHERNET_PREAMBLE_IFG;
    // Only the last frame may fall under the minimum MAC client data (802.3 clause 3.2.7).
    const lastData = data - (frames - 1) * this.dataPerFrame;
    const pad = Math.max(0, ETHERNET_MIN_PAYLOAD - (lastData + this.headerBytes + l34));
    return data + frames * perFrame + pad;
  }
}
