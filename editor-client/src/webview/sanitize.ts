/**
 * Defensive SVG sanitising before the diagram enters the page.
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
