/**
 * Import rules (README.md, "Architecture"): one direction between parts,
 * other parts only through a folder's mod.ts, and the guest stays unmodified
 * (never sees a VMM). Scans every import specifier under lib/.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const LIB = join(ROOT, "lib");

/** part -> parts it may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  _util: [],
  sim: ["_util"],
  net: ["sim", "_util"],
  hw: ["net", "sim", "_util"],
  image: ["hw", "net", "sim", "_util"],
  vmm: ["image", "hw", "net", "sim", "_util"],
  kvm: ["image", "hw", "net", "sim", "_util"],
  guest: ["hw", "net", "sim", "_util"],
  workload: ["guest", "hw", "net", "sim", "_util"],
  deploy: ["vmm", "kvm", "guest", "workload", "image", "hw", "net", "sim", "_util"],
  scenario: ["deploy", "vmm", "kvm", "guest", "workload", "image", "hw", "net", "sim", "_util"],
  plot: ["_util"],
};

function* walk(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else if (e.name.endsWith(".ts")) yield p;
  }
}

function importsOf(file: string, src = Deno.readTextFileSync(file)): string[] {
  const out: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of src.matchAll(re)) out.push(m[1] ?? m[2]);
  return out;
}

function partOf(file: string): string {
  return relative(LIB, file).split("/")[0];
}

function violations(extra: { file: string; src: string }[] = []): string[] {
  const bad: string[] = [];
  const files = [...walk(LIB)].map((file) => ({ file, src: Deno.readTextFileSync(file) }));
  for (const { file, src } of [...files, ...extra]) {
    const from = partOf(file);
    for (const spec of importsOf(file, src)) {
      if (!spec.startsWith(".")) continue; // npm:, node: are fine
      const target = resolve(dirname(file), spec);
      const rel = relative(LIB, target);
      if (rel.startsWith("..")) {
        bad.push(`${relative(ROOT, file)} imports ${spec} outside lib/`);
        continue;
      }
      const to = rel.split("/")[0];
      if (to === from) continue;
      if (!(from in ALLOWED)) {
        bad.push(`${relative(ROOT, file)}: part '${from}' has no import rule`);
        continue;
      }
      if (!ALLOWED[from].includes(to)) {
        bad.push(`${relative(ROOT, file)} (${from}) must not import ${to}: ${spec}`);
      } else if (!rel.endsWith("/mod.ts") && !/\/protocol\.ts$/.test(rel)) {
        bad.push(`${relative(ROOT, file)} imports ${spec}: use ${to}'s mod.ts`);
      }
    }
  }
  return bad;
}

Deno.test("architecture: every part imports only what the design allows, through mod.ts", () => {
  assert.deepEqual(violations(), []);
});

Deno.test("architecture: the guest and the workloads never import a VMM", () => {
  for (const file of walk(LIB)) {
    const part = partOf(file);
    if (part !== "guest" && part !== "workload") continue;
    for (const spec of importsOf(file)) {
      assert.ok(!/(^|\/)(vmm|kvm)(\/|$)/.test(spec), `${relative(ROOT, file)} imports ${spec}`);
    }
  }
});

Deno.test("architecture: the checker itself catches a forbidden import", () => {
  // Guard against a checker that silently passes: synthetic files breaking
  // each rule must be reported.
  const probes = [
    { file: join(LIB, "guest", "probe_a.ts"), src: 'export { x } from "../vmm/mod.ts";\n' },
    { file: join(LIB, "hw", "probe_b.ts"), src: 'import { y } from "../sim/simulation.ts";\n' },
    { file: join(LIB, "sim", "probe_c.ts"), src: 'import { z } from "../hw/mod.ts";\n' },
  ];
  const found = violations(probes);
  for (const p of ["probe_a.ts", "probe_b.ts", "probe_c.ts"]) {
    assert.ok(found.some((v) => v.includes(p)), `${p} not reported`);
  }
});
