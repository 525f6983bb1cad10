/** Plain-text outputs of the command-line tools: CSV files and aligned tables. */
import { rangeError } from "./errors.ts";

/**
 * Rows as CSV: one column per key seen (in first-seen order), values quoted
 * where they hold a comma, quote, line feed or carriage return; "" for an
 * empty list.
 * @example
 * ```ts
 * import { csv } from "./text.ts";
 * console.assert(csv([{ a: 1, b: "x,y" }, { a: 2 }]) === 'a,b\n1,"x,y"\n2,\n');
 * ```
 */
export function csv(rows: readonly object[]): string {
  if (rows.length === 0) return "";
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? "" : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = rows.map((r) => cols.map((c) => cell((r as Record<string, unknown>)[c])).join(","));
  return [cols.join(","), ...lines].join("\n") + "\n";
}

/**
 * A text table: columns separated by " | ", each as wide as its widest cell,
 * right-aligned where `right[c]`, trailing blanks trimmed.
 * @throws RangeError when a row has fewer or more cells than `head` (every
 * caller builds full rows, so a short one is a bug, not a blank to pad).
 * @example
 * ```ts
 * import { textTable } from "./text.ts";
 * console.assert(textTable(["name", "n"], [["a", 10], ["bb", 2]], [false, true]) ===
 *   "name |  n\na    | 10\nbb   |  2");
 * ```
 */
export function textTable(
  head: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  right: readonly boolean[],
): string {
  const cellCount = (n: number) => `${n} cell${n === 1 ? "" : "s"}`;
  rows.forEach((r, i) => {
    if (r.length !== head.length) {
      throw rangeError(
        "format text table",
        `rows[${i}]`,
        `a row of ${cellCount(head.length)}, one per header column`,
        cellCount(r.length),
      );
    }
  });
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) =>
    r.map((v, c) => right[c] ? v.padStart(widths[c]) : v.padEnd(widths[c])).join(" | ").trimEnd()
  ).join("\n");
}
