import assert from "node:assert/strict";
import { callInWorker, runPool } from "../../lib/_util/mod.ts";

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

Deno.test("runPool keeps at most `lanes` jobs running, each lane taking the next, results in job order", async () => {
  let running = 0, most = 0;
  const order: number[] = [];
  const out = await runPool([30, 10, 20, 5], 2, async (ms, i) => {
    most = Math.max(most, ++running);
    order.push(i);
    await new Promise((r) => setTimeout(r, ms));
    running--;
    return ms * 2;
  });
  assert.deepEqual(out, [60, 20, 40, 10]);
  assert.equal(most, 2);
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.deepEqual(await runPool([], 2, () => Promise.resolve(1)), []);
});
