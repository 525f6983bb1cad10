import assert from "node:assert/strict";
import fc from "fast-check";
import { transferTime } from "../../lib/_util/mod.ts";

/** A finite double as an exact fraction num / den (den a power of two). */
function exactFraction(x: number): [bigint, bigint] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased !== 0) mantissa |= 1n << 52n; // the implicit leading 1 of a normal number
  const exp = (biased === 0 ? 1 : biased) - 1075;
  return exp >= 0 ? [mantissa << BigInt(exp), 1n] : [mantissa, 1n << BigInt(-exp)];
}

/** ceil(bytes * 1e9 / rate) in exact rational arithmetic, for any finite bytes >= 0 and rate > 0. */
function exactCeil(bytes: number, rate: number): number {
  const [bn, bd] = exactFraction(bytes), [rn, rd] = exactFraction(rate);
  const num = bn * 1_000_000_000n * rd, den = bd * rn;
  return Number((num + den - 1n) / den);
}

Deno.test("transferTime is the exact ceiling of bytes / rate in ns: a whole number of ns is not rounded up", () => {
  assert.equal(transferTime(31_232, 1e9), 31_232); // 31_232 / 1e9 * 1e9 is 31232.000000000004
  assert.equal(transferTime(3 * 2 ** 30, 125e6), 25_769_803_776);
  assert.equal(transferTime(1, 3), 333_333_334, "a fraction of a ns still rounds up");
  assert.equal(transferTime(0, 1e9), 0);
  const rates = [1e9, 1.5e9, 6e9, 125e6, 3e9, 12.5e9, 5e9, 600e6, 1_234_567, 3];
  for (const rate of rates) {
    for (let sectors = 1; sectors <= 4096; sectors++) {
      const bytes = sectors * 512;
      assert.equal(transferTime(bytes, rate), exactCeil(bytes, rate), `${bytes} B at ${rate} B/s`);
    }
  }
});

Deno.test("transferTime stays exact once bytes * 1e9 passes 2^53: neither 1 ns high nor 1 ns low", () => {
  // bytes * 1e9 rounds up here, and the float quotient gave 5_000_000_004.
  assert.equal(transferTime(5_000_000_003, 1e9), 5_000_000_003);
  // The float quotient rounds down onto a whole number: 9_489_041_097 would finish early.
  assert.equal(transferTime(11_714_857, 1_234_567), 9_489_041_098);
});

Deno.test("transferTime is exact for a fractional rate: the double's own value, not a rounded quotient", () => {
  const rate = 1e9 / 3; // a hair under a third of 1e9: one byte takes a hair over 3 ns
  assert.equal(exactCeil(1, rate), 4);
  assert.equal(transferTime(1, rate), 4);
  assert.equal(transferTime(3_000, rate), exactCeil(3_000, rate));
});

Deno.test("transferTime equals the exact rational ceiling for any size and rate (property)", () => {
  const rate = fc.oneof(
    fc.integer({ min: 1, max: 2e10 }),
    fc.double({ min: 1, max: 2e10, noNaN: true }),
    fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
  );
  const bytes = fc.oneof(
    fc.integer({ min: 0, max: 2 ** 24 }).map((s) => s * 512),
    fc.integer({ min: 0, max: 2 ** 40 }),
    fc.double({ min: 0, max: 2 ** 32, noNaN: true }),
  );
  fc.assert(
    fc.property(bytes, rate, (b, r) => {
      const want = exactCeil(b, r);
      fc.pre(want <= Number.MAX_SAFE_INTEGER);
      assert.equal(transferTime(b, r), want, `${b} B at ${r} B/s`);
    }),
    { numRuns: 20_000 },
  );
});
