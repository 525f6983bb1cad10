/**
 * `deno task sim`: how fast do N nodes come up with one startup strategy?
 * Runs the strategy on N nodes at once (one image server unless the profile
 * says more, one switch), or a
 * sweep over one parameter, from flags or a JSON scenario file. Prints a
 * phase table (or `--json`), and with `--out DIR` writes CSV/JSON there (and
 * trace.json, the timeline for Perfetto),
 * atomically and only after every run succeeded. Exit status: 0 done,
 * 1 the simulation failed or the outputs could not be written after the
 * run, 2 invalid input (every issue listed at once; also an --out found
 * unusable before the run).
 * Progress goes to stderr, only on a terminal.
 */
import { dirname, relative, resolve } from "node:path";
import {
  type CommandIo,
  csv,
  issuesMessage,
  outDirIssue,
  PROCESS_IO,
  readFlags,
  textTable,
  writeOutputs,
} from "../lib/_util/mod.ts";
import {
  BUILTIN_PROFILE,
  imageSizeRange,
  loadProfile,
  type Profile,
  ProfileError,
  readOverrideItems,
  strategyNames,
} from "../lib/scenario/mod.ts";
import {
  flagName,
  type FleetRun,
  type FleetSummaryRow,
  MAX_NODES,
  parseScenario,
  runEndS,
  runFleet,
  sameParam,
  type Scenario,
  ScenarioError,
  scenarioPoints,
  SWEEP_PARAMS,
  sweptParam,
} from "../lib/scenario/fleet.ts";
import { fleetTrace } from "../lib/scenario/trace.ts";

/** Where {@link main} writes. */
export interface SimIo extends CommandIo {
  /** Draw progress (stderr is a terminal). @default Deno.stderr.isTerminal() */
  tty?: boolean;
}

/** The JSON document of `--json` and `--out`. */
export interface SimDocument {
  /** What ran: the scenario, from the flags and the --scenario file. */
  scenario: Scenario;
  /** The profile's name and file, relative to the working directory. */
  profile: { name: string; path: string };
  /** Startup phases per node and run, s from the end of that node's POST. */
  rows: FleetRun["phases"];
  /** Startup time per node and run, s (`deployedS` NaN, in JSON null: never deployed). */
  totals: FleetRun["totals"];
  /**
   * Per run: the shortest, mean and longest startup time, when the fleet was
   * ready (and deployed: NaN, in JSON null, for never), what the image server
   * sent and read.
   */
  summary: FleetRun["summary"][];
}

const FLAGS = {
  strategy: { type: "string" },
  nodes: { type: "string" },
  seed: { type: "string" },
  "image-gb": { type: "string" },
  "stagger-s": { type: "string" },
  until: { type: "string" },
  outage: { type: "string" },
  profile: { type: "string" },
  set: { type: "string", multiple: true },
  sweep: { type: "string", multiple: true },
  scenario: { type: "string" },
  json: { type: "boolean", default: false },
  out: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Scenario fields and the flag that sets each. */
const FLAG_OF: Record<keyof Scenario, keyof typeof FLAGS> = {
  strategy: "strategy",
  nodes: "nodes",
  seed: "seed",
  imageGb: "image-gb",
  staggerS: "stagger-s",
  until: "until",
  outage: "outage",
  profile: "profile",
  set: "set",
  sweep: "sweep",
};

/**
 * The usage text. The limits and defaults a profile sets are stated as rules
 * (each run's own profile, after --profile, --set and the sweep, decides
 * them), with the built-in profile's values as examples where it loaded.
 */
function usage(builtin?: Profile): string {
  const indent = "\n                    ";
  const range = builtin ? imageSizeRange(builtin) : undefined;
  const size = builtin && range
    ? `${indent}(built-in profile: ${builtin.image.bytes.value / 1e9}; at least ${
      range.min / 1e9
    }, at most ${Math.floor(range.max / 1e6) / 1e3})`
    : "";
  const timeouts = builtin
    ? `${indent}(built-in profile: ${
      builtin.guestDriver.commandTimeout.value / 1e9
    } s, ${builtin.guestDriver.commandRetries.value} retries, ${
      builtin.imageServer.multicastIdleTimeout.value / 1e6
    } ms)`
    : "";
  return `usage: deno task sim [options]
  Boot N nodes at once with one startup strategy (one image server, one switch;
  --set imageServer.count=K for more servers, --set network.rackSize=N for racks
  of N nodes behind uplinks, --set network.serverLinkRate=1.25e9 for a 10 GbE
  server cable) and report each node's phases and startup
  time, from the end of its POST. The summary adds, per run: the shortest (first
  s), mean and longest (last s) startup time (with a stagger not necessarily the
  first and last node up), when every node was up (ready s, from the first
  power-on; with --until deployed also deployed s, when every node was), what
  the image server sent (server GB) and read from its disk (disk GB), and how
  busy the busiest server was after the first POST: its link (link %, of its
  rate) and its disk (disk %, of the time a read was outstanding); with
  racks, the busiest uplink toward its rack (uplink %, of its rate).

  --strategy NAME   ${strategyNames().join(" | ")} (default bmcast)
  --nodes N         nodes deployed at once, 1..${MAX_NODES} (default 1)
  --seed N          random seed (default 1)
  --image-gb X      image size, GB (default: the profile's image.bytes); each run's profile
                    (after --profile, --set and the sweep) bounds it: at least what its
                    boot reads and writes, at most what a node's disk and the image
                    server's disk hold${size}
  --stagger-s S     nodes power on at seeded random instants over S seconds (default 0:
                    all at once); startup times still run from each node's POST end
  --until WHEN      up (default): stop when every OS is up; deployed: go on until every
                    node holds the image locally (BMcast: copied and de-virtualized; NFS
                    root and KVM/NFS never do) and report when (deployed s)
  --outage AT:DUR   every image server is unreachable for DUR seconds from AT seconds
                    after the first power-on; messages are retransmitted with TCP's
                    back-off (network.retransmitTimeout doubling up to
                    network.maxRetransmitTimeout); an AHCI guest (BMcast) resets its
                    disk link after a command times out (guestDriver.commandTimeout) and
                    fails a request when its retries (guestDriver.commandRetries) time
                    out too; multicast chunks, joins and NAKs sent meanwhile are lost,
                    and a receiver asks again for all it misses after
                    imageServer.multicastIdleTimeout without a chunk${timeouts};
                    the summary adds held back, lost tries, lost datagrams, longest
                    I/O s, disk resets, NCQ off (nodes whose driver turned NCQ off
                    after repeated timeouts, as libata does) and failed I/O
  --profile PATH    hardware profile JSON (default data/profiles/paper-2015.json); its OS
                    boot may be a recorded trace (boot.params.value.trace: README, "Your
                    own OS's boot"; e.g. data/examples/recorded-boot/profile.json)
  --set P=V         change one profile parameter (repeatable): a dotted path into the
                    profile and a value, e.g. hdd.rpm=15000 or kvm.virtio.hostWakeup=5000,
                    or an object-valued one whole as JSON, e.g.
                    vmm.copyPolicy={"kind":"idle","idleThreshold":1e6}
  --sweep K=V,...   one run per value of K: ${SWEEP_PARAMS.map(flagName).join(", ")},
                    or a profile path; e.g. nodes=1,2,4,8, hdd.rpm=5400,15000,
                    network.lineRate=125e6,1.25e9 (bytes/s: 1 and 10 GbE), or
                    imageServer.images=1,4,8 (distinct images; node i boots i mod K)
  --scenario FILE   JSON object with the same fields (strategy, nodes, seed, imageGb,
                    staggerS, until, outage, profile, set {"hdd.rpm": 15000}, sweep "K=V,..."
                    or {"param","values"}); flags override it, --set items add to its set
  --json            print one JSON document (rows, totals, summary) instead of tables
  --out DIR         write phases.csv, totals.csv, summary.csv, sim.json and trace.json
                    (the timeline for Perfetto or chrome://tracing) to DIR
                    (atomically, only after every run succeeded)
  -h, --help        this text

  Numbers, in flags and in a scenario file, are written in decimal (16, 2.5, 1.25e9; not
  0x10). A time that never comes (deployed s of a strategy that never deploys) is "never"
  in the tables, null in the JSON and an empty cell in the CSVs.

  exit status: 0 done, 1 the simulation failed or the outputs could not be written
  after the run (the previous ones are left as they were), 2 invalid input, also an
  --out found unusable before the run (nothing runs or is written)
`;
}

function humanReport(doc: SimDocument, wallS: number): string {
  const sweep = doc.summary.length > 1;
  const pre = (r: { run: string }) => sweep ? [r.run] : [];
  const runHead = sweep ? ["run"] : [];
  const runRight = sweep ? [false] : [];
  const phases = textTable(
    [...runHead, "node", "strategy", "phase", "start s", "end s"],
    doc.rows.map((r) => [
      ...pre(r),
      r.node,
      r.strategy,
      r.phase,
      r.startS.toFixed(2),
      r.endS.toFixed(2),
    ]),
    [...runRight, false, false, false, true, true],
  );
  const deployed = doc.scenario.until === "deployed";
  const outage = doc.scenario.outage !== undefined;
  const racks = doc.summary.some((s) => s.uplinkPct !== undefined);
  const s2 = (v: number | undefined) =>
    v === undefined || !Number.isFinite(v) ? "never" : v.toFixed(2);
  const totals = textTable(
    [...runHead, "node", "strategy", "total s", ...(deployed ? ["deployed s"] : [])],
    doc.totals.map((r) => [
      ...pre(r),
      r.node,
      r.strategy,
      r.totalS.toFixed(2),
      ...(deployed ? [s2(r.deployedS)] : []),
    ]),
    [...runRight, false, false, true, true],
  );
  const summary = textTable(
    [
      "run",
      "strategy",
      "nodes",
      "image GB",
      "first s",
      "mean s",
      "last s",
      "ready s",
      ...(deployed ? ["deployed s"] : []),
      "server GB",
      "disk GB",
      "link %",
      "disk %",
      ...(racks ? ["uplink %"] : []),
      ...(outage
        ? [
          "held back",
          "lost tries",
          "lost datagrams",
          "longest I/O s",
          "disk resets",
          "NCQ off",
          "failed I/O",
        ]
        : []),
    ],
    doc.summary.map((s) => [
      s.run,
      s.strategy,
      s.nodes,
      Number(s.imageGb.toFixed(2)),
      s.firstS.toFixed(2),
      s.meanS.toFixed(2),
      s.lastS.toFixed(2),
      s.readyS.toFixed(2),
      ...(deployed ? [s2(s.deployedS)] : []),
      s.serverGb.toFixed(2),
      s.serverDiskGb.toFixed(2),
      s.serverLinkPct.toFixed(1),
      s.serverDiskPct.toFixed(1),
      ...(racks ? [s.uplinkPct === undefined ? "-" : s.uplinkPct.toFixed(1)] : []),
      ...(outage
        ? [
          s.heldBack ?? 0,
          s.lostTries ?? 0,
          s.lostDatagrams ?? 0,
          (s.longestBootIoS ?? 0).toFixed(2),
          s.diskResets ?? 0,
          s.ncqOffNodes ?? 0,
          s.bootIoErrors ?? 0,
        ]
        : []),
    ]),
    [false, false, ...Array(18).fill(true)],
  );
  const runs = (rows: FleetSummaryRow[]) => rows.map((s) => `${s.run} (${s.strategy})`).join(", ");
  // The guests' disk error handling (AHCI: 30 s per try, SD_TIMEOUT; NFS and virtio wait).
  const failed = doc.summary.filter((s) => (s.bootIoErrors ?? 0) > 0);
  const reset = doc.summary.filter((s) => (s.diskResets ?? 0) > 0 && !failed.includes(s));
  const ncqOff = doc.summary.filter((s) => (s.ncqOffNodes ?? 0) > 0);
  // An outage that begins after the run's end (the last node up, or deployed) changes nothing.
  const late = doc.summary.filter((s) => s.outageAtS !== undefined && s.outageAtS >= runEndS(s));
  const note = [
    failed.length > 0
      ? `note: ${
        runs(failed)
      }: boot requests failed after Linux's error handling gave up (each try timed out after guestDriver.commandTimeout and was retried after a link reset, until guestDriver.commandRetries were used); the real OS would see I/O errors (a read-only or failed root file system), the simulated boot carries on`
      : "",
    reset.length > 0
      ? `note: ${
        runs(reset)
      }: the guest's disk error handling reset the link after a command timed out (guestDriver.commandTimeout) and its retries got through`
      : "",
    ncqOff.length > 0
      ? `note: ${
        runs(ncqOff)
      }: after more than 3 timeouts in 10 minutes the guest's disk driver turned NCQ off, as Linux's libata does (speed-down), and issues its commands one at a time`
      : "",
    late.length > 0
      ? `note: ${
        late.map((s) => `${s.run} (${s.strategy}, ended at ${runEndS(s).toFixed(2)} s)`).join(", ")
      }: the outage at ${
        doc.scenario.outage!.atS
      } s began after the run had ended, so it changed nothing${
        deployed ? "" : " (--until deployed runs on until every node is deployed)"
      }`
      : "",
  ].filter((x) => x !== "").map((x) => `\n${x}\n`).join("");
  const changed = Object.entries(doc.scenario.set ?? {}).map(([k, v]) =>
    `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
  );
  const withSet = changed.length > 0 ? ` with ${changed.join(", ")}` : "";
  return `${phases}\n\n${totals}\n\n${summary}\n\nprofile ${doc.profile.name}${withSet}, seed ${
    [...new Set(doc.summary.map((s) => s.seed))].join(",")
  }; startup times${
    deployed ? " and each node's deployed s" : ""
  } from the end of each node's POST, the summary's ready s${
    deployed ? " and deployed s" : ""
  } from the first power-on; wall time ${wallS.toFixed(1)} s\n${note}`;
}

function progressBar(io: SimIo, total: number) {
  const enc = new TextEncoder();
  let last = 0;
  const draw = (done: number, label: string, force = false) => {
    if (!io.tty) return;
    const now = performance.now();
    if (!force && now - last < 100) return;
    last = now;
    const cols = Deno.stderr.isTerminal() ? Deno.consoleSize().columns : 80;
    const width = Math.max(10, Math.min(30, cols - label.length - 20));
    const fill = Math.round((done / total) * width);
    Deno.stderr.writeSync(
      enc.encode(`\r\x1b[2Ksim [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${label}`),
    );
  };
  const clear = () => io.tty && Deno.stderr.writeSync(enc.encode("\r\x1b[2K"));
  return { draw, clear };
}

async function readScenarioFile(path: string): Promise<Record<string, unknown>> {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new ScenarioError([`--scenario: cannot read ${path}: ${(e as Error).message}`]);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ScenarioError([
      `--scenario: ${path} must hold a JSON object: current value is ${JSON.stringify(json)}`,
    ]);
  }
  return json as Record<string, unknown>;
}

async function readProfile(path: string | URL, label: string): Promise<Profile> {
  try {
    // Its image's size is checked per run, as the run has it (--image-gb may replace it).
    return await loadProfile(path, { checkImageSize: false });
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    throw new ScenarioError(e.issues.map((i) => `${label}: ${i}`));
  }
}

/**
 * Flags override the scenario file also where the file gives the same
 * parameter another way: a flag's value or --set item replaces the file's
 * sweep over it, and --sweep replaces the file's value of what it sweeps
 * (the image's size alike as imageGb and image.bytes). Changes `input`, the
 * file's fields with the flags' on top.
 */
function overrideFile(
  input: Record<string, unknown>,
  file: Record<string, unknown>,
  flags: Record<string, unknown>,
  flagSet: Record<string, string>,
): void {
  const byFlag = [
    ...SWEEP_PARAMS.filter((f) => flags[FLAG_OF[f]] !== undefined),
    ...Object.keys(flagSet),
  ];
  const fileSweep = sweptParam(file.sweep);
  if (flags.sweep === undefined && fileSweep !== undefined) {
    if (byFlag.some((p) => sameParam(p, fileSweep))) delete input.sweep;
  }
  const flagSweep = flags.sweep === undefined ? undefined : sweptParam(flags.sweep);
  const claimed = flagSweep === undefined ? byFlag : [...byFlag, flagSweep];
  const overridden = (p: string) => claimed.some((c) => sameParam(c, p));
  for (const f of SWEEP_PARAMS) {
    if (flags[FLAG_OF[f]] === undefined && f in file && overridden(f)) delete input[f];
  }
  const set = input.set;
  if (typeof set === "object" && set !== null && !Array.isArray(set)) {
    input.set = Object.fromEntries(
      Object.entries(set).filter(([path]) => Object.hasOwn(flagSet, path) || !overridden(path)),
    );
  }
}

function shownPath(path: string): string {
  return relative(Deno.cwd(), path) || path;
}

/** Validated input: the scenario, its profile, and where the profile came from. */
async function resolveInput(
  flags: Record<string, unknown>,
  flagIssues: readonly string[],
): Promise<{ scenario: Scenario; profile: Profile; profilePath: string }> {
  const issues = [...flagIssues];
  // One sweep per run: a second --sweep would silently replace the first.
  const sweeps = flags.sweep as string[] | undefined;
  if (sweeps !== undefined && sweeps.length > 1) {
    issues.push(
      `--sweep: given more than once (a run sweeps one parameter; fix the others with --set or their flags): current value is ${
        sweeps.map((x) => JSON.stringify(x)).join(", ")
      }`,
    );
  }
  flags = { ...flags, sweep: sweeps?.at(-1) };
  let file: Record<string, unknown> = {};
  const scenarioPath = flags.scenario as string | undefined;
  if (scenarioPath !== undefined) {
    try {
      file = await readScenarioFile(scenarioPath);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      issues.push(...e.issues);
    }
  }
  // Flags override the file; each issue names the place the value came from.
  const input: Record<string, unknown> = { ...file };
  const labels: Partial<Record<keyof Scenario, string>> = {};
  for (const key of Object.keys(file)) labels[key as keyof Scenario] = `${scenarioPath}: ${key}`;
  for (const [key, flag] of Object.entries(FLAG_OF)) {
    if (flags[flag] !== undefined) {
      input[key] = flags[flag];
      labels[key as keyof Scenario] = `--${flag}`;
    }
  }
  // --set items change single parameters, on top of the file's "set".
  // Each further value of a path given again: checked in place of its first one.
  const { overrides: flagSet, again, issues: setIssues } = readOverrideItems(
    (flags.set ?? []) as string[],
  );
  issues.push(...setIssues.map((i) => `--set: ${i}`));
  const fileSet = file.set ?? {};
  const merge = typeof fileSet === "object" && fileSet !== null && !Array.isArray(fileSet);
  if (flags.set !== undefined) {
    // A malformed "set" in the file: parseScenario names it, with the file's label.
    input.set = merge ? { ...fileSet, ...flagSet } : fileSet;
    if (!merge) labels.set = `${scenarioPath}: set`;
  }
  overrideFile(input, file, flags, flagSet);
  // Each set item's issues name where it came from: the file's set or --set.
  const setLabels: Record<string, string> = {};
  if (flags.set !== undefined && merge) {
    for (const path of Object.keys(input.set as object)) {
      setLabels[path] = Object.hasOwn(flagSet, path) ? "--set" : `${scenarioPath}: set`;
    }
    const from = new Set(Object.values(setLabels));
    if (from.size > 0) labels.set = from.size > 1 ? `${scenarioPath}: set and --set` : [...from][0];
  }
  if (typeof flags.out === "string") {
    const outIssue = outDirIssue("out", flags.out);
    if (outIssue !== undefined) issues.push(outIssue);
  }
  // A profile named in the file is relative to the file.
  const profileArg = input.profile;
  let profilePath: string | URL = BUILTIN_PROFILE;
  if (typeof profileArg === "string" && profileArg !== "") {
    profilePath = flags.profile === undefined && scenarioPath
      ? resolve(dirname(scenarioPath), profileArg)
      : profileArg;
  }
  let profile: Profile | undefined;
  try {
    profile = await readProfile(profilePath, labels.profile ?? "profile");
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    issues.push(...e.issues);
  }
  // With the rest of the set; none when the file's set is malformed, as no --set item is.
  const variants = (merge ? again : []).map(([path, value]) => ({
    ...input,
    set: { ...input.set as object, [path]: value },
  }));
  let scenario: Scenario | undefined;
  for (const [k, one] of [input, ...variants].entries()) {
    try {
      const parsed = parseScenario(one, { profile, labels, setLabels });
      if (k === 0) scenario = parsed;
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      issues.push(...e.issues);
    }
  }
  // Another input's issue, found again with each further value: once.
  if (issues.length > 0 || !scenario || !profile) throw new ScenarioError([...new Set(issues)]);
  return {
    scenario,
    profile,
    // As repro records it: relative to the working directory, so the
    // document does not depend on where the checkout is.
    profilePath: shownPath(profilePath instanceof URL ? profilePath.pathname : profilePath),
  };
}

/**
 * Runs the CLI and returns its exit status (the module's entry point calls
 * Deno.exit with it). A script that registers its own strategies and then
 * calls `main(Deno.args)` is `deno task sim` with them (registrations live in
 * the process that made them).
 * @example
 * ```ts
 * import { main } from "./sim.ts";
 * let err = "";
 * const code = await main(["--nodes", "0"], { stdout: () => {}, stderr: (t) => err += t });
 * console.assert(code === 2 && err.includes("--nodes"));
 * ```
 */
export async function main(args: string[], io: SimIo = PROCESS_IO): Promise<number> {
  const tty = io.tty ?? Deno.stderr.isTerminal();
  io = { ...io, tty };
  // Its issues (an unknown flag, a missing value, ...) are listed with the input's.
  const { values: flags, issues: flagIssues }: {
    values: Record<string, unknown>;
    issues: string[];
  } = readFlags(args, FLAGS, "sim");
  if (flags.help) {
    io.stdout(usage(await loadProfile(BUILTIN_PROFILE).catch(() => undefined)));
    return 0;
  }
  let input: Awaited<ReturnType<typeof resolveInput>>;
  try {
    input = await resolveInput(flags, flagIssues);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    io.stderr(
      `${issuesMessage("sim: invalid input", e.issues)}\nrun 'deno task sim --help' for usage\n`,
    );
    return 2;
  }
  const { scenario, profile, profilePath } = input;
  const points = scenarioPoints(scenario);
  const t0 = performance.now();
  const bar = progressBar(io, points.reduce((s, p) => s + p.nodes, 0));
  const runs: FleetRun[] = [];
  try {
    let before = 0;
    for (const point of points) {
      runs.push(runFleet({
        profile,
        point,
        onProgress: (p) =>
          bar.draw(
            before + (p.nodesDeployed ?? p.nodesUp),
            `${point.run}: ${p.nodesUp}/${p.nodes} up${
              p.nodesDeployed === undefined ? "" : `, ${p.nodesDeployed} deployed`
            }, t=${p.simS.toFixed(0)} s`,
            (p.nodesDeployed ?? p.nodesUp) === p.nodes,
          ),
      }));
      before += point.nodes;
    }
    bar.clear();
  } catch (e) {
    bar.clear();
    io.stderr(`sim: the simulation failed: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
  const doc: SimDocument = {
    scenario,
    profile: { name: profile.name, path: profilePath },
    rows: runs.flatMap((r) => r.phases),
    totals: runs.flatMap((r) => r.totals),
    summary: runs.map((r) => r.summary),
  };
  const json = JSON.stringify(doc, null, 2) + "\n";
  if (flags.out !== undefined) {
    const failure = writeOutputs({
      command: "sim",
      out: flags.out as string,
      files: {
        "phases.csv": csv(naEmpty(doc.rows)),
        "totals.csv": csv(naEmpty(doc.totals)),
        "summary.csv": csv(naEmpty(doc.summary)),
        "sim.json": json,
        "trace.json": JSON.stringify(fleetTrace(runs)) + "\n",
      },
    });
    if (failure !== undefined) {
      io.stderr(`${failure}\n`);
      return 1;
    }
  }
  io.stdout(flags.json ? json : humanReport(doc, (performance.now() - t0) / 1000));
  return 0;
}

/**
 * `rows` with each number that is not finite (a time that never comes, NaN)
 * left blank: the CSV writer's empty cell, as JSON.stringify writes null.
 */
function naEmpty(rows: readonly object[]): object[] {
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [
        k,
        typeof v === "number" && !Number.isFinite(v) ? undefined : v,
      ]),
    )
  );
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
