import assert from "node:assert/strict";
import {
  bootAreas,
  checkParams,
  imageIssue,
  paramIssues,
  type ParamRules,
  runProfile,
  storeData,
} from "../../experiments/_params.ts";
import * as experiments from "../../experiments/mod.ts";
import { BUILTIN_PROFILE, loadProfile, ScenarioError } from "../../lib/scenario/mod.ts";
import { KvStoreParamsSchema } from "../../lib/workload/mod.ts";

const profile = await loadProfile(BUILTIN_PROFILE);

interface Demo {
  methods: string[];
  nodes?: number[];
  seed: number;
}
const RULES: ParamRules<Demo> = {
  methods: { list: ["bmcast", "nfsroot"] },
  nodes: { list: "number", noun: "fleet sizes" },
  seed: true,
};
const messages = (params: unknown) =>
  paramIssues(params, RULES).map((i) => `${i.field} ${i.message}`);

Deno.test("experiment params: a key that is not a parameter is named with the closest one and the known ones", () => {
  assert.deepEqual(messages({ methods: ["bmcast"], sede: 1 }), [
    "sede is not an option, did you mean seed? The options are methods, nodes, seed",
  ]);
  assert.deepEqual(messages({ methods: ["bmcast"], colour: 1 }), [
    "colour is not an option: the options are methods, nodes, seed",
  ]);
  assert.deepEqual(messages(null), ["(params) must be an object: current value is null"]);
});

Deno.test("experiment params: a list must be a non-empty list of allowed items, none twice", () => {
  assert.deepEqual(messages({ methods: [], seed: 1 }), [
    "methods must be a list of one or more of bmcast, nfsroot: current value is []",
  ]);
  assert.deepEqual(messages({ methods: "bmcast", seed: 1 }), [
    'methods must be a list of one or more of bmcast, nfsroot: current value is "bmcast"',
  ]);
  assert.deepEqual(messages({ methods: ["nfsrot", 3, "bmcast", "bmcast"], seed: 1 }), [
    'methods[0] must be one of bmcast, nfsroot: current value is "nfsrot", did you mean "nfsroot"?',
    "methods[1] must be one of bmcast, nfsroot: current value is 3",
    'methods must be a list without repeats: current value is ["nfsrot",3,"bmcast","bmcast"]',
  ]);
  assert.deepEqual(messages({ methods: ["bmcast"], nodes: [4, "8", null], seed: 1 }), [
    'nodes[1] must be a number: current value is "8"',
    "nodes[2] must be a number: current value is null",
  ]);
  assert.deepEqual(messages({ methods: ["bmcast"], nodes: [], seed: 1 }), [
    "nodes must be a list of one or more fleet sizes: current value is []",
  ]);
  assert.deepEqual(messages({ methods: ["bmcast"], nodes: undefined, seed: 1 }), [], "absent");
  assert.throws(
    () => checkParams("run demo", { methods: [], seed: 1 }, RULES),
    (e: Error) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot run demo: 'methods' must be a list of one or more of bmcast, nfsroot: " +
          "current value is []",
  );
});

Deno.test("experiment params: an image must hold what the run uses of it, be whole sectors and fit the disks", () => {
  const store = KvStoreParamsSchema.parse(profile.cassandra.store.value);
  const areas = [...bootAreas(profile), storeData(store)];
  assert.deepEqual(areas.map((r) => r.end), [13_000_000, 13_040_000]);
  assert.deepEqual(bootAreas(profile, { writes: true }).map((r) => r.end), [
    13_000_000,
    20_200_000,
  ]);
  const at = (value: number) => imageIssue(profile, { field: "imageBytes", value }, areas);
  assert.equal(at(13_040_000 * 512), undefined, "the smallest that holds both");
  assert.match(
    at(13_040_000 * 512 - 512)!.message,
    /^must be a multiple of 512 >= 6676480000 to hold what the run uses of the image \(the boot's read areas in boot\.params\.regions, up to sector 13000000; the store's data set at cassandra\.store layout\.dataLba, up to sector 13040000\) and <= 500107862016 to fit on the node's disk \(hdd\.sectors: 976773168\): current value is 6676479488$/,
  );
  assert.ok(at(7e9 + 1), "not whole sectors");
  assert.ok(at(976_773_168 * 512 + 512), "larger than the disk");
  assert.equal(at(976_773_168 * 512), undefined);
  const gb = imageIssue(profile, { field: "imageGb", value: 6.6, unit: "GB" }, areas);
  assert.match(
    gb!.message,
    /^must be >= 6\.67648 to hold .* and <= 500\.107862016 .*: current value is 6\.6$/,
  );
  assert.match(
    imageIssue(profile, { field: "x", value: 0 }, [])!.message,
    />= 512 to hold at least one sector/,
  );
});

Deno.test("experiment params: a required parameter must be given; numbers and flags keep their rule", () => {
  interface Run {
    methods: string[];
    seed: number;
    bytes?: number;
    name: string;
    parallel?: boolean;
    seeds?: number[];
  }
  const rules: ParamRules<Run> = {
    methods: { list: ["bmcast"], required: true },
    seed: { required: true, number: { integer: true, min: 0, max: 9 } },
    bytes: { number: { integer: true, min: 0, strict: true, multipleOf: 512 } },
    name: { required: true },
    parallel: { boolean: true },
    seeds: { list: "number", number: { integer: true, min: 0, max: 9 } },
  };
  const of = (params: unknown) => paramIssues(params, rules).map((i) => `${i.field} ${i.message}`);
  assert.deepEqual(of({}), [
    "methods must be a list of one or more of bmcast: current value is undefined",
    "seed must be an integer in [0, 9]: current value is undefined",
    "name must be given: current value is undefined",
  ]);
  const ok = { methods: ["bmcast"], seed: 1, name: "a" };
  assert.deepEqual(of({ ...ok, bytes: 4096, parallel: false, seeds: [0, 9] }), []);
  assert.deepEqual(of({ ...ok, seed: 1.5, bytes: 1000, parallel: "no", seeds: [3, -1, "2"] }), [
    "seed must be an integer in [0, 9]: current value is 1.5",
    "bytes must be an integer > 0 and a multiple of 512: current value is 1000",
    'parallel must be true or false: current value is "no"',
    "seeds[1] must be an integer in [0, 9]: current value is -1",
    'seeds[2] must be a number: current value is "2"',
  ]);
});

Deno.test("experiment params: a profile given must be a profile, whatever its rule says", async () => {
  const rules: ParamRules<{ profile?: unknown }> = { profile: true };
  assert.deepEqual(paramIssues({ profile }, rules), []);
  assert.deepEqual(paramIssues({}, rules), []);
  const [bad] = paramIssues({ profile: { hdd: {} } }, rules);
  assert.equal(bad.field, "profile");
  assert.match(
    bad.message,
    /^must be a profile \(loadProfile, parseProfile\); sections missing or not objects: cpu, .*: current value is an object$/,
  );
  assert.equal(await runProfile({ profile: { hdd: {} } }), undefined);
  assert.equal(await runProfile({ profile }), profile);
  assert.equal((await runProfile({}))?.name, profile.name);
});

/** Each experiment's run, the quick configuration, and how its errors read (`sim` is a CLI). */
const EXPERIMENTS = Object.entries(experiments).filter(([, m]) =>
  typeof m === "object" && "run" in m
) as [
  string,
  { run: (p: unknown) => Promise<unknown>; small: object },
][];

Deno.test("every experiment's run refuses a profile that is not one, naming it, before anything runs", async () => {
  assert.equal(EXPERIMENTS.length, 8);
  for (const [name, { run, small }] of EXPERIMENTS) {
    for (const bad of [{ hdd: {} }, "paper-2015.json"]) {
      const t0 = performance.now();
      await assert.rejects(
        run({ ...small, profile: bad }),
        (e: Error) =>
          (e instanceof RangeError || e instanceof ScenarioError) &&
          /'?profile'?:? must be a profile \(loadProfile, parseProfile\)/.test(e.message),
        `${name} with profile ${JSON.stringify(bad)}`,
      );
      assert.ok(performance.now() - t0 < 2000, `${name} refused it before running`);
    }
  }
});

Deno.test("every experiment's run names a required parameter left out", async () => {
  // The copier study's `cases` is left to fig_copier.ts (its own check reads them first).
  const named: Record<string, RegExp> = {
    startup: /'methods' must be a list/,
    cassandra: /'durationS' must be a finite number > 0: current value is undefined/,
    storage: /'bytes' must be .*: current value is undefined/,
    rdma: /'iterations' must be .*: current value is undefined/,
    fleet: /strategies: must be a list of one or more strategies: current value is undefined/,
    sensitivity: /'step' must be a number in \(0, 1\): current value is undefined/,
    elasticity: /horizonS: must be a number: current value is undefined/,
  };
  for (const [name, { run }] of EXPERIMENTS) {
    if (name === "copier") continue;
    await assert.rejects(run({}), named[name], name);
  }
});
