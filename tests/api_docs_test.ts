/**
 * The library's public face (mod.ts, the package's one export) is documented
 * and self-contained: `deno doc --lint` finds no exported symbol or member
 * without JSDoc and no public signature naming a type the package does not
 * export. The one exception is what zod-inferred config types name: their
 * schema (a zod class instance) and zod's own `input`/`output` helpers.
 * `deno doc --lint` does not see a function's or constructor's options type
 * that its own module exports but mod.ts does not, nor a `{@link}` to a
 * name mod.ts hides: `deno doc --json` checks those.
 */
import type {
  AhciDriverOptions,
  AhciHbaOptions,
  BlockProtocolOptions,
  FirmwareOptions,
  GuestCpusOptions,
  HcaOptions,
  HddOptions,
  ImageClientOptions,
  ImageContentOptions,
  ImageServerOptions,
  InfinibandOptions,
  KvmHostOptions,
  NfsClientOptions,
  NicOptions,
  RemoteImageFileOptions,
  SsdOptions,
  VirtioBlkOptions,
} from "../mod.ts";
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

Deno.test("a script that registers a strategy and calls experiments.sim.main is deno task sim with it", () => {
  const dir = Deno.makeTempDirSync({ prefix: "sim_registered_" });
  const file = join(dir, "my_sim.ts");
  const mod = JSON.stringify(pathToFileURL(join(ROOT, "mod.ts")).href);
  Deno.writeTextFileSync(
    file,
    `import { experiments, nfsRoot, registerStrategy } from ${mod};\n` +
      `registerStrategy("my-nfsroot", nfsRoot, { preinstalled: false, deployed: "never", writesImage: true });\n` +
      "Deno.exit(await experiments.sim.main(Deno.args));\n",
  );
  const sim = (...args: string[]) => {
    const out = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--frozen", "--config", join(ROOT, "deno.json"), file, ...args],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
  };
  try {
    const help = sim("--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--strategy NAME +bare-metal \|.*\| my-nfsroot \(default bmcast\)/);
    const run = sim("--strategy", "my-nfsroot", "--nodes", "2", "--image-gb", "10.35", "--json");
    assert.equal(run.code, 0);
    const doc = JSON.parse(run.stdout);
    assert.deepEqual(doc.summary.map((s: { strategy: string }) => s.strategy), ["my-nfsroot"]);
    assert.equal(doc.summary[0].nodes, 2);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** A type's reference in `deno doc --json`'s output, and where it is declared. */
interface TypeRef {
  typeName: string;
  resolution?: { kind: string; specifier?: string; name?: string };
}
/** An exported symbol in `deno doc --json`'s output (the fields these checks read). */
interface DocSymbol {
  name: string;
  declarations: {
    kind: string;
    jsDoc?: DocJs;
    def?: {
      params?: unknown;
      returnType?: unknown;
      constructors?: { jsDoc?: DocJs; params?: unknown }[];
      elements?: DocSymbol[];
      methods?: { name: string }[];
      properties?: { name: string }[];
    };
  }[];
}
interface DocJs {
  doc?: string;
  tags?: { kind: string }[];
}

/** The exported symbols of `entry` (relative to the checkout), as `deno doc --json` lists them. */
function docSymbols(entry: string): DocSymbol[] {
  const out = new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", entry],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const { nodes } = JSON.parse(new TextDecoder().decode(out.stdout));
  return (Object.values(nodes)[0] as { symbols: DocSymbol[] }).symbols;
}

const internal = (doc?: DocJs) => doc?.tags?.some((t) => t.kind === "internal") ?? false;

/** The package's own types (not a type parameter, a global or zod's) that `tree` names. */
function packageTypes(tree: unknown, out: string[] = []): string[] {
  if (Array.isArray(tree)) tree.forEach((t) => packageTypes(t, out));
  else if (typeof tree === "object" && tree !== null) {
    const node = tree as { kind?: string; value?: TypeRef };
    const r = node.value?.resolution;
    if (
      node.kind === "typeRef" && r !== undefined &&
      (r.kind === "local" || (r.kind === "import" && r.specifier?.startsWith(".")))
    ) {
      out.push(r.name ?? node.value!.typeName);
    }
    Object.values(tree).forEach((t) => packageTypes(t, out));
  }
  return out;
}

/** The names `symbols` export, and those their namespaces export. */
function allNames(symbols: DocSymbol[], out = new Set<string>()): Set<string> {
  for (const s of symbols) {
    out.add(s.name);
    for (const d of s.declarations) {
      if (d.kind === "namespace") allNames(d.def?.elements ?? [], out);
    }
  }
  return out;
}

/**
 * `<symbol>: <type>` for each type of the package that the signature of a
 * function, or the constructor of a class, exported as a value (in `values`,
 * the module as imported) names and that is not exported: in `known` for
 * the module's own exports (by default, its own names); in `inNamespaces`
 * for a namespace's (by default, the names the module or any of its
 * namespaces export).
 */
function unexportedSignatureTypes(
  symbols: DocSymbol[],
  values: Record<string, unknown>,
  known: Set<string> = new Set(symbols.map((s) => s.name)),
  inNamespaces: Set<string> = allNames(symbols),
): string[] {
  const missing: string[] = [];
  const walk = (ss: DocSymbol[], names: Set<string>, on: Record<string, unknown>, at: string) => {
    for (const s of ss) {
      if (!(s.name in on)) continue; // a type-only export: no signature to call
      for (const d of s.declarations) {
        if (d.kind === "namespace") {
          const inner = on[s.name] as Record<string, unknown>;
          walk(d.def?.elements ?? [], inNamespaces, inner, `${at}${s.name}.`);
          continue;
        }
        if (internal(d.jsDoc)) continue;
        const constructors = (d.def?.constructors ?? []).filter((c) => !internal(c.jsDoc));
        const named = d.kind === "function"
          ? packageTypes([d.def?.params, d.def?.returnType])
          : d.kind === "class"
          ? packageTypes(constructors.map((c) => c.params))
          : [];
        for (const t of new Set(named)) if (!names.has(t)) missing.push(`${at}${s.name}: ${t}`);
      }
    }
  };
  walk(symbols, known, values, "");
  return missing;
}

Deno.test("mod.ts exports every type named in the signature of a function or class constructor it exports", async () => {
  const root = docSymbols("mod.ts");
  // `deno doc` lists only the namespaces of experiments/mod.ts under mod.ts's
  // `experiments`: its other exports (reproduce and its types) are read from it.
  const experiments = docSymbols("experiments/mod.ts");
  const everywhere = allNames(experiments, allNames(root));
  const missing = new Set([
    ...unexportedSignatureTypes(root, await import("../mod.ts"), undefined, everywhere),
    ...unexportedSignatureTypes(
      experiments,
      await import("../experiments/mod.ts"),
      everywhere,
      everywhere,
    ).map((m) => `experiments.${m}`),
  ]);
  assert.deepEqual([...missing], [], [...missing].join("\n"));
});

Deno.test("the signature check finds a constructor's options type that mod.ts does not export", async () => {
  const dir = Deno.makeTempDirSync({ dir: ROOT, prefix: ".api_docs_test_" });
  try {
    Deno.writeTextFileSync(
      `${dir}/shape.ts`,
      "/** Options. */\nexport interface ShapeOptions {\n  /** Side. */\n  side: number;\n}\n" +
        "/** A shape. */\nexport class Shape {\n  /** Makes one. */\n  constructor(readonly o: ShapeOptions) {}\n}\n" +
        "/** Its area. */\nexport function area(s: Shape): number {\n  return s.o.side ** 2;\n}\n",
    );
    Deno.writeTextFileSync(
      `${dir}/mod.ts`,
      '/**\n * A module.\n * @module\n */\nexport { area, Shape } from "./shape.ts";\n',
    );
    const entry = `${dir.replace(`${ROOT}/`, "")}/mod.ts`;
    const values = await import(pathToFileURL(`${dir}/mod.ts`).href);
    assert.deepEqual(unexportedSignatureTypes(docSymbols(entry), values), ["Shape: ShapeOptions"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("every constructor's options type is importable from mod.ts", () => {
  // Type-checked with this file: an option type mod.ts does not export fails it (TS2305).
  type Options = [
    AhciDriverOptions,
    AhciHbaOptions,
    BlockProtocolOptions,
    FirmwareOptions,
    GuestCpusOptions,
    HcaOptions,
    HddOptions,
    ImageClientOptions,
    ImageContentOptions,
    ImageServerOptions,
    InfinibandOptions,
    KvmHostOptions,
    NfsClientOptions,
    NicOptions,
    RemoteImageFileOptions,
    SsdOptions,
    VirtioBlkOptions,
  ];
  const hdd: Options[6] = {} as HddOptions;
  assert.equal(typeof hdd, "object");
});

/**
 * `<symbol>: {@link <target>}` for each link in an exported symbol's docs
 * (its members' too) whose target is not public: not exported by mod.ts or
 * any of its namespaces, nor a member of the class or interface it documents.
 */
function hiddenLinks(symbols: DocSymbol[]): string[] {
  const everywhere = allNames(symbols);
  const found = new Set<string>();
  const docs = (tree: unknown, out: string[] = []): string[] => {
    if (Array.isArray(tree)) tree.forEach((t) => docs(t, out));
    else if (typeof tree === "object" && tree !== null) {
      for (const [k, v] of Object.entries(tree)) {
        if (k === "doc" && typeof v === "string") out.push(v);
        else if (k !== "elements") docs(v, out);
      }
    }
    return out;
  };
  const walk = (ss: DocSymbol[], at: string): void => {
    for (const s of ss) {
      for (const d of s.declarations) {
        const members = new Set(
          [...(d.def?.methods ?? []), ...(d.def?.properties ?? [])].map((m) => m.name),
        );
        for (const text of docs(d)) {
          for (const [, target] of text.matchAll(/\{@link(?:code|plain)?\s+([^\s|}]+)/g)) {
            const head = target.split(/[.#]/)[0];
            if (!everywhere.has(head) && !members.has(head)) {
              found.add(`${at}${s.name}: {@link ${target}}`);
            }
          }
        }
        if (d.kind === "namespace") walk(d.def?.elements ?? [], `${at}${s.name}.`);
      }
    }
  };
  walk(symbols, "");
  return [...found].sort();
}

Deno.test("mod.ts's docs link only to names a user can see", () => {
  assert.deepEqual(hiddenLinks(docSymbols("mod.ts")), []);
});

Deno.test("the link check finds a link to a name mod.ts does not export", () => {
  const dir = Deno.makeTempDirSync({ dir: ROOT, prefix: ".api_docs_test_" });
  try {
    Deno.writeTextFileSync(
      `${dir}/mod.ts`,
      "/**\n * A module.\n * @module\n */\nconst LIMIT = 3;\n" +
        "/** A shape; see {@link area} and {@link Shape.side}, at most {@link LIMIT}. */\n" +
        "export class Shape {\n  /** Side. */\n  side = 1;\n  /** Area, as {@link side} squared. */\n" +
        "  area(): number {\n    return this.side ** 2 + LIMIT * 0;\n  }\n}\n",
    );
    const entry = `${dir.replace(`${ROOT}/`, "")}/mod.ts`;
    assert.deepEqual(hiddenLinks(docSymbols(entry)), ["Shape: {@link LIMIT}"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("each experiment's namespace in mod.ts carries its own description, not experiments/mod.ts's", () => {
  const experiments = docSymbols("mod.ts").find((s) => s.name === "experiments")!;
  const [ns] = experiments.declarations;
  const moduleDoc = ns.jsDoc?.doc;
  assert.ok(moduleDoc);
  const figures = (ns.def?.elements ?? []).filter((e) => e.declarations[0].kind === "namespace");
  assert.deepEqual(
    figures.map((f) => f.name).sort(),
    // The figures, and `deno task sim` as a function.
    [
      "cassandra",
      "copier",
      "elasticity",
      "fleet",
      "rdma",
      "sensitivity",
      "sim",
      "startup",
      "storage",
    ],
  );
  for (const f of figures) {
    const doc = f.declarations[0].jsDoc?.doc ?? "";
    assert.ok(doc !== "" && doc !== moduleDoc, `experiments.${f.name}: ${doc.slice(0, 60)}`);
  }
});
