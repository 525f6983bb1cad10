import assert from "node:assert/strict";
import fc from "fast-check";
import { AhciRegs as R, encodeH2dFis } from "../../lib/hw/ahci/mod.ts";
import { ahciRig } from "../../lib/hw/ahci/_test_utils.ts";

const { Px, portReg } = R;
const SECTORS = 4096;
const OPCODES = [0xc8, 0xca, 0x25, 0x35, 0x60, 0x61, 0xec, 0xe7, 0xea];

/** Draws from `usual` four times in five, else from `odd`. */
function mostly<T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: usual, weight: 4 }, { arbitrary: odd, weight: 1 });
}

/** One guest command with every field drawn at random, valid or not. */
const arbCommand = fc.record({
  type: mostly(fc.constant(0x27), fc.integer({ min: 0, max: 255 })),
  c: mostly(fc.constant(true), fc.boolean()),
  command: mostly(fc.constantFrom(...OPCODES), fc.integer({ min: 0, max: 255 })),
  features: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffff })),
  lba: fc.oneof(
    fc.integer({ min: 0, max: SECTORS + 64 }),
    fc.integer({ min: 0, max: 2 ** 48 - 1 }),
  ),
  device: fc.integer({ min: 0, max: 255 }),
  count: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffff })),
  cfl: mostly(fc.constant(5), fc.integer({ min: 0, max: 31 })),
  write: fc.boolean(),
  prdt: fc.array(
    fc.record({
      // Mostly inside the 64 MiB rig memory, sometimes past its end (a host bus error).
      dba: fc.oneof(
        fc.integer({ min: 0x40_0000, max: 0x300_0000 }).map((a) => a & ~1),
        fc.integer({ min: 0x3ff_f000, max: 0x500_0000 }).map((a) => a & ~1),
      ),
      bytes: mostly(
        fc.integer({ min: 1, max: 64 }).map((n) => n * 512),
        fc.integer({ min: 1, max: 1 << 16 }),
      ),
      interrupt: fc.boolean(),
    }),
    { maxLength: 6 },
  ),
  prdtlDelta: fc.oneof(fc.constant(0), fc.integer({ min: -2, max: 2 })),
  sact: fc.boolean(),
});

Deno.test("malformed guest commands end in success, or in a task-file error that halts the port until ST is cleared", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 31 }), { minLength: 1, maxLength: 8 }),
      fc.array(arbCommand, { minLength: 8, maxLength: 8 }),
      fc.boolean(),
      (slots, cmds, ncqTagMatches) => {
        const rig = ahciRig({
          sectors: SECTORS,
          latency: 20_000,
          queueDepth: 4,
          costs: { commandOverhead: 500, fisPost: 100 },
        });
        rig.startPort(0, { ie: 0xffff_ffff, ghcIe: true });
        let sact = 0;
        let ci = 0;
        slots.forEach((slot, i) => {
          const c = cmds[i];
          // NCQ tags usually equal the slot, as AHCI requires; sometimes not.
          const count = (c.command === 0x60 || c.command === 0x61) && ncqTagMatches
            ? (slot << 3) | (c.count & 7)
            : c.count;
          rig.issue(0, {
            slot,
            go: false,
            fis: encodeH2dFis({ ...c, count }),
            cfl: c.cfl,
            write: c.write,
            prdt: c.prdt,
            prdtl: Math.max(0, c.prdt.length + c.prdtlDelta),
          });
          if (c.sact) sact |= 1 << slot;
          ci |= 1 << slot;
        });
        // Disk commands submitted when the (first) error was posted.
        let atError = -1;
        rig.hba.onComplete = (c) => {
          if (!c.ok && atError < 0) atError = rig.disks[0].log.length;
        };
        rig.hba.write(portReg(0, Px.SACT), 4, sact >>> 0);
        rig.hba.write(portReg(0, Px.CI), 4, ci >>> 0);
        rig.sim.run();
        const k = rig.hba.counters();
        const completed = Object.values(k.commands).reduce((a, b) => a + b, 0);
        const left = (rig.hba.read(portReg(0, Px.CI), 4) | rig.hba.read(portReg(0, Px.SACT), 4)) >>>
          0;
        assert.ok(k.malformed <= k.errors);
        assert.equal(rig.hba.read(portReg(0, Px.TFD), 4) & R.ATA_STS_BSY, 0);
        assert.ok(rig.interrupts.length >= 1);
        if (k.errors === 0) {
          assert.equal(left, 0, "no PxCI/PxSACT bit hangs");
          assert.equal(completed, slots.length, "every issued slot completed once");
          return;
        }
        // The first error halts the port: nothing after it completes or reaches the disk.
        assert.equal(k.errors, 1);
        assert.equal(rig.hba.port(0).state, "halted");
        assert.ok(rig.hba.read(portReg(0, Px.IS), 4) & R.PxIS_TFES);
        assert.ok(left !== 0, "the failing slot is still issued");
        assert.ok(completed < slots.length + 1 && completed >= 1);
        assert.equal(
          rig.disks[0].log.length,
          atError,
          "nothing issued to the disk after the error",
        );
        rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE); // software clears ST (§6.2.2)
        rig.sim.run();
        assert.equal(rig.hba.read(portReg(0, Px.CI), 4), 0, "no PxCI bit hangs after the stop");
        assert.equal(rig.hba.read(portReg(0, Px.SACT), 4), 0, "nor a PxSACT bit");
        assert.equal(rig.hba.port(0).state, "idle");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("each malformed shape ends in the ATA error the spec gives", () => {
  const cases: [string, Parameters<ReturnType<typeof ahciRig>["issue"]>[1], number][] = [
    [
      "fis-type",
      { slot: 0, fis: encodeH2dFis({ type: 0x34, command: 0x25, count: 1 }) },
      R.ATA_ERR_ABRT,
    ],
    [
      "not-command",
      { slot: 0, fis: encodeH2dFis({ c: false, command: 0x25, count: 1 }) },
      R.ATA_ERR_ABRT,
    ],
    ["cfl", { slot: 0, cfl: 1, fis: encodeH2dFis({ command: 0xe7 }) }, R.ATA_ERR_ABRT],
    ["cfl", { slot: 0, cfl: 4, fis: encodeH2dFis({ command: 0xe7 }) }, R.ATA_ERR_ABRT],
    ["cfl", { slot: 0, cfl: 17, fis: encodeH2dFis({ command: 0xe7 }) }, R.ATA_ERR_ABRT],
    ["opcode", { slot: 0, fis: encodeH2dFis({ command: 0x20 }) }, R.ATA_ERR_ABRT],
    ["no-prdt", { slot: 0, fis: encodeH2dFis({ command: 0x25, count: 1 }) }, R.ATA_ERR_ABRT],
    ["prd-short", {
      slot: 0,
      fis: encodeH2dFis({ command: 0x25, count: 2 }),
      prdt: [{ dba: 0x40_0000, bytes: 512, interrupt: false }],
    }, R.ATA_ERR_ABRT],
    ["lba-range", {
      slot: 0,
      fis: encodeH2dFis({ command: 0x25, lba: SECTORS, count: 1 }),
      prdt: [{ dba: 0x40_0000, bytes: 512, interrupt: false }],
    }, R.ATA_ERR_IDNF],
    ["ncq-tag", {
      slot: 2,
      fis: encodeH2dFis({ command: 0x60, features: 1, count: 3 << 3 }),
      prdt: [{ dba: 0x40_0000, bytes: 512, interrupt: false }],
    }, R.ATA_ERR_ABRT],
  ];
  for (const [reason, cmd, err] of cases) {
    const rig = ahciRig({ sectors: SECTORS });
    rig.startPort(0);
    rig.issue(0, cmd);
    rig.sim.run();
    const tfd = rig.hba.read(portReg(0, Px.TFD), 4);
    assert.equal(tfd & R.ATA_STS_ERR, R.ATA_STS_ERR, reason);
    assert.equal(tfd >>> 8, err, reason);
    assert.equal(rig.hba.read(portReg(0, Px.CI), 4), 1 << cmd.slot, reason);
    assert.ok(rig.hba.read(portReg(0, Px.IS), 4) & R.PxIS_TFES, reason);
    assert.equal(rig.hba.port(0).state, "halted", reason);
    assert.deepEqual(rig.hba.counters().malformedBy, { [reason]: 1 });
  }
});

Deno.test("a PRD pointing past the end of memory is a host bus error, not an exception", () => {
  const rig = ahciRig();
  rig.startPort(0);
  rig.issue(0, {
    slot: 0,
    fis: encodeH2dFis({ command: 0x25, count: 8 }),
    prdt: [{ dba: (64 << 20) - 1024, bytes: 4096, interrupt: false }],
  });
  rig.sim.run();
  const is = rig.hba.read(portReg(0, Px.IS), 4);
  assert.ok(is & R.PxIS_HBFS);
  assert.ok(is & R.PxIS_TFES);
  assert.equal(rig.hba.read(portReg(0, Px.CI), 4), 1, "the port halts (ERR:Fatal, §5.3.16)");
  assert.equal(rig.hba.port(0).state, "halted");
  assert.deepEqual(rig.hba.counters().malformedBy, { "host-bus": 1 });
});

Deno.test("stopping the port mid-flight drops outstanding slots without an exception", () => {
  fc.assert(
    fc.property(
      fc.array(arbCommand, { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 60_000 }),
      (cmds, stopAt) => {
        const rig = ahciRig({ sectors: SECTORS, latency: 20_000, costs: { commandOverhead: 500 } });
        rig.startPort(0, { ie: 0xffff_ffff, ghcIe: true });
        let ci = 0;
        cmds.forEach((c, slot) => {
          rig.issue(0, { slot, go: false, fis: encodeH2dFis(c), cfl: c.cfl, prdt: c.prdt });
          ci |= 1 << slot;
        });
        rig.hba.write(portReg(0, Px.SACT), 4, ci);
        rig.hba.write(portReg(0, Px.CI), 4, ci);
        rig.sim.run(stopAt);
        rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE);
        rig.sim.run();
        assert.equal(rig.hba.read(portReg(0, Px.CI), 4), 0);
        assert.equal(rig.hba.read(portReg(0, Px.SACT), 4), 0);
        assert.equal(rig.hba.port(0).state, "idle");
        const k = rig.hba.counters();
        assert.ok(Object.values(k.commands).reduce((a, b) => a + b, 0) <= cmds.length);
      },
    ),
    { numRuns: 100 },
  );
});
