/**
 * The guest driver's error handling after Linux libata: a READ LOG EXT 10h
 * that times out freezes the port, which is hard-reset (libata-core.c
 * ata_exec_internal, libata-eh.c ata_eh_link_autopsy); repeated errors turn
 * NCQ off (libata-eh.c ata_eh_speed_down).
 */
import assert from "node:assert/strict";
import { AhciRegs as R, decodeCommand } from "../../lib/hw/ahci/mod.ts";
import type { IoResult } from "../../lib/guest/mod.ts";
import { ABAR, guestRig, HangingDisk, runGuest } from "./_rig.ts";

const { Px, portReg } = R;
const SECOND = 1e9;
const EH = { commandTimeout: 30 * SECOND, commandRetries: 5, linkDebounce: 100e6 };

Deno.test("AhciDriver: a READ LOG EXT 10h that never completes freezes the port; the driver counts the failed log read, hard-resets the link and issues every command again", () => {
  const rig = guestRig({ driver: EH, latency: 50_000 });
  let failures = 1;
  rig.disks[0].fail = (c) =>
    c.op === "read" && c.lba === 64 && failures > 0 ? (failures--, "abrt") : undefined;
  // The first READ LOG EXT hangs: its PxCI write never reaches the HBA, and PxCI shows it
  // outstanding until the engine is stopped.
  let dropped = 0;
  let hung = false;
  const sctl: number[] = [];
  const ci = portReg(0, Px.CI);
  rig.bus.hook({ base: ABAR, size: 0x1100, name: "hang log read" }, (a) => {
    if (a.write && a.offset === portReg(0, Px.SCTL)) sctl.push(a.value & 0xf);
    if (a.write && a.offset === portReg(0, Px.CMD) && !(a.value & R.PxCMD_ST)) hung = false;
    if (hung && !a.write && a.offset === ci) {
      return { action: "done", value: rig.hba.read(ci, 4) | 1 };
    }
    if (!a.write || a.offset !== ci || a.value !== 1 || dropped > 0) {
      return { action: "passthrough" };
    }
    const clb = rig.hba.read(portReg(0, Px.CLB), 4);
    if (decodeCommand(rig.memory, { clb, slot: 0 }).command.kind !== "log") {
      return { action: "passthrough" };
    }
    dropped++;
    hung = true;
    return { action: "done" };
  });
  const rs = runGuest(rig, function* () {
    return (yield rig.sim.allOf(
      [0, 32, 64, 96].map((lba) => rig.driver.read({ lba, count: 8 })),
    )) as IoResult[];
  }); // before the fix: "timed out waiting for READ LOG EXT (log 10h)" after 500 ms
  assert.equal(dropped, 1);
  assert.ok(rs.every((r) => r.ok), "every read retried after the reset");
  const s = rig.driver.stats;
  assert.deepEqual([s.taskFileErrors, s.ncqLogFailures, s.resets, s.errors], [1, 1, 1, 0]);
  assert.deepEqual(sctl, [1, 0], "COMRESET");
  // 15 s for the log read (libata's READ LOG EXT timeout), then the reset and the retries.
  assert.ok(rs[2].latency > 15 * SECOND && rs[2].latency < 15.2 * SECOND, `${rs[2].latency}`);
  assert.deepEqual(rig.hba.counters().illegal, {});
});

/** Boots the driver, reads once (the transfer is verified), then the disk hangs `hangs` times. */
function timeouts(hangs: number) {
  const rig = guestRig({ disks: (sim) => [new HangingDisk(sim, 0)], driver: EH, trace: true });
  const disk = rig.disks[0] as HangingDisk;
  const rs = runGuest(rig, function* () {
    const first = (yield rig.driver.read({ lba: 0, count: 8 })) as IoResult;
    disk.hangs = hangs;
    const hung = (yield rig.driver.read({ lba: 8, count: 8 })) as IoResult;
    const later = (yield rig.sim.allOf(
      [0, 32, 64].map((lba) => rig.driver.read({ lba, count: 8 })),
    )) as IoResult[];
    return [first, hung, ...later];
  });
  assert.ok(rs.every((r) => r.ok));
  return rig;
}

Deno.test("AhciDriver: after its 4th timeout in 10 minutes libata's speed-down turns NCQ off; the retry and later commands go non-queued", () => {
  const rig = timeouts(4);
  const s = rig.driver.stats;
  assert.deepEqual([s.timeouts, s.resets, s.ncqTurnedOff], [4, 4, 1]);
  assert.deepEqual(
    [rig.driver.info!.ncq, rig.driver.info!.queueDepth],
    [false, 1],
    "NCQ disabled due to excessive errors",
  );
  const writes = rig.accesses.filter((a) => a.write);
  const lastReset = writes.findLastIndex((a) => a.offset === portReg(0, Px.SCTL));
  const sactAfter = writes.slice(lastReset).filter((a) => a.offset === portReg(0, Px.SACT));
  assert.equal(sactAfter.length, 0, "no queued command after the 4th reset");
  assert.ok(writes.slice(0, lastReset).some((a) => a.offset === portReg(0, Px.SACT)));
});

Deno.test("AhciDriver: three timeouts in 10 minutes leave NCQ on (libata turns it off after more than 3)", () => {
  const rig = timeouts(3);
  const s = rig.driver.stats;
  assert.deepEqual([s.timeouts, s.ncqTurnedOff], [3, 0]);
  assert.equal(rig.driver.info!.ncq, true);
});

Deno.test("AhciDriver: before any transfer was verified, a 2nd timeout already turns NCQ off (libata's dubious-transfer rule)", () => {
  const rig = guestRig({ disks: (sim) => [new HangingDisk(sim, 2)], driver: EH });
  const r = runGuest(rig, function* () {
    return (yield rig.driver.read({ lba: 8, count: 8 })) as IoResult;
  });
  assert.ok(r.ok);
  assert.deepEqual([rig.driver.stats.timeouts, rig.driver.stats.ncqTurnedOff], [2, 1]);
  assert.equal(rig.driver.info!.ncq, false);
});

/** Reads once (the transfer is verified), then a queued read fails `errors` times with `error`. */
function deviceErrors(error: "idnf" | "abrt", errors: number) {
  const rig = guestRig({ driver: EH });
  let left = errors;
  const rs = runGuest(rig, function* () {
    const first = (yield rig.driver.read({ lba: 0, count: 8 })) as IoResult;
    rig.disks[0].fail = (c) =>
      c.op === "read" && c.lba === 64 && left > 0 ? (left--, error) : undefined;
    return [first, (yield rig.driver.read({ lba: 64, count: 8 })) as IoResult];
  });
  assert.ok(rs.every((r) => r.ok), "retried until it succeeded");
  return rig;
}

Deno.test("AhciDriver: speed-down counts a device error that is neither a media error nor an invalid request (IDNF, AC_ERR_INVALID, does not count)", () => {
  // libata-eh.c ata_eh_categorize_error: UNK_DEV only when the error mask's DEV|MEDIA|INVALID
  // part is DEV alone; ata_eh_analyze_tf turns IDNF into AC_ERR_INVALID.
  const abrt = deviceErrors("abrt", 4);
  assert.deepEqual([abrt.driver.stats.taskFileErrors, abrt.driver.stats.ncqTurnedOff], [4, 1]);
  const idnf = deviceErrors("idnf", 4);
  assert.deepEqual([idnf.driver.stats.taskFileErrors, idnf.driver.stats.ncqTurnedOff], [4, 0]);
  assert.equal(idnf.driver.info!.ncq, true);
});
