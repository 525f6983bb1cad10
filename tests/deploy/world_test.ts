import assert from "node:assert/strict";
import {
  applyOverrides,
  buildWorld,
  BUILTIN_PROFILE,
  imageIdOf,
  imageSizeRange,
  loadProfile,
  MAX_NODES,
  minImageBytes,
  serverOutage,
  usedRuns,
  type WorldOptions,
} from "../../lib/deploy/mod.ts";

const profile = await loadProfile(BUILTIN_PROFILE);
const { max } = imageSizeRange(profile);

/** The message buildWorld refuses `options` with. */
function refusal(options: Record<string, unknown>): string {
  try {
    buildWorld(profile, options as WorldOptions);
  } catch (e) {
    assert.ok(e instanceof RangeError, String(e));
    return e.message;
  }
  throw new Error(`buildWorld accepted ${JSON.stringify(options)}`);
}

Deno.test("buildWorld takes a whole number of nodes from 1 to MAX_NODES, and nothing else", () => {
  for (const nodes of [0, -1, NaN, 1.5, MAX_NODES + 1, Infinity]) {
    assert.equal(
      refusal({ nodes }),
      `Cannot build world: 'nodes' must be an integer in [1, ${MAX_NODES}]: current value is ${nodes}`,
    );
  }
  assert.match(refusal({ nodes: "2" }), /'nodes' must be an integer .*: current value is "2"$/);
  assert.equal(buildWorld(profile, { nodes: 3 }).nodes.length, 3);
});

Deno.test("buildWorld takes an image up to what a node's disk holds, also one smaller than the boot reads", () => {
  for (const imageBytes of [1e15, max + 1, 0, -1, NaN]) {
    assert.equal(
      refusal({ imageBytes }),
      `Cannot build world: 'imageBytes' must be a number > 0 and <= ${max} to fit on the node's disk (hdd.sectors: ${
        max / 512
      }): current value is ${imageBytes}`,
    );
  }
  assert.equal(buildWorld(profile, { imageBytes: max }).imageSectors, max / 512);
  const small = minImageBytes(profile) / 10;
  assert.equal(buildWorld(profile, { imageBytes: small }).imageSectors, Math.ceil(small / 512));
});

Deno.test("buildWorld refuses a bad seed, preinstalled or run label, and a misspelt option, every issue at once", () => {
  assert.equal(
    refusal({ nodez: 3, seed: -1, preinstalled: "yes", run: 7 }),
    "Cannot build world: 'nodez' is not an option, did you mean nodes? " +
      "The options are seed, nodes, preinstalled, imageBytes, run; " +
      "'seed' must be an integer in [0, 4294967295]: current value is -1; " +
      `'preinstalled' must be true or false: current value is "yes"; ` +
      "'run' must be text: current value is 7",
  );
  assert.match(refusal({ bogus: 1 }), /'bogus' is not an option: the options are seed, nodes, /);
  // An option left undefined takes its default.
  assert.equal(buildWorld(profile, { nodes: undefined, seed: undefined }).nodes.length, 1);
});

Deno.test("with imageServer.images K, node i boots image i mod K; each server holds all K, each with its multicast session", () => {
  const p = applyOverrides(profile, { "imageServer.images": 3, "imageServer.count": 2 });
  const w = buildWorld(p, { nodes: 5 });
  assert.deepEqual(w.nodes.map((n) => `${n.server} ${n.imageId}`), [
    "image-server ubuntu-14.04",
    "image-server-1 ubuntu-14.04-1",
    "image-server ubuntu-14.04-2",
    "image-server-1 ubuntu-14.04",
    "image-server ubuntu-14.04-1",
  ]);
  for (const s of w.servers) {
    assert.deepEqual(
      [0, 1, 2].map((k) => s.image(imageIdOf(k))?.blocks),
      [1, 1, 1].map(() => w.imageSectors),
    );
  }
  assert.deepEqual(
    w.multicasts.map((m) => `${m.server.host} ${m.imageId} ${m.port}`),
    [
      "image-server ubuntu-14.04 multicast",
      "image-server ubuntu-14.04-1 multicast-1",
      "image-server ubuntu-14.04-2 multicast-2",
      "image-server-1 ubuntu-14.04 multicast",
      "image-server-1 ubuntu-14.04-1 multicast-1",
      "image-server-1 ubuntu-14.04-2 multicast-2",
    ],
  );
  // The server's disk holds every image: 16 of the profile's 32 GB do not fit on 500 GB.
  assert.throws(
    () => applyOverrides(profile, { "imageServer.images": 16 }),
    /image\.bytes\.value: .*<= 31256741376 to fit on the image server's disk as stored \(hdd\.sectors: 976773168, image\.compressionRatio: 1, imageServer\.images: 16\)/,
  );
});

Deno.test("serverOutage names a misspelt window key and every bad field, and adds no outage", () => {
  const w = buildWorld(profile, { nodes: 1 });
  const host = w.servers[0].host;
  assert.throws(
    () =>
      serverOutage(
        w,
        { start: 5e9, duraton: 1e9 } as unknown as Parameters<typeof serverOutage>[1],
      ),
    {
      name: "RangeError",
      message: "Cannot start a server outage: 'duraton' is not an option, did you mean duration? " +
        "The options are start, duration; " +
        "'duration' must be an integer >= 0: current value is undefined",
    },
  );
  assert.throws(() => serverOutage(w, { start: -1, duration: NaN }), {
    name: "RangeError",
    message:
      "Cannot start a server outage: 'start' must be an integer >= 0: current value is -1; " +
      "'duration' must be an integer >= 0: current value is NaN",
  });
  w.sim.run(6e9);
  assert.equal(w.network.outageDelay("node0", host), 0, "no outage was added");
});

Deno.test("usedRuns takes the profile's image by default and refuses a size that is not a whole number of sectors", () => {
  const sectors = Math.ceil(profile.image.bytes.value / 512);
  assert.deepEqual(usedRuns(profile), usedRuns(profile, sectors));
  assert.ok(usedRuns(profile).every((r) => Number.isInteger(r.count) && r.count > 0));
  // A smaller image clips the runs to it.
  assert.deepEqual(usedRuns(profile, 8), [{ lba: 0, count: 8 }]);
  assert.deepEqual(usedRuns(profile, 0), []);
  for (const bad of [1.5, -1, NaN, Infinity]) {
    assert.throws(() => usedRuns(profile, bad), {
      name: "RangeError",
      message: `Cannot list the image's used runs: 'imageSectors' must be an integer >= 0: ` +
        `current value is ${bad}`,
    });
  }
  assert.throws(
    () => usedRuns({} as typeof profile, -1),
    (e: Error) =>
      e instanceof RangeError &&
      /^Cannot list the image's used runs: 'profile' must be a profile .*; 'imageSectors' must be/
        .test(e.message),
  );
});
