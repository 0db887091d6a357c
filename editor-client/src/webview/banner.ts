/** The build state in the toolbar, the error banner, and the empty-state text. */

import { summarizeBuild } from "../core/buildSummary";
import { errorPlace, placeLabel, type SourcePlace } from "../core/lines";
import type { BuildError, FileDiagram, Notice, StatusView } from "../core/protocol";
import { h, setChildren } from "./dom";

/** The toolbar pill: building, built in N ms (with problems), or failed. */
export function renderBuildState(el: HTMLElement, status: StatusView | null, diagram: FileDiagram | null, factory: string | null): void {
  const summary = summarizeBuild(status, diagram, factory);
  el.dataset.state = summary.kind;
  el.title = status?.message ?? "";
  setChildren(el, summary.kind === "building" ? h("span", { className: "nv-spinner" }) : null, summary.text);
}

/**
 * The banner above the diagram: the errors of the last build, each with a button to
 * its line (in its cell, for a notebook). `onReveal` is called with the error's place.
 */
export function renderBanner(
  banner: HTMLElement,
  title: HTMLElement,
  list: HTMLElement,
  errors: BuildError[],
  status: StatusView | null,
  stale: boolean,
  onReveal: (place: SourcePlace) => void,
): void {
  const failedWithoutErrors = status?.state === "failed" && errors.length === 0;
  banner.hidden = errors.length === 0 && !failedWithoutErrors;
  banner.dataset.severity = stale || status?.state === "failed" ? "error" : "warning";
  setChildren(
    title,
    stale
      ? "The last build failed; the diagram below is from the last good build."
      : errors.length === 1
        ? "1 problem in the last build"
        : `${errors.length} problems in the last build`,
  );
  const items = errors.map((e) => errorItem(e, onReveal));
  if (failedWithoutErrors) items.push(h("li", {}, status?.message ?? "Build failed"));
  setChildren(list, ...items);
}

function errorItem(error: BuildError, onReveal: (place: SourcePlace) => void): HTMLElement {
  const where = h("span", { className: "nv-error-where" }, [error.factory, error.kind].filter(Boolean).join(" · "));
  const item = h("li", { className: "nv-error" }, where, " ", h("span", { className: "nv-error-message" }, error.message));
  const place = errorPlace(error);
  if (place) {
    const button = h("button", { className: "nv-error-line", title: "Show this line in the editor" }, placeLabel(place));
    button.type = "button";
    button.addEventListener("click", () => onReveal(place));
    item.prepend(button, " ");
  }
  return item;
}

/** What the panel says when there is no diagram to show; `null` when there is one. */
export function emptyText(notice: Notice | null, fileName: string | null, diagram: FileDiagram | null, status: StatusView | null): string | null {
  if (notice?.kind === "untrusted") {
    return "NetViz is off in Restricted Mode: it runs your model factories to draw them. Trust this workspace to see diagrams.";
  }
  if (notice?.kind === "server") return `The NetViz server is not running. ${notice.message}`;
  if (notice?.kind === "noFile" || fileName === null) return "Open a Python file that defines a Keras model.";
  if (diagram && diagram.models.length > 0) return null;
  if (status?.state === "queued" || status?.state === "building") return `Building ${fileName}…`;
  if (diagram && diagram.errors.length > 0) return `No diagram of ${fileName}: see the problems above.`;
  if (diagram) return `No Keras model factories in ${fileName}. A factory is a top-level function that builds and returns a model.`;
  return `Waiting for the first build of ${fileName}. Save the file to build it.`;
}
