import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultExportPath } from "../../src/core/export";
import { formatCount, formatInt, formatMacs, formatMs, formatShape, targetLabel } from "../../src/core/format";

test("shapes read as Keras prints them", () => {
  assert.equal(formatShape([null, 126, 126, 64]), "(None, 126, 126, 64)");
  assert.equal(formatShape([null]), "(None,)");
  assert.equal(formatShape([[null, 4], [null, 2]]), "[(None, 4), (None, 2)]");
  assert.equal(formatShape(null), "?");
});

test("counts and times", () => {
  assert.equal(formatInt(63021004), "63,021,004");
  assert.equal(formatCount(63021004), "63.0M");
  assert.equal(formatCount(640), "640");
  assert.equal(formatMs(95.1), "95 ms");
  assert.equal(formatMs(7177.3), "7.2 s");
});

test("MACs read as they are quoted: G, not B", () => {
  assert.equal(formatMacs(1_234_000_000), "1.2G");
  assert.equal(formatMacs(345_600_000), "345.6M");
  assert.equal(formatMacs(9_144_576), "9.1M");
  assert.equal(formatMacs(2_500_000_000_000), "2.5T");
  assert.equal(formatMacs(640), "640");
});

test("exports are named like `netviz render` names them", () => {
  assert.equal(defaultExportPath("/w/seed_cnns.py", "construct_model", { view: "graph", format: "svg" }), "/w/seed_cnns.construct_model.svg");
  assert.equal(defaultExportPath("/w/unet.py", "unet", { view: "layered", format: "svg" }), "/w/unet.unet.layered.svg");
  assert.equal(defaultExportPath("/w/fashion_classifier.ipynb", "model", { view: "graph", format: "png" }), "/w/fashion_classifier.model.png",
    "a notebook: <notebook>.<target>.<ext>");
});

test("a factory is named as its call, a module-level model variable as itself", () => {
  assert.equal(targetLabel({ factory: "construct_model", kind: "factory" }), "construct_model()");
  assert.equal(targetLabel({ factory: "construct_model" }), "construct_model()");
  assert.equal(targetLabel({ factory: "model", kind: "variable" }), "model");
});
