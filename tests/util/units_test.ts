import assert from "node:assert/strict";
import { transferTime } from "../../lib/_util/mod.ts";

/** ceil(bytes * 1e9 / rate) in exact integer arithmetic. */
function exactCeil(bytes: number, rate: number): number {
  const num = BigInt(bytes) * 1_000_000_000n, den = BigInt(rate);
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
