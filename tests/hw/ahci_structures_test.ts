import assert from "node:assert/strict";
import fc from "fast-check";
import { PhysicalMemory } from "../../lib/hw/memory.ts";
import {
  decodeAtaCommand,
  decodeCommand,
  decodeD2hFis,
  decodeH2dFis,
  decodeSdbFis,
  encodeAtaCommand,
  encodeD2hFis,
  encodeH2dFis,
  encodeSdbFis,
  readCommandHeader,
  readPrdt,
  validateCommand,
  writeCommandHeader,
  writePrdt,
} from "../../lib/hw/ahci/mod.ts";

Deno.test("writeCommandHeader() puts every field at the AHCI 1.3.1 §4.2.2 byte offset", () => {
  const mem = new PhysicalMemory({ size: 1 << 24 });
  const ctba = 0x1_2345_6780; // above 4 GiB: CTBAU used
  const big = new PhysicalMemory({ size: 2 ** 33 });
  writeCommandHeader(big, { clb: 0x4000, slot: 5 }, {
    cfl: 5,
    atapi: true,
    write: true,
    prefetch: true,
    clearBusy: true,
    prdtl: 0x1234,
    prdbc: 0xabcd,
    ctba,
  });
  const h = 0x4000 + 5 * 32;
  // DW0: CFL 4:0, A bit 5, W bit 6, P bit 7, C bit 10, PRDTL 31:16
  assert.equal(big.read(h, 4), (0x1234 << 16 | 1 << 10 | 1 << 7 | 1 << 6 | 1 << 5 | 5) >>> 0);
  assert.equal(big.read(h + 4, 4), 0xabcd); // DW1 PRDBC
  assert.equal(big.read(h + 8, 4), 0x2345_6780); // DW2 CTBA
  assert.equal(big.read(h + 12, 4), 1); // DW3 CTBAU
  // Decoding raw bytes written per the spec gives the same fields.
  mem.write(0x800 + 32, 4, (3 << 16 | 1 << 6 | 5) >>> 0);
  mem.write(0x800 + 32 + 8, 4, 0x9000 | 0x7f); // reserved low bits ignored
  const d = readCommandHeader(mem, { clb: 0x800, slot: 1 });
  assert.deepEqual(
    [d.cfl, d.write, d.atapi, d.prdtl, d.ctba, d.prdbc],
    [5, true, false, 3, 0x9000, 0],
  );
});

Deno.test("writePrdt() lays entries at CTBA+0x80, 16 bytes each, DBC = bytes-1 in bits 21:0, I in bit 31", () => {
  const mem = new PhysicalMemory({ size: 2 ** 33 });
  writePrdt(mem, 0x2000, [
    { dba: 0x8000, bytes: 4096, interrupt: false },
    { dba: 0x1_0000_2000, bytes: 4 << 20, interrupt: true },
  ]);
  assert.equal(mem.read(0x2080, 4), 0x8000);
  assert.equal(mem.read(0x2084, 4), 0);
  assert.equal(mem.read(0x208c, 4), 4095);
  assert.equal(mem.read(0x2090, 4), 0x2000);
  assert.equal(mem.read(0x2094, 4), 1);
  assert.equal(mem.read(0x209c, 4), (0x8000_0000 | 0x3f_ffff) >>> 0);
  assert.deepEqual(readPrdt(mem, 0x2000, 2), [
    { dba: 0x8000, bytes: 4096, interrupt: false },
    { dba: 0x1_0000_2000, bytes: 4 << 20, interrupt: true },
  ]);
  assert.throws(() => writePrdt(mem, 0, [{ dba: 0, bytes: (4 << 20) + 1, interrupt: false }]), {
    name: "RangeError",
    message: /'bytes' must be an integer in \[1, 4194304\]: current value is 4194305/,
  });
});

Deno.test("encodeH2dFis() places type, C, command, features, LBA, device and count at SATA §10.3.4 offsets", () => {
  const b = encodeH2dFis({
    command: 0x61,
    features: 0xbeef,
    lba: 0xa1b2_c3d4_e5f6,
    device: 0xc0,
    count: 0x1f8,
  });
  assert.deepEqual(
    [...b.subarray(0, 14)],
    [0x27, 0x80, 0x61, 0xef, 0xf6, 0xe5, 0xd4, 0xc0, 0xc3, 0xb2, 0xa1, 0xbe, 0xf8, 0x01],
  );
  assert.equal(b.length, 20);
});

Deno.test("D2H and SDB FISes encode status, error, I bit and SActive at their offsets", () => {
  const d = encodeD2hFis({ status: 0x51, error: 0x10, interrupt: true });
  assert.deepEqual([...d.subarray(0, 4)], [0x34, 0x40, 0x51, 0x10]);
  assert.deepEqual(decodeD2hFis(d), { type: 0x34, interrupt: true, status: 0x51, error: 0x10 });
  const s = encodeSdbFis({ status: 0x41, error: 0x04, interrupt: true, sactive: 0x8000_0001 });
  assert.deepEqual([...s], [0xa1, 0x40, 0x41, 0x04, 0x01, 0, 0, 0x80]);
  assert.deepEqual(decodeSdbFis(s), {
    type: 0xa1,
    interrupt: true,
    status: 0x41,
    error: 4,
    sactive: 0x8000_0001,
  });
});

Deno.test("decodeAtaCommand() reads 28-bit LBA 27:24 from DEVICE 3:0 and count 0 as 256", () => {
  const b = new Uint8Array(20);
  b.set([0x27, 0x80, 0xca, 0, 0x44, 0x33, 0x22, 0x4f, 0x99, 0x99, 0x99, 0, 0, 0x99]);
  const c = decodeAtaCommand(decodeH2dFis(b));
  // LBA 31:24 bytes (8..10) and COUNT 15:8 are ignored by 28-bit commands.
  assert.deepEqual([c.kind, c.lba, c.count, c.ncq, c.lba48], [
    "write",
    0x0f22_3344,
    256,
    false,
    false,
  ]);
});

Deno.test("decodeAtaCommand() reads 48-bit LBAs and count 0 as 65536 for DMA EXT", () => {
  const c = decodeAtaCommand(
    decodeH2dFis(encodeH2dFis({ command: 0x25, lba: 2 ** 47 + 5, count: 0 })),
  );
  assert.deepEqual([c.kind, c.lba, c.count, c.lba48], ["read", 2 ** 47 + 5, 65536, true]);
});

Deno.test("decodeAtaCommand() takes the NCQ count from FEATURES and the tag from COUNT 7:3", () => {
  const c = decodeAtaCommand(decodeH2dFis(encodeH2dFis({
    command: 0x60,
    features: 0x0102,
    count: (17 << 3) | 0x7,
    device: 0xc0,
    lba: 1234,
  })));
  assert.deepEqual([c.kind, c.count, c.tag, c.ncq, c.fua, c.lba], [
    "read",
    0x102,
    17,
    true,
    true,
    1234,
  ]);
  const z = decodeAtaCommand(decodeH2dFis(encodeH2dFis({ command: 0x61, features: 0 })));
  assert.equal(z.count, 65536);
});

Deno.test("decodeAtaCommand() names IDENTIFY, FLUSH CACHE (EXT) and unknown opcodes", () => {
  const k = (op: number) => decodeAtaCommand(decodeH2dFis(encodeH2dFis({ command: op }))).kind;
  assert.deepEqual([k(0xec), k(0xe7), k(0xea), k(0x20), k(0x00)], [
    "identify",
    "flush",
    "flush",
    "unknown",
    "unknown",
  ]);
});

Deno.test("encodeAtaCommand() then decodeAtaCommand() round-trips every valid read/write", () => {
  const arb = fc.oneof(
    fc.record({
      form: fc.constant("ncq" as const),
      lba: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      count: fc.integer({ min: 1, max: 65536 }),
      tag: fc.integer({ min: 0, max: 31 }),
      fua: fc.boolean(),
      read: fc.boolean(),
    }),
    fc.record({
      form: fc.constant("lba48" as const),
      lba: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      count: fc.integer({ min: 1, max: 65536 }),
      tag: fc.constant(0),
      fua: fc.boolean(), // a write only (WRITE DMA FUA EXT)
      read: fc.boolean(),
    }),
    fc.record({
      form: fc.constant("lba28" as const),
      lba: fc.integer({ min: 0, max: 2 ** 28 - 1 }),
      count: fc.integer({ min: 1, max: 256 }),
      tag: fc.constant(0),
      fua: fc.constant(false),
      read: fc.boolean(),
    }),
  );
  fc.assert(fc.property(arb, (x) => {
    const kind = x.read ? "read" : "write";
    const ncq = x.form === "ncq";
    const fua = x.fua && (ncq || !x.read);
    const fis = encodeAtaCommand({
      kind,
      lba: x.lba,
      count: x.count,
      ncq,
      tag: x.tag,
      fua,
      lba48: x.form !== "lba28",
    });
    const c = decodeAtaCommand(decodeH2dFis(encodeH2dFis(fis)));
    assert.equal(c.kind, kind);
    assert.equal(c.lba, x.lba);
    assert.equal(c.count, x.count);
    assert.equal(c.ncq, ncq);
    assert.equal(c.fua ?? false, fua);
    if (ncq) assert.equal(c.tag, x.tag);
  }));
});

Deno.test("a non-queued FUA write is WRITE DMA FUA EXT (3Dh); FUA on a non-queued read or a 28-bit write is refused", () => {
  const fis = encodeAtaCommand({ kind: "write", lba: 4096, count: 8, fua: true });
  assert.equal(fis.command, 0x3d);
  const c = decodeAtaCommand(decodeH2dFis(encodeH2dFis(fis)));
  assert.deepEqual([c.kind, c.lba, c.count, c.ncq, c.fua, c.lba48], [
    "write",
    4096,
    8,
    false,
    true,
    true,
  ]);
  for (const bad of [{ kind: "read" as const }, { kind: "write" as const, lba48: false }]) {
    assert.throws(() => encodeAtaCommand({ lba: 0, count: 1, fua: true, ...bad }), {
      name: "RangeError",
      message: /'fua' needs 'ncq', or a write with 'lba48': current value is true/,
    });
  }
});

Deno.test("encodeAtaCommand() rejects a 28-bit LBA that does not fit with a RangeError", () => {
  assert.throws(
    () => encodeAtaCommand({ kind: "read", lba: 2 ** 28, count: 1, lba48: false }),
    { name: "RangeError", message: /'lba' must be an integer in \[0, 268435456\)/ },
  );
});

Deno.test("decodeCommand() returns slot, header, FIS, command and PRDT read from memory", () => {
  const mem = new PhysicalMemory({ size: 1 << 24 });
  writeCommandHeader(mem, { clb: 0x1000, slot: 9 }, {
    cfl: 5,
    write: true,
    prdtl: 2,
    ctba: 0x3000,
  });
  mem.writeBytes(
    0x3000,
    encodeH2dFis(encodeAtaCommand({ kind: "write", lba: 99, count: 12, ncq: true, tag: 9 })),
  );
  writePrdt(mem, 0x3000, [
    { dba: 0x10000, bytes: 4096, interrupt: false },
    { dba: 0x20000, bytes: 2048, interrupt: true },
  ]);
  const d = decodeCommand(mem, { clb: 0x1000, slot: 9 });
  assert.equal(d.slot, 9);
  assert.equal(d.header.ctba, 0x3000);
  assert.deepEqual([d.command.kind, d.command.lba, d.command.count, d.command.tag], [
    "write",
    99,
    12,
    9,
  ]);
  assert.equal(d.prdBytes, 6144);
  assert.deepEqual(d.prdt.map((p) => p.dba), [0x10000, 0x20000]);
  assert.equal(validateCommand(d, { sectors: 1000 }), undefined);
  assert.deepEqual(validateCommand(d, { sectors: 100 }), { error: "idnf", reason: "lba-range" });
});
