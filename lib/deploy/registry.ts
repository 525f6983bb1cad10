/**
 * The one table of startup strategies by name: the built-in ones and any a
 * user registers. The fleet runner, the experiments and `deno task sim`
 * look a strategy up here when they run, so one registered before a run is
 * found by name, with what they need to know of it besides its code (does
 * its world start with the image on the local disks, when is a node
 * deployed). A built-in's name cannot be taken; a user's name registered
 * again gets the new code and traits (a notebook cell run twice). A
 * registration holds in the thread that made it: the elasticity and
 * sensitivity experiments, which run built-ins in workers when asked to,
 * run a registered strategy in the thread that registered it.
 */
import {
  type FieldIssue,
  fieldIssue,
  issuesError,
  showValue,
  unknownKeyIssues,
} from "../_util/mod.ts";
import type { ProcessGenerator } from "../sim/mod.ts";
import { kvmLocal, kvmNfs } from "./kvm.ts";
import {
  bareMetal,
  bmcast,
  bmcastMulticast,
  imageCopy,
  imageCopyMulticast,
  nfsRoot,
  type StartupOptions,
  type StartupResult,
} from "./strategies.ts";
import type { Node, World } from "./world.ts";

/**
 * A startup strategy: brings the OS up on `node` (powered on, POST done),
 * recording its phases, and returns what it leaves running.
 */
export type StartupStrategy = (
  w: World,
  node: Node,
  options?: StartupOptions,
) => ProcessGenerator<StartupResult>;

/**
 * When a node holds the image on its local disk, i.e. is deployed: when its
 * OS is up (it booted from the local disk), after its background copy (the
 * result's `vmm` finishes the copy and de-virtualizes, as BMcast's), or
 * never (it streams the image for as long as it runs).
 */
export const DEPLOYED_WHEN = ["up", "copy", "never"] as const;
/** See {@link DEPLOYED_WHEN}. */
export type DeployedWhen = typeof DEPLOYED_WHEN[number];

/** What the runners need to know of a strategy besides its code. */
export interface StrategyTraits {
  /**
   * It boots from a local disk already holding the image (the baselines
   * "after deployment"): its world is built with `preinstalled: true`;
   * otherwise the local disks start blank.
   */
  preinstalled: boolean;
  /** When a node is deployed ({@link DEPLOYED_WHEN}): `until: "deployed"` runs wait for it. */
  deployed: DeployedWhen;
  /**
   * Its OS writes to the image on the server (an NFS root), so the image
   * must also hold the boot's log writes (`boot.params.writes`), which the
   * startup experiment checks of a smaller image. @default false
   */
  writesImage?: boolean;
}

/** A strategy as registered: its name, its code and its traits. */
export interface RegisteredStrategy extends Readonly<Required<StrategyTraits>> {
  /** Its name ("bmcast", "kvm-nfs", ...), as scenarios, `--strategy` and `methods` give it. */
  readonly name: string;
  /** Its code. */
  readonly start: StartupStrategy;
  /** One of metalcast's own: known in every thread, workers included. */
  readonly builtIn: boolean;
}

const TRAITS = ["preinstalled", "deployed", "writesImage"] as const satisfies readonly (
  keyof StrategyTraits
)[];
const NAME = /^[a-z][a-z0-9-]*$/;
const REGISTRY = new Map<string, RegisteredStrategy>();

/**
 * Registers `start` under `name`, for the fleet runner (`runFleet`), the
 * startup experiment's `methods` and the elasticity experiment to find. A
 * name registered before (not a built-in's) gets the new code and traits.
 * @throws RangeError naming every bad field: a built-in's name (listing the
 *   built-ins) or one not lower-case letters, digits and dashes, a `start`
 *   that is not a function, a trait missing, unknown or out of its values
 * @example
 * ```ts
 * import { bareMetal } from "./strategies.ts";
 * import { registerStrategy, startupStrategy } from "./registry.ts";
 * registerStrategy("bare-metal-again", bareMetal, { preinstalled: true, deployed: "up" });
 * registerStrategy("bare-metal-again", bareMetal, { preinstalled: true, deployed: "never" }); // replaces it
 * console.assert(startupStrategy("bare-metal-again").deployed === "never");
 * let message = "";
 * try {
 *   registerStrategy("bmcast", bareMetal, { preinstalled: true, deployed: "up" });
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * console.assert(message.startsWith("Cannot register strategy 'bmcast': 'name' must be a name other than the built-ins' (bare-metal, "));
 * ```
 */
export function registerStrategy(
  name: string,
  start: StartupStrategy,
  traits: StrategyTraits,
): RegisteredStrategy {
  const issues: FieldIssue[] = [];
  if (typeof name !== "string" || !NAME.test(name)) {
    issues.push(fieldIssue("name", "lower-case letters, digits and dashes", showValue(name)));
  } else if (REGISTRY.get(name)?.builtIn) {
    const names = BUILT_IN.map(([n]) => n).join(", ");
    issues.push(fieldIssue("name", `a name other than the built-ins' (${names})`, showValue(name)));
  }
  if (typeof start !== "function") {
    issues.push(
      fieldIssue("start", "a strategy (w, node, options) => generator", showValue(start)),
    );
  }
  const t = (typeof traits === "object" && traits !== null ? traits : {}) as Partial<
    StrategyTraits
  >;
  issues.push(...unknownKeyIssues(t, TRAITS));
  if (typeof t.preinstalled !== "boolean") {
    issues.push(fieldIssue("preinstalled", "true or false", showValue(t.preinstalled)));
  }
  if (!DEPLOYED_WHEN.includes(t.deployed as DeployedWhen)) {
    issues.push(
      fieldIssue("deployed", `one of ${DEPLOYED_WHEN.join(", ")}`, showValue(t.deployed)),
    );
  }
  if (t.writesImage !== undefined && typeof t.writesImage !== "boolean") {
    issues.push(fieldIssue("writesImage", "true or false", showValue(t.writesImage)));
  }
  if (issues.length > 0) throw issuesError(`register strategy '${String(name)}'`, issues);
  const entry = Object.freeze({
    name,
    start,
    preinstalled: t.preinstalled!,
    deployed: t.deployed!,
    writesImage: t.writesImage ?? false,
    builtIn: building,
  });
  REGISTRY.set(name, entry);
  return entry;
}

/**
 * The strategy registered as `name`.
 * @throws RangeError `Cannot <what>: 'strategy' must be one of <names>: current value is <name>`
 * @example
 * ```ts
 * import { startupStrategy } from "./registry.ts";
 * const s = startupStrategy("bmcast");
 * console.assert(s.deployed === "copy" && !s.preinstalled && typeof s.start === "function");
 * ```
 */
export function startupStrategy(name: string, what = "find strategy"): RegisteredStrategy {
  const strategy = REGISTRY.get(name);
  if (strategy === undefined) {
    throw new RangeError(
      `Cannot ${what}: 'strategy' must be one of ${
        strategyNames().join(", ")
      }: current value is ${name}`,
    );
  }
  return strategy;
}

/**
 * The names of every registered strategy, the built-in ones first, in the
 * order they were registered.
 * @example
 * ```ts
 * import { strategyNames } from "./registry.ts";
 * console.assert(strategyNames().slice(0, 3).join() === "bare-metal,image-copy,image-copy-multicast");
 * ```
 */
export function strategyNames(): string[] {
  return [...REGISTRY.keys()];
}

// The built-in strategies, in the order help texts and error messages list them.
const BUILT_IN: [string, StartupStrategy, StrategyTraits][] = [
  ["bare-metal", bareMetal, { preinstalled: true, deployed: "up" }],
  ["image-copy", imageCopy, { preinstalled: false, deployed: "up" }],
  ["image-copy-multicast", imageCopyMulticast, { preinstalled: false, deployed: "up" }],
  ["bmcast", bmcast, { preinstalled: false, deployed: "copy" }],
  ["bmcast-multicast", bmcastMulticast, { preinstalled: false, deployed: "copy" }],
  ["nfsroot", nfsRoot, { preinstalled: false, deployed: "never", writesImage: true }],
  ["kvm-nfs", kvmNfs, { preinstalled: false, deployed: "never", writesImage: true }],
  ["kvm-local", kvmLocal, { preinstalled: true, deployed: "up" }],
];
let building = true; // registering the built-ins, below
for (const [name, start, traits] of BUILT_IN) registerStrategy(name, start, traits);
building = false;
