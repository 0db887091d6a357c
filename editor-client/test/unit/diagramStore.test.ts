import assert from "node:assert/strict";
import { test } from "node:test";
import { summarizeBuild } from "../../src/core/buildSummary";
import { DiagramStore } from "../../src/core/diagramStore";
import type { DiagramParams } from "../../src/core/protocol";
import { loadDiagram } from "../support/fixtures";

const seed = loadDiagram("seed_cnns");
const uri = seed.uri;

function withVersion(version: number | null, change: Partial<DiagramParams> = {}): DiagramParams {
  return { ...seed, version, ...change };
}

test("a diagram for an older version than the one shown is dropped; newer and equal ones win", () => {
  const store = new DiagramStore();
  assert.ok(store.applyDiagram(withVersion(3)));
  assert.equal(store.applyDiagram(withVersion(2, { models: [] })), undefined);
  assert.equal(store.diagram(uri)?.version, 3);
  assert.equal(store.diagram(uri)?.models.length, 3);
  assert.ok(store.applyDiagram(withVersion(3, { elapsed_ms: 5 })), "a rebuild of the same version is shown");
  assert.equal(store.diagram(uri)?.elapsedMs, 5);
  assert.ok(store.applyDiagram(withVersion(null)), "a build from disk (no version) is never older");
});

test("every accepted update gets a new sequence number", () => {
  const store = new DiagramStore();
  const a = store.applyDiagram(withVersion(1))!;
  const b = store.applyDiagram(withVersion(2))!;
  assert.ok(b.sequence > a.sequence);
});

test("a factory whose build failed keeps its last good diagram, marked stale", () => {
  const store = new DiagramStore();
  store.applyDiagram(withVersion(1));
  const failed = store.applyDiagram(withVersion(2, {
    models: seed.models.filter((m) => m.factory !== "sconstruct_model"),
    errors: [{ kind: "build", message: "ValueError: boom", line: 51, factory: "sconstruct_model" }],
  }))!;
  assert.deepEqual(failed.models.map((m) => [m.factory, m.stale]), [
    ["construct_model", false], ["sconstruct_model", true], ["cconstruct_model", false],
  ]);
  assert.equal(failed.models[1].graph.total_params, 5277260, "the stale diagram is the last good one");

  const fixed = store.applyDiagram(withVersion(3))!;
  assert.equal(fixed.models.some((m) => m.stale), false);
});

test("a syntax error (no factory) keeps every diagram, stale; a factory removed without error goes", () => {
  const store = new DiagramStore();
  store.applyDiagram(withVersion(1));
  const syntax = store.applyDiagram(withVersion(2, {
    models: [], errors: [{ kind: "syntax", message: "invalid syntax", line: 12, factory: null }],
  }))!;
  assert.equal(syntax.models.length, 3);
  assert.ok(syntax.models.every((m) => m.stale));

  const renamed = store.applyDiagram(withVersion(3, { models: seed.models.slice(0, 1), errors: [] }))!;
  assert.deepEqual(renamed.models.map((m) => m.factory), ["construct_model"]);
});

test("build status is kept per file, and forgotten with it", () => {
  const store = new DiagramStore();
  store.applyDiagram(withVersion(1));
  store.applyStatus({ uri, state: "failed", message: "Build timed out after 60 s" });
  assert.equal(store.status(uri)?.state, "failed");
  assert.equal(store.status("file:///other.py"), undefined);
  store.forget(uri);
  assert.equal(store.diagram(uri), undefined);
  assert.equal(store.status(uri), undefined);
});

test("the build line says failed only for a stale or missing diagram; other factories' errors are problems", () => {
  const store = new DiagramStore();
  store.applyDiagram(withVersion(1, { elapsed_ms: 95 }));
  const failedStatus = { state: "failed" as const, message: "1 factory failed" };
  const partly = store.applyDiagram(withVersion(2, {
    elapsed_ms: 120, models: seed.models.slice(0, 2),
    errors: [{ kind: "build", message: "boom", line: 69, factory: "cconstruct_model" }],
  }))!;
  assert.deepEqual(summarizeBuild(failedStatus, partly, "construct_model"), { kind: "problems", text: "Built in 120 ms · 1 problem" });
  assert.deepEqual(summarizeBuild(failedStatus, partly, "cconstruct_model"), { kind: "failed", text: "Build failed · out of date" });
  assert.equal(summarizeBuild(failedStatus, partly).kind, "failed", "the status bar counts any stale diagram");
  assert.deepEqual(summarizeBuild({ state: "building", message: "" }, partly, "construct_model"), { kind: "building", text: "Building…" });
  assert.deepEqual(summarizeBuild({ state: "done", message: "" }, store.applyDiagram(withVersion(3, { elapsed_ms: 95 })), "construct_model"),
    { kind: "done", text: "Built in 95 ms" });
  assert.deepEqual(summarizeBuild(failedStatus, undefined), { kind: "failed", text: "Build failed" });
  assert.deepEqual(summarizeBuild(undefined, undefined), { kind: "none", text: "" });
});

test("a notebook's models keep source order across cells: by cell, then by line in it; a stale one keeps its place", () => {
  const notebook = loadDiagram("notebook");
  const store = new DiagramStore();
  const first = store.applyDiagram(notebook)!;
  assert.deepEqual(first.models.map((m) => [m.factory, m.graph.cell, m.graph.line]), [["model", 5, 3], ["residual_mlp", 6, 1]]);
  const failed = store.applyDiagram({
    ...notebook, version: 2, models: notebook.models.slice(1),
    errors: [{ kind: "build", message: "boom", line: 9, factory: "model", cell: 5 }],
  })!;
  assert.deepEqual(failed.models.map((m) => [m.factory, m.stale]), [["model", true], ["residual_mlp", false]]);
});
