/**
 * What the unmodified guest OS runs, built only on the guest's block-driver
 * interface and on CPU time, so the same code runs on bare metal, under
 * BMcast and under KVM (the differences come from the driver and the CPU
 * underneath): a sequential storage-throughput benchmark (dd/fio), an OS
 * boot (seeded trace generator and trace player with phases and parallel
 * readers), a Cassandra-like key-value store driven YCSB-style (memtable,
 * commit log, SSTable flushes, page cache), and an ib_write_lat-style RDMA
 * latency driver.
 *
 * Deliberately not modelled: file systems and block-layer scheduling (I/O
 * goes to the LBAs given), SSTable compaction, bloom filters and reads that
 * merge several SSTables, commit-log replay, page-cache readahead and
 * write-back of dirty pages (writes go straight to the driver), network
 * between YCSB clients and the store, and bytes of data (content is block
 * versions).
 * @module
 */
export { type CpuTime, GuestCpus, type GuestCpusOptions } from "./cpus.ts";
export { PageCache } from "./page_cache.ts";
export { storageBenchmark, type StorageBenchmarkOptions, type StorageRow } from "./storage.ts";
export {
  type BootExtents,
  bootExtents,
  type BootParams,
  BootParamsSchema,
  type BootPhaseRow,
  type BootReplay,
  BootReplaySchema,
  type BootResult,
  type BootRunExtras,
  type BootTrace,
  type BootTraceFlush,
  type BootTraceOp,
  type BootTraceRead,
  BootTraceSchema,
  type BootTraceSummary,
  type BootTraceWrite,
  describeBootTrace,
  generateBootTrace,
  parseBootTrace,
  runBoot,
} from "./boot.ts";
export {
  KvClientParamsSchema,
  kvDataRun,
  type KvOpRecord,
  type KvResult,
  type KvRunExtras,
  KvStore,
  type KvStoreParams,
  KvStoreParamsSchema,
  type KvStoreStats,
  type KvThroughputRow,
  type KvWorkloadParams,
  KvWorkloadParamsSchema,
  runKvWorkload,
  scrambledZipfian,
  windowOf,
} from "./kvstore.ts";
export {
  LAT_MEASURE_TAIL,
  type RdmaLatencyRow,
  rdmaOptions,
  type RdmaPingPong,
  rdmaWriteLatency,
} from "./rdma.ts";
export { type BlkparseOptions, parseBlkparse, parseBootTraceFile } from "./blkparse.ts";
