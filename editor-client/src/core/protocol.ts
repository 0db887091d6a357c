/**
 * The wire types NetViz speaks, in one place and free of `vscode` imports, so the
 * extension, the webview page and the tests share them.
 *
 * Server -> client: docs/protocol.md, the contract (lines 1-based); the wire types
 * above the "extension <-> webview" line are checked against it by
 * tests/test_protocol_doc.py. Extension <-> webview: the `ToPreview` / `FromPreview`
 * unions below it; anything the webview posts is checked by `parseFromPreview` before
 * it is trusted.
 */

/** A layer's output: one shape, or one shape per output; `null` dims are the batch. */
export type Shape = (number | null)[];

/** One layer of a built model (graph contract). Names are user text: never markup. */
export interface Layer {
  id: string;
  name: string;
  class_name: string;
  line: number | null;
  call_lines: number[];
  output_shape: Shape | Shape[] | null;
  params: number;
  trainable: boolean;
  activation?: string | null;
  dtype?: string | null;
  parent?: string | null;
  trainable_params?: number;
  is_model?: boolean;
  /** Notebooks: the cell of `line` (then cell-local). */
  cell?: number | null;
  /** Notebooks: the cell of each `call_lines` entry. */
  call_cells?: number[];
  /** Bytes of the output per sample; `null` when a dimension is unknown. */
  activation_bytes?: number | null;
  /** Only in an error's partial graph: this layer's call raised. */
  failed?: boolean;
}

/** A collapsible set of layers (graph contract `groups[]`). */
export interface Group {
  id: string;
  label: string;
  kind: "nested" | "repeat" | "block";
  layers: string[];
  parent: string | null;
  params: number;
}

/** One factory's model (graph contract). */
export interface ModelGraph {
  factory: string;
  line: number;
  class_name: string;
  total_params: number;
  trainable_params: number;
  non_trainable_params: number;
  inputs: Shape[];
  outputs: Shape[];
  build: { ms: number; shape_only: boolean; note?: string | null; cached?: boolean; backend?: string | null };
  layers: Layer[];
  edges: [string, string][];
  name?: string | null;
  weights_bytes?: number;
  kind?: "factory" | "variable";
  /** Notebooks: the cell of `line` (then cell-local). */
  cell?: number | null;
  groups?: Group[];
  memory?: Memory | null;
}

/** What a model costs in memory (graph contract `memory`). */
export interface Memory {
  param_bytes: number;
  activation_bytes_per_sample: number;
}

/** A build error as a value (graph contract `errors[]`). */
export interface BuildError {
  kind: string;
  message: string;
  line?: number | null;
  factory?: string | null;
  column?: number | null;
  /** Notebooks: the cell of `line` (then cell-local). */
  cell?: number | null;
  /** The call sites that led to the failure, innermost first. */
  call_lines?: number[];
  call_cells?: number[];
  /** The partial graph up to the failure; its failing layer has `failed: true`. */
  graph?: ModelGraph | null;
}

/** What changed since the previous diagram of the same file and target. */
export interface Changes {
  added: string[];
  removed: string[];
  changed: string[];
  params_delta: number;
}

/** `netviz/diagram`: everything one build of one file produced. */
export interface DiagramParams {
  uri: string;
  version: number | null;
  models: { factory: string; svg: string | null; graph: ModelGraph; changes?: Changes | null }[];
  errors: BuildError[];
  elapsed_ms: number;
  /** Each failed target's partial graph, drawn (its graph is the error's `graph`). */
  partials?: PartialDiagram[];
}

/** A failed target's partial graph, drawn; its graph is the error's `graph`. */
export interface PartialDiagram {
  factory: string;
  svg: string | null;
}

export type BuildState = "queued" | "building" | "done" | "failed";

/** `netviz/buildStatus`: where a file's build stands. */
export interface BuildStatusParams {
  uri: string;
  state: BuildState;
  message: string;
}

/** One entry of the server command `netviz.listFactories`. */
export interface FactoryInfo {
  name: string;
  line: number;
  args: string | null;
  argsOrigin: string | null;
  missing: string[];
  built: boolean;
  totalParams: number | null;
}

export const DIAGRAM_NOTIFICATION = "netviz/diagram";
export const BUILD_STATUS_NOTIFICATION = "netviz/buildStatus";

/** Server commands (workspace/executeCommand); each takes one object argument. */
export const ServerCommand = {
  export: "netviz.export",
  rebuild: "netviz.rebuild",
  restartWorker: "netviz.restartWorker",
  listFactories: "netviz.listFactories",
  renderView: "netviz.renderView",
} as const;

/** The views the server draws (`render_view`); `graph` is the diagram `netviz/diagram` carries. */
export type ViewName = "graph" | "keras" | "layered" | "neuron" | "summary";

/** The panel's view picker, in its order. */
export const VIEW_CHOICES: readonly { view: ViewName; label: string }[] = [
  { view: "graph", label: "Graph" },
  { view: "keras", label: "plot_model" },
  { view: "layered", label: "Layered" },
  { view: "neuron", label: "Neuron" },
  { view: "summary", label: "Summary" },
];

/** What the panel asks `netviz.renderView` for (besides the uri). */
export interface ViewRequest {
  factory: string;
  view: ViewName;
  expandNested: boolean;
  /** The graph view's groups drawn expanded (the others collapsed); `null` or absent: the server's default. */
  expand?: string[] | null;
  /** Label the graph view's edges with tensor shapes. */
  edgeShapes?: boolean;
}

/** The answer of `netviz.renderView`: `content` is SVG text, or an HTML page for the summary. */
export interface RenderedView {
  factory: string;
  view: ViewName;
  format: "svg" | "html" | "md" | "dot";
  content: string;
  totalMacs: number;
  /** Layer id -> its MACs, `null` where not counted (`render/views/macs.py`); read it with `layerMacsOf`. */
  layerMacs: object;
}

// --- extension <-> webview ---------------------------------------------------------

/** One factory's diagram as the panel shows it. */
export interface ModelView {
  factory: string;
  svg: string | null;
  graph: ModelGraph;
  /** True when this is the last good diagram of a factory whose latest build failed. */
  stale: boolean;
  /** What changed since the previous diagram of this target (`netviz/diagram`'s `changes`); kept until the next build. */
  changes?: Changes | null;
  /**
   * The factory's latest build failed and its error carries a partial graph: the panel draws it
   * instead of `svg`, the last good diagram (when `stale`) one click away.
   */
  partial?: PartialView | null;
  /** No good build yet: `graph` is the partial graph and `svg` is `null`; only `partial` can be drawn. */
  partialOnly?: boolean;
}

/** A failed factory's partial graph as the panel shows it: the drawing, the graph and its error. */
export interface PartialView {
  svg: string | null;
  graph: ModelGraph;
  error: BuildError;
}

/** A file's diagrams as the panel shows them: the latest build, plus kept-over stale ones. */
export interface FileDiagram {
  uri: string;
  version: number | null;
  models: ModelView[];
  errors: BuildError[];
  elapsedMs: number;
  /** Increases with every accepted update, so the webview can tell new from repeated. */
  sequence: number;
}

export interface StatusView {
  state: BuildState;
  message: string;
}

/** Why the panel cannot show a diagram, when it cannot. */
export type Notice =
  | { kind: "untrusted" }
  | { kind: "server"; message: string }
  | { kind: "noFile" };

export type ToPreview =
  /** Everything about the document the panel now follows (sent on switch and on `ready`). */
  | {
      type: "document";
      uri: string;
      fileName: string;
      diagram: FileDiagram | null;
      status: StatusView | null;
      notice: Notice | null;
      factory: string | null;
      cursorLine: number | null;
      /** Notebooks: the cell the cursor is in (the contract's `cell`); `null` or absent in a Python file. */
      cursorCell?: number | null;
    }
  | { type: "diagram"; uri: string; diagram: FileDiagram }
  | { type: "status"; uri: string; status: StatusView | null }
  | { type: "notice"; notice: Notice | null }
  /** The editor's cursor line, in `cell` for a notebook (`null` or absent in a Python file). */
  | { type: "cursor"; uri: string; line: number | null; cell?: number | null }
  | { type: "selectFactory"; uri: string; factory: string }
  /** The answer to the page's `renderView` request `id`: the drawing, or why there is none. */
  | { type: "view"; uri: string; id: number; result: RenderedView | null; error: string | null };

export type FromPreview =
  | { type: "ready" }
  /** Click on a node or an error: show `line` (1-based) of `uri` in the editor; of cell `cell` of a notebook. */
  | { type: "reveal"; uri: string; line: number; cell: number | null }
  /** The user picked another factory in the panel. */
  | { type: "factory"; uri: string; factory: string }
  /** Draw a view of a factory (`netviz.renderView`); the answer comes back as `view` with the same `id`. */
  | ({ type: "renderView"; uri: string; id: number } & ViewRequest);

/** `RenderedView.layerMacs` as a map (the protocol doc's reader takes `object`, not `Record`). */
export function layerMacsOf(view: RenderedView): Record<string, number | null> {
  return view.layerMacs as Record<string, number | null>;
}

/** A message from the webview, checked field by field; `null` when malformed. */
export function parseFromPreview(value: unknown): FromPreview | null {
  if (typeof value !== "object" || value === null) return null;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case "ready":
      return { type: "ready" };
    case "reveal":
      if (typeof m.uri !== "string" || !isLine(m.line)) return null;
      if (m.cell === undefined || m.cell === null) return { type: "reveal", uri: m.uri, line: m.line, cell: null };
      return isCell(m.cell) ? { type: "reveal", uri: m.uri, line: m.line, cell: m.cell } : null;
    case "factory":
      return typeof m.uri === "string" && typeof m.factory === "string"
        ? { type: "factory", uri: m.uri, factory: m.factory }
        : null;
    case "renderView":
      return typeof m.uri === "string" && Number.isInteger(m.id) && typeof m.factory === "string"
        && isViewName(m.view) && typeof m.expandNested === "boolean"
        && (m.expand === undefined || m.expand === null
          || (Array.isArray(m.expand) && m.expand.every((g) => typeof g === "string")))
        && (m.edgeShapes === undefined || typeof m.edgeShapes === "boolean")
        ? {
            type: "renderView", uri: m.uri, id: m.id as number, factory: m.factory, view: m.view,
            expandNested: m.expandNested,
            ...(Array.isArray(m.expand) ? { expand: m.expand as string[] } : {}),
            ...(m.edgeShapes === true ? { edgeShapes: true } : {}),
          }
        : null;
    default:
      return null;
  }
}

function isViewName(value: unknown): value is ViewName {
  return VIEW_CHOICES.some((c) => c.view === value);
}

function isCell(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function isLine(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1;
}
