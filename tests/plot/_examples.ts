/** Small synthetic row sets shaped like the paper's figures (shared by the plot tests). */
import type {
  BarRow,
  ComparisonRow,
  StartupRow,
  ThroughputMarker,
  ThroughputRow,
  TimelineRow,
} from "../../lib/plot/mod.ts";

const phases = (
  method: string,
  source: "paper" | "sim",
  parts: [string, number][],
): StartupRow[] => {
  let t = 0;
  return parts.map(([phase, s]) => ({ method, phase, startS: t, endS: t += s, source }));
};

export const STARTUP: StartupRow[] = [
  ...phases("image-copy", "paper", [["image copy", 370], ["reboot+firmware", 145], [
    "OS boot",
    29,
  ]]),
  ...phases("image-copy", "sim", [["image copy", 362], ["reboot+firmware", 145], ["OS boot", 30]]),
  ...phases("bmcast", "paper", [["VMM boot", 5], ["OS boot", 58]]),
  ...phases("bmcast", "sim", [["VMM boot", 5], ["OS boot", 61]]),
  ...phases("nfsroot", "paper", [["OS boot", 49]]),
];

export const THROUGHPUT: ThroughputRow[] = [
  ...[0, 250, 500, 750, 1000, 1250].map((t) => ({
    system: "bmcast",
    timeS: t,
    pctOfBareMetal: t < 900 ? 88 + t / 100 : 100,
    source: "sim" as const,
  })),
  ...[0, 400, 800, 1250].map((t) => ({
    system: "kvm",
    timeS: t,
    pctOfBareMetal: 80,
    source: "sim" as const,
  })),
  ...[0, 600, 1250].map((t) => ({
    system: "bmcast",
    timeS: t,
    pctOfBareMetal: t < 900 ? 90 : 100,
    source: "paper" as const,
  })),
];

export const MARKERS: ThroughputMarker[] = [
  { system: "bmcast", timeS: 900, label: "de-virtualized" },
];

const storage: [string, number, number, number, number][] = [
  // group, paper read, paper write, sim read, sim write
  ["Bare-metal", 112, 112, 111, 112],
  ["Deploy", 117, 115, 116, 113],
  ["Devirt", 112, 112, 112, 111],
  ["KVM/Local", 101, 100, 103, 99],
];
export const STORAGE: BarRow[] = storage.flatMap(([group, pr, pw, sr, sw]) => [
  { group, series: "read", value: pr, unit: "MB/s", source: "paper" as const },
  { group, series: "write", value: pw, unit: "MB/s", source: "paper" as const },
  { group, series: "read", value: sr, unit: "MB/s", source: "sim" as const },
  { group, series: "write", value: sw, unit: "MB/s", source: "sim" as const },
]);

export const RDMA: BarRow[] = [
  ...(["Bare-metal", "Deploy", "Devirt", "KVM/Pass"] as const).map((group, i) => ({
    group,
    series: "latency",
    value: i === 3 ? 1.61 : 1.3,
    unit: "us",
    source: "paper" as const,
  })),
  { group: "Bare-metal", series: "latency", value: 1.29, unit: "us", source: "sim" },
  { group: "KVM/Pass", series: "latency", value: 1.66, unit: "us", source: "sim" },
];

export const TIMELINE: TimelineRow[] = ["node0", "node1", "node2"].flatMap((entity, i) => [
  { entity, phase: "firmware", startS: 0, endS: 20 + i },
  { entity, phase: "VMM boot", startS: 20 + i, endS: 25 + i },
  { entity, phase: "OS boot", startS: 25 + i, endS: 80 + 5 * i },
]);

export const COMPARISON: ComparisonRow[] = [
  {
    figure: "startup",
    metric: "bmcast total (s)",
    paper: 63,
    simulated: 66,
    errorPct: 4.76,
    tolerancePct: 5,
    pass: true,
  },
  {
    figure: "startup",
    metric: "image-copy total (s)",
    paper: 544,
    simulated: 537,
    errorPct: -1.29,
    tolerancePct: 5,
    pass: true,
  },
  {
    figure: "rdma",
    metric: "kvm-pass latency (us)",
    paper: 1.61,
    simulated: 1.8,
    errorPct: 11.8,
    tolerancePct: 5,
    pass: false,
  },
];
