/**
 * What an image holds: one version per 512-byte block (design.md: content is
 * versions, never bytes). A pristine image is version 0 everywhere; an
 * updated image can carry other versions in places. Backed by a
 * {@link VersionMap}, so a 32 GB image costs megabytes at most.
 */
import { IMAGE_VERSION, requireNumber, VersionMap } from "../_util/mod.ts";
import type { Bytes, Lba } from "../_util/mod.ts";
import { BLOCK_BYTES } from "../net/mod.ts";

/** Options of {@link ImageContent}. */
export interface ImageContentOptions {
  /** Identifier clients ask for. */
  id: string;
  /** Size in bytes (a multiple of 512). */
  bytes: Bytes;
  /** Version of every block at first. @default IMAGE_VERSION (0) */
  version?: number;
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
 * ```
 */
export class ImageContent {
  /** Identifier clients ask for. */
  readonly id: string;
  /** Number of 512-byte blocks. */
  readonly blocks: number;
  /** Versions per block; mutate it to build an updated image. */
  readonly versions: VersionMap;

  /**
   * Creates an image whose every block holds `version`.
   * @throws TypeError on an empty `id`; RangeError on a size that is not a positive multiple of 512 or a bad version.
   */
  constructor(options: ImageContentOptions) {
    const { id, bytes, version = IMAGE_VERSION } = options;
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
    this.id = id;
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

  /** Approximate memory the model holds, bytes. */
  get footprint(): Bytes {
    return this.versions.footprint;
  }
}
