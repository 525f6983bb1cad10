import assert from "node:assert/strict";
import { Hdd, Ssd } from "../../lib/hw/mod.ts";
import {
  applyOverrides,
  buildWorld,
  BUILTIN_PROFILE,
  loadProfile,
  numericParameters,
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
    type P = { source: string; fieldSources?: Record<string, string> };
    for (const [k, v] of Object.entries(params as Record<string, P>)) {
      if (/calibrated/i.test(v.source)) {
        calibrated.push(`${section}.${k}`);
        assert.match(v.source, /calibrated to Fig\. \w+/, `${section}.${k} must name its figure`);
      }
      // A field's own source says which part of an object-valued parameter was calibrated.
      for (const [field, src] of Object.entries(v.fieldSources ?? {})) {
        if (/calibrated/i.test(src)) {
          assert.match(
            src,
            /calibrated to Fig\. \w+/,
            `${section}.${k}.${field} must name its figure`,
          );
          assert.ok(
            calibrated.includes(`${section}.${k}`),
            `${section}.${k} says it is calibrated`,
          );
        }
      }
    }
  }
  assert.ok(
    calibrated.length > 0 && calibrated.length <= 8,
    `calibrated: ${calibrated.join(", ")}`,
  );
});

Deno.test("numericParameters lists every number by path, with a field's own source where it has one", async () => {
  const ps = numericParameters(await loadProfile(BUILTIN_PROFILE));
  const at = (path: string) => ps.find((p) => p.path === path);
  assert.deepEqual(at("hdd.rpm"), {
    path: "hdd.rpm",
    value: 7200,
    source: "datasheet",
    inherited: false,
  });
  const reads = at("boot.params.readRequests")!;
  assert.equal(reads.inherited, false);
  assert.match(reads.source, /estimate$/);
  const wake = at("kvm.virtio.hostWakeup")!;
  assert.equal(wake.inherited, true, "virtio's fields share the object's source");
  assert.ok(!ps.some((p) => p.path === "hdd.writeCache"), "booleans are not numbers");
  assert.ok(!ps.some((p) => p.path.startsWith("boot.params.sizes")), "arrays are not listed");
  // Deeper fields too: the store's CPU cost per read, inside the store's `cpu` object.
  assert.equal(at("cassandra.store.cpu.readNs")?.value, 1_000_000);
  assert.ok(!ps.some((p) => p.path === "cassandra.store.cpu"), "an object is not a number");
  assert.ok(!ps.some((p) => p.path === "cassandra.store.commitLog.sync"), "strings are not");
});

Deno.test("a field source must name a field of its parameter's value", async () => {
  const p = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  p.boot.params.fieldSources.nope = "a source for nothing";
  p.hdd.rpm.fieldSources = { x: "rpm is a number, it has no fields" };
  assert.throws(() => parseProfile(p), (e: Error) => {
    assert.ok(e instanceof ProfileError);
    assert.deepEqual(e.issues.toSorted(), [
      "boot.params.fieldSources.nope: names no field of the value",
      "hdd.rpm.fieldSources.x: names no field of the value",
    ]);
    return true;
  });
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

Deno.test("a profile that extends another replaces whole sections or single parameters and is validated as a whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const base = await loadProfile(BUILTIN_PROFILE);
    await Deno.copyFile(BUILTIN_PROFILE, `${dir}/base.json`);
    await Deno.mkdir(`${dir}/sub`);
    const child = {
      extends: "../base.json",
      name: "faster-disk",
      hdd: { rpm: { value: 15000, source: "datasheet of a 15k drive" } },
    };
    await Deno.writeTextFile(`${dir}/sub/child.json`, JSON.stringify(child));
    const p = await loadProfile(`${dir}/sub/child.json`);
    assert.equal(p.name, "faster-disk");
    assert.equal(p.description, base.description);
    assert.equal(p.hdd.rpm.value, 15000);
    assert.deepEqual(p.hdd.averageSeek, base.hdd.averageSeek);
    assert.deepEqual(p.network, base.network);
    // Two levels deep, and an invalid value is reported at its path.
    await Deno.writeTextFile(
      `${dir}/grandchild.json`,
      JSON.stringify({ extends: "sub/child.json", hdd: { rpm: { value: -1, source: "typo" } } }),
    );
    await assert.rejects(loadProfile(`${dir}/grandchild.json`), (e) => {
      assert.ok(e instanceof ProfileError);
      assert.deepEqual(e.issues, ["hdd.rpm.value: Too small: expected number to be >0"]);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("extends that loops, names no file or is not a path is a ProfileError naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.json`, JSON.stringify({ extends: "b.json" }));
    await Deno.writeTextFile(`${dir}/b.json`, JSON.stringify({ extends: "a.json" }));
    await Deno.writeTextFile(`${dir}/c.json`, JSON.stringify({ extends: "nope.json" }));
    await Deno.writeTextFile(`${dir}/d.json`, JSON.stringify({ extends: 7 }));
    for (
      const [file, reason] of [
        ["a.json", /^extends: a\.json is already in the chain \(a loop\)$/],
        ["c.json", /^cannot read nope\.json: /],
        ["d.json", /\) extends: must be the path of the base profile: current value is 7$/],
      ] as const
    ) {
      await assert.rejects(loadProfile(`${dir}/${file}`), (e) => {
        assert.ok(e instanceof ProfileError);
        assert.match(e.issues[0], reason);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the SSD what-if profile puts an SSD in each node and keeps the server's HDD", async () => {
  const p = await loadProfile(new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url));
  const base = await loadProfile(BUILTIN_PROFILE);
  assert.equal(p.name, "paper-2015-ssd");
  assert.equal(p.ssd?.readBandwidth.value, base.hdd.interfaceRate.value, "SATA 3 Gb/s caps it");
  for (const [k, v] of Object.entries(p.ssd ?? {})) assert.ok(v.source.length >= 3, k);
  const w = buildWorld(p, { seed: 1 });
  assert.ok(w.nodes[0].disk instanceof Ssd);
  assert.ok(buildWorld(base, { seed: 1 }).nodes[0].disk instanceof Hdd);
  assert.ok(numericParameters(p).some((x) => x.path === "ssd.readLatency"));
  assert.throws(
    () => applyOverrides(base, { "ssd.readLatency": 1 }),
    /ssd\.readLatency: the profile has no ssd section \(it is optional\)/,
  );
});

Deno.test("overrides change a parameter or a field inside one and say so in its source", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  const p = applyOverrides(base, {
    "hdd.rpm": "15000",
    "hdd.writeCache": "false",
    "kvm.virtio.hostWakeup": 5000,
    "boot.params.sizes": '[{ "bytes": 4096, "weight": 1 }]',
  }, { origin: "set by a test" });
  assert.deepEqual((p.boot.params.value as { sizes: unknown }).sizes, [{ bytes: 4096, weight: 1 }]);
  assert.equal(p.hdd.rpm.value, 15000);
  assert.equal(p.hdd.writeCache.value, false);
  assert.match(p.hdd.rpm.source, /^set by a test \(was 7200; .+\)$/);
  assert.equal((p.kvm.virtio.value as { hostWakeup: number }).hostWakeup, 5000);
  assert.match(p.kvm.virtio.source, /^set by a test \(hostWakeup was 10000; /);
  assert.equal(base.hdd.rpm.value, 7200, "the input profile is left as it was");
  assert.deepEqual(applyOverrides(base, {}), base);
  // A field with a source of its own records the change there too.
  const q = applyOverrides(base, { "boot.params.readRequests": 3300 });
  const fields = q.boot.params.fieldSources!;
  assert.match(fields.readRequests, /^set on the command line \(was 3000; bootchart-like/);
  assert.equal(fields.readBytes, base.boot.params.fieldSources!.readBytes);
});

Deno.test("bad overrides are rejected with every issue: unknown paths, wrong types, invalid values", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  try {
    applyOverrides(base, {
      "disk.rpm": 1,
      "hdd.speed": 1,
      "kvm.virtio.nope": 1,
      "hdd.rpm": "fast",
      "kvm.virtio": 3,
      "hdd.averageSeek": -1,
    });
    assert.fail("accepted bad overrides");
  } catch (e) {
    assert.ok(e instanceof ProfileError, String(e));
    const text = e.issues.join("\n");
    assert.match(text, /^disk\.rpm: no such section \(sections: cpu, /m);
    assert.match(
      text,
      /^hdd\.speed: section hdd has no parameter "speed" \(it has: sectors, rpm,/m,
    );
    assert.match(
      text,
      /^kvm\.virtio\.nope: kvm\.virtio has no field "nope" \(it has: guestSubmit,/m,
    );
    assert.match(text, /^hdd\.rpm: must be a number: current value is "fast"$/m);
    assert.match(
      text,
      /^kvm\.virtio: is an object; set one of its fields \(kvm\.virtio\.guestSubmit, /m,
    );
    assert.equal(
      e.issues.length,
      5,
      "type and path issues first; values are checked once they pass",
    );
  }
  assert.throws(
    () => applyOverrides(base, { "hdd.averageSeek": -1 }),
    (e: Error) => e instanceof ProfileError && /hdd\.averageSeek\.value/.test(e.issues.join()),
  );
});
