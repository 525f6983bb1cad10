import assert from "node:assert/strict";
import {
  BUILTIN_PROFILE,
  loadProfile,
  parseProfile,
  ProfileError,
} from "../../lib/scenario/mod.ts";

Deno.test("the built-in profile validates and every parameter names a source", async () => {
  const p = await loadProfile(BUILTIN_PROFILE);
  for (const [section, params] of Object.entries(p)) {
    if (typeof params !== "object") continue;
    for (const [k, v] of Object.entries(params as Record<string, { source: string }>)) {
      assert.ok(v.source.length >= 3, `${section}.${k} has no source`);
    }
  }
});

Deno.test("calibrated parameters are few and each names its figure", async () => {
  const p = await loadProfile(BUILTIN_PROFILE);
  const calibrated: string[] = [];
  for (const [section, params] of Object.entries(p)) {
    if (typeof params !== "object") continue;
    for (const [k, v] of Object.entries(params as Record<string, { source: string }>)) {
      if (/calibrated/i.test(v.source)) {
        calibrated.push(`${section}.${k}`);
        assert.match(v.source, /calibrated to Fig\. \w+/, `${section}.${k} must name its figure`);
      }
    }
  }
  assert.ok(
    calibrated.length > 0 && calibrated.length <= 8,
    `calibrated: ${calibrated.join(", ")}`,
  );
});

Deno.test("a bad profile is rejected with every issue listed by path", async () => {
  const p = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  p.hdd.rpm.value = -7200;
  delete p.cpu.vmExit;
  p.network.lineRate.source = "";
  p.bogus = 1;
  try {
    parseProfile(p);
    assert.fail("accepted a bad profile");
  } catch (e) {
    assert.ok(e instanceof ProfileError);
    const text = e.issues.join("\n");
    assert.match(text, /hdd\.rpm\.value/);
    assert.match(text, /cpu\.vmExit/);
    assert.match(text, /network\.lineRate\.source/);
    assert.match(text, /bogus/);
    assert.ok(e.issues.length >= 4);
  }
});

Deno.test("a profile file that cannot be read or parsed is a ProfileError naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const broken = `${dir}/broken.json`;
    await Deno.writeTextFile(broken, "{ not json");
    for (
      const [path, reason] of [
        [`${dir}/missing.json`, /^cannot read .*missing\.json: /],
        [broken, /^\(file .*broken\.json\): not valid JSON/],
      ] as const
    ) {
      await assert.rejects(loadProfile(path), (e) => {
        assert.ok(e instanceof ProfileError);
        assert.equal(e.issues.length, 1);
        assert.match(e.issues[0], reason);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
