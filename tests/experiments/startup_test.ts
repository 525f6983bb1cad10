import assert from "node:assert/strict";
import { run, small } from "../../experiments/fig_startup.ts";
import {
  bareMetal,
  BUILTIN_PROFILE,
  loadProfile,
  registerStrategy,
  startupStrategy,
} from "../../lib/scenario/mod.ts";

Deno.test("startup experiment (small config) yields phases for every method and comparison rows", async () => {
  const out = await run(small);
  for (const m of small.methods) {
    const sim = out.rows.filter((r) => r.method === m && r.source === "sim");
    assert.ok(sim.length >= 1, `no phases for ${m}`);
    for (const r of sim) assert.ok(r.endS >= r.startS && r.startS >= 0);
  }
  assert.ok(out.comparisons.some((c) => c.metric === "image copy / BMcast (x)"));
  assert.ok(
    out.rows.some((r) => r.source === "paper" && r.method === "bmcast" && r.phase === "VMM boot"),
  );
});

Deno.test("image copy time grows with the image size; BMcast startup does not", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const at = async (imageBytes: number) => {
    const out = await run({ methods: ["image-copy", "bmcast"], imageBytes, seed: 1, profile });
    const rows = out.rows.filter((r) => r.source === "sim");
    const copy = rows.find((r) => r.method === "image-copy" && r.phase === "image copy")!;
    const bmcast = Math.max(...rows.filter((r) => r.method === "bmcast").map((r) => r.endS));
    return { copy: copy.endS - copy.startS, bmcast };
  };
  const a = await at(12e9), b = await at(24e9);
  assert.ok(b.copy > a.copy * 1.6, `image copy ${a.copy} -> ${b.copy}`);
  assert.ok(Math.abs(b.bmcast - a.bmcast) / a.bmcast < 0.1, `bmcast ${a.bmcast} -> ${b.bmcast}`);
});

Deno.test("with an SSD as the local disk BMcast boots sooner; NFS root, which never touches it, does not change", async () => {
  const total = (out: Awaited<ReturnType<typeof run>>, method: string) =>
    out.comparisons.find((c) => c.metric === `${method} total (s)`)!.simulated;
  const params = { ...small, methods: ["bmcast", "nfsroot"] };
  const hdd = await run(params);
  const ssd = await run({
    ...params,
    profile: await loadProfile(new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url)),
  });
  assert.ok(total(ssd, "bmcast") < total(hdd, "bmcast") - 3, `${total(ssd, "bmcast")}`);
  assert.equal(total(ssd, "nfsroot"), total(hdd, "nfsroot"));
});

Deno.test("a registered strategy is a method too, on a world as registered; only the paper's methods are compared", async () => {
  registerStrategy("bare-metal-twin", bareMetal, { preinstalled: true, deployed: "up" });
  const out = await run({ ...small, methods: ["bare-metal", "bare-metal-twin", "nfsroot"] });
  const phases = (m: string) =>
    out.rows.filter((r) => r.method === m && r.source === "sim").map((r) => [r.phase, r.endS]);
  assert.deepEqual(phases("bare-metal-twin"), phases("bare-metal"));
  assert.equal(phases("bare-metal").length, 1, "one OS boot from the preinstalled disk");
  assert.deepEqual(
    new Set(out.rows.filter((r) => r.source === "paper").map((r) => r.method)),
    new Set(["nfsroot"]),
  );
  assert.ok(out.comparisons.length > 0);
  assert.ok(
    out.comparisons.every((c) => c.metric.startsWith("nfsroot ")),
    "no comparison without a paper value",
  );
});

Deno.test("an unknown, misspelt or repeated method, an empty or non-list methods, an unknown parameter are rejected naming the allowed values", async () => {
  const refused = async (params: unknown, message: RegExp) =>
    await assert.rejects(() => run(params as typeof small), (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, message);
      return true;
    });
  await refused(
    { ...small, methods: ["teleport"] },
    /^Cannot run startup: 'methods\[0\]' must be one of .*bmcast.*: current value is "teleport"$/,
  );
  await refused(
    { ...small, methods: ["bmcats"] },
    /current value is "bmcats", did you mean "bmcast"\?$/,
  );
  await refused(
    { ...small, methods: ["bmcast", "bmcast"] },
    /'methods' must be a list without repeats/,
  );
  await refused(
    { ...small, methods: [] },
    /'methods' must be a list of one or more of .*: current value is \[\]$/,
  );
  await refused(
    { ...small, methods: "bmcast" },
    /'methods' must be a list .*: current value is "bmcast"$/,
  );
  await refused(
    { ...small, methodz: ["bmcast"] },
    /^Cannot run startup: 'methodz' is not an option, did you mean methods\? The options are methods, imageBytes, seed, profile$/,
  );
});

Deno.test("an image that does not hold the boot's read areas (and, over NFS, its log), is not whole sectors or does not fit the disk is refused, naming the minimum and why", async () => {
  const profile = await loadProfile(BUILTIN_PROFILE);
  const at = (method: string, imageBytes: number) =>
    run({ methods: [method], imageBytes, seed: 1, profile });
  const rule = (min: number, areas: string) =>
    new RegExp(
      `^RangeError: Cannot run startup: 'imageBytes' must be a multiple of 512 >= ${min} to hold what the run uses of the image \\(${areas}\\) and <= 500107862016 to fit on the node's disk .*: current value is `,
    );
  // BMcast's boot reads up to sector 13,000,000 (6.656 GB); its log writes go to the local disk.
  const reads = 13_000_000 * 512;
  const bmcast = await at("bmcast", reads);
  const os = bmcast.rows.find((r) => r.method === "bmcast" && r.phase === "OS boot")!;
  assert.ok(os.endS - os.startS > 50, "every read of the boot streamed (36.8 s from a 1 GB image)");
  for (const imageBytes of [1e9, reads - 512, 7e9 + 1, 1e15]) {
    await assert.rejects(
      () => at("bmcast", imageBytes),
      rule(reads, "the boot's read areas in boot\\.params\\.regions, up to sector 13000000"),
    );
  }
  // Over NFS the log (up to sector 20,200,000) is written to the image too.
  await assert.rejects(
    () => at("nfsroot", 12e9 - 512 * 4_000_000),
    rule(20_200_000 * 512, ".*; the boot's log in boot\\.params\\.writes, up to sector 20200000"),
  );
  assert.ok((await at("nfsroot", 20_200_000 * 512)).rows.some((r) => r.method === "nfsroot"));
  // A registered strategy that says it writes to the image is held to the same rule.
  registerStrategy("nfsroot-mine", startupStrategy("nfsroot").start, {
    preinstalled: false,
    deployed: "never",
    writesImage: true,
  });
  await assert.rejects(
    () => at("nfsroot-mine", reads),
    rule(20_200_000 * 512, ".*; the boot's log in boot\\.params\\.writes, up to sector 20200000"),
  );
});

Deno.test("startup refuses missing methods or seed, naming each, before anything runs", async () => {
  await assert.rejects(
    () => run({ seed: 1 } as never),
    (e: Error) =>
      e instanceof RangeError &&
      /^Cannot run startup: 'methods' must be a list of one or more of .*bmcast.*: current value is undefined$/
        .test(e.message),
  );
  await assert.rejects(
    () => run({ methods: ["nfsroot"] } as never),
    (e: Error) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot run startup: 'seed' must be an integer in [0, 4294967295]: current value is undefined",
  );
  // Every issue at once: a bad method and an image that does not hold the boot.
  await assert.rejects(
    () => run({ ...small, methods: ["teleport"], imageBytes: 512 }),
    /^RangeError: Cannot run startup: 'methods\[0\]' must be one of .*; 'imageBytes' must be a multiple of 512 >= /,
  );
});
