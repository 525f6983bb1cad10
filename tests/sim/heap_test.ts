import assert from "node:assert/strict";
import fc from "fast-check";
import { EventHeap } from "../../lib/sim/mod.ts";

Deno.test("EventHeap pops in (time, priority, insertion) order for any interleaving", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({
            op: fc.constant("push" as const),
            t: fc.integer({ min: 0, max: 50 }),
            p: fc.integer({ min: 0, max: 3 }),
          }),
          fc.record({ op: fc.constant("pop" as const) }),
        ),
        { maxLength: 400 },
      ),
      (ops) => {
        const heap = new EventHeap<number>(4);
        const model: { t: number; p: number; seq: number }[] = [];
        let seq = 0;
        for (const o of ops) {
          if (o.op === "push") {
            heap.push(o.t, o.p, seq);
            model.push({ t: o.t, p: o.p, seq: seq++ });
          } else {
            model.sort((a, b) => a.t - b.t || a.p - b.p || a.seq - b.seq);
            const want = model.shift();
            assert.equal(heap.pop(), want?.seq);
          }
          assert.equal(heap.size, model.length);
        }
        model.sort((a, b) => a.t - b.t || a.p - b.p || a.seq - b.seq);
        for (const m of model) {
          assert.equal(heap.peekTime(), m.t);
          assert.equal(heap.pop(), m.seq);
        }
        assert.equal(heap.pop(), undefined);
        assert.equal(heap.peekTime(), Infinity);
      },
    ),
    { numRuns: 300 },
  );
});
