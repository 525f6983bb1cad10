import assert from "node:assert/strict";
import fc from "fast-check";
import { ABAR, imageVersion, makeRig, type Rig } from "./_harness.ts";
import type { ProcessGenerator, SimEvent } from "../../lib/sim/mod.ts";
import {
  AhciRegs,
  encodeAtaCommand,
  encodeH2dFis,
  writeCommandHeader,
  writePrdt,
} from "../../lib/hw/ahci/mod.ts";
import type { IoResult } from "../../lib/guest/mod.ts";
import { flakyDisk } from "../../lib/hw/ahci/_test_utils.ts";
import { BackgroundCopier, type CopyContext, makeCopyPolicy } from "../../lib/vmm/mod.ts";

function boot(rig: Rig): ProcessGenerator<void> {
  return (function* () {
    if (rig.vmm) yield* rig.vmm.start();
    yield rig.driver.init();
  })();
}

function* read(rig: Rig, lba: number, count: number): ProcessGenerator<Int32Array> {
  const r = (yield rig.driver.read({ lba, count })) as IoResult;
  assert.ok(r.ok, `read ${lba}+${count} failed: ${r.error}`);
  return r.versions!;
}

function* write(rig: Rig, lba: number, count: number, version: number): ProcessGenerator<void> {
  const r = (yield rig.driver.write({ lba, count, version })) as IoResult;
  assert.ok(r.ok, `write ${lba}+${count} failed: ${r.error}`);
}

const expectImage = (lba: number, n: number) =>
  Array.from({ length: n }, (_, i) => imageVersion(lba + i));

Deno.test("mediator redirects a read of absent blocks to the image server", () => {
  const rig = makeRig({ virtualized: true, copier: false, readAhead: 0 });
  let got: Int32Array | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    got = yield* read(rig, 100, 16);
  });
  rig.sim.run();
  assert.deepEqual([...got!], expectImage(100, 16));
  assert.equal(rig.mediator!.stats.redirectedReads, 1);
  assert.equal(rig.image!.sectors, 16);
  // copy-on-read wrote the fetched sectors to the local disk
  assert.deepEqual([...rig.disk.content.read(100, 16)], expectImage(100, 16));
  assert.ok(rig.map!.isPresent(100, 16));
});

Deno.test("a partially present read fetches only what is missing", () => {
  const rig = makeRig({ virtualized: true, copier: false, readAhead: 0 });
  let got: Int32Array | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    yield* write(rig, 100, 4, 77);
    got = yield* read(rig, 96, 16);
  });
  rig.sim.run();
  const want = expectImage(96, 16);
  for (let i = 4; i < 8; i++) want[i] = 77;
  assert.deepEqual([...got!], want);
  assert.equal(rig.image!.sectors, 12);
  assert.equal(rig.mediator!.stats.redirectedPresentSectors, 4);
});

Deno.test("a read of present blocks passes through to the disk", () => {
  const rig = makeRig({ virtualized: true, copier: false });
  rig.sim.process(function* () {
    yield* boot(rig);
    yield* write(rig, 8, 8, 5);
    const v = yield* read(rig, 8, 8);
    assert.deepEqual([...v], new Array(8).fill(5));
  });
  rig.sim.run();
  assert.equal(rig.mediator!.stats.redirectedReads, 0);
  assert.equal(rig.image!.requests, 0);
});

Deno.test("the background copier fills the disk without overwriting guest data", () => {
  const rig = makeRig({ virtualized: true, sectors: 2048, chunkSectors: 128 });
  rig.sim.process(function* () {
    yield* boot(rig);
    rig.sim.process(rig.copier!.run());
    yield* write(rig, 300, 10, 4242);
    yield rig.sim.timeout(1_000);
    yield* write(rig, 1000, 3, 4343);
  });
  rig.sim.run();
  assert.ok(rig.map!.complete);
  const disk = rig.disk.content.read(0, 2048);
  for (let lba = 0; lba < 2048; lba++) {
    const want = lba >= 300 && lba < 310
      ? 4242
      : lba >= 1000 && lba < 1003
      ? 4343
      : imageVersion(lba);
    assert.equal(disk[lba], want, `sector ${lba}`);
  }
  assert.ok(rig.mediator!.finished);
});

/** Chunk `c`'s sectors, 256 a chunk. */
const chunk = (c: number) => ({ lba: c * 256, count: 256 });

Deno.test("the copier copies the sectors of its order first, then the rest in disk order", () => {
  const order = [chunk(5), { lba: 520, count: 16 }, chunk(7)];
  const rig = makeRig({ virtualized: true, sectors: 2048, chunkSectors: 256, copyOrder: order });
  rig.sim.process(function* () {
    yield* boot(rig);
    yield* write(rig, 0, 256, 4242); // chunk 0 wholly the guest's: nothing to copy there
    yield* rig.copier!.run();
  });
  rig.sim.run();
  assert.ok(rig.map!.complete);
  // Then chunk 2 again for the rest of it (the 16 sectors are dropped as present).
  assert.deepEqual(rig.image!.runs.map((r) => `${r.lba}+${r.count}`), [
    "1280+256",
    "520+16",
    "1792+256",
    "256+256",
    "512+256",
    "768+256",
    "1024+256",
    "1536+256",
  ]);
  assert.deepEqual([...rig.disk.content.read(512, 256)], expectImage(512, 256));
  assert.equal(rig.copier!.stats.sectorsSkipped, 16);
});

Deno.test("a run of the copier's order already present is skipped, not copied twice", () => {
  const rig = makeRig({
    virtualized: true,
    sectors: 2048,
    chunkSectors: 256,
    copyOrder: [chunk(3), chunk(0)],
  });
  rig.sim.process(function* () {
    yield* boot(rig);
    yield* read(rig, 768, 256); // chunk 3 redirected and written back (copy-on-read)
    yield rig.sim.timeout(1_000_000); // the write-back done
    yield* rig.copier!.run();
  });
  rig.sim.run();
  assert.ok(rig.map!.complete);
  // The guest's read fetched chunk 3; the copier did not.
  assert.deepEqual(rig.image!.runs.map((r) => r.lba / 256), [3, 0, 1, 2, 4, 5, 6, 7]);
});

Deno.test("a copy order that is not a list of runs within the image is refused, every entry named", () => {
  const order = [{ lba: 0, count: 8 }, { lba: 2044, count: 8 }, { lba: 8, count: 0 }, 5];
  const rule =
    "must be a run { lba, count } of whole sectors, lba >= 0, count >= 1, within [0, 2048)";
  assert.throws(
    () => makeRig({ virtualized: true, sectors: 2048, copyOrder: order as never }),
    {
      name: "RangeError",
      message:
        `Cannot create copier: 'order.1' ${rule}: current value is {"lba":2044,"count":8}; ` +
        `'order.2' ${rule}: current value is {"lba":8,"count":0}; ` +
        `'order.3' ${rule}: current value is 5`,
    },
  );
});

Deno.test("the mediator lists what its redirected reads fetched, in the order of their first fetch", () => {
  const rig = makeRig({ virtualized: true, copier: false, readAhead: 0 });
  rig.sim.process(function* () {
    yield* boot(rig);
    yield* read(rig, 600, 8);
    yield* read(rig, 100, 8);
    yield* read(rig, 600, 8); // present now: not fetched
    yield* read(rig, 96, 20); // only 96-99 and 108-115 are absent
    yield* read(rig, 116, 4); // continues the run before it
    // Two reads of the same absent sectors at once: both are redirected, one is news.
    rig.sim.process(read(rig, 700, 8));
    yield* read(rig, 700, 8);
  });
  rig.sim.run();
  assert.equal(rig.image!.runs.filter((r) => r.lba === 700).length, 2);
  assert.deepEqual(rig.mediator!.redirectedRuns, [
    { lba: 600, count: 8 },
    { lba: 100, count: 8 },
    { lba: 96, count: 4 },
    { lba: 108, count: 12 },
    { lba: 700, count: 8 },
  ]);
});

Deno.test("a copier fed by a stream writes each piece it delivers, keeping guest data, and ends with the stream", () => {
  const rig = makeRig({ virtualized: true, sectors: 2048, chunkSectors: 128 });
  let pieces = 0;
  // A stream pushing 64-sector pieces in a rotated order, the next when the last is written.
  const stream = (write: (lba: number, v: Int32Array) => SimEvent<unknown>) =>
    rig.sim.process(function* () {
      for (let k = 0; k < 32; k++) {
        const lba = ((k + 5) % 32) * 64;
        yield write(lba, Int32Array.from(expectImage(lba, 64)));
        pieces++;
      }
    }) as SimEvent<unknown> as SimEvent<void>;
  rig.sim.process(function* () {
    yield* boot(rig);
    yield* write(rig, 300, 10, 4242);
    yield* rig.copier!.runFromStream(stream);
  });
  rig.sim.run();
  assert.equal(pieces, 32);
  assert.ok(rig.map!.complete && rig.mediator!.finished);
  const disk = rig.disk.content.read(0, 2048);
  for (let lba = 0; lba < 2048; lba++) {
    assert.equal(disk[lba], lba >= 300 && lba < 310 ? 4242 : imageVersion(lba), `sector ${lba}`);
  }
  const st = rig.copier!.stats;
  assert.equal(st.chunksCopied, 32);
  assert.equal(st.sectorsWritten + st.sectorsSkipped, 2048);
  assert.equal(st.sectorsSkipped, 10, "the guest's sectors are not overwritten");
  assert.ok(st.finishedAt >= st.startedAt);
});

/**
 * A copier (two 256-sector chunks fetched ahead, 225.6 us at the image
 * server each) beside one redirected guest read of 8 sectors (200.8 us):
 * the overlap counts the copier gave its policy after each copy, and the
 * mediator's redirect counters at the end.
 */
function copierBesideRedirect(when: "none" | "after-fetch" | "before-fetch") {
  const rig = makeRig({ virtualized: true, copier: false, sectors: 2048, readAhead: 0 });
  const seen: number[] = [];
  const policy = makeCopyPolicy({ kind: "idle", idleThreshold: 100_000 });
  const copier = new BackgroundCopier({
    sim: rig.sim,
    map: rig.map!,
    image: rig.image!,
    io: rig.mediator!,
    // The policy as it is, recording what the copier told it.
    policy: Object.assign(Object.create(policy), {
      copied: (ctx: CopyContext, delay: number) => {
        seen.push(ctx.fetchOverlaps);
        policy.copied(ctx, delay);
      },
    }),
  });
  let outstanding = -1;
  rig.sim.process(function* () {
    yield* boot(rig);
    if (when !== "after-fetch") {
      if (when === "before-fetch") {
        rig.sim.process(read1900());
        yield rig.sim.timeout(50_000); // the read is at the image server
        outstanding = rig.mediator!.redirectsOutstanding;
      }
      yield* copier.run();
      return;
    }
    rig.sim.process(copier.run());
    yield rig.sim.timeout(10_000); // the copier's first fetches are at the image server
    yield* read1900();
  });
  function* read1900(): ProcessGenerator<void> {
    assert.deepEqual([...yield* read(rig, 1900, 8)], expectImage(1900, 8));
  }
  rig.sim.run();
  assert.ok(rig.map!.complete);
  const m = rig.mediator!;
  return { seen, outstanding, started: m.redirectsStarted, left: m.redirectsOutstanding };
}

Deno.test("a copier fetch at the image server when a redirected read starts, or issued while one runs, counts as an overlap", () => {
  const none = copierBesideRedirect("none");
  assert.deepEqual(none.seen, new Array(8).fill(0));
  assert.equal(none.started, 0);
  // Both chunks fetched ahead were at the server when the read was redirected; later ones not.
  const after = copierBesideRedirect("after-fetch");
  assert.deepEqual(after.seen, new Array(8).fill(2));
  assert.deepEqual([after.started, after.left], [1, 0]);
  // The read was outstanding when the copier issued its first two fetches.
  const before = copierBesideRedirect("before-fetch");
  assert.equal(before.outstanding, 1);
  assert.equal(before.seen[0], 2);
  assert.deepEqual([before.started, before.left], [1, 0]);
});

Deno.test("no VMM command, interrupt or status ever reaches the guest", () => {
  const rig = makeRig({
    virtualized: true,
    sectors: 4096,
    chunkSectors: 256,
    copier: { kind: "idle", idleThreshold: 0 },
  });
  const seen: number[] = [];
  rig.sim.process(function* () {
    yield* boot(rig);
    rig.sim.process(rig.copier!.run());
    // While the copier works, the guest polls its status registers.
    for (let i = 0; i < 200; i++) {
      yield rig.sim.timeout(7_000);
      const ci = (yield* rig.cpus[1].mmio(rig.sim, rig.bus, {
        addr: ABAR + AhciRegs.portReg(0, AhciRegs.Px.CI),
        size: 4,
        write: false,
      })) as number;
      const is = (yield* rig.cpus[1].mmio(rig.sim, rig.bus, {
        addr: ABAR + AhciRegs.portReg(0, AhciRegs.Px.IS),
        size: 4,
        write: false,
      })) as number;
      const tfd = (yield* rig.cpus[1].mmio(rig.sim, rig.bus, {
        addr: ABAR + AhciRegs.portReg(0, AhciRegs.Px.TFD),
        size: 4,
        write: false,
      })) as number;
      seen.push(ci, is, tfd & AhciRegs.ATA_STS_BSY);
    }
  });
  rig.sim.run();
  assert.ok(rig.mediator!.stats.vmmCommands > 5, "the copier ran VMM commands meanwhile");
  assert.ok(seen.every((v) => v === 0), "guest saw a VMM command in CI/IS/TFD");
  assert.equal(rig.irq.spurious, 0);
  const delivered = [...rig.irq.delivered.values()].reduce((a, b) => a + b, 0);
  assert.equal(delivered, rig.driver.stats.interrupts, "every interrupt was the guest's own");
  assert.equal(rig.driver.stats.spurious, 0);
});

Deno.test("de-virtualization hands the port back; afterwards no VM exit and no hook", () => {
  const rig = makeRig({ virtualized: true, sectors: 1024, chunkSectors: 128 });
  let exitsAfter = -1;
  rig.sim.process(function* () {
    yield* boot(rig);
    rig.sim.process(rig.copier!.run());
    yield* rig.vmm!.untilFinished();
    // a guest read in flight while de-virtualization is requested
    const pending = rig.driver.read({ lba: 5, count: 8 });
    yield* rig.vmm!.devirtualize();
    assert.ok((yield pending) as IoResult);
    const exits = rig.cpus.reduce((s, c) => s + c.exitCount, 0);
    for (let i = 0; i < 20; i++) yield* write(rig, 40 + i, 1, 9000 + i);
    const v = yield* read(rig, 40, 20);
    assert.deepEqual([...v], Array.from({ length: 20 }, (_, i) => 9000 + i));
    exitsAfter = rig.cpus.reduce((s, c) => s + c.exitCount, 0) - exits;
  });
  rig.sim.run();
  assert.equal(rig.vmm!.state, "gone");
  assert.equal(exitsAfter, 0);
  assert.equal(rig.bus.hooks.length, 0);
  assert.ok(rig.cpus.every((c) => c.vmx === "off" && !c.ept));
  const clb = rig.bus.raw({
    addr: ABAR + AhciRegs.portReg(0, AhciRegs.Px.CLB),
    size: 4,
    write: false,
    value: 0,
  });
  assert.ok(
    !rig.vmm!.protects(clb) && clb < rig.vmm!.memory.base,
    "hardware uses the guest's own command list",
  );
  const tl = rig.vmm!.timeline;
  assert.ok(tl.requested! <= tl.ioOff! && tl.ioOff! < tl.eptOff! && tl.eptOff! <= tl.done!);
});

const randomOps = fc.array(
  fc.record({
    write: fc.boolean(),
    lba: fc.integer({ min: 0, max: 1000 }),
    count: fc.integer({ min: 1, max: 40 }),
    gap: fc.integer({ min: 0, max: 400_000 }),
  }),
  { minLength: 1, maxLength: 25 },
);

/**
 * Two guest threads issue random reads and writes (disjoint halves, as an OS
 * would not overlap in-flight commands) while the copier runs; then the VMM
 * de-virtualizes. Reads must see the latest version and the disk must end as
 * image + writes. `flaky`: image fetches made in every other 20 ms take
 * 20 ms, past the driver's 5 ms command timeout, so the guest keeps resetting.
 * `diskFaults`: after boot every `diskFaults`-th disk command fails with ABRT
 * (each at most twice, fewer than the retries), the guest's and the VMM's.
 */
function randomIo(
  o: { seed: number; ops: { write: boolean; lba: number; count: number; gap: number }[] },
  idle: number,
  flaky = false,
  diskFaults = 0,
): Rig {
  const ms = 1e6;
  const rig = makeRig({
    seed: o.seed,
    virtualized: true,
    sectors: 1024 + 64,
    chunkSectors: 64,
    copier: { kind: "idle", idleThreshold: idle },
    ...(flaky ? { driver: { commandTimeout: 5 * ms, linkDebounce: ms } } : {}),
  });
  const model = new Int32Array(1024 + 64);
  for (let i = 0; i < model.length; i++) model[i] = imageVersion(i);
  let version = 1_000_000;
  let reached = false;
  rig.sim.process(function* () {
    yield* boot(rig);
    if (diskFaults > 0) rig.disk.fail = flakyDisk(diskFaults);
    rig.sim.process(rig.copier!.run());
    if (flaky) {
      rig.sim.process(function* () {
        while (!rig.map!.complete) {
          rig.image!.latency = rig.image!.latency === 200_000 ? 20 * ms : 200_000;
          yield rig.sim.timeout(20 * ms);
        }
      });
    }
    const thread = (half: number) =>
      rig.sim.process(function* () {
        for (const [k, op] of o.ops.entries()) {
          if (k % 2 !== half) continue;
          yield rig.sim.timeout(op.gap);
          const lba = half * 544 + (op.lba % 500);
          if (op.write) {
            const v = version++;
            yield* write(rig, lba, op.count, v);
            model.fill(v, lba, lba + op.count);
          } else {
            const got = yield* read(rig, lba, op.count);
            assert.deepEqual(
              [...got],
              [...model.subarray(lba, lba + op.count)],
              `read ${lba}+${op.count}`,
            );
          }
        }
      });
    yield rig.sim.allOf([thread(0), thread(1)]);
    yield* rig.vmm!.untilFinished();
    reached = true;
    yield* rig.vmm!.devirtualize();
  });
  rig.sim.run();
  assert.ok(reached, "reached de-virtualization");
  assert.equal(rig.vmm!.state, "gone");
  assert.deepEqual([...rig.disk.content.read(0, model.length)], [...model]);
  assert.equal(rig.irq.spurious, 0);
  assert.equal(rig.driver.stats.errors, 0);
  assert.deepEqual(rig.hba.counters().illegal, {});
  return rig;
}

Deno.test("random guest reads and writes with background copy: reads see the latest version, disk ends as image + writes", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1e6 }),
      randomOps,
      fc.constantFrom(0, 50_000, 1_000_000),
      (seed, ops, idle) => void randomIo({ seed, ops }, idle),
    ),
    { numRuns: 25 },
  );
});

Deno.test("the same with a flaky image server: the guest's timeouts and link resets lose nothing", () => {
  let resets = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1e6 }),
      randomOps,
      fc.constantFrom(0, 1_000_000),
      (seed, ops, idle) => {
        resets += randomIo({ seed, ops }, idle, true).driver.stats.resets;
      },
    ),
    { numRuns: 25 },
  );
  assert.ok(resets > 0, "the guest did reset");
});

Deno.test("the same with a disk that fails commands now and then: the guest's and the VMM's recoveries lose nothing", () => {
  let guest = 0, vmm = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1e6 }),
      randomOps,
      fc.constantFrom(0, 1_000_000),
      fc.constantFrom(3, 7),
      (seed, ops, idle, every) => {
        const rig = randomIo({ seed, ops }, idle, false, every);
        guest += rig.driver.stats.taskFileErrors;
        vmm += rig.mediator!.stats.vmmErrors;
        assert.equal(rig.driver.stats.taskFileErrors, rig.mediator!.stats.guestTaskFileErrors);
      },
    ),
    { numRuns: 25 },
  );
  assert.ok(guest > 0 && vmm > 0, `both recovered (guest ${guest}, VMM ${vmm})`);
});

Deno.test("a misbehaving guest (PxCI before ST, ST before PxCLB) is counted, not fatal", () => {
  const rig = makeRig({ virtualized: true, copier: false });
  rig.sim.process(function* () {
    yield* rig.vmm!.start();
    const cpu = rig.cpus[0];
    const reg = (r: number) => ABAR + AhciRegs.portReg(0, r);
    yield* cpu.mmio(rig.sim, rig.bus, {
      addr: reg(AhciRegs.Px.CI),
      size: 4,
      write: true,
      value: 1,
    });
    yield* cpu.mmio(rig.sim, rig.bus, {
      addr: reg(AhciRegs.Px.CMD),
      size: 4,
      write: true,
      value: AhciRegs.PxCMD_ST,
    });
    yield rig.sim.timeout(1_000_000);
    // the OS then initialises properly and I/O works
    yield rig.driver.init();
    const v = yield* read(rig, 0, 4);
    assert.deepEqual([...v], expectImage(0, 4));
  });
  rig.sim.run();
  assert.ok(rig.mediator!.stats.guestOddities >= 2);
});

/** Boots a rig with the given read-ahead and reads sectors 0-1023 in 64-sector reads, checking each. */
function readSequentially(readAhead: number) {
  const rig = makeRig({ virtualized: true, copier: false, readAhead });
  rig.sim.process(function* () {
    yield* boot(rig);
    for (let lba = 0; lba < 1024; lba += 64) {
      const v = yield* read(rig, lba, 64);
      assert.deepEqual([...v], expectImage(lba, 64));
    }
  });
  rig.sim.run();
  return rig;
}

Deno.test("sequential redirected reads are served by the mediator's read-ahead", () => {
  const rig = readSequentially(256);
  assert.ok(rig.mediator!.stats.readAheadHits >= 10, `hits ${rig.mediator!.stats.readAheadHits}`);
});

Deno.test("a read straddling two read-aheads is served from both, nothing fetched twice", () => {
  // 96-sector windows against 64-sector reads: every other read spans two windows.
  const rig = readSequentially(96);
  const image = rig.image!;
  assert.ok(image.sectors <= 1024 + 96, `fetched ${image.sectors} sectors for 1024 read`);
  assert.ok(rig.mediator!.stats.readAheadHits >= 14, `hits ${rig.mediator!.stats.readAheadHits}`);
});

Deno.test("the mediator's read-ahead window starts at 4x a small request and grows like Linux's", () => {
  const rig = makeRig({ virtualized: true, copier: false, readAhead: 4096, sectors: 16384 });
  const fetchedAfter: number[] = [];
  rig.sim.process(function* () {
    yield* boot(rig);
    // 4 KiB reads, one after the other: a store's cache misses on adjacent blocks.
    for (let lba = 0; lba < 8 * 12; lba += 8) {
      const v = yield* read(rig, lba, 8);
      assert.deepEqual([...v], expectImage(lba, 8));
      fetchedAfter.push(rig.image!.sectors);
    }
  });
  rig.sim.run();
  // Linux mm/readahead.c: first window 4 x 8 sectors, then x4 while below max/16, then x2.
  // Two adjacent small reads fetch 16 + 32 sectors, not the 2 MiB window.
  assert.equal(fetchedAfter[1], 8 + 8 + 32);
  const ahead = rig.image!.runs.slice(2).map((r) => r.lba + r.count);
  const windows = ahead.map((end, i) => end - 8 * (i + 2));
  assert.deepEqual(windows.slice(0, 5), [32, 128, 512, 1024, 2048]);
  assert.equal(Math.max(...ahead), 8 * 12 + 4096); // capped at readAhead
  assert.ok(rig.image!.sectors < 8 * 12 + 4096 + 2048, `fetched ${rig.image!.sectors}`);
});

Deno.test("a non-sequential redirected read restarts the read-ahead window", () => {
  const rig = makeRig({ virtualized: true, copier: false, readAhead: 4096, sectors: 16384 });
  rig.sim.process(function* () {
    yield* boot(rig);
    for (const lba of [0, 8, 16, 24, 8000, 8008]) yield* read(rig, lba, 8);
  });
  rig.sim.run();
  // After the jump, the read at 8008 is sequential again: a first window of 32 sectors.
  const last = rig.image!.runs.at(-1)!;
  assert.deepEqual(last, { lba: 8016, count: 32 });
});

Deno.test("the VMM's memory is hidden from the guest and guest DMA into it is refused", () => {
  const rig = makeRig({ virtualized: true, copier: false });
  rig.sim.process(function* () {
    yield* boot(rig);
    const vmm = rig.vmm!;
    const cpu = rig.cpus[0];
    const reg = (r: number) => ABAR + AhciRegs.portReg(0, r);
    // Seed the target so the test notices any write into VMM memory.
    const target = vmm.memory.base + (8 << 20);
    rig.memory.writeVersions(target, [4242]);
    // A guest that builds a read whose buffer lies in VMM memory, in slot 30.
    const clb = (yield* cpu.mmio(rig.sim, rig.bus, {
      addr: reg(AhciRegs.Px.CLB),
      size: 4,
      write: false,
    })) as number;
    const ctba = 0x200000;
    rig.memory.writeBytes(ctba, encodeH2dFis(encodeAtaCommand({ kind: "read", lba: 0, count: 1 })));
    writePrdt(rig.memory, ctba, [{ dba: target, bytes: 512, interrupt: true }]);
    writeCommandHeader(rig.memory, { clb, slot: 30 }, { cfl: 5, prdtl: 1, ctba });
    yield* cpu.mmio(rig.sim, rig.bus, {
      addr: reg(AhciRegs.Px.CI),
      size: 4,
      write: true,
      value: 1 << 30,
    });
    yield rig.sim.timeout(5_000_000);
    const ci = (yield* cpu.mmio(rig.sim, rig.bus, {
      addr: reg(AhciRegs.Px.CI),
      size: 4,
      write: false,
    })) as number;
    assert.equal(ci & (1 << 30), 0, "the command completed (with nothing transferred)");
  });
  rig.sim.run();
  assert.equal(rig.mediator!.stats.blockedDma, 1);
  assert.equal(
    rig.memory.readVersions(rig.vmm!.memory.base + (8 << 20), 1)[0],
    4242,
    "VMM memory untouched",
  );
  assert.ok(
    !rig.vmm!.e820.isUsable(rig.vmm!.memory.base, rig.vmm!.memory.size),
    "hidden from E820",
  );
});

Deno.test("port state transitions: the mediator's edges and only those", async () => {
  const { nextPortState } = await import("../../lib/vmm/mod.ts");
  assert.equal(nextPortState("idle", "running"), "running");
  assert.equal(nextPortState("running", "idle"), "idle");
  assert.equal(nextPortState("running", "detaching"), "detaching");
  assert.equal(nextPortState("detaching", "native"), "native");
  assert.throws(() => nextPortState("native", "running"), /illegal port transition/);
  assert.throws(() => nextPortState("idle", "native"), /illegal port transition/);
});

Deno.test("a guest that gives up on a redirected read (timeout, port reset) gets its retry served; the abandoned fetch still fills the disk", () => {
  const ms = 1e6;
  const rig = makeRig({
    virtualized: true,
    copier: false,
    readAhead: 0,
    imageLatency: 50 * ms, // the first fetch outlasts the guest's timeout
    driver: { commandTimeout: 5 * ms, linkDebounce: ms },
  });
  let got: Int32Array | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    rig.sim.call(ms, () => (rig.image!.latency = 200_000));
    got = yield* read(rig, 100, 16);
  });
  rig.sim.run();
  assert.deepEqual([...got!], expectImage(100, 16));
  const m = rig.mediator!.stats;
  assert.deepEqual([rig.driver.stats.resets, m.abortedGuestCommands, m.redirectedReads], [1, 1, 1]);
  assert.equal(rig.image!.requests, 2, "the abandoned fetch and the retry's");
  assert.deepEqual([...rig.disk.content.read(100, 16)], expectImage(100, 16));
  assert.ok(rig.mediator!.canDetach(), "nothing left outstanding");
  assert.deepEqual(rig.hba.counters().illegal, {});
});

Deno.test("a guest port stop while the VMM's own command runs waits for that command, which completes", () => {
  const ms = 1e6;
  const rig = makeRig({ virtualized: true, copier: false, diskLatency: 20 * ms });
  const { Px, PxCMD_ST, portReg } = AhciRegs;
  const cmdReg = { addr: ABAR + portReg(0, Px.CMD), size: 4 as const };
  let vmmRead: SimEvent<Int32Array> | undefined;
  let stoppedAt = -1;
  rig.sim.process(function* () {
    yield* boot(rig);
    rig.disk.content.fill(0, 8, 77);
    vmmRead = rig.mediator!.read({ lba: 0, count: 8 });
    yield rig.sim.timeout(ms); // the VMM's command is on the disk now
    const cpu = rig.cpus[0];
    const v = yield* cpu.mmio(rig.sim, rig.bus, { ...cmdReg, write: false, value: 0 });
    yield* cpu.mmio(rig.sim, rig.bus, { ...cmdReg, write: true, value: v & ~PxCMD_ST });
    stoppedAt = rig.sim.now;
  });
  rig.sim.run();
  assert.ok(vmmRead!.processed && vmmRead!.ok);
  assert.deepEqual([...vmmRead!.value], Array(8).fill(77), "not aborted by the stop");
  assert.ok(stoppedAt >= 20 * ms, `the guest's write waited (${stoppedAt} ns)`);
  assert.equal(rig.mediator!.stats.heldGuestWrites, 1);
  assert.equal(rig.hba.port(0).state, "idle", "the guest's stop was made afterwards");
});
