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
  /** The `--set` items as dotted path -> value text (empty when they could not be parsed). */
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
 * console.assert(bad.profile === undefined && bad.issues.length === 1 && bad.issues[0].startsWith("--set"));
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
  let overrides: Record<string, string> = {};
  try {
    overrides = parseOverrides(input.set ?? []);
  } catch (e) {
    label(labels.set)(e);
    return { overrides, issues }; // malformed items: nothing to apply yet
  }
  if (profile !== undefined && Object.keys(overrides).length > 0) {
    try {
      profile = applyOverrides(profile, overrides);
    } catch (e) {
      profile = label(labels.set)(e);
    }
  }
  return issues.length > 0 ? { overrides, issues } : { profile, overrides, issues };
}
