/** Test helpers: parse an SVG string and check it is well-formed XML. */
import { DOMParser } from "linkedom";

/**
 * Throws unless `xml` is well-formed enough for an XML parser: balanced
 * tags, quoted attributes, and only XML's predefined or numeric entities
 * (HTML's `&nbsp;` breaks standalone .svg files).
 */
export function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (const m of xml.matchAll(tag)) {
    const text = xml.slice(last, m.index);
    if (/<|>/.test(text.replace(/&gt;/g, ""))) {
      throw new Error(`stray markup near offset ${m.index}: ${text.slice(0, 40)}`);
    }
    last = m.index! + m[0].length;
    if (m[0].startsWith("<!--")) continue;
    const [, close, name, , self] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else if (!self) stack.push(name);
  }
  if (xml.slice(last).trim() !== "") throw new Error("text after the root element");
  if (stack.length) throw new Error(`unclosed: ${stack.join(" > ")}`);
  const entities = xml.match(/&[^;\s]*;?/g) ?? [];
  for (const e of entities) {
    if (!/^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);$/.test(e)) {
      throw new Error(`bad entity ${e}`);
    }
  }
}

/** Parses an SVG string into a queryable element (well-formedness checked first). */
export function parseSvg(svg: string): Element {
  assertWellFormed(svg);
  const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
  return doc.documentElement as unknown as Element;
}

/** Text contents of all elements matching `selector`. */
export function texts(root: Element, selector: string): string[] {
  return [...root.querySelectorAll(selector)].map((e) => e.textContent ?? "");
}

/** Number of elements matching `selector`. */
export function count(root: Element, selector: string): number {
  return root.querySelectorAll(selector).length;
}
