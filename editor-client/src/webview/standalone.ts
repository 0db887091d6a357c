/**
 * The panel's page outside VS Code: the HTML export (`netviz render --format html`,
 * `render/html_export.py`) inlines this bundle, the stylesheet and its data in
 * `<script type="application/json" id="netviz-standalone">`:
 *
 *     {"fileName": str, "diagram": FileDiagram,
 *      "expansions": {"<expanded group ids, sorted, joined by ','>": "<svg>"},
 *      "macs"?: {"<layer id>": int | null}}
 *
 * `""` is the default drawing; the writer adds, for each group, the drawing with it and
 * the groups above it expanded. Here that data stands in for the extension and the
 * server: `ready` is answered with the document, `renderView` from `expansions` (zoom,
 * pan, search, details, groups and overlays then work as in the panel), and nothing is
 * fetched. A drawing the file does not hold is answered with an error the page shows.
 */

import { type FileDiagram, type FromPreview, type ToPreview } from "../core/protocol";
import { previewBody } from "../preview/html";
import { expansionKey } from "./groups";

export interface StandaloneData {
  fileName: string;
  diagram: FileDiagram;
  expansions: Record<string, string>;
  macs?: Record<string, number | null> | null;
}

/** The page's host: the VS Code webview API, or the standalone file's stand-in. */
export interface PageHost {
  postMessage(message: FromPreview): void;
  getState(): unknown;
  setState(state: unknown): void;
}

export const STANDALONE_URI = "netviz-standalone:diagram";

/** The standalone data when the page is the HTML export, else `null`. Builds the page's body when it has none. */
export function readStandalone(doc: Document): StandaloneData | null {
  const script = doc.getElementById("netviz-standalone");
  if (!script || script.getAttribute("type") !== "application/json") return null;
  const data = JSON.parse(script.textContent ?? "null") as StandaloneData;
  if (!data || typeof data !== "object" || !data.diagram || !Array.isArray(data.diagram.models)) {
    throw new Error("the exported diagram's data is not readable");
  }
  data.expansions = data.expansions && typeof data.expansions === "object" ? data.expansions : {};
  data.diagram = { ...data.diagram, uri: STANDALONE_URI, sequence: 1 };
  if (!doc.querySelector(".nv-toolbar")) {
    const holder = doc.createElement("div");
    holder.innerHTML = previewBody(); // our own constant markup
    doc.body.prepend(...Array.from(holder.childNodes));
  }
  doc.body.classList.add("nv-standalone");
  return data;
}

/** Whether the file holds the drawing with exactly `expanded` groups expanded. */
export function hasExpansion(data: StandaloneData, expanded: Iterable<string>): boolean {
  return Object.prototype.hasOwnProperty.call(data.expansions, expansionKey(expanded));
}

/** A host that answers the page from the standalone data (`deliver` hands a message to the page). */
export function standaloneHost(data: StandaloneData, deliver: (message: ToPreview) => void): PageHost {
  let state: unknown = null;
  const answer = (message: Extract<FromPreview, { type: "renderView" }>): ToPreview => {
    const model = data.diagram.models.find((m) => m.factory === message.factory);
    const key = message.expand ? expansionKey(message.expand) : "";
    const svg = key === "" && model?.svg ? model.svg : data.expansions[key];
    if (message.view !== "graph" || !model || typeof svg !== "string") {
      const what = message.view !== "graph" ? `the ${message.view} view` : "this drawing";
      return { type: "view", uri: message.uri, id: message.id, result: null, error: `${what} is not in this exported file` };
    }
    const macs = data.macs ?? {};
    const total = Object.values(macs).reduce<number>((n, v) => n + (typeof v === "number" ? v : 0), 0);
    return {
      type: "view", uri: message.uri, id: message.id, error: null,
      result: { factory: model.factory, view: "graph", format: "svg", content: svg, totalMacs: total, layerMacs: macs },
    };
  };
  return {
    postMessage(message: FromPreview): void {
      // Answered after the caller returns, as the extension's answers arrive.
      if (message.type === "ready") {
        queueMicrotask(() => deliver({
          type: "document", uri: STANDALONE_URI, fileName: data.fileName, diagram: data.diagram, status: null,
          notice: null, factory: data.diagram.models[0]?.factory ?? null, cursorLine: null,
        }));
      } else if (message.type === "renderView") {
        const reply = answer(message);
        queueMicrotask(() => deliver(reply));
      }
    },
    getState: () => state,
    setState: (s: unknown) => {
      state = s;
    },
  };
}
