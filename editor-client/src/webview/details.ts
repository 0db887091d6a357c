/** The side pane: one layer's facts, or the model's when no layer is hovered or selected. */

import { formatCount, formatInt, formatMacs, formatMs, formatShape, targetLabel } from "../core/format";
import { layerPlace, placeLabel } from "../core/lines";
import type { Layer, ModelGraph } from "../core/protocol";
import { h, setChildren } from "./dom";

type Row = [label: string, value: string | Node];

export function showLayer(pane: HTMLElement, layer: Layer, graph: ModelGraph): void {
  const lines = layer.call_lines.length > 1 ? callChain(layer) : null;
  const place = layerPlace(layer);
  const rows: Row[] = [
    ["Output", h("code", {}, formatShape(layer.output_shape))],
    ["Params", paramsText(layer)],
    ["Activation", layer.activation ?? "—"],
    ["Dtype", layer.dtype ?? "—"],
    ["Trainable", layer.trainable ? "yes" : "no"],
    ["Line", layer.line === null || !place ? "unknown" : place.cell === null ? String(layer.line) : placeLabel(place)],
  ];
  if (lines) rows.push(["Call chain", lines]);
  if (layer.parent) rows.push(["Inside", graph.layers.find((l) => l.id === layer.parent)?.name ?? layer.parent]);
  setChildren(
    pane,
    h("div", { className: "nv-details-kicker" }, layer.class_name),
    h("h2", { className: "nv-details-name" }, layer.name),
    table(rows),
    layer.line !== null ? h("p", { className: "nv-details-hint" }, "Click the layer to show its line.") : null,
  );
}

/** The model's facts; `totalMacs` when a drawing from the server has counted them. */
export function showModel(pane: HTMLElement, graph: ModelGraph, stale: boolean, totalMacs: number | null = null): void {
  const rows: Row[] = [
    ["Class", graph.class_name],
    ...(graph.name && graph.name !== graph.factory ? [["Keras name", graph.name] as Row] : []),
    ["Layers", String(graph.layers.filter((l) => !l.parent).length)],
    ["Params", `${formatInt(graph.total_params)} (${formatCount(graph.total_params)})`],
    ["Trainable", formatInt(graph.trainable_params)],
    ["Non-trainable", formatInt(graph.non_trainable_params)],
    ...(totalMacs !== null ? [["MACs", formatMacs(totalMacs)] as Row] : []),
    ["Inputs", h("code", {}, graph.inputs.map((s) => formatShape(s)).join(", ") || "—")],
    ["Outputs", h("code", {}, graph.outputs.map((s) => formatShape(s)).join(", ") || "—")],
    ["Built", `${formatMs(graph.build.ms)}${graph.build.shape_only ? ", shape-only" : ""}`],
    ["Factory line", graph.cell === null || graph.cell === undefined ? String(graph.line) : placeLabel({ cell: graph.cell, line: graph.line })],
  ];
  setChildren(
    pane,
    h("div", { className: "nv-details-kicker" }, stale ? "Model · out of date" : "Model"),
    h("h2", { className: "nv-details-name" }, targetLabel(graph)),
    table(rows),
    graph.build.note ? h("p", { className: "nv-details-note" }, graph.build.note) : null,
    h("p", { className: "nv-details-hint" }, "Hover a layer for its details; click it to show its line."),
  );
}

/** `5 ← 31`; in a notebook each line with its cell: `cell 3, line 5 ← cell 6, line 2`. */
function callChain(layer: Layer): string {
  const cells = layer.call_cells ?? [];
  if (cells.length !== layer.call_lines.length) return layer.call_lines.join(" ← ");
  return layer.call_lines.map((line, i) => placeLabel({ cell: cells[i], line })).join(" ← ");
}

function paramsText(layer: Layer): string {
  const trainable = layer.trainable_params;
  if (trainable === undefined || trainable === layer.params) return formatInt(layer.params);
  return `${formatInt(layer.params)} (${formatInt(trainable)} trainable)`;
}

function table(rows: Row[]): HTMLElement {
  const dl = h("dl", { className: "nv-facts" });
  for (const [label, value] of rows) dl.append(h("dt", {}, label), h("dd", {}, value));
  return dl;
}
