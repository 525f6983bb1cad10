/**
 * What an image holds: one version per 512-byte block (the model's content is
 * versions, never bytes). A pristine image is version 0 everywhere; an
 * updated image can carry other versions in places. Backed by a
 * {@link VersionMap}, so a 32 GB image costs megabytes at most.
 */
import { IMAGE_VERSION, requireNumber, VersionMap } from "../_util/mod.ts";
import type { Bytes, Lba, Run } from "../_util/mod.ts";
import { BLOCK_BYTES } from "../net/mod.ts";

/** Options of {@link ImageContent}. */
export interface ImageContentOptions {
  /** Identifier clients ask for. */
  id: string;
  /** Size in bytes (a multiple of 512). */
  bytes: Bytes;
  /** Version of every block at first. @default IMAGE_VERSION (0) */
  version?: number;
  /**
   * Image bytes per stored byte (beyond the paper): above 1 the server holds
   * the image compressed chunk by chunk, Frisbee-style (Hibler et al., USENIX
   * ATC 2003: zlib per chunk), sends compressed data to clients that inflate
   * it, and reads `1/ratio` as much from its disk. Uniform over the image.
   * @default 1 (raw, as in the paper)
   */
  compressionRatio?: number;
}

/**
 * An OS image as block versions.
 * @example
 * ```ts
 * import { ImageContent } from "./content.ts";
 * const img = new ImageContent({ id: "ubuntu", bytes: 32 * 2 ** 30 });
 * img.versions.fill(2048, 8, 3); // a patched region
 * console.assert(img.blocks === 2 ** 26 && img.read(2047, 2).join() === "0,3");
 * console.assert(img.footprint < 1e6);
 * const packed = new ImageContent({ id: "zipped", bytes: 2 ** 20, compressionRatio: 2.5 });
 * console.assert(packed.encodedBytes(2048) === 419_431 && packed.storedRun(1000, 8).lba === 400);
 * ```
 */
export class ImageContent {
  /** Identifier clients ask for. */
  readonly id: string;
  /** Number of 512-byte blocks. */
  readonly blocks: number;
  /** Versions per block; mutate it to build an updated image. */
  readonly versions: VersionMap;
  /** Image bytes per stored byte (1: raw). */
  readonly compressionRatio: number;

  /**
   * Creates an image whose every block holds `version`.
   * @throws TypeError on an empty `id`; RangeError on a size that is not a positive multiple of 512, a bad version or a compression ratio below 1.
   */
  constructor(options: ImageContentOptions) {
    const { id, bytes, version = IMAGE_VERSION, compressionRatio = 1 } = options;
    if (typeof id !== "string" || id === "") {
      throw new TypeError(
        `Cannot create image: 'id' must be a non-empty string: current value is ${String(id)}`,
      );
    }
    const what = `create image '${id}'`;
    requireNumber(what, "bytes", bytes, { integer: true, min: 0, strict: true });
    if (bytes % BLOCK_BYTES !== 0) {
      throw new RangeError(
        `Cannot ${what}: 'bytes' must be a multiple of ${BLOCK_BYTES}: current value is ${bytes}`,
      );
    }
    requireNumber(what, "version", version, { integer: true, min: IMAGE_VERSION });
    requireNumber(what, "compressionRatio", compressionRatio, { min: 1 });
    this.id = id;
    this.compressionRatio = compressionRatio;
    this.blocks = bytes / BLOCK_BYTES;
    this.versions = new VersionMap(this.blocks, version);
  }

  /** Size in bytes. */
  get bytes(): Bytes {
    return this.blocks * BLOCK_BYTES;
  }

  /** Versions of `count` blocks from `lba` (a copy). */
  read(lba: Lba, count: number): Int32Array {
    return this.versions.read(lba, count);
  }

  /** Bytes `count` blocks take compressed (their raw size when the image is raw). */
  encodedBytes(count: number): Bytes {
    return Math.ceil(count * BLOCK_BYTES / this.compressionRatio);
  }

  /**
   * Where blocks [lba, lba + count) lie in the stored (compressed) image, in
   * 512-byte sectors: the compressed stream keeps the image's order, so a
   * sequential read stays sequential at `1/ratio` of the length.
   */
  storedRun(lba: Lba, count: number): Run {
    const r = this.compressionRatio;
    if (r === 1) return { lba, count };
    const first = Math.floor(lba / r);
    return { lba: first, count: Math.max(1, Math.ceil((lba + count) / r) - first) };
  }

  /** Approximate memory the model holds, bytes. */
  get footprint(): Bytes {
    return this.versions.footprint;
  }
}
