/**
 * Ethernet framing cost: how many wire bytes a message of N payload bytes
 * occupies, and the goodput a link of a given line rate leaves for payload.
 * Sizes follow IEEE 802.3 (clause 3: 14-byte MAC header + 4-byte FCS, 46-byte
 * minimum MAC client data; clause 4: 8-byte preamble+SFD and a 12-byte
 * inter-frame gap), RFC 791 (20-byte IPv4 header), RFC 793 (20-byte TCP
 * header), RFC 768 (8-byte UDP header) and RFC 7323 (TCP timestamps: 10
 * bytes, padded to 12).
 */
import { rangeError, requireNumber } from "../_util/mod.ts";
import type { Bytes } from "../_util/mod.ts";

/** MAC header (dst, src, EtherType) plus FCS, bytes (802.3 clause 3). */
export const ETHERNET_HEADER_FCS = 18;
/** Preamble + SFD (8) plus the minimum inter-frame gap (12), bytes. */
export const ETHERNET_PREAMBLE_IFG = 20;
/** Minimum MAC client data; shorter payloads are padded (802.3 clause 3.2.7). */
export const ETHERNET_MIN_PAYLOAD = 46;
/** IPv4 header without options (RFC 791). */
const IPV4_HEADER = 20;
/** TCP header without options (RFC 793). */
const TCP_HEADER = 20;
/** UDP header (RFC 768). */
const UDP_HEADER = 8;

/** What rides on Ethernet. "raw" means an EtherType protocol with no IP (AoE-like). */
export type Transport = "tcp" | "udp" | "raw";

/** Framing options. */
export interface FramingOptions {
  /** MTU: bytes of MAC client data per frame (1500 standard, 9000 jumbo). @default 1500 */
  mtu?: number;
  /** Layer 3/4 carried in each frame. @default "tcp" */
  transport?: Transport;
  /** TCP option bytes per segment; Linux sends timestamps (RFC 7323) by default: 12. @default 12 */
  tcpOptionBytes?: number;
}

/** Resolved framing with the derived per-frame sizes. */
export interface Framing {
  /** MTU: bytes of MAC client data per frame. */
  readonly mtu: number;
  /** Layer 3/4 carried in each frame. */
  readonly transport: Transport;
  /** TCP option bytes per segment (counted only for "tcp"). */
  readonly tcpOptionBytes: number;
  /** Application payload per full frame. */
  readonly payloadPerFrame: Bytes;
  /** Bytes on the wire per full frame (MTU + header/FCS + preamble/IFG). */
  readonly wirePerFrame: Bytes;
}

/**
 * Validates framing options and derives per-frame sizes.
 * @example
 * ```ts
 * import { framing } from "./ethernet.ts";
 * const f = framing({ mtu: 1500, transport: "tcp", tcpOptionBytes: 12 });
 * console.assert(f.payloadPerFrame === 1448 && f.wirePerFrame === 1538);
 * ```
 */
export function framing(options: FramingOptions = {}): Framing {
  const { mtu = 1500, transport = "tcp", tcpOptionBytes = 12 } = options;
  const what = "compute Ethernet framing";
  requireNumber(what, "mtu", mtu, { integer: true, min: 68 }); // RFC 791 minimum IPv4 MTU
  // Own keys only: `in` also finds what L34 inherits from Object ("toString", "__proto__").
  if (typeof transport !== "string" || !Object.hasOwn(L34, transport)) {
    throw rangeError(what, "transport", `one of ${Object.keys(L34).join(", ")}`, transport);
  }
  requireNumber(what, "tcpOptionBytes", tcpOptionBytes, { integer: true, min: 0 });
  if (tcpOptionBytes > 40 || tcpOptionBytes % 4 !== 0) {
    throw new RangeError(
      `Cannot ${what}: 'tcpOptionBytes' must be a multiple of 4 in [0, 40] (RFC 793 data offset): current value is ${tcpOptionBytes}`,
    );
  }
  const l34 = L34[transport] + (transport === "tcp" ? tcpOptionBytes : 0);
  if (mtu <= l34) {
    throw new RangeError(
      `Cannot ${what}: 'mtu' must exceed the ${l34} bytes of IP and ${transport.toUpperCase()} headers (no room for data otherwise): current value is ${mtu}`,
    );
  }
  return {
    mtu,
    transport,
    tcpOptionBytes,
    payloadPerFrame: mtu - l34,
    wirePerFrame: mtu + ETHERNET_HEADER_FCS + ETHERNET_PREAMBLE_IFG,
  };
}

const L34: Record<Transport, number> = {
  tcp: IPV4_HEADER + TCP_HEADER,
  udp: IPV4_HEADER + UDP_HEADER,
  raw: 0,
};

/**
 * Frames needed for `bytes` of payload (at least one: an empty message still
 * sends a frame).
 * @example
 * ```ts
 * import { frameCount, framing } from "./ethernet.ts";
 * console.assert(frameCount(3000, framing({ transport: "udp" })) === 3);
 * ```
 */
export function frameCount(bytes: Bytes, f: Framing): number {
  requireNumber("count frames", "bytes", bytes, { min: 0 });
  return Math.max(1, Math.ceil(bytes / f.payloadPerFrame));
}

/**
 * Wire bytes for `bytes` of payload: full frames, plus a last frame padded
 * to the 46-byte minimum MAC client data.
 * @example
 * ```ts
 * import { framing, wireBytes } from "./ethernet.ts";
 * // A 4-byte UDP datagram: 28 bytes of IP+UDP+data padded to 46, + 38 framing.
 * console.assert(wireBytes(4, framing({ transport: "udp" })) === 84);
 * ```
 */
export function wireBytes(bytes: Bytes, f: Framing): Bytes {
  const frames = frameCount(bytes, f);
  const l34 = f.mtu - f.payloadPerFrame;
  const last = bytes - (frames - 1) * f.payloadPerFrame;
  const lastMacData = Math.max(ETHERNET_MIN_PAYLOAD, last + l34);
  return (frames - 1) * f.wirePerFrame + lastMacData + ETHERNET_HEADER_FCS +
    ETHERNET_PREAMBLE_IFG;
}

/**
 * Payload bytes per second a link of `lineRate` bits/s carries with full frames.
 * @example
 * ```ts
 * import { framing, goodput } from "./ethernet.ts";
 * // 1 GbE, TCP with timestamps: 125e6 * 1448 / 1538 = 117.69 MB/s.
 * console.assert(Math.abs(goodput(1e9, framing()) - 117.685e6) < 1e3);
 * ```
 */
export function goodput(lineRate: number, f: Framing): number {
  requireNumber("compute goodput", "lineRate", lineRate, { min: 0, strict: true });
  return (lineRate / 8) * f.payloadPerFrame / f.wirePerFrame;
}
