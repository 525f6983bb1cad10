import assert from "node:assert/strict";
import {
  bootAreas,
  checkParams,
  imageIssue,
  paramIssues,
  type ParamRules,
  storeData,
} from "../../experiments/_params.ts";
import { BUILTIN_PROFILE, loadProfile } from "../../lib/scenario/mod.ts";
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
