/**
 * A sequential storage-throughput benchmark in the manner of `dd`/fio:
 * write a file region of N bytes in requests of R bytes with Q requests
 * outstanding, then read a region back the same way, reporting MB/s
 * (MB = 10^6 bytes) for each. Only the block driver and, optionally, CPU
 * time per request are underneath.
 */
import type { SimTime } from "../_util/mod.ts";
import {
  type FieldIssue,
  fieldIssue,
  issuesError,
  numberIssue,
  showValue,
  unknownKeyIssues,
} from "../_util/mod.ts";
import type { Process, ProcessGenerator, SimEvent } from "../sim/mod.ts";
import type { GuestBlockDriver, IoResult } from "../guest/mod.ts";
import type { GuestCpus } from "./cpus.ts";
import { SECTOR } from "./_params.ts";

/** One result row. */
export interface StorageRow {
  /** The pass: writing or reading the region. */
  op: "read" | "write";
  /** Throughput of the requests that succeeded, 10^6 bytes per second (0 when none did). */
  mbps: number;
  /** Bytes the pass moved: those of the requests that succeeded (a failed one moved nothing). */
  bytes: number;
  /** Pass duration, seconds (simulated). */
  seconds: number;
  /** Requests issued. */
  requests: number;
  /** Requests the driver reported failed (their bytes are not in `bytes` nor `mbps`). */
  errors: number;
}

/** Options of {@link storageBenchmark}. */
export interface StorageBenchmarkOptions {
  /** Bytes each pass moves (a multiple of 512). */
  bytes: number;
  /** Bytes per request (a multiple of 512). @default 1 MiB */
  requestBytes?: number;
  /** Requests outstanding. @default 1 */
  queueDepth?: number;
  /** First LBA of the file region. @default 0 */
  lba?: number;
  /** First LBA of the write pass, overriding `lba`. */
  writeLba?: number;
  /** First LBA of the read pass, overriding `lba`. */
  readLba?: number;
  /** Passes, in order. @default ["write", "read"] */
  ops?: readonly ("read" | "write")[];
  /** Guest CPU time around each request (system call, copy): cores, nominal ns and memory-bound fraction. */
  requestCpu?: { cpus: GuestCpus; ns: SimTime; memoryBound?: number };
  /** Version of each written request. @default a counter from 1 */
  nextVersion?: () => number;
}

/** The keys of {@link StorageBenchmarkOptions}. */
const STORAGE_BENCHMARK_OPTIONS: readonly (keyof StorageBenchmarkOptions)[] = [
  "bytes",
  "requestBytes",
  "queueDepth",
  "lba",
  "writeLba",
  "readLba",
  "ops",
  "requestCpu",
  "nextVersion",
];

/** The options with their defaults, as the benchmark checks and runs them. */
function withStorageDefaults(o: StorageBenchmarkOptions) {
  const lba = o.lba ?? 0;
  return {
    ...o,
    requestBytes: o.requestBytes ?? 1 << 20,
    queueDepth: o.queueDepth ?? 1,
    lba,
    writeLba: o.writeLba ?? lba,
    readLba: o.readLba ?? lba,
    ops: o.ops ?? ["write", "read"],
  };
}

/** Every option of {@link storageBenchmark} that breaks its rule, and every key it does not take. */
function storageBenchmarkIssues(options: StorageBenchmarkOptions): FieldIssue[] {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return [fieldIssue("options", "an object with at least 'bytes'", showValue(options))];
  }
  const {
    bytes,
    requestBytes,
    queueDepth,
    lba,
    writeLba,
    readLba,
    ops,
    requestCpu,
    nextVersion,
  } = withStorageDefaults(options);
  const issues: (FieldIssue | undefined)[] = [
    ...unknownKeyIssues(options, STORAGE_BENCHMARK_OPTIONS),
  ];
  for (const [field, v] of [["bytes", bytes], ["requestBytes", requestBytes]] as const) {
    issues.push(
      numberIssue(field, v, { integer: true, min: 0, strict: true }) ??
        (v % SECTOR !== 0 ? fieldIssue(field, "a multiple of 512", v) : undefined),
    );
  }
  issues.push(
    numberIssue("queueDepth", queueDepth, { integer: true, min: 1 }),
    // `lba` too when both overrides replace it: a bad value is a mistake, used or not.
    numberIssue("lba", lba, { integer: true, min: 0 }),
    numberIssue("writeLba", writeLba, { integer: true, min: 0 }),
    numberIssue("readLba", readLba, { integer: true, min: 0 }),
  );
  if (!Array.isArray(ops)) {
    issues.push(fieldIssue("ops", 'a list of "read" and "write"', showValue(ops)));
  } else {
    ops.forEach((op, i) => {
      if (op !== "read" && op !== "write") {
        issues.push(fieldIssue(`ops.${i}`, '"read" or "write"', showValue(op)));
      }
    });
  }
  if (requestCpu !== undefined) {
    issues.push(
      ...unknownKeyIssues(requestCpu, ["cpus", "ns", "memoryBound"], "requestCpu."),
      numberIssue("requestCpu.ns", requestCpu.ns, { integer: true, min: 0 }),
    );
    const mb = requestCpu.memoryBound;
    if (mb !== undefined && !(typeof mb === "number" && mb >= 0 && mb <= 1)) {
      issues.push(fieldIssue("requestCpu.memoryBound", "a number in [0, 1]", mb));
    }
  }
  if (nextVersion !== undefined && typeof nextVersion !== "function") {
    issues.push(fieldIssue("nextVersion", "a function", showValue(nextVersion)));
  }
  return issues.filter((i) => i !== undefined);
}

/**
 * Starts the benchmark as a process; its value is one row per pass.
 * @throws RangeError naming every option that breaks its rule or is not an option, before it starts
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { storageBenchmark } from "./storage.ts";
 * const sim = new Simulation();
 * const ok = (count: number) => sim.timeout(count * 5120, { ok: true, latency: count * 5120 }); // 100 MB/s
 * const driver = { sim, read: (r: { count: number }) => ok(r.count), write: (r: { count: number }) => ok(r.count) };
 * const p = storageBenchmark(driver, { bytes: 10 << 20 });
 * sim.run();
 * console.assert(Math.abs(p.value[0].mbps - 100) < 0.01);
 * ```
 */
export function storageBenchmark(
  driver: GuestBlockDriver,
  options: StorageBenchmarkOptions,
): Process<StorageRow[]> {
  const issues = storageBenchmarkIssues(options);
  if (issues.length > 0) throw issuesError("run storage benchmark", issues);
  const { bytes, requestBytes, queueDepth, writeLba, readLba, ops, requestCpu } =
    withStorageDefaults(options);
  let counter = 0;
  const nextVersion = options.nextVersion ?? (() => ++counter);
  const sim = driver.sim;
  const sectors = bytes / SECTOR;
  const perReq = requestBytes / SECTOR;

  function* pass(op: "read" | "write"): ProcessGenerator<StorageRow> {
    const base = op === "read" ? readLba : writeLba;
    let next = 0;
    let requests = 0, errors = 0, moved = 0;
    function* worker(): ProcessGenerator<void> {
      while (next < sectors) {
        const at = next;
        const count = Math.min(perReq, sectors - at);
        next += count;
        requests++;
        if (requestCpu !== undefined) {
          yield* requestCpu.cpus.run(requestCpu.ns, requestCpu.memoryBound ?? 0);
        }
        const ev: SimEvent<IoResult> = op === "read"
          ? driver.read({ lba: base + at, count })
          : driver.write({ lba: base + at, count, version: nextVersion() });
        const r = (yield ev) as IoResult;
        if (r.ok) moved += count * SECTOR;
        else errors++;
      }
    }
    const start = sim.now;
    const workers = [];
    for (let i = 0; i < queueDepth; i++) workers.push(sim.process(worker(), `${op}-q${i}`));
    yield sim.allOf(workers);
    const seconds = (sim.now - start) / 1e9;
    return {
      op,
      mbps: moved === 0 ? 0 : seconds > 0 ? moved / 1e6 / seconds : Infinity,
      bytes: moved,
      seconds,
      requests,
      errors,
    };
  }

  return sim.process(function* () {
    const rows: StorageRow[] = [];
    for (const op of ops) rows.push((yield* pass(op)) as StorageRow);
    return rows;
  }, "storage-benchmark");
}
