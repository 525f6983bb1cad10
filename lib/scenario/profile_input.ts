/**
 * The profile a command-line tool runs on: a profile file (or the built-in
 * one) with `--set PATH=VALUE` overrides applied, every problem reported as
 * an issue that names the flag it came from.
 */
import {
  applyOverrides,
  BUILTIN_PROFILE,
  loadProfile,
  parseOverrides,
  type Profile,
  ProfileError,
} from "../deploy/mod.ts";

/**
 * `--set` items read leniently, so every value can still be checked when some
 * item is wrong: each path's first value, the further values of a path given
 * again, and the issues of the malformed and repeated items (unlabelled).
 * @example
 * ```ts
 * import { readOverrideItems } from "./profile_input.ts";
 * const r = readOverrideItems(["hdd.rpm=5400", "oops", "hdd.rpm=abc"]);
 * console.assert(r.overrides["hdd.rpm"] === "5400" && r.again[0][1] === "abc" && r.issues.length === 2);
 * ```
 */
export function readOverrideItems(items: readonly string[]): {
  overrides: Record<string, string>;
  again: [path: string, value: string][];
  issues: string[];
} {
  try {
    return { overrides: parseOverrides(items), again: [], issues: [] };
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    const overrides: Record<string, string> = {};
    const again: [string, string][] = [];
    for (const item of items) {
      let one: [string, string];
      try {
        [one] = Object.entries(parseOverrides([item]));
      } catch {
        continue; // among e's issues
      }
      if (Object.hasOwn(overrides, one[0])) again.push(one);
      else overrides[one[0]] = one[1];
    }
    return { overrides, again, issues: e.issues };
  }
}

/** What {@link readProfileInput} reads. */
export interface ProfileInput {
  /** Profile file; absent: the built-in profile. */
  path?: string;
  /** `PATH=VALUE` items, e.g. "hdd.rpm=15000". */
  set?: readonly string[];
  /** How issues name where each input came from. @default { path: "--profile", set: "--set" } */
  labels?: { path: string; set: string };
}

/** The profile, or every issue (each naming its flag); `overrides` as parsed. */
export interface ProfileInputResult {
  /** The validated profile with the overrides applied; absent when there is any issue. */
  profile?: Profile;
  /** The `--set` items as dotted path -> value text (the well-formed ones when some are not). */
  overrides: Record<string, string>;
  /** Every problem found, each prefixed by its flag label (e.g. "--set: hdd.rpm: ..."); empty on success. */
  issues: string[];
}

/**
 * Loads the profile and applies the overrides; never throws for bad input.
 * @example
 * ```ts
 * import { readProfileInput } from "./profile_input.ts";
 * const ok = await readProfileInput({ set: ["hdd.rpm=15000"] });
 * console.assert(ok.profile?.hdd.rpm.value === 15000 && ok.issues.length === 0);
 * const bad = await readProfileInput({ set: ["hdd.rpm=fast", "oops"] });
 * console.assert(bad.profile === undefined && bad.issues.length === 2 && bad.issues[0].startsWith("--set"));
 * ```
 */
export async function readProfileInput(input: ProfileInput = {}): Promise<ProfileInputResult> {
  const labels = input.labels ?? { path: "--profile", set: "--set" };
  const issues: string[] = [];
  const label = (l: string) => (e: unknown) => {
    if (!(e instanceof ProfileError)) throw e;
    issues.push(...e.issues.map((i) => `${l}: ${i}`));
    return undefined;
  };
  let profile = await loadProfile(input.path ?? BUILTIN_PROFILE).catch(label(labels.path));
  // A path given again: each further value is checked too, in place of its first one.
  const { overrides, again, issues: setIssues } = readOverrideItems(input.set ?? []);
  issues.push(...setIssues.map((i) => `${labels.set}: ${i}`));
  const base = profile;
  for (
    const [k, o] of [overrides, ...again.map(([p, v]) => ({ ...overrides, [p]: v }))].entries()
  ) {
    if (base === undefined || Object.keys(o).length === 0) continue;
    try {
      const applied = applyOverrides(base, o, { origin: "set on the command line" });
      if (k === 0) profile = applied;
    } catch (e) {
      label(labels.set)(e);
    }
  }
  // Another item's issue, found again with each further value: once.
  const all = [...new Set(issues)];
  return all.length > 0 ? { overrides, issues: all } : { profile, overrides, issues };
}
