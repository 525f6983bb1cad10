import assert from "node:assert/strict";
import { makeRig } from "./_harness.ts";
import { Recorder } from "../../lib/sim/mod.ts";
import { recordDevirtualization, recordVmmSignals } from "../../lib/vmm/mod.ts";
import type { IoResult } from "../../lib/guest/mod.ts";

Deno.test("VMM signals become tidy rows: exits rise while virtualized and stay flat after", () => {
  const rig = makeRig({ virtualized: true, sectors: 2048, chunkSectors: 128 });
  const rec = new Recorder(rig.sim, { run: "signals" });
  let devirtAt = 0;
  rig.sim.process(function* () {
    yield* rig.vmm!.start();
    yield rig.driver.init();
    recordVmmSignals(rec, {
      vmm: rig.vmm!,
      mediator: rig.mediator!,
      progress: () => rig.map!.progress,
      every: 1_000_000,
      until: 200_000_000,
    });
    rig.sim.process(rig.copier!.run());
    for (let i = 0; i < 10; i++) {
      assert.ok(((yield rig.driver.read({ lba: i * 100, count: 8 })) as IoResult).ok);
    }
    yield* rig.vmm!.untilFinished();
    yield* rig.vmm!.devirtualize();
    devirtAt = rig.sim.now;
    recordDevirtualization(rec, rig.vmm!, "node0");
    for (let i = 0; i < 10; i++) {
      assert.ok(((yield rig.driver.read({ lba: i * 100, count: 8 })) as IoResult).ok);
    }
  });
  rig.sim.run();
  const exits = rec.samples().filter((r) => r.metric === "vm_exits");
  assert.ok(exits.length > 10);
  const before = exits.filter((r) => r.time < devirtAt);
  const after = exits.filter((r) => r.time > devirtAt);
  assert.ok(before[before.length - 1].value > before[0].value, "exits rise while virtualized");
  assert.ok(
    after.length > 2 && after.every((r) => r.value === after[0].value),
    "flat after de-virtualization",
  );
  const progress = rec.samples().filter((r) => r.metric === "copy_progress").map((r) => r.value);
  assert.equal(progress[progress.length - 1], 1);
  assert.deepEqual(rec.spans().map((s) => s.phase), [
    "I/O mediation off",
    "EPT off",
    "VMXOFF on every CPU",
  ]);
});
