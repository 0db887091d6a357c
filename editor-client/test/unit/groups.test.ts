/** Groups, overlays and the params delta as pure functions, on the recorded ResNet50 build (test/record-groups.py). */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { formatDelta, paramsDelta } from "../../src/core/format";
import type { DiagramParams, FileDiagram, Layer } from "../../src/core/protocol";
import { expansionKey, formatBytes, GroupIndex } from "../../src/webview/groups";
import { computeOverlay } from "../../src/webview/overlays";
import { CLIENT_ROOT } from "../support/fixtures";

const resnet = (JSON.parse(readFileSync(join(CLIENT_ROOT, "test", "fixtures", "resnet50.groups.json"), "utf8")) as
  { diagram: DiagramParams }).diagram.models[0].graph;

test("ResNet50's groups: collapsed by default, the groups to open for a layer, a collapsed stage's facts", () => {
  const index = new GroupIndex(resnet);
  assert.equal(resnet.layers.length, 177);
  assert.deepEqual([...index.defaultExpanded(false)], [], "over 120 layers: every group collapsed");
  assert.deepEqual([...index.groupsToShow(["conv4_block3_2_conv"])], ["group:conv4", "group:conv4_block3"]);
  assert.deepEqual(index.chain("group:conv4_block3"), ["group:conv4", "group:conv4_block3"]);
  assert.deepEqual(index.descendants("group:conv2"), ["group:conv2_block1", "group:conv2_block2", "group:conv2_block3"]);
  const conv2 = index.groupLayer(index.byId.get("group:conv2")!);
  assert.deepEqual({ shape: conv2.output_shape, params: conv2.params, name: conv2.name, cls: conv2.class_name },
    { shape: [null, 56, 56, 256], params: 220_032, name: "conv2", cls: "Block" });
  const members = index.members("group:conv2");
  assert.equal(conv2.activation_bytes, members.reduce((n, l) => n + (l.activation_bytes ?? 0), 0));
  assert.equal(conv2.line, members[0].line);
  assert.equal(expansionKey(["group:conv3_block2", "group:conv3"]), "group:conv3,group:conv3_block2");
  assert.equal(formatBytes(4_064_256), "3.9 MiB");
  assert.equal(formatBytes(512), "512 bytes");
});

test("overlays: params in five log steps with zero apart, MACs summed over a group, dtype as categories", () => {
  const index = new GroupIndex(resnet);
  const layer = (id: string): Layer => resnet.layers.find((l) => l.id === id)!;
  const drawn = new Map<string, Layer>([
    ["input_layer", layer("input_layer")],
    ...["group:stem", "group:conv2", "group:conv5"].map((id) => [id, index.groupLayer(index.byId.get(id)!)] as [string, Layer]),
  ]);
  const params = computeOverlay("params", drawn, index, null);
  assert.deepEqual(Object.fromEntries(params.classes),
    { input_layer: "nv-ov-zero", "group:stem": "nv-ov-s0", "group:conv2": "nv-ov-s2", "group:conv5": "nv-ov-s4" });
  assert.deepEqual(params.legend.map((e) => e.className), ["nv-ov-s4", "nv-ov-s3", "nv-ov-s2", "nv-ov-s1", "nv-ov-s0", "nv-ov-zero"]);

  const macs = Object.fromEntries(index.members("group:conv2").map((l, i) => [l.id, i === 0 ? null : 1000]));
  macs["conv1_conv"] = 5;
  const overlay = computeOverlay("macs", drawn, index, macs);
  assert.equal(overlay.classes.get("group:conv2"), "nv-ov-s4", "the group's MACs are its layers' sum");
  assert.equal(overlay.classes.get("group:conv5"), "nv-ov-none", "none of its layers counted");
  assert.equal(overlay.classes.get("group:stem"), "nv-ov-s0");

  const dtype = computeOverlay("dtype", drawn, index, null);
  assert.deepEqual(dtype.legend, [{ className: "nv-ov-c0", label: "float32" }]);
  assert.deepEqual(computeOverlay("category", drawn, index, null).classes.size, 0);
});

test("the params delta of a build, for the panel and the status bar", () => {
  assert.equal(formatDelta(246029), "+246,029 params");
  assert.equal(formatDelta(-1000), "\u22121,000 params");
  assert.equal(formatDelta(1), "+1 param");
  const diagram = (changes: FileDiagram["models"][number]["changes"][], stale = false): FileDiagram => ({
    uri: "file:///a.py", version: 1, errors: [], elapsedMs: 1, sequence: 1,
    models: changes.map((c, i) => ({ factory: `f${i}`, svg: "", graph: resnet, stale, changes: c })),
  });
  assert.equal(paramsDelta(diagram([{ added: [], removed: [], changed: ["dense"], params_delta: 246029 }, null])), 246029);
  assert.equal(paramsDelta(diagram([{ added: ["a"], removed: [], changed: [], params_delta: 10 },
    { added: [], removed: ["b"], changed: [], params_delta: -4 }])), 6);
  assert.equal(paramsDelta(diagram([{ added: [], removed: [], changed: [], params_delta: 0 }])), null, "nothing changed");
  assert.equal(paramsDelta(diagram([null])), null, "a first build has nothing to compare");
  assert.equal(paramsDelta(diagram([{ added: [], removed: [], changed: ["x"], params_delta: 5 }], true)), null, "stale");
});
