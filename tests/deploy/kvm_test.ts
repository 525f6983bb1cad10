import assert from "node:assert/strict";
import { IMAGE_VERSION } from "../../lib/_util/mod.ts";
import type { ProcessGenerator } from "../../lib/sim/mod.ts";
import type { IoResult } from "../../lib/guest/mod.ts";
import { buildWorld, BUILTIN_PROFILE, loadProfile, values } from "../../lib/deploy/mod.ts";
import {
  kvmLocal,
  kvmNfs,
  type KvmStartupResult,
  startKvm,
  vmCpuTime,
} from "../../lib/deploy/kvm.ts";
import type { World } from "../../lib/deploy/mod.ts";

const profile = await loadProfile(BUILTIN_PROFILE);

/** Runs `gen` on a fresh world until it returns (a deploying node would run on). */
function runOn<T>(w: World, gen: ProcessGenerator<T>): T {
  const p = w.sim.process(gen);
  w.sim.run(p);
  return p.value as T;
}

const exitsOf = (w: World) => w.nodes[0].cpus.map((c) => c.exitCount);

Deno.test("kvm-nfs starts the host and VMM, then boots the guest from the remote image file", () => {
  const w = buildWorld(profile); // the boot's log area lies 10 GB into the 32 GB image
  const node = w.nodes[0];
  const r = runOn(
    w,
    function* () {
      yield* node.firmware.powerOn();
      return yield* kvmNfs(w, node);
    }(),
  ) as KvmStartupResult;
  const k = values(profile.kvm);
  assert.equal(r.method, "kvm-nfs");
  assert.deepEqual(r.phases.map((p) => p.phase), ["host and VMM start", "OS boot"]);
  const host = r.phases[0];
  assert.equal(
    host.end - host.start,
    profile.firmware.localBootDelay.value + k.hostOsBoot + k.vmmStart + k.guestFirmware,
  );
  assert.equal(r.total, r.phases[1].end - r.phases[0].start);
  // Every boot read went over the network; the log writes stayed in the host's overlay.
  assert.ok(r.boot.reads > 1000 && r.boot.errors === 0);
  assert.equal(r.imageFile!.stats.remoteReads, r.boot.reads);
  assert.equal(r.imageFile!.stats.overlayWrites, r.boot.writes);
  assert.equal(node.disk.stats().reads, 0, "the guest never touched the local disk");
  // Exits: virtio's kicks, injections and EOIs on vCPU 0, timer ticks on every vCPU.
  const exits = exitsOf(w);
  assert.ok(r.virtio.stats.exits > 2 * r.boot.reads);
  assert.ok(exits[0] >= r.virtio.stats.exits);
  assert.ok(exits.slice(1).every((n) => n > 0), `timer exits on every vCPU: ${exits}`);
  assert.ok(node.cpus.every((c) => c.vmx === "non-root" && c.ept));
});

Deno.test("kvm-local with boot: false leaves a running VM whose virtio disk is the local HDD", () => {
  const w = buildWorld(profile, { preinstalled: true, imageBytes: 1e9 });
  const node = w.nodes[0];
  let got: IoResult | undefined;
  let exitsPerRequest = 0;
  const r = runOn(
    w,
    function* () {
      yield* node.firmware.powerOn();
      const r = yield* kvmLocal(w, node, { boot: false });
      const before = r.virtio.stats.exits;
      got = (yield r.driver.read({ lba: 4096, count: 16 })) as IoResult;
      exitsPerRequest = r.virtio.stats.exits - before;
      return r;
    }(),
  );
  assert.equal(r.method, "kvm-local");
  assert.deepEqual(r.phases.map((p) => p.phase), ["host and VMM start"]);
  assert.equal(r.boot.reads, 0);
  assert.equal(r.vm.state, "running");
  assert.equal(r.vm.vcpus.length, profile.boot.cores.value);
  assert.ok(got!.ok);
  assert.deepEqual([...got!.versions!], new Array(16).fill(IMAGE_VERSION));
  assert.equal(node.disk.stats().reads, 1);
  assert.equal(exitsPerRequest, 3, "kick, interrupt injection, EOI");
});

Deno.test("guest CPU work under KVM pays EPT on its memory-bound part and timer exits", () => {
  const w = buildWorld(profile, { imageBytes: 1e9 });
  const node = w.nodes[0];
  const { vm } = runOn(
    w,
    function* () {
      yield* node.firmware.powerOn();
      return yield* startKvm(w, node, { vcpus: 2 });
    }(),
  );
  const cpu = values(profile.cpu);
  const k = values(profile.kvm);
  const exitCost = cpu.vmExit + k.exitHandler + cpu.vmEntry;
  const time = vmCpuTime(vm);
  const second = 1_000_000_000;
  const t0 = time.computeTime(second, 0); // vCPU 0
  const t1 = time.computeTime(second, 1); // vCPU 1: round robin
  const ticks = (t: number) => vm.vcpus.map((c) => c.exits.get("external-interrupt") ?? 0)[t];
  // Ticks accrue over the vCPU's wall time (work + the exits themselves), each a full exit.
  const steal = vm.stealFraction();
  for (const [v, work] of [[0, second], [1, second * (1 + cpu.eptOverhead)]]) {
    const want = (work / (1 - steal)) * k.timerExitsPerSecond / second;
    assert.ok(Math.abs(ticks(v) - want) <= 1, `vCPU ${v}: ${ticks(v)} ticks, want ~${want}`);
  }
  assert.equal(t0, second + ticks(0) * exitCost);
  assert.equal(t1, Math.round(second * (1 + cpu.eptOverhead)) + ticks(1) * exitCost);
  assert.equal(node.cpus[2].exitCount, 0, "CPUs outside the VM see no exits");
});
