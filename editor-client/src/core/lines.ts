/** Mapping between editor lines and diagram nodes (1-based lines, as in the graph contract). */

import type { Layer, ModelGraph } from "./protocol";

/** Ids of the layers built at `line`: created there, or by a helper called from there. */
export function layersAtLine(graph: ModelGraph, line: number): string[] {
  return graph.layers.filter((l) => l.line === line || l.call_lines.includes(line)).map((l) => l.id);
}

/**
 * The line a click on a layer reveals: where the layer was created in the file.
 * For a layer made inside a helper the innermost line is the helper's, which is
 * where its arguments are, so that is the one shown.
 */
export function revealLine(layer: Layer): number | null {
  return layer.line ?? layer.call_lines[0] ?? null;
}

export function layerById(graph: ModelGraph, id: string): Layer | undefined {
  return graph.layers.find((l) => l.id === id);
}
