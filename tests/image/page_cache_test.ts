import assert from "node:assert/strict";
import fc from "fast-check";
import type { Run } from "../../lib/_util/mod.ts";
import { Simulation } from "../../lib/sim/mod.ts";
import { PageCache } from "../../lib/image/page_cache.ts";

const KiB = 1024;

/** A cache over a 4096-sector image "os" and a disk that logs what it is asked to read. */
function rig(bytes: number, pageBytes = 4 * KiB) {
  const sim = new Simulation();
  const cache = new PageCache({ bytes, pageBytes });
  cache.addImage("os", 4096 * 512);
  const reads: Run[][] = [];
  const disk = (runs: Run[]) => {
    reads.push(runs);
    return sim.timeout(100);
  };
  const read = (lba: number, count: number) => cache.read("os", lba, count, disk);
  return { sim, cache, reads, read };
}

Deno.test("page cache starts cold and reads each absent page once, in page-aligned runs", () => {
  const { sim, reads, read } = rig(1 << 20);
  assert.equal(read(3, 2).length, 1); // inside page 0
  sim.run();
  assert.deepEqual(read(0, 24).length, 1); // page 0 cached, pages 1-2 absent
  sim.run();
  assert.deepEqual(read(0, 24), [], "all cached: nothing to wait for");
  assert.deepEqual(reads, [[{ lba: 0, count: 8 }], [{ lba: 8, count: 16 }]]);
});

Deno.test("page cache: a request for a page being read waits for that read instead of reading again", () => {
  const { sim, reads, read } = rig(1 << 20);
  const [first] = read(0, 16);
  const second = read(8, 16); // page 1 being read, page 2 absent
  assert.equal(second.length, 2);
  assert.equal(second[0], first);
  assert.deepEqual(reads, [[{ lba: 0, count: 16 }], [{ lba: 16, count: 8 }]]);
  sim.run();
  assert.deepEqual(read(0, 24), []);
});

Deno.test("page cache: a request over pages of two reads in progress waits for each read once", () => {
  const { sim, reads, read } = rig(1 << 20);
  read(8, 8);
  sim.run(); // page 1 cached
  const [a] = read(0, 24); // pages 0 and 2, around cached page 1
  const [b] = read(40, 16); // pages 5 and 6
  const waits = read(0, 56); // pages 0-6: 0, 2 with a; 5, 6 with b; 3-4 absent
  assert.equal(waits.length, 3);
  assert.equal(waits[0], a);
  assert.equal(waits[1], b);
  assert.deepEqual(reads.at(-1), [{ lba: 24, count: 16 }]);
  sim.run();
  assert.deepEqual(read(0, 56), [], "every page cached once its read is done");
});

Deno.test("page cache: one disk read covers the absent runs around cached pages", () => {
  const { sim, reads, read } = rig(1 << 20);
  read(8, 8);
  sim.run();
  read(0, 24);
  assert.deepEqual(reads[1], [{ lba: 0, count: 8 }, { lba: 16, count: 8 }]);
});

Deno.test("page cache: the last page of an image is read only up to the image's end", () => {
  const sim = new Simulation();
  const cache = new PageCache({ bytes: 1 << 20 });
  cache.addImage("small", 5 * 512);
  const asked: Run[][] = [];
  cache.read("small", 4, 1, (runs) => (asked.push(runs), sim.timeout(1)));
  assert.deepEqual(asked, [[{ lba: 0, count: 5 }]]);
});

Deno.test("page cache of 0 bytes holds nothing: every request reads, nobody waits for another", () => {
  const { cache, reads, read } = rig(0);
  read(0, 8);
  assert.equal(read(0, 8).length, 1);
  assert.equal(reads.length, 2);
  assert.equal(cache.residentPages, 0);
});

Deno.test("page cache evicts by CLOCK: referenced pages get a second chance, pages being read never go", () => {
  const { sim, cache, reads, read } = rig(4 * 4 * KiB); // 4 pages
  const page = (p: number) => read(p * 8, 8);
  for (let p = 0; p < 4; p++) page(p);
  sim.run();
  page(0); // referenced
  page(4); // full: the hand clears 0's bit, then evicts 1; page 4 is being read until t=200
  assert.equal(cache.residentPages, 4);
  const before = reads.length;
  page(1);
  assert.equal(reads.length, before + 1, "page 1 was the victim");
  assert.deepEqual(page(0), [], "page 0 survived");
  assert.equal(page(4).length, 1, "page 4 is being read: waited for");
  assert.equal(reads.length, before + 1, "and not read again");
});

Deno.test("property: the cache holds at most its capacity, and a request that fits is then cached whole", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 16 }),
      fc.array(fc.record({ lba: fc.nat(4095), count: fc.integer({ min: 1, max: 64 }) }), {
        maxLength: 60,
      }),
      (pages, reqs) => {
        const { sim, cache, reads, read } = rig(pages * 4 * KiB);
        for (const r of reqs) {
          const count = Math.min(r.count, 4096 - r.lba);
          const before = reads.length;
          read(r.lba, count);
          for (const runs of reads.slice(before)) {
            for (const x of runs) assert.ok(x.lba % 8 === 0 && x.count % 8 === 0, "page-aligned");
          }
          sim.run();
          assert.ok(cache.residentPages <= pages);
          const span = Math.floor((r.lba + count - 1) / 8) - Math.floor(r.lba / 8) + 1;
          if (span <= pages) assert.deepEqual(read(r.lba, count), []);
        }
      },
    ),
  );
});

Deno.test("bad page cache arguments give a RangeError naming the field or the image", () => {
  assert.throws(() => new PageCache({ bytes: -1 }), /'bytes'/);
  assert.throws(() => new PageCache({ bytes: 1, pageBytes: 1000 }), /'pageBytes'/);
  const { cache, read } = rig(1);
  assert.throws(() => cache.addImage("os", 512), /'os'/);
  const never = () => {
    throw new Error("no read expected");
  };
  assert.throws(() => cache.read("nope", 0, 1, never), /'nope'/);
  assert.throws(() => read(4095, 2), /\[4095, 4097\) are not within image 'os'/);
});

Deno.test("page cache: a read the disk fails caches nothing and gives its room back", () => {
  const sim = new Simulation();
  const cache = new PageCache({ bytes: 2 * 4096 }); // two pages
  cache.addImage("os", 1 << 20);
  let fail = true;
  const asked: Run[][] = [];
  const disk = (runs: Run[]) => {
    asked.push(runs);
    return sim.timeout(1_000, { ok: !fail, error: fail ? "unc" : undefined });
  };
  cache.read("os", 0, 16, disk); // pages 0 and 1: the read fails
  sim.run();
  assert.equal(cache.residentPages, 0);
  fail = false;
  // Read again from the disk (not served from pages it never returned), and the room is there.
  assert.equal(cache.read("os", 0, 16, disk).length, 1);
  sim.run();
  assert.deepEqual(asked[1], [{ lba: 0, count: 16 }]);
  assert.equal(cache.residentPages, 2);
  assert.deepEqual(cache.read("os", 0, 16, disk), []);
  // Full: a new page evicts a cached one (the FREE slots were reused, not leaked).
  cache.read("os", 16, 8, disk);
  sim.run();
  assert.equal(cache.residentPages, 2);
});
