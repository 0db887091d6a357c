/**
 * The diagram on the canvas: the sanitised SVG, the map from layer ids to its nodes,
 * and the marks on them (selected, under the editor's cursor, matching the search).
 *
 * Marks are kept by layer id, not by element, so they survive an SVG replacement:
 * after a save the same layer ids come back (Keras names are stable across builds)
 * and get their marks again.
 *
 * Groups (`groups.ts`): a collapsed group is a node whose id is the group's, standing for
 * every layer it holds: the cursor on a line inside it, a search match inside it, or a
 * change inside it marks the group's node. Clicking it expands it (`activate` with the
 * group's synthetic layer); clicking the title of an expanded group's box collapses it.
 */

import { layersAtLine, type SourcePlace } from "../core/lines";
import type { Changes, Layer, ModelGraph } from "../core/protocol";
import { GroupIndex } from "./groups";
import { sanitizeSvg } from "./sanitize";
import type { Viewport } from "./viewport";

export interface DiagramEvents {
  /** The pointer entered a layer (or left all layers: `null`). */
  hover(layer: Layer | null): void;
  /** A layer was clicked (not dragged); a collapsed group's node gives its synthetic layer (`groups.ts`). */
  activate(layer: Layer): void;
  /** The title of an expanded group's box was clicked. */
  collapse?(groupId: string): void;
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
  private matchedLayers: string[] = [];
  private groups: GroupIndex | null = null;
  private changes: Changes | null = null;

  constructor(
    private readonly canvas: HTMLElement,
    private readonly viewport: Viewport,
    private readonly events: DiagramEvents,
  ) {
    canvas.addEventListener("click", (e) => {
      if (this.viewport.consumeDrag()) return;
      const box = e.target instanceof Element && e.target.closest("text") ? e.target.closest("g.group-expanded") : null;
      if (box && this.events.collapse) {
        this.events.collapse(box.id);
        return;
      }
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
    this.groups = new GroupIndex(graph);
    this.layers = new Map(graph.layers.map((l) => [l.id, l]));
    this.nodes = new Map();
    for (const g of Array.from(svg.querySelectorAll<SVGGElement>("g.layer"))) {
      const group = g.classList.contains("group-collapsed") ? this.groups.byId.get(g.id) : undefined;
      if (group) this.layers.set(group.id, this.groups.groupLayer(group));
      if (this.layers.has(g.id)) this.nodes.set(g.id, g);
    }
    this.applyMarks();
  }

  /** The groups of the diagram shown (`null` when none is). */
  get groupIndex(): GroupIndex | null {
    return this.graph ? this.groups : null;
  }

  /** The ids drawn as nodes (layers, and collapsed groups). */
  get drawnIds(): string[] {
    return [...this.nodes.keys()];
  }

  /** The node that shows layer `id`: its own, or the collapsed group's (or nested model's) that hides it. */
  drawnFor(id: string): string | null {
    if (this.nodes.has(id)) return id;
    for (const group of this.groups?.holdersOf(id) ?? []) if (this.nodes.has(group.id)) return group.id;
    const seen = new Set<string>();
    let parent = this.layers.get(id)?.parent;
    while (parent && !seen.has(parent)) {
      seen.add(parent);
      if (this.nodes.has(parent)) return parent;
      parent = this.layers.get(parent)?.parent;
    }
    return null;
  }

  /** Layers that match the search but are hidden in a collapsed group. */
  get hiddenMatches(): string[] {
    return this.matchedLayers.filter((id) => !this.nodes.has(id));
  }

  /** Mark the layers `changes` lists as added or changed (until the next build's changes). */
  setChanges(changes: Changes | null): void {
    this.changes = changes;
    this.applyMarks();
  }

  /** Overlay classes by drawn id (`overlays.ts`); an empty map takes the overlay off. */
  setOverlay(classes: Map<string, string>): void {
    for (const [id, g] of this.nodes) {
      for (const c of Array.from(g.classList)) if (c.startsWith("nv-ov-")) g.classList.remove(c);
      const c = classes.get(id);
      if (c) g.classList.add(c);
    }
    this.canvas.classList.toggle("nv-overlaid", classes.size > 0);
  }

  /** Where the element with `id` (a node, or an expanded group's box) is on screen; `null` when not drawn. */
  screenBox(id: string): DOMRect | null {
    const el = this.nodes.get(id) ?? Array.from(this.canvas.querySelectorAll("g.cluster")).find((g) => g.id === id);
    return el ? el.getBoundingClientRect() : null;
  }

  clear(): void {
    this.canvas.replaceChildren();
    this.graph = null;
    this.groups = null;
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
    const ids = this.applyMarks().map((id) => this.drawnFor(id)).filter((id): id is string => id !== null);
    const first = ids.map((id) => this.nodes.get(id)).find(Boolean);
    if (first && reveal) this.viewport.reveal(this.contentRect(first));
  }

  /** Highlight layers whose name or class contains `query` (a collapsed group's node for those inside it); returns how many layers match. */
  search(query: string): number {
    this.query = query.trim().toLowerCase();
    this.matchIndex = -1;
    this.applyMarks();
    return this.matchedLayers.length;
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
    this.matchedLayers = this.query
      ? (this.graph?.layers ?? [])
          .filter((l) => l.name.toLowerCase().includes(this.query) || l.class_name.toLowerCase().includes(this.query))
          .map((l) => l.id)
          .filter((id) => this.drawnFor(id) !== null)
      : [];
    this.matches = [...new Set(this.matchedLayers.map((id) => this.drawnFor(id)!))];
    const matchSet = new Set(this.matches);
    const cursorSet = new Set(cursorIds.map((id) => this.drawnFor(id)));
    const added = new Set((this.changes?.added ?? []).map((id) => this.drawnFor(id)));
    const changed = new Set((this.changes?.changed ?? []).map((id) => this.drawnFor(id)));
    for (const [id, g] of this.nodes) {
      g.classList.toggle("nv-selected", id === this.selected);
      g.classList.toggle("nv-cursor", cursorSet.has(id));
      g.classList.toggle("nv-match", matchSet.has(id));
      g.classList.toggle("nv-added", added.has(id));
      g.classList.toggle("nv-changed", changed.has(id) && !added.has(id));
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
