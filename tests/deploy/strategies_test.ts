import assert from "node:assert/strict";
import {
  bareMetal,
  bmcast,
  bmcastMulticast,
  buildWorld,
  BUILTIN_PROFILE,
  finishDeployment,
  kvmLocal,
  kvmNfs,
  type KvmStartupOptions,
  loadProfile,
  nfsRoot,
  serverOutage,
  type StartupOptions,
  startupStrategy,
  strategyNames,
  type World,
} from "../../lib/deploy/mod.ts";
import { timelineFigure, toSvg } from "../../lib/plot/mod.ts";
import { NO_VERSION } from "../../lib/_util/mod.ts";

/** Sectors of the copy still never written on `node`'s disk. */
function unwritten(w: World, node: World["nodes"][number]): number {
  let n = 0;
  for (const run of w.copyRuns) {
    for (let i = run.lba; i < run.lba + run.count; i++) {
      if (node.disk.content.get(i) === NO_VERSION) n++;
    }
  }
  return n;
}

Deno.test("a BMcast deployment records every phase (firmware, PXE, VMM boot, OS boot, copy, de-virtualize) and writes every sector it copies", async () => {
  const w = buildWorld(await loadProfile(BUILTIN_PROFILE), { imageBytes: 12e9 });
  const node = w.nodes[0];
  w.sim.process(function* () {
    yield* node.firmware.powerOn();
    const up = yield* bmcast(w, node);
    yield* finishDeployment(w, node, up);
  });
  w.sim.run();
  const phases = w.rec.spans().map((s) => s.phase);
  for (
    const p of [
      "post",
      "dhcp",
      "tftp",
      "VMM boot",
      "local-boot",
      "OS boot",
      "copy",
      "de-virtualize",
    ]
  ) {
    assert.ok(phases.includes(p), `missing phase ${p}: ${phases.join(", ")}`);
  }
  assert.ok(node.cpus.every((c) => c.vmx === "off"));
  // The spans feed the per-node timeline figure.
  const svg = toSvg(timelineFigure(w.rec.spans()));
  assert.match(svg, /<svg/);
  // Every sector the copy brings holds the image or the guest's data; no illegal access.
  const lost = unwritten(w, node);
  // A VMM command issued while the guest had the port stopped used to be
  // ignored by the HBA and taken for done: its sectors were never written.
  assert.equal(lost, 0, "sectors marked copied but never written");
  assert.deepEqual(node.hba.port(0).counters.illegal, {});
});

Deno.test("a guest that resets its disk during an outage: the mediator drops its stuck redirects, the boot recovers, the copy stays whole", async () => {
  const w = buildWorld(await loadProfile(BUILTIN_PROFILE), { imageBytes: 12e9 });
  const node = w.nodes[0];
  serverOutage(w, { start: 150e9, duration: 60e9 }); // POST ends at 130 s: 20 s into the boot
  let boot: { errors: number } | undefined;
  w.sim.process(function* () {
    yield* node.firmware.powerOn();
    const up = yield* bmcast(w, node);
    boot = up.boot;
    const m = up.mediator!;
    assert.ok(m.stats.abortedGuestCommands >= 1, "the guest's port stop dropped its held read");
    assert.ok(up.driver.resets! >= 2);
    yield* finishDeployment(w, node, up);
  });
  w.sim.run();
  assert.equal(boot?.errors, 0);
  const lost = unwritten(w, node);
  assert.equal(lost, 0);
  assert.deepEqual(node.hba.port(0).counters.illegal, {});
  assert.ok(node.cpus.every((c) => c.vmx === "off"), "de-virtualized after all");
});

Deno.test("the bare-metal path: firmware, boot from the local disk holding the image, a workload", async () => {
  const w = buildWorld(await loadProfile(BUILTIN_PROFILE), {
    imageBytes: 12e9,
    preinstalled: true,
  });
  const node = w.nodes[0];
  let ok = false;
  w.sim.process(function* () {
    yield* node.firmware.powerOn();
    const up = yield* bareMetal(w, node);
    // the booted OS reads image blocks back from its own disk
    const r = (yield up.driver.read({ lba: 4096, count: 8 })) as {
      ok: boolean;
      versions: Int32Array;
    };
    ok = r.ok && r.versions.every((v) => v === 0);
  });
  w.sim.run();
  assert.ok(ok);
  const spans = w.rec.spans();
  assert.deepEqual(spans.map((s) => s.phase), ["post", "local-boot", "OS boot"]);
  assert.ok(node.cpus.every((c) => c.exitCount === 0), "bare metal never exits");
});

Deno.test("BMcast's copier fetches as many chunks ahead as copyPipeline says, the profile's pipeline by default", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const peakFetches = (copyPipeline?: number) => {
    const w = buildWorld(profile, { imageBytes: 12e9 });
    const node = w.nodes[0];
    let peak = 0;
    w.sim.process(function* () {
      yield* node.firmware.powerOn();
      yield* bmcast(w, node, { copyPipeline });
      // The guest is quiet now: every image request is the copier's.
      for (let i = 0; i < 2_000; i++) {
        yield w.sim.timeout(5_000_000);
        peak = Math.max(peak, node.image.outstanding);
      }
    });
    w.sim.run(w.sim.now + 400e9);
    return peak;
  };
  assert.equal(peakFetches(1), 1);
  assert.equal(peakFetches(), profile.vmm.pipeline.value);
});

Deno.test("a BMcast strategy refuses a misspelt option and a bad copy policy when it is called", async () => {
  const w = buildWorld(await loadProfile(BUILTIN_PROFILE), { preinstalled: true }); // for kvm-local
  const node = w.nodes[0];
  assert.throws(() => bmcast(w, node, { copyPipelin: 3 } as StartupOptions), {
    name: "RangeError",
    message: "Cannot start bmcast: 'copyPipelin' is not an option, did you mean copyPipeline? " +
      "The options are copyPolicy, copyPipeline, backgroundCopy, copyOrder",
  });
  assert.throws(() => bmcastMulticast(w, node, { boot: false } as StartupOptions), {
    name: "RangeError",
    message: "Cannot start bmcast-multicast: 'boot' is not an option: " +
      "the options are copyPolicy, copyPipeline, backgroundCopy, copyOrder",
  });
  assert.throws(
    () => bmcast(w, node, { copyPolicy: { kind: "adaptive", minIdle: 0, maxIdle: 1, step: -1 } }),
    {
      name: "RangeError",
      message:
        "Cannot start bmcast: 'copyPolicy.step' Too small: expected number to be >0: current value is -1",
    },
  );
  // Every bad value of a known option at once, before anything runs.
  assert.throws(
    () =>
      bmcast(w, node, {
        copyPipeline: 0,
        backgroundCopy: "yes",
        copyPolicy: { kind: "idel" },
        copyOrder: [{ lba: 0, count: 0 }],
      } as never),
    {
      name: "RangeError",
      message: "Cannot start bmcast: 'copyPipeline' must be an integer >= 1: current value is 0; " +
        `'backgroundCopy' must be true or false: current value is "yes"; ` +
        `'copyPolicy.kind' must be one of idle, rate, adaptive: current value is "idel"; ` +
        `'copyOrder.0' must be a run { lba, count } of whole sectors, lba >= 0, count >= 1, ` +
        `within [0, ${w.imageSectors}): current value is {"lba":0,"count":0}`,
    },
  );
  assert.throws(
    () => bmcast(w, node, { copyOrder: [{ lba: 0, count: 8 }, { lba: 1.5, count: 8 }] }),
    /^RangeError: Cannot start bmcast: 'copyOrder.1' must be a run \{ lba, count \} of whole sectors, lba >= 0, count >= 1, within \[0, \d+\): current value is \{"lba":1.5,"count":8\}$/,
  );
  // Past the image's end: BMcast's own check, with the others.
  assert.throws(
    () => bmcast(w, node, { copyPipeline: 0, copyOrder: [{ lba: w.imageSectors, count: 8 }] }),
    /'copyPipeline' must be an integer >= 1: current value is 0; 'copyOrder.0' must be a run .* within \[0, \d+\)/,
  );
  // A per-run copier the profile's own checks would refuse: a bucket that never holds a chunk
  // (the copier would never copy), more chunks ahead than the VMM's memory holds.
  assert.throws(
    () =>
      bmcast(w, node, {
        copyPolicy: { kind: "rate", bytesPerSecond: 1e8, burstBytes: 1000 },
        copyPipeline: 100,
      }),
    {
      name: "RangeError",
      message: "Cannot start bmcast: 'copyPolicy.burstBytes' must be >= the copy chunk " +
        "(vmm.chunkSectors: 8192 x 512 = 4194304 bytes), or the copier never copies: current value " +
        "is 1000; 'copyPipeline' must be <= 47 to keep the copier's buffers, (copyPipeline + 1) x " +
        "4194304 bytes, in the VMM's memory above its image (3/4 of vmm.memoryBytes: 201326592 " +
        "bytes): current value is 100",
    },
  );
  assert.doesNotThrow(() => bmcast(w, node, { copyPipeline: 47 }));
  // Every strategy takes BMcast's options, and refuses a bad one.
  assert.throws(
    () => nfsRoot(w, node, { copyOrder: "junk" } as never),
    /^RangeError: Cannot start nfsroot: 'copyOrder' must be an array of runs \{ lba, count \}/,
  );
  assert.throws(
    () => kvmLocal(w, node, { boot: "no" } as never),
    /^RangeError: Cannot start kvm-local: 'boot' must be true or false: current value is "no"$/,
  );
  // KVM's strategies take BMcast's options (and ignore them) and their own.
  assert.throws(
    () => kvmLocal(w, node, { bot: false } as KvmStartupOptions),
    /^RangeError: Cannot start kvm-local: 'bot' is not an option, did you mean boot\? The options are copyPolicy, copyPipeline, backgroundCopy, copyOrder, boot$/,
  );
  assert.throws(() => kvmNfs(w, node, { boot: false, x: 1 } as KvmStartupOptions), /'x'/);
  assert.doesNotThrow(() => kvmLocal(w, node, { boot: false, copyPipeline: 2 }));
});

Deno.test("every strategy refuses a misspelt option when it is called, and takes BMcast's options", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  for (const name of strategyNames()) {
    const { start, preinstalled } = startupStrategy(name);
    const w = buildWorld(profile, { imageBytes: 12e9, preinstalled });
    const node = w.nodes[0];
    assert.throws(() => start(w, node, { copyPipelin: 3 } as StartupOptions), {
      name: "RangeError",
      message: new RegExp(
        `^Cannot start ${name}: 'copyPipelin' is not an option, did you mean copyPipeline\\? ` +
          "The options are copyPolicy, copyPipeline, backgroundCopy, copyOrder(, boot)?$",
      ),
    });
    // The elasticity experiment gives every strategy BMcast's options.
    assert.doesNotThrow(() => start(w, node, { copyPipeline: 2, copyPolicy: undefined }), name);
  }
});

Deno.test("bare metal and KVM/Local refuse a local disk without the image, naming preinstalled", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const w = buildWorld(profile, { imageBytes: 12e9 }); // not preinstalled: blank disks
  const node = w.nodes[0];
  const sectors = w.copyRuns.reduce((n, r) => n + r.count, 0);
  for (const name of ["bare-metal", "kvm-local"]) {
    assert.throws(() => startupStrategy(name).start(w, node), {
      name: "RangeError",
      message: `Cannot start ${name} on 'node0': its local disk does not hold the image ` +
        `(${sectors} of the image's ${sectors} sectors to copy are blank): build the world ` +
        "with { preinstalled: true }, or install the image first",
    });
  }
  // One sector missing is enough.
  const pre = buildWorld(profile, { imageBytes: 12e9, preinstalled: true });
  pre.nodes[0].disk.content.fill(w.copyRuns[0].lba, 1, NO_VERSION);
  assert.throws(
    () => bareMetal(pre, pre.nodes[0]),
    /\(1 of the image's \d+ sectors to copy are blank\)/,
  );
});

Deno.test("a strategy started before the node is powered on says to power it on first", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  for (const name of ["bare-metal", "image-copy", "bmcast", "kvm-nfs"]) {
    const { start, preinstalled } = startupStrategy(name);
    const w = buildWorld(profile, { imageBytes: 12e9, preinstalled });
    w.sim.process(start(w, w.nodes[0]));
    assert.throws(() => w.sim.run(), {
      message:
        /^firmware 'node0': illegal transition off -> (local-boot|pxe): power the node on first: yield\* node\.firmware\.powerOn\(\)$/,
    }, name);
  }
});
