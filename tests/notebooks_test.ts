/**
 * The notebooks in notebooks/: committed cleared with the Deno kernel's
 * metadata and a parameters cell, thin (imports from experiments/ and
 * lib/plot only), formatted, type-checked, and executed headless with the
 * Deno kernel (tools/run_notebooks.py), each showing its figure and table.
 * Execution and type-checking need Debian's Jupyter (jupyter-nbconvert,
 * jupyter-client, python3-nbclient, python3-ipykernel); without it those
 * tests are ignored with a message saying so.
 */
import assert from "node:assert/strict";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const NB_DIR = join(ROOT, "notebooks");
const OUT = join(ROOT, "out", "notebooks");
const EXPECTED = [
  "cassandra",
  "copier",
  "elasticity",
  "fleet",
  "overview",
  "rdma",
  "sensitivity",
  "startup",
  "storage",
];
/** Notebooks that go beyond the paper: no paper values, so no comparison table. */
const BEYOND_PAPER = ["copier", "elasticity", "fleet", "sensitivity"];
const PYTHON = "/usr/bin/python3";
const NBCONVERT = "/usr/bin/jupyter-nbconvert";
const RICH = ["image/svg+xml", "text/html"];

interface Cell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  metadata: { tags?: string[] };
  source: string | string[];
  outputs?: { output_type: string; data?: Record<string, unknown> }[];
  execution_count?: number | null;
}
interface Notebook {
  cells: Cell[];
  metadata: {
    kernelspec?: { name?: string };
    language_info?: { name?: string; version?: string };
  };
}

const text = (c: Cell) => [c.source].flat().join("");
const read = (path: string): Notebook => JSON.parse(Deno.readTextFileSync(path));
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function notebookPaths(): string[] {
  return [...Deno.readDirSync(NB_DIR)]
    .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
    .map((e) => join(NB_DIR, e.name))
    .sort();
}

/** Why Jupyter-based tests cannot run here, or undefined when they can. */
function jupyterMissing(): string | undefined {
  try {
    Deno.statSync(NBCONVERT);
  } catch {
    return `${NBCONVERT} is missing`;
  }
  const probe = new Deno.Command(PYTHON, {
    args: ["-c", "import nbformat, nbclient, jupyter_client, ipykernel"],
    stdout: "null",
    stderr: "null",
  });
  try {
    if (!probe.outputSync().success) {
      return `${PYTHON} lacks nbformat/nbclient/jupyter_client/ipykernel`;
    }
  } catch {
    return `${PYTHON} is missing`;
  }
  return undefined;
}

const MISSING = jupyterMissing();
const IGNORED = MISSING === undefined ? "" : ` (ignored: ${MISSING}; apt-get install -y ` +
  "--no-install-recommends jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel)";
if (MISSING !== undefined) console.warn(`notebooks_test: Jupyter tests${IGNORED}`);

Deno.test("the notebooks are committed cleared, with the Deno kernel and a parameters cell", () => {
  const paths = notebookPaths();
  assert.deepEqual(paths.map((p) => basename(p, ".ipynb")), EXPECTED);
  // (fix: bash tools/check_notebooks.sh --fix)
  for (const path of paths) {
    const nb = read(path);
    const name = basename(path);
    assert.equal(nb.metadata.kernelspec?.name, "deno", `${name}: kernelspec.name`);
    assert.equal(nb.metadata.language_info?.name, "typescript", `${name}: language_info.name`);
    const version = nb.metadata.language_info?.version;
    assert.equal(version, undefined, `${name}: language_info.version ${version} left by a run`);
    const code = nb.cells.filter((c) => c.cell_type === "code");
    for (const c of nb.cells) {
      // Only tags survive clearing (no execution timestamps from a saved run).
      const extra = Object.keys(c.metadata).filter((k) => k !== "tags");
      assert.deepEqual(extra, [], `${name}: cell '${c.id}' has metadata ${extra}`);
    }
    for (const c of code) {
      assert.deepEqual(c.outputs, [], `${name}: cell '${c.id}' has outputs`);
      assert.equal(c.execution_count, null, `${name}: cell '${c.id}' has an execution count`);
    }
    const first = code[0];
    assert.ok(first.metadata.tags?.includes("parameters"), `${name}: first code cell not tagged`);
    assert.match(text(first), /^const config: "small" \| "full" = "small";$/m, name);
    assert.match(text(first), /^const seed = \d+;/m, name);
    assert.equal(nb.cells[0].cell_type, "markdown", `${name}: starts without an explanation`);
  }
});

Deno.test("notebooks stay thin: they import only experiments and lib/plot", () => {
  for (const path of notebookPaths()) {
    const nb = read(path);
    const src = nb.cells.filter((c) => c.cell_type === "code").map(text).join("\n");
    const specifiers = [...src.matchAll(/\bfrom\s+"([^"]+)"/g)].map((m) => m[1]);
    assert.ok(specifiers.length > 0, `${basename(path)} imports nothing`);
    for (const s of specifiers) {
      assert.match(
        s,
        /^\.\.\/(experiments\/fig_[a-z]+\.ts|lib\/plot\/mod\.ts)$/,
        `${basename(path)} imports '${s}'`,
      );
    }
    // Every notebook shows a figure and a table: the paper-versus-simulation
    // one, or for those beyond the paper, their results.
    assert.match(src, /\bdisplay\(/, basename(path));
    const table = BEYOND_PAPER.includes(basename(path, ".ipynb"))
      ? /\bconsole\.table\(/
      : /Deno\.jupyter\.html`[^`]*\$\{\s*comparisonTable\(/;
    assert.match(src, table, basename(path));
  }
});

Deno.test("paper notebooks judge their table only in the full configuration, as repro and report do", () => {
  // The quick configurations shrink the image and the measurements: the
  // paper's values do not apply to them, so the table is shown but not judged.
  for (const path of notebookPaths()) {
    const name = basename(path, ".ipynb");
    if (BEYOND_PAPER.includes(name)) continue;
    const src = read(path).cells.filter((c) => c.cell_type === "code").map(text).join("\n");
    const calls = [...src.matchAll(/\bcomparisonTable\(([^()]*)\)/g)].map((m) => m[1]);
    assert.ok(calls.length > 0, `${name}: no comparisonTable(...)`);
    for (const args of calls) {
      assert.match(args, /,\s*\{\s*judged:\s*config !== "small",?\s*\},?\s*$/, `${name}: ${args}`);
    }
    // No verdict of its own that ignores the configuration.
    assert.doesNotMatch(
      src.replace(/config !== "small"[^;]*metrics within tolerance/gs, ""),
      /metrics within tolerance/,
      name,
    );
  }
});

Deno.test("notebooks are formatted (deno fmt --no-config on a copy changes nothing)", async () => {
  // notebooks/ is excluded from the project's fmt: `deno fmt --check` gives a
  // false positive on .ipynb with language_info.name "typescript" on a fresh
  // cache, so format a copy and compare bytes instead.
  const tmp = Deno.makeTempDirSync({ prefix: "mc-nbfmt-" });
  try {
    for (const p of notebookPaths()) Deno.copyFileSync(p, join(tmp, basename(p)));
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--no-config", "--quiet", tmp],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(r.success, decode(r.stderr));
    for (const p of notebookPaths()) {
      assert.equal(
        Deno.readTextFileSync(join(tmp, basename(p))),
        Deno.readTextFileSync(p),
        `${basename(p)} is not formatted (fix: deno fmt --no-config notebooks/)`,
      );
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test({
  name: `the notebooks' code cells type-check${IGNORED}`,
  ignore: MISSING !== undefined,
  async fn() {
    // The kernel does not type-check: export each notebook as a script beside
    // it (so relative imports resolve; *.nbcheck.ts is git-ignored) and
    // `deno check` the scripts.
    const scripts: string[] = [];
    try {
      for (const nb of notebookPaths()) {
        const r = await new Deno.Command(NBCONVERT, {
          args: ["--to", "script", "--stdout", nb],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.ok(r.success, `${basename(nb)}: nbconvert failed: ${decode(r.stderr)}`);
        // A run-unique name: concurrent test runs in this checkout share the folder.
        const ts = nb.replace(/\.ipynb$/, `.${crypto.randomUUID().slice(0, 8)}.nbcheck.ts`);
        Deno.writeTextFileSync(ts, `/// <reference lib="deno.unstable" />\n${decode(r.stdout)}`);
        scripts.push(ts);
      }
      const check = await new Deno.Command(Deno.execPath(), {
        args: ["check", "--frozen", ...scripts],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(check.success, decode(check.stdout) + decode(check.stderr));
    } finally {
      for (const ts of scripts) Deno.removeSync(ts);
    }
  },
});

Deno.test({
  name: `every notebook executes headless with the Deno kernel and shows its outputs${IGNORED}`,
  ignore: MISSING !== undefined,
  async fn() {
    // A private XDG_DATA_HOME holds a kernelspec pointing at this deno and
    // the Jupyter runtime files; the user's set-up is left alone.
    const xdg = Deno.makeTempDirSync({ prefix: "mc-xdg-" });
    const env = {
      XDG_DATA_HOME: xdg,
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
    };
    try {
      const inst = await new Deno.Command(Deno.execPath(), {
        args: ["jupyter", "--install", "--force"],
        env,
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(inst.success, decode(inst.stderr));
      const paths = notebookPaths();
      const rel = paths.map((p) => join("notebooks", basename(p)));
      const run = await new Deno.Command(PYTHON, {
        args: ["tools/run_notebooks.py", "--out", "out/notebooks", ...rel],
        cwd: ROOT,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = decode(run.stdout);
      console.log(stdout.split("\n").filter((l) => /: ok \(|^notebooks ->/.test(l)).join("\n"));
      assert.equal(run.code, 0, stdout + decode(run.stderr).slice(-3000));
      assert.match(stdout, new RegExp(`^notebooks -> passed=${EXPECTED.length} failed=0$`, "m"));
      for (const p of paths) {
        const name = basename(p);
        const executed = read(join(OUT, name));
        const outputs = executed.cells.flatMap((c) => c.outputs ?? []);
        assert.ok(!outputs.some((o) => o.output_type === "error"), `${name}: an error output`);
        const rich = (c: Cell) =>
          (c.outputs ?? []).some((o) => RICH.some((m) => o.data?.[m] !== undefined));
        assert.ok(executed.cells.some(rich), `${name}: no image/svg+xml or text/html output`);
        // The small configuration's paper-versus-simulation table is not judged.
        for (const c of executed.cells) {
          if (c.cell_type !== "code" || !/\bcomparisonTable\(/.test(text(c))) continue;
          const html = (c.outputs ?? []).map((o) => [o.data?.["text/html"] ?? ""].flat().join(""))
            .join("");
          assert.match(html, /<tr class="unjudged"/, `${name}: table judged`);
          assert.doesNotMatch(html, /FAIL|class="(pass|fail)"/, `${name}: table judged`);
        }
        // Each cell that shows a figure or a table kept its output (the
        // kernel can publish it after 'idle'; run_notebooks.py waits for it).
        for (const c of executed.cells) {
          if (c.cell_type !== "code" || !/\bdisplay\(|Deno\.jupyter\.html/.test(text(c))) continue;
          assert.ok(rich(c), `${name}: cell '${c.id}' lost its output`);
        }
      }
    } finally {
      Deno.removeSync(xdg, { recursive: true });
    }
  },
});
