/**
 * The diagram on the canvas: the sanitised SVG, the map from layer ids to its nodes,
 * and the marks on them (selected, under the editor's cursor, matching the search).
 *
 * Marks are kept by layer id, not by element, so they survive an SVG replacement:
 * after a save the same layer ids come back (Keras names are stable across builds)
 * and get their marks again.
 */

import { layersAtLine, type SourcePlace } from "../core/lines";
import type { Layer, ModelGraph } from "../core/protocol";
import { sanitizeSvg } from "./sanitize";
import type { Viewport } from "./viewport";

export interface DiagramEvents {
  /** The pointer entered a layer (or left all layers: `null`). */
  hover(layer: Layer | null): void;
  /** A layer was clicked (not dragged). */
  activate(layer: Layer): void;
  /** The note with a failed build's error (class `failure-note`) was clicked (not dragged). */
  activateNote?(): void;
}

/** Graphviz sizes are in points; at 100% the diagram shows at that size, as an image viewer would. */
const PX_PER_PT = 4 / 3;

export class DiagramView {
  private graph: ModelGraph | null = null;
  private nodes = new Map<string, SVGGElement>();
  private layers = new Map<string, Layer>();
  private selected: string | null = null;
  private cursor: SourcePlace | null = null;
  private query = "";
  private matches: string[] = [];
  private matchIndex = -1;

  constructor(
    private readonly canvas: HTMLElement,
    private readonly viewport: Viewport,
    private readonly events: DiagramEvents,
  ) {
    canvas.addEventListener("click", (e) => {
      if (this.viewport.consumeDrag()) return;
      const layer = this.layerAt(e.target);
      if (layer) this.events.activate(layer);
      else if (e.target instanceof Element && e.target.closest("g.failure-note")) this.events.activateNote?.();
    });
    canvas.addEventListener("mouseover", (e) => this.events.hover(this.layerAt(e.target)));
    canvas.addEventListener("mouseleave", () => this.events.hover(null));
  }

  get hasDiagram(): boolean {
    return this.graph !== null;
  }

  /**
   * Replace the diagram in place; zoom and pan are the viewport's and stay. Throws on an unusable SVG.
   * `themed`: NetViz's own diagram, recoloured by the theme; other views keep their own colours.
   */
  show(svgText: string, graph: ModelGraph, themed = true): void {
    const { svg } = sanitizeSvg(svgText, document);
    const [, , vw, vh] = (svg.getAttribute("viewBox") ?? "").split(/[\s,]+/).map(Number);
    const w = (vw || 0) * PX_PER_PT;
    const h = (vh || 0) * PX_PER_PT;
    svg.setAttribute("width", String(w));
    svg.setAttribute("height", String(h));
    svg.classList.add(themed ? "nv-svg" : "nv-view-svg");
    this.canvas.replaceChildren(svg);
    this.viewport.setContentSize(w, h);
    this.graph = graph;
    this.layers = new Map(graph.layers.map((l) => [l.id, l]));
    this.nodes = new Map();
    for (const g of Array.from(svg.querySelectorAll<SVGGElement>("g.layer"))) {
      if (this.layers.has(g.id)) this.nodes.set(g.id, g);
    }
    this.applyMarks();
  }

  clear(): void {
    this.canvas.replaceChildren();
    this.graph = null;
    this.nodes.clear();
    this.layers.clear();
    this.viewport.setContentSize(0, 0);
  }

  layer(id: string | null): Layer | undefined {
    return id === null ? undefined : this.layers.get(id);
  }

  /** The layer clicked last, kept while another drawing (or none) is shown. */
  get selectedId(): string | null {
    return this.selected;
  }

  get selectedLayer(): Layer | undefined {
    return this.layer(this.selected);
  }

  select(id: string | null): void {
    this.selected = id;
    this.applyMarks();
  }

  /** Mark the layers built at the editor's cursor line (of its cell, in a notebook); with `reveal`, pan them into view. */
  setCursor(cursor: SourcePlace | null, reveal: boolean): void {
    this.cursor = cursor;
    const ids = this.applyMarks();
    const first = ids.map((id) => this.nodes.get(id)).find(Boolean);
    if (first && reveal) this.viewport.reveal(this.contentRect(first));
  }

  /** Highlight layers whose name or class contains `query`; returns how many match. */
  search(query: string): number {
    this.query = query.trim().toLowerCase();
    this.matchIndex = -1;
    this.applyMarks();
    return this.matches.length;
  }

  /** Bring the next search match into view; returns its 1-based position, 0 when none. */
  nextMatch(step = 1): number {
    if (this.matches.length === 0) return 0;
    this.matchIndex = (this.matchIndex + step + this.matches.length) % this.matches.length;
    const node = this.nodes.get(this.matches[this.matchIndex]);
    if (node) this.viewport.reveal(this.contentRect(node));
    return this.matchIndex + 1;
  }

  /** Reapply every mark to the current SVG; returns the ids under the cursor line. */
  private applyMarks(): string[] {
    const cursorIds = this.graph && this.cursor ? layersAtLine(this.graph, this.cursor.line, this.cursor.cell) : [];
    this.matches = this.query
      ? [...this.layers.values()]
          .filter((l) => l.name.toLowerCase().includes(this.query) || l.class_name.toLowerCase().includes(this.query))
          .map((l) => l.id)
          .filter((id) => this.nodes.has(id))
      : [];
    const matchSet = new Set(this.matches);
    const cursorSet = new Set(cursorIds);
    for (const [id, g] of this.nodes) {
      g.classList.toggle("nv-selected", id === this.selected);
      g.classList.toggle("nv-cursor", cursorSet.has(id));
      g.classList.toggle("nv-match", matchSet.has(id));
    }
    this.canvas.classList.toggle("nv-searching", this.query.length > 0);
    return cursorIds;
  }

  private layerAt(target: EventTarget | null): Layer | null {
    const node = target instanceof Element ? target.closest("g.layer") : null;
    return node ? this.layers.get(node.id) ?? null : null;
  }

  /** A node's box in content coordinates (the SVG at 100%). */
  private contentRect(node: Element): { x: number; y: number; w: number; h: number } {
    const k = this.viewport.transform.k;
    const box = node.getBoundingClientRect();
    const origin = this.canvas.getBoundingClientRect();
    return { x: (box.left - origin.left) / k, y: (box.top - origin.top) / k, w: box.width / k, h: box.height / k };
  }
}
