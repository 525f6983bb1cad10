/** The workloads run unchanged on the guest's real AHCI driver (HBA + MemDisk underneath). */
import assert from "node:assert/strict";
import { guestRig, runGuest } from "../guest/_rig.ts";
import {
  type BootResult,
  GuestCpus,
  type KvOpRecord,
  type KvResult,
  runBoot,
  runKvWorkload,
  storageBenchmark,
  type StorageRow,
} from "../../lib/workload/mod.ts";
import { checkReads } from "../../lib/workload/_test_utils.ts";

Deno.test("storage benchmark on the AHCI driver loses throughput when register accesses cost VM exits", () => {
  const measure = (trapped: boolean) => {
    const rig = guestRig({ trace: trapped, latency: 20_000, hbaCosts: { dmaBandwidth: 200e6 } });
    if (trapped) {
      rig.cpu.transition("root");
      rig.cpu.transition("non-root");
    }
    const rows = runGuest(rig, function* () {
      return (yield storageBenchmark(rig.driver, {
        bytes: 16 << 20,
        requestBytes: 64 << 10,
      })) as StorageRow[];
    });
    return { rows, exits: rig.cpu.exitCount };
  };
  const bare = measure(false), vm = measure(true);
  assert.equal(bare.exits, 0);
  assert.ok(vm.exits > 0);
  for (const i of [0, 1]) {
    assert.ok(vm.rows[i].mbps < bare.rows[i].mbps, `${vm.rows[i].mbps} vs ${bare.rows[i].mbps}`);
  }
  assert.ok(bare.rows.every((r) => r.errors === 0));
});

Deno.test("boot and kv store run on the AHCI driver, and kv reads see every update", () => {
  const rig = guestRig({ latency: 100_000 });
  const cpus = new GuestCpus(rig.sim, { cpu: rig.cpu, cores: 2 });
  const history: KvOpRecord[] = [];
  const { boot, kv } = runGuest(rig, function* () {
    const boot = (yield runBoot(rig.driver, cpus, {
      trace: [
        { op: "read", lba: 2048, count: 256, thinkNs: 1_000_000, phase: "kernel" },
        { op: "write", lba: 900_000, count: 8, thinkNs: 0, phase: "services" },
        { op: "read", lba: 4096, count: 64, thinkNs: 500_000, phase: "services" },
      ],
    })) as BootResult;
    const kv = (yield runKvWorkload(rig.driver, cpus, {
      records: 2000,
      recordBytes: 1000,
      layout: {
        dataLba: 8192,
        sstableLba: 65536,
        sstableSectors: 65536,
        commitLogLba: 262144,
        commitLogSectors: 8192,
      },
      pageCacheBytes: 256 << 10,
      memtableBytes: 32 << 10,
      commitLog: { sync: "periodic", periodNs: 5_000_000 },
      cpu: { readNs: 10_000, updateNs: 10_000, memoryBound: 0.3 },
      readProportion: 0.5,
      threads: 4,
      durationNs: 200_000_000,
      sampleEveryNs: 50_000_000,
      observe: (o) => history.push(o),
    })) as KvResult;
    return { boot, kv };
  });
  assert.equal(boot.errors, 0);
  assert.deepEqual(boot.phases.map((p) => p.phase), ["kernel", "services"]);
  assert.ok(boot.duration >= 1_500_000 + 2 * 100_000);
  assert.equal(kv.stats.ioErrors, 0);
  assert.equal(kv.stats.tornReads, 0);
  assert.ok(kv.stats.flushes > 0 && kv.stats.diskReads > 0, JSON.stringify(kv.stats));
  assert.ok(history.some((h) => h.op === "read" && h.version > 0));
  checkReads(history);
});
