/**
 * The summary view: the server's `model.summary()` table (HTML), sanitised, in a
 * scrolling pane instead of the zoomable canvas. Rows carry `data-layer-id`, so
 * hovering a row shows its layer's details and clicking it reveals its line, as a
 * node does in the diagrams.
 */

import type { Layer, ModelGraph } from "../core/protocol";
import type { DiagramEvents } from "./diagramView";
import { sanitizeHtml } from "./sanitize";

export class SummaryView {
  private layers = new Map<string, Layer>();

  constructor(private readonly pane: HTMLElement, private readonly events: DiagramEvents) {
    pane.addEventListener("click", (e) => {
      const layer = this.layerAt(e.target);
      if (layer) this.events.activate(layer);
    });
    pane.addEventListener("mouseover", (e) => this.events.hover(this.layerAt(e.target)));
    pane.addEventListener("mouseleave", () => this.events.hover(null));
  }

  show(html: string, graph: ModelGraph): void {
    this.pane.replaceChildren(sanitizeHtml(html, document));
    this.layers = new Map(graph.layers.map((l) => [l.id, l]));
    this.pane.hidden = false;
  }

  clear(): void {
    this.pane.replaceChildren();
    this.layers.clear();
    this.pane.hidden = true;
  }

  /** Mark the selected layer's row (the diagrams mark its node). */
  select(id: string | null): void {
    for (const row of Array.from(this.pane.querySelectorAll<HTMLElement>("tr[data-layer-id]"))) {
      row.classList.toggle("nv-selected", row.dataset.layerId === id);
    }
  }

  private layerAt(target: EventTarget | null): Layer | null {
    const row = target instanceof Element ? target.closest<HTMLElement>("tr[data-layer-id]") : null;
    return row ? this.layers.get(row.dataset.layerId ?? "") ?? null : null;
  }
}
