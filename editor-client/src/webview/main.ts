/**
 * The preview page's script. It receives `ToPreview` messages from the extension and
 * applies them in place: the HTML was set once, so zoom, pan, selection and search
 * survive every update. It posts `FromPreview` messages back (reveal a line, the
 * factory picked, ready).
 *
 * View memory: the zoom and pan of each (file, factory) pair is kept while the panel
 * lives, so switching editors and back restores where the user was.
 */

import { revealLine } from "../core/lines";
import type { FileDiagram, FromPreview, Layer, ModelView, Notice, StatusView, ToPreview } from "../core/protocol";
import { formatCount } from "../core/format";
import { emptyText, renderBanner, renderBuildState } from "./banner";
import { showLayer, showModel } from "./details";
import { DiagramView } from "./diagramView";
import { h, setChildren } from "./dom";
import { type Transform, Viewport } from "./viewport";

interface VsCodeApi {
  postMessage(message: FromPreview): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

/** The page's own elements, found once at start: later lookups by id could hit a layer's node. */
function q<T extends Element>(selector: string): T {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`preview page is missing ${selector}`);
  return el;
}
const ui = {
  factory: q<HTMLSelectElement>(".nv-factory"),
  title: q<HTMLElement>(".nv-title"),
  summary: q<HTMLElement>(".nv-summary"),
  build: q<HTMLElement>(".nv-build"),
  search: q<HTMLInputElement>(".nv-search"),
  searchCount: q<HTMLElement>(".nv-search-count"),
  zoomLevel: q<HTMLElement>(".nv-zoom-level"),
  banner: q<HTMLElement>(".nv-banner"),
  bannerTitle: q<HTMLElement>(".nv-banner-title"),
  errors: q<HTMLElement>(".nv-errors"),
  viewport: q<HTMLElement>(".nv-viewport"),
  canvas: q<HTMLElement>(".nv-canvas"),
  empty: q<HTMLElement>(".nv-empty"),
  details: q<HTMLElement>(".nv-details"),
  detailsToggle: q<HTMLButtonElement>(".nv-details-toggle"),
};

/** What the page shows now. */
const state = {
  uri: null as string | null,
  fileName: null as string | null,
  diagram: null as FileDiagram | null,
  status: null as StatusView | null,
  notice: null as Notice | null,
  factory: null as string | null,
  cursorLine: null as number | null,
  /** The diagram sequence and factory on the canvas, to skip redrawing the same thing. */
  drawn: null as { sequence: number; factory: string } | null,
  /** Why the current SVG could not be shown (it did not parse as SVG), if so. */
  drawError: null as string | null,
};
const views = new Map<string, Transform>();

const viewport = new Viewport(ui.viewport, ui.canvas, (t) => {
  ui.zoomLevel.textContent = `${Math.round(t.k * 100)}%`;
  if (state.uri && state.factory) views.set(viewKey(state.uri, state.factory), t);
});
const diagram = new DiagramView(ui.canvas, viewport, {
  hover: (layer) => showDetails(layer),
  activate: (layer) => {
    diagram.select(layer.id);
    showDetails(layer);
    const line = revealLine(layer);
    if (state.uri && line !== null) post({ type: "reveal", uri: state.uri, line });
  },
});

function post(message: FromPreview): void {
  vscode.postMessage(message);
}

function viewKey(uri: string, factory: string): string {
  return `${factory}\u0000${uri}`;
}

function currentModel(): ModelView | undefined {
  return state.diagram?.models.find((m) => m.factory === state.factory);
}

// --- messages from the extension -----------------------------------------------------

window.addEventListener("message", (event: MessageEvent<ToPreview>) => {
  const message = event.data;
  switch (message?.type) {
    case "document":
      if (message.uri !== state.uri) diagram.select(null);
      state.uri = message.uri;
      state.fileName = message.fileName;
      state.diagram = message.diagram;
      state.status = message.status;
      state.notice = message.notice;
      state.factory = message.factory;
      state.cursorLine = message.cursorLine;
      state.drawn = null;
      vscode.setState({ uri: message.uri, factory: message.factory });
      render();
      break;
    case "diagram":
      if (message.uri !== state.uri) return;
      state.diagram = message.diagram;
      render();
      break;
    case "status":
      if (message.uri !== state.uri) return;
      state.status = message.status;
      renderChrome();
      break;
    case "notice":
      state.notice = message.notice;
      render();
      break;
    case "cursor":
      if (message.uri !== state.uri) return;
      state.cursorLine = message.line;
      diagram.setCursorLine(message.line, true);
      break;
    case "selectFactory":
      if (message.uri === state.uri) pickFactory(message.factory);
      break;
  }
});

// --- rendering -------------------------------------------------------------------------

function render(): void {
  const models = state.diagram?.models ?? [];
  if (!state.factory || !models.some((m) => m.factory === state.factory)) {
    state.factory = models[0]?.factory ?? null;
  }
  drawDiagram();
  renderChrome();
}

/** Put the current factory's SVG on the canvas, unless it is already there. */
function drawDiagram(): void {
  const model = state.notice ? undefined : currentModel();
  if (!model || !model.svg || !state.uri || !state.diagram) {
    diagram.clear();
    state.drawn = null;
    return;
  }
  const key = { sequence: state.diagram.sequence, factory: model.factory };
  if (state.drawn?.sequence === key.sequence && state.drawn.factory === key.factory) return;
  const sameView = state.drawn?.factory === key.factory && diagram.hasDiagram;
  state.drawError = null;
  try {
    diagram.show(model.svg, model.graph);
  } catch (error) {
    diagram.clear();
    state.drawn = null;
    state.drawError = `NetViz could not show the diagram of ${model.factory}: ${(error as Error).message}.`;
    return;
  }
  state.drawn = key;
  // An update of the diagram on screen keeps the view; a new one gets its remembered view,
  // or a first view that shows the layer under the editor's cursor.
  const remembered = sameView ? undefined : views.get(viewKey(state.uri, model.factory));
  if (remembered) viewport.set(remembered);
  else if (!sameView) viewport.fitWidth();
  diagram.setCursorLine(state.cursorLine, !sameView && !remembered);
  updateSearchCount();
}

/** Everything around the canvas: factory picker, summary, build state, banner, details, empty text. */
function renderChrome(): void {
  const models = state.diagram?.models ?? [];
  const model = currentModel();
  const stale = model?.stale ?? false;

  setChildren(ui.factory, ...models.map((m) => {
    const option = h("option", {}, m.stale ? `${m.factory}() · out of date` : `${m.factory}()`);
    option.value = m.factory;
    return option;
  }));
  ui.factory.value = state.factory ?? "";
  ui.factory.hidden = models.length < 2;
  ui.title.hidden = models.length >= 2;
  ui.title.textContent = model ? `${model.factory}()` : state.fileName ?? "";
  ui.summary.textContent = model ? `${model.graph.class_name} · ${formatCount(model.graph.total_params)} params` : "";

  renderBuildState(ui.build, state.notice ? null : state.status, state.diagram, state.factory);
  renderBanner(ui.banner, ui.bannerTitle, ui.errors, state.notice ? [] : state.diagram?.errors ?? [],
    state.notice ? null : state.status, stale && !!model, (line) => {
      if (state.uri) post({ type: "reveal", uri: state.uri, line });
    });
  document.body.classList.toggle("nv-stale", stale && !!model);
  document.body.classList.toggle("nv-notice", state.notice !== null);

  const empty = emptyText(state.notice, state.fileName, state.diagram, state.status);
  const message = empty ?? state.drawError
    ?? (model && !model.svg ? `The diagram of ${model.factory} could not be drawn: see the problems above.` : null);
  ui.empty.hidden = message === null;
  ui.empty.textContent = message ?? "";
  showDetails(null);
}

function showDetails(hovered: Layer | null): void {
  const model = currentModel();
  const layer = hovered ?? diagram.selectedLayer;
  document.body.classList.toggle("nv-layer-shown", !!layer && !!model && !state.notice);
  if (!model || state.notice) {
    ui.details.replaceChildren();
  } else if (layer) {
    showLayer(ui.details, layer, model.graph);
  } else {
    showModel(ui.details, model.graph, model.stale);
  }
}

function pickFactory(factory: string): void {
  if (!state.diagram?.models.some((m) => m.factory === factory) || factory === state.factory) return;
  state.factory = factory;
  diagram.select(null);
  vscode.setState({ uri: state.uri, factory });
  render();
}

function updateSearchCount(): void {
  const count = diagram.search(ui.search.value);
  ui.searchCount.textContent = ui.search.value.trim() ? (count === 1 ? "1 layer" : `${count} layers`) : "";
  ui.searchCount.dataset.none = String(ui.search.value.trim().length > 0 && count === 0);
}

// --- controls ----------------------------------------------------------------------------

ui.factory.addEventListener("change", () => {
  const factory = ui.factory.value;
  pickFactory(factory);
  if (state.uri) post({ type: "factory", uri: state.uri, factory });
});
ui.search.addEventListener("input", updateSearchCount);
ui.search.addEventListener("keydown", (e) => {
  if (e.key === "Enter") diagram.nextMatch(e.shiftKey ? -1 : 1);
  if (e.key === "Escape") {
    ui.search.value = "";
    updateSearchCount();
  }
});
q(".nv-zoom-in").addEventListener("click", () => viewport.zoomBy(1.25));
q(".nv-zoom-out").addEventListener("click", () => viewport.zoomBy(0.8));
q(".nv-fit").addEventListener("click", () => viewport.fit());
q(".nv-actual").addEventListener("click", () => viewport.actualSize());
ui.detailsToggle.addEventListener("click", () => {
  const hidden = document.body.classList.toggle("nv-details-hidden");
  ui.detailsToggle.setAttribute("aria-pressed", String(!hidden));
});
ui.viewport.addEventListener("keydown", (e) => {
  const actions: Record<string, () => void> = {
    "+": () => viewport.zoomBy(1.25), "=": () => viewport.zoomBy(1.25), "-": () => viewport.zoomBy(0.8),
    "0": () => viewport.actualSize(), f: () => viewport.fit(),
    ArrowLeft: () => viewport.panBy(40, 0), ArrowRight: () => viewport.panBy(-40, 0),
    ArrowUp: () => viewport.panBy(0, 40), ArrowDown: () => viewport.panBy(0, -40),
    Escape: () => { diagram.select(null); showDetails(null); },
  };
  const action = actions[e.key];
  if (action) {
    e.preventDefault();
    action();
  }
});
post({ type: "ready" });
