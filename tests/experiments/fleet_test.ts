import assert from "node:assert/strict";
import {
  imagesSmall,
  run,
  runImages,
  runSsd,
  small,
  ssdSmall,
} from "../../experiments/fig_fleet.ts";
import { ScenarioError } from "../../lib/scenario/fleet.ts";

Deno.test("fleet experiment: one bar per fleet size and strategy, the last node up of its run", async () => {
  const params = { ...small, strategies: ["nfsroot", "kvm-nfs"], nodes: [1, 2] };
  const out = await run(params);
  assert.deepEqual(
    out.rows.map((r) => `${r.group}/${r.series}`),
    ["1 node/nfsroot", "1 node/kvm-nfs", "2 nodes/nfsroot", "2 nodes/kvm-nfs"],
  );
  out.rows.forEach((r, i) => assert.equal(r.value, out.summary[i].lastS));
  for (const s of out.summary) {
    assert.ok(s.readyS >= s.lastS && s.serverDiskGb <= s.serverGb, s.run);
  }
  assert.deepEqual(await run(params), out, "same seed, same results");
});

Deno.test("fleet experiment rejects bad parameters, naming every issue", async () => {
  await assert.rejects(
    run({ ...small, strategies: ["bogus"], nodes: [0] }),
    (e: unknown) =>
      e instanceof ScenarioError && e.issues.length === 2 &&
      /strategy: must be one of/.test(e.issues.join("\n")) &&
      /nodes: must be >= 1/.test(e.issues.join("\n")),
  );
});

Deno.test("fleet experiment refuses an empty list, a list that is not one, and an unknown parameter", async () => {
  const refused = async (params: unknown, issue: string) =>
    await assert.rejects(
      run(params as typeof small),
      (e: unknown) => e instanceof ScenarioError && e.issues.join("\n") === issue,
    );
  await refused(
    { ...small, nodes: [] },
    "nodes: must be a list of one or more fleet sizes: current value is []",
  );
  await refused(
    { ...small, nodes: 4 },
    "nodes: must be a list of one or more fleet sizes: current value is 4",
  );
  await refused(
    { ...small, strategies: [] },
    "strategies: must be a list of one or more strategies: current value is []",
  );
  await refused(
    { ...small, nodes: [1, 1] },
    "nodes: must be a list without repeats: current value is [1,1]",
  );
  await refused(
    { ...small, nodez: [3] },
    "nodez: is not an option, did you mean nodes? The options are strategies, nodes, imageGb, staggerS, set, outage, until, seed, profile",
  );
});

Deno.test("fleet experiment runs every point with the outage it is given", async () => {
  const base = { ...small, strategies: ["nfsroot"], nodes: [1] };
  const calm = await run(base);
  const hit = await run({ ...base, outage: { atS: 150, durationS: 20 } });
  assert.ok(hit.rows[0].value > calm.rows[0].value + 20, `${hit.rows[0].value} s`);
  assert.equal(hit.summary[0].outageDurationS, 20);
});

Deno.test("fleet experiment runs on until every node is deployed when asked, and stops at the last OS up by default", async () => {
  const base = { ...small, strategies: ["bmcast"], nodes: [1] };
  const up = await run(base);
  const deployed = await run({ ...base, until: "deployed" });
  assert.equal(up.summary[0].deployedS, undefined);
  const d = deployed.summary[0].deployedS ?? NaN;
  assert.ok(
    d > deployed.summary[0].lastS,
    `deployed at ${d} s, up at ${deployed.summary[0].lastS} s`,
  );
  assert.equal(deployed.rows[0].value, up.rows[0].value, "the bar is the last node up either way");
});

Deno.test("where an SSD helps: NFS root never touches the node's disk, BMcast boots faster from a node's SSD", async () => {
  const out = await runSsd({ ...ssdSmall, places: ["none", "nodes"] });
  const up = (group: string, series: string) =>
    out.rows.find((r) => r.group === group && r.series === series)!.value;
  assert.deepEqual(out.rows.map((r) => r.group), [
    "SSD: none",
    "SSD: none",
    "SSD: nodes",
    "SSD: nodes",
  ]);
  assert.equal(up("SSD: nodes", "nfsroot, 1 node"), up("SSD: none", "nfsroot, 1 node"));
  assert.ok(up("SSD: nodes", "bmcast, 1 node") < up("SSD: none", "bmcast, 1 node") - 5);
  assert.equal(out.summary.length, out.rows.length);
  await assert.rejects(
    () => runSsd({ ...ssdSmall, places: ["nodes", "disk" as never] }),
    /places\[1\]: must be one of none, nodes, server, all: current value is "disk"/,
  );
});

Deno.test("many images: one bar group per image count, each image read from the server's disk apart", async () => {
  const out = await runImages({
    ...imagesSmall,
    strategies: ["nfsroot"],
    nodes: [2],
    images: [1, 2],
  });
  assert.deepEqual(out.rows.map((r) => `${r.group}/${r.series}`), [
    "1 image/nfsroot, 2 nodes",
    "2 images/nfsroot, 2 nodes",
  ]);
  const [one, two] = out.summary;
  assert.deepEqual([one.run, two.run], ["nfsroot x2, 1 image", "nfsroot x2, 2 images"]);
  assert.ok(
    two.serverDiskGb > 1.9 * one.serverDiskGb,
    `${one.serverDiskGb} -> ${two.serverDiskGb}`,
  );
  assert.ok(out.rows[1].value > out.rows[0].value);
  await assert.rejects(
    () => runImages({ ...imagesSmall, images: [1, 0, 2.5] }),
    (e: unknown) =>
      e instanceof ScenarioError &&
      e.issues.join("\n") ===
        "images[1]: must be an integer in [1, 128]: current value is 0\n" +
          "images[2]: must be an integer in [1, 128]: current value is 2.5",
  );
});
