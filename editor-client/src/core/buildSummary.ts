/**
 * One line about a file's build, for the panel's toolbar and the status bar.
 *
 * The server says "failed" whenever any factory of the file failed, but the other
 * factories' diagrams are fresh. So the line says "failed" only when the diagram in
 * view is stale (or there is none), and "N problems" when others failed.
 */

import { formatMs } from "./format";
import type { FileDiagram, StatusView } from "./protocol";

export interface BuildSummary {
  kind: "none" | "building" | "done" | "problems" | "failed";
  text: string;
}

/** `factory`: the diagram in view (the panel); without it, any stale diagram counts (the status bar). */
export function summarizeBuild(status: StatusView | undefined | null, diagram: FileDiagram | undefined | null, factory?: string | null): BuildSummary {
  if (status?.state === "queued") return { kind: "building", text: "Queued…" };
  if (status?.state === "building") return { kind: "building", text: "Building…" };
  if (diagram) {
    const shown = factory ? diagram.models.filter((m) => m.factory === factory) : diagram.models;
    // A factory that never built (listed only for its partial graph) counts as no diagram.
    const built = shown.filter((m) => !m.partialOnly);
    if (built.length === 0 && diagram.errors.length > 0) return { kind: "failed", text: "Build failed" };
    // A factory in view drawn up to its error failed; for the whole file (the status bar) a factory
    // that never built is one problem among the others', as an error without a partial graph is.
    if (factory && shown.some((m) => m.partial)) return { kind: "failed", text: "Build failed" };
    if (shown.some((m) => m.stale)) return { kind: "failed", text: "Build failed · out of date" };
    const line = `Built in ${formatMs(diagram.elapsedMs)}`;
    const n = diagram.errors.length;
    if (n > 0) return { kind: "problems", text: `${line} · ${n === 1 ? "1 problem" : `${n} problems`}` };
    return { kind: "done", text: line };
  }
  if (status?.state === "failed") return { kind: "failed", text: "Build failed" };
  return { kind: "none", text: "" };
}
