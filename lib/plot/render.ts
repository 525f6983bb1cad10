/**
 * Serialising figures: a standalone SVG file, an HTML fragment, and a Jupyter
 * display bundle. Works on any Plot element built with linkedom (headless) or
 * a browser DOM.
 */
import { parseHTML } from "linkedom";

const SVG_NS = "http://www.w3.org/2000/svg";
let shared: Document | undefined;

/**
 * A headless DOM document (linkedom), created once and shared; Plot needs
 * one to build elements outside a browser.
 * @example
 * ```ts
 * import { headlessDocument } from "./render.ts";
 * console.assert(headlessDocument().createElement("div").tagName === "DIV");
 * ```
 */
export function headlessDocument(): Document {
  shared ??= parseHTML("<!DOCTYPE html><html><head></head><body></body></html>")
    .document as unknown as Document;
  return shared;
}

function plotSvg(figure: Element): Element {
  if (figure?.tagName?.toLowerCase() === "svg") return figure;
  // A Plot <figure> (HTML legend or title): its plot is the last direct <svg>
  // child; the legend swatches are nested deeper.
  const svgs = [...(figure?.children ?? [])].filter((c) => c.tagName.toLowerCase() === "svg");
  if (svgs.length === 0) {
    throw new TypeError(
      `Cannot render figure: 'figure' must be a Plot <svg> or <figure>: current value is ${
        figure?.tagName ?? String(figure)
      }`,
    );
  }
  return svgs[svgs.length - 1];
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
};

/**
 * XML markup of a node. Not `outerHTML`: an HTML document's serialiser
 * (linkedom's, and older browsers') leaves `<` and `&` in attribute values
 * as they are, which HTML tolerates but XML does not, so a title such as
 * "read & write" in the `<svg>`'s aria-label would break a standalone .svg.
 */
function xmlMarkup(node: Node): string {
  const escape = (s: string, re: RegExp) => s.replace(re, (c) => XML_ESCAPES[c]);
  if (node.nodeType === 3 || node.nodeType === 4) return escape(node.nodeValue ?? "", /[&<>]/g);
  if (node.nodeType === 8) return `<!--${node.nodeValue ?? ""}-->`;
  if (node.nodeType !== 1) return "";
  const el = node as Element;
  const attrs = [...el.attributes].map((a) => ` ${a.name}="${escape(a.value, /[&<>"]/g)}"`);
  const inner = [...el.childNodes].map(xmlMarkup).join("");
  const name = el.localName;
  return inner === ""
    ? `<${name}${attrs.join("")}/>`
    : `<${name}${attrs.join("")}>${inner}</${name}>`;
}

/**
 * A standalone SVG document string: `xmlns` set (browsers need it for .svg
 * files and images) and a white background rectangle, since renderers such
 * as rsvg ignore CSS backgrounds. Serialised as XML (every text and
 * attribute value escaped), so it is also valid inline in HTML. The figure
 * itself is not modified.
 * @param figure a Plot element
 * @returns SVG markup
 * @example
 * ```ts
 * import { timelineFigure, toSvg } from "./mod.ts";
 * const svg = toSvg(timelineFigure([{ entity: "n0", phase: "boot", startS: 0, endS: 1 }]));
 * console.assert(svg.startsWith('<svg') && svg.includes('xmlns="http://www.w3.org/2000/svg"'));
 * ```
 */
export function toSvg(figure: Element): string {
  const svg = plotSvg(figure).cloneNode(true) as Element;
  svg.setAttribute("xmlns", SVG_NS);
  const doc = svg.ownerDocument;
  const bg = doc.createElementNS(SVG_NS, "rect");
  bg.setAttribute("width", "100%");
  bg.setAttribute("height", "100%");
  bg.setAttribute("fill", "white");
  bg.setAttribute("class", "mc-background");
  const style = [...svg.children].find((c) => c.tagName.toLowerCase() === "style");
  svg.insertBefore(bg, style ? style.nextSibling : svg.firstChild);
  return xmlMarkup(svg);
}

/**
 * An HTML fragment: the figure's own markup (an inline `<svg>` with `xmlns`,
 * or Plot's `<figure>` with its HTML legend).
 * @param figure a Plot element
 * @returns HTML markup
 * @example
 * ```ts
 * import { timelineFigure, toHtml } from "./mod.ts";
 * const html = toHtml(timelineFigure([{ entity: "n0", phase: "boot", startS: 0, endS: 1 }]));
 * console.assert(html.includes("<svg"));
 * ```
 */
export function toHtml(figure: Element): string {
  if (figure?.tagName?.toLowerCase() === "svg") return toSvg(figure);
  plotSvg(figure); // rejects non-figures with the same TypeError
  return figure.outerHTML;
}

/** What {@link display} returns: a value the Deno Jupyter kernel renders. */
export interface JupyterDisplayable {
  /** Under `Symbol.for("Jupyter.display")`: returns the bundle, MIME type -> content. */
  [key: symbol]: () => Record<string, string>;
}

/**
 * Wraps a figure for the Deno Jupyter kernel: ending a cell with it shows the
 * figure. The bundle holds text/html (kept by nbconvert's HTML export, which
 * blanks inline image/svg+xml), image/svg+xml and a text/plain fallback.
 * @param figure a Plot element
 * @returns an object with `[Symbol.for("Jupyter.display")]()`
 * @example
 * ```ts
 * import { display, timelineFigure } from "./mod.ts";
 * const shown = display(timelineFigure([{ entity: "n0", phase: "boot", startS: 0, endS: 1 }]));
 * const bundle = shown[Symbol.for("Jupyter.display")]();
 * console.assert(bundle["image/svg+xml"].startsWith("<svg"));
 * ```
 */
export function display(figure: Element): JupyterDisplayable {
  const svg = toSvg(figure);
  const html = toHtml(figure);
  const label = plotSvg(figure).querySelector(".mc-title")?.textContent ?? "figure";
  return {
    [Symbol.for("Jupyter.display")]() {
      return { "text/html": html, "image/svg+xml": svg, "text/plain": `[${label}]` };
    },
  };
}
