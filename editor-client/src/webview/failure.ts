/**
 * A failed build's partial graph in the panel. When the factory's latest build failed and
 * its error carries a partial graph (`ModelView.partial`), the Graph view draws that graph:
 * the layer whose call raised in the editor's error colour (SVG class `layer-failed`), the
 * message beside it (the server's `failure-note`). The last good diagram stays one click
 * away: the bar under the banner says which of the two is drawn and switches between them.
 *
 * What is drawn is decided here (`failureShown`), from the model, the view and the user's
 * choice; the page keeps that choice only until the next build or another factory.
 */

import { errorPlace, placeLabel } from "../core/lines";
import type { ModelGraph, ModelView, PartialView, ViewName } from "../core/protocol";
import { targetLabel } from "../core/format";
import { h, setChildren } from "./dom";

/** What the canvas shows of a failed factory. */
export type FailureShown =
  /** The partial graph, drawn up to the error. */
  | "partial"
  /** The last good diagram (or, in another view, a drawing of the last good build). */
  | "good"
  /** Nothing can be drawn in this view: the factory never built, and only the Graph view draws a partial. */
  | "none";

/**
 * `null` when the factory has no partial graph (not failed, or failed without one). The partial
 * is drawn in the Graph view unless the user asked for the last good diagram, which needs one.
 */
export function failureShown(model: ModelView | undefined, view: ViewName, wantsGood: boolean): FailureShown | null {
  const partial = model?.partial;
  if (!model || !partial) return null;
  if (view !== "graph") return model.partialOnly ? "none" : "good";
  if (model.partialOnly) return "partial";
  return wantsGood || partial.svg === null ? "good" : "partial";
}

/** The graph the canvas draws for `model`: the partial one while it is shown. */
export function shownGraph(model: ModelView, shown: FailureShown | null): ModelGraph {
  return shown === "partial" && model.partial ? model.partial.graph : model.graph;
}

/** The layer whose call raised, when the partial graph names one. */
export function failedLayerName(partial: PartialView): string | null {
  return partial.graph.layers.find((l) => l.failed)?.name ?? null;
}

/**
 * The bar under the banner: what failed and which drawing the canvas shows, with the button
 * that switches between the partial graph and the last good diagram (or back to the Graph view).
 */
export class FailureBar {
  private readonly bar: HTMLElement;
  private readonly text: HTMLElement;
  private readonly button: HTMLButtonElement;
  private action: (() => void) | null = null;

  constructor(after: Element) {
    this.text = h("span", { className: "nv-failure-text" });
    this.button = h("button", { className: "nv-failure-toggle" });
    this.button.type = "button";
    this.button.addEventListener("click", () => this.action?.());
    this.bar = h("section", { className: "nv-failure" }, this.text, this.button);
    this.bar.setAttribute("role", "status");
    this.bar.hidden = true;
    after.after(this.bar);
  }

  /**
   * Show the bar for `model` (hide it when `shown` is `null`). `toggle(wantsGood)` is called
   * with what the button asks for: the last good diagram (`true`) or the partial graph (`false`).
   */
  render(model: ModelView | undefined, shown: FailureShown | null, view: ViewName, toggle: (wantsGood: boolean) => void): void {
    const partial = model?.partial;
    this.bar.hidden = !model || !partial || shown === null;
    document.body.classList.toggle("nv-partial", shown === "partial");
    if (!model || !partial || shown === null) {
      this.action = null;
      return;
    }
    this.bar.dataset.shown = shown;
    const target = targetLabel(model.graph);
    const place = errorPlace(partial.error);
    const layer = failedLayerName(partial);
    const where = [layer ? `at ${layer}` : "", place ? `(${placeLabel(place)})` : ""].filter(Boolean).join(" ");
    const failed = `The last build of ${target} failed${where ? ` ${where}` : ""}`;
    let text: string;
    let label: string | null;
    if (shown === "partial") {
      text = `${failed}: drawn up to the error.`;
      label = model.partialOnly ? null : "Show last good diagram";
      this.action = () => toggle(true);
    } else if (view === "graph") {
      text = `Showing the last good diagram of ${target}. ${failed}.`;
      label = partial.svg === null ? null : "Show the failure";
      this.action = () => toggle(false);
    } else {
      text = shown === "none"
        ? `${failed}; it has no good build to draw in this view. The Graph view draws it up to the error.`
        : `${failed}; this view draws its last good build.`;
      label = "Show the failure";
      this.action = () => toggle(false);
    }
    setChildren(this.text, text);
    this.button.hidden = label === null;
    this.button.textContent = label ?? "";
  }
}
