import assert from "node:assert/strict";
import { test } from "node:test";
import { errorPlace, layerById, layerPlace, layersAtLine, placeLabel, revealLine } from "../../src/core/lines";
import type { ModelGraph } from "../../src/core/protocol";
import { graphOf, loadDiagram } from "../support/fixtures";

const seed = loadDiagram("seed_cnns");

test("a cursor line maps to the layers created on it", () => {
  const graph = graphOf(seed, "construct_model");
  assert.deepEqual(layersAtLine(graph, 20), ["conv2d"]);
  assert.deepEqual(layersAtLine(graph, 25), ["dense"]);
  assert.deepEqual(layersAtLine(graph, 17), [], "the def line creates no layer");
});

test("a line inside a loop maps to every layer the loop made", () => {
  const graph = graphOf(seed, "cconstruct_model");
  assert.deepEqual(layersAtLine(graph, 66), ["conv2d", "conv2d_1", "conv2d_2", "conv2d_3"]);
});

test("a call line of a helper maps to the layers the helper made; clicks reveal the innermost line", () => {
  const graph: ModelGraph = {
    ...graphOf(seed, "construct_model"),
    layers: [
      { id: "c1", name: "c1", class_name: "Conv2D", line: 5, call_lines: [5, 30], output_shape: null, params: 0, trainable: true },
      { id: "c2", name: "c2", class_name: "Conv2D", line: 5, call_lines: [5, 31], output_shape: null, params: 0, trainable: true },
      { id: "x", name: "x", class_name: "Dense", line: null, call_lines: [], output_shape: null, params: 0, trainable: true },
    ],
  };
  assert.deepEqual(layersAtLine(graph, 31), ["c2"]);
  assert.deepEqual(layersAtLine(graph, 5), ["c1", "c2"]);
  assert.equal(revealLine(layerById(graph, "c2")!), 5);
  assert.equal(revealLine(layerById(graph, "x")!), null);
});

/** fashion_classifier.ipynb's model cell (5) and a helper cell (6) called from cell 7, as `netviz render` reports them. */
const notebookGraph: ModelGraph = {
  ...graphOf(seed, "construct_model"),
  factory: "model",
  line: 3,
  cell: 5,
  layers: [
    { id: "conv2d", name: "conv2d", class_name: "Conv2D", line: 6, call_lines: [6], cell: 5, call_cells: [5], output_shape: [null, 26, 26, 32], params: 320, trainable: true },
    { id: "dense", name: "dense", class_name: "Dense", line: 9, call_lines: [9], cell: 5, call_cells: [5], output_shape: [null, 10], params: 54090, trainable: true },
    { id: "h", name: "h", class_name: "Dense", line: 2, call_lines: [2, 6], cell: 6, call_cells: [6, 7], output_shape: null, params: 0, trainable: true },
  ],
};

test("in a notebook, a cursor line maps to the layers made on that line of that cell only", () => {
  assert.deepEqual(layersAtLine(notebookGraph, 6, 5), ["conv2d"]);
  assert.deepEqual(layersAtLine(notebookGraph, 6, 7), ["h"], "line 6 of the calling cell is the helper's call");
  assert.deepEqual(layersAtLine(notebookGraph, 2, 6), ["h"]);
  assert.deepEqual(layersAtLine(notebookGraph, 9, 6), [], "line 9 of another cell");
  assert.deepEqual(layersAtLine(notebookGraph, 6), [], "a line with no cell is a Python file's, never a cell's");
});

test("a notebook layer reveals its line in its cell; errors too; labels name the cell", () => {
  assert.deepEqual(layerPlace(layerById(notebookGraph, "dense")!), { cell: 5, line: 9 });
  assert.deepEqual(layerPlace(layerById(notebookGraph, "h")!), { cell: 6, line: 2 });
  assert.deepEqual(layerPlace(layerById(graphOf(seed, "construct_model"), "conv2d")!), { cell: null, line: 20 });
  const noLine = { id: "x", name: "x", class_name: "Dense", line: null, call_lines: [], output_shape: null, params: 0, trainable: true };
  assert.equal(layerPlace(noLine), null);
  assert.deepEqual(errorPlace({ kind: "build", message: "m", line: 2, factory: "bad_head", cell: 9 }), { cell: 9, line: 2 });
  assert.deepEqual(errorPlace({ kind: "build", message: "m", line: 7, factory: "f" }), { cell: null, line: 7 });
  assert.equal(errorPlace({ kind: "crash", message: "m", line: null, factory: null, cell: null }), null);
  assert.equal(placeLabel({ cell: null, line: 7 }), "line 7");
  assert.equal(placeLabel({ cell: 9, line: 2 }), "cell 10, line 2");
});
