import assert from "node:assert/strict";
import { callInWorker } from "../../lib/_util/mod.ts";

const module = `data:application/javascript,${
  encodeURIComponent(
    "export const steps = (n, report) => { for (let i = 1; i <= n; i++) report(i); return n; };\n" +
      "export const boom = () => { throw new RangeError('kaput'); };",
  )
}`;

Deno.test("callInWorker passes progress through and resolves with the result", async () => {
  const seen: unknown[] = [];
  const r = await callInWorker({
    module,
    fn: "steps",
    args: [3],
    onProgress: (p) => seen.push(p),
    what: "steps",
  });
  assert.equal(r, 3);
  assert.deepEqual(seen, [1, 2, 3]);
});

Deno.test("callInWorker rejects with the worker's error, naming the call", async () => {
  await assert.rejects(
    callInWorker({ module, fn: "boom", args: [], what: "the boom run" }),
    /^Error: the boom run failed in its worker: RangeError: kaput/,
  );
});
