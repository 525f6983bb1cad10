import assert from "node:assert/strict";
import fc from "fast-check";
import { VersionMap } from "../../lib/_util/mod.ts";
import type { SimEvent, Simulation } from "../../lib/sim/mod.ts";
import type { DiskCommand, DiskResult } from "../../lib/hw/mod.ts";
import { AhciRegs as R, decodeCommand } from "../../lib/hw/ahci/mod.ts";
import { flakyDisk, MemDisk } from "../../lib/hw/ahci/_test_utils.ts";
import type { IoResult } from "../../lib/guest/mod.ts";
import { ABAR, guestRig, HangingDisk, runGuest } from "./_rig.ts";

const { Px, portReg } = R;

Deno.test("AhciDriver.init() programs the port in the spec's order and identifies the disk", () => {
  const rig = guestRig({ sectors: 123_456, trace: true });
  runGuest(rig);
  const info = rig.driver.info!;
  assert.deepEqual(info, {
    port: 0,
    sectors: 123_456,
    queueDepth: 32,
    ncq: true,
    model: "memdisk",
    fua: true,
  });
  const writes = rig.accesses.filter((a) => a.write).map((a) => a.offset);
  const at = (off: number) => writes.indexOf(off);
  const p = (r: R.Px) => portReg(0, r);
  // CLB/FB programmed before FRE; FRE before SERR/IS clears; ST last of the port set-up.
  const cmdWrites = writes.map((o, i) => (o === p(Px.CMD) ? i : -1)).filter((i) => i >= 0);
  assert.ok(at(R.Ghc.GHC) < at(p(Px.CLB)));
  assert.ok(at(p(Px.CLB)) < cmdWrites[0] && at(p(Px.FB)) < cmdWrites[0]);
  assert.ok(cmdWrites[0] < at(p(Px.SERR)) && at(p(Px.IS)) < cmdWrites[1]);
  assert.equal(rig.accesses.find((a) => a.write && a.offset === p(Px.CMD))!.value, R.PxCMD_FRE);
  assert.deepEqual(rig.hba.counters().illegal, {});
  assert.equal(rig.hba.port(0).state, "running");
  assert.equal(rig.hba.counters().commands.identify, 1);
  assert.equal(rig.hba.read(R.Ghc.GHC, 4), (R.GHC_AE | R.GHC_IE) >>> 0);
});

Deno.test("AhciDriver.init() resets the HBA first, as Linux's probe does (hbaReset: false skips it)", () => {
  for (const hbaReset of [true, false]) {
    const rig = guestRig({ trace: true, driver: { hbaReset } });
    runGuest(rig);
    const ghcWrites = rig.accesses.filter((a) => a.write && a.offset === R.Ghc.GHC);
    const first = rig.accesses.findIndex((a) => a.offset >= R.PORT_BASE);
    const hr = ghcWrites.findIndex((a) => a.value & R.GHC_HR);
    assert.equal(hr >= 0, hbaReset);
    if (hbaReset) assert.ok(rig.accesses.indexOf(ghcWrites[hr]) < first, "before any port access");
    assert.equal(rig.hba.port(0).state, "running");
  }
});

Deno.test("AhciDriver.init() first stops a port left running: clear ST, wait CR=0, clear FRE, wait FR=0", () => {
  const rig = guestRig({
    trace: true,
    hbaCosts: { engineStop: 50_000, fisEngine: 5_000 },
    driver: { hbaReset: false }, // ahci.skip_host_reset=1: no HBA reset stops it first
  });
  // Firmware left the port running with its own structures.
  const w = (r: R.Px, v: number) => rig.hba.write(portReg(0, r), 4, v);
  w(Px.CLB, 0x9_0000);
  w(Px.FB, 0x9_1000);
  w(Px.CMD, R.PxCMD_FRE);
  rig.sim.run(10_000);
  w(Px.CMD, R.PxCMD_FRE | R.PxCMD_ST);
  runGuest(rig);
  assert.deepEqual(rig.hba.counters().illegal, {});
  assert.equal(rig.hba.port(0).state, "running");
  assert.notEqual(rig.hba.port(0).clb, 0x9_0000);
  const cmdWrites = rig.accesses.filter((a) => a.write && a.offset === portReg(0, Px.CMD));
  const ctl = (v: number) => v & (R.PxCMD_ST | R.PxCMD_FRE); // CR/FR are read-only
  assert.deepEqual(cmdWrites.slice(0, 2).map((a) => ctl(a.value)), [R.PxCMD_FRE, 0]);
  // It polled CR while the engine was stopping.
  const cmdReads = rig.accesses.filter((a) => !a.write && a.offset === portReg(0, Px.CMD));
  assert.ok(cmdReads.length >= 4);
});

Deno.test("AhciDriver allocates every structure and buffer from usable E820 RAM only", () => {
  // Reserve where a first-fit allocator starting at 1 MiB would go.
  const reserved: [number, number] = [0x10_0000, 0x80_0000];
  const rig = guestRig({ reserve: [reserved] });
  runGuest(rig, function* () {
    const evs: SimEvent<IoResult>[] = [];
    for (let i = 0; i < 40; i++) evs.push(rig.driver.write({ lba: i * 64, count: 64, version: i }));
    yield rig.sim.allOf(evs);
  });
  const port = rig.hba.port(0);
  const used: [number, number][] = [[port.clb, 1024], [port.fb, 256]];
  for (let slot = 0; slot < 32; slot++) {
    const d = decodeCommand(rig.memory, { clb: port.clb, slot });
    used.push([d.header.ctba, 0x80 + 168 * 16]);
    for (const prd of d.prdt) used.push([prd.dba, prd.bytes]);
  }
  assert.ok(used.length > 34);
  for (const [base, len] of used) {
    assert.ok(rig.e820.isUsable(base, len), `0x${base.toString(16)} (+${len}) is not usable RAM`);
  }
});

Deno.test("AhciDriver reads back the versions it wrote through HBA and disk (NCQ, many outstanding)", () => {
  const SECTORS = 4096;
  fc.assert(
    fc.property(
      fc.array(
        fc.array(
          fc.record({
            write: fc.boolean(),
            lba: fc.integer({ min: 0, max: SECTORS - 1 }),
            count: fc.integer({ min: 1, max: 300 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        { minLength: 1, maxLength: 4 },
      ),
      fc.boolean(),
      (batches, ncq) => {
        const rig = guestRig({ sectors: SECTORS, driver: { ncq, prdBytes: 4096 } });
        const model = new VersionMap(SECTORS, 0);
        let version = 1;
        let mismatches = 0;
        runGuest(rig, function* () {
          for (const batch of batches) {
            // Within a batch, writes go to disjoint ranges; reads see the state before the batch.
            const before = new VersionMap(SECTORS, 0);
            before.set(0, model.read(0, SECTORS));
            const taken = new VersionMap(SECTORS, 0);
            const evs: SimEvent<IoResult>[] = [];
            for (const op of batch) {
              const count = Math.min(op.count, SECTORS - op.lba);
              if (op.write) {
                if (taken.countOther(op.lba, count, 0) > 0) continue;
                taken.fill(op.lba, count, 1);
                const v = version++;
                model.fill(op.lba, count, v);
                evs.push(rig.driver.write({ lba: op.lba, count, version: v }));
              }
            }
            for (const op of batch) {
              if (op.write) continue;
              const count = Math.min(op.count, SECTORS - op.lba);
              if (taken.countOther(op.lba, count, 0) > 0) continue;
              const ev = rig.driver.read({ lba: op.lba, count });
              const expect = before.read(op.lba, count);
              ev.then(() => {
                if (ev.value.versions!.join() !== expect.join()) mismatches++;
              });
              evs.push(ev);
            }
            const rs = (yield rig.sim.allOf(evs)) as IoResult[];
            assert.ok(rs.every((r) => r.ok));
          }
        });
        // runGuest stops when the guest's last request completes; an interrupt the
        // HBA re-signals then (a completion that raced the ISR's PxIS clear,
        // AHCI 1.3.1 §10.7.2.1) is still on its way. Check the registers at rest.
        rig.sim.run();
        assert.equal(mismatches, 0);
        assert.ok(rig.disks[0].content.equals(model), "disk equals the model");
        assert.equal(rig.hba.read(portReg(0, Px.CI), 4), 0);
        assert.equal(rig.hba.read(portReg(0, Px.SACT), 4), 0);
        assert.equal(rig.hba.read(portReg(0, Px.IS), 4), 0, "the ISR acknowledged PxIS");
        assert.equal(rig.hba.read(R.Ghc.IS, 4), 0, "the ISR acknowledged IS");
        assert.equal(rig.hba.counters().malformed, 0);
        if (!ncq) assert.equal(rig.disks[0].maxOutstanding, 1);
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("AhciDriver keeps up to the queue depth outstanding under NCQ and one without it", () => {
  for (const [hbaNcq, expectDepth] of [[true, 8], [false, 1]] as const) {
    const rig = guestRig({
      disks: (sim) => [new MemDisk(sim, { sectors: 1 << 16, latency: 100_000, queueDepth: 8 })],
      hbaNcq,
    });
    runGuest(rig, function* () {
      const evs = [];
      for (let i = 0; i < 20; i++) evs.push(rig.driver.read({ lba: i * 8, count: 8 }));
      yield rig.sim.allOf(evs);
    });
    assert.equal(rig.driver.info!.ncq, hbaNcq);
    assert.equal(rig.driver.info!.queueDepth, expectDepth);
    assert.equal(rig.disks[0].maxOutstanding, expectDepth);
    assert.equal(rig.hba.counters().ncq, hbaNcq ? 20 : 0);
  }
});

Deno.test("AhciDriver splits a large request into commands of at most maxPrdEntries * prdBytes", () => {
  const rig = guestRig({ driver: { prdBytes: 8192, maxPrdEntries: 4 } });
  const r = runGuest(rig, function* () {
    yield rig.driver.write({ lba: 100, count: 150, version: 5 });
    return (yield rig.driver.read({ lba: 100, count: 150 })) as IoResult;
  });
  assert.equal(rig.driver.maxSectorsPerCommand, 64);
  assert.ok(r.ok);
  assert.equal(r.versions!.length, 150);
  assert.ok(r.versions!.every((v) => v === 5));
  const reads = rig.disks[0].log.filter((c) => c.op === "read") as { count: number }[];
  assert.deepEqual(reads.map((c) => c.count), [64, 64, 22]);
});

Deno.test("AhciDriver splits at maxRequestBytes too (Linux max_sectors_kb), as the world's driver does", async () => {
  const rig = guestRig({ driver: { maxRequestBytes: 65536 } });
  runGuest(rig, function* () {
    yield rig.driver.write({ lba: 0, count: 300, version: 5 });
  });
  assert.equal(rig.driver.maxSectorsPerCommand, 128);
  const writes = rig.disks[0].log.flatMap((c) => c.op === "write" ? [c.versions.length] : []);
  assert.deepEqual(writes, [128, 128, 44]);
  for (const bad of [-1, 1000, 0]) {
    assert.throws(() => guestRig({ driver: { maxRequestBytes: bad } }), /'maxRequestBytes'/);
  }
  // The profile's 512 KiB reaches the driver every strategy builds.
  const { buildWorld, BUILTIN_PROFILE, guestDriver, loadProfile } = await import(
    "../../lib/scenario/mod.ts"
  );
  const w = buildWorld(await loadProfile(BUILTIN_PROFILE), { seed: 1, imageBytes: 12e9 });
  assert.equal(guestDriver(w, w.nodes[0]).maxSectorsPerCommand, 1024);
});

/** A disk that fails reads of one LBA with ABRT. */
class FailingDisk extends MemDisk {
  constructor(sim: Simulation, readonly badLba: number, latency = 50_000) {
    super(sim, { sectors: 1 << 16, latency, initial: 0 });
  }
  override submit(cmd: DiskCommand): SimEvent<DiskResult> {
    if (cmd.op === "read" && cmd.lba === this.badLba) {
      return this.sim.timeout(50_000, { ok: false, error: "abrt" as const, serviceTime: 50_000 });
    }
    return super.submit(cmd);
  }
}

Deno.test("AhciDriver reports a task-file error on the failing request only", () => {
  const rig = guestRig({ disks: (sim) => [new FailingDisk(sim, 13)] });
  const rs = runGuest(rig, function* () {
    return (yield rig.sim.allOf([
      rig.driver.read({ lba: 12, count: 1 }),
      rig.driver.read({ lba: 13, count: 1 }),
      rig.driver.read({ lba: 14, count: 1 }),
    ])) as IoResult[];
  });
  assert.deepEqual(rs.map((r) => r.ok), [true, false, true]);
  assert.match(rs[1].error!, /task file error: status 0x51 error 0x4/);
  assert.equal(rig.driver.stats.errors, 1);
});

Deno.test("a task-file error that lands between the driver's PxIS and PxCI reads fails no other command", () => {
  // The failing read's error is posted just after the handler read PxIS: the HBA halts with
  // that slot still issued, so this pass completes nothing wrongly and the next one sees TFES.
  // (Before the §6.2.2 halt the slot completed, was reused, and CCS blamed its new command.)
  const rig = guestRig({
    disks: (sim) => [
      new class extends FailingDisk {
        override submit(cmd: DiskCommand): SimEvent<DiskResult> {
          if (cmd.op !== "read" || cmd.lba !== this.badLba) return super.submit(cmd);
          return this.sim.timeout(5_750, { ok: false, error: "abrt" as const, serviceTime: 1 });
        }
      }(sim, 13, 200),
    ],
  });
  const failed: string[] = [];
  let bad: IoResult | undefined;
  runGuest(rig, function* () {
    const loop = function* (base: number) {
      for (let i = 0; i < 40; i++) {
        const r = (yield rig.driver.read({ lba: base + i, count: 1 })) as IoResult;
        if (!r.ok) failed.push(`lba ${base + i}: ${r.error}`);
      }
    };
    const ev = rig.driver.read({ lba: 13, count: 1 });
    yield rig.sim.allOf([ev, rig.sim.process(loop(100)), rig.sim.process(loop(1000))]);
    bad = ev.value as IoResult;
  });
  assert.deepEqual(failed, []); // was: ["lba 101: task file error: status 0x50 error 0x0"]
  assert.equal(bad!.ok, false);
});

/** A fault for MemDisk.fail: `op`s at `lba` fail with `error`, the first `times` times (all: Infinity). */
function failAt(
  lba: number,
  o: { times?: number; error?: "abrt" | "idnf" | "unc"; op?: "read" | "write" } = {},
): (c: DiskCommand) => "abrt" | "idnf" | "unc" | undefined {
  let left = o.times ?? Infinity;
  return (c) => {
    if (c.op !== (o.op ?? "read") || c.lba !== lba || left === 0) return undefined;
    left--;
    return o.error ?? "abrt";
  };
}

/** Disk LBAs the disk saw, for op `op`, in order. */
const lbas = (rig: ReturnType<typeof guestRig>, op = "read") =>
  rig.disks[0].log.flatMap((c) => c.op !== "flush" && c.op === op ? [c.lba] : []);

Deno.test("the guest driver re-issues the commands held behind a failed one (NCQ, §6.2.2.2)", () => {
  const rig = guestRig({ trace: true, latency: 50_000 });
  rig.disks[0].fail = failAt(64, { times: 1 });
  const rs = runGuest(rig, function* () {
    return (yield rig.sim.allOf(
      [0, 16, 32, 48, 64, 80, 96, 112].map((lba) => rig.driver.read({ lba, count: 8 })),
    )) as IoResult[];
  });
  assert.ok(rs.every((r) => r.ok), "the failed read was retried, the others issued again");
  const s = rig.driver.stats;
  assert.deepEqual([s.taskFileErrors, s.resets, s.errors, s.timeouts], [1, 0, 0, 0]);
  assert.ok(s.retries >= 1);
  assert.equal(lbas(rig).filter((l) => l === 64).length, 2, "one retry of the failed read");
  assert.equal(rig.hba.counters().commands.log, 1, "the failed tag came from log page 10h");
  // The recovery in the spec's order: ST cleared, CR waited for, PxSERR and PxIS cleared, ST set,
  // then READ LOG EXT in slot 0; no COMRESET (a task-file error needs none).
  const p = (r: R.Px) => portReg(0, r);
  const eh = rig.accesses.filter((a) => a.write);
  const stop = eh.findIndex((a) => a.offset === p(Px.CMD) && !(a.value & R.PxCMD_ST));
  const order = eh.slice(stop).map((a) => a.offset);
  const at = (off: number) => order.indexOf(off);
  assert.ok(stop > 0 && at(p(Px.SERR)) >= 0 && at(p(Px.SERR)) < at(p(Px.IS)), "SERR, then IS");
  const start = order.findIndex((o, i) => o === p(Px.CMD) && eh[stop + i].value & R.PxCMD_ST);
  assert.ok(at(p(Px.IS)) < start && start < at(p(Px.CI)), "ST set before READ LOG EXT is issued");
  assert.equal(eh.filter((a) => a.offset === p(Px.SCTL)).length, 0, "no COMRESET");
  assert.deepEqual(rig.hba.counters().illegal, {});
  assert.equal(rig.hba.read(p(Px.IE), 4) !== 0, true, "interrupts back on");
});

Deno.test("a non-queued command that fails is found by PxCMD.CCS and retried; one that keeps failing fails after commandRetries (§6.2.2.1)", () => {
  const rig = guestRig({ hbaNcq: false, driver: { commandRetries: 2 } });
  rig.disks[0].fail = failAt(13, { op: "write" });
  const [bad, good, again] = runGuest(rig, function* () {
    const both = (yield rig.sim.allOf([
      rig.driver.write({ lba: 13, count: 1, version: 9 }),
      rig.driver.write({ lba: 14, count: 1, version: 9 }),
    ])) as IoResult[];
    return [...both, (yield rig.driver.read({ lba: 14, count: 1 })) as IoResult];
  });
  assert.equal(bad.ok, false);
  assert.match(bad.error!, /^task file error: status 0x51 error 0x4, 2 retries$/);
  assert.ok(good.ok && again.ok && again.versions![0] === 9, "the queue goes on after the error");
  assert.equal(lbas(rig, "write").filter((l) => l === 13).length, 3, "tried, then retried twice");
  const s = rig.driver.stats;
  assert.deepEqual([s.taskFileErrors, s.resets, s.errors], [3, 0, 1]);
  assert.equal(rig.hba.counters().commands.log, 0, "non-queued: PxCMD.CCS named the command");
});

Deno.test("a media error (UNC) fails its request at once, without retries; the others complete", () => {
  const rig = guestRig();
  rig.disks[0].fail = failAt(200, { error: "unc" });
  const rs = runGuest(rig, function* () {
    return (yield rig.sim.allOf(
      [100, 200, 300].map((lba) => rig.driver.read({ lba, count: 8 })),
    )) as IoResult[];
  });
  assert.deepEqual(rs.map((r) => r.ok), [true, false, true]);
  assert.equal(rs[1].error, "task file error: status 0x51 error 0x40");
  assert.equal(lbas(rig).filter((l) => l === 200).length, 1, "Linux does not retry AC_ERR_MEDIA");
  assert.equal(rig.driver.stats.errors, 1);
});

Deno.test("AhciDriver recovers from transient task-file errors under load: every request completes with its data (NCQ or not)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 24 }),
      fc.boolean(),
      fc.integer({ min: 2, max: 9 }),
      (counts, ncq, every) => {
        const rig = guestRig({ sectors: 8192, hbaNcq: ncq });
        const results = runGuest(rig, function* () {
          // Every `every`-th disk command fails with ABRT, each at most twice (fewer than its retries).
          rig.disks[0].fail = flakyDisk(every);
          const writes = counts.map((count, i) =>
            rig.driver.write({ lba: i * 100, count, version: 1000 + i })
          );
          const w = (yield rig.sim.allOf(writes)) as IoResult[];
          const reads = counts.map((count, i) => rig.driver.read({ lba: i * 100, count }));
          return [...w, ...(yield rig.sim.allOf(reads)) as IoResult[]];
        });
        rig.sim.run();
        assert.ok(results.every((r) => r.ok), results.find((r) => !r.ok)?.error);
        counts.forEach((count, i) => {
          assert.deepEqual([...results[counts.length + i].versions!], Array(count).fill(1000 + i));
        });
        // A failure the device reports after another one halted the port is aborted with it.
        const { taskFileErrors } = rig.driver.stats;
        const failed = rig.disks[0].failed;
        assert.ok(taskFileErrors <= failed && (taskFileErrors > 0) === (failed > 0));
        assert.equal(rig.hba.read(portReg(0, Px.CI), 4), 0);
        assert.equal(rig.hba.read(portReg(0, Px.SACT), 4), 0);
        assert.equal(rig.hba.port(0).state, "running");
        assert.deepEqual(rig.hba.counters().illegal, {});
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("every register access of the driver goes through the CPU and traps as a VM exit when hooked", () => {
  const rig = guestRig({ trace: true });
  rig.cpu.transition("root");
  rig.cpu.transition("non-root");
  runGuest(rig, function* () {
    yield rig.driver.read({ lba: 0, count: 8 });
  });
  const s = rig.driver.stats;
  assert.equal(rig.accesses.length, s.mmioReads + s.mmioWrites);
  assert.equal(rig.cpu.exits.get("ept-violation"), rig.accesses.length);
  assert.ok(rig.accesses.every((a) => a.addr >= ABAR && a.size === 4));
});

Deno.test("AhciDriver.read() rejects a range beyond the disk with a RangeError", () => {
  const rig = guestRig({ sectors: 1000 });
  runGuest(rig);
  assert.throws(() => rig.driver.read({ lba: 999, count: 2 }), {
    name: "RangeError",
    message: /'lba'\+'count' must lie within \[0, 1000\]/,
  });
});

const SECOND = 1e9;
const EH = { commandTimeout: 30 * SECOND, commandRetries: 5, linkDebounce: 100e6 };

Deno.test("a command that never completes times out; the driver resets the link (COMRESET) and its retry succeeds", () => {
  const rig = guestRig({
    disks: (sim) => [new HangingDisk(sim, 1)],
    driver: EH,
    hbaCosts: { linkReset: 10e6 },
    trace: true,
  });
  const [hung, other] = runGuest(rig, function* () {
    return (yield rig.sim.allOf([
      rig.driver.read({ lba: 8, count: 8 }),
      rig.driver.read({ lba: 64, count: 8 }), // completes before the timeout: untouched
    ])) as IoResult[];
  });
  assert.ok(hung.ok && other.ok);
  assert.ok(other.latency < 1e6);
  // 30 s, then stop, COMRESET held 1 ms, link up after 10 ms, 100 ms debounce, restart, retry.
  assert.ok(hung.latency > 30.11 * SECOND && hung.latency < 30.2 * SECOND, `${hung.latency}`);
  const s = rig.driver.stats;
  assert.deepEqual([s.timeouts, s.resets, s.retries, s.timedOut, s.errors], [1, 1, 1, 0, 0]);
  const sctl = rig.accesses.filter((a) => a.write && a.offset === portReg(0, Px.SCTL));
  assert.deepEqual(sctl.map((a) => a.value & 0xf), [1, 0], "DET=1 (COMRESET), then released");
  // The spec's order: the engine is stopped before the COMRESET (§10.4.2), nothing illegal.
  assert.deepEqual(rig.hba.counters().illegal, {});
  assert.equal(rig.hba.port(0).link, "up");
});

Deno.test("a command that times out on every try fails after commandRetries retries, and later requests work", () => {
  const retries = 2;
  const rig = guestRig({
    disks: (sim) => [new HangingDisk(sim, retries + 1)],
    driver: { ...EH, commandRetries: retries },
  });
  const [failed, next] = runGuest(rig, function* () {
    const failed = (yield rig.driver.read({ lba: 8, count: 8 })) as IoResult;
    const next = (yield rig.driver.read({ lba: 8, count: 8 })) as IoResult;
    return [failed, next];
  });
  assert.equal(failed.ok, false);
  assert.match(failed.error!, /timeout: no completion within 30 s, 2 retries/);
  assert.ok(failed.latency > 3 * 30 * SECOND && failed.latency < 3 * 30.2 * SECOND);
  assert.ok(next.ok, "the port works again after the resets");
  const s = rig.driver.stats;
  assert.deepEqual([s.timeouts, s.resets, s.retries, s.timedOut, s.errors], [3, 3, 2, 1, 1]);
});

Deno.test("a completed command's timer is cancelled: a run with nothing left to do ends at the last completion", () => {
  const rig = guestRig({ driver: EH });
  const done = runGuest(rig, function* () {
    yield rig.driver.read({ lba: 8, count: 8 });
    yield rig.driver.read({ lba: 64, count: 8 });
    return rig.sim.now;
  });
  rig.sim.run(); // nothing but the interrupt handler's tail and the two 30 s timers could be left
  assert.ok(rig.sim.now - done < 10_000, `${rig.sim.now} vs ${done}`);
  assert.equal(rig.driver.stats.timeouts, 0);
});

Deno.test("without a command timeout (the default) a hung command just waits", () => {
  const rig = guestRig({ disks: (sim) => [new HangingDisk(sim, 1)] });
  runGuest(rig);
  const ev = rig.driver.read({ lba: 8, count: 8 });
  rig.sim.run(1000 * SECOND);
  assert.equal(ev.triggered, false);
  assert.equal(rig.driver.stats.resets, 0);
});

Deno.test("error-handling options are checked, naming the field", () => {
  for (const k of ["commandTimeout", "commandRetries", "linkDebounce"]) {
    assert.throws(() => guestRig({ driver: { [k]: -1 } }), new RegExp(`'${k}'`));
    assert.throws(() => guestRig({ driver: { [k]: 1.5 } }), new RegExp(`'${k}'`));
  }
});

Deno.test("a command caught in another's reset is issued again without using up its retries", () => {
  const rig = guestRig({
    disks: (sim) => [new HangingDisk(sim, 1)],
    driver: { ...EH, commandRetries: 0 },
  });
  const [hung, caught] = runGuest(rig, function* () {
    const hung = rig.driver.read({ lba: 8, count: 8 });
    // Issued just before the first one times out: still on the disk when the port stops.
    yield rig.sim.timeout(30 * SECOND - 30_000);
    const caught = rig.driver.read({ lba: 64, count: 8 });
    return (yield rig.sim.allOf([hung, caught])) as IoResult[];
  });
  assert.equal(hung.ok, false, "no retry left");
  assert.ok(caught.ok, "reset, then issued again");
  assert.ok(caught.latency > 100e6, "it waited for the reset");
  const s = rig.driver.stats;
  assert.deepEqual([s.timeouts, s.resets, s.retries, s.timedOut], [1, 1, 1, 1]);
});

Deno.test("a FUA write reaches the disk as FUA, queued or not; a disk without FUA gets the write, then a flush", () => {
  for (const [hbaNcq, fua] of [[true, true], [false, true], [true, false]] as const) {
    const rig = guestRig({
      disks: (sim) => [new MemDisk(sim, { sectors: 1 << 16, latency: 100_000, fua })],
      hbaNcq,
    });
    const r = runGuest(rig, function* () {
      const w = (yield rig.driver.write({ lba: 64, count: 8, version: 3, fua: true })) as IoResult;
      yield rig.driver.write({ lba: 72, count: 8, version: 4 });
      return w;
    });
    assert.equal(rig.driver.info!.fua, fua);
    assert.ok(r.ok);
    // The flush is issued once the write completed: the request takes both latencies.
    assert.ok(r.latency >= (fua ? 100_000 : 200_000), `latency ${r.latency}`);
    const log = rig.disks[0].log.map((c) =>
      c.op === "write" ? `write ${c.lba}${c.fua ? " fua" : ""}` : c.op
    );
    assert.deepEqual(log, fua ? ["write 64 fua", "write 72"] : ["write 64", "flush", "write 72"]);
    assert.equal(rig.disks[0].content.get(64), 3);
  }
});

Deno.test("a FUA write that fails on a disk without FUA is not followed by a flush", () => {
  const rig = guestRig({
    disks: (sim) => [
      new MemDisk(sim, {
        sectors: 1 << 16,
        latency: 100_000,
        fua: false,
        fail: (c) => (c.op === "write" ? "unc" : undefined),
      }),
    ],
  });
  const r = runGuest(rig, function* () {
    return (yield rig.driver.write({ lba: 64, count: 8, version: 3, fua: true })) as IoResult;
  });
  assert.equal(r.ok, false);
  assert.deepEqual(rig.disks[0].log.map((c) => c.op), ["write"]);
});
