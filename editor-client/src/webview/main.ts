/**
 * The preview page's script. It receives `ToPreview` messages from the extension and
 * applies them in place: the HTML was set once, so zoom, pan, selection and search
 * survive every update. It posts `FromPreview` messages back (reveal a line, the
 * factory picked, ready, a view to draw).
 *
 * Views: the diagram `netviz/diagram` carries is drawn at once. Another view (layered,
 * summary, …) or the graph with nested models expanded is drawn by the server on
 * request (`renderView`, answered by a `view` message); a new build of the file asks
 * again, and only the answer to the latest request is taken (`ViewRequests`).
 *
 * View memory: the zoom and pan of each (file, factory, view) is kept while the panel
 * lives, so switching editors or views and back restores where the user was.
 *
 * Groups (`groups.ts`): a click on a collapsed group asks for the drawing with it expanded
 * (`renderView`'s `expand`), the view kept anchored on it; the title of an expanded group's
 * box collapses it; a search expands the groups that hold its matches. Overlays
 * (`overlays.ts`) and tensor shapes on edges are kept per panel (webview state). The
 * params delta of the last build (`changes`) shows beside the summary until the next one.
 * Outside VS Code (the HTML export) `standalone.ts` stands in for the extension.
 *
 * A failed factory with a partial graph (`failure.ts`) is drawn up to the error in the Graph
 * view; its last good diagram is one click away.
 */

import { errorPlace, layerPlace, type SourcePlace } from "../core/lines";
import {
  type FileDiagram, type FromPreview, type Layer, type ModelGraph, type ModelView, type Notice, type RenderedView, type StatusView,
  type ToPreview, VIEW_CHOICES, type ViewName, layerMacsOf,
} from "../core/protocol";
import { formatCount, targetLabel } from "../core/format";
import { type ViewKey, ViewRequests } from "../core/viewRequests";
import { emptyText, renderBanner, renderBuildState } from "./banner";
import { showLayer, showModel } from "./details";
import { type DiagramEvents, DiagramView } from "./diagramView";
import { h, setChildren } from "./dom";
import { FailureBar, type FailureShown, failureShown, shownGraph } from "./failure";
import { SummaryView } from "./summaryView";
import { type Transform, Viewport } from "./viewport";
import { formatDelta } from "../core/format";
import { GroupIndex } from "./groups";
import { Minimap } from "./minimap";
import { computeOverlay, isOverlayKind, OVERLAY_CHOICES, type OverlayKind } from "./overlays";
import { hasExpansion, readStandalone, standaloneHost } from "./standalone";

interface VsCodeApi {
  postMessage(message: FromPreview): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const standalone = readStandalone(document);
const host: VsCodeApi = standalone
  ? standaloneHost(standalone, (message) => window.postMessage(message, "*"))
  : acquireVsCodeApi();
/** What the panel keeps across reloads besides the document: the overlay and shapes on edges. */
const prefs = readPrefs(host.getState());
const vscode: VsCodeApi = {
  postMessage: (message) => host.postMessage(message),
  getState: () => host.getState(),
  setState: (value) => host.setState({ ...(value as object), ...prefs }),
};

/** The page's own elements, found once at start: later lookups by id could hit a layer's node. */
function q<T extends Element>(selector: string): T {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`preview page is missing ${selector}`);
  return el;
}
const ui = {
  factory: q<HTMLSelectElement>(".nv-factory"),
  view: q<HTMLSelectElement>(".nv-view"),
  nested: q<HTMLButtonElement>(".nv-nested"),
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
  table: q<HTMLElement>(".nv-table"),
  empty: q<HTMLElement>(".nv-empty"),
  details: q<HTMLElement>(".nv-details"),
  detailsToggle: q<HTMLButtonElement>(".nv-details-toggle"),
  overlay: q<HTMLSelectElement>(".nv-overlay"),
  edgeShapes: q<HTMLButtonElement>(".nv-edge-shapes"),
  delta: q<HTMLElement>(".nv-delta"),
  legend: q<HTMLElement>(".nv-legend"),
  minimap: q<HTMLElement>(".nv-minimap"),
  minimapFrame: q<HTMLElement>(".nv-minimap-frame"),
};

/** What the page shows now. */
const state = {
  uri: null as string | null,
  fileName: null as string | null,
  diagram: null as FileDiagram | null,
  status: null as StatusView | null,
  notice: null as Notice | null,
  factory: null as string | null,
  /** The editor's cursor: a line, of a cell in a notebook. */
  cursor: null as SourcePlace | null,
  /** The view picked, and whether nested models are to be expanded (where there are any). */
  view: "graph" as ViewName,
  expandNested: false,
  /** The server's latest accepted drawing (or refusal) and the request it answers. */
  answer: null as { request: ViewKey; id: number; result: RenderedView | null; error: string | null } | null,
  /** What is drawn (`Drawing`'s id and place). */
  drawn: null as { id: string; place: string } | null,
  /** What the canvas says instead of a drawing: being drawn, or why it could not be shown. */
  drawNote: null as string | null,
  /** The user asked for the last good diagram of a failed factory instead of its partial graph (until the next build). */
  wantsGood: false,
};
const views = new Map<string, Transform>();
const requests = new ViewRequests();
/** Total MACs per (file, factory), as the server counted them for a drawing of a build (`sequence`). */
const macs = new Map<string, { sequence: number; total: number }>();

/** The groups drawn expanded per (file, factory), when the user chose (else the server's default). */
const expansions = new Map<string, string[]>();
/** MACs per layer per (file, factory), from the server's latest drawing of a build. */
const layerMacs = new Map<string, { sequence: number; macs: Record<string, number | null> }>();
/** A group the user just expanded or collapsed: where its node was on screen, to keep it there. */
let anchor: { id: string; left: number; top: number } | null = null;
/** A search opened groups: bring its first match into view once they are drawn. */
let revealMatch = false;

const viewport = new Viewport(ui.viewport, ui.canvas, (t) => {
  ui.zoomLevel.textContent = `${Math.round(t.k * 100)}%`;
  if (state.drawn) views.set(state.drawn.place, t);
  minimap.update(t);
});
const layerEvents: DiagramEvents = {
  hover: (layer) => showDetails(layer),
  activate: (layer) => {
    if (diagram.groupIndex?.isGroup(layer.id)) {
      expandGroup(layer.id);
      return;
    }
    diagram.select(layer.id);
    summary.select(layer.id);
    showDetails(layer);
    const place = layerPlace(layer);
    if (state.uri && place) post({ type: "reveal", uri: state.uri, line: place.line, cell: place.cell });
  },
  activateNote: () => {
    const place = currentModel()?.partial ? errorPlace(currentModel()!.partial!.error) : null;
    if (state.uri && place) post({ type: "reveal", uri: state.uri, line: place.line, cell: place.cell });
  },
};
layerEvents.collapse = (groupId) => collapseGroup(groupId);
const diagram = new DiagramView(ui.canvas, viewport, layerEvents);
const minimap = new Minimap(ui.minimap, ui.minimapFrame, ui.viewport, viewport);
const summary = new SummaryView(ui.table, layerEvents);
const failureBar = new FailureBar(ui.banner);

function post(message: FromPreview): void {
  vscode.postMessage(message);
}

function placeKey(...parts: (string | boolean)[]): string {
  return parts.join("\u0000");
}

function currentModel(): ModelView | undefined {
  return state.diagram?.models.find((m) => m.factory === state.factory);
}

/** For a failed factory with a partial graph: which drawing the canvas shows. */
function currentFailure(model = currentModel()): FailureShown | null {
  return failureShown(model, state.view, state.wantsGood);
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
      state.cursor = cursorOf(message.cursorLine, message.cursorCell);
      state.drawn = null;
      state.wantsGood = false;
      vscode.setState({ uri: message.uri, factory: message.factory });
      render();
      break;
    case "diagram":
      if (message.uri !== state.uri) return;
      state.diagram = message.diagram;
      state.wantsGood = false; // a new build: show its failure, if it has one
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
      state.cursor = cursorOf(message.line, message.cell);
      diagram.setCursor(state.cursor, true);
      break;
    case "selectFactory":
      if (message.uri === state.uri) pickFactory(message.factory);
      break;
    case "view":
      takeAnswer(message);
      break;
  }
});

function cursorOf(line: number | null, cell: number | null | undefined): SourcePlace | null {
  return line === null ? null : { line, cell: cell ?? null };
}

/** Keep the answer to the latest `renderView` request; older answers are dropped. */
function takeAnswer(message: Extract<ToPreview, { type: "view" }>): void {
  const request = message.uri === state.uri ? requests.accept(message.id) : null;
  if (!request) return;
  state.answer = { request, id: message.id, result: message.result, error: message.error };
  const counted = !standalone || !!standalone.macs; // an exported file without MACs counted none
  if (message.result && counted) macs.set(placeKey(request.uri, request.factory), { sequence: request.sequence, total: message.result.totalMacs });
  if (message.result && counted && request.view === "graph") {
    layerMacs.set(placeKey(request.uri, request.factory), { sequence: request.sequence, macs: layerMacsOf(message.result) });
  }
  render();
}

// --- rendering -------------------------------------------------------------------------

function render(): void {
  const models = state.diagram?.models ?? [];
  if (!state.factory || !models.some((m) => m.factory === state.factory)) {
    state.factory = models[0]?.factory ?? null;
  }
  drawDiagram();
  renderChrome();
}

/** A drawing to show: NetViz's diagram, another view's SVG, or the summary's HTML. */
interface Drawing {
  /** Which build or answer it comes from: the same id in the same place is not drawn again. */
  id: string;
  /** (file, factory, view): zoom and pan are remembered per place. */
  place: string;
  /** `diagram`: NetViz's graph, themed; `svg`: a view in its own colours; `html`: the summary table. */
  kind: "diagram" | "svg" | "html";
  text: string;
  /** The graph drawn, when not the model's own (a failed build's partial graph). */
  graph?: ModelGraph;
}

/** Put the current factory's drawing in the current view on the page, unless it is already there. */
function drawDiagram(): void {
  const model = state.notice ? undefined : currentModel();
  state.drawNote = null;
  const drawing = model && currentDrawing(model);
  if (model && !drawing && (anchor || revealMatch) && diagram.hasDiagram && (state.drawNote as string | null)?.startsWith("Drawing ")) {
    state.drawNote = null; // a group opening or closing: the drawing stays until the new one comes
    return;
  }
  if (!model || !drawing) {
    clearDrawing();
    return;
  }
  if (state.drawn?.id === drawing.id && state.drawn.place === drawing.place) return;
  const samePlace = state.drawn?.place === drawing.place;
  try {
    if (drawing.kind === "html") {
      diagram.clear();
      summary.show(drawing.text, model.graph);
      summary.select(diagram.selectedId);
    } else {
      summary.clear();
      diagram.show(drawing.text, drawing.graph ?? model.graph, drawing.kind === "diagram");
    }
  } catch (error) {
    clearDrawing();
    state.drawNote = `NetViz could not show the ${viewLabel(state.view)} view of ${model.factory}: ${(error as Error).message}.`;
    return;
  }
  showTable(drawing.kind === "html");
  state.drawn = { id: drawing.id, place: drawing.place };
  if (drawing.kind === "html") return;
  // An update of the drawing on screen keeps the view; a new one gets its remembered view,
  // or a first view: NetViz's diagram fits its width (deep networks read top-down at a
  // legible size), the other views fit whole (they are wide, or short).
  const remembered = samePlace ? undefined : views.get(drawing.place);
  if (remembered) viewport.set(remembered);
  else if (!samePlace && drawing.kind === "diagram") viewport.fitWidth();
  else if (!samePlace) viewport.fit();
  diagram.setCursor(state.cursor, !samePlace && !remembered && !anchor);
  afterDraw(model);
  updateSearchCount();
}

function clearDrawing(): void {
  minimap.show(null, 0, 0);
  diagram.clear();
  summary.clear();
  showTable(false);
  state.drawn = null;
}

/** The summary's table replaces the canvas, and the canvas' controls (zoom, search) go with it. */
function showTable(shown: boolean): void {
  if (shown) minimap.show(null, 0, 0);
  ui.viewport.hidden = shown;
  document.body.classList.toggle("nv-table-shown", shown);
}

/**
 * The current factory's drawing in the current view: the diagram from `netviz/diagram`, or the
 * server's answer for another view (asked for here when needed). While a new build's drawing is
 * on its way, the previous one stays. `null` (with `drawNote` saying why) when there is none yet.
 */
function currentDrawing(model: ModelView): Drawing | null {
  const failure = currentFailure(model);
  if (failure === "partial" && model.partial?.svg) {
    const place = placeKey(state.uri ?? "", model.factory, "partial");
    return { id: `partial ${state.diagram?.sequence}`, place, kind: "diagram", text: model.partial.svg, graph: model.partial.graph };
  }
  if (failure === "none" || (failure === "partial" && model.partialOnly)) {
    state.drawNote = failure === "none"
      ? `${targetLabel(model.graph)} has never built: the Graph view draws it up to the error.`
      : `The partial graph of ${targetLabel(model.graph)} could not be drawn: see the problems above.`;
    return null;
  }
  const request = viewRequest(model);
  const place = placeKey(state.uri ?? "", model.factory, request?.view ?? "graph", request?.expandNested ?? false);
  if (!request) {
    return model.svg ? { id: `diagram ${state.diagram?.sequence}`, place, kind: "diagram", text: model.svg } : null;
  }
  const id = requests.ask(request);
  if (id !== null) {
    post({
      type: "renderView", uri: request.uri, id, factory: request.factory, view: request.view,
      expandNested: request.expandNested,
      // Only when asked for: a request without them is what the panel sent before groups.
      ...(request.expand ? { expand: request.expand } : {}), ...(request.edgeShapes ? { edgeShapes: true } : {}),
    });
  }
  const answer = state.answer;
  const same = answer && (["uri", "factory", "view", "expandNested"] as const).every((k) => answer.request[k] === request[k])
    && JSON.stringify(answer.request.expand ?? null) === JSON.stringify(request.expand ?? null)
    && (answer.request.edgeShapes ?? false) === (request.edgeShapes ?? false);
  if (!same || !answer.result) {
    const what = `the ${viewLabel(request.view)} view of ${targetLabel(model.graph)}`;
    state.drawNote = same && answer.error ? `NetViz could not draw ${what}: ${answer.error}` : `Drawing ${what}…`;
    return null;
  }
  const kind = answer.result.format === "html" ? "html" : request.view === "graph" ? "diagram" : "svg";
  return { id: `answer ${answer.id}`, place, kind, text: answer.result.content };
}

/** What to ask the server to draw, when the page cannot show the current view by itself. */
function viewRequest(model: ModelView): ViewKey | null {
  const expandNested = state.expandNested && hasNested(model);
  const graphView = state.view === "graph";
  const expand = graphView ? chosenExpansion(model) : null;
  const edgeShapes = graphView && prefs.edgeShapes && !standalone;
  const wantsMacs = graphView && prefs.overlay === "macs" && !standalone;
  if ((graphView && !expandNested && expand === null && !edgeShapes && !wantsMacs) || !state.uri || !state.diagram) return null;
  return {
    uri: state.uri, sequence: state.diagram.sequence, factory: model.factory, view: state.view, expandNested, expand, edgeShapes,
  };
}

function hasNested(model: ModelView | undefined): boolean {
  return !!model?.graph.layers.some((l) => l.is_model);
}

function viewLabel(view: ViewName): string {
  return VIEW_CHOICES.find((c) => c.view === view)?.label ?? view;
}

/** Everything around the canvas: factory picker, summary, build state, banner, details, empty text. */
function renderChrome(): void {
  const models = state.diagram?.models ?? [];
  const model = currentModel();
  const failure = currentFailure(model);
  // The last good diagram is on the canvas (greyed, the banner says so) unless the partial graph is.
  const stale = (model?.stale ?? false) && failure !== "partial";

  setChildren(ui.factory, ...models.map((m) => {
    const option = h("option", {}, m.partial ? `${targetLabel(m.graph)} · failed` : m.stale ? `${targetLabel(m.graph)} · out of date` : targetLabel(m.graph));
    option.value = m.factory;
    return option;
  }));
  ui.factory.value = state.factory ?? "";
  ui.factory.hidden = models.length < 2;
  ui.title.hidden = models.length >= 2;
  ui.title.textContent = model ? targetLabel(model.graph) : state.fileName ?? "";
  const graph = model && shownGraph(model, failure);
  ui.summary.textContent = graph ? `${graph.class_name} · ${formatCount(graph.total_params)} params` : "";
  renderDelta(model);
  ui.view.value = state.view;
  const nested = hasNested(model);
  ui.nested.disabled = !nested;
  ui.nested.setAttribute("aria-pressed", String(nested && state.expandNested));
  ui.nested.title = nested ? "Draw nested models as boxes of their own layers" : "This model has no nested models";

  renderBuildState(ui.build, state.notice ? null : state.status, state.diagram, state.factory);
  renderBanner(ui.banner, ui.bannerTitle, ui.errors, state.notice ? [] : state.diagram?.errors ?? [],
    state.notice ? null : state.status, stale && !!model, (place) => {
      if (state.uri) post({ type: "reveal", uri: state.uri, line: place.line, cell: place.cell });
    });
  document.body.classList.toggle("nv-stale", stale && !!model);
  document.body.classList.toggle("nv-notice", state.notice !== null);
  failureBar.render(state.notice ? undefined : model, failure, state.view, (wantsGood) => {
    state.wantsGood = wantsGood;
    if (!wantsGood) state.view = "graph";
    render();
  });

  const empty = emptyText(state.notice, state.fileName, state.diagram, state.status);
  const message = empty ?? state.drawNote
    ?? (model && !model.svg && !viewRequest(model) && failure !== "partial"
      ? `The diagram of ${model.factory} could not be drawn: see the problems above.` : null);
  ui.empty.hidden = message === null;
  ui.empty.textContent = message ?? "";
  showDetails(null);
}

function showDetails(hovered: Layer | null): void {
  const model = currentModel();
  const failure = currentFailure(model);
  const graph = model && shownGraph(model, failure);
  const layer = hovered ?? graph?.layers.find((l) => l.id === diagram.selectedId);
  document.body.classList.toggle("nv-layer-shown", !!layer && !!model && !state.notice);
  if (!model || !graph || state.notice) {
    ui.details.replaceChildren();
  } else if (layer) {
    showLayer(ui.details, layer, graph, layerMacsFor(model, layer.id), diagram.groupIndex);
  } else {
    showModel(ui.details, graph, model.stale && failure !== "partial", failure === "partial" ? null : currentMacs(model),
      failure === "partial" ? model.partial?.error ?? null : null);
  }
}

/** A layer's (or a collapsed group's summed) MACs, when a drawing of the current build has counted them. */
function layerMacsFor(model: ModelView, id: string): number | null {
  const known = state.uri ? layerMacs.get(placeKey(state.uri, model.factory)) : undefined;
  const counted = known && known.sequence === state.diagram?.sequence ? known.macs : standalone?.macs ?? null;
  if (!counted) return null;
  const members = diagram.groupIndex?.isGroup(id) ? diagram.groupIndex.members(id).map((l) => l.id) : [id];
  const values = members.map((m) => counted[m]).filter((v): v is number => typeof v === "number");
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

/** The model's total MACs, when a drawing of its current build has counted them. */
function currentMacs(model: ModelView): number | null {
  const known = state.uri ? macs.get(placeKey(state.uri, model.factory)) : undefined;
  return known && known.sequence === state.diagram?.sequence ? known.total : null;
}

function pickFactory(factory: string): void {
  if (!state.diagram?.models.some((m) => m.factory === factory) || factory === state.factory) return;
  state.factory = factory;
  state.wantsGood = false;
  diagram.select(null);
  vscode.setState({ uri: state.uri, factory });
  render();
}

function updateSearchCount(): void {
  const count = diagram.search(ui.search.value);
  expandForSearch();
  if (revealMatch && count > 0 && diagram.hiddenMatches.length === 0) {
    revealMatch = false;
    diagram.nextMatch(1);
  }
  ui.searchCount.textContent = ui.search.value.trim() ? (count === 1 ? "1 layer" : `${count} layers`) : "";
  ui.searchCount.dataset.none = String(ui.search.value.trim().length > 0 && count === 0);
}

// --- controls ----------------------------------------------------------------------------

ui.factory.addEventListener("change", () => {
  const factory = ui.factory.value;
  pickFactory(factory);
  if (state.uri) post({ type: "factory", uri: state.uri, factory });
});
setChildren(ui.view, ...VIEW_CHOICES.map(({ view, label }) => {
  const option = h("option", {}, label);
  option.value = view;
  return option;
}));
ui.view.addEventListener("change", () => {
  state.view = ui.view.value as ViewName;
  render();
});
ui.nested.addEventListener("click", () => {
  state.expandNested = !state.expandNested;
  render();
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
q(".nv-fit-width").addEventListener("click", () => viewport.fitWidth());
q(".nv-actual").addEventListener("click", () => viewport.actualSize());
ui.detailsToggle.addEventListener("click", () => {
  const hidden = document.body.classList.toggle("nv-details-hidden");
  ui.detailsToggle.setAttribute("aria-pressed", String(!hidden));
});
ui.viewport.addEventListener("keydown", (e) => {
  const actions: Record<string, () => void> = {
    "+": () => viewport.zoomBy(1.25), "=": () => viewport.zoomBy(1.25), "-": () => viewport.zoomBy(0.8),
    "0": () => viewport.actualSize(), f: () => viewport.fit(), w: () => viewport.fitWidth(),
    ArrowLeft: () => viewport.panBy(40, 0), ArrowRight: () => viewport.panBy(-40, 0),
    ArrowUp: () => viewport.panBy(0, 40), ArrowDown: () => viewport.panBy(0, -40),
    Escape: () => { diagram.select(null); summary.select(null); showDetails(null); },
  };
  const action = actions[e.key];
  if (action) {
    e.preventDefault();
    action();
  }
});
// --- groups, overlays, changes ----------------------------------------------------------------

function readPrefs(saved: unknown): { overlay: OverlayKind; edgeShapes: boolean } {
  const s = (saved ?? {}) as { overlay?: unknown; edgeShapes?: unknown };
  return { overlay: isOverlayKind(s.overlay) ? s.overlay : "category", edgeShapes: s.edgeShapes === true };
}

function savePrefs(): void {
  vscode.setState(host.getState() ?? {});
}

/**
 * The groups the user chose to draw expanded for the current factory; `null`: the server's default.
 * Nested models' groups follow the "Expand nested" toggle, as in the default drawing.
 */
function chosenExpansion(model: ModelView): string[] | null {
  const chosen = state.uri ? expansions.get(placeKey(state.uri, model.factory)) : undefined;
  if (!chosen) return null;
  const nested = (model.graph.groups ?? []).filter((g) => g.kind === "nested").map((g) => g.id);
  const wanted = state.expandNested ? nested : [];
  return [...new Set([...chosen.filter((id) => !nested.includes(id)), ...wanted])].sort();
}

/** The groups drawn expanded now: the user's choice, or the default's. */
function expandedNow(model: ModelView, index: GroupIndex): Set<string> {
  return new Set(chosenExpansion(model) ?? index.defaultExpanded(state.expandNested && hasNested(model)));
}

/** Ask for a drawing with `next` expanded, keeping `anchorId`'s node where it is on screen. */
function setExpansion(model: ModelView, next: Set<string>, anchorId: string | null): void {
  if (!state.uri) return;
  const box = anchorId ? diagram.screenBox(anchorId) : null;
  anchor = box && anchorId ? { id: anchorId, left: box.left, top: box.top } : null;
  expansions.set(placeKey(state.uri, model.factory), [...next].sort());
  render();
}

function expandGroup(groupId: string): void {
  const model = currentModel();
  const index = diagram.groupIndex;
  if (!model || !index) return;
  let next = new Set([...expandedNow(model, index), ...index.chain(groupId)]);
  if (standalone && !hasExpansion(standalone, next)) next = new Set(index.chain(groupId));
  setExpansion(model, next, groupId);
}

function collapseGroup(groupId: string): void {
  const model = currentModel();
  const index = diagram.groupIndex;
  if (!model || !index) return;
  const gone = new Set([groupId, ...index.descendants(groupId)]);
  let next = new Set([...expandedNow(model, index)].filter((id) => !gone.has(id)));
  if (standalone && !hasExpansion(standalone, next)) {
    // The file holds each group's drawing with its ancestors expanded, and for a small graph
    // every group expanded but one (nested ones included): the nearest of those.
    const allButThis = [...index.byId.keys()].filter((id) => !gone.has(id));
    const parent = index.byId.get(groupId)?.parent;
    next = new Set(hasExpansion(standalone, allButThis) ? allButThis : parent ? index.chain(parent) : []);
  }
  setExpansion(model, next, groupId);
}

/** Search expands the groups that hold its matches (up to a few dozen matches, so one letter does not open everything). */
function expandForSearch(): void {
  const model = currentModel();
  const index = diagram.groupIndex;
  const hidden = diagram.hiddenMatches;
  if (!model || !index || hidden.length === 0 || hidden.length > 40 || ui.search.value.trim().length < 2) return;
  const wanted = index.groupsToShow(hidden);
  const now = expandedNow(model, index);
  if ([...wanted].every((id) => now.has(id))) return;
  let next = new Set([...now, ...wanted]);
  if (standalone && !hasExpansion(standalone, next)) {
    const first = index.holdersOf(hidden[0]).filter((g) => g.kind !== "nested").pop();
    if (!first) return;
    next = new Set(index.chain(first.id));
    if (!hasExpansion(standalone, next)) return;
  }
  revealMatch = true;
  setExpansion(model, next, null);
}

/** After a drawing is on the canvas: keep the anchor, colour the overlay, mark the changes, copy the minimap. */
function afterDraw(model: ModelView): void {
  if (anchor) {
    const box = diagram.screenBox(anchor.id);
    if (box) viewport.panBy(anchor.left - box.left, anchor.top - box.top);
    anchor = null;
  }
  diagram.setChanges(currentFailure(model) === "partial" || model.stale ? null : model.changes ?? null);
  applyOverlay();
  const svg = ui.canvas.querySelector<SVGSVGElement>("svg.nv-svg");
  minimap.show(svg, Number(svg?.getAttribute("width") ?? 0), Number(svg?.getAttribute("height") ?? 0));
  minimap.update(viewport.transform);
}

function applyOverlay(): void {
  const model = currentModel();
  const themed = !!ui.canvas.querySelector("svg.nv-svg");
  const drawn = new Map(diagram.drawnIds.map((id) => [id, diagram.layer(id)!] as const));
  const known = model && state.uri ? layerMacs.get(placeKey(state.uri, model.factory)) : undefined;
  const macsNow = known && known.sequence === state.diagram?.sequence ? known.macs : standalone?.macs ?? null;
  const overlay = themed ? computeOverlay(prefs.overlay, drawn, diagram.groupIndex, macsNow) : null;
  diagram.setOverlay(overlay?.classes ?? new Map());
  ui.legend.hidden = !overlay || overlay.legend.length === 0;
  if (overlay && overlay.legend.length) {
    setChildren(ui.legend, h("div", { className: "nv-legend-title" }, overlay.title),
      ...overlay.legend.map((e) => h("div", { className: "nv-legend-row" }, h("span", { className: `nv-legend-swatch ${e.className}` }), e.label)));
  }
}

/** The params delta of the last build beside the summary ("+246,029 params"), until the next build. */
function renderDelta(model: ModelView | undefined): void {
  if (model && diagram.hasDiagram) diagram.setChanges(currentFailure(model) === "partial" || model.stale ? null : model.changes ?? null);
  const delta = model && !model.stale ? model.changes?.params_delta ?? 0 : 0;
  const changes = model?.changes;
  ui.delta.hidden = !delta && !(changes && (changes.added.length || changes.changed.length || changes.removed.length));
  ui.delta.textContent = formatDelta(delta);
  ui.delta.dataset.sign = delta > 0 ? "plus" : delta < 0 ? "minus" : "zero";
  ui.delta.title = changes
    ? `Since the previous build: ${changes.added.length} added, ${changes.changed.length} changed, ${changes.removed.length} removed`
    : "";
}

setChildren(ui.overlay, ...OVERLAY_CHOICES.map(({ kind, label }) => {
  const option = h("option", {}, label);
  option.value = kind;
  return option;
}));
ui.overlay.value = prefs.overlay;
ui.overlay.addEventListener("change", () => {
  prefs.overlay = isOverlayKind(ui.overlay.value) ? ui.overlay.value : "category";
  savePrefs();
  render();
  applyOverlay();
});
ui.edgeShapes.setAttribute("aria-pressed", String(prefs.edgeShapes));
ui.edgeShapes.hidden = !!standalone;
ui.edgeShapes.addEventListener("click", () => {
  prefs.edgeShapes = !prefs.edgeShapes;
  ui.edgeShapes.setAttribute("aria-pressed", String(prefs.edgeShapes));
  savePrefs();
  render();
});
if (standalone) {
  ui.view.hidden = true;
  ui.nested.hidden = true;
  document.title = `${standalone.fileName} · NetViz`;
}

post({ type: "ready" });
