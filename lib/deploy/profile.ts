/**
 * Hardware-and-software profiles: every cost parameter of a run with its
 * source (a datasheet, a public measurement, or "calibrated to <figure>").
 * Parsed once at the edge with zod; a bad profile is rejected with every
 * issue listed by path. Sections mirror the models' option objects, so the
 * deployment layer passes `values(section)` straight to a constructor.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { issuesMessage } from "../_util/mod.ts";

const sourceText = () =>
  z.string().min(
    3,
    "every parameter needs a source (datasheet, measurement, or 'calibrated to <figure>')",
  );

/**
 * A parameter: a value and where it comes from. An object-valued parameter
 * may also give some of its fields a source of their own (`fieldSources`),
 * where they come from different places.
 */
function param<T extends z.ZodTypeAny>(value: T) {
  return z.object({
    value,
    source: sourceText(),
    fieldSources: z.record(z.string(), sourceText()).optional(),
  }).strict().superRefine((p, ctx) => {
    const { value: v, fieldSources } = p as { value: unknown; fieldSources?: object };
    for (const field of Object.keys(fieldSources ?? {})) {
      if (typeof v !== "object" || v === null || !Object.hasOwn(v, field)) {
        ctx.addIssue({
          code: "custom",
          path: ["fieldSources", field],
          message: "names no field of the value",
        });
      }
    }
  });
}
const ns = () => param(z.number().int().nonnegative());
const pos = () => param(z.number().positive());
const nonneg = () => param(z.number().nonnegative());
const frac = () => param(z.number().min(0).max(1));
const int = () => param(z.number().int().positive());
const count = () => param(z.number().int().nonnegative());
const flag = () => param(z.boolean());
const obj = () => param(z.record(z.string(), z.any()));

const sections = {
  cpu: z.object({
    logicalCpus: int(),
    clockHz: pos(),
    vmExit: ns(),
    vmEntry: ns(),
    mmioRead: ns(),
    mmioWrite: ns(),
    eptOverhead: nonneg(),
    ipi: ns(),
    tlbFlush: ns(),
    interruptLatency: ns(),
    /** zlib inflate output rate of one core, bytes/s (compressed images only). */
    inflateRate: pos(),
  }).strict(),
  memory: z.object({ bytes: int() }).strict(),
  hba: z.object({
    commandOverhead: ns(),
    prdEntry: ns(),
    fisPost: ns(),
    dmaBandwidth: pos(),
    identify: ns(),
    engineStart: ns(),
    engineStop: ns(),
    fisEngine: ns(),
    hbaReset: ns(),
    linkReset: ns(),
  }).strict(),
  hdd: z.object({
    sectors: int(),
    rpm: pos(),
    trackToTrackSeek: ns(),
    averageSeek: ns(),
    fullStrokeSeek: ns(),
    outerRate: pos(),
    innerRate: pos(),
    interfaceRate: pos(),
    commandOverhead: ns(),
    writeCache: flag(),
    writeCacheBytes: int(),
  }).strict(),
  /**
   * Optional: each node's local disk is this SATA SSD instead of the `hdd`
   * section's drive (the image server keeps its HDD). lib/hw SsdOptions.
   */
  ssd: z.object({
    sectors: int(),
    readLatency: ns(),
    writeLatency: ns(),
    channels: int(),
    readBandwidth: pos(),
    writeBandwidth: pos(),
    flushLatency: ns(),
    queueDepth: int(),
  }).strict().optional(),
  network: z.object({
    lineRate: pos(),
    linkLatency: ns(),
    switchLatency: ns(),
    /** A sender's first retransmission timeout when an end is unreachable (an outage), ns. */
    retransmitTimeout: int(),
    /** Its largest retransmission timeout (it doubles after each lost try), ns. */
    maxRetransmitTimeout: int(),
  }).strict(),
  imageServer: z.object({
    /** Image servers; node i uses server i mod count (beyond the paper: it has one). */
    count: param(z.number().int().min(1).max(64)),
    cpuPerRequest: ns(),
    concurrency: int(),
    pageCacheBytes: int(),
    requestLatency: ns(),
    headerBytes: int(),
    /** Most image bytes/s a multicast session sends; 0: no limit (the link's rate). */
    multicastRate: nonneg(),
    /** A multicast receiver that has heard nothing this long while it misses chunks asks again, ns. */
    multicastIdleTimeout: int(),
  }).strict(),
  image: z.object({
    bytes: int(),
    /** Largest block-protocol request, sectors. */
    maxRequestSectors: int(),
    /**
     * What a copy brings to the local disk: the whole image ("all", the
     * paper) or only its used blocks ("used", beyond the paper: a file-system
     * aware copy as in Frisbee).
     */
    copyScope: param(z.enum(["all", "used"])),
    /**
     * Image bytes per stored byte: 1 sends raw blocks (the paper); above 1
     * (beyond the paper) the server holds and sends the image compressed,
     * Frisbee-style, and the block-protocol clients inflate it.
     */
    compressionRatio: param(z.number().min(1)),
  }).strict(),
  firmware: z.object({
    postDuration: ns(),
    localBootDelay: ns(),
    dhcpMessageLatency: ns(),
    dhcpServerDelay: ns(),
    tftpBlockSize: int(),
    tftpPacketLatency: ns(),
    shutdown: ns(),
  }).strict(),
  guestDriver: z.object({
    issue: ns(),
    complete: ns(),
    pollInterval: ns(),
    maxRequestBytes: int(),
    commandTimeout: ns(),
    commandRetries: count(),
    linkDebounce: ns(),
  }).strict(),
  vmm: z.object({
    payloadBytes: int(),
    memoryBytes: int(),
    init: ns(),
    perCpuStart: ns(),
    mmioHandler: ns(),
    commandInterpret: ns(),
    pollInterval: ns(),
    vmxoffSkew: ns(),
    chunkSectors: int(),
    pipeline: int(),
    multicastBufferBytes: int(),
    readAheadSectors: param(z.number().int().nonnegative()),
    copyPolicy: obj(),
  }).strict(),
  installer: z.object({
    payloadBytes: int(),
    bootTime: ns(),
    copyChunkBytes: int(),
    copyDepth: int(),
    copyCpuPerChunk: ns(),
    multicastBufferBytes: int(),
  }).strict(),
  boot: z.object({
    /** lib/workload BootParams (validated by its own schema). */
    params: obj(),
    /** Where the image's root partition starts, sectors. */
    rootLba: param(z.number().int().nonnegative()),
    cores: int(),
    kernelPayloadBytes: int(),
  }).strict(),
  nfs: z.object({
    request: ns(),
    rpc: ns(),
    rsize: int(),
    maxInFlight: int(),
    readAhead: param(z.number().int().nonnegative()),
  }).strict(),
  kvm: z.object({
    hostOsBoot: ns(),
    vmmStart: ns(),
    guestFirmware: ns(),
    exitHandler: ns(),
    timerExitsPerSecond: nonneg(),
    virtio: obj(),
  }).strict(),
  infiniband: z.object({
    fabric: obj(),
    hca: obj(),
    iommuMissCost: ns(),
    iommuMissRatio: frac(),
  }).strict(),
  cassandra: z.object({
    store: obj(),
    workload: obj(),
  }).strict(),
};

/** The profile schema. */
export const ProfileSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  ...sections,
}).strict();

/** A parsed profile. */
export type Profile = z.infer<typeof ProfileSchema>;
/** Section names: the profile's keys other than `name` and `description` ("cpu", "hdd", "vmm", ...). */
export type SectionName = Exclude<keyof Profile, "name" | "description">;

/**
 * Values of a section without their sources.
 * @example
 * ```ts
 * import { values } from "./profile.ts";
 * const v = values({ rpm: { value: 7200, source: "datasheet" } });
 * console.assert(v.rpm === 7200);
 * ```
 */
export function values<S extends Record<string, { value: unknown; source: string }>>(
  section: S,
): { [K in keyof S]: S[K]["value"] } {
  const out = {} as { [K in keyof S]: S[K]["value"] };
  for (const k of Object.keys(section) as (keyof S)[]) out[k] = section[k].value;
  return out;
}

/** Thrown for a profile that does not validate; `issues` lists every problem. */
export class ProfileError extends Error {
  /** Error name, "ProfileError". */
  override name = "ProfileError";
  /**
   * An error whose message lists `issues`.
   * @param issues every problem found, each `path: message`
   */
  constructor(readonly issues: string[]) {
    super(issuesMessage("invalid profile", issues));
  }
}

/**
 * Validates a profile object, listing every issue with its path.
 * @throws ProfileError
 */
export function parseProfile(input: unknown): Profile {
  const r = ProfileSchema.safeParse(input);
  if (!r.success) {
    throw new ProfileError(
      r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
    );
  }
  return r.data;
}

/**
 * Reads and validates a profile JSON file. A profile may build on another:
 * `"extends": "<path relative to this file>"`; it then holds only what
 * differs (its name and description, whole sections, or single parameters
 * of a section, each replacing the base's) and the result is validated as a
 * whole.
 * @throws ProfileError also when a file cannot be read or the chain of
 *   `extends` loops, so a caller reports every case alike
 * @example
 * ```ts
 * import { loadProfile } from "./profile.ts";
 * const p = await loadProfile(new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url));
 * console.assert(p.ssd?.channels.value === 8 && p.hdd.rpm.value === 7200);
 * ```
 */
export async function loadProfile(path: string | URL): Promise<Profile> {
  const url = path instanceof URL ? path : pathToFileURL(resolve(path));
  return parseProfile(await readProfileJson(url, [], String(path)));
}

/** A profile file's JSON with its `extends` chain merged in. */
async function readProfileJson(url: URL, chain: string[], shown: string): Promise<unknown> {
  if (chain.includes(url.href)) {
    throw new ProfileError([`extends: ${shown} is already in the chain (a loop)`]);
  }
  let text: string;
  try {
    text = await Deno.readTextFile(url);
  } catch (e) {
    throw new ProfileError([`cannot read ${shown}: ${(e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProfileError([`(file ${shown}): not valid JSON: ${(e as Error).message}`]);
  }
  if (typeof json !== "object" || json === null || !("extends" in json)) return json;
  const { extends: base, ...own } = json as Record<string, unknown>;
  if (typeof base !== "string" || base === "") {
    throw new ProfileError([
      `(file ${shown}) extends: must be the path of the base profile: current value is ${
        JSON.stringify(base)
      }`,
    ]);
  }
  const merged = await readProfileJson(new URL(base, url), [...chain, url.href], base) as Record<
    string,
    unknown
  >;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  for (const [key, v] of Object.entries(own)) {
    // A section merges parameter by parameter; anything else replaces.
    merged[key] = Object.hasOwn(sections, key) && isObject(v) && isObject(merged[key])
      ? { ...merged[key], ...v }
      : v;
  }
  return merged;
}

/** The built-in profile (the paper's testbed). */
export const BUILTIN_PROFILE = new URL("../../data/profiles/paper-2015.json", import.meta.url);

/**
 * A profile with some parameters changed: `overrides` maps a dotted path
 * (`section.parameter`, and further keys into an object-valued parameter,
 * e.g. `kvm.virtio.hostWakeup`) to the new value. A string is read as a
 * number, boolean or JSON array when it spells one. Each changed parameter's source
 * becomes `<origin> ([field ]was <old value>; <old source>)`, so outputs that list
 * sources show what was changed. The result is validated like any profile.
 * @throws ProfileError listing every unknown path, wrong type and invalid value
 * @example
 * ```ts
 * import { applyOverrides, BUILTIN_PROFILE, loadProfile } from "./profile.ts";
 * const p = applyOverrides(await loadProfile(BUILTIN_PROFILE), { "hdd.rpm": "15000" });
 * console.assert(p.hdd.rpm.value === 15000 && p.hdd.rpm.source.startsWith("set on the command line (was 7200"));
 * ```
 */
export function applyOverrides(
  profile: Profile,
  overrides: Readonly<Record<string, unknown>>,
  options: { origin?: string } = {},
): Profile {
  const { origin = "set on the command line" } = options;
  const out = structuredClone(profile) as unknown as Record<string, Record<string, Param>>;
  const issues: string[] = [];
  for (const [path, raw] of Object.entries(overrides)) {
    const [section, name, ...keys] = path.split(".");
    const params = Object.hasOwn(sections, section) ? out[section] : undefined;
    if (params === undefined) {
      issues.push(
        Object.hasOwn(sections, section)
          ? `${path}: the profile has no ${section} section (it is optional)`
          : `${path}: no such section (sections: ${Object.keys(sections).join(", ")})`,
      );
      continue;
    }
    const p = name !== undefined && Object.hasOwn(params, name) ? params[name] : undefined;
    if (p === undefined) {
      issues.push(
        `${path}: section ${section} has no parameter ${JSON.stringify(name ?? "")} (it has: ${
          Object.keys(params).join(", ")
        })`,
      );
      continue;
    }
    // Walk into an object-valued parameter; the last key is the one replaced.
    let holder: Record<string, unknown> = p as unknown as Record<string, unknown>;
    let key = "value";
    let bad = false;
    for (const k of keys) {
      const inner = holder[key];
      if (
        typeof inner !== "object" || inner === null || Array.isArray(inner) ||
        !Object.hasOwn(inner, k)
      ) {
        const fields = typeof inner === "object" && inner !== null && !Array.isArray(inner)
          ? ` (it has: ${Object.keys(inner).join(", ")})`
          : " (it is not an object)";
        issues.push(
          `${path}: ${[section, name, ...keys.slice(0, keys.indexOf(k))].join(".")} has no field ${
            JSON.stringify(k)
          }${fields}`,
        );
        bad = true;
        break;
      }
      holder = inner as Record<string, unknown>;
      key = k;
    }
    if (bad) continue;
    const old = holder[key];
    const value = typeof raw === "string" ? scalarOf(raw) : raw;
    const kind = (v: unknown) => Array.isArray(v) ? "array" : v === null ? "null" : typeof v;
    if (kind(old) === "object") {
      issues.push(
        `${path}: is an object; set one of its fields (${
          Object.keys(old as object).map((k) => `${path}.${k}`).join(", ")
        })`,
      );
      continue;
    }
    if (kind(value) !== kind(old)) {
      issues.push(
        `${path}: must be a${kind(old) === "array" ? "n" : ""} ${kind(old)}: current value is ${
          JSON.stringify(raw)
        }`,
      );
      continue;
    }
    holder[key] = value;
    const field = keys.length > 0 ? `${keys.join(".")} ` : "";
    p.source = `${origin} (${field}was ${JSON.stringify(old)}; ${p.source})`;
    const own = keys.length > 0 ? p.fieldSources?.[keys[0]] : undefined;
    if (own !== undefined) {
      p.fieldSources![keys[0]] = `${origin} (was ${JSON.stringify(old)}; ${own})`;
    }
  }
  if (issues.length > 0) throw new ProfileError(issues);
  return parseProfile(out);
}

type Param = { value: unknown; source: string; fieldSources?: Record<string, string> };

/**
 * Reads `PATH=VALUE` items (repeated `--set` flags) into the overrides
 * {@link applyOverrides} takes.
 * @throws ProfileError listing every item without a path and value, or a path given twice
 * @example
 * ```ts
 * import { parseOverrides } from "./profile.ts";
 * const o = parseOverrides(["hdd.rpm=15000", "network.lineRate=1.25e9"]);
 * console.assert(o["hdd.rpm"] === "15000" && Object.keys(o).length === 2);
 * ```
 */
export function parseOverrides(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const issues: string[] = [];
  for (const item of items) {
    const eq = item.indexOf("=");
    const path = eq < 0 ? "" : item.slice(0, eq).trim();
    if (path === "" || eq === item.length - 1) {
      issues.push(`${JSON.stringify(item)}: must be PATH=VALUE, e.g. hdd.rpm=15000`);
    } else if (Object.hasOwn(out, path)) {
      issues.push(`${path}: given more than once`);
    } else out[path] = item.slice(eq + 1);
  }
  if (issues.length > 0) throw new ProfileError(issues);
  return out;
}

/** "15000" -> 15000, "true" -> true, "[...]" -> the JSON array; anything else stays a string. */
function scalarOf(text: string): unknown {
  const t = text.trim();
  if (t === "true" || t === "false") return t === "true";
  if (t.startsWith("[")) {
    try {
      return JSON.parse(t);
    } catch {
      return text; // reported as the wrong type
    }
  }
  return t !== "" && Number.isFinite(Number(t)) ? Number(t) : text;
}

/** A number in a profile that {@link applyOverrides} can change. */
export interface NumericParameter {
  /** Dotted path, e.g. "hdd.rpm" or "kvm.virtio.hostWakeup". */
  path: string;
  /** Current value, in the parameter's own unit (ns, bytes, sectors, ...). */
  value: number;
  /** The parameter's source; for a field, its own (`fieldSources`) or else its object's. */
  source: string;
  /** A field without a source of its own: `source` is its object's. */
  inherited: boolean;
}

/**
 * Every number of a profile by its dotted path: each numeric parameter, and
 * each numeric field inside an object-valued parameter, at any depth (not in arrays).
 * @example
 * ```ts
 * import { BUILTIN_PROFILE, loadProfile, numericParameters } from "./profile.ts";
 * const ps = numericParameters(await loadProfile(BUILTIN_PROFILE));
 * console.assert(ps.some((p) => p.path === "hdd.rpm" && p.value === 7200));
 * console.assert(ps.some((p) => p.path === "kvm.virtio.hostWakeup"));
 * console.assert(ps.some((p) => p.path === "cassandra.store.cpu.readNs"));
 * ```
 */
export function numericParameters(profile: Profile): NumericParameter[] {
  const out: NumericParameter[] = [];
  for (const section of Object.keys(sections)) {
    const params = (profile as unknown as Record<string, Record<string, Param>>)[section];
    for (const [name, p] of Object.entries(params ?? {})) {
      if (typeof p.value === "number") {
        out.push({
          path: `${section}.${name}`,
          value: p.value,
          source: p.source,
          inherited: false,
        });
        continue;
      }
      // Fields of an object-valued parameter, at any depth; a field's own
      // source (`fieldSources`, keyed by the top-level field) covers what is inside it.
      const walk = (obj: unknown, path: string, own: string | undefined) => {
        if (typeof obj === "number") {
          out.push({ path, value: obj, source: own ?? p.source, inherited: own === undefined });
        } else if (typeof obj === "object" && obj !== null && !Array.isArray(obj)) {
          for (const [k, v] of Object.entries(obj)) walk(v, `${path}.${k}`, own);
        }
      };
      if (typeof p.value === "object" && p.value !== null && !Array.isArray(p.value)) {
        for (const [field, v] of Object.entries(p.value)) {
          walk(v, `${section}.${name}.${field}`, p.fieldSources?.[field]);
        }
      }
    }
  }
  return out;
}
