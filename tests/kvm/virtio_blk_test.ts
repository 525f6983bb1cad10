import assert from "node:assert/strict";
import fc from "fast-check";
import type { ProcessGenerator } from "../../lib/sim/mod.ts";
import { Simulation } from "../../lib/sim/mod.ts";
import { Hdd, Ssd } from "../../lib/hw/mod.ts";
import {
  type KvmVmOptions,
  RemoteImageFile,
  remoteImageFileIssues,
  VirtioBlk,
  virtioBlkIssues,
  type VirtioBlkOptions,
  type VirtioIoResult,
} from "../../lib/kvm/mod.ts";
import { starNetwork } from "../../lib/net/mod.ts";
import { ImageClient, ImageContent, ImageServer } from "../../lib/image/mod.ts";
import { NfsClient } from "../../lib/guest/nfs_client.ts";
import type { GuestBlockDriver } from "../../lib/guest/mod.ts";
import { bootedVm, CPU, HANDLERS, HDD, hdd, VIRTIO } from "./_fixtures.ts";

const KiB = 1024;
const REQ = (256 * KiB) / 512; // sectors per guest read (fits seg_max 126 x 4 KiB)
const N = 100;

/** Time for N sequential QD1 reads of REQ sectors straight on the host disk. */
function bareMetal(): number {
  const sim = new Simulation({ seed: 1 });
  const disk = hdd(sim);
  sim.process(function* () {
    for (let i = 0; i < N; i++) {
      const r = (yield disk.submit({ op: "read", lba: i * REQ, count: REQ })) as { ok: boolean };
      assert.ok(r.ok);
    }
  });
  sim.run();
  return sim.now;
}

/** The same reads by the guest through virtio-blk; returns elapsed time and the device. */
function guest(
  opts: Partial<VirtioBlkOptions> = {},
  vmOpts: Partial<KvmVmOptions> = {},
  reqSectors = REQ,
): { elapsed: number; blk: VirtioBlk; cpu: ReturnType<typeof bootedVm>["cpu"] } {
  const { sim, vm, cpu } = bootedVm(vmOpts);
  const blk = new VirtioBlk({ vm, backend: hdd(sim), costs: VIRTIO, ...opts });
  const _workloadsSeeADriver: GuestBlockDriver = blk;
  const t0 = sim.now;
  sim.process(function* () {
    for (let i = 0; i < (N * REQ) / reqSectors; i++) {
      const r = (yield blk.read({ lba: i * reqSectors, count: reqSectors })) as VirtioIoResult;
      assert.ok(r.ok);
    }
  });
  sim.run();
  return { elapsed: sim.now - t0, blk, cpu };
}

/** Per-request time virtio-blk adds on the serial path with default options (QD1). */
function predictedOverhead(handlers = HANDLERS): number {
  const c = VIRTIO;
  const exit = (r: keyof typeof HANDLERS) => CPU.vmExit + handlers[r]! + CPU.vmEntry;
  return c.guestSubmit + CPU.vmExit + handlers["io-instruction"]! + c.hostWakeup +
    c.hostRequest + c.hostBlockLayer + c.hostWakeup + c.hostComplete + c.interruptDelivery +
    exit("external-interrupt") + c.guestComplete + exit("ept-violation");
}

Deno.test("virtio-blk sequential throughput on an HDD is below bare metal by the per-request costs", () => {
  const bare = bareMetal();
  const { elapsed } = guest();
  assert.ok(elapsed > bare);
  assert.equal(elapsed - bare, N * predictedOverhead());
  const mbps = (t: number) => (N * REQ * 512) / (t / 1e9) / 1e6;
  assert.ok(mbps(elapsed) < mbps(bare));
});

Deno.test("doubling the kick's exit handler cost lowers throughput by the predicted amount", () => {
  const base = guest().elapsed;
  const k = HANDLERS["io-instruction"]!;
  const doubled = guest({}, { exitHandlers: { ...HANDLERS, "io-instruction": 2 * k } }).elapsed;
  assert.equal(doubled - base, N * k);
  const bytes = N * REQ * 512;
  const predicted = bytes / ((base + N * k) / 1e9);
  assert.ok(Math.abs(bytes / (doubled / 1e9) - predicted) < 1e-6 * predicted);
});

Deno.test("every virtio request costs a kick, an injection and an EOI exit by default", () => {
  const { blk, cpu } = guest();
  assert.equal(blk.stats.virtioRequests, N);
  assert.equal(blk.stats.exits, 3 * N);
  assert.equal(cpu.exits.get("io-instruction"), N);
  assert.equal(cpu.exits.get("external-interrupt"), N);
  assert.equal(cpu.exits.get("ept-violation"), N);
  assert.equal(blk.stats.exits / blk.stats.virtioRequests, 3);
});

Deno.test("posted interrupts and APICv leave only the kick; a polling host needs no exit at all", () => {
  const pi = guest({ postedInterrupts: true, apicv: true });
  assert.equal(pi.blk.stats.exits, N);
  assert.equal(pi.cpu.exitCount, N);
  const poll = guest({ postedInterrupts: true, apicv: true, notify: "poll" });
  assert.equal(poll.cpu.exitCount, 0);
  assert.equal(poll.blk.stats.kicks, 0);
  assert.ok(poll.elapsed < pi.elapsed);
  const mmio = guest({ notify: "mmio" });
  assert.equal(mmio.cpu.exits.get("io-instruction") ?? 0, 0);
  assert.equal(mmio.cpu.exits.get("ept-violation"), 2 * N); // notify + EOI
});

Deno.test("smaller host commands cost one disk command overhead per extra command", () => {
  const big = guest().elapsed;
  const { elapsed, blk } = guest({ hostMaxBytes: 64 * KiB });
  assert.equal(blk.stats.hostCommands, 4 * N);
  // The extra block-layer passes overlap the disk; each extra command pays the HDD's overhead.
  const extra = elapsed - big - N * 3 * HDD.commandOverhead;
  assert.ok(extra >= 0 && extra <= 4 * N, `rounding of split media times only: ${extra} ns`);
});

Deno.test("guest requests larger than seg_max x 4 KiB are split into several virtio requests", () => {
  const { blk } = guest({ segMax: 16 }); // 64 KiB per virtio request
  assert.equal(blk.maxRequestSectors, 128);
  assert.equal(blk.stats.virtioRequests, 4 * N);
  assert.equal(blk.stats.requests, N);
  // QEMU's default seg_max (126) splits a 512 KiB read into 504 + 8 KiB.
  const half = guest({}, {}, 1024);
  assert.equal(half.blk.stats.virtioRequests, N);
  assert.equal(half.blk.stats.requests, N / 2);
});

Deno.test("with requests queued, EVENT_IDX suppresses kicks and one interrupt serves several completions", () => {
  const { sim, vm, cpu } = bootedVm();
  const disk = new Ssd(sim, {
    sectors: 1 << 22,
    readLatency: 20_000,
    writeLatency: 20_000,
    channels: 8,
    readBandwidth: 2e9,
    writeBandwidth: 2e9,
  });
  const blk = new VirtioBlk({ vm, backend: disk, costs: VIRTIO });
  const evs = Array.from({ length: 32 }, (_, i) => blk.read({ lba: i * 8, count: 8 }));
  sim.run();
  assert.ok(evs.every((e) => e.ok && e.value.ok));
  assert.ok(blk.stats.kicksSuppressed > 0);
  assert.equal(blk.stats.kicks + blk.stats.kicksSuppressed, 32);
  assert.ok(blk.stats.interrupts < 32);
  assert.equal(cpu.exits.get("io-instruction"), blk.stats.kicks);
});

Deno.test("property: whatever the mix, reads return the versions last written (host disk)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          write: fc.boolean(),
          lba: fc.integer({ min: 0, max: 4000 }),
          count: fc.integer({ min: 1, max: 3000 }),
        }),
        { minLength: 1, maxLength: 12 },
      ),
      fc.integer({ min: 1, max: 40 }),
      (ops, segMax) => {
        const { sim, vm } = bootedVm();
        const disk = new Hdd(sim, {
          ...HDD,
          sectors: 8192,
          writeCache: true,
          writeCacheBytes: 1 << 20,
        });
        const blk = new VirtioBlk({ vm, backend: disk, costs: VIRTIO, segMax, hostMaxBytes: 8192 });
        const model = new Int32Array(8192).fill(-1);
        let version = 1;
        let ok = true;
        sim.process(function* (): ProcessGenerator<void> {
          for (const op of ops) {
            const count = Math.min(op.count, 8192 - op.lba);
            if (op.write) {
              yield blk.write({ lba: op.lba, count, version });
              model.fill(version++, op.lba, op.lba + count);
            } else {
              const r = (yield blk.read({ lba: op.lba, count })) as VirtioIoResult;
              ok &&= r.ok && r.versions!.join() === model.slice(op.lba, op.lba + count).join();
            }
          }
        });
        sim.run();
        return ok;
      },
    ),
    { numRuns: 30 },
  );
});

Deno.test("KVM/NFS: reads come from the remote image file, writes stay in the host overlay", () => {
  const { sim, vm } = bootedVm();
  let remote = 0;
  const transport = (r: { lba: number; count: number }) => {
    remote += r.count;
    return sim.timeout(300_000, new Int32Array(r.count)); // image version 0
  };
  const file = new RemoteImageFile({ sim, sectors: 1 << 20, transport, overlayAccess: 2_000 });
  const blk = new VirtioBlk({ vm, backend: file, costs: VIRTIO });
  let first: VirtioIoResult | undefined, second: VirtioIoResult | undefined;
  sim.process(function* () {
    yield blk.write({ lba: 10, count: 2, version: 4 });
    first = (yield blk.read({ lba: 8, count: 8 })) as VirtioIoResult;
    second = (yield blk.read({ lba: 10, count: 2 })) as VirtioIoResult;
  });
  sim.run();
  assert.equal(first!.versions!.join(), "0,0,4,4,0,0,0,0");
  assert.equal(second!.versions!.join(), "4,4");
  assert.equal(remote, 8);
  assert.equal(file.stats.overlayReads, 1);
  assert.ok(second!.latency < first!.latency);
});

Deno.test("a failed remote read completes the guest request with VIRTIO_BLK_S_IOERR", () => {
  const { sim, vm } = bootedVm();
  const transport = () => {
    const ev = sim.event<Int32Array>();
    sim.call(1_000, () => ev.fail(new Error("server gone")));
    return ev;
  };
  const file = new RemoteImageFile({ sim, sectors: 1024, transport, overlayAccess: 0 });
  const blk = new VirtioBlk({ vm, backend: file, costs: VIRTIO });
  const ev = blk.read({ lba: 0, count: 8 });
  sim.run();
  assert.deepEqual([ev.value.ok, ev.value.error], [false, "VIRTIO_BLK_S_IOERR"]);
  assert.equal(blk.stats.errors, 1);
  assert.equal(file.stats.errors, 1);
});

Deno.test("bad virtio-blk options throw RangeErrors naming the field", () => {
  const { sim, vm } = bootedVm();
  const backend = hdd(sim);
  const mk = (o: Partial<VirtioBlkOptions>) => () =>
    new VirtioBlk({ vm, backend, costs: VIRTIO, ...o });
  assert.throws(mk({ costs: { ...VIRTIO, hostRequest: -1 } }), /'costs.hostRequest'.*-1/);
  assert.throws(mk({ notify: "doorbell" as never }), /'notify'/);
  assert.throws(mk({ hostMaxBytes: 1000 }), /'hostMaxBytes' must be a multiple of 512/);
  assert.throws(mk({ segMax: 0 }), /'segMax'/);
  assert.throws(mk({ vcpu: 3 }), /'vcpu'/);
  assert.throws(
    () =>
      new RemoteImageFile({
        sim,
        sectors: 8,
        transport: () => sim.event(),
        overlayAccess: 0,
        queueDepth: 0,
      }),
    (e: Error) => e instanceof RangeError && /'queueDepth'/.test(e.message),
  );
  const blk = mk({})();
  assert.throws(() => blk.read({ lba: HDD.sectors, count: 1 }), /'lba'\+'count'/);
  // An option given as undefined takes its default, as one left out does.
  const unset = { notify: undefined, segMax: undefined, queueDepth: undefined, vcpu: undefined };
  assert.deepEqual(virtioBlkIssues({ costs: VIRTIO, ...unset }), []);
  assert.doesNotThrow(mk(unset));
});

Deno.test("KVM/NFS: a guest read through virtio and the host's NFS client costs the virtio path more than NFS root", () => {
  /** Sequential 32 KiB reads of 2 MiB through `drv`; returns the elapsed time. */
  const readAll = (sim: Simulation, drv: { read: VirtioBlk["read"] }) => {
    const t0 = sim.now;
    sim.process(function* () {
      for (let i = 0; i < 64; i++) {
        const r = (yield drv.read({ lba: i * 64, count: 64 })) as VirtioIoResult;
        assert.ok(r.ok && r.versions!.every((v) => v === 0));
      }
    });
    sim.run();
    return sim.now - t0;
  };
  const nfsOver = (sim: Simulation) => {
    const net = starNetwork(sim, { hosts: ["srv", "n0"], bandwidth: 125e6, switchLatency: 2_000 });
    new ImageServer({ network: net, host: "srv", cpuPerRequest: 0 })
      .addImage(new ImageContent({ id: "os", bytes: 64 << 20 }));
    const client = new ImageClient({ network: net, host: "n0", server: "srv" });
    return new NfsClient({
      sim,
      sectors: (64 << 20) / 512,
      costs: { request: 2_000, rpc: 15_000 },
      transport: (r) => client.read({ imageId: "os", lba: r.lba, count: r.count }),
    });
  };
  const bareSim = new Simulation({ seed: 1 });
  const bare = readAll(bareSim, nfsOver(bareSim));
  const { sim, vm } = bootedVm();
  const hostNfs = nfsOver(sim);
  const transport = (r: { lba: number; count: number }) => {
    const ev = sim.event<Int32Array>();
    hostNfs.read(r).then((e) =>
      e.value.ok ? ev.succeed(e.value.versions) : ev.fail(new Error(e.value.error))
    );
    return ev;
  };
  const file = new RemoteImageFile({
    sim,
    sectors: hostNfs.sectors,
    transport,
    overlayAccess: 1_000,
  });
  const kvm = readAll(sim, new VirtioBlk({ vm, backend: file, costs: VIRTIO }));
  // Each read also looks its clusters up in the empty overlay before going to NFS.
  assert.equal(kvm - bare, 64 * (predictedOverhead() + 1_000));
});

Deno.test("virtioBlkIssues and remoteImageFileIssues list every bad option, as the constructors report them", () => {
  assert.deepEqual(virtioBlkIssues({ costs: VIRTIO }), []);
  const bad = virtioBlkIssues({
    costs: { ...VIRTIO, hostWakeup: -1, guestSubmit: 1.5 },
    segMax: 0,
    memoryBound: 2,
  });
  assert.deepEqual(bad, [
    { field: "costs.guestSubmit", message: "must be an integer >= 0: current value is 1.5" },
    { field: "costs.hostWakeup", message: "must be an integer >= 0: current value is -1" },
    { field: "segMax", message: "must be an integer >= 1: current value is 0" },
    { field: "memoryBound", message: "must be in [0, 1]: current value is 2" },
  ]);
  const { sim, vm } = bootedVm();
  assert.throws(
    () =>
      new VirtioBlk({
        vm,
        backend: hdd(sim),
        costs: { ...VIRTIO, hostWakeup: -1, guestSubmit: 1.5 },
        segMax: 0,
        memoryBound: 2,
      }),
    (e: Error) =>
      e instanceof RangeError &&
      e.message ===
        `Cannot create virtio-blk: ${bad.map((i) => `'${i.field}' ${i.message}`).join("; ")}`,
  );
  assert.deepEqual(remoteImageFileIssues({ overlayAccess: 0 }), []);
  assert.deepEqual(
    remoteImageFileIssues({ queueDepth: 0, overlayAccess: -1, overlayBandwidth: 0 }).map((i) =>
      i.field
    ),
    ["queueDepth", "overlayAccess", "overlayBandwidth"],
  );
});

Deno.test("a FUA write through virtio-blk (no FUA in virtio) is the write, then a flush the guest waits for", () => {
  const run = (fua: boolean) => {
    const { sim, vm } = bootedVm();
    const blk = new VirtioBlk({ vm, backend: hdd(sim), costs: VIRTIO });
    let r: VirtioIoResult | undefined;
    sim.process(function* (): ProcessGenerator<void> {
      r = (yield blk.write({ lba: 4096, count: 8, version: 3, fua })) as VirtioIoResult;
    });
    sim.run();
    return { r: r!, requests: blk.stats.virtioRequests };
  };
  const plain = run(false), fua = run(true);
  assert.ok(plain.r.ok && fua.r.ok);
  assert.deepEqual([plain.requests, fua.requests], [1, 2]);
  // The flush is a second request after the write completed: the guest waits for both.
  assert.ok(fua.r.latency > plain.r.latency, `${fua.r.latency} vs ${plain.r.latency}`);
});
