/**
 * Message types of the image block protocol, types only: the VMM's
 * streaming driver imports these plus {@link ImageClient} and nothing else
 * of the server. Wire sizes live in lib/net (`BlockProtocol`).
 */
export type {
  ImageDataResponse,
  ImageErrorCode,
  ImageErrorResponse,
  ImageMessage,
  ImageReadRequest,
  ImageResponse,
} from "../net/mod.ts";
