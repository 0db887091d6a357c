/**
 * Defensive sanitising of the server's drawings before they enter the page: SVG
 * diagrams (`sanitizeSvg`) and the summary view's HTML table (`sanitizeHtml`).
 *
 * The SVG comes from our renderer, which escapes every layer name, so this should
 * find nothing to remove. It runs anyway: a renderer bug must not become script
 * execution in the editor. The text is parsed as XML (`image/svg+xml`, which never
 * runs scripts), then only SVG-namespace elements outside a deny list survive, with
 * no event-handler attributes, no `style` attributes and no links other than `#fragment`.
 */

const SVG_NS = "http://www.w3.org/2000/svg";

/** Elements that run script, embed other documents, or rewrite attributes over time. */
const DROPPED = new Set([
  "script", "foreignobject", "iframe", "object", "embed", "style", "image", "use",
  "animate", "animatemotion", "animatetransform", "set", "handler", "listener",
]);

const HREF_ATTRIBUTES = new Set(["href", "src", "action", "formaction"]);

export interface Sanitized {
  svg: SVGSVGElement;
  /** How many elements and attributes were removed (0 for our renderer's output). */
  removed: number;
}

/** `text` parsed and cleaned, imported into `doc`; throws `Error` when it is not an SVG document. */
export function sanitizeSvg(text: string, doc: Document): Sanitized {
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = parsed.documentElement;
  if (parsed.getElementsByTagName("parsererror").length > 0 || root.namespaceURI !== SVG_NS || root.localName !== "svg") {
    throw new Error("the diagram is not a valid SVG document");
  }
  const removed = clean(root);
  return { svg: doc.importNode(root, true) as unknown as SVGSVGElement, removed };
}

function clean(root: Element): number {
  let removed = 0;
  // Collect first: removing while walking would skip siblings.
  const doomed: Element[] = [];
  for (const el of Array.from(root.getElementsByTagName("*"))) {
    if (el.namespaceURI !== SVG_NS || DROPPED.has(el.localName.toLowerCase())) {
      doomed.push(el);
      continue;
    }
    removed += cleanAttributes(el);
  }
  removed += cleanAttributes(root);
  for (const el of doomed) {
    if (el.isConnected || el.parentNode) {
      el.parentNode?.removeChild(el);
      removed += 1;
    }
  }
  return removed;
}

function cleanAttributes(el: Element): number {
  let removed = 0;
  for (const attribute of Array.from(el.attributes)) {
    const name = attribute.localName.toLowerCase();
    const unsafe =
      name.startsWith("on") ||
      name === "style" ||
      (HREF_ATTRIBUTES.has(name) && !isFragmentLink(attribute.value));
    if (unsafe) {
      el.removeAttributeNode(attribute);
      removed += 1;
    }
  }
  return removed;
}

/** Only same-document links (`#id`) are kept; `javascript:`, `data:` and remote URLs are not. */
function isFragmentLink(value: string): boolean {
  // Browsers ignore ASCII whitespace and control characters around a URL's scheme.
  return value.replace(/[\u0000-\u0020]/g, "").startsWith("#");
}

// --- the summary view's HTML ---------------------------------------------------------------

const HTML_NS = "http://www.w3.org/1999/xhtml";

/** The elements a summary table is made of; anything else goes, with its content. */
const HTML_ELEMENTS = new Set([
  "table", "caption", "thead", "tbody", "tr", "th", "td", "p", "code", "strong", "span", "div", "dl", "dt", "dd",
]);

/** Styling hooks and table structure only: no handlers, no links, no inline style. */
const HTML_ATTRIBUTES = new Set(["class", "data-layer-id", "colspan", "rowspan"]);

/**
 * An HTML page (the summary view) as a fragment of `doc` holding only allowed elements,
 * attributes and text. The text is parsed into a `<template>`'s inert content (nothing
 * runs, loads or applies there, so the page's CSP has nothing to report), then copied
 * node by node into fresh elements: layer names in it are user text, and a renderer
 * bug must stay text. The page's `<html>`/`<body>` wrappers vanish in a template.
 */
export function sanitizeHtml(text: string, doc: Document): DocumentFragment {
  const template = doc.createElement("template");
  template.innerHTML = text;
  const fragment = doc.createDocumentFragment();
  for (const node of Array.from(template.content.childNodes)) copyAllowed(node, fragment, doc);
  return fragment;
}

function copyAllowed(node: Node, parent: Node, doc: Document): void {
  if (node.nodeType === Node.TEXT_NODE) {
    parent.appendChild(doc.createTextNode(node.nodeValue ?? ""));
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) return; // comments, processing instructions
  const el = node as Element;
  if (el.namespaceURI !== HTML_NS || !HTML_ELEMENTS.has(el.localName)) return;
  const copy = doc.createElement(el.localName);
  for (const attribute of Array.from(el.attributes)) {
    if (HTML_ATTRIBUTES.has(attribute.name)) copy.setAttribute(attribute.name, attribute.value);
  }
  for (const child of Array.from(el.childNodes)) copyAllowed(child, copy, doc);
  parent.appendChild(copy);
}
