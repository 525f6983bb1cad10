import assert from "node:assert/strict";
import { type CopyPolicyConfig, makeCopyPolicy } from "../../lib/vmm/copy_policy.ts";

const ctx = (now: number, lastGuestIo = 0, guestOutstanding = 0, fetchOverlaps = 0) => ({
  now,
  lastGuestIo,
  guestOutstanding,
  chunkBytes: 1_000_000,
  fetchOverlaps,
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

Deno.test("adaptive policy with redirectAware also backs off on a new fetch overlap, and only then", () => {
  const run = (redirectAware: boolean) => {
    const p = makeCopyPolicy({
      kind: "adaptive",
      minIdle: 10,
      maxIdle: 1000,
      step: 5,
      redirectAware,
    });
    const seen: number[] = [];
    // Overlap counts the copier reports after each copy: new at the 1st and 3rd, none at the 2nd.
    for (const overlaps of [1, 1, 3, 3]) {
      p.copied(ctx(0, 0, 0, overlaps), 0);
      seen.push(p.idleThreshold);
    }
    return seen;
  };
  assert.deepEqual(run(true), [20, 15, 30, 25]);
  assert.deepEqual(run(false), [10, 10, 10, 10]);
  // Absent: as before, overlaps are not looked at.
  const p = makeCopyPolicy({ kind: "adaptive", minIdle: 10, maxIdle: 1000, step: 5 });
  p.copied(ctx(0, 0, 0, 1), 0);
  assert.equal(p.idleThreshold, 10);
});

Deno.test("a bad policy config is a RangeError naming every field, its rule and its value", () => {
  const refused = (config: unknown, message: string) =>
    assert.throws(() => makeCopyPolicy(config as CopyPolicyConfig), {
      name: "RangeError",
      message,
    });
  refused(
    { kind: "adaptive", minIdle: 0, maxIdle: -1, step: -1 },
    "Cannot make copy policy: 'maxIdle' Too small: expected number to be >0: current value is -1; " +
      "'step' Too small: expected number to be >0: current value is -1; " +
      "'maxIdle' must be >= minIdle (0): current value is -1",
  );
  refused(
    { kind: "rate", bytesPerSecond: NaN, burstBytes: 1 },
    "Cannot make copy policy: 'bytesPerSecond' Invalid input: expected number, received NaN: " +
      "current value is NaN",
  );
  refused(
    { kind: "adaptive", minIdle: 5, maxIdle: 1, step: 1 },
    "Cannot make copy policy: 'maxIdle' must be >= minIdle (5): current value is 1",
  );
  refused(
    { kind: "idle", idleThreshold: 1, recheckk: 5 },
    "Cannot make copy policy: 'recheckk' is not a known parameter",
  );
  assert.throws(() => makeCopyPolicy({ kind: "bogus" } as never), /^RangeError: .*'kind' .*bogus/);
});
