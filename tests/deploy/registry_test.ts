import assert from "node:assert/strict";
import {
  bareMetal,
  bmcast,
  kvmLocal,
  registerStrategy,
  startupStrategy,
  strategyNames,
} from "../../lib/deploy/mod.ts";

const BUILT_INS = [
  "bare-metal",
  "image-copy",
  "image-copy-multicast",
  "bmcast",
  "bmcast-multicast",
  "nfsroot",
  "kvm-nfs",
  "kvm-local",
];

Deno.test("the registry holds the built-in strategies, each with when its world starts preinstalled and when it is deployed", () => {
  assert.deepEqual(strategyNames(), BUILT_INS);
  const traits = BUILT_INS.map((n) => {
    const { preinstalled, deployed } = startupStrategy(n);
    return `${n}:${preinstalled ? "preinstalled" : "blank"}:${deployed}`;
  });
  assert.deepEqual(traits, [
    "bare-metal:preinstalled:up",
    "image-copy:blank:up",
    "image-copy-multicast:blank:up",
    "bmcast:blank:copy",
    "bmcast-multicast:blank:copy",
    "nfsroot:blank:never",
    "kvm-nfs:blank:never",
    "kvm-local:preinstalled:up",
  ]);
  assert.equal(startupStrategy("kvm-local").start, kvmLocal);
});

Deno.test("a registered strategy is found by name, after the built-ins; its entry cannot be changed", () => {
  const entry = registerStrategy("bare-metal-twin", bareMetal, {
    preinstalled: true,
    deployed: "up",
  });
  assert.equal(startupStrategy("bare-metal-twin"), entry);
  assert.deepEqual(strategyNames(), [...BUILT_INS, "bare-metal-twin"]);
  assert.throws(() => {
    (entry as { deployed: string }).deployed = "never";
  }, TypeError);
  assert.equal(startupStrategy("bare-metal-twin").deployed, "up");
});

Deno.test("a built-in's name is refused listing the built-ins; a user's name registered again takes the new code and traits", () => {
  const first = registerStrategy("bmcast-twin", bmcast, { preinstalled: false, deployed: "copy" });
  assert.equal(first.builtIn, false);
  const again = registerStrategy("bmcast-twin", bareMetal, { preinstalled: true, deployed: "up" });
  assert.equal(startupStrategy("bmcast-twin"), again);
  assert.equal(startupStrategy("bmcast-twin").start, bareMetal);
  assert.equal(strategyNames().filter((n) => n === "bmcast-twin").length, 1);
  assert.throws(
    () => registerStrategy("bmcast", bareMetal, { preinstalled: true, deployed: "up" }),
    {
      name: "RangeError",
      message:
        "Cannot register strategy 'bmcast': 'name' must be a name other than the built-ins' " +
        `(${BUILT_INS.join(", ")}): current value is "bmcast"`,
    },
  );
  assert.equal(startupStrategy("bmcast").start, bmcast, "the built-in is still there");
  assert.ok(startupStrategy("bmcast").builtIn);
});

Deno.test("a registration with a bad name, code or traits is refused naming every field and its allowed values", () => {
  const bad = {
    preinstalled: "yes",
    deployed: "later",
    preinstaled: true,
    writesImage: "no",
  } as unknown as Parameters<typeof registerStrategy>[2];
  assert.throws(
    () => registerStrategy("Kexec Copy", "fast" as unknown as typeof bareMetal, bad),
    {
      name: "RangeError",
      message: "Cannot register strategy 'Kexec Copy': " +
        `'name' must be lower-case letters, digits and dashes: current value is "Kexec Copy"; ` +
        `'start' must be a strategy (w, node, options) => generator: current value is "fast"; ` +
        "'preinstaled' is not an option, did you mean preinstalled? The options are preinstalled, deployed, writesImage; " +
        `'preinstalled' must be true or false: current value is "yes"; ` +
        `'deployed' must be one of up, copy, never: current value is "later"; ` +
        `'writesImage' must be true or false: current value is "no"`,
    },
  );
  assert.throws(
    () => registerStrategy("copy-kexec", bareMetal, undefined as never),
    /'preinstalled' must be true or false: current value is undefined; 'deployed' must be one of up, copy, never/,
  );
  assert.ok(!strategyNames().includes("copy-kexec"), "nothing was registered");
});

Deno.test("an unknown strategy is refused naming the registered ones", () => {
  assert.throws(() => startupStrategy("teleport", "run fleet"), {
    name: "RangeError",
    message: `Cannot run fleet: 'strategy' must be one of ${
      strategyNames().join(", ")
    }: current value is teleport`,
  });
});

Deno.test("a strategy writes to the image only when it says so: the built-in NFS roots do, a registration by default not", () => {
  assert.deepEqual(
    strategyNames().filter((n) => startupStrategy(n).builtIn && startupStrategy(n).writesImage),
    ["nfsroot", "kvm-nfs"],
  );
  const nfsTwin = registerStrategy("nfsroot-twin", startupStrategy("nfsroot").start, {
    preinstalled: false,
    deployed: "never",
    writesImage: true,
  });
  assert.equal(nfsTwin.writesImage, true);
  const plain = registerStrategy("bare-metal-plain", bareMetal, {
    preinstalled: true,
    deployed: "up",
  });
  assert.equal(plain.writesImage, false);
});
