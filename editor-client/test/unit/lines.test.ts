import assert from "node:assert/strict";
import { test } from "node:test";
import { layerById, layersAtLine, revealLine } from "../../src/core/lines";
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
