import assert from "node:assert/strict";
import {
  barsFigure,
  type ComparisonRow,
  comparisonTable,
  displayUnit,
  formatComparison,
  OPERATION_COLORS,
  PALETTE,
  scatterFigure,
  startupFigure,
  SYSTEM_COLORS,
  systemColor,
  THEME,
  throughputFigure,
  timelineFigure,
  toSvg,
} from "../../lib/plot/mod.ts";
import { COMPARISON, MARKERS, RDMA, STARTUP, STORAGE, THROUGHPUT, TIMELINE } from "./_examples.ts";
import { count, parseSvg, texts } from "./_svg.ts";

const Y_TICKS = 'g[aria-label="y-axis tick label"] text';

Deno.test("startupFigure() draws one bar per phase, paper beside sim, totals labelled", () => {
  const fig = startupFigure(STARTUP, { title: "OS startup" });
  assert.equal(fig.tagName.toLowerCase(), "svg"); // no HTML <figure>, even with a title
  const svg = parseSvg(toSvg(fig));
  const paper = STARTUP.filter((r) => r.source === "paper");
  assert.equal(count(svg, "g.mc-bar-paper rect"), paper.length);
  assert.equal(count(svg, "g.mc-bar-sim rect"), STARTUP.length - paper.length);
  assert.deepEqual(texts(svg, "g.mc-total text"), ["544 s", "537 s", "63 s", "66 s", "49 s"]);
  assert.deepEqual(texts(svg, Y_TICKS), [
    "image-copy \u00b7 paper",
    "image-copy \u00b7 sim",
    "bmcast \u00b7 paper",
    "bmcast \u00b7 sim",
    "nfsroot \u00b7 paper",
  ]);
  assert.deepEqual(texts(svg, "g.mc-legend-label text"), [
    "image copy",
    "reboot+firmware",
    "OS boot",
    "VMM boot",
  ]);
  assert.deepEqual(texts(svg, "g.mc-title text"), ["OS startup"]);
  assert.ok(texts(svg, "g.mc-bar-paper title").includes("image-copy (paper): image copy 0-370 s"));
  // Bars span startS..endS: widths are proportional to durations.
  const w = [...svg.querySelectorAll("g.mc-bar-sim rect")].map((r) =>
    Number(r.getAttribute("width"))
  );
  assert.ok(Math.abs(w[0] / w[1] - 362 / 145) < 0.05, `widths ${w}`);
});

Deno.test("throughputFigure() draws a line per system, paper dots, the 100% rule and the marker", () => {
  const svg = parseSvg(toSvg(throughputFigure(THROUGHPUT, MARKERS)));
  assert.equal(count(svg, "g.mc-line-sim path"), 2); // bmcast, kvm
  assert.equal(count(svg, "g.mc-line-paper path"), 1);
  assert.equal(count(svg, "g.mc-dot-paper circle"), 3);
  assert.ok(texts(svg, "g.mc-dot-paper title").includes("paper bmcast: 90 % at 600 s"));
  assert.equal(count(svg, "g.mc-rule-100 line"), 1);
  assert.equal(count(svg, "g.mc-marker line"), 1);
  assert.deepEqual(texts(svg, "g.mc-marker-label text"), ["de-virtualized"]);
  assert.deepEqual(texts(svg, "g.mc-y-label text"), ["\u2191 throughput (% of bare metal)"]);
  const ticks = texts(svg, Y_TICKS);
  assert.equal(ticks[0], "60");
  assert.equal(ticks.at(-1), "120");
  assert.deepEqual(texts(svg, "g.mc-legend-label text"), ["bmcast", "kvm", "paper (dashed)"]);
  // The marker sits where x = 900 s: between the ticks for 800 and 1,000.
  const xTicks = [...svg.querySelectorAll('g[aria-label="x-axis tick label"] text')];
  const xAt = (label: string) =>
    Number(
      /translate\(([\d.]+)/.exec(
        xTicks.find((t) => t.textContent === label)!.getAttribute("transform")!,
      )![1],
    );
  const line = svg.querySelector("g.mc-marker line")!;
  const mx = Number(line.getAttribute("x1")) + 0;
  assert.ok(Math.abs(mx - (xAt("800") + xAt("1,000")) / 2) < 1.5, `marker at ${mx}`);
});

Deno.test("throughputFigure() starts the time axis at 0 s, though the first sample ends a window later", () => {
  const rows = [30, 60, 90].map((t) => ({
    system: "bmcast",
    timeS: t,
    pctOfBareMetal: 90,
    source: "sim" as const,
  }));
  const markers = [{ system: "bmcast", timeS: 120, label: "de-virtualized" }];
  const fig = throughputFigure(rows, markers) as unknown as {
    scale(name: "x"): { domain: number[] };
  };
  assert.deepEqual(fig.scale("x").domain, [0, 120]); // to the last marker, as before
  const xTicks = texts(
    parseSvg(toSvg(fig as unknown as Element)),
    'g[aria-label="x-axis tick label"] text',
  );
  assert.equal(xTicks[0], "0");
});

Deno.test("throughputFigure() widens the y domain to fit values beyond [60, 120]", () => {
  const rows = [{ system: "kvm", timeS: 0, pctOfBareMetal: 131, source: "sim" as const }, {
    system: "kvm",
    timeS: 10,
    pctOfBareMetal: 42,
    source: "sim" as const,
  }];
  const ticks = texts(parseSvg(toSvg(throughputFigure(rows))), Y_TICKS).map(Number);
  assert.ok(ticks[0] <= 42 && ticks.at(-1)! >= 131, `ticks ${ticks}`);
});

Deno.test("barsFigure() groups storage bars by system, series as colour, paper as ticks", () => {
  const svg = parseSvg(toSvg(barsFigure(STORAGE, { yLabel: "throughput (MB/s)" })));
  assert.equal(count(svg, "g.mc-bar-sim rect"), 8);
  assert.equal(count(svg, "g.mc-bar-paper rect"), 0); // every paper value has a sim bar
  assert.equal(count(svg, "g.mc-tick-paper line"), 8);
  const paperTitles = texts(svg, "g.mc-tick-paper title");
  for (const v of [112, 117, 115, 101, 100]) assert.ok(paperTitles.includes(`paper: ${v} MB/s`));
  assert.deepEqual(texts(svg, 'g[aria-label="fx-axis tick label"] text'), [
    "Bare-metal",
    "Deploy",
    "Devirt",
    "KVM/Local",
  ]);
  assert.deepEqual(texts(svg, "g.mc-y-label text"), ["\u2191 throughput (MB/s)"]);
  assert.deepEqual(texts(svg, "g.mc-legend-label text"), ["read", "write", "paper value"]);
  assert.deepEqual(texts(svg, "g.mc-value text").slice(0, 2), ["111", "112"]);
  // read and write differ in colour
  const fills = new Set(
    [...svg.querySelectorAll("g.mc-bar-sim rect")].map((r) => r.getAttribute("fill")),
  );
  assert.equal(fills.size, 2);
});

Deno.test("barsFigure() gives read/write colours of their own: no startup phase's, system's or palette colour", () => {
  const fills = (svg: Element, selector: string) =>
    new Set([...svg.querySelectorAll(selector)].map((r) => r.getAttribute("fill")));
  const storage = fills(parseSvg(toSvg(barsFigure(STORAGE))), "g.mc-bar-sim rect");
  assert.deepEqual(storage, new Set([OPERATION_COLORS.read, OPERATION_COLORS.write]));
  const phases = fills(parseSvg(toSvg(startupFigure(STARTUP))), "g.mc-bar-sim rect");
  assert.deepEqual(phases, new Set(PALETTE.slice(0, 4))); // the startup figure keeps its colours
  for (const c of [...PALETTE, ...Object.values(SYSTEM_COLORS)]) assert.ok(!storage.has(c), c);
});

Deno.test("barsFigure() draws paper-only values as outlined bars, colours one series by system", () => {
  const svg = parseSvg(toSvg(barsFigure(RDMA)));
  assert.equal(count(svg, "g.mc-bar-sim rect"), 2);
  assert.equal(count(svg, "g.mc-bar-paper rect"), 2); // Deploy, Devirt have no sim value
  assert.equal(count(svg, "g.mc-tick-paper line"), 4);
  assert.ok(texts(svg, "g.mc-tick-paper title").includes("paper: 1.61 \u00b5s"));
  assert.deepEqual(texts(svg, "g.mc-y-label text"), ["\u2191 \u00b5s"]); // unit as default label
  assert.deepEqual(texts(svg, "g.mc-value text").sort(), ["1.29", "1.3", "1.3", "1.66"]);
  const fills = [...svg.querySelectorAll("g.mc-bar-sim rect")].map((r) => r.getAttribute("fill"));
  assert.notEqual(fills[0], fills[1]);
});

Deno.test("barsFigure() names a single series in the legend, beside a strip of its bars' system colours", () => {
  const svg = parseSvg(toSvg(barsFigure(RDMA)));
  assert.deepEqual(texts(svg, "g.mc-legend-label text"), ["latency", "paper value"]);
  const swatches = [...svg.querySelectorAll("g.mc-legend-swatch")].map((g) =>
    g.getAttribute("fill") ?? g.firstElementChild?.getAttribute("fill")
  );
  const groups = ["Bare-metal", "Deploy", "Devirt", "KVM/Pass"];
  assert.deepEqual(swatches.slice(0, groups.length), groups.map(systemColor));
  const bars = new Set(
    [...svg.querySelectorAll("g.mc-bar-sim rect")].map((r) => r.getAttribute("fill")),
  );
  for (const fill of bars) assert.ok(swatches.includes(fill), `bar colour ${fill} in the legend`);
});

Deno.test("barsFigure() keeps a system's colour when the series are systems (as the curves do)", () => {
  const rows = ["kvm-nfs", "nfsroot", "bmcast"].flatMap((series) =>
    [1, 4].map((n) => ({
      group: `${n} nodes`,
      series,
      value: n * 10,
      unit: "s",
      source: "sim" as const,
    }))
  );
  const svg = parseSvg(toSvg(barsFigure(rows)));
  const legend = [...svg.querySelectorAll("g.mc-legend-swatch")].map((g) =>
    g.getAttribute("fill") ?? g.firstElementChild?.getAttribute("fill")
  );
  assert.deepEqual(legend, ["kvm-nfs", "nfsroot", "bmcast"].map(systemColor));
  const fills = new Set(
    [...svg.querySelectorAll("g.mc-bar-sim rect")].map((r) => r.getAttribute("fill")),
  );
  assert.deepEqual([...fills].sort(), ["kvm-nfs", "nfsroot", "bmcast"].map(systemColor).sort());
});

Deno.test("barsFigure() draws negative values below the zero line, labelled under the bar", () => {
  const rows = [
    { group: "hdd.rpm", series: "BMcast", value: -0.15, unit: "elasticity", source: "sim" },
    { group: "hdd.rpm", series: "NFS root", value: 0.05, unit: "elasticity", source: "sim" },
  ] as const;
  const svg = parseSvg(toSvg(barsFigure(rows)));
  assert.equal(count(svg, "g.mc-bar-sim rect"), 2);
  const ticks = texts(svg, Y_TICKS).map((t) => Number(t.replace("\u2212", "-")));
  assert.ok(Math.min(...ticks) < 0 && Math.max(...ticks) > 0, `ticks ${ticks}`);
  assert.deepEqual(texts(svg, "g.mc-value text").sort(), ["-0.15", "0.05"]);
  // The negative bar hangs from the zero line: its top is the positive bar's bottom.
  const [neg, pos] = [...svg.querySelectorAll("g.mc-bar-sim rect")].map((r) => ({
    y: Number(r.getAttribute("y")),
    h: Number(r.getAttribute("height")),
  }));
  assert.ok(Math.abs(neg.y - (pos.y + pos.h)) < 1e-6, `${JSON.stringify([neg, pos])}`);
});

Deno.test("barsFigure() refuses rows with different units", () => {
  assert.throws(
    () => barsFigure([...RDMA, { ...STORAGE[0] }]),
    /RangeError: Cannot plot bar rows: 'unit' must be the same in every row: current values are us, MB\/s/,
  );
});

Deno.test("timelineFigure() draws one bar per span, entity rows, phases in the legend", () => {
  const svg = parseSvg(toSvg(timelineFigure(TIMELINE, { width: 500 })));
  assert.equal(svg.getAttribute("width"), "500");
  assert.equal(count(svg, "g.mc-bar rect"), TIMELINE.length);
  assert.deepEqual(texts(svg, Y_TICKS), ["node0", "node1", "node2"]);
  assert.deepEqual(texts(svg, "g.mc-legend-label text"), ["firmware", "VMM boot", "OS boot"]);
  assert.deepEqual(texts(svg, 'g[aria-label="x-axis label"] text'), ["time (s) \u2192"]);
  assert.throws(
    () => timelineFigure(TIMELINE, { width: 10 }),
    /'width' must be a finite number >= 200/,
  );
});

Deno.test("comparisonTable() lists every metric and marks failures", () => {
  const html = comparisonTable([
    ...COMPARISON,
    { ...COMPARISON[0], metric: "<script>x</script>" },
  ]);
  for (const r of COMPARISON) assert.ok(html.includes(displayUnit(r.metric)), r.metric);
  const rows = html.match(/<tr[^>]*>/g)!.slice(1);
  assert.equal(rows.length, COMPARISON.length + 1);
  assert.equal(rows.filter((r) => r.includes('class="fail"')).length, 1);
  assert.equal((html.match(/>FAIL</g) ?? []).length, 1);
  assert.equal((html.match(/>pass</g) ?? []).length, 3);
  assert.ok(html.includes("+11.8") && html.includes("\u22121.3"));
  assert.ok(!html.includes("<script>"), "metric text is escaped");
});

Deno.test("formatComparison() aligns the columns and marks failures", () => {
  const lines = formatComparison(COMPARISON).split("\n");
  assert.equal(lines.length, COMPARISON.length + 1);
  assert.match(lines[0], /^figure\s+\| metric\s+\| paper \| simulated \| error % \| status$/);
  const bars = (l: string) => [...l.matchAll(/ \| /g)].map((m) => m.index);
  for (const l of lines) assert.deepEqual(bars(l), bars(lines[0]), l);
  assert.match(lines[1], /\|\s+63 \|\s+66 \|\s+\+4\.8 \| ok$/);
  assert.match(lines[3], /\|\s+1\.61 \|\s+1\.8 \|\s+\+11\.8 \| FAIL \(tol \u00b15%\)$/);
  assert.match(lines[2], /\|\s+-1\.3 \| ok$/);
  // An error that rounds to zero has no sign, in the text and the HTML table alike.
  const tiny = { ...COMPARISON[0], simulated: 62.99, errorPct: -0.016 };
  assert.match(formatComparison([tiny]).split("\n")[1], /\|\s+63 \|\s+0\.0 \| ok$/);
  assert.match(comparisonTable([tiny]), />0\.0</);
  assert.doesNotMatch(comparisonTable([tiny]), /\u22120\.0/);
});

/** A metric the run never reached (BMcast never de-virtualized within the run). */
const NOT_REACHED: ComparisonRow = {
  figure: "cassandra",
  metric: "bmcast after de-virtualization (%)",
  paper: 100,
  simulated: NaN,
  errorPct: NaN,
  tolerancePct: 1,
  pass: false,
};

Deno.test("comparisonTable() shows a metric not reached within the run as such, failing", () => {
  const html = comparisonTable([...COMPARISON, NOT_REACHED]);
  const last = html.match(/<tr[^>]*>.*?<\/tr>/g)!.at(-1)!;
  assert.match(last, /^<tr class="fail"/);
  const cells = [...last.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
  assert.deepEqual(cells.slice(2), ["100", "not reached", "n/a", "\u00b11", "FAIL"]);
  assert.ok(!html.includes("NaN"), "no NaN printed");
});

Deno.test("comparisonTable({ judged: false }) shows the values without tolerance, status or marks", () => {
  const html = comparisonTable([...COMPARISON, NOT_REACHED], { judged: false });
  const head = [...html.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
  assert.deepEqual(head, ["figure", "metric", "paper", "simulated", "error %"]);
  const rows = html.match(/<tr class="[^"]*"/g)!;
  assert.deepEqual(new Set(rows), new Set(['<tr class="unjudged"']));
  assert.equal(rows.length, COMPARISON.length + 1);
  assert.ok(!/FAIL|>pass<|#b00020/.test(html), html);
  assert.ok(html.includes("+11.8") && html.includes(">not reached<"));
});

Deno.test("formatComparison() shows a metric not reached within the run as such, failing", () => {
  const lines = formatComparison([...COMPARISON, NOT_REACHED]).split("\n");
  assert.equal(lines.length, COMPARISON.length + 2);
  assert.match(lines.at(-1)!, /\|\s+100 \| not reached \|\s+n\/a \| FAIL \(tol \u00b11%\)$/);
  const bars = (l: string) => [...l.matchAll(/ \| /g)].map((m) => m.index);
  for (const l of lines) assert.deepEqual(bars(l), bars(lines[0]), l);
  assert.ok(!lines.join("\n").includes("NaN"));
});

/** Fig. Cassandra's "below bare metal, above the 70 % axis floor": a band, no value of the paper's. */
const IN_BAND: ComparisonRow = {
  figure: "cassandra",
  metric: "kvm-local: mean % of bare metal",
  paper: 85,
  band: { low: 70, high: 100 },
  simulated: 93,
  errorPct: 0,
  tolerancePct: 0,
  pass: true,
};
const BELOW_BAND: ComparisonRow = { ...IN_BAND, simulated: 67.9, errorPct: -3.0, pass: false };
const ABOVE_BAND: ComparisonRow = { ...IN_BAND, simulated: 102, errorPct: 2, pass: false };

Deno.test("formatComparison() shows a band row's band as its paper value, never the band's middle", () => {
  const lines = formatComparison([...COMPARISON, IN_BAND, BELOW_BAND, ABOVE_BAND]).split("\n");
  const [inside, below, above] = lines.slice(-3);
  assert.match(inside, /\| 70-100 \|\s+93 \|\s+in band \| ok$/);
  assert.match(below, /\| 70-100 \|\s+67\.9 \| -3\.0 \(below band\) \| FAIL$/);
  assert.match(above, /\| 70-100 \|\s+102 \| \+2\.0 \(above band\) \| FAIL$/);
  assert.doesNotMatch(lines.join("\n"), /\b85\b|\u00b10%/);
  const bars = (l: string) => [...l.matchAll(/ \| /g)].map((m) => m.index);
  for (const l of lines) assert.deepEqual(bars(l), bars(lines[0]), l);
});

Deno.test("comparisonTable() shows a band row's band, its place against it and 'band' as tolerance", () => {
  const html = comparisonTable([IN_BAND, BELOW_BAND, {
    ...IN_BAND,
    simulated: NaN,
    errorPct: NaN,
    pass: false,
  }]);
  const rows = html.match(/<tr class[^>]*>.*?<\/tr>/g)!;
  const cells = (r: string) => [...r.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]).slice(2);
  assert.deepEqual(cells(rows[0]), ["70-100", "93", "in band", "band", "pass"]);
  assert.deepEqual(cells(rows[1]), ["70-100", "67.9", "\u22123.0 (below band)", "band", "FAIL"]);
  assert.deepEqual(cells(rows[2]), ["70-100", "not reached", "n/a", "band", "FAIL"]);
  assert.doesNotMatch(html, />85</);
});

/** The y offset of a group's `translate(x,y)` transform. */
function translateY(svg: Element, selector: string): number {
  const t = svg.querySelector(selector)?.getAttribute("transform") ?? "";
  const m = /translate\(\s*[-\d.]+\s*,\s*([-\d.]+)\s*\)/.exec(t);
  assert.ok(m, `${selector} has a translate(x,y): ${t}`);
  return Number(m[1]);
}

Deno.test("x-axis labels sit a line below the tick labels, never over a tick near the right end", () => {
  // The throughput axis ends at 1,250 s: its "1,200" tick sits under "time (s) →".
  const figures = {
    startup: startupFigure(STARTUP),
    throughput: throughputFigure(THROUGHPUT, MARKERS),
    timeline: timelineFigure(TIMELINE),
    scatter: scatterFigure([{ label: "a", group: "g", x: 1, y: 2 }, {
      label: "b",
      group: "g",
      x: 3,
      y: 4,
    }]),
  };
  for (const [name, fig] of Object.entries(figures)) {
    const svg = parseSvg(toSvg(fig));
    const ticks = translateY(svg, 'g[aria-label="x-axis tick label"]');
    const label = translateY(svg, 'g[aria-label="x-axis label"]');
    // The label's baseline is at `label`; the tick labels hang below `ticks`
    // (0.71em down), one line of THEME.fontSize each: two lines must fit.
    assert.ok(
      label - ticks >= 2 * THEME.fontSize,
      `${name}: x label at +${label}, tick labels at +${ticks}`,
    );
  }
});

Deno.test("every figure names itself for screen readers: aria-label (its title) and a description", () => {
  const cases = [
    [startupFigure(STARTUP), "OS-startup time"],
    [throughputFigure(THROUGHPUT, MARKERS, { title: "Cassandra" }), "Cassandra"],
    [barsFigure(STORAGE, { title: "Storage <MB/s> & more" }), "Storage <MB/s> & more"],
    [timelineFigure(TIMELINE), "Phase timeline"],
    [scatterFigure([{ label: "a", group: "g", x: 1, y: 2 }]), "Trade-off scatter plot"],
  ] as const;
  const xmlEscaped = (s: string) =>
    s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  for (const [fig, name] of cases) {
    const markup = toSvg(fig);
    const svg = parseSvg(markup); // well-formed XML: the title's <, & are escaped
    assert.ok(markup.startsWith(`<svg xmlns="http://www.w3.org/2000/svg"`), name);
    assert.ok(markup.includes(` aria-label="${xmlEscaped(name)}"`), name);
    assert.ok((svg.getAttribute("aria-description") ?? "").length > 20, name);
  }
});

Deno.test("value labels keep a tiny value's digits instead of rounding it to 0", () => {
  const rows = [
    { group: "hdd.rpm", series: "BMcast", value: 0.00042, unit: "elasticity", source: "sim" },
    { group: "hdd.rpm", series: "NFS root", value: -0.000037, unit: "elasticity", source: "sim" },
    { group: "cpu", series: "BMcast", value: 0.5, unit: "elasticity", source: "sim" },
  ] as const;
  const svg = parseSvg(toSvg(barsFigure(rows)));
  assert.deepEqual(texts(svg, "g.mc-value text").sort(), ["-0.000037", "0.00042", "0.5"]);
  assert.ok(texts(svg, "g.mc-bar-sim title").includes("sim hdd.rpm BMcast: 0.00042 elasticity"));
  assert.match(formatComparison([{ ...COMPARISON[0], paper: 0.0002 }]), /\|\s+0\.0002 \|/);
});

Deno.test("throughputFigure() refuses a yDomain that is not two finite numbers, low < high", () => {
  for (const yDomain of [[100, 50], [NaN, 120], [60, Infinity], [80, 80], [1]]) {
    assert.throws(
      () => throughputFigure(THROUGHPUT, [], { yDomain: yDomain as [number, number] }),
      /RangeError: Cannot build figure: 'yDomain' must be two finite numbers \[low, high\] with low < high: current value is /,
      JSON.stringify(yDomain),
    );
  }
  assert.doesNotThrow(() => throughputFigure(THROUGHPUT, [], { yDomain: [0, 150] }));
});

Deno.test('figures and HTML tables show microseconds as \u00b5s; rows, metric names and text tables keep "us"', () => {
  const rows = RDMA.map((r) => ({ ...r }));
  const svg = toSvg(barsFigure(rows, { title: "RDMA latency (us)", yLabel: "latency (us)" }));
  const shown = parseSvg(svg);
  assert.deepEqual(texts(shown, "g.mc-title text"), ["RDMA latency (\u00b5s)"]);
  assert.deepEqual(texts(shown, "g.mc-y-label text"), ["\u2191 latency (\u00b5s)"]);
  assert.ok(texts(shown, "g.mc-bar-sim title").includes("sim KVM/Pass latency: 1.66 \u00b5s"));
  assert.ok(svg.includes('aria-label="RDMA latency (\u00b5s)"'));
  assert.doesNotMatch(svg, /\bus\b/);
  assert.deepEqual(rows, RDMA); // the rows are not rewritten
  const metric = COMPARISON[2].metric; // "kvm-pass latency (us)"
  assert.ok(comparisonTable(COMPARISON).includes(">kvm-pass latency (\u00b5s)<"));
  assert.ok(formatComparison(COMPARISON).includes(metric)); // terminal text stays ASCII
  // Only the unit changes, never the word.
  assert.equal(displayUnit("let us (us) run"), "let us (\u00b5s) run");
});

Deno.test("comparisonTable() headers are column headers, aligned like their columns", () => {
  const html = comparisonTable(COMPARISON);
  const heads = [...html.matchAll(/<th([^>]*)>([^<]*)<\/th>/g)];
  assert.equal(heads.length, 7);
  for (const [, attrs, name] of heads) {
    assert.match(attrs, /scope="col"/, name);
    const numeric = ["paper", "simulated", "error %", "tolerance %"].includes(name);
    assert.match(attrs, new RegExp(`text-align:${numeric ? "right" : "left"}`), name);
  }
  // Every data cell of a column aligns as its header does.
  const row = html.match(/<tr class="pass"[^>]*>(.*?)<\/tr>/)![1];
  const aligns = (s: string) => [...s.matchAll(/text-align:(\w+)/g)].map((m) => m[1]);
  assert.deepEqual(aligns(row), aligns(heads.map((h) => h[0]).join("")));
});

Deno.test("scatterFigure() leaves room on the right for the right-most point's whole label", () => {
  const label = "adaptive 2-200 ms redirect-aware, 3 ahead";
  const fig = scatterFigure([
    { label: "idle 2 ms, 3 ahead", group: "idle", x: 100, y: 60 },
    { label, group: "adaptive", x: 200, y: 90 },
  ]);
  const svg = parseSvg(toSvg(fig));
  const width = Number(svg.getAttribute("width"));
  const text = [...svg.querySelectorAll("g.mc-point-label text")].find((t) =>
    t.textContent === label
  );
  const m = /translate\(\s*([-\d.]+)/.exec(text?.getAttribute("transform") ?? "");
  assert.ok(m, "the label is placed with translate(x,y)");
  // Starts 8 px right of its point; ~6.2 px per character at most (11 px text; these are 10 px).
  const end = Number(m[1]) + 8 + label.length * 6.2;
  assert.ok(end <= width, `label ends at ${end.toFixed(0)} px, the figure is ${width} px wide`);
});
