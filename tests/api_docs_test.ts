/**
 * The library's public face (mod.ts, the package's one export) is documented
 * and self-contained: `deno doc --lint` finds no exported symbol or member
 * without JSDoc and no public signature naming a type the package does not
 * export. The one exception is what zod-inferred config types name: their
 * schema (a zod class instance) and zod's own `input`/`output` helpers.
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");

/**
 * A zod-inferred type (`z.infer<typeof XSchema>`) names its schema and zod's
 * `input`/`output` helpers; the schemas' own types are zod's classes.
 */
const ZOD_HELPERS = /references private type '(input|output|\w+Schema)'$/;

/** The `error[...]` headline of each finding of `deno doc --lint`. */
function docLintErrors(entry: string): string[] {
  const out = new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", entry],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const lines = text.split("\n");
  const errors: string[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith("error[")) return;
    const where = lines[i + 1]?.trim().replace(/^--> /, "").replace(`${ROOT}/`, "") ?? "";
    errors.push(`${line} (${where})`);
  });
  return errors;
}

Deno.test("mod.ts documents every exported symbol and exports every type its API names", () => {
  const errors = docLintErrors("mod.ts").filter((e) => !ZOD_HELPERS.test(e.replace(/ \(.*$/, "")));
  assert.deepEqual(errors, [], `deno doc --lint mod.ts:\n${errors.join("\n")}`);
});

Deno.test("the doc-lint check finds an undocumented interface field", () => {
  const dir = Deno.makeTempDirSync({ dir: ROOT, prefix: ".api_docs_test_" });
  try {
    const src = "/**\n * A module.\n * @module\n */\n\n/** Documented. */\n" +
      "export interface Shape {\n  side: number;\n}\n";
    Deno.writeTextFileSync(`${dir}/mod.ts`, src);
    const errors = docLintErrors(`${dir.replace(`${ROOT}/`, "")}/mod.ts`);
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0], /^error\[missing-jsdoc\].*mod\.ts:8:3\)$/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("mod.ts re-exports every figure builder of lib/plot; colours and label helpers stay in lib/plot/mod.ts", async () => {
  const root: Record<string, unknown> = await import("../mod.ts");
  const plot: Record<string, unknown> = await import("../lib/plot/mod.ts");
  const theme: Record<string, unknown> = await import("../lib/plot/theme.ts");
  const builders = Object.keys(plot).filter((k) => k.endsWith("Figure"));
  assert.ok(builders.length >= 5, builders.join(", "));
  for (const name of [...builders, "comparisonTable", "formatComparison", "display", "toSvg"]) {
    assert.equal(root[name], plot[name], `mod.ts re-exports ${name}`);
  }
  for (const name of [...Object.keys(theme), "displayUnit"]) {
    assert.ok(name in plot, `lib/plot/mod.ts exports ${name}`);
    assert.ok(!(name in root), `${name} is lib/plot's, not the root's`);
  }
});

/** The first `ts` code block of README.md's section `heading`. */
function readmeExample(heading: string): string {
  const readme = Deno.readTextFileSync(join(ROOT, "README.md"));
  const section = readme.slice(readme.indexOf(`\n${heading}\n`));
  const block = /```ts\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf("\n### ", 1)));
  assert.ok(block, `README.md's ${heading} has a ts example`);
  return block[1];
}

Deno.test("README's 'Adding a strategy' example type-checks, registers a strategy runFleet finds, and prints what it says", async () => {
  const src = readmeExample("### Adding a strategy");
  const dir = Deno.makeTempDirSync({ prefix: "readme_strategy_" });
  const file = join(dir, "example.ts");
  // Outside the checkout, as a user's script: mod.ts by its absolute URL.
  Deno.writeTextFileSync(
    file,
    src.replaceAll('"./mod.ts"', JSON.stringify(pathToFileURL(join(ROOT, "mod.ts")).href)),
  );
  const printed: unknown[] = [];
  const log = console.log;
  try {
    const check = new Deno.Command(Deno.execPath(), {
      args: ["check", "--frozen", "--config", join(ROOT, "deno.json"), file],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
    console.log = (...data: unknown[]) => printed.push(...data);
    await import(pathToFileURL(file).href);
  } finally {
    console.log = log;
    Deno.removeSync(dir, { recursive: true });
  }
  const { startupStrategy } = await import("../mod.ts");
  const kexec = startupStrategy("image-copy-kexec");
  assert.deepEqual([kexec.preinstalled, kexec.deployed], [false, "up"]);
  // The comment's startup time is what the run prints.
  const said = Number(/summary\.lastS\); \/\/ (\d+) s/.exec(src)![1]);
  assert.equal(Math.round(printed[0] as number), said);
});
