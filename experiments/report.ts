/**
 * `deno task report`: runs the four experiments (full configurations, or
 * `--small`) and writes ONE self-contained HTML file (default
 * out/report.html): the figures as inline SVG, the paper-versus-simulation
 * table with pass/fail (with `--small` the table is shown but not judged: the
 * paper's values do not apply to the quick configurations), every profile
 * parameter with its value, unit and source,
 * the experiments' configurations, the seed, the git commit, the Deno
 * version and the date. No external resources: a Content-Security-Policy
 * forbids them, and a tiny inline script records page errors (and blocked
 * loads) into the DOM so a headless browser can check the page; another opens
 * the collapsed profile values for printing.
 * Exits 0 even when metrics miss (the report shows them); 1 on a crash or
 * when it cannot write the report.
 */
import { basename, dirname, resolve } from "node:path";
import {
  type ComparisonRow,
  comparisonTable,
  displayUnit,
  type Figure,
  toSvg,
} from "../lib/plot/mod.ts";
import {
  intFlag,
  issuesMessage,
  MAX_SEED,
  outFileIssue,
  parseFlags,
  progressLine,
  writeOutputs,
} from "../lib/_util/mod.ts";
import {
  BUILTIN_PROFILE,
  loadProfile,
  loadReference,
  parameterUnit,
  type Profile,
  readProfileInput,
} from "../lib/scenario/mod.ts";
import {
  FIGURE_NAMES,
  figureChart,
  type FigureName,
  notJudgedText,
  runFigures,
} from "./_figures.ts";

/** One figure of the report. */
export interface ReportFigure {
  name: string;
  title: string;
  /** The paper's caption (data/reference). */
  caption: string;
  /**
   * What our chart draws where the paper's caption states its axes (its
   * range, e.g. "0-320 s, y-axis 60%-120%"), read from the chart itself.
   */
  drawn?: string;
  /** The experiment's parameters (without the profile). */
  config: Record<string, unknown>;
  /** Inline SVG; empty when the experiment crashed. */
  svg: string;
  comparisons: ComparisonRow[];
  /** The crash, when the experiment threw. */
  error?: string;
  wallS: number;
}

/** Everything the report shows. */
export interface ReportData {
  small: boolean;
  /**
   * Whether each metric is judged against its tolerance: not for the quick
   * configurations, nor with `--no-judge` (another testbed's profile).
   * @default !small
   */
  judged?: boolean;
  seed: number;
  profile: Profile;
  profilePath: string;
  /** Parameters changed from the profile file (`--set`), as given. */
  overrides?: Record<string, string>;
  figures: ReportFigure[];
  commit: string;
  deno: string;
  date: string;
  wallS: number;
}

/** Section titles of the report, by figure. */
const TITLES: Record<FigureName, string> = {
  startup: "OS-startup time (s)",
  cassandra: "Cassandra throughput during deployment (% of bare metal)",
  storage: "Storage throughput (MB/s)",
  rdma: "InfiniBand RDMA latency (\u00b5s)",
};

/** A chart's x and y domains, as drawn (Plot's `scale()` accessor on the figure). */
function domains(figure: Figure): { x: number[]; y: number[] } {
  const f = figure as unknown as { scale(name: "x" | "y"): { domain: number[] } };
  return { x: f.scale("x").domain, y: f.scale("y").domain };
}

/** The chart's drawn range, for a figure whose paper caption gives its axes. */
const DRAWN: Partial<Record<FigureName, (figure: Figure) => string>> = {
  // The paper's caption gives its axes (0-1250 s, 70%-120%); ours follow the run and the data.
  cassandra: (figure) => {
    const { x, y } = domains(figure);
    const n = (v: number) => String(Math.round(v));
    return `${n(x[0])}-${n(x[1])} s, y-axis ${n(y[0])}%-${n(y[1])}%`;
  },
};

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");

async function gitCommit(): Promise<string> {
  try {
    const git = (...args: string[]) =>
      new Deno.Command("git", { args, cwd: ROOT, stdout: "piped", stderr: "null" }).output();
    const head = await git("rev-parse", "HEAD");
    if (!head.success) return "unknown";
    const sha = new TextDecoder().decode(head.stdout).trim();
    const status = await git("status", "--porcelain", "--untracked-files=no");
    const dirty = status.success && status.stdout.length > 0;
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return "unknown"; // no git on PATH
  }
}

/** Options of {@link collectReport}. */
export interface CollectOptions {
  /** Quick configurations. @default false */
  small?: boolean;
  /** Seed for every experiment. @default 1 */
  seed?: number;
  /** The profile to run on, changes applied (see readProfileInput). @default the built-in profile */
  profile?: Profile;
  /** Where `profile` came from, as shown in the report. @default the built-in profile's path */
  profilePath?: string;
  /** The changes applied to it (`--set`), as shown in the report. */
  overrides?: Record<string, string>;
  /** Called as each experiment ends (progress): its name, how many ended, of how many. */
  onStep?: (name: string, done: number, total: number) => void;
}

/**
 * Runs the four experiments on the built-in profile (or `profile`). An experiment that
 * throws is recorded in its figure's `error`, and the others still run.
 */
export async function collectReport(options: CollectOptions = {}): Promise<ReportData> {
  const small = options.small ?? false;
  const overrides = options.overrides ?? {};
  const profile = options.profile ?? await loadProfile(BUILTIN_PROFILE);
  const seed = options.seed ?? 1;
  const ref = loadReference();
  const t0 = performance.now();
  let done = 0;
  const runs = await runFigures({
    small,
    seed,
    profile,
    onEnd: (name) => options.onStep?.(name, ++done, FIGURE_NAMES.length),
  });
  const figures = runs.map(({ name, config, output, error, wallS }): ReportFigure => {
    const fig: ReportFigure = {
      name,
      title: TITLES[name],
      caption: ref[name]?.caption ?? "",
      config,
      svg: "",
      comparisons: [],
      wallS,
    };
    if (output === undefined) return { ...fig, error };
    const chart = figureChart(name, output);
    return {
      ...fig,
      svg: toSvg(chart),
      drawn: DRAWN[name]?.(chart),
      comparisons: output.comparisons,
    };
  });
  return {
    small,
    seed,
    profile,
    profilePath: options.profilePath ?? BUILTIN_PROFILE.pathname.slice(ROOT.length + 1),
    overrides,
    figures,
    commit: await gitCommit(),
    deno:
      `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript})`,
    date: new Date().toISOString(),
    wallS: (performance.now() - t0) / 1000,
  };
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/**
 * The page-error probe: records uncaught errors, unhandled rejections,
 * console.error calls, failed loads and Content-Security-Policy violations
 * into `<output id="mc-page-errors" data-count="N">`, so `chromium
 * --dump-dom` shows whether the page ran cleanly. Put it first in <head>.
 */
export const PAGE_ERROR_PROBE = `<script>
(() => {
  const errors = [];
  const show = () => {
    const el = document.getElementById("mc-page-errors");
    if (!el) return;
    el.dataset.count = String(errors.length);
    el.textContent = errors.join("\\n");
  };
  const record = (m) => { errors.push(String(m)); show(); };
  addEventListener("error", (e) => record(e.message || "failed to load " + (e.target && (e.target.src || e.target.href || e.target.tagName))), true);
  addEventListener("unhandledrejection", (e) => record("unhandled rejection: " + e.reason));
  addEventListener("securitypolicyviolation", (e) => record("blocked " + e.violatedDirective + ": " + e.blockedURI));
  const consoleError = console.error;
  console.error = (...a) => { record(a.join(" ")); consoleError(...a); };
  addEventListener("DOMContentLoaded", show);
  addEventListener("load", show);
})();
</script>`;

/**
 * Opens every closed `<details>` (long profile values) for printing, where
 * nobody can click them, and closes those again afterwards. A script, as CSS
 * cannot show a closed element's content in every browser.
 */
export const PRINT_OPENS_DETAILS = `<script>
addEventListener("beforeprint", () => {
  for (const d of document.querySelectorAll("details:not([open])")) {
    d.open = true;
    d.dataset.mcPrint = "";
  }
});
addEventListener("afterprint", () => {
  for (const d of document.querySelectorAll("details[data-mc-print]")) {
    d.open = false;
    delete d.dataset.mcPrint;
  }
});
</script>`;

/** Forbids every external resource: only inline scripts, styles and data: images. */
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #111; background: #fff; margin: 24px auto; max-width: 1320px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ccc; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
.meta dt { color: #555; } .meta dd { margin: 0; font-family: ui-monospace, monospace; font-size: 13px; overflow-wrap: anywhere; min-width: 0; }
.verdict { font-weight: 600; } .verdict.miss { color: #b00020; } .verdict.ok { color: #1b6e20; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(600px, 100%), 1fr)); gap: 16px; }
figure { margin: 0; border: 1px solid #ddd; padding: 8px; min-width: 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: #444; margin-top: 4px; }
.crash { color: #b00020; white-space: pre-wrap; font-size: 12px; }
table.params { border-collapse: collapse; font-size: 12px; width: 100%; }
table.params th, table.params td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
table.params td.v { font-family: ui-monospace, monospace; white-space: nowrap; }
table.params td.u { white-space: nowrap; }
table.params td.s { color: #333; } details summary { cursor: pointer; }
.configs { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(290px, 100%), 1fr)); gap: 8px; }
.configs > div { min-width: 0; } .configs h3 { font-size: 13px; margin: 0; }
.wide { overflow-x: auto; max-width: 100%; }
pre { font-size: 12px; background: #f6f6f6; padding: 8px; overflow-x: auto; }
#mc-page-errors { display: block; font-size: 11px; color: #b00020; white-space: pre-wrap; }
@media print {
  @page { margin: 12mm; }
  body { margin: 0; max-width: none; padding: 0; font-size: 11px; }
  .figures { display: block; }
  figure { break-inside: avoid; margin: 0 0 12px; }
  h2, h3 { break-after: avoid; }
  tr { break-inside: avoid; }
  .wide, pre { overflow: visible; white-space: pre-wrap; }
  table.params td.v { white-space: normal; overflow-wrap: anywhere; }
  table.params td.u { white-space: normal; }
  table.params td.s { overflow-wrap: anywhere; } /* a long path in a source: room for the unit column */
  table.params td.v pre { font-size: 10px; min-width: 28ch; } /* whole JSON lines, the table within A4 */
  #mc-page-errors[data-count="0"] { display: none; }
}
`;

/**
 * A profile value at `path` as the table shows it: a scalar as text; an
 * object or list as its JSON (cut when long) that opens to one field a line,
 * each with its unit (lib/deploy parameterUnit).
 */
function paramValue(path: string, v: unknown): string {
  if (typeof v !== "object" || v === null) return esc(String(v));
  const json = JSON.stringify(v);
  const summary = json.length <= 60 ? esc(json) : `${esc(json.slice(0, 48))}&hellip;`;
  return `<details><summary>${summary}</summary><pre>${esc(withUnits(path, v))}</pre></details>`;
}

/** Items of a list shown in full; a longer one (a recorded boot trace) shows its first ones. */
const LIST_SHOWN = 20;

/** `JSON.stringify(v, null, 1)` with each scalar's line ending in `// <its unit>`. */
function withUnits(path: string, v: unknown, indent = ""): string {
  if (typeof v !== "object" || v === null) return JSON.stringify(v);
  const list = Array.isArray(v);
  const entries = list
    ? v.slice(0, LIST_SHOWN).map((x, i) => [String(i), x] as const)
    : Object.entries(v);
  const [open, close] = list ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return `${open}${close}`;
  const more = list ? v.length - entries.length : 0;
  const total = entries.length + more;
  const lines = entries.map(([k, x], i) => {
    const at = `${path}.${k}`;
    const key = list ? "" : `${JSON.stringify(k)}: `;
    const comma = i < entries.length - 1 || more > 0 ? "," : "";
    const unit = typeof x === "object" && x !== null ? "" : ` // ${parameterUnit(at) ?? "?"}`;
    return `${indent} ${key}${withUnits(at, x, `${indent} `)}${comma}${unit}`;
  });
  if (more > 0) lines.push(`${indent} … ${more} more of ${total}`);
  return `${open}\n${lines.join("\n")}\n${indent}${close}`;
}

/**
 * Opens the box a wide table scrolls in on a narrow screen (the page itself
 * never scrolls sideways); keyboard-focusable, as a scrolling region must be.
 */
function wide(label: string): string {
  return `<div class="wide" role="region" aria-label="${esc(label)}" tabindex="0">`;
}

/** Every parameter (and each field with a source of its own) with its value, unit and source. */
function profileTable(profile: Profile): string {
  const rows: string[] = [];
  // An object's units are per field, each beside its value.
  const row = (cls: string, section: string, name: string, value: unknown, source: string) => {
    const path = `${section}.${name}`;
    const unit = typeof value === "object" && value !== null
      ? "per field (in the value)"
      : parameterUnit(path) ?? "";
    return `<tr${cls}><td>${esc(section)}</td><td>${esc(name)}</td><td class="v">${
      paramValue(path, value)
    }</td><td class="u">${esc(unit)}</td><td class="s">${esc(source)}</td></tr>`;
  };
  for (const [section, params] of Object.entries(profile)) {
    if (typeof params !== "object" || params === null) continue;
    for (const [name, p] of Object.entries(params as Record<string, unknown>)) {
      const { value, source, fieldSources } = p as {
        value: unknown;
        source: string;
        fieldSources?: Record<string, string>;
      };
      rows.push(row("", section, name, value, source));
      // Fields with a source of their own, each on a row below its parameter.
      for (const [field, src] of Object.entries(fieldSources ?? {})) {
        const v = (value as Record<string, unknown>)[field];
        rows.push(row(' class="field"', section, `${name}.${field}`, v, src));
      }
    }
  }
  return `${
    wide("profile parameters")
  }<table class="params"><thead><tr><th scope="col">section</th><th scope="col">parameter</th><th scope="col">value</th><th scope="col">unit</th><th scope="col">source</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table></div>`;
}

/**
 * The report page: one HTML string with everything inline. The verdict and
 * the comparison table judge each metric (pass/FAIL, a metric the run never
 * reached fails) for the full configurations; for `small` ones (or when not
 * `judged`) the table is shown without judgement, as `deno task repro --small`
 * (`--no-judge`) does.
 * @example
 * ```ts
 * import { renderReport } from "./report.ts";
 * import { BUILTIN_PROFILE, loadProfile } from "../lib/scenario/mod.ts";
 * const html = renderReport({
 *   small: true, seed: 1, profile: await loadProfile(BUILTIN_PROFILE), profilePath: "p.json",
 *   figures: [], commit: "unknown", deno: "Deno", date: "2025-01-01T00:00:00Z", wallS: 0,
 * });
 * console.assert(html.startsWith("<!DOCTYPE html>") && html.includes('id="mc-page-errors"'));
 * console.assert(html.includes("nothing judged"));
 * ```
 */
export function renderReport(data: ReportData): string {
  const comparisons = data.figures.flatMap((f) => f.comparisons);
  const passed = comparisons.filter((c) => c.pass).length;
  const crashed = data.figures.filter((f) => f.error !== undefined);
  const judged = data.judged ?? !data.small;
  const verdict = crashed.length > 0
    ? `<span class="verdict miss">INCOMPLETE: ${
      crashed.map((f) => f.name).join(", ")
    } crashed</span>`
    : !judged
    ? `<span class="verdict">${notJudgedText(data.small)}</span>`
    : `<span class="verdict ${
      passed === comparisons.length ? "ok" : "miss"
    }">${passed} of ${comparisons.length} metrics within tolerance</span>`;
  const judgement = (f: ReportFigure) =>
    !judged
      ? ""
      : `${
        f.comparisons.filter((c) => c.pass).length
      } of ${f.comparisons.length} metrics within tolerance; `;
  const figures = data.figures.map((f) =>
    `<figure id="fig-${esc(f.name)}">${
      f.error === undefined
        ? f.svg
        : `<h3>${esc(f.title)}</h3><p class="crash">experiment crashed:\n${esc(f.error)}</p>`
    }<figcaption><b>${esc(f.name)}</b>: paper: ${esc(displayUnit(f.caption))}${
      f.drawn === undefined ? "" : `. This chart: ${esc(f.drawn)}`
    }. ${judgement(f)}${f.wallS.toFixed(1)} s wall time.</figcaption></figure>`
  ).join("\n");
  const configs = data.figures.map((f) =>
    `<div><h3>${esc(f.name)}</h3><pre>${esc(JSON.stringify(f.config, null, 2))}</pre></div>`
  ).join("\n");
  const meta: [string, string][] = [
    ["configuration", data.small ? "small (quick test configurations)" : "full (the paper's)"],
    ["seed", String(data.seed)],
    ["profile", `${data.profile.name} (${data.profilePath})`],
    ...(Object.keys(data.overrides ?? {}).length > 0
      ? [[
        "changed parameters",
        Object.entries(data.overrides!).map(([k, v]) => `${k}=${v}`).join(", "),
      ] as [string, string]]
      : []),
    ["git commit", data.commit],
    ["runtime", data.deno],
    ["date", data.date],
    ["wall time", `${data.wallS.toFixed(1)} s`],
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
${PAGE_ERROR_PROBE}
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>metalcast: BMcast reproduction report</title>
<style>${STYLE}</style>
${PRINT_OPENS_DETAILS}
</head>
<body>
<h1>metalcast: reproduction of BMcast (ASPLOS '15)</h1>
<p>${verdict}. Figures and checks come from the simulator; the paper's values come from data/reference/paper-2015.json.</p>
<dl class="meta">${meta.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>
<h2>Figures</h2>
<div class="figures">
${figures}
</div>
<h2>Paper versus simulation</h2>
${
    comparisons.length > 0
      ? `${wide("paper versus simulation")}${comparisonTable(comparisons, { judged })}</div>`
      : "<p>No comparisons.</p>"
  }
<h2>Profile: every parameter with its source</h2>
<p>${esc(data.profile.description)}</p>
${profileTable(data.profile)}
<h2>Experiment configurations</h2>
<div class="configs">${configs}</div>
<output id="mc-page-errors" data-count="0"></output>
</body>
</html>
`;
}

const USAGE =
  `usage: deno task report [--small] [--no-judge] [--seed N] [--profile PATH] [--set P=V ...]
                         [--out PATH]
  Runs the four experiments (full configurations; --small: quick ones, shown but not
  judged: the paper's values do not apply to them; --no-judge: full ones, the paper's
  values shown beside the simulated ones but not judged, for a profile or --set that
  is not the paper's testbed) and writes one
  self-contained HTML report (default out/report.html). --profile: another hardware
  profile JSON (default data/profiles/paper-2015.json); --set P=V: change one profile
  parameter (repeatable; e.g. hdd.rpm=15000, as for deno task repro).
  exit status: 0 report written (metrics outside tolerance are shown in it), 1 a crash or
  the report could not be written after the run (a previous one is left as it was),
  2 bad arguments, also an --out found unusable before the run (nothing runs or is written)
`;

/**
 * Runs the CLI and returns its exit status.
 * @example
 * ```ts
 * import { main } from "./report.ts";
 * console.assert(await main(["--bogus"]) === 2);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  // Every bad argument is reported at once, before anything runs.
  const issues: string[] = [];
  const flags = parseFlags({
    command: "report",
    issues,
    usage: USAGE,
    args,
    options: {
      small: { type: "boolean", default: false },
      "no-judge": { type: "boolean", default: false },
      seed: { type: "string" },
      profile: { type: "string" },
      set: { type: "string", multiple: true },
      out: { type: "string", default: "out/report.html" },
    },
  });
  if (typeof flags === "number") return flags;
  const seed = intFlag("seed", flags.seed, { min: 0, max: MAX_SEED, fallback: 1 }, issues);
  const input = await readProfileInput({ path: flags.profile, set: flags.set });
  issues.push(...input.issues);
  const outIssue = outFileIssue("out", flags.out);
  if (outIssue !== undefined) issues.push(outIssue);
  if (issues.length > 0) {
    console.error(`${issuesMessage("report: invalid input", issues)}\n${USAGE}`);
    return 2;
  }
  const progress = progressLine("report");
  progress.update(0, FIGURE_NAMES.length, "running");
  const collected = await collectReport({
    small: flags.small,
    seed,
    profile: input.profile,
    profilePath: flags.profile,
    overrides: input.overrides,
    onStep: (name, done, total) => progress.update(done, total, `${name} done`),
  }).finally(() => progress.clear());
  const data: ReportData = { ...collected, judged: !flags.small && !flags["no-judge"] };
  const failure = writeOutputs({
    command: "report",
    out: flags.out,
    dir: dirname(flags.out),
    files: { [basename(flags.out)]: renderReport(data) },
  });
  if (failure !== undefined) {
    console.error(failure);
    return 1;
  }
  const comparisons = data.figures.flatMap((f) => f.comparisons);
  const passed = comparisons.filter((c) => c.pass).length;
  const judged = data.judged
    ? `${passed} of ${comparisons.length} metrics within tolerance`
    : notJudgedText(data.small);
  console.log(`report: ${flags.out} (${judged}, ${data.wallS.toFixed(1)} s)`);
  const crashed = data.figures.filter((f) => f.error !== undefined);
  for (const f of crashed) console.error(`report: experiment ${f.name} crashed:\n${f.error}`);
  return crashed.length > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
