/**
 * Colours and page style shared by every figure, so a system keeps its colour
 * across the startup, throughput and bar figures, and paper values always look
 * the same (outlined or marked with a black tick) next to simulated ones.
 * @module
 */

/** Page style: white background, black text (PNG export is otherwise transparent). */
export const THEME: { background: string; color: string; fontFamily: string; fontSize: number } = {
  background: "white",
  color: "black",
  fontFamily: "system-ui, sans-serif",
  fontSize: 12,
};

/** Canonical system keys and their colours (colour-blind-safe Okabe-Ito hues). */
export const SYSTEM_COLORS: Readonly<Record<string, string>> = {
  "bare-metal": "#8c8c8c", // grey, so black paper ticks stay visible on its bars
  bmcast: "#0072b2",
  "bmcast-multicast": "#003a5c", // a darker shade of BMcast's blue
  deploy: "#56b4e9",
  devirt: "#0072b2",
  kvm: "#d55e00",
  "kvm-local": "#d55e00",
  "kvm-nfs": "#e69f00",
  "kvm-pass": "#cc79a7",
  "image-copy": "#009e73",
  "image-copy-multicast": "#00503c", // a darker shade of image copy's green
  nfsroot: "#f0e442",
};

/** How a source is drawn: paper values light/outlined, simulated ones solid. */
export const SOURCE_STYLE: Readonly<
  Record<"paper" | "sim", { fillOpacity: number; strokeDasharray: string | undefined }>
> = {
  paper: { fillOpacity: 0.35, strokeDasharray: "4,2" },
  sim: { fillOpacity: 1, strokeDasharray: undefined },
};

/** Categorical palette for phases and series (Plot's "observable10" order). */
export const PALETTE: readonly string[] = [
  "#4269d0",
  "#efb118",
  "#ff725c",
  "#6cc5b0",
  "#3ca951",
  "#ff8ab7",
  "#a463f2",
  "#97bbf5",
  "#9c6b4e",
  "#9498a0",
];

/**
 * Colours of I/O operations (the storage figure's read/write): two shades of
 * a purple that no system, phase or palette colour uses, so read/write do
 * not look related to another figure's phases; mid and light, so they stay
 * apart in greyscale and black paper ticks show on both (ColorBrewer "Purples").
 */
export const OPERATION_COLORS: Readonly<Record<string, string>> = {
  read: "#756bb1",
  write: "#bcbddc",
};

/**
 * Normalises a system label to its canonical key: "KVM/Local" -> "kvm-local",
 * "Bare-metal" -> "bare-metal", "BMcast (deploy)" -> "bmcast-deploy".
 */
function systemKey(name: string): string {
  return name.trim().toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/**
 * Colour of a system: the canonical colour when the key (or its prefix before
 * the first dash, e.g. "kvm-virtio" -> "kvm") is known, else a palette colour
 * chosen by a hash of the name, so the same unknown name gets the same colour.
 * @example
 * ```ts
 * import { systemColor } from "./theme.ts";
 * console.assert(systemColor("Bare-metal") === "#8c8c8c");
 * console.assert(systemColor("my-system") === systemColor("my-system"));
 * ```
 */
export function systemColor(name: string): string {
  const key = systemKey(name);
  const known = SYSTEM_COLORS[key] ?? SYSTEM_COLORS[key.split("-")[0]];
  if (known) return known;
  let h = 0;
  for (const ch of key) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

/**
 * Colours for an ordered list of categories (phases, series): palette order,
 * so the first phase always gets the first colour.
 * @example
 * ```ts
 * import { PALETTE, categoryColors } from "./theme.ts";
 * console.assert(categoryColors(["a", "b"])[1] === PALETTE[1]);
 * ```
 */
export function categoryColors(domain: readonly string[]): string[] {
  return domain.map((_, i) => PALETTE[i % PALETTE.length]);
}

/**
 * Colours of a bar figure's series: systems keep their colours (as in the
 * curves), I/O operations get {@link OPERATION_COLORS}, anything else the
 * palette in order.
 * @example
 * ```ts
 * import { OPERATION_COLORS, seriesColors, systemColor } from "./theme.ts";
 * console.assert(seriesColors(["kvm"])[0] === systemColor("kvm"));
 * console.assert(seriesColors(["read", "write"])[1] === OPERATION_COLORS.write);
 * ```
 */
export function seriesColors(series: readonly string[]): string[] {
  for (const named of [SYSTEM_COLORS, OPERATION_COLORS]) {
    if (series.every((s) => Object.hasOwn(named, systemKey(s)))) {
      return series.map((s) => named[systemKey(s)]);
    }
  }
  return categoryColors(series);
}
