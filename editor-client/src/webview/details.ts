/** The side pane: one layer's facts, or the model's when no layer is hovered or selected. */

import { formatCount, formatInt, formatMacs, formatMs, formatShape, targetLabel } from "../core/format";
import { errorPlace, layerPlace, placeLabel } from "../core/lines";
import type { BuildError, Layer, ModelGraph } from "../core/protocol";
import { h, setChildren } from "./dom";
import { formatBytes, type GroupIndex } from "./groups";

type Row = [label: string, value: string | Node];

/**
 * A layer's facts; `macs` when the server counted them. A collapsed group's synthetic layer
 * (`groups` holds it) shows the group's: its kind, layer count, totals and exit shape.
 */
export function showLayer(pane: HTMLElement, layer: Layer, graph: ModelGraph, macs: number | null = null,
  groups: GroupIndex | null = null): void {
  const group = groups?.byId.get(layer.id);
  if (group) {
    const place = layerPlace(layer);
    setChildren(
      pane,
      h("div", { className: "nv-details-kicker" }, `${layer.class_name} group · collapsed`),
      h("h2", { className: "nv-details-name" }, group.label),
      table([
        ["Layers", formatInt(group.layers.length)],
        ["Output", h("code", {}, formatShape(layer.output_shape))],
        ["Params", paramsText(layer)],
        ...(macs !== null ? [["MACs", formatMacs(macs)] as Row] : []),
        ["Memory", memoryText(layer.activation_bytes)],
        ["First line", !place ? "unknown" : place.cell === null ? String(place.line) : placeLabel(place)],
      ]),
      h("p", { className: "nv-details-hint" }, "Click the group to expand it; click the − in an expanded group's title to collapse it."),
    );
    return;
  }
  const lines = layer.call_lines.length > 1 ? callChain(layer) : null;
  const place = layerPlace(layer);
  const rows: Row[] = [
    ["Output", h("code", {}, formatShape(layer.output_shape))],
    ["Params", paramsText(layer)],
    ...(macs !== null ? [["MACs", formatMacs(macs)] as Row] : []),
    // Graphs from before memory was measured have no activation_bytes: no row then.
    ...(typeof layer.activation_bytes === "number" ? [["Memory", memoryText(layer.activation_bytes)] as Row] : []),
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

/**
 * The model's facts; `totalMacs` when a drawing from the server has counted them. `failure`: `graph`
 * is that error's partial graph, drawn up to it: the pane says where the build failed and why,
 * in place of a build time (a build that raised has none worth showing).
 */
export function showModel(pane: HTMLElement, graph: ModelGraph, stale: boolean, totalMacs: number | null = null,
  failure: BuildError | null = null): void {
  const rows: Row[] = [
    ["Class", graph.class_name],
    ...(graph.name && graph.name !== graph.factory ? [["Keras name", graph.name] as Row] : []),
    ["Layers", String(graph.layers.filter((l) => !l.parent).length)],
    ["Params", `${formatInt(graph.total_params)} (${formatCount(graph.total_params)})`],
    ["Trainable", formatInt(graph.trainable_params)],
    ["Non-trainable", formatInt(graph.non_trainable_params)],
    ...(totalMacs !== null ? [["MACs", formatMacs(totalMacs)] as Row] : []),
    ...(graph.memory ? [
      ["Weights", formatBytes(graph.memory.param_bytes)] as Row,
      ["Activations", `${formatBytes(graph.memory.activation_bytes_per_sample)} per sample`] as Row,
    ] : []),
    ["Inputs", h("code", {}, graph.inputs.map((s) => formatShape(s)).join(", ") || "—")],
    ["Outputs", h("code", {}, graph.outputs.map((s) => formatShape(s)).join(", ") || "—")],
    ...(failure ? failureRows(failure) : [["Built", `${formatMs(graph.build.ms)}${graph.build.shape_only ? ", shape-only" : ""}`] as Row]),
    ["Factory line", graph.cell === null || graph.cell === undefined ? String(graph.line) : placeLabel({ cell: graph.cell, line: graph.line })],
  ];
  setChildren(
    pane,
    h("div", { className: "nv-details-kicker" }, failure ? "Model · drawn up to the error" : stale ? "Model · out of date" : "Model"),
    h("h2", { className: "nv-details-name" }, targetLabel(graph)),
    table(rows),
    graph.build.note ? h("p", { className: "nv-details-note" }, graph.build.note) : null,
    h("p", { className: "nv-details-hint" }, "Hover a layer for its details; click it to show its line."),
  );
}

/** Where and why the build failed: `failed at line 21` (`cell 3, line 2` in a notebook), then the message's first line. */
function failureRows(error: BuildError): Row[] {
  const place = errorPlace(error);
  const first = error.message.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? error.kind;
  return [
    ["Build", place ? `failed at ${placeLabel(place)}` : "failed"],
    ["Error", first],
  ];
}

/** `5 ← 31`; in a notebook each line with its cell: `cell 3, line 5 ← cell 6, line 2`. */
function callChain(layer: Layer): string {
  const cells = layer.call_cells ?? [];
  if (cells.length !== layer.call_lines.length) return layer.call_lines.join(" ← ");
  return layer.call_lines.map((line, i) => placeLabel({ cell: cells[i], line })).join(" ← ");
}

/** A layer's output memory per sample: `3.9 MiB (4,064,256 bytes) per sample`. */
function memoryText(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "—";
  return bytes < 1024 ? `${formatBytes(bytes)} per sample` : `${formatBytes(bytes)} (${formatInt(bytes)} bytes) per sample`;
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
