/**
 * The network between machines and the image server: hosts, switches and
 * full-duplex links over the kernel's max-min fair flow model; shortest-path
 * routes through switches; Ethernet framing cost (goodput per MTU and
 * transport); the image block protocol's messages and wire sizes; and an
 * InfiniBand fabric link model for the HCA. It deliberately does not model
 * packet loss, TCP congestion control dynamics, queueing inside switches
 * beyond fair sharing, or IB credit flow control: transfers are fluid flows
 * plus fixed per-hop latencies.
 * @module
 */
export {
  type ConnectOptions,
  type MulticastOptions,
  type NetNode,
  Network,
  type NodeKind,
  type OutageOptions,
  type Packet,
  type PacketHandler,
  rackNetwork,
  type RackOptions,
  type SendOptions,
  starNetwork,
  type StarOptions,
} from "./network.ts";
export {
  ETHERNET_HEADER_FCS,
  ETHERNET_MIN_PAYLOAD,
  ETHERNET_PREAMBLE_IFG,
  frameCount,
  type Framing,
  framing,
  type FramingOptions,
  goodput,
  type Transport,
  wireBytes,
} from "./ethernet.ts";
export {
  BLOCK_BYTES,
  BlockProtocol,
  type BlockProtocolOptions,
  type ImageDataResponse,
  type ImageErrorCode,
  type ImageErrorResponse,
  type ImageMessage,
  type ImageReadRequest,
  type ImageResponse,
} from "./protocol.ts";
export {
  cableIssues,
  INFINIBAND_OPTIONS,
  InfinibandFabric,
  infinibandIssues,
  type InfinibandOptions,
} from "./infiniband.ts";
