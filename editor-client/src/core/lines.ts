/**
 * Mapping between editor lines and diagram nodes (1-based lines, as in the graph contract).
 * In a notebook a line is a line of one cell: `cell` is the cell's index in the notebook
 * (markdown cells counted); in a Python file `cell` is `null`.
 */

import type { BuildError, Layer, ModelGraph } from "./protocol";

/** A line of the previewed document: of a Python file (`cell: null`), or of a notebook's cell. */
export interface SourcePlace {
  cell: number | null;
  line: number;
}

/** Ids of the layers built at `line` (of `cell`): created there, or by a helper called from there. */
export function layersAtLine(graph: ModelGraph, line: number, cell: number | null = null): string[] {
  return graph.layers.filter((l) => {
    if (l.line === line && (l.cell ?? null) === cell) return true;
    return l.call_lines.some((at, i) => at === line && (l.call_cells?.[i] ?? null) === cell);
  }).map((l) => l.id);
}

/**
 * The line a click on a layer reveals: where the layer was created in the file.
 * For a layer made inside a helper the innermost line is the helper's, which is
 * where its arguments are, so that is the one shown.
 */
export function revealLine(layer: Layer): number | null {
  return layer.line ?? layer.call_lines[0] ?? null;
}

/** The place a click on a layer reveals (`revealLine`, in its cell); `null` when it has no line. */
export function layerPlace(layer: Layer): SourcePlace | null {
  if (layer.line !== null) return { cell: layer.cell ?? null, line: layer.line };
  const line = layer.call_lines[0];
  return line === undefined ? null : { cell: layer.call_cells?.[0] ?? null, line };
}

/** The place an error belongs to; `null` when no line is to blame. */
export function errorPlace(error: BuildError): SourcePlace | null {
  const line = error.line;
  return typeof line === "number" && line >= 1 ? { cell: error.cell ?? null, line } : null;
}

/**
 * A place as the panel writes it: `line 4` in a Python file, `cell 6, line 4` in a notebook.
 * Cells are numbered from 1, as VS Code's status bar counts them ("Cell 6 of 11") and
 * `netviz render NB.ipynb` prints them; the contract's `cell` is the 0-based index.
 */
export function placeLabel(place: SourcePlace): string {
  return place.cell === null ? `line ${place.line}` : `cell ${place.cell + 1}, line ${place.line}`;
}

export function layerById(graph: ModelGraph, id: string): Layer | undefined {
  return graph.layers.find((l) => l.id === id);
}
