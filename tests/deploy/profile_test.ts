import assert from "node:assert/strict";
import { z } from "zod";
import { HCA_LATENCY_OPTIONS, Hdd, Ssd } from "../../lib/hw/mod.ts";
import { VIRTIO_COST_FIELDS } from "../../lib/kvm/mod.ts";
import { INFINIBAND_OPTIONS } from "../../lib/net/mod.ts";
import { CopyPolicySchema } from "../../lib/vmm/mod.ts";
import {
  BootParamsSchema,
  KvClientParamsSchema,
  KvStoreParamsSchema,
} from "../../lib/workload/mod.ts";
import {
  applyOverrides,
  buildWorld,
  BUILTIN_PROFILE,
  imageSizeIssue,
  imageSizeRange,
  loadProfile,
  numericParameters,
  parameterUnit,
  parseProfile,
  type Profile,
  type ProfileCheckOptions,
  ProfileError,
  ProfileSchema,
  readProfileInput,
} from "../../lib/scenario/mod.ts";

/** The issues applyOverrides reports for `overrides` (none when it accepts them). */
function overrideIssues(base: Profile, overrides: Record<string, unknown>): string[] {
  try {
    applyOverrides(base, overrides);
  } catch (e) {
    assert.ok(e instanceof ProfileError, String(e));
    return e.issues;
  }
  return [];
}

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

/** Every field path a zod schema takes, at any depth (a list's items as ".0"; each kind of a union). */
function schemaFields(schema: z.ZodType): string[] {
  const below = (prefix: string, s: z.ZodType) => schemaFields(s).map((p) => `${prefix}.${p}`);
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) {
    return schemaFields(schema.unwrap() as z.ZodType);
  }
  if (schema instanceof z.ZodUnion) {
    return schema.options.flatMap((o) => schemaFields(o as z.ZodType));
  }
  if (schema instanceof z.ZodArray) return ["0", ...below("0", schema.element as z.ZodType)];
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape as Record<string, z.ZodType>).flatMap((
      [k, s],
    ) => [k, ...below(k, s)]);
  }
  return [];
}

/** Every path of a JSON value below `path`: its fields, and a list's items by index. */
function valuePaths(path: string, v: unknown): string[] {
  if (typeof v !== "object" || v === null) return [path];
  return [path, ...Object.entries(v).flatMap(([k, x]) => valuePaths(`${path}.${k}`, x))];
}

Deno.test("every parameter of the schema has a unit, and so has every field an object-valued one takes", async () => {
  const paths: string[] = [];
  for (const [section, schema] of Object.entries(ProfileSchema.shape)) {
    if (section === "name" || section === "description") continue;
    const params = schema instanceof z.ZodOptional ? schema.unwrap() : schema;
    for (const name of Object.keys((params as z.ZodObject).shape)) paths.push(`${section}.${name}`);
  }
  assert.ok(paths.includes("ssd.readLatency"), "the optional section too");
  // The fields each model takes, by its own schema or option list.
  const fields: Record<string, string[]> = {
    "vmm.copyPolicy": schemaFields(CopyPolicySchema),
    "boot.params": schemaFields(BootParamsSchema),
    "kvm.virtio": [...VIRTIO_COST_FIELDS],
    "infiniband.fabric": [...INFINIBAND_OPTIONS],
    "infiniband.hca": [...HCA_LATENCY_OPTIONS],
    "cassandra.store": schemaFields(KvStoreParamsSchema),
    "cassandra.workload": schemaFields(KvClientParamsSchema),
  };
  for (const [param, fs] of Object.entries(fields)) paths.push(...fs.map((f) => `${param}.${f}`));
  // And whatever the built-in profiles hold (the deploy layer's own fields, e.g. cableMeters).
  for (const url of [BUILTIN_PROFILE, new URL("paper-2015-ssd.json", BUILTIN_PROFILE)]) {
    const p = await loadProfile(url);
    for (const [section, params] of Object.entries(p)) {
      if (typeof params !== "object") continue;
      for (const [name, x] of Object.entries(params as Record<string, { value: unknown }>)) {
        paths.push(...valuePaths(`${section}.${name}`, x.value));
      }
    }
  }
  const missing = [...new Set(paths)].filter((path) => !parameterUnit(path));
  assert.deepEqual(missing, [], "parameters and fields without a unit");
  assert.ok(paths.includes("infiniband.fabric.cableMeters") && paths.length > 200);
});

Deno.test("parameterUnit says each value's unit as the models take it, by dotted path", () => {
  const units = {
    "cpu.vmExit": "ns",
    "cpu.eptOverhead": "fraction", // lib/hw CpuCosts: a fractional slowdown, not ns
    "cpu.inflateRate": "bytes/s",
    "hdd.rpm": "rev/min",
    "hdd.sectors": "sectors",
    "hdd.writeCache": "true | false",
    "network.lineRate": "bytes/s",
    "infiniband.fabric.laneRate": "bit/s", // lib/net InfinibandOptions: bits, unlike lineRate
    "network.retransmitTimeout": "ns",
    "image.copyScope": "all | used",
    "image.compressionRatio": "image bytes per stored byte",
    "boot.rootLba": "sector (LBA)",
    "kvm.timerExitsPerSecond": "exits/s per vCPU",
    "kvm.virtio": "object",
    "kvm.virtio.hostWakeup": "ns",
    "kvm.virtio.imageQueueDepth": "reads in flight",
    "boot.params.sizes": "list",
    "boot.params.sizes.0.bytes": "bytes",
    "boot.params.phases.3.cpuNs": "ns",
    "cassandra.store.layout.dataLba": "sector (LBA)",
    "vmm.copyPolicy.bytesPerSecond": "bytes/s", // a field of a kind the profile does not use
    "ssd.readBandwidth": "bytes/s",
  };
  for (const [path, unit] of Object.entries(units)) assert.equal(parameterUnit(path), unit, path);
  for (const path of ["hdd", "hdd.speed", "disk.rpm", "kvm.virtio.nope", "boot.params.sizes.x"]) {
    assert.equal(parameterUnit(path), undefined, path);
  }
});

Deno.test("a field source must name a field of its parameter's value: the issue names the closest fields and all of them", async () => {
  const p = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  p.boot.params.fieldSources.nope = "a source for nothing";
  p.hdd.rpm.fieldSources = { x: "rpm is a number, it has no fields" };
  p.vmm.copyPolicy.fieldSources = { idleTreshold: "a misspelt field's source" };
  assert.throws(() => parseProfile(p), (e: Error) => {
    assert.ok(e instanceof ProfileError);
    assert.deepEqual(e.issues.toSorted(), [
      "boot.params.fieldSources.nope: names no field of the value (it has: readBytes, " +
      "readRequests, sizes, sequentialFraction, regions, alignSectors, writes, phases, memoryBound)",
      "hdd.rpm.fieldSources.x: names no field of the value (7200 has no fields)",
      'vmm.copyPolicy.fieldSources.idleTreshold: names no field of the value, did you mean "idleThreshold"? (it has: kind, idleThreshold)',
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

Deno.test("a parameter's source is required, text, and at least 3 characters; the issue says which rule failed and shows what was given", async () => {
  const p = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  delete p.hdd.sectors.source;
  p.hdd.rpm.source = "x";
  p.hdd.averageSeek.source = 5;
  p.kvm.virtio.fieldSources = { hostWakeup: "y" };
  const where = "(datasheet, measurement, or 'calibrated to <figure>')";
  assert.throws(() => parseProfile(p), (e: Error) => {
    assert.ok(e instanceof ProfileError, String(e));
    assert.deepEqual(e.issues, [
      `hdd.sectors.source: every parameter needs a source ${where}`,
      `hdd.rpm.source: a source must be at least 3 characters ${where}: current value is "x"`,
      `hdd.averageSeek.source: a source must be text ${where}: current value is 5`,
      `kvm.virtio.fieldSources.hostWakeup: a source must be at least 3 characters ${where}: current value is "y"`,
    ]);
    return true;
  });
});

Deno.test("a parameter given as a bare value or left out is told the form it takes, one issue per parameter", async () => {
  const p = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  p.hdd.rpm = 15000;
  p.image.copyScope = "all";
  p.kvm.virtio = null;
  delete p.cpu.vmExit;
  const form = `must be { "value": ..., "source": "..." } (every parameter has a source)`;
  assert.throws(() => parseProfile(p), (e: Error) => {
    assert.ok(e instanceof ProfileError, String(e));
    assert.deepEqual(e.issues, [
      `cpu.vmExit: ${form}: current value is undefined`,
      `hdd.rpm: ${form}: current value is 15000`,
      `image.copyScope: ${form}: current value is "all"`,
      `kvm.virtio: ${form}: current value is null`,
    ]);
    return true;
  });
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
    assert.equal(p.description, `${base.description} Changed from paper-2015: hdd.rpm.`);
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
      assert.deepEqual(e.issues, [
        "hdd.rpm.value: Too small: expected number to be >0: current value is -1",
      ]);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a profile file that extends another without a name of its own is named after its file, not its base; one with a name keeps it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rpm = { hdd: { rpm: { value: 15000, source: "datasheet of a 15k drive" } } };
    const write = (file: string, json: object) =>
      Deno.writeTextFile(`${dir}/${file}`, JSON.stringify(json));
    await write("15k rpm.json", { extends: "paper-2015", ...rpm });
    await write("named.json", { extends: "paper-2015", name: "mine", ...rpm });
    await write("deeper.json", { extends: "named.json" });
    await write("renamed.json", { extends: "15k rpm.json", name: "renamed" });
    await write("LOUD.JSON", { extends: "paper-2015" });
    await write(".json", { extends: "paper-2015" }); // no stem: the base's name stands
    const names = await Promise.all(
      ["15k rpm.json", "named.json", "deeper.json", "renamed.json", "LOUD.JSON", ".json"].map(
        async (f) => (await loadProfile(`${dir}/${f}`)).name,
      ),
    );
    assert.deepEqual(names, ["15k rpm", "mine", "deeper", "renamed", "LOUD", "paper-2015"]);
    // Without a description of its own, the base's tells what the file changed (if anything).
    const base = (await loadProfile(BUILTIN_PROFILE)).description;
    const said = `${base} Changed from paper-2015: hdd.rpm.`;
    assert.equal((await loadProfile(`${dir}/15k rpm.json`)).description, said);
    assert.equal((await loadProfile(`${dir}/deeper.json`)).description, said);
    // The built-in profiles keep their own names.
    assert.equal((await loadProfile(BUILTIN_PROFILE)).name, "paper-2015");
    const ssd = new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url);
    assert.equal((await loadProfile(ssd)).name, "paper-2015-ssd");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("extends that loops, names no file or is not a path is a ProfileError naming the file (and the built-in names it could give)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.json`, JSON.stringify({ extends: "b.json" }));
    await Deno.writeTextFile(`${dir}/b.json`, JSON.stringify({ extends: "a.json" }));
    await Deno.writeTextFile(`${dir}/c.json`, JSON.stringify({ extends: "nope.json" }));
    await Deno.writeTextFile(`${dir}/d.json`, JSON.stringify({ extends: 7 }));
    for (
      const [file, reason] of [
        ["a.json", /^extends: a\.json is already in the chain \(a loop\)$/],
        [
          "c.json",
          /^\(file .*c\.json\) extends: must be a profile file, a path relative to this one \(there is no .*nope\.json\), or a built-in profile's name \(paper-2015, paper-2015-ssd\): current value is "nope\.json"$/,
        ],
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

Deno.test("extends names a built-in profile, with or without .json, when no such file is beside the profile; a file beside it comes first", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const own = (base: string, rpm: number) =>
      JSON.stringify({ extends: base, name: "mine", hdd: { rpm: { value: rpm, source: "mine" } } });
    await Deno.writeTextFile(`${dir}/a.json`, own("paper-2015.json", 15000));
    await Deno.writeTextFile(`${dir}/b.json`, own("paper-2015-ssd", 10000));
    const builtin = await loadProfile(BUILTIN_PROFILE);
    const a = await loadProfile(`${dir}/a.json`);
    assert.equal(a.hdd.rpm.value, 15000);
    assert.equal(a.cpu.vmExit.value, builtin.cpu.vmExit.value, "the rest is the built-in's");
    const b = await loadProfile(`${dir}/b.json`);
    assert.equal(b.ssd?.channels.value, 8, "the SSD profile, itself extending paper-2015");
    // A local paper-2015.json shadows the built-in.
    const local = { ...JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE)), name: "local" };
    local.hdd.rpm.value = 5400;
    await Deno.writeTextFile(`${dir}/paper-2015.json`, JSON.stringify(local));
    await Deno.writeTextFile(`${dir}/c.json`, JSON.stringify({ extends: "paper-2015.json" }));
    assert.equal((await loadProfile(`${dir}/c.json`)).hdd.rpm.value, 5400);
    // A copy named paper-2015.json extending "paper-2015.json" extends the built-in, not itself.
    await Deno.mkdir(`${dir}/own`);
    const copy = {
      extends: "paper-2015.json",
      name: "own",
      hdd: { rpm: { value: 10000, source: "mine" } },
    };
    await Deno.writeTextFile(`${dir}/own/paper-2015.json`, JSON.stringify(copy));
    assert.equal((await loadProfile(`${dir}/own/paper-2015.json`)).hdd.rpm.value, 10000);
    // A misspelt built-in name gets the closest ones.
    await Deno.writeTextFile(`${dir}/d.json`, JSON.stringify({ extends: "paper2015-ssd" }));
    await assert.rejects(
      loadProfile(`${dir}/d.json`),
      /current value is "paper2015-ssd", did you mean paper-2015-ssd\?$/,
    );
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

Deno.test("ssd.machines puts the SSD in the nodes, the image servers or both; the server's SSD bounds the image as stored", async () => {
  const ssd = await loadProfile(
    new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url),
  );
  assert.equal(ssd.ssd?.machines.value, "nodes");
  const kinds = (machines: string) => {
    const p = applyOverrides(ssd, { "ssd.machines": machines, "imageServer.count": 2 });
    const w = buildWorld(p, { seed: 1 });
    return [w.nodes[0].disk, ...w.serverDisks].map((d) => d.constructor.name).join();
  };
  assert.equal(kinds("nodes"), "Ssd,Hdd,Hdd");
  assert.equal(kinds("server"), "Hdd,Ssd,Ssd");
  assert.equal(kinds("all"), "Ssd,Ssd,Ssd");
  assert.throws(
    () => applyOverrides(ssd, { "ssd.machines": "switch" }),
    /ssd\.machines\.value: .*nodes.*server.*all/,
  );
  // A 100 GB server SSD bounds a raw image to 100 GB; stored at 6:1 the node's 500 GB HDD bounds it.
  const small = applyOverrides(ssd, { "ssd.machines": "server", "ssd.sectors": 195_312_500 });
  assert.equal(imageSizeRange(small).max, 195_312_500 * 512);
  assert.match(
    imageSizeRange(small).maxReason,
    /image server's disk as stored \(ssd\.sectors: 195312500/,
  );
  const packed = applyOverrides(small, { "image.compressionRatio": 6 });
  assert.equal(
    imageSizeRange(packed).maxReason,
    `to fit on the node's disk (hdd.sectors: ${ssd.hdd.sectors.value})`,
  );
});

Deno.test("a profile written before a parameter was added loads with its default, whose source says so", async () => {
  const json = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  delete json.hdd.sptfWindow;
  json.ssd = JSON.parse(
    await Deno.readTextFile(new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url)),
  ).ssd;
  delete json.ssd.machines;
  const p = parseProfile(json);
  assert.equal(p.hdd.sptfWindow.value, 0);
  assert.equal(p.hdd.sptfWindow.source, "not in the profile, the default: arrival order");
  assert.equal(p.ssd?.machines.value, "nodes");
  assert.ok(buildWorld(p, { seed: 1 }).nodes[0].disk instanceof Ssd);
  assert.equal(parameterUnit("hdd.sptfWindow"), "commands");
  assert.equal(parameterUnit("ssd.machines"), "nodes | server | all");
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
  assert.match(fields.readRequests, /^overridden \(was 3000; bootchart-like/);
  assert.equal(fields.readBytes, base.boot.params.fieldSources!.readBytes);
});

Deno.test("values the models would refuse are refused with the profile: the HDD's seek curve and zones, poll periods of 0, partial sectors, more cores than CPUs, RAM without room for the VMM, timer exits over a whole vCPU", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  const issuesOf = (overrides: Record<string, unknown>) => overrideIssues(base, overrides);
  // Each crashed the run with a stack trace before (the models' constructors refused them).
  assert.deepEqual(issuesOf({ "hdd.averageSeek": 0 }), [
    "hdd.averageSeek.value: must be within [6200000, 9440000] ns for a monotone seek curve: current value is 0",
  ]);
  assert.deepEqual(issuesOf({ "hdd.fullStrokeSeek": 0 }), [
    "hdd.fullStrokeSeek.value: must be >= trackToTrackSeek (800000): current value is 0",
  ]);
  assert.deepEqual(issuesOf({ "hdd.innerRate": 130e6 }), [
    "hdd.innerRate.value: must be <= outerRate (125000000): current value is 130000000",
  ]);
  // Sizes the disk interfaces move in whole sectors; the guest's cores on the machine's CPUs.
  assert.deepEqual(
    issuesOf({ "installer.copyChunkBytes": 100, "guestDriver.maxRequestBytes": 1000 }),
    [
      "guestDriver.maxRequestBytes.value: must be a multiple of 512: current value is 1000",
      "installer.copyChunkBytes.value: must be a multiple of 512: current value is 100",
    ],
  );
  assert.deepEqual(issuesOf({ "boot.cores": 48 }), [
    "boot.cores.value: must be <= cpu.logicalCpus (12): current value is 48",
  ]);
  // BMcast's VMM memory lies in usable RAM below 3 GiB; KVM's timer exits leave the vCPU time.
  assert.deepEqual(issuesOf({ "memory.bytes": 1 << 30 }), [
    "memory.bytes.value: must be >= 3221225472 (BMcast's VMM takes vmm.memoryBytes below 0xc0000000, in usable RAM): current value is 1073741824",
  ]);
  assert.deepEqual(issuesOf({ "memory.bytes": 1 << 30, "vmm.memoryBytes": 2 ** 32 }), [
    "vmm.memoryBytes.value: must be <= 3220176896 (the VMM's memory lies between 1 MiB and 0xc0000000): current value is 4294967296",
  ]);
  assert.deepEqual(issuesOf({ "kvm.timerExitsPerSecond": 400_000 }), [
    "kvm.timerExitsPerSecond.value: must keep the exits' time, timerExitsPerSecond x (cpu.vmExit + kvm.exitHandler + cpu.vmEntry), below 100% of a vCPU (it is 116.0%): current value is 400000",
  ]);
  assert.deepEqual(issuesOf({ "kvm.timerExitsPerSecond": 340_000 }), []);
  // A value its own rule refuses is reported once, by that rule.
  assert.deepEqual(issuesOf({ "hdd.averageSeek": -1 }), [
    "hdd.averageSeek.value: Too small: expected number to be >=0: current value is -1",
  ]);
  assert.deepEqual(issuesOf({ "guestDriver.pollInterval": 0, "vmm.pollInterval": 0 }), [
    "guestDriver.pollInterval.value: Too small: expected number to be >0: current value is 0",
    "vmm.pollInterval.value: Too small: expected number to be >0: current value is 0",
  ]);
});

Deno.test("an override's source says who changed it: 'overridden' from a library call unless the caller names itself, 'set on the command line' from --set", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  const was = `(was 7200; ${base.hdd.rpm.source})`;
  assert.equal(applyOverrides(base, { "hdd.rpm": 15000 }).hdd.rpm.source, `overridden ${was}`);
  assert.equal(
    applyOverrides(base, { "hdd.rpm": 15000 }, { origin: "set by a script" }).hdd.rpm.source,
    `set by a script ${was}`,
  );
  const cli = await readProfileInput({ set: ["hdd.rpm=15000"] });
  assert.equal(cli.profile?.hdd.rpm.source, `set on the command line ${was}`);
});

Deno.test("an issue shows NaN, Infinity and -Infinity as themselves, not as JSON's null", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  assert.deepEqual(
    overrideIssues(base, {
      "hdd.rpm": NaN,
      "hdd.outerRate": Infinity,
      "vmm.copyPolicy.idleThreshold": -Infinity,
      "hdd.writeCache": NaN,
    }),
    [
      "hdd.writeCache: must be a boolean: current value is NaN",
      "hdd.rpm.value: Invalid input: expected number, received NaN: current value is NaN",
      "hdd.outerRate.value: Invalid input: expected number, received Infinity: current value is Infinity",
      "vmm.copyPolicy.value.idleThreshold: Invalid input: expected number, received -Infinity: " +
      "current value is -Infinity",
    ],
  );
  assert.deepEqual(
    overrideIssues(base, {
      "hdd.rpm": NaN,
      "hdd.outerRate": Infinity,
      "vmm.copyPolicy.idleThreshold": -Infinity,
    }),
    [
      "hdd.rpm.value: Invalid input: expected number, received NaN: current value is NaN",
      "hdd.outerRate.value: Invalid input: expected number, received Infinity: current value is Infinity",
      "vmm.copyPolicy.value.idleThreshold: Invalid input: expected number, received -Infinity: " +
      "current value is -Infinity",
    ],
  );
  const p = structuredClone(base) as unknown as Record<string, Record<string, object>>;
  p.hdd.rpm = { value: 7200, source: NaN };
  assert.throws(() => parseProfile(p), (e: Error) => {
    assert.ok(e instanceof ProfileError, String(e));
    assert.match(
      e.issues.join(),
      /^hdd\.rpm\.source: a source must be text .*: current value is NaN$/,
    );
    return true;
  });
});

Deno.test("a key the profile, a section or a parameter does not take is named with the closest keys and all of them", async () => {
  const p = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  p.hdd.rmp = p.hdd.rpm;
  p.nmae = "x";
  p.hdd.sectors.sorce = "datasheet";
  p.memory.bogus = 1;
  assert.throws(() => parseProfile(p), (e: Error) => {
    assert.ok(e instanceof ProfileError, String(e));
    assert.deepEqual(e.issues, [
      'memory.bogus: section memory has no parameter "bogus" (it has: bytes [bytes])',
      'hdd.sectors.sorce: parameter hdd.sectors has no key "sorce", did you mean "source"? ' +
      "(it has: value, source, fieldSources)",
      // A section's parameters each with its unit.
      'hdd.rmp: section hdd has no parameter "rmp", did you mean "rpm"? (it has: ' +
      "sectors [sectors], rpm [rev/min], trackToTrackSeek [ns], averageSeek [ns], " +
      "fullStrokeSeek [ns], outerRate [bytes/s], innerRate [bytes/s], interfaceRate [bytes/s], " +
      "commandOverhead [ns], writeCache [true | false], writeCacheBytes [bytes], sptfWindow [commands])",
      'nmae: a profile has no key "nmae", did you mean "name"? (it has: name, description, cpu, ' +
      "memory, hba, hdd, ssd, network, imageServer, image, firmware, guestDriver, vmm, installer, " +
      "boot, nfs, kvm, infiniband, cassandra)",
    ]);
    return true;
  });
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
      /^hdd\.speed: section hdd has no parameter "speed" \(it has: sectors \[sectors\], rpm \[rev\/min\],/m,
    );
    assert.match(
      text,
      /^kvm\.virtio\.nope: kvm\.virtio has no field "nope" \(it has: guestSubmit \[ns\],/m,
    );
    assert.match(text, /^hdd\.rpm: must be a number: current value is "fast"$/m);
    assert.match(
      text,
      /^kvm\.virtio: is an object; set one of its fields \(kvm\.virtio\.guestSubmit, /m,
    );
    assert.match(
      e.issues.at(-1)!,
      /^hdd\.averageSeek\.value: Too small: expected number to be >=0: current value is -1$/,
      "path and type issues first, then the values of the overrides that could be applied",
    );
    assert.equal(e.issues.length, 6);
  }
  assert.throws(
    () => applyOverrides(base, { "hdd.averageSeek": -1 }),
    (e: Error) => e instanceof ProfileError && /hdd\.averageSeek\.value/.test(e.issues.join()),
  );
});

Deno.test("an override path names one parameter: a whole section, an empty part or a field of a plain value says the form SECTION.PARAMETER=VALUE", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  const form =
    "give SECTION.PARAMETER=VALUE, or SECTION.PARAMETER.FIELD=VALUE for a field of an object-valued parameter";
  assert.deepEqual(overrideIssues(base, { memory: 5 }), [
    "memory: a whole section cannot be set; give SECTION.PARAMETER=VALUE (section memory has: bytes [bytes])",
  ]);
  for (const path of [".rpm", "hdd.", "hdd..rpm", "vmm.copyPolicy."]) {
    assert.deepEqual(overrideIssues(base, { [path]: 1 }), [`${path}: has an empty part; ${form}`]);
  }
  assert.deepEqual(overrideIssues(base, { "hdd.rpm.value": 1 }), [
    'hdd.rpm.value: hdd.rpm has no field "value" (it is a number, not an object: give hdd.rpm=VALUE)',
  ]);
});

Deno.test("an object-valued parameter given a JSON object is replaced whole and checked by its model", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  // How to switch the copy policy's kind, or add a field the profile leaves to its default.
  const adaptive = '{"kind":"adaptive","minIdle":2000000,"maxIdle":50000000,"step":1000000}';
  const p = applyOverrides(base, { "vmm.copyPolicy": adaptive });
  assert.deepEqual(p.vmm.copyPolicy.value, JSON.parse(adaptive));
  assert.match(
    p.vmm.copyPolicy.source,
    /^overridden \(was \{"kind":"idle","idleThreshold":2000000\}; idle threshold/,
  );
  const q = applyOverrides(base, {
    "vmm.copyPolicy": { kind: "idle", idleThreshold: 2_000_000, recheck: 500_000 },
  });
  assert.equal((q.vmm.copyPolicy.value as { recheck?: number }).recheck, 500_000);
  // A field's own source says it changed, stays where it did not, goes with a dropped field.
  const sourced = structuredClone(base);
  sourced.vmm.copyPolicy.fieldSources = { idleThreshold: "calibrated to Fig. startup" };
  const dropped = applyOverrides(sourced, { "vmm.copyPolicy": adaptive });
  assert.deepEqual(dropped.vmm.copyPolicy.fieldSources, {});
  const r = applyOverrides(base, {
    "boot.params": JSON.stringify({ ...base.boot.params.value, readRequests: 3300 }),
  });
  const own = r.boot.params.fieldSources!;
  assert.match(own.readRequests, /^overridden \(was 3000; bootchart-like/);
  assert.equal(own.readBytes, base.boot.params.fieldSources!.readBytes);
  // The object is checked by its model: unknown fields, rules across fields, bad JSON.
  const issuesOf = (value: string) => overrideIssues(base, { "vmm.copyPolicy": value });
  assert.deepEqual(issuesOf('{"kind":"idle","idleThreshold":1,"rechek":5}'), [
    'vmm.copyPolicy.value: Unrecognized key: "rechek"',
  ]);
  assert.deepEqual(
    issuesOf('{"kind":"adaptive","minIdle":5000000,"maxIdle":1000000,"step":1}'),
    ["vmm.copyPolicy.value.maxIdle: must be >= minIdle (5000000): current value is 1000000"],
  );
  assert.deepEqual(issuesOf('{"kind":"idle",'), [
    "vmm.copyPolicy: is an object; set one of its fields (vmm.copyPolicy.kind, " +
    'vmm.copyPolicy.idleThreshold) or give it whole as a JSON object: current value is "{\\"kind\\":\\"idle\\","',
  ]);
  // A field the value leaves out is added where the schema defines it, and checked by its model.
  const added = applyOverrides(base, { "vmm.copyPolicy.recheck": 500_000 });
  assert.deepEqual(added.vmm.copyPolicy.value, { ...base.vmm.copyPolicy.value, recheck: 500_000 });
  assert.ok(added.vmm.copyPolicy.source.startsWith("overridden (recheck was not given; "));
  assert.deepEqual(overrideIssues(base, { "vmm.copyPolicy.recheck": -1 }), [
    "vmm.copyPolicy.value.recheck: Too small: expected number to be >0: current value is -1",
  ]);
  // A field the schema does not define says how to add one.
  assert.throws(
    () => applyOverrides(base, { "vmm.copyPolicy.rechek": 500_000 }),
    (e: Error) =>
      e instanceof ProfileError &&
      e.issues.join() === 'vmm.copyPolicy.rechek: vmm.copyPolicy has no field "rechek" ' +
          "(it has: kind [idle | rate | adaptive], idleThreshold [ns]; to add a field, " +
          "give vmm.copyPolicy whole as a JSON object)",
  );
});

Deno.test("a field of an object-valued parameter is checked by the model that takes it, every issue at once", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  const issuesOf = (overrides: Record<string, unknown>) => overrideIssues(base, overrides);
  // Each by its consumer's own schema or checks, naming the field, the rule and the value.
  assert.deepEqual(
    issuesOf({
      "vmm.copyPolicy.idleThreshold": -5,
      "kvm.virtio.hostWakeup": -1,
      "kvm.virtio.imageQueueDepth": 0,
      "boot.params.memoryBound": 5,
      "infiniband.fabric.encodingEfficiency": 1.5,
      "infiniband.fabric.cableMeters": -1,
      "infiniband.hca.pollPeriod": 1.5,
      "infiniband.hca.pollMemoryBound": 2,
      "cassandra.store.layout.dataLba": 3,
      "cassandra.workload.readProportion": 2,
      "hdd.rpm": -1,
    }),
    [
      "hdd.rpm.value: Too small: expected number to be >0: current value is -1",
      "vmm.copyPolicy.value.idleThreshold: Too small: expected number to be >=0: current value is -5",
      "boot.params.value.memoryBound: Too big: expected number to be <=1: current value is 5",
      "kvm.virtio.value.hostWakeup: must be an integer >= 0: current value is -1",
      "kvm.virtio.value.imageQueueDepth: must be an integer >= 1: current value is 0",
      "infiniband.fabric.value.encodingEfficiency: must be in (0, 1]: current value is 1.5",
      "infiniband.fabric.value.cableMeters: must be a finite number >= 0: current value is -1",
      "infiniband.hca.value.pollPeriod: must be an integer >= 0: current value is 1.5",
      "infiniband.hca.value.pollMemoryBound: Too big: expected number to be <=1: current value is 2",
      "cassandra.store.value.layout.dataLba: must be a multiple of 8 (blockBytes / 512): current value is 3",
      "cassandra.workload.value.readProportion: Too big: expected number to be <=1: current value is 2",
    ],
  );
  // A policy of another kind needs that kind's fields, and none of the old kind's;
  // an unknown kind names the kinds.
  assert.deepEqual(issuesOf({ "vmm.copyPolicy.kind": "rate" }), [
    "vmm.copyPolicy.value.bytesPerSecond: Invalid input: expected number, received undefined",
    "vmm.copyPolicy.value.burstBytes: Invalid input: expected number, received undefined",
    'vmm.copyPolicy.value: Unrecognized key: "idleThreshold"',
  ]);
  assert.match(
    issuesOf({ "vmm.copyPolicy.kind": "bogus" }).join(),
    /^vmm\.copyPolicy\.value\.kind: .*'idle' \| 'rate' \| 'adaptive'.*current value is "bogus"$/,
  );
  // Valid changes pass, and the value is kept as written (no defaults filled in).
  const p = applyOverrides(base, { "kvm.virtio.hostWakeup": 0, "boot.params.memoryBound": 1 });
  assert.deepEqual(p.vmm.copyPolicy.value, base.vmm.copyPolicy.value);
  assert.ok(!("recheck" in p.vmm.copyPolicy.value), "the schema's default is not written back");
  // A profile file is checked alike.
  const json = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  json.infiniband.hca.value.wqeFetch = "no";
  json.kvm.virtio.value.hostRequest = "fast";
  // A misspelt field would leave the model's default in place: it is named, with the fields.
  json.infiniband.fabric.value.swichLatency = 50;
  json.infiniband.hca.value.pollPeriode = 10;
  json.kvm.virtio.value.hostWakup = 10;
  assert.throws(() => parseProfile(json), (e: Error) => {
    assert.ok(e instanceof ProfileError);
    assert.deepEqual(e.issues, [
      "kvm.virtio.value.hostWakup: is not an option, did you mean hostWakeup? The options are guestSubmit, guestComplete, hostWakeup, hostRequest, hostBlockLayer, hostComplete, interruptDelivery, hostPollDelay, imageQueueDepth, overlayAccess",
      "kvm.virtio.value.hostRequest: must be an integer >= 0: current value is fast",
      "infiniband.fabric.value.swichLatency: is not an option, did you mean switchLatency? The options are lanes, laneRate, encodingEfficiency, switchLatency, propagationPerMeter, mtu, packetOverhead, firstPacketOverhead, cableMeters",
      "infiniband.hca.value.pollPeriode: is not an option, did you mean pollPeriod? The options are pcieRoundTrip, txProcessing, rxProcessing, wqeFetch, inline, completion, pollPeriod, iommu, pollMemoryBound",
      "infiniband.hca.value.wqeFetch: must be true or false: current value is no",
    ]);
    return true;
  });
  // Both built-in profiles still parse.
  await loadProfile(new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url));
});

Deno.test("the profile's image must hold its boot and fit on the node's and the image server's disks", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  const range = imageSizeRange(base);
  // The boot reads and writes up to sector 20,200,000; the HDD holds 976,773,168 sectors.
  assert.deepEqual([range.min, range.max], [20_200_000 * 512, 976_773_168 * 512]);
  const issueOf = (overrides: Record<string, unknown>) => {
    try {
      applyOverrides(base, overrides);
    } catch (e) {
      assert.ok(e instanceof ProfileError, String(e));
      return e.issues.join("\n");
    }
    return "";
  };
  const rule = "must be a multiple of 512 >= 10342400000 to hold every area the profile's boot " +
    "reads and writes (up to sector 20200000) and <= 500107862016 to fit on the node's disk " +
    "(hdd.sectors: 976773168)";
  for (const bytes of [1e9, 1e12, 32e9 + 1]) {
    assert.equal(
      issueOf({ "image.bytes": bytes }),
      `image.bytes.value: ${rule}: current value is ${bytes}`,
    );
  }
  assert.equal(issueOf({ "image.bytes": range.min }), "");
  assert.equal(issueOf({ "image.bytes": range.max }), "");
  // A smaller disk, or a boot that reads further, than the image allows: the issue is of
  // what was changed (the image is the profile's), with its own rule and value.
  assert.equal(
    issueOf({ "hdd.sectors": 60_000_000 }),
    "hdd.sectors.value: must be >= 62500000 to hold the image (image.bytes: 32000000000, " +
      "62500000 sectors): current value is 60000000",
  );
  assert.equal(
    issueOf({ "boot.params.writes.lba": 70_000_000 }),
    "boot.params.value: must read and write inside the image (image.bytes: 32000000000, " +
      "62500000 sectors): it reaches sector 70200000",
  );
  // Both sides changed, or the image alone: the image's issue, naming both bounds.
  assert.match(
    issueOf({ "hdd.sectors": 60_000_000, "image.bytes": 31e9 }),
    /^image\.bytes\.value: .* <= 30720000000 to fit on the node's disk \(hdd\.sectors: 60000000\): current value is 31000000000$/,
  );
  assert.match(
    issueOf({ "boot.params.writes.lba": 70_000_000, "image.bytes": 31e9 }),
    /^image\.bytes\.value: must be a multiple of 512 >= 35942400000 .*\(up to sector 70200000\)/,
  );
  // With an SSD in the nodes, the server's HDD is the other disk: each is named for its own bound.
  const ssdProfile = await loadProfile(
    new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url),
  );
  assert.match(
    overrideIssues(ssdProfile, { "imageServer.images": 40 }).join("\n"),
    /^image\.bytes\.value: .* to fit on the image server's disk as stored/,
  );
  assert.match(
    overrideIssues(ssdProfile, { "ssd.sectors": 1_000_000 }).join("\n"),
    /^ssd\.sectors\.value: must be >= 62500000 to hold the image \(image\.bytes: 32000000000, 62500000 sectors\): current value is 1000000$/,
  );
  // Reported with the other issues.
  assert.equal(issueOf({ "image.bytes": 1e9, "hdd.rpm": -1 }).split("\n").length, 2);
  // With an SSD in the node, its capacity bounds the image; compressed, the server holds more.
  const ssd = await loadProfile(
    new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url),
  );
  const small = applyOverrides(ssd, { "ssd.sectors": 80_000_000, "image.bytes": 40_960_000_000 });
  assert.match(imageSizeRange(small).maxReason, /node's disk \(ssd\.sectors: 80000000\)/);
  const big = applyOverrides(ssd, {
    "ssd.sectors": 2_000_000_000,
    "image.compressionRatio": 1.5,
  });
  assert.equal(imageSizeRange(big).max, Math.floor(976_773_168 * 1.5) * 512);
  assert.match(imageSizeRange(big).maxReason, /image server's disk as stored/);
  // In GB, the bounds are exact: the stated minimum is accepted, anything less rounds up to it or fails.
  assert.match(
    imageSizeIssue(base, 1e12, { unit: "GB" }) ?? "",
    /^must be >= 10\.3424 to hold .* and <= 500\.107862016 to fit/,
  );
  assert.equal(imageSizeIssue(base, 10_342_400_000, { unit: "GB" }), undefined);
  assert.notEqual(imageSizeIssue(base, 10_342_399_488, { unit: "GB" }), undefined);
});

Deno.test("parseProfile, loadProfile and applyOverrides refuse a misspelt option, naming the closest one, before any work", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  const json = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  json.hdd.sectors.value = 41_943_040; // too small for the image: only checkImageSize says so
  assert.throws(() => parseProfile(json, { checkImageSiz: false } as ProfileCheckOptions), {
    name: "RangeError",
    message: "Cannot parse profile: 'checkImageSiz' is not an option, did you mean " +
      "checkImageSize? The options are checkImageSize",
  });
  await assert.rejects(
    loadProfile("/no/such/profile.json", { checkimagesize: false } as ProfileCheckOptions),
    {
      name: "RangeError",
      message:
        /^Cannot load profile: 'checkimagesize' is not an option, did you mean checkImageSize\?/,
    },
  );
  assert.throws(
    () => applyOverrides(base, { "hdd.rpm": 15000 }, { orign: "me" } as ProfileCheckOptions),
    {
      name: "RangeError",
      message: "Cannot apply overrides: 'orign' is not an option, did you mean origin? " +
        "The options are origin, checkImageSize",
    },
  );
  assert.throws(
    () =>
      applyOverrides(base, { "hdd.rpm": 15000 }, {
        origin: "",
        checkImageSize: "no",
      } as unknown as ProfileCheckOptions),
    {
      name: "RangeError",
      message:
        `Cannot apply overrides: 'checkImageSize' must be true or false: current value is "no"; ` +
        `'origin' must be text that says who changed the parameters: current value is ""`,
    },
  );
  assert.equal(base.hdd.rpm.value, 7200, "the profile is left as it was");
});

Deno.test("applyOverrides lists an invalid value of a known path along with an unknown path", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  assert.deepEqual(overrideIssues(base, { "hdd.rpm": -1, "hdd.rmp": 3 }), [
    'hdd.rmp: section hdd has no parameter "rmp", did you mean "rpm"? (it has: ' +
    "sectors [sectors], rpm [rev/min], trackToTrackSeek [ns], averageSeek [ns], " +
    "fullStrokeSeek [ns], outerRate [bytes/s], innerRate [bytes/s], interfaceRate [bytes/s], " +
    "commandOverhead [ns], writeCache [true | false], writeCacheBytes [bytes], sptfWindow [commands])",
    "hdd.rpm.value: Too small: expected number to be >0: current value is -1",
  ]);
});

Deno.test("a profile file that misspells extends is told so, extends among its keys, and not buried under the sections it meant to inherit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const own = { name: "mine", hdd: { rpm: { value: 15000, source: "datasheet" } } };
    await Deno.writeTextFile(`${dir}/a.json`, JSON.stringify({ extend: "paper-2015", ...own }));
    await assert.rejects(loadProfile(`${dir}/a.json`), (e) => {
      assert.ok(e instanceof ProfileError, String(e));
      assert.deepEqual(e.issues, [
        'extend: a profile has no key "extend", did you mean "extends"? (it has: extends, name, ' +
        "description, cpu, memory, hba, hdd, ssd, network, imageServer, image, firmware, " +
        "guestDriver, vmm, installer, boot, nfs, kvm, infiniband, cassandra); " +
        "what a base profile would give is not reported missing",
      ]);
      return true;
    });
    // Another unknown key in a file that extends: extends is among the keys it could be.
    await Deno.writeTextFile(
      `${dir}/b.json`,
      JSON.stringify({ extends: "paper-2015", nmae: "mine" }),
    );
    await assert.rejects(loadProfile(`${dir}/b.json`), (e) => {
      assert.ok(e instanceof ProfileError, String(e));
      assert.deepEqual(e.issues, [
        'nmae: a profile has no key "nmae", did you mean "name"? (it has: extends, name, ' +
        "description, cpu, memory, hba, hdd, ssd, network, imageServer, image, firmware, " +
        "guestDriver, vmm, installer, boot, nfs, kvm, infiniband, cassandra)",
      ]);
      return true;
    });
    // A misspelt extends next to a bad value: the value is still reported, after the key.
    await Deno.writeTextFile(
      `${dir}/c.json`,
      JSON.stringify({ extnds: "paper-2015", hdd: { rpm: { value: -1, source: "datasheet" } } }),
    );
    await assert.rejects(loadProfile(`${dir}/c.json`), (e) => {
      assert.ok(e instanceof ProfileError, String(e));
      assert.equal(e.issues.length, 2, e.issues.join("\n"));
      assert.match(e.issues[0], /^extnds: a profile has no key "extnds", did you mean "extends"\?/);
      assert.match(e.issues[1], /^hdd\.rpm\.value: Too small/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // A profile object has no extends: parseProfile says only a file has one.
  const json = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  assert.throws(() => parseProfile({ ...json, extends: "paper-2015" }), (e: Error) => {
    assert.ok(e instanceof ProfileError, String(e));
    assert.deepEqual(e.issues, [
      "extends: only a profile file has it (loadProfile merges the base it names); " +
      "parseProfile takes the whole profile",
    ]);
    return true;
  });
});

Deno.test("the root partition must start inside the image: boot.rootLba < the image's sectors", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  // The boot reads up to sector 20,200,000; the 32 GB image has 62,500,000.
  assert.deepEqual(overrideIssues(base, { "boot.rootLba": 62_499_999 }), []);
  assert.deepEqual(overrideIssues(base, { "boot.rootLba": 999_999_999_999 }), [
    "boot.rootLba.value: must be < the image's sectors (image.bytes: 32000000000, 62500000 " +
    "sectors): the root partition starts inside the image: current value is 999999999999",
  ]);
  assert.deepEqual(overrideIssues(base, { "boot.rootLba": 62_500_000 }).length, 1);
  // The smallest image holds the root partition's first sector, and says so.
  const far = applyOverrides(base, { "boot.rootLba": 30_000_000 });
  assert.equal(imageSizeRange(far).min, 30_000_001 * 512);
  assert.equal(
    imageSizeRange(far).minReason,
    "to hold the root partition's start (boot.rootLba: 30000000)",
  );
  // Both changed: the image's issue.
  assert.match(
    overrideIssues(base, { "boot.rootLba": 30_000_000, "image.bytes": 15e9 }).join("\n"),
    /^image\.bytes\.value: must be a multiple of 512 >= 15360000512 to hold the root partition's start \(boot\.rootLba: 30000000\)/,
  );
});

Deno.test("network.maxRetransmitTimeout must be >= network.retransmitTimeout, named as changed", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  assert.deepEqual(overrideIssues(base, { "network.maxRetransmitTimeout": 1 }), [
    "network.maxRetransmitTimeout.value: must be >= network.retransmitTimeout (200000000): current value is 1",
  ]);
  assert.deepEqual(overrideIssues(base, { "network.retransmitTimeout": 2e11 }), [
    "network.retransmitTimeout.value: must be <= network.maxRetransmitTimeout (120000000000): current value is 200000000000",
  ]);
  assert.deepEqual(overrideIssues(base, { "network.maxRetransmitTimeout": 200_000_000 }), []);
  // In a profile itself, with its other issues.
  const json = JSON.parse(await Deno.readTextFile(BUILTIN_PROFILE));
  json.network.maxRetransmitTimeout.value = 1_000;
  json.hdd.rpm.value = -1;
  assert.throws(() => parseProfile(json), (e: unknown) => {
    assert.ok(e instanceof ProfileError);
    assert.equal(e.issues.length, 2);
    assert.ok(e.issues.includes(
      "network.maxRetransmitTimeout.value: must be >= network.retransmitTimeout (200000000): current value is 1000",
    ));
    return true;
  });
});

Deno.test("a rate copy policy's bucket must hold a copy chunk (vmm.chunkSectors x 512 bytes), or the copier never copies", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  const rate = (burstBytes: number) => ({ kind: "rate", bytesPerSecond: 1e8, burstBytes });
  assert.deepEqual(overrideIssues(base, { "vmm.copyPolicy": rate(1000) }), [
    "vmm.copyPolicy.value.burstBytes: must be >= the copy chunk (vmm.chunkSectors: 8192 x 512 = " +
    "4194304 bytes), or the copier never copies: current value is 1000",
  ]);
  assert.deepEqual(overrideIssues(base, { "vmm.copyPolicy": rate(8192 * 512) }), []);
  // A field set alone, and the chunk grown under a policy that held one: the chunk's issue.
  const held = applyOverrides(base, { "vmm.copyPolicy": rate(8192 * 512) });
  assert.equal(
    overrideIssues(held, { "vmm.copyPolicy.burstBytes": 4096 })[0],
    "vmm.copyPolicy.value.burstBytes: must be >= the copy chunk (vmm.chunkSectors: 8192 x 512 = " +
      "4194304 bytes), or the copier never copies: current value is 4096",
  );
  assert.deepEqual(overrideIssues(held, { "vmm.chunkSectors": 16384 }), [
    "vmm.chunkSectors.value: must be <= 8192 for the rate copy policy's bucket (vmm.copyPolicy " +
    "burstBytes: 4194304) to hold a chunk, or the copier never copies: current value is 16384",
  ]);
  // Other policies have no bucket.
  assert.deepEqual(overrideIssues(base, { "vmm.chunkSectors": 16384 }), []);
});

Deno.test("the copier's chunks in flight must fit in the VMM's memory above its image", async () => {
  const base = await loadProfile(BUILTIN_PROFILE);
  // 256 MiB of VMM memory, a quarter its image: (3 + 1) chunks of at most 48 MiB.
  const why = "the copier's buffers, (vmm.pipeline + 1) x vmm.chunkSectors x 512 bytes (the " +
    "chunks fetched ahead and the one written), in the VMM's memory above its image (3/4 of " +
    "vmm.memoryBytes: 201326592 bytes)";
  assert.deepEqual(overrideIssues(base, { "vmm.chunkSectors": 98_304 }), []);
  for (const chunk of [98_305, 1_000_000, 62_500_000]) {
    assert.deepEqual(overrideIssues(base, { "vmm.chunkSectors": chunk }), [
      `vmm.chunkSectors.value: must be <= 98304 to keep ${why}: current value is ${chunk}`,
    ]);
  }
  assert.deepEqual(overrideIssues(base, { "vmm.pipeline": 100 }), [
    `vmm.pipeline.value: must be <= 47 to keep ${why}: current value is 100`,
  ]);
  assert.match(
    overrideIssues(base, { "vmm.memoryBytes": 16 << 20 })[0],
    /^vmm\.memoryBytes\.value: must be >= 22369622 to hold the copier's buffers, .* = 16777216 bytes, above the VMM's image \(its first quarter\): current value is 16777216$/,
  );
});
