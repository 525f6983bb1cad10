import assert from "node:assert/strict";
import { run, small } from "../../experiments/fig_startup.ts";
import { BUILTIN_PROFILE, loadProfile } from "../../lib/scenario/mod.ts";

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

Deno.test("an unknown method is rejected naming the allowed values", async () => {
  await assert.rejects(
    () => run({ ...small, methods: ["teleport"] }),
    /'methods'.*allowed values are .*bmcast/,
  );
});
