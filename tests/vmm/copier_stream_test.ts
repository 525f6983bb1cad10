/**
 * The stream-fed copier (BackgroundCopier.runFromStream) when the disk fails a
 * piece: the stream does not send it again, so the copier fetches what is
 * still absent itself, by run()'s rule (retried on later laps, given up after
 * COPY_ATTEMPTS).
 */
import assert from "node:assert/strict";
import { imageVersion, makeRig, type Rig } from "./_harness.ts";
import type { ProcessGenerator, SimEvent } from "../../lib/sim/mod.ts";
import { COPY_ATTEMPTS, type ImageStream } from "../../lib/vmm/copier.ts";

const SECTORS = 2048;
const PIECE = 256;

/** A stream that delivers every piece of the image once, in order, as a multicast lap would. */
function lapStream(rig: Rig): ImageStream {
  return (write) =>
    rig.sim.process(
      (function* (): ProcessGenerator<void> {
        for (let lba = 0; lba < SECTORS; lba += PIECE) {
          const v = Int32Array.from({ length: PIECE }, (_, i) => imageVersion(lba + i));
          yield write(lba, v) as SimEvent<unknown>;
        }
      })(),
      "test stream",
    );
}

function streamRig(fail: (lba: number, tries: number) => boolean) {
  const rig = makeRig({ virtualized: true, sectors: SECTORS, chunkSectors: PIECE });
  const tries = new Map<number, number>();
  rig.disk.fail = (c) => {
    if (c.op !== "write") return undefined;
    const n = (tries.get(c.lba) ?? 0) + 1;
    tries.set(c.lba, n);
    return fail(c.lba, n) ? "abrt" : undefined;
  };
  rig.sim.process(function* () {
    yield* rig.vmm!.start();
    yield rig.driver.init();
    yield* rig.copier!.runFromStream(lapStream(rig));
  });
  rig.sim.run();
  return rig;
}

Deno.test("BackgroundCopier.runFromStream() fetches a piece the disk failed once the stream has ended; the copy completes", () => {
  // Every try of the VMM's write at 512 fails (the mediator retries 5 times) until the stream is done.
  const rig = streamRig((lba, n) => lba === 512 && n <= 6);
  const s = rig.copier!.stats;
  assert.equal(s.failedCopies, 1, "the stream's piece");
  assert.ok(rig.map!.complete, "before the fix the piece stayed absent");
  assert.ok(
    !Number.isNaN(s.finishedAt),
    "before the fix finishedAt was set with the copy incomplete",
  );
  assert.equal(s.chunksGivenUp, 0);
  assert.deepEqual(
    rig.image!.runs,
    [{ lba: 512, count: PIECE }],
    "only the failed piece by unicast",
  );
  assert.deepEqual(
    [...rig.disk.content.read(512, PIECE)],
    Array.from({ length: PIECE }, (_, i) => imageVersion(512 + i)),
  );
  assert.ok(rig.mediator!.finished, "the VMM may de-virtualize");
});

Deno.test("BackgroundCopier.runFromStream() gives a piece up after COPY_ATTEMPTS unicast tries, as run() does", () => {
  const rig = streamRig((lba) => lba === 512);
  const s = rig.copier!.stats;
  assert.deepEqual([s.failedCopies, s.chunksGivenUp], [1 + COPY_ATTEMPTS, 1]);
  assert.equal(rig.image!.requests, COPY_ATTEMPTS);
  assert.ok(Number.isNaN(s.finishedAt), "the copy did not complete");
  assert.equal(rig.map!.presentSectors, SECTORS - PIECE);
  assert.ok(!rig.mediator!.finished && rig.mediator!.canDetach());
});
