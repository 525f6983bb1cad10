import assert from "node:assert/strict";
import { BUILTIN_PROFILE, loadProfile } from "../../lib/scenario/mod.ts";
import { type FleetRun, runFleet } from "../../lib/scenario/fleet.ts";
import { fleetTrace, type TraceEvent } from "../../lib/scenario/trace.ts";

const profile = await loadProfile(BUILTIN_PROFILE);

/** Complete events of each (pid, tid) lane, in order. */
function lanes(events: readonly TraceEvent[]): Map<string, TraceEvent[]> {
  const out = new Map<string, TraceEvent[]>();
  for (const e of events.filter((x) => x.ph === "X")) {
    const k = `${e.pid}/${e.tid}`;
    out.set(k, [...(out.get(k) ?? []), e]);
  }
  return out;
}

Deno.test("fleet trace: per node its POST from power-on, then its phases on the run's clock", () => {
  const run = runFleet({
    profile,
    point: { run: "r", strategy: "nfsroot", nodes: 3, seed: 1, staggerS: 30 },
  });
  // The power-on spread shows in the totals: the first node at 0, each POST ends its duration later.
  const post = profile.firmware.postDuration.value / 1e9;
  assert.equal(Math.min(...run.totals.map((t) => t.powerOnS)), 0);
  for (const t of run.totals) assert.ok(Math.abs(t.postEndS - t.powerOnS - post) < 1e-9);
  assert.ok(new Set(run.totals.map((t) => t.powerOnS)).size === 3, "staggered");
  const trace = fleetTrace([run]);
  const names = trace.traceEvents.filter((e) => e.name === "thread_name").map((e) => e.args!.name);
  assert.deepEqual(names, ["node0", "node1", "node2"]);
  for (const [i, t] of run.totals.entries()) {
    const ev = trace.traceEvents.filter((e) => e.ph === "X" && e.tid === i);
    assert.deepEqual(ev.map((e) => e.name), ["POST", "OS boot"]);
    assert.equal(ev[0].ts, Math.round(t.powerOnS * 1e6));
    assert.equal(ev[0].ts! + ev[0].dur!, ev[1].ts, "the boot starts where the POST ends");
    assert.ok(Math.abs(ev[1].ts! + ev[1].dur! - (t.postEndS + t.totalS) * 1e6) <= 1);
  }
  assert.equal(JSON.parse(JSON.stringify(trace)).displayTimeUnit, "ms");
});

Deno.test("fleet trace puts phases that overlap on a lane of their own, so every lane nests", () => {
  const key = { run: "r", strategy: "bmcast", nodes: 1, imageGb: 32, seed: 1, staggerS: 0 };
  const run: FleetRun = {
    phases: [
      { ...key, node: "node0", phase: "VMM boot", startS: 0, endS: 5 },
      { ...key, node: "node0", phase: "OS boot", startS: 5, endS: 60 },
      { ...key, node: "node0", phase: "copy", startS: 5, endS: 500 },
      { ...key, node: "node0", phase: "de-virtualize", startS: 500, endS: 501 },
    ],
    totals: [{ ...key, node: "node0", powerOnS: 0, postEndS: 130, totalS: 60, deployedS: 501 }],
    summary: {
      ...key,
      firstS: 60,
      meanS: 60,
      lastS: 60,
      readyS: 190,
      serverGb: 32,
      serverDiskGb: 32,
      serverRequests: 1,
      serverLinkPct: 50,
      serverDiskPct: 50,
    },
  };
  const trace = fleetTrace([run]);
  const byLane = lanes(trace.traceEvents);
  assert.deepEqual(
    [...byLane.values()].map((l) => l.map((e) => e.name)),
    [["POST", "VMM boot", "OS boot", "de-virtualize"], ["copy"]],
  );
  for (const events of byLane.values()) {
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i].ts! >= events[i - 1].ts! + events[i - 1].dur!, "no overlap in a lane");
    }
  }
  const names = trace.traceEvents.filter((e) => e.name === "thread_name").map((e) => e.args!.name);
  assert.deepEqual(names, ["node0", "node0 copy"]);
  assert.equal(byLane.get("0/1")![0].ts, (130 + 5) * 1e6);
});

Deno.test("fleet trace shows an image-server outage on a lane of its own, over the boot it stalls", () => {
  const run = runFleet({
    profile,
    point: {
      run: "r",
      strategy: "nfsroot",
      nodes: 1,
      seed: 1,
      outage: { atS: 150, durationS: 20 },
    },
  });
  const trace = fleetTrace([run]);
  const names = trace.traceEvents.filter((e) => e.name === "thread_name").map((e) => e.args!.name);
  assert.deepEqual(names, ["node0", "image server"]);
  const [outage] = trace.traceEvents.filter((e) => e.cat === "fault");
  assert.deepEqual([outage.name, outage.tid, outage.ts, outage.dur], ["outage", 1, 150e6, 20e6]);
  const boot = trace.traceEvents.find((e) => e.name === "OS boot")!;
  assert.ok(boot.ts! < outage.ts! && boot.ts! + boot.dur! > outage.ts! + outage.dur!);
  const calm = runFleet({ profile, point: { run: "r", strategy: "nfsroot", nodes: 1, seed: 1 } });
  assert.ok(!fleetTrace([calm]).traceEvents.some((e) => e.cat === "fault"));
});

Deno.test("fleet trace clips an outage lane to the run's end and leaves out one that begins after it", () => {
  // A local install needs the image server only for its first reads: the run
  // (until every node is up) ends long before an hour-long outage does.
  const outage = { atS: 10, durationS: 3600 };
  const run = runFleet({
    profile,
    point: { run: "r", strategy: "kvm-local", nodes: 1, seed: 1, outage },
  });
  const trace = fleetTrace([run]);
  const runEnd = Math.round(run.summary.readyS * 1e6);
  const phases = trace.traceEvents.filter((e) => e.ph === "X" && e.cat !== "fault");
  assert.ok(Math.abs(Math.max(...phases.map((e) => e.ts! + e.dur!)) - runEnd) <= 1);
  const [lane] = trace.traceEvents.filter((e) => e.cat === "fault");
  assert.deepEqual([lane.ts, lane.ts! + lane.dur!], [10e6, runEnd]);
  assert.deepEqual(lane.args, { atS: 10, durationS: 3600 }, "args give the outage as configured");

  const late = { atS: 3600, durationS: 20 };
  const after = runFleet({
    profile,
    point: { run: "r", strategy: "kvm-local", nodes: 1, seed: 1, outage: late },
  });
  const events = fleetTrace([after]).traceEvents;
  assert.ok(!events.some((e) => e.cat === "fault"));
  const names = events.filter((e) => e.name === "thread_name").map((e) => e.args!.name);
  assert.deepEqual(names, ["node0"], "no image-server lane");
});
