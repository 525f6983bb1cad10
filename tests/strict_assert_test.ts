import assert from "node:assert/strict";

Deno.test("deno task test preloads the strict console.assert, so a wrong @example fails", () => {
  assert.throws(
    () => console.assert(1 + 1 === 3, "arithmetic"),
    /^Error: Assertion failed: arithmetic$/,
  );
  console.assert(true); // a true assertion stays silent
});
