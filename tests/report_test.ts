/**
 * `deno task report --small`: one self-contained HTML page with the four
 * figures, the comparison table and the profile. When Chromium is installed
 * (/usr/bin/chromium) the page is also loaded headless: it must run without
 * page errors or blocked loads, and its screenshot must be a real picture.
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { BUILTIN_PROFILE, loadProfile } from "../lib/scenario/mod.ts";
import {
  PAGE_ERROR_PROBE,
  PRINT_OPENS_DETAILS,
  renderReport,
  type ReportData,
} from "../experiments/report.ts";
import { OPERATION_COLORS } from "../lib/plot/mod.ts";
import { runScript } from "./_script.ts";
import { parseSvg, texts } from "./plot/_svg.ts";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!hasChromium) {
  console.log(`report_test: ${CHROMIUM} not found, the browser checks are skipped`);
}

const dir = Deno.makeTempDirSync({ prefix: "metalcast-report-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const page = join(dir, "out", "report.html");
let generated: Promise<{ code: number; stdout: string; stderr: string }> | undefined;

/** Generates the report once for every test of this file. */
function generate() {
  generated ??= new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "experiments/report.ts", "--small", "--out", page],
    cwd: ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output().then((o) => ({
    code: o.code,
    stdout: new TextDecoder().decode(o.stdout),
    stderr: new TextDecoder().decode(o.stderr),
  }));
  return generated;
}

/** The generated page's HTML, once the report has exited 0. */
async function generatedPage(): Promise<string> {
  const r = await generate();
  assert.equal(r.code, 0, r.stderr);
  return Deno.readTextFileSync(page);
}

const BROWSER_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--hide-scrollbars",
];

async function chromium(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const profileDir = Deno.makeTempDirSync({ dir, prefix: "chromium-" });
  const o = await new Deno.Command(CHROMIUM, {
    args: [...BROWSER_FLAGS, `--user-data-dir=${profileDir}`, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(90_000),
  }).output();
  const dec = new TextDecoder();
  assert.equal(o.code, 0, dec.decode(o.stderr));
  return { stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

/** Console lines Chromium logs (--enable-logging=stderr) for uncaught errors and blocked loads. */
function consoleProblems(stderr: string): string[] {
  return stderr.split("\n").filter((l) =>
    /:CONSOLE[:(]/.test(l) && /Uncaught|Content Security Policy|Refused|Failed to load/.test(l)
  );
}

/** The probe's report in a dumped DOM: [count, messages]. */
function pageErrors(dom: string): [number, string] {
  const m = dom.match(/<output id="mc-page-errors" data-count="(\d+)">([^<]*)<\/output>/);
  assert.ok(m, "the page-error probe's <output> is in the DOM");
  return [Number(m[1]), m[2]];
}

Deno.test("report --small writes one self-contained page: figures, checks, profile, provenance", async () => {
  const r = await generate();
  assert.equal(r.code, 0, r.stderr);
  // The quick configurations are shown, not judged against the paper (as repro --small).
  assert.match(
    r.stdout,
    /^report: .*report\.html \(small configurations: .*nothing judged, [\d.]+ s\)$/m,
  );
  const html = Deno.readTextFileSync(page);
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.ok((html.match(/<svg\b/g) ?? []).length >= 4, "four inline SVG figures");
  for (const fig of ["startup", "cassandra", "storage", "rdma"]) {
    assert.match(html, new RegExp(`<figure id="fig-${fig}"><svg`), `${fig} figure drawn`);
  }
  // The comparison table: one row per check, none judged (the paper's values do not apply).
  const table = html.match(/<table class="mc-comparison"[\s\S]*?<\/table>/)?.[0];
  assert.ok(table, "comparison table present");
  const rows = table.match(/<tr class="[^"]*"/g) ?? [];
  assert.ok(rows.length >= 20, `${rows.length} comparison rows`);
  assert.deepEqual(new Set(rows), new Set(['<tr class="unjudged"']));
  assert.doesNotMatch(table, /FAIL|>pass<|tolerance/);
  assert.match(
    html,
    /<span class="verdict">small configurations: the paper's values do not apply, nothing judged<\/span>/,
  );
  assert.doesNotMatch(html, /metrics within tolerance|class="verdict (miss|ok)"/);
  // Every profile parameter with its value and source.
  const profile = await loadProfile(BUILTIN_PROFILE);
  for (const [section, params] of Object.entries(profile)) {
    if (typeof params !== "object") continue;
    for (const [name, p] of Object.entries(params as Record<string, { source: string }>)) {
      const escaped = p.source.replaceAll("&", "&amp;").replaceAll("<", "&lt;")
        .replaceAll(">", "&gt;").replaceAll('"', "&quot;");
      assert.ok(
        html.includes(`<tr><td>${section}</td><td>${name}</td>`) && html.includes(escaped),
        `${section}.${name} listed with its source`,
      );
    }
  }
  // A field with a source of its own gets a row of its own.
  assert.match(
    html,
    /<tr class="field"><td>boot<\/td><td>params\.readRequests<\/td><td class="v">3000<\/td>/,
  );
  // Each value with its unit (lib/deploy parameterUnit); an object's beside each field's value.
  const params = html.match(/<table class="params">[\s\S]*?<\/table>/)?.[0] ?? "";
  const cells = (section: string, name: string) => {
    const m = params.match(
      new RegExp(
        `<tr[^>]*><td>${section}</td><td>${name}</td><td class="v">([\\s\\S]*?)</td><td class="u">([^<]*)</td>`,
      ),
    );
    assert.ok(m, `${section}.${name} has a row`);
    return { value: m[1], unit: m[2] };
  };
  assert.equal(cells("cpu", "vmExit").unit, "ns");
  assert.equal(cells("hdd", "rpm").unit, "rev/min");
  assert.equal(cells("network", "lineRate").unit, "bytes/s");
  assert.equal(cells("boot", "params\\.readRequests").unit, "requests");
  const fabric = cells("infiniband", "fabric");
  assert.equal(fabric.unit, "per field (in the value)");
  assert.match(fabric.value, /\n &quot;laneRate&quot;: 10000000000, \/\/ bit\/s\n/);
  assert.match(
    cells("vmm", "copyPolicy").value,
    /^<details><summary>\{&quot;kind&quot;:&quot;idle&quot;,&quot;idleThreshold&quot;:2000000\}<\/summary><pre>\{\n &quot;kind&quot;: &quot;idle&quot;, \/\/ idle \| rate \| adaptive\n &quot;idleThreshold&quot;: 2000000 \/\/ ns\n\}<\/pre><\/details>$/,
  );
  assert.doesNotMatch(params, /<td class="u"><\/td>|\/\/ \?\n/, "every value has a unit");
  // Provenance.
  assert.match(html, /<dt>seed<\/dt><dd>1<\/dd>/);
  assert.match(
    html,
    /<dt>git commit<\/dt><dd>([0-9a-f]{40}( \(with uncommitted changes\))?|unknown)<\/dd>/,
  );
  assert.ok(html.includes(`Deno ${Deno.version.deno}`));
  assert.match(html, /<dt>date<\/dt><dd>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  // Nothing external: no linked files, and a CSP that would block them anyway.
  assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(https?:|\/\/)/i);
  assert.doesNotMatch(html, /<link\b|<script\b[^>]*\bsrc=|url\(\s*["']?https?:/i);
  assert.match(html, /http-equiv="Content-Security-Policy" content="default-src 'none'/);
});

Deno.test({
  name: "report page loads in headless Chromium without errors and screenshots non-blank",
  ignore: !hasChromium,
  fn: async () => {
    await generatedPage();
    const url = `file://${page}`;
    const { stdout: dom, stderr } = await chromium(
      "--enable-logging=stderr",
      "--v=0",
      "--dump-dom",
      url,
    );
    const [count, messages] = pageErrors(dom);
    assert.equal(count, 0, `page errors: ${messages}`);
    assert.deepEqual(consoleProblems(stderr), []);
    // Screenshot: a 1280x2000 PNG with real content (a blank page compresses to a few KB).
    const png = join(dir, "report.png");
    await chromium("--window-size=1280,2000", `--screenshot=${png}`, url);
    const bytes = Deno.readFileSync(png);
    assert.deepEqual([...bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(""), "PNG");
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    assert.deepEqual([view.getUint32(16), view.getUint32(20)], [1280, 2000], "IHDR width x height");
    assert.ok(bytes.length > 60_000, `screenshot is ${bytes.length} bytes`);
  },
});

/** Records, once loaded, the viewport and page widths and what sticks out to the right. */
const LAYOUT_PROBE = `<script>
addEventListener("load", () => {
  const w = document.documentElement.clientWidth;
  const out = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 1; };
  const over = [...document.querySelectorAll("body *")]
    .filter((e) => out(e) && !(e.parentElement && out(e.parentElement)))
    .map((e) => e.tagName.toLowerCase() + "." + e.getAttribute("class") + " to " + Math.round(e.getBoundingClientRect().right));
  const o = document.createElement("output");
  o.id = "mc-layout";
  o.dataset.client = String(w);
  o.dataset.scroll = String(document.documentElement.scrollWidth);
  o.textContent = over.join("; ");
  document.body.append(o);
});
</script>`;

Deno.test({
  name:
    "report page fits a phone-width screen: figures shrink, wide tables scroll in their own box",
  ignore: !hasChromium,
  fn: async () => {
    const probed = join(dir, "narrow.html");
    Deno.writeTextFileSync(
      probed,
      (await generatedPage()).replace("</head>", `${LAYOUT_PROBE}\n</head>`),
    );
    const { stdout: dom } = await chromium(
      "--window-size=420,2000",
      "--dump-dom",
      `file://${probed}`,
    );
    const m = dom.match(/<output id="mc-layout" data-client="(\d+)" data-scroll="(\d+)">([^<]*)</);
    assert.ok(m, "the layout probe ran");
    const [client, scroll] = [Number(m[1]), Number(m[2])];
    assert.ok(client < 600, `a narrow viewport (${client} px; Chromium's smallest window is ~500)`);
    assert.equal(scroll, client, `the page scrolls sideways; sticking out: ${m[3]}`);
    const [count] = pageErrors(dom);
    assert.equal(count, 0);
  },
});

Deno.test("report page prints sensibly: one figure a row, none split across pages, no empty error box", async () => {
  const html = renderReport(await reportData(false, CHECKS));
  const print = html.match(/@media print \{([\s\S]*?)\n\}/)?.[1];
  assert.ok(print, "a print stylesheet");
  assert.match(print, /\.figures \{ display: block; \}/);
  assert.match(print, /figure \{ break-inside: avoid;/);
  assert.match(print, /h2, h3 \{ break-after: avoid; \}/);
  assert.match(print, /\.wide, pre \{ overflow: visible;/); // nothing hidden in a scroll box on paper
  assert.match(print, /#mc-page-errors\[data-count="0"\] \{ display: none; \}/);
  assert.ok(html.includes(PRINT_OPENS_DETAILS), "collapsed values open for printing");
  // Both wide tables sit in a focusable scrolling box, with column headers.
  assert.match(
    html,
    /<div class="wide" role="region" aria-label="paper versus simulation" tabindex="0"><table class="mc-comparison"/,
  );
  assert.match(
    html,
    /<div class="wide" role="region" aria-label="profile parameters" tabindex="0"><table class="params"><thead><tr><th scope="col">section<\/th>/,
  );
});

/**
 * Once loaded: opens the first `<details>` as a reader would, fires
 * beforeprint, measures, fires afterprint, and records "details
 * open-while-printing open-after chars-per-line px-over" into `<output
 * id="mc-print">`: the narrowest opened value's characters per line, and how
 * far the profile table sticks out to the right.
 */
const PRINT_PROBE = `<script>
addEventListener("load", () => {
  const all = [...document.querySelectorAll("details")];
  const open = () => all.filter((d) => d.open).length;
  if (all.length > 0) all[0].open = true;
  dispatchEvent(new Event("beforeprint"));
  const printing = open();
  const chars = Math.min(...all.map((d) => {
    const pre = d.querySelector("pre"), digits = document.createElement("span");
    digits.style.display = "inline-block";
    digits.textContent = "0".repeat(10);
    pre.append(digits);
    const ch = digits.getBoundingClientRect().width / 10;
    digits.remove();
    const css = getComputedStyle(pre);
    return (pre.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight)) / ch;
  }));
  const table = document.querySelector("table.params").getBoundingClientRect();
  const over = table.right - document.documentElement.clientWidth;
  dispatchEvent(new Event("afterprint"));
  const o = document.createElement("output");
  o.id = "mc-print";
  o.textContent = [all.length, printing, open(), chars.toFixed(1), over.toFixed(0)].join(" ");
  document.body.append(o);
});
</script>`;

/** Pages of a PDF Chromium printed (its page objects are not compressed). */
function pdfPages(path: string): number {
  const pdf = new TextDecoder("latin1").decode(Deno.readFileSync(path));
  return (pdf.match(/\/Type\s*\/Page\b/g) ?? []).length;
}

Deno.test({
  name: "report opens every details element for printing and closes them again afterwards",
  ignore: !hasChromium,
  fn: async () => {
    const html = await generatedPage();
    // The print stylesheet applied on screen, in an A4 page's width (186 mm at 96 dpi).
    const probed = join(dir, "print.html");
    Deno.writeTextFileSync(
      probed,
      html.replace("@media print {", "@media all {").replace("</body>", `${PRINT_PROBE}\n</body>`),
    );
    const { stdout: dom } = await chromium(
      "--window-size=703,2000",
      "--dump-dom",
      `file://${probed}`,
    );
    const m = dom.match(/<output id="mc-print">(\d+) (\d+) (\d+) ([\d.]+) (-?\d+)<\/output>/);
    assert.ok(m, "the print probe ran");
    const [all, printing, after, chars, over] = m.slice(1).map(Number);
    assert.ok(all >= 5, `${all} details elements (long profile values)`);
    assert.equal(printing, all, "all open while printing");
    assert.equal(after, 1, "afterwards only the one the reader opened stays open");
    // Readable on paper: whole JSON lines, not a ribbon a few letters wide.
    assert.ok(chars >= 25, `${chars} characters a line`);
    assert.ok(over <= 0, `the profile table sticks out ${over} px`);
    // A real print (PDF): the opened values take pages of their own.
    const pdf = (name: string, markup: string) => {
      const file = join(dir, `${name}.html`);
      Deno.writeTextFileSync(file, markup);
      const out = join(dir, `${name}.pdf`);
      return chromium("--no-pdf-header-footer", `--print-to-pdf=${out}`, `file://${file}`)
        .then(() => pdfPages(out));
    };
    const opened = await pdf("printed", html);
    const closed = await pdf("printed-closed", html.replace(PRINT_OPENS_DETAILS, ""));
    assert.ok(
      closed > 0 && opened > closed,
      `printed ${opened} pages, ${closed} with values closed`,
    );
  },
});

Deno.test("report figures: Cassandra's time from 0 s, storage read/write in colours of their own, RDMA latency in \u00b5s", async () => {
  const html = await generatedPage();
  const figure = (name: string) => {
    const m = html.match(
      new RegExp(`<figure id="fig-${name}">(<svg[\\s\\S]*?</svg>)([\\s\\S]*?)</figure>`),
    );
    assert.ok(m, `${name} figure drawn`);
    return { svg: parseSvg(m[1]), markup: m[0] };
  };
  const cassandra = figure("cassandra");
  const xTicks = texts(cassandra.svg, 'g[aria-label="x-axis tick label"] text');
  assert.equal(xTicks[0], "0");
  // The caption gives the paper's axes and, apart, this chart's as drawn (the small run: 320 s).
  const yTicks = texts(cassandra.svg, 'g[aria-label="y-axis tick label"] text');
  const drawn = cassandra.markup.match(
    /paper: [^<]*, 0-1250 s; y-axis 70%-120%\. This chart: 0-320 s, y-axis (\d+)%-(\d+)%\./,
  );
  assert.ok(drawn, "the caption says the paper's axes and this chart's");
  assert.deepEqual([drawn[1], drawn[2]], [yTicks[0], yTicks.at(-1)]);
  const fills = [...figure("storage").svg.querySelectorAll("g.mc-bar-sim rect")]
    .map((e) => e.getAttribute("fill"));
  assert.deepEqual(new Set(fills), new Set([OPERATION_COLORS.read, OPERATION_COLORS.write]));
  // The unit as readers see it: figure, caption and comparison rows.
  const rdma = figure("rdma");
  assert.deepEqual(texts(rdma.svg, "g.mc-title text"), ["InfiniBand RDMA latency (\u00b5s)"]);
  assert.match(rdma.markup, /paper: InfiniBand RDMA latency \(\u00b5s\)\./);
  assert.doesNotMatch(rdma.markup, /\bus\b/);
  const rows = html.match(/<tr[^>]*><td[^>]*>rdma<\/td>.*?<\/tr>/g) ?? [];
  assert.equal(rows.length, 4);
  for (const row of rows) assert.match(row, /latency \(\u00b5s\)</);
});

Deno.test({
  name: "page-error checks catch a thrown error and a blocked external load",
  ignore: !hasChromium,
  fn: async () => {
    // Guards against a probe that always reports 0.
    const bad = join(dir, "bad.html");
    Deno.writeTextFileSync(
      bad,
      `<!DOCTYPE html><html><head><meta charset="utf-8">${PAGE_ERROR_PROBE}
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
</head><body><img src="http://example.invalid/x.png"><script>throw new Error("boom")</script>
<output id="mc-page-errors" data-count="0"></output></body></html>`,
    );
    const { stdout, stderr } = await chromium(
      "--enable-logging=stderr",
      "--v=0",
      "--dump-dom",
      `file://${bad}`,
    );
    const [count, messages] = pageErrors(stdout);
    assert.ok(count >= 2, `probe saw ${count}: ${messages}`);
    assert.match(messages, /boom/);
    assert.match(messages, /blocked img-src/);
    assert.equal(consoleProblems(stderr).length, 2, stderr);
  },
});

Deno.test("report rejects bad arguments with every issue listed, exit 2, before running anything", async () => {
  const r = await runScript(
    "experiments/report.ts",
    "--seed=-1x",
    "--profile",
    "no/such/profile.json",
    "--set",
    "y",
    "--out",
    join(dir, "never.html"),
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /report: invalid input \(3 issues\)/);
  assert.match(r.stderr, /--set: "y": must be PATH=VALUE/);
  assert.match(r.stderr, /--seed: must be an integer in \[0, 4294967295\]: current value is "-1x"/);
  assert.match(r.stderr, /--profile: cannot read no\/such\/profile\.json/);
  assert.throws(() => Deno.statSync(join(dir, "never.html")));
});

/** A report's data without running anything: one figure with the given checks. */
function reportData(small: boolean, comparisons: ReportData["figures"][number]["comparisons"]) {
  return loadProfile(BUILTIN_PROFILE).then((profile): ReportData => ({
    small,
    seed: 1,
    profile,
    profilePath: "data/profiles/paper-2015.json",
    figures: [{
      name: "cassandra",
      title: "Cassandra",
      caption: "throughput during deployment",
      config: {},
      svg: "<svg></svg>",
      comparisons,
      wallS: 1,
    }],
    commit: "unknown",
    deno: "Deno",
    date: "2025-01-01T00:00:00Z",
    wallS: 1,
  }));
}

const CHECKS = [
  {
    figure: "cassandra",
    metric: "kvm-local: mean % of bare metal",
    paper: 100,
    simulated: 93,
    errorPct: -7,
    tolerancePct: 30,
    pass: true,
  },
  {
    // BMcast never de-virtualized within the run: no "after" value.
    figure: "cassandra",
    metric: "bmcast after de-virtualization: mean % of bare metal",
    paper: 100,
    simulated: NaN,
    errorPct: NaN,
    tolerancePct: 1,
    pass: false,
  },
];

Deno.test("report page judges the full configurations: a metric never reached is a FAIL row", async () => {
  const html = renderReport(await reportData(false, CHECKS));
  assert.match(html, /<span class="verdict miss">1 of 2 metrics within tolerance<\/span>/);
  assert.match(html, /1 of 2 metrics within tolerance; 1\.0 s wall time/);
  const rows = html.match(/<tr class="(pass|fail)"[^>]*>.*?<\/tr>/g) ?? [];
  assert.equal(rows.length, 2);
  assert.match(rows[1], /^<tr class="fail"/);
  assert.match(rows[1], />not reached<\/td><td[^>]*>n\/a<\/td>.*>FAIL<\/td><\/tr>$/);
  assert.doesNotMatch(html, /NaN/);
});

Deno.test("report page of the small configurations shows the checks without judging them", async () => {
  const html = renderReport(await reportData(true, CHECKS));
  assert.match(html, /<span class="verdict">small configurations: [^<]*nothing judged<\/span>/);
  assert.doesNotMatch(html, /metrics within tolerance|FAIL|class="(pass|fail)"/);
  assert.equal((html.match(/<tr class="unjudged"/g) ?? []).length, 2);
  assert.match(html, />not reached<\/td><td[^>]*>n\/a<\/td><\/tr>/);
});

Deno.test("report page of the full configurations with judged false (--no-judge) shows the checks without judging them", async () => {
  const html = renderReport({ ...await reportData(false, CHECKS), judged: false });
  assert.match(html, /<span class="verdict">--no-judge: [^<]*nothing judged<\/span>/);
  assert.doesNotMatch(html, /metrics within tolerance|FAIL|class="(pass|fail)"/);
  assert.equal((html.match(/<tr class="unjudged"/g) ?? []).length, 2);
  assert.match(html, /full \(the paper's\)/, "the configuration is still the full one");
});
