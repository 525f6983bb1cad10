/** Spawns a project script as a user runs it (stderr a pipe, so no progress bar), for CLI tests. */
import { dirname, resolve } from "node:path";

/** The checkout's root. */
export const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");

/** What a spawned script did. */
export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run -A <script> ...args` from the root, without colour.
 * @example
 * ```ts
 * import { runScript } from "./_script.ts";
 * const r = await runScript("experiments/repro.ts", "--help");
 * console.assert(r.code === 0 && r.stdout.startsWith("usage:"));
 * ```
 */
export async function runScript(script: string, ...args: string[]): Promise<ScriptRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
