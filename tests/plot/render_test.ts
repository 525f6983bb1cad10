import assert from "node:assert/strict";
import * as Plot from "@observablehq/plot";
import { dirname, join, resolve } from "node:path";
import {
  barsFigure,
  display,
  headlessDocument,
  startupFigure,
  throughputFigure,
  timelineFigure,
  toHtml,
  toSvg,
} from "../../lib/plot/mod.ts";
import { MARKERS, RDMA, STARTUP, STORAGE, THROUGHPUT, TIMELINE } from "./_examples.ts";
import { assertWellFormed, count, parseSvg } from "./_svg.ts";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "../..");
const OUT = join(ROOT, "out", "plot-test");

function has(cmd: string[]): boolean {
  try {
    return new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}
const RSVG = has(["rsvg-convert", "--version"]);
const JUPYTER = has(["/usr/bin/python3", "-c", "import nbclient, nbformat"]);

const EXAMPLES = {
  startup: () => startupFigure(STARTUP, { title: "OS startup time (32 GB image)" }),
  throughput: () => throughputFigure(THROUGHPUT, MARKERS, { title: "Cassandra throughput" }),
  storage: () => barsFigure(STORAGE, { title: "Storage throughput", yLabel: "MB/s" }),
  rdma: () => barsFigure(RDMA, { title: "RDMA latency", yLabel: "latency (us)" }),
  timeline: () => timelineFigure(TIMELINE, { title: "Per-node phases" }),
};

Deno.test("toSvg() makes a standalone SVG: xmlns, white background, figure left untouched", () => {
  const fig = timelineFigure(TIMELINE);
  const before = fig.outerHTML;
  const svg = toSvg(fig);
  assert.ok(svg.startsWith("<svg") && svg.includes('xmlns="http://www.w3.org/2000/svg"'));
  const root = parseSvg(svg);
  assert.equal(root.getAttribute("xmlns"), "http://www.w3.org/2000/svg");
  assert.equal(count(root, "rect.mc-background"), 1);
  assert.equal(fig.outerHTML, before);
});

Deno.test("toSvg() escapes <, & and quotes in attribute values, as XML requires", () => {
  // linkedom's HTML serialiser leaves < and & in attributes raw (HTML tolerates it).
  const label = `read & write <MB/s> "R&W"`;
  const fig = Plot.plot({
    document: headlessDocument(),
    ariaLabel: label,
    marks: [Plot.dot([{ x: 1 }], { x: "x", title: () => "a < b && c" })],
  });
  const svg = toSvg(fig);
  assertWellFormed(svg);
  assert.ok(
    svg.includes(' aria-label="read &amp; write &lt;MB/s&gt; &quot;R&amp;W&quot;"'),
    svg.slice(0, 300),
  );
  assert.ok(svg.includes("<title>a &lt; b &amp;&amp; c</title>"));
  assert.equal(fig.getAttribute("aria-label"), label); // the figure itself is left as it was
});

Deno.test("toSvg() takes the plot out of Plot's HTML <figure> and rejects other elements", () => {
  const fig = Plot.plot({
    document: headlessDocument(),
    color: { legend: true },
    marks: [Plot.dot([{ x: 1, c: "a" }, { x: 2, c: "b" }], { x: "x", fill: "c" })],
  });
  assert.equal(fig.tagName.toLowerCase(), "figure");
  const root = parseSvg(toSvg(fig));
  assert.equal(count(root, 'g[aria-label="dot"] circle'), 2);
  assert.ok(toHtml(fig).startsWith("<figure"));
  const div = headlessDocument().createElement("div");
  assert.throws(
    () => toSvg(div),
    /TypeError: .*'figure' must be a Plot <svg> or <figure>: current value is DIV/,
  );
});

Deno.test("display() gives the Jupyter kernel html, svg and plain-text views", () => {
  const shown = display(startupFigure(STARTUP, { title: "Startup" }));
  const bundle = shown[Symbol.for("Jupyter.display")]();
  assert.deepEqual(Object.keys(bundle).sort(), ["image/svg+xml", "text/html", "text/plain"]);
  assertWellFormed(bundle["image/svg+xml"]);
  assert.ok(bundle["text/html"].includes("544 s"));
  assert.equal(bundle["text/plain"], "[Startup]");
});

Deno.test("every example figure renders to a well-formed out/plot-test/*.svg", () => {
  Deno.mkdirSync(OUT, { recursive: true });
  for (const [name, build] of Object.entries(EXAMPLES)) {
    const svg = toSvg(build());
    assertWellFormed(svg);
    Deno.writeTextFileSync(join(OUT, `${name}.svg`), svg);
  }
});

Deno.test({
  name: "rsvg-convert turns every example SVG into a PNG",
  ignore: !RSVG,
  fn() {
    Deno.mkdirSync(OUT, { recursive: true });
    for (const [name, build] of Object.entries(EXAMPLES)) {
      const svgPath = join(OUT, `${name}.svg`);
      Deno.writeTextFileSync(svgPath, toSvg(build()));
      const png = join(OUT, `${name}.png`);
      const r = new Deno.Command("rsvg-convert", { args: ["-w", "1280", svgPath, "-o", png] })
        .outputSync();
      assert.ok(r.success, new TextDecoder().decode(r.stderr));
      const bytes = Deno.readFileSync(png);
      assert.deepEqual([...bytes.slice(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
      const width = new DataView(bytes.buffer).getUint32(16);
      assert.equal(width, 1280);
    }
  },
});

function notebook(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((src) => ({
      cell_type: "code",
      execution_count: null,
      metadata: {},
      outputs: [],
      source: src,
    })),
    metadata: { kernelspec: { display_name: "Deno", language: "typescript", name: "deno" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

Deno.test({
  name: "tools/run_notebooks.py keeps display() output and counts a failing notebook",
  ignore: !JUPYTER,
  async fn() {
    // Kernel cwd is the notebook's folder: inside the checkout, so bare npm
    // imports resolve through deno.json. The kernelspec goes to a private
    // XDG_DATA_HOME so the user's Jupyter set-up is left alone.
    const dir = join(OUT, "nb");
    Deno.mkdirSync(dir, { recursive: true });
    const xdg = Deno.makeTempDirSync({ prefix: "mc-xdg-" });
    const env = { XDG_DATA_HOME: xdg, NO_COLOR: "1", PYDEVD_DISABLE_FILE_VALIDATION: "1" };
    try {
      const inst = await new Deno.Command(Deno.execPath(), {
        args: ["jupyter", "--install", "--force"],
        env,
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(inst.success, new TextDecoder().decode(inst.stderr));
      const good = join(dir, "plot_ok.ipynb");
      const bad = join(dir, "plot_throws.ipynb");
      Deno.writeTextFileSync(
        good,
        notebook([
          'import { display, startupFigure } from "../../../lib/plot/mod.ts";',
          'display(startupFigure([{ method: "bmcast", phase: "OS boot", startS: 5, endS: 63, source: "paper" }]))',
        ]),
      );
      Deno.writeTextFileSync(bad, notebook(['throw new Error("boom")']));
      const run = await new Deno.Command("/usr/bin/python3", {
        args: [join(ROOT, "tools/run_notebooks.py"), "--out", join(dir, "out"), good, bad],
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(run.stdout);
      assert.equal(run.code, 1, stdout);
      assert.match(stdout, /^notebooks -> passed=1 failed=1$/m);
      const executed = JSON.parse(Deno.readTextFileSync(join(dir, "out", "plot_ok.ipynb")));
      const outputs = executed.cells[1].outputs;
      assert.equal(outputs.length, 1, JSON.stringify(outputs).slice(0, 500));
      const data = outputs[0].data;
      const svg = [data["image/svg+xml"]].flat().join("");
      assert.ok(svg.includes("63 s") && svg.includes('xmlns="http://www.w3.org/2000/svg"'));
      assert.ok([data["text/html"]].flat().join("").includes("<svg"));
    } finally {
      Deno.removeSync(xdg, { recursive: true });
    }
  },
});
