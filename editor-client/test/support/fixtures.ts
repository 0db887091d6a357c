/** The recorded server payloads (test/record-payloads.py) and small builders on top of them. */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildStatusParams, DiagramParams, ModelGraph, RenderedView } from "../../src/core/protocol";

/** editor-client/, whether running from test/ (ts) or out/test/ (bundled js). */
export const CLIENT_ROOT = findRoot(__dirname);
export const REPO_ROOT = join(CLIENT_ROOT, "..");

function findRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string };
      if (pkg.name === "netviz") return dir;
    } catch {
      // not here: go up
    }
    dir = join(dir, "..");
  }
  throw new Error(`editor-client/package.json not found above ${start}`);
}

export function loadDiagram(name: "seed_cnns" | "resnet50" | "hostile" | "nested" | "script" | "notebook"): DiagramParams {
  return JSON.parse(readFileSync(join(CLIENT_ROOT, "test", "fixtures", `${name}.diagram.json`), "utf8")) as DiagramParams;
}

/** `netviz.renderView` answers for seed_cnns' construct_model. */
export function loadViews(): Record<"layered" | "summary", RenderedView> {
  return JSON.parse(readFileSync(join(CLIENT_ROOT, "test", "fixtures", "seed_cnns.views.json"), "utf8")) as Record<"layered" | "summary", RenderedView>;
}

export function loadStatuses(): BuildStatusParams[] {
  return JSON.parse(readFileSync(join(CLIENT_ROOT, "test", "fixtures", "seed_cnns.status.json"), "utf8")) as BuildStatusParams[];
}

export function graphOf(diagram: DiagramParams, factory: string): ModelGraph {
  const model = diagram.models.find((m) => m.factory === factory);
  if (!model) throw new Error(`no ${factory} in the fixture`);
  return model.graph;
}
