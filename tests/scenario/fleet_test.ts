import assert from "node:assert/strict";
import fc from "fast-check";
import { BUILTIN_PROFILE, loadProfile, minImageBytes } from "../../lib/scenario/mod.ts";
import { applyOverrides, buildWorld, serverHost, usedRuns } from "../../lib/deploy/mod.ts";
import {
  type BootParams,
  generateBootTrace,
  kvDataRun,
  KvStoreParamsSchema,
} from "../../lib/workload/mod.ts";
import { bareMetal, registerStrategy, strategyNames } from "../../lib/deploy/mod.ts";
import {
  imageBytesOf,
  MAX_NODES,
  parseScenario,
  type ProfileOverrides,
  runFleet,
  runProfile,
  ScenarioError,
  scenarioPoints,
} from "../../lib/scenario/fleet.ts";
import { ProfileError } from "../../lib/deploy/mod.ts";

const profile = await loadProfile(BUILTIN_PROFILE);
const IMAGE_GB = Math.ceil(minImageBytes(profile) / 1e7) / 100;
/** A one-node run on the smallest image the boot fits in; spread and override fields. */
const ONE_SMALL_NODE = { run: "r", nodes: 1, seed: 1, imageGb: IMAGE_GB } as const;

/**
 * The server's link (`rate` bytes/s) carried what it sent plus the protocol's headers (under
 * 10 %), after the POST: `serverLinkPct` is of that rate.
 */
function assertLinkCarriedSent(
  s: { serverLinkPct: number; readyS: number; serverGb: number },
  rate: number,
): void {
  const postS = profile.firmware.postDuration.value / 1e9;
  const wireGb = (s.serverLinkPct / 100) * rate * (s.readyS - postS) / 1e9;
  assert.ok(wireGb > s.serverGb && wireGb < 1.1 * s.serverGb, `${wireGb} vs ${s.serverGb}`);
}

function issuesOf(input: unknown, options = {}): string[] {
  try {
    parseScenario(input, options);
  } catch (e) {
    assert.ok(e instanceof ScenarioError);
    return e.issues;
  }
  return [];
}

Deno.test("scenario parser reports every bad field at once, named by its label", () => {
  const issues = issuesOf(
    {
      strategy: "bogus",
      nodes: 0,
      seed: "x",
      imageGb: 1,
      staggerS: -5,
      colour: "red",
      sweep: "nodes=1,0",
    },
    { profile, labels: { nodes: "--nodes", imageGb: "--image-gb" } },
  );
  assert.equal(issues.length, 8, issues.join("\n"));
  assert.match(issues.join("\n"), /^staggerS: must be >= 0: current value is -5$/m);
  assert.match(issues.join("\n"), /^strategy: must be one of bare-metal, .*"bogus"$/m);
  assert.match(issues.join("\n"), /^--nodes: must be >= 1: current value is 0$/m);
  assert.match(issues.join("\n"), /^seed: must be an integer: current value is "x"$/m);
  assert.match(issues.join("\n"), /^colour: is not a scenario field/m);
  assert.match(issues.join("\n"), /^--nodes: is also swept by sweep/m);
  assert.match(issues.join("\n"), /^--image-gb: must be >= [\d.]+ to hold/m);
  assert.match(issues.join("\n"), /^sweep\.nodes\[1\]: must be >= 1: current value is "0"$/m);
  assert.deepEqual(issuesOf({ strategy: "nfsroot", sweep: "nodes=1,2" }), []);
  assert.deepEqual(issuesOf({ seed: 2 ** 32 }), [
    "seed: must be <= 4294967295: current value is 4294967296",
  ]);
});

Deno.test("a bad swept value is named as its caller wrote the parameter", () => {
  const bad = { sweep: "stagger-s=0,-3" };
  assert.deepEqual(issuesOf(bad), [`sweep.staggerS[1]: must be >= 0: current value is "-3"`]);
  assert.deepEqual(issuesOf(bad, { labels: { sweep: "--sweep" } }), [
    `--sweep stagger-s[1]: must be >= 0: current value is "-3"`,
  ]);
});

Deno.test("scenario parser accepts any valid flags as strings and expands the sweep", () => {
  const names = strategyNames();
  fc.assert(
    fc.property(
      fc.constantFrom(...names),
      fc.integer({ min: 1, max: MAX_NODES }),
      fc.integer({ min: 0, max: 2 ** 31 }),
      // Without repeats: a sweep naming a value twice is refused (two runs of one name).
      fc.uniqueArray(fc.integer({ min: 1, max: MAX_NODES }), { minLength: 1, maxLength: 5 }),
      (strategy, nodes, seed, sweep) => {
        const s = parseScenario({
          strategy,
          seed: String(seed),
          sweep: `nodes=${sweep.join(",")}`,
        });
        const points = scenarioPoints(s);
        assert.deepEqual(points.map((p) => p.nodes), sweep);
        assert.ok(points.every((p) => p.strategy === strategy && p.seed === seed));
        assert.equal(parseScenario({ strategy, nodes: String(nodes) }).nodes, nodes);
      },
    ),
  );
});

Deno.test("fleet: nodes sharing one image server come up no faster than one alone, read its disk once, deterministically", () => {
  const run = (nodes: number) =>
    runFleet({
      profile,
      point: { run: "r", strategy: "nfsroot", nodes, seed: 3, imageGb: IMAGE_GB },
    });
  const one = run(1), three = run(3);
  assert.equal(three.totals.length, 3);
  assert.deepEqual(three.totals.map((t) => t.node), ["node0", "node1", "node2"]);
  assert.ok(three.summary.firstS >= one.summary.firstS * 0.99, "contention slows every node");
  assert.ok(three.summary.serverGb > 2.5 * one.summary.serverGb, "each node streams its own boot");
  assert.ok(
    three.summary.serverDiskGb < 1.05 * one.summary.serverDiskGb,
    "the server's page cache serves the blocks one node read to the others",
  );
  assert.deepEqual(run(3), three, "same seed, same rows");
});

Deno.test("fleet: staggered nodes power on over S seconds, deterministically; late ones find a warm server cache", () => {
  const post = profile.firmware.postDuration.value / 1e9;
  const run = (staggerS: number) =>
    runFleet({
      profile,
      point: { run: "r", strategy: "nfsroot", nodes: 3, seed: 3, imageGb: IMAGE_GB, staggerS },
    });
  const together = run(0), spread = run(40);
  assert.ok(Math.abs(together.summary.readyS - (post + together.summary.lastS)) < 1e-6);
  assert.ok(spread.summary.readyS <= 40 + post + spread.summary.lastS);
  assert.ok(spread.summary.readyS > post + spread.summary.lastS, "not all at once");
  assert.ok(spread.summary.firstS < together.summary.firstS, "a later node boots from the cache");
  assert.equal(spread.summary.staggerS, 40);
  assert.deepEqual(run(40), spread, "same seed, same power-on instants and rows");
  const s = parseScenario({ strategy: "nfsroot", sweep: "stagger-s=0,7.5" });
  assert.deepEqual(scenarioPoints(s).map((p) => [p.run, p.staggerS]), [
    ["stagger-s=0", 0],
    ["stagger-s=7.5", 7.5],
  ]);
});

Deno.test("fleet: a faster network shortens the image copy only down to the local disk's write rate", () => {
  const run = (set?: ProfileOverrides) =>
    runFleet({
      profile,
      point: { run: "r", strategy: "image-copy", nodes: 2, seed: 1, imageGb: IMAGE_GB, set },
    });
  const copyS = (r: ReturnType<typeof run>) =>
    Math.max(...r.phases.filter((p) => p.phase === "image copy").map((p) => p.endS - p.startS));
  const gbe = run(), fast = run({ "network.lineRate": 10 * profile.network.lineRate.value });
  // Two nodes share the server's 1 Gb/s link: the network is the bottleneck.
  assert.ok(copyS(gbe) > (2 * IMAGE_GB * 1e9) / profile.network.lineRate.value);
  assert.ok(copyS(fast) < copyS(gbe) / 1.5, `${copyS(fast)} vs ${copyS(gbe)}`);
  // No network makes the local disk write faster than its outer zone.
  assert.ok(copyS(fast) > (IMAGE_GB * 1e9) / profile.hdd.outerRate.value);
});

Deno.test("fleet until deployed: BMcast nodes copy and de-virtualize long after they are up; sharing the server delays it", () => {
  const run = (strategy: string, nodes: number) =>
    runFleet({
      profile,
      point: { run: "r", strategy, nodes, seed: 1, imageGb: IMAGE_GB, until: "deployed" },
    });
  const one = run("bmcast", 1), two = run("bmcast", 2);
  const t = one.totals[0];
  assert.ok(t.deployedS! > t.totalS + 30, `${t.deployedS} vs ${t.totalS}`);
  const phase = (r: typeof one, name: string) => r.phases.find((p) => p.phase === name)!;
  assert.equal(phase(one, "de-virtualize").endS, t.deployedS);
  assert.equal(phase(one, "copy").endS, phase(one, "de-virtualize").startS);
  // Two nodes fetch the whole image each through the server's one link.
  assert.ok(two.summary.deployedS! > one.summary.deployedS!);
  assert.ok(two.summary.deployedS! > (2 * IMAGE_GB * 1e9) / profile.network.lineRate.value);
  assert.ok(two.summary.serverGb > 2 * IMAGE_GB * 0.95);
  // readyS still ends when the last OS is up, not when the copies end.
  assert.equal(
    one.summary.readyS,
    runFleet({
      profile,
      point: { run: "r", strategy: "bmcast", nodes: 1, seed: 1, imageGb: IMAGE_GB },
    }).summary.readyS,
  );
  // Image copy is deployed when it is up; NFS root never is.
  const copy = run("image-copy", 1);
  assert.equal(copy.totals[0].deployedS, copy.totals[0].totalS);
  const nfs = run("nfsroot", 1);
  assert.ok(Number.isNaN(nfs.totals[0].deployedS) && Number.isNaN(nfs.summary.deployedS));
});

Deno.test("a registered strategy runs by name: scenarios take it, its world and deployment are as registered", () => {
  registerStrategy("bare-metal-twin", bareMetal, { preinstalled: true, deployed: "never" });
  registerStrategy("bare-metal-blank", bareMetal, { preinstalled: false, deployed: "up" });
  assert.equal(parseScenario({ strategy: "bare-metal-twin" }).strategy, "bare-metal-twin");
  const point = { ...ONE_SMALL_NODE, until: "deployed" } as const;
  const twin = runFleet({ profile, point: { ...point, strategy: "bare-metal-twin" } });
  const bare = runFleet({ profile, point: { ...point, strategy: "bare-metal" } });
  assert.equal(twin.totals[0].totalS, bare.totals[0].totalS);
  assert.ok(Number.isNaN(twin.totals[0].deployedS), "registered as never deployed");
  assert.equal(bare.totals[0].deployedS, bare.totals[0].totalS);
  // Its world starts with blank disks, as registered: bare metal refuses to boot.
  assert.throws(
    () => runFleet({ profile, point: { ...ONE_SMALL_NODE, strategy: "bare-metal-blank" } }),
    /its local disk does not hold the image .*\{ preinstalled: true \}/,
  );
});

Deno.test("a scenario runs until up or until deployed, nothing else", () => {
  assert.deepEqual(issuesOf({ until: "forever" }), [
    'until: must be one of up, deployed: current value is "forever"',
  ]);
});

Deno.test("a scenario changes profile parameters for every run, or sweeps one by its path", () => {
  const s = parseScenario(
    { strategy: "nfsroot", set: { "hdd.rpm": "15000" }, sweep: "network.lineRate=125e6,1.25e9" },
    { profile },
  );
  const points = scenarioPoints(s);
  assert.deepEqual(points.map((p) => [p.run, p.set]), [
    ["network.lineRate=125e6", { "hdd.rpm": 15000, "network.lineRate": 125e6 }],
    ["network.lineRate=1.25e9", { "hdd.rpm": 15000, "network.lineRate": 1.25e9 }],
  ]);
  // The change reaches the run: the same seed with and without it differs, and
  // setting the profile's own value changes nothing.
  const run = (set?: ProfileOverrides) =>
    runFleet({
      profile,
      point: { run: "r", strategy: "nfsroot", nodes: 2, seed: 1, imageGb: IMAGE_GB, set },
    }).summary.lastS;
  const same = { "network.lineRate": profile.network.lineRate.value };
  assert.equal(run(same), run());
  assert.notEqual(run({ "network.lineRate": 1.25e9 }), run());
  const issues = issuesOf(
    { set: { "hdd.rpm": "fast", "disk.x": 1 }, sweep: "hdd.averageSeek=8e6,-1" },
    { profile, labels: { set: "--set", sweep: "--sweep" } },
  );
  assert.equal(issues.length, 3, issues.join("\n"));
  assert.match(issues[0], /^--set: hdd\.rpm: must be a number: current value is "fast"$/);
  assert.match(issues[1], /^--set: disk\.x: no such section \(sections: cpu, memory, /);
  // The swept value is checked against the unchanged profile, since the set is bad.
  assert.match(issues[2], /^--sweep hdd\.averageSeek\[1\]: hdd\.averageSeek\.value: Too small/);
});

Deno.test("fleet: multicast image copy installs four nodes as fast as one, where unicast copies queue", () => {
  const run = (strategy: string, nodes: number) =>
    runFleet({
      profile,
      point: { run: "r", strategy, nodes, seed: 1, imageGb: IMAGE_GB },
    }).summary;
  const one = run("image-copy-multicast", 1), four = run("image-copy-multicast", 4);
  assert.ok(four.lastS < one.lastS * 1.02, `${four.lastS} vs ${one.lastS}`);
  // The server sent the image about once for the four (a chunk or two again for a late join).
  assert.ok(four.serverGb < IMAGE_GB * 1.01, `${four.serverGb}`);
  const uni = run("image-copy", 4);
  assert.ok(uni.lastS > 1.5 * four.lastS, `${uni.lastS} vs ${four.lastS}`);
  assert.ok(uni.serverGb > 4 * IMAGE_GB * 0.99);
  for (const s of [four, uni]) {
    assertLinkCarriedSent(s, profile.network.lineRate.value);
    assert.ok(s.serverDiskPct > 0 && s.serverDiskPct < 100, `${s.serverDiskPct}`);
  }
  // Four unicast copies keep it busier than one stream paced by the nodes' disks.
  assert.ok(
    uni.serverLinkPct > four.serverLinkPct,
    `${uni.serverLinkPct} vs ${four.serverLinkPct}`,
  );
});

Deno.test("a 10 GbE server cable feeds four image copies at their own links' rate; 0 is the line rate", () => {
  const run = (set: ProfileOverrides) =>
    runFleet({
      profile,
      point: { run: "r", strategy: "image-copy", nodes: 4, seed: 1, imageGb: IMAGE_GB, set },
    }).summary;
  const gbe = run({}), ten = run({ "network.serverLinkRate": 1.25e9 });
  assert.deepEqual(run({ "network.serverLinkRate": profile.network.lineRate.value }), gbe);
  // Four copies share one GbE cable; on 10 GbE each is bound by its own link and disk.
  assert.ok(ten.lastS < 0.75 * gbe.lastS, `${gbe.lastS} -> ${ten.lastS}`);
  assert.ok(Math.abs(ten.serverGb / gbe.serverGb - 1) < 0.01, "the same bytes, sooner");
  // link % is of the server's own cable.
  assertLinkCarriedSent(gbe, 125e6);
  assertLinkCarriedSent(ten, 1.25e9);
  assert.ok(
    ten.serverLinkPct < gbe.serverLinkPct / 2,
    `${gbe.serverLinkPct} -> ${ten.serverLinkPct}`,
  );
  // The server's cable, with or without racks; the nodes' keep the line rate.
  for (const rackSize of [0, 2]) {
    const w = buildWorld(
      applyOverrides(profile, {
        "network.serverLinkRate": 1.25e9,
        "network.rackSize": rackSize,
        "imageServer.count": 2,
      }),
      { nodes: 4 },
    );
    const route = w.network.route(serverHost(1), "node3");
    assert.deepEqual(
      [route[0].bandwidth, route.at(-1)!.bandwidth],
      [1.25e9, profile.network.lineRate.value],
    );
  }
});

Deno.test("fleet until deployed: BMcast fed by multicast deploys four nodes about as fast as one", () => {
  const run = (strategy: string, nodes: number) =>
    runFleet({
      profile,
      point: { run: "r", strategy, nodes, seed: 1, imageGb: IMAGE_GB, until: "deployed" },
    }).summary;
  const one = run("bmcast-multicast", 1), four = run("bmcast-multicast", 4);
  assert.ok(four.deployedS! < one.deployedS! * 1.1, `${four.deployedS} vs ${one.deployedS}`);
  // One stream for all (plus laps for pieces dropped while the guests kept the disks busy,
  // and each node's own redirected reads), not an image per node.
  assert.ok(four.serverGb < 2 * IMAGE_GB, `${four.serverGb}`);
  const unicast = run("bmcast", 4);
  assert.ok(
    unicast.deployedS! > 1.5 * four.deployedS!,
    `${unicast.deployedS} vs ${four.deployedS}`,
  );
  assert.ok(unicast.serverGb > 4 * IMAGE_GB * 0.95);
});

Deno.test("a copy of the used blocks only sends and writes those, and BMcast and image copy finish sooner", () => {
  const used = usedRuns(profile, Math.ceil((IMAGE_GB * 1e9) / 512));
  const usedGb = used.reduce((n, r) => n + r.count, 0) * 512 / 1e9;
  assert.ok(usedGb < IMAGE_GB / 1.5, `${usedGb}`);
  const run = (strategy: string, copyScope: string) =>
    runFleet({
      profile,
      point: {
        ...ONE_SMALL_NODE,
        strategy,
        until: "deployed",
        set: { "image.copyScope": copyScope },
      },
    }).summary;
  for (const strategy of ["image-copy", "bmcast", "image-copy-multicast", "bmcast-multicast"]) {
    const all = run(strategy, "all"), some = run(strategy, "used");
    // What reaches the disk is the used blocks (the multicast pieces holding them, whole).
    assert.ok(
      some.serverDiskGb >= usedGb * 0.999 && some.serverDiskGb < usedGb * 1.01,
      `${strategy}: ${some.serverDiskGb} vs ${usedGb}`,
    );
    assert.ok(
      some.deployedS! < all.deployedS!,
      `${strategy}: ${some.deployedS} vs ${all.deployedS}`,
    );
  }
});

Deno.test("the used blocks hold everything the boot and the store read before writing", () => {
  const params = profile.boot.params.value as BootParams;
  const used = usedRuns(profile, 1e9);
  const inUsed = (lba: number, count: number) =>
    used.some((r) => lba >= r.lba && lba + count <= r.lba + r.count);
  for (const seed of [1, 2, 3]) {
    const reads = generateBootTrace(params, seed).ops.filter((op) => op.op === "read");
    assert.ok(reads.length > 1000);
    for (const op of reads) {
      assert.ok(inUsed(op.lba, op.count), `seed ${seed}: ${op.lba}+${op.count}`);
    }
  }
  const data = kvDataRun(KvStoreParamsSchema.parse(profile.cassandra.store.value));
  assert.ok(inUsed(data.lba, data.count));
  assert.ok(inUsed(0, profile.boot.rootLba.value)); // MBR and boot loader
});

Deno.test("fleet with two image servers: each serves every other node, so unicast copies queue half as long", () => {
  const run = (strategy: string, count: number) =>
    runFleet({
      profile,
      point: { ...ONE_SMALL_NODE, strategy, nodes: 4, set: { "imageServer.count": count } },
    });
  const copyS = (r: ReturnType<typeof run>) =>
    Math.max(...r.phases.filter((p) => p.phase === "image copy").map((p) => p.endS - p.startS));
  const one = run("image-copy", 1), two = run("image-copy", 2);
  // Each server's link carries two images instead of four.
  assert.ok(copyS(two) < copyS(one) * 0.6, `${copyS(two)} vs ${copyS(one)}`);
  assert.ok(two.summary.lastS < one.summary.lastS);
  const gb = (r: ReturnType<typeof run>) => r.summary.serverGb;
  assert.ok(Math.abs(gb(two) - gb(one)) < 0.01 * gb(one));
  // Each server reads the image from its own disk once (its page cache serves the rest).
  const disk = (r: ReturnType<typeof run>) => r.summary.serverDiskGb;
  assert.ok(Math.abs(disk(two) - 2 * disk(one)) < 0.01 * disk(one), `${disk(two)} vs ${disk(one)}`);
  // A multicast session per server: the image goes out once from each.
  // The busiest server's link carried about half the bytes the lone server's did.
  const wire = (r: ReturnType<typeof run>) =>
    r.summary.serverLinkPct * (r.summary.readyS - profile.firmware.postDuration.value / 1e9);
  assert.ok(Math.abs(wire(two) / wire(one) - 0.5) < 0.01, `${wire(two)} vs ${wire(one)}`);
  const mc = gb(run("image-copy-multicast", 2));
  assert.ok(mc > 1.98 * IMAGE_GB && mc < 2.05 * IMAGE_GB, `${mc}`);
  assert.deepEqual(
    issuesOf({ set: { "imageServer.count": 0 } }, { profile, labels: { set: "--set" } }),
    ["--set: imageServer.count.value: Too small: expected number to be >=1: current value is 0"],
  );
});

Deno.test("a world with three image servers gives node i server i mod 3, each on its own disk and link", () => {
  const w = buildWorld(applyOverrides(profile, { "imageServer.count": 3 }), { nodes: 5 });
  assert.deepEqual(w.servers.map((s) => s.host), [
    "image-server",
    "image-server-1",
    "image-server-2",
  ]);
  assert.deepEqual(
    w.nodes.map((n) => n.server),
    ["image-server", "image-server-1", "image-server-2", "image-server", "image-server-1"],
  );
  assert.deepEqual(w.multicasts.map((m) => m.server), w.servers);
  assert.equal(new Set(w.servers.map((s) => w.network.route(s.host, "node0")[0])).size, 3);
});

/** How long TCP's tries lost in an outage of `outageS` add up to, ns: the profile's RTO doubling up to its cap. */
function tcpBackOff(outageS: number): number {
  const rto = profile.network.retransmitTimeout.value,
    max = profile.network.maxRetransmitTimeout.value;
  let wait = 0;
  for (let r = rto; wait < outageS * 1e9; r = Math.min(2 * r, max)) wait += r;
  return wait;
}

Deno.test("an image-server outage during the boot stalls streaming strategies until TCP's back-off gets through", () => {
  const small = { run: "run", nodes: 1, seed: 1, imageGb: IMAGE_GB } as const;
  // Tries lost in a 20 s outage: 200 ms, 400 ms, ... until the sum passes 20 s (25.4 s).
  const wait = tcpBackOff(20);
  assert.equal(wait, 25_400 * 1e6);
  for (const strategy of ["bmcast", "nfsroot"]) {
    const calm = runFleet({ profile, point: { ...small, strategy } });
    // POST ends at 130 s: the outage starts 20 s into the OS boot.
    const hit = runFleet({
      profile,
      point: { ...small, strategy, outage: { atS: 150, durationS: 20 } },
    });
    const lost = hit.summary.lastS - calm.summary.lastS;
    assert.ok(hit.summary.heldBack! > 0 && hit.summary.lostTries! > 0, strategy);
    // The boot waits from its first lost message until the try that gets through.
    assert.ok(lost > 20 && lost <= wait / 1e9 + 1, `${strategy}: ${lost} s lost`);
    // The request caught by the outage is the boot's longest: it waited for the try that got through.
    const longest = hit.summary.longestBootIoS!;
    assert.ok(longest > 20 && longest <= wait / 1e9 + 1, `${strategy}: longest I/O ${longest} s`);
    assert.equal(calm.summary.heldBack, undefined, "no outage, no count");
  }
  // Once BMcast is deployed it no longer needs the server: an outage after it changes nothing.
  const point = { ...small, strategy: "bmcast", until: "deployed" as const };
  const calm = runFleet({ profile, point });
  const late = runFleet({
    profile,
    point: { ...point, outage: { atS: calm.summary.deployedS! + 1, durationS: 60 } },
  });
  assert.deepEqual(late.totals.map((t) => t.deployedS), calm.totals.map((t) => t.deployedS));
  assert.equal(late.summary.lostTries, 0);
});

Deno.test("an outage beyond the guest's 30 s disk timeout: an AHCI guest resets its link and retries, and fails a request after 6 tries; NFS waits", () => {
  const small = { run: "run", nodes: 1, seed: 1, imageGb: IMAGE_GB } as const;
  const timeout = profile.guestDriver.commandTimeout.value / 1e9;
  const tries = profile.guestDriver.commandRetries.value + 1;
  const run = (strategy: string, durationS: number) =>
    runFleet({ profile, point: { ...small, strategy, outage: { atS: 150, durationS } } }).summary;
  const short = run("bmcast", 20); // within the timeout
  assert.deepEqual([short.diskResets, short.bootIoErrors], [0, 0]);
  const minute = run("bmcast", 60);
  // The stuck read times out every 30 s; its retries queue behind the connection's back-off.
  assert.ok(minute.diskResets! >= 2 && minute.diskResets! < tries, `${minute.diskResets}`);
  assert.equal(minute.bootIoErrors, 0, "recovered before the retries ran out");
  const long = run("bmcast", 200);
  assert.ok(long.bootIoErrors! >= 1);
  // A failed request waited its 6 tries of 30 s, plus the resets (each ~0.1 s).
  assert.ok(
    Math.abs(long.longestBootIoS! - tries * timeout) < tries * 0.2,
    `${long.longestBootIoS}`,
  );
  const nfs = run("nfsroot", 200);
  assert.deepEqual([nfs.diskResets, nfs.bootIoErrors], [0, 0], "an NFS hard mount waits");
  assert.ok(nfs.longestBootIoS! > tries * timeout);
});

Deno.test("an outage is given as AT:DURATION or an object, with any strategy", () => {
  const s = parseScenario({ strategy: "nfsroot", outage: "300:30" });
  assert.deepEqual(s.outage, { atS: 300, durationS: 30 });
  assert.deepEqual(scenarioPoints(s)[0].outage, { atS: 300, durationS: 30 });
  assert.deepEqual(issuesOf({ outage: "300" }), [
    `outage: must be 'AT:DURATION' in seconds or { atS, durationS }: current value is "300"`,
  ]);
  assert.deepEqual(issuesOf({ outage: { atS: -1, durationS: 0 } }), [
    "outage.atS: must be >= 0: current value is -1",
    "outage.durationS: must be > 0: current value is 0",
  ]);
  assert.deepEqual(issuesOf({ outage: "1:1", sweep: "strategy=bmcast,bmcast-multicast" }), []);
});

Deno.test("an outage with multicast: chunks and joins sent meanwhile are lost, receivers ask again after an idle timeout, and every node is deployed", () => {
  const point = { run: "run", nodes: 2, seed: 1, imageGb: IMAGE_GB, until: "deployed" as const };
  const idleS = profile.imageServer.multicastIdleTimeout.value / 1e9;
  const backOffS = tcpBackOff(20) / 1e9; // the redirects' wait
  for (const strategy of ["image-copy-multicast", "bmcast-multicast"]) {
    const calm = runFleet({ profile, point: { ...point, strategy } }).summary;
    const hit = runFleet({
      profile,
      point: { ...point, strategy, outage: { atS: 150, durationS: 20 } },
    }).summary;
    assert.ok(hit.lostDatagrams! > 0, strategy);
    assert.equal(calm.lostDatagrams, undefined, "no outage, no count");
    const lost = hit.deployedS! - calm.deployedS!;
    // Image copy joins during the outage and loses at most its rest; BMcast's redirects wait
    // for TCP's back-off while the stream's lost chunks are asked for again.
    const most = strategy === "image-copy-multicast" ? 20 + idleS : 20 + backOffS;
    assert.ok(lost > 0 && lost <= most, `${strategy}: ${lost} s lost`);
  }
});

Deno.test("a compressed image: four nodes share the server's link for 1/ratio of the bytes, so BMcast and image copy copy sooner; NFS root still gets raw blocks", () => {
  const run = (strategy: string, ratio: number) =>
    runFleet({
      profile,
      point: {
        ...ONE_SMALL_NODE,
        strategy,
        nodes: 4,
        until: strategy === "nfsroot" ? "up" : "deployed",
        set: { "image.compressionRatio": ratio },
      },
    });
  /** The slowest node's copy, s. */
  const copyS = (r: ReturnType<typeof run>, phase: string) =>
    Math.max(...r.phases.filter((p) => p.phase === phase).map((p) => p.endS - p.startS));
  for (const [strategy, phase] of [["image-copy", "image copy"], ["bmcast", "copy"]]) {
    const raw = run(strategy, 1), z = run(strategy, 2.5);
    const gb = [raw.summary.serverGb, z.summary.serverGb];
    assert.ok(Math.abs(gb[1] / (gb[0] / 2.5) - 1) < 0.05, `${strategy}: ${gb}`);
    const s = [copyS(raw, phase), copyS(z, phase)];
    assert.ok(s[1] < s[0] * 0.7, `${strategy}: ${s}`);
  }
  const raw = run("nfsroot", 1).summary, z = run("nfsroot", 2.5).summary;
  assert.ok(Math.abs(z.serverGb / raw.serverGb - 1) < 0.05, `${z.serverGb} vs ${raw.serverGb}`);
});

Deno.test("an outage's issues show the part given, as a string or an object", () => {
  const labels = { labels: { outage: "--outage" } };
  assert.deepEqual(issuesOf({ outage: "10:0" }, labels), [
    "--outage durationS: must be > 0: current value is 0",
  ]);
  assert.deepEqual(issuesOf({ outage: "a:5" }, labels), [
    '--outage atS: must be a number: current value is "a"',
  ]);
  assert.deepEqual(issuesOf({ outage: { atS: -1, durationS: 5 } }, labels), [
    "--outage atS: must be >= 0: current value is -1",
  ]);
});

Deno.test("the scenario's profile changes are checked even when another field fails", () => {
  const labels = { nodes: "--nodes", set: "--set", sweep: "--sweep" };
  assert.deepEqual(
    issuesOf({ sweep: "hdd.rpm=5400", set: { "hdd.rpm": "7000" }, nodes: 0 }, { profile, labels }),
    [
      "--nodes: must be >= 1: current value is 0",
      '--set hdd.rpm: is also swept by --sweep; give one or the other: current value is "7000"',
    ],
  );
  assert.deepEqual(
    issuesOf({ set: { "kvm.virtio.hostWakeup": "-1" }, nodes: 0 }, { profile, labels }),
    [
      "--nodes: must be >= 1: current value is 0",
      "--set: kvm.virtio.value.hostWakeup: must be an integer >= 0: current value is -1",
    ],
  );
});

Deno.test("an image size is checked against the profile of each run: the boot's areas below, the node's disk above", () => {
  const labels = { imageGb: "--image-gb", set: "--set", sweep: "--sweep" };
  const bounds = "must be >= 10.3424 to hold every area the profile's boot reads and writes " +
    "(up to sector 20200000) and <= 500.107862016 to fit on the node's disk (hdd.sectors: 976773168)";
  assert.deepEqual(issuesOf({ imageGb: 1000 }, { profile, labels }), [
    `--image-gb: ${bounds}: current value is 1000`,
  ]);
  // The stated bounds are exact: each is accepted, and what is just past them is not.
  assert.equal(imageBytesOf(10.3424), minImageBytes(profile));
  assert.equal(imageBytesOf(500.107862016), 976_773_168 * 512);
  assert.deepEqual(issuesOf({ imageGb: 10.3424 }, { profile }), []);
  assert.deepEqual(issuesOf({ imageGb: 500.107862016 }, { profile }), []);
  assert.deepEqual(issuesOf({ sweep: "image-gb=10.3418,500.107862017" }, { profile, labels }), [
    `--sweep image-gb[0]: ${bounds}: current value is 10.3418`,
    `--sweep image-gb[1]: ${bounds}: current value is 500.107862017`,
  ]);
  // The profile's own size, changed or swept, is checked by the profile.
  const inBytes = "must be a multiple of 512 >= 10342400000 to hold every area the profile's " +
    "boot reads and writes (up to sector 20200000) and <= 500107862016 to fit on the node's disk " +
    "(hdd.sectors: 976773168)";
  assert.deepEqual(issuesOf({ set: { "image.bytes": "1000000000" } }, { profile, labels }), [
    `--set: image.bytes.value: ${inBytes}: current value is 1000000000`,
  ]);
  assert.deepEqual(issuesOf({ sweep: "image.bytes=1e9,12e9" }, { profile, labels }), [
    `--sweep image.bytes[0]: image.bytes.value: ${inBytes}: current value is 1000000000`,
  ]);
  // A size in GB against each swept disk.
  assert.deepEqual(
    issuesOf(
      { imageGb: 12, sweep: "hdd.sectors=23000000,40000000" },
      { profile, labels },
    ),
    [
      "--image-gb: must be >= 10.3424 to hold every area the profile's boot reads and writes " +
      "(up to sector 20200000) and <= 11.776 to fit on the node's disk (hdd.sectors: 23000000): " +
      "current value is 12",
    ],
  );
});

/** 41,943,040 sectors: a 21.5 GB disk, smaller than the built-in profile's 32 GB image. */
const SMALL_DISK = { "hdd.sectors": 41_943_040 };

Deno.test("an image size in GB replaces the profile's before it is checked: it fits a disk smaller than the profile's own image", () => {
  const labels = { imageGb: "--image-gb", set: "--set", sweep: "--sweep" };
  assert.deepEqual(issuesOf({ imageGb: 12, set: SMALL_DISK }, { profile, labels }), []);
  assert.deepEqual(issuesOf({ sweep: "image-gb=11,12", set: SMALL_DISK }, { profile, labels }), []);
  assert.deepEqual(
    issuesOf({ imageGb: 12, sweep: "hdd.sectors=41943040,976773168" }, { profile }),
    [],
  );
  // image.bytes swept over sizes the small disk holds: every run fits, whatever the profile's own size.
  assert.deepEqual(
    issuesOf({ sweep: "image.bytes=12000000000,16000000512", set: SMALL_DISK }, {
      profile,
      labels,
    }),
    [],
  );
  // Too large for the small disk: said in GB, against the disk it runs on.
  assert.deepEqual(issuesOf({ imageGb: 30, set: SMALL_DISK }, { profile, labels }), [
    "--image-gb: must be >= 10.3424 to hold every area the profile's boot reads and writes " +
    "(up to sector 20200000) and <= 21.47483648 to fit on the node's disk (hdd.sectors: 41943040): " +
    "current value is 30",
  ]);
  // Without a size of its own the run keeps the profile's 32 GB, which the small disk does not
  // hold: the issue is of what the scenario changed, the disk, not of the image it left alone.
  const small = "hdd.sectors.value: must be >= 62500000 to hold the image (image.bytes: " +
    "32000000000, 62500000 sectors): current value is 41943040";
  assert.deepEqual(issuesOf({ set: SMALL_DISK }, { profile, labels }), [`--set: ${small}`]);
  assert.deepEqual(
    issuesOf({ sweep: "hdd.rpm=5400,7200", set: SMALL_DISK }, { profile, labels }),
    [`--set: ${small}`],
    "the set's issue, once, not each swept run's",
  );
  assert.deepEqual(
    issuesOf({ sweep: "hdd.sectors=41943040,976773168" }, { profile, labels }),
    [`--sweep hdd.sectors[0]: ${small}`],
  );
  // Both changed: the image's own issue.
  assert.match(
    issuesOf({ set: { ...SMALL_DISK, "image.bytes": 31e9 } }, { profile, labels }).join("\n"),
    /^--set: image\.bytes\.value: must be a multiple of 512 .* <= 21474836480 .*: current value is 31000000000$/,
  );
  // The run itself: the same decision, the same check.
  const p = runProfile(profile, { imageGb: 12, set: SMALL_DISK });
  assert.equal(p.image.bytes.value, 12e9);
  assert.equal(p.hdd.sectors.value, 41_943_040);
  assert.throws(() => runProfile(profile, { set: SMALL_DISK }), (e) => {
    assert.ok(e instanceof ProfileError);
    assert.deepEqual(e.issues, [small]);
    return true;
  });
  assert.throws(
    () => runProfile(profile, { imageGb: 30, set: SMALL_DISK }),
    /^ProfileError: .*imageGb: must be >= 10\.3424/s,
  );
  const run = runFleet({
    profile,
    point: { run: "r", strategy: "bare-metal", nodes: 1, seed: 1, imageGb: 12, set: SMALL_DISK },
  });
  assert.equal(run.summary.imageGb, 12);
  assert.ok(run.summary.lastS > 0);
});

Deno.test("an image size in GB and image.bytes do not go together: one would silently replace the other", () => {
  const labels = { imageGb: "--image-gb", set: "--set", sweep: "--sweep" };
  assert.deepEqual(issuesOf({ imageGb: 12, set: { "image.bytes": 16e9 } }, { profile, labels }), [
    "--image-gb: replaces --set image.bytes (the image's size in bytes); give one or the other: " +
    "current value is 12",
  ]);
  assert.deepEqual(issuesOf({ imageGb: 12, sweep: "image.bytes=16e9,20e9" }, { profile, labels }), [
    "--image-gb: replaces --sweep image.bytes (the image's size in bytes); give one or the other: " +
    "current value is 12",
  ]);
  assert.deepEqual(
    issuesOf({ sweep: "image-gb=12,14", set: { "image.bytes": 16e9 } }, { profile }),
    [
      "sweep: replaces set.image.bytes (the image's size in bytes); give one or the other: " +
      "current value is [12,14]",
    ],
  );
});

Deno.test("a scenario's set gives an object-valued parameter whole as an object, as --set does as JSON text", () => {
  const policy = { kind: "idle", idleThreshold: 2_000_000, recheck: 500_000 };
  const s = parseScenario({ set: { "vmm.copyPolicy": policy } }, { profile });
  assert.deepEqual(s.set, { "vmm.copyPolicy": policy });
  const p = runProfile(profile, { set: s.set });
  assert.deepEqual(p.vmm.copyPolicy.value, policy);
  // A bad field is named by the model's schema; a value of no allowed type says which are.
  assert.match(
    issuesOf({ set: { "vmm.copyPolicy": { ...policy, idleThreshold: -5 } } }, { profile }).join(
      "\n",
    ),
    /^set: vmm\.copyPolicy\.value\.idleThreshold: .*current value is -5$/,
  );
  assert.deepEqual(issuesOf({ set: { "hdd.rpm": null } }, { profile }), [
    "set.hdd.rpm: must be a number, string, boolean, array or object: current value is null",
  ]);
});

Deno.test("a sweep's values say what they must be", () => {
  assert.deepEqual(issuesOf({ sweep: { param: "nodes" } }), [
    "sweep.values: must list the values, e.g. [1, 2]: current value is undefined",
  ]);
  assert.deepEqual(issuesOf({ sweep: { param: "nodes", values: [true] } }), [
    "sweep.values.0: must be a number or a string: current value is true",
  ]);
});

Deno.test("a sweep written as text without '=' says the form K=V1,V2,...", () => {
  const form = "must be K=V1,V2,... (e.g. nodes=1,2,4 or hdd.rpm=5400,15000)";
  assert.deepEqual(issuesOf({ sweep: "nodes" }, { labels: { sweep: "--sweep" } }), [
    `--sweep: ${form}: current value is "nodes"`,
  ]);
  assert.deepEqual(issuesOf({ sweep: "" }), [`sweep: ${form}: current value is ""`]);
});

Deno.test("a set gathered from two places (a file's set and --set) names each item's own place in its issues", () => {
  const setLabels = {
    "hdd.foo": "s.json: set",
    "hdd.rpm": "--set",
    "vmm.copyPolicy.idleThreshold": "--set",
  };
  // Passed as a variable: the option is new, and the old parser must still compile to fail.
  const options = { profile, labels: { set: "s.json: set", sweep: "--sweep" }, setLabels };
  const bad = issuesOf({ set: { "hdd.foo": 1, "hdd.rpm": "fast" } }, options);
  assert.equal(bad.length, 2, bad.join("\n"));
  assert.match(bad[0], /^s\.json: set: hdd\.foo: section hdd has no parameter "foo"/);
  assert.equal(bad[1], '--set: hdd.rpm: must be a number: current value is "fast"');
  const invalid = issuesOf({ set: { "vmm.copyPolicy.idleThreshold": -5 } }, options);
  assert.equal(invalid.length, 1, invalid.join("\n"));
  assert.match(invalid[0], /^--set: vmm\.copyPolicy\.value\.idleThreshold: .*current value is -5$/);
  assert.deepEqual(issuesOf({ set: { "hdd.rpm": 5400 }, sweep: "hdd.rpm=7200,15000" }, options), [
    "--set hdd.rpm: is also swept by --sweep; give one or the other: current value is 5400",
  ]);
});

Deno.test("a scenario's numbers are written in decimal: the other notations Number() reads are refused, saying so", () => {
  const decimal = "written in decimal (e.g. 16 or 1.5e3)";
  assert.deepEqual(
    issuesOf(
      { nodes: "0x2", seed: "0b1", imageGb: "0o7", staggerS: " ", outage: "0x10:30" },
      { labels: { nodes: "--nodes", outage: "--outage" } },
    ),
    [
      `--nodes: must be an integer, ${decimal}: current value is "0x2"`,
      `seed: must be an integer, ${decimal}: current value is "0b1"`,
      `imageGb: must be a number, ${decimal}: current value is "0o7"`,
      'staggerS: must be a number: current value is " "',
      `--outage atS: must be a number, ${decimal}: current value is "0x10"`,
    ],
  );
  assert.deepEqual(issuesOf({ sweep: { param: "nodes", values: [1, "0x2"] } }), [
    `sweep.nodes[1]: must be an integer, ${decimal}: current value is "0x2"`,
  ]);
  // A profile parameter, set or swept: the profile's own check says the same.
  assert.deepEqual(
    issuesOf({ set: { "hdd.rpm": "0x1C20" }, sweep: "hdd.averageSeek=8e6,0o7" }, { profile }),
    [
      `set: hdd.rpm: must be a number, ${decimal}: current value is "0x1C20"`,
      `sweep.hdd.averageSeek[1]: must be a number, ${decimal}: current value is "0o7"`,
    ],
  );
  assert.deepEqual(issuesOf({ set: { "hdd.rpm": "Infinity" } }, { profile }), [
    'set: hdd.rpm: must be a number: current value is "Infinity"',
  ]);
  // Decimal text is read, with a sign, a point or an exponent.
  const s = parseScenario({ nodes: "2", imageGb: "1.2e1", staggerS: " .5", outage: "1e2:+30" });
  assert.deepEqual([s.nodes, s.imageGb, s.staggerS, s.outage], [2, 12, 0.5, {
    atS: 100,
    durationS: 30,
  }]);
});

Deno.test("a scenario's set holds each value as the profile takes it, not as the text it was given in", () => {
  const policy = { kind: "idle", idleThreshold: 2_000_000, recheck: 500_000 };
  const s = parseScenario({
    set: {
      "hdd.rpm": "15000",
      "hdd.writeCache": "false",
      "image.copyScope": "used",
      "vmm.copyPolicy": JSON.stringify(policy),
      "network.lineRate": 1.25e9,
    },
  }, { profile });
  assert.deepEqual(s.set, {
    "hdd.rpm": 15000,
    "hdd.writeCache": false,
    "image.copyScope": "used",
    "vmm.copyPolicy": policy,
    "network.lineRate": 1.25e9,
  });
});

Deno.test("the profile's hdd.sptfWindow reaches the disks: BMcast's boot, on demand from the server's disk, gets faster with reordering", () => {
  const point = { ...ONE_SMALL_NODE, strategy: "bmcast" };
  const fifo = runFleet({ profile, point }).summary;
  const sptf = runFleet({ profile: applyOverrides(profile, { "hdd.sptfWindow": 32 }), point })
    .summary;
  assert.equal(profile.hdd.sptfWindow.value, 0, "the built-in serves in arrival order");
  assert.ok(sptf.lastS < fifo.lastS - 2, `${sptf.lastS} vs ${fifo.lastS} s`);
});

Deno.test("runFleet names every bad option before anything runs: not a profile, a point's bad or unknown fields, a misspelt option", () => {
  const run = (options: unknown) => () => runFleet(options as Parameters<typeof runFleet>[0]);
  assert.throws(run(undefined), {
    name: "RangeError",
    message:
      "Cannot run fleet: 'options' must be { profile, point, onProgress?, progressEvery? }: " +
      "current value is undefined",
  });
  assert.throws(
    run({ profile: "paper-2015.json", point: { ...ONE_SMALL_NODE, strategy: "bmcast" } }),
    {
      name: "RangeError",
      message:
        `Cannot run fleet: 'profile' must be a profile (loadProfile, parseProfile): current value is "paper-2015.json"`,
    },
  );
  assert.throws(
    run({
      profile,
      point: { run: "r", strategy: "bmcats", nodes: 0, seed: 1, until: "never", stager: 3 },
      progresEvery: 10,
    }),
    {
      name: "RangeError",
      message: "Cannot run fleet: 'progresEvery' is not an option, did you mean progressEvery? " +
        "The options are profile, point, onProgress, progressEvery; " +
        `'point.strategy' must be one of ${
          strategyNames().join(", ")
        }: current value is "bmcats"; ` +
        "'point.nodes' must be >= 1: current value is 0; " +
        `'point.until' must be one of up, deployed: current value is "never"; ` +
        "'point.stager' is not an option, did you mean staggerS? The options are run, strategy, nodes, seed, imageGb, staggerS, until, outage, set",
    },
  );
  assert.throws(
    () => buildWorld({} as never),
    /^RangeError: Cannot build world: 'profile' must be a profile \(loadProfile, parseProfile\); sections missing or not objects: cpu, memory, hba, hdd, /,
  );
  // A hand-edited copy whose section is an object but not a valid one: named, not a TypeError inside.
  const badRpm = { ...profile, hdd: { ...profile.hdd, rpm: { ...profile.hdd.rpm, value: -1 } } };
  assert.throws(
    () => buildWorld(badRpm),
    /^RangeError: Cannot build world: 'profile' must be a valid profile \(loadProfile, parseProfile\); its issues: hdd\.rpm\.value: .*current value is -1$/,
  );
  assert.throws(
    () => buildWorld({ ...profile, hdd: {} } as never),
    /its issues: hdd\.sectors: .*; hdd\.rpm: .* \(and \d+ more\)$/,
  );
});

/** The summary of a 2-node seed-1 run of `strategy` with the profile changes `set`. */
const twoNodes = (strategy: string, set: ProfileOverrides, imageGb?: number) =>
  runFleet({
    profile,
    point: { run: JSON.stringify(set), strategy, nodes: 2, seed: 1, imageGb, set },
  }).summary;

Deno.test("distinct images share no server cache: each is read from the server's disk, so NFS root boots slower", () => {
  const run = (images: number) => twoNodes("nfsroot", { "imageServer.images": images });
  const [one, two] = [run(1), run(2)];
  // The two nodes' boots read the same blocks of different images: twice the disk reads.
  assert.ok(
    Math.abs(two.serverDiskGb / one.serverDiskGb - 2) < 0.05,
    `${one.serverDiskGb} -> ${two.serverDiskGb}`,
  );
  assert.ok(two.lastS > one.lastS, `${one.lastS} -> ${two.lastS}`);
  // The network carries what each node reads either way.
  assert.ok(Math.abs(two.serverGb / one.serverGb - 1) < 0.05, `${one.serverGb} -> ${two.serverGb}`);
});

Deno.test("multicast with distinct images: each node joins its own image's session, and the server sends each image once", () => {
  const run = (images: number) =>
    twoNodes("image-copy-multicast", { "imageServer.images": images }, 10.35);
  const [one, two] = [run(1), run(2)];
  assert.ok(Math.abs(one.serverGb - 10.35) < 0.01, `${one.serverGb}`);
  assert.ok(Math.abs(two.serverGb - 2 * 10.35) < 0.01, `${two.serverGb}`);
});

Deno.test("a server serving demand reads first boots BMcast's nodes sooner where its disk is the bottleneck", () => {
  const run = (demandFirst: boolean) =>
    twoNodes("bmcast", { "imageServer.images": 2, "imageServer.demandFirst": demandFirst }, 10.35);
  const [fcfs, first] = [run(false), run(true)];
  // Two images on one HDD: the copiers' fetches no longer queue ahead of the boots' reads.
  assert.ok(first.lastS < fcfs.lastS - 5, `${fcfs.lastS} -> ${first.lastS}`);
  assert.ok(first.serverGb < fcfs.serverGb, "the copiers fetched less meanwhile");
});

Deno.test("racks: NFS root nodes behind a slow uplink boot later; fast uplinks add only a switch; rackSize 0 is one switch", () => {
  const run = (set: ProfileOverrides) =>
    runFleet({
      profile,
      point: { run: JSON.stringify(set), strategy: "nfsroot", nodes: 4, seed: 1, set },
    }).summary;
  const one = run({});
  const fast = run({ "network.rackSize": 2 });
  const slow = run({ "network.rackSize": 2, "network.uplinkRate": 12.5e6 });
  assert.ok(Math.abs(fast.lastS / one.lastS - 1) < 0.02, `${one.lastS} vs ${fast.lastS}`);
  // Two nodes' boot reads share each 100 Mb/s uplink, a tenth of their own links.
  assert.ok(slow.lastS > 1.2 * one.lastS, `${one.lastS} -> ${slow.lastS}`);
  // The summary tells the busiest uplink's load with racks, nothing without.
  assert.equal(one.uplinkPct, undefined);
  assert.ok(slow.uplinkPct! > 10 * fast.uplinkPct!, `${fast.uplinkPct} -> ${slow.uplinkPct} %`);
  // Node i sits in rack floor(i / rackSize), behind that rack's uplink.
  const w = buildWorld(applyOverrides(profile, { "network.rackSize": 3 }), { nodes: 7 });
  assert.deepEqual(w.nodes.map((n) => w.network.route("image-server", n.name)[1].name), [
    ...Array(3).fill("core->rack0"),
    ...Array(3).fill("core->rack1"),
    "core->rack2",
  ]);
  assert.deepEqual(w.network.route("image-server", "node6").map((l) => l.name), [
    "image-server->core",
    "core->rack2",
    "rack2->node6",
  ]);
  const star = buildWorld(profile, { nodes: 2 });
  assert.deepEqual(star.network.route("image-server", "node1").map((l) => l.name), [
    "image-server->switch",
    "switch->node1",
  ]);
});
