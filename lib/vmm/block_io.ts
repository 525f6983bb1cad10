/**
 * Device-neutral interfaces between the VMM's services (background copier,
 * redirection) and the things they use: the image server (through the
 * protocol client, adapted by the deployment layer) and a mediator's way to
 * put the VMM's own commands on the disk (I/O multiplexing).
 */
import type { Lba, SimTime } from "../_util/mod.ts";
import type { SimEvent } from "../sim/mod.ts";

/** Where image blocks come from (an image-server client). */
export interface ImageSource {
  /** Largest request the source accepts, in sectors. */
  readonly maxSectors: number;
  /**
   * Versions of image sectors [lba, lba+count); `background` marks a
   * background copy's fetch (nothing waits for it).
   */
  read(request: { lba: Lba; count: number; background?: boolean }): SimEvent<Int32Array>;
}

/** The VMM's own disk commands, multiplexed with the guest's by a mediator. */
export interface VmmBlockIo {
  /**
   * Writes image `versions` starting at `lba`, but only to sectors that are
   * still absent when the command is issued (guest data is never overwritten),
   * then marks them present. Succeeds with the number of sectors written:
   * sectors whose write the disk still failed after the VMM's retries stay
   * absent and are not counted.
   */
  writeAbsent(request: { lba: Lba; versions: Int32Array }): SimEvent<number>;
  /**
   * Reads local-disk sectors with a VMM command; fails (the AHCI mediator:
   * with a `VmmDiskError` naming the ATA error) when the disk still fails it
   * after the VMM's retries.
   */
  read(request: { lba: Lba; count: number }): SimEvent<Int32Array>;
  /** Guest disk commands issued and not yet completed (as the guest sees them). */
  readonly guestOutstanding: number;
  /** Last time the guest issued or completed a disk command. */
  readonly lastGuestIo: SimTime;
  /** Total time guest commands spent queued behind VMM commands, ns. */
  readonly guestQueueDelay: SimTime;
  /**
   * Guest reads redirected (served in part from the image source) and not
   * yet completed: they share the image source with the VMM's own fetches.
   */
  readonly redirectsOutstanding: number;
  /** Guest reads redirected so far (counted when redirected). */
  readonly redirectsStarted: number;
}
