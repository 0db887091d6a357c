/**
 * A failed build's partial graph in the diagram store and the panel's choice of drawing, on the
 * payloads the real server sent for test/fixtures/mismatched_add.py (a good build, then the
 * saved edit whose Add fails: test/record-payloads.py `failure`).
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { summarizeBuild } from "../../src/core/buildSummary";
import { DiagramStore } from "../../src/core/diagramStore";
import type { DiagramParams } from "../../src/core/protocol";
import { failureShown, shownGraph } from "../../src/webview/failure";
import { CLIENT_ROOT } from "../support/fixtures";

function load(name: string): DiagramParams {
  return JSON.parse(readFileSync(join(CLIENT_ROOT, "test", "fixtures", `${name}.diagram.json`), "utf8")) as DiagramParams;
}

const good = load("failure.before");
const failed = load("failure");

test("a failed factory keeps its last good diagram, stale, with the partial graph of its error", () => {
  const store = new DiagramStore();
  store.applyDiagram(good);
  const diagram = store.applyDiagram(failed)!;
  assert.equal(diagram.models.length, 1);
  const [model] = diagram.models;
  assert.equal(model.stale, true);
  assert.equal(model.partialOnly, undefined);
  assert.equal(model.svg, good.models[0].svg, "the last good drawing stays");
  assert.equal(model.partial?.svg, failed.partials![0].svg);
  assert.equal(model.partial?.graph, failed.errors[0].graph, "the partial graph is the error's own");
  assert.equal(model.partial?.error.line, 21);
  assert.deepEqual(summarizeBuild({ state: "failed", message: "" }, diagram, "build_classifier"), { kind: "failed", text: "Build failed" });
});

test("a factory that never built is listed with its partial graph alone; the next failure or success replaces it", () => {
  const store = new DiagramStore();
  const first = store.applyDiagram(failed)!;
  assert.deepEqual(first.models.map((m) => [m.factory, m.stale, m.partialOnly, m.svg]), [["build_classifier", false, true, null]]);
  assert.equal(first.models[0].graph, failed.errors[0].graph);
  const failedStatus = { state: "failed" as const, message: "" };
  assert.equal(summarizeBuild(failedStatus, first).kind, "failed", "the file's only model never built");
  const withGood = store.applyDiagram({ ...failed, version: 2, models: [{ ...good.models[0], factory: "build_other" }] })!;
  assert.equal(summarizeBuild(failedStatus, withGood).kind, "problems",
    "for the status bar a never-built factory is a problem beside a good diagram, not a failure of the file");
  assert.equal(summarizeBuild(failedStatus, withGood, "build_classifier").kind, "failed");

  // Failing again: still partial-only, never a "last good" made of the previous partial.
  const again = store.applyDiagram({ ...failed, version: 3, models: [] })!;
  assert.deepEqual(again.models.map((m) => [m.stale, m.partialOnly]), [[false, true]]);
  // A failure without a partial graph (a timeout, say) leaves nothing to draw of it.
  const timeout = store.applyDiagram({ ...failed, version: 4, partials: [],
    errors: [{ kind: "timeout", message: "build timed out", line: 17, factory: "build_classifier" }] })!;
  assert.deepEqual(timeout.models, []);
  const fixed = store.applyDiagram({ ...good, version: 5 })!;
  assert.deepEqual(fixed.models.map((m) => [m.stale, m.partial ?? null]), [[false, null]]);
});

test("partials pair with their factory's error, whatever else failed", () => {
  const store = new DiagramStore();
  const other = { kind: "arguments" as const, message: "needs arguments", line: 3, factory: "build_other" };
  const diagram = store.applyDiagram({ ...failed, errors: [other, ...failed.errors] })!;
  assert.equal(diagram.models[0].partial?.error, failed.errors[0]);
  assert.equal(store.applyDiagram({ ...failed, version: 9, partials: undefined })!.models.length, 0, "an older server sends no partials");
});

test("the Graph view draws the partial graph unless the last good diagram is asked for; other views draw the last good build", () => {
  const store = new DiagramStore();
  store.applyDiagram(good);
  const model = store.applyDiagram(failed)!.models[0];
  assert.equal(failureShown(model, "graph", false), "partial");
  assert.equal(shownGraph(model, "partial"), model.partial!.graph);
  assert.equal(failureShown(model, "graph", true), "good");
  assert.equal(shownGraph(model, "good"), model.graph);
  assert.equal(failureShown(model, "layered", false), "good");
  assert.equal(failureShown({ ...model, partial: { ...model.partial!, svg: null } }, "graph", false), "good",
    "a partial Graphviz could not draw leaves the last good diagram");

  const only = new DiagramStore().applyDiagram(failed)!.models[0];
  assert.equal(failureShown(only, "graph", true), "partial", "nothing else to show");
  assert.equal(failureShown(only, "summary", false), "none");
  assert.equal(failureShown(good.models.map((m) => ({ ...m, stale: false }))[0], "graph", false), null);
});
