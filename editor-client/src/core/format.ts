/** How numbers and shapes read in the panel and the status bar (as Keras prints them). */

import type { FileDiagram, ModelGraph, Shape } from "./protocol";

/** `[null, 126, 126, 64]` -> `(None, 126, 126, 64)`; several outputs -> `[(…), (…)]`. */
export function formatShape(shape: Shape | Shape[] | null | undefined): string {
  if (shape === null || shape === undefined) return "?";
  if (shape.length > 0 && shape.every((s) => Array.isArray(s))) {
    return "[" + (shape as Shape[]).map(formatShape).join(", ") + "]";
  }
  const dims = (shape as Shape).map((d) => (d === null ? "None" : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
}

/** `5277260` -> `5,277,260`. */
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Compact count: 640, 5.3K, 63.0M, 6.7B (matches the server's `format_count`). */
export function formatCount(n: number): string {
  return compact(n, [[1e9, "B"], [1e6, "M"], [1e3, "K"]]);
}

/** Compact MACs: 640, 345.6M, 1.2G, as MAC totals are quoted (G, not B). */
export function formatMacs(n: number): string {
  return compact(n, [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "K"]]);
}

function compact(n: number, units: readonly (readonly [number, string])[]): string {
  for (const [limit, suffix] of units) {
    if (n >= limit) return `${(n / limit).toFixed(1)}${suffix}`;
  }
  return String(n);
}

/** Build time for humans: `95 ms`, `1.4 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** How a target is named: a factory as its call, `construct_model()`; a module-level model variable as itself, `model`. */
export function targetLabel(graph: Pick<ModelGraph, "factory" | "kind">): string {
  return graph.kind === "variable" ? graph.factory : `${graph.factory}()`;
}

/** A build's parameter change: `+246,029 params`, `−1,000 params` (a minus sign), `±0 params`. */
export function formatDelta(n: number): string {
  const sign = n > 0 ? "+" : n < 0 ? "\u2212" : "\u00b1";
  const count = Math.abs(n);
  return `${sign}${formatInt(count)} ${count === 1 ? "param" : "params"}`;
}

/** The params delta of the file's last build (its targets' `changes` summed); `null` when nothing changed or nothing to compare. */
export function paramsDelta(diagram: FileDiagram | undefined): number | null {
  const changes = (diagram?.models ?? []).filter((m) => !m.stale && m.changes).map((m) => m.changes!);
  if (!changes.some((c) => c.params_delta !== 0 || c.added.length || c.changed.length || c.removed.length)) return null;
  return changes.reduce((n, c) => n + c.params_delta, 0);
}
