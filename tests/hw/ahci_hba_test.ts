import assert from "node:assert/strict";
import { Simulation } from "../../lib/sim/mod.ts";
import { InterruptController } from "../../lib/hw/interrupts.ts";
import { PhysicalMemory } from "../../lib/hw/memory.ts";
import {
  AhciHba,
  AhciRegs as R,
  decodeD2hFis,
  decodeNcqErrorLog,
  decodeSdbFis,
  encodeAtaCommand,
  encodeH2dFis,
  readCommandHeader,
} from "../../lib/hw/ahci/mod.ts";
import { ahciRig, testCosts } from "../../lib/hw/ahci/_test_utils.ts";

const { Px, Ghc, portReg } = R;
const fisOf = (c: Parameters<typeof encodeAtaCommand>[0]) => encodeH2dFis(encodeAtaCommand(c));
const reg = (rig: ReturnType<typeof ahciRig>, r: R.Px, p = 0) => rig.hba.read(portReg(p, r), 4);

Deno.test("AhciHba reports CAP (NP, NCS=31, SNCQ, S64A), PI, VS and an attached disk's PxSIG/PxSSTS", () => {
  const rig = ahciRig({ ports: 2 });
  const cap = rig.hba.read(Ghc.CAP, 4);
  assert.equal(cap & R.CAP_NP_MASK, 1);
  assert.equal((cap & R.CAP_NCS_MASK) >>> R.CAP_NCS_SHIFT, 31);
  assert.ok(cap & R.CAP_SNCQ);
  assert.ok(cap & R.CAP_S64A);
  assert.equal(rig.hba.read(Ghc.PI, 4), 0b11);
  assert.equal(rig.hba.read(Ghc.VS, 4), 0x0001_0301);
  assert.equal(reg(rig, Px.SIG, 1), 0x101);
  assert.equal(reg(rig, Px.SSTS, 1), 0x133);
  const empty = new AhciHba({
    sim: rig.sim,
    memory: rig.memory,
    irq: rig.irq,
    vector: 41,
    ports: [undefined],
    costs: testCosts(),
    ncq: false,
  });
  assert.equal(empty.read(portReg(0, Px.SSTS), 4), 0);
  assert.equal(empty.read(Ghc.CAP, 4) & R.CAP_SNCQ, 0);
});

Deno.test("AhciHba rejects a negative cost naming the field and value", () => {
  const sim = new Simulation();
  assert.throws(
    () =>
      new AhciHba({
        sim,
        memory: new PhysicalMemory({ size: 1 << 20 }),
        irq: new InterruptController(sim, { latency: 0 }),
        vector: 1,
        ports: [undefined],
        costs: testCosts({ fisPost: -1 }),
      }),
    { name: "RangeError", message: /'costs.fisPost' must be an integer >= 0: current value is -1/ },
  );
});

Deno.test("writing PxCI runs a read: data DMAed into PRD buffers, PRDBC set, D2H posted, PxIS.DHRS, PxCI cleared", () => {
  const rig = ahciRig({ latency: 50_000 });
  rig.disks[0].content.set(100, [11, 12, 13, 14, 15, 16]);
  rig.startPort(0);
  rig.issue(0, {
    slot: 3,
    fis: fisOf({ kind: "read", lba: 100, count: 6 }),
    prdt: [
      { dba: 0x40_0000, bytes: 2048, interrupt: false },
      { dba: 0x50_0000, bytes: 1024, interrupt: false },
    ],
  });
  assert.equal(reg(rig, Px.CI), 1 << 3);
  rig.sim.run(1);
  assert.ok(reg(rig, Px.TFD) & R.ATA_STS_BSY, "BSY while a non-queued command runs");
  rig.sim.run();
  assert.equal(reg(rig, Px.CI), 0);
  assert.equal(reg(rig, Px.IS), R.PxIS_DHRS);
  assert.equal(reg(rig, Px.TFD), 0x50);
  assert.deepEqual([...rig.memory.readVersions(0x40_0000, 4)], [11, 12, 13, 14]);
  assert.deepEqual([...rig.memory.readVersions(0x50_0000, 2)], [15, 16]);
  assert.equal(readCommandHeader(rig.memory, { clb: rig.clb(0), slot: 3 }).prdbc, 3072);
  const d2h = decodeD2hFis(rig.memory.readBytes(rig.fb(0) + R.RFIS_RFIS, 20));
  assert.deepEqual(d2h, { type: 0x34, interrupt: true, status: 0x50, error: 0 });
  assert.equal(rig.interrupts.length, 0, "no interrupt: PxIE and GHC.IE are clear");
  const c = rig.hba.counters();
  assert.equal(c.commands.read, 1);
  assert.equal(c.bytesRead, 3072);
});

Deno.test("a write gathers versions from the PRD buffers into the disk", () => {
  const rig = ahciRig();
  rig.startPort(0);
  rig.memory.writeVersions(0x40_0000, [7, 8]);
  rig.memory.writeVersions(0x60_0000, [9]);
  rig.issue(0, {
    slot: 0,
    write: true,
    fis: fisOf({ kind: "write", lba: 10, count: 3, lba48: false }),
    prdt: [
      { dba: 0x40_0000, bytes: 1024, interrupt: false },
      { dba: 0x60_0000, bytes: 512, interrupt: false },
    ],
  });
  rig.sim.run();
  assert.deepEqual([...rig.disks[0].content.read(10, 3)], [7, 8, 9]);
  assert.equal(rig.hba.counters().bytesWritten, 1536);
});

/** Interrupt times of one read of `sectors` into one PRD entry, with round costs. */
function timedRead(sectors: number): number[] {
  const rig = ahciRig({
    latency: 100_000,
    costs: { commandOverhead: 2_000, prdEntry: 100, fisPost: 300, dmaBandwidth: 1e9 },
  });
  rig.startPort(0, { ie: R.PxIS_DHRS, ghcIe: true });
  rig.issue(0, {
    slot: 0,
    fis: fisOf({ kind: "read", lba: 0, count: sectors }),
    prdt: [{ dba: 0x40_0000, bytes: sectors * 512, interrupt: false }],
  });
  rig.sim.run();
  return rig.interrupts;
}

Deno.test("a command completes after commandOverhead + PRD walk + disk latency + DMA + fisPost", () => {
  // 2000 + 1*100 + 100000 + 4096 B at 1 GB/s (4096 ns) + 300
  assert.deepEqual(timedRead(8), [2_000 + 100 + 100_000 + 4_096 + 300]);
});

Deno.test("a large transfer exposes one Data FIS of DMA: the rest overlaps the link (SATA 3.0 §10.5.11)", () => {
  // 64 KiB at 1 GB/s would be 65,536 ns; only the last 8 KiB FIS's 8,192 ns adds.
  assert.deepEqual(timedRead(128), [2_000 + 100 + 100_000 + 8_192 + 300]);
});

Deno.test("an interrupt is raised only when PxIE and GHC.IE both allow it", () => {
  for (
    const [ie, ghcIe, expected] of [[0, false, 0], [R.PxIS_DHRS, false, 0], [0, true, 0], [
      R.PxIS_DHRS,
      true,
      1,
    ]] as const
  ) {
    const rig = ahciRig();
    rig.startPort(0, { ie, ghcIe });
    rig.issue(0, { slot: 0, fis: fisOf({ kind: "flush" }) });
    rig.sim.run();
    assert.equal(rig.interrupts.length, expected, `PxIE=${ie} GHC.IE=${ghcIe}`);
    assert.equal(reg(rig, Px.IS), R.PxIS_DHRS, "PxIS is set either way");
    assert.equal(rig.hba.read(Ghc.IS, 4), ie ? 1 : 0);
  }
});

Deno.test("setting GHC.IE with a pending enabled PxIS raises the interrupt then", () => {
  const rig = ahciRig();
  rig.startPort(0, { ie: R.PxIS_DHRS });
  rig.issue(0, { slot: 0, fis: fisOf({ kind: "flush" }) });
  rig.sim.run();
  assert.equal(rig.interrupts.length, 0);
  rig.hba.write(Ghc.GHC, 4, (R.GHC_AE | R.GHC_IE) >>> 0);
  rig.sim.run();
  assert.equal(rig.interrupts.length, 1);
});

Deno.test("PxIS and IS are write-1-to-clear; IS re-latches and re-raises while the port is still pending", () => {
  const rig = ahciRig();
  rig.startPort(0, { ie: R.PxIS_DHRS | R.PxIS_TFES, ghcIe: true });
  rig.issue(0, { slot: 0, fis: fisOf({ kind: "flush" }) });
  rig.sim.run();
  assert.equal(rig.interrupts.length, 1);
  rig.hba.write(portReg(0, Px.IS), 4, R.PxIS_TFES); // writing 1 to a clear bit: no effect
  assert.equal(reg(rig, Px.IS), R.PxIS_DHRS);
  rig.hba.write(Ghc.IS, 4, 1); // port still pending: IS re-latches, a new message
  rig.sim.run();
  assert.equal(rig.hba.read(Ghc.IS, 4), 1);
  assert.equal(rig.interrupts.length, 2);
  rig.hba.write(portReg(0, Px.IS), 4, 0xffff_ffff);
  assert.equal(reg(rig, Px.IS), 0);
  assert.equal(rig.hba.read(Ghc.IS, 4), 1, "IS stays until software clears it");
  rig.hba.write(Ghc.IS, 4, 1);
  rig.sim.run();
  assert.equal(rig.hba.read(Ghc.IS, 4), 0);
  assert.equal(rig.interrupts.length, 2);
});

Deno.test("NCQ commands run concurrently up to the disk's queue depth and complete with SDB FISes clearing PxSACT", () => {
  const rig = ahciRig({ latency: 100_000, queueDepth: 4 });
  rig.startPort(0, { ie: R.PxIS_SDBS, ghcIe: true });
  let mask = 0;
  for (let s = 0; s < 8; s++) {
    rig.issue(0, {
      slot: s,
      go: false,
      fis: fisOf({ kind: "read", lba: s * 8, count: 8, ncq: true, tag: s }),
      prdt: [{ dba: 0x40_0000 + s * 4096, bytes: 4096, interrupt: false }],
    });
    mask |= 1 << s;
  }
  rig.hba.write(portReg(0, Px.SACT), 4, mask);
  rig.hba.write(portReg(0, Px.CI), 4, mask);
  assert.equal(reg(rig, Px.SACT), 0xff);
  rig.sim.run(150_000);
  assert.equal(reg(rig, Px.SACT), 0xf0, "first four done after one latency");
  assert.equal(reg(rig, Px.CI), 0xf0);
  assert.equal(reg(rig, Px.TFD) & R.ATA_STS_BSY, 0, "NCQ leaves BSY clear");
  rig.sim.run();
  assert.equal(reg(rig, Px.SACT), 0);
  assert.equal(reg(rig, Px.CI), 0);
  assert.equal(rig.disks[0].maxOutstanding, 4);
  const sdb = decodeSdbFis(rig.memory.readBytes(rig.fb(0) + R.RFIS_SDBFIS, 8));
  assert.equal(sdb.type, 0xa1);
  assert.equal(sdb.sactive, 1 << 7, "last SDB FIS completes tag 7");
  assert.equal(reg(rig, Px.IS), R.PxIS_SDBS);
  assert.equal(rig.hba.counters().ncq, 8);
});

Deno.test("non-NCQ commands serialize: one at a time on the device", () => {
  const rig = ahciRig({ latency: 100_000 });
  rig.startPort(0);
  for (let s = 0; s < 3; s++) {
    rig.issue(0, {
      slot: s,
      go: false,
      fis: fisOf({ kind: "read", lba: s, count: 1 }),
      prdt: [{ dba: 0x40_0000 + s * 4096, bytes: 512, interrupt: false }],
    });
  }
  rig.hba.write(portReg(0, Px.CI), 4, 0b111);
  rig.sim.run(250_000);
  assert.equal(reg(rig, Px.CI), 0b100);
  rig.sim.run();
  assert.equal(rig.disks[0].maxOutstanding, 1);
  assert.equal(rig.sim.now, 3 * 100_000 + 3 * 512);
});

Deno.test("FR follows FRE and CR follows ST after their delays; clearing ST clears PxCI and CR drops later", () => {
  const rig = ahciRig({
    latency: 1_000_000,
    costs: { engineStart: 10, engineStop: 5_000, fisEngine: 20 },
  });
  const p = rig.hba.port(0);
  const cmd = () => reg(rig, Px.CMD);
  rig.hba.write(portReg(0, Px.CLB), 4, rig.clb(0));
  rig.hba.write(portReg(0, Px.FB), 4, rig.fb(0));
  rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE);
  assert.equal(cmd() & (R.PxCMD_FRE | R.PxCMD_FR), R.PxCMD_FRE);
  rig.sim.run(21);
  assert.equal(p.fisState, "on");
  assert.equal(cmd() & R.PxCMD_FR, R.PxCMD_FR);
  rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE | R.PxCMD_ST);
  assert.equal(p.state, "starting");
  assert.equal(cmd() & (R.PxCMD_ST | R.PxCMD_CR), R.PxCMD_ST);
  rig.sim.run(32);
  assert.equal(p.state, "running");
  rig.issue(0, {
    slot: 1,
    fis: fisOf({ kind: "read", lba: 0, count: 1 }),
    prdt: [{ dba: 0x40_0000, bytes: 512, interrupt: false }],
  });
  rig.sim.run(100);
  rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE);
  assert.equal(p.state, "stopping");
  assert.equal(cmd() & (R.PxCMD_ST | R.PxCMD_CR), R.PxCMD_CR);
  assert.equal(reg(rig, Px.CI), 0, "ST 1->0 clears PxCI (§3.3.14)");
  rig.sim.run(5_200);
  assert.equal(p.state, "idle");
  assert.equal(cmd() & R.PxCMD_CR, 0);
  rig.hba.write(portReg(0, Px.CMD), 4, 0);
  rig.sim.run();
  assert.equal(p.fisState, "off");
  assert.equal(rig.hba.counters().commands.read, 0, "the aborted command never completes");
  assert.deepEqual(rig.hba.counters().illegal, {});
});

Deno.test("register writes in an order the spec forbids are ignored and counted", () => {
  const rig = ahciRig({ costs: { engineStop: 1_000 } });
  const p = rig.hba.port(0);
  const w = (r: R.Px, v: number) => rig.hba.write(portReg(0, r), 4, v);
  w(Px.CMD, R.PxCMD_FRE); // FRE before PxFB was programmed
  assert.equal(p.fisState, "off");
  w(Px.FB, rig.fb(0));
  w(Px.CMD, R.PxCMD_ST); // ST without FRE
  assert.equal(p.state, "idle");
  w(Px.CMD, R.PxCMD_FRE | R.PxCMD_ST); // FRE now, but PxCLB never set
  assert.equal(p.state, "idle");
  assert.equal(p.fisState, "on");
  w(Px.CLB, rig.clb(0));
  w(Px.CMD, R.PxCMD_FRE | R.PxCMD_ST);
  assert.equal(p.state, "running");
  w(Px.CLB, 0x20_0000); // CLB change while running
  assert.equal(p.clb, rig.clb(0));
  w(Px.FB, 0x30_0000); // FB change while FR
  assert.equal(p.fb, rig.fb(0));
  w(Px.CMD, R.PxCMD_ST); // clearing FRE while ST is set
  assert.equal(p.fisState, "on");
  w(Px.CMD, R.PxCMD_FRE); // stop
  w(Px.CMD, R.PxCMD_FRE | R.PxCMD_ST); // ST again while CR is still set
  assert.equal(p.state, "stopping");
  w(Px.CI, 1); // issue while stopped
  assert.equal(reg(rig, Px.CI), 0);
  rig.sim.run();
  assert.equal(p.state, "idle");
  assert.deepEqual(rig.hba.counters().illegal, {
    "fre-without-fb": 1,
    "st-without-fre": 1,
    "st-without-clb": 1,
    "clb-while-running": 1,
    "fb-while-fis-running": 1,
    "fre-clear-while-st": 1,
    "st-while-cr": 1,
    "ci-while-stopped": 1,
  });
});

Deno.test("IDENTIFY returns capacity in words 100-103, 60-61 and the queue depth in word 75", () => {
  const rig = ahciRig({ sectors: 0x1_2345_6789, queueDepth: 31 });
  rig.startPort(0);
  rig.issue(0, {
    slot: 0,
    fis: fisOf({ kind: "identify" }),
    prdt: [{ dba: 0x40_0000, bytes: 512, interrupt: false }],
  });
  rig.sim.run();
  const b = rig.memory.readBytes(0x40_0000, 512);
  const w = (i: number) => b[2 * i] | (b[2 * i + 1] << 8);
  assert.equal(w(100) + w(101) * 0x1_0000 + w(102) * 2 ** 32, 0x1_2345_6789);
  assert.equal(w(60) | (w(61) << 16), 0x0fff_ffff);
  assert.equal(w(75), 30);
  assert.ok(w(76) & (1 << 8));
  assert.ok(w(83) & (1 << 10));
  assert.equal(readCommandHeader(rig.memory, { clb: rig.clb(0), slot: 0 }).prdbc, 512);
});

Deno.test("a device error ends in a task-file error: PxTFD.ERR, IDNF, PxIS.TFES, CCS = failing slot, its PxCI bit kept", () => {
  const rig = ahciRig({ sectors: 1000 });
  rig.startPort(0, { ie: R.PxIS_TFES, ghcIe: true });
  rig.issue(0, {
    slot: 6,
    fis: fisOf({ kind: "read", lba: 999, count: 2 }),
    prdt: [{ dba: 0x40_0000, bytes: 1024, interrupt: false }],
  });
  rig.sim.run();
  const tfd = reg(rig, Px.TFD);
  assert.equal(tfd & 0xff, 0x51);
  assert.equal(tfd >>> 8, R.ATA_ERR_IDNF);
  assert.equal(reg(rig, Px.IS), R.PxIS_TFES, "TFES, not DHRS (§5.3.8.1 -> ERR:FatalTaskfile)");
  assert.equal((reg(rig, Px.CMD) >>> R.PxCMD_CCS_SHIFT) & 31, 6);
  assert.equal(reg(rig, Px.CI), 1 << 6, "the failing slot stays issued (§6.2.2.1)");
  assert.equal(rig.hba.port(0).state, "halted");
  assert.equal(rig.interrupts.length, 1);
  assert.equal(rig.hba.counters().errors, 1);
});

/** Issues `slots` (one command each, built by `cmd`) with one PxCI write (and PxSACT for NCQ). */
function issueAll(
  rig: ReturnType<typeof ahciRig>,
  slots: number[],
  cmd: (s: number) => Parameters<typeof encodeAtaCommand>[0],
): void {
  let mask = 0, sact = 0;
  for (const s of slots) {
    const c = cmd(s);
    rig.issue(0, {
      slot: s,
      go: false,
      fis: fisOf(c),
      prdt: [{ dba: 0x40_0000 + s * 0x1_0000, bytes: (c.count ?? 1) * 512, interrupt: false }],
    });
    mask |= 1 << s;
    if (c.ncq) sact |= 1 << s;
  }
  if (sact) rig.hba.write(portReg(0, Px.SACT), 4, sact >>> 0);
  rig.hba.write(portReg(0, Px.CI), 4, mask >>> 0);
}

/** Software's part of §6.2.2: clear ST, wait for CR to clear, clear PxSERR and PxIS, set ST. */
function restart(rig: ReturnType<typeof ahciRig>): void {
  rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE);
  rig.sim.run(rig.sim.now + rig.hba.costs.engineStop + 1);
  assert.equal(reg(rig, Px.CMD) & R.PxCMD_CR, 0);
  rig.hba.write(portReg(0, Px.SERR), 4, 0xffff_ffff);
  rig.hba.write(portReg(0, Px.IS), 4, 0xffff_ffff);
  rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE | R.PxCMD_ST);
}

/** Issues READ LOG EXT of log 10h in slot 5, waits for it and returns the page. */
function readNcqLog(rig: ReturnType<typeof ahciRig>): ReturnType<typeof decodeNcqErrorLog> {
  rig.issue(0, {
    slot: 5,
    fis: fisOf({ kind: "log", lba: R.LOG_NCQ_COMMAND_ERROR, count: 1 }),
    prdt: [{ dba: 0x80_0000, bytes: 512, interrupt: false }],
  });
  rig.sim.run();
  assert.equal(reg(rig, Px.CI), 0);
  return decodeNcqErrorLog(rig.memory.readBytes(0x80_0000, 512));
}

Deno.test("the HBA stops fetching commands after a task-file error until ST is cleared and set (§6.2.2)", () => {
  const rig = ahciRig({ latency: 10_000, costs: { engineStop: 3_000 } });
  const disk = rig.disks[0];
  disk.fail = (c) => c.op === "read" && c.lba === 100 ? "abrt" : undefined;
  rig.startPort(0, { ie: 0xffff_ffff, ghcIe: true });
  issueAll(rig, [0, 1, 2], (s) => ({ kind: "read", lba: [100, 200, 300][s], count: 1 }));
  rig.sim.run();
  assert.equal(disk.log.length, 1, "only the failing command reached the disk");
  assert.equal(reg(rig, Px.CI), 0b111, "the failing slot and the two behind it stay set");
  assert.equal(reg(rig, Px.IS), R.PxIS_TFES);
  assert.equal(reg(rig, Px.CMD) & (R.PxCMD_ST | R.PxCMD_CR), R.PxCMD_ST | R.PxCMD_CR);
  assert.equal((reg(rig, Px.CMD) >>> R.PxCMD_CCS_SHIFT) & 31, 0);
  assert.equal(reg(rig, Px.TFD), (R.ATA_ERR_ABRT << 8) | 0x51);
  // A command issued now is taken into PxCI but not fetched either.
  issueAll(rig, [3], () => ({ kind: "read", lba: 400, count: 1 }));
  rig.sim.run();
  assert.equal(disk.log.length, 1);
  assert.equal(reg(rig, Px.CI), 0b1111);
  assert.equal(rig.hba.counters().commands.read, 1, "one completion: the failed one");
  restart(rig);
  assert.equal(reg(rig, Px.CI), 0, "ST 1->0 cleared PxCI (§3.3.14)");
  rig.sim.run();
  assert.equal(disk.log.length, 1, "nothing runs again by itself");
  issueAll(rig, [1, 2, 3], (s) => ({ kind: "read", lba: 100 * (s + 1), count: 1 }));
  rig.sim.run();
  assert.equal(reg(rig, Px.CI), 0);
  assert.equal(reg(rig, Px.IS), R.PxIS_DHRS);
  // Fetched round-robin from the slot after the last one fetched (slot 3 was, before the error).
  assert.deepEqual(disk.log.map((c) => (c as { lba: number }).lba), [100, 400, 200, 300]);
  assert.deepEqual(rig.hba.counters().illegal, {});
});

Deno.test("an NCQ error completes nothing: every queued command keeps PxSACT, the failed tag is in log page 10h (§6.2.2.2)", () => {
  const rig = ahciRig({ latency: 10_000 });
  const disk = rig.disks[0];
  disk.fail = (c) => c.op === "read" && c.lba === 2 * 8 ? "unc" : undefined;
  rig.startPort(0, { ie: 0xffff_ffff, ghcIe: true });
  const read = (s: number) => ({ kind: "read" as const, lba: s * 8, count: 8, ncq: true, tag: s });
  issueAll(rig, [0, 1], read);
  rig.sim.run();
  issueAll(rig, [2, 3], read);
  rig.sim.run();
  // Tags 0 and 1 finished before tag 2 failed; tag 3 was aborted with it.
  assert.equal(reg(rig, Px.SACT), 0b1100);
  assert.equal(reg(rig, Px.IS) & R.PxIS_TFES, R.PxIS_TFES);
  assert.equal(reg(rig, Px.TFD), (R.ATA_ERR_UNC << 8) | 0x51);
  assert.equal(
    (reg(rig, Px.CMD) >>> R.PxCMD_CCS_SHIFT) & 31,
    0,
    "CCS does not name a queued command",
  );
  const sdb = decodeSdbFis(rig.memory.readBytes(rig.fb(0) + R.RFIS_SDBFIS, 8));
  assert.deepEqual([sdb.status & R.ATA_STS_ERR, sdb.error, sdb.sactive], [1, R.ATA_ERR_UNC, 0]);
  assert.equal(rig.hba.counters().commands.read, 3);
  restart(rig);
  assert.equal(reg(rig, Px.SACT), 0);
  // READ LOG EXT, log 10h: the failing tag, its error and LBA; reading it clears it.
  const pages: ReturnType<typeof decodeNcqErrorLog>[] = [];
  for (let i = 0; i < 2; i++) pages.push(readNcqLog(rig));
  assert.deepEqual(pages[0], {
    nq: false,
    tag: 2,
    status: 0x51,
    error: R.ATA_ERR_UNC,
    lba: 16,
    count: 8,
  });
  assert.equal(pages[1].nq, true, "read once: NQ, no queued error left");
  assert.equal(rig.hba.counters().commands.log, 2);
});

Deno.test("after an NCQ error the device aborts every command but READ LOG EXT 10h until that log is read (SATA 2.6 §13.5.4.1)", () => {
  const rig = ahciRig({ latency: 10_000 });
  const disk = rig.disks[0];
  disk.fail = (c) => c.op === "read" && c.lba === 16 ? "unc" : undefined;
  rig.startPort(0, { ie: 0xffff_ffff, ghcIe: true });
  const read = (s: number) => ({ kind: "read" as const, lba: s * 8, count: 8, ncq: true, tag: s });
  issueAll(rig, [2], read);
  rig.sim.run();
  assert.equal(rig.hba.port(0).device, "ncq-error");
  restart(rig); // the engine restart is the HBA's: the device stays in its error state
  const reached = disk.log.length;
  // A queued read and a non-queued flush: each aborted at once, nothing reaches the media.
  for (const c of [read(3), { kind: "flush" as const }]) {
    issueAll(rig, [3], () => c);
    rig.sim.run();
    assert.equal(reg(rig, Px.TFD), (R.ATA_ERR_ABRT << 8) | 0x51, c.kind);
    assert.equal(reg(rig, Px.IS) & R.PxIS_TFES, R.PxIS_TFES);
    restart(rig);
  }
  assert.equal(disk.log.length, reached, "neither reached the disk");
  assert.equal(rig.hba.counters().ncqErrorAborts, 2);
  // The log read is taken: it names the first error (not the aborts) and ends the state.
  const log = readNcqLog(rig);
  assert.deepEqual([log.nq, log.tag, log.error], [false, 2, R.ATA_ERR_UNC]);
  assert.equal(rig.hba.port(0).device, "ready");
  issueAll(rig, [3], read);
  rig.sim.run();
  assert.equal(reg(rig, Px.SACT), 0, "commands run again");
  assert.equal(disk.log.length, reached + 1);
});

Deno.test("a COMRESET ends the device's NCQ error state without the log read", () => {
  const rig = ahciRig({ latency: 10_000 });
  rig.disks[0].fail = (c) => c.op === "read" && c.lba === 16 ? "abrt" : undefined;
  rig.startPort(0);
  issueAll(rig, [2], (s) => ({ kind: "read", lba: s * 8, count: 8, ncq: true, tag: s }));
  rig.sim.run();
  assert.equal(rig.hba.port(0).device, "ncq-error");
  rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE);
  rig.sim.run();
  rig.hba.write(portReg(0, Px.SCTL), 4, 0x301);
  rig.hba.write(portReg(0, Px.SCTL), 4, 0x300);
  rig.sim.run();
  assert.equal(rig.hba.port(0).device, "ready");
  rig.hba.write(portReg(0, Px.IS), 4, 0xffff_ffff);
  rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE | R.PxCMD_ST);
  issueAll(rig, [3], () => ({ kind: "flush" }));
  rig.sim.run();
  assert.equal(reg(rig, Px.CI), 0, "the flush ran");
  assert.equal(rig.hba.counters().ncqErrorAborts, 0);
});

Deno.test("READ LOG EXT of a log the device does not keep ends in ABRT and halts the port", () => {
  const rig = ahciRig();
  rig.startPort(0);
  rig.issue(0, {
    slot: 0,
    fis: fisOf({ kind: "log", lba: 0x11, count: 1 }),
    prdt: [{ dba: 0x80_0000, bytes: 512, interrupt: false }],
  });
  rig.sim.run();
  assert.equal(reg(rig, Px.TFD) >>> 8, R.ATA_ERR_ABRT);
  assert.equal(rig.hba.port(0).state, "halted");
});

Deno.test("GHC.HR resets ports to idle and self-clears after hbaReset", () => {
  const rig = ahciRig({ costs: { hbaReset: 1_000 } });
  rig.startPort(0, { ie: 1, ghcIe: true });
  rig.hba.write(Ghc.GHC, 4, R.GHC_HR);
  assert.equal(rig.hba.port(0).state, "idle");
  assert.equal(rig.hba.port(0).fisState, "off");
  assert.equal(rig.hba.read(Ghc.GHC, 4) & R.GHC_HR, R.GHC_HR);
  rig.sim.run();
  assert.equal(rig.hba.read(Ghc.GHC, 4), 0);
  assert.equal(reg(rig, Px.IE), 0);
  assert.equal(reg(rig, Px.CLB), rig.clb(0), "PxCLB survives an HBA reset");
});

Deno.test("narrow accesses are normalised: a byte read of PxCMD, a byte write-1-to-clear of PxIS", () => {
  const rig = ahciRig();
  rig.startPort(0);
  const cmdHi = rig.hba.read(portReg(0, Px.CMD) + 1, 1);
  assert.equal(cmdHi, (R.PxCMD_CR | R.PxCMD_FR) >>> 8);
  rig.hba.port(0)._is = 0x4000_0001;
  rig.hba.write(portReg(0, Px.IS) + 3, 1, 0x40);
  assert.equal(reg(rig, Px.IS), 1);
  rig.hba.write(0x2c, 4, 1); // reserved GHC offset
  assert.equal(rig.hba.read(0x2c, 4), 0);
  const c = rig.hba.counters();
  assert.equal(c.narrowAccess, 2);
  assert.equal(c.unknownRegister, 2);
});

Deno.test("a FIS the HBA cannot post (PxFB outside memory) is a host bus error that halts the port (§6.1.2)", () => {
  const rig = ahciRig({ latency: 1000 });
  rig.hba.write(portReg(0, Px.CLB), 4, rig.clb(0));
  rig.hba.write(portReg(0, Px.FB), 4, 0x0500_0000); // past the rig's 64 MiB
  rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE);
  rig.hba.write(portReg(0, Px.CMD), 4, R.PxCMD_FRE | R.PxCMD_ST);
  for (const slot of [0, 1]) rig.issue(0, { slot, fis: fisOf({ kind: "flush" }), go: false });
  rig.hba.write(portReg(0, Px.CI), 4, 0b11);
  rig.sim.run();
  const is = reg(rig, Px.IS);
  assert.ok(is & R.PxIS_HBFS, is.toString(16));
  assert.equal(is & (R.PxIS_DHRS | R.PxIS_TFES), 0, "no completion, no task-file error");
  assert.equal(reg(rig, Px.CI), 0b11, "neither command completes");
  assert.equal(rig.hba.port(0).state, "halted");
  assert.equal(rig.disks[0].log.length, 1, "nothing is issued after the error");
});

Deno.test("a FUA write reaches the disk as FUA; a disk without FUA aborts WRITE DMA FUA EXT (ABRT), not FPDMA's FUA bit", () => {
  for (const fua of [true, false]) {
    for (const ncq of [true, false]) {
      const rig = ahciRig({ fua });
      rig.startPort(0, { ie: R.PxIS_DHRS | R.PxIS_SDBS | R.PxIS_TFES, ghcIe: true });
      rig.memory.writeVersions(0x40_0000, [7]);
      rig.issue(0, {
        slot: 0,
        write: true,
        fis: fisOf({ kind: "write", lba: 10, count: 1, ncq, fua: true }),
        prdt: [{ dba: 0x40_0000, bytes: 512, interrupt: false }],
      });
      rig.sim.run();
      const what = `fua ${fua}, ncq ${ncq}`;
      if (fua || ncq) {
        assert.deepEqual(rig.disks[0].log.map((c) => c.op === "write" && c.fua), [true], what);
        assert.equal(rig.disks[0].content.get(10), 7, what);
      } else {
        assert.equal(rig.disks[0].log.length, 0, what);
        assert.equal(reg(rig, Px.TFD) >> 8, R.ATA_ERR_ABRT, what);
        assert.equal(reg(rig, Px.IS) & R.PxIS_TFES, R.PxIS_TFES, what);
      }
    }
  }
});
