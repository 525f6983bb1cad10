import assert from "node:assert/strict";
import { makeCopyPolicy } from "../../lib/vmm/copy_policy.ts";

const ctx = (now: number, lastGuestIo = 0, guestOutstanding = 0) => ({
  now,
  lastGuestIo,
  guestOutstanding,
  chunkBytes: 1_000_000,
});

Deno.test("idle policy copies only after the idle threshold and never with guest I/O outstanding", () => {
  const p = makeCopyPolicy({ kind: "idle", idleThreshold: 100 });
  assert.deepEqual(p.decide(ctx(150, 100)), { action: "wait", at: 200 });
  assert.deepEqual(p.decide(ctx(200, 100)), { action: "copy" });
  assert.equal(p.decide(ctx(10_000, 0, 1)).action, "wait");
});

Deno.test("rate policy holds the long-run copy rate to its cap", () => {
  const p = makeCopyPolicy({ kind: "rate", bytesPerSecond: 10e6, burstBytes: 1e6 });
  let now = 0, copies = 0;
  while (now < 10e9) {
    const d = p.decide(ctx(now));
    if (d.action === "copy") {
      p.copied(ctx(now), 0);
      copies++;
    } else now = d.at;
  }
  // 10 s at 10 MB/s = 100 MB = 100 chunks, plus the initial burst of one
  assert.ok(copies >= 100 && copies <= 101, `copies ${copies}`);
});

Deno.test("rate policy refuses a chunk larger than its bucket instead of waiting forever", () => {
  const p = makeCopyPolicy({ kind: "rate", bytesPerSecond: 10e6, burstBytes: 1e6 - 1 });
  assert.throws(
    () => p.decide(ctx(0)),
    /'burstBytes' must be >= the copy chunk \(1000000 bytes\): current value is 999999/,
  );
});

Deno.test("adaptive policy backs off when copies delay the guest and recovers when they do not", () => {
  const p = makeCopyPolicy({ kind: "adaptive", minIdle: 10, maxIdle: 1000, step: 5 });
  p.copied(ctx(0), 7);
  p.copied(ctx(0), 7);
  assert.equal(p.idleThreshold, 40);
  for (let i = 0; i < 100; i++) p.copied(ctx(0), 0);
  assert.equal(p.idleThreshold, 10);
});

Deno.test("policy configs are validated with the field named", () => {
  // deno-lint-ignore no-explicit-any
  assert.throws(() => makeCopyPolicy({ kind: "idle", idleThreshold: -1 } as any), /idleThreshold/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => makeCopyPolicy({ kind: "bogus" } as any), /kind/);
});
