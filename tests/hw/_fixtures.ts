/** Shared disk fixtures for tests (test values, not a sourced profile). */
import type { HddOptions } from "../../lib/hw/disk/mod.ts";

/** A Barracuda 7200.12-class 500 GB disk with its 16 MB write cache. */
export const TEST_HDD: HddOptions = {
  sectors: 976_773_168,
  rpm: 7200,
  trackToTrackSeek: 1_000_000,
  averageSeek: 8_500_000,
  fullStrokeSeek: 17_000_000,
  outerRate: 125e6,
  innerRate: 60e6,
  interfaceRate: 300e6,
  commandOverhead: 100_000,
  writeCache: true,
  writeCacheBytes: 16 << 20,
};
