import assert from "node:assert/strict";
import fc from "fast-check";
import { Simulation } from "../../lib/sim/mod.ts";
import { PageCache } from "../../lib/image/page_cache.ts";

const KiB = 1024;

Deno.test("page cache starts cold and reads each absent page once, in page-aligned runs", () => {
  const sim = new Simulation();
  const cache = new PageCache({ bytes: 1 << 20 }); // 256 pages of 4 KiB
  cache.addImage("os", 1 << 30);
  const a = cache.lookup("os", 3, 2); // inside page 0
  assert.deepEqual(a.read, [{ lba: 0, count: 8 }]);
  cache.reading(a, sim.timeout(10));
  sim.run();
  const b = cache.lookup("os", 0, 24); // page 0 cached, pages 1-2 absent
  assert.deepEqual(b.read, [{ lba: 8, count: 16 }]);
  assert.deepEqual(b.wait, []);
});

Deno.test("page cache: a request for a page being read waits for that read instead of reading again", () => {
  const sim = new Simulation();
  const cache = new PageCache({ bytes: 1 << 20 });
  cache.addImage("os", 1 << 30);
  const first = cache.lookup("os", 0, 16);
  const read = sim.timeout(5_000);
  cache.reading(first, read);
  const second = cache.lookup("os", 8, 16); // page 1 being read, page 2 absent
  assert.deepEqual(second.wait, [read]);
  assert.deepEqual(second.read, [{ lba: 16, count: 8 }]);
  sim.run();
  assert.equal(cache.lookup("os", 0, 16).read.length, 0);
});

Deno.test("page cache: the last page of an image is read only up to the image's end", () => {
  const cache = new PageCache({ bytes: 1 << 20 });
  cache.addImage("small", 5 * 512);
  assert.deepEqual(cache.lookup("small", 4, 1).read, [{ lba: 0, count: 5 }]);
});

Deno.test("page cache of 0 bytes holds nothing: every lookup reads, nobody waits", () => {
  const sim = new Simulation();
  const cache = new PageCache({ bytes: 0 });
  cache.addImage("os", 1 << 20);
  const a = cache.lookup("os", 0, 8);
  cache.reading(a, sim.timeout(10));
  const b = cache.lookup("os", 0, 8);
  assert.deepEqual(b.read, [{ lba: 0, count: 8 }]);
  assert.deepEqual(b.wait, []);
  assert.equal(cache.residentPages, 0);
});

Deno.test("page cache evicts by CLOCK: referenced pages get a second chance, pages being read never go", () => {
  const sim = new Simulation();
  const cache = new PageCache({ bytes: 4 * 4 * KiB, pageBytes: 4 * KiB }); // 4 pages
  cache.addImage("os", 1 << 20);
  const page = (p: number) => cache.lookup("os", p * 8, 8);
  for (let p = 0; p < 4; p++) cache.reading(page(p), sim.timeout(1));
  sim.run();
  page(0); // referenced
  const e = page(4); // full: the hand clears 0's bit, then evicts 1
  cache.reading(e, sim.timeout(100)); // page 4 stays "being read" until t=101
  assert.equal(cache.residentPages, 4);
  assert.deepEqual(page(1).read, [{ lba: 8, count: 8 }], "page 1 was the victim");
  assert.equal(page(0).read.length, 0, "page 0 survived");
  assert.deepEqual(page(4).read, [], "page 4 is being read: waited for, not read again");
});

Deno.test("property: the cache never holds more pages than its capacity and a cached page reads nothing", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 16 }),
      fc.array(fc.record({ lba: fc.nat(4095), count: fc.integer({ min: 1, max: 64 }) }), {
        maxLength: 60,
      }),
      (pages, reqs) => {
        const sim = new Simulation();
        const cache = new PageCache({ bytes: pages * 4 * KiB });
        cache.addImage("os", 4096 * 512);
        for (const r of reqs) {
          r.count = Math.min(r.count, 4096 - r.lba);
          const plan = cache.lookup("os", r.lba, r.count);
          const covered = plan.read.reduce((s, x) => s + x.count, 0);
          assert.ok(covered <= Math.ceil((r.count + 7) / 8) * 8 + 8);
          for (const x of plan.read) assert.equal(x.lba % 8, 0, "page-aligned");
          cache.reading(plan, sim.timeout(1));
          sim.run();
          assert.ok(cache.residentPages <= pages);
          const span = Math.floor((r.lba + r.count - 1) / 8) - Math.floor(r.lba / 8) + 1;
          if (span <= pages) assert.deepEqual(cache.lookup("os", r.lba, r.count).read, []);
        }
      },
    ),
  );
});

Deno.test("bad page cache options give a RangeError naming the field", () => {
  assert.throws(() => new PageCache({ bytes: -1 }), /'bytes'/);
  assert.throws(() => new PageCache({ bytes: 1, pageBytes: 1000 }), /'pageBytes'/);
  const cache = new PageCache({ bytes: 1 });
  cache.addImage("os", 512);
  assert.throws(() => cache.addImage("os", 512), /'os'/);
  assert.throws(() => cache.lookup("nope", 0, 1), /'nope'/);
  assert.throws(() => cache.lookup("os", 0, 2), /\[0, 2\) are not within image 'os'/);
});
