/**
 * The image server side of streaming deployment: OS images as block
 * versions ({@link ImageContent}), an {@link ImageServer} on a network host
 * with a worker limit, per-request CPU, a page cache ({@link PageCache}, cold
 * at start, shared by every client) and a backing disk, and
 * the {@link ImageClient} that VMMs and baselines use to read blocks, with
 * typed errors and timeouts; and Frisbee-style multicast sessions
 * ({@link MulticastServer}, {@link MulticastReceiver}) that send each chunk
 * once to a group of installers. Beyond the paper, an image can be held and
 * sent compressed; clients and receivers inflate it on an {@link Inflater}. `protocol.ts` holds only the message types.
 * Client and server send through `Network.sendRetrying`: a message
 * that starts while the server is unreachable (an outage) leaves with the
 * first retransmission after it, with TCP's back-off. It does not model file
 * systems on the server, multiple NICs, or packet loss outside an outage.
 * @module
 */
export { ImageContent, type ImageContentOptions } from "./content.ts";
export { PageCache } from "./page_cache.ts";
export { Inflater, type InflaterStats } from "./inflater.ts";
export {
  type MulticastChunk,
  type MulticastControl,
  MulticastReceiver,
  type MulticastReceiverOptions,
  type MulticastReceiverStats,
  MulticastServer,
  type MulticastServerOptions,
  type MulticastServerStats,
} from "./multicast.ts";
export {
  type BackingDiskOptions,
  ImageServer,
  type ImageServerOptions,
  type ImageServerStats,
  type PageCacheOptions,
} from "./server.ts";
export {
  ImageClient,
  type ImageClientOptions,
  ImageRequestError,
  ImageRequestTimeout,
  type ReadOptions,
} from "./client.ts";
export type {
  ImageDataResponse,
  ImageErrorCode,
  ImageErrorResponse,
  ImageMessage,
  ImageReadRequest,
  ImageResponse,
} from "./protocol.ts";
