/**
 * The mediator at the edges of the device interface: a guest using every
 * slot, commands crossing the image's end, commands the device refuses, a
 * task-file error next to VMM work, and the hand-over at de-virtualization.
 */
import assert from "node:assert/strict";
import { ABAR, imageVersion, makeRig, type Rig } from "./_harness.ts";
import type { ProcessGenerator } from "../../lib/sim/mod.ts";
import {
  AhciRegs,
  encodeAtaCommand,
  encodeH2dFis,
  writeCommandHeader,
  writePrdt,
} from "../../lib/hw/ahci/mod.ts";
import type { IoResult } from "../../lib/guest/mod.ts";
import { COPY_ATTEMPTS } from "../../lib/vmm/copier.ts";

const { Px, portReg } = AhciRegs;
const reg = (r: number) => ABAR + portReg(0, r);
const image = (lba: number, n: number) =>
  Array.from({ length: n }, (_, i) => imageVersion(lba + i));

function* boot(rig: Rig): ProcessGenerator<void> {
  yield* rig.vmm!.start();
  yield rig.driver.init();
}

function* io(ev: ReturnType<Rig["driver"]["read"]>): ProcessGenerator<IoResult> {
  return (yield ev) as IoResult;
}

/** A guest register access through the trapped MMIO window (CPU 0, no time charged). */
function mmio(rig: Rig, r: number, value?: number): number {
  const write = value !== undefined;
  return rig.bus.access({ addr: reg(r), size: 4, write, value: value ?? 0, cpu: 0 }).value;
}

/** Builds a command in `slot` of the guest's list by hand (the driver never makes these). */
function handmade(
  rig: Rig,
  c: {
    slot: number;
    kind: "read" | "write" | "log";
    lba: number;
    count: number;
    ncq?: boolean;
    cfl?: number;
    prdBytes?: number;
    /** Data buffer. @default 0x0900_0000 (shared by every slot) */
    buf?: number;
  },
): void {
  const clb = mmio(rig, Px.CLB);
  const ctba = 0x0800_0000 + c.slot * 0x1000, buf = c.buf ?? 0x0900_0000;
  rig.memory.writeBytes(ctba, encodeH2dFis(encodeAtaCommand({ ...c, tag: c.slot })));
  writePrdt(rig.memory, ctba, [{ dba: buf, bytes: c.prdBytes ?? c.count * 512, interrupt: false }]);
  rig.memory.writeVersions(buf, new Int32Array(c.count).fill(4242));
  writeCommandHeader(rig.memory, { clb, slot: c.slot }, {
    cfl: c.cfl ?? 5,
    write: c.kind === "write",
    prdtl: 1,
    ctba,
  });
}

Deno.test("a guest with all 32 slots queued behind VMM work still leaves the VMM a slot", () => {
  const rig = makeRig({ virtualized: true, copier: false, sectors: 65536, chunkSectors: 2048 });
  let results: IoResult[] = [];
  rig.sim.process(function* () {
    yield* boot(rig);
    for (let k = 0; k < 32; k++) {
      yield* io(rig.driver.write({ lba: 1024 * k, count: 1, version: 5 }));
    }
    // Two 4 MiB VMM writes: the second is issued while the guest's 32 reads wait.
    for (const lba of [40960, 49152]) {
      rig.mediator!.writeAbsent({ lba, versions: Int32Array.from(image(lba, 8192)) });
    }
    yield rig.sim.timeout(10_000);
    const reads = Array.from(
      { length: 32 },
      (_, k) => rig.driver.read({ lba: 1024 * k, count: 8 }),
    );
    results = (yield rig.sim.allOf(reads)) as IoResult[];
  });
  rig.sim.run(); // before the fix: "vmm: no free command slot"
  assert.equal(results.length, 32);
  assert.ok(results.every((r) => r.ok));
  assert.deepEqual([...results[3].versions!], [5, ...image(3 * 1024 + 1, 7)]);
  assert.ok(rig.map!.isPresent(40960, 16384));
});

Deno.test("a write crossing the image's end marks its part inside present: the copier never overwrites it", () => {
  // The disk (4096 sectors) is larger than the image (4093): the last page crosses its end.
  const rig = makeRig({ virtualized: true, sectors: 4096, imageSectors: 4093 });
  let back: IoResult | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    assert.ok((yield* io(rig.driver.write({ lba: 4088, count: 8, version: 7777 }))).ok);
    assert.ok(rig.map!.isPresent(4088, 5));
    yield* rig.copier!.run();
    back = yield* io(rig.driver.read({ lba: 4088, count: 8 }));
  });
  rig.sim.run();
  assert.deepEqual([...back!.versions!], Array(8).fill(7777));
  assert.deepEqual([...rig.disk.content.read(0, 4088)], image(0, 4088), "the rest is the image");
});

Deno.test("a read crossing the image's end gets the image's sectors, then the disk's beyond it", () => {
  const rig = makeRig({ virtualized: true, copier: false, sectors: 4096, imageSectors: 4093 });
  rig.disk.content.fill(4093, 3, 9);
  let got: IoResult | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    got = yield* io(rig.driver.read({ lba: 4088, count: 8 }));
  });
  rig.sim.run();
  assert.deepEqual([...got!.versions!], [...image(4088, 5), 9, 9, 9]);
  assert.equal(rig.image!.sectors, 5, "only the image's part was fetched");
  assert.ok(rig.map!.isPresent(4088, 5), "and written to the disk");
  assert.ok(rig.mediator!.canDetach());
});

Deno.test("a command the device refuses is neither redirected nor marked present", () => {
  // CFL 4 (a Register FIS is 5 DWORDs) and a PRDT shorter than the data: the device aborts both.
  const rig = makeRig({ virtualized: true, copier: false });
  const tfds: number[] = [];
  rig.sim.process(function* () {
    yield* boot(rig);
    for (
      const c of [
        { slot: 20, kind: "write" as const, lba: 100, count: 4, cfl: 4 },
        { slot: 21, kind: "write" as const, lba: 200, count: 4, prdBytes: 1024 },
        { slot: 22, kind: "read" as const, lba: 300, count: 4, cfl: 4 },
      ]
    ) {
      handmade(rig, c);
      mmio(rig, Px.CI, 1 << c.slot);
      while (mmio(rig, Px.CI) & (1 << c.slot)) yield rig.sim.timeout(20_000);
      tfds.push(mmio(rig, Px.TFD));
      mmio(rig, Px.IS, mmio(rig, Px.IS));
    }
  });
  rig.sim.run();
  assert.deepEqual(
    tfds.map((t) => t & AhciRegs.ATA_STS_ERR),
    [1, 1, 1].map(() => AhciRegs.ATA_STS_ERR),
  );
  const map = rig.map!;
  assert.ok(!map.isPresent(100, 1) && !map.isPresent(200, 1), "the image still has to fill them");
  assert.equal(rig.mediator!.stats.redirectedReads, 0);
  assert.equal(rig.image!.requests, 0);
});

/** Guest error recovery through the trapped window (§6.2.2.1): clear ST, wait CR = 0, clear PxSERR and PxIS, set ST. */
function* recoverPort(rig: Rig): ProcessGenerator<void> {
  const cmd = mmio(rig, Px.CMD);
  mmio(rig, Px.CMD, cmd & ~AhciRegs.PxCMD_ST);
  while (mmio(rig, Px.CMD) & AhciRegs.PxCMD_CR) yield rig.sim.timeout(20_000);
  mmio(rig, Px.SERR, 0xffff_ffff);
  mmio(rig, Px.IS, 0xffff_ffff);
  mmio(rig, Px.CMD, cmd | AhciRegs.PxCMD_ST);
}

Deno.test("a guest's task-file error halts the port for the guest: VMM work waits for its recovery, and PxTFD and CCS stay the guest's", () => {
  const rig = makeRig({ virtualized: true, copier: false, sectors: 65536, chunkSectors: 2048 });
  let halted: number[] = [];
  let after: number[] = [];
  rig.sim.process(function* () {
    yield* boot(rig);
    assert.ok((yield* io(rig.driver.write({ lba: 100, count: 4, version: 9 }))).ok);
    mmio(rig, Px.IE, 0); // a polling guest: it handles the error itself, below
    handmade(rig, { slot: 5, kind: "write", lba: 100, count: 4, prdBytes: 1024 }); // aborted
    mmio(rig, Px.CI, 1 << 5);
    // VMM work queued meanwhile (a copy chunk): it may not run on the halted port.
    const copy = rig.mediator!.writeAbsent({
      lba: 8192,
      versions: Int32Array.from(image(8192, 2048)),
    });
    yield rig.sim.timeout(5_000_000);
    const look = () => [
      mmio(rig, Px.TFD),
      (mmio(rig, Px.CMD) >>> 8) & 0x1f,
      mmio(rig, Px.CI),
      mmio(rig, Px.IS) & AhciRegs.PxIS_TFES,
    ];
    halted = look();
    assert.ok(!copy.triggered, "the VMM's write waits while the guest's error halts the port");
    yield* recoverPort(rig);
    yield copy;
    after = look();
  });
  rig.sim.run(); // before the fix: the guest's failed slot completed and the port ran on
  const failed = (AhciRegs.ATA_ERR_ABRT << 8) | 0x51;
  assert.deepEqual(halted, [failed, 5, 1 << 5, AhciRegs.PxIS_TFES], "the failed slot stays issued");
  assert.deepEqual(after, [failed, 0, 0, 0], "the VMM's command shows nothing of its own");
  assert.equal(rig.mediator!.stats.guestTaskFileErrors, 1);
  assert.equal(rig.mediator!.stats.abortedGuestCommands, 1);
  assert.ok(rig.map!.isPresent(8192, 2048), "the VMM's own write completed");
  assert.deepEqual(
    [...rig.disk.content.read(100, 4)],
    [9, 9, 9, 9],
    "the aborted write wrote nothing",
  );
  assert.deepEqual(rig.hba.counters().illegal, {});
});

Deno.test("a held redirect completes nothing while a guest error halts the port; the guest's port stop drops it, its fetch still fills the disk", () => {
  const rig = makeRig({ virtualized: true, copier: false, imageLatency: 1_000_000 });
  let whileHalted = -1;
  rig.sim.process(function* () {
    yield* boot(rig);
    mmio(rig, Px.IE, 0); // a polling guest
    handmade(rig, { slot: 7, kind: "read", lba: 300, count: 8 }); // absent: held for redirection
    mmio(rig, Px.CI, 1 << 7);
    yield rig.sim.timeout(10_000);
    handmade(rig, { slot: 5, kind: "write", lba: 100, count: 4, cfl: 4 }); // the device aborts it
    mmio(rig, Px.CI, 1 << 5);
    yield rig.sim.timeout(3_000_000); // the image data arrived meanwhile
    whileHalted = mmio(rig, Px.CI);
    yield* recoverPort(rig);
  });
  rig.sim.run(1e9);
  const m = rig.mediator!;
  assert.equal(whileHalted, (1 << 7 | 1 << 5) >>> 0, "before the fix the redirect completed");
  assert.equal(m.stats.redirectedReads, 0, "nothing placed in the dropped command's buffers");
  assert.equal(m.stats.abortedGuestCommands, 2);
  assert.deepEqual([...rig.disk.content.read(300, 8)], image(300, 8), "copy-on-read still ran");
  assert.ok(m.canDetach(), "nothing left outstanding");
});

Deno.test("a failed guest write is not marked present and the copier fills it", () => {
  const rig = makeRig({ virtualized: true, sectors: 4096, chunkSectors: 256 });
  // The disk fails the guest's write (version 77) every time; the VMM's writes there succeed.
  rig.disk.fail = (c) => c.op === "write" && c.versions[0] === 77 ? "abrt" : undefined;
  let bad: IoResult | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    bad = yield* io(rig.driver.write({ lba: 1000, count: 8, version: 77 }));
    assert.ok(!rig.map!.isPresent(1000, 8), "a write the disk failed leaves its sectors absent");
    yield* rig.copier!.run();
  });
  rig.sim.run();
  assert.equal(bad!.ok, false);
  assert.match(bad!.error!, /task file error: status 0x51 error 0x4, 5 retries/);
  assert.equal(rig.driver.stats.taskFileErrors, 6, "tried once and retried five times");
  assert.deepEqual(
    [...rig.disk.content.read(996, 16)],
    image(996, 16),
    "before the fix it was marked present when sent: the image never reached those sectors",
  );
  assert.equal(rig.map!.guestWrittenSectors, 0);
  assert.equal(rig.mediator!.stats.guestWrites, 0);
});

Deno.test("a guest write is marked present when it completes, not when it is sent", () => {
  const rig = makeRig({ virtualized: true, copier: false, diskLatency: 2_000_000 });
  const seen: boolean[] = [];
  rig.sim.process(function* () {
    yield* boot(rig);
    const w = rig.driver.write({ lba: 512, count: 8, version: 5 });
    yield rig.sim.timeout(1_000_000); // on the disk
    seen.push(rig.map!.isPresent(512, 8));
    yield w;
    seen.push(rig.map!.isPresent(512, 8));
  });
  rig.sim.run();
  assert.deepEqual(seen, [false, true]);
  assert.equal(rig.mediator!.stats.guestWrites, 1);
});

Deno.test("the VMM recovers the port after its own command fails while guest commands are queued", () => {
  const rig = makeRig({ virtualized: true, copier: false, sectors: 65536, chunkSectors: 2048 });
  let failures = 1;
  // The VMM's first write fails (once); the guest's commands succeed.
  rig.disk.fail = (c) =>
    c.op === "write" && c.lba === 8192 && failures > 0 ? (failures--, "abrt") : undefined;
  let results: IoResult[] = [];
  let written = -1;
  const cmdSeen = new Set<number>();
  rig.sim.process(function* () {
    yield* boot(rig);
    assert.ok((yield* io(rig.driver.write({ lba: 100, count: 8, version: 3 }))).ok);
    const copy = rig.mediator!.writeAbsent({
      lba: 8192,
      versions: Int32Array.from(image(8192, 2048)),
    });
    yield rig.sim.timeout(1_000); // the VMM's command is on the port
    // The guest's reads and a write queue behind it (a present read, an absent one, a write).
    const evs = [
      rig.driver.read({ lba: 100, count: 8 }),
      rig.driver.read({ lba: 200, count: 8 }),
      rig.driver.write({ lba: 300, count: 8, version: 4 }),
    ];
    // The guest's view of PxCMD.ST/CR meanwhile (the VMM clears and sets ST in its recovery).
    const probe = rig.sim.process(function* () {
      while (!copy.triggered) {
        cmdSeen.add(mmio(rig, Px.CMD) & (AhciRegs.PxCMD_ST | AhciRegs.PxCMD_CR));
        yield rig.sim.timeout(5_000);
      }
    });
    written = (yield copy) as number;
    results = (yield rig.sim.allOf(evs)) as IoResult[];
    yield probe;
  });
  rig.sim.run(); // before the fix: "vmm: its own write of 2048 sectors at LBA 8192 failed"
  const m = rig.mediator!;
  assert.equal(written, 2048);
  assert.equal(m.stats.vmmErrors, 1);
  assert.deepEqual([...rig.disk.content.read(8192, 2048)], image(8192, 2048));
  assert.ok(results.every((r) => r.ok));
  assert.deepEqual([...results[0].versions!], Array(8).fill(3));
  assert.deepEqual([...results[1].versions!], image(200, 8));
  assert.deepEqual([...rig.disk.content.read(300, 8)], Array(8).fill(4));
  assert.deepEqual([...cmdSeen], [AhciRegs.PxCMD_ST | AhciRegs.PxCMD_CR], "the guest's own ST/CR");
  const s = rig.driver.stats;
  assert.deepEqual([s.taskFileErrors, s.errors, s.resets], [0, 0, 0], "the guest saw no error");
  // The present read and the write waited behind the VMM's command; the absent read never needed the port.
  assert.equal(m.stats.queuedGuestCommands, 2);
  assert.equal(m.stats.redirectedReads, 1);
  assert.deepEqual(rig.hba.counters().illegal, {});
  assert.ok(m.canDetach());
});

Deno.test("a guest acknowledging PxIS while the VMM's command fails does not clear the VMM's error", () => {
  const rig = makeRig({
    virtualized: true,
    copier: false,
    sectors: 65536,
    chunkSectors: 2048,
    diskLatency: 57_000,
  });
  let failures = 1;
  rig.disk.fail = (c) =>
    c.op === "write" && c.lba === 8192 && failures > 0 ? (failures--, "abrt") : undefined;
  let written = -1;
  rig.sim.process(function* () {
    yield* boot(rig);
    const copy = rig.mediator!.writeAbsent({
      lba: 8192,
      versions: Int32Array.from(image(8192, 2048)),
    });
    // The guest writes 1s to PxIS (write-1-to-clear: an old status acknowledged) every 5 us.
    while (!copy.triggered) {
      yield rig.sim.timeout(5_000);
      mmio(rig, Px.IS, 0xffff_ffff);
    }
    written = (yield copy) as number;
  });
  rig.sim.run(10e9); // before the fix: the VMM's poll waited forever on the halted port
  assert.equal(written, 2048);
  assert.equal(rig.mediator!.stats.vmmErrors, 1);
  assert.deepEqual([...rig.disk.content.read(8192, 2048)], image(8192, 2048));
  assert.equal(rig.sim.pending, 0, "nothing left waiting");
});

Deno.test("a VMM write that keeps failing leaves its sectors absent and is counted; the run goes on, the port recovered each time", () => {
  const rig = makeRig({ virtualized: true, copier: false, sectors: 65536, chunkSectors: 2048 });
  rig.disk.fail = (c) => c.op === "write" && c.lba === 8192 ? "unc" : undefined;
  let written = -1;
  let after: IoResult | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    written = (yield rig.mediator!.writeAbsent({
      lba: 8192,
      versions: Int32Array.from(image(8192, 2048)),
    })) as number;
    after = yield* io(rig.driver.read({ lba: 8200, count: 8 })); // still redirected
  });
  rig.sim.run(); // before the fix: "its own write of 2048 sectors at LBA 8192 failed"
  const m = rig.mediator!;
  assert.equal(written, 0);
  assert.ok(!rig.map!.isPresent(8192, 2048), "left absent: the copier writes it again");
  assert.deepEqual([m.stats.vmmErrors, m.stats.vmmFailedCommands], [6, 1]);
  assert.equal(rig.disk.failed, 6);
  assert.ok(after!.ok);
  assert.deepEqual([...after!.versions!], image(8200, 8));
  assert.equal(rig.hba.port(0).state, "running", "restarted after the last failure too");
  assert.equal(rig.driver.stats.errors, 0, "the guest saw nothing");
});

Deno.test("a chunk the disk keeps failing is copied again on later laps, then given up and reported; the rest is copied", () => {
  const rig = makeRig({ virtualized: true, sectors: 2048, chunkSectors: 256 });
  rig.disk.fail = (c) => c.op === "write" && c.lba === 512 ? "abrt" : undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    yield* rig.copier!.run();
  });
  rig.sim.run(); // before the fix the first failure stopped the run
  const s = rig.copier!.stats;
  assert.deepEqual([s.failedCopies, s.chunksGivenUp], [COPY_ATTEMPTS, 1]);
  assert.ok(Number.isNaN(s.finishedAt), "the copy did not complete");
  assert.equal(rig.mediator!.stats.vmmFailedCommands, COPY_ATTEMPTS);
  assert.equal(rig.map!.presentSectors, 2048 - 256, "every other chunk was copied");
  assert.ok(!rig.mediator!.finished && rig.mediator!.canDetach());
});

Deno.test("a redirected read whose present part the disk keeps failing ends in the guest's own task-file error (NCQ: log 10h answered by the mediator)", () => {
  const rig = makeRig({ virtualized: true, copier: false });
  rig.disk.fail = (c) => c.op === "read" && c.lba === 56 ? "unc" : undefined;
  let bad: IoResult | undefined, good: IoResult | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    assert.ok((yield* io(rig.driver.write({ lba: 0, count: 64, version: 6 }))).ok);
    // 56..63 are the guest's (read from the disk by the VMM), 64..71 absent (fetched).
    bad = yield* io(rig.driver.read({ lba: 56, count: 16 }));
    good = yield* io(rig.driver.read({ lba: 100, count: 8 }));
  });
  rig.sim.run(); // before the fix: "its own read of 8 sectors at LBA 56 failed"
  assert.equal(bad!.ok, false);
  assert.match(bad!.error!, /task file error: status 0x51 error 0x40$/, "UNC: not retried");
  assert.ok(good!.ok, "the guest's port works on");
  assert.deepEqual([...good!.versions!], image(100, 8));
  const m = rig.mediator!.stats;
  assert.deepEqual([m.vmmFailedCommands, m.emulatedTaskFileErrors, m.emulatedLogReads], [1, 1, 1]);
  assert.equal(rig.driver.stats.taskFileErrors, 1);
  assert.equal(rig.hba.counters().commands.log, 0, "the disk was never asked for its log");
  assert.deepEqual(
    [...rig.disk.content.read(64, 8)],
    image(64, 8),
    "the fetched part still filled",
  );
  assert.ok(rig.mediator!.canDetach());
});

Deno.test("the same without NCQ: the redirect fails with the disk's ABRT, which the guest retries until it gives up", () => {
  const rig = makeRig({ virtualized: true, copier: false, driver: { ncq: false } });
  rig.disk.fail = (c) => c.op === "read" && c.lba === 56 ? "abrt" : undefined;
  let bad: IoResult | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    assert.ok((yield* io(rig.driver.write({ lba: 0, count: 64, version: 6 }))).ok);
    bad = yield* io(rig.driver.read({ lba: 56, count: 16 }));
  });
  rig.sim.run();
  assert.match(bad!.error!, /task file error: status 0x51 error 0x4, 5 retries/);
  assert.equal(rig.driver.stats.taskFileErrors, 6, "tried once and retried five times");
  // The first try is the mediator's error; its fetched part filled the disk, so the
  // retries go to the disk whole and fail there.
  const m = rig.mediator!.stats;
  assert.deepEqual([m.emulatedTaskFileErrors, m.guestTaskFileErrors, m.emulatedLogReads], [
    1,
    5,
    0,
  ]);
  assert.ok(rig.mediator!.canDetach());
});

Deno.test("after a guest NCQ error no VMM command reaches the disk before the guest has read its log 10h", () => {
  const rig = makeRig({ virtualized: true, copier: false, sectors: 65536, chunkSectors: 2048 });
  let failures = 1;
  rig.disk.fail = (c) =>
    c.op === "read" && c.lba === 40 && failures > 0 ? (failures--, "abrt") : undefined;
  const seen: string[] = [];
  rig.hba.onComplete = (c) => seen.push(`${c.kind}${c.ok ? "" : "!"}`);
  let r: IoResult | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    assert.ok((yield* io(rig.driver.write({ lba: 0, count: 64, version: 6 }))).ok);
    seen.length = 0;
    const read = rig.driver.read({ lba: 40, count: 8 }); // fails on the disk
    yield rig.sim.timeout(20_000); // on the disk
    // VMM work queued behind the guest's command: it must wait for the log read.
    const copy = rig.mediator!.writeAbsent({
      lba: 8192,
      versions: Int32Array.from(image(8192, 2048)),
    });
    r = yield* io(read);
    yield copy;
  });
  rig.sim.run(); // with the disk's error state but not the fix: the VMM's write was aborted 6 times
  assert.ok(r!.ok);
  assert.deepEqual(
    seen,
    ["read!", "log", "write", "read"],
    "before the fix the VMM's write came first",
  );
  assert.equal(rig.hba.counters().ncqErrorAborts, 0);
  assert.equal(rig.mediator!.stats.vmmErrors, 0);
  assert.ok(rig.map!.isPresent(8192, 2048));
});

Deno.test("a guest NCQ error under the VMM: the guest reads log page 10h through the mediator and re-issues; all data arrives", () => {
  const rig = makeRig({
    virtualized: true,
    sectors: 8192,
    chunkSectors: 256,
    imageLatency: 300_000,
  });
  let failures = 1;
  rig.disk.fail = (c) =>
    c.op === "read" && c.lba === 40 && failures > 0 ? (failures--, "abrt") : undefined;
  let rs: IoResult[] = [];
  rig.sim.process(function* () {
    yield* boot(rig);
    assert.ok((yield* io(rig.driver.write({ lba: 0, count: 64, version: 6 }))).ok);
    // Present reads go to the disk (one fails), absent ones are redirected.
    rs = (yield rig.sim.allOf(
      [0, 16, 40, 2000, 3000, 48].map((lba) => rig.driver.read({ lba, count: 8 })),
    )) as IoResult[];
    yield* rig.copier!.run();
  });
  rig.sim.run();
  assert.ok(rs.every((r) => r.ok), "the failed read was retried");
  assert.deepEqual([...rs[2].versions!], Array(8).fill(6));
  assert.deepEqual([...rs[3].versions!], image(2000, 8));
  assert.equal(rig.driver.stats.taskFileErrors, 1);
  assert.equal(rig.mediator!.stats.guestTaskFileErrors, 1);
  assert.equal(rig.hba.counters().commands.log, 1, "READ LOG EXT went through to the device");
  assert.deepEqual([...rig.disk.content.read(64, 8000)], image(64, 8000));
  assert.deepEqual([...rig.disk.content.read(0, 64)], Array(64).fill(6));
});

Deno.test("a guest register write during the hand-over waits for it, then reaches the hardware", () => {
  const rig = makeRig({ virtualized: true, sectors: 1024, hbaCosts: { engineStop: 100_000 } });
  let heldUntil = -1;
  rig.sim.process(function* () {
    yield* boot(rig);
    yield* rig.copier!.run();
    rig.sim.process(function* () {
      yield rig.sim.timeout(30_000); // inside detach(): the engine is stopping
      assert.equal(rig.vmm!.state, "devirtualizing");
      const cpu = rig.cpus[1];
      yield* cpu.mmio(rig.sim, rig.bus, { addr: reg(Px.IE), size: 4, write: true, value: 0 });
      heldUntil = rig.sim.now;
    });
    yield* rig.vmm!.devirtualize();
  });
  rig.sim.run(); // before the fix a PxCMD write here threw "illegal port transition"
  assert.ok(heldUntil >= rig.vmm!.timeline.ioOff!, `held until the hand-over (${heldUntil})`);
  assert.equal(rig.hba.port(0).read(Px.IE), 0, "the guest's value, not the VMM's restore");
});

Deno.test("a copy chunk that arrives after the guest completed the image and the VMM left touches nothing", () => {
  const rig = makeRig({
    virtualized: true,
    sectors: 512,
    copier: { kind: "idle", idleThreshold: 20_000_000 },
  });
  let commands = -1;
  rig.sim.process(function* () {
    yield* boot(rig);
    rig.sim.process(rig.copier!.run());
    yield rig.sim.timeout(1_000_000); // the copier holds fetched chunks, waiting for 20 ms of idle
    assert.ok((yield* io(rig.driver.write({ lba: 0, count: 512, version: 77 }))).ok);
    yield* rig.vmm!.untilFinished();
    yield* rig.vmm!.devirtualize();
    commands = rig.mediator!.stats.vmmCommands;
    mmio(rig, Px.IE, 0); // native now: the hardware's own register
    yield rig.sim.timeout(100_000_000);
  });
  rig.sim.run();
  assert.equal(rig.mediator!.stats.vmmCommands, commands, "no VMM command after de-virtualization");
  assert.equal(rig.hba.port(0).read(Px.IE), 0);
  assert.deepEqual([...rig.disk.content.read(0, 512)], Array(512).fill(77));
});

Deno.test("a guest HBA reset waits for the VMM's own command, which completes; the guest starts again", () => {
  const rig = makeRig({
    virtualized: true,
    copier: false,
    sectors: 8192,
    chunkSectors: 2048,
    diskLatency: 20_000_000,
  });
  let got: IoResult | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    const done = rig.mediator!.writeAbsent({
      lba: 2048,
      versions: Int32Array.from(image(2048, 2048)),
    });
    yield rig.sim.timeout(1_000_000); // the VMM's write is on the disk
    const ie = mmio(rig, Px.IE);
    const ghc = { addr: ABAR + AhciRegs.Ghc.GHC, size: 4 as const };
    yield* rig.cpus[1].mmio(rig.sim, rig.bus, { ...ghc, write: true, value: AhciRegs.GHC_HR });
    assert.ok(done.processed, "the vCPU was held until the VMM's write was done");
    assert.deepEqual([mmio(rig, Px.IE), mmio(rig, Px.CMD) & AhciRegs.PxCMD_ST], [0, 0]);
    yield rig.sim.timeout(2_000_000); // HR clears
    // The guest sets the HBA and its port up again (what its driver's init does).
    rig.bus.access({ ...ghc, write: true, value: AhciRegs.GHC_AE | AhciRegs.GHC_IE, cpu: 0 });
    mmio(rig, Px.CMD, AhciRegs.PxCMD_FRE);
    yield rig.sim.timeout(10_000);
    mmio(rig, Px.IE, ie);
    mmio(rig, Px.CMD, AhciRegs.PxCMD_FRE | AhciRegs.PxCMD_ST);
    got = yield* io(rig.driver.read({ lba: 2040, count: 16 }));
  });
  rig.sim.run();
  assert.deepEqual([...rig.disk.content.read(2048, 2048)], image(2048, 2048), "not aborted");
  assert.equal(rig.mediator!.stats.heldGuestWrites, 1);
  assert.deepEqual([...got!.versions!], image(2040, 16));
  assert.deepEqual(rig.hba.counters().illegal, {});
});

Deno.test("an HBA reset drops the guest's commands, a held redirect too; its fetch still fills the disk", () => {
  const rig = makeRig({ virtualized: true, copier: false, imageLatency: 5_000_000 });
  rig.sim.process(function* () {
    yield* boot(rig);
    handmade(rig, { slot: 7, kind: "read", lba: 300, count: 8 }); // absent: held for redirection
    mmio(rig, Px.CI, 1 << 7);
    yield rig.sim.timeout(1_000_000);
    assert.equal(mmio(rig, Px.CI), 1 << 7);
    assert.ok(!rig.mediator!.canDetach());
    rig.bus.access({
      addr: ABAR + AhciRegs.Ghc.GHC,
      size: 4,
      write: true,
      value: AhciRegs.GHC_HR,
      cpu: 0,
    });
    const st = mmio(rig, Px.CMD) & AhciRegs.PxCMD_ST;
    assert.deepEqual([mmio(rig, Px.CI), mmio(rig, Px.IE), st], [0, 0, 0]);
    // The guest starts the port again (its driver's init after the reset).
    mmio(rig, Px.CMD, AhciRegs.PxCMD_FRE);
    yield rig.sim.timeout(10_000);
    mmio(rig, Px.CMD, AhciRegs.PxCMD_FRE | AhciRegs.PxCMD_ST);
  });
  rig.sim.run(1e9); // (while the port is stopped the VMM's timer polls on for its write-back)
  const m = rig.mediator!;
  assert.equal(m.stats.abortedGuestCommands, 1);
  assert.equal(m.stats.redirectedReads, 0, "nothing placed in the dropped command's buffers");
  assert.deepEqual([...rig.disk.content.read(300, 8)], image(300, 8));
  assert.ok(m.canDetach(), "nothing left outstanding");
});

Deno.test("a held guest write goes right after the VMM's command under way, not after all the VMM's queued work", () => {
  const ms = 1e6;
  const rig = makeRig({
    virtualized: true,
    copier: false,
    sectors: 65536,
    chunkSectors: 2048,
    diskLatency: 20 * ms,
  });
  let heldFor = -1;
  const writes: ReturnType<NonNullable<Rig["mediator"]>["writeAbsent"]>[] = [];
  rig.sim.process(function* () {
    yield* boot(rig);
    for (let k = 0; k < 5; k++) {
      const lba = 8192 * (k + 1);
      writes.push(rig.mediator!.writeAbsent({ lba, versions: Int32Array.from(image(lba, 8192)) }));
    }
    yield rig.sim.timeout(ms); // the first VMM write is on the disk
    const t0 = rig.sim.now;
    const cmd = { addr: reg(Px.CMD), size: 4 as const };
    const v = yield* rig.cpus[0].mmio(rig.sim, rig.bus, { ...cmd, write: false });
    yield* rig.cpus[0].mmio(rig.sim, rig.bus, {
      ...cmd,
      write: true,
      value: v & ~AhciRegs.PxCMD_ST,
    });
    heldFor = rig.sim.now - t0;
    assert.equal(writes.filter((w) => w.processed).length, 1, "only the write under way is done");
    // The guest starts its port again; the VMM goes on with the rest.
    yield rig.sim.timeout(ms);
    mmio(rig, Px.CMD, v);
  });
  rig.sim.run(10_000 * ms);
  assert.ok(heldFor > 0 && heldFor < 25 * ms, `held ${heldFor / ms} ms (one 20 ms write)`);
  assert.ok(writes.every((w) => w.processed), "the queued writes ran afterwards");
  assert.ok(rig.map!.isPresent(8192, 5 * 8192));
});

Deno.test("a guest PxSCTL write held for the VMM's command wakes a de-virtualization waiting for quiet", () => {
  const ms = 1e6;
  const rig = makeRig({ virtualized: true, copier: false, sectors: 8192, diskLatency: 20 * ms });
  let quietAt = -1;
  rig.sim.process(function* () {
    yield* boot(rig);
    rig.mediator!.writeAbsent({ lba: 2048, versions: Int32Array.from(image(2048, 2048)) });
    yield rig.sim.timeout(ms);
    rig.sim.process(function* () {
      const sctl = { addr: reg(Px.SCTL), size: 4 as const };
      const v = yield* rig.cpus[1].mmio(rig.sim, rig.bus, { ...sctl, write: false });
      yield* rig.cpus[1].mmio(rig.sim, rig.bus, { ...sctl, write: true, value: v }); // held
    });
    yield rig.sim.timeout(ms);
    const quiet = rig.mediator!.whenQuiet(); // what devirtualize() waits on
    yield quiet;
    quietAt = rig.sim.now;
  });
  rig.sim.run(1000 * ms);
  assert.equal(rig.mediator!.stats.heldGuestWrites, 1);
  assert.ok(quietAt > 0 && quietAt < 25 * ms, `quiet at ${quietAt / ms} ms, right after the write`);
});

Deno.test("a reset that ends the emulated NCQ error state wakes a de-virtualization waiting for quiet", () => {
  for (const reset of ["hba", "comreset"] as const) {
    const rig = makeRig({ virtualized: true, copier: false });
    rig.image!.read = () => {
      const ev = rig.sim.event<Int32Array>();
      rig.sim.call(10_000, () => ev.fail(new Error("image server down")));
      return ev;
    };
    let quiet: ReturnType<NonNullable<Rig["mediator"]>["whenQuiet"]> | undefined;
    rig.sim.process(function* () {
      yield* boot(rig);
      mmio(rig, Px.IE, 0); // the guest polls: its driver's handler stays out of it
      handmade(rig, { slot: 3, kind: "read", lba: 300, count: 8, ncq: true }); // absent
      mmio(rig, Px.SACT, 1 << 3);
      mmio(rig, Px.CI, 1 << 3);
      yield rig.sim.timeout(1_000_000); // the fetch failed: an emulated NCQ error
      assert.equal(rig.mediator!.stats.emulatedTaskFileErrors, 1);
      assert.ok(mmio(rig, Px.IS) & AhciRegs.PxIS_TFES);
      mmio(rig, Px.CMD, mmio(rig, Px.CMD) & ~AhciRegs.PxCMD_ST); // the guest's recovery
      yield rig.sim.timeout(1_000_000);
      quiet = rig.mediator!.whenQuiet(); // its log 10h is unread: not quiet
      assert.ok(!rig.mediator!.canDetach());
      if (reset === "hba") {
        rig.bus.access({
          addr: ABAR + AhciRegs.Ghc.GHC,
          size: 4,
          write: true,
          value: AhciRegs.GHC_HR,
          cpu: 0,
        });
      } else {
        const sctl = mmio(rig, Px.SCTL) & ~0xf;
        mmio(rig, Px.SCTL, sctl | 1); // COMRESET: the device forgets its error
        yield rig.sim.timeout(1_000_000);
        mmio(rig, Px.SCTL, sctl);
      }
      yield rig.sim.timeout(1_000_000);
    });
    rig.sim.run(1e9);
    assert.ok(rig.mediator!.canDetach(), `${reset}: nothing left outstanding`);
    assert.ok(quiet!.processed, `${reset}: the waiter for quiet was woken`);
  }
});

/** Makes every image read fail 10 us after it is asked (the image server is down). */
function imageDown(rig: Rig): void {
  rig.image!.read = () => {
    const ev = rig.sim.event<Int32Array>();
    rig.sim.call(10_000, () => ev.fail(new Error("image server down")));
    return ev;
  };
}

Deno.test("mediator holds a queued guest command while its port is halted: VMM work ending meanwhile issues nothing, the guest's port stop drops it", () => {
  for (const ncq of [false, true]) {
    const rig = makeRig({ virtualized: true, copier: false });
    imageDown(rig);
    let ci = -1;
    rig.sim.process(function* () {
      yield* boot(rig);
      mmio(rig, Px.IE, 0); // a polling guest
      const issue = (slot: number) => {
        if (ncq) mmio(rig, Px.SACT, 1 << slot);
        mmio(rig, Px.CI, 1 << slot);
      };
      handmade(rig, { slot: 3, kind: "read", lba: 300, count: 8, ncq }); // absent
      issue(3);
      yield rig.sim.timeout(1_000_000); // its fetch failed: the guest's view is halted (emulated)
      assert.ok(mmio(rig, Px.IS) & AhciRegs.PxIS_TFES);
      // The hardware is not halted: VMM work runs; a guest write issued meanwhile waits.
      const copy = rig.mediator!.writeAbsent({
        lba: 1024,
        versions: Int32Array.from(image(1024, 256)),
      });
      handmade(rig, { slot: 5, kind: "write", lba: 100, count: 4, ncq });
      issue(5);
      yield copy;
      yield rig.sim.timeout(1_000_000);
      ci = mmio(rig, Px.CI);
      yield* recoverPort(rig);
    });
    rig.sim.run(1e9);
    const m = rig.mediator!.stats;
    const wrote = rig.disk.log.filter((c) => c.op === "write" && c.lba === 100);
    assert.equal(wrote.length, 0, `ncq ${ncq}: before the fix the VMM's end sent it to the disk`);
    assert.equal(
      m.emulatedTaskFileErrors,
      1,
      `ncq ${ncq}: before the fix (NCQ) it was aborted too`,
    );
    assert.equal(ci, (1 << 3 | 1 << 5) >>> 0, `ncq ${ncq}: both still issued while halted`);
    assert.equal(m.abortedGuestCommands, 2, `ncq ${ncq}: the port stop dropped both`);
    assert.ok(rig.map!.isPresent(1024, 256), `ncq ${ncq}: the VMM's write completed`);
  }
});

/**
 * A guest's queued read fails on the disk; after its port stop it reads log
 * 10h and, beside it, reads 8 absent sectors at LBA 300 (their versions returned).
 */
function readBesideLogRead(rig: Rig): () => number[] {
  let failures = 1;
  rig.disk.fail = (c) =>
    c.op === "read" && c.lba === 40 && failures > 0 ? (failures--, "abrt") : undefined;
  rig.disk.content.fill(300, 8, 9); // not copied yet: what the disk holds there is stale
  const logBuf = 0x0a00_0000, readBuf = 0x0a10_0000;
  let got: number[] = [];
  rig.sim.process(function* () {
    yield* boot(rig);
    assert.ok((yield* io(rig.driver.write({ lba: 0, count: 64, version: 6 }))).ok);
    mmio(rig, Px.IE, 0); // a polling guest
    handmade(rig, { slot: 2, kind: "read", lba: 40, count: 8, ncq: true }); // the disk fails it
    mmio(rig, Px.SACT, 1 << 2);
    mmio(rig, Px.CI, 1 << 2);
    yield rig.sim.timeout(1_000_000);
    assert.ok(mmio(rig, Px.IS) & AhciRegs.PxIS_TFES);
    yield* recoverPort(rig); // the disk still waits for its NCQ error log to be read
    handmade(rig, { slot: 0, kind: "log", lba: 0x10, count: 1, buf: logBuf });
    mmio(rig, Px.CI, 1 << 0);
    handmade(rig, { slot: 1, kind: "read", lba: 300, count: 8, buf: readBuf }); // absent
    mmio(rig, Px.CI, 1 << 1);
    while (mmio(rig, Px.CI) & 0b11) yield rig.sim.timeout(20_000);
    got = [...rig.memory.readVersions(readBuf, 8)];
  });
  return () => got;
}

Deno.test("a read of absent sectors issued beside the guest's log 10h read waits for it, then is redirected: the disk never serves it stale", () => {
  const rig = makeRig({ virtualized: true, copier: false });
  const got = readBesideLogRead(rig);
  rig.sim.run(1e9);
  assert.deepEqual(got(), image(300, 8), "before the fix the disk served its stale sectors");
  const m = rig.mediator!.stats;
  assert.deepEqual([m.redirectedReads, m.guestTaskFileErrors], [1, 1]);
  assert.equal(rig.hba.counters().commands.log, 1, "the log read went to the disk");
  assert.ok(rig.mediator!.canDetach());
});

Deno.test("a read held for the guest's log 10h read is not counted as waiting behind VMM commands (the copy policy backs off for that wait): it has its own count", () => {
  const rig = makeRig({ virtualized: true, copier: false });
  const got = readBesideLogRead(rig);
  rig.sim.run(1e9);
  assert.deepEqual(got(), image(300, 8));
  const m = rig.mediator!.stats;
  assert.equal(m.guestQueueDelay, 0, "no VMM command ran before it: before the fix its wait");
  assert.equal(m.queuedGuestCommands, 0);
  assert.equal(m.logHeldReads, 1);
  assert.ok(m.logHeldDelay > 0, `${m.logHeldDelay}`);
});

Deno.test("a read crossing the image's end whose write-back the disk keeps failing ends in that write's error, not an earlier VMM command's", () => {
  const rig = makeRig({
    virtualized: true,
    copier: false,
    sectors: 4096,
    imageSectors: 4093,
    driver: { ncq: false },
  });
  rig.disk.fail = (c) =>
    c.op !== "write" ? undefined : c.lba === 1024 ? "idnf" : c.lba === 4088 ? "unc" : undefined;
  let r: IoResult | undefined;
  rig.sim.process(function* () {
    yield* boot(rig);
    // An older VMM failure (a copy chunk the disk keeps failing with IDNF).
    assert.equal(
      yield rig.mediator!.writeAbsent({ lba: 1024, versions: Int32Array.from(image(1024, 8)) }),
      0,
    );
    r = yield* io(rig.driver.read({ lba: 4088, count: 8 }));
  });
  rig.sim.run();
  assert.equal(rig.mediator!.stats.vmmFailedCommands, 2);
  assert.match(r!.error!, /task file error: status 0x51 error 0x40$/, "UNC: its own write-back's");
  assert.ok(!rig.map!.isPresent(4088, 5));
});
