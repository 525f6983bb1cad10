import assert from "node:assert/strict";
import fc from "fast-check";
import { parseBlkparse } from "../../lib/workload/blkparse.ts";
import type { BootTraceOp } from "../../lib/workload/boot.ts";

/** A default-format event line: device, cpu, sequence, time, pid, action, then the rest. */
function ev(time: string, action: string, rest: string, dev = "8,0", cpu = 0): string {
  return `${dev.padStart(5)} ${String(cpu).padStart(4)} ${"1".padStart(8)} ${time.padStart(15)} ${
    "697".padStart(5)
  }  ${action} ${rest}`;
}

const SAMPLE = [
  "  8,0    3        1     0.000000000   697  Q  WS 223490 + 8 [kjournald]",
  "  8,0    3        7     0.000008931   697  D  WS 223490 + 8 [kjournald]",
  "  8,0    1        1     0.000305410     0  C  WS 223490 + 8 [0]",
  "  8,0    3        2     0.000001829   697  G   R 1024 + 256 [systemd]",
  "  8,0    3        3     0.000002898   697  P   N [kjournald]",
  "  8,0    0        4     0.000010000     1  A   R 4096 + 8 <- (8,1) 2048",
  "  8,0    0        5     0.000350000     1  D   R 1024 + 256 [systemd]",
  "  8,0    1        9     0.000400000     0  C   R 1024 + 256 [0]",
  "  8,0    2        5     0.000500000   120  D  FWS 0 + 0 [jbd2/sda1-8]",
  "  8,0    2        6     0.000600000   120  D   D 5000 + 64 [fstrim]",
  "  8,0    2        7     0.000700000   120  D  RA 9000 + 32 [systemd]",
  "",
  "CPU0 (8,0):",
  " Reads Queued:           3,       12KiB\t Writes Queued:          0,        0KiB",
  "Total (8,0):",
  "Events (8,0): 11 entries",
  "Throughput (R/W): 0KiB/s / 0KiB/s",
].join("\n");

/** The message of what `f` throws. */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RangeError);
    return e.message;
  }
  throw new Error("did not throw");
}

/** What each op does, without its think time. */
const shape = (ops: BootTraceOp[]) => ops.map(({ thinkNs: _, ...rest }) => rest);

Deno.test("blkparse: D events become reads, writes and flushes, Q and C do not", () => {
  assert.deepEqual(shape(parseBlkparse(SAMPLE)), [
    { op: "write", lba: 223490, count: 8, sync: true },
    { op: "read", lba: 1024, count: 256 },
    { op: "flush" },
    { op: "read", lba: 9000, count: 32 },
  ]);
});

Deno.test("blkparse: think time runs from the previous issue or completion", () => {
  const ops = parseBlkparse(SAMPLE);
  // First: 0. Read at 350 us: its last C (305.410 us) is later than the write's issue (8.931 us).
  // Flush at 500 us: the read completed at 400 us. RA at 700 us: the flush was issued at 500 us
  // (the discard is not a request).
  assert.deepEqual(ops.map((o) => o.thinkNs), [0, 350_000 - 305_410, 100_000, 200_000]);
  assert.ok(ops.every((o) => Number.isInteger(o.thinkNs)));
});

Deno.test("blkparse: times are read exactly, without float rounding", () => {
  const ops = parseBlkparse([
    ev("1.1", "D", "R 0 + 8 [a]"),
    ev("3.000000007", "D", "R 8 + 8 [a]"),
  ].join("\n"));
  assert.deepEqual(ops.map((o) => o.thinkNs), [0, 1_900_000_007]);
});

Deno.test("blkparse: a completion at the issue's own time leaves no think time", () => {
  const ops = parseBlkparse([
    ev("0.000001000", "D", "R 0 + 8 [a]"),
    ev("0.000009000", "D", "R 8 + 8 [a]"),
    ev("0.000009000", "C", "R 0 + 8 [0]"), // printed after, but at or before the issue
  ].join("\n"));
  assert.deepEqual(ops.map((o) => o.thinkNs), [0, 0]);
});

Deno.test("blkparse: events from several CPUs are put in time order", () => {
  const ops = parseBlkparse([
    ev("0.000300000", "D", "R 300 + 8 [a]", "8,0", 1),
    ev("0.000100000", "D", "R 100 + 8 [a]", "8,0", 0),
    ev("0.000200000", "D", "W 200 + 8 [a]", "8,0", 2),
    ev("0.000200000", "D", "R 201 + 8 [a]", "8,0", 0), // a tie keeps line order
  ].join("\n"));
  assert.deepEqual(ops.map((o) => o.op !== "flush" && o.lba), [100, 200, 201, 300]);
  assert.deepEqual(ops.map((o) => o.thinkNs), [0, 100_000, 0, 100_000]);
});

Deno.test("blkparse: a partition's trace is moved by partitionStart", () => {
  const ops = parseBlkparse(SAMPLE, { partitionStart: 2048 });
  assert.deepEqual(ops.map((o) => o.op === "flush" ? "-" : o.lba), [
    223490 + 2048,
    1024 + 2048,
    "-",
    9000 + 2048,
  ]);
});

Deno.test("blkparse: flushes are kept (old and new kernels' forms), a preflush before its write; discards and empty requests are skipped", () => {
  const ops = parseBlkparse([
    ev("0.000001000", "D", "FWS [jbd2/sda1-8]"), // Linux 3.x: a write flagged flush, no data
    ev("0.000002000", "D", "FWS 0 + 0 [jbd2/sda1-8]"),
    ev("0.000003000", "D", "D 5000 + 64 [fstrim]"),
    ev("0.000004000", "D", "DE 5000 + 64 [blkdiscard]"),
    ev("0.000005000", "D", "N 0 (12 00 00 00 24 00 ..) [sg_inq]"),
    ev("0.000006000", "D", "W 77 + 0 [a]"),
    ev("0.000007000", "D", "FWFS 80 + 8 [a]"), // preflush, write, FUA, sync
    ev("0.000008000", "D", "FF [kworker]"), // ftrace's forms (block_rq_issue), not blkparse's
    ev("0.000009000", "D", "F [kworker]"),
    ev("0.000010000", "D", "FN [kworker]"), // Linux 4.10+: REQ_OP_FLUSH
    ev("0.000011000", "D", "WFS 96 + 8 [jbd2/sda1-8]"), // FUA without preflush
    ev("0.000012000", "D", "WM 104 + 8 [a]"), // neither sync nor FUA
  ].join("\n"));
  assert.deepEqual(ops, [
    { op: "flush", thinkNs: 0 },
    { op: "flush", thinkNs: 1000 },
    { op: "flush", thinkNs: 5000 },
    { op: "write", lba: 80, count: 8, thinkNs: 0, fua: true },
    { op: "flush", thinkNs: 1000 },
    { op: "flush", thinkNs: 1000 },
    { op: "flush", thinkNs: 1000 },
    { op: "write", lba: 96, count: 8, thinkNs: 1000, fua: true },
    { op: "write", lba: 104, count: 8, thinkNs: 1000 },
  ]);
});

Deno.test("blkparse: several devices need a device choice", () => {
  const text = [SAMPLE, ev("0.000900000", "D", "R 64 + 8 [a]", "8,16")].join("\n");
  assert.match(
    thrown(() => parseBlkparse(text)),
    /^Cannot parse blkparse output: 'device' .*the trace has events of devices 8,0, 8,16$/,
  );
  assert.deepEqual(parseBlkparse(text, { device: "8,16" }), [
    { op: "read", lba: 64, count: 8, thinkNs: 0 },
  ]);
  assert.equal(parseBlkparse(text, { device: "8,0" }).length, 4);
  assert.match(
    thrown(() => parseBlkparse(text, { device: "8,32" })),
    /'device' .*8,0, 8,16.*"8,32"/,
  );
});

Deno.test("blkparse: a malformed D line is named by its line number", () => {
  const text = [
    ev("0.000001000", "D", "R 0 + 8 [a]"),
    "",
    ev("0.000002000", "D", "R 12 + [a]"),
    ev("0.000003000", "C", "W x + 8 [0]"),
    ev("0.000004000", "Q", "R whatever"), // not a D or C: its I/O fields are not read
    "  8,0    0        1     0.00000x000   697  D   R 0 + 8 [a]",
  ].join("\n");
  const message = thrown(() => parseBlkparse(text));
  assert.match(message, /^Cannot parse blkparse output: 'line 3' must be a blkparse event/);
  assert.match(message, /; 'line 4' must be .*current value is "8,0 .* C W x \+ 8 \[0\]"/);
  assert.match(message, /; 'line 6' must be /);
  assert.doesNotMatch(message, /'line [125]'/);
});

Deno.test("blkparse: a D or C line whose RWBS is not blkparse's, or names no operation, is malformed, not dropped", () => {
  const text = [
    ev("0.000001000", "D", "R 0 + 8 [a]"),
    ev("0.000002000", "D", "X 4000 + 256 [systemd]"), // no such letter
    ev("0.000003000", "D", "RX 4000 + 256 [systemd]"), // a known operation, an unknown flag
    ev("0.000004000", "D", "S 4000 + 256 [systemd]"), // a flag alone: no operation
    ev("0.000005000", "C", "A 4000 + 256 [0]"),
  ].join("\n");
  const message = thrown(() => parseBlkparse(text));
  for (const line of [2, 3, 4, 5]) assert.match(message, new RegExp(`'line ${line}' must be `));
  assert.match(message, /current value is "8,0 .* D X 4000 \+ 256 \[systemd\]"/);
  assert.doesNotMatch(message, /'line 1'/);
  // blkparse's own letters still parse: a read-ahead, a metadata write, a secure erase (skipped).
  assert.deepEqual(
    shape(parseBlkparse([
      ev("0.000001000", "D", "RA 0 + 8 [a]"),
      ev("0.000002000", "D", "WM 8 + 8 [a]"),
      ev("0.000003000", "D", "DE 16 + 8 [a]"),
    ].join("\n"))),
    [{ op: "read", lba: 0, count: 8 }, { op: "write", lba: 8, count: 8 }],
  );
});

Deno.test("blkparse: a request must end within the ATA 48-bit LBA range (2^48 sectors), partitionStart included", () => {
  const last = 2 ** 48 - 64;
  assert.deepEqual(shape(parseBlkparse(ev("0.1", "D", `R ${last} + 64 [a]`))), [
    { op: "read", lba: last, count: 64 },
  ]);
  for (
    const [rest, options] of [
      [`R ${last} + 65 [a]`, {}],
      [`R ${last} + 64 [a]`, { partitionStart: 1 }],
      ["R 99999999999999999999 + 64 [a]", {}], // not even a safe integer
    ] as const
  ) {
    const text = [ev("0.0", "D", "R 0 + 8 [a]"), ev("0.1", "D", rest)].join("\n");
    assert.match(
      thrown(() => parseBlkparse(text, options)),
      /^Cannot parse blkparse output: 'line 2' must be a request that ends within the ATA 48-bit LBA range \(sector \+ partitionStart \+ count <= 2\^48 = 281474976710656\): current value is "8,0 /,
    );
  }
  // A completion's sectors too.
  const done = [ev("0.0", "D", "R 0 + 8 [a]"), ev("0.1", "C", `W ${2 ** 48} + 8 [0]`)].join("\n");
  assert.match(thrown(() => parseBlkparse(done)), /'line 2' must be a request that ends within/);
});

Deno.test("blkparse: many malformed lines are summed up after the first ten", () => {
  const text = Array.from({ length: 25 }, (_, i) => ev(`0.${i}`, "D", `R ${i} + [a]`)).join("\n");
  const message = thrown(() => parseBlkparse(text));
  assert.match(message, /'line 10' must be/);
  assert.doesNotMatch(message, /'line 11'/);
  assert.match(message, /'lines 11-25' hold 15 more malformed events$/);
});

Deno.test("blkparse: a text without D events is refused", () => {
  const only = [ev("0.1", "Q", "R 0 + 8 [a]"), ev("0.2", "C", "R 0 + 8 [0]")].join("\n");
  for (const text of ["", "CPU0 (8,0):\nTotal (8,0):", only]) {
    assert.match(
      thrown(() => parseBlkparse(text)),
      /'text' has no D \(issued\) read or write events: was it made with blkparse's default format\?/,
    );
  }
});

Deno.test("blkparse: options are checked", () => {
  const message = thrown(() =>
    parseBlkparse(SAMPLE, { partitionStart: -1, device: "8:0", devise: "8,0" } as never)
  );
  assert.match(message, /'devise' is not an option, did you mean device\?/);
  assert.match(message, /'partitionStart' must be an integer >= 0: current value is -1/);
  assert.match(
    message,
    /'device' must be text "major,minor", e\.g\. "8,0": current value is "8:0"/,
  );
  assert.match(thrown(() => parseBlkparse(SAMPLE, { partitionStart: 1.5 })), /partitionStart/);
  assert.equal(parseBlkparse(SAMPLE, { device: " 8, 0 " }).length, 4);
});

Deno.test("blkparse: every D read or write of 1 sector or more becomes an op", () => {
  const line = fc.record({
    action: fc.constantFrom("Q", "G", "D", "C", "I"),
    rwbs: fc.constantFrom("R", "W", "RA", "WS"),
    sector: fc.nat({ max: 1 << 30 }),
    count: fc.nat({ max: 2048 }),
    gapNs: fc.nat({ max: 5_000_000 }),
    cpu: fc.nat({ max: 7 }),
  });
  fc.assert(
    fc.property(fc.array(line, { maxLength: 60 }), fc.nat({ max: 1 << 20 }), (lines, start) => {
      let ns = 0;
      const text = lines.map((l) => {
        ns += l.gapNs;
        const time = `${Math.floor(ns / 1e9)}.${String(ns % 1e9).padStart(9, "0")}`;
        return ev(time, l.action, `${l.rwbs} ${l.sector} + ${l.count} [p]`, "8,0", l.cpu);
      }).join("\n");
      const expected = lines.filter((l) => l.action === "D" && l.count >= 1);
      if (expected.length === 0) {
        assert.throws(() => parseBlkparse(text), /no D \(issued\)/);
        return;
      }
      const ops = parseBlkparse(text, { partitionStart: start });
      assert.equal(ops.length, expected.length);
      assert.ok(ops.every((o) => Number.isInteger(o.thinkNs) && o.thinkNs >= 0));
      assert.deepEqual(
        ops.map((o) => o.op === "flush" ? [o.op] : [o.op, o.lba, o.count]),
        expected.map((l) => [l.rwbs[0] === "W" ? "write" : "read", l.sector + start, l.count]),
      );
    }),
  );
});

Deno.test("blkparse: SCSI/ATA pass-through commands (udev's disk queries) are skipped, their completions end a wait", () => {
  const ops = parseBlkparse([
    "  8,0    0        1     0.000000000   1  D   R 2048 + 8 [systemd]",
    "  8,0    0        2     0.001000000   0  C   R 2048 + 8 [0]",
    "  8,0    1        3     0.002000000 300  D   R 36 (12 00 00 00 24 00) [scsi_id]",
    "  8,0    1        4     0.003000000   0  C   R (12 00 00 00 24 00) [0]",
    "  8,0    0        5     0.010000000   1  D   R 4096 + 8 [systemd]",
  ].join("\n"));
  assert.deepEqual(ops.map((o) => o.op === "read" && [o.lba, o.thinkNs]), [[2048, 0], [
    4096,
    7_000_000,
  ]]);
});

Deno.test("blkparse: a sync write or a flush is waited for only where the recording waited (it completed before the next issue)", () => {
  const lines = [];
  // A burst of 4 sync writes 1 us apart, all completing at 5 ms, then a read: only the last waits.
  for (let k = 0; k < 4; k++) {
    lines.push(ev(`0.00000${k + 1}000`, "D", `WS ${100 + 8 * k} + 8 [jbd2/sda1-8]`));
  }
  for (let k = 0; k < 4; k++) lines.push(ev("0.005000000", "C", `WS ${100 + 8 * k} + 8 [0]`));
  lines.push(ev("0.005100000", "D", "R 4096 + 8 [systemd]"));
  lines.push(ev("0.005200000", "C", "R 4096 + 8 [0]"));
  // A flush the next read waited for (Linux 3.x and 4.10+ forms), and one it did not.
  lines.push(ev("0.006000000", "D", "FWS [jbd2/sda1-8]"));
  lines.push(ev("0.007000000", "C", "FWS 0 [0]"));
  lines.push(ev("0.007100000", "D", "FN [kworker]"));
  lines.push(ev("0.007200000", "D", "R 8192 + 8 [systemd]"));
  lines.push(ev("0.007300000", "C", "FN [0]"));
  // A sync write with no S, and an S write still in flight at the end: neither waited.
  lines.push(ev("0.007400000", "D", "W 300 + 8 [a]"));
  lines.push(ev("0.007500000", "C", "W 300 + 8 [0]"));
  lines.push(ev("0.007600000", "D", "WS 400 + 8 [a]"));
  const ops = parseBlkparse(lines.join("\n"));
  assert.deepEqual(ops.map((o) => `${o.op}${o.op !== "read" && o.sync ? " sync" : ""}`), [
    "write",
    "write",
    "write",
    "write sync",
    "read",
    "flush sync",
    "flush",
    "read",
    "write",
    "write",
  ]);
});

Deno.test("blkparse: a FUA write must say where; a trace of flushes only is refused", () => {
  assert.match(thrown(() => parseBlkparse(ev("0.1", "D", "WFS [x]"))), /'line 1' must be/);
  assert.match(
    thrown(() => parseBlkparse(ev("0.1", "D", "FN [x]"))),
    /'text' has no D \(issued\) read or write events/,
  );
});
